/* SPDX-License-Identifier: Apache-2.0 */
/* HTTPS fetch of a JWKS document with libcurl (see jwks_fetch.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <apr_strings.h>
#include <apr_time.h>
#include "jwks_fetch.h"

#define JSON_TYPES "application/json or application/jwk-set+json"

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

/* 1 for an RFC 7230 token character. */
static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int ojw_fetch_json_type(const char *ctype)
{
    const char *sub, *end;
    size_t n;

    if (ctype == NULL) {
        return 0;
    }
    ctype += strspn(ctype, " \t");
    if (strncasecmp(ctype, "application/", 12) != 0) {
        return 0;
    }
    sub = ctype + 12;
    for (end = sub; is_tchar(*end); end++) {
    }
    n = (size_t)(end - sub);
    end += strspn(end, " \t");
    if (*end != '\0' && *end != ';') {
        return 0;
    }
    return (n == 4 && strncasecmp(sub, "json", 4) == 0)
           || (n > 5 && strncasecmp(sub + n - 5, "+json", 5) == 0);
}

/* Part of a parsed URL (curl_free it), or NULL. */
static char *url_part(CURLU *u, CURLUPart what, unsigned int flags)
{
    char *part = NULL;

    return curl_url_get(u, what, &part, flags) == CURLUE_OK ? part : NULL;
}

/* Scheme, host and port of url as "scheme://host:port" (letters of the
 * scheme and host in lower case), or NULL. */
static char *origin_of(const char *url, apr_pool_t *pool)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL, *c;

    if (u && curl_url_set(u, CURLUPART_URL, url,
                          CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK
        && (scheme = url_part(u, CURLUPART_SCHEME, 0))
        && (host = url_part(u, CURLUPART_HOST, 0))
        && (port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT))) {
        origin = apr_pstrcat(pool, scheme, "://", host, ":", port, NULL);
        for (c = origin; *c; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return origin;
}

int ojw_fetch_same_origin(const char *a, const char *b)
{
    apr_pool_t *pool;
    const char *oa, *ob;
    int same;

    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return 0;
    }
    oa = origin_of(a, pool);
    ob = origin_of(b, pool);
    same = oa && ob && strcmp(oa, ob) == 0;
    apr_pool_destroy(pool);
    return same;
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

/* The options of every request of a fetch; the URL and the time left are
 * set per request (one_request). No redirect is followed by libcurl. */
static void set_options(CURL *h, const ojw_fetch_opts_t *o, body_t *b,
                        char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mod_auth_ordsjwt");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
}

/* One request of a fetch to url, within what is left of the time until
 * deadline; the body and headers of an earlier response are dropped. */
static CURLcode one_request(CURL *h, const char *url, body_t *b,
                            char *errbuf, apr_time_t deadline)
{
    long left_ms = (long)apr_time_as_msec(deadline - apr_time_now());

    if (left_ms <= 0) {
        snprintf(errbuf, CURL_ERROR_SIZE, "no time left to follow the "
                 "redirect to %s", url);
        return CURLE_OPERATION_TIMEDOUT;
    }
    b->len = 0;
    b->too_big = 0;
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, left_ms);
    return curl_easy_perform(h);
}

/* 1 for the statuses that redirect a GET. */
static int is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307
           || status == 308;
}

/* The URL the response to a request for url redirects to (*next), when it
 * is one to follow: 1. 0 when the response is no redirect; -1 (error and
 * hint set) when the redirect is refused. */
static int redirect_target(CURL *h, const char *url, long status,
                           ojw_fetch_result_t *res, const char **next,
                           apr_pool_t *pool)
{
    char *location = NULL;

    if (!is_redirect(status)
        || curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) != CURLE_OK
        || location == NULL) {
        return 0;
    }
    if (strncasecmp(location, "https:", 6) != 0) {
        snprintf(res->error, sizeof(res->error), "JWKS redirect to %.300s "
                 "refused: not https", location);
        res->hint = "jwk_url and every redirect must use https://";
        return -1;
    }
    if (!ojw_fetch_same_origin(url, location)) {
        snprintf(res->error, sizeof(res->error), "JWKS redirect to another "
                 "origin refused: %.300s ; set jwk_url to the final URL",
                 location);
        return -1;
    }
    *next = apr_pstrdup(pool, location);
    return 1;
}

/* The request headers of a fetch (curl_slist_free_all them). */
static struct curl_slist *request_headers(const ojw_fetch_opts_t *opts,
                                          apr_pool_t *pool)
{
    struct curl_slist *headers;

    headers = curl_slist_append(NULL, "Accept: application/json, "
                                "application/jwk-set+json");
    if (opts->if_none_match && *opts->if_none_match) {
        headers = curl_slist_append(headers, apr_pstrcat(pool, "If-None-Match: ",
                                                         opts->if_none_match,
                                                         NULL));
    }
    return headers;
}

/* Requests url, then each same-origin redirect target, up to
 * OJW_FETCH_MAX_REDIRECTS of them, all within the timeout. Returns the
 * last request's code; *final is the URL last asked; -1 in *refused when
 * a redirect was refused (res->error set). */
static CURLcode follow(CURL *h, const char *url, body_t *b, char *errbuf,
                       const ojw_fetch_opts_t *opts, ojw_fetch_result_t *res,
                       const char **final, int *refused, apr_pool_t *pool)
{
    apr_time_t deadline = apr_time_now()
                          + apr_time_from_msec(opts->timeout_ms);
    const char *next = NULL;
    CURLcode cc;
    int hops, target;

    *refused = 0;
    for (hops = 0; ; hops++) {
        *final = url;
        cc = one_request(h, url, b, errbuf, deadline);
        if (cc != CURLE_OK) {
            return cc;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
        target = redirect_target(h, url, res->http_status, res, &next, pool);
        if (target <= 0) {
            *refused = target < 0;
            return cc;
        }
        if (hops == OJW_FETCH_MAX_REDIRECTS) {
            snprintf(res->error, sizeof(res->error), "more than %d JWKS "
                     "redirects; set jwk_url to the final URL",
                     OJW_FETCH_MAX_REDIRECTS);
            *refused = 1;
            return cc;
        }
        url = next;
    }
}

/* Why a 200 response whose Content-Type is not JSON is no JWKS. */
static void describe_content_type(ojw_fetch_result_t *res)
{
    if (res->content_type) {
        snprintf(res->error, sizeof(res->error), "JWKS served as %.200s; "
                 "expected " JSON_TYPES, res->content_type);
    }
    else {
        snprintf(res->error, sizeof(res->error), "JWKS served without a "
                 "Content-Type; expected " JSON_TYPES);
    }
    res->hint = ojw_fetch_body_hint(res);
    if (res->hint == NULL) {
        res->hint = "check jwk_url against the issuer's discovery document "
                    "(jwks_uri); a JWKS is served as application/json";
    }
}

/* The result of the last response of a fetch of url. */
static apr_status_t judge(CURL *h, CURLcode cc, const char *url,
                          const char *errbuf, const body_t *b,
                          const ojw_fetch_opts_t *opts,
                          ojw_fetch_result_t *res)
{
    if (cc != CURLE_OK) {
        describe_curl_error(h, cc, errbuf, b, res, opts);
    }
    else if (res->http_status == 304 && opts->if_none_match) {
        res->not_modified = 1;
        return APR_SUCCESS;
    }
    else if (res->http_status != 200) {
        snprintf(res->error, sizeof(res->error), "HTTP status %ld",
                 res->http_status);
        res->hint = ojw_fetch_hint(url, res->http_status);
    }
    else if (!ojw_fetch_json_type(res->content_type)) {
        describe_content_type(res);
    }
    else if (b->len == 0) {
        snprintf(res->error, sizeof(res->error), "empty response body");
    }
    else {
        res->body = b->buf;
        res->len = b->len;
        return APR_SUCCESS;
    }
    return APR_EGENERAL;
}

apr_status_t ojw_fetch(const char *url, const ojw_fetch_opts_t *opts,
                       ojw_fetch_result_t *res, apr_pool_t *pool)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    body_t b = { pool, NULL, 0, 0, opts->max_size, 0, -1, NULL };
    struct curl_slist *headers;
    const char *final = url;
    char *ctype = NULL;
    CURL *h;
    CURLcode cc;
    int refused;
    apr_status_t rv = APR_EGENERAL;

    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    if ((h = curl_easy_init()) == NULL) {
        snprintf(res->error, sizeof(res->error), "libcurl cannot start");
        return rv;
    }
    set_options(h, opts, &b, errbuf);
    headers = request_headers(opts, pool);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    cc = follow(h, url, &b, errbuf, opts, res, &final, &refused, pool);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->http_status);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK
        && ctype) {
        res->content_type = apr_pstrdup(pool, ctype);
    }
    res->max_age = b.max_age;
    res->etag = b.etag;
    if (!refused) {
        rv = judge(h, cc, final, errbuf, &b, opts, res);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return rv;
}
