/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWKS documents in shared memory, shared by every child process and
 * guarded by one global mutex. One segment holds a table of slots, one
 * per JWK URL (the fetch bookkeeping, a generation number bumped on every
 * change, the last error and ETag), the waiter places of the whole host,
 * and one region (apr_rmm) where each slot's URL and document take their
 * own size: the region grows with what is held, not with the largest
 * document allowed (OJW_JWKS_MAX stays a limit on one document). Processes
 * copy out under the lock and parse outside it; only one process fetches
 * a URL at a time.
 */
#ifndef OJW_JWKS_CACHE_H
#define OJW_JWKS_CACHE_H

#include <apr_global_mutex.h>
#include <apr_pools.h>
#include "ojw.h"

#define OJW_URL_MAX     2048
#define OJW_ERROR_MAX   512
#define OJW_ETAG_MAX    256

/* What a slot's bookkeeping says. Every time here and every `now` below
 * is in milliseconds since the epoch (apr_time_as_msec), so that "once per
 * min interval" holds across a second boundary; durations (refresh_after,
 * fresh_for, the policy) are in seconds. */
typedef struct {
    apr_uint64_t generation;  /* 0: never had a document */
    apr_int64_t fetched_at;   /* last successful fetch, 0 if none */
    apr_int64_t attempted_at; /* last fetch attempt, 0 if none */
    apr_int64_t fetch_started;/* a fetch is under way since, 0 if none */
    apr_int64_t refresh_after;/* seconds the document is fresh, 0: policy */
    apr_int64_t failed_at;    /* last failed fetch, 0 if none */
    apr_int64_t forced_at;    /* last refetch forced by an unknown kid */
    apr_uint32_t fetches;     /* attempts, successful or not */
    apr_uint32_t failures;
    apr_uint32_t forced;      /* refetches forced by an unknown kid */
    apr_uint32_t nkeys;       /* usable keys of the document held */
    apr_uint32_t busy;        /* waits refused: the host's places taken */
    apr_uint32_t fetch_ms;    /* how long the last successful fetch took */
    apr_size_t doc_len;       /* bytes of the document held */
} ojw_slot_state_t;

typedef struct {
    long refresh_interval;    /* refetch after this many seconds */
    long min_interval;        /* never attempt more often than this, and
                                 never force a refetch more often */
    long fetch_timeout;       /* a fetch older than this is presumed dead */
    long max_stale;           /* use keys this long after refresh is due */
    int max_waiters;          /* requests of the whole host that may
                                 wait for fetches (OJW_PLACES_MAX at most);
                                 0: no bound (tests of the decision) */
} ojw_refresh_policy_t;

/* Requests wait for a fetch in flight while there are no keys to use (or
 * while an unknown kid waits for new ones). They take places, host-wide
 * (all JWK URLs together): with the places taken, a request still waits
 * while the fetch it wants is younger than its grace (an honest issuer
 * answers by then, so a key rotation under load sees no 503), and is then
 * answered 503 with Retry-After. The grace is OJW_WAIT_GRACE_MS, or
 * OJW_WAIT_GRACE_FACTOR times the slot's last successful fetch when that
 * is longer (a slow link, a loaded or instrumented server), at most
 * OJW_WAIT_GRACE_MAX_MS. A hung issuer so parks at most
 * policy->max_waiters workers beside the ones fetching, after its grace.
 * A place belongs to one fetch: it is free again when
 * that fetch ends or is presumed dead, so a caller that dies leaks none. */
#define OJW_PLACES_MAX          1024
#define OJW_WAIT_GRACE_MS       100
#define OJW_WAIT_GRACE_FACTOR   4
#define OJW_WAIT_GRACE_MAX_MS   1000

/* Shared memory for documents when OrdsJwtJwksCacheSize is auto: room
 * for two of the largest documents (one being replaced) and, per JWK URL,
 * room for a document several times the size of a usual JWKS. */
#define OJW_REGION_BASE         (2 * (apr_size_t)OJW_JWKS_MAX)
#define OJW_REGION_PER_SLOT     ((apr_size_t)16 * 1024)

/* How long a fetched document stays fresh: the issuer's Cache-Control
 * max-age when it is shorter than refresh_interval, but never less than
 * min_interval; max_age < 0 means the issuer said nothing. */
long ojw_fresh_for(long max_age, const ojw_refresh_policy_t *policy);

typedef enum {
    OJW_USE,          /* use the document in the slot */
    OJW_FETCH,        /* this caller must fetch (the slot is claimed) */
    OJW_WAIT,         /* another process is fetching and there is no doc */
    OJW_UNAVAILABLE,  /* no usable document; do not fetch now */
    OJW_BUSY          /* as OJW_WAIT, but enough callers wait already */
} ojw_decision_t;

/* The pure decision: what to do with a slot in state s at time now.
 * force (the keys lack a kid) asks for a fetch when no other forced
 * refetch happened within the min interval (whatever other fetches did),
 * and waits for a fetch already under way rather than use the old keys. */
ojw_decision_t ojw_refresh_decide(const ojw_slot_state_t *s, long long now,
                                  const ojw_refresh_policy_t *policy,
                                  int force);

/* Seconds until a fetch may be attempted again (at least 1). */
long ojw_retry_after(const ojw_slot_state_t *s, long long now,
                     const ojw_refresh_policy_t *policy);

typedef struct ojw_cache ojw_cache_t;

/* The region for nslots JWK URLs when its size is not configured. */
apr_size_t ojw_cache_region_auto(int nslots);

/* What a region is expected to need for nslots JWK URLs whose URLs and
 * issuers take names bytes: the names, a JWKS of a few keys with their
 * certificates per URL (OJW_REGION_TYPICAL), and one of the largest
 * documents being replaced. */
#define OJW_REGION_TYPICAL      ((apr_size_t)8 * 1024)
apr_size_t ojw_cache_region_estimate(int nslots, apr_size_t names);

/* Bytes of shared memory for nslots slots and a region of region bytes
 * for their URLs and documents. */
apr_size_t ojw_cache_size(int nslots, apr_size_t region);

/* Lays out (init=1, in the parent) or adopts (init=0) the segment at
 * base, of ojw_cache_size(nslots, region) bytes at least; NULL when it
 * is smaller or the region cannot hold its own bookkeeping. */
ojw_cache_t *ojw_cache_attach(void *base, apr_size_t size, int nslots,
                              apr_size_t region, apr_global_mutex_t *mutex,
                              int init, apr_pool_t *pool);

/* What the segment holds now. */
typedef struct {
    apr_size_t region;          /* bytes for URLs and documents */
    apr_size_t used;            /* of them in use */
    apr_size_t largest;         /* the largest document held */
    int documents;              /* slots holding one */
    int places;                 /* the waiters' places (policy bound) */
    int waiting;                /* requests in them now */
    apr_uint64_t refused;       /* waits refused since the segment began */
    apr_uint64_t full;          /* documents refused for want of room */
} ojw_cache_usage_t;

/* The usage now; places counts max_waiters (policy) places, at most
 * OJW_PLACES_MAX. */
apr_status_t ojw_cache_usage(ojw_cache_t *c, long long now,
                             const ojw_refresh_policy_t *policy,
                             ojw_cache_usage_t *u);

/* Number of slots; the JWKS slot bound to url, or -1 (the parent, at
 * startup: the first call builds an index of the slots, not thread-safe). */
int ojw_cache_nslots(const ojw_cache_t *c);
int ojw_cache_find(ojw_cache_t *c, const char *url);

/* The slot bound to url and issuer (NULL: a JWKS slot), or -1. */
int ojw_cache_find_bound(ojw_cache_t *c, const char *url, const char *issuer);

/* Copies slot si of src (document, state, ETag) into slot di of dst, as
 * when the set of URLs changes on a graceful restart. dst and src must
 * share one mutex. APR_ENOSPC: dst's region has no room for the document
 * (the slot stays empty). */
apr_status_t ojw_cache_copy_slot(ojw_cache_t *dst, int di, ojw_cache_t *src,
                                 int si);

/* Binds slot idx to url (parent, at startup); APR_ENOSPC when the region
 * has no room for it. */
apr_status_t ojw_cache_set_url(ojw_cache_t *c, int idx, const char *url);

/* Binds slot idx to url and, when issuer is not NULL, makes it a
 * discovery slot (discovery.h): url is the discovery document, whose
 * issuer must be exactly issuer; the slot's document is the JWKS at the
 * jwks_uri it names. Parent, at startup. */
apr_status_t ojw_cache_bind(ojw_cache_t *c, int idx, const char *url,
                            const char *issuer);

/* The issuer a discovery slot is bound to (copied into buf), "" for a
 * JWKS slot. */
apr_status_t ojw_cache_issuer(ojw_cache_t *c, int idx, char *buf,
                              apr_size_t buflen);

/* A discovery slot: records the jwks_uri of the document being stored
 * and when the discovery document naming it was read (milliseconds); by
 * the caller that holds the fetch, before store() or not_modified(). */
apr_status_t ojw_cache_set_source(ojw_cache_t *c, int idx,
                                  const char *jwks_uri,
                                  long long discovered_at);

/* The jwks_uri the slot's document came from ("" if none or a JWKS slot)
 * and when discovery last led to it (0 if never). */
apr_status_t ojw_cache_source(ojw_cache_t *c, int idx, char *buf,
                              apr_size_t buflen, long long *discovered_at);

/* Looks at slot idx under the lock and decides; on OJW_FETCH the slot is
 * marked as being fetched by the caller, who must call store() or fail().
 * stale_generation, when not 0, is the generation whose keys lacked a kid:
 * a refetch is forced only while the slot still holds it (if another
 * process refreshed meanwhile, its newer keys are used instead).
 * ticket (NULL: not counted) bounds the waiters: a caller told OJW_WAIT
 * holds one of the host's policy->max_waiters places for the fetch in
 * flight, kept in *ticket (start zeroed) so that asking again takes no
 * second place; when the places are taken it waits without one while the
 * fetch is younger than OJW_WAIT_GRACE_MS, then the answer is OJW_BUSY. */
typedef struct {
    apr_uint32_t fetch;         /* the fetch waited for */
    int place;                  /* 1 + the place held, 0: none */
} ojw_ticket_t;

apr_status_t ojw_cache_begin(ojw_cache_t *c, int idx, long long now,
                             const ojw_refresh_policy_t *policy,
                             apr_uint64_t stale_generation,
                             ojw_ticket_t *ticket,
                             ojw_decision_t *decision, ojw_slot_state_t *state);


/* 1 when a caller that is not forced would be told OJW_USE now, with the
 * slot's generation in *generation; read without the lock, so that the
 * common case takes no global mutex. 0: ask ojw_cache_begin(). */
int ojw_cache_fresh(ojw_cache_t *c, int idx, long long now,
                    apr_uint64_t *generation);

/* The state of slot idx, read under the lock. */
apr_status_t ojw_cache_state(ojw_cache_t *c, int idx, ojw_slot_state_t *state);

/* Copies the document out if its generation differs from known_gen. */
apr_status_t ojw_cache_read(ojw_cache_t *c, int idx, apr_uint64_t known_gen,
                            apr_pool_t *pool, char **doc, apr_size_t *len,
                            ojw_slot_state_t *state);

/* Ends a fetch with a good document of nkeys usable keys (generation
 * bumped if it changed), fresh for fresh_for seconds; etag may be NULL.
 * APR_EINVAL: longer than OJW_JWKS_MAX; APR_ENOSPC: no room for it in the
 * region (the previous document stays, the fetch is not ended: the
 * caller fails it, naming OrdsJwtJwksCacheSize). */
apr_status_t ojw_cache_store(ojw_cache_t *c, int idx, long long now,
                             const char *doc, apr_size_t len,
                             const char *etag, long fresh_for, int nkeys);

/* Ends a fetch answered 304 Not Modified: the document is fresh again. */
apr_status_t ojw_cache_not_modified(ojw_cache_t *c, int idx, long long now,
                                    long fresh_for);

/* The ETag of the slot's document (copied into buf), "" if none. */
apr_status_t ojw_cache_etag(ojw_cache_t *c, int idx, char *buf,
                            apr_size_t buflen);

/* Ends a fetch that failed; the previous document stays. */
apr_status_t ojw_cache_fail(ojw_cache_t *c, int idx, long long now,
                            const char *error);

/* The last fetch error of slot idx (copied into buf), "" if none. */
apr_status_t ojw_cache_last_error(ojw_cache_t *c, int idx, char *buf,
                                  apr_size_t buflen);

#endif
