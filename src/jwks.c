/* SPDX-License-Identifier: Apache-2.0 */
/* JWKS document -> key set, with the key policy described in jwks.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <cjose/base64.h>
#include <cjose/util.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "jwks.h"
#include "tenant.h"
#include "b64url.h"

static const ojw_alg_t algs[] = {
    { "RS256", OJW_KTY_RSA, NULL, 0 },
    { "RS384", OJW_KTY_RSA, NULL, 0 },
    { "RS512", OJW_KTY_RSA, NULL, 0 },
    { "PS256", OJW_KTY_RSA, NULL, 0 },
    { "PS384", OJW_KTY_RSA, NULL, 0 },
    { "PS512", OJW_KTY_RSA, NULL, 0 },
    { "ES256", OJW_KTY_EC, "P-256", 64 },
    { "ES384", OJW_KTY_EC, "P-384", 96 },
    { "ES512", OJW_KTY_EC, "P-521", 132 },
};

typedef struct {
    const char *crv;
    size_t coord_len;
    int bits;
    int nid;                  /* OpenSSL's name of the curve */
} curve_t;

static const curve_t curves[] = {
    { "P-256", 32, 256, NID_X9_62_prime256v1 },
    { "P-384", 48, 384, NID_secp384r1 },
    { "P-521", 66, 521, NID_secp521r1 },
};

/* Members that only a private or symmetric key has. */
static const char *const private_members[] = {
    "d", "p", "q", "dp", "dq", "qi", "oth", "k", NULL
};

const ojw_alg_t *ojw_alg_find(const char *name)
{
    size_t i;

    if (name == NULL) {
        return NULL;
    }
    for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        if (strcmp(algs[i].name, name) == 0) {
            return &algs[i];
        }
    }
    return NULL;
}

static const curve_t *curve_find(const char *crv)
{
    size_t i;

    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(curves[i].crv, crv) == 0) {
            return &curves[i];
        }
    }
    return NULL;
}

static const char *kty_name(ojw_kty_t kty)
{
    return kty == OJW_KTY_RSA ? "RSA" : "EC";
}

int ojw_key_fits_alg(const ojw_key_t *key, const ojw_alg_t *alg,
                     char *why, size_t whylen)
{
    if (key->kty != alg->kty) {
        snprintf(why, whylen, "alg %s needs a %s key, the key is %s",
                 alg->name, kty_name(alg->kty), kty_name(key->kty));
        return 0;
    }
    if (alg->crv && strcmp(alg->crv, key->crv) != 0) {
        snprintf(why, whylen, "alg %s needs curve %s, the key is on %s",
                 alg->name, alg->crv, key->crv);
        return 0;
    }
    if (key->alg && strcmp(key->alg, alg->name) != 0) {
        snprintf(why, whylen, "the key is for alg %s only, the token uses %s",
                 key->alg, alg->name);
        return 0;
    }
    return 1;
}

const ojw_key_t *ojw_keyset_find(const ojw_keyset_t *ks, const char *kid)
{
    int i;

    for (i = 0; ks && kid && i < ks->nkeys; i++) {
        if (ks->keys[i].kid && strcmp(ks->keys[i].kid, kid) == 0) {
            return &ks->keys[i];
        }
    }
    return NULL;
}

static apr_status_t keyset_cleanup(void *data)
{
    ojw_keyset_t *ks = data;
    int i;

    for (i = 0; i < ks->nkeys; i++) {
        cjose_jwk_release(ks->keys[i].jwk);
        ks->keys[i].jwk = NULL;
    }
    ks->nkeys = 0;
    return APR_SUCCESS;
}

/* A string member, or NULL when absent; *bad is set when not a string. */
static const char *member_string(json_t *obj, const char *name, int *bad)
{
    json_t *v = json_object_get(obj, name);

    if (v == NULL) {
        return NULL;
    }
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* Decodes a base64url member after checking it; NULL (with why) if bad. */
static const unsigned char *member_b64(apr_pool_t *pool, json_t *obj,
                                       const char *name, size_t *len,
                                       char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, name);
    unsigned char *out;

    if (!json_is_string(v)) {
        snprintf(why, whylen, "member \"%s\" is missing or not a string", name);
        return NULL;
    }
    if (ojw_b64url_decode(pool, json_string_value(v), json_string_length(v),
                          &out, len) != 0 || *len == 0) {
        snprintf(why, whylen, "member \"%s\" is not canonical unpadded "
                 "base64url", name);
        return NULL;
    }
    return out;
}

static int bit_length(const unsigned char *b, size_t len)
{
    int bits;

    while (len > 0 && *b == 0) {
        b++;
        len--;
    }
    if (len == 0) {
        return 0;
    }
    bits = (int)(len - 1) * 8;
    for (unsigned char c = *b; c; c >>= 1) {
        bits++;
    }
    return bits;
}

/*
 * ROCA (CVE-2017-15361): RSA keys made by Infineon's library are
 * n = k * M + (65537^a mod M), M the product of the first primes, so that
 * n mod p lies in the subgroup 65537 generates modulo each of them; their
 * private key can be computed from n. A random modulus has this property
 * for every prime up to 167 with negligible probability.
 */
static const unsigned roca_primes[] = {
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
    73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149,
    151, 157, 163, 167
};

static unsigned mod_small(const unsigned char *b, size_t len, unsigned p)
{
    unsigned r = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        r = (r * 256 + b[i]) % p;
    }
    return r;
}

/* 1 when r is a power of 65537 modulo the prime p. */
static int power_of_65537(unsigned r, unsigned p)
{
    unsigned g = 65537 % p, x = 1;

    do {
        if (x == r) {
            return 1;
        }
        x = x * g % p;
    } while (x != 1);
    return 0;
}

static int has_roca_fingerprint(const unsigned char *n, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof(roca_primes) / sizeof(roca_primes[0]); i++) {
        if (!power_of_65537(mod_small(n, len, roca_primes[i]),
                            roca_primes[i])) {
            return 0;
        }
    }
    return 1;
}

static int check_rsa(apr_pool_t *pool, json_t *jwk, ojw_key_t *key,
                     char *why, size_t whylen)
{
    const unsigned char *n, *e;
    size_t nlen, elen, i;
    unsigned long long ev = 0;
    int ebits;

    if ((n = member_b64(pool, jwk, "n", &nlen, why, whylen)) == NULL
        || (e = member_b64(pool, jwk, "e", &elen, why, whylen)) == NULL) {
        return 0;
    }
    key->bits = bit_length(n, nlen);
    if (key->bits < OJW_RSA_MIN_BITS || key->bits > OJW_RSA_MAX_BITS) {
        snprintf(why, whylen, "RSA modulus of %d bits (allowed: %d to %d)",
                 key->bits, OJW_RSA_MIN_BITS, OJW_RSA_MAX_BITS);
        return 0;
    }
    ebits = bit_length(e, elen);
    if (ebits > OJW_RSA_MAX_E_BITS) {
        snprintf(why, whylen, "RSA exponent of %d bits (at most %d: real "
                 "keys use 65537)", ebits, OJW_RSA_MAX_E_BITS);
        return 0;
    }
    for (i = 0; i < elen; i++) {
        ev = (ev << 8) | e[i];
    }
    if (ev < 3 || (ev & 1) == 0) {
        snprintf(why, whylen, "RSA exponent %llu (it must be odd and at "
                 "least 3)", ev);
        return 0;
    }
    if (has_roca_fingerprint(n, nlen)) {
        snprintf(why, whylen, "RSA modulus with the ROCA fingerprint "
                 "(CVE-2017-15361): its private key can be computed");
        return 0;
    }
    return 1;
}

/* 1 when x and y are below the field prime and (x, y) is on the curve;
 * cjose refuses other points too, but reports them as "out of memory". */
static int ec_point_valid(const curve_t *curve, const unsigned char *x,
                          const unsigned char *y, size_t len)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(curve->nid);
    EC_POINT *point = group ? EC_POINT_new(group) : NULL;
    BIGNUM *p = BN_new();
    BIGNUM *bx = BN_bin2bn(x, (int)len, NULL);
    BIGNUM *by = BN_bin2bn(y, (int)len, NULL);
    int ok = point && p && bx && by
             && EC_GROUP_get_curve(group, p, NULL, NULL, NULL) == 1
             && BN_cmp(bx, p) < 0 && BN_cmp(by, p) < 0
             && EC_POINT_set_affine_coordinates(group, point, bx, by,
                                                NULL) == 1
             && EC_POINT_is_on_curve(group, point, NULL) == 1;

    BN_free(by);
    BN_free(bx);
    BN_free(p);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    return ok;
}

static int check_ec(apr_pool_t *pool, json_t *jwk, ojw_key_t *key,
                    char *why, size_t whylen)
{
    int bad = 0;
    const char *crv = member_string(jwk, "crv", &bad);
    const curve_t *curve;
    const unsigned char *x, *y;
    size_t xlen, ylen;

    if (crv == NULL || (curve = curve_find(crv)) == NULL) {
        snprintf(why, whylen, "EC curve %s%s%s not supported (P-256, P-384, "
                 "P-521)", crv ? "\"" : "", crv ? crv : "(missing)",
                 crv ? "\"" : "");
        return 0;
    }
    if ((x = member_b64(pool, jwk, "x", &xlen, why, whylen)) == NULL
        || (y = member_b64(pool, jwk, "y", &ylen, why, whylen)) == NULL) {
        return 0;
    }
    if (xlen != curve->coord_len || ylen != curve->coord_len) {
        snprintf(why, whylen, "EC coordinates of %zu/%zu bytes, %s needs %zu",
                 xlen, ylen, crv, curve->coord_len);
        return 0;
    }
    if (!ec_point_valid(curve, x, y, xlen)) {
        snprintf(why, whylen, "EC point (x, y) is not on curve %s", crv);
        return 0;
    }
    key->crv = curve->crv;
    key->bits = curve->bits;
    return 1;
}

/* Hands cjose a clean JWK with only the public members we checked. */
static cjose_jwk_t *import_public(apr_pool_t *pool, json_t *jwk,
                                  const ojw_key_t *key, char *why,
                                  size_t whylen)
{
    static const char *const rsa_members[] = { "kty", "n", "e", NULL };
    static const char *const ec_members[] = { "kty", "crv", "x", "y", NULL };
    const char *const *m = key->kty == OJW_KTY_RSA ? rsa_members : ec_members;
    json_t *clean = json_object();
    cjose_jwk_t *out = NULL;
    cjose_err cerr;
    size_t len;
    char *buf;

    for (; *m; m++) {
        json_object_set(clean, *m, json_object_get(jwk, *m));
    }
    len = json_dumpb(clean, NULL, 0, JSON_COMPACT);
    buf = apr_palloc(pool, len + 1);
    if (len == 0 || json_dumpb(clean, buf, len, JSON_COMPACT) != len) {
        snprintf(why, whylen, "cannot serialise the key");
    }
    else if ((out = cjose_jwk_import(buf, len, &cerr)) == NULL) {
        snprintf(why, whylen, "cjose cannot import the key: %s",
                 cerr.message ? cerr.message : "unknown error");
    }
    json_decref(clean);
    return out;
}

/* Policy checks that exclude a key without being suspicious. */
static int key_is_for_signing(json_t *jwk, char *why, size_t whylen)
{
    int bad = 0;
    const char *use = member_string(jwk, "use", &bad);
    json_t *ops = json_object_get(jwk, "key_ops");
    size_t i;
    json_t *op;

    if (bad || (use && strcmp(use, "sig") != 0)) {
        snprintf(why, whylen, "\"use\" is not \"sig\"");
        return 0;
    }
    if (ops == NULL) {
        return 1;
    }
    json_array_foreach(ops, i, op) {
        if (json_is_string(op) && strcmp(json_string_value(op), "verify") == 0) {
            return 1;
        }
    }
    snprintf(why, whylen, "\"key_ops\" does not contain \"verify\"");
    return 0;
}

static int has_private_member(json_t *jwk)
{
    const char *const *m;

    for (m = private_members; *m; m++) {
        if (json_object_get(jwk, *m)) {
            return 1;
        }
    }
    return 0;
}

/* The JWK's issuer member, if any, into key->issuer: 0 (with why) when
 * it is not a string or not an issuer template that can be read. */
static int key_issuer(json_t *jwk, ojw_key_t *key, char *why, size_t whylen)
{
    int bad = 0;
    size_t at, len;

    key->issuer = member_string(jwk, "issuer", &bad);
    if (bad || (key->issuer && (*key->issuer == '\0'
                || ojw_issuer_placeholder(key->issuer, &at, &len) < 0))) {
        snprintf(why, whylen, "\"issuer\" is not a string naming one "
                 "issuer (with at most one {tenantid})");
        return 0;
    }
    return 1;
}

/* Checks and imports one JWK; returns 1 if usable, else 0 with why/level. */
static int load_key(apr_pool_t *pool, json_t *jwk, ojw_key_t *key,
                    ojw_note_level_t *level, char *why, size_t whylen)
{
    int bad = 0;
    const char *kty, *alg;
    const ojw_alg_t *known;

    memset(key, 0, sizeof(*key));
    *level = OJW_NOTE_WARN;
    if (!json_is_object(jwk)) {
        snprintf(why, whylen, "not a JSON object");
        return 0;
    }
    key->kid = member_string(jwk, "kid", &bad);
    kty = member_string(jwk, "kty", &bad);
    alg = member_string(jwk, "alg", &bad);
    if (bad) {
        snprintf(why, whylen, "\"kid\", \"kty\" or \"alg\" is not a string");
        return 0;
    }
    if (kty == NULL) {
        snprintf(why, whylen, "no \"kty\"");
        return 0;
    }
    if (!key_issuer(jwk, key, why, whylen)) {
        return 0;
    }
    if (!key_is_for_signing(jwk, why, whylen)) {
        *level = OJW_NOTE_DEBUG;
        return 0;
    }
    if (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) {
        *level = strcmp(kty, "oct") == 0 ? OJW_NOTE_WARN : OJW_NOTE_DEBUG;
        snprintf(why, whylen, "kty \"%s\" is not used (only RSA and EC; "
                 "symmetric keys are never taken from a JWKS)", kty);
        return 0;
    }
    key->kty = strcmp(kty, "RSA") == 0 ? OJW_KTY_RSA : OJW_KTY_EC;
    if (alg) {
        known = ojw_alg_find(alg);
        if (known == NULL || known->kty != key->kty) {
            *level = known ? OJW_NOTE_WARN : OJW_NOTE_DEBUG;
            snprintf(why, whylen, "alg \"%s\" is not an accepted signature "
                     "algorithm for a %s key", alg, kty);
            return 0;
        }
        key->alg = known->name;
    }
    if (has_private_member(jwk)) {
        snprintf(why, whylen, "the JWK holds private key material; a JWKS "
                 "must publish public keys only");
        return 0;
    }
    if (key->kty == OJW_KTY_RSA ? !check_rsa(pool, jwk, key, why, whylen)
                                : !check_ec(pool, jwk, key, why, whylen)) {
        return 0;
    }
    if (key->alg && key->kty == OJW_KTY_EC
        && strcmp(ojw_alg_find(key->alg)->crv, key->crv) != 0) {
        snprintf(why, whylen, "alg \"%s\" does not fit curve %s", key->alg,
                 key->crv);
        return 0;
    }
    key->jwk = import_public(pool, jwk, key, why, whylen);
    if (key->jwk == NULL) {
        return 0;
    }
    if (key->kid) {
        key->kid = apr_pstrdup(pool, key->kid);
    }
    if (key->issuer) {
        key->issuer = apr_pstrdup(pool, key->issuer);
    }
    return 1;
}

static apr_status_t jwk_cleanup(void *data)
{
    cjose_jwk_release(data);
    return APR_SUCCESS;
}

int ojw_jwk_load(ojw_key_t *key, json_t *jwk, apr_pool_t *pool, char *why,
                 size_t whylen)
{
    ojw_note_level_t level;

    if (!load_key(pool, jwk, key, &level, why, whylen)) {
        return 0;
    }
    apr_pool_cleanup_register(pool, key->jwk, jwk_cleanup,
                              apr_pool_cleanup_null);
    return 1;
}

static apr_status_t jwks_error(char *errbuf, size_t errlen, const char *fmt,
                               ...) __attribute__((format(printf, 3, 4)));

static apr_status_t jwks_error(char *errbuf, size_t errlen, const char *fmt,
                               ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    return APR_EINVAL;
}

static const char *duplicate_kid(const ojw_keyset_t *ks)
{
    int i, j;

    for (i = 0; i < ks->nkeys; i++) {
        for (j = i + 1; ks->keys[i].kid && j < ks->nkeys; j++) {
            if (ks->keys[j].kid && strcmp(ks->keys[i].kid, ks->keys[j].kid) == 0) {
                return ks->keys[i].kid;
            }
        }
    }
    return NULL;
}

static apr_status_t load_keys(ojw_keyset_t *ks, json_t *keys,
                              apr_pool_t *pool, ojw_jwks_note_fn *note,
                              void *baton, char *errbuf, size_t errlen)
{
    char why[256];
    ojw_note_level_t level;
    size_t i;
    json_t *jwk;
    const char *dup;

    json_array_foreach(keys, i, jwk) {
        ojw_key_t *key = &ks->keys[ks->nkeys];

        why[0] = '\0';
        if (load_key(pool, jwk, key, &level, why, sizeof(why))) {
            ks->nkeys++;
        }
        else if (note) {
            note(baton, level, (int)i, key->kid, why);
        }
    }
    if ((dup = duplicate_kid(ks)) != NULL) {
        return jwks_error(errbuf, errlen, "the JWKS has several keys with kid "
                          "\"%s\"; a kid must name one key", dup);
    }
    if (ks->nkeys == 0) {
        return jwks_error(errbuf, errlen, "the JWKS has no usable signature "
                          "key (RSA >= %d bits or EC P-256/384/521)",
                          OJW_RSA_MIN_BITS);
    }
    return APR_SUCCESS;
}

apr_status_t ojw_jwks_parse(ojw_keyset_t **out, const char *doc, size_t len,
                            apr_pool_t *pool, ojw_jwks_note_fn *note,
                            void *baton, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *root, *keys;
    ojw_keyset_t *ks;
    apr_status_t rv;

    *out = NULL;
    if (len > OJW_JWKS_MAX) {
        return jwks_error(errbuf, errlen, "the JWKS is %zu bytes, more than "
                          "the %d byte limit", len, OJW_JWKS_MAX);
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return jwks_error(errbuf, errlen, "the JWKS is not valid JSON: %s "
                          "(line %d, column %d, position %d)", jerr.text,
                          jerr.line, jerr.column, jerr.position);
    }
    keys = json_object_get(root, "keys");
    if (!json_is_object(root) || !json_is_array(keys)) {
        json_decref(root);
        return jwks_error(errbuf, errlen, "the JWKS is not an object with a "
                          "\"keys\" array");
    }
    if (json_array_size(keys) > OJW_JWKS_MAX_KEYS) {
        rv = jwks_error(errbuf, errlen, "the JWKS has %zu keys, more than the "
                        "limit of %d", json_array_size(keys),
                        OJW_JWKS_MAX_KEYS);
        json_decref(root);
        return rv;
    }
    ks = apr_pcalloc(pool, sizeof(*ks));
    apr_pool_cleanup_register(pool, ks, keyset_cleanup,
                              apr_pool_cleanup_null);
    rv = load_keys(ks, keys, pool, note, baton, errbuf, errlen);
    json_decref(root);
    if (rv == APR_SUCCESS) {
        *out = ks;
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* PEM -> JWKS                                                         */

/* base64url of the big-endian bytes of bn, left-padded to width bytes
 * (0: no padding); NULL when it does not fit. */
static const char *bn_b64url(apr_pool_t *pool, const BIGNUM *bn, int width)
{
    int n = width ? width : BN_num_bytes(bn);
    unsigned char *bin = apr_palloc(pool, (apr_size_t)n + 1);
    char *out = NULL, *copy;
    size_t outlen = 0;
    cjose_err cerr;

    if ((width ? BN_bn2binpad(bn, bin, width) : BN_bn2bin(bn, bin)) != n
        || !cjose_base64url_encode(bin, (size_t)n, &out, &outlen, &cerr)) {
        return NULL;
    }
    copy = apr_pstrmemdup(pool, out, outlen);
    cjose_get_dealloc()(out);
    return copy;
}

static EVP_PKEY *read_pem_key(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey;
    X509 *cert;

    if (bio == NULL) {
        return NULL;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (pkey == NULL) {
        (void)BIO_reset(bio);
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert) {
            pkey = X509_get_pubkey(cert);
            X509_free(cert);
        }
    }
    BIO_free(bio);
    return pkey;
}

/* Sets name to the base64url of pkey's BIGNUM parameter param. */
static int set_bn_member(apr_pool_t *pool, json_t *jwk, const char *name,
                         EVP_PKEY *pkey, const char *param, int width)
{
    BIGNUM *bn = NULL;
    const char *v = NULL;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) == 1) {
        v = bn_b64url(pool, bn, width);
    }
    BN_free(bn);
    if (v == NULL) {
        return 0;
    }
    json_object_set_new(jwk, name, json_string(v));
    return 1;
}

static int ec_members(apr_pool_t *pool, json_t *jwk, EVP_PKEY *pkey)
{
    static const struct { const char *group, *crv; int width; } groups[] = {
        { "prime256v1", "P-256", 32 },
        { "secp384r1", "P-384", 48 },
        { "secp521r1", "P-521", 66 },
    };
    char group[64];
    size_t i;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), NULL) != 1) {
        return 0;
    }
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (strcmp(group, groups[i].group) == 0) {
            json_object_set_new(jwk, "kty", json_string("EC"));
            json_object_set_new(jwk, "crv", json_string(groups[i].crv));
            return set_bn_member(pool, jwk, "x", pkey,
                                 OSSL_PKEY_PARAM_EC_PUB_X, groups[i].width)
                && set_bn_member(pool, jwk, "y", pkey,
                                 OSSL_PKEY_PARAM_EC_PUB_Y, groups[i].width);
        }
    }
    return 0;
}

apr_status_t ojw_jwks_from_pem(char **doc, const char *pem, size_t len,
                               const char *kid, apr_pool_t *pool,
                               char *errbuf, size_t errlen)
{
    EVP_PKEY *pkey = read_pem_key(pem, len);
    json_t *jwk = json_object(), *root;
    int ok = 0;
    char *text;

    *doc = NULL;
    if (pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        json_object_set_new(jwk, "kty", json_string("RSA"));
        ok = set_bn_member(pool, jwk, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0)
             && set_bn_member(pool, jwk, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    }
    else if (pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
        ok = ec_members(pool, jwk, pkey);
    }
    EVP_PKEY_free(pkey);
    if (!ok) {
        json_decref(jwk);
        return jwks_error(errbuf, errlen, "no RSA or EC (P-256/384/521) "
                          "public key or certificate in the PEM data");
    }
    if (kid) {
        json_object_set_new(jwk, "kid", json_string(kid));
    }
    root = json_pack("{s:[o]}", "keys", jwk);
    text = json_dumps(root, JSON_COMPACT);
    *doc = apr_pstrdup(pool, text);
    free(text);
    json_decref(root);
    return APR_SUCCESS;
}
