/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mod_auth_ordsjwt settings of an httpd configuration, read without
 * httpd: OrdsJwtProfile lines (main server and every <VirtualHost>), the
 * numeric directives of the module's own table (src/settings.h: per server,
 * a virtual host inheriting the main server's; global ones in the main
 * server) and OrdsJwtCACertificateFile.
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
#include "settings.h"

/* One OrdsJwtProfile line. */
typedef struct {
    const char *name;
    const char *args;           /* "NAME key=value ...", as httpd passes them */
    const char *file;
    int line;
    int server;                 /* 0: main server, n: the n-th <VirtualHost> */
} ojw_conf_profile_t;

typedef struct {
    apr_array_header_t *profiles;   /* ojw_conf_profile_t, in file order */
    apr_array_header_t *servers;    /* ojw_settings_t, [0]: main server */
    const char *ca_file;            /* resolved path, or NULL */
    int nfiles;                     /* files read */
} ojw_conf_t;

/* Reads path and what it includes; on failure returns NULL with *error
 * naming the file, the line and what is wrong. */
ojw_conf_t *ojw_conf_read(const char *path, apr_pool_t *pool,
                          const char **error);

/* The definitions of the profile name, in file order (maybe none). */
apr_array_header_t *ojw_conf_find(const ojw_conf_t *conf, const char *name,
                                  apr_pool_t *pool);

/* The effective settings of a server, as the module merges them (a
 * virtual host inherits the main server's values unless it sets its own). */
ojw_settings_t ojw_conf_defaults(const ojw_conf_t *conf, int server);

#endif
