/*
 * The mod_auth_ordsjwt settings of an httpd configuration, read without
 * httpd: OrdsJwtProfile lines (main server and every <VirtualHost>),
 * OrdsJwtAllowedSkew, OrdsJwtAllowedAge, OrdsJwtMaxTokenSize (per server,
 * a virtual host inheriting the main server's), OrdsJwtCACertificateFile
 * and OrdsJwtJwksFetchTimeout.
 *
 * Include and IncludeOptional are followed (wildcards, directories;
 * relative paths against ServerRoot when it is set, else against the
 * directory of the including file), backslash continuation lines are
 * joined and comment lines skipped, as httpd does. Conditional sections
 * (<IfModule>, <IfDefine>) are not evaluated: their contents are read.
 */
#ifndef OJW_TOOL_CONF_H
#define OJW_TOOL_CONF_H

#include <apr_pools.h>
#include <apr_tables.h>

/* One OrdsJwtProfile line. */
typedef struct {
    const char *name;
    const char *args;           /* "NAME key=value ...", as httpd passes them */
    const char *file;
    int line;
    int server;                 /* 0: main server, n: the n-th <VirtualHost> */
} ojw_conf_profile_t;

/* The per-server defaults of one server. */
typedef struct {
    long skew, age, token_max;
    int skew_set, age_set, token_max_set;
} ojw_conf_server_t;

typedef struct {
    apr_array_header_t *profiles;   /* ojw_conf_profile_t, in file order */
    apr_array_header_t *servers;    /* ojw_conf_server_t, [0]: main server */
    const char *ca_file;            /* resolved path, or NULL */
    long fetch_timeout;             /* seconds, 0 when not set */
    int nfiles;                     /* files read */
} ojw_conf_t;

/* Reads path and what it includes; on failure returns NULL with *error
 * naming the file, the line and what is wrong. */
ojw_conf_t *ojw_conf_read(const char *path, apr_pool_t *pool,
                          const char **error);

/* The definitions of the profile name, in file order (maybe none). */
apr_array_header_t *ojw_conf_find(const ojw_conf_t *conf, const char *name,
                                  apr_pool_t *pool);

/* The effective defaults of a server (a virtual host inherits the main
 * server's unless it sets its own): skew, age, max token size. */
ojw_conf_server_t ojw_conf_defaults(const ojw_conf_t *conf, int server);

#endif
