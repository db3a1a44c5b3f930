/* SPDX-License-Identifier: Apache-2.0 */
/* Sender-constrained tokens: cnf, the binding policy, the client
 * certificate and the binding step (see binding.h). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "binding.h"
#include "b64url.h"
#include "dpop.h"

/* ------------------------------------------------------------------ */
/* cnf and the policy                                                  */

static int cnf_member(const json_t *cnf, const char *name, const char **out)
{
    json_t *v = json_object_get(cnf, name);

    *out = NULL;
    if (v == NULL) {
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > 128) {
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

ojw_reason_t ojw_cnf_read(ojw_cnf_t *cnf, const json_t *claims,
                          ojw_error_t *err)
{
    json_t *c = json_object_get(claims, "cnf");

    memset(cnf, 0, sizeof(*cnf));
    if (c == NULL) {
        return OJW_OK;
    }
    cnf->present = 1;
    if (!json_is_object(c) || !cnf_member(c, "jkt", &cnf->jkt)
        || !cnf_member(c, "x5t#S256", &cnf->x5t_s256)) {
        return ojw_fail(err, OJW_ERR_BINDING, "cnf is not an object whose "
                        "jkt and x5t#S256 are strings");
    }
    if (cnf->jkt == NULL && cnf->x5t_s256 == NULL) {
        return ojw_fail(err, OJW_ERR_BINDING, "cnf names no confirmation "
                        "method this server checks (jkt, x5t#S256): the "
                        "token is bound to something it cannot verify");
    }
    return OJW_OK;
}

ojw_reason_t ojw_binding_policy(const ojw_cnf_t *cnf, int dpop, int mtls,
                                ojw_sent_t sent, ojw_error_t *err)
{
    if (sent == OJW_SENT_DPOP && dpop == OJW_BIND_OFF) {
        return ojw_fail(err, OJW_ERR_BINDING, "the DPoP scheme is not "
                        "accepted by this profile (dpop=allowed enables it)");
    }
    if (sent == OJW_SENT_DPOP && cnf->jkt == NULL) {
        return ojw_fail(err, OJW_ERR_BINDING, "sent with the DPoP scheme, "
                        "the token is not DPoP-bound (no cnf.jkt)");
    }
    if (sent != OJW_SENT_DPOP && cnf->jkt) {
        return ojw_fail(err, OJW_ERR_BINDING, "a DPoP-bound token (cnf.jkt) "
                        "must be sent with the DPoP scheme and a proof, not "
                        "as %s", sent == OJW_SENT_BASIC ? "a Basic password"
                                                        : "Bearer");
    }
    if (sent != OJW_SENT_DPOP && dpop == OJW_BIND_REQUIRED) {
        return ojw_fail(err, OJW_ERR_BINDING, "the profile requires DPoP "
                        "(dpop=required)");
    }
    if (cnf->x5t_s256 == NULL && mtls == OJW_BIND_REQUIRED) {
        return ojw_fail(err, OJW_ERR_BINDING, "the profile requires a token "
                        "bound to a client certificate (mtls=required), the "
                        "token has no cnf x5t#S256");
    }
    return OJW_OK;
}

const char *ojw_hint_for_binding(ojw_reason_t reason)
{
    switch (reason) {
    case OJW_ERR_TOKEN_TYPE:
        return "an access token has typ at+jwt (RFC 9068) or none; a DPoP "
               "proof or another JWT is never one";
    case OJW_ERR_DPOP_MISSING:
        return "send exactly one DPoP header with a fresh proof";
    case OJW_ERR_DPOP_PROOF:
        return "a proof is made for each request: htm the method, htu the "
               "URL without query, ath the token's hash, signed by the key "
               "of cnf.jkt";
    case OJW_ERR_DPOP_REPLAY:
        return "make a new proof (new jti) for every request";
    case OJW_ERR_DPOP_NONCE:
        return "put the nonce of the DPoP-Nonce response header in the "
               "proof's nonce claim and retry (RFC 9449 section 9; "
               "clients such as oauth4webapi do so on use_dpop_nonce)";
    case OJW_ERR_CERT_MISSING:
        return "connect over TLS with the client certificate the token "
               "was issued for (SSLVerifyClient optional_no_ca)";
    case OJW_ERR_CERT_MISMATCH:
        return "the token was issued for another client certificate";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* the client certificate                                              */

const char *ojw_cert_thumbprint_pem(const char *pem, size_t len,
                                    apr_pool_t *pool)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    const char *out = NULL;
    int n;

    if (x && (n = i2d_X509(x, &der)) > 0) {
        out = ojw_b64url_sha256(pool, der, (size_t)n);
        OPENSSL_free(der);
    }
    X509_free(x);
    BIO_free(bio);
    return out;
}

/* The token's cnf x5t#S256 against the connection's certificate. */
static ojw_reason_t check_cert(const char *x5t, const ojw_evidence_t *ev,
                               apr_pool_t *pool, ojw_error_t *err)
{
    const char *pem = ev->client_cert ? ev->client_cert(ev->baton) : NULL;
    const char *mine = pem && *pem
                       ? ojw_cert_thumbprint_pem(pem, strlen(pem), pool)
                       : NULL;

    if (mine == NULL) {
        return ojw_fail(err, OJW_ERR_CERT_MISSING, "the token is bound to a "
                        "client certificate (cnf x5t#S256) and the "
                        "connection has none");
    }
    if (strcmp(mine, x5t) != 0) {
        return ojw_fail(err, OJW_ERR_CERT_MISMATCH, "the token is bound to "
                        "another client certificate (cnf x5t#S256 %.64s, the "
                        "connection's %s)", x5t, mine);
    }
    return OJW_OK;
}

/* ------------------------------------------------------------------ */
/* the DPoP proof                                                      */

/* The proof's jti in the replay store (none: taken as fresh). */
static ojw_reason_t remember(ojw_bound_t *out, const ojw_dpop_proof_t *p,
                             const ojw_evidence_t *ev, ojw_error_t *err)
{
    apr_status_t rv;

    if (ev->remember == NULL) {
        return OJW_OK;
    }
    rv = ev->remember(ev->baton, p->replay_key, p->expires,
                      &out->retry_after);
    if (rv == APR_EEXIST) {
        return ojw_fail(err, OJW_ERR_DPOP_REPLAY, "the proof's jti was used "
                        "before (a proof is good for one request)");
    }
    if (rv != APR_SUCCESS) {
        return ojw_fail(err, OJW_ERR_REPLAY_UNAVAILABLE, "the DPoP replay "
                        "store did not answer");
    }
    return OJW_OK;
}

/* The request's DPoP proof for a token bound to jkt. */
static ojw_reason_t check_proof(ojw_bound_t *out, const char *jkt,
                                const ojw_bound_token_t *tok,
                                const ojw_evidence_t *ev, apr_pool_t *pool,
                                ojw_error_t *err)
{
    const char *proof = ojw_dpop_proof_header(ev->proof);
    ojw_dpop_request_t req;
    ojw_dpop_proof_t p;
    ojw_reason_t rc;

    if (ev->proof_checked) {
        return OJW_OK;
    }
    if (proof == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_MISSING, "no DPoP header, or more "
                        "than one");
    }
    if (ev->url == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", ev->url_why
                        ? ev->url_why : "the URL the client addressed is "
                        "not known");
    }
    memset(&req, 0, sizeof(req));
    req.method = ev->method;
    req.url = ev->url;
    req.access_token = ev->access_token;
    req.access_token_len = strlen(ev->access_token);
    req.jkt = jkt;
    req.window = ev->window;
    req.skew = tok->skew;
    req.now = tok->now;
    req.nonce = ev->nonce;
    if ((rc = ojw_dpop_check(&p, proof, strlen(proof), &req, pool, err))
        != OJW_OK || (rc = remember(out, &p, ev, err)) != OJW_OK) {
        return rc;
    }
    out->proof_checked = 1;
    out->nonce = ev->nonce;
    out->nonce_age = p.nonce_age;
    return OJW_OK;
}

/* ------------------------------------------------------------------ */
/* the step                                                            */

ojw_reason_t ojw_binding_check(ojw_bound_t *out, const ojw_bound_token_t *tok,
                               const ojw_evidence_t *ev, apr_pool_t *pool,
                               ojw_error_t *err)
{
    ojw_sent_t sent = ev->dpop ? OJW_SENT_DPOP
                      : tok->basic ? OJW_SENT_BASIC : OJW_SENT_BEARER;
    ojw_cnf_t cnf;
    ojw_reason_t rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ojw_cnf_read(&cnf, tok->claims, err)) != OJW_OK
        || (rc = ojw_binding_policy(&cnf, tok->profile->dpop,
                                    tok->profile->mtls, sent, err)) != OJW_OK
        || (cnf.x5t_s256
            && (rc = check_cert(cnf.x5t_s256, ev, pool, err)) != OJW_OK)) {
        return rc;
    }
    return sent == OJW_SENT_DPOP
           ? check_proof(out, cnf.jkt, tok, ev, pool, err) : OJW_OK;
}
