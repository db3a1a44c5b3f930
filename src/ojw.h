/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt core: shared definitions.
 *
 * Everything under src/ is free of httpd headers: it uses APR, jansson,
 * cjose, OpenSSL and libcurl only, so that it can be unit tested and linked
 * into command-line tools without httpd.
 */
#ifndef OJW_H
#define OJW_H

#include <stddef.h>
#include <apr_pools.h>

#define OJW_TOKEN_MAX_DEFAULT   (16 * 1024)    /* bytes of a compact token */
#define OJW_JWKS_MAX            (256 * 1024)   /* bytes of a JWKS document */
#define OJW_JWKS_MAX_KEYS       64
#define OJW_RSA_MIN_BITS        2048
#define OJW_RSA_MAX_BITS        8192    /* as gateways bound it; see SECURITY.md */
#define OJW_RSA_MAX_E_BITS      32      /* 65537 has 17; more only costs CPU */
#define OJW_NO_KID_MAX_TRIES    4       /* keys a token without kid is tried with */
#define OJW_DETAIL_MAX          384

/* The release (configure.ac's AC_INIT version), e.g. "0.1.0". */
const char *ojw_version(void);

/* Why a token was refused; the client sees ojw_reason_description(). */
typedef enum {
    OJW_OK = 0,
    OJW_ERR_MALFORMED,
    OJW_ERR_TOO_LARGE,
    OJW_ERR_ALG,
    OJW_ERR_CRIT,
    OJW_ERR_KID,
    OJW_ERR_SIGNATURE,
    OJW_ERR_EXPIRED,
    OJW_ERR_NOT_YET_VALID,
    OJW_ERR_IAT_FUTURE,
    OJW_ERR_TOO_OLD,
    OJW_ERR_EXP_MISSING,
    OJW_ERR_IAT_MISSING,
    OJW_ERR_ISSUER,
    OJW_ERR_AUDIENCE,
    OJW_ERR_TENANT_ID,          /* issuer template: tid missing, not a GUID */
    OJW_ERR_TENANT,             /* issuer template: tenant not listed */
    OJW_ERR_KEY_ISSUER,         /* iss is not the signing key's issuer */
    OJW_ERR_SUBJECT,
    OJW_ERR_USER_MISMATCH,      /* Basic: the user name is not the sub */
    OJW_ERR_TOKEN_TYPE,         /* typ: not an access token, or not at+jwt */
    OJW_ERR_BINDING,            /* cnf: binding not usable this way */
    OJW_ERR_DPOP_MISSING,       /* DPoP: no (single) proof */
    OJW_ERR_DPOP_PROOF,         /* DPoP: a rule of RFC 9449 4.3 broken */
    OJW_ERR_DPOP_REPLAY,        /* DPoP: the proof's jti was seen */
    OJW_ERR_DPOP_NONCE,         /* DPoP: no good nonce where one is due */
    OJW_ERR_CERT_MISSING,       /* mTLS: no client certificate */
    OJW_ERR_CERT_MISMATCH,      /* mTLS: another client certificate */
    OJW_ERR_REPLAY_UNAVAILABLE, /* DPoP: the replay store cannot answer */
    OJW_ERR_KEYS_UNAVAILABLE,
    OJW_ERR_TOKEN_MISSING,      /* not a token error: no bearer token */
    OJW_ERR_TOKEN_AMBIGUOUS,    /* more than one token in the request */
    OJW_ERR_SCOPE_MISSING,      /* authorization: Require ords-scope */
    OJW_ERR_ROLE_MISSING,       /* authorization: Require ords-role */
    OJW_ERR_CLAIM_MISMATCH,     /* authorization: Require ords-claim */
    OJW_REASON_COUNT
} ojw_reason_t;

/* A refusal: the reason and, for the log only, the precise detail. */
typedef struct {
    ojw_reason_t reason;
    char detail[OJW_DETAIL_MAX];
} ojw_error_t;

/* Records reason + printf-style detail in err (may be NULL); returns reason. */
ojw_reason_t ojw_fail(ojw_error_t *err, ojw_reason_t reason,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Short, client-safe text for error_description. */
const char *ojw_reason_description(ojw_reason_t reason);

/* Stable machine name of a reason (for logs and counters). */
const char *ojw_reason_name(ojw_reason_t reason);

#endif /* OJW_H */
