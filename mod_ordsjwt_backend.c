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

/* OrdsJwtPassClaims of r's section. */
static int pass_how(request_rec *r)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);

    return dc->pass_claims == ORDSJWT_PASS_UNSET ? ORDSJWT_PASS_ENV
                                                 : dc->pass_claims;
}

/* The pairs of p (worked out once: every top-level claim whose names
 * collide with no other's, the profile, scopes and roles) where how
 * says. */
static void pass_claims(request_rec *r, int how, const ojw_passed_t *p)
{
    int i;

    if (p->collisions) {
        log_collisions(r, p->collisions);
    }
    for (i = 0; p->ntruncated && i < p->npairs; i++) {
        if (p->pairs[i].truncated) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00026: the "
                          "value passed as %s was cut to %d bytes",
                          p->pairs[i].env, OJW_PASS_VALUE_MAX);
        }
    }
    ojw_passed_set(p, how & ORDSJWT_PASS_ENV ? r->subprocess_env : NULL,
                   how & ORDSJWT_PASS_HEADERS ? r->headers_in : NULL);
}

/* rq's pairs (with_pairs 0: none) and notes, in r->pool. */
static ojw_passed_t *work_out(request_rec *r, const ordsjwt_req_t *rq,
                              int with_pairs)
{
    ojw_passed_t *p = apr_pcalloc(r->pool, sizeof(*p));

    if (with_pairs) {
        ojw_passed_make(p, r->pool, rq->claims, rq->profile->name,
                        rq->profile->role_claim_name);
    }
    ordsjwt_note_texts(r, rq, p);
    return p;
}

const ojw_passed_t *ordsjwt_passed(request_rec *r, const ordsjwt_req_t *rq,
                                   const ojw_cached_t *entry)
{
    const ojw_passed_t *p;
    ojw_passed_t *packed;

    if (entry == NULL) {
        return work_out(r, rq, pass_how(r) != ORDSJWT_PASS_NONE);
    }
    if ((p = ojw_token_cache_attached(entry)) != NULL) {
        return p;
    }
    p = work_out(r, rq, 1);     /* whatever later locations pass */
    if ((packed = ojw_passed_pack(p)) == NULL) {
        return p;
    }
    return ojw_token_cache_attach(entry, packed);
}

void ordsjwt_to_backend(request_rec *r, const ordsjwt_req_t *rq)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);
    int how = pass_how(r);

    if (how != ORDSJWT_PASS_NONE && rq->passed) {
        pass_claims(r, how, rq->passed);
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
