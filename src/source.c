/* SPDX-License-Identifier: Apache-2.0 */
/* Token sources: OrdsJwtTokenFrom and taking a token out of a request
 * (see source.h). */
#include <string.h>
#include <apr_strings.h>
#include "b64url.h"
#include "source.h"

#define SCHEME_BEARER   "Bearer"
#define SCHEME_DPOP     "DPoP"

static const ojw_source_t default_source = {
    OJW_SOURCE_HEADER, "Authorization", SCHEME_BEARER
};

const ojw_source_t *ojw_sources_of(const apr_array_header_t *srcs, int *n)
{
    if (srcs == NULL || srcs->nelts == 0) {
        *n = 1;
        return &default_source;
    }
    *n = srcs->nelts;
    return (const ojw_source_t *)srcs->elts;
}

const char *ojw_credential_header(int forward_proxy)
{
    return forward_proxy ? "Proxy-Authorization" : "Authorization";
}

/* RFC 7230 tchar. */
static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* 1 when s is 1 to OJW_SOURCE_NAME_MAX tchars, none of them in except. */
static int valid_name(const char *s, size_t len, const char *except)
{
    size_t i;

    if (len == 0 || len > OJW_SOURCE_NAME_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_tchar((unsigned char)s[i]) || strchr(except, s[i])) {
            return 0;
        }
    }
    return 1;
}

static const char *parse_header(ojw_source_t *src, const char *v,
                                apr_pool_t *pool)
{
    const char *colon = strchr(v, ':');
    size_t nlen = colon ? (size_t)(colon - v) : strlen(v);

    if (!valid_name(v, nlen, "")) {
        return apr_psprintf(pool, "header=%s: the header name must be 1 to "
                            "%d token characters (RFC 7230)", v,
                            OJW_SOURCE_NAME_MAX);
    }
    src->kind = OJW_SOURCE_HEADER;
    src->name = apr_pstrndup(pool, v, nlen);
    if (colon && !valid_name(colon + 1, strlen(colon + 1), "")) {
        return apr_psprintf(pool, "header=%s: the scheme after \":\" must be "
                            "1 to %d token characters (e.g. Bearer)", v,
                            OJW_SOURCE_NAME_MAX);
    }
    src->scheme = colon ? apr_pstrdup(pool, colon + 1) : NULL;
    return NULL;
}

const char *ojw_source_parse(ojw_source_t *src, const char *arg,
                             apr_pool_t *pool)
{
    memset(src, 0, sizeof(*src));
    if (strncmp(arg, "header=", 7) == 0) {
        return parse_header(src, arg + 7, pool);
    }
    if (strncmp(arg, "query=", 6) == 0) {
        src->kind = OJW_SOURCE_QUERY;
        src->name = apr_pstrdup(pool, arg + 6);
        return valid_name(src->name, strlen(src->name), "&=%+#;")
               ? NULL
               : apr_psprintf(pool, "%s: the parameter name must be 1 to %d "
                              "characters, letters, digits or -._~!$'*^`|",
                              arg, OJW_SOURCE_NAME_MAX);
    }
    if (strncmp(arg, "cookie=", 7) == 0) {
        src->kind = OJW_SOURCE_COOKIE;
        src->name = apr_pstrdup(pool, arg + 7);
        return valid_name(src->name, strlen(src->name), "")
               ? NULL
               : apr_psprintf(pool, "%s: the cookie name must be 1 to %d "
                              "token characters (RFC 6265)", arg,
                              OJW_SOURCE_NAME_MAX);
    }
    return apr_psprintf(pool, "\"%s\" is not header=NAME[:SCHEME], "
                        "query=NAME or cookie=NAME", arg);
}

const char *ojw_source_text(const ojw_source_t *src, apr_pool_t *pool)
{
    switch (src->kind) {
    case OJW_SOURCE_QUERY:
        return apr_pstrcat(pool, "query=", src->name, NULL);
    case OJW_SOURCE_COOKIE:
        return apr_pstrcat(pool, "cookie=", src->name, NULL);
    default:
        return apr_pstrcat(pool, "header=", src->name,
                           src->scheme ? ":" : "",
                           src->scheme ? src->scheme : "", NULL);
    }
}

/* s[0..len) without leading and trailing spaces and tabs. */
static const char *trim(const char *s, size_t *len)
{
    while (*len && (*s == ' ' || *s == '\t')) {
        s++;
        (*len)--;
    }
    while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t')) {
        (*len)--;
    }
    return s;
}

/* The credential of one header element, or NULL. */
static const char *element_token(const char *e, size_t len,
                                 const char *scheme, apr_pool_t *pool)
{
    size_t slen = scheme ? strlen(scheme) : 0;

    e = trim(e, &len);
    if (scheme) {
        if (len <= slen || strncasecmp(e, scheme, slen) != 0
            || e[slen] != ' ') {
            return NULL;
        }
        e += slen;
        len -= slen;
        while (len && *e == ' ') {      /* RFC 6750 2.1: 1*SP */
            e++;
            len--;
        }
    }
    return len ? apr_pstrmemdup(pool, e, len) : NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* s[0..len) percent-decoded ("+" is a space), or NULL when an escape is
 * invalid or decodes to NUL. */
static char *pct_decode(const char *s, size_t len, apr_pool_t *pool)
{
    char *out = apr_palloc(pool, len + 1), *o = out;
    size_t i;
    int hi, lo;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len) {
                return NULL;
            }
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Appends piece[0..len) to *rest, joined by sep. */
static void keep(const char **rest, const char *piece, size_t len,
                 const char *sep, apr_pool_t *pool)
{
    const char *p = apr_pstrmemdup(pool, piece, len);

    *rest = *rest ? apr_pstrcat(pool, *rest, sep, p, NULL) : p;
}

/* 1 when the name part of pair (up to "=" or its end) is name. */
static int pair_named(const char *pair, size_t len, const char *name,
                      const char **value, size_t *vlen, apr_pool_t *pool)
{
    const char *eq = memchr(pair, '=', len);
    size_t nlen = eq ? (size_t)(eq - pair) : len;
    const char *decoded = pct_decode(pair, nlen, pool);

    if (decoded == NULL || strcmp(decoded, name) != 0) {
        return 0;
    }
    *value = eq ? eq + 1 : pair + len;
    *vlen = eq ? len - nlen - 1 : 0;
    return 1;
}

int ojw_query_take(const char *query, const char *name, const char **token,
                   const char **rest, apr_pool_t *pool)
{
    const char *pair = query, *value;
    size_t len, vlen;
    int n = 0;

    *token = NULL;
    *rest = NULL;
    while (pair) {
        const char *amp = strchr(pair, '&');

        len = amp ? (size_t)(amp - pair) : strlen(pair);
        if (len && pair_named(pair, len, name, &value, &vlen, pool)) {
            if (n++ == 0) {
                *token = pct_decode(value, vlen, pool);
                if (*token == NULL) {
                    *token = apr_pstrmemdup(pool, value, vlen);
                }
            }
        }
        else if (len) {
            keep(rest, pair, len, "&", pool);
        }
        pair = amp ? amp + 1 : NULL;
    }
    return n;
}

/* Removes one pair of double quotes around value[0..*len). */
static const char *unquote(const char *v, size_t *len)
{
    if (*len >= 2 && v[0] == '"' && v[*len - 1] == '"') {
        *len -= 2;
        return v + 1;
    }
    return v;
}

int ojw_cookie_take(const char *header, const char *name, const char **token,
                    const char **rest, apr_pool_t *pool)
{
    const char *c = header, *t;
    size_t len, nlen = strlen(name);
    int n = 0;

    *token = NULL;
    *rest = NULL;
    while (c) {
        const char *end = c + strcspn(c, ";,");

        len = (size_t)(end - c);
        t = trim(c, &len);
        if (len > nlen && strncmp(t, name, nlen) == 0 && t[nlen] == '=') {
            if (n++ == 0) {
                size_t vlen = len - nlen - 1;
                const char *v = unquote(t + nlen + 1, &vlen);

                *token = apr_pstrmemdup(pool, v, vlen);
            }
        }
        else if (len) {
            keep(rest, t, len, "; ", pool);
        }
        c = *end ? end + 1 : NULL;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* where the request's token comes from                                */

/* Counts n tokens (the first: token) found in the source named where. */
static void add(ojw_found_t *f, int n, const char *token, const char *where,
                apr_pool_t *pool)
{
    if (n <= 0) {
        return;
    }
    if (f->count == 0) {
        f->token = token;
    }
    f->count += n;
    if (n > 1) {
        where = apr_psprintf(pool, "%s (%d times)", where, n);
    }
    f->where = f->where ? apr_pstrcat(pool, f->where, ", ", where, NULL)
                        : where;
}

const char *ojw_found_take(ojw_found_t *f, const ojw_source_t *srcs, int n,
                           ojw_source_kind_t kind, const char *value,
                           apr_pool_t *pool)
{
    const char *out = value, *token, *rest;
    int i, k;

    for (i = 0; i < n && out; i++) {
        if (srcs[i].kind != kind) {
            continue;
        }
        k = kind == OJW_SOURCE_QUERY
            ? ojw_query_take(out, srcs[i].name, &token, &rest, pool)
            : ojw_cookie_take(out, srcs[i].name, &token, &rest, pool);
        if (k > 0) {
            add(f, k, token, ojw_source_text(&srcs[i], pool), pool);
            out = rest;
        }
    }
    return out;
}

const char *ojw_source_header_name(const ojw_source_t *src,
                                   int forward_proxy)
{
    if (forward_proxy && strcasecmp(src->name, "Authorization") == 0) {
        return ojw_credential_header(forward_proxy);
    }
    return src->name;
}

/* One header field being looked at by ojw_found_headers. */
typedef struct {
    ojw_found_t *f;
    const ojw_source_t *srcs;
    int n;
    int forward_proxy;
    apr_pool_t *pool;
    const char *name;
    int credential;         /* the credential header */
    int authorization;      /* its stray credentials count */
} header_t;

/* 1 when a header source takes element e (len bytes) of h: counted. */
static int sources_take(header_t *h, const char *e, size_t len)
{
    const char *t;
    int i, taken = 0;

    for (i = 0; i < h->n; i++) {
        if (h->srcs[i].kind == OJW_SOURCE_HEADER
            && strcasecmp(ojw_source_header_name(&h->srcs[i],
                                                 h->forward_proxy),
                          h->name) == 0
            && (t = element_token(e, len, h->srcs[i].scheme, h->pool))) {
            add(h->f, 1, t, ojw_source_text(&h->srcs[i], h->pool), h->pool);
            taken = 1;
        }
    }
    return taken;
}

/* Element e (len bytes) of header h: the DPoP token, a token of a
 * source, a stray credential or nothing. */
static void element(header_t *h, const char *e, size_t len)
{
    const char *t;
    ojw_found_t *f = h->f;

    if (h->credential && (t = element_token(e, len, SCHEME_DPOP, h->pool))) {
        f->dpop = f->dpop || f->count == 0;
        add(f, 1, t, apr_pstrcat(h->pool, "header=", h->name, ":",
                                 SCHEME_DPOP, NULL), h->pool);
    }
    else if (!sources_take(h, e, len) && h->authorization
             && (element_token(e, len, SCHEME_BEARER, h->pool)
                 || element_token(e, len, SCHEME_DPOP, h->pool))) {
        f->stray++;
        f->stray_where = apr_pstrcat(h->pool, f->stray_where ? f->stray_where
                                              : "", f->stray_where ? ", "
                                              : "", h->name, " (not a "
                                     "source)", NULL);
    }
}

/* Every comma-separated element of one header field (a header sent
 * twice may be kept as two fields or joined by ","). */
static int visit_field(void *baton, const char *key, const char *value)
{
    header_t *h = baton;
    const char *e = value;

    h->name = key;
    h->credential = strcasecmp(key, ojw_credential_header(h->forward_proxy))
                    == 0;
    h->authorization = h->credential
                       || (!h->forward_proxy
                           && strcasecmp(key, "Proxy-Authorization") == 0);
    while (e) {
        const char *comma = strchr(e, ',');

        element(h, e, comma ? (size_t)(comma - e) : strlen(e));
        e = comma ? comma + 1 : NULL;
    }
    return 1;
}

void ojw_found_headers(ojw_found_t *f, const ojw_source_t *srcs, int n,
                       const apr_table_t *headers, int forward_proxy,
                       apr_pool_t *pool)
{
    header_t h;

    memset(&h, 0, sizeof(h));
    h.f = f;
    h.srcs = srcs;
    h.n = n;
    h.forward_proxy = forward_proxy;
    h.pool = pool;
    apr_table_do(visit_field, &h, headers, NULL);
}

int ojw_found_tokens(const ojw_found_t *f, const char **where,
                     apr_pool_t *pool)
{
    if (f->count == 0 || f->stray == 0) {
        *where = f->where;
        return f->count;
    }
    *where = apr_pstrcat(pool, f->where, ", ", f->stray_where, NULL);
    return f->count + f->stray;
}

/* ------------------------------------------------------------------ */
/* Basic credentials                                                   */

int ojw_source_looks_like_jose(const char *s, apr_pool_t *pool)
{
    const char *dot = strchr(s, '.');
    unsigned char *head;
    size_t len;

    if (dot == NULL || strchr(dot + 1, '.') == NULL
        || ojw_b64url_decode(pool, s, (size_t)(dot - s), &head, &len) != 0) {
        return 0;
    }
    head += strspn((const char *)head, " \t\r\n");   /* JSON blanks */
    return *head == '{';
}

ojw_basic_t ojw_basic_credential(const char *user, const char *password,
                                 apr_pool_t *pool)
{
    if (!ojw_source_looks_like_jose(user, pool)) {
        return OJW_BASIC_AS_SENT;
    }
    if (*password == '\0' || strcmp(password, OJW_BASIC_TOKEN_WORD) == 0) {
        return OJW_BASIC_USER_TOKEN;
    }
    return OJW_BASIC_REFUSED;
}

const char *ojw_request_line_retarget(const char *line, const char *target,
                                      apr_pool_t *pool)
{
    size_t method = strcspn(line, " \t");
    const char *start = line + method, *end;

    start += strspn(start, " \t");
    if (method == 0 || *start == '\0') {
        return NULL;
    }
    end = start + strcspn(start, " \t");
    return apr_pstrcat(pool, apr_pstrmemdup(pool, line,
                                            (apr_size_t)(start - line)),
                       target, end, NULL);
}
