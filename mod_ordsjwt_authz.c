/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the authz providers Require ords-scope, ords-role and
 * ords-privilege. Each line is parsed once, at configuration time; at
 * request time a provider only looks at the claims that authentication
 * left in the request (ordsjwt_req_t).
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "claims.h"
#include "diagnose.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* One Require line's values, parsed once at configuration time. */
typedef struct {
    int n;
    const char **values;
    const char *joined;             /* space-separated, for scope="..." */
} require_args_t;

/* A Require ords-privilege line: the names and their definitions. */
typedef struct {
    const require_args_t *args;
    ordsjwt_privilege_t **pvs;
} privilege_args_t;

/* The AuthType written in the section that encloses directive d (through
 * <RequireAll>/<RequireAny>/<RequireNone>), or NULL when it sets none. */
static const char *section_auth_type(cmd_parms *cmd, const ap_directive_t *d)
{
    const ap_directive_t *sec = d ? d->parent : NULL;
    const ap_directive_t *c;
    const char *args;

    while (sec && strncasecmp(sec->directive, "<Require", 8) == 0) {
        sec = sec->parent;
    }
    for (c = sec ? sec->first_child : NULL; c; c = c->next) {
        if (strcasecmp(c->directive, "AuthType") == 0) {
            args = c->args;
            return ap_getword_conf(cmd->temp_pool, &args);
        }
    }
    return NULL;
}

static const char *parse_require_args(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    require_args_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    apr_array_header_t *vals = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *w, *type = section_auth_type(cmd, cmd->directive);

    if (type && strcasecmp(type, ORDSJWT_AUTH_TYPE) != 0) {
        return apr_psprintf(cmd->pool, "Require ords-*: needs AuthType %s, "
                            "but this section has AuthType %s",
                            ORDSJWT_AUTH_TYPE, type);
    }
    while (*line && *(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(vals, const char *) = w;
    }
    if (vals->nelts == 0) {
        return "Require ords-scope/ords-role needs at least one value";
    }
    a->n = vals->nelts;
    a->values = (const char **)vals->elts;
    a->joined = apr_array_pstrcat(cmd->pool, vals, ' ');
    *parsed = a;
    return NULL;
}

/* Like parse_require_args, and remembers where the line is so that a
 * profile without role_claim_name can be reported after parsing. */
static const char *parse_role_require_args(cmd_parms *cmd, const char *line,
                                           const void **parsed)
{
    ordsjwt_note_role_line(cmd);
    return parse_require_args(cmd, line, parsed);
}

/* Require ords-privilege: the names must be defined (OrdsJwtPrivilege, in
 * this virtual host or the main server) before the line, so that a typo
 * is a configtest error. */
static const char *parse_privilege_args(cmd_parms *cmd, const char *line,
                                        const void **parsed)
{
    privilege_args_t *pa = apr_pcalloc(cmd->pool, sizeof(*pa));
    const require_args_t *a;
    const char *err = parse_require_args(cmd, line, (const void **)&a);
    ordsjwt_privilege_t **pvs;
    int i;

    if (err) {
        return err;
    }
    pvs = apr_pcalloc(cmd->pool, sizeof(*pvs) * (apr_size_t)a->n);
    for (i = 0; i < a->n; i++) {
        pvs[i] = ordsjwt_find_privilege(cmd->server, a->values[i]);
        if (pvs[i] == NULL) {
            return apr_psprintf(cmd->pool, "Require ords-privilege: no "
                                "OrdsJwtPrivilege named \"%s\" is defined "
                                "before this line", a->values[i]);
        }
    }
    pa->args = a;
    pa->pvs = pvs;
    *parsed = pa;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* at request time                                                     */

/* The request's verified claims, or why authz cannot look at them. */
static authz_status authz_claims(request_rec *r, ordsjwt_req_t **rqp)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    *rqp = rq;
    if (r->user == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (rq == NULL || rq->state != ORDSJWT_VALID) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00016: Require "
                      "ords-scope/ords-role needs AuthType %s",
                      ORDSJWT_AUTH_TYPE);
        return AUTHZ_DENIED;
    }
    return AUTHZ_GRANTED;
}

/* A denial for want of one of the scopes of a: remembered for the
 * challenge's scope="..." and the counters. */
static authz_status deny_scopes(request_rec *r, ordsjwt_req_t *rq,
                                const require_args_t *a)
{
    rq->insufficient = 1;
    rq->denied = OJW_ERR_SCOPE_MISSING;
    rq->missing_scopes = rq->missing_scopes
        ? apr_pstrcat(r->pool, rq->missing_scopes, " ", a->joined, NULL)
        : a->joined;
    return AUTHZ_DENIED;
}

static authz_status authz_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_args_t *a = parsed;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);
    const char *hint;

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_has_any_scope(rq->claims, a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    hint = ojw_hint_for_scopes(r->pool, rq->claims, a->values, a->n);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00017: refused "
                  "(scope_missing): sub %s has none of the scopes \"%s\"%s%s "
                  "[profile %s]", r->user, a->joined,
                  hint ? "; hint: " : "", hint ? hint : "",
                  rq->profile->name);
    return deny_scopes(r, rq, a);
}

static authz_status authz_role(request_rec *r, const char *line,
                               const void *parsed)
{
    const require_args_t *a = parsed;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (rq->profile->role_claim_name == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00018: Require "
                      "ords-role cannot succeed: profile %s has no "
                      "role_claim_name", rq->profile->name);
    }
    else if (ojw_claims_has_any_role(rq->claims, rq->profile->role_claim_name,
                                     a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00019: refused "
                      "(role_missing): sub %s has none of the roles \"%s\" "
                      "at %s [profile %s]", r->user, a->joined,
                      rq->profile->role_claim_name, rq->profile->name);
    }
    rq->insufficient = 1;
    if (rq->denied != OJW_ERR_SCOPE_MISSING) {
        rq->denied = OJW_ERR_ROLE_MISSING;
    }
    return AUTHZ_DENIED;
}

/* 1 when the token has a role that grants privilege pv. */
static int has_privilege_role(const ordsjwt_req_t *rq,
                              const ordsjwt_privilege_t *pv)
{
    return rq->profile->role_claim_name && pv->roles->nelts > 0
           && ojw_claims_has_any_role(rq->claims, rq->profile->role_claim_name,
                                      (const char *const *)pv->roles->elts,
                                      pv->roles->nelts);
}

static authz_status authz_privilege(request_rec *r, const char *line,
                                    const void *parsed)
{
    const privilege_args_t *pa = parsed;
    const require_args_t *a = pa->args;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);
    int i;

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_has_any_scope(rq->claims, a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    for (i = 0; i < a->n; i++) {
        if (has_privilege_role(rq, pa->pvs[i])) {
            return AUTHZ_GRANTED;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00027: refused "
                  "(scope_missing): sub %s has none of the privileges \"%s\" "
                  "(as scopes, or through their roles) [profile %s]", r->user,
                  a->joined, rq->profile->name);
    return deny_scopes(r, rq, a);
}

static const authz_provider scope_provider = {
    authz_scope, parse_require_args
};

static const authz_provider role_provider = {
    authz_role, parse_role_require_args
};

static const authz_provider privilege_provider = {
    authz_privilege, parse_privilege_args
};

void ordsjwt_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-role",
                              AUTHZ_PROVIDER_VERSION, &role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-privilege",
                              AUTHZ_PROVIDER_VERSION, &privilege_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
