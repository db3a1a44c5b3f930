/* SPDX-License-Identifier: Apache-2.0 */
/* The health of a shared store (src/breaker.c): down after a failure,
 * one probe per interval while down, up again after one success. */
#include <apr_thread_proc.h>
#include "unit.h"
#include "breaker.h"

#define SEC(n) apr_time_from_sec(n)
#define T0 SEC(1000000)

START_TEST(down_then_one_probe_per_interval_then_up)
{
    ojw_breaker_t b;

    ojw_breaker_init(&b);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0, SEC(1)), OJW_STORE_USE);
    ck_assert_int_eq(ojw_breaker_report(&b, 1, T0, SEC(1)), 0);
    ck_assert_int_eq(ojw_breaker_down_since(&b), 0);
    /* a failure: down, logged once */
    ck_assert_int_eq(ojw_breaker_report(&b, 0, T0, SEC(1)), 1);
    ck_assert_int_eq(ojw_breaker_report(&b, 0, T0 + 10, SEC(1)), 0);
    ck_assert_int_eq(ojw_breaker_down_since(&b), T0);
    /* answered at once until the probe's turn */
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + 10, SEC(1)), OJW_STORE_REFUSE);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(1) - 1, SEC(1)),
                     OJW_STORE_REFUSE);
    /* one probe, the others refused */
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(1), SEC(1)),
                     OJW_STORE_PROBE);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(1), SEC(1)),
                     OJW_STORE_REFUSE);
    /* the probe fails: still down, the next turn an interval later */
    ck_assert_int_eq(ojw_breaker_report(&b, 0, T0 + SEC(1), SEC(1)), 0);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(2) - 1, SEC(1)),
                     OJW_STORE_REFUSE);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(2), SEC(1)),
                     OJW_STORE_PROBE);
    /* it answers: up for everyone, the change reported once */
    ck_assert_int_eq(ojw_breaker_report(&b, 1, T0 + SEC(2), SEC(1)), -1);
    ck_assert_int_eq(ojw_breaker_report(&b, 1, T0 + SEC(2), SEC(1)), 0);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(2), SEC(1)),
                     OJW_STORE_USE);
    ck_assert_int_eq(ojw_breaker_down_since(&b), 0);
}
END_TEST

START_TEST(a_probe_late_after_a_long_outage)
{
    ojw_breaker_t b;

    ojw_breaker_init(&b);
    ck_assert_int_eq(ojw_breaker_report(&b, 0, T0, SEC(1)), 1);
    /* nobody asked for an hour: the first to ask probes at once */
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(3600), SEC(1)),
                     OJW_STORE_PROBE);
    ck_assert_int_eq(ojw_breaker_admit(&b, T0 + SEC(3600), SEC(1)),
                     OJW_STORE_REFUSE);
}
END_TEST

static ojw_breaker_t shared;
static volatile int probes;

static void *APR_THREAD_FUNC racer(apr_thread_t *t, void *data)
{
    int i;

    (void)t;
    (void)data;
    for (i = 0; i < 1000; i++) {
        if (ojw_breaker_admit(&shared, T0 + SEC(5), SEC(1))
            == OJW_STORE_PROBE) {
            __sync_fetch_and_add(&probes, 1);
        }
    }
    return NULL;
}

START_TEST(one_prober_among_racing_callers)
{
    apr_thread_t *t[8];
    apr_status_t st;
    int i;

    ojw_breaker_init(&shared);
    probes = 0;
    ck_assert_int_eq(ojw_breaker_report(&shared, 0, T0, SEC(1)), 1);
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(apr_thread_create(&t[i], NULL, racer, NULL,
                                           test_pool), APR_SUCCESS);
    }
    for (i = 0; i < 8; i++) {
        apr_thread_join(&st, t[i]);
    }
    ck_assert_int_eq(probes, 1);
}
END_TEST

Suite *breaker_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, down_then_one_probe_per_interval_then_up);
    tcase_add_test(tc, a_probe_late_after_a_long_outage);
    tcase_add_test(tc, one_prober_among_racing_callers);
    suite_add_tcase(s, tc);
    return s;
}
