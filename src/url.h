/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The canonical form of an http(s) URL (RFC 3986 6.2.2 and 6.2.3), in
 * which a DPoP proof's htu and the URL the client addressed are compared
 * (src/dpop.c, src/htu.c) and OrdsJwtDpopBaseUrl is checked. Pure string
 * logic over hostile input.
 */
#ifndef OJW_URL_H
#define OJW_URL_H

#include <apr_pools.h>

/* An http(s) URL without query and fragment, normalised (RFC 3986 6.2.2
 * and 6.2.3): scheme and host in lower case, the default port dropped,
 * an empty path made "/", percent-encodings of unreserved characters
 * decoded and the others' hex digits upper-cased, dot segments removed.
 * NULL with *why when it is not such a URL (userinfo, no host, a bad
 * percent-encoding, a byte outside printable ASCII). */
const char *ojw_url_normalise(const char *url, apr_pool_t *pool,
                              const char **why);

/* The length of url's "http://" (7) or "https://" (8), in any case; 0 for
 * another scheme. */
size_t ojw_url_scheme_len(const char *url);

#endif
