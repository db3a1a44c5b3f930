/* SPDX-License-Identifier: Apache-2.0 */
/* The mod_auth_ordsjwt settings of an httpd configuration (see conf.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "conf.h"

#define MAX_DEPTH       32                  /* nested Includes */
#define MAX_FILE_SIZE   (16 * 1024 * 1024)  /* bytes of one file */

/* What a read in progress needs besides the result. */
typedef struct {
    apr_pool_t *pool;
    ojw_conf_t *conf;
    const char *server_root;    /* ServerRoot, once a line set it */
    int server;                 /* index into conf->servers */
    int depth;
    int skip;                   /* >0: inside a false <If...>, its depth */
    apr_hash_t *modules;        /* loaded so far: "x_module", "mod_x.c" */
    apr_hash_t *defines;        /* -D and Define names */
    const char *error;
    int seq;                    /* directives read so far */
    apr_array_header_t *open;   /* open_t: the sections open */
    ojw_conf_location_t *loc;   /* the <Location> being read, or NULL */
    ojw_conf_dir_t *cur;        /* the section open in it, or NULL */
} reader_t;

/* Modules compiled into Debian's httpd (apache2 -l), and this one: the
 * checker stands in for it. */
static const char *const builtin_modules[] = {
    "core.c", "core_module", "mod_so.c", "so_module", "http_core.c",
    "http_module", "mod_watchdog.c", "watchdog_module", "mod_log_config.c",
    "log_config_module", "mod_logio.c", "logio_module", "mod_version.c",
    "version_module", "mod_unixd.c", "unixd_module", "mod_auth_ordsjwt.c",
    "auth_ordsjwt_module", NULL
};

/* Where a line is, for messages. */
typedef struct {
    const char *file;
    int line;
} where_t;

static int read_config_file(reader_t *r, const char *path);
static int include_path(reader_t *r, const where_t *at, const char *path,
                        int optional);

static int fail(reader_t *r, const where_t *at, const char *msg)
{
    r->error = apr_psprintf(r->pool, "%s:%d: %s", at->file, at->line, msg);
    return -1;
}

/* ------------------------------------------------------------------ */
/* lines and words                                                     */

/* The next physical line (LF, CR LF removed) in place, or NULL. */
static char *physical_line(char **cursor)
{
    char *line = *cursor, *nl;
    size_t n;

    if (line == NULL || *line == '\0') {
        return NULL;
    }
    if ((nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
    }
    else {
        *cursor = line + strlen(line);
    }
    n = strlen(line);
    if (n > 0 && line[n - 1] == '\r') {
        line[n - 1] = '\0';
    }
    return line;
}

/* The next logical line: a backslash right before the end of a line
 * joins the next line to it, as httpd does. *lineno: its first line. */
static char *logical_line(apr_pool_t *pool, char **cursor, int *physical,
                          int *lineno)
{
    char *line = physical_line(cursor), *more;
    size_t n;

    if (line == NULL) {
        return NULL;
    }
    *lineno = ++*physical;
    while ((n = strlen(line)) > 0 && line[n - 1] == '\\'
           && (more = physical_line(cursor)) != NULL) {
        ++*physical;
        line[n - 1] = '\0';
        line = apr_pstrcat(pool, line, more, NULL);
    }
    return line;
}

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    return s;
}

/* The next word of s, unquoted ("..." or '...', with \" inside), as
 * httpd's ap_getword_conf reads arguments; "" at the end. */
static char *next_word(apr_pool_t *pool, const char **s)
{
    const char *p = skip_space(*s);
    char *out = apr_palloc(pool, strlen(p) + 1), *o = out;
    char quote = 0;

    if (*p == '"' || *p == '\'') {
        quote = *p++;
    }
    for (; *p; p++) {
        if (quote && *p == '\\' && p[1] == quote) {
            *o++ = *++p;
        }
        else if (quote ? *p == quote : isspace((unsigned char)*p)) {
            p++;
            break;
        }
        else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *s = skip_space(p);
    return out;
}

/* ------------------------------------------------------------------ */
/* paths and Include                                                   */

static const char *directory_of(apr_pool_t *pool, const char *file)
{
    const char *slash = strrchr(file, '/');

    if (slash == NULL) {
        return ".";
    }
    return slash == file ? "/" : apr_pstrndup(pool, file,
                                              (apr_size_t)(slash - file));
}

/* path as httpd would open it: relative to ServerRoot when set, else
 * relative to the directory of the file that names it. */
static const char *resolve(reader_t *r, const where_t *at, const char *path)
{
    if (*path == '/') {
        return path;
    }
    return apr_pstrcat(r->pool, r->server_root ? r->server_root
                       : directory_of(r->pool, at->file), "/", path, NULL);
}

/* Every entry of dir but . and .., sorted, as httpd includes them. */
static int include_directory(reader_t *r, const where_t *at,
                             const char *dir)
{
    struct dirent **names = NULL;
    int i, n = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (n < 0) {
        return fail(r, at, apr_psprintf(r->pool, "Include: cannot list %s: "
                                        "%s", dir, strerror(errno)));
    }
    r->depth++;
    for (i = 0; i < n; i++) {
        const char *name = names[i]->d_name;

        if (rc == 0 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
            rc = include_path(r, at, apr_pstrcat(r->pool, dir, "/", name,
                                                 NULL), 0);
        }
        free(names[i]);
    }
    free(names);
    r->depth--;
    return rc;
}

static int include_wildcard(reader_t *r, const where_t *at,
                            const char *pattern, int optional)
{
    glob_t g;
    size_t i;
    int rc = glob(pattern, 0, NULL, &g);

    if (rc == GLOB_NOMATCH) {
        globfree(&g);
        return optional ? 0 : fail(r, at, apr_psprintf(r->pool, "Include: no "
                                   "file matches %s", pattern));
    }
    if (rc != 0) {
        globfree(&g);
        return fail(r, at, apr_psprintf(r->pool, "Include: cannot expand %s",
                                        pattern));
    }
    for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
        rc = include_path(r, at, apr_pstrdup(r->pool, g.gl_pathv[i]),
                          optional);
    }
    globfree(&g);
    return rc;
}

/* A file, a directory (every file in it, sorted) or a wildcard. */
static int include_path(reader_t *r, const where_t *at, const char *path,
                        int optional)
{
    struct stat st;

    if (r->depth >= MAX_DEPTH) {
        return fail(r, at, apr_psprintf(r->pool, "Include: more than %d "
                                        "nested levels (does a file include "
                                        "itself?)", MAX_DEPTH));
    }
    if (strpbrk(path, "*?[") != NULL) {
        return include_wildcard(r, at, path, optional);
    }
    if (stat(path, &st) != 0) {
        return optional ? 0 : fail(r, at, apr_psprintf(r->pool, "Include: "
                                   "cannot open %s: %s", path,
                                   strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) {
        return include_directory(r, at, path);
    }
    return read_config_file(r, path);
}

/* ------------------------------------------------------------------ */
/* directives                                                          */

static ojw_settings_t *current_server(reader_t *r)
{
    return &APR_ARRAY_IDX(r->conf->servers, r->server, ojw_settings_t);
}

static void add_profile(reader_t *r, const where_t *at, const char *args)
{
    ojw_conf_profile_t *p = apr_array_push(r->conf->profiles);
    const char *rest = args;

    p->args = args;
    p->name = next_word(r->pool, &rest);
    p->file = at->file;
    p->line = at->line;
    p->server = r->server;
    p->seq = r->seq;
}

/* ------------------------------------------------------------------ */
/* conditional sections                                                */

static void set_name(apr_hash_t *h, const char *name)
{
    apr_hash_set(h, name, APR_HASH_KEY_STRING, "");
}

/* LoadModule NAME PATH: NAME and, from PATH's mod_x.so, mod_x.c (the
 * source file name that <IfModule> also takes). */
static void load_module(reader_t *r, const char *name, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');

    set_name(r->modules, name);
    if (dot && dot > base) {
        set_name(r->modules, apr_pstrcat(r->pool, apr_pstrndup(r->pool, base,
                 (apr_size_t)(dot - base)), ".c", NULL));
    }
}

/* The argument of "<IfX arg>" without the ">"; *negated for "!arg". */
static const char *condition(reader_t *r, const char *raw, int *negated)
{
    char *arg = apr_pstrdup(r->pool, skip_space(raw));
    size_t n = strlen(arg);

    while (n > 0 && (arg[n - 1] == '>' || isspace((unsigned char)arg[n - 1]))) {
        arg[--n] = '\0';
    }
    *negated = *arg == '!';
    return *negated ? skip_space(arg + 1) : arg;
}

static void note_skipped(reader_t *r, const where_t *at, const char *name,
                         const char *raw, const char *why)
{
    int negated;
    const char *arg = condition(r, raw, &negated);

    APR_ARRAY_PUSH(r->conf->skipped, const char *) =
        apr_psprintf(r->pool, "%s:%d: %s %s%s>: %s", at->file, at->line, name,
                     negated ? "!" : "", arg, why);
}

/* 1 true, 0 false, -1 not evaluated, for <IfModule|IfDefine|IfFile raw>. */
static int evaluate(reader_t *r, const where_t *at, const char *name,
                    const char *raw)
{
    int negated, found;
    const char *arg = condition(r, raw, &negated);
    struct stat st;

    if (strcasecmp(name, "<IfModule") == 0) {
        found = apr_hash_get(r->modules, arg, APR_HASH_KEY_STRING) != NULL;
    }
    else if (strcasecmp(name, "<IfDefine") == 0) {
        found = apr_hash_get(r->defines, arg, APR_HASH_KEY_STRING) != NULL;
    }
    else if (strcasecmp(name, "<IfFile") == 0) {
        found = stat(resolve(r, at, arg), &st) == 0;
    }
    else {
        return -1;
    }
    return negated ? !found : found;
}

/* Sections <If...>: 1 when the line was one (and handled). */
static int conditional(reader_t *r, const where_t *at, const char *name,
                       const char *raw)
{
    int v;

    if (strncasecmp(name, "</If", 4) == 0) {
        r->skip -= r->skip > 0;
        return 1;
    }
    if (strncasecmp(name, "<If", 3) != 0) {
        return 0;
    }
    if (r->skip > 0) {
        r->skip++;
        return 1;
    }
    if ((v = evaluate(r, at, name, raw)) == 0) {
        r->skip = 1;
        note_skipped(r, at, name, raw, "false here, skipped");
    }
    else if (v < 0) {
        note_skipped(r, at, name, raw, "not evaluated, its contents read");
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* sections: virtual hosts, <Location> and the others                  */

/* What an open section is, to the reader. */
enum { OPEN_VHOST, OPEN_LOCATION, OPEN_NESTED, OPEN_OTHER };

typedef struct {
    int kind;
    const char *label;          /* OPEN_OTHER: "FILE:LINE <Directory /x>" */
    int noted;                  /* OPEN_OTHER: its Require lines noted */
} open_t;

static ojw_conf_host_t *current_host(reader_t *r)
{
    return &APR_ARRAY_IDX(r->conf->hosts, r->server, ojw_conf_host_t);
}

static ojw_conf_host_t *new_host(reader_t *r, const where_t *at)
{
    ojw_conf_host_t *h = apr_array_push(r->conf->hosts);

    memset(h, 0, sizeof(*h));
    h->addrs = apr_array_make(r->pool, 2, sizeof(const char *));
    h->aliases = apr_array_make(r->pool, 2, sizeof(const char *));
    h->other_authz = apr_array_make(r->pool, 2, sizeof(const char *));
    h->file = at ? at->file : NULL;
    h->line = at ? at->line : 0;
    return h;
}

/* The words of a section's arguments, without the closing ">". */
static const char *section_args(reader_t *r, const char *raw)
{
    char *args = apr_pstrdup(r->pool, skip_space(raw));
    size_t n = strlen(args);

    while (n > 0 && (args[n - 1] == '>' || isspace((unsigned char)args[n - 1]))) {
        args[--n] = '\0';
    }
    return args;
}

static void note_other_authz(reader_t *r, const char *name);

static void open_section(reader_t *r, int kind, const char *label)
{
    open_t *o = apr_array_push(r->open);

    o->kind = kind;
    o->label = label;
    o->noted = 0;
}

static void open_vhost(reader_t *r, const where_t *at, const char *args)
{
    ojw_settings_t *s = apr_array_push(r->conf->servers);
    ojw_conf_host_t *h = new_host(r, at);
    const char *w;

    ojw_settings_init(s);
    while (*(w = next_word(r->pool, &args))) {
        APR_ARRAY_PUSH(h->addrs, const char *) = w;
    }
    r->server = r->conf->servers->nelts - 1;
    open_section(r, OPEN_VHOST, NULL);
}

static void open_location(reader_t *r, const where_t *at, const char *name,
                          const char *args)
{
    ojw_conf_location_t *loc = apr_array_push(r->conf->locations);
    const char *path = next_word(r->pool, &args);

    memset(loc, 0, sizeof(*loc));
    loc->regex = strcasecmp(name, "<LocationMatch") == 0;
    if (!loc->regex && strcmp(path, "~") == 0) {
        loc->regex = 1;
        path = next_word(r->pool, &args);
    }
    loc->path = path;
    loc->server = r->server;
    loc->file = at->file;
    loc->line = at->line;
    r->loc = loc;
    r->cur = NULL;
    open_section(r, OPEN_LOCATION, NULL);
}

/* A directive (or a nested section, which it then enters) of the
 * <Location> being read. */
static void capture(reader_t *r, const where_t *at, const char *name,
                    const char *args)
{
    ojw_conf_dir_t *d = apr_pcalloc(r->pool, sizeof(*d)), **tail;

    d->name = name;
    d->args = args;
    d->file = at->file;
    d->line = at->line;
    d->seq = r->seq;
    d->parent = r->cur;
    for (tail = r->cur ? &r->cur->first : &r->loc->first; *tail;
         tail = &(*tail)->next) {
    }
    *tail = d;
    if (*name == '<') {
        r->cur = d;
        open_section(r, OPEN_NESTED, NULL);
    }
}

static void close_section(reader_t *r)
{
    open_t *o;

    if (r->open->nelts == 0) {
        return;
    }
    o = &APR_ARRAY_IDX(r->open, r->open->nelts - 1, open_t);
    if (o->kind == OPEN_VHOST) {
        r->server = 0;
    }
    else if (o->kind == OPEN_LOCATION) {
        r->loc = NULL;
        r->cur = NULL;
    }
    else if (o->kind == OPEN_NESTED) {
        r->cur = r->cur ? r->cur->parent : NULL;
    }
    r->open->nelts--;
}

/* <Section ...> or </Section>. */
static void section(reader_t *r, const where_t *at, const char *name,
                    const char *raw)
{
    const char *args = section_args(r, raw);
    size_t n = strlen(name);

    if (n > 1 && name[n - 1] == '>') {
        name = apr_pstrndup(r->pool, name, n - 1);    /* "<RequireAll>" */
    }
    if (name[1] == '/') {
        close_section(r);
    }
    else if (r->loc) {
        capture(r, at, name, args);
    }
    else if (strcasecmp(name, "<VirtualHost") == 0) {
        open_vhost(r, at, args);
    }
    else if (strcasecmp(name, "<Location") == 0
             || strcasecmp(name, "<LocationMatch") == 0) {
        open_location(r, at, name, args);
    }
    else {
        note_other_authz(r, name);
        open_section(r, OPEN_OTHER, apr_psprintf(r->pool, "%s:%d %s %s>",
                                                 at->file, at->line, name,
                                                 args));
        /* a <RequireAll> in a <Directory>: the <Directory> is noted */
        APR_ARRAY_IDX(r->open, r->open->nelts - 1, open_t).noted =
            strncasecmp(name, "<Require", 8) == 0;
    }
}

/* <If>, <ElseIf>, <Else>: not evaluated. In a <Location>, a section of
 * its own; elsewhere its contents are read (as before) and it counts as
 * another section. */
static int expr_section(reader_t *r, const where_t *at, const char *name,
                        const char *raw)
{
    static const char *const names[] = {
        "<If", "<ElseIf", "<Else", "<Else>", "</If>", "</ElseIf>",
        "</Else>", NULL
    };
    int i;

    for (i = 0; names[i] && strcasecmp(name, names[i]) != 0; i++) {
    }
    if (names[i] == NULL) {
        return 0;
    }
    if (name[1] != '/' && r->loc == NULL) {
        note_skipped(r, at, name, raw, "not evaluated, its contents read");
    }
    section(r, at, strcasecmp(name, "<Else>") == 0 ? "<Else" : name, raw);
    return 1;
}

/* In a section other than <Location> (<Directory>, <Files>, <If> ...): a
 * Require line there is noted once, as httpd may merge it. */
static void note_other_authz(reader_t *r, const char *name)
{
    int i;

    if (strcasecmp(name, "Require") != 0
        && strncasecmp(name, "<Require", 8) != 0) {
        return;
    }
    for (i = r->open->nelts - 1; i >= 0; i--) {
        open_t *o = &APR_ARRAY_IDX(r->open, i, open_t);

        if (o->kind == OPEN_OTHER) {
            if (!o->noted) {
                o->noted = 1;
                APR_ARRAY_PUSH(current_host(r)->other_authz, const char *) =
                    o->label;
            }
            return;
        }
    }
}

/* ServerName, ServerAlias, Listen, OrdsJwtDpopBaseUrl; 1 when name is
 * none of them. */
static int host_directive(reader_t *r, const char *name, const char *arg,
                          const char *rest)
{
    ojw_conf_host_t *h = current_host(r);
    size_t n;

    if (strcasecmp(name, "ServerName") == 0) {
        h->name = arg;
    }
    else if (strcasecmp(name, "ServerAlias") == 0) {
        for (; *arg; arg = next_word(r->pool, &rest)) {
            APR_ARRAY_PUSH(h->aliases, const char *) = arg;
        }
    }
    else if (strcasecmp(name, "Listen") == 0) {
        APR_ARRAY_PUSH(r->conf->listens, const char *) = arg;
    }
    else if (strcasecmp(name, "OrdsJwtDpopBaseUrl") == 0) {
        for (n = strlen(arg); n > 0 && arg[n - 1] == '/'; n--) {
        }
        h->dpop_base_url = apr_pstrndup(r->pool, arg, n);
    }
    else {
        return 1;
    }
    return 0;
}

/* The words of args, split as httpd splits a directive's arguments. */
static const char *const *words_of(reader_t *r, const char *args, int *n)
{
    apr_array_header_t *w = apr_array_make(r->pool, 4, sizeof(char *));
    const char *word;

    while (*(word = next_word(r->pool, &args))) {
        APR_ARRAY_PUSH(w, const char *) = word;
    }
    *n = w->nelts;
    return (const char *const *)w->elts;
}

/* OrdsJwtPrivilege NAME [role=R ...], with the module's parser. */
static int add_privilege(reader_t *r, const where_t *at, const char *args)
{
    ojw_conf_privilege_t *def;
    ojw_privilege_t *pv;
    const char *const *words;
    const ojw_conf_privilege_t *seen;
    const char *err;
    int n;

    words = words_of(r, args, &n);
    if ((err = ojw_privilege_parse(&pv, words, n, r->pool)) != NULL) {
        return fail(r, at, err);
    }
    seen = ojw_conf_privilege(r->conf, pv->name, r->server);
    if (seen && seen->server == r->server) {
        return fail(r, at, apr_psprintf(r->pool, "OrdsJwtPrivilege %s: a "
                                        "privilege of that name is already "
                                        "defined in this server", pv->name));
    }
    def = apr_array_push(r->conf->privileges);
    def->pv = pv;
    def->file = at->file;
    def->line = at->line;
    def->server = r->server;
    def->seq = r->seq;
    return 0;
}

/* Define NAME [VALUE], UnDefine NAME, LoadModule NAME PATH; 1 when name
 * is none of them. */
static int state_directive(reader_t *r, const char *name, const char *arg,
                           const char *rest)
{
    if (strcasecmp(name, "Define") == 0 && *arg) {
        set_name(r->defines, arg);
    }
    else if (strcasecmp(name, "UnDefine") == 0 && *arg) {
        apr_hash_set(r->defines, arg, APR_HASH_KEY_STRING, NULL);
    }
    else if (strcasecmp(name, "LoadModule") == 0 && *arg) {
        load_module(r, arg, next_word(r->pool, &rest));
    }
    else {
        return 1;
    }
    return 0;
}

/* A directive of the module's settings table, parsed with the module's
 * bounds (global ones go to the main server); 1 when name is none. */
static int number_directive(reader_t *r, const where_t *at, const char *name,
                            const char *arg)
{
    const ojw_setting_t *st = ojw_setting_find(name);
    const char *err;

    if (st == NULL) {
        return 1;
    }
    err = ojw_setting_parse(st->global_only
                            ? &APR_ARRAY_IDX(r->conf->servers, 0,
                                             ojw_settings_t)
                            : current_server(r), st, arg, r->pool);
    return err ? fail(r, at, err) : 0;
}

static int is_include(const char *name)
{
    return strcasecmp(name, "Include") == 0
           || strcasecmp(name, "IncludeOptional") == 0;
}

/* A server-level directive the checker reads. */
static int server_directive(reader_t *r, const where_t *at, const char *name,
                            const char *raw, const char *arg,
                            const char *rest)
{
    int rc;

    if (strcasecmp(name, "OrdsJwtProfile") == 0) {
        add_profile(r, at, raw);
    }
    else if (strcasecmp(name, "OrdsJwtPrivilege") == 0) {
        return add_privilege(r, at, raw);
    }
    else if (state_directive(r, name, arg, rest) == 0
             || host_directive(r, name, arg, rest) == 0) {
        return 0;
    }
    else if ((rc = number_directive(r, at, name, arg)) != 1) {
        return rc;
    }
    else if (strcasecmp(name, "ServerRoot") == 0) {
        r->server_root = resolve(r, at, arg);
    }
    else if (strcasecmp(name, "OrdsJwtCACertificateFile") == 0) {
        r->conf->ca_file = resolve(r, at, arg);
    }
    else if (strcasecmp(name, "OrdsJwtDpopNonceKeyFile") == 0) {
        r->conf->nonce_key_file = resolve(r, at, arg);
    }
    return 0;
}

static int directive(reader_t *r, const where_t *at, const char *text)
{
    const char *rest = text;
    const char *name = next_word(r->pool, &rest);
    const char *raw = rest;                 /* RAW_ARGS directives */
    const char *arg = next_word(r->pool, &rest);

    r->seq++;
    if ((r->skip == 0 && expr_section(r, at, name, raw))
        || conditional(r, at, name, raw) || r->skip > 0) {
        return 0;
    }
    if (*name == '<') {
        section(r, at, name, raw);
        return 0;
    }
    if (is_include(name)) {
        return include_path(r, at, resolve(r, at, arg),
                            strcasecmp(name, "IncludeOptional") == 0);
    }
    if (r->loc) {
        capture(r, at, name, raw);
        return 0;
    }
    note_other_authz(r, name);
    return server_directive(r, at, name, raw, arg, rest);
}

/* ------------------------------------------------------------------ */
/* files                                                               */

/* A whole file of at most MAX_FILE_SIZE bytes, NUL-terminated. */
static char *slurp(reader_t *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    struct stat st;
    size_t n;

    if (f == NULL || fstat(fileno(f), &st) != 0) {
        r->error = apr_psprintf(r->pool, "cannot read %s: %s", path,
                                strerror(errno));
    }
    else if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
        r->error = apr_psprintf(r->pool, "cannot read %s: not a file of at "
                                "most 16 MiB", path);
    }
    else {
        buf = apr_palloc(r->pool, (apr_size_t)st.st_size + 1);
        n = fread(buf, 1, (size_t)st.st_size, f);
        buf[n] = '\0';
        if (ferror(f)) {
            r->error = apr_psprintf(r->pool, "cannot read %s: %s", path,
                                    strerror(errno));
            buf = NULL;
        }
    }
    if (f) {
        fclose(f);
    }
    return buf;
}

static int read_config_file(reader_t *r, const char *path)
{
    char *text = slurp(r, path), *line;
    where_t at = { path, 0 };
    int physical = 0, rc = 0;

    if (text == NULL) {
        return -1;
    }
    r->conf->nfiles++;
    r->depth++;
    while (rc == 0
           && (line = logical_line(r->pool, &text, &physical, &at.line))) {
        const char *s = skip_space(line);

        if (*s != '\0' && *s != '#') {
            rc = directive(r, &at, s);
        }
    }
    r->depth--;
    return rc;
}

static void start_reader(reader_t *r, const apr_array_header_t *defines,
                         apr_pool_t *pool)
{
    int i;

    memset(r, 0, sizeof(*r));
    r->pool = pool;
    r->modules = apr_hash_make(pool);
    r->defines = apr_hash_make(pool);
    for (i = 0; builtin_modules[i]; i++) {
        set_name(r->modules, builtin_modules[i]);
    }
    for (i = 0; defines && i < defines->nelts; i++) {
        set_name(r->defines, APR_ARRAY_IDX(defines, i, const char *));
    }
}

ojw_conf_t *ojw_conf_read(const char *path, apr_pool_t *pool,
                          const char **error)
{
    return ojw_conf_read_defined(path, NULL, pool, error);
}

ojw_conf_t *ojw_conf_read_defined(const char *path,
                                  const apr_array_header_t *defines,
                                  apr_pool_t *pool, const char **error)
{
    reader_t r;
    ojw_settings_t *main_server;

    start_reader(&r, defines, pool);
    r.conf = apr_pcalloc(pool, sizeof(*r.conf));
    r.conf->privileges = apr_array_make(pool, 4, sizeof(ojw_conf_privilege_t));
    r.conf->skipped = apr_array_make(pool, 4, sizeof(const char *));
    r.conf->profiles = apr_array_make(pool, 8, sizeof(ojw_conf_profile_t));
    r.conf->servers = apr_array_make(pool, 4, sizeof(ojw_settings_t));
    r.conf->hosts = apr_array_make(pool, 4, sizeof(ojw_conf_host_t));
    r.conf->locations = apr_array_make(pool, 8, sizeof(ojw_conf_location_t));
    r.conf->listens = apr_array_make(pool, 2, sizeof(const char *));
    r.open = apr_array_make(pool, 8, sizeof(open_t));
    main_server = apr_array_push(r.conf->servers);
    ojw_settings_init(main_server);
    new_host(&r, NULL);
    if (read_config_file(&r, path) != 0) {
        *error = r.error;
        return NULL;
    }
    return r.conf;
}

apr_array_header_t *ojw_conf_find(const ojw_conf_t *conf, const char *name,
                                  apr_pool_t *pool)
{
    apr_array_header_t *found = apr_array_make(pool, 2,
                                               sizeof(ojw_conf_profile_t *));
    int i;

    for (i = 0; i < conf->profiles->nelts; i++) {
        ojw_conf_profile_t *p = &APR_ARRAY_IDX(conf->profiles, i,
                                               ojw_conf_profile_t);

        if (strcmp(p->name, name) == 0) {
            APR_ARRAY_PUSH(found, ojw_conf_profile_t *) = p;
        }
    }
    return found;
}

ojw_settings_t ojw_conf_defaults(const ojw_conf_t *conf, int server)
{
    const ojw_settings_t *main_server =
        &APR_ARRAY_IDX(conf->servers, 0, ojw_settings_t);
    ojw_settings_t out;

    ojw_settings_merge(&out, main_server,
                       &APR_ARRAY_IDX(conf->servers, server, ojw_settings_t));
    return out;
}

const ojw_conf_privilege_t *ojw_conf_privilege(const ojw_conf_t *conf,
                                               const char *name, int server)
{
    const ojw_conf_privilege_t *main_pv = NULL;
    int i;

    for (i = 0; i < conf->privileges->nelts; i++) {
        const ojw_conf_privilege_t *pv = &APR_ARRAY_IDX(conf->privileges, i,
                                                        ojw_conf_privilege_t);

        if (strcmp(pv->pv->name, name) != 0) {
            continue;
        }
        if (pv->server == server) {
            return pv;
        }
        if (pv->server == 0 && main_pv == NULL) {
            main_pv = pv;
        }
    }
    return main_pv;
}
