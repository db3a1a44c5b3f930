/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless DPoP nonces: made, judged, peeked at in a proof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <apr_strings.h>
#include "unit.h"
#include "dpop_nonce.h"

#define NOW 1800000000LL

static void key_of(ojw_nonce_key_t *k, char fill)
{
    char bytes[32];

    memset(bytes, fill, sizeof(bytes));
    ck_assert_ptr_null(ojw_nonce_key_set(k, bytes, sizeof(bytes)));
}

START_TEST(a_nonce_is_good_for_its_lifetime)
{
    ojw_nonce_key_t k;
    const char *n;
    long age;

    key_of(&k, 'a');
    n = ojw_nonce_make(&k, NOW, test_pool);
    ck_assert_ptr_nonnull(n);
    ck_assert_uint_eq(strlen(n), OJW_NONCE_LEN);
    ck_assert_int_eq(ojw_nonce_check(&k, n, NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_GOOD);
    ck_assert_int_eq(age, 0);
    ck_assert_int_eq(ojw_nonce_check(&k, n, NOW + 300, 300, 0, &age,
                                     test_pool), OJW_NONCE_GOOD);
    ck_assert_int_eq(age, 300);
    ck_assert_int_eq(ojw_nonce_check(&k, n, NOW + 301, 300, 0, &age,
                                     test_pool), OJW_NONCE_STALE);
    /* made "in the future" by a server whose clock runs ahead */
    ck_assert_int_eq(ojw_nonce_check(&k, n, NOW - 5, 300, 5, &age,
                                     test_pool), OJW_NONCE_GOOD);
    ck_assert_int_eq(ojw_nonce_check(&k, n, NOW - 6, 300, 5, &age,
                                     test_pool), OJW_NONCE_STALE);
    ck_assert_int_eq(ojw_nonce_check(&k, NULL, NOW, 300, 0, &age,
                                     test_pool), OJW_NONCE_ABSENT);
}
END_TEST

START_TEST(a_nonce_of_another_key_or_altered_is_forged)
{
    ojw_nonce_key_t k, other;
    const char *n;
    char *bad;
    long age;

    key_of(&k, 'a');
    key_of(&other, 'b');
    n = ojw_nonce_make(&k, NOW, test_pool);
    ck_assert_int_eq(ojw_nonce_check(&other, n, NOW, 300, 0, &age,
                                     test_pool), OJW_NONCE_FORGED);
    bad = apr_pstrdup(test_pool, n);
    bad[OJW_NONCE_LEN - 1] = bad[OJW_NONCE_LEN - 1] == 'A' ? 'Q' : 'A';
    ck_assert_int_eq(ojw_nonce_check(&k, bad, NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
    /* the time changed, the MAC kept: forged, not stale */
    bad = apr_pstrdup(test_pool, n);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(ojw_nonce_check(&k, bad, NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
    ck_assert_int_eq(ojw_nonce_check(&k, "", NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
    ck_assert_int_eq(ojw_nonce_check(&k, "abc", NOW, 300, 0, &age,
                                     test_pool), OJW_NONCE_FORGED);
    ck_assert_int_eq(ojw_nonce_check(&k, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
                                     NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
    ck_assert_int_eq(ojw_nonce_check(&k, apr_pstrcat(test_pool, n, "A",
                                                     NULL),
                                     NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
}
END_TEST

START_TEST(keys_are_long_enough)
{
    ojw_nonce_key_t k, r1, r2;
    char big[OJW_NONCE_KEY_MAX + 1];
    long age;

    memset(big, 'x', sizeof(big));
    ck_assert_ptr_nonnull(ojw_nonce_key_set(&k, big, 31));
    ck_assert_uint_eq(k.len, 0);
    ck_assert_ptr_null(ojw_nonce_make(&k, NOW, test_pool));
    ck_assert_ptr_nonnull(ojw_nonce_key_set(&k, big, sizeof(big)));
    ck_assert_ptr_null(ojw_nonce_key_set(&k, big, OJW_NONCE_KEY_MAX));
    ck_assert_int_eq(ojw_nonce_key_random(&r1), APR_SUCCESS);
    ck_assert_int_eq(ojw_nonce_key_random(&r2), APR_SUCCESS);
    ck_assert_int_eq(ojw_nonce_check(&r2, ojw_nonce_make(&r1, NOW, test_pool),
                                     NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_FORGED);
}
END_TEST

START_TEST(renewal_after_half_the_lifetime)
{
    ck_assert(!ojw_nonce_renew(0, 300));
    ck_assert(!ojw_nonce_renew(150, 300));
    ck_assert(ojw_nonce_renew(151, 300));
}
END_TEST

static char *proof(const char *payload)
{
    return test_sign(test_pool, test_ec_key(CJOSE_JWK_EC_P_256),
                     "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}", payload);
}

START_TEST(the_nonce_is_read_before_any_signature)
{
    const char *nonce = "x";
    char *p;
    ojw_error_t err;

    p = proof("{\"jti\":\"1\",\"nonce\":\"abc\"}");
    ck_assert_int_eq(ojw_nonce_peek(&nonce, p, strlen(p), test_pool, &err),
                     OJW_OK);
    ck_assert_str_eq(nonce, "abc");
    p = proof("{\"jti\":\"1\"}");
    ck_assert_int_eq(ojw_nonce_peek(&nonce, p, strlen(p), test_pool, &err),
                     OJW_OK);
    ck_assert_ptr_null(nonce);
    p = proof("{\"nonce\":42}");
    ck_assert_int_eq(ojw_nonce_peek(&nonce, p, strlen(p), test_pool, &err),
                     OJW_ERR_DPOP_PROOF);
    p = proof("{\"nonce\":\"a\",\"nonce\":\"b\"}");
    ck_assert_int_eq(ojw_nonce_peek(&nonce, p, strlen(p), test_pool, &err),
                     OJW_ERR_DPOP_PROOF);
    ck_assert_int_eq(ojw_nonce_peek(&nonce, "a.b", 3, test_pool, &err),
                     OJW_ERR_DPOP_PROOF);
}
END_TEST

START_TEST(the_judgement_says_why)
{
    ojw_nonce_key_t k;
    ojw_nonce_policy_t pol = { NULL, 300, 5, NOW };
    const char *n;
    char *p;
    long age = 7;
    ojw_error_t err;

    key_of(&k, 'a');
    pol.key = &k;
    n = ojw_nonce_make(&k, NOW - 10, test_pool);
    p = proof(apr_psprintf(test_pool, "{\"nonce\":\"%s\"}", n));
    ck_assert_int_eq(ojw_nonce_require(&age, p, strlen(p), &pol, test_pool,
                                       &err), OJW_OK);
    ck_assert_int_eq(age, 10);
    p = proof("{\"jti\":\"1\"}");
    ck_assert_int_eq(ojw_nonce_require(&age, p, strlen(p), &pol, test_pool,
                                       &err), OJW_ERR_DPOP_NONCE);
    ck_assert(strstr(err.detail, "no nonce") != NULL);
    p = proof(apr_psprintf(test_pool, "{\"nonce\":\"%s\"}",
                           ojw_nonce_make(&k, NOW + 60, test_pool)));
    ck_assert_int_eq(ojw_nonce_require(&age, p, strlen(p), &pol, test_pool,
                                       &err), OJW_ERR_DPOP_NONCE);
    ck_assert_int_eq(age, -60);
    ck_assert(strstr(err.detail, "60 s in the future (skew 5 s)") != NULL);
    p = proof("{\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
    ck_assert_int_eq(ojw_nonce_require(&age, p, strlen(p), &pol, test_pool,
                                       &err), OJW_ERR_DPOP_NONCE);
    ck_assert(strstr(err.detail, "not issued with this server's") != NULL);
    ck_assert_int_eq(ojw_nonce_require(&age, "x.y", 3, &pol, test_pool,
                                       &err), OJW_ERR_DPOP_PROOF);
    /* no key: nothing is good (a module without its key fails closed) */
    pol.key = NULL;
    p = proof(apr_psprintf(test_pool, "{\"nonce\":\"%s\"}", n));
    ck_assert_int_eq(ojw_nonce_require(&age, p, strlen(p), &pol, test_pool,
                                       &err), OJW_ERR_DPOP_NONCE);
    ck_assert_ptr_null(ojw_nonce_make(NULL, NOW, test_pool));
}
END_TEST

/* Ages of nonces made with the key for absurd times stay bounded. */
START_TEST(absurd_times_are_stale)
{
    ojw_nonce_key_t k;
    long age;

    key_of(&k, 'a');
    ck_assert_int_eq(ojw_nonce_check(&k, ojw_nonce_make(&k, -1, test_pool),
                                     NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_STALE);
    ck_assert(age > 0);
    ck_assert_int_eq(ojw_nonce_check(&k, ojw_nonce_make(&k, 0x7fffffffffffffffLL,
                                                        test_pool),
                                     NOW, 300, 0, &age, test_pool),
                     OJW_NONCE_STALE);
    ck_assert(age < 0);
    ck_assert(!ojw_nonce_renew(age, 300));
}
END_TEST

START_TEST(key_files)
{
    char *dir = apr_pstrdup(test_pool, "/tmp/ojw-nonce-XXXXXX");
    const char *path;
    ojw_nonce_key_t k;
    char bytes[40];
    long age;
    int shared = -1;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    memset(bytes, 'z', sizeof(bytes));
    path = apr_pstrcat(test_pool, dir, "/k", NULL);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, 40, f), 40);
    fclose(f);
    chmod(path, 0600);
    ck_assert_ptr_null(ojw_nonce_key_read(&k, path, &shared, test_pool));
    ck_assert_uint_eq(k.len, 40);
    ck_assert_int_eq(shared, 0);
    chmod(path, 0644);
    ck_assert_ptr_null(ojw_nonce_key_read(&k, path, &shared, test_pool));
    ck_assert_int_eq(shared, 1);
    /* the same bytes are the same key: a fleet */
    {
        ojw_nonce_key_t same;

        ck_assert_ptr_null(ojw_nonce_key_set(&same, bytes, 40));
        ck_assert_int_eq(ojw_nonce_check(&same, ojw_nonce_make(&k, NOW,
                                                               test_pool),
                                         NOW, 300, 0, &age, test_pool),
                         OJW_NONCE_GOOD);
    }
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(bytes, 1, 31, f), 31);
    fclose(f);
    ck_assert(strstr(ojw_nonce_key_read(&k, path, &shared, test_pool),
                     "at least 32 bytes") != NULL);
    ck_assert_uint_eq(k.len, 0);
    ck_assert(strstr(ojw_nonce_key_read(&k, dir, &shared, test_pool),
                     "not a regular file") != NULL);
    ck_assert(strstr(ojw_nonce_key_read(&k, "/nonexistent/k", &shared,
                                        test_pool), "cannot be read") != NULL);
    unlink(path);
    rmdir(dir);
    ck_assert_ptr_null(ojw_nonce_key_set(&k, bytes, 32));
    ojw_nonce_key_wipe(&k);
    ck_assert_uint_eq(k.len, 0);
    ck_assert_int_eq(k.key[0], 0);
}
END_TEST

Suite *dpop_nonce_suite(void)
{
    Suite *s = suite_create("dpop_nonce");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, a_nonce_is_good_for_its_lifetime);
    tcase_add_test(tc, a_nonce_of_another_key_or_altered_is_forged);
    tcase_add_test(tc, keys_are_long_enough);
    tcase_add_test(tc, renewal_after_half_the_lifetime);
    tcase_add_test(tc, the_nonce_is_read_before_any_signature);
    tcase_add_test(tc, the_judgement_says_why);
    tcase_add_test(tc, absurd_times_are_stale);
    tcase_add_test(tc, key_files);
    suite_add_tcase(s, tc);
    return s;
}
