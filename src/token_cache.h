/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verified tokens of one process, so that a token seen again is not
 * verified from scratch. The key is the whole compact token and the
 * profile it was verified for: all bytes are compared, a hash of the
 * signature's tail only picks the bucket. Bounded by a number of entries,
 * least recently used out first; sharded, each shard behind its own
 * mutex, so that the threads of a process rarely meet.
 *
 * An entry is what authorization and the backend need: the claims (a
 * jansson reference, read-only once cached), what was read of them once
 * (the subject, iss and aud, the dates), the kid, the slot and
 * generation of the keys that verified it, and a block the caller may
 * attach later (what the backend gets of it, prepared once). Whether an
 * entry may still be used (keys still current, exp/nbf/age at this time)
 * is the caller's decision on every hit; only accepted tokens are put.
 *
 * A hit is the entry itself, not a copy: it is counted, and stays whole
 * (strings, claims, the attached block) until a cleanup of the pool of
 * the lookup lets it go, even when the cache drops it meanwhile.
 */
#ifndef OJW_TOKEN_CACHE_H
#define OJW_TOKEN_CACHE_H

#include <apr_pools.h>
#include <jansson.h>
#include "ojw.h"
#include "claims.h"

typedef struct ojw_token_cache ojw_token_cache_t;

typedef struct {
    const void *profile;        /* what it was verified for (compared only) */
    int slot;                   /* JWKS slot, -1 for static keys */
    apr_uint64_t generation;    /* of the keys that verified it */
    json_t *claims;
    const char *kid;            /* NULL when the token had none */
    const char *subject;        /* the sub claim (in claims) */
    const char *iss;            /* the iss claim (in claims), or NULL */
    const json_t *aud;          /* the aud claim (in claims), or NULL */
    ojw_claim_times_t times;    /* of the claims */
} ojw_cached_t;

/* Bytes an entry takes besides its token and claims (for the README). */
apr_size_t ojw_token_cache_entry_overhead(void);

/* A cache of at most max_entries (at least one per shard); its memory is
 * released by a cleanup of pool. */
apr_status_t ojw_token_cache_create(ojw_token_cache_t **tc,
                                    apr_size_t max_entries, apr_pool_t *pool);

/* The entry for (token, profile), made the most recently used and held
 * until a cleanup of pool; NULL on a miss. */
const ojw_cached_t *ojw_token_cache_get(ojw_token_cache_t *tc,
                                        const char *token, size_t len,
                                        const void *profile,
                                        apr_pool_t *pool);

/* Whether an entry found for a token may be used, e.g. its profile is
 * the one a location would choose; called with the entry's shard
 * locked: quick, and no calls into the cache. */
typedef int ojw_token_cache_accept_fn(const ojw_cached_t *entry,
                                      void *baton);

/* As ojw_token_cache_get(), with one lookup of the token for whichever
 * profile: the most recently put entry of the token that accept takes. */
const ojw_cached_t *ojw_token_cache_find(ojw_token_cache_t *tc,
                                         const char *token, size_t len,
                                         ojw_token_cache_accept_fn *accept,
                                         void *baton, apr_pool_t *pool);

/* Adds (or replaces) the entry for (token, e->profile); takes its own
 * reference to e->claims and copies the kid (subject, iss and aud must
 * point into e->claims). The least recently used entry of the shard goes
 * when the shard is full. Returns the new entry, held until a cleanup of
 * pool (NULL pool: not held, and NULL is returned), or NULL when memory
 * is short (nothing is cached then). */
const ojw_cached_t *ojw_token_cache_put(ojw_token_cache_t *tc,
                                        const char *token, size_t len,
                                        const ojw_cached_t *e,
                                        apr_pool_t *pool);

/* Drops the entry for (token, profile), if any (its holders keep it). */
void ojw_token_cache_remove(ojw_token_cache_t *tc, const char *token,
                            size_t len, const void *profile);

/* The block attached to a held entry, or NULL. */
const void *ojw_token_cache_attached(const ojw_cached_t *e);

/* Attaches data, a block from malloc() that the entry frees when it
 * goes, to a held entry that has none; when one was attached first (by
 * another thread), data is freed. Returns the block attached. */
const void *ojw_token_cache_attach(const ojw_cached_t *e, void *data);

typedef struct {
    apr_uint64_t hits, misses, evictions;
    apr_size_t entries, max_entries;
} ojw_token_cache_stats_t;

void ojw_token_cache_stats(ojw_token_cache_t *tc,
                           ojw_token_cache_stats_t *stats);

#endif
