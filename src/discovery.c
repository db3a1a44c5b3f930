/* SPDX-License-Identifier: Apache-2.0 */
/* Issuer discovery documents (see discovery.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <apr_strings.h>
#include "discovery.h"
#include "tenant.h"

static void say(char *err, apr_size_t errlen, const char *what)
{
    apr_cpystrn(err, what, errlen);
}

/* 1 when s (n bytes) holds no NUL, blank or control character. */
static int clean_url(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Why the jwks_uri member v is unusable (pool memory), or NULL. */
static const char *judge_jwks_uri(const json_t *v, apr_size_t url_max,
                                  apr_pool_t *pool)
{
    const char *s;
    size_t n;

    if (v == NULL) {
        return "the discovery document has no jwks_uri";
    }
    if (!json_is_string(v)) {
        return "the discovery document's jwks_uri is not a string";
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n >= url_max || !clean_url(s, n)) {
        return "the discovery document's jwks_uri is too long or holds "
               "blanks or control characters";
    }
    if (strncmp(s, "https://", 8) != 0 || s[8] == '\0' || s[8] == '/') {
        return apr_psprintf(pool, "the discovery document's jwks_uri %.300s "
                            "is not https://...; refused", s);
    }
    return NULL;
}

/* Copies the members into out; APR_SUCCESS or err set. */
static apr_status_t take_members(ojw_discovery_t *out, const json_t *root,
                                 apr_size_t url_max, apr_pool_t *pool,
                                 char *err, apr_size_t errlen)
{
    const json_t *iss = json_object_get(root, "issuer");
    const json_t *uri = json_object_get(root, "jwks_uri");
    const char *why;

    if (!json_is_string(iss) || json_string_length(iss) == 0
        || strlen(json_string_value(iss)) != json_string_length(iss)) {
        say(err, errlen, "the discovery document has no issuer string");
        return APR_EGENERAL;
    }
    if ((why = judge_jwks_uri(uri, url_max, pool)) != NULL) {
        say(err, errlen, why);
        return APR_EGENERAL;
    }
    out->issuer = apr_pstrdup(pool, json_string_value(iss));
    out->jwks_uri = apr_pstrdup(pool, json_string_value(uri));
    return APR_SUCCESS;
}

apr_status_t ojw_discovery_parse(ojw_discovery_t *out, const char *doc,
                                 apr_size_t len, apr_size_t url_max,
                                 apr_pool_t *pool, char *err,
                                 apr_size_t errlen)
{
    json_error_t jerr;
    json_t *root;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    if (doc == NULL || len == 0 || len > OJW_DISCOVERY_MAX) {
        snprintf(err, errlen, "the discovery document is empty or larger "
                 "than %d bytes", OJW_DISCOVERY_MAX);
        return APR_EGENERAL;
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(err, errlen, "the discovery document is not JSON: %.200s "
                 "(line %d)", jerr.text, jerr.line);
        return APR_EGENERAL;
    }
    if (!json_is_object(root)) {
        say(err, errlen, "the discovery document is not a JSON object");
        rv = APR_EGENERAL;
    }
    else {
        rv = take_members(out, root, url_max, pool, err, errlen);
    }
    json_decref(root);
    return rv;
}

apr_status_t ojw_discovery_check(ojw_discovery_t *out, const char *doc,
                                 apr_size_t len, const char *issuer,
                                 apr_size_t url_max, apr_pool_t *pool,
                                 char *err, apr_size_t errlen)
{
    apr_status_t rv = ojw_discovery_parse(out, doc, len, url_max, pool, err,
                                          errlen);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* a template ({tid}, Entra's {tenantid}) equals the same template */
    if (!ojw_issuer_same(out->issuer, issuer)) {
        snprintf(err, errlen, "the discovery document names issuer \"%.300s\""
                 ", the profile's issuer is \"%.300s\": they must be equal "
                 "(RFC 8414 section 3.3); its keys are not used",
                 out->issuer, issuer);
        return APR_EMISMATCH;
    }
    return APR_SUCCESS;
}

/* 1 when word occurs in s, letters in any case. */
static int has_word(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; s && *s; s++) {
        if (strncasecmp(s, word, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static const char *status_hint(const char *url, const char *issuer,
                               long status)
{
    if ((status == 401 || status == 403)
        && (has_word(url, ".identity.oraclecloud.com")
            || has_word(issuer, "identity.oraclecloud.com"))) {
        return "this looks like an OCI IAM identity domain: enable Settings "
               "-> \"Configure client access\" in the domain so that its "
               "discovery document and signing certificate can be read "
               "without signing in, or use jwk_url";
    }
    if (status == 401 || status == 403) {
        return "the discovery document requires authentication; use the "
               "issuer's public metadata URL, or jwk_url";
    }
    if (status == 404) {
        return "check discovery_url: the issuer followed by "
               "/.well-known/openid-configuration (OpenID Connect) or "
               ".well-known/oauth-authorization-server (RFC 8414)";
    }
    return NULL;
}

const char *ojw_discovery_fetch_cause(const char *url, const char *issuer,
                                      const ojw_fetch_result_t *res,
                                      const char **hint, apr_pool_t *pool)
{
    const char *type = res->content_type;

    *hint = res->hint;
    if (res->http_status == 200 && !ojw_fetch_json_type(type)) {
        if (type && has_word(type, "html")) {
            *hint = "discovery_url answered with an HTML page (a login, "
                    "proxy or error page?): use the issuer's "
                    "/.well-known/openid-configuration URL";
        }
        else {
            *hint = NULL;
        }
        return apr_psprintf(pool, "discovery document served as %s; "
                            "expected application/json",
                            type ? type : "no Content-Type");
    }
    if (res->http_status != 0 && res->http_status != 200) {
        *hint = status_hint(url, issuer, res->http_status);
    }
    return apr_pstrdup(pool, res->error[0] ? res->error : "fetch failed");
}
