/* SPDX-License-Identifier: Apache-2.0 */
/* DPoP proofs and token confirmation (see dpop.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "dpop.h"
#include "profile.h"
#include "b64url.h"
#include "jwks.h"
#include "token.h"

/* ------------------------------------------------------------------ */
/* URL normalisation (RFC 3986 6.2.2, 6.2.3)                           */

static int unreserved(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Percent-encoding normalisation of s[0..len) into out (room for len+1);
 * 0 on a bad encoding or a byte outside printable ASCII. */
static int percent_normalise(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    int v;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c >= 0x7f) {
            return 0;
        }
        if (c != '%') {
            *out++ = (char)c;
            continue;
        }
        if (i + 2 >= len || hexval((unsigned char)s[i + 1]) < 0
            || hexval((unsigned char)s[i + 2]) < 0) {
            return 0;
        }
        v = hexval((unsigned char)s[i + 1]) * 16
            + hexval((unsigned char)s[i + 2]);
        i += 2;
        if (unreserved(v)) {
            *out++ = (char)v;
        }
        else {
            *out++ = '%';
            *out++ = hex[v >> 4];
            *out++ = hex[v & 15];
        }
    }
    *out = '\0';
    return 1;
}

/* Drops the last segment (and its '/') of out[0..*n). */
static void drop_segment(const char *out, size_t *n)
{
    while (*n > 0 && out[*n - 1] != '/') {
        (*n)--;
    }
    if (*n > 0) {
        (*n)--;
    }
}

/* RFC 3986 5.2.4 on an absolute path (it starts with '/'), in place. */
static void remove_dot_segments(char *path)
{
    const char *in = path;
    size_t n = 0;

    while (*in) {
        if (strncmp(in, "/./", 3) == 0 || strcmp(in, "/.") == 0) {
            in += 2;
            if (*in == '\0') {
                path[n++] = '/';
            }
        }
        else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            in += 3;
            drop_segment(path, &n);
            if (*in == '\0') {
                path[n++] = '/';
            }
        }
        else {
            do {
                path[n++] = *in++;
            } while (*in && *in != '/');
        }
    }
    path[n] = '\0';
}

/* 1 when host (lower case) is a reg-name of unreserved characters or an
 * IPv6 literal; percent-encoded or IDN hosts are not taken. */
static int host_valid(const char *host)
{
    const char *c;

    if (*host == '[') {
        for (c = host + 1; *c && *c != ']'; c++) {
            if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.') {
                return 0;
            }
        }
        return *c == ']' && c[1] == '\0' && c > host + 1;
    }
    for (c = host; *c; c++) {
        if (!unreserved((unsigned char)*c)) {
            return 0;
        }
    }
    return *host != '\0';
}

/* The authority a[0..len) as host[:port] without a default port. */
static const char *normal_authority(const char *a, size_t len, int https,
                                    apr_pool_t *pool, const char **why)
{
    char *host = apr_pstrmemdup(pool, a, len), *c, *colon, *end;
    long port = 0;

    if (memchr(a, '@', len)) {
        *why = "the URL has userinfo";
        return NULL;
    }
    for (c = host; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    colon = *host == '[' ? strchr(host, ']') : host;
    colon = colon ? strchr(colon, ':') : NULL;
    if (colon) {
        *colon++ = '\0';
        port = *colon ? strtol(colon, &end, 10) : 0;
        if (*colon && (!isdigit((unsigned char)*colon) || *end != '\0'
                       || port < 1 || port > 65535)) {
            *why = "the URL has a bad port";
            return NULL;
        }
    }
    if (!host_valid(host)) {
        *why = "the URL has no host, or a host that is neither a name nor "
               "an IP literal";
        return NULL;
    }
    if (port > 0 && port != (https ? 443 : 80)) {
        host = apr_psprintf(pool, "%s:%ld", host, port);
    }
    return host;
}

size_t ojw_url_scheme_len(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 ? 8
           : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
}

const char *ojw_url_normalise(const char *url, apr_pool_t *pool,
                              const char **why)
{
    size_t end = strcspn(url, "?#"), alen, i;
    const char *auth, *slash, *host;
    char *path;
    int https;

    *why = "the URL is not http:// or https://";
    if (ojw_url_scheme_len(url) == 0) {
        return NULL;
    }
    https = ojw_url_scheme_len(url) == 8;
    auth = url + ojw_url_scheme_len(url);
    slash = memchr(auth, '/', end - (size_t)(auth - url));
    alen = slash ? (size_t)(slash - auth) : end - (size_t)(auth - url);
    for (i = 0; i < alen; i++) {
        if ((unsigned char)auth[i] <= 0x20 || (unsigned char)auth[i] >= 0x7f) {
            *why = "the URL's host has a byte outside printable ASCII";
            return NULL;
        }
    }
    if ((host = normal_authority(auth, alen, https, pool, why)) == NULL) {
        return NULL;
    }
    alen = slash ? end - (size_t)(slash - url) : 0;
    path = apr_palloc(pool, alen + 2);
    if (!percent_normalise(path, slash ? slash : "", alen)) {
        *why = "the URL's path has a bad percent-encoding or a byte outside "
               "printable ASCII";
        return NULL;
    }
    if (*path == '\0') {
        strcpy(path, "/");
    }
    remove_dot_segments(path);
    return apr_pstrcat(pool, https ? "https://" : "http://", host, path, NULL);
}

/* ------------------------------------------------------------------ */
/* thumbprints and cnf                                                 */

const char *ojw_jwk_thumbprint(const json_t *jwk, apr_pool_t *pool)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *canon;

#define M(name) json_string_value(json_object_get(jwk, name))
    if (kty && strcmp(kty, "EC") == 0 && M("crv") && M("x") && M("y")) {
        canon = apr_psprintf(pool, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                             "\"y\":\"%s\"}", M("crv"), M("x"), M("y"));
    }
    else if (kty && strcmp(kty, "RSA") == 0 && M("e") && M("n")) {
        canon = apr_psprintf(pool, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                             M("e"), M("n"));
    }
    else {
        return NULL;
    }
#undef M
    return ojw_b64url_sha256(pool, canon, strlen(canon));
}

static int cnf_member(const json_t *cnf, const char *name, const char **out)
{
    json_t *v = json_object_get(cnf, name);

    *out = NULL;
    if (v == NULL) {
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > 128) {
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

ojw_reason_t ojw_cnf_read(ojw_cnf_t *cnf, const json_t *claims,
                          ojw_error_t *err)
{
    json_t *c = json_object_get(claims, "cnf");

    memset(cnf, 0, sizeof(*cnf));
    if (c == NULL) {
        return OJW_OK;
    }
    cnf->present = 1;
    if (!json_is_object(c) || !cnf_member(c, "jkt", &cnf->jkt)
        || !cnf_member(c, "x5t#S256", &cnf->x5t_s256)) {
        return ojw_fail(err, OJW_ERR_BINDING, "cnf is not an object whose "
                        "jkt and x5t#S256 are strings");
    }
    if (cnf->jkt == NULL && cnf->x5t_s256 == NULL) {
        return ojw_fail(err, OJW_ERR_BINDING, "cnf names no confirmation "
                        "method this server checks (jkt, x5t#S256): the "
                        "token is bound to something it cannot verify");
    }
    return OJW_OK;
}

ojw_reason_t ojw_binding_policy(const ojw_cnf_t *cnf, int dpop, int mtls,
                                ojw_sent_t sent, ojw_error_t *err)
{
    if (sent == OJW_SENT_DPOP && dpop == OJW_BIND_OFF) {
        return ojw_fail(err, OJW_ERR_BINDING, "the DPoP scheme is not "
                        "accepted by this profile (dpop=allowed enables it)");
    }
    if (sent == OJW_SENT_DPOP && cnf->jkt == NULL) {
        return ojw_fail(err, OJW_ERR_BINDING, "sent with the DPoP scheme, "
                        "the token is not DPoP-bound (no cnf.jkt)");
    }
    if (sent != OJW_SENT_DPOP && cnf->jkt) {
        return ojw_fail(err, OJW_ERR_BINDING, "a DPoP-bound token (cnf.jkt) "
                        "must be sent with the DPoP scheme and a proof, not "
                        "as %s", sent == OJW_SENT_BASIC ? "a Basic password"
                                                        : "Bearer");
    }
    if (sent != OJW_SENT_DPOP && dpop == OJW_BIND_REQUIRED) {
        return ojw_fail(err, OJW_ERR_BINDING, "the profile requires DPoP "
                        "(dpop=required)");
    }
    if (cnf->x5t_s256 == NULL && mtls == OJW_BIND_REQUIRED) {
        return ojw_fail(err, OJW_ERR_BINDING, "the profile requires a token "
                        "bound to a client certificate (mtls=required), the "
                        "token has no cnf x5t#S256");
    }
    return OJW_OK;
}

const char *ojw_hint_for_binding(ojw_reason_t reason)
{
    switch (reason) {
    case OJW_ERR_TOKEN_TYPE:
        return "an access token has typ at+jwt (RFC 9068) or none; a DPoP "
               "proof or another JWT is never one";
    case OJW_ERR_DPOP_MISSING:
        return "send exactly one DPoP header with a fresh proof";
    case OJW_ERR_DPOP_PROOF:
        return "a proof is made for each request: htm the method, htu the "
               "URL without query, ath the token's hash, signed by the key "
               "of cnf.jkt";
    case OJW_ERR_DPOP_REPLAY:
        return "make a new proof (new jti) for every request";
    case OJW_ERR_DPOP_NONCE:
        return "put the nonce of the DPoP-Nonce response header in the "
               "proof's nonce claim and retry (RFC 9449 section 9; "
               "clients such as oauth4webapi do so on use_dpop_nonce)";
    case OJW_ERR_CERT_MISSING:
        return "connect over TLS with the client certificate the token "
               "was issued for (SSLVerifyClient optional_no_ca)";
    case OJW_ERR_CERT_MISMATCH:
        return "the token was issued for another client certificate";
    default:
        return NULL;
    }
}

const char *ojw_cert_thumbprint_pem(const char *pem, size_t len,
                                    apr_pool_t *pool)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    const char *out = NULL;
    int n;

    if (x && (n = i2d_X509(x, &der)) > 0) {
        out = ojw_b64url_sha256(pool, der, (size_t)n);
        OPENSSL_free(der);
    }
    X509_free(x);
    BIO_free(bio);
    return out;
}

/* ------------------------------------------------------------------ */
/* the proof                                                           */

static ojw_reason_t bad(ojw_error_t *err, const char *what)
{
    return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", what);
}

/* Parses the compact proof, judges its nonce (req->nonce) before
 * anything costs more than that parse, checks typ and jwk, verifies the
 * signature with that jwk; *claims: the verified claims, *jkt: the key's
 * thumbprint, out->nonce_age. */
static ojw_reason_t verified_proof(json_t **claims, const char **jkt,
                                   ojw_dpop_proof_t *out, const char *proof,
                                   size_t len, const ojw_dpop_request_t *req,
                                   apr_pool_t *pool, ojw_error_t *err)
{
    ojw_keyset_t *ks = apr_pcalloc(pool, sizeof(*ks));
    ojw_token_t *tok = NULL;
    ojw_error_t why;
    json_t *typ, *jwk;
    char kwhy[160];

    memset(&why, 0, sizeof(why));
    if (ojw_token_parse(&tok, proof, len, OJW_DPOP_PROOF_MAX, pool, &why)
        != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    if (req->nonce && ojw_nonce_judge(&out->nonce_age,
                                      ojw_token_unverified_claims(tok, pool),
                                      req->nonce, pool, err) != OJW_OK) {
        return err->reason;
    }
    typ = json_object_get(tok->header, "typ");
    if (!json_is_string(typ) || strcmp(json_string_value(typ), "dpop+jwt")) {
        return bad(err, "typ is not \"dpop+jwt\"");
    }
    jwk = json_object_get(tok->header, "jwk");
    if (!json_is_object(jwk)) {
        return bad(err, "the header has no jwk object");
    }
    if (!ojw_jwk_load(&ks->keys[0], jwk, pool, kwhy, sizeof(kwhy))) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: jwk: %s", kwhy);
    }
    ks->nkeys = 1;
    ks->any_kid = 1;
    if (ojw_token_verify(tok, ks, pool, &why) != OJW_OK) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: %s", why.detail);
    }
    *claims = tok->claims;
    *jkt = ojw_jwk_thumbprint(jwk, pool);
    return *jkt ? OJW_OK : bad(err, "no thumbprint for the jwk");
}

static const char *string_claim(const json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* htm and htu against the request. */
static ojw_reason_t check_target(const json_t *claims,
                                 const ojw_dpop_request_t *req,
                                 apr_pool_t *pool, ojw_error_t *err)
{
    const char *htm = string_claim(claims, "htm");
    const char *htu = string_claim(claims, "htu");
    const char *mine, *theirs, *why;

    if (htm == NULL || strcmp(htm, req->method) != 0) {
        return bad(err, "htm is not the request method");
    }
    if (htu == NULL) {
        return bad(err, "no htu string");
    }
    if ((theirs = ojw_url_normalise(htu, pool, &why)) == NULL) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: htu: %s", why);
    }
    if ((mine = ojw_url_normalise(req->url, pool, &why)) == NULL
        || strcmp(mine, theirs) != 0) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: htu is not the "
                        "request URL %.200s (behind a TLS-terminating "
                        "balancer, set OrdsJwtDpopBaseUrl)",
                        mine ? mine : req->url);
    }
    return OJW_OK;
}

/* iat within [now - window - skew, now + skew]; *iat. */
static ojw_reason_t check_iat(const json_t *claims,
                              const ojw_dpop_request_t *req, long long *iat,
                              ojw_error_t *err)
{
    json_t *v = json_object_get(claims, "iat");

    if (!json_is_integer(v)) {
        return bad(err, "no integer iat");
    }
    *iat = json_integer_value(v);
    if (*iat > req->now + req->skew) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: iat is %lld s in "
                        "the future", *iat - req->now);
    }
    if (*iat < req->now - req->window - req->skew) {
        return ojw_fail(err, OJW_ERR_DPOP_PROOF, "proof: iat is %lld s old "
                        "(window %ld s, skew %ld s)", req->now - *iat,
                        req->window, req->skew);
    }
    return OJW_OK;
}

/* jti, ath, and the proof key against the token's cnf.jkt. */
static ojw_reason_t check_binding(const json_t *claims, const char *jkt,
                                  const ojw_dpop_request_t *req,
                                  apr_pool_t *pool, ojw_error_t *err)
{
    const char *jti = string_claim(claims, "jti");
    const char *ath = string_claim(claims, "ath");
    const char *want = ojw_b64url_sha256(pool, req->access_token,
                                         req->access_token_len);

    if (jti == NULL || *jti == '\0' || strlen(jti) > OJW_DPOP_JTI_MAX) {
        return bad(err, "no jti string (of at most 256 bytes)");
    }
    if (ath == NULL || want == NULL || strcmp(ath, want) != 0) {
        return bad(err, "ath is not the hash of the access token");
    }
    if (req->jkt == NULL || strcmp(req->jkt, jkt) != 0) {
        return bad(err, "the proof's key is not the one the token is bound "
                   "to (cnf.jkt)");
    }
    return OJW_OK;
}

ojw_reason_t ojw_dpop_check(ojw_dpop_proof_t *out, const char *proof,
                            size_t len, const ojw_dpop_request_t *req,
                            apr_pool_t *pool, ojw_error_t *err)
{
    json_t *claims = NULL;
    const char *jkt = NULL;
    long long iat = 0;
    const char *jti;
    size_t klen;
    char *buf;
    ojw_reason_t rc;

    memset(out, 0, sizeof(*out));
    if ((rc = verified_proof(&claims, &jkt, out, proof, len, req, pool, err))
        != OJW_OK
        || (rc = check_target(claims, req, pool, err)) != OJW_OK
        || (rc = check_iat(claims, req, &iat, err)) != OJW_OK
        || (rc = check_binding(claims, jkt, req, pool, err)) != OJW_OK) {
        return rc;
    }
    /* the jti scoped by the key: one client cannot burn another's jti */
    jti = string_claim(claims, "jti");
    klen = strlen(jkt) + 1;
    buf = apr_palloc(pool, klen + strlen(jti));
    memcpy(buf, jkt, klen);
    memcpy(buf + klen, jti, strlen(jti));
    SHA256((const unsigned char *)buf, klen + strlen(jti), out->replay_key);
    out->expires = iat + req->window + req->skew + 1;
    out->jkt = jkt;
    return OJW_OK;
}
