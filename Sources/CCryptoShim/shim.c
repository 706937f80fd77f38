// SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto (already linked through libcurl),
// so SigV4 needs no BoringSSL build.
#include "CCryptoShim.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

int ccrypto_sha256(const void *data, size_t len, unsigned char *out) {
    unsigned int written = 0;
    static const unsigned char empty = 0;
    if (data == NULL) data = &empty;
    return EVP_Digest(data, len, out, &written, EVP_sha256(), NULL) == 1 && written == 32;
}

int ccrypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, unsigned char *out) {
    unsigned int written = 0;
    static const unsigned char empty = 0;
    if (key == NULL) key = &empty;
    if (data == NULL) data = &empty;
    if (key_len > 0x7fffffff) return 0;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &written) != NULL && written == 32;
}
