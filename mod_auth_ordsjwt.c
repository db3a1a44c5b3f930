/*
 * mod_auth_ordsjwt: protect httpd locations with OAuth 2.0 bearer JWTs the
 * way Oracle REST Data Services JWT profiles do.
 *
 * This file is the httpd glue only: configuration, hooks, authz providers,
 * shared-memory setup, and the mapping of core results to HTTP responses
 * (RFC 6750). The logic lives in src/ and knows nothing of httpd.
 *
 * Log message ids: every call site has its own "ORDSJWTnnnnn:" id, never
 * reused. The next free id is ORDSJWT00028.
 *
 * Token-derived text (kid, iss, sub, details) is logged as is: httpd 2.4
 * escapes control characters and backslashes in error log messages.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "util_mutex.h"

#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "ojw.h"
#include "token.h"
#include "claims.h"
#include "jwks.h"
#include "jwks_fetch.h"
#include "jwks_cache.h"
#include "profile.h"
#include "diagnose.h"
#include "status.h"
#include "pass.h"

#define AUTH_TYPE           "ords-jwt"
#define STATUS_HANDLER      "ordsjwt-status"
#define MUTEX_TYPE          "ordsjwt-jwks"
#define FETCH_TIMEOUT_S     5
#define MIN_INTERVAL_S      10
#define MAX_STALE_S         86400
#define REFRESH_DEFAULT_S   3600
#define RETRY_AFTER_NO_SHM  10
#define RETAINED_KEY        "mod_auth_ordsjwt-shared"
#define WAIT_STEP           apr_time_from_msec(50)

module AP_MODULE_DECLARE_DATA auth_ordsjwt_module;

APLOG_USE_MODULE(auth_ordsjwt);

/* ------------------------------------------------------------------ */
/* configuration records                                               */

/* OrdsJwtPrivilege NAME [role=R ...]: a scope name and the roles that
 * grant it too (as ORDS.DEFINE_PRIVILEGE's roles). */
typedef struct {
    const char *name;
    apr_array_header_t *roles;  /* const char * */
} privilege_t;

typedef struct {
    apr_hash_t *profiles;       /* name -> ojw_profile_t *, this server's */
    apr_hash_t *privileges;     /* name -> privilege_t *, this server's */
    long skew;
    long age;
    long refresh;
    long min_refresh;
    long max_stale;
    long fetch_timeout;
    apr_size_t token_max;
    const char *ca_file;
    unsigned int skew_set:1;
    unsigned int age_set:1;
    unsigned int token_max_set:1;
    unsigned int ca_file_set:1;
} srv_conf_t;

/* Where verified claims go (OrdsJwtPassClaims). */
enum { PASS_UNSET = -1, PASS_NONE = 0, PASS_ENV = 1, PASS_HEADERS = 2,
       PASS_BOTH = 3 };

typedef struct {
    apr_array_header_t *profiles;   /* ojw_profile_t *, in the given order */
    int pass_claims;                /* PASS_*, default PASS_ENV */
    int forward_token;              /* -1 unset, default 1 */
} dir_conf_t;

/* One Require line's values, parsed once at configuration time. */
typedef struct {
    int n;
    const char **values;
    const char *joined;             /* space-separated, for scope="..." */
} require_args_t;

/* What authentication left for the authz providers and the responses. */
typedef enum { REQ_NO_TOKEN, REQ_INVALID, REQ_UNAVAILABLE, REQ_VALID } req_state_t;

typedef struct {
    req_state_t state;
    ojw_reason_t reason;
    const ojw_profile_t *profile;
    json_t *claims;
    const char *missing_scopes;     /* from failed ords-scope lines */
    int insufficient;               /* an ords-* provider denied */
} req_conf_t;

/* The main server's configuration, for lookups while parsing. */
static srv_conf_t *main_conf;

/* A "Require ords-role" line of the configuration, checked after parsing
 * against the profiles of its section. */
typedef struct {
    ap_conf_vector_t *section;
    const char *file;
    int line;
} role_require_t;

static apr_array_header_t *role_requires;

/* ------------------------------------------------------------------ */
/* per-process state: shared memory, mutex, parsed keys                */

/* Parsed keys of one generation, shared by the threads of a process. */
typedef struct {
    apr_pool_t *pool;
    ojw_keyset_t *ks;
    apr_uint64_t generation;
    int refs;
    int retired;
} keyref_t;

static struct {
    apr_global_mutex_t *gmutex;     /* made once, for the parent's life */
    const char *gmutex_file;
    apr_shm_t *shm;                 /* kept across graceful restarts */
    ojw_cache_t *cache;
    int active;                     /* this generation fetches JWKS */
    int nslots;
    const char **slot_urls;
    ojw_refresh_policy_t policy;
    ojw_fetch_opts_t fetch;
    apr_thread_mutex_t *lock;       /* guards current[] and refs */
    keyref_t **current;             /* per slot */
} shared;

/* Refusal counters in shared memory, one row of OJW_REASON_COUNT per
 * profile (row nprofiles: refusals before a profile was chosen); reset by
 * a restart. Incremented atomically, read without a lock. */
static struct {
    apr_shm_t *shm;
    apr_uint32_t *base;
    int nprofiles;
} stats;

/* ------------------------------------------------------------------ */
/* configuration                                                       */

static void *create_srv_conf(apr_pool_t *p, server_rec *s)
{
    srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = apr_hash_make(p);
    c->privileges = apr_hash_make(p);
    c->refresh = REFRESH_DEFAULT_S;
    c->min_refresh = MIN_INTERVAL_S;
    c->max_stale = MAX_STALE_S;
    c->fetch_timeout = FETCH_TIMEOUT_S;
    c->token_max = OJW_TOKEN_MAX_DEFAULT;
    if (!s->is_virtual) {
        main_conf = c;
    }
    return c;
}

static void *merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    srv_conf_t *base = basev, *add = addv;
    srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = apr_hash_overlay(p, add->profiles, base->profiles);
    c->privileges = apr_hash_overlay(p, add->privileges, base->privileges);
    c->skew = add->skew_set ? add->skew : base->skew;
    c->skew_set = add->skew_set || base->skew_set;
    c->age = add->age_set ? add->age : base->age;
    c->age_set = add->age_set || base->age_set;
    c->refresh = base->refresh;         /* global only: the main server's */
    c->min_refresh = base->min_refresh;
    c->max_stale = base->max_stale;
    c->fetch_timeout = base->fetch_timeout;
    c->token_max = add->token_max_set ? add->token_max : base->token_max;
    c->token_max_set = add->token_max_set || base->token_max_set;
    c->ca_file = add->ca_file_set ? add->ca_file : base->ca_file;
    c->ca_file_set = add->ca_file_set || base->ca_file_set;
    return c;
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->pass_claims = PASS_UNSET;
    c->forward_token = -1;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    dir_conf_t *base = basev, *add = addv;
    dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = add->profiles ? add->profiles : base->profiles;
    c->pass_claims = add->pass_claims != PASS_UNSET ? add->pass_claims
                                                    : base->pass_claims;
    c->forward_token = add->forward_token != -1 ? add->forward_token
                                                : base->forward_token;
    return c;
}

static srv_conf_t *srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_ordsjwt_module);
}

/* Logs a key that a JWKS parse skipped (only where a JWKS is new). */
static void note_skipped_key(void *baton, ojw_note_level_t level, int index,
                             const char *kid, const char *why)
{
    const char *where = baton;

    if (level == OJW_NOTE_WARN) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, NULL,
                     "ORDSJWT00001: JWKS %s: key #%d (kid %s) skipped: %s",
                     where, index, kid ? kid : "none", why);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, NULL,
                     "ORDSJWT00002: JWKS %s: key #%d (kid %s) not used: %s",
                     where, index, kid ? kid : "none", why);
    }
}

/* Reads a whole file of at most OJW_JWKS_MAX bytes into *doc. */
static const char *read_key_file(cmd_parms *cmd, const char *path, char **doc,
                                 apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;

    *len = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        if (rv == APR_SUCCESS && fi.size > OJW_JWKS_MAX) {
            apr_file_close(f);
            return apr_psprintf(cmd->pool, "%s is larger than %d bytes", path,
                                OJW_JWKS_MAX);
        }
    }
    if (rv == APR_SUCCESS) {
        *doc = apr_palloc(cmd->temp_pool, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, *doc, (apr_size_t)fi.size, len);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(cmd->pool, "cannot read %s: %pm", path, &rv);
    }
    return NULL;
}

/* Loads a profile's static keys (file: JWKS or pem_file) now, so that
 * configtest reports a bad file; they never touch the network. */
static const char *load_static_keys(cmd_parms *cmd, ojw_profile_t *p)
{
    const char *path = p->jwk_file ? p->jwk_file : p->pem_file;
    char *doc = NULL;
    apr_size_t len;
    char errbuf[512];
    const char *err = read_key_file(cmd, path, &doc, &len);

    if (err) {
        return err;
    }
    if (p->pem_file
        && ojw_jwks_from_pem(&doc, doc, len, p->pem_kid, cmd->temp_pool, errbuf,
                             sizeof(errbuf)) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", path, errbuf);
    }
    len = p->pem_file ? strlen(doc) : len;
    if (ojw_jwks_parse(&p->static_keys, doc, len, cmd->pool, note_skipped_key,
                       (void *)path, errbuf, sizeof(errbuf)) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", path, errbuf);
    }
    p->static_keys->any_kid = p->pem_file && p->pem_kid == NULL;
    return NULL;
}

static const char *cmd_profile(cmd_parms *cmd, void *dconf, const char *args)
{
    srv_conf_t *sc = srv_conf(cmd->server);
    const char *error = NULL;
    ojw_profile_t *p;

    (void)dconf;
    p = ojw_profile_parse(args, cmd->pool, &error);
    if (p == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtProfile %s", error);
    }
    if (apr_hash_get(sc->profiles, p->name, APR_HASH_KEY_STRING)) {
        return apr_psprintf(cmd->pool, "OrdsJwtProfile %s: a profile of that "
                            "name is already defined in this server", p->name);
    }
    if ((p->jwk_file || p->pem_file)
        && (error = load_static_keys(cmd, p)) != NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtProfile %s: %s: %s", p->name,
                            p->pem_file ? "pem_file" : "jwk_url", error);
    }
    apr_hash_set(sc->profiles, p->name, APR_HASH_KEY_STRING, p);
    return NULL;
}

static const char *parse_long(cmd_parms *cmd, const char *arg, long min,
                              long max, long *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (*arg == '\0' || *end != '\0' || v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a number from %ld "
                            "to %ld", cmd->cmd->name, arg, min, max);
    }
    *out = (long)v;
    return NULL;
}

static const char *cmd_skew(cmd_parms *cmd, void *dconf, const char *arg)
{
    srv_conf_t *sc = srv_conf(cmd->server);

    (void)dconf;
    sc->skew_set = 1;
    return parse_long(cmd, arg, -86400, OJW_SKEW_MAX, &sc->skew);
}

static const char *cmd_age(cmd_parms *cmd, void *dconf, const char *arg)
{
    srv_conf_t *sc = srv_conf(cmd->server);

    (void)dconf;
    sc->age_set = 1;
    return parse_long(cmd, arg, -86400L * 3650, 86400L * 3650, &sc->age);
}

/* A global-only number of seconds: where it goes and its bounds (handed
 * to httpd as cmd_data, which is not const; never written). */
typedef struct {
    apr_size_t offset;          /* of the long in srv_conf_t */
    long min;
    long max;
} seconds_slot_t;

static seconds_slot_t refresh_slot = {
    APR_OFFSETOF(srv_conf_t, refresh), 1, 86400L * 7 };
static seconds_slot_t min_refresh_slot = {
    APR_OFFSETOF(srv_conf_t, min_refresh), 1, 86400L * 30 };
static seconds_slot_t max_stale_slot = {
    APR_OFFSETOF(srv_conf_t, max_stale), 0, 86400L * 30 };
static seconds_slot_t fetch_timeout_slot = {
    APR_OFFSETOF(srv_conf_t, fetch_timeout), 1, 60 };

static const char *cmd_global_seconds(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const seconds_slot_t *slot = cmd->info;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dconf;
    if (err) {
        return err;
    }
    return parse_long(cmd, arg, slot->min, slot->max,
                      (long *)((char *)srv_conf(cmd->server) + slot->offset));
}

static const char *cmd_token_max(cmd_parms *cmd, void *dconf, const char *arg)
{
    srv_conf_t *sc = srv_conf(cmd->server);
    long v = 0;
    const char *err = parse_long(cmd, arg, 1024, 1024 * 1024, &v);

    (void)dconf;
    sc->token_max = (apr_size_t)v;
    sc->token_max_set = 1;
    return err;
}

static const char *cmd_ca_file(cmd_parms *cmd, void *dconf, const char *arg)
{
    srv_conf_t *sc = srv_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_finfo_t fi;
    apr_file_t *f;

    (void)dconf;
    if (err) {
        return err;
    }
    sc->ca_file = ap_server_root_relative(cmd->pool, arg);
    if (sc->ca_file == NULL
        || apr_stat(&fi, sc->ca_file, APR_FINFO_TYPE, cmd->temp_pool)
           != APR_SUCCESS || fi.filetype != APR_REG
        || apr_file_open(&f, sc->ca_file, APR_FOPEN_READ, 0, cmd->temp_pool)
           != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "OrdsJwtCACertificateFile: %s is not a "
                            "readable file", arg);
    }
    apr_file_close(f);
    sc->ca_file_set = 1;
    return NULL;
}

/* A profile visible from this server: its own, else the main server's. */
static ojw_profile_t *find_profile(server_rec *s, const char *name)
{
    ojw_profile_t *p = apr_hash_get(srv_conf(s)->profiles, name,
                                    APR_HASH_KEY_STRING);

    if (p == NULL && main_conf) {
        p = apr_hash_get(main_conf->profiles, name, APR_HASH_KEY_STRING);
    }
    return p;
}

/*
 * RFC 6750 wants 403 when the token is fine but lacks scope; httpd sends
 * 401 for a failed Require unless AuthzSendForbiddenOnFailure is On. Turn
 * it on for the section, as if written there; a later
 * "AuthzSendForbiddenOnFailure Off" in the same section still wins.
 */
static void send_forbidden_on_failure(cmd_parms *cmd)
{
    module *authz_core = ap_top_module;     /* the search starts here */
    const command_rec *c;
    cmd_parms sub;
    void *conf;

    c = ap_find_command_in_modules("AuthzSendForbiddenOnFailure", &authz_core);
    if (c == NULL || authz_core == NULL || c->args_how != FLAG) {
        return;
    }
    sub = *cmd;
    sub.info = c->cmd_data;
    sub.cmd = c;
    conf = ap_set_config_vectors(cmd->server, cmd->context, cmd->path,
                                 authz_core, cmd->pool);
    c->AP_FLAG(&sub, conf, 1);
}

static const char *cmd_auth_profile(cmd_parms *cmd, void *dconf,
                                    const char *name)
{
    dir_conf_t *dc = dconf;
    ojw_profile_t *p = find_profile(cmd->server, name);

    if (p == NULL) {
        return apr_psprintf(cmd->pool, "AuthOrdsJwtProfile: no OrdsJwtProfile "
                            "named \"%s\" is defined before this line (define "
                            "it in the main server or this virtual host, "
                            "before use)", name);
    }
    if (dc->profiles == NULL) {
        dc->profiles = apr_array_make(cmd->pool, 2, sizeof(ojw_profile_t *));
        send_forbidden_on_failure(cmd);
    }
    APR_ARRAY_PUSH(dc->profiles, ojw_profile_t *) = p;
    return NULL;
}

static const char *cmd_pass_claims(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    static const char *const names[] = { "none", "env", "headers", "both" };
    dir_conf_t *dc = dconf;
    int i;

    for (i = 0; i < 4; i++) {
        if (strcasecmp(arg, names[i]) == 0) {
            dc->pass_claims = i;
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "OrdsJwtPassClaims: \"%s\" is not none, "
                        "env, headers or both", arg);
}

static const char *cmd_forward_token(cmd_parms *cmd, void *dconf, int on)
{
    dir_conf_t *dc = dconf;

    (void)cmd;
    dc->forward_token = on;
    return NULL;
}

/* OrdsJwtPrivilege NAME [role=R ...] */
static const char *cmd_privilege(cmd_parms *cmd, void *dconf, const char *args)
{
    srv_conf_t *sc = srv_conf(cmd->server);
    privilege_t *pv = apr_pcalloc(cmd->pool, sizeof(*pv));
    const char *w;

    (void)dconf;
    pv->name = ap_getword_conf(cmd->pool, &args);
    pv->roles = apr_array_make(cmd->pool, 2, sizeof(const char *));
    if (*pv->name == '\0') {
        return "OrdsJwtPrivilege needs a NAME, then role=R pairs";
    }
    if (apr_hash_get(sc->privileges, pv->name, APR_HASH_KEY_STRING)) {
        return apr_psprintf(cmd->pool, "OrdsJwtPrivilege %s: a privilege of "
                            "that name is already defined in this server",
                            pv->name);
    }
    while (*(w = ap_getword_conf(cmd->pool, &args))) {
        if (strncmp(w, "role=", 5) != 0 || w[5] == '\0') {
            return apr_psprintf(cmd->pool, "OrdsJwtPrivilege %s: \"%s\" is "
                                "not role=NAME", pv->name, w);
        }
        APR_ARRAY_PUSH(pv->roles, const char *) = w + 5;
    }
    apr_hash_set(sc->privileges, pv->name, APR_HASH_KEY_STRING, pv);
    return NULL;
}

static const command_rec ordsjwt_cmds[] = {
    AP_INIT_RAW_ARGS("OrdsJwtProfile", cmd_profile, NULL, RSRC_CONF,
        "NAME issuer=... audience=... jwk_url=https://...|file:///... "
        "(or pem_file=/... [pem_kid=...]) [allowed_skew=N] [allowed_age=N] "
        "[role_claim_name=/pointer] [description=...]"),
    AP_INIT_TAKE1("OrdsJwtAllowedSkew", cmd_skew, NULL, RSRC_CONF,
        "default allowed clock skew in seconds (0 or less: none; at most 60)"),
    AP_INIT_TAKE1("OrdsJwtAllowedAge", cmd_age, NULL, RSRC_CONF,
        "default maximum token age in seconds since iat (0 or less: "
        "not checked)"),
    AP_INIT_TAKE1("OrdsJwtJwksRefreshInterval", cmd_global_seconds,
        &refresh_slot, RSRC_CONF,
        "seconds fetched keys are used before a refetch (default 3600)"),
    AP_INIT_TAKE1("OrdsJwtJwksMinRefreshInterval", cmd_global_seconds,
        &min_refresh_slot, RSRC_CONF,
        "fewest seconds between two fetches of one JWK URL, across all "
        "processes (default 10)"),
    AP_INIT_TAKE1("OrdsJwtJwksMaxStale", cmd_global_seconds,
        &max_stale_slot, RSRC_CONF,
        "seconds the last good keys are still used after a refresh was due "
        "and failed (default 86400)"),
    AP_INIT_TAKE1("OrdsJwtJwksFetchTimeout", cmd_global_seconds,
        &fetch_timeout_slot, RSRC_CONF,
        "seconds a JWKS fetch may take (default 5, at most 60)"),
    AP_INIT_TAKE1("OrdsJwtMaxTokenSize", cmd_token_max, NULL, RSRC_CONF,
        "largest accepted token in bytes (default 16384)"),
    AP_INIT_TAKE1("OrdsJwtCACertificateFile", cmd_ca_file, NULL, RSRC_CONF,
        "CA bundle that verifies JWK URL servers (default: system store)"),
    AP_INIT_ITERATE("AuthOrdsJwtProfile", cmd_auth_profile, NULL, OR_AUTHCFG,
        "one or more OrdsJwtProfile names; the token's iss picks one"),
    AP_INIT_TAKE1("OrdsJwtPassClaims", cmd_pass_claims, NULL, OR_AUTHCFG,
        "none|env|headers|both: where verified claims go (default env)"),
    AP_INIT_FLAG("OrdsJwtForwardToken", cmd_forward_token, NULL, OR_AUTHCFG,
        "Off removes the Authorization header from what the backend gets "
        "(default On)"),
    AP_INIT_RAW_ARGS("OrdsJwtPrivilege", cmd_privilege, NULL, RSRC_CONF,
        "NAME [role=R ...]: a privilege granted by the scope NAME or by any "
        "of the roles"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* checks after parsing                                                */

/* Warns about each Require ords-role whose profile has no role_claim_name:
 * it can never succeed for tokens of that profile. */
static void warn_roles_without_claim(server_rec *s)
{
    int i, j;

    for (i = 0; role_requires && i < role_requires->nelts; i++) {
        role_require_t *rr = &APR_ARRAY_IDX(role_requires, i, role_require_t);
        dir_conf_t *dc = ap_get_module_config(rr->section,
                                              &auth_ordsjwt_module);

        for (j = 0; dc && dc->profiles && j < dc->profiles->nelts; j++) {
            ojw_profile_t *p = APR_ARRAY_IDX(dc->profiles, j, ojw_profile_t *);

            if (p->role_claim_name == NULL) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00020: "
                             "%s:%d: Require ords-role can never succeed for "
                             "profile %s: it has no role_claim_name (add e.g. "
                             "role_claim_name=/groups to its OrdsJwtProfile)",
                             rr->file, rr->line, p->name);
            }
        }
    }
}

static void test_config(apr_pool_t *pconf, server_rec *s)
{
    (void)pconf;
    warn_roles_without_claim(s);
}

/* ------------------------------------------------------------------ */
/* shared memory and mutex                                             */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    main_conf = NULL;
    role_requires = apr_array_make(pconf, 4, sizeof(role_require_t));
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* Gives every distinct https jwk_url of every server a slot. */
static void assign_slots(server_rec *s, apr_pool_t *p)
{
    apr_hash_t *urls = apr_hash_make(p);
    apr_array_header_t *order = apr_array_make(p, 4, sizeof(const char *));
    apr_hash_index_t *hi;

    stats.nprofiles = 0;
    for (; s; s = s->next) {
        for (hi = apr_hash_first(p, srv_conf(s)->profiles); hi;
             hi = apr_hash_next(hi)) {
            ojw_profile_t *prof = apr_hash_this_val(hi);
            int *idx;

            prof->index = stats.nprofiles++;
            if (prof->static_keys) {
                continue;
            }
            idx = apr_hash_get(urls, prof->jwk_url, APR_HASH_KEY_STRING);
            if (idx == NULL) {
                idx = apr_palloc(p, sizeof(*idx));
                *idx = order->nelts;
                APR_ARRAY_PUSH(order, const char *) = prof->jwk_url;
                apr_hash_set(urls, prof->jwk_url, APR_HASH_KEY_STRING, idx);
            }
            prof->slot = *idx;
        }
    }
    shared.nslots = order->nelts;
    shared.slot_urls = (const char **)order->elts;
}

/* 1 when the cache's slots are bound to exactly this generation's URLs. */
static int cache_fits(ojw_cache_t *c)
{
    int i;

    if (c == NULL || ojw_cache_nslots(c) != shared.nslots) {
        return 0;
    }
    for (i = 0; i < shared.nslots; i++) {
        if (ojw_cache_find(c, shared.slot_urls[i]) != i) {
            return 0;
        }
    }
    return 1;
}

/* A new segment for this generation's URLs, keeping the documents of the
 * URLs the previous one had; the previous segment is then released (old
 * children keep their own mapping until they exit). */
static apr_status_t replace_shm(server_rec *s, apr_pool_t *pp)
{
    apr_size_t size = ojw_cache_size(shared.nslots, OJW_JWKS_MAX);
    apr_shm_t *shm;
    ojw_cache_t *cache;
    const char *file = NULL;
    apr_status_t rv;
    int i, j;

    rv = apr_shm_create(&shm, size, NULL, pp);
    if (rv == APR_ENOTIMPL) {
        file = ap_runtime_dir_relative(pp, apr_psprintf(pp, "ordsjwt-jwks-%"
                                       APR_PID_T_FMT ".shm", getpid()));
        apr_shm_remove(file, pp);
        rv = apr_shm_create(&shm, size, file, pp);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00003: cannot "
                     "create %" APR_SIZE_T_FMT " bytes of shared memory for "
                     "%d JWKS slot(s)", size, shared.nslots);
        return rv;
    }
    cache = ojw_cache_attach(apr_shm_baseaddr_get(shm), size, shared.nslots,
                             OJW_JWKS_MAX, shared.gmutex, 1, pp);
    for (i = 0; i < shared.nslots; i++) {
        if (ojw_cache_set_url(cache, i, shared.slot_urls[i]) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00006: jwk_url "
                         "%s is longer than %d bytes", shared.slot_urls[i],
                         OJW_URL_MAX - 1);
            apr_shm_destroy(shm);
            return APR_EINVAL;
        }
        if (shared.cache && (j = ojw_cache_find(shared.cache,
                                                shared.slot_urls[i])) >= 0) {
            ojw_cache_copy_slot(cache, i, shared.cache, j);
        }
    }
    if (shared.shm) {
        apr_shm_destroy(shared.shm);
    }
    shared.shm = shm;
    shared.cache = cache;
    return APR_SUCCESS;
}

/* The mutex (once) and a segment fitting this generation's URLs. */
static apr_status_t setup_mutex_and_shm(server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_status_t rv;

    if (shared.gmutex == NULL) {
        rv = ap_global_mutex_create(&shared.gmutex, &shared.gmutex_file,
                                    MUTEX_TYPE, NULL, s, pp, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00005: cannot "
                         "create the global mutex \"%s\"", MUTEX_TYPE);
            return rv;
        }
    }
    if (cache_fits(shared.cache)) {
        return APR_SUCCESS;     /* graceful restart: the keys stay */
    }
    return replace_shm(s, pp);
}

/* What outlives a restart: httpd unloads and reloads this module on
 * every (graceful) restart, so statics start afresh; this does not. */
typedef struct {
    apr_global_mutex_t *gmutex;
    const char *gmutex_file;
    apr_shm_t *shm;
    ojw_cache_t *cache;
} retained_t;

/* The mutex (once) and a segment fitting this generation's URLs, both
 * kept for the life of the parent process. */
static apr_status_t setup_shared(server_rec *s)
{
    retained_t *kept = ap_retained_data_get(RETAINED_KEY);
    apr_status_t rv;

    if (kept == NULL) {
        kept = ap_retained_data_create(RETAINED_KEY, sizeof(*kept));
    }
    shared.gmutex = kept->gmutex;
    shared.gmutex_file = kept->gmutex_file;
    shared.shm = kept->shm;
    shared.cache = kept->cache;
    rv = setup_mutex_and_shm(s);
    kept->gmutex = shared.gmutex;
    kept->gmutex_file = shared.gmutex_file;
    kept->shm = shared.shm;
    kept->cache = shared.cache;
    return rv;
}

/* Counters for this generation's profiles (zero when it starts). */
static apr_status_t setup_stats(server_rec *s, apr_pool_t *pconf)
{
    apr_size_t size = sizeof(apr_uint32_t) * OJW_REASON_COUNT
                      * (apr_size_t)(stats.nprofiles + 1);
    apr_status_t rv = apr_shm_create(&stats.shm, size, NULL, pconf);

    stats.base = NULL;
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, "ORDSJWT00024: no "
                     "shared memory for the refusal counters; the status "
                     "page shows none");
        return rv;
    }
    stats.base = apr_shm_baseaddr_get(stats.shm);
    memset(stats.base, 0, size);
    return APR_SUCCESS;
}

static void set_fetch_policy(server_rec *s)
{
    srv_conf_t *sc = srv_conf(s);

    shared.policy.refresh_interval = sc->refresh;
    shared.policy.min_interval = sc->min_refresh;
    shared.policy.fetch_timeout = sc->fetch_timeout + 1;
    shared.policy.max_stale = sc->max_stale;
    shared.fetch.ca_file = sc->ca_file;
    shared.fetch.timeout_ms = sc->fetch_timeout * 1000L;
    shared.fetch.max_size = OJW_JWKS_MAX;
    if (sc->refresh < sc->min_refresh) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00021: "
                     "OrdsJwtJwksRefreshInterval %ld is shorter than "
                     "OrdsJwtJwksMinRefreshInterval %ld; keys are refreshed "
                     "every %ld s", sc->refresh, sc->min_refresh,
                     sc->min_refresh);
        shared.policy.refresh_interval = sc->min_refresh;
    }
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    (void)plog;
    (void)ptemp;
    shared.active = 0;
    shared.nslots = 0;
    assign_slots(s, pconf);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;      /* the first dry run: nothing to set up yet */
    }
    warn_roles_without_claim(s);
    setup_stats(s, pconf);
    if (shared.nslots == 0) {
        return OK;      /* only static keys: nothing to share */
    }
    set_fetch_policy(s);
    if (ojw_fetch_global_init() != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "ORDSJWT00004: libcurl "
                     "global initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (setup_shared(s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    shared.active = 1;
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!shared.active) {
        return;
    }
    rv = apr_global_mutex_child_init(&shared.gmutex, shared.gmutex_file,
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "ORDSJWT00007: cannot "
                     "attach to the global mutex in a child process");
    }
    apr_thread_mutex_create(&shared.lock, APR_THREAD_MUTEX_DEFAULT, pchild);
    shared.current = apr_pcalloc(pchild, sizeof(keyref_t *) * shared.nslots);
}

/* ------------------------------------------------------------------ */
/* keys for a profile                                                  */

static void keyref_destroy(keyref_t *k)
{
    apr_pool_destroy(k->pool);
}

static apr_status_t keyref_release(void *data)
{
    keyref_t *k = data;

    apr_thread_mutex_lock(shared.lock);
    if (--k->refs == 0 && k->retired) {
        keyref_destroy(k);
    }
    apr_thread_mutex_unlock(shared.lock);
    return APR_SUCCESS;
}

/* Parses the slot's document into a new current key set (lock held). */
static keyref_t *keyref_replace(request_rec *r, int slot, const char *doc,
                                apr_size_t len, apr_uint64_t generation)
{
    keyref_t *k, *old = shared.current[slot];
    apr_pool_t *pool;
    char errbuf[512];

    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    k = apr_pcalloc(pool, sizeof(*k));
    k->pool = pool;
    k->generation = generation;
    if (ojw_jwks_parse(&k->ks, doc, len, pool, NULL, NULL, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00008: the shared "
                      "JWKS of %s does not parse in this process: %s",
                      shared.slot_urls[slot], errbuf);
        apr_pool_destroy(pool);
        return NULL;
    }
    if (old) {
        old->retired = 1;
        if (old->refs == 0) {
            keyref_destroy(old);
        }
    }
    shared.current[slot] = k;
    return k;
}

/* The process's keys for the slot's current generation, referenced for
 * the lifetime of r. */
static keyref_t *keyref_acquire(request_rec *r, int slot,
                                apr_uint64_t generation)
{
    keyref_t *k;
    ojw_slot_state_t state;
    char *doc = NULL;
    apr_size_t len = 0;

    apr_thread_mutex_lock(shared.lock);
    k = shared.current[slot];
    if (k == NULL || k->generation != generation) {
        if (ojw_cache_read(shared.cache, slot, k ? k->generation : 0, r->pool,
                           &doc, &len, &state) == APR_SUCCESS && doc) {
            k = keyref_replace(r, slot, doc, len, state.generation);
        }
    }
    if (k) {
        k->refs++;
        apr_pool_cleanup_register(r->pool, k, keyref_release,
                                  apr_pool_cleanup_null);
    }
    apr_thread_mutex_unlock(shared.lock);
    return k;
}

static void log_fetch_failure(request_rec *r, const char *url,
                              const ojw_fetch_result_t *res,
                              const char *cause, int stale)
{
    const char *hint = ojw_fetch_body_hint(res);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00009: JWKS fetch "
                  "from %s failed: %s%s%s%s%s; %s", url, cause,
                  res->content_type ? " (Content-Type " : "",
                  res->content_type ? res->content_type : "",
                  res->content_type ? ")" : "",
                  hint ? apr_pstrcat(r->pool, "; hint: ", hint, NULL) : "",
                  stale ? "keeping the previous keys"
                        : "no keys: tokens of this issuer get 503");
}

/* Checks a fetched document; logs and records a failure. */
static int fetched_keys_usable(request_rec *r, int slot, ojw_fetch_result_t *res,
                               int have_doc, apr_pool_t *tmp)
{
    const char *url = shared.slot_urls[slot];
    ojw_keyset_t *ks;
    char errbuf[512];

    if (ojw_jwks_parse(&ks, res->body, res->len, tmp, note_skipped_key,
                       (void *)url, errbuf, sizeof(errbuf)) != APR_SUCCESS) {
        log_fetch_failure(r, url, res, errbuf, have_doc);
        ojw_cache_fail(shared.cache, slot, apr_time_sec(apr_time_now()),
                       errbuf);
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00010: fetched JWKS "
                  "from %s: %" APR_SIZE_T_FMT " bytes, %d usable key(s)", url,
                  res->len, ks->nkeys);
    return 1;
}

/* Fetches the slot's URL (this process claimed it) and stores the result. */
static void fetch_slot(request_rec *r, int slot, int have_doc)
{
    const char *url = shared.slot_urls[slot];
    ojw_fetch_opts_t opts = shared.fetch;
    ojw_fetch_result_t res;
    char etag[OJW_ETAG_MAX];
    apr_pool_t *tmp;
    long fresh;

    apr_pool_create(&tmp, r->pool);
    if (ojw_cache_etag(shared.cache, slot, etag, sizeof(etag)) == APR_SUCCESS
        && etag[0]) {
        opts.if_none_match = etag;
    }
    if (ojw_fetch(url, &opts, &res, tmp) != APR_SUCCESS) {
        log_fetch_failure(r, url, &res, res.error, have_doc);
        ojw_cache_fail(shared.cache, slot, apr_time_sec(apr_time_now()),
                       res.error);
    }
    else if (res.not_modified) {
        fresh = ojw_fresh_for(res.max_age, &shared.policy);
        ojw_cache_not_modified(shared.cache, slot,
                               apr_time_sec(apr_time_now()), fresh);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00022: JWKS of "
                      "%s not modified; fresh for %ld s", url, fresh);
    }
    else if (fetched_keys_usable(r, slot, &res, have_doc, tmp)) {
        ojw_cache_store(shared.cache, slot, apr_time_sec(apr_time_now()),
                        res.body, res.len, res.etag,
                        ojw_fresh_for(res.max_age, &shared.policy));
    }
    apr_pool_destroy(tmp);
}

/*
 * Keys for a profile: static ones, or the shared document of its JWK URL
 * (fetched here when due, by one process at a time); *generation is theirs
 * (0 for static keys). stale_generation, when not 0, names keys that lacked
 * a kid: a refetch is asked for, granted at most once per
 * OrdsJwtJwksMinRefreshInterval, unless newer keys are already there.
 * NULL means no keys can be had now; *retry_after says when to try again.
 */
static const ojw_keyset_t *profile_keys(request_rec *r,
                                        const ojw_profile_t *p,
                                        apr_uint64_t stale_generation,
                                        apr_uint64_t *generation,
                                        long *retry_after)
{
    apr_time_t give_up = apr_time_now()
                         + apr_time_from_sec(shared.policy.fetch_timeout);
    ojw_decision_t decision;
    ojw_slot_state_t state;
    keyref_t *k;
    long long now;

    *generation = 0;
    if (p->static_keys) {
        return p->static_keys;
    }
    if (!shared.active || p->slot < 0 || shared.current == NULL) {
        *retry_after = RETRY_AFTER_NO_SHM;
        return NULL;
    }
    for (;;) {
        now = apr_time_sec(apr_time_now());
        if (ojw_cache_begin(shared.cache, p->slot, now, &shared.policy,
                            stale_generation, &decision, &state)
            != APR_SUCCESS) {
            decision = OJW_UNAVAILABLE;
        }
        if (decision == OJW_FETCH) {
            fetch_slot(r, p->slot, state.generation != 0);
            stale_generation = 0;
            continue;   /* look again: use what the fetch left */
        }
        if (decision != OJW_WAIT || apr_time_now() >= give_up) {
            break;
        }
        apr_sleep(WAIT_STEP);
    }
    if (decision == OJW_USE && (k = keyref_acquire(r, p->slot,
                                                   state.generation))) {
        *generation = k->generation;
        return k->ks;
    }
    *retry_after = ojw_retry_after(&state, now, &shared.policy);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

/* s as the inside of an RFC 7230 quoted-string, control chars dropped. */
static const char *quoted(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            continue;
        }
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static req_conf_t *req_conf(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_ordsjwt_module);
}

/* Counts an outcome for the request's profile (or as unattributed). */
static void count(const req_conf_t *rq, ojw_reason_t reason)
{
    int row = rq && rq->profile ? rq->profile->index : stats.nprofiles;

    if (stats.base && row >= 0 && row <= stats.nprofiles) {
        apr_atomic_inc32(&stats.base[row * OJW_REASON_COUNT + reason]);
    }
}

/* The Bearer challenge for this request's state. */
static const char *bearer_challenge(request_rec *r, const req_conf_t *rq)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r) : AUTH_TYPE;
    const char *c = apr_psprintf(r->pool, "Bearer realm=\"%s\"",
                                 quoted(r->pool, realm));

    if (rq && rq->state == REQ_INVALID) {
        c = apr_psprintf(r->pool, "%s, error=\"invalid_token\", "
                         "error_description=\"%s\"", c,
                         ojw_reason_description(rq->reason));
    }
    else if (rq && rq->state == REQ_VALID && rq->insufficient) {
        c = apr_pstrcat(r->pool, c, ", error=\"insufficient_scope\"", NULL);
        if (rq->missing_scopes) {
            c = apr_psprintf(r->pool, "%s, scope=\"%s\"", c,
                             quoted(r->pool, rq->missing_scopes));
        }
    }
    return c;
}

static int note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, AUTH_TYPE) != 0) {
        return DECLINED;
    }
    apr_table_setn(r->err_headers_out,
                   (PROXYREQ_PROXY == r->proxyreq) ? "Proxy-Authenticate"
                                                   : "WWW-Authenticate",
                   bearer_challenge(r, req_conf(r)));
    return OK;
}

/* A 403 from our authz providers gets its RFC 6750 challenge. */
static void insert_error_filter(request_rec *r)
{
    req_conf_t *rq = req_conf(r);

    if (rq && rq->insufficient && r->status == HTTP_FORBIDDEN) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       bearer_challenge(r, rq));
        count(rq, rq->missing_scopes ? OJW_ERR_SCOPE_MISSING
                                     : OJW_ERR_ROLE_MISSING);
    }
}

/* ------------------------------------------------------------------ */
/* claims to the backend                                               */

static int collect_lookalike(void *rec, const char *key, const char *value)
{
    apr_array_header_t *names = rec;

    (void)value;
    if (ojw_pass_is_lookalike(key)) {
        APR_ARRAY_PUSH(names, const char *) = key;
    }
    return 1;
}

/* Before anything else looks at the request: no client can send a header
 * that a backend could take for one this module sets. */
static int scrub_lookalikes(request_rec *r)
{
    apr_array_header_t *names = apr_array_make(r->pool, 2, sizeof(char *));
    int i;

    apr_table_do(collect_lookalike, names, r->headers_in, NULL);
    for (i = 0; i < names->nelts; i++) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00025: removed "
                      "the request header %s (only this module sets such "
                      "headers)", APR_ARRAY_IDX(names, i, const char *));
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(names, i, const char *));
    }
    return DECLINED;
}

/* Sets one passed value as env and/or request header. */
static void pass_one(request_rec *r, int how, const char *env,
                     const char *header, const char *value, int truncated)
{
    if (truncated) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00026: the value "
                      "passed as %s was cut to %d bytes", env,
                      OJW_PASS_VALUE_MAX);
    }
    if (how & PASS_ENV) {
        apr_table_set(r->subprocess_env, env, value);
    }
    if (how & PASS_HEADERS) {
        apr_table_set(r->headers_in, header, value);
    }
}

/* Every top-level claim, the profile, scopes and roles, as configured. */
static void pass_claims(request_rec *r, const dir_conf_t *dc,
                        const req_conf_t *rq)
{
    int how = dc->pass_claims == PASS_UNSET ? PASS_ENV : dc->pass_claims;
    const char *key, *text;
    json_t *value;
    int cut = 0;

    if (how == PASS_NONE) {
        return;
    }
    json_object_foreach(rq->claims, key, value) {
        if ((text = ojw_pass_value(r->pool, value, OJW_PASS_VALUE_MAX, &cut))) {
            pass_one(r, how, ojw_pass_env_name(r->pool, key),
                     ojw_pass_header_name(r->pool, key), text, cut);
        }
    }
    pass_one(r, how, "ORDSJWT_PROFILE", "X-OrdsJwt-Profile",
             rq->profile->name, 0);
    text = ojw_pass_text(r->pool, ojw_pass_scopes(r->pool, rq->claims),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(r, how, "ORDSJWT_SCOPES", "X-OrdsJwt-Scopes", text, cut);
    text = ojw_pass_text(r->pool, ojw_pass_roles(r->pool, rq->claims,
                                                 rq->profile->role_claim_name),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(r, how, "ORDSJWT_ROLES", "X-OrdsJwt-Roles", text, cut);
}

/* ------------------------------------------------------------------ */
/* authentication                                                      */

/* The bearer token of the Authorization header, or NULL. */
static const char *bearer_token(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in,
                                  (PROXYREQ_PROXY == r->proxyreq)
                                  ? "Proxy-Authorization" : "Authorization");
    const char *scheme;

    if (h == NULL) {
        return NULL;
    }
    scheme = ap_getword_white(r->pool, &h);
    if (strcasecmp(scheme, "Bearer") != 0) {
        return NULL;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    return *h ? h : NULL;
}

/* The profile to check the token with: the only one, or the one whose
 * issuer equals the (not yet verified) iss. */
static const ojw_profile_t *choose_profile(request_rec *r,
                                           const apr_array_header_t *profiles,
                                           const ojw_token_t *tok,
                                           ojw_error_t *err)
{
    const char *iss;
    int i;

    if (profiles->nelts == 1) {
        return APR_ARRAY_IDX(profiles, 0, const ojw_profile_t *);
    }
    iss = ojw_token_peek_issuer(tok, r->pool);
    for (i = 0; iss && i < profiles->nelts; i++) {
        const ojw_profile_t *p = APR_ARRAY_IDX(profiles, i,
                                               const ojw_profile_t *);
        if (strcmp(p->issuer, iss) == 0) {
            return p;
        }
    }
    ojw_fail(err, OJW_ERR_ISSUER, "iss \"%.200s\" matches none of the %d "
             "profiles of this location", iss ? iss : "(none)",
             profiles->nelts);
    return NULL;
}

static const char *claim_text(const json_t *claims, const char *name)
{
    const json_t *v = claims ? json_object_get(claims, name) : NULL;

    return json_is_string(v) ? json_string_value(v) : "-";
}

/* The profile for the log: the chosen one, else the candidates. */
static const char *profile_label(request_rec *r, const req_conf_t *rq)
{
    const dir_conf_t *dc = ap_get_module_config(r->per_dir_config,
                                                &auth_ordsjwt_module);
    const char *label = NULL;
    int i;

    if (rq->profile) {
        return rq->profile->name;
    }
    for (i = 0; dc->profiles && i < dc->profiles->nelts; i++) {
        const char *name = APR_ARRAY_IDX(dc->profiles, i,
                                         const ojw_profile_t *)->name;

        label = label ? apr_pstrcat(r->pool, label, "|", name, NULL) : name;
    }
    return label ? label : "-";
}

static int refuse(request_rec *r, req_conf_t *rq, const ojw_token_t *tok,
                  const ojw_error_t *err, const char *hint)
{
    const json_t *claims = tok ? tok->claims : NULL;

    rq->state = REQ_INVALID;
    rq->reason = err->reason;
    count(rq, err->reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00011: token refused "
                  "(%s): %s%s%s [profile %s, kid %.64s, iss %.200s, "
                  "sub %.200s]",
                  ojw_reason_name(err->reason),
                  err->detail,
                  hint ? "; hint: " : "",
                  hint ? hint : "",
                  profile_label(r, rq),
                  tok && tok->kid ? tok->kid : "-",
                  claim_text(claims, "iss"),
                  claim_text(claims, "sub"));
    note_auth_failure(r, AUTH_TYPE);
    return HTTP_UNAUTHORIZED;
}

static int keys_unavailable(request_rec *r, req_conf_t *rq, long retry_after)
{
    rq->state = REQ_UNAVAILABLE;
    count(rq, OJW_ERR_KEYS_UNAVAILABLE);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_ltoa(r->pool, retry_after));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00012: no signing keys "
                  "for profile %s (jwk_url %s): answering 503, retry in %ld s; "
                  "the error log says why the JWKS could not be fetched",
                  rq->profile->name, rq->profile->jwk_url, retry_after);
    return HTTP_SERVICE_UNAVAILABLE;
}

/* After an unknown kid: the issuer may have added a key. Refetch (at most
 * once per min interval, across processes) and verify once more. */
static int verify_after_refresh(request_rec *r, const ojw_profile_t *p,
                                ojw_token_t *tok, const ojw_keyset_t *ks,
                                apr_uint64_t generation, ojw_error_t *err)
{
    const ojw_keyset_t *fresh;
    apr_uint64_t fresh_generation;
    long retry_after;

    if (err->reason != OJW_ERR_KID || p->static_keys) {
        return 0;
    }
    fresh = profile_keys(r, p, generation, &fresh_generation, &retry_after);
    if (fresh == NULL || fresh == ks) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00023: unknown kid: "
                  "verifying again with the refetched keys of %s", p->jwk_url);
    return ojw_token_verify(tok, fresh, r->pool, err) == OJW_OK;
}

static int check_authn(request_rec *r)
{
    dir_conf_t *dc = ap_get_module_config(r->per_dir_config,
                                          &auth_ordsjwt_module);
    srv_conf_t *sc = srv_conf(r->server);
    const char *type = ap_auth_type(r), *compact, *subject = NULL;
    ojw_claim_policy_t policy;
    const ojw_keyset_t *ks;
    ojw_token_t *tok = NULL;
    ojw_error_t err;
    req_conf_t *rq;
    long retry_after = 0;
    apr_uint64_t generation;
    long long now;

    if (type == NULL || strcasecmp(type, AUTH_TYPE) != 0) {
        return DECLINED;
    }
    rq = apr_pcalloc(r->pool, sizeof(*rq));
    ap_set_module_config(r->request_config, &auth_ordsjwt_module, rq);
    if (dc->profiles == NULL || dc->profiles->nelts == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00013: AuthType "
                      "%s without AuthOrdsJwtProfile for %s", AUTH_TYPE, r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (dc->profiles->nelts == 1) {
        rq->profile = APR_ARRAY_IDX(dc->profiles, 0, const ojw_profile_t *);
    }
    if ((compact = bearer_token(r)) == NULL) {
        count(rq, OJW_ERR_TOKEN_MISSING);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00014: no bearer "
                      "token in the request");
        note_auth_failure(r, AUTH_TYPE);
        return HTTP_UNAUTHORIZED;
    }
    memset(&err, 0, sizeof(err));
    if (ojw_token_parse(&tok, compact, strlen(compact), sc->token_max, r->pool,
                        &err) != OJW_OK) {
        return refuse(r, rq, tok, &err, NULL);
    }
    if ((rq->profile = choose_profile(r, dc->profiles, tok, &err)) == NULL) {
        return refuse(r, rq, tok, &err, NULL);
    }
    if ((ks = profile_keys(r, rq->profile, 0, &generation,
                           &retry_after)) == NULL) {
        return keys_unavailable(r, rq, retry_after);
    }
    if (ojw_token_verify(tok, ks, r->pool, &err) != OJW_OK
        && !verify_after_refresh(r, rq->profile, tok, ks, generation, &err)) {
        return refuse(r, rq, tok, &err, NULL);
    }
    policy.issuer = rq->profile->issuer;
    policy.audience = rq->profile->audience;
    policy.allowed_skew = ojw_profile_skew(rq->profile, sc->skew);
    policy.allowed_age = ojw_profile_age(rq->profile, sc->age);
    now = apr_time_sec(apr_time_now());
    if (ojw_claims_check(tok->claims, &policy, now, &subject, &err) != OJW_OK) {
        return refuse(r, rq, tok, &err,
                      ojw_hint_for_claims(r->pool, err.reason, tok->claims,
                                          &policy, now));
    }
    rq->state = REQ_VALID;
    rq->claims = tok->claims;
    count(rq, OJW_OK);
    pass_claims(r, dc, rq);
    if (dc->forward_token == 0) {
        apr_table_unset(r->headers_in, "Authorization");
    }
    r->user = apr_pstrdup(r->pool, subject);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00015: token accepted "
                  "[profile %s, kid %s, sub %s]", rq->profile->name,
                  tok->kid ? tok->kid : "-",
                  r->user);
    return OK;
}

/* ------------------------------------------------------------------ */
/* authorization providers                                             */

/* The AuthType written in the section that encloses directive d (through
 * <RequireAll>/<RequireAny>/<RequireNone>), or NULL when it sets none. */
static const char *section_auth_type(cmd_parms *cmd, const ap_directive_t *d)
{
    const ap_directive_t *sec = d ? d->parent : NULL;
    const ap_directive_t *c;
    const char *args;

    while (sec && strncasecmp(sec->directive, "<Require", 8) == 0) {
        sec = sec->parent;
    }
    for (c = sec ? sec->first_child : NULL; c; c = c->next) {
        if (strcasecmp(c->directive, "AuthType") == 0) {
            args = c->args;
            return ap_getword_conf(cmd->temp_pool, &args);
        }
    }
    return NULL;
}

static const char *parse_require_args(cmd_parms *cmd, const char *line,
                                      const void **parsed)
{
    require_args_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    apr_array_header_t *vals = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *w, *type = section_auth_type(cmd, cmd->directive);

    if (type && strcasecmp(type, AUTH_TYPE) != 0) {
        return apr_psprintf(cmd->pool, "Require ords-*: needs AuthType %s, "
                            "but this section has AuthType %s", AUTH_TYPE,
                            type);
    }

    while (*line && *(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(vals, const char *) = w;
    }
    if (vals->nelts == 0) {
        return "Require ords-scope/ords-role needs at least one value";
    }
    a->n = vals->nelts;
    a->values = (const char **)vals->elts;
    a->joined = apr_array_pstrcat(cmd->pool, vals, ' ');
    *parsed = a;
    return NULL;
}

/* The request's verified claims, or why authz cannot look at them. */
static authz_status authz_claims(request_rec *r, req_conf_t **rqp)
{
    req_conf_t *rq = req_conf(r);

    *rqp = rq;
    if (r->user == NULL) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (rq == NULL || rq->state != REQ_VALID) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00016: Require "
                      "ords-scope/ords-role needs AuthType %s", AUTH_TYPE);
        return AUTHZ_DENIED;
    }
    return AUTHZ_GRANTED;
}

static authz_status authz_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_args_t *a = parsed;
    req_conf_t *rq;
    authz_status st = authz_claims(r, &rq);
    const char *hint;

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_has_any_scope(rq->claims, a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    rq->insufficient = 1;
    rq->missing_scopes = rq->missing_scopes
        ? apr_pstrcat(r->pool, rq->missing_scopes, " ", a->joined, NULL)
        : a->joined;
    hint = ojw_hint_for_scopes(r->pool, rq->claims, a->values, a->n);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00017: refused "
                  "(scope_missing): sub %s has none of the scopes \"%s\"%s%s "
                  "[profile %s]", r->user,
                  a->joined, hint ? "; hint: " : "",
                  hint ? hint : "",
                  rq->profile->name);
    return AUTHZ_DENIED;
}

static authz_status authz_role(request_rec *r, const char *line,
                               const void *parsed)
{
    const require_args_t *a = parsed;
    req_conf_t *rq;
    authz_status st = authz_claims(r, &rq);

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (rq->profile->role_claim_name == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00018: Require "
                      "ords-role cannot succeed: profile %s has no "
                      "role_claim_name", rq->profile->name);
    }
    else if (ojw_claims_has_any_role(rq->claims, rq->profile->role_claim_name,
                                     a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00019: refused "
                      "(role_missing): sub %s has none of the roles \"%s\" "
                      "at %s [profile %s]",
                      r->user, a->joined,
                      rq->profile->role_claim_name, rq->profile->name);
    }
    rq->insufficient = 1;
    return AUTHZ_DENIED;
}

/* A Require ords-privilege line: the names and their definitions. */
typedef struct {
    const require_args_t *args;
    privilege_t **pvs;
} privilege_args_t;

/* Require ords-privilege: the names must be defined (OrdsJwtPrivilege)
 * before the line, so that a typo is a configtest error. */
static const char *parse_privilege_args(cmd_parms *cmd, const char *line,
                                        const void **parsed)
{
    privilege_args_t *pa = apr_pcalloc(cmd->pool, sizeof(*pa));
    const require_args_t *a;
    const char *err = parse_require_args(cmd, line, (const void **)&a);
    privilege_t **pvs;
    int i;

    if (err) {
        return err;
    }
    pvs = apr_pcalloc(cmd->pool, sizeof(*pvs) * (apr_size_t)a->n);
    for (i = 0; i < a->n; i++) {
        pvs[i] = apr_hash_get(srv_conf(cmd->server)->privileges, a->values[i],
                              APR_HASH_KEY_STRING);
        if (pvs[i] == NULL && main_conf) {
            pvs[i] = apr_hash_get(main_conf->privileges, a->values[i],
                                  APR_HASH_KEY_STRING);
        }
        if (pvs[i] == NULL) {
            return apr_psprintf(cmd->pool, "Require ords-privilege: no "
                                "OrdsJwtPrivilege named \"%s\" is defined "
                                "before this line", a->values[i]);
        }
    }
    pa->args = a;
    pa->pvs = pvs;
    *parsed = pa;
    return NULL;
}

/* 1 when the token has a role that grants privilege pv. */
static int has_privilege_role(const req_conf_t *rq, const privilege_t *pv)
{
    return rq->profile->role_claim_name && pv->roles->nelts > 0
           && ojw_claims_has_any_role(rq->claims, rq->profile->role_claim_name,
                                      (const char *const *)pv->roles->elts,
                                      pv->roles->nelts);
}

static authz_status authz_privilege(request_rec *r, const char *line,
                                    const void *parsed)
{
    const privilege_args_t *pa = parsed;
    const require_args_t *a = pa->args;
    req_conf_t *rq;
    authz_status st = authz_claims(r, &rq);
    int i;

    (void)line;
    if (st != AUTHZ_GRANTED) {
        return st;
    }
    if (ojw_claims_has_any_scope(rq->claims, a->values, a->n)) {
        return AUTHZ_GRANTED;
    }
    for (i = 0; i < a->n; i++) {
        if (has_privilege_role(rq, pa->pvs[i])) {
            return AUTHZ_GRANTED;
        }
    }
    rq->insufficient = 1;
    rq->missing_scopes = rq->missing_scopes
        ? apr_pstrcat(r->pool, rq->missing_scopes, " ", a->joined, NULL)
        : a->joined;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00027: refused "
                  "(scope_missing): sub %s has none of the privileges \"%s\" "
                  "(as scopes, or through their roles) [profile %s]", r->user,
                  a->joined, rq->profile->name);
    return AUTHZ_DENIED;
}

static const authz_provider privilege_provider = {
    authz_privilege, parse_privilege_args
};

static const authz_provider scope_provider = {
    authz_scope, parse_require_args
};

/* Like parse_require_args, and remembers where the line is so that a
 * profile without role_claim_name can be reported after parsing. */
static const char *parse_role_require_args(cmd_parms *cmd, const char *line,
                                           const void **parsed)
{
    role_require_t *rr;

    if (role_requires && cmd->directive
        && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM) {
        rr = apr_array_push(role_requires);
        rr->section = cmd->context;
        rr->file = cmd->directive->filename;
        rr->line = cmd->directive->line_num;
    }
    return parse_require_args(cmd, line, parsed);
}

static const authz_provider role_provider = {
    authz_role, parse_role_require_args
};

/* ------------------------------------------------------------------ */
/* status page                                                         */

/* The keys, slot state and last error of an https profile, read now. */
static void slot_status(request_rec *r, const ojw_profile_t *p,
                        ojw_status_profile_t *sp)
{
    ojw_slot_state_t *state = apr_pcalloc(r->pool, sizeof(*state));
    char *doc = NULL, *error = apr_pcalloc(r->pool, OJW_ERROR_MAX);
    apr_size_t len = 0;
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    if (!shared.active || p->slot < 0
        || ojw_cache_read(shared.cache, p->slot, 0, r->pool, &doc, &len,
                          state) != APR_SUCCESS) {
        return;
    }
    ojw_cache_last_error(shared.cache, p->slot, error, OJW_ERROR_MAX);
    if (doc && ojw_jwks_parse(&ks, doc, len, r->pool, NULL, NULL, errbuf,
                              sizeof(errbuf)) == APR_SUCCESS) {
        sp->keys = ks;
    }
    sp->slot = state;
    sp->last_error = error;
}

static json_t *profile_status(request_rec *r, const ojw_profile_t *p,
                              long long now)
{
    srv_conf_t *sc = srv_conf(r->server);
    ojw_status_profile_t sp;

    memset(&sp, 0, sizeof(sp));
    sp.profile = p;
    sp.allowed_skew = ojw_profile_skew(p, sc->skew);
    sp.allowed_age = ojw_profile_age(p, sc->age);
    sp.keys = p->static_keys;
    if (stats.base && p->index >= 0 && p->index < stats.nprofiles) {
        sp.counters = &stats.base[p->index * OJW_REASON_COUNT];
    }
    if (p->static_keys == NULL) {
        slot_status(r, p, &sp);
    }
    return ojw_status_profile_json(&sp, &shared.policy, now);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The status document for the profiles this server sees, by name. */
static json_t *status_document(request_rec *r)
{
    apr_hash_t *profiles = srv_conf(r->server)->profiles;
    apr_array_header_t *names = apr_array_make(r->pool, 8, sizeof(char *));
    long long now = apr_time_sec(apr_time_now());
    json_t *doc = json_object(), *list = json_array();
    apr_hash_index_t *hi;
    int i;

    for (hi = apr_hash_first(r->pool, profiles); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(names, const char *) = apr_hash_this_key(hi);
    }
    qsort(names->elts, names->nelts, sizeof(char *), compare_names);
    for (i = 0; i < names->nelts; i++) {
        json_array_append_new(list, profile_status(r, apr_hash_get(profiles,
            APR_ARRAY_IDX(names, i, const char *), APR_HASH_KEY_STRING), now));
    }
    json_object_set_new(doc, "generated", json_integer(now));
    json_object_set_new(doc, "profiles", list);
    json_object_set_new(doc, "unattributed_refusals", ojw_status_counters_json(
        stats.base ? &stats.base[stats.nprofiles * OJW_REASON_COUNT] : NULL));
    return doc;
}

static int status_handler(request_rec *r)
{
    json_t *doc;
    char *text;

    if (r->handler == NULL || strcmp(r->handler, STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    doc = status_document(r);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->args && strcmp(r->args, "json") == 0) {
        ap_set_content_type(r, "application/json");
        text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        ap_rputs(text ? text : "{}", r);
        ap_rputs("\n", r);
        free(text);
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        ap_rputs(ojw_status_html(r->pool, doc), r);
    }
    json_decref(doc);
    return OK;
}

/* ------------------------------------------------------------------ */

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(scrub_lookalikes, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_test_config(test_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_handler(status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-role",
                              AUTHZ_PROVIDER_VERSION, &role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "ords-privilege",
                              AUTHZ_PROVIDER_VERSION, &privilege_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

module AP_MODULE_DECLARE_DATA auth_ordsjwt_module = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_srv_conf,
    merge_srv_conf,
    ordsjwt_cmds,
    register_hooks
#ifdef AP_MODULE_FLAG_NONE
    , AP_MODULE_FLAG_NONE
#endif
};
