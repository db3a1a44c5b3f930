/* SPDX-License-Identifier: Apache-2.0 */
/* ordsjwt-check --location: the sections httpd merges for a path
 * (tools/location.c) and the answer httpd gives (tools/answer.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "conf.h"
#include "location.h"
#include "answer.h"

static const char *dir;

static apr_status_t remove_dir(void *d)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)d);
    return system(cmd) == 0 ? APR_SUCCESS : APR_EGENERAL;
}

static void setup(void)
{
    char *d;

    pool_setup();
    d = apr_pstrdup(test_pool, "/tmp/ojw-location-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    dir = d;
    apr_pool_cleanup_register(test_pool, d, remove_dir,
                              apr_pool_cleanup_null);
}

#define PROFILE "OrdsJwtProfile p issuer=https://i/ audience=a " \
                "jwk_url=https://x/ role_claim_name=/groups\n"

static const ojw_conf_t *conf_of(const char *text)
{
    const char *path = apr_pstrcat(test_pool, dir, "/httpd.conf", NULL);
    const char *err = NULL;
    FILE *f = fopen(path, "w");
    const ojw_conf_t *conf;

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    conf = ojw_conf_read(path, test_pool, &err);
    ck_assert_msg(conf != NULL, "%s", err);
    return conf;
}

/* The merged sections for uri in server (0: main); error: expected. */
static ojw_location_t *merge(const ojw_conf_t *conf, int server,
                             const char *uri, const char *error)
{
    const char *err = NULL;
    ojw_location_t *loc = ojw_location_merge(conf, server, uri, test_pool,
                                             &err);

    if (error) {
        ck_assert_ptr_null(loc);
        ck_assert_msg(err && strstr(err, error), "%s", err ? err : "(none)");
        return NULL;
    }
    ck_assert_msg(loc != NULL, "%s", err);
    return loc;
}

START_TEST(uri_as_httpd_walks_it)
{
    const char *err = NULL;

    ck_assert_str_eq(ojw_location_uri("/a/%62c/./d/../e?x=1#f", test_pool,
                                      &err), "/a/bc/e");
    ck_assert_str_eq(ojw_location_uri("/a/..", test_pool, &err), "/");
    ck_assert_str_eq(ojw_location_uri("/a//b", test_pool, &err), "/a//b");
    ck_assert_ptr_null(ojw_location_uri("a/b", test_pool, &err));
    ck_assert_ptr_null(ojw_location_uri("/a%2Fb", test_pool, &err));
    ck_assert_ptr_null(ojw_location_uri("/a%zz", test_pool, &err));
    ck_assert_ptr_null(ojw_location_uri("/a%4", test_pool, &err));
}
END_TEST

START_TEST(virtual_host_as_httpd_picks_it)
{
    const ojw_conf_t *conf = conf_of(
        "Listen 80\nListen 8443\n"
        "<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n"
        "<VirtualHost *:80>\nServerName b.test\nServerAlias *.b.test\n"
        "</VirtualHost>\n"
        "<VirtualHost 127.0.0.1:8443>\nServerName c.test\n</VirtualHost>\n");
    const char *label;

    ck_assert_int_eq(ojw_location_server(conf, NULL, test_pool, &label), 1);
    ck_assert_int_eq(ojw_location_server(conf, "b.test:80", test_pool,
                                         &label), 2);
    ck_assert_ptr_nonnull(strstr(label, "ServerName b.test"));
    ck_assert_int_eq(ojw_location_server(conf, "x.b.test", test_pool,
                                         &label), 2);
    ck_assert_int_eq(ojw_location_server(conf, "nobody:80", test_pool,
                                         &label), 1);
    ck_assert_int_eq(ojw_location_server(conf, "c.test:8443", test_pool,
                                         &label), 3);
    ck_assert_int_eq(ojw_location_server(conf, "a.test:9999", test_pool,
                                         &label), 0);
    ck_assert_str_eq(label, "the main server");
}
END_TEST

START_TEST(sections_in_httpds_order)
{
    const ojw_conf_t *conf = conf_of(
        PROFILE
        "<Location /a>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "Require ords-scope s\n</Location>\n"
        "<LocationMatch \"^/a/[0-9]+$\">\nRequire ords-role r\n"
        "</LocationMatch>\n"
        "<Location /a/*/x>\nAuthzSendForbiddenOnFailure Off\n</Location>\n"
        "<VirtualHost *:80>\n<Location />\nAuthName V\n</Location>\n"
        "</VirtualHost>\n");
    ojw_location_t *loc;

    loc = merge(conf, 0, "/a", NULL);
    ck_assert_int_eq(loc->sections->nelts, 1);
    ck_assert_str_eq(loc->auth_type, "ords-jwt");
    ck_assert_int_eq(loc->forbidden_on_fail, 1);    /* the profile's doing */
    ck_assert_ptr_nonnull(loc->authz->first->rl);
    ck_assert_int_eq(merge(conf, 0, "/ab", NULL)->sections->nelts, 0);
    ck_assert_int_eq(merge(conf, 0, "//a//b", NULL)->sections->nelts, 1);
    loc = merge(conf, 0, "/a/12", NULL);            /* the regex replaces */
    ck_assert_int_eq(loc->sections->nelts, 2);
    ck_assert_int_eq(loc->authz->first->rl->kind, OJW_REQUIRE_ROLE);
    ck_assert_int_eq(merge(conf, 0, "/a/12/", NULL)->sections->nelts, 1);
    loc = merge(conf, 0, "/a/b/x", NULL);
    ck_assert_int_eq(loc->forbidden_on_fail, 0);
    loc = merge(conf, 1, "/a", NULL);               /* main's, then its own */
    ck_assert_int_eq(loc->sections->nelts, 2);
    ck_assert_str_eq(loc->auth_name, "V");
}
END_TEST

START_TEST(authz_as_mod_authz_core_builds_it)
{
    const ojw_conf_t *conf = conf_of(
        PROFILE "OrdsJwtPrivilege v role=r\n"
        "<Location /x/>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "<RequireAll>\nRequire valid-user\n<RequireNone>\n"
        "Require ords-role b\nRequire ords-scope g\n</RequireNone>\n"
        "</RequireAll>\n</Location>\n"
        "<Location /x/and/>\nAuthMerging And\nRequire ords-privilege v\n"
        "</Location>\n"
        "<Location /bad/>\nRequire not ords-role b\n</Location>\n"
        "<Location /neg/>\n<RequireAll>\nRequire not ords-role b\n"
        "</RequireAll>\n</Location>\n"
        "<Location /early/>\nRequire ords-privilege w\n</Location>\n"
        "OrdsJwtPrivilege w\n"
        "<Location /basic/>\nAuthType Basic\nRequire ords-scope s\n"
        "</Location>\n");
    const ojw_authz_node_t *n;
    ojw_location_t *loc = merge(conf, 0, "/x/", NULL);

    /* <RequireNone> in <RequireAll>: its lines, negated, in the AND */
    n = loc->authz->first;
    ck_assert_int_eq(n->op, OJW_AUTHZ_AND);
    ck_assert_str_eq(n->first->provider, "valid-user");
    ck_assert(n->first->next->negate && n->first->next->ords_negated);
    ck_assert(n->first->next->next->negate);
    loc = merge(conf, 0, "/x/and/", NULL);
    ck_assert(loc->authz->merged && loc->authz->op == OJW_AUTHZ_AND);
    merge(conf, 0, "/bad/", "negative Require directive has no effect in "
          "<RequireAny> directive");
    merge(conf, 0, "/neg/", "contains only negative authorization");
    merge(conf, 0, "/early/", "no OrdsJwtPrivilege named \"w\" is defined "
          "before this line");
    merge(conf, 0, "/basic/", "this section has AuthType Basic");
}
END_TEST

/* A token accepted with these claims, for the answers. */
static void accepted(ojw_check_t *c, const ojw_profile_t *p,
                     const char *claims)
{
    memset(c, 0, sizeof(*c));
    c->claims = json_loads(claims, 0, NULL);
    ck_assert_ptr_nonnull(c->claims);
    c->profile = p;
    c->subject = "alice";
}

static ojw_answer_t answer(const ojw_location_t *loc, const ojw_check_t *c,
                           int known, int tokens)
{
    apr_array_header_t *lines = apr_array_make(test_pool, 4,
                                               sizeof(ojw_line_t));
    ojw_request_t req = { loc, ojw_method_bit("GET"), tokens, 0, c };
    const char *why = NULL;
    ojw_answer_t a;

    ck_assert_int_eq(ojw_answer(&req, &a, lines, &why, test_pool), known);
    return a;
}

START_TEST(answers_as_httpd)
{
    const ojw_conf_t *conf = conf_of(
        PROFILE
        "<Location /all/>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "<RequireAll>\nRequire ords-role admin\nRequire ords-scope s\n"
        "</RequireAll>\n</Location>\n"
        "<Location /off/>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "AuthzSendForbiddenOnFailure Off\nRequire ords-scope s\n</Location>\n"
        "<Location /open/>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "OrdsJwtAnonymous On\nRequire all granted\n</Location>\n"
        "<Location /ip/>\nAuthType ords-jwt\nAuthOrdsJwtProfile p\n"
        "Require ip 10.0.0.0/8\nRequire ords-scope s\n</Location>\n");
    ojw_profile_t p = { 0 };
    ojw_check_t c;
    ojw_answer_t a;

    p.role_claim_name = "/groups";
    accepted(&c, &p, "{\"scope\":\"x\",\"groups\":[\"u\"]}");
    a = answer(merge(conf, 0, "/all/", NULL), &c, 1, 1);
    ck_assert_int_eq(a.status, 403);                /* the role line first */
    ck_assert_str_eq(a.outcome, "role_missing");
    a = answer(merge(conf, 0, "/off/", NULL), &c, 1, 1);
    ck_assert_int_eq(a.status, 401);
    ck_assert_str_eq(a.outcome, "scope_missing");
    ck_assert_str_eq(a.scopes, "s");
    a = answer(merge(conf, 0, "/open/", NULL), &c, 1, 0);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.outcome, "anonymous");
    a = answer(merge(conf, 0, "/open/", NULL), &c, 1, 1);
    ck_assert_str_eq(a.outcome, "accepted");        /* a token: checked */
    a = answer(merge(conf, 0, "/all/", NULL), &c, 1, 0);
    ck_assert_int_eq(a.status, 401);
    ck_assert_str_eq(a.outcome, "token_missing");
    answer(merge(conf, 0, "/ip/", NULL), &c, 0, 1); /* ip decides */
    c.err.reason = OJW_ERR_EXPIRED;
    a = answer(merge(conf, 0, "/all/", NULL), &c, 1, 1);
    ck_assert_int_eq(a.status, 401);
    ck_assert_str_eq(a.outcome, "expired");
    json_decref((json_t *)c.claims);
}
END_TEST

Suite *location_suite(void)
{
    Suite *s = suite_create("location");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, pool_teardown);
    tcase_add_test(tc, uri_as_httpd_walks_it);
    tcase_add_test(tc, virtual_host_as_httpd_picks_it);
    tcase_add_test(tc, sections_in_httpds_order);
    tcase_add_test(tc, authz_as_mod_authz_core_builds_it);
    tcase_add_test(tc, answers_as_httpd);
    suite_add_tcase(s, tc);
    return s;
}
