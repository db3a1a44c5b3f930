/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS parse and verification. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "token.h"

#define CLAIMS "{\"iss\":\"https://issuer/\",\"aud\":\"api\",\"sub\":\"alice\",\"exp\":9999999999}"

static ojw_reason_t check(const char *compact, const char *jwks,
                          ojw_token_t **tok, ojw_error_t *err)
{
    ojw_keyset_t *ks = NULL;
    char errbuf[256];
    ojw_reason_t rc;

    memset(err, 0, sizeof(*err));
    rc = ojw_token_parse(tok, compact, strlen(compact), OJW_TOKEN_MAX_DEFAULT,
                         test_pool, err);
    if (rc != OJW_OK) {
        return rc;
    }
    ck_assert_int_eq(ojw_jwks_parse(&ks, jwks, strlen(jwks), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)), APR_SUCCESS);
    return ojw_token_verify(*tok, ks, test_pool, err);
}

static const char *rsa_jwks(void)
{
    cjose_jwk_t *k = test_rsa_key();
    const char *kid = "rsa1";

    return test_jwks(test_pool, 1, &k, &kid);
}

static const char *mixed_jwks(void)
{
    cjose_jwk_t *k[2] = { test_rsa_key(), test_ec_key(CJOSE_JWK_EC_P_256) };
    const char *kids[2] = { "rsa1", "ec1" };

    return test_jwks(test_pool, 2, k, kids);
}

START_TEST(honest_rs256_ps256_es256)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *t;

    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_OK);
    ck_assert_str_eq(json_string_value(json_object_get(tok->claims, "sub")),
                     "alice");
    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", CLAIMS);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_OK);
    t = test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_256),
                  "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", CLAIMS);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_OK);
    ck_assert_str_eq(tok->key->kid, "ec1");
}
END_TEST

START_TEST(no_kid_uses_a_fitting_key)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *t = test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_256),
                              "{\"alg\":\"ES256\"}", CLAIMS);

    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_OK);
    t = test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_384),
                  "{\"alg\":\"ES384\"}", CLAIMS);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_ERR_KID);
}
END_TEST

/* issue 11: a token without kid is tried with at most 4 fitting keys. */
START_TEST(no_kid_tries_are_bounded)
{
    cjose_jwk_t *keys[6];
    const char *kids[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
    const char *jwks, *t;
    ojw_token_t *tok;
    ojw_error_t err;
    cjose_err cerr;
    int i;

    for (i = 0; i < 6; i++) {
        keys[i] = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
        ck_assert_ptr_nonnull(keys[i]);
    }
    jwks = test_jwks(test_pool, 5, keys, kids);
    t = test_sign(test_pool, keys[3], "{\"alg\":\"ES256\"}", CLAIMS);
    ck_assert_int_eq(check(t, jwks, &tok, &err), OJW_OK);
    t = test_sign(test_pool, keys[4], "{\"alg\":\"ES256\"}", CLAIMS);
    ck_assert_int_eq(check(t, jwks, &tok, &err), OJW_ERR_KID);
    ck_assert_msg(strstr(err.detail, "first 4 of the 5") != NULL, "%s",
                  err.detail);
    t = test_sign(test_pool, keys[5], "{\"alg\":\"ES256\"}", CLAIMS);
    ck_assert_int_eq(check(t, test_jwks(test_pool, 3, keys, kids), &tok,
                           &err), OJW_ERR_SIGNATURE);
    for (i = 0; i < 6; i++) {
        cjose_jwk_release(keys[i]);
    }
}
END_TEST

START_TEST(refuses_none_and_hmac)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *payload = test_b64(test_pool, CLAIMS, strlen(CLAIMS));
    const char *hdrs[] = { "{\"alg\":\"none\"}", "{\"alg\":\"NONE\"}",
                           "{\"alg\":\"HS256\",\"kid\":\"rsa1\"}",
                           "{\"alg\":\"rs256\",\"kid\":\"rsa1\"}",
                           "{\"kid\":\"rsa1\"}", "{\"alg\":256}" };
    size_t i;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        const char *t = apr_pstrcat(test_pool,
                                    test_b64(test_pool, hdrs[i],
                                             strlen(hdrs[i])),
                                    ".", payload, ".AAAA", NULL);
        ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_ALG);
    }
}
END_TEST

START_TEST(alg_must_fit_key)
{
    ojw_token_t *tok;
    ojw_error_t err;
    cjose_jwk_t *p384 = test_ec_key(CJOSE_JWK_EC_P_384);
    const char *kid = "ec1";
    const char *jwks384 = test_jwks(test_pool, 1, &p384, &kid);
    const char *t;

    /* RS256 claimed, kid names an EC key */
    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", CLAIMS);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_ERR_ALG);
    /* ES256 token, the key with that kid is P-384 */
    t = test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_256),
                  "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", CLAIMS);
    ck_assert_int_eq(check(t, jwks384, &tok, &err), OJW_ERR_ALG);
}
END_TEST

START_TEST(alg_must_equal_jwk_alg)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *jwks = rsa_jwks();
    const char *t = test_sign(test_pool, test_rsa_key(),
                              "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS);
    char *with_alg = apr_pstrdup(test_pool, jwks);
    char *at = strstr(with_alg, "\"kid\"");

    ck_assert_ptr_nonnull(at);
    with_alg = apr_pstrcat(test_pool, apr_pstrmemdup(test_pool, with_alg,
                                                     at - with_alg),
                           "\"alg\":\"PS256\",", at, NULL);
    ck_assert_int_eq(check(t, with_alg, &tok, &err), OJW_ERR_ALG);
}
END_TEST

START_TEST(unknown_kid_and_bad_signature)
{
    ojw_token_t *tok;
    ojw_error_t err;
    char *t = test_sign(test_pool, test_rsa_key(),
                        "{\"alg\":\"RS256\",\"kid\":\"other\"}", CLAIMS);
    char *dot;

    ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_KID);
    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS);
    dot = strchr(t, '.');
    dot[2] = dot[2] == 'A' ? 'B' : 'A';           /* tamper with payload */
    ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_SIGNATURE);
}
END_TEST

START_TEST(signature_length_checked)
{
    ojw_token_t *tok;
    ojw_error_t err;
    char *t = test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_256),
                        "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", CLAIMS);
    char *rs, zeros[63];

    memset(zeros, 0, sizeof(zeros));               /* 63 bytes, not 64 */
    strrchr(t, '.')[1] = '\0';
    t = apr_pstrcat(test_pool, t, test_b64(test_pool, zeros, sizeof(zeros)),
                    NULL);
    ck_assert_int_eq(check(t, mixed_jwks(), &tok, &err), OJW_ERR_SIGNATURE);
    ck_assert_ptr_nonnull(strstr(err.detail, "needs 64"));
    rs = test_sign(test_pool, test_rsa_key(),
                   "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS);
    rs = apr_pstrcat(test_pool, rs, "AAAA", NULL);
    ck_assert_int_eq(check(rs, mixed_jwks(), &tok, &err), OJW_ERR_SIGNATURE);
}
END_TEST

START_TEST(crit_and_b64_refused)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *t;

    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],"
                  "\"exp\":1}", CLAIMS);
    ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_CRIT);
    t = test_sign(test_pool, test_rsa_key(),
                  "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"b64\":false}", CLAIMS);
    ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_CRIT);
}
END_TEST

START_TEST(malformed_shapes)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *bad[] = { "", "a", "e30.e30", "e30.e30.AAAA.AAAA",
                          "e30.e30.AAAA.AAAA.AAAA", ".e30.AAAA", "e30..AAAA",
                          "A===.e30.AAAA", "e30=.e30.AAAA",
                          "e30.e3 0.AAAA", "e30.e30.AA+A", " e30.e30.AAAA" };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(check(bad[i], rsa_jwks(), &tok, &err)
                      == OJW_ERR_MALFORMED, "accepted \"%s\"", bad[i]);
    }
}
END_TEST

START_TEST(empty_signature_refused_after_alg)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *none = "eyJhbGciOiJub25lIn0.e30.";          /* {"alg":"none"} */
    const char *rs = "eyJhbGciOiJSUzI1NiJ9.e30.";          /* {"alg":"RS256"} */

    ck_assert_int_eq(check(none, rsa_jwks(), &tok, &err), OJW_ERR_ALG);
    ck_assert_int_eq(check(rs, rsa_jwks(), &tok, &err), OJW_ERR_SIGNATURE);
}
END_TEST

START_TEST(header_json_checked)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *hdrs[] = { "[]", "\"x\"", "{\"alg\":\"RS256\",\"alg\":\"RS256\"}",
                           "{\"alg\":\"RS256\"", "{\"alg\":\"RS256\",\"kid\":1}" };
    size_t i;

    for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        const char *t = apr_pstrcat(test_pool,
                                    test_b64(test_pool, hdrs[i], strlen(hdrs[i])),
                                    ".e30.AAAA", NULL);
        ck_assert_msg(check(t, rsa_jwks(), &tok, &err) == OJW_ERR_MALFORMED,
                      "accepted header %s", hdrs[i]);
    }
}
END_TEST

START_TEST(payload_duplicates_refused)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *t = test_sign(test_pool, test_rsa_key(),
                              "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                              "{\"sub\":\"a\",\"sub\":\"b\"}");

    ck_assert_int_eq(check(t, rsa_jwks(), &tok, &err), OJW_ERR_MALFORMED);
}
END_TEST

START_TEST(size_cap)
{
    ojw_token_t *tok;
    ojw_error_t err;
    char *big = apr_palloc(test_pool, OJW_TOKEN_MAX_DEFAULT + 2);

    memset(big, 'A', OJW_TOKEN_MAX_DEFAULT + 1);
    big[OJW_TOKEN_MAX_DEFAULT + 1] = '\0';
    ck_assert_int_eq(check(big, rsa_jwks(), &tok, &err), OJW_ERR_TOO_LARGE);
}
END_TEST

START_TEST(peek_issuer)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *t = test_sign(test_pool, test_rsa_key(),
                              "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", CLAIMS);

    ck_assert_int_eq(ojw_token_parse(&tok, t, strlen(t), 16384, test_pool,
                                     &err), OJW_OK);
    ck_assert_str_eq(ojw_token_peek_issuer(tok, test_pool), "https://issuer/");
    ck_assert_ptr_null(tok->claims);
}
END_TEST

/* issue 13: explicit typing. */
static ojw_reason_t typed(const char *typ_member, const char *required)
{
    ojw_token_t *tok;
    ojw_error_t err;
    const char *h = apr_psprintf(test_pool, "{\"alg\":\"RS256\"%s}",
                                 typ_member);
    const char *t = test_sign(test_pool, test_rsa_key(), h, CLAIMS);

    ck_assert_int_eq(ojw_token_parse(&tok, t, strlen(t), OJW_TOKEN_MAX_DEFAULT,
                                     test_pool, &err), OJW_OK);
    return ojw_token_check_type(tok, required, &err);
}

START_TEST(explicit_typing)
{
    ck_assert_int_eq(typed("", NULL), OJW_OK);
    ck_assert_int_eq(typed(",\"typ\":\"JWT\"", NULL), OJW_OK);
    ck_assert_int_eq(typed(",\"typ\":\"dpop+jwt\"", NULL), OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed(",\"typ\":\"application/DPoP+JWT\"", NULL),
                     OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed(",\"typ\":\"secevent+jwt\"", NULL),
                     OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed(",\"typ\":\"logout+jwt\"", "at+jwt"),
                     OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed(",\"typ\":\"at+jwt\"", "at+jwt"), OJW_OK);
    ck_assert_int_eq(typed(",\"typ\":\"application/AT+JWT\"", "at+jwt"),
                     OJW_OK);
    ck_assert_int_eq(typed(",\"typ\":\"JWT\"", "at+jwt"), OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed("", "at+jwt"), OJW_ERR_TOKEN_TYPE);
    ck_assert_int_eq(typed(",\"typ\":7", NULL), OJW_ERR_MALFORMED);
}
END_TEST

Suite *token_suite(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, honest_rs256_ps256_es256);
    tcase_add_test(tc, no_kid_uses_a_fitting_key);
    tcase_add_test(tc, no_kid_tries_are_bounded);
    tcase_add_test(tc, refuses_none_and_hmac);
    tcase_add_test(tc, alg_must_fit_key);
    tcase_add_test(tc, alg_must_equal_jwk_alg);
    tcase_add_test(tc, unknown_kid_and_bad_signature);
    tcase_add_test(tc, signature_length_checked);
    tcase_add_test(tc, crit_and_b64_refused);
    tcase_add_test(tc, malformed_shapes);
    tcase_add_test(tc, empty_signature_refused_after_alg);
    tcase_add_test(tc, header_json_checked);
    tcase_add_test(tc, payload_duplicates_refused);
    tcase_add_test(tc, size_cap);
    tcase_add_test(tc, peek_issuer);
    tcase_add_test(tc, explicit_typing);
    suite_add_tcase(s, tc);
    return s;
}
