/* SPDX-License-Identifier: Apache-2.0 */
/* DPoP proofs (RFC 9449 4.3, src/dpop.c; issue 13). */
#include <string.h>
#include <apr_strings.h>
#include <cjose/jwk.h>
#include "unit.h"
#include "dpop.h"
#include "b64url.h"

#define NOW     1700000000LL
#define URL     "https://api.example.com/ords/hr/emp"
#define TOKEN   "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"

static const char *pub_json(cjose_jwk_t *key)
{
    return test_pub_jwk(test_pool, key);
}

static const char *thumb(cjose_jwk_t *key)
{
    return test_jkt(test_pool, key);
}

static ojw_dpop_request_t request(const char *jkt)
{
    ojw_dpop_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = URL "?page=2";
    req.access_token = TOKEN;
    req.access_token_len = strlen(TOKEN);
    req.jkt = jkt;
    req.window = 60;
    req.skew = 5;
    req.now = NOW;
    return req;
}

static const char *ath(void)
{
    return ojw_b64url_sha256(test_pool, TOKEN, strlen(TOKEN));
}

/* A proof signed by key with header (alg, typ, jwk) and the claims. */
static const char *proof(cjose_jwk_t *key, const char *alg, const char *typ,
                         const char *jwk, const char *claims)
{
    const char *h = apr_psprintf(test_pool, "{\"alg\":\"%s\"%s%s%s%s%s}", alg,
                                 typ ? ",\"typ\":\"" : "", typ ? typ : "",
                                 typ ? "\"" : "", jwk ? ",\"jwk\":" : "",
                                 jwk ? jwk : "");

    return test_sign(test_pool, key, h, claims);
}

static const char *claims(const char *htm, const char *htu, long long iat,
                          const char *a, const char *jti)
{
    return apr_psprintf(test_pool, "{\"htm\":\"%s\",\"htu\":\"%s\","
                        "\"iat\":%ld,\"ath\":\"%s\",\"jti\":\"%s\"}",
                        htm, htu, (long)iat, a, jti);
}

/* A proof with a made-up signature (cjose signs no HS256 with an EC key). */
static const char *unsigned_proof(const char *alg, const char *jwk,
                                  const char *c)
{
    const char *h = apr_psprintf(test_pool, "{\"alg\":\"%s\",\"typ\":"
                                 "\"dpop+jwt\",\"jwk\":%s}", alg, jwk);

    return apr_pstrcat(test_pool, test_b64(test_pool, h, strlen(h)), ".",
                       test_b64(test_pool, c, strlen(c)), ".c2lnbmF0dXJl",
                       NULL);
}

static ojw_reason_t check(const char *p, const ojw_dpop_request_t *req,
                          ojw_error_t *err)
{
    ojw_dpop_proof_t out;

    memset(err, 0, sizeof(*err));
    return ojw_dpop_check(&out, p, strlen(p), req, test_pool, err);
}

START_TEST(honest_proofs)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256), *rsa = test_rsa_key();
    ojw_dpop_request_t req = request(thumb(ec));
    ojw_dpop_proof_t out, again;
    const char *p = proof(ec, "ES256", "dpop+jwt", pub_json(ec),
                          claims("GET", URL, NOW - 3, ath(), "j1"));
    ojw_error_t err;

    ck_assert_int_eq(ojw_dpop_check(&out, p, strlen(p), &req, test_pool,
                                    &err), OJW_OK);
    ck_assert_int_eq(out.expires, NOW - 3 + 60 + 5 + 1);
    ck_assert_int_eq(ojw_dpop_check(&again, p, strlen(p), &req, test_pool,
                                    &err), OJW_OK);
    ck_assert(memcmp(out.replay_key, again.replay_key, 32) == 0);
    req = request(thumb(rsa));
    p = proof(rsa, "RS256", "dpop+jwt", pub_json(rsa),
              claims("GET", "HTTPS://API.example.com:443/ords/x/../hr/%65mp",
                     NOW + 4, ath(), "j1"));
    ck_assert_int_eq(check(p, &req, &err), OJW_OK);
    p = proof(rsa, "PS256", "dpop+jwt", pub_json(rsa),
              claims("GET", URL "#frag", NOW, ath(), "j2"));
    ck_assert_int_eq(check(p, &req, &err), OJW_OK);
}
END_TEST

/* Every rule of RFC 9449 4.3, broken one at a time. */
START_TEST(each_rule_broken)
{
    cjose_err cerr;
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    cjose_jwk_t *other = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256,
                                                    &cerr);
    const char *jwk = pub_json(ec), *ok = claims("GET", URL, NOW, ath(), "j");
    ojw_dpop_request_t req = request(thumb(ec));
    const char *priv;
    ojw_error_t err;
    char *d;

#define REFUSED(p, what) do { \
        ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_PROOF); \
        ck_assert_msg(strstr(err.detail, what) != NULL, "%s", err.detail); \
    } while (0)
    REFUSED("a.b", "segment");
    REFUSED(proof(ec, "ES256", NULL, jwk, ok), "typ");
    REFUSED(proof(ec, "ES256", "JWT", jwk, ok), "typ");
    REFUSED(proof(ec, "ES256", "DPoP+jwt", jwk, ok), "typ");
    REFUSED(proof(ec, "ES256", "dpop+jwt", NULL, ok), "jwk");
    REFUSED(proof(ec, "ES256", "dpop+jwt", "\"x\"", ok), "jwk");
    d = cjose_jwk_to_json(ec, true, &cerr);
    priv = apr_pstrdup(test_pool, d);
    free(d);
    REFUSED(proof(ec, "ES256", "dpop+jwt", priv, ok), "private");
    REFUSED(proof(ec, "ES256", "dpop+jwt", pub_json(other), ok), "ES256");
    REFUSED(unsigned_proof("HS256", jwk, ok), "alg");
    REFUSED(unsigned_proof("none", jwk, ok), "alg");
    REFUSED(unsigned_proof("RS256", jwk, ok), "RS256");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("POST", URL, NOW, ath(), "j")), "htm");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("get", URL, NOW, ath(), "j")), "htm");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", URL "/x", NOW, ath(), "j")), "htu");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", "http://api.example.com/ords/hr/emp", NOW,
                         ath(), "j")), "htu");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", "https://u@api.example.com/ords/hr/emp", NOW,
                         ath(), "j")), "userinfo");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", URL, NOW - 66, ath(), "j")), "old");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", URL, NOW + 6, ath(), "j")), "future");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", URL, NOW, "AAAA", "j")), "ath");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  claims("GET", URL, NOW, ath(), "")), "jti");
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk,
                  "{\"htm\":\"GET\",\"htu\":\"" URL "\",\"iat\":\"1\"}"),
            "iat");
    req.method = "get";
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk, ok), "htm");
    req.method = "GET";
    req.jkt = thumb(other);
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk, ok), "cnf.jkt");
    req.jkt = NULL;
    REFUSED(proof(ec, "ES256", "dpop+jwt", jwk, ok), "cnf.jkt");
    cjose_jwk_release(other);
#undef REFUSED
}
END_TEST

START_TEST(thumbprint_vector)
{
    /* computed by python3-jwcrypto's JWK.thumbprint() */
    json_t *j = json_loads("{\"crv\": \"P-256\", \"kty\": \"EC\", \"x\": "
                           "\"LgGwsb8o7GPP8zppypTf1BiWJyLmNdPsJ4cpRF98BoU\", "
                           "\"y\": \"H0XTxKgsM_0TahtG6dulCJEdwCYj6mxz7vEDDl36YFA\", "
                           "\"kid\": \"ignored\"}", 0, NULL);

    ck_assert_str_eq(ojw_jwk_thumbprint(j, test_pool),
                     "jmyi4h0G5lK8s361s1f5vV49zh-K1JZap7ldsefzdHA");
    json_decref(j);
}
END_TEST

/* The claims of a proof with a nonce member (nonce: JSON text). */
static const char *claims_nonce(const char *jti, const char *nonce)
{
    return apr_psprintf(test_pool, "{\"htm\":\"GET\",\"htu\":\"%s\","
                        "\"iat\":%ld,\"ath\":\"%s\",\"jti\":\"%s\"%s%s}",
                        URL, (long)NOW, ath(), jti, nonce ? ",\"nonce\":" : "",
                        nonce ? nonce : "");
}

/* Where a nonce is required, the full check judges it, before the
 * signature: a proof with a bad signature and no nonce is told so. */
START_TEST(nonce_in_the_proof_check)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    ojw_dpop_request_t req = request(thumb(ec));
    ojw_nonce_policy_t pol = { NULL, 300, 5, NOW };
    ojw_nonce_key_t k;
    ojw_dpop_proof_t out;
    ojw_error_t err;
    const char *good, *p;

    test_nonce_key(&k);
    pol.key = &k;
    good = ojw_nonce_make(&k, NOW - 200, test_pool);
    p = proof(ec, "ES256", "dpop+jwt", pub_json(ec), claims_nonce("n1", NULL));
    ck_assert_int_eq(check(p, &req, &err), OJW_OK);     /* none required */
    req.nonce = &pol;
    ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_NONCE);
    ck_assert(strstr(err.detail, "no nonce") != NULL);
    p = proof(ec, "ES256", "dpop+jwt", pub_json(ec), claims_nonce("n2",
              apr_psprintf(test_pool, "\"%s\"", good)));
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(ojw_dpop_check(&out, p, strlen(p), &req, test_pool,
                                    &err), OJW_OK);
    ck_assert_int_eq(out.nonce_age, 200);
    p = unsigned_proof("ES256", pub_json(ec), claims_nonce("n3", NULL));
    ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_NONCE);
    p = unsigned_proof("ES256", pub_json(ec), claims_nonce("n4",
                       apr_psprintf(test_pool, "\"%s\"", good)));
    ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_PROOF);
    p = proof(ec, "ES256", "dpop+jwt", pub_json(ec), claims_nonce("n5",
              "[\"x\"]"));
    ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_PROOF);
    pol.now = NOW + 101;    /* good was issued 301 s before */
    p = proof(ec, "ES256", "dpop+jwt", pub_json(ec), claims_nonce("n6",
              apr_psprintf(test_pool, "\"%s\"", good)));
    req.now = pol.now;
    ck_assert_int_eq(check(p, &req, &err), OJW_ERR_DPOP_NONCE);
    ck_assert(strstr(err.detail, "stale: issued 301 s ago, good for 300 s")
              != NULL);
}
END_TEST

/* 4.3 step 1: one DPoP header field, one compact JWS. */
START_TEST(one_proof_header)
{
    ck_assert_str_eq(ojw_dpop_proof_header("a.b.c"), "a.b.c");
    ck_assert_ptr_null(ojw_dpop_proof_header(NULL));
    ck_assert_ptr_null(ojw_dpop_proof_header(""));
    ck_assert_ptr_null(ojw_dpop_proof_header("a.b.c, a.b.c"));
    ck_assert_ptr_null(ojw_dpop_proof_header("a.b.c,d.e.f"));
    ck_assert_ptr_null(ojw_dpop_proof_header("a.b. c"));
    ck_assert_ptr_null(ojw_dpop_proof_header("a.b.c\t"));
}
END_TEST

/* The error code of the DPoP challenge, for the module and the checker. */
START_TEST(challenge_error_codes)
{
    ck_assert_str_eq(ojw_dpop_challenge_error(OJW_ERR_DPOP_NONCE),
                     "use_dpop_nonce");
    ck_assert_str_eq(ojw_dpop_challenge_error(OJW_ERR_DPOP_MISSING),
                     "invalid_dpop_proof");
    ck_assert_str_eq(ojw_dpop_challenge_error(OJW_ERR_DPOP_PROOF),
                     "invalid_dpop_proof");
    ck_assert_str_eq(ojw_dpop_challenge_error(OJW_ERR_DPOP_REPLAY),
                     "invalid_dpop_proof");
    ck_assert_ptr_null(ojw_dpop_challenge_error(OJW_ERR_BINDING));
    ck_assert_ptr_null(ojw_dpop_challenge_error(OJW_ERR_EXPIRED));
}
END_TEST

Suite *dpop_suite(void)
{
    Suite *s = suite_create("dpop");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, honest_proofs);
    tcase_add_test(tc, each_rule_broken);
    tcase_add_test(tc, thumbprint_vector);
    tcase_add_test(tc, nonce_in_the_proof_check);
    tcase_add_test(tc, one_proof_header);
    tcase_add_test(tc, challenge_error_codes);
    suite_add_tcase(s, tc);
    return s;
}
