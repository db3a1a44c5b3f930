/* SPDX-License-Identifier: Apache-2.0 */
/* The health of a shared store (see breaker.h). */
#include <apr_atomic.h>
#include "breaker.h"

void ojw_breaker_init(ojw_breaker_t *b)
{
    apr_atomic_set64(&b->next_probe, 0);
    apr_atomic_set64(&b->down_since, 0);
}

ojw_store_verdict_t ojw_breaker_admit(ojw_breaker_t *b, apr_time_t now,
                                      apr_interval_time_t every)
{
    apr_uint64_t turn;

    if (apr_atomic_read64(&b->down_since) == 0) {
        return OJW_STORE_USE;
    }
    turn = apr_atomic_read64(&b->next_probe);
    if ((apr_uint64_t)now < turn) {
        return OJW_STORE_REFUSE;
    }
    /* of the callers that see the same turn, one moves it on */
    return apr_atomic_cas64(&b->next_probe, (apr_uint64_t)(now + every), turn)
           == turn ? OJW_STORE_PROBE : OJW_STORE_REFUSE;
}

int ojw_breaker_report(ojw_breaker_t *b, int ok, apr_time_t now,
                       apr_interval_time_t every)
{
    apr_uint64_t since = apr_atomic_read64(&b->down_since);

    if (ok) {
        return since != 0 && apr_atomic_cas64(&b->down_since, 0, since)
                             == since ? -1 : 0;
    }
    if (since != 0) {
        return 0;
    }
    /* the probe's turn first: a caller that sees "down" sees it too */
    apr_atomic_set64(&b->next_probe, (apr_uint64_t)(now + every));
    return apr_atomic_cas64(&b->down_since, (apr_uint64_t)(now > 0 ? now : 1),
                            0) == 0 ? 1 : 0;
}

apr_time_t ojw_breaker_down_since(ojw_breaker_t *b)
{
    return (apr_time_t)apr_atomic_read64(&b->down_since);
}
