/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWKS document -> key set, with the key policy a resource server needs:
 * only RSA (>= 2048 bits, odd e >= 3) and EC (P-256/384/521) signature
 * keys; every base64url member checked before cjose sees it; duplicate
 * kids refuse the set; unusable keys are skipped with a reason. A key
 * with an "issuer" member (Entra ID's) keeps it: it signs only for the
 * issuers it names (tenant.h).
 */
#ifndef OJW_JWKS_H
#define OJW_JWKS_H

#include <jansson.h>
#include <cjose/jwk.h>
#include "ojw.h"

typedef enum { OJW_KTY_RSA = 1, OJW_KTY_EC = 2 } ojw_kty_t;

typedef struct {
    const char *kid;          /* NULL when the JWK has none */
    ojw_kty_t kty;
    int bits;                 /* RSA modulus bits / EC field bits */
    const char *crv;          /* EC only: "P-256", "P-384", "P-521" */
    const char *alg;          /* the JWK's alg, NULL when absent */
    cjose_jwk_t *jwk;         /* released with the key set's pool */
    const char *issuer;       /* the JWK's issuer (Entra ID: a template,
                               * see tenant.h), NULL when absent */
} ojw_key_t;

typedef struct {
    int nkeys;
    int any_kid;              /* keys are tried whatever the token's kid */
    ojw_key_t keys[OJW_JWKS_MAX_KEYS];
} ojw_keyset_t;

/* Severity of a note about a skipped key. */
typedef enum { OJW_NOTE_DEBUG, OJW_NOTE_WARN } ojw_note_level_t;

/* Called for each key that is skipped (index in "keys", kid or NULL, why). */
typedef void ojw_jwks_note_fn(void *baton, ojw_note_level_t level, int index,
                              const char *kid, const char *why);

/*
 * Parses a JWKS document into *ks, allocated from pool (a pool cleanup
 * releases the cjose keys). Returns APR_SUCCESS, or APR_EINVAL with a
 * message in errbuf when the document is unusable as a whole: not JSON
 * (with line, column and position), "keys" missing or not an array, more
 * than OJW_JWKS_MAX_KEYS keys, duplicate kids, or no usable key at all.
 */
apr_status_t ojw_jwks_parse(ojw_keyset_t **ks, const char *doc, size_t len,
                            apr_pool_t *pool, ojw_jwks_note_fn *note,
                            void *baton, char *errbuf, size_t errlen);

/*
 * A JWKS document holding the one public key of a PEM file (a PUBLIC KEY
 * or a CERTIFICATE), with "kid" when kid is not NULL. APR_EINVAL with a
 * message in errbuf when the PEM holds no RSA or EC P-256/384/521 key.
 */
apr_status_t ojw_jwks_from_pem(char **doc, const char *pem, size_t len,
                               const char *kid, apr_pool_t *pool,
                               char *errbuf, size_t errlen);

/* Checks and imports one JWK object with the key policy of a JWKS (RSA
 * or EC, public members only, sizes, curve points); the cjose key is
 * released with pool. 1 when usable, else 0 with the reason in why. */
int ojw_jwk_load(ojw_key_t *key, json_t *jwk, apr_pool_t *pool, char *why,
                 size_t whylen);

/* The key with this kid, or NULL. */
const ojw_key_t *ojw_keyset_find(const ojw_keyset_t *ks, const char *kid);

/* Signature algorithms we accept: RS/PS/ES 256/384/512. */
typedef struct {
    const char *name;
    ojw_kty_t kty;
    const char *crv;          /* ES*: the one curve that fits */
    size_t ec_sig_len;        /* ES*: bytes of r||s */
} ojw_alg_t;

/* The algorithm named exactly so (case-sensitive), or NULL. */
const ojw_alg_t *ojw_alg_find(const char *name);

/* 1 when the key may verify a signature made with alg (kty, curve, the
 * JWK's own alg); otherwise 0 with the reason in why. */
int ojw_key_fits_alg(const ojw_key_t *key, const ojw_alg_t *alg,
                     char *why, size_t whylen);

#endif
