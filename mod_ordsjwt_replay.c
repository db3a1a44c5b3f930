/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the DPoP replay store (OrdsJwtReplayCache) on one of
 * httpd's socache providers, and the time a request waits for it
 * (OrdsJwtReplayTimeout), the lock, the store's I/O and one retry
 * together.
 *
 * A proof's key is looked up and stored under a lock striped by the key
 * (socache has no add-if-absent): two requests with the same proof on
 * this host go one after the other, other proofs do not wait for them.
 * A store in this host's memory or files (shmcb, dbm: not safe for
 * concurrent use) is called directly, under one lock. A network store
 * (redis, memcache) is called on a lane (src/lanes.c), a thread with a
 * socache instance of its own: neither provider bounds its reads on
 * httpd 2.4 with apr-util 1.6 (mod_socache_redis hands RedisTimeout to
 * apr_redis in microseconds, which reads it as seconds; apr_memcache
 * reads without a timeout), so the request waits for the lane until its
 * deadline and only the lane stays behind with a store that hangs. A
 * lane whose connection broke (the store restarted) makes a fresh
 * instance and tries once more. The processes of the host share the
 * store's health (src/breaker.c): while it is down, one request a second
 * tries it and the others are answered 503 at once.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "ap_mpm.h"
#include "ap_socache.h"
#include "util_mutex.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "breaker.h"
#include "dpop.h"
#include "lanes.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define REPLAY_MUTEX_TYPE       "ordsjwt-replay"
#define REPLAY_NAMESPACE        "ordsjwt-replay"
#define REPLAY_STRIPES          16      /* locks of a network store */
#define REPLAY_RETRY_AFTER      5       /* seconds, store unreachable */
#define REPLAY_LOG_INTERVAL     60      /* seconds between two such logs */
#define REPLAY_PROBE_EVERY      apr_time_from_sec(1)
#define REPLAY_MARK_LEN         8       /* the value stored under a key */

/* This generation's replay store (the module is reloaded, and this set
 * up again, by every restart). */
static struct {
    const ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;    /* post_config's (a local store) */
    const char *name;                   /* "shmcb", "redis:host:port", ... */
    const char *args;                   /* after "NAME:", or NULL */
    server_rec *server;                 /* the main server */
    int network;                        /* safe for concurrent use: lanes */
    int stripes;
    apr_global_mutex_t *lock[REPLAY_STRIPES];
    const char *lock_file[REPLAY_STRIPES];
    apr_shm_t *shm;
    ojw_breaker_t *health;              /* in shm, for every process */
    ojw_lanes_t *lanes;                 /* this child's */
    apr_interval_time_t timeout;        /* OrdsJwtReplayTimeout */
    apr_time_t last_logged;             /* this child's last 503 log */
} replay;

/* What a lane is given: the key, its expiry, this request's mark. */
typedef struct {
    unsigned char key[OJW_DPOP_REPLAY_KEY_LEN];
    unsigned char mark[REPLAY_MARK_LEN];
    apr_time_t expiry;
} replay_job_t;

/* ------------------------------------------------------------------ */
/* the directive                                                       */

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
/* one look-up and store                                               */

/* Looks the key up and stores it with this request's mark when absent:
 * APR_SUCCESS (new, stored), APR_EEXIST (seen), else the store's error
 * (*broken: a connection may be gone). A key that holds this request's
 * own mark was stored by a first try whose answer was lost: it is new. */
static apr_status_t remember(ap_socache_instance_t *inst,
                             const replay_job_t *job, ojw_lane_t *lane,
                             int *broken, apr_pool_t *p)
{
    unsigned char seen[REPLAY_MARK_LEN];
    unsigned int seen_len = sizeof(seen);
    apr_status_t rv;

    rv = replay.provider->retrieve(inst, replay.server, job->key,
                                   sizeof(job->key), seen, &seen_len, p);
    if (rv == APR_SUCCESS) {
        return seen_len == sizeof(seen)
               && memcmp(seen, job->mark, sizeof(seen)) == 0
               ? APR_SUCCESS : APR_EEXIST;
    }
    if (rv != APR_NOTFOUND) {
        *broken = 1;
        return rv;
    }
    if (lane && !ojw_lane_wanted(lane)) {
        return APR_TIMEUP;      /* the request was answered 503 */
    }
    rv = replay.provider->store(inst, replay.server, job->key,
                                sizeof(job->key), job->expiry,
                                (unsigned char *)job->mark, sizeof(job->mark),
                                p);
    *broken = rv != APR_SUCCESS;
    return rv;
}

/* ------------------------------------------------------------------ */
/* a network store: the lanes' socache instances                       */

static apr_status_t lane_make(void **ctx, void *baton, apr_pool_t *pool)
{
    struct ap_socache_hints hints = { OJW_DPOP_REPLAY_KEY_LEN,
                                      REPLAY_MARK_LEN, 60 };
    ap_socache_instance_t *inst = NULL;

    (void)baton;
    if (replay.provider->create(&inst, replay.args, pool, pool) != NULL) {
        return APR_EGENERAL;    /* it held at startup: cannot happen */
    }
    *ctx = inst;
    return replay.provider->init(inst, REPLAY_NAMESPACE, &hints,
                                 replay.server, pool);
}

static void lane_drop(void *ctx, void *baton)
{
    (void)baton;
    replay.provider->destroy(ctx, replay.server);
}

static apr_status_t lane_call(void *ctx, void *baton, const void *job,
                              apr_size_t len, ojw_lane_t *lane, int *broken,
                              apr_pool_t *scratch)
{
    (void)baton;
    (void)len;
    return remember(ctx, job, lane, broken, scratch);
}

/* This child's lanes: one per request thread, two more for calls that
 * hang. */
static apr_status_t lanes_create(apr_pool_t *pchild)
{
    ojw_lanes_conf_t conf = { lane_make, lane_drop, lane_call, NULL, 0 };
    int threads = 1;

    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    conf.max = (threads > 1 ? threads : 1) + 2;
    return ojw_lanes_create(&replay.lanes, &conf, pchild);
}

/* ------------------------------------------------------------------ */
/* the request                                                         */

static const char *why_not(apr_status_t rv)
{
    switch (rv) {
    case APR_TIMEUP:
        return "no answer within OrdsJwtReplayTimeout";
    case APR_EAGAIN:
        return "every lane of this process still waits for it";
    case APR_EINIT:
        return "it is not set up";
    default:
        return "it answered with an error";
    }
}

/* The 503's log line, once a minute per process. */
static void log_unavailable(request_rec *r, apr_status_t rv, int down)
{
    apr_time_t now = apr_time_now();

    if (now - replay.last_logged < apr_time_from_sec(REPLAY_LOG_INTERVAL)) {
        return;
    }
    replay.last_logged = now;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, down ? 0 : rv, r, "ORDSJWT00071: "
                  "the DPoP replay store %s cannot be used (%s): DPoP "
                  "requests are answered 503 until it answers within %"
                  APR_TIME_T_FMT " ms (logged once a minute per process)",
                  replay.name ? replay.name : "(none)",
                  down ? "it did not answer at the last try; one request a "
                         "second tries it again" : why_not(rv),
                  apr_time_as_msec(replay.timeout));
}

/* The look-up and store of one key, under its stripe's lock. */
static apr_status_t locked_remember(request_rec *r, const replay_job_t *job,
                                    apr_time_t deadline)
{
    apr_global_mutex_t *lock = replay.lock[job->key[0] % replay.stripes];
    apr_interval_time_t left = deadline - apr_time_now();
    apr_status_t rv;
    int broken = 0;

    if (left <= 0) {
        return APR_TIMEUP;
    }
    if ((rv = apr_global_mutex_timedlock(lock, left)) != APR_SUCCESS) {
        return APR_STATUS_IS_TIMEUP(rv) || APR_STATUS_IS_EBUSY(rv)
               ? APR_TIMEUP : rv;
    }
    rv = replay.network
         ? ojw_lanes_run(replay.lanes, job, sizeof(*job), deadline)
         : remember(replay.instance, job, NULL, &broken, r->pool);
    apr_global_mutex_unlock(lock);
    return rv;
}

apr_status_t ordsjwt_replay_remember(request_rec *r, const unsigned char *key,
                                     long long expires, int *retry_after)
{
    apr_time_t start = apr_time_now();
    replay_job_t job;
    apr_status_t rv;
    int change;

    *retry_after = REPLAY_RETRY_AFTER;
    if (replay.health == NULL || (replay.network && replay.lanes == NULL)) {
        log_unavailable(r, APR_EINIT, 0);
        return APR_EINIT;
    }
    if (ojw_breaker_admit(replay.health, start, REPLAY_PROBE_EVERY)
        == OJW_STORE_REFUSE) {
        log_unavailable(r, APR_EAGAIN, 1);
        return APR_EAGAIN;
    }
    memcpy(job.key, key, sizeof(job.key));
    job.expiry = apr_time_from_sec(expires);
    apr_generate_random_bytes(job.mark, sizeof(job.mark));
    rv = locked_remember(r, &job, start + replay.timeout);
    change = ojw_breaker_report(replay.health, rv == APR_SUCCESS
                                || rv == APR_EEXIST, apr_time_now(),
                                REPLAY_PROBE_EVERY);
    if (change < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00082: the DPoP "
                      "replay store %s answers again", replay.name);
    }
    if (rv != APR_SUCCESS && rv != APR_EEXIST) {
        log_unavailable(r, rv, 0);
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* setting it up                                                       */

static int replay_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
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
            const ojw_profile_t *prof = apr_hash_this_val(hi);

            if (prof->dpop != OJW_BIND_OFF) {
                return 1;
            }
        }
    }
    return 0;
}

/* apachectl configtest too: a profile that takes DPoP needs a replay
 * store, and shmcb (the default) is a module of its own. */
static int replay_check_config(apr_pool_t *pconf, apr_pool_t *plog,
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
    const char *name = colon ? apr_pstrmemdup(ptemp, spec, (apr_size_t)
                                              (colon - spec)) : spec;
    const char *err;

    replay.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                         AP_SOCACHE_PROVIDER_VERSION);
    if (replay.provider == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00077: no socache "
                     "provider \"%s\" for the DPoP replay store", name);
        return 0;
    }
    replay.args = colon ? apr_pstrdup(pconf, colon + 1) : NULL;
    err = replay.provider->create(&replay.instance, replay.args, ptemp, pconf);
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00073: "
                     "OrdsJwtReplayCache %s: %s", spec, err);
        return 0;
    }
    replay.name = apr_pstrdup(pconf, spec);
    replay.server = s;
    replay.network = !(replay.provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE);
    replay.stripes = replay.network ? REPLAY_STRIPES : 1;
    return 1;
}

/* The stripes' locks and the shared health. */
static apr_status_t replay_locks(server_rec *s, apr_pool_t *pconf)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < replay.stripes && rv == APR_SUCCESS; i++) {
        rv = ap_global_mutex_create(&replay.lock[i], &replay.lock_file[i],
                                    REPLAY_MUTEX_TYPE,
                                    apr_itoa(pconf, i), s, pconf, 0);
        if (rv == APR_SUCCESS && replay.lock[i] == NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00083: "
                         "Mutex none " REPLAY_MUTEX_TYPE ": the DPoP replay "
                         "store needs its lock (one request per proof)");
            rv = APR_EINVAL;
        }
    }
    if (rv == APR_SUCCESS) {
        rv = apr_shm_create(&replay.shm, sizeof(ojw_breaker_t), NULL, pconf);
    }
    if (rv == APR_SUCCESS) {
        replay.health = apr_shm_baseaddr_get(replay.shm);
        ojw_breaker_init(replay.health);
    }
    return rv;
}

static int replay_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    struct ap_socache_hints hints = { OJW_DPOP_REPLAY_KEY_LEN,
                                      REPLAY_MARK_LEN, 60 };
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;
    apr_status_t rv;

    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !dpop_used(s, ptemp)) {
        return OK;
    }
    if (!replay_create(s, spec ? spec : "shmcb", pconf, ptemp)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    replay.timeout = apr_time_from_msec(ojw_setting(
        &ordsjwt_srv_conf(s)->num, OJW_SET_REPLAY_TIMEOUT));
    rv = replay_locks(s, pconf);
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
                 "store: %s (%s, %d lock%s, %" APR_TIME_T_FMT " ms)",
                 replay.name, replay.network ? "network: one lane per "
                 "request thread" : "this host", replay.stripes,
                 replay.stripes > 1 ? "s" : "",
                 apr_time_as_msec(replay.timeout));
    return OK;
}

static void replay_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (replay.health == NULL) {
        return;
    }
    for (i = 0; i < replay.stripes && rv == APR_SUCCESS; i++) {
        rv = apr_global_mutex_child_init(&replay.lock[i], replay.lock_file[i],
                                         pchild);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00076: cannot "
                     "attach to the mutex of the DPoP replay store");
        replay.health = NULL;   /* DPoP requests: 503 */
        return;
    }
    if (replay.network && (rv = lanes_create(pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00084: cannot "
                     "set up this process's lanes to the DPoP replay store");
    }
}

void ordsjwt_replay_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(replay_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(replay_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(replay_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(replay_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
