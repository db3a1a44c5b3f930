/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hints for administrators: when a refusal has a recognisable cause (a
 * trailing slash, a scope carrying the audience prefix, a clock a few
 * seconds off, an old token), say what to change. Shared by the module's
 * log lines and ordsjwt-check, so that both say the same.
 */
#ifndef OJW_DIAGNOSE_H
#define OJW_DIAGNOSE_H

#include <jansson.h>
#include "ojw.h"
#include "claims.h"

/* The hint for a claims refusal (reason from ojw_claims_check), or NULL. */
const char *ojw_hint_for_claims(apr_pool_t *pool, ojw_reason_t reason,
                                const json_t *claims,
                                const ojw_claim_policy_t *policy,
                                long long now);

/* The hint when none of the n scopes is present, or NULL: a scope found
 * only with a prefix such as the primary audience ("ords/hr/hr.read"). */
const char *ojw_hint_for_scopes(apr_pool_t *pool, const json_t *claims,
                                const char *const *scopes, int n);

/* A JSON value as compact JSON text of at most 200 bytes (a string with
 * its quotes), for messages; "(absent)" for NULL. */
const char *ojw_json_text(apr_pool_t *pool, const json_t *v);

#endif
