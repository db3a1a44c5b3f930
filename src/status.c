/* SPDX-License-Identifier: Apache-2.0 */
/* The status document (see status.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <apr_escape.h>
#include <apr_strings.h>
#include <apr_tables.h>
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
    json_object_set_new(o, "document_bytes", json_integer((json_int_t)
                                                          s->doc_len));
    json_object_set_new(o, "waits_refused", json_integer(s->busy));
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

/* The refusals that happened, {reason name: count}, zeros left out. */
static json_t *nonzero_counters_json(const apr_uint32_t *c)
{
    json_t *refused = json_object();
    int i;

    for (i = OJW_OK + 1; c && i < OJW_REASON_COUNT; i++) {
        if (c[i]) {
            json_object_set_new(refused, ojw_reason_name((ojw_reason_t)i),
                                json_integer(c[i]));
        }
    }
    return refused;
}

/* The light form: what the summary and the metrics read, no more (with
 * thousands of profiles, every member is a cost). */
static json_t *light_json(const ojw_status_profile_t *sp,
                          const ojw_refresh_policy_t *policy, long long now)
{
    const ojw_profile_t *p = sp->profile;
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(p->name));
    if (p->jwk_url) {
        json_object_set_new(o, "jwk_url", json_string(p->jwk_url));
    }
    json_object_set_new(o, "nkeys", json_integer(sp->keys ? sp->keys->nkeys
                                                          : sp->nkeys));
    json_object_set_new(o, "jwks", sp->slot ? fetch_json(sp, policy, now)
                                            : json_string("static"));
    json_object_set_new(o, "accepted", json_integer(sp->counters
                                                    ? sp->counters[OJW_OK] : 0));
    json_object_set_new(o, "refused", nonzero_counters_json(sp->counters));
    return o;
}

json_t *ojw_status_profile_json(const ojw_status_profile_t *sp,
                                const ojw_refresh_policy_t *policy,
                                long long now)
{
    const ojw_profile_t *p = sp->profile;
    json_t *o;

    if (sp->light) {
        return light_json(sp, policy, now);
    }
    o = json_object();
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
    json_object_set_new(o, "nkeys", json_integer(sp->keys ? sp->keys->nkeys
                                                          : sp->nkeys));
    json_object_set_new(o, "jwks", sp->slot
                        ? fetch_json(sp, policy, now)
                        : json_string("static"));
    json_object_set_new(o, "accepted", json_integer(sp->counters
                                                    ? sp->counters[OJW_OK] : 0));
    json_object_set_new(o, "refused", ojw_status_counters_json(sp->counters));
    return o;
}

/* ------------------------------------------------------------------ */
/* the query                                                           */

/* A decimal number from 0 to max in *out; 0 when v is none. */
static int number(const char *v, long max, long *out)
{
    char *end;
    long n;

    if (v == NULL || *v < '0' || *v > '9') {
        return 0;
    }
    errno = 0;
    n = strtol(v, &end, 10);
    if (*end != '\0' || errno == ERANGE || n > max) {
        return 0;
    }
    *out = n;
    return 1;
}

/* One word of the query (name, value NULL when there is no "="); 0 when
 * it is one of ours and malformed. */
static int query_word(ojw_status_query_t *q, const char *name, const char *v)
{
    if (v == NULL && strcmp(name, "json") == 0) {
        q->format = OJW_STATUS_JSON;
    }
    else if (v == NULL && strcmp(name, "metrics") == 0) {
        q->format = OJW_STATUS_METRICS;
    }
    else if (strcmp(name, "profile") == 0) {
        q->profile = v;
        return v != NULL && *v != '\0';
    }
    else if (strcmp(name, "offset") == 0) {
        return number(v, INT_MAX, &q->offset);
    }
    else if (strcmp(name, "limit") == 0) {
        return number(v, OJW_STATUS_LIMIT_MAX, &q->limit) && q->limit > 0;
    }
    return 1;                   /* another word: not ours */
}

apr_status_t ojw_status_query_parse(ojw_status_query_t *q, const char *args,
                                    apr_pool_t *pool)
{
    char *copy = apr_pstrdup(pool, args ? args : "");
    char *word, *last, *v;
    const char *value;

    q->format = -1;
    q->profile = NULL;
    q->offset = 0;
    q->limit = OJW_STATUS_LIMIT_DEFAULT;
    for (word = apr_strtok(copy, "&", &last); word;
         word = apr_strtok(NULL, "&", &last)) {
        value = NULL;
        if ((v = strchr(word, '=')) != NULL) {
            *v++ = '\0';
            /* forbid "": a %00 is refused, not cut short */
            if ((value = apr_punescape_url(pool, v, "", NULL, 1)) == NULL) {
                return APR_EINVAL;
            }
        }
        if (!query_word(q, word, value)) {
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* summary                                                             */

static json_t *category(void)
{
    return json_pack("{s:i, s:[]}", "count", 0, "profiles");
}

/* Counts name in category c, listing the first names. */
static void note(json_t *c, const char *name)
{
    json_t *list = json_object_get(c, "profiles");

    json_object_set_new(c, "count", json_integer(json_integer_value(
                            json_object_get(c, "count")) + 1));
    if (json_array_size(list) < OJW_STATUS_SUMMARY_NAMES) {
        json_array_append_new(list, json_string(name));
    }
}

/* The sum of a {reason: count} object. */
static json_int_t total_of(const json_t *refused)
{
    const char *reason;
    json_int_t n = 0;
    json_t *v;

    json_object_foreach((json_t *)refused, reason, v) {
        n += json_is_integer(v) ? json_integer_value(v) : 0;
    }
    return n;
}

/* Keeps top, the most refused profiles, most first. */
static void rank(json_t *top, const char *name, json_int_t n)
{
    size_t i;

    for (i = 0; i < json_array_size(top); i++) {
        if (n > json_integer_value(json_object_get(json_array_get(top, i),
                                                   "refused"))) {
            break;
        }
    }
    if (i < OJW_STATUS_SUMMARY_NAMES) {
        json_array_insert_new(top, i, json_pack("{s:s, s:I}", "name", name,
                                                "refused", n));
    }
    if (json_array_size(top) > OJW_STATUS_SUMMARY_NAMES) {
        json_array_remove(top, OJW_STATUS_SUMMARY_NAMES);
    }
}

json_t *ojw_status_summary(const json_t *profiles, const json_t *unattributed)
{
    json_t *errors = category(), *stale = category(), *top = json_array();
    json_int_t refused = total_of(unattributed), n;
    const json_t *p, *jwks;
    const char *name;
    size_t i;

    json_array_foreach(profiles, i, p) {
        jwks = json_object_get(p, "jwks");
        name = json_string_value(json_object_get(p, "name"));
        if (name == NULL) {
            continue;
        }
        if (json_is_string(json_object_get(jwks, "last_error"))) {
            note(json_integer_value(json_object_get(jwks, "generation")) > 0
                 ? stale : errors, name);
        }
        if ((n = total_of(json_object_get(p, "refused"))) > 0) {
            refused += n;
            rank(top, name, n);
        }
    }
    return json_pack("{s:I, s:o, s:o, s:{s:I, s:o}}", "profiles",
                     (json_int_t)json_array_size(profiles), "errors", errors,
                     "stale", stale, "refusals", "count", refused,
                     "profiles", top);
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
        /* APR's formatter knows no "%lld" (JSON_INTEGER_FORMAT) */
        return apr_psprintf(pool, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
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

/* A link to the page of one profile. */
static const char *profile_link(apr_pool_t *pool, const char *name)
{
    return apr_pstrcat(pool, "<a href=\"?profile=",
                       apr_pescape_entity(pool, apr_pescape_urlencoded(pool,
                                                                      name), 0),
                       "\">", apr_pescape_entity(pool, name, 0), "</a>", NULL);
}

/* "n: link, link, ..." of a summary category. */
static const char *category_html(apr_pool_t *pool, const json_t *c)
{
    const char *out = text(pool, json_object_get(c, "count"));
    const json_t *v;
    size_t i;

    json_array_foreach(json_object_get(c, "profiles"), i, v) {
        const char *name = json_is_string(v) ? json_string_value(v)
            : json_string_value(json_object_get(v, "name"));
        const json_t *n = json_object_get(v, "refused");

        out = apr_pstrcat(pool, out, i ? ", " : ": ", profile_link(pool, name
                          ? name : ""), n ? " (" : "", n ? text(pool, n) : "",
                          n ? ")" : "", NULL);
    }
    return out;
}

static const char *summary_html(apr_pool_t *pool, const json_t *doc)
{
    const json_t *sum = json_object_get(doc, "summary");

    if (!json_is_object(sum)) {
        return "";
    }
    return apr_pstrcat(pool, "<h2>Summary</h2>\n<table>\n"
        "<tr><th>profiles</th><td>",
        text(pool, json_object_get(sum, "profiles")), "</td></tr>\n"
        "<tr><th>no keys: the last fetch failed</th><td>",
        category_html(pool, json_object_get(sum, "errors")), "</td></tr>\n"
        "<tr><th>keys stale: the last refresh failed</th><td>",
        category_html(pool, json_object_get(sum, "stale")), "</td></tr>\n"
        "<tr><th>refusals (most refused)</th><td>",
        category_html(pool, json_object_get(sum, "refusals")),
        "</td></tr>\n</table>\n", NULL);
}

/* The shared memory and waiters tables, when the document has them. */
static const char *host_html(apr_pool_t *pool, const json_t *doc)
{
    const json_t *shm = json_object_get(doc, "shared_memory");
    const json_t *w = json_object_get(doc, "waiters");

    if (!json_is_object(shm) || !json_is_object(w)) {
        return "";
    }
    return apr_pstrcat(pool, "<h2>JWKS shared memory</h2>\n<table>\n",
                       rows(pool, shm), "</table>\n<h2>Requests waiting "
                       "for JWKS fetches</h2>\n<table>\n", rows(pool, w),
                       "</table>\n", NULL);
}

/* "Profiles a to b of n" and links to the pages around. */
static const char *paging_html(apr_pool_t *pool, const json_t *doc)
{
    const json_t *pg = json_object_get(doc, "paging");
    apr_int64_t off = json_integer_value(json_object_get(pg, "offset"));
    apr_int64_t lim = json_integer_value(json_object_get(pg, "limit"));
    apr_int64_t total = json_integer_value(json_object_get(pg, "total"));
    apr_int64_t shown = (apr_int64_t)json_array_size(
        json_object_get(doc, "profiles"));
    const char *out;

    if (!json_is_object(pg) || lim <= 0) {
        return "";
    }
    out = apr_psprintf(pool, "<p>Profiles %" APR_INT64_T_FMT " to %"
                       APR_INT64_T_FMT " of %" APR_INT64_T_FMT ", by name.",
                       shown ? off + 1 : 0, off + shown, total);
    if (off > 0) {
        out = apr_psprintf(pool, "%s <a href=\"?offset=%" APR_INT64_T_FMT
                           "&amp;limit=%" APR_INT64_T_FMT "\">previous</a>",
                           out, off > lim ? off - lim : 0, lim);
    }
    if (off + shown < total) {
        out = apr_psprintf(pool, "%s <a href=\"?offset=%" APR_INT64_T_FMT
                           "&amp;limit=%" APR_INT64_T_FMT "\">next</a>",
                           out, off + lim, lim);
    }
    return apr_pstrcat(pool, out, "</p>\n", NULL);
}

const char *ojw_status_html(apr_pool_t *pool, const json_t *doc)
{
    const char *out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                      "<title>mod_auth_ordsjwt status</title></head><body>\n"
                      "<h1>mod_auth_ordsjwt status</h1>\n";
    apr_array_header_t *parts = apr_array_make(pool, 16, sizeof(char *));
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
    APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(pool, out,
        summary_html(pool, doc), host_html(pool, doc),
        paging_html(pool, doc), NULL);
    json_array_foreach(json_object_get(doc, "profiles"), i, p) {
        APR_ARRAY_PUSH(parts, const char *) = profile_html(pool, p);
    }
    APR_ARRAY_PUSH(parts, const char *) = "</body></html>\n";
    return apr_array_pstrcat(pool, parts, 0);
}
