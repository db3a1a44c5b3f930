/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a JWKS document (as fetched from a jwk_url) through
 * the JWKS parser and key policy; every key that comes out is then asked
 * about every algorithm. An input starting with "-----BEGIN" also goes
 * through the PEM importer (pem_file profiles) and its JWKS.
 */
#include "fuzz.h"
#include "jwks.h"

static const char *const alg_names[] = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", NULL
};

static void note(void *baton, ojw_note_level_t level, int index,
                 const char *kid, const char *why)
{
    (void)baton;
    (void)kid;
    if ((level != OJW_NOTE_DEBUG && level != OJW_NOTE_WARN) || index < 0
        || why == NULL || strlen(why) >= 1024) {
        abort();
    }
}

static void check_keyset(const ojw_keyset_t *ks)
{
    const char *const *name;
    char why[256];
    int i;

    if (ks->nkeys < 1 || ks->nkeys > OJW_JWKS_MAX_KEYS) {
        abort();
    }
    for (i = 0; i < ks->nkeys; i++) {
        const ojw_key_t *key = &ks->keys[i];

        if (key->jwk == NULL || (key->kty != OJW_KTY_RSA
                                 && key->kty != OJW_KTY_EC)) {
            abort();
        }
        if (key->kty == OJW_KTY_RSA && key->bits < OJW_RSA_MIN_BITS) {
            abort();    /* the policy let a short RSA key through */
        }
        if (key->kid && ojw_keyset_find(ks, key->kid) != key) {
            abort();    /* two usable keys share a kid */
        }
        for (name = alg_names; *name; name++) {
            (void)ojw_key_fits_alg(key, ojw_alg_find(*name), why, sizeof(why));
        }
    }
}

static void parse(const char *doc, size_t len, apr_pool_t *pool)
{
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    if (ojw_jwks_parse(&ks, doc, len, pool, note, NULL, errbuf,
                       sizeof(errbuf)) == APR_SUCCESS) {
        check_keyset(ks);
    }
    else if (ks != NULL) {
        abort();
    }
}

static void fuzz_setup(void)
{
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    char errbuf[256];
    char *doc = NULL;

    parse((const char *)data, size, pool);
    if (size >= 10 && memcmp(data, "-----BEGIN", 10) == 0
        && ojw_jwks_from_pem(&doc, (const char *)data, size, "k1", pool,
                             errbuf, sizeof(errbuf)) == APR_SUCCESS) {
        parse(doc, strlen(doc), pool);
    }
}
