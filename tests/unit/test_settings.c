/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of numeric directives (src/settings.c). */
#include <string.h>
#include "unit.h"
#include "settings.h"
#include "jwks_cache.h"

START_TEST(table_is_indexed_by_id_and_defaults_fit)
{
    int i;

    for (i = 0; i < OJW_SET_COUNT; i++) {
        ck_assert_int_eq(ojw_settings[i].id, i);
        ck_assert(strncmp(ojw_settings[i].directive, "OrdsJwt", 7) == 0);
        /* an auto row's default is 0, worked out by the module */
        ck_assert(ojw_settings[i].min <= ojw_settings[i].def
                  || (ojw_settings[i].autov && ojw_settings[i].def == 0));
        ck_assert(ojw_settings[i].def <= ojw_settings[i].max);
        ck_assert(ojw_settings[i].help && *ojw_settings[i].help);
        ck_assert_ptr_eq(ojw_setting_find(ojw_settings[i].directive),
                         &ojw_settings[i]);
    }
    ck_assert_ptr_null(ojw_setting_find("OrdsJwtProfile"));
    ck_assert_ptr_eq(ojw_setting_find("ordsjwtallowedskew"),
                     &ojw_settings[OJW_SET_SKEW]);
}
END_TEST

START_TEST(parse_bounds_and_messages)
{
    ojw_settings_t s;
    const ojw_setting_t *skew = &ojw_settings[OJW_SET_SKEW];
    const char *err;

    ojw_settings_init(&s);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_REFRESH), 3600);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_MIN_REFRESH), 10);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_MAX_STALE), 86400);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_FETCH_TIMEOUT), 5);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_TOKEN_MAX), 16384);
    /* issue 20: a DPoP request waits at most a second for its store */
    ck_assert_int_le(ojw_setting(&s, OJW_SET_REPLAY_TIMEOUT), 1000);
    ck_assert_ptr_null(ojw_setting_parse(&s, skew, "60", test_pool));
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_SKEW), 60);
    ck_assert_ptr_null(ojw_setting_parse(&s, skew, "-5", test_pool));
    err = ojw_setting_parse(&s, skew, "61", test_pool);
    ck_assert_str_eq(err, "OrdsJwtAllowedSkew: \"61\" is not a number from "
                     "-86400 to 60");
    ck_assert_ptr_nonnull(ojw_setting_parse(&s, skew, "", test_pool));
    ck_assert_ptr_nonnull(ojw_setting_parse(&s, skew, "5s", test_pool));
    ck_assert_ptr_nonnull(ojw_setting_parse(
        &s, skew, "99999999999999999999999", test_pool));
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_SKEW), -5);
}
END_TEST

START_TEST(merge_takes_what_the_virtual_host_sets)
{
    ojw_settings_t base, add, out;

    ojw_settings_init(&base);
    ojw_settings_init(&add);
    ck_assert_ptr_null(ojw_setting_parse(&base, &ojw_settings[OJW_SET_SKEW],
                                         "30", test_pool));
    ck_assert_ptr_null(ojw_setting_parse(&base, &ojw_settings[OJW_SET_AGE],
                                         "600", test_pool));
    ck_assert_ptr_null(ojw_setting_parse(&add, &ojw_settings[OJW_SET_AGE],
                                         "60", test_pool));
    ojw_settings_merge(&out, &base, &add);
    ck_assert_int_eq(ojw_setting(&out, OJW_SET_SKEW), 30);
    ck_assert_int_eq(ojw_setting(&out, OJW_SET_AGE), 60);
    ck_assert_int_eq(ojw_setting(&out, OJW_SET_TOKEN_MAX), 16384);
    ck_assert(out.set & (1u << OJW_SET_SKEW));
    ck_assert(!(out.set & (1u << OJW_SET_TOKEN_MAX)));
}
END_TEST

/* auto is the default of an auto row, and no number stands for it. */
START_TEST(auto_rows)
{
    const ojw_setting_t *w = &ojw_settings[OJW_SET_MAX_WAITERS];
    const ojw_setting_t *m = &ojw_settings[OJW_SET_JWKS_MEMORY];
    ojw_settings_t s;

    ojw_settings_init(&s);
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_MAX_WAITERS), 0);
    ck_assert_int_eq(w->max, OJW_PLACES_MAX);
    ck_assert_ptr_null(ojw_setting_parse(&s, w, "3", test_pool));
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_MAX_WAITERS), 3);
    ck_assert_ptr_null(ojw_setting_parse(&s, w, "AUTO", test_pool));
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_MAX_WAITERS), 0);
    ck_assert_str_eq(ojw_setting_parse(&s, w, "0", test_pool),
                     "OrdsJwtJwksMaxWaiters: \"0\" is not a number from 1 "
                     "to 1024 (or auto)");
    ck_assert_ptr_nonnull(ojw_setting_parse(&s, m, "255", test_pool));
    ck_assert_ptr_null(ojw_setting_parse(&s, m, "1048576", test_pool));
    ck_assert_int_eq(ojw_setting(&s, OJW_SET_JWKS_MEMORY), 1048576);
    /* off is no word for them */
    ck_assert_ptr_nonnull(ojw_setting_parse(&s, m, "off", test_pool));
}
END_TEST

Suite *settings_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("settings");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, table_is_indexed_by_id_and_defaults_fit);
    tcase_add_test(tc, parse_bounds_and_messages);
    tcase_add_test(tc, merge_takes_what_the_virtual_host_sets);
    tcase_add_test(tc, auto_rows);
    suite_add_tcase(s, tc);
    return s;
}
