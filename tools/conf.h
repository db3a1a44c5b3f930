/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mod_auth_ordsjwt settings of an httpd configuration, read without
 * httpd: OrdsJwtProfile lines (main server and every <VirtualHost>), the
 * numeric directives of the module's own table (src/settings.h: per server,
 * a virtual host inheriting the main server's; global ones in the main
 * server), OrdsJwtCACertificateFile and OrdsJwtDpopNonceKeyFile.
 *
 * Include and IncludeOptional are followed (wildcards, directories;
 * relative paths against ServerRoot when it is set, else against the
 * directory of the including file), backslash continuation lines are
 * joined and comment lines skipped, as httpd does. <IfModule> and
 * <IfDefine> are evaluated as httpd would at that line: the modules of the
 * LoadModule lines read so far (and httpd's usual built-in ones, and this
 * module), the names of Define lines and of the defines given; <IfFile>
 * tests the file. Every section skipped is listed in skipped. <IfVersion>,
 * <IfDirective> and <IfSection> are not evaluated: their contents are read
 * (and listed in skipped too, as "not evaluated").
 *
 * For ordsjwt-check --location: every <Location>, <LocationMatch> and
 * <Location ~> section with the directives in it (their nesting kept:
 * <RequireAll>, <Limit>, <If> ...), the addresses and names of every
 * <VirtualHost>, Listen, and where other sections (<Directory>, <Files>,
 * <Proxy>, <If> ...) hold Require lines, which the tool does not read.
 */
#ifndef OJW_TOOL_CONF_H
#define OJW_TOOL_CONF_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "settings.h"
#include "privilege.h"

/* One OrdsJwtProfile line. */
typedef struct {
    const char *name;
    const char *args;           /* "NAME key=value ...", as httpd passes them */
    const char *file;
    int line;
    int server;                 /* 0: main server, n: the n-th <VirtualHost> */
    int seq;                    /* its place among all lines read */
} ojw_conf_profile_t;

/* Where an OrdsJwtPrivilege line is, and what it defines. */
typedef struct {
    const ojw_privilege_t *pv;
    const char *file;
    int line;
    int server;
    int seq;
} ojw_conf_privilege_t;

/* A directive in a <Location> section, or a section nested in one. */
typedef struct ojw_conf_dir ojw_conf_dir_t;
struct ojw_conf_dir {
    const char *name;           /* "Require", "<RequireAll", ... as written */
    const char *args;           /* its arguments (a section's without ">") */
    const char *file;
    int line;
    int seq;
    ojw_conf_dir_t *first;      /* a nested section's directives */
    ojw_conf_dir_t *next;
    ojw_conf_dir_t *parent;     /* NULL: directly in the <Location> */
};

/* A <Location>, <LocationMatch> or <Location ~> section. */
typedef struct {
    const char *path;           /* its argument, unquoted */
    int regex;                  /* <LocationMatch>, <Location ~> */
    int server;
    const char *file;
    int line;
    ojw_conf_dir_t *first;      /* its directives, in order */
} ojw_conf_location_t;

/* What a server is besides its settings: how requests reach it. */
typedef struct {
    apr_array_header_t *addrs;  /* const char *: <VirtualHost> addresses */
    const char *name;           /* ServerName, or NULL */
    apr_array_header_t *aliases;    /* const char *: ServerAlias words */
    const char *dpop_base_url;  /* OrdsJwtDpopBaseUrl, or NULL */
    apr_array_header_t *other_authz;    /* const char *: "FILE:LINE <Dir..."
                                         * sections with Require lines */
    const char *file;           /* where <VirtualHost> is (NULL: main) */
    int line;
} ojw_conf_host_t;

typedef struct {
    apr_array_header_t *profiles;   /* ojw_conf_profile_t, in file order */
    apr_array_header_t *privileges; /* ojw_conf_privilege_t */
    apr_array_header_t *skipped;    /* const char *: "FILE:LINE: <If..>: why" */
    apr_array_header_t *servers;    /* ojw_settings_t, [0]: main server */
    apr_array_header_t *hosts;      /* ojw_conf_host_t, as servers */
    apr_array_header_t *locations;  /* ojw_conf_location_t, in file order */
    apr_array_header_t *listens;    /* const char *: Listen arguments */
    const char *ca_file;            /* resolved path, or NULL */
    const char *nonce_key_file;     /* OrdsJwtDpopNonceKeyFile, or NULL */
    int nfiles;                     /* files read */
} ojw_conf_t;

/* Reads path and what it includes; on failure returns NULL with *error
 * naming the file, the line and what is wrong. */
ojw_conf_t *ojw_conf_read(const char *path, apr_pool_t *pool,
                          const char **error);

/* As ojw_conf_read, with the names of defines (const char *, as httpd's
 * -D; may be NULL) for <IfDefine>. */
ojw_conf_t *ojw_conf_read_defined(const char *path,
                                  const apr_array_header_t *defines,
                                  apr_pool_t *pool, const char **error);

/* The OrdsJwtPrivilege name as a server sees it: its own, else the main
 * server's; NULL when none. */
const ojw_conf_privilege_t *ojw_conf_privilege(const ojw_conf_t *conf,
                                               const char *name, int server);

/* The definitions of the profile name, in file order (maybe none). */
apr_array_header_t *ojw_conf_find(const ojw_conf_t *conf, const char *name,
                                  apr_pool_t *pool);

/* The effective settings of a server, as the module merges them (a
 * virtual host inherits the main server's values unless it sets its own). */
ojw_settings_t ojw_conf_defaults(const ojw_conf_t *conf, int server);

#endif
