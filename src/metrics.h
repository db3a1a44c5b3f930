/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status document (status.h) in the Prometheus text exposition format
 * (version 0.0.4): pure formatting, no httpd. Metric names carry the
 * ordsjwt_ prefix, counters end in _total, units are in the names.
 */
#ifndef OJW_METRICS_H
#define OJW_METRICS_H

#include <jansson.h>
#include <apr_pools.h>

/* The Content-Type of what ojw_metrics_text() writes. */
#define OJW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Token cache numbers: requests counted by every process (shared memory),
 * entries of the process that answers. */
typedef struct {
    int enabled;                    /* 0: OrdsJwtTokenCache off, no metrics */
    unsigned long hits, misses;     /* all processes since the last restart */
    unsigned long entries, max_entries;     /* this process */
} ojw_metrics_cache_t;

/* s as a label value: backslash, double quote and line feed escaped as
 * the exposition format requires; other bytes unchanged. */
const char *ojw_prom_label_value(apr_pool_t *pool, const char *s);

/* 1 when an Accept header value asks for the text format 0.0.4 (a
 * text/plain media range with version=0.0.4, as Prometheus sends it). */
int ojw_metrics_accepted(const char *accept);

/* The exposition of a status document {"generated": N, "profiles": [...],
 * "unattributed_refusals": {...}} and the token cache (may be NULL). */
const char *ojw_metrics_text(apr_pool_t *pool, const json_t *doc,
                             const ojw_metrics_cache_t *cache);

#endif
