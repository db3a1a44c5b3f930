/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking calls with a deadline (src/lanes.c): a store that hangs costs
 * the caller its deadline, never more; a broken connection is tried once
 * more on a fresh context; a call given up takes no further step. */
#include <string.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include "unit.h"
#include "lanes.h"

/* The fake store: a gate that hung calls wait at, counters. */
static struct {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    int open;                   /* the gate: hung calls go on */
    int made;                   /* contexts made */
    int dropped;
    int calls;
    int second_steps;           /* steps taken after the gate */
    int broken_until;           /* contexts 1..N report broken */
    int make_fails;
} fake;

enum { JOB_FAST, JOB_HANG, JOB_BROKEN };

typedef struct {
    int kind;
    apr_status_t answer;
} job_t;

static apr_status_t fake_make(void **ctx, void *baton, apr_pool_t *pool)
{
    int *gen;

    (void)baton;
    if (fake.make_fails) {
        return APR_ECONNREFUSED;
    }
    gen = apr_palloc(pool, sizeof(*gen));
    apr_thread_mutex_lock(fake.mutex);
    *gen = ++fake.made;
    apr_thread_mutex_unlock(fake.mutex);
    *ctx = gen;
    return APR_SUCCESS;
}

static void fake_drop(void *ctx, void *baton)
{
    (void)ctx;
    (void)baton;
    apr_thread_mutex_lock(fake.mutex);
    fake.dropped++;
    apr_thread_mutex_unlock(fake.mutex);
}

static apr_status_t fake_call(void *ctx, void *baton, const void *data,
                              apr_size_t len, ojw_lane_t *lane, int *broken,
                              apr_pool_t *scratch)
{
    job_t job;

    (void)baton;
    (void)scratch;
    ck_assert_uint_eq(len, sizeof(job));
    memcpy(&job, data, len);
    apr_thread_mutex_lock(fake.mutex);
    fake.calls++;
    if (job.kind == JOB_BROKEN && *(int *)ctx <= fake.broken_until) {
        apr_thread_mutex_unlock(fake.mutex);
        *broken = 1;
        return APR_ECONNRESET;
    }
    while (job.kind == JOB_HANG && !fake.open) {
        apr_thread_cond_wait(fake.cond, fake.mutex);
    }
    apr_thread_mutex_unlock(fake.mutex);
    if (job.kind == JOB_HANG && ojw_lane_wanted(lane)) {
        apr_thread_mutex_lock(fake.mutex);
        fake.second_steps++;
        apr_thread_mutex_unlock(fake.mutex);
    }
    return job.answer;
}

static void fake_setup(void)
{
    pool_setup();
    memset(&fake, 0, sizeof(fake));
    ck_assert_int_eq(apr_thread_mutex_create(&fake.mutex,
                                             APR_THREAD_MUTEX_DEFAULT,
                                             test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_thread_cond_create(&fake.cond, test_pool),
                     APR_SUCCESS);
}

static ojw_lanes_t *lanes_of(int max, apr_pool_t *pool)
{
    ojw_lanes_conf_t conf = { fake_make, fake_drop, fake_call, NULL, max };
    ojw_lanes_t *lanes = NULL;

    ck_assert_int_eq(ojw_lanes_create(&lanes, &conf, pool), APR_SUCCESS);
    return lanes;
}

static apr_status_t run(ojw_lanes_t *lanes, int kind, apr_status_t answer,
                        apr_interval_time_t wait)
{
    job_t job = { kind, answer };

    return ojw_lanes_run(lanes, &job, sizeof(job), apr_time_now() + wait);
}

static void open_gate(void)
{
    apr_thread_mutex_lock(fake.mutex);
    fake.open = 1;
    apr_thread_cond_broadcast(fake.cond);
    apr_thread_mutex_unlock(fake.mutex);
}

/* Waits (at most 5 s) until no lane is busy. */
static void wait_idle(ojw_lanes_t *lanes)
{
    int made, busy, i;

    for (i = 0; i < 500; i++) {
        ojw_lanes_count(lanes, &made, &busy);
        if (busy == 0) {
            return;
        }
        apr_sleep(apr_time_from_msec(10));
    }
    ck_abort_msg("a lane stayed busy");
}

START_TEST(a_fast_call_answers_and_its_lane_is_kept)
{
    ojw_lanes_t *lanes = lanes_of(2, test_pool);
    int made, busy, i;

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(run(lanes, JOB_FAST, APR_NOTFOUND,
                             apr_time_from_sec(5)), APR_NOTFOUND);
    }
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    ojw_lanes_count(lanes, &made, &busy);
    ck_assert_int_eq(made, 1);
    ck_assert_int_eq(busy, 0);
    ck_assert_int_eq(fake.made, 1);     /* one context, used four times */
    ck_assert_int_eq(fake.calls, 4);
}
END_TEST

START_TEST(a_hung_call_costs_the_deadline_only)
{
    ojw_lanes_t *lanes = lanes_of(2, test_pool);
    apr_time_t t0 = apr_time_now();
    apr_interval_time_t took;
    int made, busy;

    ck_assert_int_eq(run(lanes, JOB_HANG, APR_SUCCESS, apr_time_from_msec(150)),
                     APR_TIMEUP);
    took = apr_time_now() - t0;
    ck_assert_int_ge(took, apr_time_from_msec(150));
    ck_assert_int_lt(took, apr_time_from_msec(1500));
    /* the hung call keeps its lane; another lane answers */
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    ojw_lanes_count(lanes, &made, &busy);
    ck_assert_int_eq(made, 2);
    ck_assert_int_eq(busy, 1);
    /* two hung calls hold both lanes: the next caller is told at once */
    ck_assert_int_eq(run(lanes, JOB_HANG, APR_SUCCESS, apr_time_from_msec(50)),
                     APR_TIMEUP);
    t0 = apr_time_now();
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_EAGAIN);
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_msec(500));
    /* the store answers again: the lanes are used again, no new one */
    open_gate();
    wait_idle(lanes);
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    ojw_lanes_count(lanes, &made, &busy);
    ck_assert_int_eq(made, 2);
}
END_TEST

START_TEST(a_call_given_up_takes_no_further_step)
{
    ojw_lanes_t *lanes = lanes_of(1, test_pool);

    ck_assert_int_eq(run(lanes, JOB_HANG, APR_SUCCESS, apr_time_from_msec(50)),
                     APR_TIMEUP);
    open_gate();
    wait_idle(lanes);
    ck_assert_int_eq(fake.second_steps, 0);
    /* one that is waited for does */
    ck_assert_int_eq(run(lanes, JOB_HANG, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    ck_assert_int_eq(fake.second_steps, 1);
}
END_TEST

START_TEST(a_broken_context_is_made_afresh_and_tried_once_more)
{
    ojw_lanes_t *lanes = lanes_of(1, test_pool);

    /* a pooled connection to a store that restarted: the second try, on
     * a fresh context, answers */
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    fake.broken_until = 1;
    ck_assert_int_eq(run(lanes, JOB_BROKEN, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    ck_assert_int_eq(fake.made, 2);
    ck_assert_int_eq(fake.dropped, 1);
    /* a store that is down: two tries, then its error */
    fake.broken_until = 100;
    fake.calls = 0;
    ck_assert_int_eq(run(lanes, JOB_BROKEN, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_ECONNRESET);
    ck_assert_int_eq(fake.calls, 2);
    ck_assert_int_eq(fake.made, 3);
    ck_assert_int_eq(fake.dropped, 3);  /* the next call makes a fourth */
}
END_TEST

START_TEST(a_context_that_cannot_be_made_is_an_error)
{
    ojw_lanes_t *lanes = lanes_of(1, test_pool);
    char big[OJW_LANE_JOB_MAX + 1];

    fake.make_fails = 1;
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_ECONNREFUSED);
    fake.make_fails = 0;
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    memset(big, 0, sizeof(big));
    ck_assert_int_eq(ojw_lanes_run(lanes, big, sizeof(big),
                                   apr_time_now() + apr_time_from_sec(5)),
                     APR_EINVAL);
}
END_TEST

START_TEST(destroying_leaves_a_hung_lane_behind)
{
    apr_pool_t *p;
    ojw_lanes_t *lanes;
    apr_time_t t0;
    int i, reaped = 0;

    ck_assert_int_eq(apr_pool_create(&p, test_pool), APR_SUCCESS);
    lanes = lanes_of(3, p);
    ck_assert_int_eq(run(lanes, JOB_HANG, APR_SUCCESS, apr_time_from_msec(50)),
                     APR_TIMEUP);
    ck_assert_int_eq(run(lanes, JOB_FAST, APR_SUCCESS, apr_time_from_sec(5)),
                     APR_SUCCESS);
    t0 = apr_time_now();
    apr_pool_destroy(p);        /* a child process exits */
    ck_assert_int_lt(apr_time_now() - t0, apr_time_from_sec(1));
    ck_assert_int_eq(fake.dropped, 1);  /* the idle lane's context */
    ck_assert_int_eq(ojw_lanes_reap(), 0);      /* still in its call */
    open_gate();                /* the hung lane ends on its own */
    for (i = 0; i < 500 && reaped == 0; i++) {
        apr_sleep(apr_time_from_msec(10));
        reaped = ojw_lanes_reap();
    }
    ck_assert_int_eq(reaped, 1);
    ck_assert_int_eq(fake.dropped, 2);
}
END_TEST

Suite *lanes_suite(void)
{
    Suite *s = suite_create("lanes");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, fake_setup, pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, a_fast_call_answers_and_its_lane_is_kept);
    tcase_add_test(tc, a_hung_call_costs_the_deadline_only);
    tcase_add_test(tc, a_call_given_up_takes_no_further_step);
    tcase_add_test(tc, a_broken_context_is_made_afresh_and_tried_once_more);
    tcase_add_test(tc, a_context_that_cannot_be_made_is_an_error);
    tcase_add_test(tc, destroying_leaves_a_hung_lane_behind);
    suite_add_tcase(s, tc);
    return s;
}
