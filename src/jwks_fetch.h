/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPS fetch of a JWKS document with libcurl: https only, peer and host
 * verification, a timeout for the whole fetch and a size cap; redirects
 * followed only within the JWK URL's origin (at most
 * OJW_FETCH_MAX_REDIRECTS), never a request to another; a JSON
 * Content-Type required. Failures carry a precise cause and, where one is
 * known, a hint for the administrator.
 */
#ifndef OJW_JWKS_FETCH_H
#define OJW_JWKS_FETCH_H

#include <apr_pools.h>

#define OJW_FETCH_MAX_REDIRECTS 3

typedef struct {
    const char *ca_file;      /* CA bundle, NULL for the system store */
    long timeout_ms;          /* the whole fetch, redirects included */
    size_t max_size;          /* body cap in bytes */
    const char *if_none_match;/* ETag of the document held, or NULL */
} ojw_fetch_opts_t;

typedef struct {
    char *body;               /* pool memory, NUL-terminated */
    size_t len;
    long http_status;         /* 0 when no response was received */
    int not_modified;         /* 304 to our If-None-Match: keep the doc */
    const char *etag;         /* the response's ETag, or NULL */
    const char *content_type; /* the response's Content-Type, or NULL */
    long max_age;             /* Cache-Control max-age, -1 when absent */
    char error[512];          /* why it failed (empty on success) */
    const char *hint;         /* what to do about it, or NULL */
} ojw_fetch_result_t;

/* Global libcurl initialisation; call once per process before threads. */
int ojw_fetch_global_init(void);

/* Fetches url; APR_SUCCESS only for HTTP 200 with a JSON Content-Type
 * (ojw_fetch_json_type) and a body within the cap, or 304 (not_modified
 * set) when opts->if_none_match was sent. A redirect to another origin
 * (ojw_fetch_same_origin) is a failure; its target is never asked. */
apr_status_t ojw_fetch(const char *url, const ojw_fetch_opts_t *opts,
                       ojw_fetch_result_t *res, apr_pool_t *pool);

/* 1 when a Content-Type value names JSON: application/json,
 * application/jwk-set+json or any application/<x>+json, letters in any
 * case, parameters ignored; 0 for anything else and for NULL. */
int ojw_fetch_json_type(const char *content_type);

/* 1 when URLs a and b have the same origin: scheme, host (letters in any
 * case) and port (the scheme's default when absent); 0 otherwise, and for
 * anything that does not parse. */
int ojw_fetch_same_origin(const char *a, const char *b);

/* The hint for a fetched body that is no usable JWKS: the fetch's own
 * hint, else one for an HTML page (a login, proxy or error page), or NULL. */
const char *ojw_fetch_body_hint(const ojw_fetch_result_t *res);

/* The hint for a failed fetch of url with this HTTP status, or NULL. */
const char *ojw_fetch_hint(const char *url, long http_status);

#endif
