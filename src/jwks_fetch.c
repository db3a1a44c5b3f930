/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS fetch of a JWKS document with libcurl (see jwks_fetch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include "jwks_fetch.h"

typedef struct {
    apr_pool_t *pool;
    char *buf;
    size_t len;
    size_t cap;               /* allocated bytes */
    size_t max;               /* refuse beyond this */
    int too_big;
    long max_age;
    const char *etag;
} body_t;

int ojw_fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    body_t *b = userp;
    size_t n = size * nmemb;

    if (b->len + n > b->max) {
        b->too_big = 1;
        return 0;               /* aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        char *grown;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        grown = apr_palloc(b->pool, cap);
        if (b->len) {
            memcpy(grown, b->buf, b->len);
        }
        b->buf = grown;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

/* max-age=N of a Cache-Control value, or -1; no-cache/no-store is 0. */
static long cache_control_max_age(const char *value)
{
    const char *p;
    long v;

    for (p = value; *p; p++) {
        if (strncasecmp(p, "no-cache", 8) == 0
            || strncasecmp(p, "no-store", 8) == 0) {
            return 0;
        }
    }
    for (p = value; *p; p++) {
        if (strncasecmp(p, "max-age=", 8) == 0) {
            v = strtol(p + 8, NULL, 10);
            return v < 0 ? 0 : v;
        }
    }
    return -1;
}

/* The value of header line data (size n) if its name is name, else NULL;
 * trailing CR/LF and surrounding blanks removed. */
static char *header_value(apr_pool_t *pool, const char *data, size_t n,
                          const char *name)
{
    size_t len = strlen(name);
    const char *v, *end = data + n;

    if (n <= len || strncasecmp(data, name, len) != 0 || data[len] != ':') {
        return NULL;
    }
    for (v = data + len + 1; v < end && (*v == ' ' || *v == '\t'); v++) {
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '
                       || end[-1] == '\t')) {
        end--;
    }
    return apr_pstrmemdup(pool, v, (apr_size_t)(end - v));
}

/* Picks Cache-Control max-age and ETag out of the response headers; a
 * redirect's headers are replaced by the final response's. */
static size_t on_header(char *data, size_t size, size_t nitems, void *userp)
{
    body_t *b = userp;
    size_t n = size * nitems;
    const char *v;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        b->max_age = -1;
        b->etag = NULL;
    }
    else if (n < 1024 && (v = header_value(b->pool, data, n, "cache-control"))) {
        b->max_age = cache_control_max_age(v);
    }
    else if (n < 1024 && (v = header_value(b->pool, data, n, "etag"))) {
        b->etag = *v ? v : NULL;
    }
    return n;
}

/* 1 when word occurs in s, letters in any case. */
static int contains_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; *s; s++) {
        if (strncasecmp(s, word, n) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *ojw_fetch_body_hint(const ojw_fetch_result_t *res)
{
    if (res->hint) {
        return res->hint;
    }
    if (res->content_type && contains_nocase(res->content_type, "html")) {
        return "the JWK URL answered with an HTML page (a login page, a proxy "
               "or an error page?): use the issuer's jwks_uri";
    }
    return NULL;
}

const char *ojw_fetch_hint(const char *url, long status)
{
    if ((status == 401 || status == 403)
        && strstr(url, "/admin/v1/SigningCert/jwk") != NULL) {
        return "this looks like an OCI IAM identity domain: enable Settings -> "
               "\"Configure client access\" in the domain so that the signing "
               "certificate can be read without signing in";
    }
    if (status == 401 || status == 403) {
        return "the JWK URL requires authentication; use the issuer's public "
               "JWKS endpoint";
    }
    if (status == 404) {
        return "check jwk_url against the issuer's discovery document "
               "(jwks_uri)";
    }
    return NULL;
}

static void describe_curl_error(CURL *h, CURLcode cc, const char *errbuf,
                                const body_t *b, ojw_fetch_result_t *res,
                                const ojw_fetch_opts_t *opts)
{
    long verify = 0;

    if (b->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(res->error, sizeof(res->error), "the response is larger "
                 "than the %zu byte limit", opts->max_size);
        return;
    }
    if (cc == CURLE_PEER_FAILED_VERIFICATION
        && curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK
        && verify != 0) {
        snprintf(res->error, sizeof(res->error), "TLS: %s (verify result %ld)",
                 errbuf[0] ? errbuf : curl_easy_strerror(cc), verify);
    }
    else {
        snprintf(res->error, sizeof(res->error), "%s: %s",
                 curl_easy_strerror(cc), errbuf[0] ? errbuf : "no detail");
    }
    if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE) {
        res->hint = opts->ca_file
            ? "check that OrdsJwtCACertificateFile holds the CA that issued "
              "the JWK URL's certificate, and that the host name matches it"
            : "the JWK URL's certificate is not trusted by the system store; "
              "set OrdsJwtCACertificateFile";
    }
    else if (cc == CURLE_UNSUPPORTED_PROTOCOL) {
        res->hint = "jwk_url and every redirect must use https://";
    }
    else if (cc == CURLE_OPERATION_TIMEDOUT) {
        res->hint = "the issuer did not answer in time; check the network path "
                    "from this server (proxy, firewall)";
    }
}

static void set_options(CURL *h, const char *url, const ojw_fetch_opts_t *o,
                        body_t *b, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_auth_ordsjwt");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
}

apr_status_t ojw_fetch(const char *url, const ojw_fetch_opts_t *opts,
                       ojw_fetch_result_t *res, apr_pool_t *pool)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    body_t b = { pool, NULL, 0, 0, opts->max_size, 0, -1, NULL };
    struct curl_slist *headers;
    char *ctype = NULL;
    CURL *h;
    CURLcode cc;
    apr_status_t rv = APR_EGENERAL;

    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    if ((h = curl_easy_init()) == NULL) {
        snprintf(res->error, sizeof(res->error), "libcurl cannot start");
        return rv;
    }
    set_options(h, url, opts, &b, errbuf);
    headers = curl_slist_append(NULL, "Accept: application/json, "
                                "application/jwk-set+json");
    if (opts->if_none_match && *opts->if_none_match) {
        headers = curl_slist_append(headers, apr_pstrcat(pool, "If-None-Match: ",
                                                         opts->if_none_match,
                                                         NULL));
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK
        && ctype) {
        res->content_type = apr_pstrdup(pool, ctype);
    }
    res->max_age = b.max_age;
    res->etag = b.etag;
    if (cc != CURLE_OK) {
        describe_curl_error(h, cc, errbuf, &b, res, opts);
    }
    else if (res->http_status == 304 && opts->if_none_match) {
        res->not_modified = 1;
        rv = APR_SUCCESS;
    }
    else if (res->http_status != 200) {
        snprintf(res->error, sizeof(res->error), "HTTP status %ld",
                 res->http_status);
        res->hint = ojw_fetch_hint(url, res->http_status);
    }
    else if (b.len == 0) {
        snprintf(res->error, sizeof(res->error), "empty response body");
    }
    else {
        res->body = b.buf;
        res->len = b.len;
        rv = APR_SUCCESS;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rv;
}
