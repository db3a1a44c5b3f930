/* SPDX-License-Identifier: Apache-2.0 */
/* JWKS parsing and key policy. */
#include <string.h>
#include <apr_strings.h>
#include <cjose/base64.h>
#include <cjose/util.h>
#include "unit.h"
#include "jwks.h"

static int warnings;

static void count_note(void *baton, ojw_note_level_t level, int index,
                       const char *kid, const char *why)
{
    (void)baton;
    (void)index;
    (void)kid;
    (void)why;
    if (level == OJW_NOTE_WARN) {
        warnings++;
    }
}

static apr_status_t parse(const char *doc, ojw_keyset_t **ks, char *errbuf)
{
    warnings = 0;
    return ojw_jwks_parse(ks, doc, strlen(doc), test_pool, count_note, NULL,
                          errbuf, 256);
}

/* The RSA test key's public JWK as a JSON text with kid "k". */
static const char *rsa_jwk(void)
{
    cjose_jwk_t *k = test_rsa_key();
    const char *kid = "k";
    char *doc = test_jwks(test_pool, 1, &k, &kid);
    char *start = strchr(doc, '[') + 1;

    return apr_pstrmemdup(test_pool, start, strrchr(doc, ']') - start);
}

START_TEST(parses_rsa_and_ec)
{
    cjose_jwk_t *k[3] = { test_rsa_key(), test_ec_key(CJOSE_JWK_EC_P_256),
                          test_ec_key(CJOSE_JWK_EC_P_521) };
    const char *kids[3] = { "r", "e", NULL };
    ojw_keyset_t *ks;
    char errbuf[256];

    ck_assert_int_eq(parse(test_jwks(test_pool, 3, k, kids), &ks, errbuf),
                     APR_SUCCESS);
    ck_assert_int_eq(ks->nkeys, 3);
    ck_assert_int_eq(ojw_keyset_find(ks, "r")->bits, 2048);
    ck_assert_str_eq(ojw_keyset_find(ks, "e")->crv, "P-256");
    ck_assert_str_eq(ks->keys[2].crv, "P-521");
    ck_assert_ptr_null(ojw_keyset_find(ks, "x"));
}
END_TEST

START_TEST(refuses_document_shapes)
{
    ojw_keyset_t *ks;
    char errbuf[256];

    ck_assert_int_eq(parse("{\"keys\":[", &ks, errbuf), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "position"));
    ck_assert_int_eq(parse("<html>login</html>", &ks, errbuf), APR_EINVAL);
    ck_assert_int_eq(parse("{\"keys\":{}}", &ks, errbuf), APR_EINVAL);
    ck_assert_int_eq(parse("[]", &ks, errbuf), APR_EINVAL);
    ck_assert_int_eq(parse("{\"keys\":[]}", &ks, errbuf), APR_EINVAL);
    ck_assert_int_eq(parse("{\"keys\":[],\"keys\":[]}", &ks, errbuf),
                     APR_EINVAL);
    ck_assert_ptr_null(ks);
}
END_TEST

START_TEST(refuses_too_many_keys_and_duplicates)
{
    const char *jwk = rsa_jwk();
    char *doc = apr_pstrdup(test_pool, "{\"keys\":[");
    ojw_keyset_t *ks;
    char errbuf[256];
    int i;

    for (i = 0; i <= OJW_JWKS_MAX_KEYS; i++) {
        doc = apr_pstrcat(test_pool, doc, i ? "," : "", jwk, NULL);
    }
    doc = apr_pstrcat(test_pool, doc, "]}", NULL);
    ck_assert_int_eq(parse(doc, &ks, errbuf), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "more than the limit"));
    doc = apr_pstrcat(test_pool, "{\"keys\":[", jwk, ",", jwk, "]}", NULL);
    ck_assert_int_eq(parse(doc, &ks, errbuf), APR_EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "several keys with kid"));
}
END_TEST

/* A doc with the RSA key plus one extra JWK; returns warnings seen. */
static int extra_key_skipped(const char *extra)
{
    ojw_keyset_t *ks;
    char errbuf[256];
    char *doc = apr_pstrcat(test_pool, "{\"keys\":[", rsa_jwk(), ",", extra,
                            "]}", NULL);

    ck_assert_msg(parse(doc, &ks, errbuf) == APR_SUCCESS, "%s", errbuf);
    ck_assert_msg(ks->nkeys == 1, "key was not skipped: %s", extra);
    return warnings;
}

START_TEST(skips_unusable_keys)
{
    cjose_err err;
    cjose_jwk_t *weak = cjose_jwk_create_RSA_random(1024, NULL, 0, &err);
    cjose_jwk_t *k = test_ec_key(CJOSE_JWK_EC_P_256);
    char *weakdoc = test_jwks(test_pool, 1, &weak, NULL);
    char *ecdoc = test_jwks(test_pool, 1, &k, NULL);
    char *ec = apr_pstrmemdup(test_pool, strchr(ecdoc, '[') + 1,
                              strrchr(ecdoc, ']') - strchr(ecdoc, '[') - 1);
    char *p;

    weakdoc[strlen(weakdoc) - 2] = '\0';
    ck_assert_int_eq(extra_key_skipped(strchr(weakdoc, '[') + 1), 1);
    cjose_jwk_release(weak);
    ck_assert_int_eq(extra_key_skipped("{\"kty\":\"oct\",\"k\":\"AAAA\"}"), 1);
    ck_assert_int_eq(extra_key_skipped("{\"n\":\"AAAA\",\"e\":\"AQAB\"}"), 1);
    ck_assert_int_eq(extra_key_skipped("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                                       "\"x\":\"AAAA\"}"), 0);
    ck_assert_int_eq(extra_key_skipped("{\"kty\":\"EC\",\"crv\":\"P-256K\","
                                       "\"x\":\"AAAA\",\"y\":\"AAAA\"}"), 1);
    ck_assert_int_eq(extra_key_skipped("[]"), 1);
    /* enc keys and key_ops without verify: skipped quietly */
    ck_assert_int_eq(extra_key_skipped(apr_pstrcat(test_pool, "{\"use\":\"enc\",",
                                                   ec + 1, NULL)), 0);
    ck_assert_int_eq(extra_key_skipped(apr_pstrcat(test_pool,
                                                   "{\"key_ops\":[\"sign\"],",
                                                   ec + 1, NULL)), 0);
    /* private material, wrong alg for the curve */
    ck_assert_int_eq(extra_key_skipped(apr_pstrcat(test_pool, "{\"d\":\"AAAA\",",
                                                   ec + 1, NULL)), 1);
    ck_assert_int_eq(extra_key_skipped(apr_pstrcat(test_pool,
                                                   "{\"alg\":\"ES384\",",
                                                   ec + 1, NULL)), 1);
    ck_assert_int_eq(extra_key_skipped(apr_pstrcat(test_pool,
                                                   "{\"alg\":\"HS256\",",
                                                   ec + 1, NULL)), 0);
    /* a point not on the curve: flip a bit of x */
    p = strstr(ec, "\"x\":\"") + 5;
    *p = *p == 'A' ? 'B' : 'A';
    ck_assert_int_eq(extra_key_skipped(ec), 1);
}
END_TEST

START_TEST(rsa_exponent_policy)
{
    const char *jwk = rsa_jwk();
    ojw_keyset_t *ks;
    char errbuf[256];
    char *e1 = apr_pstrdup(test_pool, jwk), *e2;
    char *at = strstr(e1, "\"e\":\"AQAB\"");

    ck_assert_ptr_nonnull(at);
    memcpy(at, "\"e\":\"AQ==\"", 10);        /* padded: not canonical */
    ck_assert_int_eq(extra_key_skipped(e1), 1);
    e2 = apr_pstrdup(test_pool, jwk);
    at = strstr(e2, "\"e\":\"AQAB\"");
    memcpy(at, "\"e\":\"AAAB\"", 10);        /* e = 1 */
    ck_assert_int_eq(extra_key_skipped(e2), 1);
    e2 = apr_pstrdup(test_pool, jwk);
    at = strstr(e2, "\"e\":\"AQAB\"");
    memcpy(at, "\"e\":\"AQAC\"", 10);        /* even */
    ck_assert_int_eq(extra_key_skipped(e2), 1);
    /* issue 11: 2^32 + 1 (33 bits) costs CPU and no real key uses it */
    e2 = apr_pstrdup(test_pool, jwk);
    at = strstr(e2, "\"e\":\"AQAB\"");
    e2 = apr_pstrcat(test_pool, apr_pstrndup(test_pool, e2, at - e2),
                     "\"e\":\"AQAAAAE\"", at + 10, NULL);
    ck_assert_int_eq(extra_key_skipped(e2), 1);
    /* 2^31 + 1 (32 bits) is still a key */
    e2 = apr_pstrdup(test_pool, jwk);
    at = strstr(e2, "\"e\":\"AQAB\"");
    e2 = apr_pstrcat(test_pool, "{\"keys\":[",
                     apr_pstrndup(test_pool, e2, at - e2),
                     "\"e\":\"gAAAAQ\"", at + 10, "]}", NULL);
    ck_assert_int_eq(parse(e2, &ks, errbuf), APR_SUCCESS);
    ck_assert_int_eq(ks->nkeys, 1);
}
END_TEST

/* issue 11: a modulus above 8192 bits is no key anyone uses; refused
 * before any arithmetic (the modulus here is not even a real one). */
START_TEST(rsa_modulus_bound)
{
    unsigned char n[1025];
    char *b64 = NULL;
    size_t b64len = 0;
    cjose_err cerr;

    memset(n, 0xa5, sizeof(n));
    n[0] = 0x01;                            /* 8193 bits */
    ck_assert(cjose_base64url_encode(n, sizeof(n), &b64, &b64len, &cerr));
    ck_assert_int_eq(extra_key_skipped(apr_psprintf(test_pool, "{\"kty\":"
                     "\"RSA\",\"kid\":\"big\",\"e\":\"AQAB\",\"n\":\"%.*s\"}",
                     (int)b64len, b64)), 1);
    cjose_get_dealloc()(b64);
}
END_TEST

START_TEST(alg_table)
{
    ojw_key_t ec = { "e", OJW_KTY_EC, 256, "P-256", NULL, NULL, NULL };
    ojw_key_t rsa = { "r", OJW_KTY_RSA, 2048, NULL, "RS256", NULL, NULL };
    char why[160];

    ck_assert_ptr_null(ojw_alg_find("none"));
    ck_assert_ptr_null(ojw_alg_find("HS256"));
    ck_assert_ptr_null(ojw_alg_find("es256"));
    ck_assert(ojw_key_fits_alg(&ec, ojw_alg_find("ES256"), why, sizeof(why)));
    ck_assert(!ojw_key_fits_alg(&ec, ojw_alg_find("ES384"), why, sizeof(why)));
    ck_assert(!ojw_key_fits_alg(&ec, ojw_alg_find("RS256"), why, sizeof(why)));
    ck_assert(ojw_key_fits_alg(&rsa, ojw_alg_find("RS256"), why, sizeof(why)));
    ck_assert(!ojw_key_fits_alg(&rsa, ojw_alg_find("PS256"), why, sizeof(why)));
}
END_TEST

Suite *jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, parses_rsa_and_ec);
    tcase_add_test(tc, refuses_document_shapes);
    tcase_add_test(tc, refuses_too_many_keys_and_duplicates);
    tcase_add_test(tc, skips_unusable_keys);
    tcase_add_test(tc, rsa_exponent_policy);
    tcase_add_test(tc, rsa_modulus_bound);
    tcase_add_test(tc, alg_table);
    suite_add_tcase(s, tc);
    return s;
}
