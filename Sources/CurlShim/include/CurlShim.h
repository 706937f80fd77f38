// Thin wrappers over libcurl's variadic calls, which Swift cannot call directly.
// Handles are passed as opaque pointers so this header does not include curl.h.
#ifndef FAILOVERCTL_CURL_SHIM_H
#define FAILOVERCTL_CURL_SHIM_H

#include <stddef.h>

/// Returns a CURLcode.
int fo_setopt_long(void *easy, int option, long value);
/// Returns a CURLcode. libcurl copies string options.
int fo_setopt_string(void *easy, int option, const char *value);
/// Returns a CURLcode.
int fo_setopt_pointer(void *easy, int option, void *value);
/// Installs the write callback that appends the body to a capped buffer (see fo_body).
int fo_set_body_sink(void *easy, void *sink);
/// Installs a header callback that appends raw header lines to a capped buffer.
int fo_set_header_sink(void *easy, void *sink);
/// Returns a CURLcode.
int fo_getinfo_long(void *easy, int info, long *value);
/// Returns a CURLcode (microsecond `_T` timing infos).
int fo_getinfo_off(void *easy, int info, long long *value);
/// Returns a CURLcode.
int fo_getinfo_string(void *easy, int info, const char **value);
/// Number of certificates in the chain collected by CURLOPT_CERTINFO, or -1.
int fo_certinfo_count(void *easy);
/// The value of field `name` (e.g. "Expire date") of certificate `index`, copied into `out`.
/// Returns 1 when found.
int fo_certinfo_field(void *easy, int index, const char *name, char *out, size_t outlen);
/// Returns a CURLMcode.
int fo_multi_setopt_long(void *multi, int option, long value);

/// Takes the next finished transfer from the multi handle: sets `easy` and its CURLcode
/// `result` and returns 1, or returns 0 when none is waiting.
int fo_multi_next_done(void *multi, void **easy, int *result);

/// A capped in-memory body buffer the write callback appends to.
typedef struct fo_body {
    char *data;
    size_t length;
    size_t capacity;
    size_t limit;
    size_t total;
} fo_body;

#endif
