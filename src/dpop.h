/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DPoP proofs (RFC 9449), resource-server side: every rule of its
 * section 4.3 on a proof that is hostile input, the RFC 7638 thumbprint
 * of the proof's key, the htu comparison in the canonical form of
 * src/url.h. The replay store is the caller's: ojw_dpop_check() gives
 * the key and the expiry to store the jti under. When a proof is asked
 * for, and what else binds a token to its sender (cnf, the client
 * certificate), is src/binding.h's.
 */
#ifndef OJW_DPOP_H
#define OJW_DPOP_H

#include <jansson.h>
#include "ojw.h"
#include "dpop_nonce.h"

#define OJW_DPOP_PROOF_MAX      8192    /* bytes of a compact proof */
#define OJW_DPOP_JTI_MAX        256     /* bytes of a proof's jti */
#define OJW_DPOP_WINDOW_DEFAULT 60      /* seconds a proof is fresh */
#define OJW_DPOP_REPLAY_KEY_LEN 32      /* SHA-256 */

/* The algorithms a proof may use, space-separated, for algs="...". */
#define OJW_DPOP_ALGS "ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512"

/* The request a proof must fit. */
typedef struct {
    const char *method;         /* the HTTP method, as received */
    const char *url;            /* the URL the client addressed; query and
                                 * fragment are ignored */
    const char *access_token;   /* the token sent with the proof */
    size_t access_token_len;
    const char *jkt;            /* the access token's cnf.jkt */
    long window;                /* seconds after iat a proof is fresh */
    long skew;                  /* clock tolerance, seconds (>= 0) */
    long long now;              /* seconds since the epoch */
    const ojw_nonce_policy_t *nonce; /* a nonce is required (judged before
                                      * the signature), or NULL */
} ojw_dpop_request_t;

/* What the replay store needs of an accepted proof. */
typedef struct {
    unsigned char replay_key[OJW_DPOP_REPLAY_KEY_LEN]; /* SHA-256(jkt, jti) */
    long long expires;          /* the jti is kept until then (iat + window
                                 * + skew + 1) */
    const char *jkt;            /* the proof key's thumbprint */
    long nonce_age;             /* req->nonce: seconds since it was issued */
} ojw_dpop_proof_t;

/* The proof of a DPoP header field as received (value; NULL: none), or
 * NULL when there is none or more than one (4.3 step 1: httpd joins
 * repeated fields with ",", which a compact JWS never holds). */
const char *ojw_dpop_proof_header(const char *value);

/* Checks proof (len bytes) against req; OJW_OK, or OJW_ERR_DPOP_PROOF
 * (any rule of 4.3, including a key other than cnf.jkt) with the rule in
 * err's detail, or OJW_ERR_DPOP_NONCE (req->nonce set, and the proof has
 * no good nonce: found once the proof is parsed, before its signature
 * is verified). Never logs; never keeps the proof. */
ojw_reason_t ojw_dpop_check(ojw_dpop_proof_t *out, const char *proof,
                            size_t len, const ojw_dpop_request_t *req,
                            apr_pool_t *pool, ojw_error_t *err);

/* The error code of the DPoP challenge (RFC 9449 7.1 and 9) for a
 * refusal: "use_dpop_nonce" (OJW_ERR_DPOP_NONCE), "invalid_dpop_proof"
 * (no proof, a broken one, a replayed one), or NULL: the token's
 * (invalid_token). */
const char *ojw_dpop_challenge_error(ojw_reason_t reason);

/* The RFC 7638 SHA-256 thumbprint (base64url) of a public RSA or EC JWK
 * already checked by ojw_jwk_load(); NULL for another kty. */
const char *ojw_jwk_thumbprint(const json_t *jwk, apr_pool_t *pool);

#endif
