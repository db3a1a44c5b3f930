/* SPDX-License-Identifier: Apache-2.0 */
/* What httpd's shmcb makes of a size (see shmcb.h). */
#include <stdlib.h>
#include <string.h>

#include <apr_time.h>

#include "shmcb.h"

#define SIZE_STEP       4096    /* ojw_shmcb_size_for's grid */
#define LN2             0.6931471805599453

/* Stand-ins with the members of shmcb's private structures, for their
 * sizes on this platform: the segment header (eight counters, five
 * sizes), a subcache's header (four positions) and an index entry (an
 * expiry, three offsets, a removed flag). */
typedef struct {
    unsigned long counters[8];
    unsigned int sizes[5];
} seg_header_t;

typedef struct {
    unsigned int positions[4];
} sub_header_t;

typedef struct {
    apr_time_t expires;
    unsigned int offsets[3];
    unsigned char removed;
} index_entry_t;

int ojw_shmcb_size(apr_size_t *size, const char *args)
{
    const char *open, *last;
    char *end;
    long n;

    *size = OJW_SHMCB_DEFAULT_SIZE;
    if (args == NULL || *args == '\0') {
        return 1;
    }
    open = strrchr(args, '(');
    last = args + strlen(args) - 1;
    if (open == NULL) {
        return *last != ')';
    }
    if (*last != ')') {
        return 0;
    }
    n = strtol(open + 1, &end, 10);
    if (end != last || n < OJW_SHMCB_MIN_SIZE || n >= OJW_SHMCB_MAX_SIZE) {
        return 0;
    }
    *size = (apr_size_t)n;
    return 1;
}

void ojw_shmcb_hints(apr_size_t *id_hint, apr_size_t *obj_hint,
                     apr_size_t id_len, apr_size_t obj_len)
{
    *id_hint = id_len;
    *obj_hint = obj_len + sizeof(index_entry_t);
}

/* shmcb's count of subcaches for idx index entries in all: 256, halved
 * while each would get fewer than twice as many entries as there are
 * subcaches; 0 where shmcb itself would fail. */
static unsigned int subcaches_for(apr_size_t idx)
{
    unsigned int n = 256;

    while (n > 0 && idx / n < 2 * (apr_size_t)n) {
        n /= 2;
    }
    return n;
}

int ojw_shmcb_layout(ojw_shmcb_t *out, apr_size_t size, apr_size_t id_hint,
                     apr_size_t obj_hint, apr_size_t entry_len)
{
    apr_size_t seg, idx, sub_size, offset, fit;

    memset(out, 0, sizeof(*out));
    if (size < OJW_SHMCB_MIN_SIZE || size >= OJW_SHMCB_MAX_SIZE
        || entry_len == 0) {
        return 0;
    }
    seg = size - sizeof(seg_header_t);
    idx = seg / ((id_hint ? id_hint : 30) + (obj_hint ? obj_hint : 150));
    if ((out->subcaches = subcaches_for(idx)) == 0
        || (idx /= out->subcaches) < 5) {
        return 0;
    }
    sub_size = (seg / out->subcaches) & ~(sizeof(unsigned long) - 1);
    offset = sizeof(sub_header_t) + idx * sizeof(index_entry_t);
    if (offset >= sub_size) {
        return 0;
    }
    out->size = size;
    out->indexes = (unsigned int)idx;
    out->data_size = sub_size - offset;
    fit = out->data_size / entry_len;
    out->capacity = (unsigned int)(fit < idx ? fit : idx);
    return out->capacity > 0;
}

unsigned long ojw_shmcb_total(const ojw_shmcb_t *l)
{
    return (unsigned long)l->subcaches * l->capacity;
}

/* The largest m <= c with m + z * sqrt(m) <= c, i.e. (c - m)^2 >= z2 * m:
 * the mean fill of a subcache when the fullest (about z standard
 * deviations above it) is full. */
static double mean_when_full(double c, double z2)
{
    double lo = 0, hi = c, mid;
    int i;

    for (i = 0; i < 60; i++) {
        mid = (lo + hi) / 2;
        if ((c - mid) * (c - mid) >= z2 * mid) {
            lo = mid;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

unsigned long ojw_shmcb_expected(const ojw_shmcb_t *l)
{
    unsigned int bits = 0;

    while ((1u << bits) < l->subcaches) {
        bits++;
    }
    if (bits == 0) {
        return l->capacity;
    }
    /* the fullest of n subcaches: about sqrt(2 ln n) deviations up */
    return (unsigned long)(l->subcaches
                           * mean_when_full(l->capacity, 2 * bits * LN2));
}

apr_size_t ojw_shmcb_size_for(unsigned long want, apr_size_t id_len,
                              apr_size_t obj_len)
{
    apr_size_t size, id_hint, obj_hint;
    ojw_shmcb_t l;

    ojw_shmcb_hints(&id_hint, &obj_hint, id_len, obj_len);
    for (size = OJW_SHMCB_MIN_SIZE; size < OJW_SHMCB_MAX_SIZE;
         size += SIZE_STEP) {
        if (ojw_shmcb_layout(&l, size, id_hint, obj_hint, id_len + obj_len)
            && ojw_shmcb_expected(&l) >= want) {
            return size;
        }
    }
    return 0;
}
