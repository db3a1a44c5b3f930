/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test runner and shared fixtures. */
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <cjose/cjose.h>
#include <jansson.h>
#include "unit.h"
#include "dpop.h"

apr_pool_t *test_pool;

void pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&test_pool, NULL), APR_SUCCESS);
}

void pool_teardown(void)
{
    apr_pool_destroy(test_pool);
    test_pool = NULL;
}

cjose_jwk_t *test_rsa_key(void)
{
    static cjose_jwk_t *key;
    static const uint8_t e[] = { 0x01, 0x00, 0x01 };
    cjose_err err;

    if (key == NULL) {
        key = cjose_jwk_create_RSA_random(2048, e, sizeof(e), &err);
        ck_assert_ptr_nonnull(key);
    }
    return key;
}

cjose_jwk_t *test_ec_key(cjose_jwk_ec_curve crv)
{
    static cjose_jwk_t *keys[3];
    int i = crv == CJOSE_JWK_EC_P_256 ? 0 : crv == CJOSE_JWK_EC_P_384 ? 1 : 2;
    cjose_err err;

    if (keys[i] == NULL) {
        keys[i] = cjose_jwk_create_EC_random(crv, &err);
        ck_assert_ptr_nonnull(keys[i]);
    }
    return keys[i];
}

char *test_jwks(apr_pool_t *p, int n, cjose_jwk_t **keys, const char **kids)
{
    json_t *doc = json_object(), *arr = json_array();
    cjose_err err;
    char *out, *s;
    int i;

    for (i = 0; i < n; i++) {
        char *pub = cjose_jwk_to_json(keys[i], false, &err);
        json_t *k = json_loads(pub, 0, NULL);

        ck_assert_ptr_nonnull(k);
        json_object_del(k, "kid");
        if (kids && kids[i]) {
            json_object_set_new(k, "kid", json_string(kids[i]));
        }
        json_array_append_new(arr, k);
        cjose_get_dealloc()(pub);
    }
    json_object_set_new(doc, "keys", arr);
    s = json_dumps(doc, JSON_COMPACT);
    out = apr_pstrdup(p, s);
    free(s);
    json_decref(doc);
    return out;
}

char *test_b64(apr_pool_t *p, const char *s, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    cjose_err err;
    char *copy;

    ck_assert(cjose_base64url_encode((const uint8_t *)s, len, &out, &outlen,
                                     &err));
    copy = apr_pstrmemdup(p, out, outlen);
    cjose_get_dealloc()(out);
    return copy;
}

char *test_sign(apr_pool_t *p, cjose_jwk_t *key, const char *header_json,
                const char *payload)
{
    cjose_err err;
    cjose_header_t *hdr = (cjose_header_t *)json_loads(header_json, 0, NULL);
    cjose_jws_t *jws;
    const char *compact = NULL;
    char *out;

    ck_assert_ptr_nonnull(hdr);
    jws = cjose_jws_sign(key, hdr, (const uint8_t *)payload, strlen(payload),
                         &err);
    ck_assert_msg(jws != NULL, "cjose_jws_sign: %s", err.message);
    ck_assert(cjose_jws_export(jws, &compact, &err));
    out = apr_pstrdup(p, compact);
    cjose_jws_release(jws);
    cjose_header_release(hdr);
    return out;
}

const char *test_pub_jwk(apr_pool_t *p, cjose_jwk_t *key)
{
    cjose_err err;
    char *pub = cjose_jwk_to_json(key, false, &err);
    const char *copy;

    ck_assert_ptr_nonnull(pub);
    copy = apr_pstrdup(p, pub);
    cjose_get_dealloc()(pub);
    return copy;
}

const char *test_jkt(apr_pool_t *p, cjose_jwk_t *key)
{
    json_t *j = json_loads(test_pub_jwk(p, key), 0, NULL);
    const char *t = apr_pstrdup(p, ojw_jwk_thumbprint(j, p));

    json_decref(j);
    return t;
}

void test_nonce_key(ojw_nonce_key_t *k)
{
    char bytes[OJW_NONCE_KEY_MIN];

    memset(bytes, 'k', sizeof(bytes));
    ck_assert_ptr_null(ojw_nonce_key_set(k, bytes, sizeof(bytes)));
}

int main(void)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    sr = srunner_create(b64url_suite());
    srunner_add_suite(sr, token_suite());
    srunner_add_suite(sr, claims_suite());
    srunner_add_suite(sr, jwks_suite());
    srunner_add_suite(sr, jwks_cache_suite());
    srunner_add_suite(sr, jwks_fetch_suite());
    srunner_add_suite(sr, profile_suite());
    srunner_add_suite(sr, wycheproof_suite());
    srunner_add_suite(sr, hostile_suite());
    srunner_add_suite(sr, pipeline_suite());
    srunner_add_suite(sr, conf_suite());
    srunner_add_suite(sr, settings_suite());
    srunner_add_suite(sr, keys_suite());
    srunner_add_suite(sr, token_cache_suite());
    srunner_add_suite(sr, metrics_suite());
    srunner_add_suite(sr, status_suite());
    srunner_add_suite(sr, pass_suite());
    srunner_add_suite(sr, discovery_suite());
    srunner_add_suite(sr, source_suite());
    srunner_add_suite(sr, tenant_suite());
    srunner_add_suite(sr, dpop_suite());
    srunner_add_suite(sr, url_suite());
    srunner_add_suite(sr, binding_suite());
    srunner_add_suite(sr, breaker_suite());
    srunner_add_suite(sr, lanes_suite());
    srunner_add_suite(sr, htu_suite());
    srunner_add_suite(sr, dpop_nonce_suite());
    srunner_add_suite(sr, shmcb_suite());
    srunner_add_suite(sr, replay_room_suite());
    srunner_add_suite(sr, privilege_suite());
    srunner_add_suite(sr, authz_suite());
    srunner_add_suite(sr, location_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
