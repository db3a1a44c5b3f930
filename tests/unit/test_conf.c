/* SPDX-License-Identifier: Apache-2.0 */
/* ordsjwt-check's reader of httpd configurations (tools/conf.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <apr_strings.h>
#include "unit.h"
#include "conf.h"

/* A scratch directory per test, removed by the pool. */
static const char *scratch;

static apr_status_t remove_scratch(void *dir)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)dir);
    return system(cmd) == 0 ? APR_SUCCESS : APR_EGENERAL;
}

static void scratch_setup(void)
{
    char *dir;

    pool_setup();
    dir = apr_pstrdup(test_pool, "/tmp/ojw-conf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    scratch = dir;
    apr_pool_cleanup_register(test_pool, dir, remove_scratch,
                              apr_pool_cleanup_null);
}

/* Writes text to scratch/name (directories made); returns the path. */
static const char *write_file(const char *name, const char *text)
{
    const char *path = apr_pstrcat(test_pool, scratch, "/", name, NULL);
    char *dir = apr_pstrdup(test_pool, path);
    FILE *f;

    *strrchr(dir, '/') = '\0';
    ck_assert_int_eq(system(apr_pstrcat(test_pool, "mkdir -p '", dir, "'",
                                        NULL)), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const ojw_conf_profile_t *profile(const ojw_conf_t *c, int i)
{
    ck_assert_int_gt(c->profiles->nelts, i);
    return &APR_ARRAY_IDX(c->profiles, i, ojw_conf_profile_t);
}

static const char *read_error(const char *path)
{
    const char *err = NULL;

    ck_assert_ptr_null(ojw_conf_read(path, test_pool, &err));
    ck_assert_ptr_nonnull(err);
    return err;
}

START_TEST(continuations_and_comments)
{
    const char *err = NULL;
    const char *path = write_file("httpd.conf",
        "# OrdsJwtProfile commented issuer=a \\\n"
        "OrdsJwtProfile still_comment issuer=b\n"
        "   # indented comment\n"
        "\n"
        "  ordsjwtprofile hr \\\n"
        "    issuer=https://i/ \\\r\n"
        "    audience=\"ords/hr/\" jwk_url=https://x/\n"
        "OrdsJwtProfile next issuer=i audience=a jwk_url=https://y/ \\ \n");
    ojw_conf_t *c = ojw_conf_read(path, test_pool, &err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->profiles->nelts, 2);
    ck_assert_str_eq(profile(c, 0)->name, "hr");
    ck_assert_str_eq(profile(c, 0)->args, "hr     issuer=https://i/     "
                     "audience=\"ords/hr/\" jwk_url=https://x/");
    ck_assert_int_eq(profile(c, 0)->line, 5);
    ck_assert_str_eq(profile(c, 0)->file, path);
    /* a backslash followed by a blank continues nothing */
    ck_assert_str_eq(profile(c, 1)->name, "next");
    ck_assert_int_eq(profile(c, 1)->line, 8);
    ck_assert_int_eq(c->nfiles, 1);
}
END_TEST

START_TEST(includes_relative_to_the_including_file)
{
    const char *err = NULL;
    ojw_conf_t *c;
    const char *path = write_file("etc/main.conf",
        "Include sites/*.conf\n"
        "IncludeOptional nothing/*.conf\n"
        "IncludeOptional missing.conf\n"
        "Include \"dir\"\n"
        "OrdsJwtCACertificateFile certs/ca.pem\n");

    write_file("etc/sites/b.conf", "OrdsJwtProfile b x\n");
    write_file("etc/sites/a.conf", "OrdsJwtProfile a x\nInclude ../inner.conf\n");
    write_file("etc/sites/skip.txt", "OrdsJwtProfile skipped x\n");
    write_file("etc/inner.conf", "OrdsJwtProfile inner x\n");
    write_file("etc/dir/2.conf", "OrdsJwtProfile dir2 x\n");
    write_file("etc/dir/1.conf", "OrdsJwtProfile dir1 x\n");
    c = ojw_conf_read(path, test_pool, &err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->profiles->nelts, 5);
    ck_assert_str_eq(profile(c, 0)->name, "a");
    ck_assert_str_eq(profile(c, 1)->name, "inner");
    ck_assert_str_eq(profile(c, 2)->name, "b");
    ck_assert_str_eq(profile(c, 3)->name, "dir1");
    ck_assert_str_eq(profile(c, 4)->name, "dir2");
    ck_assert_str_eq(c->ca_file, apr_pstrcat(test_pool, scratch,
                                             "/etc/certs/ca.pem", NULL));
    ck_assert_int_eq(c->nfiles, 6);
    ck_assert_int_eq(ojw_conf_find(c, "dir2", test_pool)->nelts, 1);
    ck_assert_int_eq(ojw_conf_find(c, "skipped", test_pool)->nelts, 0);
}
END_TEST

START_TEST(includes_relative_to_server_root)
{
    const char *err = NULL;
    ojw_conf_t *c;
    const char *root = apr_pstrcat(test_pool, scratch, "/root", NULL);
    const char *path = write_file("etc/main.conf", apr_pstrcat(test_pool,
        "ServerRoot \"", root, "\"\n"
        "Include conf.d/*.conf\n"
        "OrdsJwtCACertificateFile ca.pem\n", NULL));

    write_file("root/conf.d/p.conf", "OrdsJwtProfile p x\n");
    c = ojw_conf_read(path, test_pool, &err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(profile(c, 0)->name, "p");
    ck_assert_str_eq(c->ca_file, apr_pstrcat(test_pool, root, "/ca.pem",
                                             NULL));
}
END_TEST

START_TEST(server_defaults_and_virtual_hosts)
{
    const char *err = NULL;
    ojw_conf_t *c;
    ojw_settings_t d;
    const char *path = write_file("httpd.conf",
        "OrdsJwtAllowedSkew 30\n"
        "<VirtualHost *:443>\n"
        "  OrdsJwtAllowedAge 600\n"
        "  OrdsJwtMaxTokenSize 4096\n"
        "  OrdsJwtProfile v x\n"
        "</VirtualHost>\n"
        "OrdsJwtProfile m x\n"
        "OrdsJwtAllowedAge \"60\"\n"
        "OrdsJwtJwksFetchTimeout 9\n");

    c = ojw_conf_read(path, test_pool, &err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(profile(c, 0)->server, 1);
    ck_assert_int_eq(profile(c, 1)->server, 0);
    d = ojw_conf_defaults(c, 1);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_SKEW), 30);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_AGE), 600);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_TOKEN_MAX), 4096);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_FETCH_TIMEOUT), 9);
    d = ojw_conf_defaults(c, 0);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_SKEW), 30);
    /* the last line wins, as in httpd */
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_AGE), 60);
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_TOKEN_MAX),
                     OJW_TOKEN_MAX_DEFAULT);
    ck_assert(!(d.set & (1u << OJW_SET_TOKEN_MAX)));
    ck_assert_int_eq(ojw_setting(&d, OJW_SET_FETCH_TIMEOUT), 9);
}
END_TEST

START_TEST(errors_name_file_and_line)
{
    const char *path, *err;

    path = write_file("a.conf", "# x\nInclude nowhere.conf\n");
    err = read_error(path);
    ck_assert_ptr_nonnull(strstr(err, apr_pstrcat(test_pool, path,
                                                  ":2: Include: cannot open",
                                                  NULL)));
    path = write_file("b.conf", "Include none/*.conf\n");
    ck_assert_ptr_nonnull(strstr(read_error(path), "no file matches"));
    path = write_file("c.conf", "OrdsJwtAllowedSkew 61\n");
    ck_assert_ptr_nonnull(strstr(read_error(path), ":1: OrdsJwtAllowedSkew: "
                                 "\"61\" is not a number from -86400 to 60"));
    path = write_file("d.conf", "OrdsJwtMaxTokenSize big\n");
    ck_assert_ptr_nonnull(strstr(read_error(path), "OrdsJwtMaxTokenSize"));
    path = write_file("loop.conf", "Include loop.conf\n");
    ck_assert_ptr_nonnull(strstr(read_error(path), "nested levels"));
    err = read_error(apr_pstrcat(test_pool, scratch, "/missing.conf", NULL));
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    ck_assert_ptr_nonnull(strstr(read_error(scratch), "not a file"));
}
END_TEST

static int has_profile(const ojw_conf_t *conf, const char *name)
{
    return ojw_conf_find(conf, name, test_pool)->nelts > 0;
}

START_TEST(conditional_sections)
{
    const char *path = write_file("if.conf",
        "LoadModule foo_module modules/mod_foo.so\n"
        "<IfModule mod_foo.c>\nOrdsJwtProfile a\n</IfModule>\n"
        "<IfModule !foo_module>\n"
        "  <IfModule mod_foo.c>\nOrdsJwtProfile b\n  </IfModule>\n"
        "  LoadModule bar_module mod_bar.so\n"
        "  Define INSIDE\n"
        "</IfModule>\n"
        "<IfModule bar_module>\nOrdsJwtProfile c\n</IfModule>\n"
        "<IfDefine INSIDE>\nOrdsJwtProfile d\n</IfDefine>\n"
        "<IfDefine CLI>\nOrdsJwtProfile e\n</IfDefine>\n"
        "<IfModule core.c>\n<IfVersion >= 2.4>\nOrdsJwtProfile f\n"
        "</IfVersion>\n</IfModule>\n"
        "Define X\nUnDefine X\n<IfDefine !X>\nOrdsJwtProfile g\n</IfDefine>\n");
    apr_array_header_t *defines = apr_array_make(test_pool, 1,
                                                 sizeof(const char *));
    const char *err = NULL;
    ojw_conf_t *conf = ojw_conf_read(path, test_pool, &err);

    ck_assert_ptr_nonnull(conf);
    ck_assert(has_profile(conf, "a") && !has_profile(conf, "b"));
    ck_assert(!has_profile(conf, "c") && !has_profile(conf, "d"));
    ck_assert(!has_profile(conf, "e") && has_profile(conf, "f"));
    ck_assert(has_profile(conf, "g"));
    /* the skipped: !foo_module, bar_module, INSIDE, CLI; IfVersion read */
    ck_assert_int_eq(conf->skipped->nelts, 5);
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(conf->skipped, 0, const char *),
                                 "if.conf:5: <IfModule !foo_module>: false "
                                 "here, skipped"));
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(conf->skipped, 4, const char *),
                                 "<IfVersion >= 2.4>: not evaluated"));
    APR_ARRAY_PUSH(defines, const char *) = "CLI";
    conf = ojw_conf_read_defined(path, defines, test_pool, &err);
    ck_assert(conf && has_profile(conf, "e"));
}
END_TEST

START_TEST(privileges_per_server)
{
    const char *path = write_file("pv.conf",
        "OrdsJwtPrivilege p role=r1 \"role=r 2\"\nOrdsJwtPrivilege q\n"
        "<VirtualHost *:80>\nOrdsJwtPrivilege p role=v\n</VirtualHost>\n");
    const char *err = NULL;
    ojw_conf_t *conf = ojw_conf_read(path, test_pool, &err);
    const ojw_conf_privilege_t *pv;

    ck_assert_ptr_nonnull(conf);
    pv = ojw_conf_privilege(conf, "p", 0);
    ck_assert(pv && pv->pv->nroles == 2);
    ck_assert_str_eq(pv->pv->roles[1], "r 2");
    pv = ojw_conf_privilege(conf, "p", 1);
    ck_assert(pv && pv->pv->nroles == 1 && pv->server == 1);
    pv = ojw_conf_privilege(conf, "q", 1);
    ck_assert(pv && pv->server == 0 && pv->pv->nroles == 0);
    ck_assert_ptr_null(ojw_conf_privilege(conf, "none", 0));
    path = write_file("dup.conf", "OrdsJwtPrivilege p\nOrdsJwtPrivilege p\n");
    ck_assert_ptr_null(ojw_conf_read(path, test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "dup.conf:2: OrdsJwtPrivilege p: a "
                                      "privilege of that name is already"));
    path = write_file("bad.conf", "OrdsJwtPrivilege p group=x\n");
    ck_assert_ptr_null(ojw_conf_read(path, test_pool, &err));
    ck_assert_ptr_nonnull(strstr(err, "bad.conf:1: OrdsJwtPrivilege p: "
                                      "\"group=x\" is not role=NAME"));
}
END_TEST

Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, scratch_setup, pool_teardown);
    tcase_add_test(tc, continuations_and_comments);
    tcase_add_test(tc, includes_relative_to_the_including_file);
    tcase_add_test(tc, includes_relative_to_server_root);
    tcase_add_test(tc, server_defaults_and_virtual_hosts);
    tcase_add_test(tc, errors_name_file_and_line);
    tcase_add_test(tc, conditional_sections);
    tcase_add_test(tc, privileges_per_server);
    suite_add_tcase(s, tc);
    return s;
}
