/* SPDX-License-Identifier: Apache-2.0 */
/* Shared-memory slots and the refresh decision, with a fake clock. */
#include <string.h>
#include <apr_shm.h>
#include <apr_strings.h>
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

#define REGION  ((apr_size_t)64 * 1024)

static apr_global_mutex_t *mutex;

/* Each test's pool, and one mutex for its caches (the pool takes it). */
static void setup(void)
{
    pool_setup();
    ck_assert_int_eq(apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT,
                                             test_pool), APR_SUCCESS);
}

/* A cache of nslots slots and a region of region bytes. */
static ojw_cache_t *make_cache(int nslots, apr_size_t region)
{
    apr_shm_t *shm;
    apr_size_t size = ojw_cache_size(nslots, region);
    ojw_cache_t *c;

    ck_assert_int_eq(apr_shm_create(&shm, size, NULL, test_pool), APR_SUCCESS);
    c = ojw_cache_attach(apr_shm_baseaddr_get(shm), size, nslots, region,
                         mutex, 1, test_pool);
    ck_assert_ptr_nonnull(c);
    return c;
}

START_TEST(slots_store_read_generation)
{
    ojw_cache_t *c = make_cache(2, REGION);
    ojw_slot_state_t st;
    ojw_decision_t d;
    char *doc, *big;
    apr_size_t len;

    ck_assert_int_eq(ojw_cache_set_url(c, 0, "https://a/"), APR_SUCCESS);
    ck_assert_int_eq(ojw_cache_set_url(c, 2, "https://c/"), APR_EINVAL);
    ck_assert_int_eq(ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st), APR_SUCCESS);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_uint_eq(st.fetches, 1);
    /* single flight: the second caller must not fetch */
    ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ck_assert_int_eq(ojw_cache_store(c, 0, S(101), "{\"keys\":1}", 10, NULL, 0, 1), APR_SUCCESS);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"keys\":1}");
    ck_assert_uint_eq(st.generation, 1);
    /* the same generation is not copied again */
    ojw_cache_read(c, 0, 1, test_pool, &doc, &len, &st);
    ck_assert_ptr_null(doc);
    /* an unchanged document keeps its generation; a new one bumps it */
    ojw_cache_store(c, 0, S(5000), "{\"keys\":1}", 10, NULL, 0, 1);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 1);
    ck_assert_int_eq(st.fetched_at, S(5000));
    ojw_cache_store(c, 0, S(5001), "{\"keys\":2}", 10, NULL, 0, 1);
    ojw_cache_read(c, 0, 1, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 2);
    ck_assert_str_eq(doc, "{\"keys\":2}");
    /* the other slot is untouched; oversize refused */
    ojw_cache_read(c, 1, 0, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(st.generation, 0);
    big = apr_palloc(test_pool, OJW_JWKS_MAX + 1);
    memset(big, 'x', OJW_JWKS_MAX + 1);
    ck_assert_int_eq(ojw_cache_store(c, 1, S(1), big, OJW_JWKS_MAX + 1, NULL,
                                     0, 1), APR_EINVAL);
}
END_TEST

/* Issue 9: a due refresh must not spend the unknown-kid budget. */
START_TEST(forced_budget_is_apart_from_other_fetches)
{
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_slot_state_t st;
    ojw_decision_t d;

    ojw_cache_begin(c, 0, S(100), &pol, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);                 /* the first fetch */
    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 0, 1);
    /* one second later a token names a kid those keys lack */
    ojw_cache_begin(c, 0, S(101), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_int_eq(st.forced_at, S(101));
    ck_assert_uint_eq(st.forced, 1);
    ojw_cache_store(c, 0, S(101), "{\"keys\":1}", 10, NULL, 0, 1);
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
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_slot_state_t st;
    ojw_decision_t d;
    apr_uint64_t gen = 99;
    char *doc;
    apr_size_t len;
    long long t;

    ck_assert(!ojw_cache_fresh(c, 0, S(100), &gen));   /* no document yet */
    ck_assert(!ojw_cache_fresh(c, 5, S(100), &gen));   /* no such slot */
    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 3600, 1);
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
    ojw_cache_store(c, 0, S(3720), "{\"keys\":2}", 10, NULL, 60, 1);
    ck_assert(ojw_cache_fresh(c, 0, S(3721), &gen));
    ck_assert_uint_eq(gen, 2);
}
END_TEST

START_TEST(forced_refetch_only_for_the_current_generation)
{
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_slot_state_t st;
    ojw_decision_t d;

    ojw_cache_store(c, 0, S(100), "{\"keys\":1}", 10, NULL, 0, 1);
    /* keys of generation 1 lacked a kid while 1 is current: refetch */
    ojw_cache_begin(c, 0, S(200), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_store(c, 0, S(201), "{\"keys\":2}", 10, NULL, 0, 1);
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
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_slot_state_t st;
    char *doc;
    apr_size_t len;
    char buf[64];

    ojw_cache_store(c, 0, S(100), "{}", 2, NULL, 0, 1);
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
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_slot_state_t st;
    ojw_decision_t d;
    char etag[OJW_ETAG_MAX];
    char *doc;
    apr_size_t len;

    ojw_cache_etag(c, 0, etag, sizeof(etag));
    ck_assert_str_eq(etag, "");
    ojw_cache_store(c, 0, S(100), "{}", 2, "\"v1\"", 600, 1);
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
    ojw_cache_t *old = make_cache(2, REGION), *cur = make_cache(2, REGION);
    ojw_slot_state_t st;
    char *doc;
    apr_size_t len;

    ojw_cache_set_url(old, 0, "https://a/");
    ojw_cache_set_url(old, 1, "https://b/");
    ojw_cache_store(old, 1, S(100), "{\"b\":1}", 7, NULL, 0, 1);
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
    ojw_cache_t *c = make_cache(1, REGION);
    const ojw_refresh_policy_t two = { 3600, 10, 6, 86400, 2 };
    ojw_ticket_t t1 = { 0, 0 }, t2 = { 0, 0 }, t3 = { 0, 0 };
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
    ck_assert_int_eq(t3.place, 0);
    ck_assert_uint_eq(st.busy, 1);
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
    ojw_cache_begin(c, 0, S(113), &two, 0, &t2, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
}
END_TEST

/* Issue 20, item 6: the places are the host's, for all URLs together; a
 * fetch younger than the grace lets more wait (an honest issuer answers
 * by then), an older one does not. */
START_TEST(waiters_are_bounded_per_host)
{
    ojw_cache_t *c = make_cache(3, REGION);
    const ojw_refresh_policy_t two = { 3600, 10, 6, 86400, 2 };
    ojw_ticket_t a = { 0, 0 }, b = { 0, 0 }, x = { 0, 0 }, y = { 0, 0 };
    ojw_cache_usage_t u;
    ojw_slot_state_t st;
    ojw_decision_t d;
    long long t0 = S(1000);

    ojw_cache_begin(c, 0, t0, &two, 0, NULL, &d, &st);     /* hangs */
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 0, t0, &two, 0, &a, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 0, t0 + 1, &two, 0, &b, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    /* another URL: its own fetch, but no place left for its waiters */
    ojw_cache_begin(c, 1, t0 + 5, &two, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 1, t0 + 5, &two, 0, &x, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);                      /* young fetch */
    ck_assert_int_eq(x.place, 0);
    ojw_cache_begin(c, 1, t0 + 5 + OJW_WAIT_GRACE_MS - 1, &two, 0, &x, &d,
                    &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 1, t0 + 5 + OJW_WAIT_GRACE_MS, &two, 0, &x, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
    ck_assert_uint_eq(st.busy, 1);
    /* ... and for the hung URL, past its grace, at once */
    ojw_cache_begin(c, 0, t0 + 200, &two, 0, &y, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
    ojw_cache_usage(c, t0 + 200, &two, &u);
    ck_assert_int_eq(u.places, 2);
    ck_assert_int_eq(u.waiting, 2);
    ck_assert_uint_eq(u.refused, 2);
    /* the second URL's fetch ends: its waiters use the keys; the hung
     * one's places stay taken until it is presumed dead */
    ojw_cache_store(c, 1, t0 + 300, "{}", 2, NULL, 60, 1);
    ojw_cache_begin(c, 1, t0 + 300, &two, 0, &x, &d, &st);
    ck_assert_int_eq(d, OJW_USE);
    ojw_cache_begin(c, 0, t0 + 300, &two, 0, &y, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
    /* fetch_timeout (6 s) later the hung fetch is dead: places free */
    ojw_cache_usage(c, t0 + S(6) + 1, &two, &u);
    ck_assert_int_eq(u.waiting, 0);
    ojw_cache_begin(c, 2, t0 + S(7), &two, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 2, t0 + S(7) + 500, &two, 0, &y, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ck_assert_int_ne(y.place, 0);
}
END_TEST

/* The grace of a request over the bound follows the issuer: four times
 * its last successful fetch (a slow link, an instrumented server), from
 * OJW_WAIT_GRACE_MS to OJW_WAIT_GRACE_MAX_MS; a hung issuer whose last
 * fetch was quick still costs a worker only OJW_WAIT_GRACE_MS. */
START_TEST(grace_follows_the_last_fetch)
{
    ojw_cache_t *c = make_cache(2, REGION);
    const ojw_refresh_policy_t one = { 3600, 10, 6, 86400, 1 };
    ojw_ticket_t a = { 0, 0 }, x = { 0, 0 };
    ojw_slot_state_t st;
    ojw_decision_t d;
    long long t0 = S(1000), t1 = t0 + S(30);

    /* slot 0: its fetch took 250 ms; slot 1: 20 ms */
    ojw_cache_begin(c, 0, t0, &one, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_store(c, 0, t0 + 250, "{}", 2, NULL, 60, 1);
    ojw_cache_begin(c, 1, t0, &one, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_store(c, 1, t0 + 20, "{}", 2, NULL, 60, 1);
    ojw_cache_begin(c, 0, t0 + 300, &one, 0, NULL, &d, &st);
    ck_assert_uint_eq(st.fetch_ms, 250);

    /* an unknown kid forces a refetch of slot 0; one place */
    ojw_cache_begin(c, 0, t1, &one, st.generation, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ojw_cache_begin(c, 0, t1, &one, st.generation, &a, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ck_assert_int_ne(a.place, 0);
    ojw_cache_begin(c, 0, t1 + 999, &one, st.generation, &x, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);              /* 4 x 250 ms */
    ojw_cache_begin(c, 0, t1 + 1000, &one, st.generation, &x, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
    ojw_cache_store(c, 0, t1 + 5000, "{}", 2, NULL, 60, 1);
    ojw_cache_begin(c, 0, t1 + 5001, &one, 0, NULL, &d, &st);
    ck_assert_uint_eq(st.fetch_ms, OJW_WAIT_GRACE_MAX_MS);  /* at most */

    /* slot 1's issuer was quick: the floor */
    ojw_cache_begin(c, 1, t1 + 6000, &one, 0, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_USE);
    ojw_cache_begin(c, 1, t1 + 6000, &one, st.generation, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    a.place = 0;
    ojw_cache_begin(c, 1, t1 + 6000, &one, st.generation, &a, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    x.place = 0;
    ojw_cache_begin(c, 1, t1 + 6000 + OJW_WAIT_GRACE_MS - 1, &one,
                    st.generation, &x, &d, &st);
    ck_assert_int_eq(d, OJW_WAIT);
    ojw_cache_begin(c, 1, t1 + 6000 + OJW_WAIT_GRACE_MS, &one,
                    st.generation, &x, &d, &st);
    ck_assert_int_eq(d, OJW_BUSY);
}
END_TEST

/* Issue 22, part 1: a document takes its own size in the region, not
 * OJW_JWKS_MAX; the slots fill it as they fetch. */
START_TEST(region_fills_with_what_is_held)
{
    enum { N = 200 };
    ojw_cache_t *c = make_cache(N, ojw_cache_region_auto(N));
    ojw_cache_usage_t u;
    const ojw_refresh_policy_t pol0 = pol;
    char url[64], doc[1500];
    apr_size_t before;
    int i;

    ck_assert_uint_lt(ojw_cache_size(N, ojw_cache_region_auto(N)),
                      (apr_size_t)N * 20 * 1024);
    for (i = 0; i < N; i++) {
        apr_snprintf(url, sizeof(url), "https://idp.example/t%d/jwks", i);
        ck_assert_int_eq(ojw_cache_set_url(c, i, url), APR_SUCCESS);
    }
    ojw_cache_usage(c, S(1), &pol0, &u);
    ck_assert_int_eq(u.documents, 0);
    before = u.used;
    ck_assert_uint_lt(before, 128 * 1024);        /* URLs: a chunk or two */
    memset(doc, 'k', sizeof(doc));
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(ojw_cache_store(c, i, S(1), doc, sizeof(doc) - i,
                                         NULL, 60, 2), APR_SUCCESS);
    }
    ojw_cache_usage(c, S(1), &pol0, &u);
    ck_assert_int_eq(u.documents, N);
    ck_assert_uint_eq(u.largest, sizeof(doc));
    /* each document took about its size (a grain at most more) */
    ck_assert_uint_le(u.used - before, (apr_size_t)N * (sizeof(doc) + 320));
    ck_assert_uint_ge(u.used - before, (apr_size_t)N * (sizeof(doc) - N));
    for (i = 0; i < N; i++) {
        apr_snprintf(url, sizeof(url), "https://idp.example/t%d/jwks", i);
        ck_assert_int_eq(ojw_cache_find(c, url), i);
    }
}
END_TEST

/* Issue 22, part 1: refreshes to a larger and a smaller document. */
START_TEST(refresh_to_larger_and_smaller)
{
    ojw_cache_t *c = make_cache(2, REGION);
    const char *small = "{\"keys\":[1]}";
    char *large = apr_palloc(test_pool, 9000), *doc;
    ojw_cache_usage_t u1, u2, u3;
    ojw_slot_state_t st;
    apr_size_t len;

    memset(large, 'L', 9000);
    ojw_cache_store(c, 0, S(1), small, strlen(small), "\"e1\"", 60, 1);
    ojw_cache_store(c, 1, S(1), "{\"other\":1}", 11, NULL, 60, 1);
    ojw_cache_usage(c, S(1), &pol, &u1);
    ck_assert_int_eq(ojw_cache_store(c, 0, S(2), large, 9000, NULL, 60, 5),
                     APR_SUCCESS);
    ojw_cache_read(c, 0, 1, test_pool, &doc, &len, &st);
    ck_assert_uint_eq(len, 9000);
    ck_assert(memcmp(doc, large, 9000) == 0);
    ck_assert_uint_eq(st.generation, 2);
    ck_assert_uint_eq(st.nkeys, 5);
    ck_assert_uint_eq(st.doc_len, 9000);
    ojw_cache_usage(c, S(2), &pol, &u2);
    ck_assert_uint_ge(u2.used, u1.used + 9000 - 512);
    /* a smaller one: the space goes back */
    ck_assert_int_eq(ojw_cache_store(c, 0, S(3), small, strlen(small), NULL,
                                     60, 1), APR_SUCCESS);
    ojw_cache_read(c, 0, 2, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, small);
    ck_assert_uint_eq(st.generation, 3);
    ojw_cache_usage(c, S(3), &pol, &u3);
    ck_assert_uint_eq(u3.used, u1.used);
    /* one a little longer fits where it is */
    ojw_cache_store(c, 0, S(4), "{\"keys\":[1,2]}", 14, NULL, 60, 2);
    ojw_cache_usage(c, S(4), &pol, &u3);
    ck_assert_uint_eq(u3.used, u1.used);
    /* the other slot never moved */
    ojw_cache_read(c, 1, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"other\":1}");
}
END_TEST

/* Issue 22, part 1: a full region refuses the document, which leaves the
 * previous one in use (stale-if-error), and counts it. */
START_TEST(full_region_keeps_the_previous_document)
{
    ojw_cache_t *c = make_cache(4, 12 * 1024);
    char *big = apr_palloc(test_pool, 7000), *doc;
    ojw_cache_usage_t u;
    ojw_slot_state_t st;
    ojw_decision_t d;
    apr_size_t len;

    memset(big, 'B', 7000);
    ojw_cache_set_url(c, 0, "https://a/");
    ck_assert_int_eq(ojw_cache_store(c, 0, S(1), "{\"a\":1}", 7, NULL, 60,
                                     1), APR_SUCCESS);
    ck_assert_int_eq(ojw_cache_store(c, 1, S(1), big, 7000, NULL, 60, 1),
                     APR_SUCCESS);
    ck_assert_int_eq(ojw_cache_store(c, 2, S(1), big, 7000, NULL, 60, 1),
                     APR_ENOSPC);
    /* a refresh of slot 0 to a large document: refused, the fetch not
     * ended (the caller fails it), the old document kept */
    ojw_cache_begin(c, 0, S(100), &pol, 1, NULL, &d, &st);
    ck_assert_int_eq(d, OJW_FETCH);
    ck_assert_int_eq(ojw_cache_store(c, 0, S(100), big, 7000, NULL, 60, 1),
                     APR_ENOSPC);
    ojw_cache_read(c, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"a\":1}");
    ck_assert_uint_eq(st.generation, 1);
    ck_assert_int_ne(st.fetch_started, 0);
    ojw_cache_fail(c, 0, S(100), "no room");
    ojw_cache_read(c, 2, 0, test_pool, &doc, &len, &st);
    ck_assert_ptr_null(doc);
    ck_assert_uint_eq(st.generation, 0);
    ojw_cache_usage(c, S(100), &pol, &u);
    ck_assert_uint_eq(u.full, 2);
    ck_assert_int_eq(u.documents, 2);
    ck_assert_uint_le(u.used, u.region);
    /* room comes back when a document shrinks */
    ojw_cache_store(c, 1, S(101), "{}", 2, NULL, 60, 1);
    ck_assert_int_eq(ojw_cache_store(c, 2, S(101), big, 7000, NULL, 60, 1),
                     APR_SUCCESS);
}
END_TEST

/* Issue 22, part 1: a graceful restart with another set of profiles gets
 * a new segment; the slots whose URL (and issuer) stay keep their
 * documents, in a region sized for the new set. */
START_TEST(graceful_restart_with_changed_profiles)
{
    ojw_cache_t *old = make_cache(3, REGION), *cur;
    const char *keep[] = { "https://b/", "https://new/", "https://a/" };
    ojw_slot_state_t st;
    char *doc, buf[64];
    apr_size_t len;
    int i, j;

    ojw_cache_set_url(old, 0, "https://a/");
    ojw_cache_set_url(old, 1, "https://b/");
    ojw_cache_bind(old, 2, "https://disc/", "https://iss/");
    ojw_cache_store(old, 0, S(10), "{\"a\":1}", 7, "\"ea\"", 60, 1);
    ojw_cache_store(old, 1, S(10), "{\"b\":1}", 7, NULL, 60, 2);
    ojw_cache_set_source(old, 2, "https://disc/keys", S(9));
    ojw_cache_store(old, 2, S(10), "{\"d\":1}", 7, NULL, 60, 1);
    ojw_cache_fail(old, 1, S(20), "HTTP status 500");
    /* the new set: b, a new URL, a; the discovery slot gone */
    cur = make_cache(4, REGION);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(ojw_cache_set_url(cur, i, keep[i]), APR_SUCCESS);
        if ((j = ojw_cache_find(old, keep[i])) >= 0) {
            ck_assert_int_eq(ojw_cache_copy_slot(cur, i, old, j),
                             APR_SUCCESS);
        }
    }
    /* the same discovery URL with another issuer is another slot */
    ck_assert_int_eq(ojw_cache_bind(cur, 3, "https://disc/", "https://x/"),
                     APR_SUCCESS);
    ck_assert_int_eq(ojw_cache_find_bound(old, "https://disc/",
                                          "https://x/"), -1);
    ojw_cache_read(cur, 0, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"b\":1}");
    ck_assert_uint_eq(st.nkeys, 2);
    ck_assert_uint_eq(st.failures, 1);
    ojw_cache_last_error(cur, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "HTTP status 500");
    ojw_cache_read(cur, 1, 0, test_pool, &doc, &len, &st);
    ck_assert_ptr_null(doc);
    ojw_cache_read(cur, 2, 0, test_pool, &doc, &len, &st);
    ck_assert_str_eq(doc, "{\"a\":1}");
    ojw_cache_etag(cur, 2, buf, sizeof(buf));
    ck_assert_str_eq(buf, "\"ea\"");
    /* the lock-free look works on the copy */
    ck_assert(ojw_cache_fresh(cur, 2, S(11), &(apr_uint64_t){ 0 }));
    /* a region too small for a kept document: the slot starts empty */
    {
        ojw_cache_t *tiny = make_cache(1, 1024);
        char *big = apr_palloc(test_pool, 4000);

        memset(big, 'x', 4000);
        ojw_cache_store(old, 0, S(30), big, 4000, NULL, 60, 1);
        ojw_cache_set_url(tiny, 0, "https://a/");
        ck_assert_int_eq(ojw_cache_copy_slot(tiny, 0, old, 0), APR_ENOSPC);
        ojw_cache_read(tiny, 0, 0, test_pool, &doc, &len, &st);
        ck_assert_ptr_null(doc);
        ck_assert_uint_eq(st.generation, 0);
    }
}
END_TEST

/* A discovery slot's jwks_uri lives in the region too, and changes. */
START_TEST(source_changes_in_the_region)
{
    ojw_cache_t *c = make_cache(1, REGION);
    ojw_cache_usage_t u1, u2;
    char buf[64];
    long long at;

    ojw_cache_bind(c, 0, "https://disc/", "https://iss/");
    ojw_cache_usage(c, S(1), &pol, &u1);
    ck_assert_int_eq(ojw_cache_set_source(c, 0, "https://idp/keys1", S(5)),
                     APR_SUCCESS);
    ojw_cache_set_source(c, 0, "https://idp/keys-two", S(6));
    ojw_cache_source(c, 0, buf, sizeof(buf), &at);
    ck_assert_str_eq(buf, "https://idp/keys-two");
    ck_assert_int_eq(at, S(6));
    ojw_cache_set_source(c, 0, "", S(7));
    ojw_cache_usage(c, S(1), &pol, &u2);
    ck_assert_uint_eq(u2.used, u1.used);
    ojw_cache_issuer(c, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "https://iss/");
}
END_TEST

Suite *jwks_cache_suite(void)
{
    Suite *s = suite_create("jwks_cache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, pool_teardown);
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
    tcase_add_test(tc, waiters_are_bounded_per_host);
    tcase_add_test(tc, grace_follows_the_last_fetch);
    tcase_add_test(tc, region_fills_with_what_is_held);
    tcase_add_test(tc, refresh_to_larger_and_smaller);
    tcase_add_test(tc, full_region_keeps_the_previous_document);
    tcase_add_test(tc, graceful_restart_with_changed_profiles);
    tcase_add_test(tc, source_changes_in_the_region);
    suite_add_tcase(s, tc);
    return s;
}
