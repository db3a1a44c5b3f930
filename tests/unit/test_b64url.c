/* SPDX-License-Identifier: Apache-2.0 */
/* base64url guard in front of cjose. */
#include <string.h>
#include "unit.h"
#include "b64url.h"

START_TEST(accepts_canonical)
{
    ck_assert(ojw_b64url_valid("", 0));
    ck_assert(ojw_b64url_valid("e30", 3));          /* "{}" */
    ck_assert(ojw_b64url_valid("AA", 2));
    ck_assert(ojw_b64url_valid("AAA", 3));
    ck_assert(ojw_b64url_valid("AAAA", 4));
    ck_assert(ojw_b64url_valid("-_-_", 4));
}
END_TEST

START_TEST(refuses_hostile)
{
    ck_assert(!ojw_b64url_valid("A===", 4));        /* aborts cjose 0.6.2.1 */
    ck_assert(!ojw_b64url_valid("A", 1));           /* len % 4 == 1 */
    ck_assert(!ojw_b64url_valid("AAAAA", 5));
    ck_assert(!ojw_b64url_valid("e30=", 4));
    ck_assert(!ojw_b64url_valid("ab+/", 4));        /* base64, not url */
    ck_assert(!ojw_b64url_valid("ab c", 4));
    ck_assert(!ojw_b64url_valid("ab\0c", 4));
    ck_assert(!ojw_b64url_valid("AB", 2));          /* trailing bits set */
    ck_assert(!ojw_b64url_valid("AAB", 3));
    ck_assert(!ojw_b64url_valid(NULL, 0));
}
END_TEST

START_TEST(decodes)
{
    unsigned char *out;
    size_t len;

    ck_assert_int_eq(ojw_b64url_decode(test_pool, "e30", 3, &out, &len), 0);
    ck_assert_uint_eq(len, 2);
    ck_assert_str_eq((char *)out, "{}");
    ck_assert_int_eq(ojw_b64url_decode(test_pool, "A===", 4, &out, &len), -1);
    ck_assert_ptr_null(out);
}
END_TEST

Suite *b64url_suite(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, accepts_canonical);
    tcase_add_test(tc, refuses_hostile);
    tcase_add_test(tc, decodes);
    suite_add_tcase(s, tc);
    return s;
}
