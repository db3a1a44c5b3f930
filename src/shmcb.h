/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What httpd's shmcb socache (mod_socache_shmcb.c, httpd 2.4) makes of a
 * segment size and the hints it is given: it splits the segment into a
 * power of two of subcaches, chosen by an id's first byte, each with a
 * fixed number of index entries and a fixed data area. A subcache that
 * has no room for a new entry (no free index entry, or too few data
 * bytes) drops its oldest entries, expired or not. Arithmetic only, so
 * that the module can say what a size holds and guard against the drop
 * (replay_room.h); the module checks this model against a scratch shmcb
 * at startup.
 */
#ifndef OJW_SHMCB_H
#define OJW_SHMCB_H

#include <apr.h>

#define OJW_SHMCB_DEFAULT_SIZE  (512 * 1024)        /* shmcb's default */
#define OJW_SHMCB_MIN_SIZE      8192
#define OJW_SHMCB_MAX_SIZE      (64 * 1024 * 1024)  /* sizes stay below */

/* How shmcb lays a segment out for entries of one length. */
typedef struct {
    apr_size_t size;            /* the segment, bytes */
    unsigned int subcaches;     /* a power of two: id[0] & (subcaches - 1) */
    unsigned int indexes;       /* index entries per subcache */
    apr_size_t data_size;       /* data bytes per subcache */
    unsigned int capacity;      /* entries a subcache holds before a drop */
} ojw_shmcb_t;

/* The segment size that shmcb takes from its argument "PATH(BYTES)" (or
 * PATH alone, or none: the default): 1, or 0 when shmcb refuses it. */
int ojw_shmcb_size(apr_size_t *size, const char *args);

/* The hints (ap_socache_hints' avg_id_len, avg_obj_size) under which
 * shmcb holds the most entries of an id_len-byte id and an obj_len-byte
 * value: shmcb divides the segment by their sum to count index entries,
 * so the sum must be all that one entry costs, its index entry too. */
void ojw_shmcb_hints(apr_size_t *id_hint, apr_size_t *obj_hint,
                     apr_size_t id_len, apr_size_t obj_len);

/* The layout of a size-byte segment with those hints (0: shmcb's
 * default) for entries of entry_len bytes (id and value): 1, or 0 when
 * shmcb refuses the size or a subcache cannot hold one entry. */
int ojw_shmcb_layout(ojw_shmcb_t *out, apr_size_t size, apr_size_t id_hint,
                     apr_size_t obj_hint, apr_size_t entry_len);

/* All the entries it holds, every subcache full. */
unsigned long ojw_shmcb_total(const ojw_shmcb_t *l);

/* About how many entries with random ids it takes before a first
 * subcache is full (the fullest subcache fills first): below the
 * median, near the 5th percentile of that count. */
unsigned long ojw_shmcb_expected(const ojw_shmcb_t *l);

/* The smallest size from which shmcb, with ojw_shmcb_hints(), takes at
 * least want such entries before a first subcache is full (about), or 0
 * when no size shmcb accepts does. */
apr_size_t ojw_shmcb_size_for(unsigned long want, apr_size_t id_len,
                              apr_size_t obj_len);

#endif
