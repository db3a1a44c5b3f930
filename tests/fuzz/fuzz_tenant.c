/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: issuer templates and lists of tenants (src/tenant.c).
 *
 * Input: TEMPLATE "\n" ISS "\n" TID "\n" LIST. LIST is parsed as a
 * tenants= value or file; TEMPLATE, ISS and TID go through the template
 * rules. Checks: an accepted list holds only lower-case GUIDs and knows
 * each; a template filled with a valid tid matches and fits it, and
 * nothing else matches; the key rule agrees with the template rule.
 */
#include "fuzz.h"
#include "tenant.h"

static void fuzz_setup(void)
{
}

/* The next line of *s (NUL-terminated copy), *s past its newline. */
static char *line(apr_pool_t *pool, const char **s, const char *end)
{
    const char *nl = memchr(*s, '\n', (size_t)(end - *s));
    const char *stop = nl ? nl : end;
    char *out = apr_pstrmemdup(pool, *s, (size_t)(stop - *s));

    *s = nl ? nl + 1 : end;
    return out;
}

static void check_list(const char *text, size_t len, const char *tid,
                       apr_pool_t *pool)
{
    ojw_tenants_t *t = NULL;
    const char *err = ojw_tenants_parse(&t, text, len, pool);
    apr_hash_index_t *hi;

    if ((err == NULL) == (t == NULL) || (err && *err == '\0')) {
        abort();    /* refused without a reason, or both */
    }
    if (t == NULL) {
        return;
    }
    if (t->count <= 0 || (unsigned)t->count != apr_hash_count(t->ids)) {
        abort();
    }
    for (hi = apr_hash_first(pool, t->ids); hi; hi = apr_hash_next(hi)) {
        if (!ojw_tid_valid(apr_hash_this_key(hi))
            || !ojw_tenants_has(t, apr_hash_this_key(hi))) {
            abort();    /* an id kept that a token could never carry */
        }
    }
    if (ojw_tenants_has(t, tid) && !ojw_tid_valid(tid)) {
        abort();
    }
}

static void check_template(const char *tmpl, const char *iss,
                           const char *tid, apr_pool_t *pool)
{
    size_t at, len;
    int n = ojw_issuer_placeholder(tmpl, &at, &len);
    const char *filled = ojw_issuer_fill(tmpl, tid, pool);
    json_t *claims = json_pack("{s:s, s:s}", "iss", iss, "tid", tid);
    int matches = ojw_issuer_matches(tmpl, iss, tid);

    if (!ojw_issuer_same(tmpl, ojw_issuer_canonical(tmpl, pool))
        || (n == 1 && strcmp(filled, iss) == 0 && !matches)
        || (matches && n == 1 && strcmp(filled, iss) != 0)
        || (matches && n != 1 && strcmp(tmpl, iss) != 0)) {
        abort();    /* matching is not filling */
    }
    if (n == 1 && ojw_tid_valid(tid)
        && (!ojw_issuer_matches(tmpl, filled, tid)
            || !ojw_issuer_fits(tmpl, filled))) {
        abort();    /* a tenant's own iss does not fit its template */
    }
    if (claims && (ojw_key_issuer_check(tmpl, claims, NULL) == OJW_OK)
        != (n == 1 ? ojw_tid_valid(tid) && matches : matches)) {
        abort();    /* the key rule is not the template rule */
    }
    json_decref(claims);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const char *s = (const char *)data, *end = s + size;
    char *tmpl = line(pool, &s, end);
    char *iss = line(pool, &s, end);
    char *tid = line(pool, &s, end);

    check_list(s, (size_t)(end - s), tid, pool);
    check_template(tmpl, iss, tid, pool);
}
