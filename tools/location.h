/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What httpd makes of a request's path, for ordsjwt-check --location:
 * the server the request reaches (as httpd picks a virtual host), and the
 * <Location>, <LocationMatch> and <Location ~> sections it merges for the
 * path, in httpd's order (the main server's, then the virtual host's, in
 * file order; a plain path by prefix ending at a slash, after merging
 * slashes; a wildcard with fnmatch; a regex with PCRE2 on the path as
 * received, as httpd), with what they set merged as httpd and
 * mod_authz_core merge it: AuthType, AuthName, AuthBasicProvider, the
 * module's per-directory directives, AuthzSendForbiddenOnFailure (which
 * AuthOrdsJwtProfile turns on in its section) and the Require lines, as
 * mod_authz_core's tree (AuthMerging, <RequireAll>/<RequireAny>/
 * <RequireNone>, <Limit>, the De Morgan rewrite of its startup check).
 *
 * <Directory>, <Files> and <Proxy> sections are not read: when they hold
 * Require lines that the path's sections do not replace, the tree holds
 * an "unknown" line for them; <If> sections are merged after the
 * locations, so a matching one with Require lines makes the answer
 * unknown.
 */
#ifndef OJW_TOOL_LOCATION_H
#define OJW_TOOL_LOCATION_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "conf.h"
#include "authz.h"
#include "source.h"

/* mod_authz_core's logic operators. */
enum { OJW_AUTHZ_AND, OJW_AUTHZ_OR };

/* Methods as httpd numbers them (M_GET ...): a bit each. */
typedef unsigned long long ojw_methods_t;
#define OJW_ALL_METHODS (~(ojw_methods_t)0)

/* A node of a Require tree: a line (provider set) or a container. */
typedef struct ojw_authz_node ojw_authz_node_t;
struct ojw_authz_node {
    const char *provider;       /* "ords-scope", "valid-user", "ip" ...;
                                 * NULL: a container */
    const char *args;           /* the line's arguments */
    int negate;                 /* Require not, <RequireNone> */
    int op;                     /* a container's OJW_AUTHZ_AND or _OR */
    int merged;                 /* made by AuthMerging */
    ojw_methods_t limited;      /* the methods it applies to */
    const ojw_require_t *rl;    /* an ords-* line: parsed */
    int ords_negated;           /* the module's view: negated as written */
    const char *file;
    int line;
    ojw_authz_node_t *first;    /* a container's children */
    ojw_authz_node_t *next;
};

/* What the matching sections amount to for one path. */
typedef struct {
    const char *uri;            /* the path as httpd matches it */
    int server;
    apr_array_header_t *sections;   /* const ojw_conf_location_t *, merged */
    const char *auth_type;      /* NULL: none (or AuthType None) */
    const char *auth_name;
    const char *basic_providers;    /* AuthBasicProvider's arguments */
    apr_array_header_t *profiles;   /* const ojw_conf_profile_t *:
                                     * AuthOrdsJwtProfile, resolved */
    apr_array_header_t *sources;    /* ojw_source_t; NULL: the default */
    int anonymous;              /* OrdsJwtAnonymous On */
    int dpop_nonce;             /* OrdsJwtDpopNonce On */
    int forbidden_on_fail;      /* AuthzSendForbiddenOnFailure: 1 On, 0 Off,
                                 * -1 unset (Off) */
    ojw_authz_node_t *authz;    /* the merged Require tree, or NULL */
    apr_array_header_t *notes;  /* const char *: what was not read */
    int unknown;                /* an <If> with Require lines may decide */
} ojw_location_t;

/* The path of a request as httpd walks it: query and fragment dropped,
 * %-escapes decoded, dot segments removed; NULL with *error when httpd
 * would refuse it before (no leading slash, %2F, %00, a bad escape). */
const char *ojw_location_uri(const char *path, apr_pool_t *pool,
                             const char **error);

/* The server that answers a request to NAME[:PORT] (vhost), as httpd
 * picks it: the <VirtualHost>s listening on PORT (or on any port), by
 * ServerName and ServerAlias, else the first of them, else the main
 * server. vhost NULL: a request with no known name to the first Listen
 * port. *label says which it is. */
int ojw_location_server(const ojw_conf_t *conf, const char *vhost,
                        apr_pool_t *pool, const char **label);

/* The sections of server merged for uri (from ojw_location_uri), merged;
 * NULL with *error (FILE:LINE: what httpd would refuse at startup). */
ojw_location_t *ojw_location_merge(const ojw_conf_t *conf, int server,
                                   const char *uri, apr_pool_t *pool,
                                   const char **error);

/* The bit of a method name (GET and HEAD share one, as in httpd). */
ojw_methods_t ojw_method_bit(const char *method);

#endif
