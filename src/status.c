/* SPDX-License-Identifier: Apache-2.0 */
/* The status document (see status.h). */
#include <string.h>
#include <apr_escape.h>
#include <apr_strings.h>
#include "status.h"

static json_t *key_json(const ojw_key_t *k)
{
    json_t *o = json_object();

    json_object_set_new(o, "kid", k->kid ? json_string(k->kid) : json_null());
    json_object_set_new(o, "kty", json_string(k->kty == OJW_KTY_RSA ? "RSA"
                                                                    : "EC"));
    json_object_set_new(o, "alg", k->alg ? json_string(k->alg) : json_null());
    if (k->kty == OJW_KTY_RSA) {
        json_object_set_new(o, "bits", json_integer(k->bits));
    }
    else {
        json_object_set_new(o, "crv", json_string(k->crv));
    }
    if (k->issuer) {
        json_object_set_new(o, "issuer", json_string(k->issuer));
    }
    return o;
}

static json_t *keys_json(const ojw_keyset_t *ks)
{
    json_t *a = json_array();
    int i;

    for (i = 0; ks && i < ks->nkeys; i++) {
        json_array_append_new(a, key_json(&ks->keys[i]));
    }
    return a;
}

/* A slot's time (milliseconds) as seconds since the epoch, null when 0. */
static json_t *when(apr_int64_t ms)
{
    return ms ? json_integer(ms / 1000) : json_null();
}

/* A discovery profile's: the jwks_uri its document named, and when. */
static void discovery_json(json_t *o, const ojw_status_profile_t *sp)
{
    json_object_set_new(o, "jwks_uri", sp->jwks_uri && *sp->jwks_uri
                        ? json_string(sp->jwks_uri) : json_null());
    json_object_set_new(o, "discovery_fetched_at", when(sp->discovered_at));
}

static json_t *fetch_json(const ojw_status_profile_t *sp,
                          const ojw_refresh_policy_t *p, long long now)
{
    const ojw_slot_state_t *s = sp->slot;
    const char *last_error = sp->last_error;
    json_t *o = json_object();
    long long fresh = s->refresh_after > 0 ? s->refresh_after
                                           : p->refresh_interval;

    if (sp->profile->discovery_url) {
        discovery_json(o, sp);
    }
    json_object_set_new(o, "fetched_at", when(s->fetched_at));
    json_object_set_new(o, "age", s->fetched_at ? json_integer(now - s->fetched_at / 1000)
                                                : json_null());
    json_object_set_new(o, "next_refresh", s->fetched_at
                        ? json_integer(s->fetched_at / 1000 + fresh) : json_null());
    json_object_set_new(o, "generation", json_integer((json_int_t)s->generation));
    json_object_set_new(o, "fetches", json_integer(s->fetches));
    json_object_set_new(o, "failures", json_integer(s->failures));
    json_object_set_new(o, "last_error", last_error && *last_error
                        ? json_string(last_error) : json_null());
    json_object_set_new(o, "last_error_at", when(s->failed_at));
    return o;
}

json_t *ojw_status_counters_json(const apr_uint32_t *c)
{
    json_t *refused = json_object();
    int i;

    for (i = OJW_OK + 1; c && i < OJW_REASON_COUNT; i++) {
        json_object_set_new(refused, ojw_reason_name((ojw_reason_t)i),
                            json_integer(c[i]));
    }
    return refused;
}

/* Every audience= of p, in order. */
static json_t *audiences_json(const ojw_profile_t *p)
{
    json_t *a = json_array();
    int i;

    for (i = 0; i < p->audiences->nelts; i++) {
        json_array_append_new(a, json_string(APR_ARRAY_IDX(p->audiences, i,
                                                           const char *)));
    }
    return a;
}

/* An issuer template's tenants: how many are listed (and where), or
 * "any". */
static void tenants_json(json_t *o, const ojw_profile_t *p)
{
    size_t at, len;

    if (ojw_issuer_placeholder(p->issuer, &at, &len) != 1) {
        return;
    }
    json_object_set_new(o, "tenants", p->tenants
                        ? json_integer(p->tenants->count)
                        : json_string("any"));
    if (p->tenants && p->tenants->file) {
        json_object_set_new(o, "tenants_file", json_string(p->tenants->file));
    }
}

json_t *ojw_status_profile_json(const ojw_status_profile_t *sp,
                                const ojw_refresh_policy_t *policy,
                                long long now)
{
    const ojw_profile_t *p = sp->profile;
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "description", p->description
                        ? json_string(p->description) : json_null());
    json_object_set_new(o, "issuer", json_string(p->issuer));
    json_object_set_new(o, "audience", json_string(p->audience));
    json_object_set_new(o, "audiences", audiences_json(p));
    tenants_json(o, p);
    if (p->jwk_url) {
        json_object_set_new(o, "jwk_url", json_string(p->jwk_url));
    }
    else if (p->discovery_url) {
        json_object_set_new(o, "discovery_url",
                            json_string(p->discovery_url));
    }
    else {
        json_object_set_new(o, "pem_file", json_string(p->pem_file));
    }
    json_object_set_new(o, "role_claim_name", p->role_claim_name
                        ? json_string(p->role_claim_name) : json_null());
    json_object_set_new(o, "allowed_skew", json_integer(sp->allowed_skew));
    json_object_set_new(o, "allowed_age", json_integer(sp->allowed_age));
    json_object_set_new(o, "keys", keys_json(sp->keys));
    json_object_set_new(o, "jwks", sp->slot
                        ? fetch_json(sp, policy, now)
                        : json_string("static"));
    json_object_set_new(o, "accepted", json_integer(sp->counters
                                                    ? sp->counters[OJW_OK] : 0));
    json_object_set_new(o, "refused", ojw_status_counters_json(sp->counters));
    return o;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */

/* A JSON scalar as escaped text; "-" for null. */
static const char *text(apr_pool_t *pool, const json_t *v)
{
    if (json_is_string(v)) {
        return apr_pescape_entity(pool, json_string_value(v), 0);
    }
    if (json_is_integer(v)) {
        return apr_psprintf(pool, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    return "-";
}

/* Appends "<tr><th>name</th><td>value</td></tr>" for each scalar member. */
static const char *rows(apr_pool_t *pool, const json_t *obj)
{
    const char *out = "", *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            continue;
        }
        out = apr_pstrcat(pool, out, "<tr><th>", apr_pescape_entity(pool, key, 0),
                          "</th><td>", text(pool, v), "</td></tr>\n", NULL);
    }
    return out;
}

static const char *keys_html(apr_pool_t *pool, const json_t *keys)
{
    const char *out = "<table class=\"keys\"><tr><th>kid</th><th>kty</th>"
                      "<th>alg</th><th>size</th></tr>\n";
    json_t *k;
    size_t i;

    json_array_foreach(keys, i, k) {
        const json_t *size = json_object_get(k, "bits")
                             ? json_object_get(k, "bits")
                             : json_object_get(k, "crv");

        out = apr_pstrcat(pool, out, "<tr><td>",
                          text(pool, json_object_get(k, "kid")), "</td><td>",
                          text(pool, json_object_get(k, "kty")), "</td><td>",
                          text(pool, json_object_get(k, "alg")), "</td><td>",
                          text(pool, size), "</td></tr>\n", NULL);
    }
    return apr_pstrcat(pool, out, "</table>\n", NULL);
}

static const char *profile_html(apr_pool_t *pool, const json_t *p)
{
    const json_t *jwks = json_object_get(p, "jwks");

    return apr_pstrcat(pool, "<h2>Profile ",
                       text(pool, json_object_get(p, "name")), "</h2>\n",
                       "<table>\n", rows(pool, p), "</table>\n",
                       "<h3>Keys held</h3>\n",
                       keys_html(pool, json_object_get(p, "keys")),
                       "<h3>JWKS</h3>\n<table>\n",
                       json_is_object(jwks) ? rows(pool, jwks)
                                            : "<tr><td>static keys</td></tr>",
                       "</table>\n<h3>Refusals</h3>\n<table>\n",
                       rows(pool, json_object_get(p, "refused")),
                       "</table>\n", NULL);
}

const char *ojw_status_html(apr_pool_t *pool, const json_t *doc)
{
    const char *out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                      "<title>mod_auth_ordsjwt status</title></head><body>\n"
                      "<h1>mod_auth_ordsjwt status</h1>\n";
    json_t *p;
    size_t i;

    out = apr_pstrcat(pool, out, "<p>Version ",
                      text(pool, json_object_get(doc, "version")), "</p>\n",
                      NULL);
    out = apr_pstrcat(pool, out, "<p>Generated at ",
                      text(pool, json_object_get(doc, "generated")),
                      " (seconds since the epoch). Counters are summed over "
                      "all child processes since the last restart.</p>\n",
                      NULL);
    json_array_foreach(json_object_get(doc, "profiles"), i, p) {
        out = apr_pstrcat(pool, out, profile_html(pool, p), NULL);
    }
    return apr_pstrcat(pool, out, "</body></html>\n", NULL);
}
