/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the process-wide state. The global mutex and the JWKS
 * segment live in ap_retained_data so that keys survive graceful restarts;
 * each generation binds its JWK URLs to slots and gets fresh refusal
 * counters; each child attaches to the mutex and keeps its own parsed keys
 * (src/keys.c), whose fetches and failures are logged here.
 */
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "util_mutex.h"

#include <apr_atomic.h>
#include <apr_strings.h>

#include "mod_ordsjwt.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define RETAINED_KEY "mod_auth_ordsjwt-shared"

ordsjwt_state_t *ordsjwt_state;

int ordsjwt_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    return ap_mutex_register(pconf, ORDSJWT_MUTEX_TYPE, NULL,
                             APR_LOCK_DEFAULT, 0) == APR_SUCCESS
           ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* The key of a profile's slot: its jwk_url, or for a discovery profile
 * its discovery URL and issuer (two profiles that name one discovery URL
 * with different issuers get a slot each: at most one of them matches). */
static const char *slot_key(const ojw_profile_t *prof, apr_pool_t *p)
{
    if (prof->discovery_url) {
        return apr_pstrcat(p, prof->discovery_url, " ", prof->issuer, NULL);
    }
    return prof->jwk_url;
}

/* A new slot for prof's keys. */
static int *new_slot(ordsjwt_state_t *st, const ojw_profile_t *prof,
                     apr_pool_t *p)
{
    int *idx = apr_palloc(p, sizeof(*idx));

    *idx = st->nslots++;
    APR_ARRAY_PUSH(st->slot_url_arr, const char *)
        = prof->discovery_url ? prof->discovery_url : prof->jwk_url;
    APR_ARRAY_PUSH(st->slot_issuer_arr, const char *)
        = prof->discovery_url ? prof->issuer : NULL;
    return idx;
}

/* Numbers every profile of every server (its counters' row) and gives
 * every distinct https jwk_url, and every distinct discovery URL and
 * issuer, a slot. */
static void assign_slots(ordsjwt_state_t *st, server_rec *s, apr_pool_t *p)
{
    apr_hash_t *keys = apr_hash_make(p);
    apr_hash_index_t *hi;

    st->nprofiles = 0;
    st->nslots = 0;
    st->slot_url_arr = apr_array_make(p, 4, sizeof(const char *));
    st->slot_issuer_arr = apr_array_make(p, 4, sizeof(const char *));
    for (; s; s = s->next) {
        for (hi = apr_hash_first(p, ordsjwt_srv_conf(s)->profiles); hi;
             hi = apr_hash_next(hi)) {
            ojw_profile_t *prof = apr_hash_this_val(hi);
            const char *key;
            int *idx;

            prof->index = st->nprofiles++;
            if (prof->static_keys) {
                continue;
            }
            key = slot_key(prof, p);
            if ((idx = apr_hash_get(keys, key, APR_HASH_KEY_STRING)) == NULL) {
                idx = new_slot(st, prof, p);
                apr_hash_set(keys, key, APR_HASH_KEY_STRING, idx);
            }
            prof->slot = *idx;
        }
    }
    st->slot_urls = (const char **)st->slot_url_arr->elts;
    st->slot_issuers = (const char **)st->slot_issuer_arr->elts;
}

/* 1 when the segment's slots are bound to exactly this generation's URLs
 * (and issuers, for discovery slots) and its region has the size asked. */
static int cache_fits(const ordsjwt_state_t *st)
{
    int i;

    if (st->cache == NULL || ojw_cache_nslots(st->cache) != st->nslots
        || st->cache_region != st->region) {
        return 0;
    }
    for (i = 0; i < st->nslots; i++) {
        if (ojw_cache_find_bound(st->cache, st->slot_urls[i],
                                 st->slot_issuers[i]) != i) {
            return 0;
        }
    }
    return 1;
}

/* The documents of slot i, kept from the previous segment when it had
 * the same URL and issuer (keys checked against another issuer are not
 * carried over). */
static void keep_slot(ordsjwt_state_t *st, ojw_cache_t *cache, int i,
                      server_rec *s)
{
    int j = ojw_cache_find_bound(st->cache, st->slot_urls[i],
                                 st->slot_issuers[i]);

    if (j >= 0 && ojw_cache_copy_slot(cache, i, st->cache, j) == APR_ENOSPC) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00122: the "
                     "keys of %s held before the restart do not fit in %s "
                     "%" APR_SIZE_T_FMT " KiB: fetched again when needed",
                     st->slot_urls[i],
                     ojw_settings[OJW_SET_JWKS_MEMORY].directive,
                     st->region / 1024);
    }
}

/* Binds the new segment's slots to this generation's URLs, keeping the
 * documents the previous segment had. */
static apr_status_t bind_slots(ordsjwt_state_t *st, ojw_cache_t *cache,
                               server_rec *s)
{
    apr_status_t rv;
    int i;

    for (i = 0; i < st->nslots; i++) {
        rv = ojw_cache_bind(cache, i, st->slot_urls[i], st->slot_issuers[i]);
        if (rv == APR_ENOSPC) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00123: %s %"
                         APR_SIZE_T_FMT " KiB has no room for the %d JWK "
                         "URLs themselves: raise it",
                         ojw_settings[OJW_SET_JWKS_MEMORY].directive,
                         st->region / 1024, st->nslots);
            return rv;
        }
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00006: jwk_url "
                         "%s (or its issuer) is longer than %d bytes",
                         st->slot_urls[i], OJW_URL_MAX - 1);
            return rv;
        }
        if (st->cache) {
            keep_slot(st, cache, i, s);
        }
    }
    return APR_SUCCESS;
}

/* An anonymous segment of size bytes in pool p (a file where the system
 * has no anonymous shared memory). */
static apr_status_t create_shm(apr_shm_t **shm, apr_size_t size,
                               apr_pool_t *p)
{
    apr_status_t rv = apr_shm_create(shm, size, NULL, p);
    const char *file;

    if (rv == APR_ENOTIMPL) {
        file = ap_runtime_dir_relative(p, apr_psprintf(p, "ordsjwt-jwks-%"
                                       APR_PID_T_FMT ".shm", getpid()));
        apr_shm_remove(file, p);
        rv = apr_shm_create(shm, size, file, p);
    }
    return rv;
}

/* A new segment for this generation's URLs, in a pool of its own; the
 * previous one is then released with its pool (old children keep their
 * own mapping until they exit). */
static apr_status_t replace_shm(ordsjwt_state_t *st, server_rec *s,
                                apr_pool_t *pp)
{
    apr_size_t size = ojw_cache_size(st->nslots, st->region);
    apr_shm_t *shm;
    ojw_cache_t *cache = NULL;
    apr_pool_t *cp;
    apr_status_t rv;

    apr_pool_create(&cp, pp);
    if ((rv = create_shm(&shm, size, cp)) == APR_SUCCESS
        && (cache = ojw_cache_attach(apr_shm_baseaddr_get(shm), size,
                                     st->nslots, st->region, st->gmutex, 1,
                                     cp)) == NULL) {
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00003: cannot "
                     "create %" APR_SIZE_T_FMT " bytes of shared memory for "
                     "%d JWKS slot(s)", size, st->nslots);
        apr_pool_destroy(cp);
        return rv;
    }
    if ((rv = bind_slots(st, cache, s)) != APR_SUCCESS) {
        apr_pool_destroy(cp);
        return rv;
    }
    if (st->cache_pool) {
        apr_pool_destroy(st->cache_pool);
    }
    st->cache_pool = cp;
    st->cache = cache;
    st->cache_region = st->region;
    return APR_SUCCESS;
}

/* The mutex (once) and a segment fitting this generation's URLs, both
 * kept for the life of the parent process. */
static apr_status_t setup_mutex_and_shm(ordsjwt_state_t *st, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_status_t rv;

    if (st->gmutex == NULL) {
        rv = ap_global_mutex_create(&st->gmutex, &st->gmutex_file,
                                    ORDSJWT_MUTEX_TYPE, NULL, s, pp, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00005: cannot "
                         "create the global mutex \"%s\"", ORDSJWT_MUTEX_TYPE);
            return rv;
        }
    }
    if (cache_fits(st)) {
        return APR_SUCCESS;     /* graceful restart: the keys stay */
    }
    return replace_shm(st, s, pp);
}

/* Counters for this generation's profiles (zero when it starts). */
static void setup_counters(ordsjwt_state_t *st, server_rec *s,
                           apr_pool_t *pconf)
{
    apr_size_t rows = (apr_size_t)OJW_REASON_COUNT * (st->nprofiles + 1);
    apr_size_t size = sizeof(apr_uint32_t) * (rows + ORDSJWT_CACHE_COUNTERS);
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, size, NULL, pconf);

    st->counters = NULL;
    st->cache_counters = NULL;
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "ORDSJWT00024: no "
                     "shared memory for the refusal counters; the status "
                     "page shows none");
        return;
    }
    st->counters = apr_shm_baseaddr_get(shm);
    memset(st->counters, 0, size);
    st->cache_counters = st->counters + rows;
}

/* The MPM's MaxRequestWorkers: its processes times their threads. */
static int mpm_workers(void)
{
    int daemons = 0, threads = 0;

    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons) != APR_SUCCESS
        || daemons < 1) {
        daemons = 1;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    return daemons * threads;
}

/* OrdsJwtJwksMaxWaiters, or when auto a quarter of MaxRequestWorkers (in
 * *workers), at least 1 and at most OJW_PLACES_MAX. */
static int max_waiters(const ojw_settings_t *n, int *workers)
{
    long set = ojw_setting(n, OJW_SET_MAX_WAITERS);
    int quarter;

    *workers = mpm_workers();
    if (set > 0) {
        return (int)set;
    }
    quarter = *workers / 4;
    return quarter < 1 ? 1 : quarter > OJW_PLACES_MAX ? OJW_PLACES_MAX
                                                       : quarter;
}

/* OrdsJwtJwksCacheSize in bytes; auto: as the slots need. */
static apr_size_t region_size(const ojw_settings_t *n, int nslots)
{
    long kib = ojw_setting(n, OJW_SET_JWKS_MEMORY);

    return kib > 0 ? (apr_size_t)kib * 1024 : ojw_cache_region_auto(nslots);
}

static void set_fetch_policy(ordsjwt_state_t *st, server_rec *s)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(s)->num;
    long refresh = ojw_setting(n, OJW_SET_REFRESH);
    long min_refresh = ojw_setting(n, OJW_SET_MIN_REFRESH);
    long timeout = ojw_setting(n, OJW_SET_FETCH_TIMEOUT);

    st->policy.refresh_interval = refresh;
    st->policy.min_interval = min_refresh;
    st->policy.fetch_timeout = timeout + 1;
    st->policy.max_stale = ojw_setting(n, OJW_SET_MAX_STALE);
    st->policy.max_waiters = max_waiters(n, &st->workers);
    st->fetch.ca_file = ordsjwt_srv_conf(s)->ca_file;
    st->fetch.timeout_ms = timeout * 1000L;
    st->fetch.max_size = OJW_JWKS_MAX;
    st->fetch.if_none_match = NULL;
    if (refresh < min_refresh) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00021: "
                     "OrdsJwtJwksRefreshInterval %ld is shorter than "
                     "OrdsJwtJwksMinRefreshInterval %ld; keys are refreshed "
                     "every %ld s", refresh, min_refresh, min_refresh);
        st->policy.refresh_interval = min_refresh;
    }
}

/* Warns when OrdsJwtJwksCacheSize, set, is less than the region is
 * expected to need for st's slots. */
static void warn_small_region(const ordsjwt_state_t *st, server_rec *s)
{
    const ojw_setting_t *row = &ojw_settings[OJW_SET_JWKS_MEMORY];
    long kib = ojw_setting(&ordsjwt_srv_conf(s)->num, OJW_SET_JWKS_MEMORY);
    apr_size_t names = 0, need;
    int i;

    for (i = 0; i < st->nslots; i++) {
        names += strlen(st->slot_urls[i]) + 1
                 + (st->slot_issuers[i] ? strlen(st->slot_issuers[i]) + 1 : 0);
    }
    need = ojw_cache_region_estimate(st->nslots, names);
    if (kib > 0 && (apr_size_t)kib * 1024 < need) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00124: %s %ld "
                     "is less than the about %" APR_SIZE_T_FMT " KiB that %d "
                     "JWK URL(s) are expected to need (%" APR_SIZE_T_FMT
                     " KiB each, and one of the largest documents being "
                     "replaced): a JWKS that finds no room is refused; "
                     "raise it, or set it to auto", row->directive, kib,
                     need / 1024, st->nslots, OJW_REGION_TYPICAL / 1024);
    }
}

/* configtest: the warning above, for the slots the profiles will get. */
void ordsjwt_test_shared(apr_pool_t *ptemp, server_rec *s)
{
    ordsjwt_state_t tmp;

    memset(&tmp, 0, sizeof(tmp));
    assign_slots(&tmp, s, ptemp);
    warn_small_region(&tmp, s);
}

/* What this generation sets aside, at info. */
static void log_sizes(const ordsjwt_state_t *st, server_rec *s)
{
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "ORDSJWT00120: %d JWK URL(s) "
                 "share %" APR_SIZE_T_FMT " KiB for their documents (%s); "
                 "at most %d request(s) wait for JWKS fetches (%s; "
                 "MaxRequestWorkers %d)", st->nslots, st->region / 1024,
                 ojw_settings[OJW_SET_JWKS_MEMORY].directive,
                 st->policy.max_waiters,
                 ojw_settings[OJW_SET_MAX_WAITERS].directive, st->workers);
}

/* The retained state, this generation's part reset. */
static ordsjwt_state_t *retained_state(void)
{
    ordsjwt_state_t *st = ap_retained_data_get(RETAINED_KEY);

    if (st == NULL) {
        st = ap_retained_data_create(RETAINED_KEY, sizeof(*st));
    }
    st->active = 0;
    st->nslots = 0;
    st->slot_urls = NULL;
    st->slot_issuers = NULL;
    st->counters = NULL;
    st->cache_counters = NULL;
    st->nprofiles = 0;
    st->keys = NULL;
    st->tokens = NULL;
    return st;
}

int ordsjwt_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s)
{
    ordsjwt_state_t *st = retained_state();

    (void)plog;
    ordsjwt_state = st;
    assign_slots(st, s, pconf);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;      /* the first dry run: nothing to set up yet */
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "ORDSJWT00060: "
                 "mod_auth_ordsjwt %s configured", ojw_version());
    ordsjwt_warn_roles_without_claim(s);
    ordsjwt_warn_composition(ptemp, s);
    setup_counters(st, s, pconf);
    st->token_cache_size = ojw_setting(&ordsjwt_srv_conf(s)->num,
                                       OJW_SET_TOKEN_CACHE);
    if (st->nslots == 0) {
        return OK;      /* only static keys: nothing to share */
    }
    set_fetch_policy(st, s);
    st->region = region_size(&ordsjwt_srv_conf(s)->num, st->nslots);
    warn_small_region(st, s);
    log_sizes(st, s);
    if (ojw_fetch_global_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00004: libcurl "
                     "global initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (setup_mutex_and_shm(st, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    st->active = 1;
    return OK;
}

/* ------------------------------------------------------------------ */
/* what the keys of a child report                                     */

static void log_fetch_failure(request_rec *r, const ojw_keys_event_t *ev)
{
    const ojw_fetch_result_t *res = ev->res;
    const char *type = res ? res->content_type : NULL;
    const char *hint = res ? ojw_fetch_body_hint(res) : NULL;

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00009: JWKS fetch "
                  "from %s failed: %s%s%s%s%s; %s", ev->url, ev->cause,
                  type ? " (Content-Type " : "", type ? type : "",
                  type ? ")" : "",
                  hint ? apr_pstrcat(r->pool, "; hint: ", hint, NULL) : "",
                  ev->stale ? "keeping the previous keys"
                            : "no keys: tokens of this issuer get 503");
}

static void log_discovery_failure(request_rec *r, const ojw_keys_event_t *ev)
{
    const char *type = ev->res ? ev->res->content_type : NULL;
    const char *then = ev->stale ? "keeping the previous keys"
                                 : "no keys: tokens of this issuer get 503";

    if (ev->mismatch) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00052: discovery "
                      "document %s refused: %s; %s", ev->url, ev->cause, then);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00051: discovery "
                  "document fetch from %s failed: %s%s%s%s%s; %s", ev->url,
                  ev->cause, type ? " (Content-Type " : "", type ? type : "",
                  type ? ")" : "",
                  ev->hint ? apr_pstrcat(r->pool, "; hint: ", ev->hint, NULL)
                           : "", then);
}

static void report_discovery(request_rec *r, const ojw_keys_event_t *ev)
{
    if (ev->type == OJW_KEYS_DISCOVERY_FAILED) {
        log_discovery_failure(r, ev);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00050: discovery "
                  "document %s names jwks_uri %s", ev->url, ev->jwks_uri);
}

static void report_keys(void *baton, void *ctx, const ojw_keys_event_t *ev)
{
    request_rec *r = ctx;

    (void)baton;
    switch (ev->type) {
    case OJW_KEYS_FETCHED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00010: fetched "
                      "JWKS from %s: %" APR_SIZE_T_FMT " bytes, %d usable "
                      "key(s)", ev->url, ev->res->len, ev->nkeys);
        break;
    case OJW_KEYS_NOT_MODIFIED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00022: JWKS of "
                      "%s not modified; fresh for %ld s", ev->url,
                      ev->fresh_for);
        break;
    case OJW_KEYS_FETCH_FAILED:
        log_fetch_failure(r, ev);
        break;
    case OJW_KEYS_SHARED_UNUSABLE:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00008: the shared "
                      "JWKS of %s does not parse in this process: %s",
                      ev->url, ev->cause);
        break;
    case OJW_KEYS_REFETCHED:
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00023: unknown "
                      "kid: verifying again with the refetched keys of %s",
                      ev->url);
        break;
    case OJW_KEYS_DISCOVERED:
    case OJW_KEYS_DISCOVERY_FAILED:
        report_discovery(r, ev);
        break;
    }
}

/* This child's verified tokens (OrdsJwtTokenCache). */
static void child_token_cache(ordsjwt_state_t *st, apr_pool_t *pchild,
                              server_rec *s)
{
    apr_status_t rv;

    if (st->token_cache_size <= 0) {
        return;
    }
    rv = ojw_token_cache_create(&st->tokens,
                                (apr_size_t)st->token_cache_size, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "ORDSJWT00029: no "
                     "token cache in this child process: every token is "
                     "verified afresh");
    }
}

void ordsjwt_child_init(apr_pool_t *pchild, server_rec *s)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_keys_env_t env;
    apr_status_t rv;

    if (st == NULL) {
        return;
    }
    child_token_cache(st, pchild, s);
    if (!st->active) {
        return;
    }
    rv = apr_global_mutex_child_init(&st->gmutex, st->gmutex_file, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00007: cannot "
                     "attach to the global mutex in a child process");
    }
    ojw_keys_env_default(&env);
    env.report = report_keys;
    env.note = ordsjwt_note_skipped_key;
    rv = ojw_keys_create(&st->keys, st->cache, st->slot_urls, st->nslots,
                         &st->policy, &st->fetch, &env, pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00028: cannot "
                     "set up the signing keys of a child process; tokens "
                     "of JWK URLs get 503");
    }
}

/* ------------------------------------------------------------------ */
/* counters                                                            */

static apr_uint32_t *counter_row(const ojw_profile_t *p)
{
    ordsjwt_state_t *st = ordsjwt_state;
    int row;

    if (st == NULL || st->counters == NULL) {
        return NULL;
    }
    row = p ? p->index : st->nprofiles;
    if (row < 0 || row > st->nprofiles) {
        return NULL;
    }
    return &st->counters[row * OJW_REASON_COUNT];
}

void ordsjwt_count(const ojw_profile_t *p, ojw_reason_t reason)
{
    apr_uint32_t *row = counter_row(p);

    if (row) {
        apr_atomic_inc32(&row[reason]);
    }
}

const apr_uint32_t *ordsjwt_counters(const ojw_profile_t *p)
{
    return counter_row(p);
}

void ordsjwt_count_cache(int outcome)
{
    ordsjwt_state_t *st = ordsjwt_state;

    if (st && st->cache_counters && outcome >= 0
        && outcome < ORDSJWT_CACHE_COUNTERS) {
        apr_atomic_inc32(&st->cache_counters[outcome]);
    }
}

const apr_uint32_t *ordsjwt_cache_counters(void)
{
    return ordsjwt_state ? ordsjwt_state->cache_counters : NULL;
}
