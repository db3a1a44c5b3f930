/* SPDX-License-Identifier: Apache-2.0 */
/* Issuer templates, tenant ids and lists of tenants (see tenant.h). */
#include <ctype.h>
#include <string.h>
#include <apr_strings.h>
#include "tenant.h"

static const char *const placeholders[] = { "{tid}", "{tenantid}", NULL };

/* The placeholder that starts at s, its length; 0 when none does. */
static size_t placeholder_at(const char *s)
{
    const char *const *ph;

    for (ph = placeholders; *ph; ph++) {
        if (strncmp(s, *ph, strlen(*ph)) == 0) {
            return strlen(*ph);
        }
    }
    return 0;
}

int ojw_issuer_placeholder(const char *issuer, size_t *at, size_t *len)
{
    const char *s;
    size_t n;
    int found = 0;

    for (s = issuer ? strchr(issuer, '{') : NULL; s; s = strchr(s + 1, '{')) {
        if ((n = placeholder_at(s)) == 0) {
            continue;
        }
        if (found++) {
            return -1;
        }
        *at = (size_t)(s - issuer);
        *len = n;
    }
    return found;
}

/* 1 when c is a lower-case hex digit (upper too when any_case). */
static int hex_digit(char c, int any_case)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (any_case && c >= 'A' && c <= 'F');
}

/* 1 when the n bytes at s are a GUID, 8-4-4-4-12. */
static int guid_form(const char *s, size_t n, int any_case)
{
    size_t i;

    if (n != OJW_TID_LEN) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
            : !hex_digit(s[i], any_case)) {
            return 0;
        }
    }
    return 1;
}

int ojw_tid_valid(const char *s)
{
    return s != NULL && guid_form(s, strlen(s), 0);
}

int ojw_issuer_matches(const char *tmpl, const char *iss, const char *tid)
{
    size_t at, len, tail, n;

    if (tmpl == NULL || iss == NULL) {
        return 0;
    }
    if (ojw_issuer_placeholder(tmpl, &at, &len) != 1) {
        return strcmp(tmpl, iss) == 0;
    }
    if (tid == NULL) {
        return 0;
    }
    tail = strlen(tmpl + at + len);
    n = strlen(tid);
    return strlen(iss) == at + n + tail && strncmp(iss, tmpl, at) == 0
           && strncmp(iss + at, tid, n) == 0
           && strcmp(iss + at + n, tmpl + at + len) == 0;
}

int ojw_issuer_fits(const char *tmpl, const char *iss)
{
    size_t at, len, tail, n;

    if (ojw_issuer_placeholder(tmpl, &at, &len) != 1) {
        return strcmp(tmpl, iss) == 0;
    }
    tail = strlen(tmpl + at + len);
    n = strlen(iss);
    if (n <= at + tail || strncmp(iss, tmpl, at) != 0
        || strcmp(iss + n - tail, tmpl + at + len) != 0) {
        return 0;
    }
    return memchr(iss + at, '/', n - at - tail) == NULL;
}

const char *ojw_issuer_fill(const char *tmpl, const char *tid,
                            apr_pool_t *pool)
{
    size_t at, len;

    if (ojw_issuer_placeholder(tmpl, &at, &len) != 1) {
        return tmpl;
    }
    return apr_pstrcat(pool, apr_pstrmemdup(pool, tmpl, at), tid,
                       tmpl + at + len, NULL);
}

const char *ojw_issuer_canonical(const char *tmpl, apr_pool_t *pool)
{
    return ojw_issuer_fill(tmpl, "{tid}", pool);
}

int ojw_issuer_same(const char *a, const char *b)
{
    size_t at_a, len_a, at_b, len_b;
    int pa = ojw_issuer_placeholder(a, &at_a, &len_a);
    int pb = ojw_issuer_placeholder(b, &at_b, &len_b);

    if (pa != 1 || pb != 1) {
        return pa == pb && strcmp(a, b) == 0;
    }
    return at_a == at_b && strncmp(a, b, at_a) == 0
           && strcmp(a + at_a + len_a, b + at_b + len_b) == 0;
}

/* ------------------------------------------------------------------ */
/* lists of tenants                                                    */

static int separator(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next id of the text from *s to end, *n its length; NULL at the
 * end. Comments and separators are skipped, *line counts newlines. */
static const char *next_id(const char **s, const char *end, size_t *n,
                           int *line)
{
    const char *p = *s, *id;

    while (p < end && (separator(*p) || *p == '#')) {
        if (*p == '#') {
            while (p < end && *p != '\n') {
                p++;
            }
            continue;
        }
        *line += *p++ == '\n';
    }
    for (id = p; p < end && !separator(*p) && *p != '#'; p++) {
    }
    *s = p;
    *n = (size_t)(p - id);
    return *n ? id : NULL;
}

/* Adds the id of n bytes at s to t: NULL, or what is wrong with it. */
static const char *add_id(ojw_tenants_t *t, const char *s, size_t n,
                          apr_pool_t *pool)
{
    char *id;
    size_t i;

    if (!guid_form(s, n, 1)) {
        return apr_psprintf(pool, "\"%.*s\" is not a tenant id (a GUID such "
                            "as 72f988bf-86f1-41af-91ab-2d7cd011db47)",
                            n > 64 ? 64 : (int)n, s);
    }
    id = apr_pstrmemdup(pool, s, n);
    for (i = 0; i < n; i++) {
        id[i] = (char)tolower((unsigned char)id[i]);
    }
    if (apr_hash_get(t->ids, id, APR_HASH_KEY_STRING)) {
        return apr_psprintf(pool, "tenant %s is listed twice", id);
    }
    apr_hash_set(t->ids, id, APR_HASH_KEY_STRING, id);
    t->count++;
    return NULL;
}

const char *ojw_tenants_parse(ojw_tenants_t **out, const char *text,
                              size_t len, apr_pool_t *pool)
{
    ojw_tenants_t *t = apr_pcalloc(pool, sizeof(*t));
    const char *end = text + len, *id, *err;
    int line = 1, lines = len > 0 && memchr(text, '\n', len) != NULL;
    size_t n;

    *out = NULL;
    t->ids = apr_hash_make(pool);
    while ((id = next_id(&text, end, &n, &line)) != NULL) {
        if ((err = add_id(t, id, n, pool)) != NULL) {
            return lines ? apr_psprintf(pool, "line %d: %s", line, err) : err;
        }
    }
    if (t->count == 0) {
        return "no tenant id in the list";
    }
    *out = t;
    return NULL;
}

int ojw_tenants_has(const ojw_tenants_t *t, const char *tid)
{
    return t && tid && apr_hash_get(t->ids, tid, APR_HASH_KEY_STRING);
}

const char *ojw_claims_tid(const json_t *claims)
{
    const json_t *tid = json_object_get(claims, "tid");

    return json_is_string(tid) && ojw_tid_valid(json_string_value(tid))
           ? json_string_value(tid) : NULL;
}

ojw_reason_t ojw_key_issuer_check(const char *key_issuer,
                                  const json_t *claims, ojw_error_t *err)
{
    const json_t *iss = json_object_get(claims, "iss");
    size_t at, len;

    if (key_issuer == NULL
        || (json_is_string(iss)
            && ojw_issuer_matches(key_issuer, json_string_value(iss),
                                  ojw_claims_tid(claims)))) {
        return OJW_OK;
    }
    return ojw_fail(err, OJW_ERR_KEY_ISSUER, "iss \"%.200s\" is not the "
                    "issuer \"%.200s\" of the key that signed the token%s",
                    json_is_string(iss) ? json_string_value(iss) : "(none)",
                    key_issuer,
                    ojw_issuer_placeholder(key_issuer, &at, &len) == 1
                    && ojw_claims_tid(claims) == NULL
                    ? " (the token has no valid tid to fill it)" : "");
}
