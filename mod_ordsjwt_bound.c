/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: sender-constrained tokens (issue 13). The glue of
 * DPoP (RFC 9449) and certificate-bound tokens (RFC 8705 3): the DPoP
 * scheme and proof header, the URL the client addressed, the client
 * certificate from mod_ssl, the replay store on one of httpd's socache
 * providers (OrdsJwtReplayCache), the DPoP challenge. The checks are in
 * src/dpop.c.
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
#include "ap_socache.h"
#include "util_mutex.h"
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
#include "http_ssl.h"
#else
#include "mod_ssl.h"
#endif

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "dpop.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define REPLAY_MUTEX_TYPE       "ordsjwt-replay"
#define REPLAY_NAMESPACE        "ordsjwt-replay"
#define REPLAY_RETRY_AFTER      5       /* seconds, store unreachable */
#define REPLAY_LOG_INTERVAL     60      /* seconds between two such logs */

/* This generation's replay store (the module is reloaded, and this set
 * up again, by every restart). */
static struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    const char *name;               /* "shmcb", "redis:host:port", ... */
    apr_time_t last_logged;         /* this child's last unreachable log */
} replay;

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

const char *ordsjwt_cmd_replay_cache(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *colon = strchr(arg, ':');
    const char *name = colon ? apr_pstrmemdup(cmd->pool, arg,
                                              (apr_size_t)(colon - arg)) : arg;

    (void)dconf;
    if (err) {
        return err;
    }
    if (ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                           AP_SOCACHE_PROVIDER_VERSION) == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtReplayCache: no socache "
                            "provider \"%s\" (LoadModule socache_%s_module "
                            "first; shmcb for one server, redis or memcache "
                            "for a fleet)", name, name);
    }
    ordsjwt_srv_conf(cmd->server)->replay_cache = arg;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the replay store                                                    */

static int bound_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    memset(&replay, 0, sizeof(replay));
    return ap_mutex_register(pconf, REPLAY_MUTEX_TYPE, NULL,
                             APR_LOCK_DEFAULT, 0) == APR_SUCCESS
           ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* 1 when a profile of any server accepts DPoP. */
static int dpop_used(server_rec *s, apr_pool_t *p)
{
    apr_hash_index_t *hi;

    for (; s; s = s->next) {
        for (hi = apr_hash_first(p, ordsjwt_srv_conf(s)->profiles); hi;
             hi = apr_hash_next(hi)) {
            if (((ojw_profile_t *)apr_hash_this_val(hi))->dpop != OJW_BIND_OFF) {
                return 1;
            }
        }
    }
    return 0;
}

static apr_status_t replay_destroy(void *data)
{
    server_rec *s = data;

    if (replay.instance) {
        replay.provider->destroy(replay.instance, s);
        replay.instance = NULL;
    }
    return APR_SUCCESS;
}

/* The provider and its instance, from "NAME[:ARGS]". */
static int replay_create(server_rec *s, const char *spec, apr_pool_t *pconf,
                         apr_pool_t *ptemp)
{
    const char *colon = strchr(spec, ':');
    const char *name = colon ? apr_pstrmemdup(ptemp, spec,
                                              (apr_size_t)(colon - spec)) : spec;
    const char *err;

    replay.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                         AP_SOCACHE_PROVIDER_VERSION);
    if (replay.provider == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00077: no socache "
                     "provider \"%s\" for the DPoP replay store", name);
        return 0;
    }
    err = replay.provider->create(&replay.instance, colon ? colon + 1 : NULL,
                                  ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00073: "
                     "OrdsJwtReplayCache %s: %s", spec, err);
        return 0;
    }
    replay.name = apr_pstrdup(pconf, spec);
    return 1;
}

/* apachectl configtest too: a profile that takes DPoP needs a replay
 * store, and shmcb (the default) is a module of its own. */
static int bound_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;

    (void)pconf;
    (void)plog;
    if (spec || !dpop_used(s, ptemp)
        || ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                              AP_SOCACHE_PROVIDER_VERSION)) {
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "ORDSJWT00072: a profile "
                 "accepts DPoP (dpop=allowed or required) and its replay "
                 "store, shmcb by default, is not loaded: LoadModule "
                 "socache_shmcb_module (a2enmod socache_shmcb), or name "
                 "another with OrdsJwtReplayCache");
    return HTTP_INTERNAL_SERVER_ERROR;
}

static int bound_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    struct ap_socache_hints hints = { OJW_DPOP_REPLAY_KEY_LEN, 1, 60 };
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;
    apr_status_t rv;

    (void)plog;
#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
    ssl_lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
#endif
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !dpop_used(s, ptemp)) {
        return OK;
    }
    if (!replay_create(s, spec ? spec : "shmcb", pconf, ptemp)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = ap_global_mutex_create(&replay.mutex, &replay.mutex_file,
                                REPLAY_MUTEX_TYPE, NULL, s, pconf, 0);
    if (rv == APR_SUCCESS) {
        rv = replay.provider->init(replay.instance, REPLAY_NAMESPACE, &hints,
                                   s, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00074: cannot set "
                     "up the DPoP replay store %s", replay.name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, s, replay_destroy, apr_pool_cleanup_null);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "ORDSJWT00075: DPoP replay "
                 "store: %s", replay.name);
    return OK;
}

static void bound_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (replay.mutex == NULL) {
        return;
    }
    rv = apr_global_mutex_child_init(&replay.mutex, replay.mutex_file, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00076: cannot "
                     "attach to the mutex of the DPoP replay store");
    }
}

/* APR_SUCCESS when key was new and is now stored; APR_EEXIST when seen;
 * another status when the store cannot answer. The lock makes the look
 * and the store one step on this host (socache has no add-if-absent). */
static apr_status_t replay_remember(request_rec *r, const ojw_dpop_proof_t *p)
{
    unsigned char seen[8];
    unsigned int seen_len = sizeof(seen);
    apr_status_t rv;

    if (replay.instance == NULL || replay.mutex == NULL) {
        return APR_EINIT;
    }
    if ((rv = apr_global_mutex_lock(replay.mutex)) != APR_SUCCESS) {
        return rv;
    }
    rv = replay.provider->retrieve(replay.instance, r->server, p->replay_key,
                                   sizeof(p->replay_key), seen, &seen_len,
                                   r->pool);
    if (rv == APR_SUCCESS) {
        rv = APR_EEXIST;
    }
    else if (rv == APR_NOTFOUND) {
        rv = replay.provider->store(replay.instance, r->server, p->replay_key,
                                    sizeof(p->replay_key),
                                    apr_time_from_sec(p->expires),
                                    (unsigned char *)"1", 1, r->pool);
    }
    apr_global_mutex_unlock(replay.mutex);
    return rv;
}

/* ------------------------------------------------------------------ */
/* the request                                                         */

/* The URL the client addressed: OrdsJwtDpopBaseUrl, or this server's
 * scheme, name and port, followed by the path as received. */
static const char *request_url(request_rec *r)
{
    const char *base = ordsjwt_srv_conf(r->server)->dpop_base_url;
    const char *uri = r->unparsed_uri ? r->unparsed_uri : "";

    if (*uri != '/') {
        return uri;     /* absolute-form (a proxy request): as sent */
    }
    return base ? apr_pstrcat(r->pool, base, uri, NULL)
                : ap_construct_url(r->pool, uri, r);
}

static int refuse_binding(request_rec *r, ordsjwt_req_t *rq,
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
                              apr_status_t rv)
{
    apr_time_t now = apr_time_now();

    rq->state = ORDSJWT_UNAVAILABLE;
    rq->outcome = ojw_reason_name(OJW_ERR_REPLAY_UNAVAILABLE);
    ordsjwt_count(rq->profile, OJW_ERR_REPLAY_UNAVAILABLE);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_ltoa(r->pool, REPLAY_RETRY_AFTER));
    if (now - replay.last_logged >= apr_time_from_sec(REPLAY_LOG_INTERVAL)) {
        replay.last_logged = now;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "ORDSJWT00071: the DPoP "
                      "replay store %s cannot be reached: DPoP requests are "
                      "answered 503 until it can (logged once a minute per "
                      "process)", replay.name ? replay.name : "(none)");
    }
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The one DPoP header of r, or NULL (none, or several: httpd joins
 * repeated headers with commas, which a compact JWS never holds). */
static const char *proof_header(request_rec *r)
{
    const char *p = apr_table_get(r->headers_in, "DPoP");

    return p && *p && strpbrk(p, ", \t") == NULL ? p : NULL;
}

/* 1 when the request that r serves (a subrequest or an internal
 * redirect) was accepted with this token and its proof already. */
static int proof_checked_before(request_rec *r, const ordsjwt_req_t *rq)
{
    request_rec *first = r;
    const ordsjwt_req_t *frq;

    while (first->main || first->prev) {
        first = first->main ? first->main : first->prev;
    }
    frq = first == r ? NULL : ordsjwt_req(first);
    return frq && frq->dpop_checked && frq->compact && rq->compact
           && strcmp(frq->compact, rq->compact) == 0;
}

static int check_proof(request_rec *r, ordsjwt_req_t *rq, const char *jkt)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;
    const char *proof = proof_header(r);
    ojw_dpop_request_t req;
    ojw_dpop_proof_t out;
    ojw_error_t err;
    apr_status_t rv;

    memset(&err, 0, sizeof(err));
    if (proof_checked_before(r, rq)) {
        return OK;
    }
    if (proof == NULL) {
        ojw_fail(&err, OJW_ERR_DPOP_MISSING, "no DPoP header, or more than "
                 "one");
        return refuse_binding(r, rq, &err);
    }
    req.method = r->method;
    req.url = request_url(r);
    req.access_token = rq->compact;
    req.access_token_len = strlen(rq->compact);
    req.jkt = jkt;
    req.window = ojw_setting(n, OJW_SET_DPOP_WINDOW);
    req.skew = ojw_profile_skew(rq->profile, ojw_setting(n, OJW_SET_SKEW));
    req.now = apr_time_sec(apr_time_now());
    if (ojw_dpop_check(&out, proof, strlen(proof), &req, r->pool, &err)
        != OJW_OK) {
        return refuse_binding(r, rq, &err);
    }
    if ((rv = replay_remember(r, &out)) == APR_EEXIST) {
        ojw_fail(&err, OJW_ERR_DPOP_REPLAY, "the proof's jti was used before "
                 "(a proof is good for one request)");
        return refuse_binding(r, rq, &err);
    }
    if (rv != APR_SUCCESS) {
        return replay_unavailable(r, rq, rv);
    }
    rq->dpop_checked = 1;
    return OK;
}

/* The client certificate's thumbprint, or NULL. */
static const char *client_cert_thumbprint(request_rec *r)
{
    const char *pem;

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
    pem = ap_ssl_var_lookup(r->pool, r->server, r->connection, r,
                            "SSL_CLIENT_CERT");
#else
    pem = ssl_lookup ? ssl_lookup(r->pool, r->server, r->connection, r,
                                  (char *)"SSL_CLIENT_CERT") : NULL;
#endif
    return pem && *pem ? ojw_cert_thumbprint_pem(pem, strlen(pem), r->pool)
                       : NULL;
}

static int check_cert(request_rec *r, ordsjwt_req_t *rq, const char *x5t)
{
    const char *mine = client_cert_thumbprint(r);
    ojw_error_t err;

    if (mine == NULL) {
        ojw_fail(&err, OJW_ERR_CERT_MISSING, "the token is bound to a client "
                 "certificate (cnf x5t#S256) and the connection has none");
        return refuse_binding(r, rq, &err);
    }
    if (strcmp(mine, x5t) != 0) {
        ojw_fail(&err, OJW_ERR_CERT_MISMATCH, "the token is bound to another "
                 "client certificate (cnf x5t#S256 %.64s, the connection's "
                 "%s)", x5t, mine);
        return refuse_binding(r, rq, &err);
    }
    return OK;
}

/* What the profile and the scheme demand of a token bound so (cnf). */
static int policy_refuses(request_rec *r, ordsjwt_req_t *rq,
                          const ojw_cnf_t *cnf)
{
    ojw_sent_t sent = rq->dpop ? OJW_SENT_DPOP
                      : rq->basic_user ? OJW_SENT_BASIC : OJW_SENT_BEARER;
    ojw_error_t err;

    if (ojw_binding_policy(cnf, rq->profile->dpop, rq->profile->mtls, sent,
                           &err) != OJW_OK) {
        return refuse_binding(r, rq, &err);
    }
    return OK;
}

int ordsjwt_bound_check(request_rec *r, ordsjwt_req_t *rq,
                        const json_t *claims)
{
    ojw_cnf_t cnf;
    ojw_error_t err;
    int rc;

    memset(&err, 0, sizeof(err));
    if (ojw_cnf_read(&cnf, claims, &err) != OJW_OK) {
        return refuse_binding(r, rq, &err);
    }
    if ((rc = policy_refuses(r, rq, &cnf)) != OK) {
        return rc;
    }
    if (cnf.x5t_s256 && (rc = check_cert(r, rq, cnf.x5t_s256)) != OK) {
        return rc;
    }
    return rq->dpop ? check_proof(r, rq, cnf.jkt) : OK;
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
    int proof_error = rq && (rq->reason == OJW_ERR_DPOP_MISSING
                             || rq->reason == OJW_ERR_DPOP_PROOF
                             || rq->reason == OJW_ERR_DPOP_REPLAY);

    if (!section_takes_dpop(of) && !(rq && rq->dpop)) {
        return;
    }
    if (ordsjwt_dpop_error(of, rq)) {
        c = apr_psprintf(r->pool, "%s, error=\"%s\", error_description=\"%s\"",
                         c, proof_error ? "invalid_dpop_proof"
                                        : "invalid_token",
                         ojw_reason_description(rq->reason));
    }
    apr_table_addn(r->err_headers_out, header, c);
}

void ordsjwt_bound_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(bound_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(bound_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(bound_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(bound_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
