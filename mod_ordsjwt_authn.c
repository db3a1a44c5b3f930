/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the authn provider "ords-jwt", for clients that can
 * only send Basic credentials (AuthType Basic, AuthBasicProvider ords-jwt):
 * the password is the compact JWT, checked exactly as a bearer token is
 * (ordsjwt_authenticate). The user name is the client's word: it must be
 * empty or the token's subject, and REMOTE_USER is the subject.
 *
 * The provider never calls mod_authn_socache's ap_authn_cache_store:
 * a cached user/password pair would skip the expiry and the claims. A
 * request granted by another provider (a password file, a cache hit) has
 * no token claims, so Require ords-* denies it.
 *
 * A token sent as the Basic user name (GitHub-style clients) never
 * reaches mod_auth_basic as a user name, which it would log (AH01617,
 * AH01618) and keep as r->user (%u): a check_authn hook that runs before
 * mod_auth_basic's moves it to the password when the password is empty
 * or x-oauth-basic, and refuses the request with its own line otherwise
 * (src/source.c decides which).
 *
 * Where httpd's headers have the bearer-token (autht) provider group
 * (httpd 2.5/trunk, mod_auth_bearer), "ords-jwt" is registered there too.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "source.h"

APLOG_USE_MODULE(auth_ordsjwt);

#define PROVIDER_NAME "ords-jwt"

/* ------------------------------------------------------------------ */
/* at request time                                                     */

/* The token check for a password: OK, HTTP_UNAUTHORIZED, or an error
 * status (no profile, no keys); *rq may be NULL. */
static int authenticate(request_rec *r, const char *token, const char *user,
                        ordsjwt_req_t **rq)
{
    int rc = ordsjwt_authenticate(r, token, user, rq);

    if (*rq == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00046: authn "
                      "provider %s without AuthOrdsJwtProfile for %s",
                      PROVIDER_NAME, r->uri);
    }
    return rc;
}

/*
 * AuthBasicProvider ords-jwt: the password is the token. A password that
 * is no compact JWS at all is left to the next provider (file users in
 * "AuthBasicProvider ords-jwt file"); a token refused is denied. No keys:
 * AUTH_GENERAL_ERROR, which mod_auth_basic answers with 500, and the
 * Retry-After that the bearer path's 503 carries.
 */
static authn_status check_password(request_rec *r, const char *user,
                                   const char *password)
{
    ordsjwt_req_t *rq;
    int rc = authenticate(r, password, user ? user : "", &rq);

    if (rc == OK) {
        return AUTH_GRANTED;
    }
    if (rc == HTTP_UNAUTHORIZED) {
        return rq->reason == OJW_ERR_MALFORMED ? AUTH_USER_NOT_FOUND
                                               : AUTH_DENIED;
    }
    return AUTH_GENERAL_ERROR;
}

/* The Basic credentials header of r, as mod_auth_basic reads it. */
static const char *basic_header(request_rec *r)
{
    return ojw_credential_header(PROXYREQ_PROXY == r->proxyreq);
}

/* Refuses a token sent as the user name with another password: 401 with
 * mod_auth_basic's challenge, logged without the token. */
static int refuse_user_token(request_rec *r)
{
    ordsjwt_count(NULL, OJW_ERR_USER_MISMATCH);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00101: request "
                  "refused (%s): a token was sent as the Basic user name "
                  "with a password other than empty or \"%s\" (neither is "
                  "logged); hint: send the token as the password with an "
                  "empty user name", ojw_reason_name(OJW_ERR_USER_MISMATCH),
                  OJW_BASIC_TOKEN_WORD);
    ap_note_auth_failure(r);
    return HTTP_UNAUTHORIZED;
}

/*
 * check_authn, before mod_auth_basic's, for AuthType Basic: the Basic
 * user name is parsed as mod_auth_basic does (scheme word, blanks,
 * lenient base64, up to the first ":"); a token there becomes the
 * password of an empty user name, or the request is refused. Every other
 * request is left to mod_auth_basic as it is.
 */
static int basic_user_token(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const char *line = apr_table_get(r->headers_in, basic_header(r));
    const char *decoded, *user;

    if (type == NULL || strcasecmp(type, "Basic") != 0 || line == NULL
        || strcasecmp(ap_getword(r->pool, &line, ' '), "Basic") != 0) {
        return DECLINED;
    }
    line += strspn(line, " \t");
    decoded = ap_pbase64decode(r->pool, line);
    user = ap_getword_nulls(r->pool, &decoded, ':');
    switch (ojw_basic_credential(user, decoded, r->pool)) {
    case OJW_BASIC_USER_TOKEN:
        apr_table_setn(r->headers_in, basic_header(r),
                       apr_pstrcat(r->pool, "Basic ", ap_pbase64encode(
                                   r->pool, apr_pstrcat(r->pool, ":", user,
                                                        NULL)), NULL));
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00100: the "
                      "token came as the Basic user name: checked as the "
                      "password of an empty user name");
        return DECLINED;
    case OJW_BASIC_REFUSED:
        return refuse_user_token(r);
    default:
        return DECLINED;
    }
}

static const authn_provider authn_ordsjwt_provider = {
    &check_password,
    NULL,                       /* no Digest: the token is not a secret the
                                 * server could hash */
};

#ifdef AUTHT_PROVIDER_GROUP
/* AuthBearerProvider ords-jwt (httpd 2.5/trunk's mod_auth_bearer). */
static autht_status check_token(request_rec *r, const char *type,
                                const char *token)
{
    ordsjwt_req_t *rq;
    int rc;

    if (type == NULL || strcasecmp(type, "bearer") != 0) {
        return AUTHT_MISMATCH;
    }
    rc = authenticate(r, token, NULL, &rq);
    if (rc == OK) {
        return AUTHT_GRANTED;
    }
    return rc == HTTP_UNAUTHORIZED ? AUTHT_DENIED : AUTHT_GENERAL_ERROR;
}

static const autht_provider autht_ordsjwt_provider = {
    &check_token
};
#endif

void ordsjwt_authn_register(apr_pool_t *p)
{
    static const char *const before[] = { "mod_auth_basic.c", NULL };

    ap_hook_check_authn(basic_user_token, NULL, before, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHN_PROVIDER_GROUP, PROVIDER_NAME,
                              AUTHN_PROVIDER_VERSION,
                              &authn_ordsjwt_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
#ifdef AUTHT_PROVIDER_GROUP
    ap_register_auth_provider(p, AUTHT_PROVIDER_GROUP, PROVIDER_NAME,
                              AUTHT_PROVIDER_VERSION,
                              &autht_ordsjwt_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
#endif
}

/* ------------------------------------------------------------------ */
/* at configuration time: which sections take tokens                   */

/* The arguments of the first directive named name among the children of
 * section sec, or NULL. */
static const char *section_args(const ap_directive_t *sec, const char *name)
{
    const ap_directive_t *c;

    for (c = sec ? sec->first_child : NULL; c; c = c->next) {
        if (strcasecmp(c->directive, name) == 0) {
            return c->args;
        }
    }
    return NULL;
}

/* 1 when tree (or a section below it) holds
 * <AuthnProviderAlias ords-jwt alias>. */
static int is_alias(apr_pool_t *p, const ap_directive_t *tree,
                    const char *alias)
{
    const ap_directive_t *d;
    const char *args, *name;

    for (d = tree; d; d = d->next) {
        if (strcasecmp(d->directive, "<AuthnProviderAlias") == 0) {
            args = apr_pstrndup(p, d->args, strcspn(d->args, ">"));
            name = ap_getword_conf(p, &args);
            if (strcmp(name, PROVIDER_NAME) == 0
                && strcmp(ap_getword_conf(p, &args), alias) == 0) {
                return 1;
            }
        }
        else if (d->first_child && is_alias(p, d->first_child, alias)) {
            return 1;
        }
    }
    return 0;
}

/* 1 when the words of AuthBasicProvider (args) name ords-jwt or an alias
 * of it. */
static int names_provider(apr_pool_t *p, const char *args)
{
    const char *w;

    while (*args && *(w = ap_getword_conf(p, &args))) {
        if (strcmp(w, PROVIDER_NAME) == 0 || is_alias(p, ap_conftree, w)) {
            return 1;
        }
    }
    return 0;
}

int ordsjwt_section_takes_tokens(cmd_parms *cmd, const ap_directive_t *d,
                                 const char **why)
{
    const ap_directive_t *sec = d ? d->parent : NULL;
    const char *args, *type, *providers;

    while (sec && strncasecmp(sec->directive, "<Require", 8) == 0) {
        sec = sec->parent;
    }
    if ((args = section_args(sec, "AuthType")) == NULL) {
        return 1;                       /* inherited: checked at run time */
    }
    type = ap_getword_conf(cmd->temp_pool, &args);
    if (strcasecmp(type, ORDSJWT_AUTH_TYPE) == 0) {
        return 1;
    }
    if (strcasecmp(type, "Basic") != 0) {
        *why = apr_psprintf(cmd->pool, "this section has AuthType %s", type);
        return 0;
    }
    /* this section's AuthBasicProvider, else an enclosing one's */
    for (providers = NULL; sec && providers == NULL; sec = sec->parent) {
        providers = section_args(sec, "AuthBasicProvider");
    }
    if (providers == NULL) {
        *why = apr_psprintf(cmd->pool, "this section has AuthType Basic and "
                            "no AuthBasicProvider (httpd's default is file): "
                            "add AuthBasicProvider %s", PROVIDER_NAME);
        return 0;
    }
    if (names_provider(cmd->temp_pool, providers)) {
        return 1;
    }
    *why = apr_psprintf(cmd->pool, "this section has AuthType Basic, but "
                        "AuthBasicProvider %s names neither %s nor an "
                        "<AuthnProviderAlias %s ...>", providers,
                        PROVIDER_NAME, PROVIDER_NAME);
    return 0;
}
