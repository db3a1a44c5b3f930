/* SPDX-License-Identifier: Apache-2.0 */
/* Verified tokens of one process (src/token_cache.c). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "unit.h"
#include "token_cache.h"

static const int profile_a = 1, profile_b = 2;

/* A token-like string: distinct tails, as signatures are. */
static const char *tok(int i)
{
    return apr_psprintf(test_pool, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0."
                        "sig-%08d-%08x", i, (unsigned)(i * 2654435761u));
}

static void put(ojw_token_cache_t *tc, const char *t, const void *profile,
                const char *sub)
{
    ojw_cached_t e;
    json_t *claims = json_pack("{s:s}", "sub", sub);

    memset(&e, 0, sizeof(e));
    e.profile = profile;
    e.slot = 0;
    e.generation = 7;
    e.claims = claims;
    e.kid = "k1";
    ojw_token_cache_put(tc, t, strlen(t), &e, NULL);
    json_decref(claims);                /* the cache holds its own */
}

START_TEST(hit_miss_and_profiles_apart)
{
    ojw_token_cache_t *tc;
    const ojw_cached_t *hit;
    ojw_token_cache_stats_t st;
    const char *t = tok(1);

    ck_assert_int_eq(ojw_token_cache_create(&tc, 100, test_pool), APR_SUCCESS);
    ck_assert(!ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool));
    put(tc, t, &profile_a, "alice");
    hit = ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool);
    ck_assert_ptr_nonnull(hit);
    ck_assert_str_eq(json_string_value(json_object_get(hit->claims, "sub")),
                     "alice");
    ck_assert_str_eq(hit->kid, "k1");
    ck_assert_uint_eq(hit->generation, 7);
    /* the same token for another profile is judged on its own */
    ck_assert(!ojw_token_cache_get(tc, t, strlen(t), &profile_b, test_pool));
    /* every byte counts: a prefix or a changed byte is another token */
    ck_assert(!ojw_token_cache_get(tc, t, strlen(t) - 1, &profile_a,
                                   test_pool));
    ck_assert(!ojw_token_cache_get(tc, apr_pstrcat(test_pool, "X", t + 1,
                                   NULL), strlen(t), &profile_a, test_pool));
    ojw_token_cache_remove(tc, t, strlen(t), &profile_a);
    ck_assert(!ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool));
    ojw_token_cache_stats(tc, &st);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 5);
    ck_assert_uint_eq(st.entries, 0);
}
END_TEST

/* accept: the entry's profile is the baton's, or any with NULL. */
static int profile_is(const ojw_cached_t *e, void *profile)
{
    return profile == NULL || e->profile == profile;
}

/* One lookup for whichever profile the caller accepts: the most recent
 * entry of the token it takes. */
START_TEST(find_for_any_profile)
{
    ojw_token_cache_t *tc;
    const ojw_cached_t *hit;
    ojw_token_cache_stats_t st;
    const char *t = tok(1), *other = tok(2);

    ck_assert_int_eq(ojw_token_cache_create(&tc, 100, test_pool), APR_SUCCESS);
    put(tc, t, &profile_a, "for-a");
    put(tc, t, &profile_b, "for-b");
    put(tc, other, &profile_a, "other");
    hit = ojw_token_cache_find(tc, t, strlen(t), profile_is,
                               (void *)&profile_a, test_pool);
    ck_assert_ptr_nonnull(hit);
    ck_assert_ptr_eq(hit->profile, &profile_a);
    ck_assert_str_eq(json_string_value(json_object_get(hit->claims, "sub")),
                     "for-a");
    hit = ojw_token_cache_find(tc, t, strlen(t), profile_is, NULL,
                               test_pool);
    ck_assert_ptr_nonnull(hit);
    ck_assert_ptr_eq(hit->profile, &profile_b);      /* the latest put */
    ck_assert(!ojw_token_cache_find(tc, other, strlen(other), profile_is,
                                    (void *)&profile_b, test_pool));
    ojw_token_cache_remove(tc, t, strlen(t), &profile_b);
    hit = ojw_token_cache_find(tc, t, strlen(t), profile_is, NULL,
                               test_pool);
    ck_assert_ptr_nonnull(hit);
    ck_assert_ptr_eq(hit->profile, &profile_a);
    ojw_token_cache_stats(tc, &st);
    ck_assert_uint_eq(st.hits, 3);
    ck_assert_uint_eq(st.misses, 1);
}
END_TEST

START_TEST(bounded_least_recently_used_out)
{
    ojw_token_cache_t *tc;
    ojw_token_cache_stats_t st;
    const ojw_cached_t *hit;
    const char *keep = tok(0), *t;
    int i;

    ck_assert_int_eq(ojw_token_cache_create(&tc, 64, test_pool), APR_SUCCESS);
    put(tc, keep, &profile_a, "keep");
    for (i = 1; i <= 2000; i++) {
        t = tok(i);
        put(tc, t, &profile_a, "x");
        /* used again and again: never the least recently used */
        ck_assert_ptr_nonnull(ojw_token_cache_get(tc, keep, strlen(keep),
                                                  &profile_a, test_pool));
    }
    ojw_token_cache_stats(tc, &st);
    ck_assert_uint_le(st.entries, 64);
    ck_assert_uint_ge(st.entries, 48);
    ck_assert_uint_eq(st.entries + st.evictions, 2001);
    /* the first of the others went long ago; the newest is there */
    t = tok(1);
    ck_assert(!ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool));
    t = tok(2000);
    hit = ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool);
    ck_assert_ptr_nonnull(hit);
    /* putting the same key again replaces it */
    put(tc, t, &profile_a, "again");
    hit = ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool);
    ck_assert_ptr_nonnull(hit);
    ck_assert_str_eq(json_string_value(json_object_get(hit->claims, "sub")),
                     "again");
}
END_TEST

/* A request keeps the claims of a hit after the entry is evicted. */
START_TEST(claims_outlive_eviction)
{
    ojw_token_cache_t *tc;
    const ojw_cached_t *hit;
    apr_pool_t *req;
    const char *t = tok(5);
    int i;

    ck_assert_int_eq(ojw_token_cache_create(&tc, 16, test_pool), APR_SUCCESS);
    apr_pool_create(&req, test_pool);
    put(tc, t, &profile_a, "alice");
    hit = ojw_token_cache_get(tc, t, strlen(t), &profile_a, req);
    ck_assert_ptr_nonnull(hit);
    ojw_token_cache_remove(tc, t, strlen(t), &profile_a);
    for (i = 100; i < 200; i++) {
        put(tc, tok(i), &profile_a, "x");
    }
    ck_assert_str_eq(json_string_value(json_object_get(hit->claims, "sub")),
                     "alice");
    ck_assert_str_eq(hit->kid, "k1");
    apr_pool_destroy(req);
}
END_TEST

/* A held entry stays whole (claims, kid, attached block) when the cache
 * drops it, evicts it, or goes itself, until its holder's pool goes:
 * ASan and valgrind see no use after free and no leak. */
START_TEST(held_entry_outlives_the_cache)
{
    ojw_token_cache_t *tc;
    const ojw_cached_t *held, *put_held, *again;
    apr_pool_t *cache_pool, *req, *req2;
    const char *t = tok(7), *u = tok(8);
    ojw_cached_t e;
    int i;

    apr_pool_create(&cache_pool, test_pool);
    apr_pool_create(&req, test_pool);
    apr_pool_create(&req2, test_pool);
    ck_assert_int_eq(ojw_token_cache_create(&tc, 16, cache_pool),
                     APR_SUCCESS);
    memset(&e, 0, sizeof(e));
    e.profile = &profile_a;
    e.claims = json_pack("{s:s}", "sub", "carol");
    e.kid = "k2";
    ck_assert_ptr_null(ojw_token_cache_put(tc, u, strlen(u), &e, NULL));
    put_held = ojw_token_cache_put(tc, t, strlen(t), &e, req2);
    json_decref(e.claims);
    ck_assert_ptr_nonnull(put_held);
    held = ojw_token_cache_get(tc, t, strlen(t), &profile_a, req);
    ck_assert_ptr_eq(held, put_held);       /* the entry, not a copy */
    ck_assert_ptr_eq(ojw_token_cache_attach(held, strdup("prepared")),
                     ojw_token_cache_attached(put_held));
    ojw_token_cache_remove(tc, t, strlen(t), &profile_a);
    ck_assert_ptr_null(ojw_token_cache_get(tc, t, strlen(t), &profile_a,
                                           req));
    for (i = 100; i < 200; i++) {
        put(tc, tok(i), &profile_a, "x");
    }
    again = ojw_token_cache_get(tc, u, strlen(u), &profile_a, req2);
    apr_pool_destroy(cache_pool);           /* the cache goes */
    ck_assert_str_eq(json_string_value(json_object_get(held->claims, "sub")),
                     "carol");
    ck_assert_str_eq(held->kid, "k2");
    ck_assert_str_eq(ojw_token_cache_attached(held), "prepared");
    apr_pool_destroy(req2);                 /* one holder left */
    ck_assert_str_eq(ojw_token_cache_attached(held), "prepared");
    ck_assert_str_eq(held->kid, "k2");
    apr_pool_destroy(req);                  /* the last: freed */
    (void)again;
}
END_TEST

/* Two attach to one entry: the first block stays, the second is freed
 * (valgrind: no leak) and both callers get the first. */
START_TEST(attach_first_wins)
{
    ojw_token_cache_t *tc;
    const ojw_cached_t *h1, *h2;
    const char *t = tok(9);
    char *a = strdup("a"), *b = strdup("b");

    ck_assert_int_eq(ojw_token_cache_create(&tc, 16, test_pool),
                     APR_SUCCESS);
    put(tc, t, &profile_a, "dave");
    h1 = ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool);
    h2 = ojw_token_cache_get(tc, t, strlen(t), &profile_a, test_pool);
    ck_assert_ptr_null(ojw_token_cache_attached(h1));
    ck_assert_ptr_eq(ojw_token_cache_attach(h1, a), a);
    ck_assert_ptr_eq(ojw_token_cache_attach(h2, b), a);
    ck_assert_ptr_eq(ojw_token_cache_attached(h2), a);
}
END_TEST

typedef struct {
    const ojw_cached_t *entry;
    const void *got;
} attacher_t;

static void *APR_THREAD_FUNC attacher(apr_thread_t *t, void *data)
{
    attacher_t *w = data;

    w->got = ojw_token_cache_attach(w->entry, strdup("mine"));
    (void)t;
    return NULL;
}

/* Threads racing to attach: one block wins, every thread gets it, the
 * others' are freed. */
START_TEST(attach_race_one_wins)
{
    enum { N = 8 };
    ojw_token_cache_t *tc;
    apr_thread_t *threads[N];
    attacher_t w[N];
    apr_status_t rv;
    const char *t = tok(10);
    int i;

    ck_assert_int_eq(ojw_token_cache_create(&tc, 16, test_pool),
                     APR_SUCCESS);
    put(tc, t, &profile_a, "erin");
    for (i = 0; i < N; i++) {
        w[i].entry = ojw_token_cache_get(tc, t, strlen(t), &profile_a,
                                         test_pool);
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, attacher,
                                           &w[i], test_pool), APR_SUCCESS);
    }
    for (i = 0; i < N; i++) {
        apr_thread_join(&rv, threads[i]);
    }
    for (i = 0; i < N; i++) {
        ck_assert_ptr_eq(w[i].got, ojw_token_cache_attached(w[0].entry));
    }
}
END_TEST

typedef struct {
    ojw_token_cache_t *tc;
    int base;
} worker_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_t *w = data;
    apr_pool_t *p;
    int i;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    for (i = 0; i < 3000; i++) {
        const char *s = apr_psprintf(p, "a.b.sig-%d", (w->base + i) % 300);
        ojw_cached_t e;
        json_t *claims = json_pack("{s:i}", "n", i);

        if (!ojw_token_cache_get(w->tc, s, strlen(s), &profile_a, p)) {
            memset(&e, 0, sizeof(e));
            e.profile = &profile_a;
            e.claims = claims;
            ojw_token_cache_put(w->tc, s, strlen(s), &e, NULL);
        }
        json_decref(claims);
        if (i % 100 == 99) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    (void)t;
    return NULL;        /* not apr_thread_exit(): ASan trips on pthread_exit */
}

/* The threads of an event MPM child share one cache. */
START_TEST(threads_share_the_cache)
{
    ojw_token_cache_t *tc;
    apr_thread_t *threads[4];
    worker_t w[4];
    apr_status_t rv;
    ojw_token_cache_stats_t st;
    int i;

    ck_assert_int_eq(ojw_token_cache_create(&tc, 128, test_pool), APR_SUCCESS);
    for (i = 0; i < 4; i++) {
        w[i].tc = tc;
        w[i].base = i * 77;
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, worker, &w[i],
                                           test_pool), APR_SUCCESS);
    }
    for (i = 0; i < 4; i++) {
        apr_thread_join(&rv, threads[i]);
    }
    ojw_token_cache_stats(tc, &st);
    ck_assert_uint_eq(st.hits + st.misses, 12000);
    ck_assert_uint_le(st.entries, 128);
}
END_TEST

/* Token i of many, TOKEN_LEN bytes, into t: distinct tails. */
#define TOKEN_LEN 69
static void distinct(char t[TOKEN_LEN + 1], int i)
{
    snprintf(t, TOKEN_LEN + 1, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig-"
             "%010d-%08x-%08x", i, (unsigned)(i * 2654435761u),
             (unsigned)(i ^ 0x5bd1e995));
}

/* Bytes malloc has handed out and not had back (0 where an interposed
 * allocator, as valgrind's or ASan's, keeps its own books). */
static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

/* Issue 20, item 8: 100,000 distinct tokens through a cache of 1000:
 * at most 1000 entries, every other one evicted (and freed, claims too),
 * the newest kept, and the heap no larger after 100,000 than after
 * 10,000 (beyond allocator noise) and within the per-entry bound. */
START_TEST(hundred_thousand_distinct_tokens)
{
    enum { MAX = 1000, N = 100000 };
    ojw_token_cache_t *tc;
    ojw_token_cache_stats_t st;
    char t[TOKEN_LEN + 1];
    size_t before, at_10k = 0, after;
    apr_pool_t *p;
    int i, kept = 0;

    apr_pool_create(&p, test_pool);
    before = heap_in_use();
    ck_assert_int_eq(ojw_token_cache_create(&tc, MAX, test_pool),
                     APR_SUCCESS);
    for (i = 0; i < N; i++) {
        distinct(t, i);
        ck_assert_uint_eq(strlen(t), TOKEN_LEN);
        put(tc, t, &profile_a, "x");
        if (i == 10000) {
            at_10k = heap_in_use();
        }
    }
    after = heap_in_use();
    ojw_token_cache_stats(tc, &st);
    ck_assert_uint_le(st.entries, st.max_entries);
    ck_assert_uint_le(st.max_entries, MAX + 16);    /* rounded per shard */
    ck_assert_uint_ge(st.entries, MAX * 8 / 10);
    ck_assert_uint_eq(st.entries + st.evictions, N);
    for (i = N - 100; i < N; i++) {     /* the newest are all there */
        distinct(t, i);
        kept += ojw_token_cache_get(tc, t, strlen(t), &profile_a, p) != NULL;
    }
    ck_assert_int_eq(kept, 100);
    for (i = 0; i < 1000; i++) {        /* the oldest long gone */
        distinct(t, i);
        ck_assert(!ojw_token_cache_get(tc, t, strlen(t), &profile_a, p));
    }
    if (after > 0) {
        ck_assert_msg(after < at_10k + 64 * 1024, "heap grew from %zu to "
                      "%zu bytes between 10,000 and 100,000 tokens", at_10k,
                      after);
        ck_assert_msg(after - before < (size_t)MAX
                      * (ojw_token_cache_entry_overhead() + TOKEN_LEN + 1024),
                      "%zu bytes for %zu entries", after - before,
                      (size_t)st.entries);
    }
    apr_pool_destroy(p);
}
END_TEST

Suite *token_cache_suite(void)
{
    Suite *s = suite_create("token_cache");
    TCase *tc = tcase_create("token_cache");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, hit_miss_and_profiles_apart);
    tcase_add_test(tc, find_for_any_profile);
    tcase_add_test(tc, bounded_least_recently_used_out);
    tcase_add_test(tc, claims_outlive_eviction);
    tcase_add_test(tc, held_entry_outlives_the_cache);
    tcase_add_test(tc, attach_first_wins);
    tcase_add_test(tc, attach_race_one_wins);
    tcase_add_test(tc, threads_share_the_cache);
    tcase_add_test(tc, hundred_thousand_distinct_tokens);
    tcase_set_timeout(tc, 120);         /* 100,000 tokens under valgrind */
    suite_add_tcase(s, tc);
    return s;
}
