/* SPDX-License-Identifier: Apache-2.0 */
/* Claims whose env or header names collide once mapped. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "pass.h"

/* The collisions of the claims in json, max bytes of names. */
static ojw_pass_collisions_t collide(const char *json, size_t max)
{
    json_error_t jerr;
    json_t *claims = json_loads(json, 0, &jerr);
    ojw_pass_collisions_t c;

    ck_assert_msg(claims != NULL, "bad test JSON: %s", json);
    ojw_pass_collisions(&c, test_pool, claims, max);
    json_decref(claims);
    return c;
}

static int dropped(const ojw_pass_collisions_t *c, const char *name)
{
    return apr_hash_get(c->dropped, name, APR_HASH_KEY_STRING) != NULL;
}

START_TEST(none_collide)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"iss\":\"i\","
                                      "\"e-mail\":\"a@x\",\"email\":\"b@x\","
                                      "\"s-u-b\":1,\"\":2}", 384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 0);
    ck_assert_ptr_null(c.names);
}
END_TEST

START_TEST(sub_always_wins)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"SUB\":\"admin\","
                                      "\"Sub\":\"root\",\"tier\":\"gold\"}",
                                      384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 2);
    ck_assert(dropped(&c, "SUB") && dropped(&c, "Sub"));
    ck_assert(!dropped(&c, "sub") && !dropped(&c, "tier"));
    ck_assert_str_eq(c.names, "[\"sub\",\"SUB\",\"Sub\"]");
}
END_TEST

START_TEST(sub_wins_in_any_order)
{
    ojw_pass_collisions_t c = collide("{\"S-U-B\":1,\"s_u_b\":2,"
                                      "\"SUB\":\"admin\",\"sub\":\"alice\"}",
                                      384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 3);
    ck_assert(dropped(&c, "SUB") && !dropped(&c, "sub"));
    ck_assert(dropped(&c, "S-U-B") && dropped(&c, "s_u_b"));
}
END_TEST

START_TEST(all_of_a_group_dropped)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"e-mail\":\"a\","
                                      "\"e_mail\":\"b\",\"E.MAIL\":\"c\","
                                      "\"email\":\"d\"}", 384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 3);
    ck_assert(dropped(&c, "e-mail") && dropped(&c, "e_mail")
              && dropped(&c, "E.MAIL"));
    ck_assert(!dropped(&c, "email") && !dropped(&c, "sub"));
    ck_assert_str_eq(c.names, "[\"e-mail\",\"e_mail\",\"E.MAIL\"]");
}
END_TEST

START_TEST(without_sub_claim_nobody_wins)
{
    ojw_pass_collisions_t c = collide("{\"SUB\":\"a\",\"Sub\":\"b\"}", 384);

    ck_assert(dropped(&c, "SUB") && dropped(&c, "Sub"));
}
END_TEST

START_TEST(non_ascii_maps_like_punctuation)
{
    /* "é" is two bytes, each mapped to "_" or "-": the same as "__" */
    ojw_pass_collisions_t c = collide("{\"a\\u00e9\":1,\"a__\":2,"
                                      "\"a--\":3,\"a\\u00e8x\":4}", 384);

    ck_assert(dropped(&c, "a\xc3\xa9") && dropped(&c, "a__")
              && dropped(&c, "a--"));
    ck_assert(!dropped(&c, "a\xc3\xa8x"));
}
END_TEST

START_TEST(names_are_escaped_and_bounded)
{
    apr_pool_t *p = test_pool;
    char *json = apr_pstrdup(p, "{\"sub\":\"alice\"");
    int i;

    for (i = 0; i < 200; i++) {
        json = apr_psprintf(p, "%s,\"c%d.x\":1,\"c%d_x\":2", json, i, i);
    }
    json = apr_pstrcat(p, json, ",\"q\\\"\\n\":1,\"Q\\\"\\n\":2}", NULL);
    {
        ojw_pass_collisions_t c = collide(json, 64);

        ck_assert_int_eq(apr_hash_count(c.dropped), 402);
        ck_assert_uint_le(strlen(c.names), 64);
        ck_assert_str_eq(c.names + strlen(c.names) - 3, "...");
        ck_assert(strncmp(c.names, "[\"c0.x\",\"c0_x\",", 15) == 0);
    }
    {
        ojw_pass_collisions_t c = collide("{\"q\\\"\\n\":1,\"Q\\\"\\n\":2}",
                                          64);

        ck_assert_str_eq(c.names, "[\"q\\\"\\n\",\"Q\\\"\\n\"]");
    }
}
END_TEST

Suite *pass_suite(void)
{
    Suite *s = suite_create("pass");
    TCase *tc = tcase_create("collisions");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, none_collide);
    tcase_add_test(tc, sub_always_wins);
    tcase_add_test(tc, sub_wins_in_any_order);
    tcase_add_test(tc, all_of_a_group_dropped);
    tcase_add_test(tc, without_sub_claim_nobody_wins);
    tcase_add_test(tc, non_ascii_maps_like_punctuation);
    tcase_add_test(tc, names_are_escaped_and_bounded);
    suite_add_tcase(s, tc);
    return s;
}
