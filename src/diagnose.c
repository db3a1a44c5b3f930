/* SPDX-License-Identifier: Apache-2.0 */
/* Hints for administrators (see diagnose.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "diagnose.h"

#define NEAR_SECONDS 60

/* 1 when a and b differ only by one trailing slash. */
static int differ_by_trailing_slash(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la == lb + 1 && a[la - 1] == '/') {
        return strncmp(a, b, lb) == 0;
    }
    if (lb == la + 1 && b[lb - 1] == '/') {
        return strncmp(a, b, la) == 0;
    }
    return 0;
}

static const char *slash_hint(apr_pool_t *pool, const char *claim,
                              const char *token_value, const char *key,
                              const char *configured)
{
    return apr_psprintf(pool, "the token's %s \"%s\" differs from %s=\"%s\" "
                        "only by a trailing slash: the comparison is exact, "
                        "set %s=%s", claim, token_value, key, configured, key,
                        token_value);
}

static const char *audience_hint(apr_pool_t *pool, const json_t *aud,
                                 const char *audience)
{
    const json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        return differ_by_trailing_slash(json_string_value(aud), audience)
               ? slash_hint(pool, "aud", json_string_value(aud), "audience",
                            audience)
               : NULL;
    }
    json_array_foreach(aud, i, v) {
        if (json_is_string(v)
            && differ_by_trailing_slash(json_string_value(v), audience)) {
            return slash_hint(pool, "aud", json_string_value(v), "audience",
                              audience);
        }
    }
    return NULL;
}

static double claim_number(const json_t *claims, const char *name)
{
    return json_number_value(json_object_get(claims, name));
}

static const char *time_hint(apr_pool_t *pool, ojw_reason_t reason,
                             const json_t *claims,
                             const ojw_claim_policy_t *p, double now)
{
    double off;

    switch (reason) {
    case OJW_ERR_EXPIRED:
        off = now - claim_number(claims, "exp");
        break;
    case OJW_ERR_NOT_YET_VALID:
        off = claim_number(claims, "nbf") - now;
        break;
    case OJW_ERR_IAT_FUTURE:
        off = claim_number(claims, "iat") - now;
        break;
    case OJW_ERR_TOO_OLD:
        return apr_psprintf(pool, "the token was issued %.0f s ago, longer "
                            "ago than allowed_age=%ld s allows: request a new "
                            "token, or raise allowed_age", now
                            - claim_number(claims, "iat"), p->allowed_age);
    default:
        return NULL;
    }
    if (off > NEAR_SECONDS) {
        return NULL;
    }
    return apr_psprintf(pool, "off by only %.0f s: if the clocks of this "
                        "server and the issuer differ, synchronise them (NTP) "
                        "or set allowed_skew (at most 60; now %ld)", off,
                        p->allowed_skew);
}

/* The hints of an issuer template and of a key's issuer (tenant.h). */
static const char *tenant_hint(apr_pool_t *pool, ojw_reason_t reason,
                               const json_t *claims,
                               const ojw_claim_policy_t *p)
{
    const json_t *iss = json_object_get(claims, "iss");

    switch (reason) {
    case OJW_ERR_TENANT_ID:
        return apr_psprintf(pool, "issuer=%s holds {tid}: the token must "
                            "carry its tenant's id as \"tid\", a lower-case "
                            "GUID, as Entra ID's access tokens do; a token "
                            "without one is not from a tenant of that "
                            "issuer", p->issuer);
    case OJW_ERR_TENANT:
        return apr_psprintf(pool, "tenant %s is not in %s%s: add it there "
                            "if its users should get in",
                            ojw_claims_tid(claims) ? ojw_claims_tid(claims)
                            : "-", p->tenants && p->tenants->file
                            ? "the tenants file " : "the profile's tenants= "
                            "list", p->tenants && p->tenants->file
                            ? p->tenants->file : "");
    case OJW_ERR_KEY_ISSUER:
        return apr_psprintf(pool, "the key that verified the token is the "
                            "key of issuer %s, not of %s: a key signs only "
                            "for its own issuer; set jwk_url to the keys of "
                            "the token's issuer (Entra ID: v1.0 tokens, iss "
                            "https://sts.windows.net/..., and v2.0 tokens "
                            "have different issuers; the app's "
                            "accessTokenAcceptedVersion chooses)",
                            p->key_issuer ? p->key_issuer : "-",
                            json_is_string(iss) ? json_string_value(iss)
                            : "(no iss)");
    default:
        return NULL;
    }
}

const char *ojw_hint_for_claims(apr_pool_t *pool, ojw_reason_t reason,
                                const json_t *claims,
                                const ojw_claim_policy_t *policy,
                                long long now)
{
    const json_t *iss = json_object_get(claims, "iss");

    if (claims == NULL) {
        return NULL;
    }
    if (reason == OJW_ERR_TENANT_ID || reason == OJW_ERR_TENANT
        || reason == OJW_ERR_KEY_ISSUER) {
        return tenant_hint(pool, reason, claims, policy);
    }
    if (reason == OJW_ERR_ISSUER) {
        return json_is_string(iss)
               && differ_by_trailing_slash(json_string_value(iss),
                                           policy->issuer)
               ? slash_hint(pool, "iss", json_string_value(iss), "issuer",
                            policy->issuer)
               : NULL;
    }
    if (reason == OJW_ERR_AUDIENCE) {
        return audience_hint(pool, json_object_get(claims, "aud"),
                             policy->audience);
    }
    return time_hint(pool, reason, claims, policy, (double)now);
}

/* A token scope that ends with "/" + wanted, or NULL. */
static const char *prefixed(const char *list, const char *wanted)
{
    size_t wlen = strlen(wanted), n;
    const char *w;

    while ((w = ojw_next_word(&list, &n)), n > 0) {
        if (n > wlen + 1 && w[n - wlen - 1] == '/'
            && strncmp(w + n - wlen, wanted, wlen) == 0) {
            return w;
        }
    }
    return NULL;
}

/* The prefixed form of wanted among the scope values, copied, or NULL. */
static const char *find_prefixed(apr_pool_t *pool, const json_t *claims,
                                 const char *wanted)
{
    const char *names[] = { "scope", "scp" };
    const json_t *v, *item;
    const char *hit;
    size_t i, k;

    for (k = 0; k < 2; k++) {
        v = json_object_get(claims, names[k]);
        if (json_is_string(v)
            && (hit = prefixed(json_string_value(v), wanted)) != NULL) {
            return apr_pstrmemdup(pool, hit, strcspn(hit, " "));
        }
        json_array_foreach(v, i, item) {
            if (json_is_string(item)
                && (hit = prefixed(json_string_value(item), wanted)) != NULL) {
                return apr_pstrmemdup(pool, hit, strcspn(hit, " "));
            }
        }
    }
    return NULL;
}

const char *ojw_hint_for_scopes(apr_pool_t *pool, const json_t *claims,
                                const char *const *scopes, int n)
{
    const char *hit;
    int i;

    for (i = 0; claims && i < n; i++) {
        if ((hit = find_prefixed(pool, claims, scopes[i])) != NULL) {
            return apr_psprintf(pool, "the token has scope \"%s\" but not "
                                "\"%s\": the scope must be named without the "
                                "primary audience (in OCI IAM, define the "
                                "scope \"%s\" on the resource app and let "
                                "clients request it)", hit, scopes[i],
                                scopes[i]);
        }
    }
    return NULL;
}

const char *ojw_json_text(apr_pool_t *pool, const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    const char *out;

    if (s == NULL) {
        return "(absent)";
    }
    out = apr_pstrndup(pool, s, 200);
    free(s);
    return out;
}
