/* SPDX-License-Identifier: Apache-2.0 */
/* What httpd makes of a request's path (see location.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <apr_fnmatch.h>
#include <apr_lib.h>
#include <apr_strings.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "location.h"

/* ------------------------------------------------------------------ */
/* the path                                                            */

static int hex(int c)
{
    return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* %-decoded s (n bytes); NULL with *error where httpd refuses. */
static char *decoded(apr_pool_t *pool, const char *s, size_t n,
                     const char **error)
{
    char *out = apr_palloc(pool, n + 1), *o = out;
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1])
            || !isxdigit((unsigned char)s[i + 2])) {
            *error = "a bad %-escape (httpd answers 400)";
            return NULL;
        }
        *o = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
        if (*o == '/' || *o == '\0') {
            *error = "an encoded / or NUL (httpd answers 404 or 400)";
            return NULL;
        }
        o++;
        i += 2;
    }
    *o = '\0';
    return out;
}

/* RFC 3986 5.2.4 on an absolute path, as ap_getparents does. */
static char *without_dots(apr_pool_t *pool, const char *path)
{
    char *out = apr_palloc(pool, strlen(path) + 2), *o = out;
    const char *p = path, *seg;
    size_t n;

    while (*p) {
        seg = p + 1;
        n = strcspn(seg, "/");
        if (n == 1 && seg[0] == '.') {
            p = seg + 1;
            if (*p == '\0') {
                *o++ = '/';
            }
            continue;
        }
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > out && *--o != '/') {
            }
            p = seg + 2;
            if (*p == '\0') {
                *o++ = '/';
            }
            continue;
        }
        memcpy(o, p, n + 1);
        o += n + 1;
        p = seg + n;
    }
    if (o == out) {
        *o++ = '/';
    }
    *o = '\0';
    return out;
}

const char *ojw_location_uri(const char *path, apr_pool_t *pool,
                             const char **error)
{
    size_t n = strcspn(path, "?#");
    char *d;

    if (*path != '/') {
        *error = "the path must start with /";
        return NULL;
    }
    if ((d = decoded(pool, path, n, error)) == NULL) {
        return NULL;
    }
    return without_dots(pool, d);
}

/* s with runs of slashes made one (ap_no2slash). */
static char *merged_slashes(apr_pool_t *pool, const char *s)
{
    char *out = apr_pstrdup(pool, s), *o = out;

    for (; *s; s++) {
        if (*s != '/' || o == out || o[-1] != '/') {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------------------ */
/* the server                                                          */

/* host and port of "host[:port]", "[v6]:port", "*", "*:port". */
static void split_addr(apr_pool_t *pool, const char *addr, const char **host,
                       const char **port)
{
    const char *colon = addr[0] == '['
                        ? (strchr(addr, ']') ? strchr(addr, ']') + 1 : NULL)
                        : strrchr(addr, ':');

    if (colon && *colon == ':') {
        *host = apr_pstrmemdup(pool, addr, (apr_size_t)(colon - addr));
        *port = colon + 1;
    }
    else {
        *host = addr;
        *port = "*";
    }
}

/* The port a Listen line opens ("80", "127.0.0.1:8080", "[::]:443 https"). */
static const char *listen_port(apr_pool_t *pool, const char *arg)
{
    const char *host, *port;

    split_addr(pool, apr_pstrndup(pool, arg, strcspn(arg, " \t")), &host,
               &port);
    return strcmp(port, "*") == 0 ? host : port;
}

/* 1 when the vhost listens on port (NULL: any) for a client that names
 * host ip (NULL: not an address). */
static int listens_on(const ojw_conf_host_t *h, const char *port,
                      const char *ip, apr_pool_t *pool)
{
    const char *a, *p;
    int i;

    for (i = 0; i < h->addrs->nelts; i++) {
        split_addr(pool, APR_ARRAY_IDX(h->addrs, i, const char *), &a, &p);
        if ((port == NULL || strcmp(p, "*") == 0 || strcmp(p, port) == 0)
            && (ip == NULL || strcmp(a, "*") == 0
                || strcasecmp(a, "_default_") == 0 || strcmp(a, ip) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* 1 when name is the vhost's ServerName or matches a ServerAlias. */
static int named(const ojw_conf_host_t *h, const char *name, apr_pool_t *pool)
{
    const char *sn = h->name, *host, *port;
    int i;

    if (sn && strstr(sn, "://")) {
        sn = strstr(sn, "://") + 3;
    }
    if (sn) {
        split_addr(pool, sn, &host, &port);
        if (strcasecmp(host, name) == 0) {
            return 1;
        }
    }
    for (i = 0; i < h->aliases->nelts; i++) {
        if (apr_fnmatch(APR_ARRAY_IDX(h->aliases, i, const char *), name,
                        APR_FNM_CASE_BLIND) == APR_SUCCESS) {
            return 1;
        }
    }
    return 0;
}

static int is_ip(const char *s)
{
    return s[0] == '[' || strspn(s, "0123456789.") == strlen(s);
}

static const char *server_label(const ojw_conf_t *conf, int server,
                                apr_pool_t *pool)
{
    const ojw_conf_host_t *h = &APR_ARRAY_IDX(conf->hosts, server,
                                              ojw_conf_host_t);

    if (server == 0) {
        return "the main server";
    }
    return apr_psprintf(pool, "<VirtualHost %s>%s%s%s at %s:%d",
                        apr_array_pstrcat(pool, h->addrs, ' '),
                        h->name ? " (ServerName " : "",
                        h->name ? h->name : "", h->name ? ")" : "",
                        h->file, h->line);
}

int ojw_location_server(const ojw_conf_t *conf, const char *vhost,
                        apr_pool_t *pool, const char **label)
{
    const char *name = NULL, *port = NULL, *ip;
    int i, first = 0, chosen = 0;

    if (vhost) {
        split_addr(pool, vhost, &name, &port);
        port = strcmp(port, "*") == 0 ? NULL : port;
    }
    else if (conf->listens->nelts > 0) {
        port = listen_port(pool, APR_ARRAY_IDX(conf->listens, 0,
                                               const char *));
    }
    ip = name && is_ip(name) ? name : NULL;
    for (i = 1; i < conf->hosts->nelts && chosen == 0; i++) {
        const ojw_conf_host_t *h = &APR_ARRAY_IDX(conf->hosts, i,
                                                  ojw_conf_host_t);

        if (listens_on(h, port, ip, pool)) {
            first = first ? first : i;
            chosen = name && named(h, name, pool) ? i : 0;
        }
    }
    chosen = chosen ? chosen : first;
    *label = server_label(conf, chosen, pool);
    return chosen;
}

/* ------------------------------------------------------------------ */
/* matching                                                            */

static int regex_matches(const char *pattern, const char *uri,
                         apr_pool_t *pool, const char **error)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_DOLLAR_ENDONLY, &errcode, &erroff,
                                   NULL);
    pcre2_match_data *md;
    PCRE2_UCHAR msg[128];
    int rc;

    if (re == NULL) {
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        *error = apr_psprintf(pool, "regex \"%s\" does not compile: %s",
                              pattern, (const char *)msg);
        return 0;
    }
    md = pcre2_match_data_create_from_pattern(re, NULL);
    rc = md ? pcre2_match(re, (PCRE2_SPTR)uri, strlen(uri), 0, 0, md, NULL)
            : -1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

/* 1 when section loc applies to uri (as ap_location_walk tests it). */
static int matches(const ojw_conf_location_t *loc, const char *uri,
                   const char *merged, apr_pool_t *pool, const char **error)
{
    size_t len = strlen(loc->path);

    if (loc->regex) {
        return regex_matches(loc->path, uri, pool, error);
    }
    if (strpbrk(loc->path, "*?[") != NULL) {
        return apr_fnmatch(loc->path, merged, APR_FNM_PATHNAME)
               == APR_SUCCESS;
    }
    return strncmp(loc->path, merged, len) == 0
           && (len == 0 || loc->path[len - 1] == '/' || merged[len] == '/'
               || merged[len] == '\0');
}

/* ------------------------------------------------------------------ */
/* one section's settings                                              */

/* mod_authz_core's AuthMerging values. */
enum { MERGE_AND = OJW_AUTHZ_AND, MERGE_OR = OJW_AUTHZ_OR, MERGE_OFF,
       MERGE_UNSET };

/* What one section sets (or, merged, what the sections so far set). */
typedef struct {
    ojw_authz_node_t *authz;        /* mod_authz_core's section */
    int merge;                      /* MERGE_* */
    int forbidden;                  /* -1 unset */
    const char *auth_type;          /* "" : AuthType None */
    const char *auth_name;
    const char *basic_providers;
    apr_array_header_t *profiles;   /* const ojw_conf_profile_t * */
    apr_array_header_t *sources;
    int anonymous;                  /* -1 unset */
    int dpop_nonce;                 /* -1 unset */
} settings_t;

/* A section being read. */
typedef struct {
    apr_pool_t *pool;
    const ojw_conf_t *conf;
    const ojw_conf_location_t *loc;
    settings_t *s;
    ojw_location_t *out;
    const char *error;
} build_t;

static void init_settings(settings_t *s)
{
    memset(s, 0, sizeof(*s));
    s->merge = MERGE_UNSET;
    s->forbidden = -1;
    s->anonymous = -1;
    s->dpop_nonce = -1;
}

static int fail_at(build_t *b, const ojw_conf_dir_t *d, const char *msg)
{
    if (b->error == NULL) {
        b->error = apr_psprintf(b->pool, "%s:%d: %s", d->file, d->line, msg);
    }
    return -1;
}

/* The words of args, split as httpd splits a directive's arguments. */
static apr_array_header_t *words(apr_pool_t *pool, const char *args)
{
    apr_array_header_t *w = apr_array_make(pool, 4, sizeof(char *));
    const char *p = args, *start;
    char quote, *word, *o;

    for (;;) {
        while (apr_isspace(*p)) {
            p++;
        }
        if (*p == '\0') {
            return w;
        }
        quote = (*p == '"' || *p == '\'') ? *p++ : 0;
        word = o = apr_palloc(pool, strlen(p) + 1);
        for (start = p; *p && (quote ? *p != quote : !apr_isspace(*p)); p++) {
            if (quote && *p == '\\' && p[1] == quote) {
                p++;
            }
            *o++ = *p;
        }
        (void)start;
        *o = '\0';
        p += *p && quote;
        APR_ARRAY_PUSH(w, const char *) = word;
    }
}

/* The OrdsJwtProfile visible from server at line seq: the server's own,
 * else the main server's, defined before the line (httpd looks it up
 * while it reads the configuration). */
static const ojw_conf_profile_t *visible_profile(const ojw_conf_t *conf,
                                                 int server, int seq,
                                                 const char *name)
{
    const ojw_conf_profile_t *own = NULL, *main_def = NULL;
    int i;

    for (i = 0; i < conf->profiles->nelts; i++) {
        const ojw_conf_profile_t *p = &APR_ARRAY_IDX(conf->profiles, i,
                                                     ojw_conf_profile_t);

        if (p->seq < seq && strcmp(p->name, name) == 0) {
            own = p->server == server && !own ? p : own;
            main_def = p->server == 0 && !main_def ? p : main_def;
        }
    }
    return own ? own : main_def;
}

/* The same for an OrdsJwtPrivilege. */
static const ojw_conf_privilege_t *visible_privilege(const ojw_conf_t *conf,
                                                     int server, int seq,
                                                     const char *name)
{
    const ojw_conf_privilege_t *own = NULL, *main_def = NULL;
    int i;

    for (i = 0; i < conf->privileges->nelts; i++) {
        const ojw_conf_privilege_t *p = &APR_ARRAY_IDX(conf->privileges, i,
                                                       ojw_conf_privilege_t);

        if (p->seq < seq && strcmp(p->pv->name, name) == 0) {
            own = p->server == server && !own ? p : own;
            main_def = p->server == 0 && !main_def ? p : main_def;
        }
    }
    return own ? own : main_def;
}

/* ------------------------------------------------------------------ */
/* a section's Require lines, as mod_authz_core reads them             */

static const char *const method_names[] = {
    "GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK",
    "VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN", "UPDATE",
    "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY", "BASELINE-CONTROL",
    "MERGE", NULL
};

ojw_methods_t ojw_method_bit(const char *method)
{
    int i;

    if (strcmp(method, "HEAD") == 0) {
        method = "GET";
    }
    for (i = 0; method_names[i]; i++) {
        if (strcmp(method, method_names[i]) == 0) {
            return (ojw_methods_t)1 << i;
        }
    }
    return (ojw_methods_t)1 << 63;      /* an extension method */
}

/* <Limit M ...> / <LimitExcept M ...>: the methods its lines apply to. */
static ojw_methods_t limit_methods(apr_pool_t *pool, const ojw_conf_dir_t *d)
{
    apr_array_header_t *w = words(pool, d->args);
    ojw_methods_t m = 0;
    int i;

    for (i = 0; i < w->nelts; i++) {
        m |= ojw_method_bit(APR_ARRAY_IDX(w, i, const char *));
    }
    return strcasecmp(d->name, "<LimitExcept") == 0 ? ~m : m;
}

/* What the walk of a section knows at a directive. */
typedef struct {
    ojw_methods_t limited;      /* <Limit>: the methods */
    int negated;                /* in <RequireNone> (the module's view) */
} ctx_t;

static ojw_authz_node_t *node_at(build_t *b, const ojw_conf_dir_t *d)
{
    ojw_authz_node_t *n = apr_pcalloc(b->pool, sizeof(*n));

    n->file = d->file;
    n->line = d->line;
    return n;
}

/* child (a chain) after the last child of parent. */
static void append(ojw_authz_node_t *parent, ojw_authz_node_t *child)
{
    ojw_authz_node_t **tail = &parent->first;

    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = child;
}

/* How mod_authz_core names a node in its messages. */
static const char *command(apr_pool_t *pool, const ojw_authz_node_t *n)
{
    if (n->provider) {
        return apr_pstrcat(pool, "Require ", n->negate ? "not " : "",
                           n->provider, " ", n->args, NULL);
    }
    return apr_pstrcat(pool, n->merged ? "AuthMerging " : "<Require",
                       n->op == OJW_AUTHZ_AND ? (n->negate ? "NotAll" : "All")
                       : (n->negate ? "None" : "Any"),
                       n->merged ? "" : ">", NULL);
}

/* The container a line goes to: the section's own, made when needed
 * (mod_authz_core's default: <RequireAny>). */
static ojw_authz_node_t *container(build_t *b, ojw_authz_node_t **cur)
{
    if (*cur == NULL) {
        *cur = apr_pcalloc(b->pool, sizeof(**cur));
        (*cur)->op = OJW_AUTHZ_OR;
    }
    return *cur;
}

static int walk(build_t *b, const ojw_conf_dir_t *d, ojw_authz_node_t **cur,
                ctx_t ctx);

/* What ojw_require_parse needs to look a privilege up. */
typedef struct {
    const ojw_conf_t *conf;
    int server;
    int seq;
} lookup_t;

static const ojw_privilege_t *find_privilege(void *baton, const char *name)
{
    const lookup_t *l = baton;
    const ojw_conf_privilege_t *p = visible_privilege(l->conf, l->server,
                                                      l->seq, name);

    return p ? p->pv : NULL;
}

/* The arguments of the first directive name directly in the section. */
static const char *section_arg(const ojw_conf_dir_t *first, const char *name)
{
    for (; first; first = first->next) {
        if (strcasecmp(first->name, name) == 0) {
            return first->args;
        }
    }
    return NULL;
}

/* The module's check of a Require ords-* line: the section it is in (out
 * of <Require*> containers) must take tokens, when it sets AuthType. */
static int takes_tokens(build_t *b, const ojw_conf_dir_t *d)
{
    const ojw_conf_dir_t *sec = d->parent;
    apr_array_header_t *w;
    const char *type, *providers;

    while (sec && strncasecmp(sec->name, "<Require", 8) == 0) {
        sec = sec->parent;
    }
    type = section_arg(sec ? sec->first : b->loc->first, "AuthType");
    if (sec || type == NULL) {
        return 0;                   /* inherited: checked at run time */
    }
    type = APR_ARRAY_IDX(words(b->pool, type), 0, const char *);
    if (strcasecmp(type, "ords-jwt") == 0) {
        return 0;
    }
    providers = section_arg(b->loc->first, "AuthBasicProvider");
    if (strcasecmp(type, "Basic") == 0 && providers) {
        w = words(b->pool, providers);
        while (w->nelts-- > 0) {
            if (strcmp(APR_ARRAY_IDX(w, w->nelts, const char *),
                       "ords-jwt") == 0) {
                return 0;
            }
        }
    }
    return fail_at(b, d, apr_psprintf(b->pool, "Require ords-*: needs "
                                      "AuthType ords-jwt, or AuthType Basic "
                                      "with AuthBasicProvider ords-jwt; this "
                                      "section has AuthType %s", type));
}

/* An ords-* line parsed by the core, as the module parses it. */
static int parse_ords(build_t *b, const ojw_conf_dir_t *d,
                      ojw_authz_node_t *n, ojw_require_kind_t kind,
                      const apr_array_header_t *w, int first)
{
    lookup_t l = { b->conf, b->loc->server, d->seq };
    ojw_require_t *rl;
    const char *err;

    if (takes_tokens(b, d) != 0) {
        return -1;
    }
    err = ojw_require_parse(&rl, kind, (const char *const *)w->elts + first,
                            w->nelts - first, find_privilege, &l, b->pool);
    if (err) {
        return fail_at(b, d, err);
    }
    n->rl = rl;
    return 0;
}

/* The words of w from first on, space-separated. */
static const char *joined_from(apr_pool_t *pool, const apr_array_header_t *w,
                               int first)
{
    const char *out = "";
    int i;

    for (i = first; i < w->nelts; i++) {
        out = apr_pstrcat(pool, out, i > first ? " " : "",
                          APR_ARRAY_IDX(w, i, const char *), NULL);
    }
    return out;
}

/* Require [not] PROVIDER ARGS. */
static int add_require(build_t *b, const ojw_conf_dir_t *d,
                       ojw_authz_node_t **cur, const ctx_t *ctx)
{
    apr_array_header_t *w = words(b->pool, d->args);
    ojw_authz_node_t *n = node_at(b, d), *c;
    int first = 1, kind;

    if (w->nelts > 1 && strcasecmp(APR_ARRAY_IDX(w, 0, const char *),
                                   "not") == 0) {
        n->negate = 1;
        first = 2;
    }
    if (w->nelts < first) {
        return fail_at(b, d, "Require needs a provider");
    }
    n->provider = APR_ARRAY_IDX(w, first - 1, const char *);
    n->args = joined_from(b->pool, w, first);
    n->limited = ctx->limited;
    n->ords_negated = n->negate || ctx->negated;
    if ((kind = ojw_require_kind(n->provider)) >= 0
        && parse_ords(b, d, n, (ojw_require_kind_t)kind, w, first) != 0) {
        return -1;
    }
    c = container(b, cur);
    if (n->negate && c->op == OJW_AUTHZ_OR) {
        return fail_at(b, d, apr_psprintf(b->pool, "negative Require "
                                          "directive has no effect in %s "
                                          "directive", command(b->pool, c)));
    }
    c->limited |= n->limited;
    append(c, n);
    return 0;
}

/* <RequireAll>, <RequireAny>, <RequireNone>. */
static int add_container(build_t *b, const ojw_conf_dir_t *d,
                         ojw_authz_node_t **cur, const ctx_t *ctx)
{
    ojw_authz_node_t *n = node_at(b, d), *c;
    ctx_t inner = *ctx;

    n->op = strcasecmp(d->name, "<RequireAll") == 0 ? OJW_AUTHZ_AND
                                                    : OJW_AUTHZ_OR;
    n->negate = strcasecmp(d->name, "<RequireNone") == 0;
    inner.negated = ctx->negated || n->negate;
    if (walk(b, d->first, &n, inner) != 0) {
        return -1;
    }
    if (n->first == NULL) {
        return fail_at(b, d, apr_psprintf(b->pool, "%s directive contains "
                                          "no authorization directives",
                                          command(b->pool, n)));
    }
    c = container(b, cur);
    if (n->negate && c->op == OJW_AUTHZ_OR) {
        return fail_at(b, d, apr_psprintf(b->pool, "%s directive has no "
                                          "effect in %s directive",
                                          command(b->pool, n),
                                          command(b->pool, c)));
    }
    c->limited |= n->limited;
    append(c, !n->negate && n->op == c->op ? n->first : n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* a section's other directives                                        */

/* On|Off as httpd's flag directives read it: 1, 0, or -1. */
static int flag(build_t *b, const ojw_conf_dir_t *d)
{
    const char *v = APR_ARRAY_IDX(words(b->pool, d->args), 0, const char *);

    if (strcasecmp(v, "On") == 0 || strcasecmp(v, "Off") == 0) {
        return strcasecmp(v, "On") == 0;
    }
    return fail_at(b, d, apr_psprintf(b->pool, "%s must be On or Off",
                                      d->name));
}

/* AuthOrdsJwtProfile NAME ...: each defined before the line; the first
 * of the section turns AuthzSendForbiddenOnFailure on there. */
static int add_profiles(build_t *b, const ojw_conf_dir_t *d)
{
    apr_array_header_t *w = words(b->pool, d->args);
    const ojw_conf_profile_t *p;
    int i, j;

    for (i = 0; i < w->nelts; i++) {
        const char *name = APR_ARRAY_IDX(w, i, const char *);

        if ((p = visible_profile(b->conf, b->loc->server, d->seq, name))
            == NULL) {
            return fail_at(b, d, apr_psprintf(b->pool, "AuthOrdsJwtProfile: "
                                              "no OrdsJwtProfile named \"%s\" "
                                              "is defined before this line",
                                              name));
        }
        if (b->s->profiles == NULL) {
            b->s->profiles = apr_array_make(b->pool, 2, sizeof(p));
            b->s->forbidden = 1;
        }
        for (j = 0; j < b->s->profiles->nelts; j++) {
            if (APR_ARRAY_IDX(b->s->profiles, j, const void *) == p) {
                return fail_at(b, d, apr_psprintf(b->pool, "AuthOrdsJwtProfile"
                                                  ": %s is listed twice",
                                                  name));
            }
        }
        APR_ARRAY_PUSH(b->s->profiles, const ojw_conf_profile_t *) = p;
    }
    return 0;
}

/* OrdsJwtTokenFrom SOURCE ...: parsed by the core. */
static int add_sources(build_t *b, const ojw_conf_dir_t *d)
{
    apr_array_header_t *w = words(b->pool, d->args);
    ojw_source_t src;
    const char *err, *text;
    int i, j;

    for (i = 0; i < w->nelts; i++) {
        text = APR_ARRAY_IDX(w, i, const char *);
        if ((err = ojw_source_parse(&src, text, b->pool)) != NULL) {
            return fail_at(b, d, apr_pstrcat(b->pool, "OrdsJwtTokenFrom: ",
                                             err, NULL));
        }
        if (b->s->sources == NULL) {
            b->s->sources = apr_array_make(b->pool, 2, sizeof(src));
        }
        for (j = 0; j < b->s->sources->nelts; j++) {
            const ojw_source_t *prev = &APR_ARRAY_IDX(b->s->sources, j,
                                                      ojw_source_t);

            if (prev->kind == src.kind
                && (src.kind == OJW_SOURCE_HEADER ? strcasecmp : strcmp)
                   (ojw_source_text(prev, b->pool),
                    ojw_source_text(&src, b->pool)) == 0) {
                return fail_at(b, d, apr_psprintf(b->pool, "OrdsJwtTokenFrom:"
                                                  " %s is listed twice",
                                                  text));
            }
        }
        APR_ARRAY_PUSH(b->s->sources, ojw_source_t) = src;
    }
    return 0;
}

static int auth_merging(build_t *b, const ojw_conf_dir_t *d)
{
    const char *v = APR_ARRAY_IDX(words(b->pool, d->args), 0, const char *);

    b->s->merge = strcasecmp(v, "Off") == 0 ? MERGE_OFF
                  : strcasecmp(v, "And") == 0 ? MERGE_AND
                  : strcasecmp(v, "Or") == 0 ? MERGE_OR : -1;
    return b->s->merge >= 0 ? 0 : fail_at(b, d, "AuthMerging must be one "
                                         "of: Off | And | Or");
}

/* The first word of d's arguments ("" when none). */
static const char *first_word(build_t *b, const ojw_conf_dir_t *d)
{
    apr_array_header_t *w = words(b->pool, d->args);

    return w->nelts ? APR_ARRAY_IDX(w, 0, const char *) : "";
}

/* Where an On/Off directive that matters goes, or NULL. */
static int *flag_slot(settings_t *s, const char *name)
{
    if (strcasecmp(name, "OrdsJwtAnonymous") == 0) {
        return &s->anonymous;
    }
    if (strcasecmp(name, "OrdsJwtDpopNonce") == 0) {
        return &s->dpop_nonce;
    }
    if (strcasecmp(name, "AuthzSendForbiddenOnFailure") == 0) {
        return &s->forbidden;
    }
    return NULL;
}

/* A directive of the core, mod_auth_basic, mod_authz_core or this
 * module that matters; others are no business of the checker. */
static int setting(build_t *b, const ojw_conf_dir_t *d)
{
    const char *n = d->name;
    int *slot, v;

    if (strcasecmp(n, "AuthType") == 0) {
        b->s->auth_type = strcasecmp(first_word(b, d), "None") == 0
                          ? "" : first_word(b, d);
    }
    else if (strcasecmp(n, "AuthName") == 0) {
        b->s->auth_name = first_word(b, d);
    }
    else if (strcasecmp(n, "AuthBasicProvider") == 0) {
        b->s->basic_providers = d->args;
    }
    else if (strcasecmp(n, "AuthOrdsJwtProfile") == 0) {
        return add_profiles(b, d);
    }
    else if (strcasecmp(n, "OrdsJwtTokenFrom") == 0) {
        return add_sources(b, d);
    }
    else if (strcasecmp(n, "AuthMerging") == 0) {
        return auth_merging(b, d);
    }
    else if ((slot = flag_slot(b->s, n)) != NULL) {
        if ((v = flag(b, d)) < 0) {
            return -1;
        }
        *slot = v;
    }
    return 0;
}

/* 1 when d (a section in a <Location>: <If>, ...) holds a directive
 * that authentication or authorization reads. */
static int holds_auth(const ojw_conf_dir_t *d)
{
    for (d = d->first; d; d = d->next) {
        if (strncasecmp(d->name, "Auth", 4) == 0
            || strncasecmp(d->name, "Require", 7) == 0
            || strncasecmp(d->name, "<Require", 8) == 0
            || strncasecmp(d->name, "OrdsJwt", 7) == 0
            || (d->first && holds_auth(d))) {
            return 1;
        }
    }
    return 0;
}

/* A directive that mod_access_compat or an <If> adds: not evaluated. */
static void not_evaluated(build_t *b, const ojw_conf_dir_t *d)
{
    APR_ARRAY_PUSH(b->out->notes, const char *) =
        apr_psprintf(b->pool, "%s:%d: %s%s is not evaluated", d->file,
                     d->line, d->name, *d->name == '<' ? "...>" : "");
    b->out->unknown = 1;
}

static int walk(build_t *b, const ojw_conf_dir_t *d, ojw_authz_node_t **cur,
                ctx_t ctx)
{
    ctx_t limit = ctx;
    int rc = 0;

    for (; d && rc == 0; d = d->next) {
        if (strcasecmp(d->name, "Require") == 0) {
            rc = add_require(b, d, cur, &ctx);
        }
        else if (strcasecmp(d->name, "<RequireAll") == 0
                 || strcasecmp(d->name, "<RequireAny") == 0
                 || strcasecmp(d->name, "<RequireNone") == 0) {
            rc = add_container(b, d, cur, &ctx);
        }
        else if (strncasecmp(d->name, "<Limit", 6) == 0) {
            limit.limited = limit_methods(b->pool, d);
            limit.negated = 0;
            rc = walk(b, d->first, cur, limit);
        }
        else if (*d->name == '<' || strcasecmp(d->name, "Satisfy") == 0
                 || strcasecmp(d->name, "Order") == 0
                 || strcasecmp(d->name, "Allow") == 0
                 || strcasecmp(d->name, "Deny") == 0) {
            if (*d->name != '<' || holds_auth(d)) {
                not_evaluated(b, d);
            }
        }
        else {
            rc = setting(b, d);
        }
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* mod_authz_core's startup check and merge                            */

/* authz_core_check_section: a negated child whose logic differs from
 * its parent's is replaced by its children, each negated (De Morgan);
 * a container of negated lines only is a startup error. */
static int check_section(build_t *b, ojw_authz_node_t *sec, int top)
{
    ojw_authz_node_t *prev = NULL, *child = sec->first, *next;

    for (; child; prev = child, child = child->next) {
        if (child->first == NULL) {
            continue;
        }
        if (check_section(b, child, 0) != 0) {
            return -1;
        }
        if (child->negate && child->op != sec->op) {
            next = child->next;
            child = child->first;
            *(prev ? &prev->next : &sec->first) = child;
            for (;; child = child->next) {
                child->negate = !child->negate;
                if (child->next == NULL) {
                    break;
                }
            }
            child->next = next;
        }
    }
    for (child = sec->first; child; child = child->next) {
        if (!child->negate) {
            return 0;
        }
    }
    b->error = apr_psprintf(b->pool, "%s:%d: %s directive contains only "
                            "negative authorization directives (httpd "
                            "refuses to start: AH01624)", b->loc->file,
                            b->loc->line, top ? "<Directory>, <Location>, or "
                            "similar" : command(b->pool, sec));
    return -1;
}

/* A copy of a node (not of its children): merged trees share them. */
static ojw_authz_node_t *copy(apr_pool_t *pool, const ojw_authz_node_t *n)
{
    return apr_pmemdup(pool, n, sizeof(*n));
}

/* merge_authz_core_dir_config: base are the sections so far, add the
 * next one. */
static void merge_authz(apr_pool_t *pool, settings_t *base,
                        const settings_t *add)
{
    ojw_authz_node_t *m;

    if (add->merge == MERGE_UNSET && add->authz == NULL && base->authz) {
        /* only the forbidden flag, maybe: not an authz section */
    }
    else if (add->merge == MERGE_OFF || add->merge == MERGE_UNSET
             || !(base->authz || add->authz)) {
        base->authz = add->authz;
        base->merge = add->merge;
    }
    else if (base->authz && add->authz) {
        m = apr_pcalloc(pool, sizeof(*m));
        m->limited = base->authz->limited | add->authz->limited;
        m->op = add->merge;
        m->merged = 1;
        m->first = copy(pool, base->authz);
        m->first->next = copy(pool, add->authz);
        m->first->next->next = NULL;
        base->authz = m;
        base->merge = add->merge;
    }
    else {
        base->authz = base->authz ? base->authz : add->authz;
        base->merge = add->merge;
    }
    if (add->forbidden != -1) {
        base->forbidden = add->forbidden;
    }
}

/* The core's, mod_auth_basic's and the module's merges: what a section
 * sets wins. */
static void merge_settings(apr_pool_t *pool, settings_t *base,
                           const settings_t *add)
{
    merge_authz(pool, base, add);
    base->auth_type = add->auth_type ? add->auth_type : base->auth_type;
    base->auth_name = add->auth_name ? add->auth_name : base->auth_name;
    base->basic_providers = add->basic_providers ? add->basic_providers
                                                 : base->basic_providers;
    base->profiles = add->profiles ? add->profiles : base->profiles;
    base->sources = add->sources ? add->sources : base->sources;
    base->anonymous = add->anonymous != -1 ? add->anonymous : base->anonymous;
    base->dpop_nonce = add->dpop_nonce != -1 ? add->dpop_nonce
                                             : base->dpop_nonce;
}

/* One section, read as httpd reads it and checked as at startup. */
static int read_section(build_t *b, const ojw_conf_location_t *loc,
                        settings_t *s)
{
    ctx_t ctx = { OJW_ALL_METHODS, 0 };

    init_settings(s);
    b->loc = loc;
    b->s = s;
    if (walk(b, loc->first, &s->authz, ctx) != 0) {
        return -1;
    }
    return s->authz ? check_section(b, s->authz, 1) : 0;
}

/* ------------------------------------------------------------------ */
/* the path's sections                                                 */

/* 1 when label names an <If>, <ElseIf> or <Else> section. */
static int is_if(const char *label)
{
    const char *lt = strchr(label, '<');

    return lt && (strncasecmp(lt, "<If ", 4) == 0
                  || strncasecmp(lt, "<ElseIf", 7) == 0
                  || strncasecmp(lt, "<Else", 5) == 0);
}

/* Sections of server s (and, for a virtual host, the main server's) with
 * Require lines that are not <Location>s: before them (if_sections 0),
 * or <If>s, merged after them (1); joined for a message, or NULL. */
static const char *others(const ojw_conf_t *conf, int s, int if_sections,
                          apr_pool_t *pool)
{
    const char *out = NULL;
    int k, i;

    for (k = 0; k <= (s != 0); k++) {
        const ojw_conf_host_t *h = &APR_ARRAY_IDX(conf->hosts, k ? s : 0,
                                                  ojw_conf_host_t);

        for (i = 0; i < h->other_authz->nelts; i++) {
            const char *label = APR_ARRAY_IDX(h->other_authz, i,
                                              const char *);

            if (is_if(label) == if_sections) {
                out = out ? apr_pstrcat(pool, out, ", ", label, NULL) : label;
            }
        }
    }
    return out;
}

/* What httpd merged before the <Location>s: the Require lines of
 * <Directory> (and the like) sections, not read: a line of its own. */
static void before_locations(settings_t *acc, const ojw_conf_t *conf,
                             int server, apr_pool_t *pool)
{
    const char *labels = others(conf, server, 0, pool);

    init_settings(acc);
    if (labels) {
        acc->authz = apr_pcalloc(pool, sizeof(*acc->authz));
        acc->authz->provider = "(sections not read)";
        acc->authz->args = labels;
        acc->authz->limited = OJW_ALL_METHODS;
    }
}

static int merge_server(build_t *b, settings_t *acc, int server,
                        const char *uri, const char *slashes)
{
    settings_t s;
    int i;

    for (i = 0; i < b->conf->locations->nelts; i++) {
        const ojw_conf_location_t *loc = &APR_ARRAY_IDX(b->conf->locations,
                                                        i, ojw_conf_location_t);

        if (loc->server != server
            || !matches(loc, uri, slashes, b->pool, &b->error)) {
            if (b->error) {
                b->error = apr_psprintf(b->pool, "%s:%d: %s", loc->file,
                                        loc->line, b->error);
                return -1;
            }
            continue;
        }
        if (read_section(b, loc, &s) != 0) {
            return -1;
        }
        merge_settings(b->pool, acc, &s);
        APR_ARRAY_PUSH(b->out->sections, const ojw_conf_location_t *) = loc;
    }
    return 0;
}

static void fill(ojw_location_t *out, const settings_t *acc)
{
    out->auth_type = acc->auth_type && *acc->auth_type ? acc->auth_type
                                                       : NULL;
    out->auth_name = acc->auth_name;
    out->basic_providers = acc->basic_providers;
    out->profiles = acc->profiles;
    out->sources = acc->sources;
    out->anonymous = acc->anonymous == 1;
    out->dpop_nonce = acc->dpop_nonce == 1;
    out->forbidden_on_fail = acc->forbidden;
    out->authz = acc->authz;
}

ojw_location_t *ojw_location_merge(const ojw_conf_t *conf, int server,
                                   const char *uri, apr_pool_t *pool,
                                   const char **error)
{
    ojw_location_t *out = apr_pcalloc(pool, sizeof(*out));
    const char *slashes = merged_slashes(pool, uri), *after;
    build_t b;
    settings_t acc;

    memset(&b, 0, sizeof(b));
    b.pool = pool;
    b.conf = conf;
    b.out = out;
    out->uri = uri;
    out->server = server;
    out->sections = apr_array_make(pool, 4, sizeof(ojw_conf_location_t *));
    out->notes = apr_array_make(pool, 2, sizeof(const char *));
    before_locations(&acc, conf, server, pool);
    if (merge_server(&b, &acc, 0, uri, slashes) != 0
        || (server != 0 && merge_server(&b, &acc, server, uri, slashes) != 0)) {
        *error = b.error;
        return NULL;
    }
    if ((after = others(conf, server, 1, pool)) != NULL) {
        APR_ARRAY_PUSH(out->notes, const char *) = apr_psprintf(pool, "%s "
                       "hold Require lines and are merged after the "
                       "locations: not evaluated", after);
        out->unknown = 1;
    }
    fill(out, &acc);
    return out;
}
