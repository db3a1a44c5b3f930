/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: startup and configtest warnings about Require lines
 * that do not compose with httpd's authorization the way they read. It
 * walks httpd's parsed configuration (ap_conftree, as mod_info does);
 * .htaccess files are not in it.
 *
 * mod_authz_core runs the Require lines once before authentication and
 * asks for a user only when the answer could change with one
 * (AUTHZ_DENIED_NO_USER). Two ways to miss that:
 *   - Require expr reading ORDSJWT_* / X-OrdsJwt-* without %{REMOTE_USER}:
 *     evaluated before authentication, when those are empty;
 *   - ords-* lines that are all negated (Require not, <RequireNone>): a
 *     negated "no user" is neutral, so nothing asks for the token.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* What the Require lines of one section (as written) amount to. */
typedef struct {
    const ap_directive_t *negated;  /* the first negated ords-* line */
    int positive;                   /* lines that ask for a user */
    int merged_and;                 /* AuthMerging And: a parent may ask */
} section_scan_t;

static int is_require_container(const ap_directive_t *d)
{
    return strncasecmp(d->directive, "<Require", 8) == 0;
}

/* <Limit>/<LimitExcept>: their Require lines belong to the section. */
static int is_limit(const ap_directive_t *d)
{
    return strncasecmp(d->directive, "<Limit", 6) == 0;
}

/* 1 when the lower-cased text s contains the lower-case word w. */
static int contains(const char *s, const char *w)
{
    return strstr(s, w) != NULL;
}

/* A Require expr that reads the module's variables without naming
 * REMOTE_USER, which is what makes mod_authz_core wait for a user. */
static void check_expr(apr_pool_t *p, server_rec *s, const ap_directive_t *d,
                       const char *expr)
{
    char *lower = apr_pstrdup(p, expr);

    ap_str_tolower(lower);
    if ((contains(lower, "ordsjwt_") || contains(lower, "x-ordsjwt-"))
        && !contains(lower, "%{remote_user}")) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00031: %s:%d: "
                     "Require expr reads ORDSJWT_*/X-OrdsJwt-* without "
                     "%%{REMOTE_USER}: httpd evaluates it before "
                     "authentication, when they are empty, so it can grant "
                     "a request without a token; use Require ords-claim "
                     "NAME VALUE ..., or mention REMOTE_USER in the "
                     "expression", d->filename, d->line_num);
    }
}

/* 1 when a provider (not negated) needs an authenticated user. */
static int asks_for_user(apr_pool_t *p, const char *provider,
                         const char *rest)
{
    static const char *const user_providers[] = {
        "valid-user", "user", "group", "file-owner", "file-group",
        "dbm-group", "dbd-group", NULL
    };
    const char *const *u;
    char *lower;

    if (strncasecmp(provider, "ords-", 5) == 0
        || strncasecmp(provider, "ldap-", 5) == 0) {
        return 1;
    }
    for (u = user_providers; *u; u++) {
        if (strcasecmp(provider, *u) == 0) {
            return 1;
        }
    }
    if (strcasecmp(provider, "expr") == 0) {
        lower = apr_pstrdup(p, rest);
        ap_str_tolower(lower);
        return contains(lower, "%{remote_user}");
    }
    return 0;
}

/* One Require line; negated: inside <RequireNone>/<RequireNotAll>. */
static void scan_require(apr_pool_t *p, server_rec *s,
                         const ap_directive_t *d, int negated,
                         section_scan_t *scan)
{
    const char *args = d->args;
    const char *provider = ap_getword_conf(p, &args);

    if (strcasecmp(provider, "not") == 0) {
        negated = 1;
        provider = ap_getword_conf(p, &args);
    }
    if (strcasecmp(provider, "expr") == 0) {
        check_expr(p, s, d, args);
    }
    if (negated) {
        if (strncasecmp(provider, "ords-", 5) == 0 && scan->negated == NULL) {
            scan->negated = d;
        }
    }
    else if (asks_for_user(p, provider, args)) {
        scan->positive++;
    }
}

/* The Require lines directly in a section, in its <Require*> and <Limit*>
 * containers; nested sections (<Files> in <Directory>, <If>) are judged
 * on their own. */
static void scan_lines(apr_pool_t *p, server_rec *s,
                       const ap_directive_t *first, int negated,
                       section_scan_t *scan)
{
    const ap_directive_t *d;
    const char *args;

    for (d = first; d; d = d->next) {
        if (strcasecmp(d->directive, "Require") == 0) {
            scan_require(p, s, d, negated, scan);
        }
        else if (is_require_container(d)) {
            scan_lines(p, s, d->first_child, negated
                       || strcasecmp(d->directive, "<RequireNone") == 0
                       || strcasecmp(d->directive, "<RequireNotAll") == 0,
                       scan);
        }
        else if (is_limit(d)) {
            scan_lines(p, s, d->first_child, negated, scan);
        }
        else if (strcasecmp(d->directive, "AuthMerging") == 0) {
            args = d->args;
            scan->merged_and = strcasecmp(ap_getword_conf(p, &args),
                                          "and") == 0;
        }
    }
}

static void check_section(apr_pool_t *p, server_rec *s,
                          const ap_directive_t *sec)
{
    section_scan_t scan;

    memset(&scan, 0, sizeof(scan));
    scan_lines(p, s, sec->first_child, 0, &scan);
    if (scan.negated && scan.positive == 0 && !scan.merged_and) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "ORDSJWT00032: %s:%d: "
                     "in %s %s every Require ords-* line is negated (Require "
                     "not, or inside <RequireNone>) and no line asks for a "
                     "user, so a request is never asked for its token and "
                     "the negated lines let it in; add Require valid-user "
                     "beside them (in the same <RequireAll>)",
                     scan.negated->filename, scan.negated->line_num,
                     sec->directive, sec->args);
    }
}

/* Every section of the tree, at any depth (<VirtualHost>, <Location> in
 * it, <Files> in <Directory>, <If> ...). */
static void walk(apr_pool_t *p, server_rec *s, const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (d->first_child == NULL || d->directive[0] != '<'
            || is_require_container(d) || is_limit(d)) {
            continue;
        }
        check_section(p, s, d);
        walk(p, s, d->first_child);
    }
}

void ordsjwt_warn_composition(apr_pool_t *ptemp, server_rec *s)
{
    apr_pool_t *p;

    if (ap_conftree == NULL
        || apr_pool_create(&p, ptemp) != APR_SUCCESS) {
        return;
    }
    walk(p, s, ap_conftree);
    apr_pool_destroy(p);
}
