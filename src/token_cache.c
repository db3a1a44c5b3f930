/* SPDX-License-Identifier: Apache-2.0 */
/* Verified tokens of one process (see token_cache.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "token_cache.h"

#define SHARDS      16          /* a power of two */
#define TAIL_BYTES  32          /* of the signature, hashed */

typedef struct entry entry_t;
struct entry {
    entry_t *next_in_bucket;
    entry_t *newer, *older;     /* the shard's LRU list */
    apr_uint64_t hash;
    apr_uint32_t refs;          /* the cache's while linked, and each
                                 * holder's (atomic) */
    void *attached;             /* malloc()ed, or NULL (atomic) */
    ojw_cached_t value;         /* the kid points into this block */
    size_t len;
    char token[1];              /* len bytes, NUL, then kid */
};

/* The entry whose value v is. */
static entry_t *entry_of(const ojw_cached_t *v)
{
    return (entry_t *)(void *)((char *)(void *)v - offsetof(entry_t, value));
}

typedef struct {
    apr_thread_mutex_t *lock;
    entry_t **buckets;
    apr_size_t nbuckets;        /* a power of two */
    apr_size_t count, max;
    entry_t *newest, *oldest;
    apr_uint64_t hits, misses, evictions;
} shard_t;

struct ojw_token_cache {
    shard_t shards[SHARDS];
    apr_size_t max_entries;
};

/* FNV-1a over the length and the last TAIL_BYTES bytes: the signature,
 * which no one can choose for a token that verifies. */
static apr_uint64_t hash_of(const char *token, size_t len)
{
    apr_uint64_t h = 1469598103934665603ULL ^ (apr_uint64_t)len;
    size_t i = len > TAIL_BYTES ? len - TAIL_BYTES : 0;

    for (; i < len; i++) {
        h ^= (unsigned char)token[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void entry_free(entry_t *e)
{
    json_decref(e->value.claims);
    free(e->attached);
    free(e);
}

/* Lets one reference go: the last frees the entry. */
static void release(entry_t *e)
{
    if (apr_atomic_dec32(&e->refs) == 0) {
        entry_free(e);
    }
}

static apr_status_t release_cleanup(void *data)
{
    release(data);
    return APR_SUCCESS;
}

/* The entry, its reference (counted already) let go by a cleanup of
 * pool. */
static const ojw_cached_t *held_for(entry_t *e, apr_pool_t *pool)
{
    apr_pool_cleanup_register(pool, e, release_cleanup,
                              apr_pool_cleanup_null);
    return &e->value;
}

static apr_status_t cache_cleanup(void *data)
{
    ojw_token_cache_t *tc = data;
    entry_t *e, *next;
    int i;

    for (i = 0; i < SHARDS; i++) {
        for (e = tc->shards[i].newest; e; e = next) {
            next = e->older;
            release(e);         /* the cache's: holders keep theirs */
        }
        tc->shards[i].newest = tc->shards[i].oldest = NULL;
    }
    return APR_SUCCESS;
}

apr_size_t ojw_token_cache_entry_overhead(void)
{
    return sizeof(entry_t) + 2 * sizeof(entry_t *);
}

static apr_status_t shard_init(shard_t *s, apr_size_t max, apr_pool_t *pool)
{
    s->max = max;
    s->nbuckets = 1;
    while (s->nbuckets < 2 * max) {
        s->nbuckets <<= 1;
    }
    s->buckets = apr_pcalloc(pool, s->nbuckets * sizeof(entry_t *));
    return apr_thread_mutex_create(&s->lock, APR_THREAD_MUTEX_DEFAULT, pool);
}

apr_status_t ojw_token_cache_create(ojw_token_cache_t **tcp,
                                    apr_size_t max_entries, apr_pool_t *pool)
{
    ojw_token_cache_t *tc = apr_pcalloc(pool, sizeof(*tc));
    apr_size_t per_shard = (max_entries + SHARDS - 1) / SHARDS;
    apr_status_t rv = APR_SUCCESS;
    int i;

    *tcp = NULL;
    tc->max_entries = per_shard * SHARDS;
    for (i = 0; i < SHARDS && rv == APR_SUCCESS; i++) {
        rv = shard_init(&tc->shards[i], per_shard ? per_shard : 1, pool);
    }
    if (rv == APR_SUCCESS) {
        apr_pool_cleanup_register(pool, tc, cache_cleanup,
                                  apr_pool_cleanup_null);
        *tcp = tc;
    }
    return rv;
}

static shard_t *shard_of(ojw_token_cache_t *tc, apr_uint64_t hash)
{
    return &tc->shards[(hash >> 56) & (SHARDS - 1)];
}

/* The bucket slot that points at the first entry for token that accept
 * takes, or at the bucket's NULL end (lock held). */
static entry_t **find_if(shard_t *s, apr_uint64_t hash, const char *token,
                         size_t len, ojw_token_cache_accept_fn *accept,
                         void *baton)
{
    entry_t **at = &s->buckets[hash & (s->nbuckets - 1)];

    for (; *at; at = &(*at)->next_in_bucket) {
        entry_t *e = *at;

        if (e->hash == hash && e->len == len
            && memcmp(e->token, token, len) == 0 && accept(&e->value, baton)) {
            break;
        }
    }
    return at;
}

static int same_profile(const ojw_cached_t *e, void *profile)
{
    return e->profile == profile;
}

/* The bucket slot of the entry for (token, profile), or the NULL end. */
static entry_t **find(shard_t *s, apr_uint64_t hash, const char *token,
                      size_t len, const void *profile)
{
    return find_if(s, hash, token, len, same_profile, (void *)profile);
}

static void lru_unlink(shard_t *s, entry_t *e)
{
    if (e->newer) {
        e->newer->older = e->older;
    }
    else {
        s->newest = e->older;
    }
    if (e->older) {
        e->older->newer = e->newer;
    }
    else {
        s->oldest = e->newer;
    }
    e->newer = e->older = NULL;
}

static void lru_push(shard_t *s, entry_t *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest) {
        s->newest->newer = e;
    }
    s->newest = e;
    if (s->oldest == NULL) {
        s->oldest = e;
    }
}

/* Unlinks the entry *at points at from its bucket and the LRU list, and
 * lets the cache's reference go (lock held). */
static void drop(shard_t *s, entry_t **at)
{
    entry_t *e = *at;

    *at = e->next_in_bucket;
    lru_unlink(s, e);
    s->count--;
    release(e);
}

const ojw_cached_t *ojw_token_cache_find(ojw_token_cache_t *tc,
                                         const char *token, size_t len,
                                         ojw_token_cache_accept_fn *accept,
                                         void *baton, apr_pool_t *pool)
{
    apr_uint64_t hash = hash_of(token, len);
    shard_t *s = shard_of(tc, hash);
    entry_t *e;

    apr_thread_mutex_lock(s->lock);
    e = *find_if(s, hash, token, len, accept, baton);
    if (e == NULL) {
        s->misses++;
    }
    else {
        s->hits++;
        lru_unlink(s, e);
        lru_push(s, e);
        apr_atomic_inc32(&e->refs);
    }
    apr_thread_mutex_unlock(s->lock);
    return e ? held_for(e, pool) : NULL;
}

const ojw_cached_t *ojw_token_cache_get(ojw_token_cache_t *tc,
                                        const char *token, size_t len,
                                        const void *profile,
                                        apr_pool_t *pool)
{
    return ojw_token_cache_find(tc, token, len, same_profile, (void *)profile,
                                pool);
}

/* A new entry, the cache's reference counted: the token and kid in one
 * block. */
static entry_t *entry_make(const char *token, size_t len, apr_uint64_t hash,
                           const ojw_cached_t *v)
{
    size_t kid = v->kid ? strlen(v->kid) + 1 : 0;
    entry_t *e = malloc(sizeof(*e) + len + kid);

    if (e == NULL) {
        return NULL;
    }
    memset(e, 0, sizeof(*e));
    e->hash = hash;
    e->len = len;
    e->refs = 1;
    e->value = *v;
    memcpy(e->token, token, len);
    e->token[len] = '\0';
    e->value.kid = kid ? memcpy(e->token + len + 1, v->kid, kid) : NULL;
    e->value.claims = json_incref(v->claims);
    return e;
}

const ojw_cached_t *ojw_token_cache_put(ojw_token_cache_t *tc,
                                        const char *token, size_t len,
                                        const ojw_cached_t *v,
                                        apr_pool_t *pool)
{
    apr_uint64_t hash = hash_of(token, len);
    shard_t *s = shard_of(tc, hash);
    entry_t *e = entry_make(token, len, hash, v), **at;
    const ojw_cached_t *held;

    if (e == NULL) {
        return NULL;
    }
    if (pool) {                 /* before other threads can see it */
        apr_atomic_inc32(&e->refs);
        held = held_for(e, pool);
    }
    else {
        held = NULL;
    }
    apr_thread_mutex_lock(s->lock);
    if (*(at = find(s, hash, token, len, v->profile))) {
        drop(s, at);
    }
    if (s->count >= s->max) {
        entry_t *old = s->oldest;

        drop(s, find(s, old->hash, old->token, old->len, old->value.profile));
        s->evictions++;
    }
    at = &s->buckets[hash & (s->nbuckets - 1)];
    e->next_in_bucket = *at;
    *at = e;
    lru_push(s, e);
    s->count++;
    apr_thread_mutex_unlock(s->lock);
    return held;
}

void ojw_token_cache_remove(ojw_token_cache_t *tc, const char *token,
                            size_t len, const void *profile)
{
    apr_uint64_t hash = hash_of(token, len);
    shard_t *s = shard_of(tc, hash);
    entry_t **at;

    apr_thread_mutex_lock(s->lock);
    if (*(at = find(s, hash, token, len, profile))) {
        drop(s, at);
    }
    apr_thread_mutex_unlock(s->lock);
}

const void *ojw_token_cache_attached(const ojw_cached_t *v)
{
    return __atomic_load_n(&entry_of(v)->attached, __ATOMIC_ACQUIRE);
}

const void *ojw_token_cache_attach(const ojw_cached_t *v, void *data)
{
    entry_t *e = entry_of(v);
    void *none = NULL;

    if (__atomic_compare_exchange_n(&e->attached, &none, data, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return data;
    }
    free(data);         /* another thread's came first: none holds ours */
    return none;
}

void ojw_token_cache_stats(ojw_token_cache_t *tc, ojw_token_cache_stats_t *st)
{
    int i;

    memset(st, 0, sizeof(*st));
    st->max_entries = tc->max_entries;
    for (i = 0; i < SHARDS; i++) {
        shard_t *s = &tc->shards[i];

        apr_thread_mutex_lock(s->lock);
        st->hits += s->hits;
        st->misses += s->misses;
        st->evictions += s->evictions;
        st->entries += s->count;
        apr_thread_mutex_unlock(s->lock);
    }
}
