/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text exposition of the status document (see metrics.h). */
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "metrics.h"

typedef apr_array_header_t buf_t;   /* of char, not terminated */

static void put(buf_t *b, const char *s)
{
    for (; *s; s++) {
        *(char *)apr_array_push(b) = *s;
    }
}

static void putf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(buf_t *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    put(b, apr_pvsprintf(b->pool, fmt, ap));
    va_end(ap);
}

const char *ojw_prom_label_value(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* 1 when the media range [s, end) is text/plain with version=0.0.4. */
static int is_text_004(const char *s, const char *end)
{
    const char *p;

    s += strspn(s, " \t");
    if ((size_t)(end - s) < 10 || strncasecmp(s, "text/plain", 10) != 0) {
        return 0;
    }
    for (p = s + 10; p < end; p++) {
        if ((size_t)(end - p) >= 13 && strncasecmp(p, "version=0.0.4", 13) == 0
            && (p + 13 == end || p[13] == ';' || p[13] == ' ')) {
            return 1;
        }
    }
    return 0;
}

int ojw_metrics_accepted(const char *accept)
{
    const char *end;

    while (accept && *accept) {
        end = strchr(accept, ',');
        if (end == NULL) {
            end = accept + strlen(accept);
        }
        if (is_text_004(accept, end)) {
            return 1;
        }
        accept = *end ? end + 1 : end;
    }
    return 0;
}

static void family(buf_t *b, const char *name, const char *type,
                   const char *help)
{
    putf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static apr_int64_t int_of(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_integer(v) ? (apr_int64_t)json_integer_value(v) : 0;
}

static const char *name_label(apr_pool_t *pool, const json_t *p)
{
    const json_t *name = json_object_get(p, "name");

    return ojw_prom_label_value(pool, json_is_string(name)
                                      ? json_string_value(name) : "");
}

/* profile="...",jwk_url="..." of a profile with a fetched JWKS, or NULL. */
static const char *jwks_labels(apr_pool_t *pool, const json_t *p)
{
    const json_t *url = json_object_get(p, "jwk_url");

    if (!json_is_object(json_object_get(p, "jwks")) || !json_is_string(url)) {
        return NULL;
    }
    return apr_psprintf(pool, "profile=\"%s\",jwk_url=\"%s\"",
                        name_label(pool, p),
                        ojw_prom_label_value(pool, json_string_value(url)));
}

static void refusals(buf_t *b, const char *profile, const json_t *refused)
{
    const char *reason;
    json_t *n;

    json_object_foreach((json_t *)refused, reason, n) {
        if (!json_is_integer(n) || json_integer_value(n) == 0) {
            continue;           /* a series appears with its first refusal */
        }
        putf(b, "ordsjwt_refusals_total{profile=\"%s\",reason=\"%s\"} "
             "%" APR_INT64_T_FMT "\n",
             profile, ojw_prom_label_value(b->pool, reason),
             (apr_int64_t)json_integer_value(n));
    }
}

static void tokens(buf_t *b, const json_t *profiles)
{
    const json_t *p;
    size_t i;

    family(b, "ordsjwt_tokens_accepted_total", "counter",
           "Tokens accepted by authentication (a Require ords-* that "
           "refuses one afterwards counts in ordsjwt_refusals_total too), "
           "summed over all child processes since the last restart.");
    json_array_foreach(profiles, i, p) {
        putf(b, "ordsjwt_tokens_accepted_total{profile=\"%s\"} "
             "%" APR_INT64_T_FMT "\n",
             name_label(b->pool, p), int_of(p, "accepted"));
    }
}

static void refused(buf_t *b, const json_t *doc)
{
    const json_t *profiles = json_object_get(doc, "profiles"), *p;
    size_t i;

    family(b, "ordsjwt_refusals_total", "counter",
           "Requests refused, by reason, summed over all child processes "
           "since the last restart (a series appears with its first "
           "refusal); profile=\"\": before a profile was chosen.");
    json_array_foreach(profiles, i, p) {
        refusals(b, name_label(b->pool, p), json_object_get(p, "refused"));
    }
    refusals(b, "", json_object_get(doc, "unattributed_refusals"));
}

static void keys_held(buf_t *b, const json_t *profiles)
{
    const json_t *p;
    size_t i;

    family(b, "ordsjwt_keys", "gauge",
           "Signing keys the profile holds now.");
    json_array_foreach(profiles, i, p) {
        const json_t *n = json_object_get(p, "nkeys");

        putf(b, "ordsjwt_keys{profile=\"%s\"} %lu\n", name_label(b->pool, p),
             json_is_integer(n) ? (unsigned long)json_integer_value(n)
             : (unsigned long)json_array_size(json_object_get(p, "keys")));
    }
}

/* A gauge or counter of the host, from member key of the document's
 * object obj; no family when the document has no such object. */
static void host_value(buf_t *b, const json_t *doc, const char *obj,
                       const char *key, const char *name, const char *type,
                       const char *help)
{
    const json_t *v = json_object_get(json_object_get(doc, obj), key);

    if (json_is_integer(v)) {
        family(b, name, type, help);
        putf(b, "%s %" APR_INT64_T_FMT "\n", name,
             (apr_int64_t)json_integer_value(v));
    }
}

static void host(buf_t *b, const json_t *doc)
{
    host_value(b, doc, "waiters", "waiting", "ordsjwt_jwks_waiting_requests",
               "gauge", "Requests waiting now for JWKS fetches in flight, "
               "all JWK URLs together.");
    host_value(b, doc, "waiters", "bound", "ordsjwt_jwks_waiting_requests_max",
               "gauge", "OrdsJwtJwksMaxWaiters: the most requests that wait "
               "for JWKS fetches (after a fetch's first 100 ms).");
    host_value(b, doc, "waiters", "refused", "ordsjwt_jwks_waits_refused_total",
               "counter", "Requests answered 503 at once because enough "
               "requests waited for JWKS fetches, since the parent started.");
    host_value(b, doc, "shared_memory", "used",
               "ordsjwt_jwks_shared_memory_used_bytes", "gauge",
               "Bytes of the shared memory for JWKS documents in use.");
    host_value(b, doc, "shared_memory", "size",
               "ordsjwt_jwks_shared_memory_bytes", "gauge",
               "OrdsJwtJwksCacheSize: bytes of shared memory for JWKS "
               "documents.");
    host_value(b, doc, "shared_memory", "refused_no_room",
               "ordsjwt_jwks_no_room_total", "counter",
               "Fetched JWKS documents refused for want of room in the "
               "shared memory (raise OrdsJwtJwksCacheSize).");
}

/* One JWKS family: the member key of each profile's "jwks" object; with
 * relative, that value minus "generated". No sample where it is absent. */
static void jwks_family(buf_t *b, const json_t *doc, const char *name,
                        const char *type, const char *help, const char *key,
                        int relative)
{
    const json_t *p;
    apr_int64_t now = int_of(doc, "generated");
    size_t i;

    family(b, name, type, help);
    json_array_foreach(json_object_get(doc, "profiles"), i, p) {
        const char *labels = jwks_labels(b->pool, p);
        const json_t *v = json_object_get(json_object_get(p, "jwks"), key);

        if (labels && json_is_integer(v)) {
            putf(b, "%s{%s} %" APR_INT64_T_FMT "\n", name, labels,
                 (apr_int64_t)json_integer_value(v) - (relative ? now : 0));
        }
    }
}

static void jwks(buf_t *b, const json_t *doc)
{
    jwks_family(b, doc, "ordsjwt_jwks_fetches_total", "counter",
                "JWKS fetches of the profile's jwk_url (profiles that share "
                "a jwk_url share its fetches) since the parent started.",
                "fetches", 0);
    jwks_family(b, doc, "ordsjwt_jwks_fetch_failures_total", "counter",
                "Failed JWKS fetches of the profile's jwk_url since the "
                "parent started.", "failures", 0);
    jwks_family(b, doc, "ordsjwt_jwks_age_seconds", "gauge",
                "Seconds since the keys in use were fetched (no sample: never "
                "fetched).", "age", 0);
    jwks_family(b, doc, "ordsjwt_jwks_next_refresh_seconds", "gauge",
                "Seconds until the keys are due for a refresh (negative: "
                "overdue, refreshed on the next request that needs them).",
                "next_refresh", 1);
}

static void cache(buf_t *b, const ojw_metrics_cache_t *c)
{
    if (c == NULL || !c->enabled) {
        return;
    }
    family(b, "ordsjwt_token_cache_hits_total", "counter",
           "Requests answered from a process's token cache, summed over "
           "all child processes since the last restart.");
    putf(b, "ordsjwt_token_cache_hits_total %lu\n", c->hits);
    family(b, "ordsjwt_token_cache_misses_total", "counter",
           "Requests whose token was not in the token cache or no longer "
           "good there, summed over all child processes since the last "
           "restart.");
    putf(b, "ordsjwt_token_cache_misses_total %lu\n", c->misses);
    family(b, "ordsjwt_token_cache_entries", "gauge",
           "Tokens in the token cache of the one process that answered this "
           "scrape (each process has its own cache).");
    putf(b, "ordsjwt_token_cache_entries %lu\n", c->entries);
    family(b, "ordsjwt_token_cache_max_entries", "gauge",
           "OrdsJwtTokenCache: the most tokens one process's cache holds.");
    putf(b, "ordsjwt_token_cache_max_entries %lu\n", c->max_entries);
}

const char *ojw_metrics_text(apr_pool_t *pool, const json_t *doc,
                             const ojw_metrics_cache_t *c)
{
    buf_t *b = apr_array_make(pool, 8192, 1);
    const json_t *profiles = json_object_get(doc, "profiles");

    tokens(b, profiles);
    refused(b, doc);
    keys_held(b, profiles);
    jwks(b, doc);
    host(b, doc);
    cache(b, c);
    *(char *)apr_array_push(b) = '\0';
    return b->elts;
}
