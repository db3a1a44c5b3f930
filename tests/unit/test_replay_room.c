/* SPDX-License-Identifier: Apache-2.0 */
/* Room in a store that drops its oldest entries (src/replay_room.c),
 * against a plain model of a shmcb subcache: entries kept in the order
 * stored, the expired ones at the head reclaimed before a store, the
 * oldest dropped when the subcache is full. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "replay_room.h"

#define SEC(n) apr_time_from_sec(n)
#define T0 SEC(1000000)

static ojw_room_t *room(unsigned int buckets, unsigned int capacity)
{
    apr_size_t size = ojw_room_size(buckets, capacity);

    ck_assert_uint_gt(size, 0);
    return ojw_room_init(apr_palloc(test_pool, size), buckets, capacity);
}

START_TEST(figures_refused)
{
    char mem[4096];

    ck_assert_uint_eq(ojw_room_size(0, 1), 0);
    ck_assert_uint_eq(ojw_room_size(3, 1), 0);
    ck_assert_uint_eq(ojw_room_size(512, 1), 0);
    ck_assert_uint_eq(ojw_room_size(4, 0), 0);
    ck_assert_uint_eq(ojw_room_size(256, OJW_ROOM_MAX_CAPACITY + 1), 0);
    ck_assert_uint_gt(ojw_room_size(256, OJW_ROOM_MAX_CAPACITY), 0);
    ck_assert_ptr_null(ojw_room_init(mem, 6, 4));
    ck_assert_ptr_null(ojw_room_init(NULL, 4, 4));
    ck_assert_ptr_nonnull(ojw_room_init(mem, 4, 4));
}
END_TEST

/* A bucket of N takes N within one window, refuses the next until the
 * oldest expires, and says when that is. */
START_TEST(n_then_refused_until_one_expires)
{
    ojw_room_t *r = room(4, 3);
    apr_time_t at = 0;

    ck_assert(ojw_room_take(r, 0x00, T0 + SEC(60), T0, &at));
    ck_assert(ojw_room_take(r, 0x04, T0 + SEC(61), T0, &at));
    ck_assert(ojw_room_take(r, 0xf8, T0 + SEC(62), T0 + SEC(1), &at));
    ck_assert_uint_eq(ojw_room_held(r, 0x00), 3);
    ck_assert(!ojw_room_take(r, 0x00, T0 + SEC(63), T0 + SEC(2), &at));
    ck_assert_int_eq(at, T0 + SEC(60));
    /* the other buckets are not full */
    ck_assert(ojw_room_take(r, 0x01, T0 + SEC(63), T0 + SEC(2), &at));
    ck_assert(ojw_room_take(r, 0xff, T0 + SEC(63), T0 + SEC(2), &at));
    ck_assert_uint_eq(ojw_room_held(r, 0x03), 1);
    /* still refused the microsecond before, taken at expiry */
    ck_assert(!ojw_room_take(r, 0x00, T0 + SEC(70), T0 + SEC(60) - 1, &at));
    ck_assert(ojw_room_take(r, 0x00, T0 + SEC(70), T0 + SEC(60), &at));
    ck_assert(!ojw_room_take(r, 0x00, T0 + SEC(70), T0 + SEC(60), &at));
    ck_assert_int_eq(at, T0 + SEC(61));
    /* all expired: the whole bucket again */
    ck_assert(ojw_room_take(r, 0x00, T0 + SEC(90), T0 + SEC(80), &at));
    ck_assert_uint_eq(ojw_room_held(r, 0x00), 1);
}
END_TEST

/* An expired entry behind a live one still takes room, as in shmcb. */
START_TEST(expired_behind_a_live_head_counts)
{
    ojw_room_t *r = room(1, 3);
    apr_time_t at = 0;

    ck_assert(ojw_room_take(r, 7, T0 + SEC(120), T0, &at));
    ck_assert(ojw_room_take(r, 7, T0 + SEC(5), T0, &at));
    ck_assert(ojw_room_take(r, 7, T0 + SEC(5), T0, &at));
    ck_assert(!ojw_room_take(r, 7, T0 + SEC(130), T0 + SEC(10), &at));
    ck_assert_int_eq(at, T0 + SEC(120));
    ck_assert(ojw_room_take(r, 7, T0 + SEC(130), T0 + SEC(120), &at));
    ck_assert_uint_eq(ojw_room_held(r, 7), 1);
}
END_TEST

START_TEST(log_once_per_interval)
{
    ojw_room_t *r = room(1, 1);

    ck_assert(ojw_room_log_due(r, T0, SEC(60)));
    ck_assert(!ojw_room_log_due(r, T0 + SEC(59), SEC(60)));
    ck_assert(ojw_room_log_due(r, T0 + SEC(60), SEC(60)));
    /* a clock set back does not silence it */
    ck_assert(ojw_room_log_due(r, T0, SEC(60)));
}
END_TEST

/* The model: one subcache as shmcb keeps it. */
#define MODEL_MAX 64
typedef struct {
    apr_time_t expiry[MODEL_MAX];   /* in the order stored */
    unsigned int n;
} subcache_t;

static void model_reclaim(subcache_t *s, apr_time_t now)
{
    unsigned int k = 0;

    while (k < s->n && s->expiry[k] <= now) {
        k++;
    }
    memmove(s->expiry, s->expiry + k, (s->n - k) * sizeof(apr_time_t));
    s->n -= k;
}

/* Stores; returns how many live entries the store dropped for it. */
static int model_store(subcache_t *s, unsigned int capacity,
                       apr_time_t expiry, apr_time_t now)
{
    int dropped = 0;

    model_reclaim(s, now);
    if (s->n == capacity) {
        dropped = s->expiry[0] > now;
        memmove(s->expiry, s->expiry + 1, (s->n - 1) * sizeof(apr_time_t));
        s->n--;
    }
    s->expiry[s->n++] = expiry;
    return dropped;
}

/* Random proofs, expiries out of order: the room never lets the model
 * drop a live entry, and refuses only when the model would. */
START_TEST(exact_against_the_model)
{
    const unsigned int buckets = 8, capacity = 13;
    ojw_room_t *r = room(buckets, capacity);
    subcache_t model[8];
    apr_time_t now = T0, at;
    unsigned int i, taken = 0, refused = 0;

    memset(model, 0, sizeof(model));
    srand(20);
    for (i = 0; i < 200000; i++) {
        unsigned char first = (unsigned char)rand();
        subcache_t *s = &model[first & (buckets - 1)];
        apr_time_t expiry = now + SEC(1 + rand() % 120);

        now += rand() % 3 == 0 ? rand() % SEC(2) : 0;
        if (ojw_room_take(r, first, expiry, now, &at)) {
            ck_assert_int_eq(model_store(s, capacity, expiry, now), 0);
            taken++;
            continue;
        }
        model_reclaim(s, now);
        ck_assert_uint_eq(s->n, capacity);
        ck_assert_int_eq(at, s->expiry[0]);
        ck_assert_int_gt(at, now);
        refused++;
    }
    ck_assert_uint_gt(taken, 1000);
    ck_assert_uint_gt(refused, 1000);
}
END_TEST

Suite *replay_room_suite(void)
{
    Suite *s = suite_create("replay_room");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, figures_refused);
    tcase_add_test(tc, n_then_refused_until_one_expires);
    tcase_add_test(tc, expired_behind_a_live_head_counts);
    tcase_add_test(tc, log_once_per_interval);
    tcase_add_test(tc, exact_against_the_model);
    suite_add_tcase(s, tc);
    return s;
}
