/* SPDX-License-Identifier: Apache-2.0 */
/* OrdsJwtPrivilege: the parser and the grant decision (src/privilege.c). */
#include <string.h>
#include <jansson.h>
#include "unit.h"
#include "privilege.h"

static const char *parse(ojw_privilege_t **pv, const char *const *words,
                         int n)
{
    return ojw_privilege_parse(pv, words, n, test_pool);
}

START_TEST(parses_name_and_roles)
{
    static const char *const words[] = { "hr.read", "role=hr-readers",
                                         "role=hr admins" };
    ojw_privilege_t *pv;

    ck_assert_ptr_null(parse(&pv, words, 3));
    ck_assert_str_eq(pv->name, "hr.read");
    ck_assert_int_eq(pv->nroles, 2);
    ck_assert_str_eq(pv->roles[0], "hr-readers");
    ck_assert_str_eq(pv->roles[1], "hr admins");
    ck_assert_ptr_null(parse(&pv, words, 1));
    ck_assert_int_eq(pv->nroles, 0);
}
END_TEST

START_TEST(refuses_what_the_module_refuses)
{
    static const char *const empty[] = { "" };
    static const char *const group[] = { "p", "group=x" };
    static const char *const bare[] = { "p", "role=" };
    ojw_privilege_t *pv = (ojw_privilege_t *)1;

    ck_assert_str_eq(parse(&pv, NULL, 0), "OrdsJwtPrivilege needs a NAME, "
                     "then role=R pairs");
    ck_assert_ptr_null(pv);
    ck_assert_ptr_nonnull(parse(&pv, empty, 1));
    ck_assert_str_eq(parse(&pv, group, 2), "OrdsJwtPrivilege p: \"group=x\" "
                     "is not role=NAME");
    ck_assert_ptr_nonnull(parse(&pv, bare, 2));
}
END_TEST

static const ojw_privilege_t *define(const char *name, const char *role)
{
    const char *words[] = { name, role };
    ojw_privilege_t *pv;

    ck_assert_ptr_null(parse(&pv, words, role ? 2 : 1));
    return pv;
}

static json_t *claims(const char *text)
{
    json_t *c = json_loads(text, 0, NULL);

    ck_assert_ptr_nonnull(c);
    return c;
}

START_TEST(grants_by_scope_first_then_role)
{
    const ojw_privilege_t *pvs[2];
    json_t *c = claims("{\"scope\":\"openid b\",\"groups\":[\"ra\"]}");
    int by_role = -1;

    pvs[0] = define("a", "role=ra");
    pvs[1] = define("b", NULL);
    /* b as a scope wins over a by its role: names are tried first */
    ck_assert_int_eq(ojw_privilege_granted(pvs, 2, c, "/groups", &by_role), 1);
    ck_assert_int_eq(by_role, 0);
    ck_assert_int_eq(ojw_privilege_granted(pvs, 1, c, "/groups", &by_role), 0);
    ck_assert_int_eq(by_role, 1);
    /* no role_claim_name: roles grant nothing */
    ck_assert_int_eq(ojw_privilege_granted(pvs, 1, c, NULL, NULL), -1);
    json_decref(c);
    c = claims("{\"scp\":[\"x\"],\"groups\":\"rb\"}");
    ck_assert_int_eq(ojw_privilege_granted(pvs, 2, c, "/groups", NULL), -1);
    json_decref(c);
}
END_TEST

Suite *privilege_suite(void)
{
    Suite *s = suite_create("privilege");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, parses_name_and_roles);
    tcase_add_test(tc, refuses_what_the_module_refuses);
    tcase_add_test(tc, grants_by_scope_first_then_role);
    suite_add_tcase(s, tc);
    return s;
}
