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
#include "authz.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* A Require ords-* line: the core's parse, and whether it is negated. */
typedef struct {
    const ojw_require_t *rl;
    int negated;                    /* Require not, or in <RequireNone> */
} line_t;

/* Why a line denied, logged only if the request is refused (see
 * log_refusals): line is the line's parsed arguments. */
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

static const ojw_privilege_t *find_privilege(void *baton, const char *name)
{
    return ordsjwt_find_privilege(((cmd_parms *)baton)->server, name);
}

/* The line parsed by the core (in cmd->pool), after the AuthType check. */
static const char *parse_line(cmd_parms *cmd, ojw_require_kind_t kind,
                              const char *line, const void **parsed)
{
    apr_array_header_t *words = apr_array_make(cmd->temp_pool, 4,
                                               sizeof(char *));
    line_t *l = apr_pcalloc(cmd->pool, sizeof(*l));
    ojw_require_t *rl;
    const char *w, *why = NULL, *err;

    if (!ordsjwt_section_takes_tokens(cmd, cmd->directive, &why)) {
        return apr_psprintf(cmd->pool, "Require ords-*: needs AuthType %s, "
                            "or AuthType Basic with AuthBasicProvider %s; "
                            "%s", ORDSJWT_AUTH_TYPE, ORDSJWT_AUTH_TYPE, why);
    }
    while (*line && *(w = ap_getword_conf(cmd->temp_pool, &line))) {
        APR_ARRAY_PUSH(words, const char *) = w;
    }
    err = ojw_require_parse(&rl, kind,
                            (const char *const *)words->elts, words->nelts,
                            find_privilege, cmd, cmd->pool);
    if (err) {
        return err;
    }
    l->rl = rl;
    l->negated = line_negated(cmd, cmd->directive);
    *parsed = l;
    return NULL;
}

static const char *parse_scope(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return parse_line(cmd, OJW_REQUIRE_SCOPE, line, parsed);
}

/* Remembers where the line is, so that a profile without role_claim_name
 * can be reported after parsing. */
static const char *parse_role(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    ordsjwt_note_role_line(cmd);
    return parse_line(cmd, OJW_REQUIRE_ROLE, line, parsed);
}

/* The privileges must be defined (OrdsJwtPrivilege, in this virtual host
 * or the main server) before the line: a typo is a configtest error. */
static const char *parse_privilege(cmd_parms *cmd, const char *line,
                                   const void **parsed)
{
    return parse_line(cmd, OJW_REQUIRE_PRIVILEGE, line, parsed);
}

static const char *parse_claim(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return parse_line(cmd, OJW_REQUIRE_CLAIM, line, parsed);
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
static authz_status deny(request_rec *r, ordsjwt_req_t *rq, const line_t *l,
                         ojw_reason_t reason, refusal_log_fn log)
{
    if (l->negated) {
        return AUTHZ_DENIED;
    }
    rq->insufficient = 1;
    if (rq->denied == OJW_OK || reason < rq->denied) {
        rq->denied = reason;
    }
    if (reason == OJW_ERR_SCOPE_MISSING) {
        rq->missing_scopes = rq->missing_scopes
            ? apr_pstrcat(r->pool, rq->missing_scopes, " ", l->rl->joined,
                          NULL)
            : l->rl->joined;
    }
    note_refusal(r, rq, log, l->rl, ojw_require_hint(l->rl, rq->claims,
                                                     r->pool));
    return AUTHZ_DENIED;
}

static void log_scope(request_rec *r, const ordsjwt_req_t *rq,
                      const refusal_t *f)
{
    const ojw_require_t *rl = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00017: refused "
                  "(scope_missing): sub %s has none of the scopes \"%s\"%s%s "
                  "[profile %s]", r->user, rl->joined,
                  f->hint ? "; hint: " : "", f->hint ? f->hint : "",
                  rq->profile->name);
}

static void log_role(request_rec *r, const ordsjwt_req_t *rq,
                     const refusal_t *f)
{
    const ojw_require_t *rl = f->line;

    if (rq->profile->role_claim_name == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00018: Require "
                      "ords-role cannot succeed: profile %s has no "
                      "role_claim_name", rq->profile->name);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00019: refused "
                  "(role_missing): sub %s has none of the roles \"%s\" "
                  "at %s [profile %s]", r->user, rl->joined,
                  rq->profile->role_claim_name, rq->profile->name);
}

static void log_privilege(request_rec *r, const ordsjwt_req_t *rq,
                          const refusal_t *f)
{
    const ojw_require_t *rl = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00027: refused "
                  "(scope_missing): sub %s has none of the privileges \"%s\" "
                  "(as scopes, or through their roles) [profile %s]", r->user,
                  rl->joined, rq->profile->name);
}

static void log_claim(request_rec *r, const ordsjwt_req_t *rq,
                      const refusal_t *f)
{
    const ojw_require_t *rl = f->line;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00030: refused "
                  "(claim_mismatch): sub %s: claim %s is none of \"%s\" "
                  "(strings, or members of a string array; booleans and "
                  "integers as JSON text) [profile %s]", r->user, rl->claim,
                  rl->joined, rq->profile->name);
}

static const refusal_log_fn log_of[OJW_REQUIRE_KINDS] = {
    [OJW_REQUIRE_SCOPE]     = log_scope,
    [OJW_REQUIRE_ROLE]      = log_role,
    [OJW_REQUIRE_PRIVILEGE] = log_privilege,
    [OJW_REQUIRE_CLAIM]     = log_claim,
};

/* Every ords-* provider: the core's decision on the request's claims. */
static authz_status check_line(request_rec *r, const char *line,
                               const void *parsed)
{
    const line_t *l = parsed;
    ordsjwt_req_t *rq;
    authz_status st = authz_claims(r, &rq);
    ojw_reason_t decision;

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    decision = ojw_require_decide(l->rl, rq->claims,
                                  rq->profile->role_claim_name);
    if (decision == OJW_OK) {
        return AUTHZ_GRANTED;
    }
    return deny(r, rq, l, decision, log_of[l->rl->kind]);
}

/* Logs why each ords-* line denied: once the answer is known to be an
 * authorization refusal, never for a request another line granted. */
static void log_refusals(request_rec *r, const ordsjwt_req_t *rq)
{
    int i;

    for (i = 0; rq->refusals && i < rq->refusals->nelts; i++) {
        const refusal_t *f = &APR_ARRAY_IDX(rq->refusals, i, refusal_t);

        f->log(r, rq, f);
    }
}

int ordsjwt_log_transaction(request_rec *r)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    if (rq && rq->state == ORDSJWT_VALID && rq->insufficient
        && (r->status == HTTP_FORBIDDEN || r->status == HTTP_UNAUTHORIZED)) {
        ordsjwt_count(rq->profile, rq->denied);
        log_refusals(r, rq);
        rq->outcome = ojw_reason_name(rq->denied);
    }
    if (rq && rq->outcome) {
        ordsjwt_set_log_notes(r, rq);
    }
    return DECLINED;
}

static const authz_provider scope_provider = { check_line, parse_scope };
static const authz_provider role_provider = { check_line, parse_role };
static const authz_provider privilege_provider = {
    check_line, parse_privilege
};
static const authz_provider claim_provider = { check_line, parse_claim };

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
