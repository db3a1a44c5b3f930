/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keys of a process (src/keys.c) with an injected clock and fetcher:
 * two "processes" (two ojw_keys_t over one shared cache) race for fetches,
 * a fetch in flight, a generation change while a request holds old keys,
 * the unknown-kid refetch budget.
 */
#include <string.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include "unit.h"
#include "keys.h"

/* The issuer and the clock, as both processes see them. */
typedef struct {
    apr_time_t now;
    const char *doc;                /* what the issuer serves; NULL: 500 */
    int fetches;
    int sleeps;
    int failures_reported;
    int stale_reported;
    /* run once from inside the next fetch: another process at work */
    void (*during_fetch)(void *arg);
    void *during_arg;
    /* run once from inside the next sleep: a request while one waits */
    void (*during_sleep)(void *arg);
} world_t;

static world_t world;

static apr_status_t fake_fetch(void *baton, const char *url,
                               const ojw_fetch_opts_t *opts,
                               ojw_fetch_result_t *res, apr_pool_t *pool)
{
    world_t *w = baton;
    void (*during)(void *) = w->during_fetch;

    (void)url;
    (void)opts;
    w->fetches++;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    if (during) {
        w->during_fetch = NULL;
        during(w->during_arg);
    }
    w->now += apr_time_from_msec(20);
    if (w->doc == NULL) {
        res->http_status = 500;
        apr_cpystrn(res->error, "HTTP status 500", sizeof(res->error));
        return APR_EGENERAL;
    }
    res->http_status = 200;
    res->body = apr_pstrdup(pool, w->doc);
    res->len = strlen(w->doc);
    return APR_SUCCESS;
}

static apr_time_t fake_now(void *baton)
{
    return ((world_t *)baton)->now;
}

static void fake_sleep(void *baton, apr_interval_time_t t)
{
    world_t *w = baton;
    void (*during)(void *) = w->during_sleep;

    w->sleeps++;
    w->now += t;
    if (during) {
        w->during_sleep = NULL;
        during(NULL);
    }
}

static void count_reports(void *baton, void *ctx, const ojw_keys_event_t *ev)
{
    world_t *w = baton;

    (void)ctx;
    if (ev->type == OJW_KEYS_FETCH_FAILED) {
        w->failures_reported++;
        w->stale_reported += ev->stale;
    }
}

static const ojw_refresh_policy_t policy = { 3600, 10, 6, 86400, 0 };
static const char *const urls[] = { "https://issuer.test/jwks" };
static ojw_cache_t *cache;
static cjose_jwk_t *key_a, *key_b;

static ojw_keys_t *process_with(const ojw_refresh_policy_t *pol)
{
    ojw_keys_env_t env;
    ojw_fetch_opts_t fetch = { NULL, 1000, OJW_JWKS_MAX, NULL };
    ojw_keys_t *k = NULL;

    memset(&env, 0, sizeof(env));
    env.fetch = fake_fetch;
    env.now = fake_now;
    env.sleep = fake_sleep;
    env.report = count_reports;
    env.baton = &world;
    ck_assert_int_eq(ojw_keys_create(&k, cache, urls, 1, pol, &fetch, &env,
                                     test_pool), APR_SUCCESS);
    return k;
}

static ojw_keys_t *process(void)
{
    return process_with(&policy);
}

static void setup(void)
{
    apr_size_t size = ojw_cache_size(1, OJW_JWKS_MAX);
    apr_global_mutex_t *mutex;
    apr_shm_t *shm;

    pool_setup();
    memset(&world, 0, sizeof(world));
    world.now = apr_time_from_sec(1000000);
    ck_assert_int_eq(apr_shm_create(&shm, size, NULL, test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT,
                                             test_pool), APR_SUCCESS);
    cache = ojw_cache_attach(apr_shm_baseaddr_get(shm), size, 1, OJW_JWKS_MAX,
                             mutex, 1, test_pool);
    ck_assert_int_eq(ojw_cache_set_url(cache, 0, urls[0]), APR_SUCCESS);
    key_a = test_rsa_key();
    key_b = test_ec_key(CJOSE_JWK_EC_P_256);
}

static const char *jwks_of(int n)
{
    cjose_jwk_t *keys[2] = { key_a, key_b };
    const char *kids[2] = { "a", "b" };

    return test_jwks(test_pool, n, keys, kids);
}

static ojw_token_t *token(const char *kid)
{
    ojw_token_t *tok = NULL;
    ojw_error_t err;
    const char *hdr = strcmp(kid, "a") == 0 ? "RS256" : "ES256";
    char *jws = test_sign(test_pool, strcmp(kid, "a") == 0 ? key_a : key_b,
                          apr_psprintf(test_pool, "{\"alg\":\"%s\",\"kid\":"
                                       "\"%s\"}", hdr, kid),
                          "{\"sub\":\"alice\"}");

    ck_assert_int_eq(ojw_token_parse(&tok, jws, strlen(jws), 16384, test_pool,
                                     &err), OJW_OK);
    return tok;
}

static void advance(long seconds)
{
    world.now += apr_time_from_sec(seconds);
}

START_TEST(one_process_fetches_the_other_uses)
{
    ojw_keys_t *p1 = process(), *p2 = process();
    ojw_keys_use_t u1, u2;

    world.doc = jwks_of(1);
    ojw_keys_get(&u1, p1, 0, 0, test_pool, NULL);
    ojw_keys_get(&u2, p2, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u1.ks);
    ck_assert_ptr_nonnull(u2.ks);
    ck_assert_uint_eq(u1.generation, 1);
    ck_assert_uint_eq(u2.generation, 1);
    ck_assert_ptr_ne(u1.ks, u2.ks);             /* each parses its own */
    ck_assert_int_eq(world.fetches, 1);
}
END_TEST

static ojw_keys_use_t during_use;
static ojw_keys_t *during_process;

static void other_process_asks(void *arg)
{
    (void)arg;
    ojw_keys_get(&during_use, during_process, 0, 0, test_pool, NULL);
}

/* No keys yet and another process fetching: this one waits (without
 * fetching) until the fetch timeout, then answers with a retry time. */
START_TEST(without_keys_a_fetch_in_flight_is_waited_for)
{
    ojw_keys_t *p1 = process();
    ojw_keys_use_t u1;

    during_process = process();
    world.doc = jwks_of(1);
    world.during_fetch = other_process_asks;
    ojw_keys_get(&u1, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u1.ks);
    ck_assert_ptr_null(during_use.ks);
    ck_assert_int_ge(during_use.retry_after, 1);
    ck_assert_int_gt(world.sleeps, 0);
    ck_assert_int_eq(world.fetches, 1);         /* the waiter never fetched */
    ojw_keys_get(&during_use, during_process, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(during_use.ks);
    ck_assert_int_eq(world.fetches, 1);
}
END_TEST

/* With keys held, a due refresh in another process does not hold up a
 * request: the old keys are used meanwhile. */
START_TEST(with_keys_a_refresh_in_flight_does_not_block)
{
    ojw_keys_t *p1 = process();
    ojw_keys_use_t u;

    during_process = process();
    world.doc = jwks_of(1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    advance(3600);
    world.during_fetch = other_process_asks;
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(during_use.ks);
    ck_assert_int_eq(world.sleeps, 0);
    ck_assert_int_eq(world.fetches, 2);
}
END_TEST

/* A request holds keys of generation 1 while the issuer's new document
 * becomes generation 2: the request keeps working keys, the next request
 * gets the new ones, and the old set is freed when its last holder ends
 * (ASan and valgrind watch this test). */
START_TEST(generation_change_while_a_request_holds_keys)
{
    ojw_keys_t *p1 = process(), *p2 = process();
    ojw_keys_use_t old_use, new_use;
    apr_pool_t *req1, *req2;
    ojw_error_t err;

    apr_pool_create(&req1, test_pool);
    apr_pool_create(&req2, test_pool);
    world.doc = jwks_of(1);
    ojw_keys_get(&old_use, p1, 0, 0, req1, NULL);
    world.doc = jwks_of(2);
    advance(3600);
    ojw_keys_get(&new_use, p2, 0, 0, test_pool, NULL);  /* p2 refreshes */
    ck_assert_uint_eq(new_use.generation, 2);
    ojw_keys_get(&new_use, p1, 0, 0, req2, NULL);
    ck_assert_uint_eq(new_use.generation, 2);
    ck_assert_ptr_ne(new_use.ks, old_use.ks);
    /* the first request's keys still verify */
    ck_assert_int_eq(ojw_token_verify(token("a"), old_use.ks, req1, &err),
                     OJW_OK);
    apr_pool_destroy(req1);
    ck_assert_int_eq(ojw_token_verify(token("b"), new_use.ks, req2, &err),
                     OJW_OK);
    apr_pool_destroy(req2);
    ck_assert_int_eq(world.fetches, 2);
}
END_TEST

/* Issue 9: a fetch (here a due refresh) a moment before the issuer signs
 * with a new key must not keep that key out for the min interval. */
START_TEST(new_kid_right_after_a_refresh_is_accepted)
{
    ojw_keys_t *p1 = process();
    ojw_keys_use_t u;
    ojw_error_t err;

    world.doc = jwks_of(1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    advance(3600);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);   /* the due refresh */
    ck_assert_int_eq(world.fetches, 2);
    world.doc = jwks_of(2);                         /* key b published */
    advance(1);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(ojw_keys_verify(&u, p1, 0, token("b"), test_pool, NULL,
                                     &err), OJW_OK);
    ck_assert_int_eq(world.fetches, 3);
    ck_assert_uint_eq(u.generation, 2);
}
END_TEST

/* Unknown kids: one forced refetch per min interval, across processes. */
START_TEST(unknown_kid_flood_is_bounded)
{
    ojw_keys_t *p1 = process(), *p2 = process();
    ojw_keys_use_t u;
    ojw_error_t err;
    int i;

    world.doc = jwks_of(1);
    ck_assert_int_eq(ojw_keys_verify(&u, p1, 0, token("a"), test_pool, NULL,
                                     &err), OJW_OK);
    for (i = 0; i < 20; i++) {
        advance(1);
        ck_assert_int_eq(ojw_keys_verify(&u, i % 2 ? p1 : p2, 0, token("b"),
                                         test_pool, NULL, &err), OJW_ERR_KID);
    }
    /* the first fetch, then one forced refetch at +1 s and one at +11 s */
    ck_assert_int_eq(world.fetches, 3);
}
END_TEST

/* No keys at all and the issuer failing: unavailable with a retry time,
 * one attempt per min interval; a failed refresh keeps the old keys. */
START_TEST(failures_keep_old_keys_or_say_when_to_retry)
{
    ojw_keys_t *p1 = process();
    ojw_keys_use_t u;

    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_null(u.ks);
    ck_assert_int_eq(u.retry_after, 10);
    ck_assert_int_eq(world.failures_reported, 1);
    ck_assert_int_eq(world.stale_reported, 0);
    advance(3);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_null(u.ks);
    ck_assert_int_eq(u.retry_after, 7);
    ck_assert_int_eq(world.fetches, 1);
    advance(7);
    world.doc = jwks_of(1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u.ks);
    world.doc = NULL;
    advance(3600);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u.ks);
    ck_assert_int_eq(world.stale_reported, 1);
    ck_assert_int_eq(world.fetches, 3);
}
END_TEST

/* Issue 11, item 4: a hung issuer parks at most max_waiters requests
 * beside the one fetching; the next is told at once to come back. */
static const ojw_refresh_policy_t one_waiter = { 3600, 10, 6, 86400, 1 };
static ojw_keys_t *third;
static ojw_keys_use_t third_use;
static int third_slept;

/* The third asks once the fetch is past its grace (OJW_WAIT_GRACE_MS:
 * till then it would wait without a place, see test_jwks_cache.c). */
static void third_process_asks(void *arg)
{
    int before = world.sleeps;

    (void)arg;
    world.now += apr_time_from_msec(OJW_WAIT_GRACE_MS);
    ojw_keys_get(&third_use, third, 0, 0, test_pool, NULL);
    third_slept = world.sleeps - before;
}

static void waiter_asks(void *arg)
{
    (void)arg;
    world.during_sleep = third_process_asks;    /* while it waits */
    ojw_keys_get(&during_use, during_process, 0, 0, test_pool, NULL);
}

START_TEST(waiters_for_a_fetch_are_bounded)
{
    ojw_keys_t *p1 = process_with(&one_waiter);
    ojw_keys_use_t u1;

    during_process = process_with(&one_waiter);
    third = process_with(&one_waiter);
    world.doc = jwks_of(1);
    world.during_fetch = waiter_asks;
    ojw_keys_get(&u1, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u1.ks);
    /* the second waited (and timed out in this fake world) */
    ck_assert_ptr_null(during_use.ks);
    ck_assert_int_eq(during_use.busy, 0);
    /* the third did not wait: busy, with a retry time, no sleep */
    ck_assert_ptr_null(third_use.ks);
    ck_assert_int_eq(third_use.busy, 1);
    ck_assert_int_ge(third_use.retry_after, 1);
    ck_assert_int_eq(third_slept, 0);
    ck_assert_int_eq(world.fetches, 1);
    /* once the fetch is done, everyone has keys */
    ojw_keys_get(&third_use, third, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(third_use.ks);
    ck_assert_int_eq(third_use.busy, 0);
}
END_TEST

/* The same bound for requests whose kid is unknown: over it, 503 (keys
 * unavailable, come back), not a 401 for a kid that may be new. */
static ojw_reason_t third_verdict;

static void third_verifies_b(void *arg)
{
    ojw_error_t err;

    (void)arg;
    memset(&err, 0, sizeof(err));
    third_verdict = ojw_keys_verify(&third_use, third, 0, token("b"),
                                    test_pool, NULL, &err);
}

static void waiter_verifies_b(void *arg)
{
    ojw_error_t err;

    (void)arg;
    world.during_sleep = third_verifies_b;
    memset(&err, 0, sizeof(err));
    ojw_keys_verify(&during_use, during_process, 0, token("b"), test_pool,
                    NULL, &err);
}

START_TEST(unknown_kid_waiters_are_bounded)
{
    ojw_keys_t *p1 = process_with(&one_waiter);
    ojw_keys_use_t u;
    ojw_error_t err;

    during_process = process_with(&one_waiter);
    third = process_with(&one_waiter);
    world.doc = jwks_of(1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ojw_keys_get(&u, during_process, 0, 0, test_pool, NULL);
    ojw_keys_get(&u, third, 0, 0, test_pool, NULL);
    world.doc = jwks_of(2);                         /* key b published */
    world.during_fetch = waiter_verifies_b;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(ojw_keys_verify(&u, p1, 0, token("b"), test_pool, NULL,
                                     &err), OJW_OK);
    ck_assert_int_eq(third_verdict, OJW_ERR_KEYS_UNAVAILABLE);
    ck_assert_int_eq(third_use.busy, 1);
    ck_assert_int_eq(world.fetches, 2);
}
END_TEST

Suite *keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("keys");

    tcase_add_checked_fixture(tc, setup, pool_teardown);
    tcase_add_test(tc, one_process_fetches_the_other_uses);
    tcase_add_test(tc, waiters_for_a_fetch_are_bounded);
    tcase_add_test(tc, unknown_kid_waiters_are_bounded);
    tcase_add_test(tc, without_keys_a_fetch_in_flight_is_waited_for);
    tcase_add_test(tc, with_keys_a_refresh_in_flight_does_not_block);
    tcase_add_test(tc, generation_change_while_a_request_holds_keys);
    tcase_add_test(tc, new_kid_right_after_a_refresh_is_accepted);
    tcase_add_test(tc, unknown_kid_flood_is_bounded);
    tcase_add_test(tc, failures_keep_old_keys_or_say_when_to_retry);
    suite_add_tcase(s, tc);
    return s;
}
