/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking calls with a deadline, one thread per lane (see lanes.h). */
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <apr_atomic.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include "lanes.h"

struct ojw_lane_t {
    apr_pool_t *pool;           /* unmanaged: outlives the lanes' pool */
    apr_pool_t *scratch;        /* cleared after each call */
    apr_pool_t *ctx_pool;       /* the context's, NULL when none */
    void *ctx;
    ojw_lanes_conf_t conf;      /* a copy: the lanes' may be gone */
    apr_thread_t *thread;
    apr_thread_mutex_t *mutex;  /* everything below */
    apr_thread_cond_t *wake;    /* a job is queued, or quit */
    apr_thread_cond_t *done;    /* the call returned */
    int busy;                   /* a caller's, or running a call given up */
    int queued;
    int finished;
    int abandoned;
    int quit;
    int ended;                  /* its thread is returning */
    apr_time_t deadline;
    apr_status_t status;
    apr_size_t len;
    unsigned char job[OJW_LANE_JOB_MAX];
    ojw_lane_t *next_orphan;
};

struct ojw_lanes_t {
    apr_thread_mutex_t *mutex;  /* the list */
    ojw_lanes_conf_t conf;
    ojw_lane_t **lane;          /* conf.max slots */
    int n;
};

/* Drops the lane's context (its pool with it). */
static void lane_drop(ojw_lane_t *l)
{
    if (l->ctx_pool) {
        if (l->ctx && l->conf.drop) {
            l->conf.drop(l->ctx, l->conf.baton);
        }
        apr_pool_destroy(l->ctx_pool);
    }
    l->ctx_pool = NULL;
    l->ctx = NULL;
}

/* The lane's context, made when it has none. */
static apr_status_t lane_ctx(ojw_lane_t *l)
{
    apr_status_t rv;

    if (l->ctx) {
        return APR_SUCCESS;
    }
    if ((rv = apr_pool_create(&l->ctx_pool, l->pool)) != APR_SUCCESS) {
        l->ctx_pool = NULL;
        return rv;
    }
    if ((rv = l->conf.make(&l->ctx, l->conf.baton, l->ctx_pool))
        != APR_SUCCESS || l->ctx == NULL) {
        lane_drop(l);
        return rv != APR_SUCCESS ? rv : APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The queued job, tried a second time on a fresh context when the first
 * call says the context is broken and the caller still waits. */
static apr_status_t lane_call(ojw_lane_t *l)
{
    apr_status_t rv = APR_EGENERAL;
    int tries, broken;

    for (tries = 0; tries < 2; tries++) {
        if ((rv = lane_ctx(l)) != APR_SUCCESS) {
            return rv;
        }
        broken = 0;
        rv = l->conf.call(l->ctx, l->conf.baton, l->job, l->len, l, &broken,
                          l->scratch);
        apr_pool_clear(l->scratch);
        if (!broken) {
            return rv;
        }
        lane_drop(l);
        if (!ojw_lane_wanted(l)) {
            return rv;
        }
    }
    return rv;
}

static void *APR_THREAD_FUNC lane_main(apr_thread_t *thread, void *data)
{
    ojw_lane_t *l = data;
    apr_status_t rv;

    (void)thread;
    apr_thread_mutex_lock(l->mutex);
    for (;;) {
        while (!l->queued && !l->quit) {
            apr_thread_cond_wait(l->wake, l->mutex);
        }
        if (l->quit) {
            break;
        }
        l->queued = 0;
        apr_thread_mutex_unlock(l->mutex);
        rv = lane_call(l);
        apr_thread_mutex_lock(l->mutex);
        l->status = rv;
        l->finished = 1;
        if (l->abandoned) {
            l->busy = 0;        /* nobody waits: the lane is free again */
        }
        else {
            apr_thread_cond_signal(l->done);
        }
    }
    l->ended = 1;
    apr_thread_mutex_unlock(l->mutex);
    return NULL;
}

/* Starts l's thread with every signal blocked: a signal sent to the
 * process (httpd's prefork child is ended by one) is for its own threads,
 * never for a lane that may sit in a store's read. */
static apr_status_t lane_start(ojw_lane_t *l)
{
    sigset_t all, old;
    apr_status_t rv;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = apr_thread_create(&l->thread, NULL, lane_main, l, l->pool);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rv;
}

/* A new lane, busy (taken by the caller), its thread started. */
static apr_status_t lane_new(ojw_lane_t **out, const ojw_lanes_conf_t *conf)
{
    apr_pool_t *p;
    ojw_lane_t *l;
    apr_status_t rv;

    if ((rv = apr_pool_create_unmanaged_ex(&p, NULL, NULL)) != APR_SUCCESS) {
        return rv;
    }
    l = apr_pcalloc(p, sizeof(*l));
    l->pool = p;
    l->conf = *conf;
    l->busy = 1;
    if ((rv = apr_pool_create(&l->scratch, p)) != APR_SUCCESS
        || (rv = apr_thread_mutex_create(&l->mutex, APR_THREAD_MUTEX_DEFAULT,
                                         p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&l->wake, p)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&l->done, p)) != APR_SUCCESS
        || (rv = lane_start(l)) != APR_SUCCESS) {
        apr_pool_destroy(p);
        return rv;
    }
    *out = l;
    return APR_SUCCESS;
}

/* Takes an idle lane, or makes one. */
static apr_status_t lanes_take(ojw_lanes_t *ls, ojw_lane_t **out)
{
    apr_status_t rv = APR_EAGAIN;
    int i;

    apr_thread_mutex_lock(ls->mutex);
    for (i = 0; i < ls->n && rv != APR_SUCCESS; i++) {
        apr_thread_mutex_lock(ls->lane[i]->mutex);
        if (!ls->lane[i]->busy) {
            ls->lane[i]->busy = 1;
            *out = ls->lane[i];
            rv = APR_SUCCESS;
        }
        apr_thread_mutex_unlock(ls->lane[i]->mutex);
    }
    if (rv != APR_SUCCESS && ls->n < ls->conf.max
        && (rv = lane_new(out, &ls->conf)) == APR_SUCCESS) {
        ls->lane[ls->n++] = *out;
    }
    apr_thread_mutex_unlock(ls->mutex);
    return rv;
}

/* Lanes still in a call when their lanes were destroyed: each ends when
 * its call returns; its memory (a few hundred bytes and a thread's stack)
 * stays until ojw_lanes_reap() or the process exits. */
static volatile void *orphans;

static void orphan(ojw_lane_t *l)
{
    void *head;

    do {
        head = apr_atomic_casptr(&orphans, NULL, NULL);
        l->next_orphan = head;
    } while (apr_atomic_casptr(&orphans, l, head) != head);
}

/* Joins an ended lane's thread and frees its memory. */
static void lane_free(ojw_lane_t *l)
{
    apr_status_t st;

    apr_thread_join(&st, l->thread);
    lane_drop(l);
    apr_pool_destroy(l->pool);
}

int ojw_lanes_reap(void)
{
    ojw_lane_t *l = apr_atomic_xchgptr(&orphans, NULL), *next;
    int ended, freed = 0;

    for (; l; l = next) {
        next = l->next_orphan;
        apr_thread_mutex_lock(l->mutex);
        ended = l->ended;
        apr_thread_mutex_unlock(l->mutex);
        if (ended) {
            lane_free(l);
            freed++;
        }
        else {
            orphan(l);
        }
    }
    return freed;
}

/* Ends the idle lanes; a lane still in a call ends when it returns. */
static apr_status_t lanes_cleanup(void *data)
{
    ojw_lanes_t *ls = data;
    int i, idle;

    for (i = 0; i < ls->n; i++) {
        ojw_lane_t *l = ls->lane[i];

        apr_thread_mutex_lock(l->mutex);
        l->quit = 1;
        idle = !l->busy;
        apr_thread_cond_signal(l->wake);
        apr_thread_mutex_unlock(l->mutex);
        if (idle) {
            lane_free(l);
        }
        else {
            orphan(l);
        }
    }
    ls->n = 0;
    return APR_SUCCESS;
}

apr_status_t ojw_lanes_create(ojw_lanes_t **lanes,
                              const ojw_lanes_conf_t *conf, apr_pool_t *pool)
{
    ojw_lanes_t *ls = apr_pcalloc(pool, sizeof(*ls));
    apr_status_t rv;

    if (conf->max < 1 || conf->make == NULL || conf->call == NULL) {
        return APR_EINVAL;
    }
    rv = apr_thread_mutex_create(&ls->mutex, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ls->conf = *conf;
    ls->lane = apr_pcalloc(pool, sizeof(*ls->lane) * (apr_size_t)conf->max);
    apr_pool_cleanup_register(pool, ls, lanes_cleanup, apr_pool_cleanup_null);
    *lanes = ls;
    return APR_SUCCESS;
}

/* Waits for l's call until deadline; APR_TIMEUP when it is given up. */
static apr_status_t lane_wait(ojw_lane_t *l, apr_time_t deadline)
{
    apr_time_t now;
    apr_status_t rv;

    while (!l->finished && (now = apr_time_now()) < deadline) {
        apr_thread_cond_timedwait(l->done, l->mutex, deadline - now);
    }
    if (l->finished) {
        rv = l->status;
        l->busy = 0;
    }
    else {
        rv = APR_TIMEUP;
        l->abandoned = 1;       /* the lane frees itself when it returns */
    }
    return rv;
}

apr_status_t ojw_lanes_run(ojw_lanes_t *ls, const void *job, apr_size_t len,
                           apr_time_t deadline)
{
    ojw_lane_t *l;
    apr_status_t rv;

    if (len > OJW_LANE_JOB_MAX) {
        return APR_EINVAL;
    }
    if ((rv = lanes_take(ls, &l)) != APR_SUCCESS) {
        return rv;
    }
    apr_thread_mutex_lock(l->mutex);
    memcpy(l->job, job, len);
    l->len = len;
    l->deadline = deadline;
    l->finished = 0;
    l->abandoned = 0;
    l->queued = 1;
    apr_thread_cond_signal(l->wake);
    rv = lane_wait(l, deadline);
    apr_thread_mutex_unlock(l->mutex);
    return rv;
}

int ojw_lane_wanted(ojw_lane_t *l)
{
    int wanted;

    apr_thread_mutex_lock(l->mutex);
    wanted = !l->abandoned && apr_time_now() < l->deadline;
    apr_thread_mutex_unlock(l->mutex);
    return wanted;
}

void ojw_lanes_count(ojw_lanes_t *ls, int *made, int *busy)
{
    int i;

    apr_thread_mutex_lock(ls->mutex);
    *made = ls->n;
    *busy = 0;
    for (i = 0; i < ls->n; i++) {
        apr_thread_mutex_lock(ls->lane[i]->mutex);
        *busy += ls->lane[i]->busy;
        apr_thread_mutex_unlock(ls->lane[i]->mutex);
    }
    apr_thread_mutex_unlock(ls->mutex);
}
