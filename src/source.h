/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a token comes from (OrdsJwtTokenFrom) and the string logic that
 * takes it out of a request: a header with an optional scheme, a query
 * parameter, a cookie. Pure functions over hostile input, no httpd.
 */
#ifndef OJW_SOURCE_H
#define OJW_SOURCE_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef enum {
    OJW_SOURCE_HEADER, OJW_SOURCE_QUERY, OJW_SOURCE_COOKIE
} ojw_source_kind_t;

/* One OrdsJwtTokenFrom source. */
typedef struct {
    ojw_source_kind_t kind;
    const char *name;       /* header, parameter or cookie name */
    const char *scheme;     /* header only: "Bearer", or NULL (none) */
} ojw_source_t;

/* The sources of a section: its own (srcs; NULL or empty: none listed),
 * else the default, the Authorization header with the Bearer scheme;
 * *n: how many. */
const ojw_source_t *ojw_sources_of(const apr_array_header_t *srcs, int *n);

/* The header a client's credentials come in (RFC 7235): Authorization,
 * or Proxy-Authorization in a forward proxy request. */
const char *ojw_credential_header(int forward_proxy);

/* Longest source name accepted at configuration time. */
#define OJW_SOURCE_NAME_MAX 128

/* Parses one source: header=NAME, header=NAME:SCHEME, query=NAME or
 * cookie=NAME. NULL on success (*src set, strings from pool), else what
 * is wrong. */
const char *ojw_source_parse(ojw_source_t *src, const char *arg,
                             apr_pool_t *pool);

/* The source as written in the configuration ("query=access_token"). */
const char *ojw_source_text(const ojw_source_t *src, apr_pool_t *pool);

/*
 * Takes parameter name out of query (the part after "?", without "#"):
 * returns how many times it occurs (a name compared after
 * percent-decoding; "name" without "=" counts, with an empty value).
 * *token: the first occurrence's value, percent-decoded (left as sent
 * when its escapes are invalid or decode to NUL), or NULL. *rest: query
 * without any occurrence ("&" joined), NULL when nothing is left.
 */
int ojw_query_take(const char *query, const char *name, const char **token,
                   const char **rest, apr_pool_t *pool);

/*
 * Takes cookie name out of a Cookie header value ("a=b; c=d", also ","
 * joined when the header was sent twice): returns how many times it
 * occurs; *token: the first value (surrounding double quotes removed),
 * or NULL; *rest: the other cookies "; " joined, NULL when none is left.
 */
int ojw_cookie_take(const char *header, const char *name, const char **token,
                    const char **rest, apr_pool_t *pool);

/* ------------------------------------------------------------------ */
/* where the request's token comes from                                */

/*
 * What a request carries, as the sources of its section see it. The glue
 * hands over the request's pieces (the query string, the Cookie header,
 * the headers) and applies what comes back; the decision is here.
 *
 * The credential header is Authorization, or Proxy-Authorization in a
 * forward proxy request (RFC 7235; a source named Authorization means it).
 * Its DPoP element is always a token (RFC 9449), whatever the sources.
 * A Bearer or DPoP element of Authorization or Proxy-Authorization that
 * no source takes is a stray credential (in a forward proxy request,
 * Authorization is the origin server's and is not looked at): it is no
 * token of its own, but beside a token it is a second one (RFC 6750 2:
 * one method per request), for the backend might read it.
 */
typedef struct {
    int count;              /* tokens in the sources, the DPoP one too */
    const char *token;      /* the first one */
    const char *where;      /* the sources that had one, for the log */
    int dpop;               /* the first token came as "DPoP <token>" */
    int stray;              /* stray credentials */
    const char *stray_where;
} ojw_found_t;

/*
 * Takes the tokens of the sources (n of them) of kind OJW_SOURCE_QUERY
 * or OJW_SOURCE_COOKIE out of value (the query string after "?" or the
 * Cookie header; NULL: none), counting them in f. Returns value itself
 * when it held none, else what is left of it (NULL when nothing is).
 */
const char *ojw_found_take(ojw_found_t *f, const ojw_source_t *srcs, int n,
                           ojw_source_kind_t kind, const char *value,
                           apr_pool_t *pool);

/* Counts in f the tokens of the header sources (n of them), the DPoP
 * token and the stray credentials of headers (the request's headers). */
void ojw_found_headers(ojw_found_t *f, const ojw_source_t *srcs, int n,
                       const apr_table_t *headers, int forward_proxy,
                       apr_pool_t *pool);

/* The tokens of f: its count, and its stray credentials when it has a
 * token; *where: the sources that had them (for the log, never a token). */
int ojw_found_tokens(const ojw_found_t *f, const char **where,
                     apr_pool_t *pool);

/* The header that src names in a request: Proxy-Authorization for
 * Authorization in a forward proxy request, else its name. */
const char *ojw_source_header_name(const ojw_source_t *src,
                                   int forward_proxy);

/* ------------------------------------------------------------------ */
/* Basic credentials (AuthBasicProvider ords-jwt)                      */

/* The password GitHub-style clients send when the token is the user
 * name (as https://TOKEN:x-oauth-basic@host/). */
#define OJW_BASIC_TOKEN_WORD    "x-oauth-basic"

typedef enum {
    OJW_BASIC_AS_SENT,      /* the user name is no token */
    OJW_BASIC_USER_TOKEN,   /* the user name is the token, the password
                             * empty or OJW_BASIC_TOKEN_WORD */
    OJW_BASIC_REFUSED       /* the user name is a token, the password
                             * something else */
} ojw_basic_t;

/* 1 when s looks like a compact JWS or JWE: at least three segments, the
 * first canonical base64url of a JSON object. */
int ojw_source_looks_like_jose(const char *s, apr_pool_t *pool);

/* What a Basic user name and password (as decoded) carry: a user name
 * that looks like a token is never a user name. */
ojw_basic_t ojw_basic_credential(const char *user, const char *password,
                                 apr_pool_t *pool);

/*
 * The request line line ("METHOD TARGET[ PROTOCOL]", as received) with its
 * target replaced by target; the method, the protocol and the blanks
 * between them stay as they were. NULL when line has no target.
 */
const char *ojw_request_line_retarget(const char *line, const char *target,
                                      apr_pool_t *pool);

#endif
