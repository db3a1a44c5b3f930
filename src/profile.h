/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An ORDS JWT profile, parsed from the arguments of
 *   OrdsJwtProfile NAME key=value ...
 * with the keys of ORDS_SECURITY.CREATE_JWT_PROFILE: issuer, audience,
 * jwk_url, allowed_skew, allowed_age, role_claim_name, description; and,
 * instead of jwk_url, pem_file (one static public key) with pem_kid, or
 * discovery_url (the issuer's metadata document naming its jwks_uri,
 * see discovery.h); token_type=at+jwt (RFC 9068 typing), dpop=allowed|
 * required (RFC 9449) and dpop_nonce=on|off (its resource-server nonces,
 * dpop_nonce.h), mtls=allowed|required (RFC 8705); an issuer may
 * be a template with one {tid} and tenants= the tenants it accepts
 * (tenant.h).
 *
 * The profiles of a location (AuthOrdsJwtProfile a b ...) form a set,
 * indexed when the configuration is read, that chooses the profile of a
 * token by its iss, then its aud, at a cost that does not grow with the
 * number of profiles.
 */
#ifndef OJW_PROFILE_H
#define OJW_PROFILE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "jwks.h"
#include "claims.h"
#include "token.h"
#include "settings.h"
#include "tenant.h"

/* Sender-constrained tokens (dpop=, mtls=): a bound token is checked
 * when allowed; required refuses unbound tokens. DPoP is off unless the
 * profile allows it (it needs the replay store); a token bound to a
 * certificate (cnf x5t#S256) is always checked. */
enum { OJW_BIND_OFF = 0, OJW_BIND_ALLOWED = 1, OJW_BIND_REQUIRED = 2 };

typedef struct {
    const char *name;
    const char *issuer;
    const char *audience;         /* the first audience= */
    apr_array_header_t *audiences; /* const char *: every audience=, in
                                    * order; a token's aud must hold one */
    const char *jwk_url;          /* NULL with pem_file or discovery_url */
    const char *discovery_url;    /* https: metadata naming the jwks_uri */
    const char *jwk_file;         /* file: URL -> absolute path, else NULL */
    const char *pem_file;         /* one static public key (PEM), or NULL */
    const char *pem_kid;          /* its kid; NULL: any kid is accepted */
    const char *role_claim_name;  /* RFC 6901 pointer, or NULL */
    const char *description;
    long allowed_skew;
    long allowed_age;
    int skew_set;
    int age_set;
    const char *token_type;       /* "at+jwt": typ must say so, or NULL */
    int dpop;                     /* OJW_BIND_OFF / _ALLOWED / _REQUIRED */
    int mtls;                     /* OJW_BIND_ALLOWED / _REQUIRED */
    int dpop_nonce;               /* dpop_nonce=on (1) or off (0): wins
                                   * over the location's OrdsJwtDpopNonce;
                                   * -1: not given, the location's */
    ojw_tenants_t *tenants;       /* issuer template: tenants=, or NULL */
    ojw_keyset_t *static_keys;    /* file: JWKS, loaded at startup */
    int slot;                     /* https: shared-memory slot, -1 if none */
    int index;                    /* row of its counters (the module's) */
} ojw_profile_t;

/* Parses "NAME key=value ..." (values may be "double quoted"); on error
 * returns NULL with a message naming the key and what is wrong. */
ojw_profile_t *ojw_profile_parse(const char *args, apr_pool_t *pool,
                                 const char **error);

/* Where the keys of an https profile come from, for messages:
 * "jwk_url URL" or "discovery_url URL". */
const char *ojw_profile_key_source(const ojw_profile_t *p, apr_pool_t *pool);

/* The effective skew/age: the profile's when set, else the default. */
long ojw_profile_skew(const ojw_profile_t *p, long default_skew);
long ojw_profile_age(const ojw_profile_t *p, long default_age);

/* 1 when aud (a string or an array of strings) holds one of p's
 * audiences, by exact comparison. */
int ojw_profile_accepts_aud(const ojw_profile_t *p, const json_t *aud);

/* The profiles of a location, in the order listed. */
typedef struct ojw_profile_set ojw_profile_set_t;

ojw_profile_set_t *ojw_profile_set_make(apr_pool_t *pool);

/* Adds p after the others: NULL, or why it cannot be: listed twice, or
 * a profile already listed that no token could tell from p (the same
 * issuer, or the same template, and a shared audience). Each audience of
 * p costs one lookup, whatever the number of profiles. */
const char *ojw_profile_set_add(ojw_profile_set_t *set,
                                const ojw_profile_t *p, apr_pool_t *pool);

int ojw_profile_set_count(const ojw_profile_set_t *set);

/* 1 when p is one of the set's profiles. */
int ojw_profile_set_contains(const ojw_profile_set_t *set,
                             const ojw_profile_t *p);

/* The profile that checks a token whose (not yet verified) iss is iss
 * and aud is aud (a string, an array, or NULL): the only one; else of
 * the profiles whose issuer equals iss the first listed that accepts
 * aud; else of the templates that iss fits (ojw_issuer_fits) the first
 * listed that accepts aud; else the first listed whose issuer equals
 * iss, else the first listed template that iss fits (its check then
 * says why the token is refused); NULL when none. */
const ojw_profile_t *ojw_profile_set_choose(const ojw_profile_set_t *set,
                                            const char *iss,
                                            const json_t *aud);

/* ojw_profile_set_choose() for a parsed token (its iss and aud, not yet
 * verified; read only when the set has more than one profile). */
const ojw_profile_t *ojw_profile_set_choose_token(
    const ojw_profile_set_t *set, ojw_token_t *tok, apr_pool_t *pool);

/* 1 when p is in the set and is the profile it chooses for claims (of a
 * verified token: its iss and aud): a cached verdict of p holds here. */
int ojw_profile_set_would_choose(const ojw_profile_set_t *set,
                                 const ojw_profile_t *p,
                                 const json_t *claims);

/* The same with the claims' iss (a string, or NULL) and aud read before
 * (a cached token's). */
int ojw_profile_set_would_choose_for(const ojw_profile_set_t *set,
                                     const ojw_profile_t *p, const char *iss,
                                     const json_t *aud);

/* 1 when a DPoP proof for a token of p needs a resource-server nonce:
 * p takes DPoP, and its dpop_nonce= says on, or it says nothing and the
 * location does (OrdsJwtDpopNonce: location is 1). */
int ojw_profile_nonce_required(const ojw_profile_t *p, int location);

/* The claim policy of p, with the server's defaults for skew and age. */
void ojw_profile_policy(ojw_claim_policy_t *policy, const ojw_profile_t *p,
                        long default_skew, long default_age);

/* Loads the static keys of p (jwk_url=file:, or pem_file) into
 * p->static_keys, from pool; NULL, or what is wrong ("cannot read PATH:
 * ...", "PATH: ..."). Nothing to do for an https profile. */
const char *ojw_profile_load_static_keys(ojw_profile_t *p, apr_pool_t *pool,
                                         ojw_jwks_note_fn *note, void *baton);

#endif
