/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless resource-server DPoP nonces (see dpop_nonce.h). */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include "dpop_nonce.h"
#include "dpop.h"
#include "b64url.h"
#include "token.h"

#define NONCE_LABEL     "ordsjwt-dpop-nonce-v1"
#define NONCE_TIME_LEN  8
#define NONCE_MAC_LEN   16
#define NONCE_RAW_LEN   (NONCE_TIME_LEN + NONCE_MAC_LEN)

apr_status_t ojw_nonce_key_random(ojw_nonce_key_t *k)
{
    memset(k, 0, sizeof(*k));
    if (RAND_bytes(k->key, OJW_NONCE_KEY_MIN) != 1) {
        return APR_EGENERAL;
    }
    k->len = OJW_NONCE_KEY_MIN;
    return APR_SUCCESS;
}

const char *ojw_nonce_key_set(ojw_nonce_key_t *k, const void *bytes,
                              size_t len)
{
    memset(k, 0, sizeof(*k));
    if (len < OJW_NONCE_KEY_MIN) {
        return "a nonce key needs at least 32 bytes (openssl rand -out "
               "FILE 32)";
    }
    if (len > OJW_NONCE_KEY_MAX) {
        return "a nonce key has at most 1024 bytes";
    }
    memcpy(k->key, bytes, len);
    k->len = len;
    return NULL;
}

/* raw = issued || MAC(issued); 0 when the key is unset or HMAC fails. */
static int nonce_raw(unsigned char raw[NONCE_RAW_LEN],
                     const ojw_nonce_key_t *k, long long issued)
{
    unsigned char msg[sizeof(NONCE_LABEL) - 1 + NONCE_TIME_LEN];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    unsigned long long t = (unsigned long long)issued;
    int i;

    if (k == NULL || k->len == 0) {
        return 0;
    }
    for (i = NONCE_TIME_LEN - 1; i >= 0; i--, t >>= 8) {
        raw[i] = (unsigned char)(t & 0xff);
    }
    memcpy(msg, NONCE_LABEL, sizeof(NONCE_LABEL) - 1);
    memcpy(msg + sizeof(NONCE_LABEL) - 1, raw, NONCE_TIME_LEN);
    if (HMAC(EVP_sha256(), k->key, (int)k->len, msg, sizeof(msg), mac,
             &maclen) == NULL || maclen < NONCE_MAC_LEN) {
        return 0;
    }
    memcpy(raw + NONCE_TIME_LEN, mac, NONCE_MAC_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));
    return 1;
}

const char *ojw_nonce_make(const ojw_nonce_key_t *k, long long now,
                           apr_pool_t *pool)
{
    unsigned char raw[NONCE_RAW_LEN];

    return nonce_raw(raw, k, now) ? ojw_b64url_encode(pool, raw, sizeof(raw))
                                  : NULL;
}

/* The issue time of a nonce's raw bytes. */
static long long nonce_time(const unsigned char *raw)
{
    unsigned long long t = 0;
    int i;

    for (i = 0; i < NONCE_TIME_LEN; i++) {
        t = (t << 8) | raw[i];
    }
    return (long long)t;
}

ojw_nonce_state_t ojw_nonce_check(const ojw_nonce_key_t *k,
                                  const char *nonce, long long now,
                                  long lifetime, long skew, long *age,
                                  apr_pool_t *pool)
{
    unsigned char want[NONCE_RAW_LEN], *got = NULL;
    size_t got_len = 0;
    long long issued;

    *age = 0;
    if (nonce == NULL) {
        return OJW_NONCE_ABSENT;
    }
    if (strlen(nonce) != OJW_NONCE_LEN
        || ojw_b64url_decode(pool, nonce, OJW_NONCE_LEN, &got, &got_len) != 0
        || got_len != NONCE_RAW_LEN) {
        return OJW_NONCE_FORGED;
    }
    issued = nonce_time(got);
    if (!nonce_raw(want, k, issued)
        || CRYPTO_memcmp(want, got, NONCE_RAW_LEN) != 0) {
        return OJW_NONCE_FORGED;
    }
    *age = issued > now ? 0 : (long)(now - issued);
    if (issued > now + skew || issued < now - lifetime) {
        return OJW_NONCE_STALE;
    }
    return OJW_NONCE_GOOD;
}

int ojw_nonce_renew(long age, long lifetime)
{
    return age > lifetime / 2;
}

ojw_reason_t ojw_nonce_peek(const char **nonce, const char *proof,
                            size_t len, apr_pool_t *pool, ojw_error_t *err)
{
    ojw_token_t *tok = NULL;
    ojw_error_t why;
    const json_t *claims, *v;

    *nonce = NULL;
    memset(&why, 0, sizeof(why));
    if (ojw_token_parse(&tok, proof, len, OJW_DPOP_PROOF_MAX, pool, &why)
        != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    if ((claims = ojw_token_unverified_claims(tok, pool)) == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: the payload is not "
                        "a JSON object");
    }
    v = json_object_get(claims, "nonce");
    if (v != NULL && !json_is_string(v)) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: nonce is not a "
                        "string");
    }
    *nonce = v ? json_string_value(v) : NULL;
    return OJW_OK;
}
