/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status document of the ordsjwt-status handler: per profile its
 * settings, the keys held (never key material), the JWKS fetch state and
 * the refusal counters. Built as JSON (for ?json) and rendered as HTML.
 */
#ifndef OJW_STATUS_H
#define OJW_STATUS_H

#include <jansson.h>
#include "ojw.h"
#include "jwks.h"
#include "jwks_cache.h"
#include "profile.h"

/* What the glue knows of one profile at the time of the request. */
typedef struct {
    const ojw_profile_t *profile;
    long allowed_skew;                /* effective values */
    long allowed_age;
    const ojw_keyset_t *keys;         /* NULL when none are held */
    const ojw_slot_state_t *slot;     /* NULL for static keys */
    const char *last_error;           /* "" or NULL when none */
    const char *jwks_uri;             /* discovery: the one it led to */
    long long discovered_at;          /* discovery: ms, 0 if never */
    const apr_uint32_t *counters;     /* OJW_REASON_COUNT, [OJW_OK] = accepted */
    int nkeys;                        /* keys held, when keys is NULL */
    int light;                        /* 1: keys not read; only name,
                                         jwk_url, nkeys, jwks, accepted and
                                         the refusals that happened */
} ojw_status_profile_t;

/* The JSON object for one profile (new reference). */
json_t *ojw_status_profile_json(const ojw_status_profile_t *sp,
                                const ojw_refresh_policy_t *policy,
                                long long now);

/* {reason name: count} of refusals (new reference); c may be NULL. */
json_t *ojw_status_counters_json(const apr_uint32_t *c);

/* What a status request asks for (its query string). */
enum { OJW_STATUS_HTML, OJW_STATUS_JSON, OJW_STATUS_METRICS };

#define OJW_STATUS_LIMIT_DEFAULT    100
#define OJW_STATUS_LIMIT_MAX        10000

typedef struct {
    int format;                 /* OJW_STATUS_*, -1: not said (Accept) */
    const char *profile;        /* profile=NAME, or NULL: all */
    long offset, limit;         /* the page of profiles (HTML, JSON) */
} ojw_status_query_t;

/* Parses "json", "metrics", "profile=NAME", "offset=N", "limit=N" joined
 * by "&" (values URL-decoded; other words ignored) into q, the rest at
 * their defaults. APR_EINVAL: a bad escape or NUL, an empty profile, an
 * offset not from 0 to INT_MAX, a limit not from 1 to
 * OJW_STATUS_LIMIT_MAX. args may be NULL. */
apr_status_t ojw_status_query_parse(ojw_status_query_t *q, const char *args,
                                    apr_pool_t *pool);

/* The summary of the profiles of a status document (new reference):
 * {"profiles": N, "errors": {"count": n, "profiles": [names]} (no keys,
 * the last fetch failed), "stale": {...} (keys kept after a failed
 * refresh), "refusals": {"count": n, "profiles": [{"name", "refused"}]}
 * (the most refused first)}; at most OJW_STATUS_SUMMARY_NAMES names each.
 * unattributed: the refusals before a profile was chosen, or NULL. */
#define OJW_STATUS_SUMMARY_NAMES 20
json_t *ojw_status_summary(const json_t *profiles, const json_t *unattributed);

/* An HTML page (pool memory) for a status document {"generated": N,
 * "profiles": [...]} with, when there, its "summary", "shared_memory",
 * "waiters" and "paging" ({"offset", "limit", "total"}). */
const char *ojw_status_html(apr_pool_t *pool, const json_t *doc);

#endif
