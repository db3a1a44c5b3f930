/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DPoP proofs (RFC 9449), resource-server side: every rule of its
 * section 4.3 on a proof that is hostile input, the RFC 7638 thumbprint
 * of the proof's key, the htu comparison after RFC 3986 normalisation,
 * and the confirmation (cnf) members of bound access tokens (RFC 9449
 * 6.1 jkt, RFC 8705 3.1 x5t#S256). The replay store is the caller's:
 * ojw_dpop_check() gives the key and the expiry to store the jti under.
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

/* Checks proof (len bytes) against req; OJW_OK, or OJW_ERR_DPOP_PROOF
 * (any rule of 4.3, including a key other than cnf.jkt) with the rule in
 * err's detail, or OJW_ERR_DPOP_NONCE (req->nonce set, and the proof has
 * no good nonce: found once the proof is parsed, before its signature
 * is verified). Never logs; never keeps the proof. */
ojw_reason_t ojw_dpop_check(ojw_dpop_proof_t *out, const char *proof,
                            size_t len, const ojw_dpop_request_t *req,
                            apr_pool_t *pool, ojw_error_t *err);

/* The RFC 7638 SHA-256 thumbprint (base64url) of a public RSA or EC JWK
 * already checked by ojw_jwk_load(); NULL for another kty. */
const char *ojw_jwk_thumbprint(const json_t *jwk, apr_pool_t *pool);

/* An http(s) URL without query and fragment, normalised (RFC 3986 6.2.2
 * and 6.2.3): scheme and host in lower case, the default port dropped,
 * an empty path made "/", percent-encodings of unreserved characters
 * decoded and the others' hex digits upper-cased, dot segments removed.
 * NULL with *why when it is not such a URL (userinfo, no host, a bad
 * percent-encoding, a byte outside printable ASCII). */
const char *ojw_url_normalise(const char *url, apr_pool_t *pool,
                              const char **why);

/* The length of url's "http://" (7) or "https://" (8), in any case; 0 for
 * another scheme. */
size_t ojw_url_scheme_len(const char *url);

/* The confirmation members of verified claims (RFC 7800 cnf). */
typedef struct {
    const char *jkt;            /* DPoP: JWK SHA-256 thumbprint */
    const char *x5t_s256;       /* mTLS: certificate SHA-256 thumbprint */
    int present;                /* the token has a cnf claim */
} ojw_cnf_t;

/* Reads cnf; OJW_ERR_BINDING when cnf is not an object, a member is not
 * a non-empty string, or cnf names no method we can check (a bound token
 * is refused rather than accepted as a bearer token). */
ojw_reason_t ojw_cnf_read(ojw_cnf_t *cnf, const json_t *claims,
                          ojw_error_t *err);

/* How a token was presented, for ojw_binding_policy(). */
typedef enum {
    OJW_SENT_BEARER, OJW_SENT_DPOP, OJW_SENT_BASIC
} ojw_sent_t;

/* What a profile (dpop=, mtls=: OJW_BIND_*) and the way the token was
 * sent demand of its cnf: OJW_OK (then check the certificate when
 * cnf->x5t_s256, the proof when sent with DPoP), or OJW_ERR_BINDING: the
 * DPoP scheme where the profile does not take it, the DPoP scheme with a
 * token that is not DPoP-bound, a DPoP-bound token sent otherwise (RFC
 * 9449 7.2), an unbound token where dpop= or mtls=required. */
ojw_reason_t ojw_binding_policy(const ojw_cnf_t *cnf, int dpop, int mtls,
                                ojw_sent_t sent, ojw_error_t *err);

/* The hint for a binding refusal (the log and ordsjwt-check), or NULL. */
const char *ojw_hint_for_binding(ojw_reason_t reason);

/* base64url(SHA-256(DER)) of the first certificate of a PEM text (as
 * mod_ssl's SSL_CLIENT_CERT gives it); NULL when it holds none. */
const char *ojw_cert_thumbprint_pem(const char *pem, size_t len,
                                    apr_pool_t *pool);

#endif
