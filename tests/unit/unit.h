/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the core (src/) with Check: one suite per unit. */
#ifndef OJW_UNIT_H
#define OJW_UNIT_H

#include <check.h>
#include <apr_pools.h>
#include <cjose/jwk.h>
#include "dpop_nonce.h"

extern apr_pool_t *test_pool;   /* fresh for every test (fixture) */
void pool_setup(void);
void pool_teardown(void);

/* Test keys and tokens (tests/unit/main.c). */
cjose_jwk_t *test_rsa_key(void);          /* 2048-bit, made once */
cjose_jwk_t *test_ec_key(cjose_jwk_ec_curve crv);
/* {"keys":[pub...]} with the given kids (NULL: no kid member). */
char *test_jwks(apr_pool_t *p, int n, cjose_jwk_t **keys, const char **kids);
/* A compact JWS signed by key; header_json is the full protected header. */
char *test_sign(apr_pool_t *p, cjose_jwk_t *key, const char *header_json,
                const char *payload);
/* base64url of s without padding. */
char *test_b64(apr_pool_t *p, const char *s, size_t len);
/* The public JWK JSON of key, and its RFC 7638 thumbprint (a cnf.jkt). */
const char *test_pub_jwk(apr_pool_t *p, cjose_jwk_t *key);
const char *test_jkt(apr_pool_t *p, cjose_jwk_t *key);
/* A DPoP nonce key (OJW_NONCE_KEY_MIN bytes 'k'). */
void test_nonce_key(ojw_nonce_key_t *k);

Suite *b64url_suite(void);
Suite *token_suite(void);
Suite *claims_suite(void);
Suite *jwks_suite(void);
Suite *jwks_cache_suite(void);
Suite *jwks_fetch_suite(void);
Suite *profile_suite(void);
Suite *wycheproof_suite(void);
Suite *hostile_suite(void);
Suite *pipeline_suite(void);
Suite *conf_suite(void);        /* ordsjwt-check's tools/conf.c */
Suite *settings_suite(void);
Suite *keys_suite(void);
Suite *token_cache_suite(void);
Suite *metrics_suite(void);
Suite *status_suite(void);
Suite *pass_suite(void);
Suite *privilege_suite(void);
Suite *authz_suite(void);
Suite *location_suite(void);   /* ordsjwt-check's tools/location.c */
Suite *discovery_suite(void);
Suite *source_suite(void);
Suite *tenant_suite(void);
Suite *dpop_suite(void);
Suite *url_suite(void);
Suite *binding_suite(void);
Suite *breaker_suite(void);
Suite *lanes_suite(void);
Suite *htu_suite(void);
Suite *dpop_nonce_suite(void);
Suite *shmcb_suite(void);
Suite *replay_room_suite(void);

#endif
