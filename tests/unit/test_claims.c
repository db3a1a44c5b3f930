/* SPDX-License-Identifier: Apache-2.0 */
/* Claim checks, scopes, JSON pointers. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "claims.h"
#include "diagnose.h"
#include "pass.h"

#define NOW 1700000000LL

static ojw_claim_policy_t policy = {
    "https://issuer/", "ords/hr/", 0, 0, NULL, 0, NULL, NULL
};

static ojw_reason_t check_json(const char *json, const ojw_claim_policy_t *p)
{
    json_error_t jerr;
    json_t *claims = json_loads(json, 0, &jerr);
    const char *sub;
    ojw_error_t err;
    ojw_reason_t rc;

    ck_assert_msg(claims != NULL, "bad test JSON: %s", json);
    rc = ojw_claims_check(claims, p, NOW, &sub, &err);
    json_decref(claims);
    return rc;
}

#define BASE "\"iss\":\"https://issuer/\",\"aud\":\"ords/hr/\",\"sub\":\"u\""

START_TEST(accepts_honest)
{
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100}", &policy),
                     OJW_OK);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100.5,"
                                "\"nbf\":1699999999,\"iat\":1699999999}",
                                &policy), OJW_OK);
}
END_TEST

START_TEST(issuer_exact)
{
    ck_assert_int_eq(check_json("{\"iss\":\"https://issuer\",\"aud\":\"ords/hr/\","
                                "\"sub\":\"u\",\"exp\":1700000100}", &policy),
                     OJW_ERR_ISSUER);
    ck_assert_int_eq(check_json("{\"aud\":\"ords/hr/\",\"sub\":\"u\","
                                "\"exp\":1700000100}", &policy),
                     OJW_ERR_ISSUER);
    ck_assert_int_eq(check_json("{\"iss\":[\"https://issuer/\"],\"aud\":"
                                "\"ords/hr/\",\"sub\":\"u\",\"exp\":1700000100}",
                                &policy), OJW_ERR_ISSUER);
}
END_TEST

START_TEST(audience_string_or_array)
{
    const char *ok[] = {
        "{\"iss\":\"https://issuer/\",\"aud\":[\"x\",\"ords/hr/\"],\"sub\":\"u\",\"exp\":1700000100}",
    };
    const char *bad[] = {
        "{\"iss\":\"https://issuer/\",\"aud\":\"ords/hr\",\"sub\":\"u\",\"exp\":1700000100}",
        "{\"iss\":\"https://issuer/\",\"aud\":[],\"sub\":\"u\",\"exp\":1700000100}",
        "{\"iss\":\"https://issuer/\",\"aud\":{\"a\":\"ords/hr/\"},\"sub\":\"u\",\"exp\":1700000100}",
        "{\"iss\":\"https://issuer/\",\"aud\":7,\"sub\":\"u\",\"exp\":1700000100}",
        "{\"iss\":\"https://issuer/\",\"aud\":[7,\"ords/hr/\"],\"sub\":\"u\",\"exp\":1700000100}",
        "{\"iss\":\"https://issuer/\",\"sub\":\"u\",\"exp\":1700000100}",
    };
    size_t i;

    ck_assert_int_eq(check_json(ok[0], &policy), OJW_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(check_json(bad[i], &policy) == OJW_ERR_AUDIENCE,
                      "accepted %s", bad[i]);
    }
}
END_TEST

#define ISS_EXP "\"iss\":\"https://issuer/\",\"exp\":1700000100"

/* Issue 11: a member that is not a string refuses the array wherever it
 * stands; a subject of spaces is no subject. */
START_TEST(audience_order_and_blank_subject)
{
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"sub\":\"u\","
                                "\"aud\":[\"ords/hr/\",7]}", &policy),
                     OJW_ERR_AUDIENCE);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"sub\":\"u\","
                                "\"aud\":[7,\"ords/hr/\"]}", &policy),
                     OJW_ERR_AUDIENCE);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"sub\":\"u\","
                                "\"aud\":[\"x\",\"ords/hr/\"]}", &policy),
                     OJW_OK);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"aud\":\"ords/hr/\","
                                "\"sub\":\" \"}", &policy), OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"aud\":\"ords/hr/\","
                                "\"sub\":\"   \"}", &policy), OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"aud\":\"ords/hr/\","
                                "\"sub\":\"\"}", &policy), OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_json("{" ISS_EXP ",\"aud\":\"ords/hr/\","
                                "\"sub\":\" a \"}", &policy), OJW_OK);
}
END_TEST

START_TEST(exp_required_numeric)
{
    ck_assert_int_eq(check_json("{" BASE "}", &policy), OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":\"1700000100\"}", &policy),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":true}", &policy),
                     OJW_ERR_EXP_MISSING);
    /* a NumericDate is from 0 to year 9999 (see test_hostile.c) */
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":-5}", &policy),
                     OJW_ERR_EXP_MISSING);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,\"nbf\":\"0\"}",
                                &policy), OJW_ERR_MALFORMED);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,\"iat\":null}",
                                &policy), OJW_ERR_IAT_MISSING);
}
END_TEST

START_TEST(times_with_skew)
{
    ojw_claim_policy_t skew30 = policy;

    skew30.allowed_skew = 30;
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000000}", &policy),
                     OJW_ERR_EXPIRED);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1699999990}", &skew30),
                     OJW_OK);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1699999960}", &skew30),
                     OJW_ERR_EXPIRED);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,"
                                "\"nbf\":1700000010}", &policy),
                     OJW_ERR_NOT_YET_VALID);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,"
                                "\"nbf\":1700000010}", &skew30), OJW_OK);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,"
                                "\"iat\":1700000010}", &policy),
                     OJW_ERR_IAT_FUTURE);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700000100,"
                                "\"iat\":1700000010}", &skew30), OJW_OK);
}
END_TEST

START_TEST(allowed_age)
{
    ojw_claim_policy_t aged = policy;

    aged.allowed_age = 60;
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700009999,"
                                "\"iat\":1699999950}", &aged), OJW_OK);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700009999,"
                                "\"iat\":1699999880}", &aged), OJW_ERR_TOO_OLD);
    ck_assert_int_eq(check_json("{" BASE ",\"exp\":1700009999}", &aged),
                     OJW_ERR_IAT_MISSING);
}
END_TEST

START_TEST(subject_required)
{
    ck_assert_int_eq(check_json("{\"iss\":\"https://issuer/\",\"aud\":\"ords/hr/\","
                                "\"exp\":1700000100}", &policy), OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_json("{\"iss\":\"https://issuer/\",\"aud\":\"ords/hr/\","
                                "\"sub\":\"\",\"exp\":1700000100}", &policy),
                     OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_json("{\"iss\":\"https://issuer/\",\"aud\":\"ords/hr/\","
                                "\"sub\":\"a\\nb\",\"exp\":1700000100}", &policy),
                     OJW_ERR_SUBJECT);
}
END_TEST

static int scope_check(const char *json, const char *scope)
{
    json_t *c = json_loads(json, 0, NULL);
    int r = ojw_claims_has_any_scope(c, &scope, 1);

    json_decref(c);
    return r;
}

START_TEST(scopes)
{
    ck_assert(scope_check("{\"scope\":\"a hr.read b\"}", "hr.read"));
    ck_assert(scope_check("{\"scope\":\"hr.read\"}", "hr.read"));
    ck_assert(!scope_check("{\"scope\":\"hr.readx hr\"}", "hr.read"));
    ck_assert(!scope_check("{\"scope\":\"ords/hr/hr.read\"}", "hr.read"));
    ck_assert(scope_check("{\"scp\":\"x hr.read\"}", "hr.read"));
    ck_assert(scope_check("{\"scp\":[\"x\",\"hr.read\"]}", "hr.read"));
    ck_assert(!scope_check("{\"scp\":[\"x hr.read\"]}", "hr.read"));
    ck_assert(!scope_check("{\"scope\":[\"hr.read\"]}", "hr.read"));
    ck_assert(!scope_check("{}", "hr.read"));
}
END_TEST

START_TEST(json_pointer)
{
    json_t *c = json_loads("{\"a\":{\"b/c\":[\"x\",{\"~k\":1}]},\"\":2}", 0,
                           NULL);

    ck_assert_ptr_eq(ojw_json_pointer(c, ""), c);
    ck_assert_int_eq(json_integer_value(ojw_json_pointer(c, "/")), 2);
    ck_assert_str_eq(json_string_value(ojw_json_pointer(c, "/a/b~1c/0")), "x");
    ck_assert_int_eq(json_integer_value(ojw_json_pointer(c, "/a/b~1c/1/~0k")),
                     1);
    ck_assert_ptr_null(ojw_json_pointer(c, "/a/b~1c/01"));
    ck_assert_ptr_null(ojw_json_pointer(c, "/a/b~1c/2"));
    ck_assert_ptr_null(ojw_json_pointer(c, "/a/b~1c/-"));
    ck_assert_ptr_null(ojw_json_pointer(c, "a"));
    ck_assert_ptr_null(ojw_json_pointer(c, "/a~2"));
    ck_assert(!ojw_json_pointer_valid("x"));
    ck_assert(ojw_json_pointer_valid("/realm_access/roles"));
    json_decref(c);
}
END_TEST

START_TEST(roles)
{
    json_t *c = json_loads("{\"realm_access\":{\"roles\":[\"a\",\"admin\"]},"
                           "\"grp\":\"admin\",\"n\":[1]}", 0, NULL);
    const char *admin = "admin", *two[] = { "x", "admin" };

    ck_assert(ojw_claims_has_any_role(c, "/realm_access/roles", &admin, 1));
    ck_assert(ojw_claims_has_any_role(c, "/grp", two, 2));
    ck_assert(!ojw_claims_has_any_role(c, "/grp", two, 1));
    ck_assert(!ojw_claims_has_any_role(c, "/n", &admin, 1));
    ck_assert(!ojw_claims_has_any_role(c, "/missing", &admin, 1));
    json_decref(c);
}
END_TEST

/* Require ords-claim NAME VALUE ...: 1 when json's claim NAME matches. */
static int claim_match(const char *json, const char *name, const char *v1,
                       const char *v2)
{
    json_t *c = json_loads(json, 0, NULL);
    const char *values[2] = { v1, v2 };
    int rc;

    ck_assert_msg(c != NULL, "bad test JSON: %s", json);
    rc = ojw_claims_match(c, name, values, v2 ? 2 : 1);
    json_decref(c);
    return rc;
}

START_TEST(claim_values)
{
    const char *doc = "{\"tier\":\"gold\",\"grp\":[\"a\",7,\"b\",true],"
                      "\"ok\":true,\"no\":false,\"n\":42,\"neg\":-1,"
                      "\"f\":1.0,\"z\":null,\"o\":{\"x\":\"y\"},"
                      "\"a/b\":\"slash\",\"deep\":{\"t\":[\"x\"]}}";

    ck_assert(claim_match(doc, "tier", "gold", NULL));
    ck_assert(claim_match(doc, "tier", "silver", "gold"));
    ck_assert(!claim_match(doc, "tier", "Gold", NULL));
    ck_assert(!claim_match(doc, "tier", "gold ", NULL));
    ck_assert(claim_match(doc, "grp", "b", NULL));
    ck_assert(!claim_match(doc, "grp", "7", "true"));   /* strings only */
    ck_assert(!claim_match(doc, "grp", "a,7,b,true", NULL));
    ck_assert(claim_match(doc, "ok", "true", NULL));
    ck_assert(claim_match(doc, "no", "false", NULL));
    ck_assert(!claim_match(doc, "ok", "1", "True"));
    ck_assert(claim_match(doc, "n", "42", NULL));
    ck_assert(!claim_match(doc, "n", "042", "42.0"));
    ck_assert(claim_match(doc, "neg", "-1", NULL));
    ck_assert(!claim_match(doc, "f", "1", "1.0"));
    ck_assert(!claim_match(doc, "z", "null", ""));
    ck_assert(!claim_match(doc, "o", "{\"x\":\"y\"}", "y"));
    ck_assert(!claim_match(doc, "missing", "", "gold"));
    /* a JSON pointer when the name starts with "/" */
    ck_assert(claim_match(doc, "/deep/t", "x", NULL));
    ck_assert(claim_match(doc, "/deep/t/0", "x", NULL));
    ck_assert(claim_match(doc, "/a~1b", "slash", NULL));
    ck_assert(!claim_match(doc, "a~1b", "slash", NULL));
    ck_assert(!claim_match(doc, "/deep", "x", NULL));
    ck_assert(!claim_match(doc, "/deep/t~", "x", NULL));  /* invalid */
    ck_assert(!claim_match(doc, "deep/t", "x", NULL));    /* a name */
    ck_assert(!ojw_claims_match(NULL, "tier", NULL, 0));
}
END_TEST

START_TEST(reason_table_complete)
{
    int i, j;

    for (i = 0; i < OJW_REASON_COUNT; i++) {
        ck_assert_msg(ojw_reason_name((ojw_reason_t)i) != NULL
                      && ojw_reason_description((ojw_reason_t)i) != NULL,
                      "reason %d has no text", i);
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(ojw_reason_name((ojw_reason_t)i),
                             ojw_reason_name((ojw_reason_t)j));
        }
    }
    ck_assert_str_eq(ojw_reason_name(OJW_ERR_CLAIM_MISMATCH), "claim_mismatch");
}
END_TEST

/* The hint for a claims refusal of json (NULL when there is none). */
static const char *hint_of(const char *json, const ojw_claim_policy_t *p)
{
    json_t *claims = json_loads(json, 0, NULL);
    const char *sub, *hint;
    ojw_error_t err;
    ojw_reason_t rc = ojw_claims_check(claims, p, NOW, &sub, &err);

    hint = ojw_hint_for_claims(test_pool, rc, claims, p, NOW);
    json_decref(claims);
    return hint;
}

START_TEST(hints_name_the_fix)
{
    ojw_claim_policy_t aged = policy;

    aged.allowed_age = 60;
    ck_assert_ptr_nonnull(strstr(hint_of("{\"iss\":\"https://issuer\",\"aud\":"
        "\"ords/hr/\",\"sub\":\"u\",\"exp\":1700000100}", &policy),
        "trailing slash"));
    ck_assert_ptr_nonnull(strstr(hint_of("{\"iss\":\"https://issuer/\",\"aud\":"
        "[\"x\",\"ords/hr\"],\"sub\":\"u\",\"exp\":1700000100}", &policy),
        "set audience=ords/hr"));
    ck_assert_ptr_null(hint_of("{\"iss\":\"https://other/\",\"aud\":"
        "\"ords/hr/\",\"sub\":\"u\",\"exp\":1700000100}", &policy));
    ck_assert_ptr_nonnull(strstr(hint_of("{" BASE ",\"exp\":1699999970}",
                                         &policy), "allowed_skew"));
    ck_assert_ptr_null(hint_of("{" BASE ",\"exp\":1699990000}", &policy));
    ck_assert_ptr_nonnull(strstr(hint_of("{" BASE ",\"exp\":1700009999,"
                                         "\"iat\":1699999000}", &aged),
                                 "allowed_age=60"));
}
END_TEST

START_TEST(scope_hint_for_audience_prefix)
{
    json_t *c = json_loads("{\"scope\":\"openid ords/hr/hr.read\"}", 0, NULL);
    const char *want[] = { "hr.write", "hr.read" };
    const char *hint = ojw_hint_for_scopes(test_pool, c, want, 2);

    ck_assert_ptr_nonnull(hint);
    ck_assert_ptr_nonnull(strstr(hint, "\"ords/hr/hr.read\" but not \"hr.read\""));
    ck_assert_ptr_null(ojw_hint_for_scopes(test_pool, c, want, 1));
    json_decref(c);
    c = json_loads("{\"scp\":[\"api://x/hr.read\"]}", 0, NULL);
    ck_assert_ptr_nonnull(ojw_hint_for_scopes(test_pool, c, want + 1, 1));
    json_decref(c);
}
END_TEST

static const char *value_of(const char *json, size_t max, int *cut)
{
    json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
    const char *out = ojw_pass_value(test_pool, v, max, cut);

    json_decref(v);
    return out;
}

START_TEST(pass_values_and_names)
{
    int cut;

    ck_assert_str_eq(value_of("\"a\\r\\nb\\u0007c\"", 100, &cut), "abc");
    ck_assert_str_eq(value_of("[\"x\",1,true]", 100, &cut), "x,1,true");
    ck_assert_str_eq(value_of("[[1],2]", 100, &cut), "[[1],2]");
    ck_assert_str_eq(value_of("{\"a\":{\"b\":1}}", 100, &cut), "{\"a\":{\"b\":1}}");
    ck_assert_str_eq(value_of("12.5", 100, &cut), "12.5");
    ck_assert_ptr_null(value_of("null", 100, &cut));
    /* cut on a character boundary: "é" is two bytes */
    ck_assert_str_eq(value_of("\"ab\\u00e9\"", 3, &cut), "ab");
    ck_assert_int_eq(cut, 1);
    ck_assert_str_eq(value_of("\"ab\\u00e9\"", 4, &cut), "ab\xc3\xa9");
    ck_assert_int_eq(cut, 0);
    ck_assert_str_eq(ojw_pass_env_name(test_pool, "realm_access.roles"),
                     "ORDSJWT_CLAIM_realm_access_roles");
    ck_assert_str_eq(ojw_pass_header_name(test_pool, "x_y:z"),
                     "X-OrdsJwt-Claim-x-y-z");
}
END_TEST

START_TEST(pass_lookalikes_scopes_roles)
{
    json_t *c = json_loads("{\"scope\":\"a b\",\"scp\":[\"c\",1],"
                           "\"g\":[\"r1\",\"r2\"]}", 0, NULL);

    ck_assert(ojw_pass_is_lookalike("X-OrdsJwt-Claim-sub"));
    ck_assert(ojw_pass_is_lookalike("x_ordsjwt_roles"));
    ck_assert(ojw_pass_is_lookalike("ORDSJWT-SCOPES"));
    ck_assert(!ojw_pass_is_lookalike("X-Ords-Jwt"));
    ck_assert(!ojw_pass_is_lookalike("Authorization"));
    ck_assert_str_eq(ojw_pass_scopes(test_pool, c), "a b c");
    ck_assert_str_eq(ojw_pass_roles(test_pool, c, "/g"), "r1,r2");
    ck_assert_str_eq(ojw_pass_roles(test_pool, c, NULL), "");
    json_decref(c);
}
END_TEST

/* Each line's own outcome, in ojw_claims_check_each's notes. */
typedef struct {
    ojw_reason_t line[OJW_CLAIM_LINES];
    int told[OJW_CLAIM_LINES];
} lines_t;

static void note_line(void *baton, ojw_claim_line_t line,
                      const ojw_error_t *err)
{
    lines_t *l = baton;

    l->told[line]++;
    l->line[line] = err ? err->reason : OJW_OK;
}

static ojw_reason_t check_each(const char *json, const ojw_claim_policy_t *p,
                               lines_t *l, ojw_error_t *err)
{
    json_t *claims = json_loads(json, 0, NULL);
    const char *sub;
    ojw_reason_t rc, once;
    ojw_error_t first;

    ck_assert_ptr_nonnull(claims);
    memset(l, 0, sizeof(*l));
    rc = ojw_claims_check_each(claims, p, NOW, &sub, err, note_line, l);
    once = ojw_claims_check(claims, p, NOW, &sub, &first);
    /* the verdict is the first refusal, as ojw_claims_check says it */
    ck_assert_int_eq(rc, once);
    if (rc != OJW_OK) {
        ck_assert_str_eq(err->detail, first.detail);
    }
    json_decref(claims);
    return rc;
}

START_TEST(each_line_on_its_own)
{
    ojw_claim_policy_t aged = policy;
    ojw_error_t err;
    lines_t l;
    int i;

    aged.allowed_age = 60;
    /* expired, iat not a date, no sub: the verdict is the iat's form (every
     * date's form comes before the clock), each line says its own */
    ck_assert_int_eq(check_each("{\"iss\":\"https://issuer/\",\"aud\":"
                                "\"x\",\"exp\":1,\"iat\":\"soon\"}", &aged,
                                &l, &err), OJW_ERR_AUDIENCE);
    ck_assert_int_eq(l.line[OJW_CLAIM_ISSUER], OJW_OK);
    ck_assert_int_eq(l.line[OJW_CLAIM_AUDIENCE], OJW_ERR_AUDIENCE);
    ck_assert_int_eq(l.line[OJW_CLAIM_EXP], OJW_ERR_EXPIRED);
    ck_assert_int_eq(l.line[OJW_CLAIM_IAT], OJW_ERR_IAT_MISSING);
    ck_assert_int_eq(l.told[OJW_CLAIM_AGE], 0);     /* needs a usable iat */
    ck_assert_int_eq(l.line[OJW_CLAIM_SUBJECT], OJW_ERR_SUBJECT);
    ck_assert_int_eq(check_each("{" BASE ",\"exp\":1,\"iat\":\"soon\"}",
                                &aged, &l, &err), OJW_ERR_IAT_MISSING);
    /* no iat at all: the iat line passes, the age line refuses */
    ck_assert_int_eq(check_each("{" BASE ",\"exp\":1700000100}", &aged, &l,
                                &err), OJW_ERR_IAT_MISSING);
    ck_assert_int_eq(l.line[OJW_CLAIM_IAT], OJW_OK);
    ck_assert_int_eq(l.line[OJW_CLAIM_AGE], OJW_ERR_IAT_MISSING);
    ck_assert_int_eq(check_each("{" BASE ",\"exp\":1700000100,\"nbf\":"
                                "1800000000,\"iat\":1600000000}", &aged, &l,
                                &err), OJW_ERR_NOT_YET_VALID);
    ck_assert_int_eq(l.line[OJW_CLAIM_AGE], OJW_ERR_TOO_OLD);
    ck_assert_int_eq(check_each("{" BASE ",\"exp\":1700000100}", &policy, &l,
                                &err), OJW_OK);
    for (i = 0; i < OJW_CLAIM_LINES; i++) {
        ck_assert_int_eq(l.told[i], 1);
        ck_assert_int_eq(l.line[i], OJW_OK);
    }
}
END_TEST

/* A cached token's dates checked again alone: for claims whose iss, aud
 * and sub pass, the same verdict and the same words as the full check,
 * whatever the dates, skew, age and time. */
START_TEST(dates_alone_as_the_full_check)
{
    static const char *const dates[] = {
        "\"exp\":1700000100", "\"exp\":1699999990",
        "\"exp\":1700000100,\"nbf\":1700000050",
        "\"exp\":1700000100,\"nbf\":\"soon\"",
        "\"exp\":1700000100,\"iat\":1700000020",
        "\"exp\":1700000100,\"iat\":1699990000",
        "\"exp\":1700000100,\"iat\":true", "\"nbf\":1",
        "\"exp\":-5", "\"exp\":1700000100,\"nbf\":null",
        "\"exp\":1700000100,\"iat\":1699999999.5,\"nbf\":1699999999",
    };
    static const long skews[] = { 0, 30 }, ages[] = { 0, 60, 36000 };
    static const long long at[] = { NOW - 100, NOW, NOW + 95, NOW + 4000 };
    ojw_claim_policy_t pol = policy;
    ojw_claim_times_t times;
    ojw_error_t full, alone;
    const char *sub;
    json_t *claims;
    size_t d, k, a, t;

    for (d = 0; d < sizeof(dates) / sizeof(dates[0]); d++) {
        claims = json_loads(apr_pstrcat(test_pool, "{" BASE ",", dates[d],
                                        "}", NULL), 0, NULL);
        ck_assert_ptr_nonnull(claims);
        ojw_claim_times_read(&times, claims);
        for (k = 0; k < 2; k++) {
            for (a = 0; a < 3; a++) {
                for (t = 0; t < 4; t++) {
                    pol.allowed_skew = skews[k];
                    pol.allowed_age = ages[a];
                    memset(&full, 0, sizeof(full));
                    memset(&alone, 0, sizeof(alone));
                    ck_assert_int_eq(
                        ojw_claims_check_times(&times, &pol, at[t], &alone),
                        ojw_claims_check(claims, &pol, at[t], &sub, &full));
                    ck_assert_int_eq(alone.reason, full.reason);
                    ck_assert_str_eq(alone.detail, full.detail);
                }
            }
        }
        json_decref(claims);
    }
}
END_TEST

Suite *claims_suite(void)
{
    Suite *s = suite_create("claims");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, accepts_honest);
    tcase_add_test(tc, dates_alone_as_the_full_check);
    tcase_add_test(tc, issuer_exact);
    tcase_add_test(tc, audience_string_or_array);
    tcase_add_test(tc, exp_required_numeric);
    tcase_add_test(tc, audience_order_and_blank_subject);
    tcase_add_test(tc, times_with_skew);
    tcase_add_test(tc, allowed_age);
    tcase_add_test(tc, subject_required);
    tcase_add_test(tc, scopes);
    tcase_add_test(tc, json_pointer);
    tcase_add_test(tc, roles);
    tcase_add_test(tc, claim_values);
    tcase_add_test(tc, reason_table_complete);
    tcase_add_test(tc, hints_name_the_fix);
    tcase_add_test(tc, scope_hint_for_audience_prefix);
    tcase_add_test(tc, pass_values_and_names);
    tcase_add_test(tc, pass_lookalikes_scopes_roles);
    tcase_add_test(tc, each_line_on_its_own);
    suite_add_tcase(s, tc);
    return s;
}
