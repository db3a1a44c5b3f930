/* SPDX-License-Identifier: Apache-2.0 */
/* What httpd's shmcb makes of a size (src/shmcb.c): the figures below
 * are those of httpd 2.4's mod_socache_shmcb.c on a 64-bit platform,
 * for 32-byte ids and 8-byte values (the DPoP replay store's). The
 * integration tests check them against a real shmcb. */
#include "unit.h"
#include "shmcb.h"

#define ID      32
#define VALUE   8

START_TEST(size_as_shmcb_reads_it)
{
    apr_size_t n;

    ck_assert(ojw_shmcb_size(&n, NULL) && n == OJW_SHMCB_DEFAULT_SIZE);
    ck_assert(ojw_shmcb_size(&n, "") && n == 524288);
    ck_assert(ojw_shmcb_size(&n, "/run/x") && n == 524288);
    ck_assert(ojw_shmcb_size(&n, "/run/x(8192)") && n == 8192);
    ck_assert(ojw_shmcb_size(&n, "rel/a(b)/x(4800000)") && n == 4800000);
    ck_assert(ojw_shmcb_size(&n, "(67108863)") && n == 67108863);
    /* what shmcb refuses */
    ck_assert(!ojw_shmcb_size(&n, "/run/x(8191)"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x(67108864)"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x(-1)"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x(8192"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x8192)"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x(8k)"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x()"));
    ck_assert(!ojw_shmcb_size(&n, "/run/x(99999999999999999999)"));
}
END_TEST

START_TEST(hints_cost_an_entry_whole)
{
    apr_size_t id, obj;

    ojw_shmcb_hints(&id, &obj, ID, VALUE);
    ck_assert_uint_eq(id, 32);
    ck_assert_uint_eq(obj, 8 + 24);         /* the value and its index */
}
END_TEST

/* The layouts measured before and after the hints were fixed. */
START_TEST(layouts_of_known_sizes)
{
    apr_size_t id, obj;
    ojw_shmcb_t l;

    /* hints of the id and value alone: the index entries take the room */
    ck_assert(ojw_shmcb_layout(&l, 8192, ID, VALUE, ID + VALUE));
    ck_assert_uint_eq(l.subcaches, 8);
    ck_assert_uint_eq(l.indexes, 25);
    ck_assert_uint_eq(l.data_size, 392);
    ck_assert_uint_eq(l.capacity, 9);       /* 72: what the test kept */
    ojw_shmcb_hints(&id, &obj, ID, VALUE);
    ck_assert(ojw_shmcb_layout(&l, 8192, id, obj, ID + VALUE));
    ck_assert_uint_eq(l.subcaches, 4);
    ck_assert_uint_eq(l.indexes, 31);
    ck_assert_uint_eq(l.capacity, 31);
    ck_assert_uint_eq(ojw_shmcb_total(&l), 124);
    ck_assert(ojw_shmcb_layout(&l, OJW_SHMCB_DEFAULT_SIZE, id, obj,
                               ID + VALUE));
    ck_assert_uint_eq(l.subcaches, 32);
    ck_assert_uint_eq(l.capacity, 255);
    ck_assert_uint_eq(ojw_shmcb_total(&l), 8160);
    ck_assert(ojw_shmcb_layout(&l, OJW_SHMCB_MAX_SIZE - 1, id, obj,
                               ID + VALUE));
    ck_assert_uint_eq(l.subcaches, 256);
    ck_assert_uint_eq(l.capacity, 4095);
    /* shmcb's own defaults when no hints are given */
    ck_assert(ojw_shmcb_layout(&l, 8192, 0, 0, ID + VALUE));
    ck_assert_uint_eq(l.subcaches, 4);
    ck_assert_uint_eq(l.indexes, 11);
}
END_TEST

/* No hints of any sum hold more than the ones ojw_shmcb_hints gives. */
START_TEST(the_hints_hold_the_most)
{
    static const apr_size_t sizes[] = { 8192, 65536, 524288, 4800000 };
    apr_size_t id, obj, o, i;
    ojw_shmcb_t best, l;

    ojw_shmcb_hints(&id, &obj, ID, VALUE);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        ck_assert(ojw_shmcb_layout(&best, sizes[i], id, obj, ID + VALUE));
        for (o = 1; o < 400; o++) {
            if (ojw_shmcb_layout(&l, sizes[i], id, o, ID + VALUE)) {
                ck_assert_uint_le(ojw_shmcb_total(&l),
                                  ojw_shmcb_total(&best));
            }
        }
    }
}
END_TEST

START_TEST(what_shmcb_refuses)
{
    ojw_shmcb_t l;

    ck_assert(!ojw_shmcb_layout(&l, 8191, ID, VALUE, ID + VALUE));
    ck_assert(!ojw_shmcb_layout(&l, OJW_SHMCB_MAX_SIZE, ID, VALUE, 40));
    ck_assert(!ojw_shmcb_layout(&l, 8192, ID, VALUE, 0));
    /* hints so large that shmcb finds fewer than 5 index entries */
    ck_assert(!ojw_shmcb_layout(&l, 8192, 1000, 1000, ID + VALUE));
    /* an entry larger than a subcache's data */
    ck_assert(!ojw_shmcb_layout(&l, 8192, ID, VALUE, 4096));
    ck_assert_uint_eq(l.capacity, 0);
}
END_TEST

/* Random ids fill one subcache first: the figure is below the total and
 * near what a simulation finds at its 5th percentile. */
START_TEST(expected_first_refusal)
{
    ojw_shmcb_t l = { 8192, 4, 31, 0, 31 };
    unsigned long e = ojw_shmcb_expected(&l);

    ck_assert(e >= 85 && e <= 95);          /* simulated p5 89, median 105 */
    l.subcaches = 32;
    l.capacity = 255;
    e = ojw_shmcb_expected(&l);
    ck_assert(e >= 6700 && e <= 7000);      /* simulated p5 6796 */
    l.subcaches = 1;
    l.capacity = 40;
    ck_assert_uint_eq(ojw_shmcb_expected(&l), 40);
}
END_TEST

START_TEST(size_for_a_load)
{
    apr_size_t id, obj, size = ojw_shmcb_size_for(6000, ID, VALUE);
    ojw_shmcb_t l;

    ojw_shmcb_hints(&id, &obj, ID, VALUE);
    ck_assert(size > 8192 && size <= OJW_SHMCB_DEFAULT_SIZE);
    ck_assert(ojw_shmcb_layout(&l, size, id, obj, ID + VALUE));
    ck_assert_uint_ge(ojw_shmcb_expected(&l), 6000);
    ck_assert(ojw_shmcb_layout(&l, size - 4096, id, obj, ID + VALUE));
    ck_assert_uint_lt(ojw_shmcb_expected(&l), 6000);
    ck_assert_uint_eq(ojw_shmcb_size_for(1, ID, VALUE), 8192);
    ck_assert_uint_eq(ojw_shmcb_size_for(10000000, ID, VALUE), 0);
}
END_TEST

Suite *shmcb_suite(void)
{
    Suite *s = suite_create("shmcb");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, size_as_shmcb_reads_it);
    tcase_add_test(tc, hints_cost_an_entry_whole);
    tcase_add_test(tc, layouts_of_known_sizes);
    tcase_add_test(tc, the_hints_hold_the_most);
    tcase_add_test(tc, what_shmcb_refuses);
    tcase_add_test(tc, expected_first_refusal);
    tcase_add_test(tc, size_for_a_load);
    suite_add_tcase(s, tc);
    return s;
}
