/* SPDX-License-Identifier: Apache-2.0 */
/* Shared-memory slots and the refresh decision, with a fake clock. */
#include <string.h>
#include <apr_shm.h>
#include "unit.h"
#include "jwks_cache.h"

/* the cache counts milliseconds; these tests think in seconds */
#define S(seconds) ((long long)(seconds) * 1000)

static const ojw_refresh_policy_t pol = { 3600, 10, 6, 86400, 0 };

START_TEST(decide_first_fetch_and_backoff)
{
    ojw_slot_state_t s;

    memset(&s, 0, sizeof(s));
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1000), &pol, 0), OJW_FETCH);
    s.attempted_at = S(1000);
    s.fetch_started = S(1000);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1002), &pol, 0), OJW_WAIT);
    /* the fetch failed: no keys, no new attempt within min_interval */
    s.fetch_started = 0;
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1005), &pol, 0), OJW_UNAVAILABLE);
    ck_assert_int_eq(ojw_retry_after(&s, S(1005), &pol), 5);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1010), &pol, 0), OJW_FETCH);
    /* a fetch presumed dead after fetch_timeout */
    s.fetch_started = S(1010);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1016), &pol, 0), OJW_WAIT);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1020), &pol, 0), OJW_FETCH);
}
END_TEST

START_TEST(decide_refresh_and_stale)
{
    ojw_slot_state_t s;

    memset(&s, 0, sizeof(s));
    s.generation = 1;
    s.fetched_at = s.attempted_at = S(1000);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1000 + 3599), &pol, 0), OJW_USE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1000 + 3600), &pol, 0), OJW_FETCH);
    /* an unknown kid right after a fetch: its own budget is unused */
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1005), &pol, 1), OJW_FETCH);
    /* ... once spent, one forced refetch per min interval */
    s.forced_at = S(1005);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1014), &pol, 1), OJW_USE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1015), &pol, 1), OJW_FETCH);
    s.forced_at = 0;
    /* while another process fetches, the old keys are used */
    s.fetch_started = S(4600);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(4601), &pol, 0), OJW_USE);
    /* ... but an unknown kid waits for the new ones */
    ck_assert_int_eq(ojw_refresh_decide(&s, S(4601), &pol, 1), OJW_WAIT);
    /* refetch failed just now: keep using stale keys */
    s.fetch_started = 0;
    s.attempted_at = S(4601);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(4605), &pol, 0), OJW_USE);
    /* beyond max_stale with the last attempt recent: unavailable */
    s.attempted_at = S(1000 + 3600 + 86400);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1000 + 3600 + 86401), &pol, 0),
                     OJW_UNAVAILABLE);
}
END_TEST

static ojw_cache_t *make_cache(int nslots, apr_size_t doc_max)
{
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    apr_size_t size = ojw_cache_size(nslots, doc_max);

    ck_assert_int_eq(apr_shm_create(&shm, size, NULL, test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT,
                                             test_pool), APR_SUCCESS);
    return ojw_cache_attach(apr_shm_baseaddr_get(shm), size, nslots, doc_max,
                            mutex, 1, test_pool);
}

START_TEST(slots_store_read_generation)
{
    ojw_cache_t *c = make_cache(2, 64);
    ojw_slot_state_t st;
    ojw_decision_t d;
    char *doc;
    apr_size_t len;
    char big[65];

    ck_assert_int_eq(ojw_cache_set_url(c, 0, "https://a/"), APR_SUCCESS);
    ck_assert_int_eq(ojw_cache_set_url(c, 2, "https://c/"), APR_EINVAL);
    ck_assert_int_eq(ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st), APR_SUCCESS);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_uint_eq(st.fetches, 1);
    /* single flight: the second caller must not fetch */
    ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ck_assert_int_eq(ojw_cache_store(c, 0, S(101), "{\"keys\":1}", 10, NULL, 0), APR_SUCCESS);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"keys\":1}");
    ck_assert_uint_eq(st.generation, 1);
    /* the same generation is not copied again */
    ojw_cache_read(c, 0, 1, test_pool, &doc, &len, &st);
    ck_assert_ptr_null(doc);
    /* an unchanged document keeps its generation; a new one bumps it */
    ojw_cache_store(c, 0, S(5000), "{\"keys\":1}", 10, NULL, 0);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 1);
    ck_assert_int_eq(st.fetched_at, S(5000));
    ojw_cache_store(c, 0, S(5001), "{\"keys\":2}", 10, NULL, 0);
    ojw_cache_read(c, 0, 1, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 2);
    ck_assert_str_eq(doc, "{\"keys\":2}");
    /* the other slot is untouched; oversize refused */
    ojw_cache_read(c, 1, 0, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 0);
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(ojw_cache_store(c, 1, S(1), big, sizeof(big), NULL, 0), APR_EINVAL);
}
END_TEST

/* Issue 9: a due refresh must not spend the unknown-kid budget. */
START_TEST(forced_budget_is_apart_from_other_fetches)
{
    ojw_cache_t *c = make_cache(1, 64);
    ojw_slot_state_t st;
    ojw_decision_t d;

    ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);                 /* the first fetch */
    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 0);
    /* one second later a token names a kid those keys lack */
    ojw_cache_begin(c, 0, S(101), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_int_eq(st.forced_at, S(101));
    ck_assert_uint_eq(st.forced, 1);
    ojw_cache_store(c, 0, S(101), "{\"keys\":1}", 10, NULL, 0);
    /* a flood of unknown kids: no second forced fetch within the interval */
    ojw_cache_begin(c, 0, S(110), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_USE);
    ojw_cache_begin(c, 0, S(111), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_uint_eq(st.forced, 2);
    ck_assert_uint_eq(st.fetches, 3);
}
END_TEST

/* The lock-free look agrees with the locked decision wherever it says
 * "use", and hands over to it when a refresh is due. */
START_TEST(fresh_without_the_lock_agrees_with_decide)
{
    ojw_cache_t *c = make_cache(1, 64);
    ojw_slot_state_t st;
    ojw_decision_t d;
    apr_uint64_t gen = 99;
    char *doc;
    apr_size_t len;
    long long t;

    ck_assert(!ojw_cache_fresh(c, 0, S(100), &gen));   /* no document yet */
    ck_assert(!ojw_cache_fresh(c, 5, S(100), &gen));   /* no such slot */
    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 3600);
    for (t = 50; t < 100 + 3600 + 20; t += 7) {
        if (ojw_cache_fresh(c, 0, S(t), &gen)) {
            ck_assert_uint_eq(gen, 1);
            ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
            ck_assert_int_eq(ojw_refresh_decide(&st, S(t), &pol, 0), OJW_USE);
        }
    }
    ck_assert(ojw_cache_fresh(c, 0, S(100 + 3599), &gen));
    ck_assert(!ojw_cache_fresh(c, 0, S(100 + 3600), &gen));
    ojw_cache_begin(c, 0, S(3700), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_not_modified(c, 0, S(3701), 10);
    ck_assert(ojw_cache_fresh(c, 0, S(3710), &gen));
    ck_assert(!ojw_cache_fresh(c, 0, S(3711), &gen));
    ojw_cache_store(c, 0, S(3720), "{\"keys\":2}", 10, NULL, 60);
    ck_assert(ojw_cache_fresh(c, 0, S(3721), &gen));
    ck_assert_uint_eq(gen, 2);
}
END_TEST

START_TEST(forced_refetch_only_for_the_current_generation)
{
    ojw_cache_t *c = make_cache(1, 64);
    ojw_slot_state_t st;
    ojw_decision_t d;

    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 0);
    /* keys of generation 1 lacked a kid while 1 is current: refetch */
    ojw_cache_begin(c, 0, S(200), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_store(c, 0, S(201), "{\"keys\":2}", 10, NULL, 0);
    /* another request that read generation 1 before that fetch ended:
     * the newer keys are used, even after the min interval */
    ojw_cache_begin(c, 0, S(300), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_USE);
    ck_assert_uint_eq(st.generation, 2);
    ck_assert_uint_eq(st.fetches, 1);
}
END_TEST

START_TEST(fail_keeps_document)
{
    ojw_cache_t *c = make_cache(1, 64);
    ojw_slot_state_t st;
    char *doc;
    apr_size_t len;
    char buf[64];

    ojw_cache_store(c, 0, S(100), "{}", 2, NULL, 0);
    ojw_cache_fail(c, 0, S(200), "HTTP status 500");
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{}");
    ck_assert_uint_eq(st.failures, 1);
    ck_assert_int_eq(st.attempted_at, S(200));
    ck_assert_int_eq(st.failed_at, S(200));
    ojw_cache_last_error(c, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "HTTP status 500");
}
END_TEST

START_TEST(max_age_bounds_freshness)
{
    ojw_slot_state_t s;

    ck_assert_int_eq(ojw_fresh_for(-1, &pol), 3600);
    ck_assert_int_eq(ojw_fresh_for(600, &pol), 600);
    ck_assert_int_eq(ojw_fresh_for(2, &pol), 10);       /* min interval */
    ck_assert_int_eq(ojw_fresh_for(0, &pol), 10);       /* no-cache */
    ck_assert_int_eq(ojw_fresh_for(99999, &pol), 3600); /* refresh interval */
    memset(&s, 0, sizeof(s));
    s.generation = 1;
    s.fetched_at = s.attempted_at = S(1000);
    s.refresh_after = 600;
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1599), &pol, 0), OJW_USE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1600), &pol, 0), OJW_FETCH);
    /* stale keys last max_stale beyond the document's own freshness */
    s.attempted_at = S(1600 + 86395);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1600 + 86399), &pol, 0), OJW_USE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(1600 + 86400), &pol, 0),
                     OJW_UNAVAILABLE);
}
END_TEST

START_TEST(etag_and_not_modified)
{
    ojw_cache_t *c = make_cache(1, 64);
    ojw_slot_state_t st;
    ojw_decision_t d;
    char etag[OJW_ETAG_MAX];
    char *doc;
    apr_size_t len;

    ojw_cache_etag(c, 0, etag, sizeof(etag));
    ck_assert_str_eq(etag, "");
    ojw_cache_store(c, 0, S(100), "{}", 2, "\"v1\"", 600);
    ojw_cache_etag(c, 0, etag, sizeof(etag));
    ck_assert_str_eq(etag, "\"v1\"");
    ojw_cache_begin(c, 0, S(700), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_not_modified(c, 0, S(701), 300);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{}");
    ck_assert_uint_eq(st.generation, 1);
    ck_assert_int_eq(st.fetched_at, S(701));
    ck_assert_int_eq(st.refresh_after, 300);
    ck_assert_int_eq(st.fetch_started, 0);
}
END_TEST

START_TEST(copy_slot_keeps_document_across_layouts)
{
    apr_global_mutex_t *mutex;
    apr_shm_t *a, *b;
    apr_size_t size = ojw_cache_size(2, 64);
    ojw_cache_t *old, *cur;
    ojw_slot_state_t st;
    char *doc;
    apr_size_t len;

    apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT, test_pool);
    apr_shm_create(&a, size, NULL, test_pool);
    apr_shm_create(&b, size, NULL, test_pool);
    old = ojw_cache_attach(apr_shm_baseaddr_get(a), size, 2, 64, mutex, 1,
                           test_pool);
    cur = ojw_cache_attach(apr_shm_baseaddr_get(b), size, 2, 64, mutex, 1,
                           test_pool);
    ojw_cache_set_url(old, 0, "https://a/");
    ojw_cache_set_url(old, 1, "https://b/");
    ojw_cache_store(old, 1, S(100), "{\"b\":1}", 7, NULL, 0);
    ojw_cache_set_url(cur, 0, "https://b/");
    ojw_cache_set_url(cur, 1, "https://c/");
    ck_assert_int_eq(ojw_cache_find(old, "https://b/"), 1);
    ck_assert_int_eq(ojw_cache_find(old, "https://c/"), -1);
    ck_assert_int_eq(ojw_cache_copy_slot(cur, 0, old, 1), APR_SUCCESS);
    ojw_cache_read(cur, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"b\":1}");
    ck_assert_int_eq(ojw_cache_find(cur, "https://b/"), 0);
    ck_assert_int_eq(ojw_cache_nslots(cur), 2);
}
END_TEST

/* CI found it: with whole seconds, a failed fetch at 41.990 s allowed the
 * next attempt at 42.010 s, 20 ms later, with a 1 s min interval. The
 * budgets count milliseconds now, and Retry-After rounds up. */
START_TEST(min_interval_holds_across_a_second_boundary)
{
    ojw_slot_state_t s;
    const ojw_refresh_policy_t one = { 3600, 1, 6, 86400, 0 };

    memset(&s, 0, sizeof(s));
    s.attempted_at = S(41) + 990;                       /* failed, no keys */
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 10, &one, 0),
                     OJW_UNAVAILABLE);
    ck_assert_int_eq(ojw_retry_after(&s, S(42) + 10, &one), 1);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 989, &one, 0),
                     OJW_UNAVAILABLE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 990, &one, 0), OJW_FETCH);
    /* stale keys: a due refresh is retried no sooner either */
    s.generation = 1;
    s.fetched_at = S(30);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 10, &one, 0), OJW_USE);
    /* and an unknown kid's forced refetch */
    s.attempted_at = 0;
    s.forced_at = S(41) + 990;
    s.fetched_at = S(41) + 990;
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 10, &one, 1), OJW_USE);
    ck_assert_int_eq(ojw_refresh_decide(&s, S(42) + 990, &one, 1), OJW_FETCH);
    /* Retry-After rounds up: 1.5 s left is 2 */
    s.attempted_at = S(50) + 500;
    ck_assert_int_eq(ojw_retry_after(&s, S(50) + 1000, &(ojw_refresh_policy_t){ 3600, 2, 6, 86400, 0 }), 2);
}
END_TEST

/* Places among the waiters belong to one fetch: asking again keeps the
 * place, the next fetch frees them all. */
START_TEST(waiters_hold_one_place_per_fetch)
{
    ojw_cache_t *c = make_cache(1, 64);
    const ojw_refresh_policy_t two = { 3600, 10, 6, 86400, 2 };
    apr_uint32_t t1 = 0, t2 = 0, t3 = 0;
    ojw_slot_state_t st;
    ojw_decision_t d;

    ojw_cache_begin(c, 0, S(100), &two, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 0, S(100), &two, 0, &t1, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 0, S(100), &two, 0, &t1, &d, &st);  /* again */
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 0, S(101), &two, 0, &t2, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 0, S(101), &two, 0, &t3, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
    ck_assert_uint_eq(t3, 0);
    ck_assert_int_eq(ojw_retry_after(&st, S(101), &two), 5);
    /* that fetch failed; the next one (after the min interval) */
    ojw_cache_fail(c, 0, S(102), "timeout");
    ojw_cache_begin(c, 0, S(112), &two, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 0, S(112), &two, 0, &t3, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    /* an old ticket is no place in the new fetch */
    ojw_cache_begin(c, 0, S(112), &two, 0, &t1, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 0, S(112), &two, 0, &t2, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
}
END_TEST

Suite *jwks_cache_suite(void)
{
    Suite *s = suite_create("jwks_cache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, decide_first_fetch_and_backoff);
    tcase_add_test(tc, decide_refresh_and_stale);
    tcase_add_test(tc, slots_store_read_generation);
    tcase_add_test(tc, fail_keeps_document);
    tcase_add_test(tc, forced_refetch_only_for_the_current_generation);
    tcase_add_test(tc, forced_budget_is_apart_from_other_fetches);
    tcase_add_test(tc, fresh_without_the_lock_agrees_with_decide);
    tcase_add_test(tc, max_age_bounds_freshness);
    tcase_add_test(tc, etag_and_not_modified);
    tcase_add_test(tc, copy_slot_keeps_document_across_layouts);
    tcase_add_test(tc, min_interval_holds_across_a_second_boundary);
    tcase_add_test(tc, waiters_hold_one_place_per_fetch);
    suite_add_tcase(s, tc);
    return s;
}
