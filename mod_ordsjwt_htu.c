/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the URL a DPoP proof's htu is compared with, from the
 * server's configuration only (issue 20): OrdsJwtDpopBaseUrl, else the
 * scheme, ServerName and port of the virtual host that took the request
 * (as UseCanonicalName On would give them, whatever it says); the
 * request gives its path (src/htu.c). Neither a Host header nor an
 * absolute-form request target chooses it. And the startup and
 * configtest warning about a virtual host that takes DPoP proofs with no
 * ServerName of its own, found by walking ap_conftree.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "htu.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* ------------------------------------------------------------------ */
/* the request                                                         */

/* This virtual host's own URL: its scheme, its ServerName, the port that
 * names (else the port the connection came in on: the server's, never
 * the client's). */
static const char *server_origin(request_rec *r)
{
    apr_port_t port = r->server->port;

    if (port == 0) {
        port = r->connection->local_addr ? r->connection->local_addr->port
                                         : ap_default_port(r);
    }
    return r->server->server_hostname
           ? ojw_htu_origin(ap_http_scheme(r), r->server->server_hostname,
                            port, r->pool)
           : NULL;
}

const char *ordsjwt_htu_url(request_rec *r, const char **why)
{
    const char *base = ordsjwt_srv_conf(r->server)->dpop_base_url;

    if (base == NULL && (base = server_origin(r)) == NULL) {
        *why = "this server has no name (ServerName)";
        return NULL;
    }
    return ojw_htu_url(base, r->unparsed_uri ? r->unparsed_uri : "", r->pool,
                       why);
}

/* ------------------------------------------------------------------ */
/* the warning                                                         */

/* A DPoP profile that an AuthOrdsJwtProfile line under first names (at
 * any depth, not inside a <VirtualHost>), looked up in s; or NULL. */
static const char *dpop_profile_named(server_rec *s,
                                      const ap_directive_t *first,
                                      apr_pool_t *p)
{
    apr_hash_t *profiles = ordsjwt_srv_conf(s)->profiles;
    const ap_directive_t *d;
    const ojw_profile_t *prof;
    const char *args, *name, *found = NULL;

    for (d = first; d && found == NULL; d = d->next) {
        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            continue;
        }
        if (strcasecmp(d->directive, "AuthOrdsJwtProfile") == 0) {
            for (args = d->args; *(name = ap_getword_conf(p, &args)); ) {
                prof = apr_hash_get(profiles, name, APR_HASH_KEY_STRING);
                if (prof && prof->dpop != OJW_BIND_OFF) {
                    found = prof->name;
                }
            }
        }
        if (found == NULL && d->first_child) {
            found = dpop_profile_named(s, d->first_child, p);
        }
    }
    return found;
}

/* 1 when the section has a directive named so among its own lines. */
static int has_directive(const ap_directive_t *sec, const char *name)
{
    const ap_directive_t *d;

    for (d = sec->first_child; d; d = d->next) {
        if (strcasecmp(d->directive, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The virtual host a <VirtualHost> section made, or NULL. */
static server_rec *vhost_of(server_rec *s, const ap_directive_t *sec)
{
    for (s = s->next; s; s = s->next) {
        if (s->defn_line_number == (unsigned)sec->line_num && s->defn_name
            && sec->filename && strcmp(s->defn_name, sec->filename) == 0) {
            return s;
        }
    }
    return NULL;
}

/* Warns about each virtual host that takes DPoP proofs (a profile named
 * in it, or in the main server's sections) with neither a ServerName of
 * its own nor OrdsJwtDpopBaseUrl. */
static void warn_unnamed(apr_pool_t *ptemp, server_rec *s)
{
    const char *global = NULL, *used;
    const ap_directive_t *d;
    server_rec *vs;
    apr_pool_t *p;

    if (ap_conftree == NULL || apr_pool_create(&p, ptemp) != APR_SUCCESS) {
        return;
    }
    if (ordsjwt_srv_conf(s)->dpop_base_url == NULL) {
        global = dpop_profile_named(s, ap_conftree, p);
    }
    for (d = ap_conftree; d; d = d->next) {
        if (strcasecmp(d->directive, "<VirtualHost") != 0
            || has_directive(d, "ServerName") || (vs = vhost_of(s, d)) == NULL
            || ordsjwt_srv_conf(vs)->dpop_base_url) {
            continue;
        }
        if ((used = dpop_profile_named(vs, d->first_child, p)) || global) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00085: "
                         "%s:%d: <VirtualHost %s> takes DPoP proofs (profile "
                         "%s) and has no ServerName: a proof's htu is "
                         "compared with the name httpd gave it (%s), which "
                         "may not be the one clients sign; set ServerName "
                         "(or OrdsJwtDpopBaseUrl) in it", d->filename,
                         d->line_num, d->args, used ? used : global,
                         vs->server_hostname ? vs->server_hostname : "none");
        }
    }
    apr_pool_destroy(p);
}

static void htu_test_config(apr_pool_t *pconf, server_rec *s)
{
    warn_unnamed(pconf, s);
}

static int htu_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        warn_unnamed(ptemp, s);
    }
    return OK;
}

void ordsjwt_htu_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_test_config(htu_test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(htu_post_config, NULL, NULL, APR_HOOK_MIDDLE);
}
