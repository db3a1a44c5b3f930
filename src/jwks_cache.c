/* SPDX-License-Identifier: Apache-2.0 */
/* JWKS documents in APR shared memory (see jwks_cache.h). */
#include <string.h>
#include <apr_strings.h>
#include "jwks_cache.h"

/* Layout of one slot; the document bytes follow the header. */
typedef struct {
    char url[OJW_URL_MAX];
    /* a discovery slot: the issuer its document must name, bound with url
     * at startup; "" for a JWKS slot */
    char issuer[OJW_URL_MAX];
    /* a discovery slot: the jwks_uri of the document held, and when the
     * discovery document that named it was read */
    char jwks_uri[OJW_URL_MAX];
    apr_int64_t discovered_at;
    ojw_slot_state_t state;
    char last_error[OJW_ERROR_MAX];
    char etag[OJW_ETAG_MAX];
    apr_size_t doc_len;
    /* written under the lock, read without it (ojw_cache_fresh) */
    apr_uint64_t fresh_generation;
    apr_int64_t fresh_until;
    /* the callers waiting for fetch number wait_fetch (state.fetches) */
    apr_uint32_t wait_fetch;
    apr_uint32_t waiters;
} slot_header_t;

struct ojw_cache {
    char *base;
    int nslots;
    apr_size_t doc_max;
    apr_size_t stride;
    apr_global_mutex_t *mutex;
};

#define ALIGN8(n) (((n) + 7) & ~(apr_size_t)7)

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

apr_size_t ojw_cache_size(int nslots, apr_size_t doc_max)
{
    return (apr_size_t)nslots * ALIGN8(sizeof(slot_header_t) + doc_max);
}

static slot_header_t *slot_at(ojw_cache_t *c, int idx)
{
    if (idx < 0 || idx >= c->nslots) {
        return NULL;
    }
    return (slot_header_t *)(c->base + (apr_size_t)idx * c->stride);
}

ojw_cache_t *ojw_cache_attach(void *base, apr_size_t size, int nslots,
                              apr_size_t doc_max, apr_global_mutex_t *mutex,
                              int init, apr_pool_t *pool)
{
    ojw_cache_t *c;

    if (base == NULL || size < ojw_cache_size(nslots, doc_max)) {
        return NULL;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    c->base = base;
    c->nslots = nslots;
    c->doc_max = doc_max;
    c->stride = ALIGN8(sizeof(slot_header_t) + doc_max);
    c->mutex = mutex;
    if (init) {
        memset(base, 0, ojw_cache_size(nslots, doc_max));
    }
    return c;
}

int ojw_cache_nslots(const ojw_cache_t *c)
{
    return c->nslots;
}

int ojw_cache_find(ojw_cache_t *c, const char *url)
{
    return ojw_cache_find_bound(c, url, NULL);
}

int ojw_cache_find_bound(ojw_cache_t *c, const char *url, const char *issuer)
{
    int i;

    for (i = 0; i < c->nslots; i++) {
        slot_header_t *s = slot_at(c, i);

        if (strcmp(s->url, url) == 0
            && strcmp(s->issuer, issuer ? issuer : "") == 0) {
            return i;
        }
    }
    return -1;
}

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

apr_status_t ojw_cache_copy_slot(ojw_cache_t *dst, int di, ojw_cache_t *src,
                                 int si)
{
    slot_header_t *d = slot_at(dst, di), *from = slot_at(src, si);
    char url[OJW_URL_MAX], issuer[OJW_URL_MAX];
    apr_status_t rv;

    if (d == NULL || from == NULL || from->doc_len > dst->doc_max
        || dst->mutex != src->mutex) {
        return APR_EINVAL;
    }
    if ((rv = apr_global_mutex_lock(src->mutex)) != APR_SUCCESS) {
        return rv;
    }
    memcpy(url, d->url, sizeof(url));
    memcpy(issuer, d->issuer, sizeof(issuer));
    memcpy(d, from, sizeof(*d) + from->doc_len);
    memcpy(d->url, url, sizeof(url));
    memcpy(d->issuer, issuer, sizeof(issuer));
    d->state.fetch_started = 0;
    return apr_global_mutex_unlock(src->mutex);
}

apr_status_t ojw_cache_set_url(ojw_cache_t *c, int idx, const char *url)
{
    return ojw_cache_bind(c, idx, url, NULL);
}

apr_status_t ojw_cache_bind(ojw_cache_t *c, int idx, const char *url,
                            const char *issuer)
{
    slot_header_t *s = slot_at(c, idx);

    if (issuer == NULL) {
        issuer = "";
    }
    if (s == NULL || strlen(url) >= sizeof(s->url)
        || strlen(issuer) >= sizeof(s->issuer)) {
        return APR_EINVAL;
    }
    apr_cpystrn(s->url, url, sizeof(s->url));
    apr_cpystrn(s->issuer, issuer, sizeof(s->issuer));
    return APR_SUCCESS;
}

/* A place among the waiters of the fetch in flight (lock held). */
static ojw_decision_t take_place(slot_header_t *s,
                                 const ojw_refresh_policy_t *policy,
                                 apr_uint32_t *ticket)
{
    if (*ticket != 0 && *ticket == s->state.fetches) {
        return OJW_WAIT;                /* placed already, for this fetch */
    }
    if (s->wait_fetch != s->state.fetches) {
        s->wait_fetch = s->state.fetches;       /* a new fetch: all free */
        s->waiters = 0;
    }
    if (policy->max_waiters > 0
        && s->waiters >= (apr_uint32_t)policy->max_waiters) {
        return OJW_BUSY;
    }
    s->waiters++;
    *ticket = s->state.fetches;
    return OJW_WAIT;
}

apr_status_t ojw_cache_begin(ojw_cache_t *c, int idx, long long now,
                             const ojw_refresh_policy_t *policy,
                             apr_uint64_t stale_generation,
                             apr_uint32_t *ticket,
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
        *decision = take_place(s, policy, ticket);
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
    if (s->state.generation != known_gen && s->doc_len > 0) {
        *doc = apr_pstrmemdup(pool, (const char *)(s + 1), s->doc_len);
        *len = s->doc_len;
    }
    return unlock(c);
}

apr_status_t ojw_cache_store(ojw_cache_t *c, int idx, long long now,
                             const char *doc, apr_size_t len,
                             const char *etag, long fresh_for)
{
    apr_status_t rv;
    slot_header_t *s;
    char *bytes;

    if (len > c->doc_max) {
        return APR_EINVAL;
    }
    if ((s = lock_slot(c, idx, &rv)) == NULL) {
        return rv;
    }
    bytes = (char *)(s + 1);
    if (s->state.generation == 0 || s->doc_len != len
        || memcmp(bytes, doc, len) != 0) {
        memcpy(bytes, doc, len);
        s->doc_len = len;
        s->state.generation++;
    }
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
                                const char *(*pick)(const slot_header_t *),
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
    apr_cpystrn(buf, pick(s), buflen);
    return unlock(c);
}

static const char *etag_of(const slot_header_t *s)
{
    return s->state.generation ? s->etag : "";
}

static const char *last_error_of(const slot_header_t *s)
{
    return s->last_error;
}

static const char *issuer_of(const slot_header_t *s)
{
    return s->issuer;
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
    apr_cpystrn(s->jwks_uri, jwks_uri, sizeof(s->jwks_uri));
    s->discovered_at = discovered_at;
    return unlock(c);
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
    apr_cpystrn(buf, s->jwks_uri, buflen);
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
