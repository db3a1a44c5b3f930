/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ordsjwt-check: checks a bearer token the way mod_auth_ordsjwt does,
 * without httpd, and says what every check found: the module's own
 * pipeline (src/pipeline.c), observed step by step, then the Require
 * lines, decided by the module's own code; with --location, the answer
 * httpd gives for that path of the configuration.
 *
 *   ordsjwt-check --config /etc/apache2/apache2.conf --profile hr TOKEN
 *   ordsjwt-check --config /etc/apache2/apache2.conf --location /ords/hr/x \
 *       --vhost api.example.com:443 TOKEN
 *   ordsjwt-check --issuer https://identity.oraclecloud.com/ \
 *       --audience ords/hr/ --jwk-url https://.../jwk < token.txt
 *
 * Exit status: 0 accepted (httpd answers 200), 1 refused, 2 usage or
 * configuration error, or no verdict (no signing keys: httpd answers 503;
 * a line of another module or a client certificate decides).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "checker.h"
#include "authz.h"
#include "binding.h"
#include "dpop.h"
#include "location.h"

#define INPUT_MAX           (1024 * 1024)   /* bytes read from stdin */
#define NOW_MAX             253402300799LL  /* the last second of 9999 */
#define OPTIONS_PROFILE     "options"       /* name of a profile from options */

static const char usage_text[] =
"Usage: ordsjwt-check [OPTIONS] [TOKEN]\n"
"\n"
"Checks a bearer token the way mod_auth_ordsjwt does, without httpd: prints\n"
"the decoded header and claims (never the signature), then every check of\n"
"the module's pipeline with the reason and the hint the module would log,\n"
"then the Require lines, and the answer httpd would give. The token is the\n"
"argument, or read from stdin (\"-\" or no argument); surrounding\n"
"whitespace is ignored. \"Bearer TOKEN\" is taken as sent in the\n"
"Authorization header; \"Basic ...\" is decoded and its password taken as\n"
"the token (AuthBasicProvider ords-jwt); a bare token as sent where the\n"
"location looks first (OrdsJwtTokenFrom).\n"
"\n"
"From an httpd configuration (Include and IncludeOptional are followed;\n"
"the directives read are listed in the man page):\n"
"  --config FILE           httpd.conf, apache2.conf or any file it includes\n"
"  --location PATH         the answer httpd gives for this path: its\n"
"                          <Location>/<LocationMatch> sections merged as\n"
"                          httpd merges them (AuthOrdsJwtProfile, token\n"
"                          sources, OrdsJwtAnonymous, Require lines ...)\n"
"  --vhost NAME[:PORT]     the virtual host of the request, as httpd picks\n"
"                          it by ServerName/ServerAlias and port (default:\n"
"                          the first Listen port with no known name)\n"
"  --profile NAME          instead of --location: the OrdsJwtProfile to\n"
"                          check with; several (repeat it, or \"a b\"), as\n"
"                          AuthOrdsJwtProfile a b: the profile is chosen by\n"
"                          the token's iss, then aud\n"
"  --define NAME           as httpd's -D NAME, for <IfDefine NAME>\n"
"or from options (the keys of OrdsJwtProfile, with the same rules):\n"
"  --issuer ISS            required\n"
"  --audience AUD          required\n"
"  --jwk-url URL           https://... or file:///path.json\n"
"  --pem-file PATH         instead of --jwk-url: one public key (PEM)\n"
"  --discovery-url URL     instead of --jwk-url: the issuer's\n"
"                          /.well-known/openid-configuration (its issuer\n"
"                          must equal --issuer; prints the jwks_uri found)\n"
"  --pem-kid KID           the kid of --pem-file's key (default: any kid)\n"
"  --role-claim-name PTR   JSON pointer to the roles, e.g. /groups\n"
"  --allowed-skew N        seconds (at most 60; default 0)\n"
"  --allowed-age N         seconds since iat (default 0: not checked)\n"
"Require lines, without --location (all must pass, as in <RequireAll>):\n"
"  --scope S               as \"Require ords-scope\": repeat for more\n"
"                          scopes, any one of them suffices\n"
"  --role R                as \"Require ords-role\": repeat for more roles,\n"
"                          any one of them suffices\n"
"  --privilege NAME        as \"Require ords-privilege\" (needs --config:\n"
"                          the OrdsJwtPrivilege definitions): repeat for\n"
"                          more, any one suffices\n"
"  --claim 'NAME VALUE...' as \"Require ords-claim NAME VALUE...\" (NAME a\n"
"                          claim name or a JSON pointer): any value\n"
"                          suffices; repeat for more lines\n"
"The request:\n"
"  --ca-file PATH          CA bundle for an https JWK URL (default: the\n"
"                          configuration's, else the system store)\n"
"  --dpop PROOF            the DPoP header: the token is sent as\n"
"                          \"Authorization: DPoP TOKEN\" with this proof\n"
"  --method M              the request method (default GET)\n"
"  --url U                 with --dpop: the URL the client addressed (as\n"
"                          OrdsJwtDpopBaseUrl makes it behind a balancer;\n"
"                          with --location, that base and the path)\n"
"  --client-cert FILE      the client certificate of the connection (PEM),\n"
"                          for tokens bound to one (cnf x5t#S256)\n"
"  --dpop-nonce            with --dpop, without --location: the location\n"
"                          requires nonces (OrdsJwtDpopNonce on; a\n"
"                          profile's dpop_nonce= wins, as in httpd)\n"
"  --dpop-nonce-key-file F with --dpop: the OrdsJwtDpopNonceKeyFile that\n"
"                          judges the proof's nonce (default: the\n"
"                          configuration's; without one only its presence\n"
"                          is checked: a random key is the server's alone)\n"
"  --now SECONDS           check at this time (seconds since 1970)\n"
"  --help                  this text\n"
"  --version               the release, e.g. \"ordsjwt-check 0.1.0\"\n"
"\n"
"<IfModule> and <IfDefine> are evaluated as httpd would (LoadModule and\n"
"Define lines read before them); the sections skipped are listed on stderr.\n"
"\n"
"The last lines: \"Result:\" in words, \"Answer: STATUS OUTCOME\": the\n"
"HTTP status and what the module's access log note ordsjwt-outcome says\n"
"(\"-\" when the module does not judge the request).\n"
"\n"
"Exit status: 0 httpd lets the request in, 1 refused, 2 usage or\n"
"configuration error, or no verdict: the signing keys cannot be had (httpd\n"
"would answer 503), or a Require line of another module (ip, expr, ...)\n"
"or a client certificate not given decides.\n";

/* ------------------------------------------------------------------ */
/* the profiles                                                        */

/* value as a double-quoted OrdsJwtProfile value ('"' and '\' escaped). */
static const char *quoted_value(apr_pool_t *pool, const char *value)
{
    char *out = apr_palloc(pool, 2 * strlen(value) + 3), *o = out;

    *o++ = '"';
    for (; *value; value++) {
        if (*value == '"' || *value == '\\') {
            *o++ = '\\';
        }
        *o++ = *value;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *add_key(apr_pool_t *pool, const char *args,
                           const char *key, const char *value)
{
    if (value == NULL) {
        return args;
    }
    return apr_pstrcat(pool, args, " ", key, "=", quoted_value(pool, value),
                       NULL);
}

/* A setup with no keys yet. */
static setup_t *new_setup(apr_array_header_t *setups, apr_pool_t *pool)
{
    setup_t *su = apr_array_push(setups);

    memset(su, 0, sizeof(*su));
    su->keys.pool = pool;
    su->keys.notes = apr_array_make(pool, 4, sizeof(const char *));
    return su;
}

/* The options as "OrdsJwtProfile options key=value ...", parsed by
 * ojw_profile_parse so that the module's rules apply. */
static int profile_from_options(setup_t *su, const options_t *opt,
                                apr_pool_t *pool, const char **error)
{
    const char *args = OPTIONS_PROFILE, *err = NULL;

    args = add_key(pool, args, "issuer", opt->issuer);
    args = add_key(pool, args, "audience", opt->audience);
    args = add_key(pool, args, "jwk_url", opt->jwk_url);
    args = add_key(pool, args, "pem_file", opt->pem_file);
    args = add_key(pool, args, "discovery_url", opt->discovery_url);
    args = add_key(pool, args, "pem_kid", opt->pem_kid);
    args = add_key(pool, args, "role_claim_name", opt->role_claim_name);
    args = add_key(pool, args, "allowed_skew", opt->allowed_skew);
    args = add_key(pool, args, "allowed_age", opt->allowed_age);
    su->profile = ojw_profile_parse(args, pool, &err);
    if (su->profile == NULL) {
        if (strncmp(err, OPTIONS_PROFILE ": ", sizeof(OPTIONS_PROFILE) + 1)
            == 0) {
            err += sizeof(OPTIONS_PROFILE) + 1;
        }
        *error = apr_psprintf(pool, "profile options: %s", err);
        return -1;
    }
    su->origin = "from the options";
    if (opt->dpop) {
        su->profile->dpop = OJW_BIND_ALLOWED;   /* the options take DPoP */
    }
    return 0;
}

/* The names of the profiles defined, each once. */
static const char *profile_names(const ojw_conf_t *conf, apr_pool_t *pool)
{
    apr_hash_t *seen = apr_hash_make(pool);
    const char *names = NULL;
    int i;

    for (i = 0; i < conf->profiles->nelts; i++) {
        const char *name = APR_ARRAY_IDX(conf->profiles, i,
                                         ojw_conf_profile_t).name;

        if (apr_hash_get(seen, name, APR_HASH_KEY_STRING) == NULL) {
            apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
            names = apr_pstrcat(pool, names ? names : "", names ? ", " : "",
                                name, NULL);
        }
    }
    return names ? names : "none";
}

static const char *where(apr_pool_t *pool, const ojw_conf_profile_t *d)
{
    return apr_psprintf(pool, "%s:%d", d->file, d->line);
}

/* Why two definitions of one name are not interchangeable, or NULL. */
static const char *difference(const ojw_conf_t *conf,
                              const ojw_conf_profile_t *a,
                              const ojw_conf_profile_t *b)
{
    ojw_settings_t da = ojw_conf_defaults(conf, a->server);
    ojw_settings_t db = ojw_conf_defaults(conf, b->server);

    if (a->server == b->server) {
        return "in one server, which httpd refuses";
    }
    if (strcmp(a->args, b->args) != 0) {
        return "differently";
    }
    if (ojw_setting(&da, OJW_SET_SKEW) != ojw_setting(&db, OJW_SET_SKEW)
        || ojw_setting(&da, OJW_SET_AGE) != ojw_setting(&db, OJW_SET_AGE)
        || ojw_setting(&da, OJW_SET_TOKEN_MAX)
           != ojw_setting(&db, OJW_SET_TOKEN_MAX)) {
        return "in virtual hosts with different OrdsJwtAllowedSkew, "
               "OrdsJwtAllowedAge or OrdsJwtMaxTokenSize";
    }
    return NULL;
}

/* Several definitions of one name are usable only when they are the same
 * line in different virtual hosts with the same defaults; NULL then. */
static const char *ambiguity(const ojw_conf_t *conf,
                             const apr_array_header_t *defs,
                             apr_pool_t *pool)
{
    const ojw_conf_profile_t *first = APR_ARRAY_IDX(defs, 0,
                                                    ojw_conf_profile_t *);
    const char *places = where(pool, first), *why = NULL;
    int i;

    for (i = 1; i < defs->nelts; i++) {
        const ojw_conf_profile_t *d = APR_ARRAY_IDX(defs, i,
                                                    ojw_conf_profile_t *);

        why = why ? why : difference(conf, first, d);
        places = apr_pstrcat(pool, places, ", ", where(pool, d), NULL);
    }
    if (why == NULL) {
        return NULL;
    }
    return apr_psprintf(pool, "OrdsJwtProfile %s is defined %d times, %s "
                        "(%s): the checker cannot tell which one is meant; "
                        "give --location (and --vhost)", first->name,
                        defs->nelts, why, places);
}

/* The definition of profile name in --config; NULL with *error set. */
static const ojw_conf_profile_t *find_definition(const ojw_conf_t *conf,
                                                 setup_t *su, const char *name,
                                                 const options_t *opt,
                                                 apr_pool_t *pool,
                                                 const char **error)
{
    apr_array_header_t *defs = ojw_conf_find(conf, name, pool);

    if (defs->nelts == 0) {
        *error = apr_psprintf(pool, "no OrdsJwtProfile named \"%s\" in %s or "
                              "the files it includes (%d files; profiles: "
                              "%s%s)", name, opt->config, conf->nfiles,
                              profile_names(conf, pool),
                              conf->skipped->nelts ? "; sections skipped "
                              "are listed above" : "");
        return NULL;
    }
    if (defs->nelts > 1 && (*error = ambiguity(conf, defs, pool)) != NULL) {
        return NULL;
    }
    if (defs->nelts > 1) {
        su->note = apr_psprintf(pool, "defined %d times, identically, in "
                                "different virtual hosts", defs->nelts);
    }
    return APR_ARRAY_IDX(defs, 0, ojw_conf_profile_t *);
}

/* The profile of a definition, parsed by the module's parser. */
static int from_definition(setup_t *su, const ojw_conf_profile_t *def,
                           apr_pool_t *pool, const char **error)
{
    const char *err = NULL;

    su->profile = ojw_profile_parse(def->args, pool, &err);
    if (su->profile == NULL) {
        *error = apr_psprintf(pool, "%s: OrdsJwtProfile %s", where(pool, def),
                              err);
        return -1;
    }
    su->origin = apr_pstrcat(pool, "from ", where(pool, def), NULL);
    return 0;
}

/* --profile NAME ...: the definitions; *server: the first one's. */
static int setups_from_names(apr_array_header_t *setups,
                             const ojw_conf_t *conf, const options_t *opt,
                             int *server, apr_pool_t *pool,
                             const char **error)
{
    const ojw_conf_profile_t *def;
    setup_t *su;
    int i;

    for (i = 0; i < opt->profiles->nelts; i++) {
        su = new_setup(setups, pool);
        def = find_definition(conf, su, APR_ARRAY_IDX(opt->profiles, i,
                                                      const char *),
                              opt, pool, error);
        if (def == NULL || from_definition(su, def, pool, error) != 0) {
            return -1;
        }
        *server = i == 0 ? def->server : *server;
    }
    return 0;
}

/* The location's AuthOrdsJwtProfile, as the module resolved them. */
static int setups_from_location(apr_array_header_t *setups,
                                const ojw_location_t *loc, apr_pool_t *pool,
                                const char **error)
{
    int i;

    for (i = 0; loc->profiles && i < loc->profiles->nelts; i++) {
        if (from_definition(new_setup(setups, pool),
                            APR_ARRAY_IDX(loc->profiles, i,
                                          const ojw_conf_profile_t *),
                            pool, error) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The profiles as a location's set (profile.h); -1 with *error when two
 * of them could not be told apart by any token, as httpd's configtest
 * says for one location. */
static int profile_set(run_t *run, const char **error)
{
    int i;

    run->profiles = ojw_profile_set_make(run->pool);
    for (i = 0; i < run->setups->nelts; i++) {
        *error = ojw_profile_set_add(run->profiles,
                                     APR_ARRAY_IDX(run->setups, i,
                                                   setup_t).profile,
                                     run->pool);
        if (*error) {
            return -1;
        }
    }
    return 0;
}

/* The static keys of every profile, loaded as the module does at startup:
 * a file that cannot be used is a configuration error. */
static int load_all_static_keys(apr_array_header_t *setups,
                                const char **error)
{
    int i;

    for (i = 0; i < setups->nelts; i++) {
        if (ojw_checker_static_keys(&APR_ARRAY_IDX(setups, i, setup_t),
                                    error) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* the server, and the Require lines of the options                    */

/* The settings the module reads from r->server: the server's own, else
 * the main server's (conf NULL: the defaults of the settings table). */
static void server_of(server_t *sv, const ojw_conf_t *conf, int index,
                      const char *label, const options_t *opt)
{
    const ojw_conf_host_t *h, *main_host;

    memset(sv, 0, sizeof(*sv));
    sv->index = index;
    sv->label = label;
    sv->ca_file = opt->ca_file ? opt->ca_file : conf ? conf->ca_file : NULL;
    if (conf == NULL) {
        ojw_settings_init(&sv->num);
        return;
    }
    sv->num = ojw_conf_defaults(conf, index);
    h = &APR_ARRAY_IDX(conf->hosts, index, ojw_conf_host_t);
    main_host = &APR_ARRAY_IDX(conf->hosts, 0, ojw_conf_host_t);
    sv->dpop_base_url = h->dpop_base_url ? h->dpop_base_url
                                         : main_host->dpop_base_url;
}

/* What --privilege finds: the server's own definition, else the main
 * server's. */
typedef struct {
    const ojw_conf_t *conf;
    int server;
} privileges_t;

static const ojw_privilege_t *find_privilege(void *baton, const char *name)
{
    const privileges_t *pv = baton;
    const ojw_conf_privilege_t *def = pv->conf
        ? ojw_conf_privilege(pv->conf, name, pv->server) : NULL;

    return def ? def->pv : NULL;
}

/* A Require line of the options: its words parsed as the module does. */
static int option_line(ojw_authz_node_t *all, ojw_require_kind_t kind,
                       const char *const *words, int n, privileges_t *pv,
                       apr_pool_t *pool, const char **error)
{
    ojw_authz_node_t *line = apr_pcalloc(pool, sizeof(*line)), **tail;
    ojw_require_t *rl;
    const char *err;

    if (n == 0) {
        return 0;
    }
    err = ojw_require_parse(&rl, kind, words, n, find_privilege, pv, pool);
    if (err) {
        *error = apr_psprintf(pool, "--%s: %s", ojw_require_provider(kind)
                              + 5, err);
        return -1;
    }
    line->provider = ojw_require_provider(kind);
    line->args = rl->joined;
    line->rl = rl;
    line->limited = OJW_ALL_METHODS;
    for (tail = &all->first; *tail; tail = &(*tail)->next) {
    }
    *tail = line;
    return 0;
}

#define WORDS(a) (const char *const *)(a)->elts, (a)->nelts

/* --claim 'NAME VALUE ...': one line each. */
static int claim_lines(ojw_authz_node_t *all, const options_t *opt,
                       privileges_t *pv, apr_pool_t *pool,
                       const char **error)
{
    char **argv;
    int i, n;

    for (i = 0; i < opt->claims->nelts; i++) {
        if (apr_tokenize_to_argv(APR_ARRAY_IDX(opt->claims, i, const char *),
                                 &argv, pool) != APR_SUCCESS) {
            *error = "--claim: cannot split its words";
            return -1;
        }
        for (n = 0; argv[n]; n++) {
        }
        if (option_line(all, OJW_REQUIRE_CLAIM, (const char *const *)argv,
                        n, pv, pool, error) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The options' Require lines as a location: <RequireAll> of one line
 * per kind (its values: any one suffices) and one per --claim;
 * "Require valid-user" when there are none. */
static ojw_location_t *options_location(const options_t *opt,
                                        const ojw_conf_t *conf, int server,
                                        int basic, apr_pool_t *pool,
                                        const char **error)
{
    ojw_location_t *loc = apr_pcalloc(pool, sizeof(*loc));
    ojw_authz_node_t *all = apr_pcalloc(pool, sizeof(*all));
    privileges_t pv = { conf, server };

    all->op = OJW_AUTHZ_AND;
    all->limited = OJW_ALL_METHODS;
    loc->uri = "(the options)";
    loc->auth_type = basic ? "Basic" : "ords-jwt";
    loc->basic_providers = basic ? "ords-jwt" : NULL;
    loc->profiles = apr_array_make(pool, 1, sizeof(void *));
    APR_ARRAY_PUSH(loc->profiles, const void *) = NULL;
    loc->forbidden_on_fail = 1;
    loc->sections = apr_array_make(pool, 1, sizeof(void *));
    loc->notes = apr_array_make(pool, 1, sizeof(void *));
    loc->authz = all;
    if (option_line(all, OJW_REQUIRE_SCOPE, WORDS(opt->scopes), &pv, pool,
                    error) != 0
        || option_line(all, OJW_REQUIRE_ROLE, WORDS(opt->roles), &pv, pool,
                       error) != 0
        || option_line(all, OJW_REQUIRE_PRIVILEGE, WORDS(opt->privileges),
                       &pv, pool, error) != 0
        || claim_lines(all, opt, &pv, pool, error) != 0) {
        return NULL;
    }
    if (all->first == NULL) {
        all->first = apr_pcalloc(pool, sizeof(*all->first));
        all->first->provider = "valid-user";
        all->first->args = "";
        all->first->limited = OJW_ALL_METHODS;
    }
    return loc;
}

/* ------------------------------------------------------------------ */
/* the pipeline's hooks: the checker's keys and binding                */

static setup_t *setup_for(const run_t *run, const ojw_profile_t *p)
{
    int i;

    for (i = 0; i < run->setups->nelts; i++) {
        if (APR_ARRAY_IDX(run->setups, i, setup_t).profile == p) {
            return &APR_ARRAY_IDX(run->setups, i, setup_t);
        }
    }
    return NULL;
}

/* The keys of the chosen profile (fetched once the token parses). */
static ojw_reason_t verify(ojw_check_t *c, ojw_error_t *err,
                           const char **hint)
{
    run_t *run = c->baton;
    setup_t *su = setup_for(run, c->profile);

    ojw_checker_keys(su, run->server);
    run->report.ks = su->keys.ks;
    if (su->keys.ks == NULL) {
        run->report.keys_error = su->keys.error;
        *hint = su->keys.hint;
        return ojw_fail(err, OJW_ERR_KEYS_UNAVAILABLE, "%s", su->keys.error);
    }
    return ojw_token_verify(c->tok, su->keys.ks, c->pool, err);
}

/* The --dpop proof's nonce where the profile (or the location) requires
 * one, judged as the module judges it; without the server's key (a
 * random one, or a key file that cannot be read here) only its presence
 * counts, and the report says so. */
static ojw_reason_t nonce(ojw_check_t *c, ojw_error_t *err,
                          const char **hint)
{
    run_t *run = c->baton;
    const char *proof = ojw_dpop_proof_header(run->opt->dpop), *seen = NULL;
    const ojw_settings_t *n = &run->server->num;
    ojw_nonce_policy_t *pol;
    ojw_reason_t rc;

    if (proof == NULL
        || !ojw_profile_nonce_required(c->profile, run->nonce_location)) {
        return OJW_OK;
    }
    pol = apr_pcalloc(c->pool, sizeof(*pol));
    pol->key = run->nonce_key;
    pol->lifetime = ojw_setting(n, OJW_SET_DPOP_NONCE_LIFETIME);
    pol->skew = ojw_profile_skew(c->profile, ojw_setting(n, OJW_SET_SKEW));
    pol->now = run->opt->now;
    c->nonce = pol;
    rc = ojw_nonce_require(&c->nonce_age, proof, strlen(proof), pol, c->pool,
                           err);
    if (rc == OJW_ERR_DPOP_NONCE && pol->key == NULL
        && ojw_nonce_peek(&seen, proof, strlen(proof), c->pool, NULL)
           == OJW_OK && seen != NULL) {
        rc = OJW_OK;
    }
    *hint = rc == OJW_OK ? NULL : ojw_hint_for_binding(rc);
    return rc;
}

/* The --client-cert (PEM), asked for when the token is bound to a
 * client certificate; without one, the verdict is the one for a client
 * that presents none, and the checker says that it cannot know. */
static const char *client_cert(void *baton)
{
    run_t *run = baton;

    if (run->cert_pem == NULL) {
        run->cert_unknown = 1;
    }
    return run->cert_pem;
}

/* The URL the proof must name: --url, or OrdsJwtDpopBaseUrl and the
 * --location path. */
static const char *proof_url(const run_t *run)
{
    if (run->opt->url || run->server->dpop_base_url == NULL
        || run->opt->location == NULL) {
        return run->opt->url;
    }
    return apr_pstrcat(run->pool, run->server->dpop_base_url,
                       run->opt->location, NULL);
}

/* The request's evidence for the binding step: --dpop, --method, the
 * URL, --client-cert; no replay store (every proof is taken as fresh:
 * the store is httpd's). */
static void evidence(ojw_check_t *c, ojw_evidence_t *ev)
{
    run_t *run = c->baton;

    ev->dpop = run->opt->dpop != NULL;
    ev->access_token = run->report.compact;
    ev->proof = run->opt->dpop;
    ev->method = run->opt->method ? run->opt->method : "GET";
    ev->url = proof_url(run);
    ev->url_why = "the URL the client addressed is not known: give --url "
                  "(or OrdsJwtDpopBaseUrl with --location)";
    ev->window = ojw_setting(&run->server->num, OJW_SET_DPOP_WINDOW);
    ev->client_cert = client_cert;
    ev->baton = run;
}

static const ojw_check_hooks_t checker_hooks = {
    .verify = verify,
    .nonce = nonce,
    .evidence = evidence,
    .observe = ojw_report_step,
};

/* The module's pipeline on the token, observed. */
static void run_pipeline(run_t *run, ojw_check_t *c, const char *token,
                         const char *basic_user)
{
    memset(c, 0, sizeof(*c));
    c->profiles = run->profiles;
    c->token_max = (size_t)ojw_setting(&run->server->num, OJW_SET_TOKEN_MAX);
    c->default_skew = ojw_setting(&run->server->num, OJW_SET_SKEW);
    c->default_age = ojw_setting(&run->server->num, OJW_SET_AGE);
    c->now = run->opt->now;
    c->basic_user = basic_user;
    c->hooks = &checker_hooks;
    c->baton = run;
    c->observer = &run->report;
    c->pool = run->pool;
    run->report.compact = token;
    run->report.len = strlen(token);
    if (run->setups->nelts > 0) {
        ojw_check_run(c, token, strlen(token));
    }
}

/* ------------------------------------------------------------------ */
/* options and the token                                               */

enum {
    OPT_ISSUER = 256, OPT_AUDIENCE, OPT_JWK_URL, OPT_PEM_FILE, OPT_PEM_KID,
    OPT_ROLE_CLAIM, OPT_SKEW, OPT_AGE, OPT_CA_FILE, OPT_CONFIG, OPT_PROFILE,
    OPT_SCOPE, OPT_ROLE, OPT_NOW, OPT_HELP, OPT_DISCOVERY_URL, OPT_PRIVILEGE,
    OPT_DEFINE, OPT_VERSION, OPT_DPOP, OPT_METHOD, OPT_URL, OPT_LOCATION,
    OPT_VHOST, OPT_CLAIM, OPT_CLIENT_CERT, OPT_DPOP_NONCE, OPT_NONCE_KEY_FILE
};

static const struct option long_options[] = {
    { "issuer", required_argument, NULL, OPT_ISSUER },
    { "audience", required_argument, NULL, OPT_AUDIENCE },
    { "jwk-url", required_argument, NULL, OPT_JWK_URL },
    { "pem-file", required_argument, NULL, OPT_PEM_FILE },
    { "pem-kid", required_argument, NULL, OPT_PEM_KID },
    { "discovery-url", required_argument, NULL, OPT_DISCOVERY_URL },
    { "role-claim-name", required_argument, NULL, OPT_ROLE_CLAIM },
    { "allowed-skew", required_argument, NULL, OPT_SKEW },
    { "allowed-age", required_argument, NULL, OPT_AGE },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "profile", required_argument, NULL, OPT_PROFILE },
    { "location", required_argument, NULL, OPT_LOCATION },
    { "vhost", required_argument, NULL, OPT_VHOST },
    { "scope", required_argument, NULL, OPT_SCOPE },
    { "role", required_argument, NULL, OPT_ROLE },
    { "claim", required_argument, NULL, OPT_CLAIM },
    { "now", required_argument, NULL, OPT_NOW },
    { "help", no_argument, NULL, OPT_HELP },
    { "privilege", required_argument, NULL, OPT_PRIVILEGE },
    { "define", required_argument, NULL, OPT_DEFINE },
    { "version", no_argument, NULL, OPT_VERSION },
    { "dpop", required_argument, NULL, OPT_DPOP },
    { "method", required_argument, NULL, OPT_METHOD },
    { "url", required_argument, NULL, OPT_URL },
    { "client-cert", required_argument, NULL, OPT_CLIENT_CERT },
    { "dpop-nonce", no_argument, NULL, OPT_DPOP_NONCE },
    { "dpop-nonce-key-file", required_argument, NULL, OPT_NONCE_KEY_FILE },
    { NULL, 0, NULL, 0 }
};

static int parse_now(options_t *opt, const char *arg, apr_pool_t *pool,
                     const char **error)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno == ERANGE || v < 0
        || v >= NOW_MAX) {
        *error = apr_psprintf(pool, "--now %s is not a number of seconds "
                              "since 1970 before the year 10000", arg);
        return -1;
    }
    opt->now = v;
    return 0;
}

/* --dpop-nonce-key-file: the key, read now; -1 with *error. */
static int read_nonce_key(options_t *opt, const char *path,
                          apr_pool_t *pool, const char **error)
{
    int shared;

    opt->nonce_key_file = path;
    opt->nonce_key = apr_palloc(pool, sizeof(*opt->nonce_key));
    apr_pool_cleanup_register(pool, opt->nonce_key, ojw_nonce_key_wipe,
                              apr_pool_cleanup_null);
    if ((*error = ojw_nonce_key_read(opt->nonce_key, path, &shared, pool))) {
        *error = apr_pstrcat(pool, "--dpop-nonce-key-file ", *error, NULL);
        return -1;
    }
    return 0;
}

/* The words of arg (separated by spaces or commas) added to list. */
static void add_words(apr_array_header_t *list, const char *arg,
                      apr_pool_t *pool)
{
    char *copy = apr_pstrdup(pool, arg), *last = NULL, *w;

    for (w = apr_strtok(copy, " \t,", &last); w;
         w = apr_strtok(NULL, " \t,", &last)) {
        APR_ARRAY_PUSH(list, const char *) = w;
    }
}

#define PUSH(list, arg) (APR_ARRAY_PUSH((list), const char *) = (arg))

/* Stores one option; -1 with *error set when it is not valid. */
static int set_option(options_t *opt, int c, const char *arg,
                      apr_pool_t *pool, const char **error)
{
    switch (c) {
    case OPT_ISSUER:        opt->issuer = arg; break;
    case OPT_AUDIENCE:      opt->audience = arg; break;
    case OPT_JWK_URL:       opt->jwk_url = arg; break;
    case OPT_PEM_FILE:      opt->pem_file = arg; break;
    case OPT_PEM_KID:       opt->pem_kid = arg; break;
    case OPT_DISCOVERY_URL: opt->discovery_url = arg; break;
    case OPT_ROLE_CLAIM:    opt->role_claim_name = arg; break;
    case OPT_SKEW:          opt->allowed_skew = arg; break;
    case OPT_AGE:           opt->allowed_age = arg; break;
    case OPT_CA_FILE:       opt->ca_file = arg; break;
    case OPT_CONFIG:        opt->config = arg; break;
    case OPT_PROFILE:       add_words(opt->profiles, arg, pool); break;
    case OPT_LOCATION:      opt->location = arg; break;
    case OPT_VHOST:         opt->vhost = arg; break;
    case OPT_PRIVILEGE:     PUSH(opt->privileges, arg); break;
    case OPT_DEFINE:        PUSH(opt->defines, arg); break;
    case OPT_SCOPE:         PUSH(opt->scopes, arg); break;
    case OPT_ROLE:          PUSH(opt->roles, arg); break;
    case OPT_CLAIM:         PUSH(opt->claims, arg); break;
    case OPT_DPOP:          opt->dpop = arg; break;
    case OPT_METHOD:        opt->method = arg; break;
    case OPT_URL:           opt->url = arg; break;
    case OPT_CLIENT_CERT:   opt->client_cert = arg; break;
    case OPT_DPOP_NONCE:    opt->dpop_nonce = 1; break;
    case OPT_NONCE_KEY_FILE: return read_nonce_key(opt, arg, pool, error);
    case OPT_NOW:           return parse_now(opt, arg, pool, error);
    case OPT_HELP:          opt->help = 1; break;
    case OPT_VERSION:       opt->version = 1; break;
    default:
        *error = "unknown option or missing value (see --help)";
        return -1;
    }
    return 0;
}

static int parse_options(options_t *opt, int argc, char **argv,
                         apr_pool_t *pool, const char **error)
{
    int c;

    memset(opt, 0, sizeof(*opt));
    opt->scopes = apr_array_make(pool, 4, sizeof(const char *));
    opt->roles = apr_array_make(pool, 4, sizeof(const char *));
    opt->profiles = apr_array_make(pool, 4, sizeof(const char *));
    opt->privileges = apr_array_make(pool, 4, sizeof(const char *));
    opt->claims = apr_array_make(pool, 4, sizeof(const char *));
    opt->defines = apr_array_make(pool, 4, sizeof(const char *));
    opt->now = (long long)time(NULL);
    opterr = 0;     /* our message, not getopt's */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (set_option(opt, c, optarg, pool, error) != 0) {
            if (c == '?' || c == ':') {
                *error = apr_psprintf(pool, "%s: unknown option or missing "
                                      "value (see --help)",
                                      argv[optind - 1]);
            }
            return -1;
        }
    }
    if (argc - optind > 1) {
        *error = "more than one token given (see --help)";
        return -1;
    }
    opt->token = optind < argc ? argv[optind] : NULL;
    return 0;
}

static int has_profile_options(const options_t *opt)
{
    return opt->issuer || opt->audience || opt->jwk_url || opt->pem_file
           || opt->discovery_url || opt->pem_kid || opt->role_claim_name
           || opt->allowed_skew || opt->allowed_age;
}

static int has_require_options(const options_t *opt)
{
    return opt->scopes->nelts || opt->roles->nelts || opt->privileges->nelts
           || opt->claims->nelts;
}

/* What --config, --profile and --location need, or NULL. */
static const char *config_conflict(const options_t *opt)
{
    if (opt->config && has_profile_options(opt)) {
        return "--config takes the profile from the file: --issuer, "
               "--audience, --jwk-url, --pem-file, --discovery-url, "
               "--pem-kid, --role-claim-name, --allowed-skew and "
               "--allowed-age do not go with it";
    }
    if (opt->config && opt->profiles->nelts == 0 && opt->location == NULL) {
        return "--config needs --profile NAME or --location PATH";
    }
    if (opt->location && opt->profiles->nelts) {
        return "--location takes the profiles of the path's sections: "
               "--profile does not go with it";
    }
    if (opt->location && has_require_options(opt)) {
        return "--location takes the Require lines of the path's sections: "
               "--scope, --role, --privilege and --claim do not go with it";
    }
    if (opt->location && opt->dpop_nonce) {
        return "--location takes the OrdsJwtDpopNonce of the path's "
               "sections: --dpop-nonce does not go with it";
    }
    return NULL;
}

/* What does not go together; NULL when the options are fine. */
static const char *option_conflict(const options_t *opt)
{
    if (opt->dpop && opt->url == NULL && opt->location == NULL) {
        return "--dpop needs --url, the URL the client addressed";
    }
    if (opt->dpop == NULL
        && (opt->url || opt->dpop_nonce || opt->nonce_key_file)) {
        return "--url, --dpop-nonce and --dpop-nonce-key-file describe the "
               "request of a --dpop proof";
    }
    if (opt->config == NULL && (opt->profiles->nelts || opt->location
                                || opt->vhost)) {
        return opt->profiles->nelts ? "--profile needs --config FILE"
               : opt->location ? "--location needs --config FILE"
               : "--vhost needs --config FILE";
    }
    if (opt->config == NULL
        && (opt->privileges->nelts || opt->defines->nelts)) {
        return "--privilege and --define need --config FILE (the "
               "OrdsJwtPrivilege definitions are in the configuration)";
    }
    if (opt->config == NULL && !has_profile_options(opt)) {
        return "no profile: give --config FILE with --location PATH or "
               "--profile NAME, or --issuer, --audience and --jwk-url (or "
               "--pem-file)";
    }
    return config_conflict(opt);
}

/* stdin, at most INPUT_MAX bytes; NULL with *error set. */
static char *read_stdin(apr_pool_t *pool, const char **error)
{
    char *buf = apr_palloc(pool, INPUT_MAX + 1);
    size_t n;

    if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "ordsjwt-check: reading the token from stdin "
                "(end with Ctrl-D)\n");
    }
    n = fread(buf, 1, INPUT_MAX + 1, stdin);
    if (ferror(stdin) || n > INPUT_MAX) {
        *error = ferror(stdin) ? "cannot read stdin"
                               : "stdin holds more than 1 MiB: not a token";
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The token, and how it is sent: *user for Basic credentials, *scheme. */
static int read_token(const char **token, const char **user,
                      const char **scheme, const options_t *opt,
                      apr_pool_t *pool, const char **error)
{
    char *raw;

    if (opt->token && strcmp(opt->token, "-") != 0) {
        raw = apr_pstrdup(pool, opt->token);
    }
    else if ((raw = read_stdin(pool, error)) == NULL) {
        return -1;
    }
    if ((*token = ojw_header_token(pool, raw, user, scheme, error)) == NULL) {
        return -1;
    }
    if (*user && **user) {
        printf("Basic credentials: user name \"%s\" (AuthBasicProvider "
               "ords-jwt accepts it only when it is the token's sub)\n",
               *user);
    }
    if (**token == '\0') {
        *error = "no token: give it as the argument or on stdin";
        return -1;
    }
    return 0;
}

/* The PEM text of --client-cert FILE, which must hold a certificate. */
static int read_client_cert(run_t *run, const char **error)
{
    apr_file_t *f;
    char buf[65536];
    apr_size_t n = sizeof(buf) - 1;

    if (run->opt->client_cert == NULL) {
        return 0;
    }
    if (apr_file_open(&f, run->opt->client_cert, APR_FOPEN_READ, 0,
                      run->pool) != APR_SUCCESS) {
        *error = apr_psprintf(run->pool, "--client-cert: cannot read %s",
                              run->opt->client_cert);
        return -1;
    }
    apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    run->cert_pem = apr_pstrmemdup(run->pool, buf, n);
    if (ojw_cert_thumbprint_pem(run->cert_pem, strlen(run->cert_pem),
                                run->pool) == NULL) {
        *error = apr_psprintf(run->pool, "--client-cert: %s holds no PEM "
                              "certificate", run->opt->client_cert);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* the check                                                           */

/* Prints the sections the configuration reader skipped, on stderr. */
static void print_skipped(const ojw_conf_t *conf)
{
    int i;

    for (i = 0; i < conf->skipped->nelts; i++) {
        fprintf(stderr, "ordsjwt-check: %s\n",
                APR_ARRAY_IDX(conf->skipped, i, const char *));
    }
}

/* 1 when the location reads a token sent with scheme (NULL: a bare token,
 * sent where it looks first): Authorization with that scheme among its
 * sources (by default Authorization: Bearer, src/source.h). */
static int token_found(const ojw_location_t *loc, const char *scheme)
{
    const ojw_source_t *s;
    int i, n;

    if (scheme == NULL) {
        return 1;
    }
    for (s = ojw_sources_of(loc->sources, &n), i = 0; i < n; i++) {
        if (s[i].kind == OJW_SOURCE_HEADER && s[i].scheme
            && strcasecmp(s[i].name, ojw_credential_header(0)) == 0
            && strcasecmp(s[i].scheme, scheme) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The request as httpd sees it: the token where the location reads it. */
static void request_of(ojw_request_t *req, const ojw_location_t *loc,
                       const options_t *opt, const char *scheme,
                       const ojw_check_t *c)
{
    int basic_type = loc->auth_type && strcasecmp(loc->auth_type,
                                                  "Basic") == 0;

    memset(req, 0, sizeof(*req));
    req->loc = loc;
    req->method = ojw_method_bit(opt->method ? opt->method : "GET");
    req->basic = basic_type && (scheme == NULL
                                || strcmp(scheme, "Basic") == 0);
    req->tokens = opt->dpop ? 1 : !basic_type && token_found(loc, scheme);
    req->check = c->profiles ? c : NULL;
}

/* The server, the location (or the options' lines) and its profiles. */
static int setup(run_t *run, const ojw_conf_t *conf, const char *basic,
                 ojw_location_t **loc, const char **error)
{
    const options_t *opt = run->opt;
    server_t *sv = apr_pcalloc(run->pool, sizeof(*sv));
    const char *label = "the options", *uri;
    int server = 0;

    run->server = sv;
    if (conf && opt->location) {
        server = ojw_location_server(conf, opt->vhost, run->pool, &label);
        if ((uri = ojw_location_uri(opt->location, run->pool, error)) == NULL
            || (*loc = ojw_location_merge(conf, server, uri, run->pool,
                                          error)) == NULL
            || setups_from_location(run->setups, *loc, run->pool,
                                    error) != 0) {
            return -1;
        }
    }
    else if (conf && setups_from_names(run->setups, conf, opt, &server,
                                       run->pool, error) != 0) {
        return -1;
    }
    else if (conf == NULL && profile_from_options(new_setup(run->setups,
                                                            run->pool),
                                                  opt, run->pool, error)) {
        return -1;
    }
    if (conf && opt->vhost && opt->location == NULL) {
        server = ojw_location_server(conf, opt->vhost, run->pool, &label);
    }
    else if (conf && opt->location == NULL) {
        label = server ? "the profile's virtual host" : "the main server";
    }
    server_of(sv, conf, server, label, opt);
    if (*loc == NULL) {
        *loc = options_location(opt, conf, server, basic != NULL,
                                run->pool, error);
    }
    return *loc ? 0 : -1;
}

/* The key of the configuration's OrdsJwtDpopNonceKeyFile, when nonces
 * may be judged with it and --dpop-nonce-key-file gives none; NULL (said
 * on stderr when it cannot be read) otherwise. */
static const ojw_nonce_key_t *conf_nonce_key(const ojw_conf_t *conf,
                                             const options_t *opt,
                                             apr_pool_t *pool)
{
    ojw_nonce_key_t *k;
    const char *why;
    int shared;

    if (opt->nonce_key || conf == NULL || conf->nonce_key_file == NULL
        || opt->dpop == NULL) {
        return opt->nonce_key;
    }
    k = apr_palloc(pool, sizeof(*k));
    apr_pool_cleanup_register(pool, k, ojw_nonce_key_wipe,
                              apr_pool_cleanup_null);
    if ((why = ojw_nonce_key_read(k, conf->nonce_key_file, &shared, pool))) {
        fprintf(stderr, "ordsjwt-check: OrdsJwtDpopNonceKeyFile %s; a "
                "nonce is not judged, only its presence (run as root, or "
                "give --dpop-nonce-key-file)\n", why);
        return NULL;
    }
    return k;
}

/* The checks, the answer, the output; the exit status. */
static int check(run_t *run, const ojw_conf_t *conf, const char **error)
{
    const char *token = NULL, *user = NULL, *scheme = NULL, *why = NULL;
    apr_array_header_t *lines = apr_array_make(run->pool, 8,
                                               sizeof(ojw_line_t));
    ojw_location_t *loc = NULL;
    ojw_request_t req;
    ojw_answer_t a;
    ojw_check_t c;
    int known;

    if (read_token(&token, &user, &scheme, run->opt, run->pool, error) != 0
        || setup(run, conf, scheme && strcmp(scheme, "Basic") == 0
                 ? "" : NULL, &loc, error) != 0
        || profile_set(run, error) != 0
        || load_all_static_keys(run->setups, error) != 0
        || read_client_cert(run, error) != 0) {
        return EXIT_USAGE;
    }
    run->nonce_location = run->opt->location ? loc->dpop_nonce
                                             : run->opt->dpop_nonce;
    run->nonce_key = conf_nonce_key(conf, run->opt, run->pool);
    memset(&c, 0, sizeof(c));
    request_of(&req, loc, run->opt, scheme, &c);
    run_pipeline(run, &c, token, req.basic ? (user ? user : "") : NULL);
    req.check = run->setups->nelts > 0 ? &c : NULL;
    known = ojw_answer(&req, &a, lines, &why, run->pool);
    ojw_print_token(run, &c, token);
    if (run->opt->location) {
        ojw_print_location(run, loc, conf);
    }
    ojw_print_checks(run, &c, lines, run->opt->location == NULL);
    if (run->opt->location) {
        ojw_print_tree(loc, lines);
    }
    if (a.status == 503 && run->report.keys_error) {
        fprintf(stderr, "ordsjwt-check: %s%s%s\n", run->report.keys_error,
                run->report.steps[OJW_STEP_KEY].hint ? "; hint: " : "",
                run->report.steps[OJW_STEP_KEY].hint
                ? run->report.steps[OJW_STEP_KEY].hint : "");
    }
    return ojw_print_result(run, &c, &a, known, why);
}

int main(int argc, char **argv)
{
    apr_pool_t *pool = NULL;
    const char *error = NULL;
    const ojw_conf_t *conf = NULL;
    options_t opt;
    run_t run;
    int rc = EXIT_USAGE;

    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL)
        != APR_SUCCESS || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "ordsjwt-check: cannot initialise APR\n");
        return EXIT_USAGE;
    }
    if (parse_options(&opt, argc, argv, pool, &error) != 0) {
        goto cleanup;
    }
    if (opt.help || opt.version) {
        if (opt.help) {
            fputs(usage_text, stdout);
        }
        else {
            printf("ordsjwt-check %s\n", ojw_version());
        }
        rc = EXIT_ACCEPTED;
        goto cleanup;
    }
    if ((error = option_conflict(&opt)) != NULL
        || (opt.config && (conf = ojw_conf_read_defined(opt.config,
                                                        opt.defines, pool,
                                                        &error)) == NULL)) {
        goto cleanup;
    }
    if (conf) {
        print_skipped(conf);
    }
    memset(&run, 0, sizeof(run));
    run.opt = &opt;
    run.pool = pool;
    run.setups = apr_array_make(pool, 2, sizeof(setup_t));
    rc = check(&run, conf, &error);
cleanup:
    if (error) {
        fprintf(stderr, "ordsjwt-check: %s\n", error);
    }
    fflush(stdout);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
