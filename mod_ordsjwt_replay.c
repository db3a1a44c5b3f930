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
 *
 * shmcb makes room for a new entry by dropping the oldest entries of the
 * subcache the entry's first byte chooses, live or not, and says
 * nothing: a proof whose entry went early could be used again. So the
 * module keeps a mirror of what each subcache holds (src/replay_room.c,
 * in shared memory, under the store's lock) and answers 503 instead of
 * storing a proof that would make shmcb drop a live one. The layout
 * comes from src/shmcb.c, checked at startup against a scratch shmcb of
 * the same size; the key shmcb gets is keyed with a secret of this
 * generation, so that a client cannot aim its proofs at one subcache.
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
#include <openssl/sha.h>

#include "mod_ordsjwt.h"
#include "breaker.h"
#include "dpop.h"
#include "lanes.h"
#include "replay_room.h"
#include "shmcb.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define REPLAY_MUTEX_TYPE       "ordsjwt-replay"
#define REPLAY_NAMESPACE        "ordsjwt-replay"
#define REPLAY_STRIPES          16      /* locks of a network store */
#define REPLAY_RETRY_AFTER      5       /* seconds, store unreachable */
#define REPLAY_LOG_INTERVAL     60      /* seconds between two such logs */
#define REPLAY_PROBE_EVERY      apr_time_from_sec(1)
#define REPLAY_MARK_LEN         8       /* the value stored under a key */
#define REPLAY_ENTRY_LEN        (OJW_DPOP_REPLAY_KEY_LEN + REPLAY_MARK_LEN)
#define REPLAY_SMALL_RATE       10      /* proofs a second: warn below */
#define REPLAY_GOOD_RATE        100     /* proofs a second: the advice */
#define REPLAY_PROBE_NAMESPACE  "ordsjwt-replay-probe"

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
    ojw_shmcb_t layout;                 /* shmcb: what its size holds */
    apr_shm_t *room_shm;
    ojw_room_t *room;                   /* shmcb: its subcaches mirrored */
    int untrusted;                      /* shmcb not as modelled: 503 */
    unsigned char secret[SHA256_DIGEST_LENGTH]; /* shmcb: keys the key */
} replay;

/* What a lane is given: the key, its expiry, this request's mark. */
typedef struct {
    unsigned char key[OJW_DPOP_REPLAY_KEY_LEN];
    unsigned char mark[REPLAY_MARK_LEN];
    apr_time_t expiry;
} replay_job_t;

/* ------------------------------------------------------------------ */
/* the directive                                                       */

/* The provider's name in spec "NAME[:ARGS]", and *args (NULL: none). */
static const char *split_spec(const char *spec, const char **args,
                              apr_pool_t *p)
{
    const char *colon = strchr(spec, ':');

    *args = colon ? colon + 1 : NULL;
    return colon ? apr_pstrmemdup(p, spec, (apr_size_t)(colon - spec))
                 : spec;
}

const char *ordsjwt_cmd_replay_cache(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *args, *name = split_spec(arg, &args, cmd->pool);

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

/* The hints for a replay key and a mark: shmcb holds the most. */
static void replay_hints(struct ap_socache_hints *hints)
{
    ojw_shmcb_hints(&hints->avg_id_len, &hints->avg_obj_size,
                    OJW_DPOP_REPLAY_KEY_LEN, REPLAY_MARK_LEN);
    hints->expiry_interval = 60;
}

/* ------------------------------------------------------------------ */
/* one look-up and store                                               */

/* Looks the key up and stores it with this request's mark when absent:
 * APR_SUCCESS (new, stored), APR_EEXIST (seen), APR_ENOSPC (shmcb would
 * drop a live entry for it: *free_at is when it has room), else the
 * store's error (*broken: a connection may be gone). A key that holds
 * this request's own mark was stored by a first try whose answer was
 * lost: it is new. */
static apr_status_t remember(ap_socache_instance_t *inst,
                             const replay_job_t *job, ojw_lane_t *lane,
                             int *broken, apr_time_t *free_at, apr_pool_t *p)
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
    if (replay.room && !ojw_room_take(replay.room, job->key[0], job->expiry,
                                      apr_time_now(), free_at)) {
        return APR_ENOSPC;
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
    struct ap_socache_hints hints;
    ap_socache_instance_t *inst = NULL;

    (void)baton;
    replay_hints(&hints);
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
    apr_time_t unused;

    (void)baton;
    (void)len;
    return remember(ctx, job, lane, broken, &unused, scratch);
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
    case APR_ENOTIMPL:
        return "shmcb lays its memory out otherwise than this module "
               "knows (ORDSJWT00089 at startup)";
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
    ap_log_rerror(APLOG_MARK, APLOG_ERR, down || rv == APR_ENOTIMPL ? 0 : rv,
                  r, "ORDSJWT00071: "
                  "the DPoP replay store %s cannot be used (%s): DPoP "
                  "requests are answered 503 until it answers within %"
                  APR_TIME_T_FMT " ms (logged once a minute per process)",
                  replay.name ? replay.name : "(none)",
                  down ? "it did not answer at the last try; one request a "
                         "second tries it again" : why_not(rv),
                  apr_time_as_msec(replay.timeout));
}

/* The look-up and store of one key, under its stripe's lock. A proof
 * that finds its shmcb subcache full: *free_at, and *log_full once a
 * minute for the host. */
static apr_status_t locked_remember(request_rec *r, const replay_job_t *job,
                                    apr_time_t deadline, apr_time_t *free_at,
                                    int *log_full)
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
    if (replay.network) {
        rv = ojw_lanes_run(replay.lanes, job, sizeof(*job), deadline);
    }
    else if ((rv = remember(replay.instance, job, NULL, &broken, free_at,
                            r->pool)) == APR_ENOSPC && replay.room) {
        *log_full = ojw_room_log_due(replay.room, apr_time_now(),
                                     apr_time_from_sec(REPLAY_LOG_INTERVAL));
    }
    apr_global_mutex_unlock(lock);
    return rv;
}

/* A proof that would make shmcb drop a live one: 503 until the oldest
 * entry of its subcache expires (Retry-After), logged (log) with the
 * directive to raise. */
static void room_full(request_rec *r, apr_time_t free_at, int log,
                      int *retry_after)
{
    apr_interval_time_t wait = free_at - apr_time_now();

    *retry_after = wait <= 0 ? 1 : (int)((wait + APR_USEC_PER_SEC - 1)
                                         / APR_USEC_PER_SEC);
    if (!log) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00086: the DPoP "
                  "replay store %s is full: a subcache holds %u proofs "
                  "still in their window, and shmcb would drop one to store "
                  "another; DPoP requests whose proof falls into a full "
                  "subcache are answered 503 with Retry-After (this one: %d "
                  "s) until older proofs expire. It holds about %lu proofs "
                  "at once: raise the size in OrdsJwtReplayCache "
                  "shmcb:PATH(BYTES) (logged once a minute)", replay.name,
                  replay.layout.capacity, *retry_after,
                  ojw_shmcb_expected(&replay.layout));
}

/* shmcb's key: the proof's, keyed with this generation's secret, so
 * that a client cannot choose its first byte (the subcache). */
static void shmcb_key(unsigned char *out, const unsigned char *key)
{
    unsigned char in[sizeof(replay.secret) + OJW_DPOP_REPLAY_KEY_LEN];

    memcpy(in, replay.secret, sizeof(replay.secret));
    memcpy(in + sizeof(replay.secret), key, OJW_DPOP_REPLAY_KEY_LEN);
    SHA256(in, sizeof(in), out);
}

apr_status_t ordsjwt_replay_remember(request_rec *r, const unsigned char *key,
                                     long long expires, int *retry_after)
{
    apr_time_t start = apr_time_now(), free_at = 0;
    replay_job_t job;
    apr_status_t rv;
    int change, log_full = 0;

    *retry_after = REPLAY_RETRY_AFTER;
    if (replay.health == NULL || replay.untrusted
        || (replay.network && replay.lanes == NULL)) {
        log_unavailable(r, replay.untrusted ? APR_ENOTIMPL : APR_EINIT, 0);
        return APR_EINIT;
    }
    if (ojw_breaker_admit(replay.health, start, REPLAY_PROBE_EVERY)
        == OJW_STORE_REFUSE) {
        log_unavailable(r, APR_EAGAIN, 1);
        return APR_EAGAIN;
    }
    if (replay.room) {
        shmcb_key(job.key, key);
    }
    else {
        memcpy(job.key, key, sizeof(job.key));
    }
    job.expiry = apr_time_from_sec(expires);
    apr_generate_random_bytes(job.mark, sizeof(job.mark));
    rv = locked_remember(r, &job, start + replay.timeout, &free_at,
                         &log_full);
    change = ojw_breaker_report(replay.health, rv == APR_SUCCESS
                                || rv == APR_EEXIST || free_at != 0,
                                apr_time_now(), REPLAY_PROBE_EVERY);
    if (change < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00082: the DPoP "
                      "replay store %s answers again", replay.name);
    }
    if (free_at != 0) {
        room_full(r, free_at, log_full, retry_after);
    }
    else if (rv != APR_SUCCESS && rv != APR_EEXIST) {
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

/* The longest a proof's entry is kept, in seconds (the window, twice
 * the skew, 1: dpop.h), over every server and profile that accepts
 * DPoP; 0 when none does. */
static long dpop_lifetime(server_rec *s, apr_pool_t *p)
{
    apr_hash_index_t *hi;
    long most = 0, skew, life;

    for (; s; s = s->next) {
        const ojw_settings_t *n = &ordsjwt_srv_conf(s)->num;

        for (hi = apr_hash_first(p, ordsjwt_srv_conf(s)->profiles); hi;
             hi = apr_hash_next(hi)) {
            const ojw_profile_t *prof = apr_hash_this_val(hi);

            if (prof->dpop == OJW_BIND_OFF) {
                continue;
            }
            skew = ojw_profile_skew(prof, ojw_setting(n, OJW_SET_SKEW));
            life = ojw_setting(n, OJW_SET_DPOP_WINDOW)
                   + 2 * (skew > 0 ? skew : 0) + 1;
            most = life > most ? life : most;
        }
    }
    return most;
}

/* 1 when the store of spec is shmcb (under any name), with *l what its
 * size holds with replay_hints() (l->capacity 0: not known). */
static int shmcb_layout(ojw_shmcb_t *l, const char *spec, apr_pool_t *p)
{
    struct ap_socache_hints h;
    const char *args, *name = split_spec(spec, &args, p);
    const void *shmcb = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP,
                                           "shmcb",
                                           AP_SOCACHE_PROVIDER_VERSION);
    apr_size_t size;

    memset(l, 0, sizeof(*l));
    if (shmcb == NULL || ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                            AP_SOCACHE_PROVIDER_VERSION)
                         != shmcb) {
        return 0;
    }
    replay_hints(&h);
    if (ojw_shmcb_size(&size, args)) {
        ojw_shmcb_layout(l, size, h.avg_id_len, h.avg_obj_size,
                         REPLAY_ENTRY_LEN);
    }
    return 1;
}

/* What a shmcb store holds (info, at configtest and startup), and a
 * warning with a size to set when that is few new proofs a second. */
static void tell_room(server_rec *s, const ojw_shmcb_t *l, long lifetime,
                      apr_pool_t *p)
{
    unsigned long about = ojw_shmcb_expected(l);
    double rate = (double)about / (double)lifetime;
    apr_size_t want;

    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "ORDSJWT00087: the DPoP "
                 "replay store shmcb (%" APR_SIZE_T_FMT " bytes) holds %u "
                 "subcaches of %u proofs, %lu in all, about %lu before a "
                 "first subcache is full; a proof is kept up to %ld s "
                 "(OrdsJwtDpopProofWindow, twice the skew, 1 s): about %.1f "
                 "new DPoP proofs a second, beyond which DPoP requests get "
                 "503 rather than a store that forgets a live proof",
                 l->size, l->subcaches, l->capacity, ojw_shmcb_total(l),
                 about, lifetime, rate);
    if (rate >= REPLAY_SMALL_RATE) {
        return;
    }
    want = ojw_shmcb_size_for((unsigned long)REPLAY_GOOD_RATE * lifetime,
                              OJW_DPOP_REPLAY_KEY_LEN, REPLAY_MARK_LEN);
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00088: the DPoP "
                 "replay store shmcb (%" APR_SIZE_T_FMT " bytes) holds about "
                 "%.1f new proofs a second over the %ld s a proof is kept: "
                 "DPoP requests beyond that get 503; raise the size in "
                 "OrdsJwtReplayCache shmcb:PATH(BYTES)%s", l->size, rate,
                 lifetime, want ? apr_psprintf(p, " (%" APR_SIZE_T_FMT
                                               " bytes hold about %d a "
                                               "second)", want,
                                               REPLAY_GOOD_RATE)
                                : " or use redis");
}

/* apachectl configtest too: a profile that takes DPoP needs a replay
 * store, shmcb (the default) is a module of its own, and the store's
 * arguments must be ones it takes. */
static int replay_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;
    const ap_socache_provider_t *prov;
    ap_socache_instance_t *inst = NULL;
    const char *args, *err;

    (void)pconf;
    (void)plog;
    if (!dpop_lifetime(s, ptemp)) {
        return OK;
    }
    prov = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP,
                              split_spec(spec ? spec : "shmcb", &args, ptemp),
                              AP_SOCACHE_PROVIDER_VERSION);
    if (prov == NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "ORDSJWT00072: a profile "
                     "accepts DPoP (dpop=allowed or required) and its replay "
                     "store, shmcb by default, is not loaded: LoadModule "
                     "socache_shmcb_module (a2enmod socache_shmcb), or name "
                     "another with OrdsJwtReplayCache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((err = prov->create(&inst, args, ptemp, ptemp)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "ORDSJWT00090: "
                     "OrdsJwtReplayCache %s: %s", spec, err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* configtest: what the replay store holds. */
static void replay_test_config(apr_pool_t *pconf, server_rec *s)
{
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;
    long lifetime = dpop_lifetime(s, pconf);
    ojw_shmcb_t l;

    if (lifetime && shmcb_layout(&l, spec ? spec : "shmcb", pconf)
        && l.capacity > 0) {
        tell_room(s, &l, lifetime, pconf);
    }
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
    const char *args, *name = split_spec(spec, &args, ptemp);
    const char *err;

    replay.provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                         AP_SOCACHE_PROVIDER_VERSION);
    if (replay.provider == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00077: no socache "
                     "provider \"%s\" for the DPoP replay store", name);
        return 0;
    }
    replay.args = args ? apr_pstrdup(pconf, args) : NULL;
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

/* The probe's n-th id in the subcache that first chooses. */
static void probe_id(unsigned char *id, unsigned char first, unsigned int n)
{
    memset(id, 0xa5, OJW_DPOP_REPLAY_KEY_LEN);
    id[0] = first;
    id[1] = (unsigned char)(n >> 24);
    id[2] = (unsigned char)(n >> 16);
    id[3] = (unsigned char)(n >> 8);
    id[4] = (unsigned char)n;
}

static int probe_put(ap_socache_instance_t *inst, unsigned char first,
                     unsigned int n, server_rec *s, apr_pool_t *p)
{
    unsigned char id[OJW_DPOP_REPLAY_KEY_LEN], mark[REPLAY_MARK_LEN];

    probe_id(id, first, n);
    memset(mark, 0, sizeof(mark));
    return replay.provider->store(inst, s, id, sizeof(id), apr_time_now()
                                  + apr_time_from_sec(3600), mark,
                                  sizeof(mark), p) == APR_SUCCESS;
}

static int probe_has(ap_socache_instance_t *inst, unsigned char first,
                     unsigned int n, server_rec *s, apr_pool_t *p)
{
    unsigned char id[OJW_DPOP_REPLAY_KEY_LEN], mark[REPLAY_MARK_LEN];
    unsigned int len = sizeof(mark);

    probe_id(id, first, n);
    return replay.provider->retrieve(inst, s, id, sizeof(id), mark, &len, p)
           == APR_SUCCESS;
}

/* 1 when a subcache of inst keeps l->capacity entries, drops its oldest
 * for one more, and is chosen by id[0] & (l->subcaches - 1). */
static int probe_fill(ap_socache_instance_t *inst, const ojw_shmcb_t *l,
                      server_rec *s, apr_pool_t *p)
{
    unsigned char same = (unsigned char)(l->subcaches % 256);
    unsigned int i;
    int ok = 1;

    for (i = 0; ok && i < l->capacity; i++) {
        ok = probe_put(inst, 0, i, s, p);
    }
    for (i = 0; ok && i < l->capacity; i++) {
        ok = probe_has(inst, 0, i, s, p);
    }
    ok = ok && probe_put(inst, same, l->capacity, s, p)
         && !probe_has(inst, 0, 0, s, p) && probe_has(inst, 0, 1, s, p)
         && probe_has(inst, same, l->capacity, s, p);
    return ok && (l->subcaches == 1
                  || (probe_put(inst, (unsigned char)(l->subcaches / 2), 0,
                                s, p)
                      && probe_has(inst, 0, 1, s, p)));
}

/* 1 when shmcb lays a scratch segment of l's size out as l says. */
static int probe_layout(const ojw_shmcb_t *l, server_rec *s, apr_pool_t *p)
{
    struct ap_socache_hints hints;
    ap_socache_instance_t *inst = NULL;
    const char *args = apr_psprintf(p, "%s(%" APR_SIZE_T_FMT ")",
                                    ap_runtime_dir_relative(p,
                                        REPLAY_PROBE_NAMESPACE), l->size);
    int ok;

    replay_hints(&hints);
    if (replay.provider->create(&inst, args, p, p) != NULL) {
        return 0;
    }
    ok = replay.provider->init(inst, REPLAY_PROBE_NAMESPACE, &hints, s, p)
         == APR_SUCCESS && probe_fill(inst, l, s, p);
    replay.provider->destroy(inst, s);
    return ok;
}

/* For shmcb: the mirror of its subcaches in shared memory, once the
 * model of its layout held against a scratch shmcb (else DPoP requests
 * are answered 503), and this generation's secret. 0: no memory. */
static int room_setup(server_rec *s, long lifetime, apr_pool_t *pconf,
                      apr_pool_t *ptemp)
{
    ojw_shmcb_t *l = &replay.layout;
    apr_status_t rv;

    if (!shmcb_layout(l, replay.name, ptemp)) {
        return 1;
    }
    if (l->capacity == 0 || !probe_layout(l, s, ptemp)) {
        replay.untrusted = 1;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, "ORDSJWT00089: shmcb does "
                     "not lay out %s as this module expects (%u subcaches "
                     "of %u proofs): the module cannot tell when shmcb "
                     "would drop a live proof, so DPoP requests are "
                     "answered 503; use OrdsJwtReplayCache redis:HOST:PORT "
                     "and report this httpd's version", replay.name,
                     l->subcaches, l->capacity);
        return 1;
    }
    rv = apr_shm_create(&replay.room_shm, ojw_room_size(l->subcaches,
                                                        l->capacity),
                        NULL, pconf);
    if (rv == APR_SUCCESS) {
        replay.room = ojw_room_init(apr_shm_baseaddr_get(replay.room_shm),
                                    l->subcaches, l->capacity);
        rv = apr_generate_random_bytes(replay.secret, sizeof(replay.secret));
    }
    if (rv != APR_SUCCESS || replay.room == NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00091: cannot "
                     "set up the room of the DPoP replay store %s",
                     replay.name);
        return 0;
    }
    tell_room(s, l, lifetime, ptemp);
    return 1;
}

static int replay_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    struct ap_socache_hints hints;
    const char *spec = ordsjwt_srv_conf(s)->replay_cache;
    long lifetime = dpop_lifetime(s, ptemp);
    apr_status_t rv;

    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || lifetime == 0) {
        return OK;
    }
    replay_hints(&hints);
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
    if (!room_setup(s, lifetime, pconf, ptemp)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
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
    ap_hook_test_config(replay_test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(replay_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(replay_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}
