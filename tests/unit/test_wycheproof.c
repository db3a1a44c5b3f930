/* SPDX-License-Identifier: Apache-2.0 */
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
 * which is no JWS signing input (base64url(header) "." base64url(payload)).
 * They go through ojw_token_verify too, twice, with the group's key built
 * by the module's code from the JWK (ojw_jwks_parse) and from the PEM
 * (ojw_jwks_from_pem): the signature travels in a token, and only the
 * digest that libcjose verifies is the hash of the vector's message
 * instead of the token's signing input (see "raw-message vectors" below).
 *
 * "valid" must be accepted, "invalid" refused; "acceptable" is not judged.
 * A file of which no case was judged fails.
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
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <cjose/jws.h>
#include <jansson.h>
#include <openssl/evp.h>
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
    ck_assert_msg(t->judged > 0, "%s: no case was judged", t->file);
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

/* --- raw-message vectors: ojw_token_verify on the vector's digest -------- */

/*
 * A raw-message vector's signature is over msg, which is no JWS signing
 * input (none of these files has a msg of the form b64url "." b64url), and
 * cjose hashes only signing inputs. So each vector becomes the token
 * base64url({"alg":ALG,"kid":KID}) "." base64url({}) "." base64url(sig)
 * and goes through ojw_token_verify like any token: ojw_token_parse, the
 * key looked up by kid, ojw_signature_precheck, then cjose_jws_verify. The
 * test's one change is inside that last call: cjose_jws_verify is
 * interposed here (token.c is linked into this program, so its call lands
 * here; RTLD_NEXT reaches libcjose's), and while a vector is armed, after
 * libcjose's own call has checked the header, chosen its functions for the
 * alg and hashed the signing input, the digest is replaced by the hash of
 * msg and libcjose's own verify function for the alg judges the signature
 * (PKCS#1 v1.5, PSS with MGF1 and salt length of the hash, ECDSA on r||s).
 * Its result is what ojw_token_verify sees. This needs the field order of
 * libcjose's private cjose_jws_t (0.6.2.x); every armed call checks it
 * against the token and aborts the test when it does not fit.
 */
typedef bool cjose_jws_fn(cjose_jws_t *, const cjose_jwk_t *, cjose_err *);

typedef struct {                /* libcjose's cjose_jws_t, field by field */
    json_t *hdr;
    char *hdr_b64u;
    size_t hdr_b64u_len;
    uint8_t *dat;
    size_t dat_len;
    char *dat_b64u;
    size_t dat_b64u_len;
    uint8_t *dig;
    size_t dig_len;
    uint8_t *sig;
    size_t sig_len;
    char *sig_b64u;
    size_t sig_b64u_len;
    char *cser;
    size_t cser_len;
    cjose_jws_fn *digest;
    cjose_jws_fn *sign;
    cjose_jws_fn *verify;
} cjose_jws_fields_t;

static struct {
    int armed;
    const char *compact;        /* the token of the vector */
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dig_len;       /* hash of the vector's msg */
    int judged;                 /* libcjose's verify reached for msg */
} raw_msg;

bool cjose_jws_verify(cjose_jws_t *jws, const cjose_jwk_t *jwk,
                      cjose_err *err)
{
    static cjose_jws_fn *real;
    cjose_jws_fields_t *f = (cjose_jws_fields_t *)jws;
    const char *dot;
    bool ok;

    if (real == NULL) {
        *(void **)&real = dlsym(RTLD_NEXT, "cjose_jws_verify");
        ck_assert_msg(real != NULL, "no libcjose cjose_jws_verify: %s",
                      dlerror());
    }
    ok = real(jws, jwk, err);
    if (!raw_msg.armed || jws == NULL) {
        return ok;
    }
    dot = strchr(raw_msg.compact, '.');
    ck_assert_msg(f->hdr_b64u_len == (size_t)(dot - raw_msg.compact)
                  && f->hdr_b64u != NULL
                  && memcmp(f->hdr_b64u, raw_msg.compact,
                            f->hdr_b64u_len) == 0
                  && f->dig != NULL && f->dig_len == raw_msg.dig_len
                  && f->verify != NULL,
                  "libcjose's cjose_jws_t does not have the fields this "
                  "test expects (0.6.2.x); update cjose_jws_fields_t");
    memcpy(f->dig, raw_msg.dig, raw_msg.dig_len);
    raw_msg.judged++;
    return f->verify(jws, jwk, err);
}

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

/* The group's JWK with kid; the davidben edge-case groups have none, only
 * the point: their JWK is made from it. */
static json_t *group_jwk(const json_t *group, const char *kid)
{
    const json_t *jwk = json_object_get(group, "publicKeyJwk");
    const json_t *pk = json_object_get(group, "publicKey");
    const char *curve;
    const char *crv;
    size_t width;
    json_t *out;

    if (jwk == NULL) {
        jwk = json_object_get(group, "keyJwk");
    }
    if (jwk != NULL) {
        out = json_deep_copy(jwk);
        json_object_set_new(out, "kid", json_string(kid));
        return out;
    }
    curve = json_string_value(json_object_get(pk, "curve"));
    ck_assert_ptr_nonnull(curve);
    crv = strcmp(curve, "secp256r1") == 0 ? "P-256"
          : strcmp(curve, "secp384r1") == 0 ? "P-384" : "P-521";
    width = strcmp(crv, "P-256") == 0 ? 32 : strcmp(crv, "P-384") == 0 ? 48
                                                                      : 66;
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", crv,
                     "kid", kid,
                     "x", hex_b64url(json_string_value(json_object_get(pk, "wx")), width),
                     "y", hex_b64url(json_string_value(json_object_get(pk, "wy")), width));
}

/* The group's key set, built the way the module builds it: from the JWK
 * (ojw_jwks_parse, as for a fetched JWKS) or from the PEM (pem_file:
 * ojw_jwks_from_pem, then ojw_jwks_parse). One key, kid "wycheproof". */
static ojw_keyset_t *group_keyset(const char *file, size_t g,
                                  const json_t *group, int from_pem)
{
    ojw_keyset_t *ks = NULL;
    char errbuf[256];
    char *doc;

    if (from_pem) {
        const char *pem = json_string_value(json_object_get(group,
                                                            "publicKeyPem"));

        ck_assert_ptr_nonnull(pem);
        ck_assert_msg(ojw_jwks_from_pem(&doc, pem, strlen(pem), "wycheproof",
                                        test_pool, errbuf, sizeof(errbuf))
                      == APR_SUCCESS, "%s group %zu PEM: %s", file, g, errbuf);
    }
    else {
        json_t *jwk = group_jwk(group, "wycheproof");
        char *s = json_dumps(jwk, JSON_COMPACT);

        doc = apr_psprintf(test_pool, "{\"keys\":[%s]}", s);
        free(s);
        json_decref(jwk);
    }
    /* every key of these files is a sound public key */
    ck_assert_msg(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL, NULL,
                                 errbuf, sizeof(errbuf)) == APR_SUCCESS,
                  "%s group %zu %s: %s", file, g, from_pem ? "PEM" : "JWK",
                  errbuf);
    ck_assert_int_eq(ks->nkeys, 1);
    return ks;
}

/* The token that carries the vector's signature (see above). */
static const char *vector_token(const ojw_alg_t *alg,
                                const unsigned char *sig, size_t siglen)
{
    const char *hdr = apr_psprintf(test_pool, "{\"alg\":\"%s\",\"kid\":"
                                   "\"wycheproof\"}", alg->name);

    return apr_pstrcat(test_pool, test_b64(test_pool, hdr, strlen(hdr)), ".",
                       test_b64(test_pool, "{}", 2), ".",
                       test_b64(test_pool, (const char *)sig, siglen), NULL);
}

/* 1 when ojw_token_verify accepts the vector's signature over msg. */
static int raw_accepted(const ojw_keyset_t *ks, const ojw_alg_t *alg,
                        const EVP_MD *md, const unsigned char *msg,
                        size_t msglen, const unsigned char *sig,
                        size_t siglen, char *why, size_t whylen)
{
    ojw_token_t *tok = NULL;
    ojw_error_t err;
    ojw_reason_t rc;

    memset(&err, 0, sizeof(err));
    raw_msg.compact = vector_token(alg, sig, siglen);
    ck_assert(EVP_Digest(msg, msglen, raw_msg.dig, &raw_msg.dig_len, md,
                         NULL) == 1);
    if (ojw_token_parse(&tok, raw_msg.compact, strlen(raw_msg.compact),
                        OJW_TOKEN_MAX_DEFAULT, test_pool, &err) != OJW_OK) {
        snprintf(why, whylen, "token: %s", err.detail);
        return 0;
    }
    raw_msg.armed = 1;
    rc = ojw_token_verify(tok, ks, test_pool, &err);
    raw_msg.armed = 0;
    snprintf(why, whylen, "%s", rc == OJW_OK ? "verified" : err.detail);
    return rc == OJW_OK && tok->key == &ks->keys[0];
}

static void run_raw_file(const char *file, const char *alg_name)
{
    json_t *doc = load_vectors(file);
    const ojw_alg_t *alg = ojw_alg_find(alg_name);
    const json_t *group, *test;
    size_t g, i;
    int from_pem;
    tally_t t;

    memset(&t, 0, sizeof(t));
    memset(&raw_msg, 0, sizeof(raw_msg));
    t.file = file;
    ck_assert_ptr_nonnull(alg);
    json_array_foreach(json_object_get(doc, "testGroups"), g, group) {
        const char *sha = json_string_value(json_object_get(group, "sha"));
        const EVP_MD *md = EVP_get_digestbyname(sha);

        /* the alg hashes with the group's hash (and PSS's MGF1 with it) */
        ck_assert_msg(md != NULL && strncmp(sha, "SHA-", 4) == 0
                      && strcmp(sha + 4, alg_name + 2) == 0,
                      "%s group %zu: %s does not go with %s", file, g, sha,
                      alg_name);
        for (from_pem = 0; from_pem <= 1; from_pem++) {
            const ojw_keyset_t *ks = group_keyset(file, g, group, from_pem);

            json_array_foreach(json_object_get(group, "tests"), i, test) {
                int tcid = (int)json_integer_value(json_object_get(test,
                                                                   "tcId"));
                const char *result = json_string_value(
                    json_object_get(test, "result"));
                size_t msglen, siglen;
                unsigned char *msg = unhex(json_string_value(
                    json_object_get(test, "msg")), &msglen);
                unsigned char *sig = unhex(json_string_value(
                    json_object_get(test, "sig")), &siglen);
                char why[OJW_DETAIL_MAX + 16];
                int accepted = raw_accepted(ks, alg, md, msg, msglen, sig,
                                            siglen, why, sizeof(why));

                tally(&t, tcid, result, accepted,
                      apr_pstrcat(test_pool, from_pem ? "PEM key: "
                                                      : "JWK key: ", why,
                                  NULL));
            }
        }
    }
    json_decref(doc);
    report(&t);
    /* the signatures were judged by libcjose through the interposer */
    ck_assert_msg(raw_msg.judged > 0, "%s: no vector reached cjose", file);
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
