/* SPDX-License-Identifier: Apache-2.0 */
/* Refusal reasons: names for logs, descriptions for clients. */
#include <stdarg.h>
#include <stdio.h>
#include "reason.h"

typedef struct {
    const char *name;
    const char *description;
} reason_text_t;

static const reason_text_t reason_texts[OJW_REASON_COUNT] = {
    [OJW_OK]                   = { "ok", "token accepted" },
    [OJW_ERR_MALFORMED]        = { "malformed", "token is malformed" },
    [OJW_ERR_TOO_LARGE]        = { "too_large", "token is too large" },
    [OJW_ERR_ALG]              = { "alg_not_allowed",
                                   "signing algorithm not accepted" },
    [OJW_ERR_CRIT]             = { "crit_unsupported",
                                   "unsupported critical header" },
    [OJW_ERR_KID]              = { "kid_unknown", "signing key not found" },
    [OJW_ERR_SIGNATURE]        = { "signature_invalid", "signature is invalid" },
    [OJW_ERR_EXPIRED]          = { "expired", "token has expired" },
    [OJW_ERR_NOT_YET_VALID]    = { "not_yet_valid", "token is not yet valid" },
    [OJW_ERR_IAT_FUTURE]       = { "issued_in_future",
                                   "token issued in the future" },
    [OJW_ERR_TOO_OLD]          = { "too_old", "token is too old" },
    [OJW_ERR_EXP_MISSING]      = { "exp_missing",
                                   "token has no valid exp claim" },
    [OJW_ERR_IAT_MISSING]      = { "iat_missing",
                                   "token has no valid iat claim" },
    [OJW_ERR_ISSUER]           = { "issuer_mismatch", "issuer not accepted" },
    [OJW_ERR_AUDIENCE]         = { "audience_mismatch",
                                   "audience not accepted" },
    [OJW_ERR_TENANT_ID]        = { "tenant_id_invalid",
                                   "tenant id missing or invalid" },
    [OJW_ERR_TENANT]           = { "tenant_not_allowed",
                                   "tenant not accepted" },
    [OJW_ERR_KEY_ISSUER]       = { "key_issuer_mismatch",
                                   "issuer not accepted for this signing "
                                   "key" },
    [OJW_ERR_SUBJECT]          = { "subject_missing", "token has no subject" },
    [OJW_ERR_USER_MISMATCH]    = { "user_mismatch",
                                   "user name is not the token's subject" },
    [OJW_ERR_TOKEN_TYPE]       = { "token_type", "token type not accepted" },
    [OJW_ERR_BINDING]          = { "binding_refused",
                                   "token binding not satisfied" },
    [OJW_ERR_DPOP_MISSING]     = { "dpop_proof_missing",
                                   "DPoP proof missing" },
    [OJW_ERR_DPOP_PROOF]       = { "dpop_proof_invalid",
                                   "DPoP proof is invalid" },
    [OJW_ERR_DPOP_REPLAY]      = { "dpop_proof_replayed",
                                   "DPoP proof was used before" },
    [OJW_ERR_DPOP_NONCE]       = { "dpop_nonce_required",
                                   "resource server requires a fresh nonce "
                                   "in the DPoP proof" },
    [OJW_ERR_CERT_MISSING]     = { "client_cert_missing",
                                   "token is bound to a client certificate "
                                   "and none was presented" },
    [OJW_ERR_CERT_MISMATCH]    = { "client_cert_mismatch",
                                   "token is bound to another client "
                                   "certificate" },
    [OJW_ERR_REPLAY_UNAVAILABLE] = { "replay_store_unavailable",
                                     "DPoP replay store unavailable" },
    [OJW_ERR_KEYS_UNAVAILABLE] = { "keys_unavailable",
                                   "signing keys unavailable" },
    [OJW_ERR_TOKEN_MISSING]    = { "token_missing", "no bearer token" },
    [OJW_ERR_TOKEN_AMBIGUOUS]  = { "token_ambiguous",
                                   "more than one token in the request" },
    [OJW_ERR_SCOPE_MISSING]    = { "scope_missing", "required scope missing" },
    [OJW_ERR_ROLE_MISSING]     = { "role_missing", "required role missing" },
    [OJW_ERR_CLAIM_MISMATCH]   = { "claim_mismatch",
                                   "required claim value missing" },
};

ojw_reason_t ojw_fail(ojw_error_t *err, ojw_reason_t reason,
                      const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->reason = reason;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
        va_end(ap);
    }
    return reason;
}

const char *ojw_reason_description(ojw_reason_t reason)
{
    if ((unsigned)reason >= OJW_REASON_COUNT) {
        return "token refused";
    }
    return reason_texts[reason].description;
}

const char *ojw_reason_name(ojw_reason_t reason)
{
    if ((unsigned)reason >= OJW_REASON_COUNT) {
        return "unknown";
    }
    return reason_texts[reason].name;
}
