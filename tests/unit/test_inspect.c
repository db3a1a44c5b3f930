/* SPDX-License-Identifier: Apache-2.0 */
/* A token checked step by step (src/inspect.c), as ordsjwt-check does. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "inspect.h"
#include "profile.h"

#define NOW 1700000000LL

static const ojw_claim_policy_t policy = {
    "https://issuer/", "api", 0, 0, NULL, 0, NULL, NULL
};

static ojw_keyset_t *rsa_keys(void)
{
    cjose_jwk_t *k = test_rsa_key();
    const char *kid = "rsa1";
    const char *doc = test_jwks(test_pool, 1, &k, &kid);
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    return ks;
}

/* parse, verify with the RSA key, claims under pol at NOW. */
static void inspect(ojw_inspection_t *in, const char *header,
                    const char *claims, const ojw_claim_policy_t *pol)
{
    const char *t = test_sign(test_pool, test_rsa_key(), header, claims);

    if (ojw_inspect_parse(in, t, strlen(t), OJW_TOKEN_MAX_DEFAULT, test_pool)
        == OJW_OK && ojw_inspect_verify(in, rsa_keys(), test_pool) == OJW_OK) {
        ojw_inspect_claims(in, pol, NOW, test_pool);
    }
}

#define RS256 "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"

static void assert_step(const ojw_inspection_t *in, ojw_step_id_t id,
                        ojw_step_state_t state, ojw_reason_t reason)
{
    ck_assert_msg(in->steps[id].state == state, "%s: state %d, not %d (%s)",
                  ojw_step_name(id), in->steps[id].state, state,
                  in->steps[id].detail ? in->steps[id].detail : "");
    ck_assert_int_eq(in->steps[id].reason, reason);
}

START_TEST(honest_token_passes_every_step)
{
    ojw_inspection_t in;
    int id;

    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":[\"x\",\"api\"],"
            "\"sub\":\"alice\",\"exp\":1700000300,\"iat\":1700000000}", &policy);
    for (id = 0; id <= OJW_STEP_SUBJECT; id++) {
        if (id != OJW_STEP_TYPE          /* marked only when it matters */
            && id != OJW_STEP_NONCE) {
            assert_step(&in, (ojw_step_id_t)id, OJW_STEP_PASSED, OJW_OK);
        }
    }
    ck_assert_int_eq(in.verdict.reason, OJW_OK);
    ck_assert(in.verified);
    ck_assert_str_eq(in.subject, "alice");
    ck_assert_str_eq(in.steps[OJW_STEP_KEY].detail, "kid \"rsa1\": RSA 2048 bits");
    ck_assert_str_eq(in.steps[OJW_STEP_EXP].detail,
                     "in 300 s (2023-11-14T22:18:20Z)");
    ck_assert_str_eq(in.steps[OJW_STEP_AUDIENCE].detail,
                     "\"api\" (one of 2 entries)");
    ck_assert_str_eq(in.steps[OJW_STEP_NBF].detail, "absent (optional)");
}
END_TEST

/* Every claim line shows its own outcome; the verdict is the module's
 * first refusal, with the module's detail and hint. */
START_TEST(each_claim_line_on_its_own)
{
    ojw_inspection_t in;
    ojw_error_t err;
    const char *sub;
    const char *claims = "{\"iss\":\"https://issuer\",\"aud\":\"other\","
                         "\"exp\":1699999990,\"nbf\":1700000100,"
                         "\"iat\":\"soon\"}";

    inspect(&in, RS256, claims, &policy);
    assert_step(&in, OJW_STEP_ISSUER, OJW_STEP_FAILED, OJW_ERR_ISSUER);
    assert_step(&in, OJW_STEP_AUDIENCE, OJW_STEP_FAILED, OJW_ERR_AUDIENCE);
    assert_step(&in, OJW_STEP_EXP, OJW_STEP_FAILED, OJW_ERR_EXPIRED);
    assert_step(&in, OJW_STEP_NBF, OJW_STEP_FAILED, OJW_ERR_NOT_YET_VALID);
    assert_step(&in, OJW_STEP_IAT, OJW_STEP_FAILED, OJW_ERR_IAT_MISSING);
    assert_step(&in, OJW_STEP_AGE, OJW_STEP_NOT_RUN, OJW_OK);
    assert_step(&in, OJW_STEP_SUBJECT, OJW_STEP_FAILED, OJW_ERR_SUBJECT);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_ISSUER].hint,
                                 "only by a trailing slash"));
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_EXP].hint,
                                 "off by only 10 s"));
    /* the verdict: what ojw_claims_check says of the whole token */
    ck_assert_int_eq(ojw_claims_check(in.tok->claims, &policy, NOW, &sub,
                                      &err), in.verdict.reason);
    ck_assert_str_eq(in.verdict.detail, err.detail);
    ck_assert_str_eq(in.verdict.detail, in.steps[OJW_STEP_ISSUER].detail);
    ck_assert_str_eq(in.hint, in.steps[OJW_STEP_ISSUER].hint);
}
END_TEST

START_TEST(age_line_and_skew)
{
    ojw_inspection_t in;
    ojw_claim_policy_t p = policy;

    p.allowed_age = 60;
    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
            "\"sub\":\"a\",\"exp\":1700000300}", &p);
    assert_step(&in, OJW_STEP_IAT, OJW_STEP_PASSED, OJW_OK);
    assert_step(&in, OJW_STEP_AGE, OJW_STEP_FAILED, OJW_ERR_IAT_MISSING);
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_IAT_MISSING);

    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
            "\"sub\":\"a\",\"exp\":1700000300,\"iat\":1699999000}", &p);
    assert_step(&in, OJW_STEP_AGE, OJW_STEP_FAILED, OJW_ERR_TOO_OLD);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_AGE].hint,
                                 "allowed_age=60"));

    p.allowed_age = 0;
    p.allowed_skew = 30;
    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
            "\"sub\":\"a\",\"exp\":1699999990,\"nbf\":1700000020}", &p);
    ck_assert_int_eq(in.verdict.reason, OJW_OK);
    assert_step(&in, OJW_STEP_AGE, OJW_STEP_PASSED, OJW_OK);
    ck_assert_str_eq(in.steps[OJW_STEP_AGE].detail,
                     "not checked (allowed_age 0)");
}
END_TEST

START_TEST(bad_signature_leaves_claims_unchecked)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    const char *kid = "rsa1";
    const char *doc = test_jwks(test_pool, 1, &ec, &kid);
    const char *t = test_sign(test_pool, test_rsa_key(), RS256,
                              "{\"iss\":\"x\"}");
    ojw_keyset_t *ks;
    ojw_inspection_t in;
    char errbuf[256];
    int id;

    ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    ck_assert_int_eq(ojw_inspect_parse(&in, t, strlen(t),
                                       OJW_TOKEN_MAX_DEFAULT, test_pool),
                     OJW_OK);
    /* an EC key under the token's kid: the key does not fit RS256 */
    ck_assert_int_eq(ojw_inspect_verify(&in, ks, test_pool), OJW_ERR_ALG);
    assert_step(&in, OJW_STEP_KEY, OJW_STEP_FAILED, OJW_ERR_ALG);
    ojw_inspect_claims(&in, &policy, NOW, test_pool);
    for (id = OJW_STEP_SIGNATURE; id < OJW_STEP_COUNT; id++) {
        assert_step(&in, (ojw_step_id_t)id, OJW_STEP_NOT_RUN, OJW_OK);
    }
    ck_assert(!in.verified);

    t = test_sign(test_pool, test_rsa_key(), RS256, "{\"iss\":\"x\"}");
    t = apr_pstrcat(test_pool, apr_pstrndup(test_pool, t, strlen(t) - 4),
                    "AAAA", NULL);
    ojw_inspect_parse(&in, t, strlen(t), OJW_TOKEN_MAX_DEFAULT, test_pool);
    ck_assert_int_eq(ojw_inspect_verify(&in, rsa_keys(), test_pool),
                     OJW_ERR_SIGNATURE);
    assert_step(&in, OJW_STEP_KEY, OJW_STEP_PASSED, OJW_OK);
    assert_step(&in, OJW_STEP_SIGNATURE, OJW_STEP_FAILED, OJW_ERR_SIGNATURE);
}
END_TEST

START_TEST(parse_refusals_name_their_step)
{
    ojw_inspection_t in;
    static const char none_header[] = "{\"alg\":\"none\"}";
    static const char crit_header[] = "{\"alg\":\"RS256\",\"crit\":[\"x\"],"
                                      "\"x\":1}";
    const char *none = apr_pstrcat(test_pool,
                                   test_b64(test_pool, none_header,
                                            strlen(none_header)),
                                   ".", test_b64(test_pool, "{}", 2), ".", NULL);
    const char *crit = apr_pstrcat(test_pool,
                                   test_b64(test_pool, crit_header,
                                            strlen(crit_header)),
                                   ".", test_b64(test_pool, "{}", 2), ".AAAA",
                                   NULL);

    ck_assert_int_eq(ojw_inspect_parse(&in, "a.b", 3, 100, test_pool),
                     OJW_ERR_MALFORMED);
    assert_step(&in, OJW_STEP_FORMAT, OJW_STEP_FAILED, OJW_ERR_MALFORMED);
    assert_step(&in, OJW_STEP_ALG, OJW_STEP_NOT_RUN, OJW_OK);
    ck_assert_int_eq(ojw_inspect_parse(&in, "a.b.c", 5, 4, test_pool),
                     OJW_ERR_TOO_LARGE);
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_TOO_LARGE);

    ck_assert_int_eq(ojw_inspect_parse(&in, none, strlen(none), 1000,
                                       test_pool), OJW_ERR_ALG);
    assert_step(&in, OJW_STEP_FORMAT, OJW_STEP_PASSED, OJW_OK);
    assert_step(&in, OJW_STEP_ALG, OJW_STEP_FAILED, OJW_ERR_ALG);

    ck_assert_int_eq(ojw_inspect_parse(&in, crit, strlen(crit), 1000,
                                       test_pool), OJW_ERR_CRIT);
    ck_assert_str_eq(in.steps[OJW_STEP_ALG].detail, "RS256");
    assert_step(&in, OJW_STEP_CRIT, OJW_STEP_FAILED, OJW_ERR_CRIT);
}
END_TEST

START_TEST(scopes_and_roles)
{
    ojw_inspection_t in;
    const char *read[] = { "hr.read" }, *two[] = { "x", "hr.write" };
    const char *admin[] = { "admin" };

    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
            "\"sub\":\"a\",\"exp\":1700000300,\"scope\":\"ords/hr/hr.read "
            "hr.write\",\"groups\":[\"users\"]}", &policy);
    ck_assert_int_eq(ojw_inspect_scopes(&in, two, 2, test_pool), OJW_OK);
    ck_assert_str_eq(in.steps[OJW_STEP_SCOPE].detail, "\"hr.write\" granted");
    ck_assert_int_eq(ojw_inspect_scopes(&in, read, 1, test_pool),
                     OJW_ERR_SCOPE_MISSING);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_SCOPE].hint,
                                 "without the primary audience"));
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_SCOPE_MISSING);
    ck_assert_int_eq(ojw_inspect_roles(&in, "/groups", admin, 1, test_pool),
                     OJW_ERR_ROLE_MISSING);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_ROLE].detail,
                                 "[\"users\"]"));
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_SCOPE_MISSING); /* the first */
    ck_assert_int_eq(ojw_inspect_roles(&in, NULL, admin, 1, test_pool),
                     OJW_ERR_ROLE_MISSING);
}
END_TEST

START_TEST(segments_for_display)
{
    const char *why = NULL;
    const char *t = test_sign(test_pool, test_rsa_key(), RS256, "{\"a\":1}");
    json_t *v = ojw_inspect_segment(t, strlen(t), 1, test_pool, &why);

    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "a")), 1);
    ck_assert_ptr_null(ojw_inspect_segment("abc", 3, 1, test_pool, &why));
    ck_assert_str_eq(why, "no such segment");
    ck_assert_ptr_null(ojw_inspect_segment("e30!.x", 6, 0, test_pool, &why));
    ck_assert_str_eq(why, "not canonical unpadded base64url");
}
END_TEST

/* A pasted Authorization value: Bearer, Basic (password = token), bare. */
START_TEST(header_token_bearer_basic_bare)
{
    const char *user, *err = NULL, *t;

    t = ojw_header_token(test_pool, "  Bearer   a.b.c \n", &user, &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_ptr_null(user);
    t = ojw_header_token(test_pool, "a.b.c\n", &user, &err);
    ck_assert_str_eq(t, "a.b.c");
    /* base64("carol:a.b.c"), base64(":a.b.c") */
    t = ojw_header_token(test_pool, "Basic Y2Fyb2w6YS5iLmM=", &user, &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_str_eq(user, "carol");
    t = ojw_header_token(test_pool, "basic OmEuYi5j", &user, &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_str_eq(user, "");
    /* a password with a colon keeps it: only the first colon splits */
    t = ojw_header_token(test_pool, "Basic dTphOmI=", &user, &err);
    ck_assert_str_eq(t, "a:b");
}
END_TEST

START_TEST(header_token_hostile_basic)
{
    static const char *const bad[] = {
        "Basic ", "Basic Y2Fyb2w", "Basic Y2Fy*2w6YS5iLmM=",
        "Basic Y2Fyb2w=",           /* "carol": no colon */
        "Basic YQBiOmM=",           /* "a\0b:c": a NUL byte */
        "Basic ====", "Basic Y2Fyb2w6YS5iLmM=Y2Fy",
    };
    const char *user, *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(ojw_header_token(test_pool, bad[i], &user, &err) == NULL,
                      "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(err);
    }
}
END_TEST

/* issue 13: typ and binding steps, as ordsjwt-check shows them. */
START_TEST(type_and_binding_steps)
{
    ojw_inspection_t in;
    ojw_dpop_request_t req;

    inspect(&in, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"dpop+jwt\"}",
            "{\"iss\":\"https://issuer/\",\"aud\":\"api\",\"sub\":\"a\","
            "\"exp\":1700000300,\"iat\":1700000000,"
            "\"cnf\":{\"jkt\":\"abc\"}}", &policy);
    ck_assert_int_eq(ojw_inspect_type(&in, NULL, test_pool),
                     OJW_ERR_TOKEN_TYPE);
    assert_step(&in, OJW_STEP_TYPE, OJW_STEP_FAILED, OJW_ERR_TOKEN_TYPE);
    ck_assert_ptr_nonnull(in.steps[OJW_STEP_TYPE].hint);
    memset(&req, 0, sizeof(req));
    ck_assert_int_eq(ojw_inspect_binding(&in, OJW_BIND_ALLOWED,
                                         OJW_BIND_ALLOWED, NULL, &req,
                                         test_pool), OJW_ERR_BINDING);
    assert_step(&in, OJW_STEP_BINDING, OJW_STEP_FAILED, OJW_ERR_BINDING);
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_TOKEN_TYPE);  /* the first */
    req.method = "GET";
    req.url = "https://a/";
    req.window = 60;
    req.now = NOW;
    ck_assert_int_eq(ojw_inspect_binding(&in, OJW_BIND_ALLOWED,
                                         OJW_BIND_ALLOWED, "a.b.c", &req,
                                         test_pool), OJW_ERR_DPOP_PROOF);
    inspect(&in, RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
            "\"sub\":\"a\",\"exp\":1700000300,\"iat\":1700000000}", &policy);
    ck_assert_int_eq(ojw_inspect_type(&in, NULL, test_pool), OJW_OK);
    ck_assert_int_eq(in.steps[OJW_STEP_TYPE].state, OJW_STEP_NOT_RUN);
    ck_assert_int_eq(ojw_inspect_binding(&in, OJW_BIND_ALLOWED,
                                         OJW_BIND_ALLOWED, NULL, &req,
                                         test_pool), OJW_OK);
    ck_assert_int_eq(in.steps[OJW_STEP_BINDING].state, OJW_STEP_NOT_RUN);
    ck_assert_int_eq(ojw_inspect_binding(&in, OJW_BIND_ALLOWED,
                                         OJW_BIND_REQUIRED, NULL, &req,
                                         test_pool), OJW_ERR_BINDING);
}
END_TEST

/* issue 23: the nonce step, judged before the token, its refusal the
 * verdict; without the server's key only its presence counts. */
START_TEST(nonce_step)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    const char *h = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}";
    ojw_nonce_policy_t pol = { NULL, 300, 0, NOW };
    ojw_nonce_key_t k;
    ojw_inspection_t in;
    char bytes[32];
    const char *with, *without;

    memset(bytes, 'n', sizeof(bytes));
    ck_assert_ptr_null(ojw_nonce_key_set(&k, bytes, sizeof(bytes)));
    with = test_sign(test_pool, ec, h, apr_psprintf(test_pool,
                     "{\"nonce\":\"%s\"}",
                     ojw_nonce_make(&k, NOW - 200, test_pool)));
    without = test_sign(test_pool, ec, h, "{\"jti\":\"1\"}");
    ck_assert_int_ne(ojw_inspect_parse(&in, "x", 1, 100, test_pool), OJW_OK);
    ck_assert_int_eq(ojw_inspect_nonce(&in, without, &pol, test_pool),
                     OJW_ERR_DPOP_NONCE);
    ck_assert_int_eq(in.verdict.reason, OJW_ERR_DPOP_NONCE);
    assert_step(&in, OJW_STEP_NONCE, OJW_STEP_FAILED, OJW_ERR_DPOP_NONCE);
    ck_assert_ptr_nonnull(in.hint);
    ck_assert_int_ne(ojw_inspect_parse(&in, "x", 1, 100, test_pool), OJW_OK);
    ck_assert_int_eq(ojw_inspect_nonce(&in, with, &pol, test_pool), OJW_OK);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_NONCE].detail,
                                 "not judged"));
    pol.key = &k;
    ck_assert_int_eq(ojw_inspect_nonce(&in, with, &pol, test_pool), OJW_OK);
    ck_assert_ptr_nonnull(strstr(in.steps[OJW_STEP_NONCE].detail,
                                 "issued 200 s ago with the key, good for "
                                 "300 s; httpd would send a fresh one"));
    ck_assert_str_eq(ojw_step_name(OJW_STEP_NONCE), "dpop nonce");
}
END_TEST

Suite *inspect_suite(void)
{
    Suite *s = suite_create("inspect");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, honest_token_passes_every_step);
    tcase_add_test(tc, type_and_binding_steps);
    tcase_add_test(tc, each_claim_line_on_its_own);
    tcase_add_test(tc, age_line_and_skew);
    tcase_add_test(tc, bad_signature_leaves_claims_unchecked);
    tcase_add_test(tc, parse_refusals_name_their_step);
    tcase_add_test(tc, scopes_and_roles);
    tcase_add_test(tc, segments_for_display);
    tcase_add_test(tc, header_token_bearer_basic_bare);
    tcase_add_test(tc, header_token_hostile_basic);
    tcase_add_test(tc, nonce_step);
    suite_add_tcase(s, tc);
    return s;
}
