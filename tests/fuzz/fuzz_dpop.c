/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: DPoP proofs (src/dpop.c) against a fixed request and
 * clock, and the binding step of sender-constrained tokens
 * (src/binding.c); the access token is bound (cnf.jkt) to the key ec256
 * of keys/fixed-jwks.json, so that an honest seed proof is accepted.
 *
 * Input: the compact proof as received; 'J' HEADER "\n.\n" PAYLOAD "\n.\n"
 * SIGNATURE as raw bytes the target encodes (as fuzz_token); 'C' a claims
 * document for ojw_cnf_read() and the binding step; 'N' a resource-server
 * nonce for ojw_nonce_check() (src/dpop_nonce.c). URLs are fuzz_htu's.
 *
 * Every proof is also checked where a nonce is required (the key
 * FUZZ_NONCE_KEY, the clock FUZZ_NOW): ojw_nonce_peek(),
 * ojw_nonce_require() and ojw_dpop_check() with the nonce policy must
 * agree, and a nonce judged good must be one the key made; and as the
 * DPoP header of a request, through the binding step, which must agree
 * with ojw_dpop_check().
 */
#include <cjose/base64.h>
#include <cjose/util.h>
#include "fuzz.h"
#include "binding.h"
#include "dpop.h"
#include "dpop_nonce.h"
#include "token.h"

#define FUZZ_NOW    1700000000LL
#define FUZZ_URL    "https://api.example.com/ords/hr/emp"
#define FUZZ_TOKEN  "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"

#define FUZZ_NONCE_KEY      "fuzz-dpop-nonce-key-0123456789ab"
#define FUZZ_NONCE_LIFETIME 300
#define FUZZ_NONCE_SKEW     5

static char fixed_jkt[64];
static ojw_nonce_key_t nonce_key;       /* static: see README, LSan */

static void fuzz_setup(void)
{
    size_t len, i;
    char *doc = fuzz_read_fixture("keys/fixed-jwks.json", &len);
    json_t *jwks = json_loadb(doc, len, 0, NULL), *k;
    const char *t = NULL;

    json_array_foreach(json_object_get(jwks, "keys"), i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));

        if (kid && strcmp(kid, "ec256") == 0) {
            t = ojw_jwk_thumbprint(k, fuzz_global_pool());
        }
    }
    if (t == NULL || strlen(t) >= sizeof(fixed_jkt)) {
        fprintf(stderr, "fuzz_dpop: no ec256 key in the fixed JWKS\n");
        abort();
    }
    strcpy(fixed_jkt, t);
    json_decref(jwks);
    if (ojw_nonce_key_set(&nonce_key, FUZZ_NONCE_KEY,
                          strlen(FUZZ_NONCE_KEY)) != NULL) {
        abort();
    }
}

/* A nonce judged good was made by the key at the time its age says. */
static void check_nonce(const char *nonce, apr_pool_t *pool)
{
    ojw_nonce_key_t none;
    long age;
    ojw_nonce_state_t st = ojw_nonce_check(&nonce_key, nonce, FUZZ_NOW,
                                           FUZZ_NONCE_LIFETIME,
                                           FUZZ_NONCE_SKEW, &age, pool);
    const char *made;

    if (st == OJW_NONCE_GOOD) {
        made = ojw_nonce_make(&nonce_key, FUZZ_NOW - age, pool);
        if (made == NULL || strcmp(made, nonce) != 0
            || age < -FUZZ_NONCE_SKEW || age > FUZZ_NONCE_LIFETIME) {
            abort();
        }
    }
    if ((st == OJW_NONCE_ABSENT) != (nonce == NULL)) {
        abort();
    }
    memset(&none, 0, sizeof(none));     /* no key: nothing is good */
    if (ojw_nonce_check(&none, nonce, FUZZ_NOW, FUZZ_NONCE_LIFETIME,
                        FUZZ_NONCE_SKEW, &age, pool) == OJW_NONCE_GOOD) {
        abort();
    }
}

/* The proof where a nonce is required: peek, require and the full check
 * agree; what they accept carries a nonce the key made. */
static void check_proof_nonce(const char *proof, size_t len,
                              ojw_dpop_request_t *req, apr_pool_t *pool)
{
    ojw_nonce_policy_t pol = { &nonce_key, FUZZ_NONCE_LIFETIME,
                               FUZZ_NONCE_SKEW, FUZZ_NOW };
    const char *nonce = NULL;
    ojw_reason_t peeked, required, full;
    ojw_dpop_proof_t out;
    ojw_error_t err;
    long age = 0;

    peeked = ojw_nonce_peek(&nonce, proof, len, pool, &err);
    required = ojw_nonce_require(&age, proof, len, &pol, pool, &err);
    if ((peeked != OJW_OK && required != OJW_ERR_DPOP_PROOF)
        || (required != OJW_OK && required != OJW_ERR_DPOP_PROOF
            && required != OJW_ERR_DPOP_NONCE)
        || (required == OJW_OK && nonce == NULL)) {
        abort();
    }
    if (peeked == OJW_OK) {
        check_nonce(nonce, pool);
    }
    req->nonce = &pol;
    full = ojw_dpop_check(&out, proof, len, req, pool, &err);
    req->nonce = NULL;
    if ((full == OJW_OK && (required != OJW_OK || out.nonce_age != age))
        || (full == OJW_ERR_DPOP_NONCE && required != OJW_ERR_DPOP_NONCE)
        || (full != OJW_OK && full != OJW_ERR_DPOP_PROOF
            && full != OJW_ERR_DPOP_NONCE)) {
        abort();
    }
}

/* The binding step of a token of a profile with dpop= and mtls=, sent
 * so (OJW_SENT_*), with the DPoP header proof (or NULL), no client
 * certificate and no replay store. */
static ojw_reason_t bound(const json_t *claims, int dpop, int mtls,
                          int sent, const char *proof, apr_pool_t *pool,
                          ojw_error_t *err)
{
    ojw_profile_t p;
    ojw_bound_token_t tok;
    ojw_evidence_t ev;
    ojw_bound_t out;
    ojw_reason_t rc;

    memset(&p, 0, sizeof(p));
    memset(&ev, 0, sizeof(ev));
    memset(err, 0, sizeof(*err));
    p.dpop = dpop;
    p.mtls = mtls;
    tok.claims = claims;
    tok.profile = &p;
    tok.basic = sent == OJW_SENT_BASIC;
    tok.skew = 5;
    tok.now = FUZZ_NOW;
    ev.dpop = sent == OJW_SENT_DPOP;
    ev.access_token = FUZZ_TOKEN;
    ev.proof = proof;
    ev.method = "GET";
    ev.url = FUZZ_URL "?page=1";
    ev.window = 60;
    rc = ojw_binding_check(&out, &tok, &ev, pool, err);
    if ((rc == OJW_OK) != (err->reason == OJW_OK && err->detail[0] == '\0')
        || (rc == OJW_OK && out.proof_checked != (sent == OJW_SENT_DPOP))) {
        abort();
    }
    return rc;
}

/* The proof as the request's DPoP header through the binding step: the
 * verdict of ojw_dpop_check() where the header holds one proof. */
static void check_bound_proof(const char *proof, ojw_reason_t direct,
                              apr_pool_t *pool)
{
    json_t *claims = json_pack("{s:{s:s}}", "cnf", "jkt", fixed_jkt);
    ojw_error_t err;
    ojw_reason_t rc;

    if (claims == NULL) {
        abort();
    }
    rc = bound(claims, OJW_BIND_ALLOWED, OJW_BIND_ALLOWED, OJW_SENT_DPOP,
               proof, pool, &err);
    if (ojw_dpop_proof_header(proof) ? rc != direct
                                     : rc != OJW_ERR_DPOP_MISSING) {
        abort();
    }
    json_decref(claims);
}

static void check_proof(const char *proof, size_t len, apr_pool_t *pool)
{
    ojw_dpop_request_t req;
    ojw_dpop_proof_t out;
    ojw_error_t err;
    ojw_reason_t rc;

    memset(&req, 0, sizeof(req));
    memset(&err, 0, sizeof(err));
    req.method = "GET";
    req.url = FUZZ_URL "?page=1";
    req.access_token = FUZZ_TOKEN;
    req.access_token_len = strlen(FUZZ_TOKEN);
    req.jkt = fixed_jkt;
    req.window = 60;
    req.skew = 5;
    req.now = FUZZ_NOW;
    rc = ojw_dpop_check(&out, proof, len, &req, pool, &err);
    if (rc == OJW_OK && (out.jkt == NULL || strcmp(out.jkt, fixed_jkt) != 0
                         || out.expires <= FUZZ_NOW)) {
        abort();
    }
    if (rc != OJW_OK && (rc != OJW_ERR_DPOP_PROOF || err.detail[0] == '\0')) {
        abort();
    }
    check_proof_nonce(proof, len, &req, pool);
    if (memchr(proof, '\0', len) == NULL) {
        check_bound_proof(apr_pstrmemdup(pool, proof, len), rc, pool);
    }
}

/* A claims document through ojw_cnf_read() and the binding step, for
 * every dpop=, mtls= and way of sending, with no proof and no client
 * certificate: what is accepted is an unbound token that no setting
 * requires to be bound, sent as Bearer or Basic. */
static void check_cnf(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    json_t *claims = json_loadb((const char *)data, size, 0, NULL);
    int dpop, mtls, sent, read;
    ojw_cnf_t cnf;
    ojw_error_t err;
    ojw_reason_t rc;

    if (claims == NULL) {
        return;
    }
    read = ojw_cnf_read(&cnf, claims, &err) == OJW_OK;
    if (read && cnf.present && cnf.jkt == NULL && cnf.x5t_s256 == NULL) {
        abort();    /* a bound token accepted with nothing to check */
    }
    for (dpop = OJW_BIND_OFF; dpop <= OJW_BIND_REQUIRED; dpop++) {
        for (mtls = OJW_BIND_ALLOWED; mtls <= OJW_BIND_REQUIRED; mtls++) {
            for (sent = OJW_SENT_BEARER; sent <= OJW_SENT_BASIC; sent++) {
                rc = bound(claims, dpop, mtls, sent, NULL, pool, &err);
                if (rc == OJW_OK
                    && (!read || cnf.present || sent == OJW_SENT_DPOP
                        || dpop == OJW_BIND_REQUIRED
                        || mtls == OJW_BIND_REQUIRED)) {
                    abort();
                }
                if (rc != OJW_OK && rc != OJW_ERR_BINDING
                    && rc != OJW_ERR_CERT_MISSING
                    && rc != OJW_ERR_DPOP_MISSING) {
                    abort();
                }
            }
        }
    }
    json_decref(claims);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const uint8_t *h, *p, *s;
    size_t hl, pl, sl;
    const char *compact;

    if (size > 0 && data[0] == 'C') {
        check_cnf(data + 1, size - 1, pool);
    }
    else if (size > 0 && data[0] == 'N') {
        check_nonce(apr_pstrmemdup(pool, (const char *)data + 1, size - 1),
                    pool);
    }
    else if (size > 0 && data[0] == 'J') {
        data++;
        size--;
        h = fuzz_next_part(&data, &size, &hl);
        p = fuzz_next_part(&data, &size, &pl);
        s = fuzz_next_part(&data, &size, &sl);
        compact = apr_pstrcat(pool, fuzz_b64url(pool, h, hl), ".",
                              fuzz_b64url(pool, p, pl), ".",
                              fuzz_b64url(pool, s, sl),
                              NULL);
        check_proof(compact, strlen(compact), pool);
    }
    else {
        check_proof((const char *)data, size, pool);
    }
}
