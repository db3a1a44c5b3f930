/* SPDX-License-Identifier: Apache-2.0 */
/* Require ords-scope/role/privilege/claim: parse, decide, explain
 * (src/authz.c), as the module's authz providers and ordsjwt-check use
 * them. */
#include <string.h>
#include <jansson.h>
#include "unit.h"
#include "authz.h"

static json_t *doc(const char *text)
{
    json_t *c = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(c);
    return c;
}

static const ojw_privilege_t *find(void *baton, const char *name)
{
    const ojw_privilege_t *pv = baton;

    return pv && strcmp(name, pv->name) == 0 ? pv : NULL;
}

/* line: the words after the provider name, space-separated. */
static const char *parse(ojw_require_t **rl, ojw_require_kind_t kind,
                         const char *line, void *baton)
{
    const char *words[8];
    char *copy = strdup(line), *last = NULL, *w;
    const char *err;
    int n = 0;

    for (w = strtok_r(copy, " ", &last); w && n < 8;
         w = strtok_r(NULL, " ", &last)) {
        words[n++] = w;
    }
    err = ojw_require_parse(rl, kind, words, n, find, baton, test_pool);
    free(copy);
    return err;
}

START_TEST(kinds_by_provider_name)
{
    ck_assert_int_eq(ojw_require_kind("ords-scope"), OJW_REQUIRE_SCOPE);
    ck_assert_int_eq(ojw_require_kind("ORDS-Claim"), OJW_REQUIRE_CLAIM);
    ck_assert_int_eq(ojw_require_kind("valid-user"), -1);
    ck_assert_str_eq(ojw_require_provider(OJW_REQUIRE_PRIVILEGE),
                     "ords-privilege");
}
END_TEST

START_TEST(parse_errors_are_the_modules)
{
    ojw_require_t *rl;

    ck_assert_ptr_nonnull(parse(&rl, (ojw_require_kind_t)-1, "a", NULL));
    ck_assert_ptr_nonnull(parse(&rl, OJW_REQUIRE_KINDS, "a", NULL));
    ck_assert_str_eq(parse(&rl, OJW_REQUIRE_SCOPE, "", NULL),
                     "Require ords-*: needs at least one value");
    ck_assert_ptr_nonnull(strstr(parse(&rl, OJW_REQUIRE_CLAIM, "tier", NULL),
                                 "needs a claim name and at least one"));
    ck_assert_ptr_nonnull(strstr(parse(&rl, OJW_REQUIRE_CLAIM, "/a~2 x",
                                       NULL), "is not a JSON pointer"));
    ck_assert_str_eq(parse(&rl, OJW_REQUIRE_PRIVILEGE, "p", NULL),
                     "Require ords-privilege: no OrdsJwtPrivilege named "
                     "\"p\" is defined before this line");
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_CLAIM, "/org/region emea eu",
                             NULL));
    ck_assert_str_eq(rl->claim, "/org/region");
    ck_assert_int_eq(rl->n, 2);
    ck_assert_str_eq(rl->joined, "emea eu");
}
END_TEST

START_TEST(decisions)
{
    json_t *c = doc("{\"scope\":\"openid ords/hr/hr.read hr.write\","
                    "\"groups\":[\"users\"],\"tier\":\"gold\",\"n\":3}");
    const char *words[] = { "hr.admin", "role=users" };
    ojw_privilege_t *pv;
    ojw_require_t *rl;

    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_SCOPE, "hr.read hr.write",
                             NULL));
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_OK);
    ck_assert_str_eq(ojw_require_explain(rl, c, NULL, OJW_OK, test_pool),
                     "\"hr.write\" granted");
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_SCOPE, "hr.read", NULL));
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_ERR_SCOPE_MISSING);
    ck_assert_ptr_nonnull(strstr(ojw_require_hint(rl, c, test_pool),
                                 "without the primary audience"));
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_ROLE, "users", NULL));
    ck_assert_int_eq(ojw_require_decide(rl, c, "/groups"), OJW_OK);
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_ERR_ROLE_MISSING);
    ck_assert_ptr_nonnull(strstr(ojw_require_explain(rl, c, NULL,
                                 OJW_ERR_ROLE_MISSING, test_pool),
                                 "no role_claim_name"));
    ck_assert_ptr_null(ojw_privilege_parse(&pv, words, 2, test_pool));
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_PRIVILEGE, "hr.admin", pv));
    ck_assert_int_eq(ojw_require_decide(rl, c, "/groups"), OJW_OK);
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_ERR_SCOPE_MISSING);
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_CLAIM, "n 2 3", NULL));
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_OK);
    ck_assert_str_eq(ojw_require_explain(rl, c, NULL, OJW_OK, test_pool),
                     "claim n matches \"3\"");
    ck_assert_ptr_null(parse(&rl, OJW_REQUIRE_CLAIM, "tier silver", NULL));
    ck_assert_int_eq(ojw_require_decide(rl, c, NULL), OJW_ERR_CLAIM_MISMATCH);
    ck_assert_ptr_nonnull(strstr(ojw_require_explain(rl, c, NULL,
                                 OJW_ERR_CLAIM_MISMATCH, test_pool),
                                 "claim tier: \"gold\", none of \"silver\""));
    json_decref(c);
}
END_TEST

Suite *authz_suite(void)
{
    Suite *s = suite_create("authz");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, kinds_by_provider_name);
    tcase_add_test(tc, parse_errors_are_the_modules);
    tcase_add_test(tc, decisions);
    suite_add_tcase(s, tc);
    return s;
}
