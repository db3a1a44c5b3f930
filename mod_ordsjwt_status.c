/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the ordsjwt-status handler (SetHandler ordsjwt-status):
 * a summary of the profiles (fetch errors, stale keys, refusals), the
 * host's JWKS shared memory and waiting requests, then per profile its
 * settings, the keys held, the JWKS fetch state and the refusal counters,
 * a page at a time (?offset=N&limit=N) or one (?profile=NAME), as HTML
 * or, with ?json, as JSON (src/status.c); or every profile in the
 * Prometheus text format (src/metrics.c) with ?metrics or when the
 * client's Accept asks for text/plain; version=0.0.4 (as Prometheus does).
 */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "status.h"
#include "metrics.h"

/* The slot's state, last error and (discovery) jwks_uri, read now; with
 * detail, its keys too (parsing the document). */
static void slot_status(request_rec *r, const ojw_profile_t *p, int detail,
                        ojw_status_profile_t *sp)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_slot_state_t *state = apr_pcalloc(r->pool, sizeof(*state));
    char *doc = NULL, *error = apr_pcalloc(r->pool, OJW_ERROR_MAX);
    apr_size_t len = 0;
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    if (st == NULL || !st->active || p->slot < 0
        || (detail ? ojw_cache_read(st->cache, p->slot, 0, r->pool, &doc,
                                    &len, state)
                   : ojw_cache_state(st->cache, p->slot, state))
           != APR_SUCCESS) {
        return;
    }
    ojw_cache_last_error(st->cache, p->slot, error, OJW_ERROR_MAX);
    if (p->discovery_url) {
        char *uri = apr_pcalloc(r->pool, OJW_URL_MAX);

        ojw_cache_source(st->cache, p->slot, uri, OJW_URL_MAX,
                         &sp->discovered_at);
        sp->jwks_uri = uri;
    }
    if (doc && ojw_jwks_parse(&ks, doc, len, r->pool, NULL, NULL, errbuf,
                              sizeof(errbuf)) == APR_SUCCESS) {
        sp->keys = ks;
    }
    sp->nkeys = (int)state->nkeys;
    sp->slot = state;
    sp->last_error = error;
}

/* One profile's object; without detail no key list (no parse). */
static json_t *profile_status(request_rec *r, const ojw_profile_t *p,
                              long long now, int detail)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;
    static const ojw_refresh_policy_t no_policy;
    ojw_status_profile_t sp;

    memset(&sp, 0, sizeof(sp));
    sp.profile = p;
    sp.light = !detail;
    sp.allowed_skew = ojw_profile_skew(p, ojw_setting(n, OJW_SET_SKEW));
    sp.allowed_age = ojw_profile_age(p, ojw_setting(n, OJW_SET_AGE));
    sp.keys = p->static_keys;
    sp.counters = ordsjwt_counters(p);
    if (p->static_keys == NULL) {
        slot_status(r, p, detail, &sp);
    }
    return ojw_status_profile_json(&sp, ordsjwt_state ? &ordsjwt_state->policy
                                                      : &no_policy, now);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the profiles asked for, sorted; NULL when the profile
 * asked for is not one of this server's. */
static apr_array_header_t *profile_names(request_rec *r, apr_hash_t *profiles,
                                         const ojw_status_query_t *q)
{
    apr_array_header_t *names = apr_array_make(r->pool, 8, sizeof(char *));
    apr_hash_index_t *hi;

    if (q->profile) {
        if (apr_hash_get(profiles, q->profile, APR_HASH_KEY_STRING) == NULL) {
            return NULL;
        }
        APR_ARRAY_PUSH(names, const char *) = q->profile;
        return names;
    }
    for (hi = apr_hash_first(r->pool, profiles); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(names, const char *) = apr_hash_this_key(hi);
    }
    qsort(names->elts, names->nelts, sizeof(char *), compare_names);
    return names;
}

/* The host's numbers: the JWKS region and the requests waiting. */
static void host_status(json_t *doc)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_cache_usage_t u;

    if (st == NULL || !st->active
        || ojw_cache_usage(st->cache, apr_time_as_msec(apr_time_now()),
                           &st->policy, &u) != APR_SUCCESS) {
        return;
    }
    json_object_set_new(doc, "shared_memory", json_pack(
        "{s:I, s:I, s:i, s:I, s:I}", "size", (json_int_t)u.region,
        "used", (json_int_t)u.used, "documents", u.documents,
        "largest_document", (json_int_t)u.largest,
        "refused_no_room", (json_int_t)u.full));
    json_object_set_new(doc, "waiters", json_pack(
        "{s:i, s:i, s:I, s:i}", "bound", u.places, "waiting", u.waiting,
        "refused", (json_int_t)u.refused, "max_request_workers",
        st->workers));
}

/* Every profile asked for, without key lists (no document parsed). */
static json_t *all_profiles(request_rec *r, apr_hash_t *profiles,
                            const apr_array_header_t *names, long long now)
{
    json_t *list = json_array();
    int i;

    for (i = 0; i < names->nelts; i++) {
        json_array_append_new(list, profile_status(r, apr_hash_get(profiles,
            APR_ARRAY_IDX(names, i, const char *), APR_HASH_KEY_STRING), now,
            0));
    }
    return list;
}

/* The page of profiles q asks for, with their keys. */
static json_t *page_of(request_rec *r, apr_hash_t *profiles,
                       const apr_array_header_t *names,
                       const ojw_status_query_t *q, long long now)
{
    json_t *list = json_array();
    long i;

    for (i = q->offset; i < names->nelts && i < q->offset + q->limit; i++) {
        json_array_append_new(list, profile_status(r, apr_hash_get(profiles,
            APR_ARRAY_IDX(names, i, const char *), APR_HASH_KEY_STRING), now,
            1));
    }
    return list;
}

/* The status document for the profiles this server sees, by name: for
 * metrics every one of them (no keys parsed); else a summary of them and
 * the page asked for. NULL: no such profile. */
static json_t *status_document(request_rec *r, const ojw_status_query_t *q)
{
    apr_hash_t *profiles = ordsjwt_srv_conf(r->server)->profiles;
    apr_array_header_t *names = profile_names(r, profiles, q);
    long long now = apr_time_sec(apr_time_now());
    json_t *doc, *all, *unattributed;

    if (names == NULL) {
        return NULL;
    }
    doc = json_object();
    all = all_profiles(r, profiles, names, now);
    unattributed = ojw_status_counters_json(ordsjwt_counters(NULL));
    json_object_set_new(doc, "version", json_string(ojw_version()));
    json_object_set_new(doc, "generated", json_integer(now));
    host_status(doc);
    if (q->format == OJW_STATUS_METRICS) {
        json_object_set_new(doc, "profiles", all);
    }
    else {
        json_object_set_new(doc, "summary",
                            ojw_status_summary(all, unattributed));
        json_decref(all);
        json_object_set_new(doc, "paging", json_pack(
            "{s:I, s:I, s:I}", "offset", (json_int_t)q->offset, "limit",
            (json_int_t)q->limit, "total", (json_int_t)names->nelts));
        json_object_set_new(doc, "profiles", page_of(r, profiles, names, q,
                                                     now));
    }
    json_object_set_new(doc, "unattributed_refusals", unattributed);
    return doc;
}

/* The token cache numbers: requests from shared memory, entries of
 * this process. */
static void cache_numbers(ojw_metrics_cache_t *mc)
{
    ordsjwt_state_t *st = ordsjwt_state;
    const apr_uint32_t *c = ordsjwt_cache_counters();
    ojw_token_cache_stats_t ts;

    memset(mc, 0, sizeof(*mc));
    if (st == NULL || st->token_cache_size <= 0) {
        return;
    }
    mc->enabled = 1;
    if (c) {
        mc->hits = c[ORDSJWT_CACHE_HIT];
        mc->misses = c[ORDSJWT_CACHE_MISS];
    }
    if (st->tokens) {
        ojw_token_cache_stats(st->tokens, &ts);
        mc->entries = (unsigned long)ts.entries;
        mc->max_entries = (unsigned long)ts.max_entries;
    }
}

/* The query (src/status.c); without json or metrics the Accept header
 * chooses between HTML and Prometheus. OK or HTTP_BAD_REQUEST. */
static int parse_query(request_rec *r, ojw_status_query_t *q)
{
    if (ojw_status_query_parse(q, r->args, r->pool) != APR_SUCCESS) {
        return HTTP_BAD_REQUEST;
    }
    if (q->format < 0) {
        apr_table_mergen(r->headers_out, "Vary", "Accept");
        q->format = ojw_metrics_accepted(apr_table_get(r->headers_in,
                                                       "Accept"))
                    ? OJW_STATUS_METRICS : OJW_STATUS_HTML;
    }
    return OK;
}

static void send_metrics(request_rec *r, const json_t *doc)
{
    ojw_metrics_cache_t mc;

    cache_numbers(&mc);
    ap_set_content_type(r, OJW_METRICS_CONTENT_TYPE);
    ap_rputs(ojw_metrics_text(r->pool, doc, &mc), r);
}

static void send_json(request_rec *r, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

    ap_set_content_type(r, "application/json");
    ap_rputs(text ? text : "{}", r);
    ap_rputs("\n", r);
    free(text);
}

int ordsjwt_status_handler(request_rec *r)
{
    ojw_status_query_t q;
    json_t *doc;
    int rc;

    if (r->handler == NULL || strcmp(r->handler, ORDSJWT_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if ((rc = parse_query(r, &q)) != OK) {
        return rc;
    }
    if ((doc = status_document(r, &q)) == NULL) {
        return HTTP_NOT_FOUND;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (q.format == OJW_STATUS_METRICS) {
        send_metrics(r, doc);
    }
    else if (q.format == OJW_STATUS_JSON) {
        send_json(r, doc);
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        ap_rputs(ojw_status_html(r->pool, doc), r);
    }
    json_decref(doc);
    return OK;
}
