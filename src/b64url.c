/* SPDX-License-Identifier: Apache-2.0 */
/* base64url validation in front of cjose's decoder. */
#include <string.h>
#include <cjose/base64.h>
#include <cjose/util.h>
#include "b64url.h"

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

int ojw_b64url_valid(const char *s, size_t len)
{
    size_t i;
    int last = 0;

    if (s == NULL || len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        last = b64url_value((unsigned char)s[i]);
        if (last < 0) {
            return 0;
        }
    }
    /* 2 chars carry 8 bits (4 unused), 3 chars carry 16 bits (2 unused) */
    if (len % 4 == 2 && (last & 0x0f) != 0) {
        return 0;
    }
    if (len % 4 == 3 && (last & 0x03) != 0) {
        return 0;
    }
    return 1;
}

int ojw_b64url_decode(apr_pool_t *pool, const char *s, size_t len,
                      unsigned char **out, size_t *outlen)
{
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    cjose_err cerr;
    unsigned char *copy;

    *out = NULL;
    *outlen = 0;
    if (!ojw_b64url_valid(s, len)) {
        return -1;
    }
    if (len == 0) {
        *out = apr_pcalloc(pool, 1);
        return 0;
    }
    if (!cjose_base64url_decode(s, len, &raw, &rawlen, &cerr)) {
        return -1;
    }
    copy = apr_palloc(pool, rawlen + 1);
    memcpy(copy, raw, rawlen);
    copy[rawlen] = '\0';
    cjose_get_dealloc()(raw);
    *out = copy;
    *outlen = rawlen;
    return 0;
}
