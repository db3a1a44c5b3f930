/* SPDX-License-Identifier: Apache-2.0 */
/* What ordsjwt-check prints of a token: the pipeline observed (report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include "report.h"
#include "b64url.h"
#include "diagnose.h"
#include "binding.h"

/* ------------------------------------------------------------------ */
/* segments                                                            */

json_t *ojw_report_segment(const char *compact, size_t len, int index,
                           apr_pool_t *pool, const char **why)
{
    const char *start = compact, *end = compact + len, *dot;
    unsigned char *raw;
    size_t rawlen;
    char errbuf[160];
    json_t *v;
    int i;

    for (i = 0; i < index; i++) {
        if ((dot = memchr(start, '.', (size_t)(end - start))) == NULL) {
            *why = "no such segment";
            return NULL;
        }
        start = dot + 1;
    }
    dot = memchr(start, '.', (size_t)(end - start));
    if (ojw_b64url_decode(pool, start, (size_t)((dot ? dot : end) - start),
                          &raw, &rawlen) != 0) {
        *why = "not canonical unpadded base64url";
        return NULL;
    }
    v = ojw_json_object_load((const char *)raw, rawlen, pool, errbuf,
                             sizeof(errbuf));
    if (v == NULL) {
        *why = apr_pstrcat(pool, "not a JSON object: ", errbuf, NULL);
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* what a passing step found                                           */

/* The alg of a token that parse refused after its alg was accepted. */
static const char *header_alg(const ojw_report_t *rep, apr_pool_t *pool)
{
    const char *why;
    json_t *h = ojw_report_segment(rep->compact, rep->len, 0, pool, &why);
    json_t *alg = h ? json_object_get(h, "alg") : NULL;

    return json_is_string(alg) ? apr_pstrdup(pool, json_string_value(alg))
                               : "accepted";
}

static const char *key_text(apr_pool_t *pool, const ojw_key_t *key)
{
    const char *kid = key->kid ? apr_psprintf(pool, "kid \"%s\"", key->kid)
                               : "a key without kid";

    if (key->kty == OJW_KTY_EC) {
        return apr_psprintf(pool, "%s: EC %s%s%s", kid, key->crv,
                            key->alg ? ", alg " : "",
                            key->alg ? key->alg : "");
    }
    return apr_psprintf(pool, "%s: RSA %d bits%s%s", kid, key->bits,
                        key->alg ? ", alg " : "", key->alg ? key->alg : "");
}

/* What the key step found. */
static const char *key_found(apr_pool_t *pool, const ojw_token_t *tok,
                             const ojw_keyset_t *ks)
{
    const ojw_key_t *key = tok->key;

    if (ks == NULL) {
        return "a key";
    }
    if (key == NULL && tok->kid && !ks->any_kid) {
        key = ojw_keyset_find(ks, tok->kid);
    }
    if (key) {
        return apr_pstrcat(pool, key_text(pool, key), ks->any_kid
                           ? " (pem_file without pem_kid: any kid)" : "",
                           NULL);
    }
    return apr_psprintf(pool, "%s: every key that fits %s was tried",
                        tok->kid ? "any kid is accepted" : "the token has "
                        "no kid", tok->alg->name);
}

/* "in 300 s (2024-05-01T12:00:00Z)" or "300 s ago (...)". */
static const char *when(apr_pool_t *pool, const json_t *claims,
                        const char *name, long long now)
{
    double t = json_number_value(json_object_get(claims, name));
    time_t secs = (time_t)t;
    char date[32] = "";
    struct tm tm;

    if (gmtime_r(&secs, &tm)) {
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (t == (double)now) {
        return apr_psprintf(pool, "now (%s)", date);
    }
    if (t > (double)now) {
        return apr_psprintf(pool, "in %.0f s (%s)", t - (double)now, date);
    }
    return apr_psprintf(pool, "%.0f s ago (%s)", (double)now - t, date);
}

static const char *audience_text(apr_pool_t *pool, const json_t *aud,
                                 const char *audience)
{
    if (json_is_array(aud) && json_array_size(aud) == 1) {
        return apr_psprintf(pool, "[\"%s\"]", audience);
    }
    if (json_is_array(aud)) {
        return apr_psprintf(pool, "\"%s\" (one of %" APR_SIZE_T_FMT
                            " entries)", audience, json_array_size(aud));
    }
    return ojw_json_text(pool, aud);
}

/* The iss, and the tenant when the issuer is a template. */
static const char *issuer_text(const ojw_check_t *c)
{
    const char *iss = ojw_json_text(c->pool, json_object_get(c->claims,
                                                             "iss"));
    const char *tid = ojw_claims_tid(c->claims);
    size_t at, len;

    if (ojw_issuer_placeholder(c->policy.issuer, &at, &len) != 1) {
        return iss;
    }
    return apr_psprintf(c->pool, "%s, tenant %s (%s)", iss, tid ? tid : "-",
                        c->policy.tenants ? "listed in tenants="
                                          : "any tenant accepted");
}

/* What a passing claim line found. */
static const char *claim_text(const ojw_check_t *c, ojw_step_id_t id)
{
    const ojw_claim_policy_t *policy = &c->policy;
    const char *name = id == OJW_STEP_EXP ? "exp"
                       : id == OJW_STEP_NBF ? "nbf" : "iat";
    apr_pool_t *pool = c->pool;

    switch (id) {
    case OJW_STEP_ISSUER:
        return issuer_text(c);
    case OJW_STEP_AUDIENCE:
        return audience_text(pool, json_object_get(c->claims, "aud"),
                             policy->audience);
    case OJW_STEP_SUBJECT:
        return ojw_json_text(pool, json_object_get(c->claims, "sub"));
    case OJW_STEP_AGE:
        return policy->allowed_age <= 0 ? "not checked (allowed_age 0)"
               : apr_psprintf(pool, "issued %s, allowed_age %ld s",
                              when(pool, c->claims, "iat", c->now),
                              policy->allowed_age);
    default:
        break;
    }
    if (json_object_get(c->claims, name) == NULL) {
        return "absent (optional)";
    }
    return apr_psprintf(pool, "%s%s", when(pool, c->claims, name, c->now),
                        policy->allowed_skew > 0 ? apr_psprintf(pool,
                        ", allowed_skew %ld s", policy->allowed_skew) : "");
}

/* What the nonce step found: the nonce's age under the key, or that it
 * was not judged (the server's key is not known here). */
static const char *nonce_text(const ojw_check_t *c)
{
    const ojw_nonce_policy_t *pol = c->nonce;

    if (pol->key == NULL) {
        return "the proof has a nonce; not judged: the server's nonce key "
               "is random (no OrdsJwtDpopNonceKeyFile, or it cannot be "
               "read here): httpd refuses it unless it issued it in the "
               "last OrdsJwtDpopNonceLifetime seconds";
    }
    return apr_psprintf(c->pool, "issued %ld s ago with the key, good for "
                        "%ld s%s", c->nonce_age, pol->lifetime,
                        ojw_nonce_renew(c->nonce_age, pol->lifetime)
                        ? "; httpd would send a fresh one with the answer"
                        : "");
}

/* What a token that passed its binding is bound to; NULL when the line
 * does not matter (unbound, sent as Bearer, nothing required). */
static const char *bound_text(const ojw_check_t *c, const ojw_report_t *rep)
{
    const ojw_profile_t *p = c->profile;
    const char *out = NULL;
    ojw_cnf_t cnf;

    if (ojw_cnf_read(&cnf, c->claims, NULL) != OJW_OK) {
        return NULL;
    }
    if (cnf.jkt) {
        out = apr_psprintf(c->pool, "DPoP proof by key jkt %s holds (httpd "
                           "also takes each jti once)", cnf.jkt);
    }
    else if (cnf.present || rep->proof || p->dpop == OJW_BIND_REQUIRED
             || p->mtls == OJW_BIND_REQUIRED) {
        out = cnf.present || rep->proof ? "not DPoP-bound" : "not bound";
    }
    if (cnf.x5t_s256) {
        out = apr_psprintf(c->pool, "%s; bound to the client certificate "
                           "x5t#S256 %s, which the one given has", out,
                           cnf.x5t_s256);
    }
    return out;
}

/* What a passing step found, or NULL when the step is not shown. */
static const char *found(const ojw_check_t *c, const ojw_report_t *rep,
                         ojw_step_id_t id)
{
    const ojw_token_t *tok = c->tok;

    switch (id) {
    case OJW_STEP_FORMAT:
        return apr_psprintf(c->pool, "%" APR_SIZE_T_FMT " bytes (limit %"
                            APR_SIZE_T_FMT "), three base64url segments",
                            rep->len, c->token_max);
    case OJW_STEP_ALG:
        return tok ? tok->alg->name : header_alg(rep, c->pool);
    case OJW_STEP_CRIT:
        return "no critical extensions";
    case OJW_STEP_NONCE:
        return c->nonce ? nonce_text(c) : NULL;
    case OJW_STEP_TYPE:
        return c->profile->token_type == NULL ? NULL
               : apr_psprintf(c->pool, "typ %s (token_type=%s)",
                              ojw_json_text(c->pool, json_object_get(
                                            tok->header, "typ")),
                              c->profile->token_type);
    case OJW_STEP_KEY:
        return key_found(c->pool, tok, rep->ks);
    case OJW_STEP_SIGNATURE:
        return apr_psprintf(c->pool, "%s signature verifies", tok->alg->name);
    case OJW_STEP_USER:
        return *c->basic_user ? "the Basic user name is the subject"
                              : "an empty Basic user name";
    case OJW_STEP_BINDING:
        return bound_text(c, rep);
    default:
        return claim_text(c, id);
    }
}

void ojw_report_step(ojw_check_t *c, ojw_step_id_t id, const ojw_error_t *err,
                     const char *hint)
{
    ojw_report_t *rep = c->observer;
    ojw_step_record_t *st = &rep->steps[id];
    const char *detail;

    if (err == NULL) {
        if ((detail = found(c, rep, id)) != NULL) {
            st->state = OJW_STEP_PASSED;
            st->reason = OJW_OK;
            st->detail = detail;
            st->hint = NULL;
        }
        return;
    }
    st->state = OJW_STEP_FAILED;
    st->reason = err->reason;
    st->detail = err->reason == OJW_ERR_KEYS_UNAVAILABLE && rep->keys_error
                 ? rep->keys_error : apr_pstrdup(c->pool, err->detail);
    st->hint = hint;
}

/* ------------------------------------------------------------------ */
/* the token in a pasted header value                                  */

/* s without leading and trailing whitespace, in pool memory. */
static char *trimmed(apr_pool_t *p, const char *s)
{
    const char *end;

    while (apr_isspace(*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && apr_isspace(end[-1])) {
        end--;
    }
    return apr_pstrndup(p, s, (apr_size_t)(end - s));
}

/* s after the scheme word (any case) and 1*(SP / HTAB), or NULL. */
static const char *after_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncasecmp(s, scheme, n) != 0 || (s[n] != ' ' && s[n] != '\t')) {
        return NULL;
    }
    return s + n + strspn(s + n, " \t");
}

/* RFC 7617 credentials: canonical base64 (RFC 4648 4, padded) of
 * user:password, without NUL bytes; the password, or NULL. */
static const char *basic_password(apr_pool_t *p, const char *b64,
                                  const char **user)
{
    size_t len = strlen(b64), pad = 0, i;
    unsigned char *out;
    char *colon;
    int n;

    if (len == 0 || len % 4 != 0 || len > 1024 * 1024) {
        return NULL;
    }
    while (pad < 2 && b64[len - 1 - pad] == '=') {
        pad++;
    }
    for (i = 0; i < len - pad; i++) {
        if (!apr_isalnum(b64[i]) && b64[i] != '+' && b64[i] != '/') {
            return NULL;
        }
    }
    out = apr_palloc(p, len / 4 * 3 + 1);
    n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0 || (size_t)n < pad) {
        return NULL;
    }
    n -= (int)pad;
    out[n] = '\0';
    if (memchr(out, '\0', (size_t)n) != NULL
        || (colon = strchr((char *)out, ':')) == NULL) {
        return NULL;
    }
    *colon = '\0';
    *user = (const char *)out;
    return colon + 1;
}

const char *ojw_header_token(apr_pool_t *p, const char *text,
                             const char **user, const char **scheme,
                             const char **error)
{
    char *s = trimmed(p, text);
    const char *rest, *token;

    *user = NULL;
    *scheme = NULL;
    if ((rest = after_scheme(s, "Bearer")) != NULL) {
        *scheme = "Bearer";
        return rest;
    }
    rest = strcasecmp(s, "Basic") == 0 ? "" : after_scheme(s, "Basic");
    if (rest == NULL) {
        return s;
    }
    if ((token = basic_password(p, rest, user)) == NULL) {
        *error = "Basic credentials that are not base64 of user:password";
        return NULL;
    }
    *scheme = "Basic";
    return trimmed(p, token);
}
