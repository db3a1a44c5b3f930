/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signing keys of one process. For each JWKS slot of the shared cache
 * (jwks_cache.h) a process keeps the key set parsed from the slot's
 * current generation, shared by its threads and replaced when the shared
 * document changes (requests still holding the old set keep it until
 * their pool goes). Getting keys for a request is one loop: use the keys,
 * fetch them (one process at a time, the others use or wait), or wait for
 * a fetch in flight (at most policy->max_waiters requests of the host,
 * all URLs together, once the fetch is past its first OJW_WAIT_GRACE_MS;
 * the others are told at once to come back). An unknown kid asks for one forced refetch (the
 * shared min interval bounds those) and the token is verified once more.
 *
 * A slot bound with an issuer (ojw_cache_bind) is a discovery slot: each
 * of its fetches reads the discovery document at the slot's URL, checks
 * it (discovery.h) and then fetches the jwks_uri it names, so that the
 * single flight, refresh, stale-if-error and waiting apply to the pair
 * and a changed jwks_uri is followed at the next refresh.
 *
 * The clock, sleeping, fetching and reporting are injected (ojw_keys_env_t)
 * so that unit tests drive the races without httpd or a network.
 */
#ifndef OJW_KEYS_H
#define OJW_KEYS_H

#include <apr_pools.h>
#include <apr_time.h>
#include "ojw.h"
#include "jwks.h"
#include "jwks_cache.h"
#include "jwks_fetch.h"
#include "token.h"

/* What happened while getting keys, for the caller's log. */
typedef enum {
    OJW_KEYS_FETCHED,           /* url, res, nkeys */
    OJW_KEYS_NOT_MODIFIED,      /* url, fresh_for */
    OJW_KEYS_FETCH_FAILED,      /* url, cause, res, stale */
    OJW_KEYS_SHARED_UNUSABLE,   /* url, cause: the shared doc does not parse */
    OJW_KEYS_REFETCHED,         /* url: verifying again after an unknown kid */
    OJW_KEYS_DISCOVERED,        /* url (discovery), jwks_uri */
    OJW_KEYS_DISCOVERY_FAILED   /* url (discovery), cause, res, hint,
                                   mismatch, stale */
} ojw_keys_event_type_t;

typedef struct {
    ojw_keys_event_type_t type;
    const char *url;
    const char *cause;
    const ojw_fetch_result_t *res;
    int stale;                  /* the previous keys stay in use */
    int nkeys;
    long fresh_for;
    const char *jwks_uri;       /* the one a discovery document named */
    const char *hint;           /* a discovery failure's, or NULL */
    int mismatch;               /* the discovery document's issuer differs */
} ojw_keys_event_t;

typedef struct {
    /* fetches url as ojw_fetch() does */
    apr_status_t (*fetch)(void *baton, const char *url,
                          const ojw_fetch_opts_t *opts,
                          ojw_fetch_result_t *res, apr_pool_t *pool);
    apr_time_t (*now)(void *baton);
    void (*sleep)(void *baton, apr_interval_time_t t);
    /* ctx is the caller's, as given to ojw_keys_get() (e.g. a request) */
    void (*report)(void *baton, void *ctx, const ojw_keys_event_t *ev);
    ojw_jwks_note_fn *note;     /* skipped keys of a fetched document */
    void *baton;
} ojw_keys_env_t;

/* libcurl, apr_time_now and apr_sleep; report and note stay NULL. */
void ojw_keys_env_default(ojw_keys_env_t *env);

#define OJW_KEYS_WAIT_STEP  apr_time_from_msec(25)

typedef struct ojw_keys ojw_keys_t;

/* The keys of one process over cache, whose slot i holds urls[i]; all
 * allocated from pool (a child's). */
apr_status_t ojw_keys_create(ojw_keys_t **keys, ojw_cache_t *cache,
                             const char *const *urls, int nslots,
                             const ojw_refresh_policy_t *policy,
                             const ojw_fetch_opts_t *fetch,
                             const ojw_keys_env_t *env, apr_pool_t *pool);

/* The keys got for a request. */
typedef struct {
    const ojw_keyset_t *ks;     /* NULL: none can be had now */
    apr_uint64_t generation;
    long retry_after;           /* seconds, when ks is NULL */
    int busy;                   /* refused a wait: the places are taken */
} ojw_keys_use_t;

/* The slot's keys, held for the life of pool (a request's), fetched here
 * when due. stale_generation, when not 0, names keys that lacked a kid: a
 * refetch is forced unless newer keys are already there or another forced
 * refetch happened within the min interval. */
void ojw_keys_get(ojw_keys_use_t *out, ojw_keys_t *keys, int slot,
                  apr_uint64_t stale_generation, apr_pool_t *pool, void *ctx);

/* Verifies tok with the slot's keys and, on an unknown kid, once more
 * with refetched ones. OJW_OK, a refusal in err, or
 * OJW_ERR_KEYS_UNAVAILABLE (out->retry_after says when to try again). */
ojw_reason_t ojw_keys_verify(ojw_keys_use_t *out, ojw_keys_t *keys, int slot,
                             ojw_token_t *tok, apr_pool_t *pool, void *ctx,
                             ojw_error_t *err);

/* The generation of the slot's current keys (out->generation; 0: none can
 * be had), for a cached verdict: without the global mutex while the keys
 * are fresh (out->ks stays NULL then), else as ojw_keys_get() does, which
 * fetches when due. */
void ojw_keys_generation(ojw_keys_use_t *out, ojw_keys_t *keys, int slot,
                         apr_pool_t *pool, void *ctx);

/* The URL of a slot. */
const char *ojw_keys_url(const ojw_keys_t *keys, int slot);

#endif
