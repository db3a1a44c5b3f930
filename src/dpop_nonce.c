/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless resource-server DPoP nonces (see dpop_nonce.h). */
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
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
/* The ages told of stale nonces, at most ten years either way: a nonce
 * made with the key for a time nobody issued it at (a leaked key)
 * cannot overflow a 32-bit long. */
#define NONCE_AGE_MAX   (10LL * 366 * 86400)

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

const char *ojw_nonce_key_read(ojw_nonce_key_t *k, const char *path,
                               int *shared, apr_pool_t *pool)
{
    unsigned char buf[OJW_NONCE_KEY_MAX + 1];
    apr_size_t n = 0;
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    const char *why;
    char errbuf[120];

    memset(k, 0, sizeof(*k));
    *shared = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_PROT, f);
    }
    if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
        apr_file_close(f);
        return apr_psprintf(pool, "%s: not a regular file", path);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, buf, sizeof(buf), &n);
        rv = rv == APR_EOF ? APR_SUCCESS : rv;
    }
    if (f) {
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return apr_psprintf(pool, "%s: cannot be read: %s", path,
                            apr_strerror(rv, errbuf, sizeof(errbuf)));
    }
    why = ojw_nonce_key_set(k, buf, n);
    OPENSSL_cleanse(buf, sizeof(buf));
    *shared = (fi.protection & APR_FPROT_WREAD) != 0;
    return why ? apr_psprintf(pool, "%s: %s", path, why) : NULL;
}

apr_status_t ojw_nonce_key_wipe(void *k)
{
    OPENSSL_cleanse(k, sizeof(ojw_nonce_key_t));
    return APR_SUCCESS;
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
    if (issued > now + skew || issued < now - lifetime) {
        *age = issued > now + NONCE_AGE_MAX ? (long)-NONCE_AGE_MAX
               : issued < now - NONCE_AGE_MAX ? (long)NONCE_AGE_MAX
               : (long)(now - issued);
        return OJW_NONCE_STALE;
    }
    *age = (long)(now - issued);
    return OJW_NONCE_GOOD;
}

int ojw_nonce_renew(long age, long lifetime)
{
    return age > lifetime / 2;
}

/* The nonce member of claims: OJW_OK with *nonce (NULL when absent), or
 * OJW_ERR_DPOP_PROOF when it is not a string. */
static ojw_reason_t nonce_claim(const char **nonce, const json_t *claims,
                                ojw_error_t *err)
{
    const json_t *v = json_object_get(claims, "nonce");

    *nonce = NULL;
    if (v != NULL && !json_is_string(v)) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: nonce is not a "
                        "string");
    }
    *nonce = v ? json_string_value(v) : NULL;
    return OJW_OK;
}

/* The claims of a compact proof, parsed and not verified. */
static ojw_reason_t unverified(const json_t **claims, const char *proof,
                               size_t len, apr_pool_t *pool, ojw_error_t *err)
{
    ojw_token_t *tok = NULL;
    ojw_error_t why;

    memset(&why, 0, sizeof(why));
    if (ojw_token_parse(&tok, proof, len, OJW_DPOP_PROOF_MAX, pool, &why)
        != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    if ((*claims = ojw_token_unverified_claims(tok, pool)) == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: the payload is not "
                        "a JSON object");
    }
    return OJW_OK;
}

ojw_reason_t ojw_nonce_peek(const char **nonce, const char *proof,
                            size_t len, apr_pool_t *pool, ojw_error_t *err)
{
    const json_t *claims = NULL;
    ojw_reason_t rc;

    *nonce = NULL;
    if ((rc = unverified(&claims, proof, len, pool, err)) != OJW_OK) {
        return rc;
    }
    return nonce_claim(nonce, claims, err);
}

/* The detail of a refused nonce (state not GOOD). */
static ojw_reason_t refused(ojw_nonce_state_t state, long age,
                            const ojw_nonce_policy_t *pol, ojw_error_t *err)
{
    if (state == OJW_NONCE_ABSENT) {
        return ojw_fail(err, OJW_ERR_DPOP_NONCE, "proof: no nonce (nonces "
                        "are required here; one is sent in the DPoP-Nonce "
                        "header)");
    }
    if (state == OJW_NONCE_FORGED) {
        return ojw_fail(err, OJW_ERR_DPOP_NONCE, "proof: the nonce was not "
                        "issued with this server's nonce key (another "
                        "server's or fleet's key, a key changed by a "
                        "restart, or altered)");
    }
    if (age < 0) {
        return ojw_fail(err, OJW_ERR_DPOP_NONCE, "proof: the nonce was "
                        "issued %ld s in the future (skew %ld s)", -age,
                        pol->skew);
    }
    return ojw_fail(err, OJW_ERR_DPOP_NONCE, "proof: the nonce is stale: "
                    "issued %ld s ago, good for %ld s", age, pol->lifetime);
}

ojw_reason_t ojw_nonce_judge(long *age, const json_t *claims,
                             const ojw_nonce_policy_t *pol, apr_pool_t *pool,
                             ojw_error_t *err)
{
    const char *nonce;
    ojw_nonce_state_t state;
    ojw_reason_t rc;

    *age = 0;
    if (claims == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: the payload is not "
                        "a JSON object");
    }
    if ((rc = nonce_claim(&nonce, claims, err)) != OJW_OK) {
        return rc;
    }
    state = ojw_nonce_check(pol->key, nonce, pol->now, pol->lifetime,
                            pol->skew, age, pool);
    return state == OJW_NONCE_GOOD ? OJW_OK : refused(state, *age, pol, err);
}

ojw_reason_t ojw_nonce_require(long *age, const char *proof, size_t len,
                               const ojw_nonce_policy_t *pol,
                               apr_pool_t *pool, ojw_error_t *err)
{
    const json_t *claims = NULL;
    ojw_reason_t rc;

    *age = 0;
    if ((rc = unverified(&claims, proof, len, pool, err)) != OJW_OK) {
        return rc;
    }
    return ojw_nonce_judge(age, claims, pol, pool, err);
}
