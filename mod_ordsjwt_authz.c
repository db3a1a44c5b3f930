/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the authz providers Require ords-scope, ords-role,
 * ords-privilege and ords-claim. Each line is parsed once, at configuration
 * time; at request time a provider only looks at the claims that
 * authentication left in the request (ordsjwt_req_t). Why a line denied is
 * logged only when the request is refused: under <RequireAny>, or negated,
 * a denial can be what lets the request in.
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
    int negated;                    /* Require not, or in <RequireNone> */
} require_args_t;

/* A Require ords-privilege line: the names and their definitions. */
typedef struct {
    const require_args_t *args;
    const ojw_privilege_t *const *pvs;
} privilege_args_t;

/* A Require ords-claim line: the claim (a name, or a JSON pointer when it
 * starts with "/") and the values, any one of which grants. */
typedef struct {
    const char *name;
    require_args_t values;
} claim_args_t;

/* Why a line denied, logged only if the request is refused (see
 * ordsjwt_log_refusals): line is the line's parsed arguments. */
typedef struct refusal_t refusal_t;
typedef void (*refusal_log_fn)(request_rec *r, const ordsjwt_req_t *rq,
                               const refusal_t *f);
struct refusal_t {
    refusal_log_fn log;
    const void *line;
    const char *hint;
};

/* 1 when directive d, a Require line being parsed, is negated: "Require
 * not ...", or inside <RequireNone>/<RequireNotAll>. mod_authz_core then
 * turns the line's denial into "neutral": it is no refusal. */
static int line_negated(cmd_parms *cmd, const ap_directive_t *d)
{
    const char *args;

    if (d == NULL || strcasecmp(d->directive, "Require") != 0) {
        return 0;
    }
    args = d->args;
    if (strcasecmp(ap_getword_conf(cmd->temp_pool, &args), "not") == 0) {
        return 1;
    }
    for (d = d->parent; d && strncasecmp(d->directive, "<Require", 8) == 0;
         d = d->parent) {
        if (strcasecmp(d->directive, "<RequireNone") == 0
            || strcasecmp(d->directive, "<RequireNotAll") == 0) {
            return 1;
        }
    }
    return 0;
}

/* The words of line into a (in cmd->pool), after the AuthType check. */
static const char *parse_words(cmd_parms *cmd, const char *line,
                               require_args_t *a)
{
    apr_array_header_t *vals = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *w, *why = NULL;

    if (!ordsjwt_section_takes_tokens(cmd, cmd->directive, &why)) {
        return apr_psprintf(cmd->pool, "Require ords-*: needs AuthType %s, "
                            "or AuthType Basic with AuthBasicProvider %s; "
                            "%s", ORDSJWT_AUTH_TYPE, ORDSJWT_AUTH_TYPE, why);
    }
    while (*line && *(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(vals, const char *) = w;
    }
    if (vals->nelts == 0) {
        return "Require ords-*: needs at least one value";
    }
    a->n = vals->nelts;
    a->values = (const char **)vals->elts;
    a->joined = apr_array_pstrcat(cmd->pool, vals, ' ');
    a->negated = line_negated(cmd, cmd->directive);
    return NULL;
}

static const char *parse_require_args(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    require_args_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    const char *err = parse_words(cmd, line, a);

    *parsed = a;
    return err;
}

/* Require ords-claim NAME VALUE [VALUE ...]: a NAME that starts with "/"
 * must be a valid JSON pointer. */
static const char *parse_claim_args(cmd_parms *cmd, const char *line,
                                    const void **parsed)
{
    claim_args_t *ca = apr_pcalloc(cmd->pool, sizeof(*ca));
    require_args_t *a = &ca->values;
    const char *err = parse_words(cmd, line, a);
    int i;

    if (err) {
        return err;
    }
    if (a->n < 2) {
        return "Require ords-claim needs a claim name and at least one "
               "value: Require ords-claim NAME VALUE [VALUE ...]";
    }
    ca->name = a->values[0];
    if (ca->name[0] == '/' && !ojw_json_pointer_valid(ca->name)) {
        return apr_psprintf(cmd->pool, "Require ords-claim: \"%s\" is not a "
                            "JSON pointer (RFC 6901: ~ only as ~0 or ~1)",
                            ca->name);
    }
    a->n--;
    a->values++;
    a->joined = a->values[0];
    for (i = 1; i < a->n; i++) {
        a->joined = apr_pstrcat(cmd->pool, a->joined, " ", a->values[i],
                                NULL);
    }
    *parsed = ca;
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
    const ojw_privilege_t **pvs;
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
    pa->pvs = (const ojw_privilege_t *const *)pvs;
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
    if (rq != NULL && rq->state == ORDSJWT_VALID) {
        return AUTHZ_GRANTED;
    }
    if (ap_auth_type(r) && strcasecmp(ap_auth_type(r), "Basic") == 0) {
        /* another provider (a password file, a cache) let the user in */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00047: user %s "
                      "was not authenticated with a token: no claims, "
                      "Require ords-* denies", r->user);
        return AUTHZ_DENIED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00016: Require "
                  "ords-* needs AuthType %s", ORDSJWT_AUTH_TYPE);
    return AUTHZ_DENIED;
}

/* Remembers why a line denied, for the log if the request is refused. */
static void note_refusal(request_rec *r, ordsjwt_req_t *rq,
                         refusal_log_fn log, const void *line,
                         const char *hint)
{
    refusal_t *f;

    if (rq->refusals == NULL) {
        rq->refusals = apr_array_make(r->pool, 2, sizeof(refusal_t));
    }
    f = apr_array_push(rq->refusals);
    f->log = log;
    f->line = line;
    f->hint = hint;
}

/* A denial by a line that is not negated: for the challenge and the
 * counters (one reason per request: scope_missing, role_missing, then
 * claim_mismatch). A negated line's denial is what lets a request in. */
static authz_status deny(request_rec *r, ordsjwt_req_t *rq,
                         const require_args_t *a, ojw_reason_t reason,
                         refusal_log_fn log, const void *line,
                         const char *hint)
{
    if (a->negated) {
        return AUTHZ_DENIED;
    }
    rq->insufficient = 1;
    if (rq->denied == OJW_OK || reason < rq->denied) {
        rq->denied = reason;
    }
    if (reason == OJW_ERR_SCOPE_MISSING) {
        rq->missing_scopes = rq->missing_scopes
            ? apr_pstrcat(r->pool, rq->missing_scopes, " ", a->joined, NULL)
            : a->joined;
    }
    note_refusal(r, rq, log, line, hint);
    return AUTHZ_DENIED;
}

static void log_scope(request_rec *r, const ordsjwt_req_t *rq,
                      const refusal_t *f)
{
    const require_args_t *a = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00017: refused "
                  "(scope_missing): sub %s has none of the scopes \"%s\"%s%s "
                  "[profile %s]", r->user, a->joined,
                  f->hint ? "; hint: " : "", f->hint ? f->hint : "",
                  rq->profile->name);
}

static authz_status authz_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_args_t *a = parsed;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_has_any_scope(rq->claims, a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    return deny(r, rq, a, OJW_ERR_SCOPE_MISSING, log_scope, a,
                a->negated ? NULL : ojw_hint_for_scopes(r->pool, rq->claims,
                                                        a->values, a->n));
}

static void log_role_without_claim(request_rec *r, const ordsjwt_req_t *rq,
                                   const refusal_t *f)
{
    (void)f;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00018: Require "
                  "ords-role cannot succeed: profile %s has no "
                  "role_claim_name", rq->profile->name);
}

static void log_role(request_rec *r, const ordsjwt_req_t *rq,
                     const refusal_t *f)
{
    const require_args_t *a = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00019: refused "
                  "(role_missing): sub %s has none of the roles \"%s\" "
                  "at %s [profile %s]", r->user, a->joined,
                  rq->profile->role_claim_name, rq->profile->name);
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
        return deny(r, rq, a, OJW_ERR_ROLE_MISSING, log_role_without_claim,
                    a, NULL);
    }
    if (ojw_claims_has_any_role(rq->claims, rq->profile->role_claim_name,
                                a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    return deny(r, rq, a, OJW_ERR_ROLE_MISSING, log_role, a, NULL);
}

static void log_privilege(request_rec *r, const ordsjwt_req_t *rq,
                          const refusal_t *f)
{
    const require_args_t *a = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00027: refused "
                  "(scope_missing): sub %s has none of the privileges \"%s\" "
                  "(as scopes, or through their roles) [profile %s]", r->user,
                  a->joined, rq->profile->name);
}

static authz_status authz_privilege(request_rec *r, const char *line,
                                    const void *parsed)
{
    const privilege_args_t *pa = parsed;
    const require_args_t *a = pa->args;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_privilege_granted(pa->pvs, a->n, rq->claims,
                              rq->profile->role_claim_name, NULL) >= 0) {
        return AUTHZ_GRANTED;
    }
    return deny(r, rq, a, OJW_ERR_SCOPE_MISSING, log_privilege, a, NULL);
}

static void log_claim(request_rec *r, const ordsjwt_req_t *rq,
                      const refusal_t *f)
{
    const claim_args_t *ca = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00030: refused "
                  "(claim_mismatch): sub %s: claim %s is none of \"%s\" "
                  "(strings, or members of a string array; booleans and "
                  "integers as JSON text) [profile %s]", r->user, ca->name,
                  ca->values.joined, rq->profile->name);
}

static authz_status authz_claim(request_rec *r, const char *line,
                                const void *parsed)
{
    const claim_args_t *ca = parsed;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_match(rq->claims, ca->name, ca->values.values,
                         ca->values.n)) {
        return AUTHZ_GRANTED;
    }
    return deny(r, rq, &ca->values, OJW_ERR_CLAIM_MISMATCH, log_claim, ca,
                NULL);
}

void ordsjwt_log_refusals(request_rec *r, const ordsjwt_req_t *rq)
{
    int i;

    for (i = 0; rq->refusals && i < rq->refusals->nelts; i++) {
        const refusal_t *f = &APR_ARRAY_IDX(rq->refusals, i, refusal_t);

        f->log(r, rq, f);
    }
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

static const authz_provider claim_provider = {
    authz_claim, parse_claim_args
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
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
