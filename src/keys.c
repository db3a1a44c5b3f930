/* SPDX-License-Identifier: Apache-2.0 */
/* The signing keys of one process and the fetch/wait/use loop (keys.h). */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "keys.h"
#include "discovery.h"
#include "settings.h"

/* Parsed keys of one generation of a slot, shared by the threads of a
 * process; freed when no request holds them and a newer set replaced them. */
typedef struct {
    ojw_keys_t *owner;
    apr_pool_t *pool;
    ojw_keyset_t *ks;
    apr_uint64_t generation;
    int refs;
    int retired;
} keyref_t;

struct ojw_keys {
    ojw_cache_t *cache;
    int nslots;
    const char *const *urls;
    ojw_refresh_policy_t policy;
    ojw_fetch_opts_t fetch;
    ojw_keys_env_t env;
    apr_thread_mutex_t *lock;   /* guards current[] and every refs */
    keyref_t **current;         /* per slot */
};

static apr_status_t default_fetch(void *baton, const char *url,
                                  const ojw_fetch_opts_t *opts,
                                  ojw_fetch_result_t *res, apr_pool_t *pool)
{
    (void)baton;
    return ojw_fetch(url, opts, res, pool);
}

static apr_time_t default_now(void *baton)
{
    (void)baton;
    return apr_time_now();
}

static void default_sleep(void *baton, apr_interval_time_t t)
{
    (void)baton;
    apr_sleep(t);
}

void ojw_keys_env_default(ojw_keys_env_t *env)
{
    memset(env, 0, sizeof(*env));
    env->fetch = default_fetch;
    env->now = default_now;
    env->sleep = default_sleep;
}

/* When the process's pool goes: the current key sets go too, or, if a
 * request still holds one, when it lets go. */
static apr_status_t keys_cleanup(void *data)
{
    ojw_keys_t *k = data;
    int i;

    apr_thread_mutex_lock(k->lock);
    for (i = 0; i < k->nslots; i++) {
        keyref_t *ref = k->current[i];

        k->current[i] = NULL;
        if (ref && ref->refs == 0) {
            apr_pool_destroy(ref->pool);
        }
        else if (ref) {
            ref->retired = 1;
        }
    }
    apr_thread_mutex_unlock(k->lock);
    return APR_SUCCESS;
}

apr_status_t ojw_keys_create(ojw_keys_t **keys, ojw_cache_t *cache,
                             const char *const *urls, int nslots,
                             const ojw_refresh_policy_t *policy,
                             const ojw_fetch_opts_t *fetch,
                             const ojw_keys_env_t *env, apr_pool_t *pool)
{
    ojw_keys_t *k = apr_pcalloc(pool, sizeof(*k));
    apr_status_t rv;

    k->cache = cache;
    k->nslots = nslots;
    k->urls = urls;
    k->policy = *policy;
    k->fetch = *fetch;
    k->env = *env;
    k->current = apr_pcalloc(pool, sizeof(keyref_t *) * (apr_size_t)
                             (nslots > 0 ? nslots : 1));
    rv = apr_thread_mutex_create(&k->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(pool, k, keys_cleanup,
                                  apr_pool_cleanup_null);
    }
    *keys = rv == APR_SUCCESS ? k : NULL;
    return rv;
}

const char *ojw_keys_url(const ojw_keys_t *keys, int slot)
{
    return slot >= 0 && slot < keys->nslots ? keys->urls[slot] : NULL;
}

static long long now_ms(const ojw_keys_t *k)
{
    return apr_time_as_msec(k->env.now(k->env.baton));
}

/* An event of this type about url, the rest zero. */
static ojw_keys_event_t event_at(ojw_keys_event_type_t type, const char *url)
{
    ojw_keys_event_t ev;

    memset(&ev, 0, sizeof(ev));
    ev.type = type;
    ev.url = url;
    return ev;
}

/* An event of this type about the slot's URL, the rest zero. */
static ojw_keys_event_t event_of(const ojw_keys_t *k,
                                 ojw_keys_event_type_t type, int slot)
{
    return event_at(type, k->urls[slot]);
}

static void report(const ojw_keys_t *k, void *ctx, const ojw_keys_event_t *ev)
{
    if (k->env.report) {
        k->env.report(k->env.baton, ctx, ev);
    }
}

/* ------------------------------------------------------------------ */
/* the process's key sets                                              */

static apr_status_t keyref_release(void *data)
{
    keyref_t *ref = data;
    ojw_keys_t *k = ref->owner;

    apr_thread_mutex_lock(k->lock);
    if (--ref->refs == 0 && ref->retired) {
        apr_pool_destroy(ref->pool);
    }
    apr_thread_mutex_unlock(k->lock);
    return APR_SUCCESS;
}

/* Parses the slot's document into a new current key set (lock held). */
static keyref_t *keyref_replace(ojw_keys_t *k, int slot, const char *doc,
                                apr_size_t len, apr_uint64_t generation,
                                void *ctx)
{
    keyref_t *ref, *old = k->current[slot];
    ojw_keys_event_t ev = event_of(k, OJW_KEYS_SHARED_UNUSABLE, slot);
    apr_pool_t *pool;
    char errbuf[512];

    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    ref = apr_pcalloc(pool, sizeof(*ref));
    ref->owner = k;
    ref->pool = pool;
    ref->generation = generation;
    if (ojw_jwks_parse(&ref->ks, doc, len, pool, NULL, NULL, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        ev.cause = errbuf;
        report(k, ctx, &ev);
        apr_pool_destroy(pool);
        return NULL;
    }
    if (old) {
        old->retired = 1;
        if (old->refs == 0) {
            apr_pool_destroy(old->pool);
        }
    }
    k->current[slot] = ref;
    return ref;
}

/* The process's keys of the slot's current generation, held for the life
 * of pool. */
static keyref_t *keyref_acquire(ojw_keys_t *k, int slot,
                                apr_uint64_t generation, apr_pool_t *pool,
                                void *ctx)
{
    keyref_t *ref;
    ojw_slot_state_t state;
    char *doc = NULL;
    apr_size_t len = 0;

    apr_thread_mutex_lock(k->lock);
    ref = k->current[slot];
    if (ref == NULL || ref->generation != generation) {
        if (ojw_cache_read(k->cache, slot, ref ? ref->generation : 0, pool,
                           &doc, &len, &state) == APR_SUCCESS && doc) {
            ref = keyref_replace(k, slot, doc, len, state.generation, ctx);
        }
    }
    if (ref) {
        ref->refs++;
        apr_pool_cleanup_register(pool, ref, keyref_release,
                                  apr_pool_cleanup_null);
    }
    apr_thread_mutex_unlock(k->lock);
    return ref;
}

/* ------------------------------------------------------------------ */
/* fetching                                                            */

/* What one fetch of a slot asks for: the slot's URL, or for a discovery
 * slot the jwks_uri its discovery document named. */
typedef struct {
    const char *url;            /* fetched now */
    const char *jwks_uri;       /* discovery: recorded with the doc, else NULL */
    long long discovered_at;
    long fresh_cap;             /* the discovery document's freshness, or -1 */
    long timeout_ms;            /* what is left of the fetch timeout, or 0 */
} source_t;

static void fetch_failed(ojw_keys_t *k, int slot, const source_t *src,
                         const ojw_fetch_result_t *res, const char *cause,
                         int stale, void *ctx)
{
    ojw_keys_event_t ev = event_at(OJW_KEYS_FETCH_FAILED, src->url);

    ev.cause = cause;
    ev.res = res;
    ev.stale = stale;
    report(k, ctx, &ev);
    ojw_cache_fail(k->cache, slot, now_ms(k), cause);
}

/* How long the fetched document stays fresh: its own Cache-Control, and
 * no longer than the discovery document that led to it. */
static long fresh_of(const ojw_keys_t *k, const source_t *src, long max_age)
{
    long fresh = ojw_fresh_for(max_age, &k->policy);

    return src->fresh_cap >= 0 && src->fresh_cap < fresh ? src->fresh_cap
                                                         : fresh;
}

static void record_source(ojw_keys_t *k, int slot, const source_t *src)
{
    if (src->jwks_uri) {
        ojw_cache_set_source(k->cache, slot, src->jwks_uri,
                             src->discovered_at);
    }
}

/* Why a document of len bytes could not be stored: the region is full. */
static const char *no_room(ojw_keys_t *k, apr_size_t len, apr_pool_t *tmp)
{
    ojw_cache_usage_t u;

    ojw_cache_usage(k->cache, now_ms(k), &k->policy, &u);
    return apr_psprintf(tmp, "no room for its %" APR_SIZE_T_FMT " bytes in "
                        "the shared memory for JWKS documents (%"
                        APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT " KiB in use, "
                        "%d document(s)): raise %s", len, u.used / 1024,
                        u.region / 1024, u.documents,
                        ojw_settings[OJW_SET_JWKS_MEMORY].directive);
}

/* Stores a fetched document that parses; reports either way. */
static void store_fetched(ojw_keys_t *k, int slot, const source_t *src,
                          ojw_fetch_result_t *res, int have_doc,
                          apr_pool_t *tmp, void *ctx)
{
    ojw_keyset_t *ks;
    ojw_keys_event_t ev = event_at(OJW_KEYS_FETCHED, src->url);
    char errbuf[512];

    if (ojw_jwks_parse(&ks, res->body, res->len, tmp, k->env.note,
                       (void *)src->url, errbuf, sizeof(errbuf))
        != APR_SUCCESS) {
        fetch_failed(k, slot, src, res, errbuf, have_doc, ctx);
        return;
    }
    record_source(k, slot, src);
    if (ojw_cache_store(k->cache, slot, now_ms(k), res->body, res->len,
                        res->etag, fresh_of(k, src, res->max_age), ks->nkeys)
        == APR_ENOSPC) {
        fetch_failed(k, slot, src, res, no_room(k, res->len, tmp), have_doc,
                     ctx);
        return;
    }
    ev.res = res;
    ev.nkeys = ks->nkeys;
    report(k, ctx, &ev);
}

/* The ETag to send for src: the slot's, unless the jwks_uri changed. */
static const char *etag_for(ojw_keys_t *k, int slot, const source_t *src,
                            apr_pool_t *tmp)
{
    char *etag = apr_palloc(tmp, OJW_ETAG_MAX);
    char *held = apr_palloc(tmp, OJW_URL_MAX);
    long long at;

    if (ojw_cache_etag(k->cache, slot, etag, OJW_ETAG_MAX) != APR_SUCCESS
        || etag[0] == '\0') {
        return NULL;
    }
    if (src->jwks_uri
        && (ojw_cache_source(k->cache, slot, held, OJW_URL_MAX, &at)
            != APR_SUCCESS || strcmp(held, src->jwks_uri) != 0)) {
        return NULL;
    }
    return etag;
}

/* Fetches src (this process claimed the slot) and stores the result. */
static void fetch_source(ojw_keys_t *k, int slot, const source_t *src,
                         int have_doc, apr_pool_t *tmp, void *ctx)
{
    ojw_fetch_opts_t opts = k->fetch;
    ojw_fetch_result_t res;
    ojw_keys_event_t ev = event_at(OJW_KEYS_NOT_MODIFIED, src->url);

    memset(&res, 0, sizeof(res));
    opts.if_none_match = etag_for(k, slot, src, tmp);
    if (src->timeout_ms > 0) {
        opts.timeout_ms = src->timeout_ms;
    }
    if (k->env.fetch(k->env.baton, src->url, &opts, &res, tmp)
        != APR_SUCCESS) {
        fetch_failed(k, slot, src, &res, res.error, have_doc, ctx);
    }
    else if (res.not_modified) {
        ev.fresh_for = fresh_of(k, src, res.max_age);
        report(k, ctx, &ev);
        record_source(k, slot, src);
        ojw_cache_not_modified(k->cache, slot, now_ms(k), ev.fresh_for);
    }
    else {
        store_fetched(k, slot, src, &res, have_doc, tmp, ctx);
    }
}

/* A discovery document that cannot be used: reported, the slot failed. */
static void discovery_failed(ojw_keys_t *k, int slot,
                             const ojw_fetch_result_t *res, const char *cause,
                             const char *hint, int mismatch, int stale,
                             void *ctx)
{
    ojw_keys_event_t ev = event_of(k, OJW_KEYS_DISCOVERY_FAILED, slot);

    ev.cause = cause;
    ev.res = res;
    ev.hint = hint;
    ev.mismatch = mismatch;
    ev.stale = stale;
    report(k, ctx, &ev);
    ojw_cache_fail(k->cache, slot, now_ms(k), cause);
}

/* Reads the discovery document of the slot, bound to issuer, into src;
 * 0 (reported, the slot failed) when it cannot be used. */
static int discover(ojw_keys_t *k, int slot, const char *issuer,
                    source_t *src, int have_doc, apr_pool_t *tmp, void *ctx)
{
    ojw_fetch_opts_t opts = k->fetch;
    ojw_fetch_result_t res;
    ojw_keys_event_t ev = event_of(k, OJW_KEYS_DISCOVERED, slot);
    ojw_discovery_t d;
    const char *hint, *cause;
    char errbuf[1024];
    apr_status_t rv;
    long long started = now_ms(k);

    memset(&res, 0, sizeof(res));
    opts.if_none_match = NULL;
    opts.max_size = OJW_DISCOVERY_MAX;
    if (k->env.fetch(k->env.baton, k->urls[slot], &opts, &res, tmp)
        != APR_SUCCESS) {
        cause = ojw_discovery_fetch_cause(k->urls[slot], issuer, &res,
                                          &hint, tmp);
        discovery_failed(k, slot, &res, cause, hint, 0, have_doc, ctx);
        return 0;
    }
    rv = ojw_discovery_check(&d, res.body, res.len, issuer, OJW_URL_MAX, tmp,
                             errbuf, sizeof(errbuf));
    if (rv != APR_SUCCESS) {
        discovery_failed(k, slot, &res, errbuf, NULL, rv == APR_EMISMATCH,
                         have_doc, ctx);
        return 0;
    }
    src->url = src->jwks_uri = d.jwks_uri;
    src->discovered_at = now_ms(k);
    /* the document and the keys share one fetch timeout */
    src->timeout_ms = k->fetch.timeout_ms - (src->discovered_at - started);
    if (src->timeout_ms < 1) {
        src->timeout_ms = 1;
    }
    src->fresh_cap = ojw_fresh_for(res.max_age, &k->policy);
    ev.jwks_uri = d.jwks_uri;
    report(k, ctx, &ev);
    return 1;
}

/* Fetches the slot (this process claimed it): a JWKS slot's URL, or a
 * discovery slot's document and then the jwks_uri it names. */
static void fetch_slot(ojw_keys_t *k, int slot, int have_doc, apr_pool_t *p,
                       void *ctx)
{
    source_t src = { k->urls[slot], NULL, 0, -1, 0 };
    char issuer[OJW_URL_MAX];
    apr_pool_t *tmp;

    apr_pool_create(&tmp, p);
    if (ojw_cache_issuer(k->cache, slot, issuer, sizeof(issuer))
        != APR_SUCCESS) {
        issuer[0] = '\0';
    }
    if (issuer[0] == '\0' || discover(k, slot, issuer, &src, have_doc, tmp,
                                      ctx)) {
        fetch_source(k, slot, &src, have_doc, tmp, ctx);
    }
    apr_pool_destroy(tmp);
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */

void ojw_keys_get(ojw_keys_use_t *out, ojw_keys_t *k, int slot,
                  apr_uint64_t stale_generation, apr_pool_t *pool, void *ctx)
{
    apr_time_t give_up = k->env.now(k->env.baton)
                         + apr_time_from_sec(k->policy.fetch_timeout);
    ojw_decision_t decision = OJW_UNAVAILABLE;
    ojw_slot_state_t state;
    ojw_ticket_t ticket = { 0, 0 };
    keyref_t *ref;
    long long now = now_ms(k);

    memset(out, 0, sizeof(*out));
    memset(&state, 0, sizeof(state));
    if (slot < 0 || slot >= k->nslots) {
        out->retry_after = 1;
        return;
    }
    /* the common case: fresh keys, already parsed here; no global mutex */
    if (stale_generation == 0
        && ojw_cache_fresh(k->cache, slot, now, &state.generation)
        && (ref = keyref_acquire(k, slot, state.generation, pool, ctx))) {
        out->ks = ref->ks;
        out->generation = ref->generation;
        return;
    }
    for (;;) {
        now = now_ms(k);
        if (ojw_cache_begin(k->cache, slot, now, &k->policy, stale_generation,
                            &ticket, &decision, &state) != APR_SUCCESS) {
            decision = OJW_UNAVAILABLE;
        }
        if (decision == OJW_FETCH) {
            fetch_slot(k, slot, state.generation != 0, pool, ctx);
            stale_generation = 0;
            continue;   /* look again: use what the fetch left */
        }
        if (decision != OJW_WAIT || k->env.now(k->env.baton) >= give_up) {
            break;
        }
        k->env.sleep(k->env.baton, OJW_KEYS_WAIT_STEP);
    }
    if (decision == OJW_USE
        && (ref = keyref_acquire(k, slot, state.generation, pool, ctx))) {
        out->ks = ref->ks;
        out->generation = ref->generation;
        return;
    }
    out->busy = decision == OJW_BUSY;
    out->retry_after = ojw_retry_after(&state, now, &k->policy);
}

ojw_reason_t ojw_keys_verify(ojw_keys_use_t *out, ojw_keys_t *k, int slot,
                             ojw_token_t *tok, apr_pool_t *pool, void *ctx,
                             ojw_error_t *err)
{
    const ojw_keyset_t *first;
    ojw_keys_event_t ev;
    ojw_reason_t rc;

    ojw_keys_get(out, k, slot, 0, pool, ctx);
    if (out->ks == NULL) {
        return ojw_fail(err, OJW_ERR_KEYS_UNAVAILABLE, out->busy
                        ? "no signing keys for %s yet, and enough requests "
                          "wait for them" : "no signing keys for %s",
                        ojw_keys_url(k, slot));
    }
    if ((rc = ojw_token_verify(tok, out->ks, pool, err)) != OJW_ERR_KID) {
        return rc;
    }
    first = out->ks;
    ojw_keys_get(out, k, slot, out->generation, pool, ctx);
    if (out->busy) {            /* enough requests wait for the new keys */
        return ojw_fail(err, OJW_ERR_KEYS_UNAVAILABLE, "%d requests wait "
                        "already for signing keys; not for the new keys of "
                        "%s", k->policy.max_waiters, ojw_keys_url(k, slot));
    }
    if (out->ks == NULL || out->ks == first) {
        out->ks = first;        /* no newer keys: the kid stays unknown */
        return OJW_ERR_KID;
    }
    ev = event_of(k, OJW_KEYS_REFETCHED, slot);
    report(k, ctx, &ev);
    return ojw_token_verify(tok, out->ks, pool, err);
}

void ojw_keys_generation(ojw_keys_use_t *out, ojw_keys_t *keys, int slot,
                         apr_pool_t *pool, void *ctx)
{
    memset(out, 0, sizeof(*out));
    if (slot >= 0 && slot < keys->nslots
        && ojw_cache_fresh(keys->cache, slot, now_ms(keys),
                           &out->generation)) {
        return;
    }
    ojw_keys_get(out, keys, slot, 0, pool, ctx);
}
