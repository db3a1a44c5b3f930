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

/* The tokens of header X-T: value for the source header=X-T[:scheme]. */
static int htokens(const char *value, const char *scheme, const char **tok)
{
    apr_table_t *t = apr_table_make(test_pool, 1);
    ojw_source_t src = { OJW_SOURCE_HEADER, "X-T", scheme };
    ojw_found_t f;
    const char *where;
    int n;

    memset(&f, 0, sizeof(f));
    apr_table_set(t, "X-T", value);
    ojw_found_headers(&f, &src, 1, t, 0, test_pool);
    n = ojw_found_tokens(&f, &where, test_pool);
    *tok = f.token;
    return n;
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

/* The sources of one section, parsed from "a b c". */
static const ojw_source_t *sources(const char *list, int *n)
{
    apr_array_header_t *a = apr_array_make(test_pool, 4,
                                           sizeof(ojw_source_t));
    char *words = apr_pstrdup(test_pool, list), *last, *w;

    for (w = apr_strtok(words, " ", &last); w;
         w = apr_strtok(NULL, " ", &last)) {
        ck_assert_ptr_null(parse(w, apr_array_push(a)));
    }
    *n = a->nelts;
    return (const ojw_source_t *)a->elts;
}

/* The tokens a request with headers h ("Name: value" lines) carries for
 * the sources list; *f what was found. */
static int tokens_in(const char *list, const char *const *h, int forward,
                     ojw_found_t *f, const char **where)
{
    apr_table_t *t = apr_table_make(test_pool, 4);
    const ojw_source_t *s;
    int n;

    for (; *h; h++) {
        const char *colon = strchr(*h, ':');

        apr_table_add(t, apr_pstrmemdup(test_pool, *h,
                                        (apr_size_t)(colon - *h)),
                      colon + 2);
    }
    memset(f, 0, sizeof(*f));
    s = sources(list, &n);
    ojw_found_headers(f, s, n, t, forward, test_pool);
    return ojw_found_tokens(f, where, test_pool);
}

#define HEADERS(...) ((const char *const []){ __VA_ARGS__, NULL })

START_TEST(found_in_headers)
{
    ojw_found_t f;
    const char *where;
    const char *def = "header=Authorization:Bearer";

    ck_assert_int_eq(tokens_in(def, HEADERS("Authorization: Bearer a"), 0,
                               &f, &where), 1);
    ck_assert_str_eq(f.token, "a");
    ck_assert_int_eq(f.dpop, 0);
    ck_assert_str_eq(where, "header=Authorization:Bearer");
    /* the DPoP scheme is a source of its own, whatever the list */
    ck_assert_int_eq(tokens_in("query=t", HEADERS("Authorization: dpop  a"),
                               0, &f, &where), 1);
    ck_assert_str_eq(f.token, "a");
    ck_assert_int_eq(f.dpop, 1);
    ck_assert_int_eq(tokens_in(def, HEADERS("Authorization: DPoP a, "
                                            "Bearer b"), 0, &f, &where), 2);
    ck_assert_int_eq(tokens_in(def, HEADERS("Authorization: DPoP a",
                                            "Authorization: DPoP b"), 0, &f,
                               &where), 2);
    /* a schemeless source of Authorization never takes the DPoP one */
    ck_assert_int_eq(tokens_in("header=Authorization",
                               HEADERS("Authorization: DPoP a"), 0, &f,
                               &where), 1);
    ck_assert_int_eq(f.dpop, 1);
    /* other schemes are no token */
    ck_assert_int_eq(tokens_in(def, HEADERS("Authorization: Basic Ym9i"), 0,
                               &f, &where), 0);
    ck_assert_int_eq(f.stray, 0);
}
END_TEST

/* Issue 20, item 4: a Bearer or DPoP credential that no source takes is
 * a second token beside one, and no token alone. */
START_TEST(stray_credentials)
{
    ojw_found_t f;
    const char *where;

    ck_assert_int_eq(tokens_in("query=t", HEADERS("Authorization: Bearer x"),
                               0, &f, &where), 0);
    ck_assert_int_eq(f.stray, 1);
    ck_assert_ptr_null(f.token);
    f.count = 1;                        /* as if the query had one */
    f.where = "query=t";
    ck_assert_int_eq(ojw_found_tokens(&f, &where, test_pool), 2);
    ck_assert_str_eq(where, "query=t, Authorization (not a source)");
    ck_assert_int_eq(tokens_in("header=X-Api-Token", HEADERS(
                                   "X-Api-Token: t",
                                   "Proxy-Authorization: DPoP x"), 0, &f,
                               &where), 2);
    ck_assert_int_eq(tokens_in("header=Authorization:Token", HEADERS(
                                   "Authorization: Token t, Bearer x"), 0,
                               &f, &where), 2);
    ck_assert_str_eq(f.token, "t");
    ck_assert_int_eq(tokens_in("header=X-Api-Token", HEADERS(
                                   "X-Api-Token: t",
                                   "Authorization: Basic Ym9i",
                                   "Proxy-Authorization: Negotiate x"), 0,
                               &f, &where), 1);
    /* a forward proxy request: Authorization is the origin server's */
    ck_assert_int_eq(tokens_in("header=Authorization:Bearer", HEADERS(
                                   "Proxy-Authorization: Bearer p",
                                   "Authorization: Bearer origin"), 1, &f,
                               &where), 1);
    ck_assert_str_eq(f.token, "p");
    ck_assert_str_eq(where, "header=Authorization:Bearer");
    ck_assert_int_eq(tokens_in("query=t", HEADERS(
                                   "Proxy-Authorization: DPoP p"), 1, &f,
                               &where), 1);
    ck_assert_int_eq(f.dpop, 1);
    ck_assert_str_eq(where, "header=Proxy-Authorization:DPoP");
}
END_TEST

START_TEST(found_take_query_and_cookie)
{
    ojw_found_t f;
    const ojw_source_t *s;
    const char *q = "a=1&access_token=T&b=2", *c = "x=1; jwt=C", *rest;
    int n;

    memset(&f, 0, sizeof(f));
    s = sources("query=access_token cookie=jwt header=X", &n);
    rest = ojw_found_take(&f, s, n, OJW_SOURCE_QUERY, q, test_pool);
    ck_assert_str_eq(rest, "a=1&b=2");
    rest = ojw_found_take(&f, s, n, OJW_SOURCE_COOKIE, c, test_pool);
    ck_assert_str_eq(rest, "x=1");
    ck_assert_int_eq(f.count, 2);
    ck_assert_str_eq(f.token, "T");
    ck_assert_str_eq(f.where, "query=access_token, cookie=jwt");
    /* nothing there: the value itself comes back; all gone: NULL */
    ck_assert_ptr_eq(ojw_found_take(&f, s, n, OJW_SOURCE_QUERY, c,
                                    test_pool), c);
    ck_assert_ptr_null(ojw_found_take(&f, s, n, OJW_SOURCE_QUERY, NULL,
                                      test_pool));
    ck_assert_ptr_null(ojw_found_take(&f, s, n, OJW_SOURCE_QUERY,
                                      "access_token=x", test_pool));
    ck_assert_int_eq(f.count, 3);
}
END_TEST

/* Issue 20, item 5: a token as the Basic user name. */
START_TEST(basic_user_name_token)
{
    const char *jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    ck_assert_int_eq(ojw_basic_credential(jws, "", test_pool),
                     OJW_BASIC_USER_TOKEN);
    ck_assert_int_eq(ojw_basic_credential(jws, "x-oauth-basic", test_pool),
                     OJW_BASIC_USER_TOKEN);
    ck_assert_int_eq(ojw_basic_credential(jws, "X-OAuth-Basic", test_pool),
                     OJW_BASIC_REFUSED);
    ck_assert_int_eq(ojw_basic_credential(jws, "secret", test_pool),
                     OJW_BASIC_REFUSED);
    /* a JWE (five segments), a header with blanks, an empty signature */
    ck_assert(ojw_source_looks_like_jose("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
                                         test_pool));
    ck_assert(ojw_source_looks_like_jose("IHsgfQ.e30.", test_pool));
    /* user names */
    ck_assert_int_eq(ojw_basic_credential("bob", "", test_pool),
                     OJW_BASIC_AS_SENT);
    ck_assert_int_eq(ojw_basic_credential("j.r.r", "", test_pool),
                     OJW_BASIC_AS_SENT);
    ck_assert_int_eq(ojw_basic_credential("", "", test_pool),
                     OJW_BASIC_AS_SENT);
    ck_assert(!ojw_source_looks_like_jose("eyJhbGciOiJSUzI1NiJ9.e30",
                                          test_pool));
    ck_assert(!ojw_source_looks_like_jose("W10.e30.x", test_pool)); /* [] */
    ck_assert(!ojw_source_looks_like_jose("eyJ=.e30.x", test_pool));
    ck_assert(!ojw_source_looks_like_jose("..", test_pool));
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
    tcase_add_test(tc, found_in_headers);
    tcase_add_test(tc, stray_credentials);
    tcase_add_test(tc, found_take_query_and_cookie);
    tcase_add_test(tc, basic_user_name_token);
    suite_add_tcase(s, tc);
    return s;
}
