/* SPDX-License-Identifier: Apache-2.0 */
/* Room in a replay store that drops its oldest entries (replay_room.h). */
#include <stddef.h>
#include <string.h>

#include "replay_room.h"

/* A bucket's queue: a ring of capacity expiry times. */
typedef struct {
    unsigned int head;          /* the oldest entry */
    unsigned int count;
} queue_t;

struct ojw_room_s {
    unsigned int buckets;
    unsigned int capacity;
    apr_time_t logged;          /* ojw_room_log_due()'s last yes */
    queue_t queue[OJW_ROOM_MAX_BUCKETS];
    apr_time_t expiry[];        /* bucket b's ring at b * capacity */
};

apr_size_t ojw_room_size(unsigned int buckets, unsigned int capacity)
{
    if (buckets == 0 || buckets > OJW_ROOM_MAX_BUCKETS
        || (buckets & (buckets - 1)) != 0 || capacity == 0
        || capacity > OJW_ROOM_MAX_CAPACITY) {
        return 0;
    }
    return offsetof(ojw_room_t, expiry)
           + (apr_size_t)buckets * capacity * sizeof(apr_time_t);
}

ojw_room_t *ojw_room_init(void *mem, unsigned int buckets,
                          unsigned int capacity)
{
    ojw_room_t *r = mem;

    if (mem == NULL || ojw_room_size(buckets, capacity) == 0) {
        return NULL;
    }
    memset(r, 0, offsetof(ojw_room_t, expiry));
    r->buckets = buckets;
    r->capacity = capacity;
    return r;
}

int ojw_room_take(ojw_room_t *r, unsigned char first, apr_time_t expiry,
                  apr_time_t now, apr_time_t *free_at)
{
    unsigned int b = first & (r->buckets - 1);
    queue_t *q = &r->queue[b];
    apr_time_t *ring = r->expiry + (apr_size_t)b * r->capacity;

    /* what the store reclaims before it stores: the expired head */
    while (q->count > 0 && ring[q->head] <= now) {
        q->head = (q->head + 1) % r->capacity;
        q->count--;
    }
    if (q->count == r->capacity) {
        *free_at = ring[q->head];
        return 0;
    }
    ring[(q->head + q->count) % r->capacity] = expiry;
    q->count++;
    return 1;
}

unsigned int ojw_room_held(const ojw_room_t *r, unsigned char first)
{
    return r->queue[first & (r->buckets - 1)].count;
}

int ojw_room_log_due(ojw_room_t *r, apr_time_t now,
                     apr_interval_time_t every)
{
    if (r->logged != 0 && now - r->logged < every && now >= r->logged) {
        return 0;
    }
    r->logged = now;
    return 1;
}
