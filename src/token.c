/* SPDX-License-Identifier: Apache-2.0 */
/* Compact JWS parse and verification (see token.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <cjose/jws.h>
#include "token.h"
#include "b64url.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *ojw_json_object_load(const char *buf, size_t len, apr_pool_t *pool,
                             char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (v == NULL) {
        snprintf(errbuf, errlen, "%s (position %d)", jerr.text, jerr.position);
        return NULL;
    }
    if (!json_is_object(v)) {
        snprintf(errbuf, errlen, "not a JSON object");
        json_decref(v);
        return NULL;
    }
    apr_pool_cleanup_register(pool, v, json_cleanup, apr_pool_cleanup_null);
    return v;
}

/* Splits into exactly three base64url segments; returns the dot offsets. */
static ojw_reason_t split_segments(const char *s, size_t len, size_t dots[2],
                                   ojw_error_t *err)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (n == 2) {
                return ojw_fail(err, OJW_ERR_MALFORMED, "more than three "
                                "segments (a JWE has five; only a compact "
                                "JWS is accepted)");
            }
            dots[n++] = i;
        }
    }
    if (n != 2) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "%zu segment(s), a compact JWS "
                        "has three", n + 1);
    }
    /* an empty signature is refused once alg is known (alg "none") */
    if (dots[0] == 0 || dots[1] == dots[0] + 1) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "empty segment");
    }
    if (!ojw_b64url_valid(s, dots[0])
        || !ojw_b64url_valid(s + dots[0] + 1, dots[1] - dots[0] - 1)
        || !ojw_b64url_valid(s + dots[1] + 1, len - dots[1] - 1)) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "a segment is not canonical "
                        "unpadded base64url");
    }
    return OJW_OK;
}

/* RFC 7515 4.1.11: we implement no extension, so any crit refuses. */
static ojw_reason_t check_extensions(json_t *header, ojw_error_t *err)
{
    json_t *crit = json_object_get(header, "crit");
    json_t *b64 = json_object_get(header, "b64");

    if (crit != NULL) {
        return ojw_fail(err, OJW_ERR_CRIT, "header lists critical extensions "
                        "(\"crit\"); none is supported");
    }
    if (b64 != NULL && !json_is_true(b64)) {
        return ojw_fail(err, OJW_ERR_CRIT, "unencoded payload (\"b64\") is "
                        "not supported");
    }
    return OJW_OK;
}

static ojw_reason_t parse_header(ojw_token_t *t, const char *seg, size_t len,
                                 apr_pool_t *pool, ojw_error_t *err)
{
    unsigned char *raw;
    size_t rawlen;
    char why[160];
    json_t *alg, *kid;
    ojw_reason_t rc;

    if (ojw_b64url_decode(pool, seg, len, &raw, &rawlen) != 0) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "header is not base64url");
    }
    t->header = ojw_json_object_load((const char *)raw, rawlen, pool, why,
                                     sizeof(why));
    if (t->header == NULL) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "header: %s", why);
    }
    alg = json_object_get(t->header, "alg");
    if (!json_is_string(alg)) {
        return ojw_fail(err, OJW_ERR_ALG, "header has no \"alg\" string");
    }
    t->alg = ojw_alg_find(json_string_value(alg));
    if (t->alg == NULL) {
        return ojw_fail(err, OJW_ERR_ALG, "alg \"%.32s\" is not accepted "
                        "(RS256/384/512, PS256/384/512, ES256/384/512 only)",
                        json_string_value(alg));
    }
    kid = json_object_get(t->header, "kid");
    if (kid != NULL && !json_is_string(kid)) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "\"kid\" is not a string");
    }
    t->kid = kid ? json_string_value(kid) : NULL;
    if ((rc = check_extensions(t->header, err)) != OJW_OK) {
        return rc;
    }
    return OJW_OK;
}

ojw_reason_t ojw_token_parse(ojw_token_t **out, const char *compact,
                             size_t len, size_t max_len, apr_pool_t *pool,
                             ojw_error_t *err)
{
    ojw_token_t *t;
    size_t dots[2];
    ojw_reason_t rc;

    *out = NULL;
    if (len > max_len) {
        return ojw_fail(err, OJW_ERR_TOO_LARGE, "token of %zu bytes exceeds "
                        "the limit of %zu", len, max_len);
    }
    if ((rc = split_segments(compact, len, dots, err)) != OJW_OK) {
        return rc;
    }
    t = apr_pcalloc(pool, sizeof(*t));
    t->compact = apr_pstrmemdup(pool, compact, len);
    t->len = len;
    if ((rc = parse_header(t, compact, dots[0], pool, err)) != OJW_OK) {
        return rc;
    }
    t->payload_at = dots[0] + 1;
    t->payload_b64_len = dots[1] - dots[0] - 1;
    /* base64url without padding: 4 chars -> 3 bytes, remainder 2 -> 1, 3 -> 2 */
    t->sig_len = (len - dots[1] - 1) / 4 * 3
                 + ((len - dots[1] - 1) % 4 ? (len - dots[1] - 1) % 4 - 1 : 0);
    if (t->sig_len == 0) {
        return ojw_fail(err, OJW_ERR_SIGNATURE, "empty signature");
    }
    *out = t;
    return OJW_OK;
}

json_t *ojw_token_unverified_claims(ojw_token_t *t, apr_pool_t *pool)
{
    unsigned char *raw;
    size_t len;
    char why[160];

    if (t->unverified == NULL && t->peeked == NULL
        && ojw_b64url_decode(pool, t->compact + t->payload_at,
                             t->payload_b64_len, &raw, &len) == 0) {
        t->peeked = (const char *)raw;
        t->peeked_len = len;
        t->unverified = ojw_json_object_load(t->peeked, len, pool, why,
                                             sizeof(why));
    }
    return t->unverified;
}

const char *ojw_token_peek_issuer(ojw_token_t *t, apr_pool_t *pool)
{
    json_t *claims = ojw_token_unverified_claims(t, pool);
    json_t *iss = claims ? json_object_get(claims, "iss") : NULL;

    return json_is_string(iss) ? json_string_value(iss) : NULL;
}

/* Bytes a signature must have for this alg and key. */
static size_t expected_sig_len(const ojw_alg_t *alg, const ojw_key_t *key)
{
    if (alg->kty == OJW_KTY_EC) {
        return alg->ec_sig_len;
    }
    return ((size_t)key->bits + 7) / 8;
}

ojw_reason_t ojw_signature_precheck(const ojw_alg_t *alg,
                                    const ojw_key_t *key, size_t sig_len,
                                    ojw_error_t *err)
{
    char why[160];

    if (!ojw_key_fits_alg(key, alg, why, sizeof(why))) {
        return ojw_fail(err, OJW_ERR_ALG, "key kid=%s: %s",
                        key->kid ? key->kid : "(none)", why);
    }
    if (sig_len != expected_sig_len(alg, key)) {
        return ojw_fail(err, OJW_ERR_SIGNATURE, "signature of %zu bytes, "
                        "%s with this key needs %zu", sig_len, alg->name,
                        expected_sig_len(alg, key));
    }
    return OJW_OK;
}

static ojw_reason_t check_key(const ojw_token_t *t, const ojw_key_t *key,
                              ojw_error_t *err)
{
    return ojw_signature_precheck(t->alg, key, t->sig_len, err);
}

static apr_status_t jws_cleanup(void *data)
{
    cjose_jws_release(data);
    return APR_SUCCESS;
}

/* cjose's import of the token, made once and released with pool. */
static cjose_jws_t *imported(ojw_token_t *t, apr_pool_t *pool, char *why,
                             size_t whylen)
{
    cjose_err cerr;

    if (t->jws == NULL) {
        t->jws = cjose_jws_import(t->compact, t->len, &cerr);
        if (t->jws == NULL) {
            snprintf(why, whylen, "cjose cannot import the token: %s",
                     cerr.message ? cerr.message : "unknown error");
            return NULL;
        }
        apr_pool_cleanup_register(pool, t->jws, jws_cleanup,
                                  apr_pool_cleanup_null);
    }
    return t->jws;
}

static int cjose_verifies(ojw_token_t *t, const ojw_key_t *key,
                          apr_pool_t *pool, char *why, size_t whylen)
{
    cjose_jws_t *jws = imported(t, pool, why, whylen);
    cjose_err cerr;

    if (jws == NULL) {
        return 0;
    }
    if (!cjose_jws_verify(jws, key->jwk, &cerr)) {
        snprintf(why, whylen, "%s", cerr.message ? cerr.message : "mismatch");
        return 0;
    }
    return 1;
}

/* The claims of the payload cjose verified: the ones parsed to choose a
 * profile when they came from exactly those bytes, else parsed now. */
static ojw_reason_t verified_claims(ojw_token_t *t, apr_pool_t *pool,
                                    ojw_error_t *err)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    cjose_err cerr;
    char why[160];

    if (!cjose_jws_get_plaintext(t->jws, &plain, &len, &cerr)) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "payload: %s",
                        cerr.message ? cerr.message : "not available");
    }
    if (t->unverified && t->peeked_len == len
        && memcmp(t->peeked, plain, len) == 0) {
        t->claims = t->unverified;
        return OJW_OK;
    }
    t->claims = ojw_json_object_load((const char *)plain, len, pool, why,
                                     sizeof(why));
    if (t->claims == NULL) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "payload: %s", why);
    }
    return OJW_OK;
}

/* Without a kid, a key that fits the alg may verify: the first
 * OJW_NO_KID_MAX_TRIES of them, so that a JWKS of many keys does not make
 * every such token cost as many signature checks. */
static ojw_reason_t verify_without_kid(ojw_token_t *t, const ojw_keyset_t *ks,
                                       apr_pool_t *pool, ojw_error_t *err)
{
    char why[160];
    int i, tried = 0, fitting = 0;

    for (i = 0; i < ks->nkeys; i++) {
        const ojw_key_t *key = &ks->keys[i];

        if (check_key(t, key, NULL) != OJW_OK) {
            continue;
        }
        if (++fitting > OJW_NO_KID_MAX_TRIES) {
            continue;       /* counted for the message, never tried */
        }
        tried++;
        if (cjose_verifies(t, key, pool, why, sizeof(why))) {
            t->key = key;
            return OJW_OK;
        }
    }
    if (tried == 0) {
        return ojw_fail(err, OJW_ERR_KID, "the token has no kid and no key "
                        "in the JWKS fits alg %s", t->alg->name);
    }
    if (fitting > tried) {
        return ojw_fail(err, OJW_ERR_KID, "the token has no kid: it was "
                        "tried with the first %d of the %d keys fitting %s, "
                        "and none verifies it (a token should name its key "
                        "with kid)", tried, fitting, t->alg->name);
    }
    return ojw_fail(err, OJW_ERR_SIGNATURE, "the token has no kid and none "
                    "of the %d keys fitting %s verifies it", tried,
                    t->alg->name);
}

ojw_reason_t ojw_token_verify(ojw_token_t *t, const ojw_keyset_t *ks,
                              apr_pool_t *pool, ojw_error_t *err)
{
    const ojw_key_t *key;
    char why[160];
    ojw_reason_t rc;

    if (t->kid == NULL || ks->any_kid) {
        rc = verify_without_kid(t, ks, pool, err);
    }
    else if ((key = ojw_keyset_find(ks, t->kid)) == NULL) {
        rc = ojw_fail(err, OJW_ERR_KID, "no key with kid \"%.64s\" in the "
                      "JWKS", t->kid);
    }
    else if ((rc = check_key(t, key, err)) == OJW_OK) {
        if (cjose_verifies(t, key, pool, why, sizeof(why))) {
            t->key = key;
        }
        else {
            rc = ojw_fail(err, OJW_ERR_SIGNATURE, "%s signature does not "
                          "verify with key kid=%.64s", t->alg->name, t->kid);
        }
    }
    if (rc != OJW_OK) {
        return rc;
    }
    return verified_claims(t, pool, err);
}

/* typ values of JWTs that are never access tokens. */
static const char *const not_access_types[] = {
    "dpop+jwt", "secevent+jwt", "logout+jwt", "token-introspection+jwt",
    "oauth-authz-req+jwt", "entity-statement+jwt", "jwk-set+jwt",
    "client-authentication+jwt", "txn+jwt", NULL
};

ojw_reason_t ojw_token_check_type(const ojw_token_t *t, const char *required,
                                  ojw_error_t *err)
{
    json_t *v = json_object_get(t->header, "typ");
    const char *typ;
    const char *const *n;

    if (v != NULL && !json_is_string(v)) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "\"typ\" is not a string");
    }
    typ = v ? json_string_value(v) : "";
    if (strncasecmp(typ, "application/", 12) == 0) {
        typ += 12;
    }
    for (n = not_access_types; *n; n++) {
        if (strcasecmp(typ, *n) == 0) {
            return ojw_fail(err, OJW_ERR_TOKEN_TYPE, "typ \"%.40s\" is not "
                            "an access token", json_string_value(v));
        }
    }
    if (required && strcasecmp(typ, required) != 0) {
        return ojw_fail(err, OJW_ERR_TOKEN_TYPE, "typ \"%.40s\" is not %s "
                        "(the profile's token_type)", v ? json_string_value(v)
                        : "(none)", required);
    }
    return OJW_OK;
}
