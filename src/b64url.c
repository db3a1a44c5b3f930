/* SPDX-License-Identifier: Apache-2.0 */
/* base64url validation in front of cjose's decoder. */
#include <string.h>
#include <cjose/base64.h>
#include <cjose/util.h>
#include <openssl/sha.h>
#include <apr_strings.h>
#include "b64url.h"

/* 1 + the value of each base64url character; 0 for any other byte. */
static const unsigned char b64url_values[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
    ['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64
};

static int b64url_value(unsigned char c)
{
    return (int)b64url_values[c] - 1;
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

char *ojw_b64url_encode(apr_pool_t *pool, const unsigned char *in, size_t len)
{
    char *out = NULL, *copy;
    size_t outlen = 0;
    cjose_err cerr;

    if (!cjose_base64url_encode(in, len, &out, &outlen, &cerr)) {
        return NULL;
    }
    copy = apr_pstrmemdup(pool, out, outlen);
    cjose_get_dealloc()(out);
    return copy;
}

char *ojw_b64url_sha256(apr_pool_t *pool, const void *in, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(in, len, md);
    return ojw_b64url_encode(pool, md, sizeof(md));
}
