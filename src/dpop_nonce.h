/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource-server DPoP nonces (RFC 9449 sections 8 and 9), stateless: a
 * nonce is the time it was issued and an HMAC-SHA256 of that time under
 * a key, so that any process (or any server of a fleet) holding the key
 * accepts it without a store, and nobody without the key can make one.
 *
 *   nonce = base64url( issued (8 bytes, big-endian seconds)
 *                      || HMAC-SHA256(key, "ordsjwt-dpop-nonce-v1"
 *                                          || issued)[0..16) )
 *
 * 32 characters. A nonce is good from issued - skew to issued + lifetime:
 * a proof cannot be made more than lifetime seconds ahead of its use.
 */
#ifndef OJW_DPOP_NONCE_H
#define OJW_DPOP_NONCE_H

#include <jansson.h>
#include "ojw.h"

#define OJW_NONCE_KEY_MIN       32      /* bytes of a nonce key */
#define OJW_NONCE_KEY_MAX       1024
#define OJW_NONCE_LEN           32      /* characters of a nonce */
#define OJW_NONCE_LIFETIME_DEFAULT 300  /* seconds a nonce is good */

typedef struct {
    unsigned char key[OJW_NONCE_KEY_MAX];
    size_t len;                 /* 0: no key (nonces off) */
} ojw_nonce_key_t;

/* A key of OJW_NONCE_KEY_MIN random bytes (OpenSSL's RAND_bytes);
 * APR_EGENERAL when the generator fails. */
apr_status_t ojw_nonce_key_random(ojw_nonce_key_t *k);

/* A key from the bytes of a key file (between OJW_NONCE_KEY_MIN and
 * OJW_NONCE_KEY_MAX bytes, e.g. `openssl rand -out FILE 32`): every
 * server given the same file accepts the others' nonces. NULL, or why
 * the bytes cannot be a key. */
const char *ojw_nonce_key_set(ojw_nonce_key_t *k, const void *bytes,
                              size_t len);

/* A key from the key file path (OrdsJwtDpopNonceKeyFile): its bytes, as
 * ojw_nonce_key_set() takes them. NULL, or why not ("PATH: cannot be
 * read: ...", "PATH: a nonce key needs ..."); *shared: the file's mode
 * lets every user of the host read it. No copy of the bytes is left but
 * k's. */
const char *ojw_nonce_key_read(ojw_nonce_key_t *k, const char *path,
                               int *shared, apr_pool_t *pool);

/* Overwrites the key k (an ojw_nonce_key_t) with zeros; a pool cleanup. */
apr_status_t ojw_nonce_key_wipe(void *k);

/* A nonce issued at now (seconds since the epoch), in pool. */
const char *ojw_nonce_make(const ojw_nonce_key_t *k, long long now,
                           apr_pool_t *pool);

typedef enum {
    OJW_NONCE_GOOD,             /* made with k, within its lifetime */
    OJW_NONCE_ABSENT,           /* NULL: the proof has no nonce */
    OJW_NONCE_STALE,            /* made with k, but too old or too new */
    OJW_NONCE_FORGED            /* not a nonce made with k */
} ojw_nonce_state_t;

/* Judges nonce (NULL when the proof has none) at now; *age: seconds
 * since it was issued (negative: issued ahead of now), when made with k,
 * else 0. A key without bytes makes nothing GOOD. */
ojw_nonce_state_t ojw_nonce_check(const ojw_nonce_key_t *k,
                                  const char *nonce, long long now,
                                  long lifetime, long skew, long *age,
                                  apr_pool_t *pool);

/* 1 when a response should carry a fresh nonce: the client's good nonce
 * of this age has lived more than half its lifetime. */
int ojw_nonce_renew(long age, long lifetime);

/* What a location or profile that requires nonces asks of a proof. */
typedef struct {
    const ojw_nonce_key_t *key; /* this server's, or its fleet's */
    long lifetime;              /* seconds a nonce is good */
    long skew;                  /* seconds a nonce may be issued ahead
                                 * (another server's clock), >= 0 */
    long long now;              /* seconds since the epoch */
} ojw_nonce_policy_t;

/* Judges the nonce claim of a proof's claims (may be read before the
 * signature is verified: the caller verifies it over the same bytes
 * later): OJW_OK with *age (seconds since the nonce was issued), or
 * OJW_ERR_DPOP_NONCE (absent, stale or not this key's: the detail says
 * which), or OJW_ERR_DPOP_PROOF (the nonce is not a string). */
ojw_reason_t ojw_nonce_judge(long *age, const json_t *claims,
                             const ojw_nonce_policy_t *pol, apr_pool_t *pool,
                             ojw_error_t *err);

/* The "nonce" claim of a compact DPoP proof, read before any signature
 * is verified (so that a request without a good nonce costs a parse):
 * OJW_OK with *nonce (NULL when the proof has no nonce member), or
 * OJW_ERR_DPOP_PROOF when the proof is not a well-formed JWS, or its
 * nonce is not a string. Never trust the value for anything but
 * ojw_nonce_check(). */
ojw_reason_t ojw_nonce_peek(const char **nonce, const char *proof,
                            size_t len, apr_pool_t *pool, ojw_error_t *err);

/* ojw_nonce_judge() of a compact proof whose signature is not verified
 * yet (as ojw_nonce_peek() reads it): what a request that must carry a
 * nonce costs before anything is verified. */
ojw_reason_t ojw_nonce_require(long *age, const char *proof, size_t len,
                               const ojw_nonce_policy_t *pol,
                               apr_pool_t *pool, ojw_error_t *err);

#endif
