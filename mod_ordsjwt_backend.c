/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: what the backend gets. Look-alike headers are removed
 * from every request before anything else sees it; after a token is
 * accepted its claims go to the environment and/or request headers
 * (OrdsJwtPassClaims) and the token itself stays or goes
 * (OrdsJwtForwardToken).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include <apr_atomic.h>
#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "pass.h"

APLOG_USE_MODULE(auth_ordsjwt);

static int collect_lookalike(void *rec, const char *key, const char *value)
{
    apr_array_header_t *names = rec;

    (void)value;
    if (ojw_pass_is_lookalike(key)) {
        APR_ARRAY_PUSH(names, const char *) = key;
    }
    return 1;
}

/* Before anything else looks at the request: no client can send a header
 * that a backend could take for one this module sets. */
int ordsjwt_scrub_lookalikes(request_rec *r)
{
    apr_array_header_t *names = apr_array_make(r->pool, 2, sizeof(char *));
    int i;

    apr_table_do(collect_lookalike, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00025: removed "
                      "the request header %s (only this module sets such "
                      "headers)", APR_ARRAY_IDX(names, i, const char *));
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return DECLINED;
}

/* Sets one passed value as env and/or request header. */
static void pass_one(request_rec *r, int how, const char *env,
                     const char *header, const char *value, int truncated)
{
    if (truncated) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00026: the value "
                      "passed as %s was cut to %d bytes", env,
                      OJW_PASS_VALUE_MAX);
    }
    if (how & ORDSJWT_PASS_ENV) {
        apr_table_set(r->subprocess_env, env, value);
    }
    if (how & ORDSJWT_PASS_HEADERS) {
        apr_table_set(r->headers_in, header, value);
    }
}

/* Set once this process has warned about colliding claim names: a hostile
 * token can collide on every request, so later ones log at debug. */
static apr_uint32_t collision_warned;

/* Logs the claims left out because their mapped names collide. */
static void log_collisions(request_rec *r, const char *names)
{
    if (apr_atomic_cas32(&collision_warned, 1, 0) == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "ORDSJWT00035: claims "
                      "whose names collide as environment variable or header "
                      "names are not passed to the backend (a claim named sub "
                      "always is): %s; logged at debug from now on in this "
                      "process", names);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00036: claims "
                      "whose names collide are not passed to the backend: %s",
                      names);
    }
}

/* Every top-level claim whose names collide with no other's, the profile,
 * scopes and roles, as configured. */
static void pass_claims(request_rec *r, int how, const ordsjwt_req_t *rq)
{
    ojw_pass_collisions_t clash;
    const char *key, *text;
    json_t *value;
    int cut = 0;

    ojw_pass_collisions(&clash, r->pool, rq->claims, OJW_DETAIL_MAX);
    if (clash.names) {
        log_collisions(r, clash.names);
    }
    json_object_foreach(rq->claims, key, value) {
        if (apr_hash_get(clash.dropped, key, APR_HASH_KEY_STRING)) {
            continue;
        }
        if ((text = ojw_pass_value(r->pool, value, OJW_PASS_VALUE_MAX, &cut))) {
            pass_one(r, how, ojw_pass_env_name(r->pool, key),
                     ojw_pass_header_name(r->pool, key), text, cut);
        }
    }
    pass_one(r, how, "ORDSJWT_PROFILE", "X-OrdsJwt-Profile",
             rq->profile->name, 0);
    text = ojw_pass_text(r->pool, ojw_pass_scopes(r->pool, rq->claims),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(r, how, "ORDSJWT_SCOPES", "X-OrdsJwt-Scopes", text, cut);
    text = ojw_pass_text(r->pool, ojw_pass_roles(r->pool, rq->claims,
                                                 rq->profile->role_claim_name),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(r, how, "ORDSJWT_ROLES", "X-OrdsJwt-Roles", text, cut);
}

void ordsjwt_to_backend(request_rec *r, const ordsjwt_req_t *rq)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);
    int how = dc->pass_claims == ORDSJWT_PASS_UNSET ? ORDSJWT_PASS_ENV
                                                    : dc->pass_claims;

    if (how != ORDSJWT_PASS_NONE) {
        pass_claims(r, how, rq);
    }
    if (dc->forward_token == 0) {
        apr_table_unset(r->headers_in, PROXYREQ_PROXY == r->proxyreq
                                       ? "Proxy-Authorization"
                                       : "Authorization");
        if (rq->basic_token == NULL) {
            ordsjwt_unforward_sources(r);       /* header=NAME sources */
        }
    }
    else if (rq->basic_token) {
        /* the backend sees what a bearer client sends, never the
         * Basic user name */
        apr_table_setn(r->headers_in, PROXYREQ_PROXY == r->proxyreq
                                      ? "Proxy-Authorization"
                                      : "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", rq->basic_token,
                                   NULL));
    }
}
