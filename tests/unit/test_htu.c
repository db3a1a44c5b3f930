/* SPDX-License-Identifier: Apache-2.0 */
/* The URL a DPoP proof's htu is compared with (src/htu.c): scheme, host
 * and port from the configuration, the path from the request. */
#include <string.h>
#include "unit.h"
#include "htu.h"
#include "url.h"

static const char *url(const char *base, const char *target)
{
    const char *why = NULL;
    const char *u = ojw_htu_url(base, target, test_pool, &why);

    ck_assert_msg(u != NULL, "%s %s: %s", base, target, why);
    return u;
}

static const char *refused(const char *base, const char *target)
{
    const char *why = NULL;

    ck_assert_ptr_null(ojw_htu_url(base, target, test_pool, &why));
    ck_assert_ptr_nonnull(why);
    return why;
}

START_TEST(origin_from_the_configuration)
{
    ck_assert_str_eq(ojw_htu_origin("http", "127.0.0.1", 8080, test_pool),
                     "http://127.0.0.1:8080");
    ck_assert_str_eq(ojw_htu_origin("https", "api.example.com", 443,
                                    test_pool), "https://api.example.com:443");
    ck_assert_str_eq(ojw_htu_origin("http", "::1", 80, test_pool),
                     "http://[::1]:80");
    ck_assert_str_eq(ojw_htu_origin("http", "[::1]", 80, test_pool),
                     "http://[::1]:80");
    ck_assert_ptr_null(ojw_htu_origin("http", "", 80, test_pool));
}
END_TEST

START_TEST(the_request_gives_its_path_only)
{
    ck_assert_str_eq(url("http://127.0.0.1:8080", "/dp/x?page=2"),
                     "http://127.0.0.1:8080/dp/x?page=2");
    ck_assert_str_eq(url("https://api.example.com/ords", "/hr/emp"),
                     "https://api.example.com/ords/hr/emp");
    /* a path that looks like an authority is still a path */
    ck_assert_str_eq(url("https://api.example.com", "//evil.example/x"),
                     "https://api.example.com//evil.example/x");
}
END_TEST

START_TEST(absolute_form_naming_this_server)
{
    const char *why;

    ck_assert_str_eq(url("https://api.example.com",
                         "HTTPS://API.Example.com:443/dp/x?q=1"),
                     "https://api.example.com/dp/x?q=1");
    ck_assert_str_eq(url("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
                     "http://127.0.0.1:8080/");
    ck_assert_str_eq(url("http://127.0.0.1:8080", "http://127.0.0.1:8080?x"),
                     "http://127.0.0.1:8080/?x");
    ck_assert_ptr_nonnull(ojw_url_normalise(url("http://127.0.0.1:80",
                                                "http://127.0.0.1/a/../b"),
                                            test_pool, &why));
}
END_TEST

START_TEST(absolute_form_naming_another_server)
{
    const char *why;

    /* issue 20: a proof made for another resource server */
    why = refused("http://127.0.0.1:8080", "https://victim-rs.example/dp/");
    ck_assert(strstr(why, "https://victim-rs.example/") != NULL);
    ck_assert(strstr(why, "http://127.0.0.1:8080/") != NULL);
    refused("https://api.example.com", "http://api.example.com/dp/");
    refused("https://api.example.com", "https://api.example.com:8443/dp/");
    refused("https://api.example.com", "https://api.example.com.evil/dp/");
    refused("https://api.example.com", "https://evil@api.example.com/dp/");
    refused("https://api.example.com", "https://api.example.com@evil/dp/");
    refused("https://api.example.com", "https://api.exa%6dple.com/dp/");
    refused("https://api.example.com", "https:///dp/");
}
END_TEST

START_TEST(other_targets_refused)
{
    refused("https://api.example.com", "*");
    refused("https://api.example.com", "api.example.com:443");
    refused("https://api.example.com", "");
    refused("https://api.example.com", "ftp://api.example.com/x");
    refused("https://api.example.com", "dp/x");
    refused("", "/dp/x");
    refused("api.example.com", "/dp/x");
}
END_TEST

Suite *htu_suite(void)
{
    Suite *s = suite_create("htu");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, origin_from_the_configuration);
    tcase_add_test(tc, the_request_gives_its_path_only);
    tcase_add_test(tc, absolute_form_naming_this_server);
    tcase_add_test(tc, absolute_form_naming_another_server);
    tcase_add_test(tc, other_targets_refused);
    suite_add_tcase(s, tc);
    return s;
}
