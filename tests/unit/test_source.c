/* SPDX-License-Identifier: Apache-2.0 */
/* OrdsJwtTokenFrom sources and taking a token out of headers, query
 * strings and cookies. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "source.h"

static const char *parse(const char *arg, ojw_source_t *src)
{
    return ojw_source_parse(src, arg, test_pool);
}

START_TEST(parses_each_kind)
{
    ojw_source_t s;

    ck_assert_ptr_null(parse("header=Authorization:Bearer", &s));
    ck_assert_int_eq(s.kind, OJW_SOURCE_HEADER);
    ck_assert_str_eq(s.name, "Authorization");
    ck_assert_str_eq(s.scheme, "Bearer");
    ck_assert_ptr_null(parse("header=X-Api-Token", &s));
    ck_assert_ptr_null(s.scheme);
    ck_assert_str_eq(ojw_source_text(&s, test_pool), "header=X-Api-Token");
    ck_assert_ptr_null(parse("query=access_token", &s));
    ck_assert_int_eq(s.kind, OJW_SOURCE_QUERY);
    ck_assert_str_eq(s.name, "access_token");
    ck_assert_ptr_null(parse("cookie=jwt", &s));
    ck_assert_int_eq(s.kind, OJW_SOURCE_COOKIE);
    ck_assert_str_eq(ojw_source_text(&s, test_pool), "cookie=jwt");
}
END_TEST

START_TEST(refuses_bad_sources)
{
    static const char *const bad[] = {
        "", "header", "header=", "header=:Bearer", "header=X:", "header=A B",
        "header=X-Token:Bearer:x", "query=", "query=a&b", "query=a=b",
        "query=a%20", "query=a+b", "cookie=", "cookie=a;b", "cookie=a b",
        "Header=Authorization", "body=token", "header=\x01", NULL
    };
    ojw_source_t s;
    char longname[OJW_SOURCE_NAME_MAX + 8];
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(parse(bad[i], &s) != NULL, "accepted \"%s\"", bad[i]);
    }
    memset(longname, 'a', sizeof(longname) - 1);
    memcpy(longname, "query=", 6);
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_ptr_nonnull(parse(longname, &s));
}
END_TEST

static int htokens(const char *value, const char *scheme, const char **tok)
{
    return ojw_source_header_tokens(value, scheme, tok, test_pool);
}

START_TEST(header_with_scheme)
{
    const char *t;

    ck_assert_int_eq(htokens("Bearer abc", "Bearer", &t), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_int_eq(htokens("bearer   abc  ", "Bearer", &t), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_int_eq(htokens("Bearer", "Bearer", &t), 0);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(htokens("Bearer ", "Bearer", &t), 0);
    ck_assert_int_eq(htokens("Bearerabc", "Bearer", &t), 0);
    ck_assert_int_eq(htokens("Basic dXNlcjpwYXNz", "Bearer", &t), 0);
    ck_assert_int_eq(htokens("Bearer a, Bearer b", "Bearer", &t), 2);
    ck_assert_str_eq(t, "a");
    ck_assert_int_eq(htokens("Basic x, Bearer b", "Bearer", &t), 1);
    ck_assert_str_eq(t, "b");
}
END_TEST

START_TEST(header_without_scheme)
{
    const char *t;

    ck_assert_int_eq(htokens("abc", NULL, &t), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_int_eq(htokens("  abc ", NULL, &t), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_int_eq(htokens("", NULL, &t), 0);
    ck_assert_int_eq(htokens(" , ", NULL, &t), 0);
    ck_assert_int_eq(htokens("a, b", NULL, &t), 2);
    ck_assert_str_eq(t, "a");
}
END_TEST

static int qtake(const char *q, const char **tok, const char **rest)
{
    return ojw_query_take(q, "access_token", tok, rest, test_pool);
}

START_TEST(query_take)
{
    const char *t, *rest;

    ck_assert_int_eq(qtake("access_token=abc", &t, &rest), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_ptr_null(rest);
    ck_assert_int_eq(qtake("a=1&access_token=abc&b=2", &t, &rest), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_str_eq(rest, "a=1&b=2");
    ck_assert_int_eq(qtake("a=1&b=2", &t, &rest), 0);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(rest, "a=1&b=2");
    ck_assert_int_eq(qtake("xaccess_token=1&access_tokenx=2", &t, &rest), 0);
    ck_assert_str_eq(rest, "xaccess_token=1&access_tokenx=2");
    ck_assert_int_eq(qtake("", &t, &rest), 0);
    ck_assert_ptr_null(rest);
    ck_assert_int_eq(qtake("&&a=1&&", &t, &rest), 0);
    ck_assert_str_eq(rest, "a=1");
}
END_TEST

START_TEST(query_duplicates_and_encodings)
{
    const char *t, *rest;

    ck_assert_int_eq(qtake("access_token=a&x=1&access_token=b", &t, &rest), 2);
    ck_assert_str_eq(t, "a");
    ck_assert_str_eq(rest, "x=1");
    /* an encoded name is the same parameter: it counts and goes */
    ck_assert_int_eq(qtake("access%5Ftoken=a&access_token=b", &t, &rest), 2);
    ck_assert_ptr_null(rest);
    ck_assert_int_eq(qtake("access_token=a%2Eb", &t, &rest), 1);
    ck_assert_str_eq(t, "a.b");
    /* invalid escapes and NUL: the value as sent (the parser refuses it) */
    ck_assert_int_eq(qtake("access_token=a%2", &t, &rest), 1);
    ck_assert_str_eq(t, "a%2");
    ck_assert_int_eq(qtake("access_token=a%00b", &t, &rest), 1);
    ck_assert_str_eq(t, "a%00b");
    ck_assert_int_eq(qtake("access_token", &t, &rest), 1);
    ck_assert_str_eq(t, "");
    ck_assert_int_eq(qtake("access_token=", &t, &rest), 1);
    ck_assert_str_eq(t, "");
    ck_assert_int_eq(qtake("access%zztoken=a", &t, &rest), 0);
    ck_assert_str_eq(rest, "access%zztoken=a");
}
END_TEST

static int ctake(const char *h, const char **tok, const char **rest)
{
    return ojw_cookie_take(h, "jwt", tok, rest, test_pool);
}

START_TEST(cookie_take)
{
    const char *t, *rest;

    ck_assert_int_eq(ctake("jwt=abc", &t, &rest), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_ptr_null(rest);
    ck_assert_int_eq(ctake("a=1; jwt=abc; b=2", &t, &rest), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_str_eq(rest, "a=1; b=2");
    ck_assert_int_eq(ctake("a=1;jwt=\"abc\"", &t, &rest), 1);
    ck_assert_str_eq(t, "abc");
    ck_assert_str_eq(rest, "a=1");
    ck_assert_int_eq(ctake("jwtx=1; xjwt=2; jwt", &t, &rest), 0);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(rest, "jwtx=1; xjwt=2; jwt");
    ck_assert_int_eq(ctake("jwt=a; jwt=b", &t, &rest), 2);
    ck_assert_str_eq(t, "a");
    /* a Cookie header sent twice, joined by "," */
    ck_assert_int_eq(ctake("a=1, jwt=b", &t, &rest), 1);
    ck_assert_str_eq(rest, "a=1");
    ck_assert_int_eq(ctake("jwt=", &t, &rest), 1);
    ck_assert_str_eq(t, "");
    ck_assert_int_eq(ctake("", &t, &rest), 0);
    ck_assert_ptr_null(rest);
}
END_TEST

/* The request line keeps its method, protocol and blanks; only the
 * target changes (issue 20, item 3). */
START_TEST(request_line_retarget)
{
    ck_assert_str_eq(ojw_request_line_retarget("GET /a?access_token=T&x=1 "
                                               "HTTP/1.1", "/a?x=1",
                                               test_pool),
                     "GET /a?x=1 HTTP/1.1");
    ck_assert_str_eq(ojw_request_line_retarget("POST  http://h/a?t=1\tHTTP/"
                                               "1.0", "http://h/a", test_pool),
                     "POST  http://h/a\tHTTP/1.0");
    /* HTTP/0.9: no protocol */
    ck_assert_str_eq(ojw_request_line_retarget("GET /a?t=1", "/a", test_pool),
                     "GET /a");
    ck_assert_ptr_null(ojw_request_line_retarget("GET", "/a", test_pool));
    ck_assert_ptr_null(ojw_request_line_retarget("GET  ", "/a", test_pool));
    ck_assert_ptr_null(ojw_request_line_retarget(" /a HTTP/1.1", "/b",
                                                 test_pool));
    ck_assert_ptr_null(ojw_request_line_retarget("", "/b", test_pool));
}
END_TEST

Suite *source_suite(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("sources");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, parses_each_kind);
    tcase_add_test(tc, refuses_bad_sources);
    tcase_add_test(tc, header_with_scheme);
    tcase_add_test(tc, header_without_scheme);
    tcase_add_test(tc, query_take);
    tcase_add_test(tc, query_duplicates_and_encodings);
    tcase_add_test(tc, cookie_take);
    tcase_add_test(tc, request_line_retarget);
    suite_add_tcase(s, tc);
    return s;
}
