/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: sender-constrained tokens (issue 13). The glue of
 * DPoP (RFC 9449) and certificate-bound tokens (RFC 8705 3): the DPoP
 * proof header, the client certificate from mod_ssl and the replay store
 * handed to the binding step (src/binding.c, the pipeline's: its order
 * and its decisions), what its verdict does to the request, the DPoP
 * challenge. The URL htu is compared with is mod_ordsjwt_htu.c's, the
 * replay store mod_ordsjwt_replay.c's, the nonces (where required)
 * mod_ordsjwt_nonce.c's.
 *
 * The binding is checked for every request, after the token cache: a
 * cached verdict is about the token, never about the proof or the
 * connection.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
#include "http_ssl.h"
#else
#include "mod_ssl.h"
#endif

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "dpop.h"
#include "url.h"

APLOG_USE_MODULE(auth_ordsjwt);

#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
static APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *ssl_lookup;
#endif

/* ------------------------------------------------------------------ */
/* directives                                                          */

const char *ordsjwt_cmd_dpop_base_url(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const char *why;
    size_t n = strlen(arg);

    (void)dconf;
    while (n > 0 && arg[n - 1] == '/') {
        n--;
    }
    arg = apr_pstrmemdup(cmd->pool, arg, n);
    if (strpbrk(arg, "?#") || ojw_url_normalise(arg, cmd->pool, &why) == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtDpopBaseUrl %s: not an "
                            "http(s) URL without query (%s)", arg,
                            strpbrk(arg, "?#") ? "it has a query" : why);
    }
    ordsjwt_srv_conf(cmd->server)->dpop_base_url = arg;
    return NULL;
}

static int bound_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)ptemp;
    (void)s;
#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
    ssl_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
#endif
    return OK;
}

/* ------------------------------------------------------------------ */
/* the request                                                         */

int ordsjwt_refuse_binding(request_rec *r, ordsjwt_req_t *rq,
                           const ojw_error_t *err)
{
    const char *hint = ojw_hint_for_binding(err->reason);

    rq->state = ORDSJWT_INVALID;
    rq->reason = err->reason;
    rq->outcome = ojw_reason_name(err->reason);
    ordsjwt_count(rq->profile, err->reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00070: token refused "
                  "(%s): %s%s%s [profile %s, sub %.200s]",
                  ojw_reason_name(err->reason), err->detail,
                  hint ? "; hint: " : "", hint ? hint : "",
                  rq->profile->name, rq->subject ? rq->subject : "-");
    return HTTP_UNAUTHORIZED;
}

static int replay_unavailable(request_rec *r, ordsjwt_req_t *rq,
                              int retry_after)
{
    rq->state = ORDSJWT_UNAVAILABLE;
    rq->outcome = ojw_reason_name(OJW_ERR_REPLAY_UNAVAILABLE);
    ordsjwt_count(rq->profile, OJW_ERR_REPLAY_UNAVAILABLE);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_itoa(r->pool, retry_after));
    return HTTP_SERVICE_UNAVAILABLE;
}

const char *ordsjwt_dpop_proof(request_rec *r)
{
    return ojw_dpop_proof_header(apr_table_get(r->headers_in, "DPoP"));
}

/* Looks at the first request of r's chain (see mod_ordsjwt.h). */
int ordsjwt_dpop_checked_before(request_rec *r, const char *compact)
{
    request_rec *first = r;
    const ordsjwt_req_t *frq;

    while (first->main || first->prev) {
        first = first->main ? first->main : first->prev;
    }
    frq = first == r ? NULL : ordsjwt_req(first);
    return frq && frq->dpop_checked && frq->compact && compact
           && strcmp(frq->compact, compact) == 0;
}

/* The connection's client certificate (PEM), or NULL (baton: r). */
static const char *client_cert(void *baton)
{
    request_rec *r = baton;

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
    return ap_ssl_var_lookup(r->pool, r->server, r->connection, r,
                             "SSL_CLIENT_CERT");
#else
    return ssl_lookup ? ssl_lookup(r->pool, r->server, r->connection, r,
                                   (char *)"SSL_CLIENT_CERT") : NULL;
#endif
}

/* The replay store (baton: r). */
static apr_status_t remember(void *baton, const unsigned char *key,
                             long long expires, int *retry_after)
{
    return ordsjwt_replay_remember(baton, key, expires, retry_after);
}

void ordsjwt_bound_evidence(request_rec *r, const ordsjwt_req_t *rq,
                            const ojw_profile_t *p, ojw_evidence_t *ev)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;

    ev->dpop = rq->dpop;
    ev->access_token = rq->compact;
    ev->client_cert = client_cert;
    ev->remember = remember;
    ev->baton = r;
    /* the rest is read only for a token sent as DPoP */
    if (!rq->dpop
        || (ev->proof_checked = ordsjwt_dpop_checked_before(r, rq->compact))) {
        return;
    }
    ev->proof = apr_table_get(r->headers_in, "DPoP");
    ev->method = r->method;
    ev->url = ordsjwt_htu_url(r, &ev->url_why);
    ev->nonce = ordsjwt_nonce_policy(r, p);
    ev->window = ojw_setting(n, OJW_SET_DPOP_WINDOW);
}

int ordsjwt_bound_refuse(request_rec *r, ordsjwt_req_t *rq,
                         const ojw_error_t *err, const ojw_bound_t *b)
{
    switch (err->reason) {
    case OJW_ERR_REPLAY_UNAVAILABLE:    /* logged by _replay.c */
        return replay_unavailable(r, rq, b->retry_after);
    case OJW_ERR_DPOP_NONCE:            /* a fresh nonce goes with it */
        return ordsjwt_nonce_refuse(r, rq, err);
    default:
        return ordsjwt_refuse_binding(r, rq, err);
    }
}

void ordsjwt_bound_accepted(request_rec *r, ordsjwt_req_t *rq,
                            const ojw_bound_t *b)
{
    if (b->proof_checked) {
        rq->dpop_checked = 1;
        ordsjwt_nonce_accepted(r, b->nonce, b->nonce_age);
    }
}

/* ------------------------------------------------------------------ */
/* the DPoP challenge                                                  */

/* 1 when a profile of r's section accepts DPoP. */
static int section_takes_dpop(request_rec *r)
{
    const apr_array_header_t *profiles = ordsjwt_dir_conf(r)->profiles;
    int i;

    for (i = 0; profiles && i < profiles->nelts; i++) {
        if (APR_ARRAY_IDX(profiles, i, const ojw_profile_t *)->dpop
            != OJW_BIND_OFF) {
            return 1;
        }
    }
    return 0;
}

int ordsjwt_dpop_error(request_rec *of, const ordsjwt_req_t *rq)
{
    return rq && rq->state == ORDSJWT_INVALID
           && (rq->dpop || (rq->reason == OJW_ERR_BINDING
                            && section_takes_dpop(of)));
}

void ordsjwt_dpop_challenge(request_rec *r, request_rec *of,
                            const ordsjwt_req_t *rq, const char *header)
{
    const char *c = "DPoP algs=\"" OJW_DPOP_ALGS "\"";
    const char *error = rq ? ojw_dpop_challenge_error(rq->reason) : NULL;

    if (!section_takes_dpop(of) && !(rq && rq->dpop)) {
        return;
    }
    if (ordsjwt_dpop_error(of, rq)) {
        c = apr_psprintf(r->pool, "%s, error=\"%s\", error_description=\"%s\"",
                         c, error ? error : "invalid_token",
                         ojw_reason_description(rq->reason));
    }
    apr_table_addn(r->err_headers_out, header, c);
}

void ordsjwt_bound_register(apr_pool_t *p)
{
    ap_hook_post_config(bound_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ordsjwt_replay_register(p);
    ordsjwt_htu_register(p);
    ordsjwt_nonce_register(p);
}
