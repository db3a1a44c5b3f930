/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text exposition (src/metrics.c). */
#include <string.h>
#include "unit.h"
#include "metrics.h"

START_TEST(label_values_escaped)
{
    ck_assert_str_eq(ojw_prom_label_value(test_pool, "hr"), "hr");
    ck_assert_str_eq(ojw_prom_label_value(test_pool, ""), "");
    ck_assert_str_eq(ojw_prom_label_value(test_pool, "a\"b"), "a\\\"b");
    ck_assert_str_eq(ojw_prom_label_value(test_pool, "a\\b"), "a\\\\b");
    ck_assert_str_eq(ojw_prom_label_value(test_pool, "a\nb"), "a\\nb");
    ck_assert_str_eq(ojw_prom_label_value(test_pool, "\\\"\n\\"),
                     "\\\\\\\"\\n\\\\");
    /* no line of the output may end inside a label value */
    ck_assert_ptr_null(strchr(ojw_prom_label_value(test_pool,
                                                   "x\n} 1\nevil 2"), '\n'));
}
END_TEST

START_TEST(accept_negotiation)
{
    ck_assert_int_eq(ojw_metrics_accepted(NULL), 0);
    ck_assert_int_eq(ojw_metrics_accepted(""), 0);
    ck_assert_int_eq(ojw_metrics_accepted("text/html,*/*;q=0.8"), 0);
    ck_assert_int_eq(ojw_metrics_accepted("text/plain"), 0);
    ck_assert_int_eq(ojw_metrics_accepted("text/plain; version=0.0.4"), 1);
    ck_assert_int_eq(ojw_metrics_accepted("TEXT/PLAIN;Version=0.0.4;q=0.5"),
                     1);
    /* what Prometheus 2.x sends */
    ck_assert_int_eq(ojw_metrics_accepted(
        "application/openmetrics-text;version=1.0.0,application/"
        "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
        "q=0.5,*/*;q=0.1"), 1);
    ck_assert_int_eq(ojw_metrics_accepted("text/plain;version=0.0.40"), 0);
    ck_assert_int_eq(ojw_metrics_accepted("text/html;version=0.0.4"), 0);
    ck_assert_int_eq(ojw_metrics_accepted("text/plai"), 0);
}
END_TEST

static json_t *doc(void)
{
    return json_pack(
        "{s:i, s:[{s:s, s:s, s:i, s:{s:i, s:i}, s:[{}, {}],"
        "          s:{s:i, s:i, s:i, s:i}},"
        "         {s:s, s:i, s:{s:i}, s:[], s:s}],"
        " s:{s:i, s:i}}",
        "generated", 1000,
        "profiles",
        "name", "h\"r\n", "jwk_url", "https://i/jwk?a=\"\\",
        "accepted", 7, "refused", "expired", 3, "scope_missing", 1,
        "keys", "jwks", "fetches", 4, "failures", 1, "age", 30,
        "next_refresh", 1300,
        "name", "static", "accepted", 0, "refused", "expired", 0, "keys",
        "jwks", "static",
        "unattributed_refusals", "issuer_mismatch", 2, "expired", 0);
}

static int has_line(const char *text, const char *line)
{
    const char *p = text;
    size_t n = strlen(line);

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return 1;
        }
        p++;
    }
    return 0;
}

START_TEST(exposition_of_a_document)
{
    json_t *d = doc();
    ojw_metrics_cache_t c = { 1, 5, 6, 2, 100 };
    const char *t = ojw_metrics_text(test_pool, d, &c);

    ck_assert(has_line(t, "# TYPE ordsjwt_tokens_accepted_total counter"));
    ck_assert(has_line(t, "ordsjwt_tokens_accepted_total"
                          "{profile=\"h\\\"r\\n\"} 7"));
    ck_assert(has_line(t, "ordsjwt_refusals_total{profile=\"h\\\"r\\n\","
                          "reason=\"expired\"} 3"));
    ck_assert(has_line(t, "ordsjwt_refusals_total{profile=\"\","
                          "reason=\"issuer_mismatch\"} 2"));
    ck_assert(has_line(t, "ordsjwt_keys{profile=\"static\"} 0"));
    ck_assert(has_line(t, "ordsjwt_keys{profile=\"h\\\"r\\n\"} 2"));
    ck_assert(has_line(t, "ordsjwt_jwks_fetches_total{profile=\"h\\\"r\\n\","
                          "jwk_url=\"https://i/jwk?a=\\\"\\\\\"} 4"));
    ck_assert(has_line(t, "ordsjwt_jwks_age_seconds{profile=\"h\\\"r\\n\","
                          "jwk_url=\"https://i/jwk?a=\\\"\\\\\"} 30"));
    ck_assert(has_line(t, "ordsjwt_jwks_next_refresh_seconds{profile="
                          "\"h\\\"r\\n\",jwk_url="
                          "\"https://i/jwk?a=\\\"\\\\\"} 300"));
    ck_assert_ptr_null(strstr(t, "profile=\"static\",jwk_url"));
    ck_assert(has_line(t, "ordsjwt_token_cache_hits_total 5"));
    ck_assert(has_line(t, "ordsjwt_token_cache_misses_total 6"));
    ck_assert(has_line(t, "ordsjwt_token_cache_entries 2"));
    ck_assert(has_line(t, "# HELP ordsjwt_token_cache_max_entries "
                          "OrdsJwtTokenCache: the most tokens one process's "
                          "cache holds."));
    ck_assert_int_eq(t[strlen(t) - 1], '\n');
    c.enabled = 0;
    ck_assert_ptr_null(strstr(ojw_metrics_text(test_pool, d, &c),
                              "token_cache"));
    json_decref(d);
}
END_TEST

START_TEST(empty_document)
{
    json_t *d = json_object();
    const char *t = ojw_metrics_text(test_pool, d, NULL);

    ck_assert(has_line(t, "# TYPE ordsjwt_refusals_total counter"));
    ck_assert_ptr_null(strstr(t, "{"));
    json_decref(d);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, label_values_escaped);
    tcase_add_test(tc, accept_negotiation);
    tcase_add_test(tc, exposition_of_a_document);
    tcase_add_test(tc, empty_document);
    suite_add_tcase(s, tc);
    return s;
}
