/* SPDX-License-Identifier: Apache-2.0 */
/* A token checked step by step, as the module checks it (see inspect.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include "inspect.h"
#include "profile.h"
#include "b64url.h"
#include "diagnose.h"

static const char *const step_names[OJW_STEP_COUNT] = {
    [OJW_STEP_FORMAT]    = "format/size",
    [OJW_STEP_ALG]       = "alg",
    [OJW_STEP_CRIT]      = "crit",
    [OJW_STEP_KEY]       = "key found",
    [OJW_STEP_SIGNATURE] = "signature",
    [OJW_STEP_TYPE]      = "typ",
    [OJW_STEP_ISSUER]    = "issuer",
    [OJW_STEP_AUDIENCE]  = "audience",
    [OJW_STEP_EXP]       = "exp",
    [OJW_STEP_NBF]       = "nbf",
    [OJW_STEP_IAT]       = "iat",
    [OJW_STEP_AGE]       = "allowed_age",
    [OJW_STEP_SUBJECT]   = "subject",
    [OJW_STEP_BINDING]   = "binding",
    [OJW_STEP_SCOPE]     = "scope",
    [OJW_STEP_ROLE]      = "role",
    [OJW_STEP_PRIVILEGE] = "privilege",
};

const char *ojw_step_name(ojw_step_id_t id)
{
    return (unsigned)id < OJW_STEP_COUNT ? step_names[id] : "unknown";
}

static void step_pass(ojw_inspection_t *in, ojw_step_id_t id,
                      const char *detail)
{
    in->steps[id].state = OJW_STEP_PASSED;
    in->steps[id].reason = OJW_OK;
    in->steps[id].detail = detail;
    in->steps[id].hint = NULL;
}

static void step_fail(ojw_inspection_t *in, ojw_step_id_t id,
                      const ojw_error_t *err, const char *hint,
                      apr_pool_t *pool)
{
    in->steps[id].state = OJW_STEP_FAILED;
    in->steps[id].reason = err->reason;
    in->steps[id].detail = apr_pstrdup(pool, err->detail);
    in->steps[id].hint = hint;
}

/* The module stops at its first refusal: later ones do not change it. */
static void set_verdict(ojw_inspection_t *in, const ojw_error_t *err,
                        const char *hint)
{
    if (in->verdict.reason == OJW_OK) {
        in->verdict = *err;
        in->hint = hint;
    }
}

#define json_text ojw_json_text

/* ------------------------------------------------------------------ */
/* parse: format/size, alg, crit                                       */

json_t *ojw_inspect_segment(const char *compact, size_t len, int index,
                            apr_pool_t *pool, const char **why)
{
    const char *start = compact, *end = compact + len, *dot;
    unsigned char *raw;
    size_t rawlen;
    char errbuf[160];
    json_t *v;
    int i;

    for (i = 0; i < index; i++) {
        if ((dot = memchr(start, '.', (size_t)(end - start))) == NULL) {
            *why = "no such segment";
            return NULL;
        }
        start = dot + 1;
    }
    dot = memchr(start, '.', (size_t)(end - start));
    if (ojw_b64url_decode(pool, start, (size_t)((dot ? dot : end) - start),
                          &raw, &rawlen) != 0) {
        *why = "not canonical unpadded base64url";
        return NULL;
    }
    v = ojw_json_object_load((const char *)raw, rawlen, pool, errbuf,
                             sizeof(errbuf));
    if (v == NULL) {
        *why = apr_pstrcat(pool, "not a JSON object: ", errbuf, NULL);
    }
    return v;
}

/* The alg of a token that parse refused after its alg was accepted. */
static const char *header_alg(const char *compact, size_t len,
                              apr_pool_t *pool)
{
    const char *why;
    json_t *h = ojw_inspect_segment(compact, len, 0, pool, &why);
    json_t *alg = h ? json_object_get(h, "alg") : NULL;

    return json_is_string(alg) ? apr_pstrdup(pool, json_string_value(alg))
                               : "accepted";
}

/* The step a parse refusal belongs to. */
static ojw_step_id_t parse_step(ojw_reason_t rc)
{
    switch (rc) {
    case OJW_ERR_ALG:
        return OJW_STEP_ALG;
    case OJW_ERR_CRIT:
        return OJW_STEP_CRIT;
    case OJW_ERR_SIGNATURE:
        return OJW_STEP_SIGNATURE;      /* an empty signature */
    case OJW_OK:
        return OJW_STEP_KEY;            /* every parse step passed */
    default:
        return OJW_STEP_FORMAT;
    }
}

ojw_reason_t ojw_inspect_parse(ojw_inspection_t *in, const char *compact,
                               size_t len, size_t max_len, apr_pool_t *pool)
{
    ojw_error_t err;
    ojw_reason_t rc;
    ojw_step_id_t failed;

    memset(in, 0, sizeof(*in));
    memset(&err, 0, sizeof(err));
    rc = ojw_token_parse(&in->tok, compact, len, max_len, pool, &err);
    failed = parse_step(rc);
    if (failed > OJW_STEP_FORMAT) {
        step_pass(in, OJW_STEP_FORMAT, apr_psprintf(pool, "%" APR_SIZE_T_FMT
                  " bytes (limit %" APR_SIZE_T_FMT "), three base64url "
                  "segments", len, max_len));
    }
    if (failed > OJW_STEP_ALG) {
        step_pass(in, OJW_STEP_ALG, in->tok ? in->tok->alg->name
                                            : header_alg(compact, len, pool));
    }
    if (failed > OJW_STEP_CRIT) {
        step_pass(in, OJW_STEP_CRIT, "no critical extensions");
    }
    if (rc != OJW_OK) {
        step_fail(in, failed, &err, NULL, pool);
        set_verdict(in, &err, NULL);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* key and signature                                                   */

static const char *key_text(apr_pool_t *pool, const ojw_key_t *key)
{
    const char *kid = key->kid ? apr_psprintf(pool, "kid \"%s\"", key->kid)
                               : "a key without kid";

    if (key->kty == OJW_KTY_EC) {
        return apr_psprintf(pool, "%s: EC %s%s%s", kid, key->crv,
                            key->alg ? ", alg " : "",
                            key->alg ? key->alg : "");
    }
    return apr_psprintf(pool, "%s: RSA %d bits%s%s", kid, key->bits,
                        key->alg ? ", alg " : "", key->alg ? key->alg : "");
}

/* What the key step found, when it found something. */
static const char *key_found(apr_pool_t *pool, const ojw_token_t *tok,
                             const ojw_keyset_t *ks)
{
    const ojw_key_t *key = tok->key;

    if (key == NULL && tok->kid && !ks->any_kid) {
        key = ojw_keyset_find(ks, tok->kid);
    }
    if (key) {
        return apr_pstrcat(pool, key_text(pool, key), ks->any_kid
                           ? " (pem_file without pem_kid: any kid)" : "",
                           NULL);
    }
    return apr_psprintf(pool, "%s: every key that fits %s was tried",
                        tok->kid ? "any kid is accepted" : "the token has "
                        "no kid", tok->alg->name);
}

ojw_reason_t ojw_inspect_verify(ojw_inspection_t *in, const ojw_keyset_t *ks,
                                apr_pool_t *pool)
{
    ojw_error_t err;
    ojw_reason_t rc;

    memset(&err, 0, sizeof(err));
    rc = ojw_token_verify(in->tok, ks, pool, &err);
    if (rc == OJW_ERR_KID || rc == OJW_ERR_ALG) {
        step_fail(in, OJW_STEP_KEY, &err, NULL, pool);
    }
    else {
        step_pass(in, OJW_STEP_KEY, key_found(pool, in->tok, ks));
    }
    if (rc == OJW_ERR_SIGNATURE) {
        step_fail(in, OJW_STEP_SIGNATURE, &err, NULL, pool);
    }
    else if (rc == OJW_OK || rc == OJW_ERR_MALFORMED) {
        step_pass(in, OJW_STEP_SIGNATURE, apr_psprintf(pool, "%s signature "
                  "verifies", in->tok->alg->name));
    }
    if (rc == OJW_ERR_MALFORMED) {
        step_fail(in, OJW_STEP_FORMAT, &err, NULL, pool);  /* the payload */
    }
    in->verified = rc == OJW_OK;
    if (rc != OJW_OK) {
        set_verdict(in, &err, NULL);
    }
    return rc;
}

void ojw_inspect_keys_unavailable(ojw_inspection_t *in, const char *why,
                                  const char *hint, apr_pool_t *pool)
{
    ojw_error_t err;

    ojw_fail(&err, OJW_ERR_KEYS_UNAVAILABLE, "%s", why);
    step_fail(in, OJW_STEP_KEY, &err, hint, pool);
    in->steps[OJW_STEP_KEY].detail = apr_pstrdup(pool, why);    /* whole */
    set_verdict(in, &err, hint);
}

/* ------------------------------------------------------------------ */
/* claims                                                              */

/*
 * One claim check on its own: ojw_claims_check on claims that pass every
 * check (iss, aud, a future exp, sub) but for member name, which is the
 * token's (or absent, as in the token).
 */
static ojw_reason_t probe(const json_t *claims, const char *name,
                          const ojw_claim_policy_t *policy, long long now,
                          ojw_error_t *err)
{
    json_t *c = json_object();
    json_t *v = json_object_get(claims, name);
    const char *subject;
    ojw_reason_t rc;

    json_object_set_new(c, "iss", json_string_nocheck(policy->issuer));
    json_object_set_new(c, "aud", json_string_nocheck(policy->audience));
    json_object_set_new(c, "exp", json_integer(now + 1));
    json_object_set_new(c, "sub", json_string("probe"));
    if (v) {
        json_object_set(c, name, v);
    }
    else {
        json_object_del(c, name);
    }
    rc = ojw_claims_check(c, policy, now, &subject, err);
    json_decref(c);
    return rc;
}

/* "in 300 s (2024-05-01T12:00:00Z)" or "300 s ago (...)". */
static const char *when(apr_pool_t *pool, const json_t *claims,
                        const char *name, long long now)
{
    double t = json_number_value(json_object_get(claims, name));
    time_t secs = (time_t)t;
    char date[32] = "";
    struct tm tm;

    if (gmtime_r(&secs, &tm)) {
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (t == (double)now) {
        return apr_psprintf(pool, "now (%s)", date);
    }
    if (t > (double)now) {
        return apr_psprintf(pool, "in %.0f s (%s)", t - (double)now, date);
    }
    return apr_psprintf(pool, "%.0f s ago (%s)", (double)now - t, date);
}

static const char *audience_text(apr_pool_t *pool, const json_t *aud,
                                 const char *audience)
{
    if (json_is_array(aud) && json_array_size(aud) == 1) {
        return apr_psprintf(pool, "[\"%s\"]", audience);
    }
    if (json_is_array(aud)) {
        return apr_psprintf(pool, "\"%s\" (one of %" APR_SIZE_T_FMT
                            " entries)", audience,
                            json_array_size(aud));
    }
    return json_text(pool, aud);
}

/* What a passing claim line found. */
static const char *claim_pass_text(apr_pool_t *pool, ojw_step_id_t id,
                                   const json_t *claims,
                                   const ojw_claim_policy_t *policy,
                                   long long now)
{
    const char *name = id == OJW_STEP_EXP ? "exp"
                       : id == OJW_STEP_NBF ? "nbf" : "iat";

    switch (id) {
    case OJW_STEP_ISSUER:
        return json_text(pool, json_object_get(claims, "iss"));
    case OJW_STEP_AUDIENCE:
        return audience_text(pool, json_object_get(claims, "aud"),
                             policy->audience);
    case OJW_STEP_SUBJECT:
        return json_text(pool, json_object_get(claims, "sub"));
    case OJW_STEP_AGE:
        return policy->allowed_age <= 0 ? "not checked (allowed_age 0)"
               : apr_psprintf(pool, "issued %s, allowed_age %ld s",
                              when(pool, claims, "iat", now),
                              policy->allowed_age);
    default:
        break;
    }
    if (json_object_get(claims, name) == NULL) {
        return "absent (optional)";
    }
    return apr_psprintf(pool, "%s%s", when(pool, claims, name, now),
                        policy->allowed_skew > 0 ? apr_psprintf(pool,
                        ", allowed_skew %ld s", policy->allowed_skew) : "");
}

static const char *const probe_claims[OJW_STEP_COUNT] = {
    [OJW_STEP_ISSUER]   = "iss",
    [OJW_STEP_AUDIENCE] = "aud",
    [OJW_STEP_EXP]      = "exp",
    [OJW_STEP_NBF]      = "nbf",
    [OJW_STEP_IAT]      = "iat",
    [OJW_STEP_AGE]      = "iat",
    [OJW_STEP_SUBJECT]  = "sub",
};

/* One claim line: its probe, with allowed_age only on its own line. */
static void check_claim_line(ojw_inspection_t *in, ojw_step_id_t id,
                             const ojw_claim_policy_t *policy, long long now,
                             apr_pool_t *pool)
{
    const json_t *claims = in->tok->claims;
    ojw_claim_policy_t p = *policy;
    ojw_error_t err;

    memset(&err, 0, sizeof(err));
    if (id != OJW_STEP_AGE) {
        p.allowed_age = 0;
    }
    if (probe(claims, probe_claims[id], &p, now, &err) == OJW_OK) {
        step_pass(in, id, claim_pass_text(pool, id, claims, policy, now));
        return;
    }
    step_fail(in, id, &err, ojw_hint_for_claims(pool, err.reason, claims,
                                                policy, now), pool);
}

ojw_reason_t ojw_inspect_claims(ojw_inspection_t *in,
                                const ojw_claim_policy_t *policy,
                                long long now, apr_pool_t *pool)
{
    const json_t *claims = in->tok ? in->tok->claims : NULL;
    ojw_error_t err;
    ojw_reason_t rc;
    int id;

    if (!in->verified || claims == NULL) {
        return in->verdict.reason;
    }
    memset(&err, 0, sizeof(err));
    rc = ojw_claims_check(claims, policy, now, &in->subject, &err);
    if (rc != OJW_OK) {
        set_verdict(in, &err, ojw_hint_for_claims(pool, rc, claims, policy,
                                                  now));
    }
    for (id = OJW_STEP_ISSUER; id <= OJW_STEP_SUBJECT; id++) {
        /* an unusable iat is the iat line's; the age line needs one */
        if (id == OJW_STEP_AGE
            && in->steps[OJW_STEP_IAT].state == OJW_STEP_FAILED) {
            continue;
        }
        check_claim_line(in, (ojw_step_id_t)id, policy, now, pool);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* authorization: Require ords-scope / ords-role                       */

static const char *joined(apr_pool_t *pool, const char *const *words, int n)
{
    const char *out = "";
    int i;

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(pool, out, i ? " " : "", words[i], NULL);
    }
    return out;
}

/* The authorization outcome: a refusal only when authentication passed. */
static ojw_reason_t authz_result(ojw_inspection_t *in, ojw_step_id_t id,
                                 const ojw_error_t *err, const char *hint,
                                 apr_pool_t *pool)
{
    step_fail(in, id, err, hint, pool);
    set_verdict(in, err, hint);
    return err->reason;
}

ojw_reason_t ojw_inspect_scopes(ojw_inspection_t *in,
                                const char *const *scopes, int n,
                                apr_pool_t *pool)
{
    const json_t *claims = in->tok ? in->tok->claims : NULL;
    ojw_error_t err;
    int i;

    if (!in->verified || claims == NULL || n == 0) {
        return OJW_OK;
    }
    for (i = 0; i < n; i++) {
        if (ojw_claims_has_any_scope(claims, scopes + i, 1)) {
            step_pass(in, OJW_STEP_SCOPE, apr_psprintf(pool, "\"%s\" granted",
                                                       scopes[i]));
            return OJW_OK;
        }
    }
    ojw_fail(&err, OJW_ERR_SCOPE_MISSING, "none of the scopes \"%s\" is in "
             "\"scope\" or \"scp\" (%s)", joined(pool, scopes, n),
             json_text(pool, json_object_get(claims, json_object_get(claims,
                       "scope") ? "scope" : "scp")));
    return authz_result(in, OJW_STEP_SCOPE, &err,
                        ojw_hint_for_scopes(pool, claims, scopes, n), pool);
}

ojw_reason_t ojw_inspect_roles(ojw_inspection_t *in, const char *pointer,
                               const char *const *roles, int n,
                               apr_pool_t *pool)
{
    const json_t *claims = in->tok ? in->tok->claims : NULL;
    ojw_error_t err;
    int i;

    if (!in->verified || claims == NULL || n == 0) {
        return OJW_OK;
    }
    if (pointer == NULL) {
        ojw_fail(&err, OJW_ERR_ROLE_MISSING, "the profile has no "
                 "role_claim_name: Require ords-role cannot succeed");
        return authz_result(in, OJW_STEP_ROLE, &err, NULL, pool);
    }
    for (i = 0; i < n; i++) {
        if (ojw_claims_has_any_role(claims, pointer, roles + i, 1)) {
            step_pass(in, OJW_STEP_ROLE, apr_psprintf(pool, "\"%s\" at %s "
                                                      "granted", roles[i],
                                                      pointer));
            return OJW_OK;
        }
    }
    ojw_fail(&err, OJW_ERR_ROLE_MISSING, "none of the roles \"%s\" at %s "
             "(%s)", joined(pool, roles, n), pointer,
             json_text(pool, ojw_json_pointer(claims, pointer)));
    return authz_result(in, OJW_STEP_ROLE, &err, NULL, pool);
}

/* ------------------------------------------------------------------ */
/* the token in a pasted header value                                  */

/* s without leading and trailing whitespace, in pool memory. */
static char *trimmed(apr_pool_t *p, const char *s)
{
    const char *end;

    while (apr_isspace(*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && apr_isspace(end[-1])) {
        end--;
    }
    return apr_pstrndup(p, s, (apr_size_t)(end - s));
}

/* s after the scheme word (any case) and 1*(SP / HTAB), or NULL. */
static const char *after_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);

    if (strncasecmp(s, scheme, n) != 0 || (s[n] != ' ' && s[n] != '\t')) {
        return NULL;
    }
    return s + n + strspn(s + n, " \t");
}

/* RFC 7617 credentials: canonical base64 (RFC 4648 4, padded) of
 * user:password, without NUL bytes; the password, or NULL. */
static const char *basic_password(apr_pool_t *p, const char *b64,
                                  const char **user)
{
    size_t len = strlen(b64), pad = 0, i;
    unsigned char *out;
    char *colon;
    int n;

    if (len == 0 || len % 4 != 0 || len > 1024 * 1024) {
        return NULL;
    }
    while (pad < 2 && b64[len - 1 - pad] == '=') {
        pad++;
    }
    for (i = 0; i < len - pad; i++) {
        if (!apr_isalnum(b64[i]) && b64[i] != '+' && b64[i] != '/') {
            return NULL;
        }
    }
    out = apr_palloc(p, len / 4 * 3 + 1);
    n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
    if (n < 0 || (size_t)n < pad) {
        return NULL;
    }
    n -= (int)pad;
    out[n] = '\0';
    if (memchr(out, '\0', (size_t)n) != NULL
        || (colon = strchr((char *)out, ':')) == NULL) {
        return NULL;
    }
    *colon = '\0';
    *user = (const char *)out;
    return colon + 1;
}

const char *ojw_header_token(apr_pool_t *p, const char *text,
                             const char **user, const char **error)
{
    char *s = trimmed(p, text);
    const char *rest, *token;

    *user = NULL;
    if ((rest = after_scheme(s, "Bearer")) != NULL) {
        return rest;
    }
    rest = strcasecmp(s, "Basic") == 0 ? "" : after_scheme(s, "Basic");
    if (rest == NULL) {
        return s;
    }
    if ((token = basic_password(p, rest, user)) == NULL) {
        *error = "Basic credentials that are not base64 of user:password";
        return NULL;
    }
    return trimmed(p, token);
}

/* The privilege of pvs that the token has, as a scope or by a role. */
static const char *privilege_granted(const json_t *claims, const char *pointer,
                                     const ojw_privilege_t *const *pvs, int n,
                                     apr_pool_t *pool)
{
    int by_role = 0;
    int i = ojw_privilege_granted(pvs, n, claims, pointer, &by_role);

    if (i < 0) {
        return NULL;
    }
    if (!by_role) {
        return apr_psprintf(pool, "\"%s\" granted as a scope", pvs[i]->name);
    }
    return apr_psprintf(pool, "\"%s\" granted by a role at %s (%s)",
                        pvs[i]->name, pointer,
                        joined(pool, pvs[i]->roles, pvs[i]->nroles));
}

ojw_reason_t ojw_inspect_privileges(ojw_inspection_t *in, const char *pointer,
                                    const ojw_privilege_t *const *pvs, int n,
                                    apr_pool_t *pool)
{
    const json_t *claims = in->tok ? in->tok->claims : NULL;
    const char *granted, *names = "";
    ojw_error_t err;
    int i;

    if (!in->verified || claims == NULL || n == 0) {
        return OJW_OK;
    }
    if ((granted = privilege_granted(claims, pointer, pvs, n, pool))) {
        step_pass(in, OJW_STEP_PRIVILEGE, granted);
        return OJW_OK;
    }
    for (i = 0; i < n; i++) {
        names = apr_pstrcat(pool, names, i ? " " : "", pvs[i]->name, NULL);
    }
    ojw_fail(&err, OJW_ERR_SCOPE_MISSING, "none of the privileges \"%s\" "
             "is in \"scope\" or \"scp\" (%s), nor granted by %s%s", names,
             json_text(pool, json_object_get(claims, json_object_get(claims,
                       "scope") ? "scope" : "scp")),
             pointer ? "their roles at " : "a role (the profile has no "
             "role_claim_name)", pointer ? pointer : "");
    return authz_result(in, OJW_STEP_PRIVILEGE, &err, NULL, pool);
}

void ojw_inspect_no_profile(ojw_inspection_t *in, int n, apr_pool_t *pool)
{
    const char *iss = in->tok ? ojw_token_peek_issuer(in->tok, pool) : NULL;
    ojw_error_t err;

    ojw_fail(&err, OJW_ERR_ISSUER, "iss \"%.200s\" matches none of the %d "
             "profiles of this location", iss ? iss : "(none)", n);
    step_fail(in, OJW_STEP_ISSUER, &err, NULL, pool);
    set_verdict(in, &err, NULL);
}

/* ------------------------------------------------------------------ */
/* explicit typing and sender-constrained tokens                       */

static ojw_reason_t binding_fail(ojw_inspection_t *in, ojw_step_id_t id,
                                 const ojw_error_t *err, apr_pool_t *pool)
{
    const char *hint = ojw_hint_for_binding(err->reason);

    step_fail(in, id, err, hint, pool);
    set_verdict(in, err, hint);
    return err->reason;
}

ojw_reason_t ojw_inspect_type(ojw_inspection_t *in, const char *required,
                              apr_pool_t *pool)
{
    const json_t *typ;
    ojw_error_t err;

    if (in->tok == NULL) {
        return in->verdict.reason;
    }
    memset(&err, 0, sizeof(err));
    if (ojw_token_check_type(in->tok, required, &err) != OJW_OK) {
        return binding_fail(in, OJW_STEP_TYPE, &err, pool);
    }
    if (required) {
        typ = json_object_get(in->tok->header, "typ");
        step_pass(in, OJW_STEP_TYPE, apr_psprintf(pool, "typ %s (token_type="
                  "%s)", json_text(pool, typ), required));
    }
    return OJW_OK;
}

/* What a token that passed its binding is bound to. */
static const char *bound_text(apr_pool_t *pool, const ojw_cnf_t *cnf,
                              const char *proof)
{
    const char *out = cnf->jkt ? apr_psprintf(pool, "DPoP proof by key "
                                              "jkt %s holds (httpd also "
                                              "takes each jti once)",
                                              cnf->jkt)
                               : "not DPoP-bound";

    if (proof == NULL && cnf->jkt == NULL && !cnf->present) {
        out = "not bound";
    }
    if (cnf->x5t_s256) {
        out = apr_psprintf(pool, "%s; bound to the client certificate "
                           "x5t#S256 %s (httpd compares the connection's)",
                           out, cnf->x5t_s256);
    }
    return out;
}

ojw_reason_t ojw_inspect_binding(ojw_inspection_t *in, int dpop, int mtls,
                                 const char *proof, ojw_dpop_request_t *req,
                                 apr_pool_t *pool)
{
    ojw_dpop_proof_t out;
    ojw_error_t err;
    ojw_cnf_t cnf;

    if (!in->verified || in->tok->claims == NULL) {
        return in->verdict.reason;
    }
    memset(&err, 0, sizeof(err));
    if (ojw_cnf_read(&cnf, in->tok->claims, &err) != OJW_OK
        || ojw_binding_policy(&cnf, dpop, mtls, proof ? OJW_SENT_DPOP
                              : OJW_SENT_BEARER, &err) != OJW_OK) {
        return binding_fail(in, OJW_STEP_BINDING, &err, pool);
    }
    if (proof) {
        req->access_token = in->tok->compact;
        req->access_token_len = in->tok->len;
        req->jkt = cnf.jkt;
        if (ojw_dpop_check(&out, proof, strlen(proof), req, pool, &err)
            != OJW_OK) {
            return binding_fail(in, OJW_STEP_BINDING, &err, pool);
        }
    }
    if (cnf.present || proof || dpop == OJW_BIND_REQUIRED
        || mtls == OJW_BIND_REQUIRED) {
        step_pass(in, OJW_STEP_BINDING, bound_text(pool, &cnf, proof));
    }
    return OJW_OK;
}
