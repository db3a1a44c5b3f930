/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ordsjwt-check prints of a token: a record of the pipeline's steps
 * (src/pipeline.h), made by observing them (ojw_report_step is the
 * pipeline's observer), never by running checks of its own. A refusal
 * keeps the detail and hint the module logs; a passing step says what it
 * found (the key, the dates, the subject). Also the token's display
 * helpers: a segment decoded for display, the token in a pasted header.
 */
#ifndef OJW_REPORT_H
#define OJW_REPORT_H

#include <jansson.h>
#include "ojw.h"
#include "jwks.h"
#include "pipeline.h"

typedef enum {
    OJW_STEP_NOT_RUN = 0,
    OJW_STEP_PASSED,
    OJW_STEP_FAILED
} ojw_step_state_t;

typedef struct {
    ojw_step_state_t state;
    ojw_reason_t reason;        /* FAILED: why */
    const char *detail;         /* PASSED: what was found; FAILED: why, as
                                 * the module logs it */
    const char *hint;           /* FAILED: the module's hint, or NULL */
} ojw_step_record_t;

typedef struct {
    ojw_step_record_t steps[OJW_STEP_COUNT];
    /* what the lines need, set by the caller */
    const char *compact;        /* the token */
    size_t len;
    const ojw_keyset_t *ks;     /* the keys the signature is checked with */
    const char *keys_error;     /* why there are none (the whole text) */
    const char *proof;          /* the DPoP proof sent, or NULL */
    const char *cert;           /* the client certificate's x5t#S256 */
} ojw_report_t;

/* The pipeline's observer; c->observer is the ojw_report_t. The dpop
 * nonce, typ, user and binding lines are recorded only when they matter:
 * a nonce required; a token_type= or a typ refused; a Basic user name; a
 * bound token, a proof or a profile that requires a binding. */
void ojw_report_step(ojw_check_t *c, ojw_step_id_t id, const ojw_error_t *err,
                     const char *hint);

/* The decoded segment (0: header, 1: payload) for display only, never
 * trusted: NULL with *why set when it is not base64url JSON. */
json_t *ojw_report_segment(const char *compact, size_t len, int index,
                           apr_pool_t *pool, const char **why);

/*
 * The token in text that a user pasted: a bare token, an Authorization
 * header value "Bearer T", or "Basic B64" whose decoded user:password has
 * the token as the password (AuthBasicProvider ords-jwt); surrounding
 * whitespace ignored. *user: the Basic user name, else NULL; *scheme:
 * "Bearer", "Basic" or NULL (bare). Returns NULL (and *error) when Basic
 * credentials are not canonical base64 of user:password.
 */
const char *ojw_header_token(apr_pool_t *p, const char *text,
                             const char **user, const char **scheme,
                             const char **error);

#endif
