/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the ordsjwt-status handler (SetHandler ordsjwt-status):
 * per profile its settings, the keys held, the JWKS fetch state and the
 * refusal counters, as HTML or, with ?json, as JSON (src/status.c), or
 * in the Prometheus text format (src/metrics.c) with ?metrics or when the
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

/* The keys, slot state and last error of an https profile, read now. */
static void slot_status(request_rec *r, const ojw_profile_t *p,
                        ojw_status_profile_t *sp)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_slot_state_t *state = apr_pcalloc(r->pool, sizeof(*state));
    char *doc = NULL, *error = apr_pcalloc(r->pool, OJW_ERROR_MAX);
    apr_size_t len = 0;
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    if (st == NULL || !st->active || p->slot < 0
        || ojw_cache_read(st->cache, p->slot, 0, r->pool, &doc, &len,
                          state) != APR_SUCCESS) {
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
    sp->slot = state;
    sp->last_error = error;
}

static json_t *profile_status(request_rec *r, const ojw_profile_t *p,
                              long long now)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;
    static const ojw_refresh_policy_t no_policy;
    ojw_status_profile_t sp;

    memset(&sp, 0, sizeof(sp));
    sp.profile = p;
    sp.allowed_skew = ojw_profile_skew(p, ojw_setting(n, OJW_SET_SKEW));
    sp.allowed_age = ojw_profile_age(p, ojw_setting(n, OJW_SET_AGE));
    sp.keys = p->static_keys;
    sp.counters = ordsjwt_counters(p);
    if (p->static_keys == NULL) {
        slot_status(r, p, &sp);
    }
    return ojw_status_profile_json(&sp, ordsjwt_state ? &ordsjwt_state->policy
                                                      : &no_policy, now);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The status document for the profiles this server sees, by name. */
static json_t *status_document(request_rec *r)
{
    apr_hash_t *profiles = ordsjwt_srv_conf(r->server)->profiles;
    apr_array_header_t *names = apr_array_make(r->pool, 8, sizeof(char *));
    long long now = apr_time_sec(apr_time_now());
    json_t *doc = json_object(), *list = json_array();
    apr_hash_index_t *hi;
    int i;

    for (hi = apr_hash_first(r->pool, profiles); hi; hi = apr_hash_next(hi)) {
        APR_ARRAY_PUSH(names, const char *) = apr_hash_this_key(hi);
    }
    qsort(names->elts, names->nelts, sizeof(char *), compare_names);
    for (i = 0; i < names->nelts; i++) {
        json_array_append_new(list, profile_status(r, apr_hash_get(profiles,
            APR_ARRAY_IDX(names, i, const char *), APR_HASH_KEY_STRING), now));
    }
    json_object_set_new(doc, "version", json_string(ojw_version()));
    json_object_set_new(doc, "generated", json_integer(now));
    json_object_set_new(doc, "profiles", list);
    json_object_set_new(doc, "unattributed_refusals",
                        ojw_status_counters_json(ordsjwt_counters(NULL)));
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

/* 0 HTML, 1 JSON, 2 Prometheus: ?json, ?metrics, else the Accept. */
static int status_format(request_rec *r)
{
    if (r->args && strcmp(r->args, "json") == 0) {
        return 1;
    }
    if (r->args && strcmp(r->args, "metrics") == 0) {
        return 2;
    }
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    return ojw_metrics_accepted(apr_table_get(r->headers_in, "Accept"))
           ? 2 : 0;
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
    json_t *doc;
    int format;

    if (r->handler == NULL || strcmp(r->handler, ORDSJWT_STATUS_HANDLER) != 0) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    format = status_format(r);
    doc = status_document(r);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (format == 2) {
        send_metrics(r, doc);
    }
    else if (format == 1) {
        send_json(r, doc);
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        ap_rputs(ojw_status_html(r->pool, doc), r);
    }
    json_decref(doc);
    return OK;
}
