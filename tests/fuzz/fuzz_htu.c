/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the URL a DPoP proof's htu is compared with
 * (src/htu.c), from a base URL and a request target as received, and
 * the canonical form both are compared in (src/url.c).
 *
 * Input: the base, a newline, the target; without a newline, one URL.
 * Invariants: an absolute-form target that is taken names the base's
 * origin; a URL made from any target starts with the base; with a
 * usable base, a target that starts with '/' is never refused; a refusal
 * says why; normalising a URL (the input, the base, the target, the URL
 * made) twice gives what normalising it once gave.
 */
#include "fuzz.h"
#include "htu.h"
#include "url.h"

static void fuzz_setup(void)
{
}

/* The canonical form of url is its own canonical form. */
static void check_url(const char *url, apr_pool_t *pool)
{
    const char *why, *n = ojw_url_normalise(url, pool, &why), *again;

    if (n == NULL) {
        if (why == NULL) {
            abort();
        }
        return;
    }
    again = ojw_url_normalise(n, pool, &why);
    if (again == NULL || strcmp(again, n) != 0) {
        abort();
    }
}

/* The normalised "scheme://authority/" of url (its path, query and
 * fragment left out), or NULL. */
static const char *origin_of(const char *url, apr_pool_t *pool)
{
    const char *sep = strstr(url, "://"), *why;

    if (sep == NULL) {
        return NULL;
    }
    sep += 3;
    return ojw_url_normalise(apr_pstrcat(pool, apr_pstrmemdup(
        pool, url, (apr_size_t)(sep - url) + strcspn(sep, "/?#")), "/",
        NULL), pool, &why);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    char *in = fuzz_cstring(pool, data, size);
    char *nl = strchr(in, '\n');
    const char *base, *target, *u, *why = NULL, *bo, *to;

    if (nl == NULL) {
        check_url(in, pool);
        return;
    }
    *nl = '\0';
    base = in;
    target = nl + 1;
    check_url(base, pool);
    check_url(target, pool);
    u = ojw_htu_url(base, target, pool, &why);
    if (u == NULL) {
        if (why == NULL || (*target == '/' && ojw_htu_url(base, "/", pool,
                                                          &why) != NULL)) {
            abort();
        }
        return;
    }
    if (strncmp(u, base, strlen(base)) != 0) {
        abort();
    }
    check_url(u, pool);
    if (*target == '/') {
        return;
    }
    bo = origin_of(base, pool);
    to = origin_of(target, pool);
    if (bo == NULL || (to && strcmp(bo, to) != 0)) {
        abort();
    }
}
