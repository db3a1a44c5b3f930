/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile inputs at the unit level (issue 4): NumericDate ranges, JSON
 * that jansson must refuse, and regressions of what the fuzzers found
 * (tests/fuzz/README.md).
 */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "token.h"
#include "claims.h"
#include "b64url.h"

#define NOW 1700000000LL
#define BASE "\"iss\":\"https://issuer/\",\"aud\":\"api\",\"sub\":\"alice\""

static const ojw_claim_policy_t policy = {
    "https://issuer/", "api", 0, 0, NULL, 0, NULL, NULL
};

static ojw_reason_t claims_of(const char *json)
{
    char why[160];
    json_t *c = ojw_json_object_load(json, strlen(json), test_pool, why,
                                     sizeof(why));
    const char *sub;

    ck_assert_msg(c != NULL, "%s: %s", json, why);
    return ojw_claims_check(c, &policy, NOW, &sub, NULL);
}

START_TEST(numeric_dates_in_range_only)
{
    /* fractions are fine */
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100.5}"), OJW_OK);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"nbf\":0,"
                               "\"iat\":1699999999.25}"), OJW_OK);
    /* negative, beyond year 9999, not numbers */
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":-1}"), OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1e300}"), OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":253402300800}"),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":9223372036854775807}"),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":\"1700000100\"}"),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":true}"), OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":null}"), OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":[1700000100]}"),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"nbf\":-5}"),
                     OJW_ERR_MALFORMED);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"nbf\":1e300}"),
                     OJW_ERR_MALFORMED);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"nbf\":false}"),
                     OJW_ERR_MALFORMED);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"iat\":-1}"),
                     OJW_ERR_IAT_MISSING);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"iat\":1.5e11}"),
                     OJW_ERR_IAT_FUTURE);
    ck_assert_int_eq(claims_of("{" BASE ",\"exp\":1700000100,\"iat\":1e12}"),
                     OJW_ERR_IAT_MISSING);
}
END_TEST

static int json_refused(const char *text, size_t len)
{
    char why[160];

    return ojw_json_object_load(text, len, test_pool, why, sizeof(why))
           == NULL;
}

START_TEST(json_that_is_refused)
{
    char *deep = apr_palloc(test_pool, 20001);

    /* numbers beyond a double, NUL bytes, invalid UTF-8, duplicates */
    ck_assert(json_refused("{\"exp\":1e400}", 13));
    ck_assert(json_refused("{\"a\":\"x\0y\"}", 11));
    ck_assert(json_refused("{\"a\":\"\xc3\x28\"}", 10));
    ck_assert(json_refused("{\"a\":\"\xff\"}", 9));
    ck_assert(json_refused("{\"a\":1,\"a\":1}", 13));
    ck_assert(json_refused("{\"a\":1}x", 8));
    ck_assert(json_refused("[]", 2));
    /* an escaped NUL too (jansson without JSON_ALLOW_NUL): a claim that
     * C string functions would cut short ("admin\u0000x" as "admin") never
     * reaches them */
    ck_assert(json_refused("{\"a\":\"x\\u0000y\"}", 16));
    ck_assert(json_refused("{\"a\\u0000b\":1}", 14));
    /* 10,000 deep: jansson stops at its depth limit */
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    ck_assert(json_refused(deep, 20000));
    memset(deep, '{', 1);
    ck_assert(json_refused(deep, 20000));
}
END_TEST

static void note_why(void *baton, ojw_note_level_t level, int index,
                     const char *kid, const char *why)
{
    (void)level;
    (void)index;
    (void)kid;
    apr_cpystrn(baton, why, 256);
}

/* The JWKS of the P-256 test key with member name set to value (base64url
 * of bytes), parsed; returns why the key was skipped ("" if it was not). */
static const char *ec_jwks_with(const char *name, const unsigned char *value,
                                size_t len, int flip_last_byte)
{
    cjose_jwk_t *k = test_ec_key(CJOSE_JWK_EC_P_256);
    char *doc = test_jwks(test_pool, 1, &k, NULL);
    json_t *root = json_loads(doc, 0, NULL);
    json_t *jwk = json_array_get(json_object_get(root, "keys"), 0);
    char *why = apr_pcalloc(test_pool, 256);
    char errbuf[256];
    ojw_keyset_t *ks;
    char *text;

    if (value) {
        json_object_set_new(jwk, name, json_string(test_b64(test_pool,
                                                  (const char *)value, len)));
    }
    if (flip_last_byte) {
        unsigned char *raw;
        size_t rawlen;
        const char *v = json_string_value(json_object_get(jwk, name));

        ck_assert_int_eq(ojw_b64url_decode(test_pool, v, strlen(v), &raw,
                                           &rawlen), 0);
        raw[rawlen - 1] ^= 1;
        json_object_set_new(jwk, name, json_string(test_b64(test_pool,
                                                  (const char *)raw, rawlen)));
    }
    text = json_dumps(root, JSON_COMPACT);
    (void)ojw_jwks_parse(&ks, text, strlen(text), test_pool, note_why, why,
                         errbuf, sizeof(errbuf));
    free(text);
    json_decref(root);
    return why;
}

START_TEST(ec_points_off_the_curve)
{
    unsigned char ones[32];

    memset(ones, 0xff, sizeof(ones));
    ck_assert_str_eq(ec_jwks_with("x", NULL, 0, 0), "");
    ck_assert_ptr_nonnull(strstr(ec_jwks_with("y", NULL, 0, 1),
                                 "not on curve P-256"));
    ck_assert_ptr_nonnull(strstr(ec_jwks_with("x", NULL, 0, 1),
                                 "not on curve P-256"));
    /* a coordinate above the field prime */
    ck_assert_ptr_nonnull(strstr(ec_jwks_with("x", ones, 32, 0),
                                 "not on curve P-256"));
    /* x = 0 */
    memset(ones, 0, sizeof(ones));
    ck_assert_ptr_nonnull(strstr(ec_jwks_with("x", ones, 32, 0),
                                 "not on curve P-256"));
}
END_TEST

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("inputs");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, numeric_dates_in_range_only);
    tcase_add_test(tc, json_that_is_refused);
    tcase_add_test(tc, ec_points_off_the_curve);
    suite_add_tcase(s, tc);
    return s;
}
