/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Room in a replay store that makes room by dropping its oldest entries,
 * live or not (httpd's shmcb, see shmcb.h): a mirror of what each of its
 * subcaches (buckets, chosen by an id's first byte) holds, so that the
 * caller refuses a new entry instead of letting the store drop a live
 * one. Per bucket, a queue of expiry times in the order they were
 * stored: like shmcb, it reclaims only the expired entries at the head
 * of a queue, so an expired entry behind a live one still takes room.
 * The caller keeps the mirror in shared memory and calls it under the
 * store's own lock, once per entry it stores; time is the caller's.
 */
#ifndef OJW_REPLAY_ROOM_H
#define OJW_REPLAY_ROOM_H

#include <apr_time.h>

#define OJW_ROOM_MAX_BUCKETS    256     /* a byte chooses the bucket */
#define OJW_ROOM_MAX_CAPACITY   (1u << 24)  /* shmcb holds far fewer */

typedef struct ojw_room_s ojw_room_t;

/* The bytes a room of buckets (a power of two, at most 256) of capacity
 * entries each (1 to OJW_ROOM_MAX_CAPACITY) takes, or 0 when those are
 * not valid. */
apr_size_t ojw_room_size(unsigned int buckets, unsigned int capacity);

/* An empty room laid out in mem (ojw_room_size() bytes, aligned as
 * apr_shm or malloc give memory), or NULL when the figures are not
 * valid. */
ojw_room_t *ojw_room_init(void *mem, unsigned int buckets,
                          unsigned int capacity);

/* Takes room for an entry whose id starts with first, kept until expiry
 * (the store reclaims it once expiry <= now): 1; or 0, nothing taken,
 * when its bucket holds capacity entries that are not all reclaimed at
 * now, with *free_at the time the oldest of them expires. */
int ojw_room_take(ojw_room_t *r, unsigned char first, apr_time_t expiry,
                  apr_time_t now, apr_time_t *free_at);

/* The entries the bucket of first holds (reclaimed at the last take). */
unsigned int ojw_room_held(const ojw_room_t *r, unsigned char first);

/* 1 once per interval every (for the room's shared log line), else 0. */
int ojw_room_log_due(ojw_room_t *r, apr_time_t now,
                     apr_interval_time_t every);

#endif
