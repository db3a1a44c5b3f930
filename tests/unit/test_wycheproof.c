/*
 * Wycheproof test vectors (tests/data/wycheproof/, Apache-2.0, see its
 * README and LICENSE) through our code.
 *
 * JWS and JWK vectors (json_web_signature_test.json, json_web_key_test.json)
 * are compact tokens: each goes through ojw_token_parse, the group's key set
 * through ojw_jwks_parse, and the token through ojw_token_verify, exactly as
 * in the module. A case is "accepted" when the signature verified (the
 * verifying key is set); the payloads are mostly not JWT claims, so the
 * refusal of a payload that is not a JSON object, which comes after the
 * signature check, does not count.
 *
 * ECDSA (P1363), RSA PKCS#1 v1.5 and RSA-PSS vectors sign a raw message,
 * and a raw message cannot be made the signing input of a JWS (that is
 * base64url(header) "." base64url(payload)). They go through our part of
 * the verify path: the group's JWK through ojw_jwks_parse (key policy and
 * cjose import), then ojw_signature_precheck (alg fits the key, exact
 * signature length: what cjose does not check), then the primitive cjose
 * calls, OpenSSL's, with cjose's parameters (PKCS#1 v1.5; PSS with MGF1 of
 * the same hash and a salt as long as the hash; ECDSA with r and s the two
 * halves of the signature) on a key built from the same JWK members.
 *
 * "valid" must be accepted, "invalid" refused; "acceptable" is not judged.
 *
 * Deliberately out of scope (each refused by our policy, counted and
 * checked to be refused, not judged):
 *  - valid HS256/384/512 cases (JWS 1, 348, 352, 357-359, 372, 373, 376,
 *    377; JWK 2, 13-15): HMAC is never accepted, a JWKS holds public keys;
 *  - valid cases with an empty payload (JWS 259, 264, 268, 272, 320, 325):
 *    a JWT's payload is a JSON object, so an empty segment is refused
 *    before any other work;
 *  - JWS 346 and 350: a PS384 token for a key whose JWK says "alg":"PS256";
 *    a key is used only for the alg its JWK names (RFC 7517 4.4);
 *  - JWS 347 and 351: an ES512 token for a key whose JWK says
 *    "alg":"ES521", which is no JWS algorithm; a key with an alg we do not
 *    know is not used (it might be meant for anything).
 * Their "invalid" counterparts are all in scope and refused.
 */
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include "unit.h"
#include "token.h"
#include "b64url.h"

#define MAX_SHOWN 15

typedef struct {
    const char *file;
    int judged;            /* valid or invalid, in scope */
    int agree;
    int out_of_scope;
    int acceptable;
    int shown;
    char first[512];       /* the first disagreement */
} tally_t;

/* Out of scope: tcIds of json_web_signature_test.json (see above). */
static const int jws_alg_policy[] = { 346, 347, 350, 351, 0 };

static json_t *load_vectors(const char *name)
{
    json_error_t jerr;
    char *path = apr_pstrcat(test_pool, OJW_TESTDATA "/wycheproof/", name,
                             NULL);
    json_t *doc = json_load_file(path, 0, &jerr);

    ck_assert_msg(doc != NULL, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return doc;
}

static void tally(tally_t *t, int tcid, const char *result, int accepted,
                  const char *why)
{
    int valid = strcmp(result, "valid") == 0;

    if (strcmp(result, "acceptable") == 0) {
        t->acceptable++;
        return;
    }
    t->judged++;
    if (accepted == valid) {
        t->agree++;
        return;
    }
    if (t->shown++ < MAX_SHOWN) {
        fprintf(stderr, "wycheproof %s tcId %d: expected %s, we %s (%s)\n",
                t->file, tcid, result, accepted ? "accept" : "refuse", why);
    }
    if (t->first[0] == '\0') {
        snprintf(t->first, sizeof(t->first), "tcId %d: expected %s, we %s "
                 "(%s)", tcid, result, accepted ? "accept" : "refuse", why);
    }
}

static void report(const tally_t *t)
{
    printf("wycheproof %s: %d in scope, %d agree; %d out of scope; "
           "%d acceptable (not judged)\n", t->file, t->judged, t->agree,
           t->out_of_scope, t->acceptable);
    ck_assert_msg(t->agree == t->judged, "%s: %d of %d disagree, first: %s",
                  t->file, t->judged - t->agree, t->judged, t->first);
}

/* --- JWS / JWK vectors: the module's own path ---------------------------- */

/* The group's keys as a JWKS document: "public" if given, else "private";
 * either a JWKS already or one JWK. */
static const char *group_jwks(const json_t *group)
{
    const json_t *keys = json_object_get(group, "public");
    json_t *doc;
    char *s, *out;

    if (keys == NULL) {
        keys = json_object_get(group, "private");
    }
    ck_assert_ptr_nonnull(keys);
    if (json_object_get(keys, "keys")) {
        doc = json_deep_copy(keys);
    }
    else {
        doc = json_pack("{s:[O]}", "keys", keys);
    }
    s = json_dumps(doc, JSON_COMPACT);
    out = apr_pstrdup(test_pool, s);
    free(s);
    json_decref(doc);
    return out;
}

/* The "alg" of a compact token's header, or "" when it has none. */
static const char *header_alg(const char *compact)
{
    const char *dot = strchr(compact, '.');
    unsigned char *raw;
    size_t len;
    json_t *hdr, *alg;
    const char *out = "";

    if (dot == NULL || ojw_b64url_decode(test_pool, compact,
                                         (size_t)(dot - compact), &raw,
                                         &len) != 0) {
        return out;
    }
    hdr = json_loadb((const char *)raw, len, 0, NULL);
    alg = json_object_get(hdr, "alg");
    if (json_is_string(alg)) {
        out = apr_pstrdup(test_pool, json_string_value(alg));
    }
    json_decref(hdr);
    return out;
}

/* 1 when the group's keys are (or include) symmetric ones. */
static int group_is_hmac(const json_t *group)
{
    const json_t *keys = json_object_get(group, "private");
    const json_t *list = json_object_get(keys, "keys");
    const json_t *k;
    size_t i;

    if (list == NULL) {
        return json_is_string(json_object_get(keys, "k"));
    }
    json_array_foreach(list, i, k) {
        if (json_is_string(json_object_get(k, "k"))) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the compact token's payload segment is empty. */
static int empty_payload(const char *compact)
{
    const char *dot = strchr(compact, '.');

    return dot != NULL && dot[1] == '.';
}

/* 1 when our code verifies the signature of compact with jwks. */
static int jws_accepted(const char *compact, const char *jwks, char *why,
                        size_t whylen)
{
    ojw_token_t *tok = NULL;
    ojw_keyset_t *ks = NULL;
    ojw_error_t err;
    char errbuf[256];
    ojw_reason_t rc;

    memset(&err, 0, sizeof(err));
    if (ojw_token_parse(&tok, compact, strlen(compact), OJW_TOKEN_MAX_DEFAULT,
                        test_pool, &err) != OJW_OK) {
        snprintf(why, whylen, "token: %s", err.detail);
        return 0;
    }
    if (ojw_jwks_parse(&ks, jwks, strlen(jwks), test_pool, NULL, NULL, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        snprintf(why, whylen, "JWKS: %s", errbuf);
        return 0;
    }
    rc = ojw_token_verify(tok, ks, test_pool, &err);
    snprintf(why, whylen, "%s", rc == OJW_OK ? "verified" : err.detail);
    if (tok->key != NULL) {
        /* verified; only a payload that is not a JSON object may follow */
        ck_assert(rc == OJW_OK || rc == OJW_ERR_MALFORMED);
        return 1;
    }
    return 0;
}

static int in_list(const int *list, int v)
{
    for (; *list; list++) {
        if (*list == v) {
            return 1;
        }
    }
    return 0;
}

static void run_jose_file(const char *file, const int *policy_out)
{
    json_t *doc = load_vectors(file);
    const json_t *group, *test;
    size_t g, i;
    tally_t t;

    memset(&t, 0, sizeof(t));
    t.file = file;
    json_array_foreach(json_object_get(doc, "testGroups"), g, group) {
        const char *jwks = group_jwks(group);

        json_array_foreach(json_object_get(group, "tests"), i, test) {
            int tcid = (int)json_integer_value(json_object_get(test, "tcId"));
            const char *result = json_string_value(json_object_get(test,
                                                                   "result"));
            const json_t *jws = json_object_get(test, "jws");
            const char *compact;
            char why[OJW_DETAIL_MAX + 16];
            char *dumped = NULL;
            int valid = strcmp(result, "valid") == 0;

            if (json_is_string(jws)) {
                compact = json_string_value(jws);
            }
            else {
                /* JSON serialization: what a client would put in the
                 * header is its text; only compact JWS is accepted */
                dumped = json_dumps(jws, JSON_COMPACT);
                compact = apr_pstrdup(test_pool, dumped);
                free(dumped);
                if (valid) {
                    t.out_of_scope++;
                    continue;
                }
            }
            if (valid && (group_is_hmac(group)
                          || strncmp(header_alg(compact), "HS", 2) == 0
                          || empty_payload(compact)
                          || (policy_out && in_list(policy_out, tcid)))) {
                t.out_of_scope++;
                ck_assert_msg(!jws_accepted(compact, jwks, why, sizeof(why)),
                              "%s tcId %d is out of scope because we refuse "
                              "it, but we accept it", file, tcid);
                continue;
            }
            tally(&t, tcid, result, jws_accepted(compact, jwks, why,
                                                 sizeof(why)), why);
        }
    }
    json_decref(doc);
    report(&t);
}

START_TEST(json_web_signature_vectors)
{
    run_jose_file("json_web_signature_test.json", jws_alg_policy);
}
END_TEST

START_TEST(json_web_key_vectors)
{
    run_jose_file("json_web_key_test.json", NULL);
}
END_TEST

/* --- raw-message vectors: key policy, pre-check, cjose's primitive -------- */

static unsigned char *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2, i;
    unsigned char *out = apr_palloc(test_pool, n + 1);

    for (i = 0; i < n; i++) {
        unsigned int byte;

        ck_assert(sscanf(hex + 2 * i, "%2x", &byte) == 1);
        out[i] = (unsigned char)byte;
    }
    *len = n;
    return out;
}

/* base64url of the big-endian hex value, left-padded to width bytes. */
static const char *hex_b64url(const char *hex, size_t width)
{
    size_t len;
    unsigned char *raw = unhex(hex, &len), *padded;

    while (len > width && *raw == 0) {
        raw++;
        len--;
    }
    ck_assert_uint_le(len, width);
    padded = apr_pcalloc(test_pool, width);
    memcpy(padded + width - len, raw, len);
    return test_b64(test_pool, (const char *)padded, width);
}

/* The group's JWK; the davidben edge-case groups have none, only the
 * point: their JWK is made from it. */
static json_t *group_jwk(const json_t *group)
{
    const json_t *jwk = json_object_get(group, "publicKeyJwk");
    const json_t *pk = json_object_get(group, "publicKey");
    const char *curve;
    const char *crv;
    size_t width;

    if (jwk == NULL) {
        jwk = json_object_get(group, "keyJwk");
    }
    if (jwk != NULL) {
        return json_deep_copy(jwk);
    }
    curve = json_string_value(json_object_get(pk, "curve"));
    ck_assert_ptr_nonnull(curve);
    crv = strcmp(curve, "secp256r1") == 0 ? "P-256"
          : strcmp(curve, "secp384r1") == 0 ? "P-384" : "P-521";
    width = strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0 ? 48
                                                                      : 66;
    return json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", crv,
                     "x", hex_b64url(json_string_value(json_object_get(pk, "wx")), width),
                     "y", hex_b64url(json_string_value(json_object_get(pk, "wy")), width));
}

static BIGNUM *member_bn(const json_t *jwk, const char *name)
{
    size_t len;
    unsigned char *raw;
    const char *v = json_string_value(json_object_get(jwk, name));

    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(ojw_b64url_decode(test_pool, v, strlen(v), &raw, &len), 0);
    return BN_bin2bn(raw, (int)len, NULL);
}

/* An OpenSSL public key from the same JWK members our import accepted. */
static EVP_PKEY *evp_from_jwk(const json_t *jwk)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *ctx;
    EVP_PKEY *pkey = NULL;
    int rsa = strcmp(json_string_value(json_object_get(jwk, "kty")), "RSA") == 0;
    BIGNUM *a = member_bn(jwk, rsa ? "n" : "x");
    BIGNUM *b = member_bn(jwk, rsa ? "e" : "y");
    unsigned char point[1 + 2 * 66];
    size_t width = 0;
    const char *group = NULL;

    if (rsa) {
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, a);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, b);
    }
    else {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));

        group = strcmp(crv, "P-256") == 0 ? "prime256v1"
                : strcmp(crv, "P-384") == 0 ? "secp384r1" : "secp521r1";
        width = strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0
                                                 ? 48 : 66;
        point[0] = 0x04;
        ck_assert_int_eq(BN_bn2binpad(a, point + 1, (int)width), (int)width);
        ck_assert_int_eq(BN_bn2binpad(b, point + 1 + width, (int)width),
                         (int)width);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
                                         1 + 2 * width);
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
    ck_assert(EVP_PKEY_fromdata_init(ctx) == 1);
    ck_assert(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(a);
    BN_free(b);
    return pkey;
}

/* r||s (two halves) -> DER, as cjose hands r and s to ECDSA_do_verify. */
static unsigned char *p1363_to_der(const unsigned char *sig, size_t len,
                                   size_t *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int n;

    ck_assert(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)(len / 2), NULL),
                             BN_bin2bn(sig + len / 2, (int)(len / 2), NULL)));
    n = i2d_ECDSA_SIG(es, &der);
    ck_assert_int_gt(n, 0);
    ECDSA_SIG_free(es);
    *derlen = (size_t)n;
    return der;
}

/* The primitive cjose's verify calls, with cjose's parameters. */
static int primitive_verifies(EVP_PKEY *pkey, const ojw_alg_t *alg,
                              const unsigned char *msg, size_t msglen,
                              const unsigned char *sig, size_t siglen)
{
    const char *bits = alg->name + 2;
    const EVP_MD *md = strcmp(bits, "256") == 0 ? EVP_sha256()
                       : strcmp(bits, "384") == 0 ? EVP_sha384() : EVP_sha512();
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    size_t derlen = 0;
    int ok;

    ck_assert(EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) == 1);
    if (strncmp(alg->name, "PS", 2) == 0) {
        ck_assert(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
        ck_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1);
        ck_assert(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
    }
    else if (strncmp(alg->name, "RS", 2) == 0) {
        ck_assert(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1);
    }
    else {
        der = p1363_to_der(sig, siglen, &derlen);
        sig = der;
        siglen = derlen;
    }
    ok = EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;
    OPENSSL_free(der);
    EVP_MD_CTX_free(mctx);
    return ok;
}

static void run_raw_file(const char *file, const char *alg_name)
{
    json_t *doc = load_vectors(file);
    const ojw_alg_t *alg = ojw_alg_find(alg_name);
    const json_t *group, *test;
    size_t g, i;
    tally_t t;

    memset(&t, 0, sizeof(t));
    t.file = file;
    json_array_foreach(json_object_get(doc, "testGroups"), g, group) {
        json_t *jwk = group_jwk(group);
        char *jwks = json_dumps(jwk, JSON_COMPACT);
        const char *doc_text = apr_psprintf(test_pool, "{\"keys\":[%s]}", jwks);
        ojw_keyset_t *ks = NULL;
        char errbuf[256];
        EVP_PKEY *pkey;

        /* every key of these files is a sound public key */
        ck_assert_msg(ojw_jwks_parse(&ks, doc_text, strlen(doc_text), test_pool,
                                     NULL, NULL, errbuf, sizeof(errbuf))
                      == APR_SUCCESS, "%s group %zu: %s", file, g, errbuf);
        ck_assert_int_eq(ks->nkeys, 1);
        pkey = evp_from_jwk(jwk);
        json_array_foreach(json_object_get(group, "tests"), i, test) {
            int tcid = (int)json_integer_value(json_object_get(test, "tcId"));
            const char *result = json_string_value(json_object_get(test,
                                                                   "result"));
            size_t msglen, siglen;
            unsigned char *msg = unhex(json_string_value(json_object_get(test, "msg")), &msglen);
            unsigned char *sig = unhex(json_string_value(json_object_get(test, "sig")), &siglen);
            ojw_error_t err;
            int accepted;

            memset(&err, 0, sizeof(err));
            accepted = ojw_signature_precheck(alg, &ks->keys[0], siglen, &err)
                           == OJW_OK
                       && primitive_verifies(pkey, alg, msg, msglen, sig,
                                             siglen);
            tally(&t, tcid, result, accepted, err.detail[0] ? err.detail
                                                             : "primitive");
        }
        EVP_PKEY_free(pkey);
        free(jwks);
        json_decref(jwk);
    }
    json_decref(doc);
    report(&t);
}

START_TEST(ecdsa_p256_vectors)
{
    run_raw_file("ecdsa_secp256r1_sha256_p1363_test.json", "ES256");
}
END_TEST

START_TEST(ecdsa_p384_vectors)
{
    run_raw_file("ecdsa_secp384r1_sha384_p1363_test.json", "ES384");
}
END_TEST

START_TEST(ecdsa_p521_vectors)
{
    run_raw_file("ecdsa_secp521r1_sha512_p1363_test.json", "ES512");
}
END_TEST

START_TEST(rsa_pkcs1_vectors)
{
    run_raw_file("rsa_signature_2048_sha256_test.json", "RS256");
}
END_TEST

START_TEST(rsa_pss_vectors)
{
    run_raw_file("rsa_pss_2048_sha256_mgf1_32_test.json", "PS256");
}
END_TEST

static void note_roca(void *baton, ojw_note_level_t level, int index,
                      const char *kid, const char *why)
{
    (void)level;
    (void)index;
    (void)kid;
    if (strstr(why, "ROCA") != NULL) {
        *(int *)baton = 1;
    }
}

/* The ROCA key of json_web_key_test.json (tcId 7) is refused for being
 * one; no other key of the file is said to be. */
START_TEST(roca_fingerprint)
{
    json_t *doc = load_vectors("json_web_key_test.json");
    const json_t *group;
    size_t g;
    int rocas = 0;

    json_array_foreach(json_object_get(doc, "testGroups"), g, group) {
        const char *comment = json_string_value(json_object_get(group,
                                                                "comment"));
        const char *jwks = group_jwks(group);
        ojw_keyset_t *ks = NULL;
        char errbuf[256];
        int roca = 0;

        (void)ojw_jwks_parse(&ks, jwks, strlen(jwks), test_pool, note_roca,
                             &roca, errbuf, sizeof(errbuf));
        ck_assert_int_eq(roca, strcmp(comment, "jws_rsa_roca_key") == 0);
        rocas += roca;
    }
    json_decref(doc);
    ck_assert_int_eq(rocas, 1);
}
END_TEST

Suite *wycheproof_suite(void)
{
    Suite *s = suite_create("wycheproof");
    TCase *tc = tcase_create("vectors");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, json_web_signature_vectors);
    tcase_add_test(tc, json_web_key_vectors);
    tcase_add_test(tc, ecdsa_p256_vectors);
    tcase_add_test(tc, ecdsa_p384_vectors);
    tcase_add_test(tc, ecdsa_p521_vectors);
    tcase_add_test(tc, rsa_pkcs1_vectors);
    tcase_add_test(tc, rsa_pss_vectors);
    tcase_add_test(tc, roca_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}
