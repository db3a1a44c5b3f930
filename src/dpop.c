/* SPDX-License-Identifier: Apache-2.0 */
/* DPoP proofs, resource-server side (see dpop.h). */
#include <string.h>
#include <apr_strings.h>
#include <openssl/sha.h>
#include "dpop.h"
#include "b64url.h"
#include "jwks.h"
#include "token.h"
#include "url.h"

/* ------------------------------------------------------------------ */
/* the proof key's thumbprint                                         */

const char *ojw_jwk_thumbprint(const json_t *jwk, apr_pool_t *pool)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *canon;

#define M(name) json_string_value(json_object_get(jwk, name))
    if (kty && strcmp(kty, "EC") == 0 && M("crv") && M("x") && M("y")) {
        canon = apr_psprintf(pool, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                             "\"y\":\"%s\"}", M("crv"), M("x"), M("y"));
    }
    else if (kty && strcmp(kty, "RSA") == 0 && M("e") && M("n")) {
        canon = apr_psprintf(pool, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                             M("e"), M("n"));
    }
    else {
        return NULL;
    }
#undef M
    return ojw_b64url_sha256(pool, canon, strlen(canon));
}

const char *ojw_dpop_challenge_error(ojw_reason_t reason)
{
    switch (reason) {
    case OJW_ERR_DPOP_NONCE:
        return "use_dpop_nonce";
    case OJW_ERR_DPOP_MISSING:
    case OJW_ERR_DPOP_PROOF:
    case OJW_ERR_DPOP_REPLAY:
        return "invalid_dpop_proof";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------ */
/* the proof                                                           */

const char *ojw_dpop_proof_header(const char *value)
{
    return value && *value && strpbrk(value, ", \t") == NULL ? value : NULL;
}

static ojw_reason_t bad(ojw_error_t *err, const char *what)
{
    return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", what);
}

/* Parses the compact proof, judges its nonce (req->nonce) before
 * anything costs more than that parse, checks typ and jwk, verifies the
 * signature with that jwk; *claims: the verified claims, *jkt: the key's
 * thumbprint, out->nonce_age. */
static ojw_reason_t verified_proof(json_t **claims, const char **jkt,
                                   ojw_dpop_proof_t *out, const char *proof,
                                   size_t len, const ojw_dpop_request_t *req,
                                   apr_pool_t *pool, ojw_error_t *err)
{
    ojw_keyset_t *ks = apr_pcalloc(pool, sizeof(*ks));
    ojw_token_t *tok = NULL;
    ojw_error_t why;
    json_t *typ, *jwk;
    char kwhy[160];

    memset(&why, 0, sizeof(why));
    if (ojw_token_parse(&tok, proof, len, OJW_DPOP_PROOF_MAX, pool, &why)
        != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    if (req->nonce && ojw_nonce_judge(&out->nonce_age,
                                      ojw_token_unverified_claims(tok, pool),
                                      req->nonce, pool, err) != OJW_OK) {
        return err->reason;
    }
    typ = json_object_get(tok->header, "typ");
    if (!json_is_string(typ) || strcmp(json_string_value(typ), "dpop+jwt")) {
        return bad(err, "typ is not \"dpop+jwt\"");
    }
    jwk = json_object_get(tok->header, "jwk");
    if (!json_is_object(jwk)) {
        return bad(err, "the header has no jwk object");
    }
    if (!ojw_jwk_load(&ks->keys[0], jwk, pool, kwhy, sizeof(kwhy))) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: jwk: %s", kwhy);
    }
    ks->nkeys = 1;
    ks->any_kid = 1;
    if (ojw_token_verify(tok, ks, pool, &why) != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    *claims = tok->claims;
    *jkt = ojw_jwk_thumbprint(jwk, pool);
    return *jkt ? OJW_OK : bad(err, "no thumbprint for the jwk");
}

static const char *string_claim(const json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* htm and htu against the request. */
static ojw_reason_t check_target(const json_t *claims,
                                 const ojw_dpop_request_t *req,
                                 apr_pool_t *pool, ojw_error_t *err)
{
    const char *htm = string_claim(claims, "htm");
    const char *htu = string_claim(claims, "htu");
    const char *mine, *theirs, *why;

    if (htm == NULL || strcmp(htm, req->method) != 0) {
        return bad(err, "htm is not the request method");
    }
    if (htu == NULL) {
        return bad(err, "no htu string");
    }
    if ((theirs = ojw_url_normalise(htu, pool, &why)) == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: htu: %s", why);
    }
    if ((mine = ojw_url_normalise(req->url, pool, &why)) == NULL
        || strcmp(mine, theirs) != 0) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: htu is not the "
                        "request URL %.200s (behind a TLS-terminating "
                        "balancer, set OrdsJwtDpopBaseUrl)",
                        mine ? mine : req->url);
    }
    return OJW_OK;
}

/* iat within [now - window - skew, now + skew]; *iat. */
static ojw_reason_t check_iat(const json_t *claims,
                              const ojw_dpop_request_t *req, long long *iat,
                              ojw_error_t *err)
{
    json_t *v = json_object_get(claims, "iat");

    if (!json_is_integer(v)) {
        return bad(err, "no integer iat");
    }
    *iat = json_integer_value(v);
    if (*iat > req->now + req->skew) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: iat is %lld s in "
                        "the future", *iat - req->now);
    }
    if (*iat < req->now - req->window - req->skew) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: iat is %lld s old "
                        "(window %ld s, skew %ld s)", req->now - *iat,
                        req->window, req->skew);
    }
    return OJW_OK;
}

/* jti, ath, and the proof key against the token's cnf.jkt. */
static ojw_reason_t check_binding(const json_t *claims, const char *jkt,
                                  const ojw_dpop_request_t *req,
                                  apr_pool_t *pool, ojw_error_t *err)
{
    const char *jti = string_claim(claims, "jti");
    const char *ath = string_claim(claims, "ath");
    const char *want = ojw_b64url_sha256(pool, req->access_token,
                                         req->access_token_len);

    if (jti == NULL || *jti == '\0' || strlen(jti) > OJW_DPOP_JTI_MAX) {
        return bad(err, "no jti string (of at most 256 bytes)");
    }
    if (ath == NULL || want == NULL || strcmp(ath, want) != 0) {
        return bad(err, "ath is not the hash of the access token");
    }
    if (req->jkt == NULL || strcmp(req->jkt, jkt) != 0) {
        return bad(err, "the proof's key is not the one the token is bound "
                   "to (cnf.jkt)");
    }
    return OJW_OK;
}

ojw_reason_t ojw_dpop_check(ojw_dpop_proof_t *out, const char *proof,
                            size_t len, const ojw_dpop_request_t *req,
                            apr_pool_t *pool, ojw_error_t *err)
{
    json_t *claims = NULL;
    const char *jkt = NULL;
    long long iat = 0;
    const char *jti;
    size_t klen;
    char *buf;
    ojw_reason_t rc;

    memset(out, 0, sizeof(*out));
    if ((rc = verified_proof(&claims, &jkt, out, proof, len, req, pool, err))
        != OJW_OK
        || (rc = check_target(claims, req, pool, err)) != OJW_OK
        || (rc = check_iat(claims, req, &iat, err)) != OJW_OK
        || (rc = check_binding(claims, jkt, req, pool, err)) != OJW_OK) {
        return rc;
    }
    /* the jti scoped by the key: one client cannot burn another's jti */
    jti = string_claim(claims, "jti");
    klen = strlen(jkt) + 1;
    buf = apr_palloc(pool, klen + strlen(jti));
    memcpy(buf, jkt, klen);
    memcpy(buf + klen, jti, strlen(jti));
    SHA256((const unsigned char *)buf, klen + strlen(jti), out->replay_key);
    out->expires = iat + req->window + req->skew + 1;
    out->jkt = jkt;
    return OJW_OK;
}
