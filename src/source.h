/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a token comes from (OrdsJwtTokenFrom) and the string logic that
 * takes it out of a request: a header with an optional scheme, a query
 * parameter, a cookie. Pure functions over hostile input, no httpd.
 */
#ifndef OJW_SOURCE_H
#define OJW_SOURCE_H

#include <apr_pools.h>

typedef enum {
    OJW_SOURCE_HEADER, OJW_SOURCE_QUERY, OJW_SOURCE_COOKIE
} ojw_source_kind_t;

/* One OrdsJwtTokenFrom source. */
typedef struct {
    ojw_source_kind_t kind;
    const char *name;       /* header, parameter or cookie name */
    const char *scheme;     /* header only: "Bearer", or NULL (none) */
} ojw_source_t;

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
 * Tokens in one header value (a header sent twice arrives as one value
 * joined by ","): every comma-separated element that is scheme (case
 * insensitive) + 1*SP + a non-empty credential, or, with scheme NULL, a
 * non-empty element. Returns how many; *token: the first, or NULL.
 */
int ojw_source_header_tokens(const char *value, const char *scheme,
                             const char **token, apr_pool_t *pool);

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

/*
 * The request line line ("METHOD TARGET[ PROTOCOL]", as received) with its
 * target replaced by target; the method, the protocol and the blanks
 * between them stay as they were. NULL when line has no target.
 */
const char *ojw_request_line_retarget(const char *line, const char *target,
                                      apr_pool_t *pool);

#endif
