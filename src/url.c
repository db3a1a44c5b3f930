/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical form of an http(s) URL (see url.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "url.h"

/* RFC 3986 2.3. */
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
