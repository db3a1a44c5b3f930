/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: configuration records and the handlers of the
 * directives (the command table is in mod_auth_ordsjwt.c). The numeric
 * directives come from one table (src/settings.h), shared with
 * ordsjwt-check; OrdsJwtProfile is parsed by src/profile.c,
 * OrdsJwtPrivilege by src/privilege.c.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "mod_auth.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"

APLOG_USE_MODULE(auth_ordsjwt);

void *ordsjwt_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    ordsjwt_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = apr_hash_make(p);
    c->privileges = apr_hash_make(p);
    ojw_settings_init(&c->num);
    if (!s->is_virtual) {
        c->role_requires = apr_array_make(p, 4, sizeof(ordsjwt_role_line_t));
    }
    return c;
}

void *ordsjwt_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    ordsjwt_srv_conf_t *base = basev, *add = addv;
    ordsjwt_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = apr_hash_overlay(p, add->profiles, base->profiles);
    c->privileges = apr_hash_overlay(p, add->privileges, base->privileges);
    ojw_settings_merge(&c->num, &base->num, &add->num);
    c->ca_file = base->ca_file;         /* global only: the main server's */
    c->replay_cache = base->replay_cache;
    c->nonce_key_file = base->nonce_key_file;   /* global only */
    c->nonce_key = base->nonce_key;
    c->nonce_key_shared = base->nonce_key_shared;
    c->dpop_base_url = add->dpop_base_url ? add->dpop_base_url
                                          : base->dpop_base_url;
    return c;
}

void *ordsjwt_create_dir_conf(apr_pool_t *p, char *dir)
{
    ordsjwt_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->pass_claims = ORDSJWT_PASS_UNSET;
    c->forward_token = -1;
    c->anonymous = -1;
    c->dpop_nonce = -1;
    return c;
}

void *ordsjwt_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    ordsjwt_dir_conf_t *base = basev, *add = addv;
    ordsjwt_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profiles = add->profiles ? add->profiles : base->profiles;
    c->profile_set = add->profiles ? add->profile_set : base->profile_set;
    c->pass_claims = add->pass_claims != ORDSJWT_PASS_UNSET
                     ? add->pass_claims : base->pass_claims;
    c->forward_token = add->forward_token != -1 ? add->forward_token
                                                : base->forward_token;
    c->sources = add->sources ? add->sources : base->sources;
    c->anonymous = add->anonymous != -1 ? add->anonymous : base->anonymous;
    c->dpop_nonce = add->dpop_nonce != -1 ? add->dpop_nonce
                                          : base->dpop_nonce;
    return c;
}

ordsjwt_srv_conf_t *ordsjwt_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &auth_ordsjwt_module);
}

ordsjwt_dir_conf_t *ordsjwt_dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &auth_ordsjwt_module);
}

/* The main server's configuration. While httpd parses, a virtual host's
 * record holds only its own definitions (the main server's are merged in
 * after parsing), so lookups go to ap_server_conf, the main server. */
static ordsjwt_srv_conf_t *main_srv_conf(void)
{
    return ap_server_conf ? ordsjwt_srv_conf(ap_server_conf) : NULL;
}

/* A definition in hash field of this server's record, else the main
 * server's. */
static void *find_visible(server_rec *s, apr_size_t field, const char *name)
{
    ordsjwt_srv_conf_t *own = ordsjwt_srv_conf(s), *main = main_srv_conf();
    void *found = apr_hash_get(*(apr_hash_t **)((char *)own + field), name,
                               APR_HASH_KEY_STRING);

    if (found == NULL && main && main != own) {
        found = apr_hash_get(*(apr_hash_t **)((char *)main + field), name,
                             APR_HASH_KEY_STRING);
    }
    return found;
}

static ojw_profile_t *find_profile(server_rec *s, const char *name)
{
    return find_visible(s, APR_OFFSETOF(ordsjwt_srv_conf_t, profiles), name);
}

const ojw_privilege_t *ordsjwt_find_privilege(server_rec *s,
                                              const char *name)
{
    return find_visible(s, APR_OFFSETOF(ordsjwt_srv_conf_t, privileges),
                        name);
}

void ordsjwt_note_skipped_key(void *baton, ojw_note_level_t level, int index,
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

/* ------------------------------------------------------------------ */
/* server directives                                                   */

const char *ordsjwt_cmd_profile(cmd_parms *cmd, void *dconf,
                                const char *args)
{
    ordsjwt_srv_conf_t *sc = ordsjwt_srv_conf(cmd->server);
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
    /* static keys are loaded now, so that configtest reports a bad file */
    error = ojw_profile_load_static_keys(p, cmd->pool,
                                         ordsjwt_note_skipped_key,
                                         (void *)(p->jwk_file ? p->jwk_file
                                                  : p->pem_file));
    if (error) {
        return apr_psprintf(cmd->pool, "OrdsJwtProfile %s: %s: %s", p->name,
                            p->pem_file ? "pem_file" : "jwk_url", error);
    }
    apr_hash_set(sc->profiles, p->name, APR_HASH_KEY_STRING, p);
    return NULL;
}

/* Every directive of the settings table (cmd->info: its row). */
const char *ordsjwt_cmd_number(cmd_parms *cmd, void *dconf,
                               const char *arg)
{
    const ojw_setting_t *st = cmd->info;
    const char *err = st->global_only ? ap_check_cmd_context(cmd, GLOBAL_ONLY)
                                      : NULL;

    (void)dconf;
    if (err) {
        return err;
    }
    return ojw_setting_parse(&ordsjwt_srv_conf(cmd->server)->num, st, arg,
                             cmd->pool);
}

const char *ordsjwt_cmd_ca_file(cmd_parms *cmd, void *dconf,
                                const char *arg)
{
    ordsjwt_srv_conf_t *sc = ordsjwt_srv_conf(cmd->server);
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
    return NULL;
}

/* OrdsJwtPrivilege NAME [role=R ...], with the core's parser. */
const char *ordsjwt_cmd_privilege(cmd_parms *cmd, void *dconf,
                                  const char *args)
{
    ordsjwt_srv_conf_t *sc = ordsjwt_srv_conf(cmd->server);
    apr_array_header_t *words = apr_array_make(cmd->temp_pool, 4,
                                               sizeof(char *));
    ojw_privilege_t *pv;
    const char *w, *err;

    (void)dconf;
    while (*(w = ap_getword_conf(cmd->temp_pool, &args))) {
        APR_ARRAY_PUSH(words, const char *) = w;
    }
    err = ojw_privilege_parse(&pv, (const char *const *)words->elts,
                              words->nelts, cmd->pool);
    if (err) {
        return err;
    }
    if (apr_hash_get(sc->privileges, pv->name, APR_HASH_KEY_STRING)) {
        return apr_psprintf(cmd->pool, "OrdsJwtPrivilege %s: a privilege of "
                            "that name is already defined in this server",
                            pv->name);
    }
    apr_hash_set(sc->privileges, pv->name, APR_HASH_KEY_STRING, pv);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* per-directory directives                                            */

/*
 * RFC 6750 wants 403 when the token is fine but lacks scope; httpd sends
 * 401 for a failed Require unless AuthzSendForbiddenOnFailure is On. The
 * first AuthOrdsJwtProfile of a section turns it on there, exactly as if
 * that line were written in the section (through mod_authz_core's own
 * handler); "AuthzSendForbiddenOnFailure Off" after it still wins. The
 * README says so.
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

const char *ordsjwt_cmd_auth_profile(cmd_parms *cmd, void *dconf,
                                     const char *name)
{
    ordsjwt_dir_conf_t *dc = dconf;
    ojw_profile_t *p = find_profile(cmd->server, name);
    const char *err;

    if (p == NULL) {
        return apr_psprintf(cmd->pool, "AuthOrdsJwtProfile: no OrdsJwtProfile "
                            "named \"%s\" is defined before this line (define "
                            "it in the main server or this virtual host, "
                            "before use)", name);
    }
    if (dc->profiles == NULL) {
        dc->profiles = apr_array_make(cmd->pool, 2, sizeof(ojw_profile_t *));
        dc->profile_set = ojw_profile_set_make(cmd->pool);
        send_forbidden_on_failure(cmd);
    }
    /* one lookup per audience: no token could tell apart two profiles
     * of one issuer that share an audience */
    if ((err = ojw_profile_set_add(dc->profile_set, p, cmd->pool)) != NULL) {
        return apr_pstrcat(cmd->pool, "AuthOrdsJwtProfile: ", err, NULL);
    }
    APR_ARRAY_PUSH(dc->profiles, ojw_profile_t *) = p;
    return NULL;
}

const char *ordsjwt_cmd_pass_claims(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    static const char *const names[] = { "none", "env", "headers", "both" };
    ordsjwt_dir_conf_t *dc = dconf;
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

/* ------------------------------------------------------------------ */
/* checks after parsing                                                */

void ordsjwt_note_role_line(cmd_parms *cmd)
{
    ordsjwt_srv_conf_t *main = main_srv_conf();
    ordsjwt_role_line_t *rl;

    if (main == NULL || main->role_requires == NULL || cmd->directive == NULL
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_RUN_MPM) {
        return;     /* .htaccess at run time: nothing to warn at startup */
    }
    rl = apr_array_push(main->role_requires);
    rl->section = cmd->context;
    rl->file = cmd->directive->filename;
    rl->line = cmd->directive->line_num;
}

/* Warns about every issuer template without tenants= (configtest). */
static void warn_any_tenant(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(pconf);
    apr_hash_index_t *hi;
    size_t at, len;

    for (; s; s = s->next) {
        for (hi = apr_hash_first(pconf, ordsjwt_srv_conf(s)->profiles); hi;
             hi = apr_hash_next(hi)) {
            const ojw_profile_t *p = apr_hash_this_val(hi);

            if (p->tenants || apr_hash_get(seen, &p, sizeof(p))
                || ojw_issuer_placeholder(p->issuer, &at, &len) != 1) {
                continue;
            }
            apr_hash_set(seen, apr_pmemdup(pconf, &p, sizeof(p)), sizeof(p),
                         p);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00170: "
                         "OrdsJwtProfile %s: issuer %s without tenants= "
                         "accepts a token of any tenant of that cloud that "
                         "can get one for the audience; list yours with "
                         "tenants=ID,ID... or tenants=@/path/to/file",
                         p->name, p->issuer);
        }
    }
}

void ordsjwt_test_config(apr_pool_t *pconf, server_rec *s)
{
    warn_any_tenant(pconf, s);
    ordsjwt_warn_roles_without_claim(s);
    ordsjwt_warn_composition(pconf, s);
}

void ordsjwt_warn_roles_without_claim(server_rec *s)
{
    apr_array_header_t *lines = ordsjwt_srv_conf(s)->role_requires;
    int i, j;

    for (i = 0; lines && i < lines->nelts; i++) {
        ordsjwt_role_line_t *rl = &APR_ARRAY_IDX(lines, i,
                                                 ordsjwt_role_line_t);
        ordsjwt_dir_conf_t *dc = ap_get_module_config(rl->section,
                                                      &auth_ordsjwt_module);

        for (j = 0; dc && dc->profiles && j < dc->profiles->nelts; j++) {
            ojw_profile_t *p = APR_ARRAY_IDX(dc->profiles, j, ojw_profile_t *);

            if (p->role_claim_name == NULL) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00020: "
                             "%s:%d: Require ords-role can never succeed for "
                             "profile %s: it has no role_claim_name (add e.g. "
                             "role_claim_name=/groups to its OrdsJwtProfile)",
                             rl->file, rl->line, p->name);
            }
        }
    }
}
