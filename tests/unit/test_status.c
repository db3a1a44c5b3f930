/* SPDX-License-Identifier: Apache-2.0 */
/* The status document (src/status.c): the summary of many profiles, the
 * light form of a profile, the HTML's summary, host tables and paging. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "status.h"

static const ojw_refresh_policy_t pol = { 3600, 10, 6, 86400, 8 };

/* A light profile object as the glue builds it for a summary: name, the
 * slot's state and last error, the refusal counters. */
static json_t *light(const char *name, apr_uint64_t generation,
                     const char *error, apr_uint32_t refused)
{
    ojw_profile_t *p = apr_pcalloc(test_pool, sizeof(*p));
    ojw_slot_state_t *s = apr_pcalloc(test_pool, sizeof(*s));
    apr_uint32_t *c = apr_pcalloc(test_pool, sizeof(*c) * OJW_REASON_COUNT);
    ojw_status_profile_t sp;

    p->name = name;
    p->issuer = "https://i/";
    p->audience = "a";
    p->audiences = apr_array_make(test_pool, 1, sizeof(char *));
    p->jwk_url = "https://i/jwks";
    s->generation = generation;
    s->fetched_at = generation ? 1000000 : 0;
    s->nkeys = generation ? 2 : 0;
    c[OJW_ERR_EXPIRED] = refused;
    memset(&sp, 0, sizeof(sp));
    sp.profile = p;
    sp.slot = s;
    sp.last_error = error;
    sp.counters = c;
    sp.nkeys = (int)s->nkeys;
    sp.light = 1;
    return ojw_status_profile_json(&sp, &pol, 2000);
}

START_TEST(light_profile_has_no_key_list)
{
    json_t *o = light("t1", 3, NULL, 0);

    ck_assert_ptr_null(json_object_get(o, "keys"));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "nkeys")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(
        json_object_get(o, "jwks"), "generation")), 3);
    json_decref(o);
}
END_TEST

START_TEST(summary_of_many_profiles)
{
    json_t *all = json_array(), *sum, *top;
    json_t *unattributed = json_pack("{s:i}", "issuer_mismatch", 4);
    char name[32];
    int i;

    for (i = 0; i < 1000; i++) {
        apr_snprintf(name, sizeof(name), "t%d", i);
        /* t0..t29 never got keys; t30..t39 keep stale ones; t40 and
         * t41 were refused 100 and 7 times, every tenth one once */
        json_array_append_new(all, light(name, i < 30 ? 0 : 1,
                                         i < 40 ? "HTTP status 500" : "",
                                         i == 40 ? 100 : i == 41 ? 7
                                         : i % 10 == 0 ? 1 : 0));
    }
    sum = ojw_status_summary(all, unattributed);
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "profiles")),
                     1000);
    ck_assert_int_eq(json_integer_value(json_object_get(
        json_object_get(sum, "errors"), "count")), 30);
    ck_assert_int_eq(json_array_size(json_object_get(
        json_object_get(sum, "errors"), "profiles")),
        OJW_STATUS_SUMMARY_NAMES);
    ck_assert_int_eq(json_integer_value(json_object_get(
        json_object_get(sum, "stale"), "count")), 10);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
        json_object_get(sum, "stale"), "profiles"), 0)), "t30");
    /* 100 + 7 + 99 tenth ones (t0..t990 but t40) + 4 unattributed */
    ck_assert_int_eq(json_integer_value(json_object_get(
        json_object_get(sum, "refusals"), "count")), 100 + 7 + 99 + 4);
    top = json_object_get(json_object_get(sum, "refusals"), "profiles");
    ck_assert_int_eq(json_array_size(top), OJW_STATUS_SUMMARY_NAMES);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(top, 0),
                                                       "name")), "t40");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(top, 1),
                                                       "name")), "t41");
    json_decref(sum);
    json_decref(all);
    json_decref(unattributed);
}
END_TEST

START_TEST(html_summary_first_and_paging)
{
    json_t *page = json_array(), *doc;
    const char *html, *summary, *first;

    json_array_append_new(page, light("x<y>&\"z", 0, "timeout", 3));
    doc = json_pack("{s:s, s:i, s:o, s:{s:i, s:i}, s:{s:i, s:i}, "
                    "s:{s:i, s:i, s:i}}",
                    "version", "0.1.0", "generated", 2000,
                    "summary", ojw_status_summary(page, NULL),
                    "shared_memory", "size", 540672, "used", 4096,
                    "waiters", "bound", 2, "waiting", 0,
                    "paging", "offset", 200, "limit", 100, "total", 1000);
    json_object_set_new(doc, "profiles", page);
    html = ojw_status_html(test_pool, doc);
    summary = strstr(html, "<h2>Summary</h2>");
    first = strstr(html, "<h2>Profile ");
    ck_assert_ptr_nonnull(summary);
    ck_assert_ptr_nonnull(first);
    ck_assert(summary < first);
    /* the name escaped as a link target and as text */
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"?profile=x%3cy%3e%26%22z\">"
                                       "x&lt;y&gt;&amp;&quot;z</a>"));
    ck_assert_ptr_null(strstr(html, "x<y>"));
    ck_assert_ptr_nonnull(strstr(html, "Profiles 201 to 201 of 1000"));
    /* numbers are numbers (APR's formatter knows no %lld) */
    ck_assert_ptr_nonnull(strstr(html, "<tr><th>profiles</th><td>1</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<tr><th>used</th><td>4096</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"?offset=100&amp;limit=100\">"
                                       "previous</a>"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"?offset=300&amp;limit=100\">"
                                       "next</a>"));
    ck_assert_ptr_nonnull(strstr(html, "<h2>JWKS shared memory</h2>"));
    json_decref(doc);
}
END_TEST

START_TEST(query_words)
{
    ojw_status_query_t q;

    ck_assert_int_eq(ojw_status_query_parse(&q, NULL, test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(q.format, -1);
    ck_assert_ptr_null(q.profile);
    ck_assert_int_eq(q.offset, 0);
    ck_assert_int_eq(q.limit, OJW_STATUS_LIMIT_DEFAULT);
    ck_assert_int_eq(ojw_status_query_parse(&q, "json", test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(q.format, OJW_STATUS_JSON);
    ck_assert_int_eq(ojw_status_query_parse(
        &q, "offset=200&&limit=50&profile=hr%20api&metrics&x=%zz",
        test_pool), APR_EINVAL);            /* a bad escape anywhere */
    ck_assert_int_eq(ojw_status_query_parse(
        &q, "offset=200&&limit=50&profile=hr%2Bapi+2&metrics&other=1",
        test_pool), APR_SUCCESS);
    ck_assert_int_eq(q.format, OJW_STATUS_METRICS);
    ck_assert_str_eq(q.profile, "hr+api 2");
    ck_assert_int_eq(q.offset, 200);
    ck_assert_int_eq(q.limit, 50);
    /* json=1 is no json; the word alone is */
    ck_assert_int_eq(ojw_status_query_parse(&q, "json=1", test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(q.format, -1);
}
END_TEST

START_TEST(query_refusals)
{
    static const char *const bad[] = {
        "profile=", "profile", "profile=a%00b", "profile=%", "offset=-1",
        "offset=", "offset=1x", "offset=99999999999999999999",
        "offset=2147483648", "limit=0", "limit=10001", "limit= 5",
        "limit=+5", NULL
    };
    ojw_status_query_t q;
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(ojw_status_query_parse(&q, bad[i], test_pool)
                      == APR_EINVAL, "%s", bad[i]);
    }
    ck_assert_int_eq(ojw_status_query_parse(&q, "offset=2147483647&limit="
                                            "10000", test_pool), APR_SUCCESS);
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("status");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, light_profile_has_no_key_list);
    tcase_add_test(tc, summary_of_many_profiles);
    tcase_add_test(tc, html_summary_first_and_paging);
    tcase_add_test(tc, query_words);
    tcase_add_test(tc, query_refusals);
    suite_add_tcase(s, tc);
    return s;
}
