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

#define NOW 1700000000LL
#define BASE "\"iss\":\"https://issuer/\",\"aud\":\"api\",\"sub\":\"alice\""

static const ojw_claim_policy_t policy = { "https://issuer/", "api", 0, 0 };

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

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("inputs");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, numeric_dates_in_range_only);
    tcase_add_test(tc, json_that_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
