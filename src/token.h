/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compact JWS: parse, check, verify.
 *
 * ojw_token_parse() validates every byte before cjose sees it (segments,
 * base64url, header JSON with duplicate members refused, alg, crit, b64);
 * ojw_token_verify() picks the key, checks that it fits the alg and the
 * signature length, verifies with cjose and only then parses the claims,
 * from the payload bytes cjose verified. Each segment is decoded once by
 * us (the header, to check it; the payload only to choose a profile) and
 * once by cjose's import, which happens once per token.
 */
#ifndef OJW_TOKEN_H
#define OJW_TOKEN_H

#include <jansson.h>
#include "ojw.h"
#include "jwks.h"

typedef struct {
    const char *compact;          /* the token as received (pool copy) */
    size_t len;
    json_t *header;               /* protected header (decref'd by pool) */
    const ojw_alg_t *alg;
    const char *kid;              /* NULL when the header has none */
    size_t payload_at;            /* offset of the payload segment */
    size_t payload_b64_len;
    size_t sig_len;               /* decoded signature length */
    void *jws;                    /* cjose's import, once (pool cleanup) */
    json_t *unverified;           /* claims parsed to peek at iss, or NULL */
    const char *peeked;           /* the payload bytes they came from */
    size_t peeked_len;
    json_t *claims;               /* set by ojw_token_verify() only */
    const ojw_key_t *key;         /* the key that verified */
} ojw_token_t;

/* Parses and checks a compact JWS of at most max_len bytes. */
ojw_reason_t ojw_token_parse(ojw_token_t **tok, const char *compact,
                             size_t len, size_t max_len, apr_pool_t *pool,
                             ojw_error_t *err);

/* The "iss" of the not yet verified payload, to choose among profiles;
 * NULL when absent or not a string. Never trust it for anything else.
 * The parsed payload is kept: verification reuses it when cjose verified
 * exactly those bytes. */
const char *ojw_token_peek_issuer(ojw_token_t *tok, apr_pool_t *pool);

/* The not yet verified claims (for tests and fuzzing), or NULL. */
json_t *ojw_token_unverified_claims(ojw_token_t *tok, apr_pool_t *pool);

/* Verifies the signature with a key of ks and then parses the claims. */
ojw_reason_t ojw_token_verify(ojw_token_t *tok, const ojw_keyset_t *ks,
                              apr_pool_t *pool, ojw_error_t *err);

/* What is checked before a signature is handed to cjose: the key fits alg
 * (kty, curve, the JWK's own alg) and the signature has exactly the length
 * alg needs with this key (r||s for ES*, the modulus size for RS and PS). */
ojw_reason_t ojw_signature_precheck(const ojw_alg_t *alg,
                                    const ojw_key_t *key, size_t sig_len,
                                    ojw_error_t *err);

/* Explicit typing (RFC 8725 3.11, RFC 9068): refuses a token whose typ
 * names another kind of JWT (dpop+jwt, secevent+jwt, logout+jwt, ...),
 * whatever the profile says; with required "at+jwt", only typ at+jwt or
 * application/at+jwt (media types compare case-insensitively, RFC 7515
 * 4.1.9). A typ that is not a string is malformed. */
ojw_reason_t ojw_token_check_type(const ojw_token_t *tok,
                                  const char *required, ojw_error_t *err);

/* Parses JSON with duplicate members refused into an object whose
 * reference is dropped when pool is cleared; NULL with errbuf set. */
json_t *ojw_json_object_load(const char *buf, size_t len, apr_pool_t *pool,
                             char *errbuf, size_t errlen);

#endif
