#ifndef CCRYPTOSHIM_H
#define CCRYPTOSHIM_H

#include <stddef.h>

/// SHA-256 of `len` bytes at `data` into `out` (32 bytes). Returns 1 on success, 0 on failure.
int ccrypto_sha256(const void *data, size_t len, unsigned char *out);

/// HMAC-SHA256 of `len` bytes at `data` under `key` into `out` (32 bytes). Returns 1 on
/// success, 0 on failure.
int ccrypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char *out);

#endif
