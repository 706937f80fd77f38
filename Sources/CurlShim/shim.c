#include "CurlShim.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

int fo_setopt_long(void *easy, int option, long value) {
    return (int)curl_easy_setopt((CURL *)easy, (CURLoption)option, value);
}

int fo_setopt_string(void *easy, int option, const char *value) {
    return (int)curl_easy_setopt((CURL *)easy, (CURLoption)option, value);
}

int fo_setopt_pointer(void *easy, int option, void *value) {
    return (int)curl_easy_setopt((CURL *)easy, (CURLoption)option, value);
}

// Keeps at most `limit` bytes; counts the rest so callers know the body was cut.
static size_t fo_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    fo_body *body = (fo_body *)userdata;
    size_t n = size * nmemb;
    body->total += n;
    size_t room = body->limit > body->length ? body->limit - body->length : 0;
    size_t take = n < room ? n : room;
    if (take > 0) {
        if (body->length + take > body->capacity) {
            size_t cap = body->capacity ? body->capacity : 1024;
            while (cap < body->length + take) cap *= 2;
            if (cap > body->limit) cap = body->limit;
            char *grown = realloc(body->data, cap);
            if (!grown) return 0;
            body->data = grown;
            body->capacity = cap;
        }
        memcpy(body->data + body->length, ptr, take);
        body->length += take;
    }
    return n;
}

int fo_set_body_sink(void *easy, void *sink) {
    CURLcode rc = curl_easy_setopt((CURL *)easy, CURLOPT_WRITEFUNCTION, fo_write);
    if (rc != CURLE_OK) return (int)rc;
    return (int)curl_easy_setopt((CURL *)easy, CURLOPT_WRITEDATA, sink);
}

int fo_set_header_sink(void *easy, void *sink) {
    CURLcode rc = curl_easy_setopt((CURL *)easy, CURLOPT_HEADERFUNCTION, fo_write);
    if (rc != CURLE_OK) return (int)rc;
    return (int)curl_easy_setopt((CURL *)easy, CURLOPT_HEADERDATA, sink);
}

int fo_getinfo_long(void *easy, int info, long *value) {
    return (int)curl_easy_getinfo((CURL *)easy, (CURLINFO)info, value);
}

int fo_getinfo_off(void *easy, int info, long long *value) {
    curl_off_t v = 0;
    CURLcode rc = curl_easy_getinfo((CURL *)easy, (CURLINFO)info, &v);
    *value = (long long)v;
    return (int)rc;
}

int fo_getinfo_string(void *easy, int info, const char **value) {
    char *v = NULL;
    CURLcode rc = curl_easy_getinfo((CURL *)easy, (CURLINFO)info, &v);
    *value = v;
    return (int)rc;
}

int fo_certinfo_count(void *easy) {
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo((CURL *)easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci) return -1;
    return ci->num_of_certs;
}

int fo_certinfo_field(void *easy, int index, const char *name, char *out, size_t outlen) {
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo((CURL *)easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci) return 0;
    if (index < 0 || index >= ci->num_of_certs) return 0;
    size_t nlen = strlen(name);
    for (struct curl_slist *s = ci->certinfo[index]; s; s = s->next) {
        if (strncmp(s->data, name, nlen) == 0 && s->data[nlen] == ':') {
            snprintf(out, outlen, "%s", s->data + nlen + 1);
            return 1;
        }
    }
    return 0;
}

int fo_multi_setopt_long(void *multi, int option, long value) {
    return (int)curl_multi_setopt((CURLM *)multi, (CURLMoption)option, value);
}

int fo_multi_next_done(void *multi, void **easy, int *result) {
    int queued = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read((CURLM *)multi, &queued)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            *easy = msg->easy_handle;
            *result = (int)msg->data.result;
            return 1;
        }
    }
    return 0;
}
