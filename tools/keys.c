/* SPDX-License-Identifier: Apache-2.0 */
/* ordsjwt-check: the keys of a profile, as the module gets them. */
#include <string.h>
#include <apr_strings.h>
#include "checker.h"
#include "discovery.h"
#include "jwks_cache.h"
#include "jwks_fetch.h"

static void note_key(void *baton, ojw_note_level_t level, int index,
                     const char *kid, const char *why)
{
    keys_t *k = baton;

    (void)level;
    APR_ARRAY_PUSH(k->notes, const char *) =
        apr_psprintf(k->pool, "key #%d (kid %s): %s", index,
                     kid ? kid : "none", why);
}

int ojw_checker_static_keys(setup_t *su, const char **error)
{
    keys_t *k = &su->keys;
    ojw_profile_t *p = su->profile;
    const char *err;

    if (p->jwk_file == NULL && p->pem_file == NULL) {
        return 0;
    }
    err = ojw_profile_load_static_keys(p, k->pool, note_key, k);
    k->source = p->jwk_file ? p->jwk_file : p->pem_file;
    k->tried = 1;
    if (err) {
        *error = apr_psprintf(k->pool, "profile %s (%s): %s: %s", p->name,
                              su->origin, p->pem_file ? "pem_file"
                              : "jwk_url", err);
        return -1;
    }
    k->ks = p->static_keys;
    return 0;
}

static ojw_fetch_opts_t fetch_opts(const server_t *server, apr_size_t max)
{
    ojw_fetch_opts_t opts = { server->ca_file,
                              ojw_setting(&server->num,
                                          OJW_SET_FETCH_TIMEOUT) * 1000L,
                              max, NULL };

    return opts;
}

/* The jwks_uri of the profile's discovery document, read and checked as
 * the module does; NULL with k->error set when there is none. */
static const char *discover(keys_t *k, const setup_t *su,
                            const server_t *server)
{
    const char *url = su->profile->discovery_url;
    ojw_fetch_opts_t opts = fetch_opts(server, OJW_DISCOVERY_MAX);
    ojw_fetch_result_t res;
    ojw_discovery_t d;
    char errbuf[1024];
    const char *cause;

    if (ojw_fetch(url, &opts, &res, k->pool) != APR_SUCCESS) {
        cause = ojw_discovery_fetch_cause(url, su->profile->issuer, &res,
                                          &k->hint, k->pool);
        k->error = apr_psprintf(k->pool, "discovery document fetch from %s "
                                "failed: %s", url, cause);
        return NULL;
    }
    if (ojw_discovery_check(&d, res.body, res.len, su->profile->issuer,
                            OJW_URL_MAX, k->pool, errbuf, sizeof(errbuf))
        != APR_SUCCESS) {
        k->error = apr_psprintf(k->pool, "discovery document %s refused: %s",
                                url, errbuf);
        return NULL;
    }
    k->jwks_uri = d.jwks_uri;
    return d.jwks_uri;
}

/* The keys of an https JWK URL (or of the jwks_uri that discovery
 * found), fetched as the module fetches them. */
static void fetch_keys(keys_t *k, const setup_t *su, const server_t *server)
{
    const char *url = su->profile->jwk_url;
    ojw_fetch_opts_t opts = fetch_opts(server, OJW_JWKS_MAX);
    ojw_fetch_result_t res;
    ojw_keyset_t *ks;
    char errbuf[512];
    const char *type;

    k->source = url;
    if (ojw_fetch_global_init() != 0) {
        k->error = "libcurl global initialisation failed";
        return;
    }
    if (su->profile->discovery_url
        && (url = k->source = discover(k, su, server)) == NULL) {
        k->source = su->profile->discovery_url;
        return;
    }
    if (ojw_fetch(url, &opts, &res, k->pool) != APR_SUCCESS) {
        k->error = apr_psprintf(k->pool, "JWKS fetch from %s failed: %s", url,
                                res.error);
        k->hint = res.hint;
        return;
    }
    if (ojw_jwks_parse(&ks, res.body, res.len, k->pool, note_key, k, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        type = res.content_type ? apr_psprintf(k->pool, " (Content-Type %s)",
                                               res.content_type) : "";
        k->error = apr_psprintf(k->pool, "JWKS fetched from %s is not "
                                "usable: %s%s", url, errbuf, type);
        k->hint = ojw_fetch_body_hint(&res);
        return;
    }
    k->ks = ks;
}

void ojw_checker_keys(setup_t *su, const server_t *server)
{
    if (!su->keys.tried) {
        su->keys.tried = 1;
        fetch_keys(&su->keys, su, server);
    }
}
