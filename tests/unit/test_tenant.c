/* SPDX-License-Identifier: Apache-2.0 */
/* Issuer templates, tenant ids, tenants lists and files, the key issuer
 * rule (src/tenant.c), as the claim check and a location's profile set
 * use them. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include "unit.h"
#include "tenant.h"
#include "claims.h"
#include "profile.h"
#include "jwks.h"

#define TID_A   "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define TID_B   "9188040d-6c67-4c5b-b112-36a304b66dad"
#define TID_C   "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define ENTRA   "https://login.microsoftonline.com/{tid}/v2.0"
#define ENTRA_K "https://login.microsoftonline.com/{tenantid}/v2.0"
#define ISS_A   "https://login.microsoftonline.com/" TID_A "/v2.0"
#define ISS_B   "https://login.microsoftonline.com/" TID_B "/v2.0"
#define NOW     1700000000LL

START_TEST(placeholders)
{
    size_t at = 0, len = 0;

    ck_assert_int_eq(ojw_issuer_placeholder("https://i/", &at, &len), 0);
    ck_assert_int_eq(ojw_issuer_placeholder(ENTRA, &at, &len), 1);
    ck_assert_uint_eq(at, strlen("https://login.microsoftonline.com/"));
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(ojw_issuer_placeholder(ENTRA_K, &at, &len), 1);
    ck_assert_uint_eq(len, 10);
    ck_assert_int_eq(ojw_issuer_placeholder("https://x/{tid}/{tid}", &at,
                                            &len), -1);
    ck_assert_int_eq(ojw_issuer_placeholder("https://x/{tid}/{tenantid}",
                                            &at, &len), -1);
    /* other braces are text */
    ck_assert_int_eq(ojw_issuer_placeholder("https://x/{TID}/{t}/{", &at,
                                            &len), 0);
    ck_assert_int_eq(ojw_issuer_placeholder(NULL, &at, &len), 0);
}
END_TEST

/* A tenant id is the canonical lower-case GUID and nothing else. */
START_TEST(guid_strictly)
{
    static const char *const bad[] = {
        "", TID_A "x", "x" TID_A, "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
        "72f988bf86f141af91ab2d7cd011db47",
        "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
        "72f988bf-86f1-41af-91ab-2d7cd011db4",
        "72f988bf-86f1-41af-91ab2-d7cd011db47",
        "72f988bg-86f1-41af-91ab-2d7cd011db47",
        "72f988bf-86f1-41af-91ab-2d7cd011db4 ",
        "72f988bf 86f1-41af-91ab-2d7cd011db47",
        "common", "organizations", NULL
    };
    int i;

    ck_assert(ojw_tid_valid(TID_A));
    ck_assert(ojw_tid_valid("00000000-0000-0000-0000-000000000000"));
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(!ojw_tid_valid(bad[i]), "accepted %s", bad[i]);
    }
    ck_assert(!ojw_tid_valid(NULL));
}
END_TEST

START_TEST(template_rules)
{
    apr_pool_t *p = test_pool;

    ck_assert(ojw_issuer_matches(ENTRA, ISS_A, TID_A));
    ck_assert(ojw_issuer_matches(ENTRA_K, ISS_A, TID_A));
    ck_assert(!ojw_issuer_matches(ENTRA, ISS_A, TID_B));
    ck_assert(!ojw_issuer_matches(ENTRA, ISS_A, NULL));
    ck_assert(!ojw_issuer_matches(ENTRA, ISS_A "/", TID_A));
    ck_assert(!ojw_issuer_matches(ENTRA, "https://login.microsoftonline.com/"
                                  TID_A "/v2.", TID_A));
    ck_assert(!ojw_issuer_matches(ENTRA, ENTRA, TID_A));
    ck_assert(ojw_issuer_matches("https://i/", "https://i/", NULL));
    ck_assert(!ojw_issuer_matches("https://i/", "https://i", TID_A));
    ck_assert(ojw_issuer_fits(ENTRA, ISS_B));
    ck_assert(ojw_issuer_fits(ENTRA, "https://login.microsoftonline.com/x"
                              "/v2.0"));
    ck_assert(!ojw_issuer_fits(ENTRA, "https://login.microsoftonline.com/"
                               "/v2.0"));
    ck_assert(!ojw_issuer_fits(ENTRA, "https://login.microsoftonline.com/a/"
                               "b/v2.0"));
    ck_assert(!ojw_issuer_fits(ENTRA, "https://sts.windows.net/" TID_A "/"));
    ck_assert(!ojw_issuer_fits(ENTRA, "https://login.microsoftonline.com/"
                               "v2.0"));
    ck_assert(ojw_issuer_same(ENTRA, ENTRA_K));
    ck_assert(!ojw_issuer_same(ENTRA, ISS_A));
    ck_assert(!ojw_issuer_same(ENTRA, ENTRA "/"));
    ck_assert(ojw_issuer_same("https://i/", "https://i/"));
    ck_assert_str_eq(ojw_issuer_canonical(ENTRA_K, p), ENTRA);
    ck_assert_str_eq(ojw_issuer_fill(ENTRA_K, TID_A, p), ISS_A);
    ck_assert_str_eq(ojw_issuer_fill("https://i/", TID_A, p), "https://i/");
}
END_TEST

static ojw_tenants_t *tenants(const char *text, const char **err)
{
    ojw_tenants_t *t = NULL;

    *err = ojw_tenants_parse(&t, text, strlen(text), test_pool);
    ck_assert((t == NULL) == (*err != NULL));
    return t;
}

START_TEST(tenants_list)
{
    const char *err;
    ojw_tenants_t *t = tenants(TID_A "," TID_B, &err);

    ck_assert_int_eq(t->count, 2);
    ck_assert(ojw_tenants_has(t, TID_A));
    ck_assert(ojw_tenants_has(t, TID_B));
    ck_assert(!ojw_tenants_has(t, TID_C));
    ck_assert(!ojw_tenants_has(t, NULL));
    ck_assert(!ojw_tenants_has(NULL, TID_A));
    /* upper case in the list is kept in lower case */
    t = tenants("72F988BF-86F1-41AF-91AB-2D7CD011DB47", &err);
    ck_assert(ojw_tenants_has(t, TID_A));
    /* a file's form: lines, comments, blanks, commas */
    t = tenants("# our customers\n" TID_A "  # contoso\n\n\t" TID_B ",\r\n"
                "#" TID_C "\n", &err);
    ck_assert_int_eq(t->count, 2);
    ck_assert(!ojw_tenants_has(t, TID_C));
    ck_assert_ptr_null(tenants("", &err));
    ck_assert_str_eq(err, "no tenant id in the list");
    ck_assert_ptr_null(tenants(" ,# only a comment\n", &err));
    ck_assert_ptr_null(tenants(TID_A ",common", &err));
    ck_assert_ptr_nonnull(strstr(err, "\"common\" is not a tenant id"));
    ck_assert_ptr_null(tenants(TID_A "\n\n" TID_B "x\n", &err));
    ck_assert_str_eq(err, "line 3: \"" TID_B "x\" is not a tenant id (a "
                     "GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47)");
    ck_assert_ptr_null(tenants(TID_A "\n72F988BF-86F1-41AF-91AB-2D7CD011DB47",
                               &err));
    ck_assert_str_eq(err, "line 2: tenant " TID_A " is listed twice");
    ck_assert_ptr_null(tenants(TID_A ";" TID_B, &err));
    /* a NUL byte is not a separator */
    ck_assert_ptr_nonnull(ojw_tenants_parse(&t, TID_A "\0" TID_B,
                                         2 * OJW_TID_LEN + 1, test_pool));
}
END_TEST

/* A file of the given text in the test directory, its path. */
static const char *write_file(const char *name, const char *text, size_t n)
{
    const char *path = apr_psprintf(test_pool, "/tmp/ojw-unit-%ld-%s",
                                     (long)getpid(), name);
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    fclose(f);
    return path;
}

static ojw_profile_t *parse(const char *args, const char **err)
{
    *err = NULL;
    return ojw_profile_parse(args, test_pool, err);
}

START_TEST(profile_keys)
{
    const char *err, *path;
    ojw_profile_t *p;
    char *big;

    p = parse("e issuer=" ENTRA " audience=api://app jwk_url=https://k/ "
              "tenants=" TID_A "," TID_B, &err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->tenants->count, 2);
    ck_assert_ptr_null(p->tenants->file);
    p = parse("e issuer=" ENTRA " audience=a jwk_url=https://k/", &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(p->tenants);
    path = write_file("tenants", "# tenants\n" TID_A "\n" TID_B "\n",
                      strlen("# tenants\n") + 2 * (OJW_TID_LEN + 1));
    p = parse(apr_psprintf(test_pool, "e issuer=" ENTRA_K " audience=a "
                           "jwk_url=https://k/ tenants=@%s", path), &err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->tenants->count, 2);
    ck_assert_str_eq(p->tenants->file, path);
    remove(path);
    ck_assert_ptr_null(parse(apr_psprintf(test_pool, "e issuer=" ENTRA
                             " audience=a jwk_url=https://k/ tenants=@%s",
                             path), &err));
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    ck_assert_ptr_null(parse("e issuer=" ENTRA " audience=a jwk_url=https://k/"
                             " tenants=@tenants.txt", &err));
    ck_assert_ptr_nonnull(strstr(err, "absolute path"));
    big = apr_palloc(test_pool, OJW_TENANTS_FILE_MAX + 1);
    memset(big, ' ', OJW_TENANTS_FILE_MAX + 1);
    path = write_file("big", big, OJW_TENANTS_FILE_MAX + 1);
    ck_assert_ptr_null(parse(apr_psprintf(test_pool, "e issuer=" ENTRA
                             " audience=a jwk_url=https://k/ tenants=@%s",
                             path), &err));
    ck_assert_ptr_nonnull(strstr(err, "is larger than"));
    remove(path);
    ck_assert_ptr_null(parse("e issuer=https://i/ audience=a "
                             "jwk_url=https://k/ tenants=" TID_A, &err));
    ck_assert_ptr_nonnull(strstr(err, "tenants needs an issuer with {tid}"));
    ck_assert_ptr_null(parse("e issuer=https://x/{tid}/{tid} audience=a "
                             "jwk_url=https://k/", &err));
    ck_assert_ptr_nonnull(strstr(err, "at most one {tid}"));
    ck_assert_ptr_null(parse("e issuer={tid} audience=a jwk_url=https://k/",
                             &err));
    ck_assert_ptr_nonnull(strstr(err, "more than {tid}"));
    ck_assert_ptr_null(parse("e issuer=" ENTRA " audience=a jwk_url=https://k/"
                             " tenants=" TID_A ",x", &err));
    ck_assert_ptr_nonnull(strstr(err, "e: \"x\" is not a tenant id"));
}
END_TEST

/* The claims of a token from tenant tid (NULL: none) with iss. */
static json_t *token_claims(const char *iss, const char *tid)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:I}", "iss", iss, "aud", "api",
                          "sub", "u", "exp", (json_int_t)NOW + 60);

    if (tid) {
        json_object_set_new(c, "tid", json_string(tid));
    }
    return c;
}

static ojw_reason_t check(const ojw_claim_policy_t *pol, const char *iss,
                          const char *tid, ojw_error_t *err)
{
    json_t *c = token_claims(iss, tid);
    const char *sub;
    ojw_reason_t rc = ojw_claims_check(c, pol, NOW, &sub, err);

    json_decref(c);
    return rc;
}

START_TEST(claims_with_template)
{
    const char *e;
    ojw_claim_policy_t pol = { ENTRA, "api", 0, 0, NULL, 0, NULL, NULL };
    ojw_error_t err;

    /* any tenant */
    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_OK);
    ck_assert_int_eq(check(&pol, ISS_B, TID_B, &err), OJW_OK);
    /* the tid must fill iss */
    ck_assert_int_eq(check(&pol, ISS_A, TID_B, &err), OJW_ERR_ISSUER);
    ck_assert_ptr_nonnull(strstr(err.detail, "with the token's tid"));
    ck_assert_int_eq(check(&pol, ENTRA, TID_A, &err), OJW_ERR_ISSUER);
    ck_assert_int_eq(check(&pol, ISS_A, NULL, &err), OJW_ERR_TENANT_ID);
    ck_assert_int_eq(check(&pol, ISS_A, "72F988BF-86F1-41AF-91AB-"
                           "2D7CD011DB47", &err), OJW_ERR_TENANT_ID);
    ck_assert_int_eq(check(&pol, "https://login.microsoftonline.com/common/"
                           "v2.0", "common", &err), OJW_ERR_TENANT_ID);
    /* the listed tenants only */
    pol.tenants = tenants(TID_A, &e);
    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_OK);
    ck_assert_int_eq(check(&pol, ISS_B, TID_B, &err), OJW_ERR_TENANT);
    ck_assert_str_eq(err.detail, "tenant " TID_B " is not one of the 1 "
                     "tenants of the profile");
    /* the key's own issuer, in Entra's spelling */
    pol.key_issuer = ENTRA_K;
    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_OK);
    pol.key_issuer = "https://sts.windows.net/{tenantid}/";
    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_ERR_KEY_ISSUER);
    ck_assert_ptr_nonnull(strstr(err.detail, "of the key that signed"));
    /* the key rule comes before the tenant list */
    ck_assert_int_eq(check(&pol, ISS_B, TID_B, &err), OJW_ERR_KEY_ISSUER);
}
END_TEST

/* A key's issuer binds an ordinary profile too: one tenant's issuer
 * with the keys common to all tenants. */
START_TEST(key_issuer_rule)
{
    ojw_claim_policy_t pol = { ISS_A, "api", 0, 0, NULL, 0, NULL, ENTRA_K };
    ojw_error_t err;
    json_t *c;

    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_OK);
    ck_assert_int_eq(check(&pol, ISS_A, NULL, &err), OJW_ERR_KEY_ISSUER);
    ck_assert_ptr_nonnull(strstr(err.detail, "no valid tid"));
    ck_assert_int_eq(check(&pol, ISS_A, TID_B, &err), OJW_ERR_KEY_ISSUER);
    pol.key_issuer = ISS_A;             /* a key of one tenant */
    ck_assert_int_eq(check(&pol, ISS_A, NULL, &err), OJW_OK);
    pol.key_issuer = ISS_B;
    ck_assert_int_eq(check(&pol, ISS_A, TID_A, &err), OJW_ERR_KEY_ISSUER);
    ck_assert_int_eq(ojw_key_issuer_check(NULL, NULL, &err), OJW_OK);
    c = json_pack("{s:i}", "iss", 1);
    ck_assert_int_eq(ojw_key_issuer_check(ENTRA, c, &err),
                     OJW_ERR_KEY_ISSUER);
    json_decref(c);
}
END_TEST

/* The JWKS keeps a key's issuer member; one it cannot read skips the
 * key. */
START_TEST(jwks_keeps_key_issuer)
{
    cjose_jwk_t *k[3] = { test_rsa_key(), test_rsa_key(), test_rsa_key() };
    const char *kids[3] = { "a", "b", "c" };
    char *doc = test_jwks(test_pool, 3, k, kids);
    json_t *root = json_loads(doc, 0, NULL), *keys;
    ojw_keyset_t *ks;
    char errbuf[256], *out;

    keys = json_object_get(root, "keys");
    json_object_set_new(json_array_get(keys, 0), "issuer",
                        json_string(ENTRA_K));
    json_object_set_new(json_array_get(keys, 1), "issuer", json_integer(1));
    json_object_set_new(json_array_get(keys, 2), "issuer",
                        json_string("https://x/{tid}/{tenantid}"));
    out = json_dumps(root, JSON_COMPACT);
    ck_assert_int_eq(ojw_jwks_parse(&ks, out, strlen(out), test_pool, NULL,
                                     NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    free(out);
    json_decref(root);
    ck_assert_int_eq(ks->nkeys, 1);
    ck_assert_str_eq(ks->keys[0].kid, "a");
    ck_assert_str_eq(ks->keys[0].issuer, ENTRA_K);
    ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    ck_assert_ptr_null(ks->keys[0].issuer);
}
END_TEST

static ojw_profile_t *prof(const char *name, const char *issuer,
                          const char *aud)
{
    const char *err;
    ojw_profile_t *p = parse(apr_psprintf(test_pool, "%s issuer=%s "
                                          "audience=%s jwk_url=https://k/",
                                          name, issuer, aud), &err);

    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

/* Templates in a location's set: found by iss, an exact issuer first,
 * twins refused. */
START_TEST(set_with_templates)
{
    ojw_profile_set_t *set = ojw_profile_set_make(test_pool);
    ojw_profile_t *a = prof("a", "https://a/", "api");
    ojw_profile_t *e = prof("e", ENTRA, "api");
    ojw_profile_t *own = prof("own", ISS_A, "api");
    ojw_profile_t *e2 = prof("e2", ENTRA, "other");
    json_t *aud = json_string("api"), *c;
    const char *err;

    ck_assert_ptr_null(ojw_profile_set_add(set, a, test_pool));
    ck_assert_ptr_null(ojw_profile_set_add(set, e, test_pool));
    ck_assert_ptr_null(ojw_profile_set_add(set, own, test_pool));
    ck_assert_ptr_null(ojw_profile_set_add(set, e2, test_pool));
    err = ojw_profile_set_add(set, prof("twin", ENTRA_K, "api"), test_pool);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "profiles e and twin"));
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_B, aud), e);
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_A, aud), own);
    ck_assert_ptr_eq(ojw_profile_set_choose(set, "https://a/", aud), a);
    json_decref(aud);
    aud = json_string("other");
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_B, aud), e2);
    /* the exact issuer refuses the audience; a template takes it */
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_A, aud), e2);
    json_decref(aud);
    aud = json_string("none");
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_A, aud), own);
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ISS_B, aud), e);
    ck_assert_ptr_null(ojw_profile_set_choose(set, "https://b/", aud));
    /* the template spelled out is no exact issuer (and its check refuses
     * it, see claims_with_template) */
    ck_assert_ptr_eq(ojw_profile_set_choose(set, ENTRA, aud), e);
    json_decref(aud);
    c = token_claims(ISS_B, TID_B);
    ck_assert(ojw_profile_set_would_choose(set, e, c));
    ck_assert(!ojw_profile_set_would_choose(set, own, c));
    json_decref(c);
}
END_TEST

/* A set of n profiles of distinct issuers, t0 ... t(n-1). */
static ojw_profile_set_t *distinct_set(int n, ojw_profile_t ***list)
{
    ojw_profile_set_t *set = ojw_profile_set_make(test_pool);
    int i;

    *list = apr_palloc(test_pool, n * sizeof(**list));
    for (i = 0; i < n; i++) {
        (*list)[i] = prof(apr_psprintf(test_pool, "t%d", i),
                          apr_psprintf(test_pool, "https://t%d.example/", i),
                          "ords/");
        ck_assert_ptr_null(ojw_profile_set_add(set, (*list)[i], test_pool));
    }
    return set;
}

/* CPU seconds of rounds choices of the last profile of set. */
static double choosing(const ojw_profile_set_t *set,
                       const ojw_profile_t *last, int rounds)
{
    json_t *aud = json_string("ords/");
    clock_t start = clock();
    int i;

    for (i = 0; i < rounds; i++) {
        ck_assert_ptr_eq(ojw_profile_set_choose(set, last->issuer, aud),
                         last);
    }
    json_decref(aud);
    return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/* Choosing the last of 20,000 profiles costs what choosing the last of
 * two does (a loop over the profiles would cost 10,000 times more): a
 * ratio, so that valgrind and a loaded machine slow both alike. */
START_TEST(set_scales)
{
    enum { N = 20000, ROUNDS = 20000 };
    ojw_profile_t **big, **small;
    ojw_profile_set_t *set = distinct_set(N, &big);
    ojw_profile_set_t *two = distinct_set(2, &small);
    double t_big, t_two;
    json_t *c;

    t_two = choosing(two, small[1], ROUNDS) + 1e-3;
    t_big = choosing(set, big[N - 1], ROUNDS);
    ck_assert_msg(t_big < 20 * t_two, "the last of %d: %.3f s, of 2: %.3f s",
                  N, t_big, t_two);
    c = token_claims("https://t19999.example/", NULL);
    json_object_set_new(c, "aud", json_string("ords/"));
    ck_assert(ojw_profile_set_would_choose(set, big[N - 1], c));
    ck_assert(!ojw_profile_set_would_choose(set, big[0], c));
    ck_assert(!ojw_profile_set_would_choose(two, big[N - 1], c));
    json_decref(c);
}
END_TEST

Suite *tenant_suite(void)
{
    Suite *s = suite_create("tenant");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, placeholders);
    tcase_add_test(tc, guid_strictly);
    tcase_add_test(tc, template_rules);
    tcase_add_test(tc, tenants_list);
    tcase_add_test(tc, profile_keys);
    tcase_add_test(tc, claims_with_template);
    tcase_add_test(tc, key_issuer_rule);
    tcase_add_test(tc, jwks_keeps_key_issuer);
    tcase_add_test(tc, set_with_templates);
    tcase_add_test(tc, set_scales);
    suite_add_tcase(s, tc);
    return s;
}
