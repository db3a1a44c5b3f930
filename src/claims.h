/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claim checks of an ORDS JWT profile (iss, aud, exp, nbf, iat, age, sub),
 * scopes, JSON-pointer roles and claim values. Only ever given verified claims.
 */
#ifndef OJW_CLAIMS_H
#define OJW_CLAIMS_H

#include <jansson.h>
#include "ojw.h"
#include "tenant.h"

typedef struct {
    const char *issuer;       /* must equal "iss"; a template (tenant.h):
                               * iss fills its placeholder with the tid */
    const char *audience;     /* must equal "aud" or be one of its entries */
    long allowed_skew;        /* seconds; <= 0 means none */
    long allowed_age;         /* seconds since iat; <= 0 means not checked */
    const char *const *audiences;   /* when naudiences > 0: any of them */
    int naudiences;                 /* (audience is then the first) */
    const ojw_tenants_t *tenants;   /* a template's tenants; NULL: any */
    const char *key_issuer;   /* the issuer member of the key that verified
                               * the token (tenant.h), or NULL */
} ojw_claim_policy_t;

/* The dates of a token (NumericDates from 0 to year 9999), read once:
 * a verified-token cache entry keeps them for its next requests. */
typedef struct {
    double exp, nbf, iat;
    int has_exp, has_nbf, has_iat;      /* a valid NumericDate */
    int nbf_present, iat_present;       /* the member is there */
} ojw_claim_times_t;

/* Reads the dates of claims into t. */
void ojw_claim_times_read(ojw_claim_times_t *t, const json_t *claims);

/* Checks the claims at time now (seconds since the epoch), stopping at
 * the first refusal: iss (with an issuer template: a valid tid, iss
 * filled with it; the key's issuer; the template's tenant listed), aud,
 * the times, sub. On success *subject is the "sub" claim. */
ojw_reason_t ojw_claims_check(const json_t *claims,
                              const ojw_claim_policy_t *policy,
                              long long now, const char **subject,
                              ojw_error_t *err);

/* The checks of ojw_claims_check about dates alone (exp, nbf, iat,
 * allowed_age: their form, then the clock), in its order and with its
 * refusals, on dates read before: for the claims of a token whose other
 * checks (iss, aud, sub) passed for the same profile, as a cached token's
 * did. */
ojw_reason_t ojw_claims_check_times(const ojw_claim_times_t *times,
                                    const ojw_claim_policy_t *policy,
                                    long long now, ojw_error_t *err);

/* The claims the checks are about, one line each, in the order shown. */
typedef enum {
    OJW_CLAIM_ISSUER,
    OJW_CLAIM_AUDIENCE,
    OJW_CLAIM_EXP,
    OJW_CLAIM_NBF,
    OJW_CLAIM_IAT,
    OJW_CLAIM_AGE,
    OJW_CLAIM_SUBJECT,
    OJW_CLAIM_LINES
} ojw_claim_line_t;

/* One line's outcome: err is NULL when it passed. */
typedef void ojw_claim_note_fn(void *baton, ojw_claim_line_t line,
                               const ojw_error_t *err);

/* As ojw_claims_check, with the same verdict (the first refusal, in
 * err), but every check is run and note is told each line's own outcome
 * (not the age line when the iat line failed: it needs an iat). */
ojw_reason_t ojw_claims_check_each(const json_t *claims,
                                   const ojw_claim_policy_t *policy,
                                   long long now, const char **subject,
                                   ojw_error_t *err, ojw_claim_note_fn *note,
                                   void *baton);

/* The next word of a space-separated list: skips spaces at *p, returns
 * the word's start and sets *len (0 at the end); *p moves past it. */
const char *ojw_next_word(const char **p, size_t *len);

/* 1 when any of the n scopes is in "scope" (space-separated) or "scp"
 * (space-separated string or array of strings). */
int ojw_claims_has_any_scope(const json_t *claims, const char *const *scopes,
                             int n);

/* Resolves an RFC 6901 JSON pointer ("" is the whole document); NULL when
 * it does not resolve or is not a valid pointer. */
const json_t *ojw_json_pointer(const json_t *root, const char *pointer);

/* 1 when any of the n roles is in the value at pointer: an array of
 * strings or one string. */
int ojw_claims_has_any_role(const json_t *claims, const char *pointer,
                            const char *const *roles, int n);

/* Require ords-claim: 1 when the claim name (a top-level name, or an RFC
 * 6901 pointer when it starts with "/") is a string equal to one of the n
 * values, an array with a string member equal to one, or a boolean or
 * integer whose JSON text ("true", "false", "42") equals one. Objects,
 * reals, null, other array members and missing claims never match. */
int ojw_claims_match(const json_t *claims, const char *name,
                     const char *const *values, int n);

/* 1 when pointer is a syntactically valid RFC 6901 pointer. */
int ojw_json_pointer_valid(const char *pointer);

#endif
