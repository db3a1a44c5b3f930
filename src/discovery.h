/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issuer discovery: the issuer's metadata document (OpenID Connect
 * Discovery 1.0 /.well-known/openid-configuration, or RFC 8414
 * /.well-known/oauth-authorization-server) named by a profile's
 * discovery_url instead of jwk_url. Only two members matter: `issuer`,
 * which must equal the profile's issuer exactly (RFC 8414 section 3.3:
 * this stops mix-ups), and `jwks_uri`, which is then fetched as a jwk_url
 * is (https only).
 *
 * Where the documents live (the decision; see README "Issuer discovery"):
 * a discovery profile has one ordinary JWKS slot of the shared cache,
 * keyed by its discovery URL and its issuer. The slot holds the JWKS
 * (the keys the requests use), the jwks_uri it came from and when the
 * discovery document was last read. Every fetch of the slot reads the
 * discovery document first and then the jwks_uri it names, so a changed
 * jwks_uri is picked up at the next refresh, and the slot's single
 * flight, refresh interval, Cache-Control (the shorter of the two),
 * stale-if-error and 503 + Retry-After apply to the pair unchanged.
 */
#ifndef OJW_DISCOVERY_H
#define OJW_DISCOVERY_H

#include <apr_pools.h>
#include "jwks_fetch.h"

/* A discovery document is small; larger ones are refused. */
#define OJW_DISCOVERY_MAX   (64 * 1024)

typedef struct {
    const char *issuer;         /* pool memory */
    const char *jwks_uri;       /* pool memory, https:// */
} ojw_discovery_t;

/* Parses a discovery document (len bytes, hostile): a JSON object, no
 * duplicate members, with a string `issuer` and an https `jwks_uri` of at
 * most url_max - 1 bytes without blanks or control characters. On error
 * returns APR_EGENERAL with a reason in err. */
apr_status_t ojw_discovery_parse(ojw_discovery_t *out, const char *doc,
                                 apr_size_t len, apr_size_t url_max,
                                 apr_pool_t *pool, char *err,
                                 apr_size_t errlen);

/* Parses doc and checks that its issuer is exactly issuer; a mismatch is
 * APR_EMISMATCH with both values in err. */
apr_status_t ojw_discovery_check(ojw_discovery_t *out, const char *doc,
                                 apr_size_t len, const char *issuer,
                                 apr_size_t url_max, apr_pool_t *pool,
                                 char *err, apr_size_t errlen);

/* Why a fetch of the discovery document at url, for a profile of issuer,
 * failed, as a sentence (pool memory), and what to do about it (*hint, or
 * NULL): an OCI IAM domain that hides its metadata (its host or the OCI
 * issuer tells), an HTML page, a wrong path. */
const char *ojw_discovery_fetch_cause(const char *url, const char *issuer,
                                      const ojw_fetch_result_t *res,
                                      const char **hint, apr_pool_t *pool);

#endif
