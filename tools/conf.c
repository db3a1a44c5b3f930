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
    const char *error;
} reader_t;

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
}

/* <VirtualHost ...> starts a server, </VirtualHost> ends it; other
 * sections do not matter here. */
static void section(reader_t *r, const char *name)
{
    ojw_settings_t *s;

    if (strcasecmp(name, "<VirtualHost") == 0) {
        s = apr_array_push(r->conf->servers);
        ojw_settings_init(s);
        r->server = r->conf->servers->nelts - 1;
    }
    else if (strcasecmp(name, "</VirtualHost>") == 0) {
        r->server = 0;
    }
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

static int directive(reader_t *r, const where_t *at, const char *text)
{
    const char *rest = text;
    const char *name = next_word(r->pool, &rest);
    const char *raw = rest;                 /* RAW_ARGS directives */
    const char *arg = next_word(r->pool, &rest);
    int rc;

    if (*name == '<') {
        section(r, name);
    }
    else if (strcasecmp(name, "OrdsJwtProfile") == 0) {
        add_profile(r, at, raw);
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
    else if (strcasecmp(name, "Include") == 0
             || strcasecmp(name, "IncludeOptional") == 0) {
        return include_path(r, at, resolve(r, at, arg),
                            strcasecmp(name, "IncludeOptional") == 0);
    }
    return 0;
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

ojw_conf_t *ojw_conf_read(const char *path, apr_pool_t *pool,
                          const char **error)
{
    reader_t r;
    ojw_settings_t *main_server;

    memset(&r, 0, sizeof(r));
    r.pool = pool;
    r.conf = apr_pcalloc(pool, sizeof(*r.conf));
    r.conf->profiles = apr_array_make(pool, 8, sizeof(ojw_conf_profile_t));
    r.conf->servers = apr_array_make(pool, 4, sizeof(ojw_settings_t));
    main_server = apr_array_push(r.conf->servers);
    ojw_settings_init(main_server);
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
