/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sender-constrained tokens: what binds an access token to the client
 * that sends it (RFC 7800 cnf), shared by DPoP (RFC 9449: cnf.jkt and a
 * proof, src/dpop.h) and mutual TLS (RFC 8705 3: cnf x5t#S256 and the
 * connection's client certificate); the policy of a profile's dpop= and
 * mtls= and of how the token was sent; and the binding step itself, in
 * its one order, for the pipeline (src/pipeline.c). Its callers hand
 * over the request's evidence: the module the request's pieces and its
 * replay store, ordsjwt-check its --dpop, --method, --url and
 * --client-cert (every proof taken as fresh).
 */
#ifndef OJW_BINDING_H
#define OJW_BINDING_H

#include <jansson.h>
#include <apr_errno.h>
#include "ojw.h"
#include "dpop_nonce.h"
#include "profile.h"

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

/* ------------------------------------------------------------------ */
/* the binding step                                                    */

/* What the request shows of its sender, as the caller hands it over. */
typedef struct {
    int dpop;                   /* the token came as "DPoP <token>"
                                 * (src/source.h's ojw_found_t) */
    const char *access_token;   /* the token as sent (the proof's ath) */
    const char *proof;          /* the DPoP header field as received, or
                                 * NULL */
    int proof_checked;          /* this token and its proof were accepted
                                 * for the request this one serves (an
                                 * internal redirect, a subrequest) */
    const char *method;         /* the HTTP method, as received */
    const char *url;            /* the URL the proof must name, or NULL
                                 * with url_why (src/htu.h) */
    const char *url_why;
    const ojw_nonce_policy_t *nonce;    /* the proof's nonce is judged so,
                                         * or NULL */
    long window;                /* OrdsJwtDpopProofWindow, seconds */
    /* The connection's client certificate (PEM, as mod_ssl's
     * SSL_CLIENT_CERT gives it), or NULL: none. Asked for only when the
     * token is bound to one. */
    const char *(*client_cert)(void *baton);
    /* Remembers an accepted proof's replay key until expires (seconds
     * since the epoch): APR_SUCCESS when it is new, APR_EEXIST when it
     * was seen, else the store cannot answer (*retry_after: seconds).
     * NULL: every proof is taken as fresh. */
    apr_status_t (*remember)(void *baton, const unsigned char *key,
                             long long expires, int *retry_after);
    void *baton;                /* the caller's, for the two above */
} ojw_evidence_t;

/* The token's part of the binding step (the pipeline's). */
typedef struct {
    const json_t *claims;       /* verified */
    const ojw_profile_t *profile;
    int basic;                  /* sent as a Basic password */
    long skew;                  /* the profile's, in this server */
    long long now;              /* seconds since the epoch */
} ojw_bound_token_t;

/* What the binding step did. */
typedef struct {
    int proof_checked;          /* a proof held, its jti was new */
    const ojw_nonce_policy_t *nonce;    /* the proof's nonce: its policy */
    long nonce_age;             /* and its age in seconds */
    int retry_after;            /* OJW_ERR_REPLAY_UNAVAILABLE: seconds */
} ojw_bound_t;

/*
 * The sender binding of a token whose signature and claims hold, in this
 * order: cnf (ojw_cnf_read), what the profile and the way the token was
 * sent demand (ojw_binding_policy), the client certificate (cnf
 * x5t#S256), the DPoP proof when the token came as DPoP (one proof, not
 * checked before for this token; the URL; ojw_dpop_check with ev->nonce;
 * its jti new to the replay store). OJW_OK, or the first refusal:
 * OJW_ERR_BINDING, _CERT_MISSING, _CERT_MISMATCH, _DPOP_MISSING,
 * _DPOP_PROOF, _DPOP_NONCE, _DPOP_REPLAY or _REPLAY_UNAVAILABLE (with
 * out->retry_after).
 */
ojw_reason_t ojw_binding_check(ojw_bound_t *out, const ojw_bound_token_t *tok,
                               const ojw_evidence_t *ev, apr_pool_t *pool,
                               ojw_error_t *err);

#endif
