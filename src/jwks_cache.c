/* SPDX-License-Identifier: Apache-2.0 */
/* JWKS documents in APR shared memory (see jwks_cache.h). */
#include <string.h>
#include <apr_hash.h>
#include <apr_rmm.h>
#include <apr_strings.h>
#include "jwks_cache.h"

#define ALIGN8(n) (((n) + 7) & ~(apr_size_t)7)
#define CACHE_MAGIC     0x6f6a7763u     /* "ojwc" */
/* the URLs of the slots are cut from chunks of this many bytes, or of a
 * 64th of the region when that is less */
#define NAMES_CHUNK     ((apr_size_t)64 * 1024)
/* documents take multiples of this, so that one a little longer after a
 * refresh still fits where it was */
#define DOC_GRAIN       ((apr_size_t)256)

/* The start of the segment. */
typedef struct {
    apr_uint32_t magic;
    apr_int32_t nslots;
    apr_size_t region;          /* bytes of the apr_rmm region */
    apr_size_t used;            /* of them allocated, with rmm's overhead */
    apr_rmm_off_t names;        /* the chunk URLs are cut from, 0: none */
    apr_size_t names_left;
    apr_uint64_t refused;       /* waits refused (places taken) */
    apr_uint64_t full;          /* documents refused for want of room */
} cache_header_t;

/* A waiter's place: the slot and fetch it waits for; free when that
 * fetch is no longer in flight. */
typedef struct {
    apr_int32_t slot;           /* -1: never taken */
    apr_uint32_t fetch;
} place_t;

/* One slot; its strings and document live in the region (offsets, 0:
 * none). */
typedef struct {
    apr_rmm_off_t url;
    /* a discovery slot: the issuer its document must name, bound with url
     * at startup; none for a JWKS slot */
    apr_rmm_off_t issuer;
    /* a discovery slot: the jwks_uri of the document held, and when the
     * discovery document that named it was read */
    apr_rmm_off_t jwks_uri;
    apr_int64_t discovered_at;
    apr_rmm_off_t doc;
    apr_size_t doc_cap;         /* bytes allocated for it */
    ojw_slot_state_t state;
    char last_error[OJW_ERROR_MAX];
    char etag[OJW_ETAG_MAX];
    /* written under the lock, read without it (ojw_cache_fresh) */
    apr_uint64_t fresh_generation;
    apr_int64_t fresh_until;
} slot_header_t;

struct ojw_cache {
    cache_header_t *hdr;
    place_t *places;            /* OJW_PLACES_MAX */
    slot_header_t *slots;
    apr_rmm_t *rmm;
    int nslots;
    apr_global_mutex_t *mutex;
    apr_pool_t *pool;
    apr_pool_t *index_pool;
    apr_hash_t *index;          /* "url issuer" -> slot, built when asked */
};

/* Times are milliseconds, durations of the policy seconds: a budget of
 * "one per second" must hold across a second boundary too. */
#define MS(seconds) ((long long)(seconds) * 1000)

static int have_document(const ojw_slot_state_t *s)
{
    return s->generation != 0;
}

static int fetch_in_flight(const ojw_slot_state_t *s, long long now,
                           const ojw_refresh_policy_t *p)
{
    return s->fetch_started != 0 && now - s->fetch_started <= MS(p->fetch_timeout);
}

static int may_attempt(const ojw_slot_state_t *s, long long now,
                       const ojw_refresh_policy_t *p)
{
    return s->attempted_at == 0 || now - s->attempted_at >= MS(p->min_interval)
           || now < s->attempted_at;    /* the clock went backwards */
}

/* A refetch forced by an unknown kid: at most one per min interval,
 * counted apart from the other fetches. */
static int may_force(const ojw_slot_state_t *s, long long now,
                     const ojw_refresh_policy_t *p)
{
    return s->forced_at == 0 || now - s->forced_at >= MS(p->min_interval)
           || now < s->forced_at;       /* the clock went backwards */
}

long ojw_fresh_for(long max_age, const ojw_refresh_policy_t *p)
{
    if (max_age < 0 || max_age >= p->refresh_interval) {
        return p->refresh_interval;
    }
    return max_age < p->min_interval ? p->min_interval : max_age;
}

ojw_decision_t ojw_refresh_decide(const ojw_slot_state_t *s, long long now,
                                  const ojw_refresh_policy_t *p, int force)
{
    long long age = now - s->fetched_at;
    long long fresh = MS(s->refresh_after > 0 ? s->refresh_after
                                              : p->refresh_interval);

    if (fetch_in_flight(s, now, p)) {
        /* a forced caller wants the new keys: it waits for that fetch */
        return have_document(s) && !force ? OJW_USE : OJW_WAIT;
    }
    if (!have_document(s)) {
        return may_attempt(s, now, p) ? OJW_FETCH : OJW_UNAVAILABLE;
    }
    if (force && may_force(s, now, p)) {
        return OJW_FETCH;
    }
    if (age >= fresh && may_attempt(s, now, p)) {
        return OJW_FETCH;
    }
    if (age >= fresh + MS(p->max_stale)) {
        return OJW_UNAVAILABLE;
    }
    return OJW_USE;
}

long ojw_retry_after(const ojw_slot_state_t *s, long long now,
                     const ojw_refresh_policy_t *p)
{
    long long left = s->attempted_at + MS(p->min_interval) - now;

    if (fetch_in_flight(s, now, p)) {
        left = s->fetch_started + MS(p->fetch_timeout) - now;
    }
    left = (left + 999) / 1000;         /* whole seconds, rounded up */
    return left < 1 ? 1 : (long)left;
}


/* ------------------------------------------------------------------ */
/* the segment                                                          */

/* Bytes of the header, the places and the slot table. */
static apr_size_t table_size(int nslots)
{
    return ALIGN8(sizeof(cache_header_t))
           + ALIGN8(sizeof(place_t) * OJW_PLACES_MAX)
           + ALIGN8(sizeof(slot_header_t) * (apr_size_t)nslots);
}

apr_size_t ojw_cache_region_auto(int nslots)
{
    return OJW_REGION_BASE
           + OJW_REGION_PER_SLOT * (apr_size_t)(nslots > 0 ? nslots : 0);
}

apr_size_t ojw_cache_region_estimate(int nslots, apr_size_t names)
{
    return names + OJW_JWKS_MAX
           + OJW_REGION_TYPICAL * (apr_size_t)(nslots > 0 ? nslots : 0);
}

apr_size_t ojw_cache_size(int nslots, apr_size_t region)
{
    return table_size(nslots) + ALIGN8(region);
}

/* Every slot empty, every place free, the region's bookkeeping. */
static apr_status_t lay_out(ojw_cache_t *c, char *base, apr_size_t region)
{
    int i;

    memset(base, 0, table_size(c->nslots));
    c->hdr->magic = CACHE_MAGIC;
    c->hdr->nslots = c->nslots;
    c->hdr->region = region;
    for (i = 0; i < OJW_PLACES_MAX; i++) {
        c->places[i].slot = -1;
    }
    return apr_rmm_init(&c->rmm, NULL, base + table_size(c->nslots), region,
                        c->pool);
}

ojw_cache_t *ojw_cache_attach(void *base, apr_size_t size, int nslots,
                              apr_size_t region, apr_global_mutex_t *mutex,
                              int init, apr_pool_t *pool)
{
    ojw_cache_t *c;
    char *p = base;
    apr_status_t rv;

    region = ALIGN8(region);
    if (base == NULL || nslots < 0 || size < ojw_cache_size(nslots, region)
        || region < apr_rmm_overhead_get(1) + DOC_GRAIN) {
        return NULL;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->hdr = (cache_header_t *)p;
    c->places = (place_t *)(p + ALIGN8(sizeof(cache_header_t)));
    c->slots = (slot_header_t *)((char *)c->places
                                 + ALIGN8(sizeof(place_t) * OJW_PLACES_MAX));
    c->nslots = nslots;
    c->mutex = mutex;
    c->pool = pool;
    if (init) {
        rv = lay_out(c, p, region);
    }
    else if (c->hdr->magic != CACHE_MAGIC || c->hdr->nslots != nslots
             || c->hdr->region != region) {
        return NULL;
    }
    else {
        rv = apr_rmm_attach(&c->rmm, NULL, p + table_size(nslots), pool);
    }
    return rv == APR_SUCCESS ? c : NULL;
}

int ojw_cache_nslots(const ojw_cache_t *c)
{
    return c->nslots;
}

static slot_header_t *slot_at(ojw_cache_t *c, int idx)
{
    if (idx < 0 || idx >= c->nslots) {
        return NULL;
    }
    return &c->slots[idx];
}

/* ------------------------------------------------------------------ */
/* the region (every call with the lock held, or before any child)      */

/* What apr_rmm adds to each block. */
static apr_size_t block_overhead(void)
{
    return apr_rmm_overhead_get(1) - apr_rmm_overhead_get(0);
}

/* size bytes of the region, 0 when there is no room. */
static apr_rmm_off_t region_alloc(ojw_cache_t *c, apr_size_t size)
{
    apr_rmm_off_t off = apr_rmm_malloc(c->rmm, size);

    if (off) {
        c->hdr->used += ALIGN8(size) + block_overhead();
    }
    return off;
}

static void region_free(ojw_cache_t *c, apr_rmm_off_t off, apr_size_t size)
{
    if (off && apr_rmm_free(c->rmm, off) == APR_SUCCESS) {
        c->hdr->used -= ALIGN8(size) + block_overhead();
    }
}

static const char *str_at(ojw_cache_t *c, apr_rmm_off_t off)
{
    return off ? apr_rmm_addr_get(c->rmm, off) : "";
}

/* A copy of s cut from the names chunk, never freed (a segment's URLs
 * are bound once); 0 when there is no room. */
static apr_rmm_off_t name_alloc(ojw_cache_t *c, const char *s)
{
    cache_header_t *h = c->hdr;
    apr_size_t len = strlen(s) + 1;
    apr_size_t chunk = h->region / 64 < NAMES_CHUNK ? h->region / 64
                                                     : NAMES_CHUNK;
    apr_rmm_off_t off;

    if (chunk < len) {
        chunk = len;
    }
    if (h->names == 0 || h->names_left < len) {
        if ((off = region_alloc(c, chunk)) == 0
            && (off = region_alloc(c, chunk = len)) == 0) {
            return 0;
        }
        h->names = off;
        h->names_left = chunk;
    }
    off = h->names;
    memcpy(apr_rmm_addr_get(c->rmm, off), s, len);
    h->names += len;
    h->names_left -= len;
    return off;
}

/* *off holds a copy of s ("" is none); APR_ENOSPC when no room. */
static apr_status_t set_string(ojw_cache_t *c, apr_rmm_off_t *off,
                               const char *s)
{
    const char *old = str_at(c, *off);
    apr_rmm_off_t n = 0;

    if (strcmp(old, s) == 0) {
        return APR_SUCCESS;
    }
    if (*s && (n = region_alloc(c, strlen(s) + 1)) == 0) {
        return APR_ENOSPC;
    }
    if (n) {
        memcpy(apr_rmm_addr_get(c->rmm, n), s, strlen(s) + 1);
    }
    region_free(c, *off, strlen(old) + 1);
    *off = n;
    return APR_SUCCESS;
}

/* The slot's document becomes doc: where the old one was when it fits
 * and is not much larger, else in a new block (the old one freed).
 * APR_ENOSPC, the old document untouched, when there is no room. */
static apr_status_t put_document(ojw_cache_t *c, slot_header_t *s,
                                 const char *doc, apr_size_t len)
{
    apr_size_t cap = (len / DOC_GRAIN + 1) * DOC_GRAIN;
    int fits = s->doc && len <= s->doc_cap;
    apr_rmm_off_t off;

    if (!fits || cap * 2 <= s->doc_cap) {
        if ((off = region_alloc(c, cap)) != 0) {
            region_free(c, s->doc, s->doc_cap);
            s->doc = off;
            s->doc_cap = cap;
        }
        else if (!fits) {
            c->hdr->full++;
            return APR_ENOSPC;
        }
    }
    memcpy(apr_rmm_addr_get(c->rmm, s->doc), doc, len);
    s->state.doc_len = len;
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* binding URLs to slots (the parent, at startup)                       */

/* The key of a URL and issuer in the index. */
static const char *index_key(apr_pool_t *p, const char *url,
                             const char *issuer, apr_size_t *klen)
{
    apr_size_t ulen = strlen(url), ilen = strlen(issuer ? issuer : "");
    char *key = apr_palloc(p, ulen + ilen + 1);

    memcpy(key, url, ulen);
    key[ulen] = '\0';           /* a URL holds no NUL: no ambiguity */
    memcpy(key + ulen + 1, issuer ? issuer : "", ilen);
    *klen = ulen + 1 + ilen;
    return key;
}

/* The slots by URL and issuer (the first slot of each pair). */
static void build_index(ojw_cache_t *c)
{
    int *ids;
    int i;

    if (c->index_pool == NULL) {
        apr_pool_create(&c->index_pool, c->pool);
    }
    apr_pool_clear(c->index_pool);
    c->index = apr_hash_make(c->index_pool);
    ids = apr_palloc(c->index_pool, sizeof(int) * (apr_size_t)
                     (c->nslots > 0 ? c->nslots : 1));
    for (i = c->nslots - 1; i >= 0; i--) {
        slot_header_t *s = &c->slots[i];
        apr_size_t klen;
        const char *key = index_key(c->index_pool, str_at(c, s->url),
                                    str_at(c, s->issuer), &klen);

        ids[i] = i;
        apr_hash_set(c->index, key, (apr_ssize_t)klen, &ids[i]);
    }
}

int ojw_cache_find(ojw_cache_t *c, const char *url)
{
    return ojw_cache_find_bound(c, url, NULL);
}

int ojw_cache_find_bound(ojw_cache_t *c, const char *url, const char *issuer)
{
    apr_size_t klen;
    const char *key;
    int *id;

    if (c->index == NULL) {
        build_index(c);
    }
    key = index_key(c->index_pool, url, issuer, &klen);
    id = apr_hash_get(c->index, key, (apr_ssize_t)klen);
    return id ? *id : -1;
}

apr_status_t ojw_cache_set_url(ojw_cache_t *c, int idx, const char *url)
{
    return ojw_cache_bind(c, idx, url, NULL);
}

apr_status_t ojw_cache_bind(ojw_cache_t *c, int idx, const char *url,
                            const char *issuer)
{
    slot_header_t *s = slot_at(c, idx);
    apr_status_t rv;

    if (issuer == NULL) {
        issuer = "";
    }
    if (s == NULL || strlen(url) >= OJW_URL_MAX
        || strlen(issuer) >= OJW_URL_MAX) {
        return APR_EINVAL;
    }
    if ((rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        return rv;
    }
    s->url = *url ? name_alloc(c, url) : 0;
    s->issuer = *issuer ? name_alloc(c, issuer) : 0;
    rv = (*url && !s->url) || (*issuer && !s->issuer) ? APR_ENOSPC
                                                        : APR_SUCCESS;
    c->index = NULL;
    apr_global_mutex_unlock(c->mutex);
    return rv;
}

/* ------------------------------------------------------------------ */
/* slots                                                                */

/* Slot idx of c with the mutex held, or NULL with *rv set. */
static slot_header_t *lock_slot(ojw_cache_t *c, int idx, apr_status_t *rv)
{
    slot_header_t *s = slot_at(c, idx);

    *rv = APR_EINVAL;
    if (s == NULL || (*rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        return NULL;
    }
    return s;
}

static apr_status_t unlock(ojw_cache_t *c)
{
    return apr_global_mutex_unlock(c->mutex);
}

/* The end of a fetch that leaves the slot's document fresh (lock held):
 * until fetched_at + fresh_for, the decision for a caller that is not
 * forced is OJW_USE, which ojw_cache_fresh() tells without the lock. */
static void fresh_again(slot_header_t *s, long long now, long fresh_for)
{
    long long took = now - s->state.fetch_started;

    if (s->state.fetch_started && took >= 0) {
        s->state.fetch_ms = took > OJW_WAIT_GRACE_MAX_MS
                            ? OJW_WAIT_GRACE_MAX_MS : (apr_uint32_t)took;
    }
    s->state.fetched_at = now;
    s->state.fetch_started = 0;
    s->state.refresh_after = fresh_for;
    s->last_error[0] = '\0';
    __atomic_store_n(&s->fresh_generation, s->state.generation,
                     __ATOMIC_RELEASE);
    __atomic_store_n(&s->fresh_until, (apr_int64_t)(now + MS(fresh_for)),
                     __ATOMIC_RELEASE);
}

int ojw_cache_fresh(ojw_cache_t *c, int idx, long long now,
                    apr_uint64_t *generation)
{
    slot_header_t *s = slot_at(c, idx);
    apr_int64_t until;

    if (s == NULL) {
        return 0;
    }
    until = __atomic_load_n(&s->fresh_until, __ATOMIC_ACQUIRE);
    *generation = __atomic_load_n(&s->fresh_generation, __ATOMIC_ACQUIRE);
    return *generation != 0 && now < until;
}

/* Slot from of src into d of dst: document, jwks_uri, state (locks held). */
static apr_status_t copy_into(ojw_cache_t *dst, slot_header_t *d,
                              ojw_cache_t *src, const slot_header_t *from)
{
    if (from->doc && put_document(dst, d, str_at(src, from->doc),
                                  from->state.doc_len) != APR_SUCCESS) {
        return APR_ENOSPC;
    }
    if (set_string(dst, &d->jwks_uri, str_at(src, from->jwks_uri))
        != APR_SUCCESS) {
        region_free(dst, d->doc, d->doc_cap);
        d->doc = 0;
        return APR_ENOSPC;
    }
    d->state = from->state;
    d->state.fetch_started = 0;
    d->discovered_at = from->discovered_at;
    memcpy(d->last_error, from->last_error, sizeof(d->last_error));
    memcpy(d->etag, from->etag, sizeof(d->etag));
    d->fresh_generation = from->fresh_generation;
    d->fresh_until = from->fresh_until;
    return APR_SUCCESS;
}

apr_status_t ojw_cache_copy_slot(ojw_cache_t *dst, int di, ojw_cache_t *src,
                                 int si)
{
    slot_header_t *d = slot_at(dst, di), *from = slot_at(src, si);
    apr_status_t rv;

    if (d == NULL || from == NULL || dst->mutex != src->mutex) {
        return APR_EINVAL;
    }
    if ((rv = apr_global_mutex_lock(src->mutex)) != APR_SUCCESS) {
        return rv;
    }
    rv = copy_into(dst, d, src, from);
    apr_global_mutex_unlock(src->mutex);
    return rv;
}

/* ------------------------------------------------------------------ */
/* waiting                                                              */

/* The places in use: max_waiters, at most OJW_PLACES_MAX. */
static int bound_of(const ojw_refresh_policy_t *policy)
{
    return policy->max_waiters < OJW_PLACES_MAX ? policy->max_waiters
                                                : OJW_PLACES_MAX;
}

/* 1 when place p waits for a fetch still in flight (lock held). */
static int place_live(ojw_cache_t *c, const place_t *p, long long now,
                      const ojw_refresh_policy_t *policy)
{
    slot_header_t *s = slot_at(c, p->slot);

    return s && s->state.fetches == p->fetch
           && fetch_in_flight(&s->state, now, policy);
}

/* 1 when ticket t holds a place for the fetch in flight of slot idx. */
static int placed(ojw_cache_t *c, int idx, const ojw_ticket_t *t,
                  int bound)
{
    const place_t *p = t->place > 0 && t->place <= bound
                       ? &c->places[t->place - 1] : NULL;

    return p && p->slot == idx && p->fetch == t->fetch
           && t->fetch == c->slots[idx].state.fetches;
}

/* Milliseconds a request over the bound still waits for the fetch in
 * flight of s (see OJW_WAIT_GRACE_MS). */
static long long grace_of(const slot_header_t *s)
{
    long long g = (long long)s->state.fetch_ms * OJW_WAIT_GRACE_FACTOR;

    return g < OJW_WAIT_GRACE_MS ? OJW_WAIT_GRACE_MS
           : g > OJW_WAIT_GRACE_MAX_MS ? OJW_WAIT_GRACE_MAX_MS : g;
}

/* A place among the host's waiters for the fetch in flight of slot idx
 * (lock held): OJW_WAIT, or OJW_BUSY when every place is taken and the
 * fetch is no longer young. */
static ojw_decision_t take_place(ojw_cache_t *c, int idx, long long now,
                                 const ojw_refresh_policy_t *policy,
                                 ojw_ticket_t *t)
{
    slot_header_t *s = &c->slots[idx];
    int i, bound = bound_of(policy);

    if (policy->max_waiters <= 0 || placed(c, idx, t, bound)) {
        return OJW_WAIT;
    }
    for (i = 0; i < bound; i++) {
        if (!place_live(c, &c->places[i], now, policy)) {
            c->places[i].slot = idx;
            c->places[i].fetch = s->state.fetches;
            t->place = i + 1;
            t->fetch = s->state.fetches;
            return OJW_WAIT;
        }
    }
    t->place = 0;
    if (now - s->state.fetch_started < grace_of(s)) {
        return OJW_WAIT;        /* an honest issuer answers by then */
    }
    s->state.busy++;
    c->hdr->refused++;
    return OJW_BUSY;
}

apr_status_t ojw_cache_begin(ojw_cache_t *c, int idx, long long now,
                             const ojw_refresh_policy_t *policy,
                             apr_uint64_t stale_generation,
                             ojw_ticket_t *ticket,
                             ojw_decision_t *decision, ojw_slot_state_t *state)
{
    apr_status_t rv;
    slot_header_t *s = lock_slot(c, idx, &rv);
    int force;

    if (s == NULL) {
        return rv;
    }
    force = stale_generation != 0 && s->state.generation == stale_generation;
    *decision = ojw_refresh_decide(&s->state, now, policy, force);
    if (*decision == OJW_WAIT && ticket) {
        *decision = take_place(c, idx, now, policy, ticket);
    }
    if (*decision == OJW_FETCH) {
        s->state.fetch_started = now;
        s->state.attempted_at = now;
        s->state.fetches++;
        if (force) {
            s->state.forced_at = now;
            s->state.forced++;
        }
    }
    *state = s->state;
    return unlock(c);
}

apr_status_t ojw_cache_usage(ojw_cache_t *c, long long now,
                             const ojw_refresh_policy_t *policy,
                             ojw_cache_usage_t *u)
{
    apr_status_t rv;
    int i;

    memset(u, 0, sizeof(*u));
    if ((rv = apr_global_mutex_lock(c->mutex)) != APR_SUCCESS) {
        return rv;
    }
    u->region = c->hdr->region;
    u->used = c->hdr->used;
    u->refused = c->hdr->refused;
    u->full = c->hdr->full;
    u->places = policy->max_waiters > 0 ? bound_of(policy) : 0;
    for (i = 0; i < u->places; i++) {
        u->waiting += place_live(c, &c->places[i], now, policy);
    }
    for (i = 0; i < c->nslots; i++) {
        if (c->slots[i].doc) {
            u->documents++;
            if (c->slots[i].state.doc_len > u->largest) {
                u->largest = c->slots[i].state.doc_len;
            }
        }
    }
    return unlock(c);
}

/* ------------------------------------------------------------------ */
/* documents                                                            */

apr_status_t ojw_cache_state(ojw_cache_t *c, int idx, ojw_slot_state_t *state)
{
    apr_status_t rv;
    slot_header_t *s = lock_slot(c, idx, &rv);

    if (s == NULL) {
        return rv;
    }
    *state = s->state;
    return unlock(c);
}

apr_status_t ojw_cache_read(ojw_cache_t *c, int idx, apr_uint64_t known_gen,
                            apr_pool_t *pool, char **doc, apr_size_t *len,
                            ojw_slot_state_t *state)
{
    apr_status_t rv;
    slot_header_t *s;

    *doc = NULL;
    *len = 0;
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    *state = s->state;
    if (s->state.generation != known_gen && s->doc) {
        *doc = apr_pstrmemdup(pool, str_at(c, s->doc), s->state.doc_len);
        *len = s->state.doc_len;
    }
    return unlock(c);
}

apr_status_t ojw_cache_store(ojw_cache_t *c, int idx, long long now,
                             const char *doc, apr_size_t len,
                             const char *etag, long fresh_for, int nkeys)
{
    apr_status_t rv;
    slot_header_t *s;

    if (len > OJW_JWKS_MAX) {
        return APR_EINVAL;
    }
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    if (s->state.generation == 0 || s->state.doc_len != len
        || memcmp(str_at(c, s->doc), doc, len) != 0) {
        if ((rv = put_document(c, s, doc, len)) != APR_SUCCESS) {
            unlock(c);
            return rv;
        }
        s->state.generation++;
    }
    s->state.nkeys = nkeys > 0 ? (apr_uint32_t)nkeys : 0;
    fresh_again(s, now, fresh_for);
    apr_cpystrn(s->etag, etag && strlen(etag) < sizeof(s->etag) ? etag : "",
                sizeof(s->etag));
    return unlock(c);
}

apr_status_t ojw_cache_not_modified(ojw_cache_t *c, int idx, long long now,
                                    long fresh_for)
{
    apr_status_t rv;
    slot_header_t *s = lock_slot(c, idx, &rv);

    if (s == NULL) {
        return rv;
    }
    fresh_again(s, now, fresh_for);
    return unlock(c);
}

/* Copies a string of slot idx, chosen by pick, under the lock. */
static apr_status_t copy_string(ojw_cache_t *c, int idx,
                                const char *(*pick)(ojw_cache_t *,
                                                    const slot_header_t *),
                                char *buf, apr_size_t buflen)
{
    apr_status_t rv;
    slot_header_t *s;

    if (buflen == 0) {
        return APR_EINVAL;
    }
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    apr_cpystrn(buf, pick(c, s), buflen);
    return unlock(c);
}

static const char *etag_of(ojw_cache_t *c, const slot_header_t *s)
{
    (void)c;
    return s->state.generation ? s->etag : "";
}

static const char *last_error_of(ojw_cache_t *c, const slot_header_t *s)
{
    (void)c;
    return s->last_error;
}

static const char *issuer_of(ojw_cache_t *c, const slot_header_t *s)
{
    return str_at(c, s->issuer);
}

apr_status_t ojw_cache_issuer(ojw_cache_t *c, int idx, char *buf,
                              apr_size_t buflen)
{
    return copy_string(c, idx, issuer_of, buf, buflen);
}

apr_status_t ojw_cache_set_source(ojw_cache_t *c, int idx,
                                  const char *jwks_uri, long long discovered_at)
{
    apr_status_t rv;
    slot_header_t *s;

    if (strlen(jwks_uri) >= OJW_URL_MAX) {
        return APR_EINVAL;
    }
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    if ((rv = set_string(c, &s->jwks_uri, jwks_uri)) == APR_SUCCESS) {
        s->discovered_at = discovered_at;
    }
    unlock(c);
    return rv;
}

apr_status_t ojw_cache_source(ojw_cache_t *c, int idx, char *buf,
                              apr_size_t buflen, long long *discovered_at)
{
    apr_status_t rv;
    slot_header_t *s;

    if (buflen == 0) {
        return APR_EINVAL;
    }
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    apr_cpystrn(buf, str_at(c, s->jwks_uri), buflen);
    *discovered_at = s->discovered_at;
    return unlock(c);
}

apr_status_t ojw_cache_etag(ojw_cache_t *c, int idx, char *buf,
                            apr_size_t buflen)
{
    return copy_string(c, idx, etag_of, buf, buflen);
}

apr_status_t ojw_cache_fail(ojw_cache_t *c, int idx, long long now,
                            const char *error)
{
    apr_status_t rv;
    slot_header_t *s = lock_slot(c, idx, &rv);

    if (s == NULL) {
        return rv;
    }
    s->state.fetch_started = 0;
    s->state.attempted_at = now;
    s->state.failed_at = now;
    s->state.failures++;
    apr_cpystrn(s->last_error, error ? error : "", sizeof(s->last_error));
    return unlock(c);
}

apr_status_t ojw_cache_last_error(ojw_cache_t *c, int idx, char *buf,
                                  apr_size_t buflen)
{
    return copy_string(c, idx, last_error_of, buf, buflen);
}
