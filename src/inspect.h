/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A token checked against one profile step by step, for ordsjwt-check:
 * the module's own calls in the module's order (ojw_token_parse,
 * ojw_token_verify, ojw_claims_check, the diagnose hints), keeping the
 * outcome of every check instead of only the first refusal.
 *
 * The verdict is what the module decides: the reason, detail and hint of
 * the first refusal, exactly as it logs them. The claim lines (issuer ...
 * subject) each come from ojw_claims_check run on claims that pass every
 * other check, so that each line shows that check's own outcome in the
 * core's words, even when an earlier one already failed.
 */
#ifndef OJW_INSPECT_H
#define OJW_INSPECT_H

#include <jansson.h>
#include "ojw.h"
#include "claims.h"
#include "jwks.h"
#include "token.h"
#include "dpop.h"
#include "privilege.h"

typedef enum {
    OJW_STEP_FORMAT,        /* size, segments, base64url, JSON */
    OJW_STEP_ALG,
    OJW_STEP_CRIT,
    OJW_STEP_TYPE,          /* typ: token_type=, never-access types */
    OJW_STEP_KEY,           /* a key for the kid that fits the alg */
    OJW_STEP_SIGNATURE,
    OJW_STEP_ISSUER,
    OJW_STEP_AUDIENCE,
    OJW_STEP_EXP,
    OJW_STEP_NBF,
    OJW_STEP_IAT,
    OJW_STEP_AGE,
    OJW_STEP_SUBJECT,
    OJW_STEP_BINDING,       /* cnf: DPoP proof, client certificate */
    OJW_STEP_SCOPE,         /* Require ords-scope, when asked */
    OJW_STEP_ROLE,          /* Require ords-role, when asked */
    OJW_STEP_PRIVILEGE,     /* Require ords-privilege, when asked */
    OJW_STEP_COUNT
} ojw_step_id_t;

typedef enum {
    OJW_STEP_NOT_RUN = 0,
    OJW_STEP_PASSED,
    OJW_STEP_FAILED
} ojw_step_state_t;

typedef struct {
    ojw_step_state_t state;
    ojw_reason_t reason;      /* FAILED: why */
    const char *detail;       /* PASSED: what was found; FAILED: why, as
                               * the module logs it */
    const char *hint;         /* FAILED: the module's hint, or NULL */
} ojw_step_t;

typedef struct {
    ojw_step_t steps[OJW_STEP_COUNT];
    ojw_token_t *tok;         /* NULL when the token does not parse */
    int verified;             /* the signature verified: claims trusted */
    ojw_error_t verdict;      /* OJW_OK or the module's first refusal */
    const char *hint;         /* the module's hint for the verdict, or NULL */
    const char *subject;      /* REMOTE_USER when the claims pass */
} ojw_inspection_t;

/* "format/size", "alg", ... "scope", "role". */
const char *ojw_step_name(ojw_step_id_t id);

/* Parses the token (format/size, alg, crit) with at most max_len bytes.
 * Returns the verdict so far. */
ojw_reason_t ojw_inspect_parse(ojw_inspection_t *in, const char *compact,
                               size_t len, size_t max_len, apr_pool_t *pool);

/* Finds the key and verifies the signature (after a successful parse). */
ojw_reason_t ojw_inspect_verify(ojw_inspection_t *in, const ojw_keyset_t *ks,
                                apr_pool_t *pool);

/* No keys could be had for the profile (the module answers 503): the key
 * step fails with keys_unavailable, why and hint (may be NULL). */
void ojw_inspect_keys_unavailable(ojw_inspection_t *in, const char *why,
                                  const char *hint, apr_pool_t *pool);

/* Checks the verified claims under policy at now (seconds). */
ojw_reason_t ojw_inspect_claims(ojw_inspection_t *in,
                                const ojw_claim_policy_t *policy,
                                long long now, apr_pool_t *pool);

/* Require ords-scope s1 s2 ...: any one of the n scopes suffices. Needs
 * verified claims; sets the verdict only when it is still OJW_OK. */
ojw_reason_t ojw_inspect_scopes(ojw_inspection_t *in,
                                const char *const *scopes, int n,
                                apr_pool_t *pool);

/* Require ords-role r1 r2 ...: any one of the n roles at pointer (the
 * profile's role_claim_name, NULL when it has none) suffices. */
ojw_reason_t ojw_inspect_roles(ojw_inspection_t *in, const char *pointer,
                               const char *const *roles, int n,
                               apr_pool_t *pool);

/* Require ords-privilege p1 p2 ...: any one of the n privileges as a
 * scope, or any of their roles at pointer (NULL: roles cannot grant). */
ojw_reason_t ojw_inspect_privileges(ojw_inspection_t *in, const char *pointer,
                                    const ojw_privilege_t *const *pvs, int n,
                                    apr_pool_t *pool);

/* None of the n profiles of a location has the token's (not yet
 * verified) iss: the issuer step fails as the module refuses. */
/* Explicit typing, as the module checks it once the profile is chosen;
 * the step is marked only when required is set or the typ is refused. */
ojw_reason_t ojw_inspect_type(ojw_inspection_t *in, const char *required,
                              apr_pool_t *pool);

/* The binding of a verified token (cnf) to a DPoP proof or a client
 * certificate, with the profile's dpop= and mtls=. proof: the DPoP
 * header (the token then counts as sent with the DPoP scheme), or NULL
 * (sent as Bearer); req: the request it must fit (method, url, window,
 * skew, now; the rest is filled in). The step is marked only when the
 * token is bound, a proof is given or the profile requires a binding.
 * The replay store (one use per jti) and the certificate of a
 * connection are the module's to check: the detail says so. */
ojw_reason_t ojw_inspect_binding(ojw_inspection_t *in, int dpop, int mtls,
                                 const char *proof, ojw_dpop_request_t *req,
                                 apr_pool_t *pool);

void ojw_inspect_no_profile(ojw_inspection_t *in, int n, apr_pool_t *pool);

/* The decoded segment (0: header, 1: payload) for display only, never
 * trusted: NULL with *why set when it is not base64url JSON. */
json_t *ojw_inspect_segment(const char *compact, size_t len, int index,
                            apr_pool_t *pool, const char **why);

/*
 * The token in text that a user pasted: a bare token, an Authorization
 * header value "Bearer T", or "Basic B64" whose decoded user:password has
 * the token as the password (AuthBasicProvider ords-jwt); surrounding
 * whitespace ignored. *user: the Basic user name, else NULL. Returns NULL
 * (and *error) when Basic credentials are not canonical base64 of
 * user:password.
 */
const char *ojw_header_token(apr_pool_t *p, const char *text,
                             const char **user, const char **error);

#endif
