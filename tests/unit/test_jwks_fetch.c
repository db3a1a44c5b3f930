/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl fetch: refusals that need no server, and hints. */
#include <string.h>
#include "unit.h"
#include "jwks_fetch.h"

static const ojw_fetch_opts_t opts = { NULL, 2000, 1024, NULL };

START_TEST(https_only)
{
    ojw_fetch_result_t res;

    ck_assert_int_ne(ojw_fetch("http://127.0.0.1:1/jwks", &opts, &res,
                               test_pool), APR_SUCCESS);
    ck_assert_msg(strstr(res.error, "nsupported protocol") != NULL, "%s",
                  res.error);
    ck_assert_ptr_nonnull(res.hint);
}
END_TEST

START_TEST(connection_refused)
{
    ojw_fetch_result_t res;

    ck_assert_int_ne(ojw_fetch("https://127.0.0.1:1/jwks", &opts, &res,
                               test_pool), APR_SUCCESS);
    ck_assert_int_eq(res.http_status, 0);
    ck_assert(res.error[0] != '\0');
}
END_TEST

START_TEST(hints)
{
    ck_assert_ptr_nonnull(strstr(ojw_fetch_hint(
        "https://idcs-1.identity.oraclecloud.com/admin/v1/SigningCert/jwk", 401),
        "Configure client access"));
    ck_assert_ptr_null(strstr(ojw_fetch_hint("https://x/jwks", 401),
                              "Configure client access"));
    ck_assert_ptr_null(ojw_fetch_hint("https://x/jwks", 500));
}
END_TEST

START_TEST(json_content_types)
{
    ck_assert(ojw_fetch_json_type("application/json"));
    ck_assert(ojw_fetch_json_type("Application/JSON; charset=UTF-8"));
    ck_assert(ojw_fetch_json_type("application/jwk-set+json"));
    ck_assert(ojw_fetch_json_type("  application/jwk-set+JSON ;charset=utf-8"));
    ck_assert(ojw_fetch_json_type("application/problem+json"));
    ck_assert(ojw_fetch_json_type("application/json\t; x=y"));
}
END_TEST

START_TEST(other_content_types)
{
    ck_assert(!ojw_fetch_json_type(NULL));
    ck_assert(!ojw_fetch_json_type(""));
    ck_assert(!ojw_fetch_json_type("text/html"));
    ck_assert(!ojw_fetch_json_type("text/html; charset=utf-8"));
    ck_assert(!ojw_fetch_json_type("text/json"));
    ck_assert(!ojw_fetch_json_type("text/plain"));
    ck_assert(!ojw_fetch_json_type("application/octet-stream"));
    ck_assert(!ojw_fetch_json_type("application/+json"));
    ck_assert(!ojw_fetch_json_type("application/jsonp"));
    ck_assert(!ojw_fetch_json_type("application/json5"));
    ck_assert(!ojw_fetch_json_type("application/json-seq"));
    ck_assert(!ojw_fetch_json_type("application/x/y+json"));
    ck_assert(!ojw_fetch_json_type("application/json html"));
    ck_assert(!ojw_fetch_json_type("application/json,text/html"));
    ck_assert(!ojw_fetch_json_type("application/"));
    ck_assert(!ojw_fetch_json_type("application"));
    ck_assert(!ojw_fetch_json_type("xapplication/json"));
    ck_assert(!ojw_fetch_json_type("application/ json"));
}
END_TEST

START_TEST(origins)
{
    const char *a = "https://idp.example/jwks";

    ck_assert(ojw_fetch_same_origin(a, "https://idp.example/other?x=1"));
    ck_assert(ojw_fetch_same_origin(a, "HTTPS://IDP.Example:443/k"));
    ck_assert(ojw_fetch_same_origin("https://127.0.0.1:8443/a",
                                    "https://127.0.0.1:8443/b"));
    ck_assert(!ojw_fetch_same_origin(a, "https://evil.example/jwks"));
    ck_assert(!ojw_fetch_same_origin(a, "https://idp.example.evil.example/"));
    ck_assert(!ojw_fetch_same_origin(a, "https://idp.example:8443/jwks"));
    ck_assert(!ojw_fetch_same_origin(a, "http://idp.example/jwks"));
    ck_assert(!ojw_fetch_same_origin(a, "https://idp.example@evil.example/"));
    ck_assert(!ojw_fetch_same_origin("https://127.0.0.1:8443/a",
                                     "https://127.0.0.1:8444/a"));
    ck_assert(!ojw_fetch_same_origin(a, "/relative"));
    ck_assert(!ojw_fetch_same_origin(a, ""));
    ck_assert(!ojw_fetch_same_origin(a, "https://"));
    ck_assert(!ojw_fetch_same_origin("not a url", "not a url"));
}
END_TEST

Suite *jwks_fetch_suite(void)
{
    Suite *s = suite_create("jwks_fetch");
    TCase *tc = tcase_create("core");

    ojw_fetch_global_init();
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, https_only);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, hints);
    tcase_add_test(tc, json_content_types);
    tcase_add_test(tc, other_content_types);
    tcase_add_test(tc, origins);
    suite_add_tcase(s, tc);
    return s;
}
