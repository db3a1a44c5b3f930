/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: DPoP proofs (src/dpop.c) against a fixed request and
 * clock; the access token is bound (cnf.jkt) to the key ec256 of
 * keys/fixed-jwks.json, so that an honest seed proof is accepted.
 *
 * Input: the compact proof as received; 'J' HEADER "\n.\n" PAYLOAD "\n.\n"
 * SIGNATURE as raw bytes the target encodes (as fuzz_token); 'U' a URL
 * for ojw_url_normalise(); 'C' a claims document for ojw_cnf_read().
 */
#include <cjose/base64.h>
#include <cjose/util.h>
#include "fuzz.h"
#include "dpop.h"
#include "token.h"

#define FUZZ_NOW    1700000000LL
#define FUZZ_URL    "https://api.example.com/ords/hr/emp"
#define FUZZ_TOKEN  "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"

static char fixed_jkt[64];

static void fuzz_setup(void)
{
    size_t len, i;
    char *doc = fuzz_read_fixture("keys/fixed-jwks.json", &len);
    json_t *jwks = json_loadb(doc, len, 0, NULL), *k;
    const char *t = NULL;

    json_array_foreach(json_object_get(jwks, "keys"), i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));

        if (kid && strcmp(kid, "ec256") == 0) {
            t = ojw_jwk_thumbprint(k, fuzz_global_pool());
        }
    }
    if (t == NULL || strlen(t) >= sizeof(fixed_jkt)) {
        fprintf(stderr, "fuzz_dpop: no ec256 key in the fixed JWKS\n");
        abort();
    }
    strcpy(fixed_jkt, t);
    json_decref(jwks);
}

static void check_proof(const char *proof, size_t len, apr_pool_t *pool)
{
    ojw_dpop_request_t req;
    ojw_dpop_proof_t out;
    ojw_error_t err;
    ojw_reason_t rc;

    memset(&req, 0, sizeof(req));
    memset(&err, 0, sizeof(err));
    req.method = "GET";
    req.url = FUZZ_URL "?page=1";
    req.access_token = FUZZ_TOKEN;
    req.access_token_len = strlen(FUZZ_TOKEN);
    req.jkt = fixed_jkt;
    req.window = 60;
    req.skew = 5;
    req.now = FUZZ_NOW;
    rc = ojw_dpop_check(&out, proof, len, &req, pool, &err);
    if (rc == OJW_OK && (out.jkt == NULL || strcmp(out.jkt, fixed_jkt) != 0
                         || out.expires <= FUZZ_NOW)) {
        abort();
    }
    if (rc != OJW_OK && (rc != OJW_ERR_DPOP_PROOF || err.detail[0] == '\0')) {
        abort();
    }
}

static void check_url(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const char *url = apr_pstrmemdup(pool, (const char *)data, size);
    const char *why, *n = ojw_url_normalise(url, pool, &why), *again;

    if (n == NULL) {
        return;
    }
    /* normalising is idempotent */
    again = ojw_url_normalise(n, pool, &why);
    if (again == NULL || strcmp(again, n) != 0) {
        abort();
    }
}

static void check_cnf(const uint8_t *data, size_t size)
{
    json_t *claims = json_loadb((const char *)data, size, 0, NULL);
    ojw_cnf_t cnf;
    ojw_error_t err;

    if (claims && ojw_cnf_read(&cnf, claims, &err) == OJW_OK && cnf.present
        && cnf.jkt == NULL && cnf.x5t_s256 == NULL) {
        abort();    /* a bound token accepted with nothing to check */
    }
    json_decref(claims);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const uint8_t *h, *p, *s;
    size_t hl, pl, sl;
    const char *compact;

    if (size > 0 && data[0] == 'U') {
        check_url(data + 1, size - 1, pool);
    }
    else if (size > 0 && data[0] == 'C') {
        check_cnf(data + 1, size - 1);
    }
    else if (size > 0 && data[0] == 'J') {
        data++;
        size--;
        h = fuzz_next_part(&data, &size, &hl);
        p = fuzz_next_part(&data, &size, &pl);
        s = fuzz_next_part(&data, &size, &sl);
        compact = apr_pstrcat(pool, fuzz_b64url(pool, h, hl), ".",
                              fuzz_b64url(pool, p, pl), ".",
                              fuzz_b64url(pool, s, sl),
                              NULL);
        check_proof(compact, strlen(compact), pool);
    }
    else {
        check_proof((const char *)data, size, pool);
    }
}
