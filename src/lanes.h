/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking calls with a deadline, for a store whose client library cannot
 * be trusted to time out (the DPoP replay store's socache providers): each
 * call runs on a thread of its own, a lane, and the caller waits for it
 * at most until its deadline. A call that hangs keeps its lane, never the
 * caller; the lane takes jobs again once the call returns. Each lane owns
 * a context (e.g. a socache instance with its own connections) made by a
 * factory, and makes it afresh after a call that reports it broken; the
 * call is then tried once more on the fresh context, if the caller still
 * waits. A lane never touches the caller's memory: the job is copied in,
 * and a lane whose call hangs keeps its own memory (an unmanaged pool)
 * after the lanes are destroyed, until ojw_lanes_reap().
 */
#ifndef OJW_LANES_H
#define OJW_LANES_H

#include <apr_pools.h>
#include <apr_time.h>

#define OJW_LANE_JOB_MAX 64     /* bytes of a job */

typedef struct ojw_lane_t ojw_lane_t;
typedef struct ojw_lanes_t ojw_lanes_t;

typedef struct {
    /* Makes *ctx in pool (the context's own; destroyed to drop it). */
    apr_status_t (*make)(void **ctx, void *baton, apr_pool_t *pool);
    /* Before the context's pool is destroyed; may be NULL. */
    void (*drop)(void *ctx, void *baton);
    /* The call: the job (len bytes) on ctx, temporary memory from
     * scratch; *broken = 1 when ctx must be made afresh (a connection
     * lost). Between two steps that must not run once the caller gave
     * up, it asks ojw_lane_wanted(lane). */
    apr_status_t (*call)(void *ctx, void *baton, const void *job,
                         apr_size_t len, ojw_lane_t *lane, int *broken,
                         apr_pool_t *scratch);
    void *baton;                /* lives as long as the process */
    int max;                    /* lanes at most: one per caller thread,
                                 * plus those a hung call holds */
} ojw_lanes_conf_t;

/* Lanes (none running yet) in pool; destroying pool ends the idle lanes
 * and leaves those whose call hangs to end when it returns. */
apr_status_t ojw_lanes_create(ojw_lanes_t **lanes,
                              const ojw_lanes_conf_t *conf, apr_pool_t *pool);

/* Runs job (len bytes) on an idle lane, a new one when none is idle and
 * there are fewer than max, and waits until deadline: the call's status;
 * APR_TIMEUP when the caller stopped waiting (the call goes on, its lane
 * is used again once it returns); APR_EAGAIN when every lane is busy;
 * APR_EINVAL when the job is too large. */
apr_status_t ojw_lanes_run(ojw_lanes_t *lanes, const void *job,
                           apr_size_t len, apr_time_t deadline);

/* 0 once the caller of the lane's job stopped waiting (gave up, or its
 * deadline passed): the call must not take its next step. */
int ojw_lane_wanted(ojw_lane_t *lane);

/* Frees the lanes left in a call when their lanes were destroyed whose
 * call has since returned; how many. Call it from one thread at a time. */
int ojw_lanes_reap(void);

/* How many lanes were made, and how many are busy now. */
void ojw_lanes_count(ojw_lanes_t *lanes, int *made, int *busy);

#endif
