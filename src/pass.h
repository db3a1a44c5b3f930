/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Passing verified claims on to the backend: environment variable and
 * header names, values as text without control characters, and the
 * incoming headers that could be mistaken for ours.
 */
#ifndef OJW_PASS_H
#define OJW_PASS_H

#include <jansson.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>

#define OJW_PASS_VALUE_MAX 4096   /* bytes of one passed value */

/* A claim value as text: strings as is, numbers and booleans as JSON text,
 * arrays of scalars joined with ",", objects (and nested arrays) as compact
 * JSON; control characters removed; at most max bytes (UTF-8 safe), with
 * *truncated set when cut. NULL for JSON null. */
const char *ojw_pass_value(apr_pool_t *pool, const json_t *v, size_t max,
                           int *truncated);

/* s without control characters, cut at max bytes on a UTF-8 character
 * boundary (*truncated set when cut). */
const char *ojw_pass_text(apr_pool_t *pool, const char *s, size_t max,
                          int *truncated);

/* "ORDSJWT_CLAIM_" + name, with every character other than A-Z a-z 0-9
 * turned into "_". */
const char *ojw_pass_env_name(apr_pool_t *pool, const char *claim);

/* "X-OrdsJwt-Claim-" + name, with every character other than A-Z a-z 0-9
 * turned into "-". */
const char *ojw_pass_header_name(apr_pool_t *pool, const char *claim);

/* Claims whose names collide once mapped: two or more top-level claims
 * with the same environment variable name, or the same header name, with
 * letters in any case (apr tables, r->subprocess_env and r->headers_in
 * among them, compare keys so: one value would overwrite the other). */
typedef struct {
    apr_hash_t *dropped;    /* claim name -> itself, for each claim that
                             * must not be passed */
    const char *names;      /* every colliding claim, "sub" too, as a JSON
                             * array in the token's order, at most max
                             * bytes (cut with "..."); NULL when none */
} ojw_pass_collisions_t;

/* Finds the colliding claims of claims: none of them is passed, except
 * "sub", which keeps its names whatever collides with it. */
void ojw_pass_collisions(ojw_pass_collisions_t *out, apr_pool_t *pool,
                         const json_t *claims, size_t max);

/* 1 when a request header name could be mistaken for one of ours: it
 * starts with "X-OrdsJwt-" or "OrdsJwt-" in any case, "_" or "-". */
int ojw_pass_is_lookalike(const char *header_name);

/* The token's scopes ("scope" and "scp"), space-separated, or "". */
const char *ojw_pass_scopes(apr_pool_t *pool, const json_t *claims);

/* The roles at pointer, comma-separated, or "". */
const char *ojw_pass_roles(apr_pool_t *pool, const json_t *claims,
                           const char *pointer);

/* One value for the backend, under its environment variable and its
 * header name. */
typedef struct {
    const char *env, *header, *value;
    int truncated;              /* the value was cut to OJW_PASS_VALUE_MAX */
} ojw_pass_pair_t;

/*
 * What an accepted token leaves on its request, worked out once: the
 * pairs for the backend (every top-level claim whose names collide with
 * no other's, then the profile, the scopes and the roles), whatever the
 * location passes (OrdsJwtPassClaims only chooses the tables), and the
 * texts of its log notes, the caller's. A token cache entry keeps it
 * (ojw_passed_pack), so that a hit only adds the pairs.
 */
typedef struct {
    const ojw_pass_pair_t *pairs;
    int npairs;
    int ntruncated;             /* pairs whose value was cut */
    const char *collisions;     /* ojw_pass_collisions' names, or NULL */
    const char *note_profile, *note_kid, *note_sub;     /* or NULL */
} ojw_passed_t;

/* The pairs of claims checked by the profile named profile whose roles
 * are at role_pointer (may be NULL), in pool; no notes. */
void ojw_passed_make(ojw_passed_t *out, apr_pool_t *pool,
                     const json_t *claims, const char *profile,
                     const char *role_pointer);

/* p as one block from malloc(), every string within it (free() frees
 * all); NULL when memory is short. */
ojw_passed_t *ojw_passed_pack(const ojw_passed_t *p);

/* Sets p's pairs (apr_table_setn: the strings must outlive the tables)
 * into env by their environment variable names and into headers by
 * their header names; either may be NULL (not passed there). */
void ojw_passed_set(const ojw_passed_t *p, apr_table_t *env,
                    apr_table_t *headers);

#endif
