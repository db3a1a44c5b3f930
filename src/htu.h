/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The URL a DPoP proof's htu is compared with (RFC 9449 4.3 step 9): its
 * scheme, host and port come from the server's configuration only; the
 * request contributes its path. A request target in absolute-form
 * ("GET https://host/path HTTP/1.1") must name that same origin, so that
 * a proof made for another server is never taken here.
 */
#ifndef OJW_HTU_H
#define OJW_HTU_H

#include <apr_pools.h>

/* "scheme://host:port" of a server, as configured: host as ServerName
 * has it (an IPv6 literal is bracketed), the port ServerName names or
 * the one the connection came in on. NULL when host is empty. */
const char *ojw_htu_origin(const char *scheme, const char *host,
                           unsigned int port, apr_pool_t *pool);

/* The URL the proof must name: base (OrdsJwtDpopBaseUrl, or
 * ojw_htu_origin()'s; no query, no trailing '/') followed by the path and
 * query of target, the request target as received. Origin-form
 * ("/path?query") gives its path; absolute-form ("http(s)://authority
 * /path") must name base's scheme and authority (compared after RFC 3986
 * normalisation) and gives its path. Any other target, or another origin:
 * NULL with *why (for the log, names both origins). */
const char *ojw_htu_url(const char *base, const char *target,
                        apr_pool_t *pool, const char **why);

#endif
