/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The health of a store that the processes of one host share (the DPoP
 * replay store): up, or down since a time, with one probe at a time
 * while it is down, so that the other requests are answered at once
 * instead of piling up on a store that does not answer. The state lives
 * in shared memory and changes with APR's atomic operations only: a
 * process that dies holds no lock. Time is the caller's.
 */
#ifndef OJW_BREAKER_H
#define OJW_BREAKER_H

#include <apr_time.h>

typedef struct {
    volatile apr_uint64_t down_since;   /* apr_time_t; 0 while up */
    volatile apr_uint64_t next_probe;   /* apr_time_t: the next probe's turn */
} ojw_breaker_t;

typedef enum {
    OJW_STORE_USE,          /* up: use the store */
    OJW_STORE_PROBE,        /* down, and this caller is the one to probe */
    OJW_STORE_REFUSE        /* down: another probes, or not yet time */
} ojw_store_verdict_t;

/* Up. */
void ojw_breaker_init(ojw_breaker_t *b);

/* Whether a caller may use the store at now: while it is down, one caller
 * per interval `every` is let through to probe it. */
ojw_store_verdict_t ojw_breaker_admit(ojw_breaker_t *b, apr_time_t now,
                                      apr_interval_time_t every);

/* What a use or a probe found (ok: the store answered); 1 when this call
 * marked it down, -1 when it marked it up again, else 0 (so that only
 * the change is logged). */
int ojw_breaker_report(ojw_breaker_t *b, int ok, apr_time_t now,
                       apr_interval_time_t every);

/* When the store went down, or 0 while it is up. */
apr_time_t ojw_breaker_down_since(ojw_breaker_t *b);

#endif
