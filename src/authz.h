/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Require lines of mod_auth_ordsjwt: ords-scope, ords-role,
 * ords-privilege and ords-claim. A line is parsed once (when httpd, or
 * ordsjwt-check, reads the configuration); its decision looks only at
 * verified claims and the profile's role_claim_name. The module's authz
 * providers and ordsjwt-check decide with these functions.
 */
#ifndef OJW_AUTHZ_H
#define OJW_AUTHZ_H

#include <jansson.h>
#include "ojw.h"
#include "privilege.h"

typedef enum {
    OJW_REQUIRE_SCOPE,
    OJW_REQUIRE_ROLE,
    OJW_REQUIRE_PRIVILEGE,
    OJW_REQUIRE_CLAIM,
    OJW_REQUIRE_KINDS
} ojw_require_kind_t;

/* One Require ords-* line, parsed. */
typedef struct {
    ojw_require_kind_t kind;
    const char *claim;                  /* ords-claim: a claim name, or a
                                         * JSON pointer when it starts "/" */
    const char *const *values;          /* scopes, roles, privilege names
                                         * or claim values; any one grants */
    int n;
    const char *joined;                 /* the values, space-separated */
    const ojw_privilege_t *const *pvs;  /* ords-privilege: the definitions */
} ojw_require_t;

/* The kind of an authz provider name ("ords-scope", ...), or -1. */
int ojw_require_kind(const char *provider);

/* "ords-scope", ... */
const char *ojw_require_provider(ojw_require_kind_t kind);

/* An OrdsJwtPrivilege as the line's server sees it, or NULL. */
typedef const ojw_privilege_t *ojw_privilege_find_fn(void *baton,
                                                     const char *name);

/* Parses the n words after the provider name (split as httpd splits a
 * Require line); find looks up the privileges of ords-privilege. NULL
 * with *out set (from pool), or the configuration error. */
const char *ojw_require_parse(ojw_require_t **out, ojw_require_kind_t kind,
                              const char *const *words, int n,
                              ojw_privilege_find_fn *find, void *baton,
                              apr_pool_t *pool);

/* The line's decision on verified claims, checked with a profile whose
 * role_claim_name is pointer (NULL: none): OJW_OK when it grants, else
 * why it denies (scope_missing, role_missing or claim_mismatch). */
ojw_reason_t ojw_require_decide(const ojw_require_t *rl, const json_t *claims,
                                const char *pointer);

/* The hint for a denial (a scope found only with a prefix), or NULL. */
const char *ojw_require_hint(const ojw_require_t *rl, const json_t *claims,
                             apr_pool_t *pool);

/* What the decision rests on, in words: what granted the line, or why it
 * denied (for ordsjwt-check). */
const char *ojw_require_explain(const ojw_require_t *rl, const json_t *claims,
                                const char *pointer, ojw_reason_t decision,
                                apr_pool_t *pool);

#endif
