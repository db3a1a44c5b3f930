/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the query string of the ordsjwt-status page
 * (ojw_status_query_parse), as a client sends it after the "?".
 */
#include <limits.h>
#include "fuzz.h"
#include "status.h"

static void fuzz_setup(void)
{
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    ojw_status_query_t q;

    if (ojw_status_query_parse(&q, fuzz_cstring(pool, data, size), pool)
        != APR_SUCCESS) {
        return;
    }
    if (q.format < -1 || q.format > OJW_STATUS_METRICS) {
        abort();
    }
    if (q.offset < 0 || q.offset > INT_MAX || q.limit < 1
        || q.limit > OJW_STATUS_LIMIT_MAX) {
        abort();    /* a page the handler would have to bound again */
    }
    if (q.profile && *q.profile == '\0') {
        abort();    /* an empty name accepted */
    }
}
