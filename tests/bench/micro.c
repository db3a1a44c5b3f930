/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Micro-benchmark: what the module spends on one fresh token, against the
 * cryptography alone, for RS256, PS256 and ES256 (RSA-2048, P-256).
 *
 *  (a) the module's whole verification, as check_authn does it: a new APR
 *      pool, ojw_token_parse, the key lookup and ojw_token_verify (both in
 *      ojw_keys_verify, over a shared-memory JWKS slot with its global
 *      mutex, as in a child process), ojw_claims_check, the pool destroyed;
 *  (b) a bare OpenSSL EVP_DigestVerify of the same signature with the same
 *      key: a verification context copied from one initialised once (as
 *      the probe module does per thread), a one-shot SHA-256 and the RSA or
 *      ECDSA operation over the signing input; the signature is decoded
 *      once (ES256: converted to DER once), outside the loop.
 *
 * It prints ns per operation for each, the ratio (a)/(b), which does not
 * depend much on the machine, and (a)-(b), the module's own work. Each
 * figure is the median of 5 measurements of about --seconds each, those of
 * (a) and (b) taken in turn.
 *
 *     make -C tests/bench micro && tests/bench/micro [--seconds 1]
 *
 * --alg ALG runs one algorithm only; --count N runs each of (a), (b) and
 * (c) N times without timing them, for an instruction counter:
 *
 *     valgrind --tool=callgrind tests/bench/micro --alg RS256 --count 200
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <cjose/base64.h>
#include <cjose/jws.h>
#include <cjose/util.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "claims.h"
#include "jwks.h"
#include "jwks_cache.h"
#include "keys.h"
#include "token.h"

#define ISSUER    "https://issuer.example/"
#define AUDIENCE  "ords/hr/"
#define JWKS_URL  "https://issuer.example/jwks"
#define ROUNDS    5

static apr_pool_t *root;
static const char *jwks_doc;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "micro: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* --- keys, the JWKS and tokens ------------------------------------------- */

static char *b64url(const unsigned char *data, size_t len)
{
    char *out = NULL, *copy;
    size_t outlen = 0;
    cjose_err err;

    if (!cjose_base64url_encode(data, len, &out, &outlen, &err)) {
        die("base64url", err.message);
    }
    copy = apr_pstrmemdup(root, out, outlen);
    cjose_get_dealloc()(out);
    return copy;
}

/* A JWKS document holding the public keys of rsa (kid rsa1) and ec (kid
 * ec1), made by the module's own ojw_jwks_from_pem. */
static const char *make_jwks(EVP_PKEY *rsa, EVP_PKEY *ec)
{
    EVP_PKEY *keys[2] = { rsa, ec };
    const char *kids[2] = { "rsa1", "ec1" };
    json_t *all = json_array();
    char errbuf[256], *doc, *out;
    int i;

    for (i = 0; i < 2; i++) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem;
        long len;
        json_t *one;

        if (bio == NULL || PEM_write_bio_PUBKEY(bio, keys[i]) != 1) {
            die("PEM_write_bio_PUBKEY", NULL);
        }
        len = BIO_get_mem_data(bio, &pem);
        if (ojw_jwks_from_pem(&doc, pem, (size_t)len, kids[i], root, errbuf,
                              sizeof(errbuf)) != APR_SUCCESS) {
            die("ojw_jwks_from_pem", errbuf);
        }
        BIO_free(bio);
        one = json_loads(doc, 0, NULL);
        json_array_extend(all, json_object_get(one, "keys"));
        json_decref(one);
    }
    all = json_pack("{s:o}", "keys", all);
    out = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    doc = apr_pstrdup(root, out);
    free(out);
    return doc;
}

/* The signature of the signing input in JWS form (r||s for ES256). */
static unsigned char *sign(EVP_PKEY *key, const char *alg, const char *input,
                           size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[512], *sig = apr_palloc(root, 512);
    size_t len = sizeof(der);

    if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1
        || (alg[0] == 'P'
            && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                    RSA_PSS_SALTLEN_DIGEST) != 1))
        || EVP_DigestSign(ctx, der, &len, (const unsigned char *)input,
                          strlen(input)) != 1) {
        die("EVP_DigestSign", alg);
    }
    EVP_MD_CTX_free(ctx);
    if (alg[0] == 'E') {
        const unsigned char *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);

        if (es == NULL
            || BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32
            || BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32) {
            die("ECDSA signature", NULL);
        }
        ECDSA_SIG_free(es);
        len = 64;
    }
    else {
        memcpy(sig, der, len);
    }
    *siglen = len;
    return sig;
}

typedef struct {
    const char *alg;
    EVP_PKEY *key;
    const char *input;            /* the JWS signing input */
    const char *compact;          /* the token */
    unsigned char *der;           /* the signature as OpenSSL takes it */
    size_t der_len;
    cjose_jwk_t *jwk;             /* the public key, for cjose alone */
} case_t;

static void make_token(case_t *c, const char *kid)
{
    apr_int64_t t = apr_time_sec(apr_time_now());
    char *header = apr_psprintf(root, "{\"alg\":\"%s\",\"kid\":\"%s\","
                                "\"typ\":\"JWT\"}", c->alg, kid);
    char *payload = apr_psprintf(root, "{\"iss\":\"%s\",\"aud\":\"%s\","
                                 "\"sub\":\"alice\",\"iat\":%" APR_INT64_T_FMT
                                 ",\"exp\":%" APR_INT64_T_FMT ","
                                 "\"scope\":\"openid hr.read\"}",
                                 ISSUER, AUDIENCE, t, t + 3600);
    unsigned char *sig;
    size_t siglen;

    c->input = apr_pstrcat(root, b64url((unsigned char *)header, strlen(header)),
                           ".", b64url((unsigned char *)payload,
                                       strlen(payload)), NULL);
    sig = sign(c->key, c->alg, c->input, &siglen);
    c->compact = apr_pstrcat(root, c->input, ".", b64url(sig, siglen), NULL);
    if (c->alg[0] == 'E') {             /* r||s -> DER, once */
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *p;

        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL),
                       BN_bin2bn(sig + 32, 32, NULL));
        c->der = apr_palloc(root, 80);
        p = c->der;
        c->der_len = (size_t)i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
    }
    else {
        c->der = sig;
        c->der_len = siglen;
    }
}

/* --- (a) the module ---------------------------------------------------- */

static apr_status_t serve_jwks(void *baton, const char *url,
                               const ojw_fetch_opts_t *opts,
                               ojw_fetch_result_t *res, apr_pool_t *pool)
{
    (void)baton;
    (void)url;
    (void)opts;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    res->http_status = 200;
    res->body = apr_pstrdup(pool, jwks_doc);
    res->len = strlen(jwks_doc);
    return APR_SUCCESS;
}

/* The keys of a child process: one shared-memory slot, its global mutex,
 * the issuer replaced by serve_jwks (called once, on first use). */
static ojw_keys_t *make_keys(void)
{
    static const ojw_refresh_policy_t policy = { 3600, 10, 6, 86400, 0 };
    static const char *const urls[] = { JWKS_URL };
    ojw_fetch_opts_t fetch = { NULL, 5000, OJW_JWKS_MAX, NULL };
    apr_size_t size = ojw_cache_size(1, OJW_JWKS_MAX);
    apr_global_mutex_t *mutex;
    ojw_keys_env_t env;
    ojw_cache_t *cache;
    ojw_keys_t *keys;
    apr_shm_t *shm;

    if (apr_shm_create(&shm, size, NULL, root) != APR_SUCCESS
        || apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT,
                                   root) != APR_SUCCESS) {
        die("shared memory or mutex", NULL);
    }
    cache = ojw_cache_attach(apr_shm_baseaddr_get(shm), size, 1, OJW_JWKS_MAX,
                             mutex, 1, root);
    if (cache == NULL || ojw_cache_set_url(cache, 0, JWKS_URL) != APR_SUCCESS) {
        die("ojw_cache_attach", NULL);
    }
    ojw_keys_env_default(&env);
    env.fetch = serve_jwks;
    if (ojw_keys_create(&keys, cache, urls, 1, &policy, &fetch, &env,
                        root) != APR_SUCCESS) {
        die("ojw_keys_create", NULL);
    }
    return keys;
}

static ojw_keys_t *keys;

static void module_verify(const case_t *c)
{
    static const ojw_claim_policy_t policy = {
        ISSUER, AUDIENCE, 0, 0, NULL, 0, NULL, NULL
    };
    const char *subject = NULL;
    ojw_keys_use_t use;
    ojw_token_t *tok;
    ojw_error_t err;
    apr_pool_t *p;

    memset(&err, 0, sizeof(err));
    apr_pool_create(&p, root);
    if (ojw_token_parse(&tok, c->compact, strlen(c->compact),
                        OJW_TOKEN_MAX_DEFAULT, p, &err) != OJW_OK
        || ojw_keys_verify(&use, keys, 0, tok, p, NULL, &err) != OJW_OK
        || ojw_claims_check(tok->claims, &policy,
                            apr_time_sec(apr_time_now()), &subject,
                            &err) != OJW_OK) {
        die(c->alg, err.detail);
    }
    apr_pool_destroy(p);
}

/* --- (b) bare OpenSSL -------------------------------------------------- */

static EVP_MD_CTX *tpl, *work;

static void bare_setup(const case_t *c)
{
    EVP_PKEY_CTX *pctx = NULL;

    EVP_MD_CTX_reset(tpl);
    if (EVP_DigestVerifyInit(tpl, &pctx, EVP_sha256(), NULL, c->key) != 1
        || (c->alg[0] == 'P'
            && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
                || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                    RSA_PSS_SALTLEN_DIGEST) != 1))) {
        die("EVP_DigestVerifyInit", c->alg);
    }
}

static void bare_verify(const case_t *c)
{
    if (EVP_MD_CTX_copy_ex(work, tpl) != 1
        || EVP_DigestVerify(work, c->der, c->der_len,
                            (const unsigned char *)c->input,
                            strlen(c->input)) != 1) {
        die("EVP_DigestVerify", c->alg);
    }
}

/* --- (c) cjose alone: import and verify, no claims, no key lookup ------ */

/* The public key of c as cjose holds it, from the JWKS document. */
static void cjose_setup(case_t *c, const char *kid)
{
    json_t *doc = json_loads(jwks_doc, 0, NULL), *k;
    cjose_err err;
    size_t i;
    char *one;

    json_array_foreach(json_object_get(doc, "keys"), i, k) {
        if (strcmp(json_string_value(json_object_get(k, "kid")), kid) == 0) {
            one = json_dumps(k, JSON_COMPACT);
            c->jwk = cjose_jwk_import(one, strlen(one), &err);
            free(one);
        }
    }
    json_decref(doc);
    if (c->jwk == NULL) {
        die("cjose_jwk_import", kid);
    }
}

static void cjose_verify(const case_t *c)
{
    cjose_err err;
    cjose_jws_t *jws = cjose_jws_import(c->compact, strlen(c->compact), &err);

    if (jws == NULL || !cjose_jws_verify(jws, c->jwk, &err)) {
        die("cjose_jws_verify", c->alg);
    }
    cjose_jws_release(jws);
}

/* --- timing ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Iterations of fn(c) that take about seconds (also a warm-up). */
static long calibrate(void (*fn)(const case_t *), const case_t *c,
                      double seconds)
{
    double t0 = now_ns();
    long n = 0;

    do {
        fn(c);
        n++;
    } while (now_ns() - t0 < 0.05e9);
    return (long)(seconds * 1e9 / ((now_ns() - t0) / n)) + 1;
}

/* ns per call of fn(c) over iters calls. */
static double run(void (*fn)(const case_t *), const case_t *c, long iters)
{
    double t0 = now_ns();
    long i;

    for (i = 0; i < iters; i++) {
        fn(c);
    }
    return (now_ns() - t0) / iters;
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof(v[0]), cmp_double);
    return v[ROUNDS / 2];
}

/* --count N: each of (a), (b) and (c) exactly N times, untimed, for an
 * instruction counter (valgrind --tool=callgrind --collect-atstart=no
 * --toggle-collect=count_only: the inclusive counts of module_verify,
 * bare_verify and cjose_verify divided by N; the first JWKS fetch and
 * the first parse of the keys are not counted). Not inlined, so that
 * callgrind sees it. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void count_only(const case_t *c, long n)
{
    long i;

    for (i = 0; i < n; i++) {
        module_verify(c);
        bare_verify(c);
        cjose_verify(c);
    }
    printf("%-6s %ld of each of (a), (b), (c)\n", c->alg, n);
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    const char *only = NULL;
    long count = 0;
    EVP_PKEY *rsa, *ec;
    case_t cases[3];
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        }
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = atol(argv[++i]);
        }
        else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
            only = argv[++i];
        }
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--count N] "
                    "[--alg RS256|PS256|ES256]\n", argv[0]);
            return 2;
        }
    }
    apr_initialize();
    apr_pool_create(&root, NULL);
    rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    tpl = EVP_MD_CTX_new();
    work = EVP_MD_CTX_new();
    if (rsa == NULL || ec == NULL || tpl == NULL || work == NULL) {
        die("key generation", NULL);
    }
    jwks_doc = make_jwks(rsa, ec);
    keys = make_keys();
    memset(cases, 0, sizeof(cases));
    cases[0] = (case_t){ "RS256", rsa, NULL, NULL, NULL, 0, NULL };
    cases[1] = (case_t){ "PS256", rsa, NULL, NULL, NULL, 0, NULL };
    cases[2] = (case_t){ "ES256", ec, NULL, NULL, NULL, 0, NULL };

    if (count == 0) {
        printf("%-6s %14s %14s %12s %14s %16s %12s\n", "alg", "(a) module",
               "(b) bare", "(a)/(b)", "(a)-(b)", "(c) cjose alone",
               "(c)/(b)");
    }
    for (i = 0; i < 3; i++) {
        case_t *c = &cases[i];
        const char *kid = c->alg[0] == 'E' ? "ec1" : "rsa1";
        double a, b, cj, ra[ROUNDS], rb[ROUNDS], rc[ROUNDS];
        long na, nb, nc;
        int r;

        if (only && strcmp(only, c->alg) != 0) {
            continue;
        }
        make_token(c, kid);
        bare_setup(c);
        cjose_setup(c, kid);
        module_verify(c);               /* fails loudly before timing */
        bare_verify(c);
        cjose_verify(c);
        if (count > 0) {
            count_only(c, count);
            continue;
        }
        na = calibrate(module_verify, c, seconds);
        nb = calibrate(bare_verify, c, seconds);
        nc = calibrate(cjose_verify, c, seconds);
        for (r = 0; r < ROUNDS; r++) {  /* interleaved: noise hits all */
            ra[r] = run(module_verify, c, na);
            rb[r] = run(bare_verify, c, nb);
            rc[r] = run(cjose_verify, c, nc);
        }
        a = median(ra);
        b = median(rb);
        cj = median(rc);
        printf("%-6s %11.0f ns %11.0f ns %11.2fx %11.1f us %13.0f ns %11.2fx\n",
               c->alg, a, b, a / b, (a - b) / 1000, cj, cj / b);
        fflush(stdout);
    }
    for (i = 0; i < 3; i++) {
        if (cases[i].jwk) {
            cjose_jwk_release(cases[i].jwk);
        }
    }
    EVP_MD_CTX_free(tpl);
    EVP_MD_CTX_free(work);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    apr_pool_destroy(root);
    apr_terminate();
    return 0;
}
