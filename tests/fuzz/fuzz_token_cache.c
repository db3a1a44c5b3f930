/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the verified-token cache (src/token_cache.c).
 *
 * Input: lines, each one operation on a cache of 8 entries:
 *   OP PROFILE TOKEN...   OP: 'p' put, 'g' get, 'r' remove, anything else
 *                         get; PROFILE: the low bit picks one of two
 *                         profiles; TOKEN: the rest of the line.
 * Many tokens, some repeated, some differing in one byte or in length.
 * A shadow table checks what a hit returns: the claims of the last put
 * for exactly that token and profile (a miss is always allowed: the LRU
 * may have evicted it).
 */
#include <jansson.h>
#include "fuzz.h"
#include "token_cache.h"

#define SHADOW 64

static const int profiles[2] = { 1, 2 };

typedef struct {
    const char *token;
    size_t len;
    const void *profile;
    const char *subject;
} shadow_t;

static void fuzz_setup(void)
{
}

static shadow_t *shadow_find(shadow_t *sh, int n, const char *t, size_t len,
                             const void *profile)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        if (sh[i].len == len && sh[i].profile == profile
            && memcmp(sh[i].token, t, len) == 0) {
            return &sh[i];
        }
    }
    return NULL;
}

static void one_op(ojw_token_cache_t *tc, shadow_t *sh, int *n, char op,
                   const void *profile, const char *t, size_t len,
                   apr_pool_t *pool)
{
    const ojw_cached_t *hit;
    ojw_cached_t e;
    shadow_t *s = shadow_find(sh, *n, t, len, profile);
    const char *subject;

    if (op == 'p') {
        subject = apr_psprintf(pool, "sub%d", *n);
        memset(&e, 0, sizeof(e));
        e.profile = profile;
        e.kid = (*n % 2) ? "kid" : NULL;
        e.claims = json_pack("{s:s}", "sub", subject);
        ojw_token_cache_put(tc, t, len, &e, NULL);
        json_decref(e.claims);
        sh[*n].token = t;
        sh[*n].len = len;
        sh[*n].profile = profile;
        sh[*n].subject = subject;
        (*n)++;
    }
    else if (op == 'r') {
        ojw_token_cache_remove(tc, t, len, profile);
        if (s) {
            s->subject = NULL;
        }
    }
    else if ((hit = ojw_token_cache_get(tc, t, len, profile, pool))) {
        if (s == NULL) {
            abort();        /* a hit for a key never put */
        }
        subject = json_string_value(json_object_get(hit->claims, "sub"));
        if (s->subject == NULL || subject == NULL
            || strcmp(s->subject, subject) != 0) {
            abort();        /* removed, or another entry's value */
        }
    }
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    ojw_token_cache_t *tc;
    shadow_t sh[SHADOW];
    const char *p = (const char *)data, *end = p + size;
    int n = 0;

    if (ojw_token_cache_create(&tc, 8, pool) != APR_SUCCESS) {
        abort();
    }
    while (p < end && n < SHADOW) {     /* the shadow sees every put */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t len = (size_t)(line_end - p);

        if (len >= 2) {
            one_op(tc, sh, &n, p[0], &profiles[p[1] & 1],
                   apr_pstrmemdup(pool, p + 2, len - 2), len - 2, pool);
        }
        p = nl ? nl + 1 : end;
    }
}
