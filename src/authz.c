/* SPDX-License-Identifier: Apache-2.0 */
/* The Require ords-* lines: parse, decide, explain (see authz.h). */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "authz.h"
#include "claims.h"
#include "diagnose.h"

static const char *const providers[OJW_REQUIRE_KINDS] = {
    [OJW_REQUIRE_SCOPE]     = "ords-scope",
    [OJW_REQUIRE_ROLE]      = "ords-role",
    [OJW_REQUIRE_PRIVILEGE] = "ords-privilege",
    [OJW_REQUIRE_CLAIM]     = "ords-claim",
};

int ojw_require_kind(const char *provider)
{
    int k;

    for (k = 0; k < OJW_REQUIRE_KINDS; k++) {
        if (strcasecmp(provider, providers[k]) == 0) {
            return k;
        }
    }
    return -1;
}

const char *ojw_require_provider(ojw_require_kind_t kind)
{
    return (unsigned)kind < OJW_REQUIRE_KINDS ? providers[kind] : "ords-?";
}

/* ------------------------------------------------------------------ */
/* parse                                                               */

static const char *joined(apr_pool_t *pool, const char *const *words, int n)
{
    const char *out = "";
    int i;

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(pool, out, i ? " " : "", words[i], NULL);
    }
    return out;
}

/* ords-claim NAME VALUE [VALUE ...]: a NAME that starts with "/" must be
 * a valid JSON pointer. */
static const char *parse_claim(ojw_require_t *rl, apr_pool_t *pool)
{
    if (rl->n < 2) {
        return "Require ords-claim needs a claim name and at least one "
               "value: Require ords-claim NAME VALUE [VALUE ...]";
    }
    rl->claim = rl->values[0];
    if (rl->claim[0] == '/' && !ojw_json_pointer_valid(rl->claim)) {
        return apr_psprintf(pool, "Require ords-claim: \"%s\" is not a JSON "
                            "pointer (RFC 6901: ~ only as ~0 or ~1)",
                            rl->claim);
    }
    rl->values++;
    rl->n--;
    return NULL;
}

/* ords-privilege: every name must be defined before the line. */
static const char *parse_privileges(ojw_require_t *rl,
                                    ojw_privilege_find_fn *find, void *baton,
                                    apr_pool_t *pool)
{
    const ojw_privilege_t **pvs = apr_pcalloc(pool, sizeof(*pvs)
                                                    * (apr_size_t)rl->n);
    int i;

    for (i = 0; i < rl->n; i++) {
        if (find == NULL || (pvs[i] = find(baton, rl->values[i])) == NULL) {
            return apr_psprintf(pool, "Require ords-privilege: no "
                                "OrdsJwtPrivilege named \"%s\" is defined "
                                "before this line", rl->values[i]);
        }
    }
    rl->pvs = pvs;
    return NULL;
}

const char *ojw_require_parse(ojw_require_t **out, ojw_require_kind_t kind,
                              const char *const *words, int n,
                              ojw_privilege_find_fn *find, void *baton,
                              apr_pool_t *pool)
{
    ojw_require_t *rl = apr_pcalloc(pool, sizeof(*rl));
    const char **values = apr_pcalloc(pool, sizeof(*values)
                                            * (apr_size_t)(n + 1));
    const char *err = NULL;
    int i;

    *out = NULL;
    if ((unsigned)kind >= OJW_REQUIRE_KINDS) {
        return "Require ords-*: no such provider";
    }
    if (n < 1) {
        return "Require ords-*: needs at least one value";
    }
    for (i = 0; i < n; i++) {
        values[i] = apr_pstrdup(pool, words[i]);
    }
    rl->kind = kind;
    rl->values = values;
    rl->n = n;
    if (kind == OJW_REQUIRE_CLAIM) {
        err = parse_claim(rl, pool);
    }
    else if (kind == OJW_REQUIRE_PRIVILEGE) {
        err = parse_privileges(rl, find, baton, pool);
    }
    if (err) {
        return err;
    }
    rl->joined = joined(pool, rl->values, rl->n);
    *out = rl;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* decide                                                              */

ojw_reason_t ojw_require_decide(const ojw_require_t *rl, const json_t *claims,
                                const char *pointer)
{
    switch (rl->kind) {
    case OJW_REQUIRE_SCOPE:
        return ojw_claims_has_any_scope(claims, rl->values, rl->n)
               ? OJW_OK : OJW_ERR_SCOPE_MISSING;
    case OJW_REQUIRE_ROLE:
        return pointer && ojw_claims_has_any_role(claims, pointer, rl->values,
                                                  rl->n)
               ? OJW_OK : OJW_ERR_ROLE_MISSING;
    case OJW_REQUIRE_PRIVILEGE:
        return ojw_privilege_granted(rl->pvs, rl->n, claims, pointer, NULL)
               >= 0 ? OJW_OK : OJW_ERR_SCOPE_MISSING;
    case OJW_REQUIRE_CLAIM:
        return ojw_claims_match(claims, rl->claim, rl->values, rl->n)
               ? OJW_OK : OJW_ERR_CLAIM_MISMATCH;
    default:
        return OJW_ERR_SCOPE_MISSING;   /* fail closed */
    }
}

const char *ojw_require_hint(const ojw_require_t *rl, const json_t *claims,
                             apr_pool_t *pool)
{
    if (rl->kind != OJW_REQUIRE_SCOPE) {
        return NULL;
    }
    return ojw_hint_for_scopes(pool, claims, rl->values, rl->n);
}

/* ------------------------------------------------------------------ */
/* explain                                                             */

/* The scope or scp claim as JSON text. */
static const char *scopes_text(const json_t *claims, apr_pool_t *pool)
{
    return ojw_json_text(pool, json_object_get(claims, json_object_get(claims,
                         "scope") ? "scope" : "scp"));
}

/* The first of the n words that test grants alone, or NULL. */
static const char *first_granted(const ojw_require_t *rl,
                                 const json_t *claims, const char *pointer)
{
    int i;

    for (i = 0; i < rl->n; i++) {
        if ((rl->kind == OJW_REQUIRE_SCOPE
             && ojw_claims_has_any_scope(claims, rl->values + i, 1))
            || (rl->kind == OJW_REQUIRE_ROLE
                && ojw_claims_has_any_role(claims, pointer, rl->values + i, 1))
            || (rl->kind == OJW_REQUIRE_CLAIM
                && ojw_claims_match(claims, rl->claim, rl->values + i, 1))) {
            return rl->values[i];
        }
    }
    return NULL;
}

static const char *explain_privilege(const ojw_require_t *rl,
                                     const json_t *claims,
                                     const char *pointer, apr_pool_t *pool)
{
    int by_role = 0;
    int i = ojw_privilege_granted(rl->pvs, rl->n, claims, pointer, &by_role);

    if (i >= 0 && !by_role) {
        return apr_psprintf(pool, "\"%s\" granted as a scope",
                            rl->pvs[i]->name);
    }
    if (i >= 0) {
        return apr_psprintf(pool, "\"%s\" granted by a role at %s (%s)",
                            rl->pvs[i]->name, pointer,
                            joined(pool, rl->pvs[i]->roles,
                                   rl->pvs[i]->nroles));
    }
    return apr_psprintf(pool, "none of the privileges \"%s\" is in \"scope\" "
                        "or \"scp\" (%s), nor granted by %s%s", rl->joined,
                        scopes_text(claims, pool), pointer
                        ? "their roles at " : "a role (the profile has no "
                        "role_claim_name)", pointer ? pointer : "");
}

static const char *explain_denial(const ojw_require_t *rl,
                                  const json_t *claims, const char *pointer,
                                  apr_pool_t *pool)
{
    switch (rl->kind) {
    case OJW_REQUIRE_SCOPE:
        return apr_psprintf(pool, "none of the scopes \"%s\" is in \"scope\" "
                            "or \"scp\" (%s)", rl->joined,
                            scopes_text(claims, pool));
    case OJW_REQUIRE_ROLE:
        return pointer == NULL ? "the profile has no role_claim_name: Require "
                                 "ords-role cannot succeed"
               : apr_psprintf(pool, "none of the roles \"%s\" at %s (%s)",
                              rl->joined, pointer, ojw_json_text(pool,
                              ojw_json_pointer(claims, pointer)));
    default:
        return apr_psprintf(pool, "claim %s: %s, none of \"%s\" (strings, "
                            "or members of a string array; booleans and "
                            "integers as JSON text)", rl->claim,
                            ojw_json_text(pool, rl->claim[0] == '/'
                                          ? ojw_json_pointer(claims, rl->claim)
                                          : json_object_get(claims, rl->claim)),
                            rl->joined);
    }
}

const char *ojw_require_explain(const ojw_require_t *rl, const json_t *claims,
                                const char *pointer, ojw_reason_t decision,
                                apr_pool_t *pool)
{
    const char *hit;

    if (rl->kind == OJW_REQUIRE_PRIVILEGE) {
        return explain_privilege(rl, claims, pointer, pool);
    }
    if (decision != OJW_OK) {
        return explain_denial(rl, claims, pointer, pool);
    }
    hit = first_granted(rl, claims, pointer);
    if (rl->kind == OJW_REQUIRE_ROLE) {
        return apr_psprintf(pool, "\"%s\" at %s granted", hit, pointer);
    }
    if (rl->kind == OJW_REQUIRE_CLAIM) {
        return apr_psprintf(pool, "claim %s matches \"%s\"", rl->claim, hit);
    }
    return apr_psprintf(pool, "\"%s\" granted", hit);
}
