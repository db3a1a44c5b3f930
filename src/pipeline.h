/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The check of one token, in one order, run by the module on every
 * request and by ordsjwt-check: format and size, alg, crit (the parse),
 * the profile (by iss, then aud), the DPoP proof's nonce where one is
 * required (as soon as the profile is known: before the parse when the
 * location has one profile), typ, key and signature, the claims (issuer
 * with its tenant and its key's issuer, audience, exp, nbf, iat, age,
 * subject), the Basic user name, the sender binding. The requirements
 * (Require ords-*) come after it: src/authz.h.
 *
 * The caller supplies what depends on where the check runs: the keys, the
 * evidence of the binding step (src/binding.h; the module's request: its
 * DPoP proof, its client certificate, its replay store; the checker's
 * --dpop, --url and --client-cert), a cache of verified tokens (the
 * module's), and an observer (the checker's), which is told every step's
 * outcome and makes the run go on past the first refusal wherever a
 * later step can still run. The verdict is the first refusal, observer
 * or not.
 */
#ifndef OJW_PIPELINE_H
#define OJW_PIPELINE_H

#include <jansson.h>
#include "ojw.h"
#include "binding.h"
#include "claims.h"
#include "dpop_nonce.h"
#include "profile.h"
#include "token.h"
#include "token_cache.h"

/* The steps, in the order they are shown. */
typedef enum {
    OJW_STEP_FORMAT,        /* size, segments, base64url, JSON */
    OJW_STEP_ALG,
    OJW_STEP_CRIT,
    OJW_STEP_NONCE,         /* the DPoP proof's nonce, where required */
    OJW_STEP_TYPE,          /* typ: token_type=, never-access types */
    OJW_STEP_KEY,           /* a key for the kid that fits the alg */
    OJW_STEP_SIGNATURE,
    OJW_STEP_ISSUER,        /* also: no profile of the location has the iss */
    OJW_STEP_AUDIENCE,
    OJW_STEP_EXP,
    OJW_STEP_NBF,
    OJW_STEP_IAT,
    OJW_STEP_AGE,
    OJW_STEP_SUBJECT,
    OJW_STEP_USER,          /* AuthBasicProvider: the user name is the sub */
    OJW_STEP_BINDING,       /* cnf: DPoP proof, client certificate */
    OJW_STEP_COUNT
} ojw_step_id_t;

/* "format/size", "alg", ... "binding". */
const char *ojw_step_name(ojw_step_id_t id);

typedef struct ojw_check ojw_check_t;

/* What the caller supplies. verify and evidence are required. */
typedef struct {
    /* The signature of c->tok with the keys of c->profile: OJW_OK, a
     * refusal, or OJW_ERR_KEYS_UNAVAILABLE; *hint may be set. */
    ojw_reason_t (*verify)(ojw_check_t *c, ojw_error_t *err,
                           const char **hint);
    /* The nonce of the request's DPoP proof for c->profile, where one is
     * required: OJW_OK (c->nonce set to the policy that judged it,
     * c->nonce_age to its age) or a refusal (OJW_ERR_DPOP_NONCE, or
     * OJW_ERR_DPOP_PROOF for a proof that is no JWS); OJW_OK with
     * c->nonce NULL when none is required or no proof was sent. May be
     * NULL: nonces are never required. */
    ojw_reason_t (*nonce)(ojw_check_t *c, ojw_error_t *err,
                          const char **hint);
    /* What the request shows of its sender, for the binding step of
     * c->claims (verified) and c->profile (src/binding.h); ev is zeroed
     * before. */
    void (*evidence)(ojw_check_t *c, ojw_evidence_t *ev);
    /* A token verified before for the profile c->profiles would choose
     * for it, with keys that are still current: its entry, held for
     * c->pool; else NULL. May be NULL. */
    const ojw_cached_t *(*cache_get)(ojw_check_t *c, const char *compact,
                                     size_t len);
    /* The hit's dates were checked again: good, or not (the caller
     * drops it; the token is then checked afresh). */
    void (*cache_judged)(ojw_check_t *c, const char *compact, size_t len,
                         const ojw_cached_t *hit, int good);
    /* A token verified now whose claims hold (c->tok, c->profile); may
     * set c->entry to the entry it put (ojw_check_cache_entry), held for
     * c->pool. */
    void (*cache_put)(ojw_check_t *c);
    /* Every step's outcome (err NULL: passed). With an observer, the run
     * goes on past a refusal wherever a later step can still run. */
    void (*observe)(ojw_check_t *c, ojw_step_id_t id, const ojw_error_t *err,
                    const char *hint);
} ojw_check_hooks_t;

struct ojw_check {
    /* the caller's: the location and the server */
    const ojw_profile_set_t *profiles;      /* AuthOrdsJwtProfile */
    size_t token_max;               /* OrdsJwtMaxTokenSize */
    long default_skew;              /* OrdsJwtAllowedSkew */
    long default_age;               /* OrdsJwtAllowedAge */
    long long now;                  /* seconds since the epoch */
    const char *basic_user;         /* AuthBasicProvider: the user name
                                     * sent; NULL for a bearer token */
    const ojw_check_hooks_t *hooks;
    void *baton;                    /* the caller's, for the hooks */
    void *observer;                 /* the observer's */
    apr_pool_t *pool;
    /* what the run found */
    ojw_token_t *tok;               /* NULL: not parsed, or from the cache */
    const ojw_profile_t *profile;   /* the one chosen, or NULL */
    ojw_claim_policy_t policy;      /* its claim policy in this server */
    const json_t *claims;           /* verified, or NULL */
    const char *kid;                /* of the token whose claims those are */
    const char *subject;            /* REMOTE_USER when accepted */
    int cached;                     /* the claims came from the cache */
    const ojw_cached_t *entry;      /* the token's cache entry (the hit,
                                     * or the one put), or NULL */
    const ojw_nonce_policy_t *nonce;    /* the nonce judged: its policy,
                                         * or NULL (none required) */
    long nonce_age;                 /* its age in seconds */
    int nonce_done;                 /* the nonce step ran */
    ojw_bound_t bound;              /* what the binding step did */
    /* the verdict: the first refusal (err.reason OJW_OK: accepted) */
    ojw_step_id_t step;
    ojw_error_t err;
    const char *hint;
};

/* Runs the checks on compact (len bytes) with the caller's part of c set;
 * returns c->err.reason. */
ojw_reason_t ojw_check_run(ojw_check_t *c, const char *compact, size_t len);

/* The cache entry of the token c verified now (for cache_put): its
 * profile, claims, kid, and what a hit needs of the claims (the subject,
 * iss and aud, the dates), read once; slot -1 and generation 0, the
 * caller's to set. */
void ojw_check_cache_entry(const ojw_check_t *c, ojw_cached_t *e);

#endif
