/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issuer discovery: the discovery document parser (src/discovery.c) and
 * the discovery slot's lifecycle in src/keys.c with an injected fetcher
 * that serves a discovery document and JWKS by URL.
 */
#include <string.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include "unit.h"
#include "discovery.h"
#include "keys.h"
#include "profile.h"

#define ISS     "https://issuer.test/"
#define DISC    "https://issuer.test/.well-known/openid-configuration"
#define JWKS1   "https://issuer.test/jwks/1"
#define JWKS2   "https://keys.issuer.test/jwks/2"

static char err[1024];

static apr_status_t parse(ojw_discovery_t *d, const char *doc)
{
    return ojw_discovery_parse(d, doc, strlen(doc), OJW_URL_MAX, test_pool,
                               err, sizeof(err));
}

START_TEST(parses_issuer_and_jwks_uri)
{
    ojw_discovery_t d;

    ck_assert_int_eq(parse(&d, "{\"issuer\":\"" ISS "\",\"jwks_uri\":\""
                           JWKS1 "\",\"scopes_supported\":[\"openid\"]}"),
                     APR_SUCCESS);
    ck_assert_str_eq(d.issuer, ISS);
    ck_assert_str_eq(d.jwks_uri, JWKS1);
}
END_TEST

START_TEST(refuses_hostile_documents)
{
    static const char *const bad[] = {
        "", "[]", "\"x\"", "null", "{", "{\"issuer\":\"" ISS "\"}",
        "{\"jwks_uri\":\"" JWKS1 "\"}",
        "{\"issuer\":1,\"jwks_uri\":\"" JWKS1 "\"}",
        "{\"issuer\":\"\",\"jwks_uri\":\"" JWKS1 "\"}",
        "{\"issuer\":\"a\\u0000b\",\"jwks_uri\":\"" JWKS1 "\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":[\"" JWKS1 "\"]}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://issuer.test/jwks\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"HTTPS://issuer.test/jwks\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https:///jwks\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"file:///etc/passwd\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://a b/\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://a/\\r\\nX: y\"}",
        "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://a/\\u0000\"}",
        "{\"issuer\":\"" ISS "\",\"issuer\":\"https://evil/\","
        "\"jwks_uri\":\"" JWKS1 "\"}",
        NULL
    };
    ojw_discovery_t d;
    int i;

    for (i = 0; bad[i]; i++) {
        err[0] = '\0';
        ck_assert_msg(parse(&d, bad[i]) != APR_SUCCESS, "accepted %s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
        ck_assert_ptr_null(d.jwks_uri);
    }
}
END_TEST

START_TEST(refuses_long_and_oversized)
{
    ojw_discovery_t d;
    char *uri = apr_palloc(test_pool, OJW_URL_MAX + 1);
    char *big = apr_palloc(test_pool, OJW_DISCOVERY_MAX + 2);

    memset(uri, 'a', OJW_URL_MAX);
    memcpy(uri, "https://", 8);
    uri[OJW_URL_MAX] = '\0';
    ck_assert_int_ne(parse(&d, apr_pstrcat(test_pool, "{\"issuer\":\"" ISS
                                           "\",\"jwks_uri\":\"", uri, "\"}",
                                           NULL)), APR_SUCCESS);
    memset(big, ' ', OJW_DISCOVERY_MAX + 1);
    big[0] = '{';
    big[OJW_DISCOVERY_MAX] = '}';
    big[OJW_DISCOVERY_MAX + 1] = '\0';
    ck_assert_int_ne(parse(&d, big), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "larger"));
}
END_TEST

START_TEST(issuer_must_match_exactly)
{
    ojw_discovery_t d;
    const char *doc = "{\"issuer\":\"https://issuer.test\",\"jwks_uri\":\""
                      JWKS1 "\"}";

    ck_assert_int_eq(ojw_discovery_check(&d, doc, strlen(doc), ISS,
                                         OJW_URL_MAX, test_pool, err,
                                         sizeof(err)), APR_EMISMATCH);
    ck_assert_ptr_nonnull(strstr(err, "\"https://issuer.test\""));
    ck_assert_ptr_nonnull(strstr(err, "\"" ISS "\""));
    ck_assert_int_eq(ojw_discovery_check(&d, doc, strlen(doc),
                                         "https://issuer.test", OJW_URL_MAX,
                                         test_pool, err, sizeof(err)),
                     APR_SUCCESS);
}
END_TEST

START_TEST(fetch_causes_and_hints)
{
    ojw_fetch_result_t res;
    const char *hint, *cause;

    memset(&res, 0, sizeof(res));
    res.http_status = 401;
    apr_cpystrn(res.error, "HTTP status 401", sizeof(res.error));
    cause = ojw_discovery_fetch_cause("https://idcs-1.identity.oraclecloud.com"
                                      "/.well-known/openid-configuration",
                                      ISS, &res, &hint, test_pool);
    ck_assert_str_eq(cause, "HTTP status 401");
    ck_assert_ptr_nonnull(strstr(hint, "Configure client access"));
    res.http_status = 200;
    res.content_type = "text/html; charset=utf-8";
    cause = ojw_discovery_fetch_cause(DISC, ISS, &res, &hint, test_pool);
    ck_assert_ptr_nonnull(strstr(cause, "discovery document served as "
                                 "text/html"));
    ck_assert_ptr_nonnull(strstr(hint, "HTML page"));
    res.http_status = 404;
    cause = ojw_discovery_fetch_cause(DISC, ISS, &res, &hint, test_pool);
    ck_assert_ptr_nonnull(strstr(hint, "openid-configuration"));
    res.http_status = 403;      /* OCI's issuer, any host */
    cause = ojw_discovery_fetch_cause(DISC, "https://identity.oraclecloud.com/",
                                      &res, &hint, test_pool);
    ck_assert_ptr_nonnull(strstr(hint, "Configure client access"));
    cause = ojw_discovery_fetch_cause(DISC, ISS, &res, &hint, test_pool);
    ck_assert_ptr_null(strstr(hint, "Configure client access"));
}
END_TEST

START_TEST(profile_takes_discovery_url_alone)
{
    const char *error = NULL;
    ojw_profile_t *p;

    p = ojw_profile_parse("hr issuer=" ISS " audience=a discovery_url=" DISC,
                          test_pool, &error);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->discovery_url, DISC);
    ck_assert_ptr_null(p->jwk_url);
    ck_assert_str_eq(ojw_profile_key_source(p, test_pool),
                     "discovery_url " DISC);
    ck_assert_ptr_null(ojw_profile_parse("hr issuer=" ISS " audience=a "
                                         "discovery_url=" DISC " jwk_url="
                                         JWKS1, test_pool, &error));
    ck_assert_ptr_nonnull(strstr(error, "discovery_url and jwk_url exclude"));
    ck_assert_ptr_null(ojw_profile_parse("hr issuer=" ISS " audience=a "
                                         "discovery_url=" DISC " pem_file="
                                         "/k.pem", test_pool, &error));
    ck_assert_ptr_nonnull(strstr(error, "discovery_url and pem_file exclude"));
    ck_assert_ptr_null(ojw_profile_parse("hr issuer=" ISS " audience=a "
                                         "discovery_url=http://x/", test_pool,
                                         &error));
    ck_assert_ptr_nonnull(strstr(error, "must start with https://"));
    ck_assert_ptr_null(ojw_profile_parse("hr issuer=" ISS " audience=a "
                                         "discovery_ur=" DISC, test_pool,
                                         &error));
    ck_assert_ptr_nonnull(strstr(error, "did you mean discovery_url"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* the lifecycle of a discovery slot                                   */

typedef struct {
    apr_time_t now;
    const char *discovery;          /* NULL: the discovery URL answers 500 */
    const char *jwks1, *jwks2;      /* NULL: 404 */
    int fetches, discovery_fetches;
    const char *last_url;
    const char *last_if_none_match;
    int discovered, failed, mismatched, jwks_failed;
} dworld_t;

static dworld_t dw;

static apr_status_t serve(ojw_fetch_result_t *res, const char *body,
                          long status, apr_pool_t *pool)
{
    res->http_status = status;
    if (body == NULL) {
        apr_cpystrn(res->error, "HTTP status 5xx/404", sizeof(res->error));
        return APR_EGENERAL;
    }
    res->content_type = "application/json";
    res->body = apr_pstrdup(pool, body);
    res->len = strlen(body);
    res->etag = "\"e1\"";
    return APR_SUCCESS;
}

static apr_status_t dfetch(void *baton, const char *url,
                           const ojw_fetch_opts_t *opts,
                           ojw_fetch_result_t *res, apr_pool_t *pool)
{
    dworld_t *w = baton;

    w->fetches++;
    w->last_url = apr_pstrdup(pool, url);
    w->last_if_none_match = opts->if_none_match;
    memset(res, 0, sizeof(*res));
    res->max_age = -1;
    w->now += apr_time_from_msec(10);
    if (strcmp(url, DISC) == 0) {
        w->discovery_fetches++;
        return serve(res, w->discovery, w->discovery ? 200 : 500, pool);
    }
    if (strcmp(url, JWKS1) == 0) {
        return serve(res, w->jwks1, w->jwks1 ? 200 : 404, pool);
    }
    return serve(res, strcmp(url, JWKS2) == 0 ? w->jwks2 : NULL, 404, pool);
}

static apr_time_t dnow(void *baton)
{
    return ((dworld_t *)baton)->now;
}

static void dsleep(void *baton, apr_interval_time_t t)
{
    ((dworld_t *)baton)->now += t;
}

static void dreport(void *baton, void *ctx, const ojw_keys_event_t *ev)
{
    dworld_t *w = baton;

    (void)ctx;
    if (ev->type == OJW_KEYS_DISCOVERED) {
        w->discovered++;
    }
    else if (ev->type == OJW_KEYS_DISCOVERY_FAILED) {
        w->failed++;
        w->mismatched += ev->mismatch;
    }
    else if (ev->type == OJW_KEYS_FETCH_FAILED) {
        w->jwks_failed++;
    }
}

static const ojw_refresh_policy_t dpolicy = { 300, 10, 6, 3600, 0 };
static const char *const durls[] = { DISC };
static ojw_cache_t *dcache;
static cjose_jwk_t *dkey_a, *dkey_b;

static ojw_keys_t *dprocess(void)
{
    ojw_keys_env_t env;
    ojw_fetch_opts_t fetch = { NULL, 1000, OJW_JWKS_MAX, NULL };
    ojw_keys_t *k = NULL;

    memset(&env, 0, sizeof(env));
    env.fetch = dfetch;
    env.now = dnow;
    env.sleep = dsleep;
    env.report = dreport;
    env.baton = &dw;
    ck_assert_int_eq(ojw_keys_create(&k, dcache, durls, 1, &dpolicy, &fetch,
                                     &env, test_pool), APR_SUCCESS);
    return k;
}

static const char *doc_of(const char *issuer, const char *jwks_uri)
{
    return apr_psprintf(test_pool, "{\"issuer\":\"%s\",\"jwks_uri\":\"%s\"}",
                        issuer, jwks_uri);
}

static const char *jwks_with(cjose_jwk_t *key, const char *kid)
{
    return test_jwks(test_pool, 1, &key, &kid);
}

static void dsetup(void)
{
    apr_size_t size = ojw_cache_size(1, OJW_JWKS_MAX);
    apr_global_mutex_t *mutex;
    apr_shm_t *shm;

    pool_setup();
    memset(&dw, 0, sizeof(dw));
    dw.now = apr_time_from_sec(1000000);
    ck_assert_int_eq(apr_shm_create(&shm, size, NULL, test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT,
                                             test_pool), APR_SUCCESS);
    dcache = ojw_cache_attach(apr_shm_baseaddr_get(shm), size, 1,
                              OJW_JWKS_MAX, mutex, 1, test_pool);
    ck_assert_int_eq(ojw_cache_bind(dcache, 0, DISC, ISS), APR_SUCCESS);
    dkey_a = test_rsa_key();
    dkey_b = test_ec_key(CJOSE_JWK_EC_P_256);
}

static const char *source_of(long long *at)
{
    char *buf = apr_palloc(test_pool, OJW_URL_MAX);

    ck_assert_int_eq(ojw_cache_source(dcache, 0, buf, OJW_URL_MAX, at),
                     APR_SUCCESS);
    return buf;
}

START_TEST(discovery_then_jwks_one_fetch_for_all)
{
    ojw_keys_t *p1 = dprocess(), *p2 = dprocess();
    ojw_keys_use_t u1, u2;
    long long at = 0;

    dw.discovery = doc_of(ISS, JWKS1);
    dw.jwks1 = jwks_with(dkey_a, "a");
    ojw_keys_get(&u1, p1, 0, 0, test_pool, NULL);
    ojw_keys_get(&u2, p2, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u1.ks);
    ck_assert_ptr_nonnull(u2.ks);
    ck_assert_int_eq(dw.fetches, 2);            /* discovery, then JWKS */
    ck_assert_int_eq(dw.discovered, 1);
    ck_assert_str_eq(source_of(&at), JWKS1);
    ck_assert(at > 0);
    ck_assert_int_eq(ojw_cache_find_bound(dcache, DISC, ISS), 0);
    ck_assert_int_eq(ojw_cache_find(dcache, DISC), -1);  /* no JWKS slot */
}
END_TEST

START_TEST(issuer_mismatch_gives_no_keys)
{
    ojw_keys_t *p1 = dprocess();
    ojw_keys_use_t u;
    long long at = 0;

    dw.discovery = doc_of("https://other.test/", JWKS1);
    dw.jwks1 = jwks_with(dkey_a, "a");
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_null(u.ks);
    ck_assert(u.retry_after >= 1);
    ck_assert_int_eq(dw.mismatched, 1);
    ck_assert_int_eq(dw.fetches, 1);            /* its jwks_uri not asked */
    ck_assert_str_eq(source_of(&at), "");
}
END_TEST

START_TEST(http_jwks_uri_is_refused)
{
    ojw_keys_t *p1 = dprocess();
    ojw_keys_use_t u;

    dw.discovery = doc_of(ISS, "http://issuer.test/jwks/1");
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_null(u.ks);
    ck_assert_int_eq(dw.failed, 1);
    ck_assert_int_eq(dw.mismatched, 0);
    ck_assert_int_eq(dw.fetches, 1);
}
END_TEST

/* The discovery URL fails after keys were had: the old keys stay until
 * max_stale; without keys the answer is a retry time. */
START_TEST(outage_keeps_stale_keys)
{
    ojw_keys_t *p1 = dprocess();
    ojw_keys_use_t u;

    dw.discovery = doc_of(ISS, JWKS1);
    dw.jwks1 = jwks_with(dkey_a, "a");
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u.ks);
    dw.discovery = NULL;
    dw.now += apr_time_from_sec(dpolicy.refresh_interval + 1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u.ks);                /* stale-if-error */
    ck_assert_int_eq(dw.failed, 1);
    ck_assert_uint_eq(u.generation, 1);
    dw.now += apr_time_from_sec(dpolicy.max_stale + 1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_null(u.ks);
    ck_assert(u.retry_after >= 1);
}
END_TEST

START_TEST(changed_jwks_uri_is_followed)
{
    ojw_keys_t *p1 = dprocess();
    ojw_keys_use_t u;
    long long at = 0;

    dw.discovery = doc_of(ISS, JWKS1);
    dw.jwks1 = jwks_with(dkey_a, "a");
    dw.jwks2 = jwks_with(dkey_b, "b");
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_uint_eq(u.generation, 1);
    dw.discovery = doc_of(ISS, JWKS2);
    dw.now += apr_time_from_sec(dpolicy.refresh_interval + 1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_str_eq(dw.last_url, JWKS2);
    ck_assert_ptr_null(dw.last_if_none_match);  /* ETag of another URL */
    ck_assert_uint_eq(u.generation, 2);
    ck_assert_str_eq(u.ks->keys[0].kid, "b");
    ck_assert_str_eq(source_of(&at), JWKS2);
    /* unchanged jwks_uri: the ETag is sent again */
    dw.now += apr_time_from_sec(dpolicy.refresh_interval + 1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_str_eq(dw.last_if_none_match, "\"e1\"");
    ck_assert_int_eq(dw.discovery_fetches, 3);
}
END_TEST

/* A JWKS fetch that fails after a good discovery: the keys stay, and the
 * jwks_uri on record stays that of the keys held. */
START_TEST(jwks_failure_keeps_source_of_held_keys)
{
    ojw_keys_t *p1 = dprocess();
    ojw_keys_use_t u;
    long long at = 0;

    dw.discovery = doc_of(ISS, JWKS1);
    dw.jwks1 = jwks_with(dkey_a, "a");
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    dw.discovery = doc_of(ISS, JWKS2);          /* jwks2 stays 404 */
    dw.now += apr_time_from_sec(dpolicy.refresh_interval + 1);
    ojw_keys_get(&u, p1, 0, 0, test_pool, NULL);
    ck_assert_ptr_nonnull(u.ks);
    ck_assert_int_eq(dw.jwks_failed, 1);
    ck_assert_str_eq(source_of(&at), JWKS1);
}
END_TEST

Suite *discovery_suite(void)
{
    Suite *s = suite_create("discovery");
    TCase *tp = tcase_create("parse");
    TCase *tl = tcase_create("lifecycle");

    tcase_add_checked_fixture(tp, pool_setup, pool_teardown);
    tcase_add_test(tp, parses_issuer_and_jwks_uri);
    tcase_add_test(tp, refuses_hostile_documents);
    tcase_add_test(tp, refuses_long_and_oversized);
    tcase_add_test(tp, issuer_must_match_exactly);
    tcase_add_test(tp, fetch_causes_and_hints);
    tcase_add_test(tp, profile_takes_discovery_url_alone);
    suite_add_tcase(s, tp);
    tcase_add_checked_fixture(tl, dsetup, pool_teardown);
    tcase_add_test(tl, discovery_then_jwks_one_fetch_for_all);
    tcase_add_test(tl, issuer_mismatch_gives_no_keys);
    tcase_add_test(tl, http_jwks_uri_is_refused);
    tcase_add_test(tl, outage_keeps_stale_keys);
    tcase_add_test(tl, changed_jwks_uri_is_followed);
    tcase_add_test(tl, jwks_failure_keeps_source_of_held_keys);
    suite_add_tcase(s, tl);
    return s;
}
