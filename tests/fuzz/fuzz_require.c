/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the Require ords-* lines and OrdsJwtPrivilege
 * (src/authz.c, src/privilege.c): the words of a line parsed as the
 * module parses them, then decided and explained on any claims.
 *
 * Input: KIND " " WORDS "\n" JSON. KIND's first byte picks ords-scope,
 * -role, -privilege or -claim; WORDS are split at spaces (an
 * OrdsJwtPrivilege line for ords-privilege's names is made of them too);
 * JSON is the claims (duplicate members refused, as for tokens).
 */
#include <jansson.h>
#include "fuzz.h"
#include "authz.h"
#include "claims.h"

static void fuzz_setup(void)
{
}

/* The words of s (split at spaces), at most max. */
static int split(char *s, const char **words, int max)
{
    char *last = NULL, *w;
    int n = 0;

    for (w = apr_strtok(s, " ", &last); w && n < max;
         w = apr_strtok(NULL, " ", &last)) {
        words[n++] = w;
    }
    return n;
}

/* Every name is defined: an OrdsJwtPrivilege made of the line's words. */
static const ojw_privilege_t *find(void *baton, const char *name)
{
    const ojw_privilege_t *pv = baton;

    (void)name;
    return pv;
}

static void decide(const ojw_require_t *rl, const json_t *claims,
                   const char *pointer, apr_pool_t *pool)
{
    ojw_reason_t d = ojw_require_decide(rl, claims, pointer);

    if (d != OJW_OK && d != OJW_ERR_SCOPE_MISSING
        && d != OJW_ERR_ROLE_MISSING && d != OJW_ERR_CLAIM_MISMATCH) {
        abort();    /* a decision that is no authorization reason */
    }
    if (rl->kind == OJW_REQUIRE_SCOPE
        && (d == OJW_OK) != ojw_claims_has_any_scope(claims, rl->values,
                                                     rl->n)) {
        abort();    /* the decision is not the scope check */
    }
    if (ojw_require_explain(rl, claims, pointer, d, pool) == NULL) {
        abort();
    }
    (void)ojw_require_hint(rl, claims, pool);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t llen = nl ? (size_t)(nl - data) : size;
    char *line = fuzz_cstring(pool, data, llen);
    const char *words[16], *pwords[16];
    ojw_privilege_t *pv = NULL;
    ojw_require_t *rl = NULL;
    json_t *claims;
    int n, i;

    n = split(apr_pstrdup(pool, line), words, 16);
    if (n == 0) {
        return;
    }
    memcpy(pwords, words, sizeof(words));
    if (ojw_privilege_parse(&pv, pwords + 1, n - 1, pool) == NULL) {
        for (i = 0; i < pv->nroles; i++) {
            if (*pv->roles[i] == '\0') {
                abort();    /* an empty role accepted */
            }
        }
    }
    if (ojw_require_parse(&rl, (ojw_require_kind_t)((unsigned char)words[0][0] % 4),
                          words + 1, n - 1, find, pv, pool) != NULL) {
        return;
    }
    claims = nl ? json_loadb((const char *)nl + 1, size - llen - 1,
                             JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (claims != NULL) {
        decide(rl, claims, "/groups", pool);
        decide(rl, claims, NULL, pool);
        json_decref(claims);
    }
}
