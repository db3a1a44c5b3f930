/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: resource-server DPoP nonces (RFC 9449 sections 8 and
 * 9, issue 23), so that a proof cannot be made ahead of its use. Where a
 * nonce is required (a profile's dpop_nonce=, else the location's
 * OrdsJwtDpopNonce), a DPoP proof must carry one this server issued in
 * the last OrdsJwtDpopNonceLifetime seconds; else 401 use_dpop_nonce and
 * a fresh one in the DPoP-Nonce header.
 *
 * The nonces are stateless (src/dpop_nonce.c): the time they were issued
 * and a MAC of it under a key that is
 *   - the bytes of OrdsJwtDpopNonceKeyFile, read at startup: every httpd
 *     given the same file accepts the others' nonces (a fleet);
 *   - else 32 random bytes made once by the parent process and kept in
 *     ap_retained_data: every child has it (fork), restarts keep it, a
 *     stop and start makes another (each client then retries once).
 *
 * A DPoP request's proof is judged as soon as the profile of its token
 * is known, before any signature (the pipeline's nonce step, run by
 * mod_ordsjwt_check.c, also for a token from the token cache), and again
 * by the full proof check before the proof's signature (src/dpop.c).
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "dpop_nonce.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define NONCE_RETAINED_KEY  "mod_auth_ordsjwt-nonce"
#define NONCE_HEADER        "DPoP-Nonce"

/* This generation's key: the key file's, or the retained random one
 * (set by post_config, before the children are made). */
static const ojw_nonce_key_t *nonce_key;

/* ------------------------------------------------------------------ */
/* the key                                                             */

const char *ordsjwt_cmd_dpop_nonce_key_file(cmd_parms *cmd, void *dconf,
                                            const char *arg)
{
    ordsjwt_srv_conf_t *sc = ordsjwt_srv_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    ojw_nonce_key_t *k = apr_palloc(cmd->pool, sizeof(*k));

    (void)dconf;
    if (err) {
        return err;
    }
    if (path == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtDpopNonceKeyFile %s: not a "
                            "valid path", arg);
    }
    apr_pool_cleanup_register(cmd->pool, k, ojw_nonce_key_wipe,
                              apr_pool_cleanup_null);
    if ((err = ojw_nonce_key_read(k, path, &sc->nonce_key_shared,
                                  cmd->temp_pool)) != NULL) {
        return apr_pstrcat(cmd->pool, "OrdsJwtDpopNonceKeyFile ", err,
                           " (make one with: openssl rand -out FILE 32)",
                           NULL);
    }
    sc->nonce_key_file = path;
    sc->nonce_key = k;
    return NULL;
}

/* The random key of this parent process, made once. */
static const ojw_nonce_key_t *random_key(server_rec *s)
{
    ojw_nonce_key_t *k = ap_retained_data_get(NONCE_RETAINED_KEY);

    if (k == NULL) {
        k = ap_retained_data_create(NONCE_RETAINED_KEY, sizeof(*k));
    }
    if (k->len == 0 && ojw_nonce_key_random(k) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00193: no random "
                     "bytes for the DPoP nonce key (OpenSSL RAND_bytes "
                     "failed)");
        return NULL;
    }
    return k;
}

static int nonce_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    const ordsjwt_srv_conf_t *sc = ordsjwt_srv_conf(s);

    (void)pconf;
    (void)plog;
    (void)ptemp;
    nonce_key = sc->nonce_key ? sc->nonce_key : random_key(s);
    if (nonce_key == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;      /* the first dry run */
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "ORDSJWT00192: DPoP nonces "
                 "(where required) are made with %s%s", sc->nonce_key_file
                 ? "the key of OrdsJwtDpopNonceKeyFile "
                 : "a random key of this server, kept by restarts",
                 sc->nonce_key_file ? sc->nonce_key_file : "");
    if (sc->nonce_key_file && sc->nonce_key_shared) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00194: "
                     "OrdsJwtDpopNonceKeyFile %s is readable by every user "
                     "of this host, who could make DPoP nonces with it; "
                     "chmod 600 it (httpd reads it as root at startup)",
                     sc->nonce_key_file);
    }
    return OK;
}

/* ------------------------------------------------------------------ */
/* the request                                                         */

/* 1 when a DPoP proof for a token of p needs a nonce in r's section. */
static int required(request_rec *r, const ojw_profile_t *p)
{
    return ojw_profile_nonce_required(p, ordsjwt_dir_conf(r)->dpop_nonce);
}

const ojw_nonce_policy_t *ordsjwt_nonce_policy(request_rec *r,
                                               const ojw_profile_t *p)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;
    ojw_nonce_policy_t *pol;

    if (p == NULL || !required(r, p)) {
        return NULL;
    }
    pol = apr_pcalloc(r->pool, sizeof(*pol));
    pol->key = nonce_key;       /* NULL: no nonce is ever good */
    pol->lifetime = ojw_setting(n, OJW_SET_DPOP_NONCE_LIFETIME);
    pol->skew = ojw_profile_skew(p, ojw_setting(n, OJW_SET_SKEW));
    pol->now = apr_time_sec(apr_time_now());
    return pol;
}

/* Sends a nonce issued now with the answer to r, whatever it is. */
static void send_nonce(request_rec *r, long long now)
{
    const char *nonce = ojw_nonce_make(nonce_key, now, r->pool);

    if (nonce) {
        apr_table_setn(r->err_headers_out, NONCE_HEADER, nonce);
    }
}

int ordsjwt_nonce_refuse(request_rec *r, ordsjwt_req_t *rq,
                         const ojw_error_t *err)
{
    rq->state = ORDSJWT_INVALID;
    rq->reason = err->reason;
    rq->outcome = ojw_reason_name(err->reason);
    ordsjwt_count(rq->profile, err->reason);
    send_nonce(r, apr_time_sec(apr_time_now()));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00190: token refused "
                  "(%s): %s; a fresh nonce is in the DPoP-Nonce header of "
                  "the 401 [profile %s]", ojw_reason_name(err->reason),
                  err->detail, rq->profile->name);
    return HTTP_UNAUTHORIZED;
}

void ordsjwt_nonce_accepted(request_rec *r, const ojw_nonce_policy_t *pol,
                            long age)
{
    if (pol && ojw_nonce_renew(age, pol->lifetime)) {
        send_nonce(r, pol->now);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00191: the "
                      "proof's nonce is %ld s old (lifetime %ld s): a fresh "
                      "one is in the DPoP-Nonce header", age, pol->lifetime);
    }
}

void ordsjwt_nonce_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(nonce_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}
