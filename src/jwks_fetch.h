/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPS fetch of a JWKS document with libcurl: https only (redirects too),
 * peer and host verification, a timeout and a size cap. Failures carry a
 * precise cause and, where one is known, a hint for the administrator.
 */
#ifndef OJW_JWKS_FETCH_H
#define OJW_JWKS_FETCH_H

#include <apr_pools.h>

typedef struct {
    const char *ca_file;      /* CA bundle, NULL for the system store */
    long timeout_ms;          /* whole transfer */
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

/* Fetches url; APR_SUCCESS only for HTTP 200 with a body within the cap,
 * or 304 (not_modified set) when opts->if_none_match was sent. */
apr_status_t ojw_fetch(const char *url, const ojw_fetch_opts_t *opts,
                       ojw_fetch_result_t *res, apr_pool_t *pool);

/* The hint for a fetched body that is no usable JWKS: the fetch's own
 * hint, else one for an HTML page (a login, proxy or error page), or NULL. */
const char *ojw_fetch_body_hint(const ojw_fetch_result_t *res);

/* The hint for a failed fetch of url with this HTTP status, or NULL. */
const char *ojw_fetch_hint(const char *url, long http_status);

#endif
