/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical form of an http(s) URL (src/url.c, RFC 3986 6.2.2 and
 * 6.2.3), in which htu and the request's URL are compared. */
#include <string.h>
#include "unit.h"
#include "url.h"

START_TEST(url_normalisation)
{
    const char *why;

#define N(in, out) ck_assert_str_eq(ojw_url_normalise(in, test_pool, &why), out)
#define BAD(in) ck_assert_ptr_null(ojw_url_normalise(in, test_pool, &why))
    N("https://A.example.COM", "https://a.example.com/");
    N("HTTPS://a.example.com:443/x?q#f", "https://a.example.com/x");
    N("http://a:80/x", "http://a/x");
    N("http://a:8080/x", "http://a:8080/x");
    N("https://a:80/x", "https://a:80/x");
    N("https://a/%7euser/%2f/%2F", "https://a/~user/%2F/%2F");
    N("https://a/b/./c/../d/..", "https://a/b/");
    N("https://a/../../x", "https://a/x");
    N("https://a/%2E%2E/x", "https://a/x");
    N("https://[::1]:443/x", "https://[::1]/x");
    N("https://[::1]:8443/x", "https://[::1]:8443/x");
    BAD("ftp://a/x");
    BAD("https:///x");
    BAD("https://a:99999/x");
    BAD("https://a:1x/x");
    BAD("https://u:p@a/x");
    BAD("https://a/%zz");
    BAD("https://a/%4");
    BAD("https://a/ b");
    BAD("https://a/\x80");
    BAD("");
    BAD("https://a\"b/");
    BAD("https://a:b:443/");
    BAD("https://[::1/");
    BAD("https://[]/");
    BAD("https://%61/");
#undef N
#undef BAD
}
END_TEST

START_TEST(scheme_length)
{
    ck_assert_uint_eq(ojw_url_scheme_len("https://a/"), 8);
    ck_assert_uint_eq(ojw_url_scheme_len("HTTP://a/"), 7);
    ck_assert_uint_eq(ojw_url_scheme_len("http:/a/"), 0);
    ck_assert_uint_eq(ojw_url_scheme_len("ftp://a/"), 0);
    ck_assert_uint_eq(ojw_url_scheme_len(""), 0);
}
END_TEST

/* What the canonical form is for: one URL, however written, compares
 * equal to itself; two different ones never do. */
START_TEST(normalising_twice_changes_nothing)
{
    static const char *const urls[] = {
        "HTTPS://A.example.COM:443/a/%7e/./b/../c?q", "http://[::1]:80",
        "https://a/%2f%41", "http://a:8080//x//", "https://a/b/..",
    };
    const char *why, *once, *twice;
    size_t i;

    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        once = ojw_url_normalise(urls[i], test_pool, &why);
        ck_assert_ptr_nonnull(once);
        twice = ojw_url_normalise(once, test_pool, &why);
        ck_assert_str_eq(once, twice);
    }
    ck_assert_str_ne(ojw_url_normalise("https://a/%2F", test_pool, &why),
                     ojw_url_normalise("https://a//", test_pool, &why));
}
END_TEST

Suite *url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, url_normalisation);
    tcase_add_test(tc, scheme_length);
    tcase_add_test(tc, normalising_twice_changes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
