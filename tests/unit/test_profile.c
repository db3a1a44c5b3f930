/* SPDX-License-Identifier: Apache-2.0 */
/* OrdsJwtProfile argument parsing. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "profile.h"
#include "jwks.h"

static const char *parse_error(const char *args)
{
    const char *err = NULL;

    ck_assert_ptr_null(ojw_profile_parse(args, test_pool, &err));
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(parses_full_profile)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(
        "hr issuer=https://identity.oraclecloud.com/ audience=ords/hr/ "
        "jwk_url=https://idcs-1.example/admin/v1/SigningCert/jwk "
        "allowed_skew=30 allowed_age=3600 role_claim_name=/iam_group "
        "description=\"HR \\\"API\\\" v1\"", test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->name, "hr");
    ck_assert_str_eq(p->issuer, "https://identity.oraclecloud.com/");
    ck_assert_str_eq(p->audience, "ords/hr/");
    ck_assert_int_eq(p->allowed_skew, 30);
    ck_assert_int_eq(p->allowed_age, 3600);
    ck_assert_str_eq(p->role_claim_name, "/iam_group");
    ck_assert_str_eq(p->description, "HR \"API\" v1");
    ck_assert_ptr_null(p->jwk_file);
    ck_assert_int_eq(p->slot, -1);
    ck_assert_int_eq(ojw_profile_skew(p, 5), 30);
}
END_TEST

START_TEST(defaults_and_file_url)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(
        "s issuer=i audience=a jwk_url=file:///etc/keys.json allowed_skew=-3",
        test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->jwk_file, "/etc/keys.json");
    ck_assert_int_eq(ojw_profile_skew(p, 20), 0);
    ck_assert_int_eq(ojw_profile_age(p, 20), 20);
}
END_TEST

START_TEST(reports_mistakes)
{
    ck_assert_ptr_nonnull(strstr(parse_error(""), "NAME"));
    ck_assert_ptr_nonnull(strstr(parse_error("a issuer=i audience=a"),
                                 "jwk_url"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=http://x/"), "https://"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=file:rel.json"), "https://"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ allowed_skew=61"), "60"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ allowed_age=1h"), "seconds"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ colour=red"), "unknown key"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ allowed_skw=1"),
        "did you mean allowed_skew?"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a isuer=i audience=a jwk_url=https://x/"), "did you mean issuer?"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ role_claim_name=groups"),
        "JSON pointer"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ description=\"open"),
        "quote"));
    ck_assert_ptr_nonnull(strstr(parse_error("a issuer= audience=a"), "empty"));
    ck_assert_ptr_nonnull(strstr(parse_error("a b"), "key=value"));
    /* a key given twice is a mistake, not "the last one wins" (fuzz_profile
     * found two discovery_url= accepted) */
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i issuer=j audience=a jwk_url=https://x/"),
        "issuer is given twice"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a discovery_url=https://x/ "
        "discovery_url=https://y/"), "discovery_url is given twice"));
}
END_TEST

START_TEST(pem_keys_and_exclusions)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(
        "s issuer=i audience=a pem_file=/etc/k.pem pem_kid=k1", test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->pem_file, "/etc/k.pem");
    ck_assert_str_eq(p->pem_kid, "k1");
    ck_assert_ptr_null(p->jwk_url);
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ pem_file=/k.pem"), "exclude"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a jwk_url=https://x/ pem_kid=k"), "pem_file"));
    ck_assert_ptr_nonnull(strstr(parse_error(
        "a issuer=i audience=a pem_file=k.pem"), "absolute"));
}
END_TEST

/* PEM text of a fresh public key of this type ("RSA" bits / "EC" curve). */
static char *fresh_pem(const char *type, const char *param)
{
    EVP_PKEY *k = strcmp(type, "RSA") == 0
        ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
        : EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long len;

    ck_assert_ptr_nonnull(k);
    ck_assert(PEM_write_bio_PUBKEY(bio, k));
    len = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(test_pool, data, (apr_size_t)len);
    BIO_free(bio);
    EVP_PKEY_free(k);
    return out;
}

START_TEST(pem_to_jwks)
{
    const char *pems[] = { fresh_pem("RSA", NULL), fresh_pem("EC", "P-256"),
                           fresh_pem("EC", "P-521") };
    ojw_keyset_t *ks;
    char errbuf[256], *doc;
    size_t i;

    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(ojw_jwks_from_pem(&doc, pems[i], strlen(pems[i]),
                                           i ? NULL : "k1", test_pool, errbuf,
                                           sizeof(errbuf)), APR_SUCCESS);
        ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                        NULL, errbuf, sizeof(errbuf)),
                         APR_SUCCESS);
        ck_assert_int_eq(ks->nkeys, 1);
    }
    ck_assert_str_eq(ks->keys[0].crv, "P-521");
    ck_assert_ptr_null(ks->keys[0].kid);
    ck_assert_int_eq(ojw_jwks_from_pem(&doc, "not a pem", 9, NULL, test_pool,
                                       errbuf, sizeof(errbuf)), APR_EINVAL);
    doc = fresh_pem("EC", "secp256k1");
    ck_assert_int_eq(ojw_jwks_from_pem(&doc, doc, strlen(doc), NULL, test_pool,
                                       errbuf, sizeof(errbuf)), APR_EINVAL);
}
END_TEST

static ojw_profile_t *quick(const char *name, const char *issuer)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(apr_psprintf(test_pool, "%s issuer=%s "
                                         "audience=a jwk_url=https://j/",
                                         name, issuer), test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

/* The set of a location's list, or a failed test with the reason. */
static ojw_profile_set_t *set_of(const ojw_profile_t *const *list, int n)
{
    ojw_profile_set_t *set = ojw_profile_set_make(test_pool);
    const char *err;
    int i;

    for (i = 0; i < n; i++) {
        err = ojw_profile_set_add(set, list[i], test_pool);
        ck_assert_msg(err == NULL, "%s", err);
    }
    return set;
}

/* A verified token's claims for would_choose: iss and aud. */
static json_t *iss_aud(const char *iss, const char *aud)
{
    return json_pack("{s:s, s:s}", "iss", iss, "aud", aud);
}

/* The unverified iss picks the first profile of that issuer; one profile
 * is used whatever the iss; a cached verdict stands only for the profile
 * that would be chosen. */
START_TEST(choose_by_issuer)
{
    const ojw_profile_t *a = quick("a", "https://i1/");
    const ojw_profile_t *b = quick("b", "https://i2/");
    const ojw_profile_t *a2 = quick("a2", "https://i3/");
    const ojw_profile_t *list[3] = { a, b, a2 };
    ojw_profile_set_t *one = set_of(list, 1), *three = set_of(list, 3);
    json_t *c;

    ck_assert_ptr_eq(ojw_profile_set_choose(one, "https://other/", NULL), a);
    ck_assert_ptr_eq(ojw_profile_set_choose(one, NULL, NULL), a);
    ck_assert_ptr_eq(ojw_profile_set_choose(three, "https://i2/", NULL), b);
    ck_assert_ptr_eq(ojw_profile_set_choose(three, "https://i1/", NULL), a);
    ck_assert_ptr_null(ojw_profile_set_choose(three, "https://i1", NULL));
    ck_assert_ptr_null(ojw_profile_set_choose(three, NULL, NULL));
    ck_assert_int_eq(ojw_profile_set_count(three), 3);
    ck_assert(ojw_profile_set_contains(three, a2));
    ck_assert(!ojw_profile_set_contains(one, b));
    c = iss_aud("https://i2/", "a");
    ck_assert(ojw_profile_set_would_choose(three, b, c));
    ck_assert(!ojw_profile_set_would_choose(three, a, c));
    ck_assert(!ojw_profile_set_would_choose(one, b, c));
    ck_assert(ojw_profile_set_would_choose(one, a, c));    /* the only one */
    ck_assert(ojw_profile_set_would_choose_for(three, b, "https://i2/",
                                               json_object_get(c, "aud")));
    ck_assert(!ojw_profile_set_would_choose_for(three, b, NULL, NULL));
    ck_assert(!ojw_profile_set_would_choose_for(one, b, "https://i2/",
                                                NULL));
    json_decref(c);
    ck_assert_str_eq(ojw_profile_set_add(three, b, test_pool),
                     "b is listed twice");
}
END_TEST

static ojw_profile_t *with_auds(const char *name, const char *auds)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(apr_psprintf(test_pool, "%s "
                                         "issuer=https://i1/ %s "
                                         "jwk_url=https://j/", name, auds),
                                         test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

static json_t *aud(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    ck_assert_msg(v != NULL, "bad test JSON %s", text);
    return v;
}

/* audience= repeated: any one, exact comparison, string or array aud;
 * the claim check and the chooser agree. */
START_TEST(several_audiences)
{
    ojw_profile_t *p = with_auds("m", "audience=ords/hr/ "
                                 "audience=https://api.example.com");
    ojw_claim_policy_t pol;
    const char *sub;
    ojw_error_t err;
    json_t *c;
    const char *err_text = NULL;

    ck_assert_int_eq(p->audiences->nelts, 2);
    ck_assert_str_eq(p->audience, "ords/hr/");
    ojw_profile_policy(&pol, p, 0, 0);
    c = aud("{\"iss\":\"https://i1/\",\"sub\":\"a\",\"exp\":2000000000,"
            "\"aud\":\"https://api.example.com\"}");
    ck_assert_int_eq(ojw_claims_check(c, &pol, 1000, &sub, &err), OJW_OK);
    json_object_set_new(c, "aud", json_string("https://api.example.com/"));
    ck_assert_int_eq(ojw_claims_check(c, &pol, 1000, &sub, &err),
                     OJW_ERR_AUDIENCE);
    ck_assert_ptr_nonnull(strstr(err.detail, "or one of 1 more"));
    json_object_set_new(c, "aud", aud("[\"x\",\"ords/hr/\"]"));
    ck_assert_int_eq(ojw_claims_check(c, &pol, 1000, &sub, &err), OJW_OK);
    ck_assert(ojw_profile_accepts_aud(p, json_object_get(c, "aud")));
    json_decref(c);
    ck_assert_ptr_null(ojw_profile_parse("d issuer=i audience=a audience=a "
                                         "jwk_url=https://j/", test_pool,
                                         &err_text));
    ck_assert_ptr_nonnull(strstr(err_text, "listed twice"));
}
END_TEST

/* Two profiles of one issuer told apart by audience; overlapping ones
 * are found (configtest refuses them on one location). */
START_TEST(choose_by_issuer_then_audience)
{
    const ojw_profile_t *a = with_auds("a", "audience=A1 audience=A2");
    const ojw_profile_t *b = with_auds("b", "audience=B");
    const ojw_profile_t *c = with_auds("c", "audience=X audience=A2");
    const ojw_profile_t *list[2] = { a, b };
    ojw_profile_set_t *set = set_of(list, 2);
    const char *err;
    json_t *v;

    ck_assert_ptr_eq(ojw_profile_set_choose(set, "https://i1/",
                                            v = aud("\"B\"")), b);
    json_decref(v);
    ck_assert_ptr_eq(ojw_profile_set_choose(set, "https://i1/",
                                            v = aud("[\"Z\",\"A2\"]")), a);
    json_decref(v);
    /* the first listed that takes one of the entries */
    ck_assert_ptr_eq(ojw_profile_set_choose(set, "https://i1/",
                                            v = aud("[\"B\",\"A1\"]")), a);
    json_decref(v);
    /* no audience matches: the first of the issuer, which refuses it */
    ck_assert_ptr_eq(ojw_profile_set_choose(set, "https://i1/",
                                            v = aud("\"Z\"")), a);
    json_decref(v);
    ck_assert_ptr_null(ojw_profile_set_choose(set, "https://i2/", NULL));
    err = ojw_profile_set_add(set, c, test_pool);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "profiles a and c have the same issuer"));
    ck_assert_ptr_nonnull(strstr(err, "audience A2"));
    ck_assert_int_eq(ojw_profile_set_count(set), 2);
    ck_assert(!ojw_profile_set_contains(set, c));
    /* other issuers share audiences freely */
    ck_assert_ptr_null(ojw_profile_set_add(set, quick("o", "https://i2/"),
                                           test_pool));
}
END_TEST

/* issue 13: token_type, dpop, mtls. */
START_TEST(binding_keys)
{
    const char *err = NULL;
    ojw_profile_t *p;

    p = ojw_profile_parse("a issuer=i audience=a jwk_url=https://k/ "
                          "token_type=at+jwt dpop=required mtls=required",
                          test_pool, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->token_type, "at+jwt");
    ck_assert_int_eq(p->dpop, OJW_BIND_REQUIRED);
    ck_assert_int_eq(p->mtls, OJW_BIND_REQUIRED);
    p = ojw_profile_parse("a issuer=i audience=a jwk_url=https://k/",
                          test_pool, &err);
    ck_assert_int_eq(p->dpop, OJW_BIND_OFF);
    ck_assert_int_eq(p->mtls, OJW_BIND_ALLOWED);
    ck_assert_ptr_null(ojw_profile_parse("a issuer=i audience=a "
                                         "jwk_url=https://k/ token_type=JWT",
                                         test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "at+jwt"));
    ck_assert_ptr_null(ojw_profile_parse("a issuer=i audience=a "
                                         "jwk_url=https://k/ dpop=yes",
                                         test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "dpop=required"));
    ck_assert_ptr_null(ojw_profile_parse("a issuer=i audience=a "
                                         "jwk_url=https://k/ dpopp=allowed",
                                         test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "did you mean dpop?"));
}
END_TEST

/* issue 23: dpop_nonce=on|off, unset by default (the location's). */
START_TEST(dpop_nonce_key)
{
    const char *err = NULL;
    ojw_profile_t *p;

    p = ojw_profile_parse("a issuer=i audience=a jwk_url=https://k/",
                          test_pool, &err);
    ck_assert_int_eq(p->dpop_nonce, -1);
    p = ojw_profile_parse("a issuer=i audience=a jwk_url=https://k/ "
                          "dpop=allowed dpop_nonce=on", test_pool, &err);
    ck_assert_int_eq(p->dpop_nonce, 1);
    p = ojw_profile_parse("a issuer=i audience=a jwk_url=https://k/ "
                          "dpop_nonce=off", test_pool, &err);
    ck_assert_int_eq(p->dpop_nonce, 0);
    ck_assert_ptr_null(ojw_profile_parse("a issuer=i audience=a "
                                         "jwk_url=https://k/ dpop=allowed "
                                         "dpop_nonce=yes", test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "dpop_nonce=on or dpop_nonce=off"));
    ck_assert_ptr_null(ojw_profile_parse("a issuer=i audience=a "
                                         "jwk_url=https://k/ dpop_nonce=on",
                                         test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "needs dpop=allowed"));
}
END_TEST

Suite *profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, parses_full_profile);
    tcase_add_test(tc, dpop_nonce_key);
    tcase_add_test(tc, defaults_and_file_url);
    tcase_add_test(tc, reports_mistakes);
    tcase_add_test(tc, pem_keys_and_exclusions);
    tcase_add_test(tc, pem_to_jwks);
    tcase_add_test(tc, choose_by_issuer);
    tcase_add_test(tc, several_audiences);
    tcase_add_test(tc, choose_by_issuer_then_audience);
    tcase_add_test(tc, binding_keys);
    suite_add_tcase(s, tc);
    return s;
}
