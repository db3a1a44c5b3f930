/* SPDX-License-Identifier: Apache-2.0 */
/* The URL a DPoP proof's htu is compared with (see htu.h). */
#include <string.h>
#include <apr_strings.h>
#include "htu.h"
#include "url.h"

const char *ojw_htu_origin(const char *scheme, const char *host,
                           unsigned int port, apr_pool_t *pool)
{
    int literal6 = strchr(host, ':') != NULL && *host != '[';

    if (*host == '\0') {
        return NULL;
    }
    return apr_psprintf(pool, "%s://%s%s%s:%u", scheme, literal6 ? "[" : "",
                        host, literal6 ? "]" : "", port);
}

/* The length of "scheme://authority" at the head of an http(s) URL, or 0
 * when url is not one. */
static size_t origin_len(const char *url)
{
    size_t head = ojw_url_scheme_len(url);

    return head ? head + strcspn(url + head, "/?#") : 0;
}

/* The normalised origin of url's first len bytes, or NULL with *why. */
static const char *normal_origin(const char *url, size_t len,
                                 apr_pool_t *pool, const char **why)
{
    return ojw_url_normalise(apr_pstrcat(pool, apr_pstrmemdup(pool, url, len),
                                         "/", NULL), pool, why);
}

/* An absolute-form target: base's origin and the target's path, or NULL
 * with *why. */
static const char *absolute_target(const char *base, const char *target,
                                   apr_pool_t *pool, const char **why)
{
    size_t tlen = origin_len(target), blen = origin_len(base);
    const char *mine, *theirs, *path = target + tlen;

    if ((mine = normal_origin(base, blen, pool, why)) == NULL) {
        return NULL;
    }
    if ((theirs = normal_origin(target, tlen, pool, why)) == NULL) {
        *why = apr_psprintf(pool, "the request target is an absolute URL "
                            "that is not usable: %s", *why);
        return NULL;
    }
    if (strcmp(mine, theirs) != 0) {
        *why = apr_psprintf(pool, "the request target names %.200s, this "
                            "server is %.200s (its ServerName, or "
                            "OrdsJwtDpopBaseUrl): a proof made for another "
                            "server is not taken here", theirs, mine);
        return NULL;
    }
    return apr_pstrcat(pool, base, *path == '/' ? "" : "/", path, NULL);
}

const char *ojw_htu_url(const char *base, const char *target,
                        apr_pool_t *pool, const char **why)
{
    if (origin_len(base) == 0) {
        *why = "the server's own URL is not an http(s) URL";
        return NULL;
    }
    if (*target == '/') {
        return apr_pstrcat(pool, base, target, NULL);
    }
    if (origin_len(target) > 0) {
        return absolute_target(base, target, pool, why);
    }
    *why = "the request target is neither a path nor an http(s) URL";
    return NULL;
}
