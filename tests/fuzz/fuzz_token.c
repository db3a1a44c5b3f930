/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a bearer token through the whole validator, with a
 * fixed JWKS (keys/fixed-jwks.json) and a fixed profile and clock.
 *
 * Input: the compact token as received; or, when the first byte is 'J',
 * "J" HEADER "\n.\n" PAYLOAD "\n.\n" SIGNATURE as raw bytes that the target
 * encodes as base64url, so that the fuzzer reaches the JSON and claim
 * checks without having to invent base64url.
 */
#include <cjose/base64.h>
#include <cjose/util.h>
#include "fuzz.h"
#include "token.h"
#include "claims.h"
#include "diagnose.h"
#include "pass.h"

#define FUZZ_NOW 1700000000LL

/* A copy outside pool memory: APR may take pool memory from mmap(), which
 * LeakSanitizer does not scan, and would then call the keys leaked. */
static ojw_keyset_t fixed_keys;
static const ojw_claim_policy_t policy = {
    "https://issuer.example/", "ords/hr/", 30, 3600, NULL, 0, NULL, NULL
};
static const char *const scopes[] = { "hr.read", "hr.write" };
static const char *const roles[] = { "admin", "hr" };

static void fuzz_setup(void)
{
    char errbuf[256];
    size_t len;
    char *doc = fuzz_read_fixture("keys/fixed-jwks.json", &len);
    ojw_keyset_t *ks = NULL;

    if (ojw_jwks_parse(&ks, doc, len, fuzz_global_pool(), NULL, NULL,
                       errbuf, sizeof(errbuf)) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_token: fixed JWKS refused: %s\n", errbuf);
        abort();
    }
    fixed_keys = *ks;
}

/* Text for a backend header or variable: no control characters, capped. */
static void check_passed_text(const char *text, size_t max)
{
    const char *c;

    if (text == NULL) {
        return;
    }
    for (c = text; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            abort();
        }
    }
    if ((size_t)(c - text) > max) {
        abort();
    }
}

/* A header or variable name made from a claim name: prefix + [A-Za-z0-9]
 * and the separator only. */
static void check_passed_name(const char *name, size_t prefix, char sep)
{
    const char *c;

    for (c = name + prefix; *c; c++) {
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')
              || (*c >= '0' && *c <= '9') || *c == sep)) {
            abort();
        }
    }
}

/* The pairs worked out once for a cache entry: every name and value as
 * strict as one by one, and the packed copy equal to them. */
static void exercise_passed(const json_t *claims, apr_pool_t *pool)
{
    ojw_passed_t made, *packed;
    int i;

    ojw_passed_make(&made, pool, claims, "p", "/groups");
    packed = ojw_passed_pack(&made);
    if (packed == NULL || packed->npairs != made.npairs) {
        abort();
    }
    for (i = 0; i < made.npairs; i++) {
        check_passed_text(made.pairs[i].value, OJW_PASS_VALUE_MAX);
        if (strncmp(made.pairs[i].env, "ORDSJWT_CLAIM_", 14) == 0) {
            check_passed_name(made.pairs[i].env, 14, '_');
            check_passed_name(made.pairs[i].header, 16, '-');
        }
        if (strcmp(packed->pairs[i].env, made.pairs[i].env) != 0
            || strcmp(packed->pairs[i].header, made.pairs[i].header) != 0
            || strcmp(packed->pairs[i].value, made.pairs[i].value) != 0) {
            abort();
        }
    }
    free(packed);
}

/* What the module passes to the backend (src/pass.c), for every claim. */
static void exercise_pass(const json_t *claims, apr_pool_t *pool)
{
    const char *key;
    json_t *value;
    int cut;

    exercise_passed(claims, pool);

    json_object_foreach((json_t *)claims, key, value) {
        check_passed_text(ojw_pass_value(pool, value, 64, &cut), 64);
        check_passed_name(ojw_pass_env_name(pool, key), 14, '_');
        check_passed_name(ojw_pass_header_name(pool, key), 16, '-');
        (void)ojw_pass_is_lookalike(key);
    }
    check_passed_text(ojw_pass_text(pool, ojw_pass_scopes(pool, claims),
                                    OJW_PASS_VALUE_MAX, &cut),
                      OJW_PASS_VALUE_MAX);
    check_passed_text(ojw_pass_text(pool, ojw_pass_roles(pool, claims,
                                                         "/groups"),
                                    OJW_PASS_VALUE_MAX, &cut),
                      OJW_PASS_VALUE_MAX);
}

static void note_line(void *baton, ojw_claim_line_t line,
                      const ojw_error_t *err)
{
    (void)baton;
    if ((unsigned)line >= OJW_CLAIM_LINES
        || (err && err->reason == OJW_OK)) {
        abort();
    }
}

/* ordsjwt-check's run of the claim checks: the same verdict. */
static void check_each(const json_t *claims, ojw_reason_t rc,
                       const ojw_error_t *err)
{
    const char *subject = NULL;
    ojw_error_t each;
    ojw_reason_t again;

    again = ojw_claims_check_each(claims, &policy, FUZZ_NOW, &subject, &each,
                                  note_line, NULL);
    if (again != rc || (rc != OJW_OK && strcmp(each.detail, err->detail))) {
        abort();    /* the observed run has another first refusal */
    }
}

/* The claim checks, hints, scopes, roles and what goes to the backend, on
 * any JSON object. */
static void exercise_claims(const json_t *claims, apr_pool_t *pool)
{
    const char *subject = NULL;
    ojw_error_t err;
    ojw_reason_t rc;

    rc = ojw_claims_check(claims, &policy, FUZZ_NOW, &subject, &err);
    if (rc == OJW_OK && (subject == NULL || *subject == '\0')) {
        abort();    /* accepted without a subject */
    }
    check_each(claims, rc, &err);
    if (rc != OJW_OK && strlen(ojw_reason_description(rc)) == 0) {
        abort();
    }
    (void)ojw_hint_for_claims(pool, rc, claims, &policy, FUZZ_NOW);
    (void)ojw_hint_for_scopes(pool, claims, scopes, 2);
    (void)ojw_claims_has_any_scope(claims, scopes, 2);
    (void)ojw_claims_has_any_role(claims, "/groups", roles, 2);
    (void)ojw_claims_has_any_role(claims, "/realm_access/roles", roles, 2);
    exercise_pass(claims, pool);
}

static void check_token(const char *compact, size_t len, apr_pool_t *pool)
{
    ojw_token_t *tok = NULL;
    ojw_error_t err;
    json_t *unverified;

    memset(&err, 0, sizeof(err));
    if (ojw_token_parse(&tok, compact, len, OJW_TOKEN_MAX_DEFAULT, pool,
                        &err) != OJW_OK) {
        if (tok != NULL || err.reason == OJW_OK) {
            abort();
        }
        return;
    }
    (void)ojw_token_peek_issuer(tok, pool);
    /* the claim code never sees unverified claims in the module; here it
     * gets them anyway, to be fuzzed with every payload */
    unverified = ojw_token_unverified_claims(tok, pool);
    if (unverified != NULL) {
        exercise_claims(unverified, pool);
    }
    if (ojw_token_verify(tok, &fixed_keys, pool, &err) == OJW_OK) {
        if (tok->key == NULL || tok->claims == NULL) {
            abort();
        }
        exercise_claims(tok->claims, pool);
    }
}

static const char *assemble(apr_pool_t *pool, const uint8_t *data,
                            size_t size)
{
    const uint8_t *h, *p, *s;
    size_t hl, pl, sl;

    h = fuzz_next_part(&data, &size, &hl);
    p = fuzz_next_part(&data, &size, &pl);
    s = fuzz_next_part(&data, &size, &sl);
    return apr_pstrcat(pool, fuzz_b64url(pool, h, hl), ".",
                       fuzz_b64url(pool, p, pl), ".",
                       fuzz_b64url(pool, s, sl), NULL);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const char *compact;

    if (size > 0 && data[0] == 'J') {
        compact = assemble(pool, data + 1, size - 1);
        check_token(compact, strlen(compact), pool);
    }
    else {
        /* as is, without a terminating NUL: ASan sees any read past it */
        check_token((const char *)data, size, pool);
    }
}
