/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ordsjwt-check's parts: the options, the profiles with their keys and
 * the server they are checked in, the run of the module's pipeline
 * (src/pipeline.h) and the answer httpd gives (answer.h), the output.
 */
#ifndef OJW_TOOL_CHECKER_H
#define OJW_TOOL_CHECKER_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "ojw.h"
#include "jwks.h"
#include "dpop_nonce.h"
#include "pipeline.h"
#include "profile.h"
#include "report.h"
#include "settings.h"
#include "answer.h"
#include "conf.h"

#define EXIT_ACCEPTED       0
#define EXIT_REFUSED        1
#define EXIT_USAGE          2

typedef struct {
    /* the profile as options, or from a configuration file */
    const char *issuer, *audience, *jwk_url, *pem_file, *pem_kid;
    const char *discovery_url;
    const char *role_claim_name, *allowed_skew, *allowed_age;
    const char *ca_file;
    const char *config;
    apr_array_header_t *profiles;   /* const char *: --profile, split */
    const char *location;           /* --location PATH */
    const char *vhost;              /* --vhost NAME[:PORT] */
    apr_array_header_t *scopes;     /* const char *: --scope */
    apr_array_header_t *roles;      /* const char *: --role */
    apr_array_header_t *privileges; /* const char *: --privilege */
    apr_array_header_t *claims;     /* const char *: --claim "NAME V..." */
    apr_array_header_t *defines;    /* const char *: --define */
    const char *token;              /* the argument, or NULL: stdin */
    const char *dpop;               /* --dpop PROOF: sent with DPoP */
    const char *method, *url;       /* --method, --url */
    const char *client_cert;        /* --client-cert FILE */
    int dpop_nonce;                 /* --dpop-nonce: OrdsJwtDpopNonce on */
    const char *nonce_key_file;     /* --dpop-nonce-key-file */
    ojw_nonce_key_t *nonce_key;     /* its key */
    long long now;
    int help;
    int version;
} options_t;

/* The keys of a profile, where they came from, and what was skipped. */
typedef struct {
    const ojw_keyset_t *ks;
    const char *source;
    const char *jwks_uri;           /* the one discovery found, or NULL */
    apr_array_header_t *notes;      /* const char * */
    const char *error;              /* why there are none */
    const char *hint;
    int tried;                      /* fetched (or loaded) once */
    apr_pool_t *pool;
} keys_t;

/* A profile of the location (or of --profile), with its keys. */
typedef struct {
    ojw_profile_t *profile;
    const char *origin;             /* "from the options" or "from FILE:LINE" */
    const char *note;               /* about the definition, or NULL */
    keys_t keys;
} setup_t;

/* The server the checks run in: its settings, as the module reads them
 * from r->server. */
typedef struct {
    int index;                      /* in conf->servers; 0: main */
    const char *label;
    ojw_settings_t num;             /* its OrdsJwt* numbers, merged */
    const char *ca_file;            /* OrdsJwtCACertificateFile */
    const char *dpop_base_url;      /* OrdsJwtDpopBaseUrl */
} server_t;

/* One run: what the hooks of the pipeline need. */
typedef struct {
    const options_t *opt;
    apr_array_header_t *setups;     /* setup_t */
    ojw_profile_set_t *profiles;    /* their profiles, as a location's */
    const server_t *server;
    const char *cert_pem;           /* --client-cert's PEM text */
    int cert_unknown;               /* a bound token, no --client-cert */
    int nonce_location;             /* OrdsJwtDpopNonce of the location */
    const ojw_nonce_key_t *nonce_key;   /* that judges nonces, or NULL:
                                         * the server's random key */
    ojw_report_t report;
    apr_pool_t *pool;
} run_t;

/* keys.c: the keys of su, fetched (https) or loaded (file) as the module
 * does; su->keys.ks NULL with .error when there are none. */
void ojw_checker_keys(setup_t *su, const server_t *server);
/* Static keys (file: JWKS, pem_file), loaded as at startup: -1 with
 * *error when the file cannot be used (a configuration error). */
int ojw_checker_static_keys(setup_t *su, const char **error);

/* print.c */
void ojw_print_clean(const char *s);
void ojw_print_token(const run_t *run, const ojw_check_t *c,
                     const char *token);
void ojw_print_checks(const run_t *run, const ojw_check_t *c,
                      const apr_array_header_t *lines, int as_steps);
void ojw_print_location(const run_t *run, const ojw_location_t *loc,
                        const ojw_conf_t *conf);
void ojw_print_tree(const ojw_location_t *loc,
                    const apr_array_header_t *lines);
/* The Result line and the Answer line; returns the exit status. */
int ojw_print_result(const run_t *run, const ojw_check_t *c,
                     const ojw_answer_t *a, int known, const char *why);

#endif
