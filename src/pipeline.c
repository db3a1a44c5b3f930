/* SPDX-License-Identifier: Apache-2.0 */
/* The check of one token, in one order (see pipeline.h). */
#include <string.h>
#include <apr_strings.h>
#include "pipeline.h"
#include "diagnose.h"
#include "binding.h"

static const char *const step_names[OJW_STEP_COUNT] = {
    [OJW_STEP_FORMAT]    = "format/size",
    [OJW_STEP_ALG]       = "alg",
    [OJW_STEP_CRIT]      = "crit",
    [OJW_STEP_NONCE]     = "dpop nonce",
    [OJW_STEP_TYPE]      = "typ",
    [OJW_STEP_KEY]       = "key found",
    [OJW_STEP_SIGNATURE] = "signature",
    [OJW_STEP_ISSUER]    = "issuer",
    [OJW_STEP_AUDIENCE]  = "audience",
    [OJW_STEP_EXP]       = "exp",
    [OJW_STEP_NBF]       = "nbf",
    [OJW_STEP_IAT]       = "iat",
    [OJW_STEP_AGE]       = "allowed_age",
    [OJW_STEP_SUBJECT]   = "subject",
    [OJW_STEP_USER]      = "user",
    [OJW_STEP_BINDING]   = "binding",
};

const char *ojw_step_name(ojw_step_id_t id)
{
    return (unsigned)id < OJW_STEP_COUNT ? step_names[id] : "unknown";
}

static int observing(const ojw_check_t *c)
{
    return c->hooks->observe != NULL;
}

static void observe(ojw_check_t *c, ojw_step_id_t id, const ojw_error_t *err,
                    const char *hint)
{
    if (observing(c)) {
        c->hooks->observe(c, id, err, hint);
    }
}

/* A refusal at step id: the verdict when it is the first; observed. */
static ojw_reason_t refuse(ojw_check_t *c, ojw_step_id_t id,
                           const ojw_error_t *err, const char *hint)
{
    if (c->err.reason == OJW_OK) {
        c->step = id;
        c->err = *err;
        c->hint = hint;
    }
    observe(c, id, err, hint);
    return err->reason;
}

/* ------------------------------------------------------------------ */
/* the steps                                                           */

/* The step a parse refusal belongs to. */
static ojw_step_id_t parse_step(ojw_reason_t rc)
{
    switch (rc) {
    case OJW_ERR_ALG:
        return OJW_STEP_ALG;
    case OJW_ERR_CRIT:
        return OJW_STEP_CRIT;
    case OJW_ERR_SIGNATURE:
        return OJW_STEP_SIGNATURE;      /* an empty signature */
    case OJW_OK:
        return OJW_STEP_KEY;            /* every parse step passed */
    default:
        return OJW_STEP_FORMAT;
    }
}

/* Format and size, alg, crit: ojw_token_parse, which checks in that
 * order. */
static ojw_reason_t step_parse(ojw_check_t *c, const char *compact,
                               size_t len)
{
    ojw_error_t err;
    ojw_reason_t rc;
    int id, failed;

    err.reason = OJW_OK;
    rc = ojw_token_parse(&c->tok, compact, len, c->token_max, c->pool, &err);
    failed = (int)parse_step(rc);
    for (id = OJW_STEP_FORMAT; id <= OJW_STEP_CRIT && id < failed; id++) {
        observe(c, (ojw_step_id_t)id, NULL, NULL);
    }
    return rc == OJW_OK ? OJW_OK
                        : refuse(c, (ojw_step_id_t)failed, &err, NULL);
}

static void set_profile(ojw_check_t *c, const ojw_profile_t *p)
{
    c->profile = p;
    ojw_profile_policy(&c->policy, p, c->default_skew, c->default_age);
}

/* The profile: the only one, or the one the (not yet verified) iss,
 * then aud, choose (ojw_profile_set_choose). */
static ojw_reason_t step_choose(ojw_check_t *c)
{
    const ojw_profile_t *p;
    const char *iss;
    ojw_error_t err;

    p = ojw_profile_set_choose_token(c->profiles, c->tok, c->pool);
    if (p == NULL) {
        iss = ojw_token_peek_issuer(c->tok, c->pool);
        ojw_fail(&err, OJW_ERR_ISSUER, "iss \"%.200s\" matches none of the "
                 "%d profiles of this location", iss ? iss : "(none)",
                 ojw_profile_set_count(c->profiles));
        return refuse(c, OJW_STEP_ISSUER, &err, NULL);
    }
    set_profile(c, p);
    return OJW_OK;
}

/* The DPoP proof's nonce where the profile requires one, before any
 * signature is checked; once per run. */
static ojw_reason_t step_nonce(ojw_check_t *c)
{
    const char *hint = NULL;
    ojw_error_t err;

    if (c->nonce_done || c->hooks->nonce == NULL) {
        return OJW_OK;
    }
    c->nonce_done = 1;
    err.reason = OJW_OK;
    if (c->hooks->nonce(c, &err, &hint) != OJW_OK) {
        return refuse(c, OJW_STEP_NONCE, &err, hint);
    }
    if (c->nonce) {
        observe(c, OJW_STEP_NONCE, NULL, NULL);
    }
    return OJW_OK;
}

/* A location of one profile knows it before the token is read: its
 * nonce is judged first, so that a client without one is told
 * use_dpop_nonce before anything else; the profile is chosen again once
 * the token parses. */
static void nonce_first(ojw_check_t *c)
{
    if (c->hooks->nonce == NULL || ojw_profile_set_count(c->profiles) != 1) {
        return;
    }
    set_profile(c, ojw_profile_set_choose(c->profiles, NULL, NULL));
    step_nonce(c);
    c->profile = NULL;
}

/* Explicit typing: the profile's token_type=, never another JWT kind. */
static ojw_reason_t step_type(ojw_check_t *c)
{
    ojw_error_t err;

    if (ojw_token_check_type(c->tok, c->profile->token_type, &err)
        != OJW_OK) {
        return refuse(c, OJW_STEP_TYPE, &err,
                      ojw_hint_for_binding(err.reason));
    }
    observe(c, OJW_STEP_TYPE, NULL, NULL);
    return OJW_OK;
}

/* The key and the signature, with the caller's keys. A payload that is
 * no JSON object is found only once the signature verified (format). */
static ojw_reason_t step_verify(ojw_check_t *c)
{
    const char *hint = NULL;
    ojw_error_t err;
    ojw_reason_t rc;

    err.reason = OJW_OK;
    rc = c->hooks->verify(c, &err, &hint);
    if (rc == OJW_ERR_KID || rc == OJW_ERR_ALG
        || rc == OJW_ERR_KEYS_UNAVAILABLE) {
        return refuse(c, OJW_STEP_KEY, &err, hint);
    }
    observe(c, OJW_STEP_KEY, NULL, NULL);
    if (rc == OJW_ERR_SIGNATURE) {
        return refuse(c, OJW_STEP_SIGNATURE, &err, hint);
    }
    observe(c, OJW_STEP_SIGNATURE, NULL, NULL);
    if (rc != OJW_OK) {
        return refuse(c, OJW_STEP_FORMAT, &err, hint);
    }
    c->claims = c->tok->claims;
    c->kid = c->tok->kid;
    return OJW_OK;
}

static const ojw_step_id_t claim_steps[OJW_CLAIM_LINES] = {
    [OJW_CLAIM_ISSUER]   = OJW_STEP_ISSUER,
    [OJW_CLAIM_AUDIENCE] = OJW_STEP_AUDIENCE,
    [OJW_CLAIM_EXP]      = OJW_STEP_EXP,
    [OJW_CLAIM_NBF]      = OJW_STEP_NBF,
    [OJW_CLAIM_IAT]      = OJW_STEP_IAT,
    [OJW_CLAIM_AGE]      = OJW_STEP_AGE,
    [OJW_CLAIM_SUBJECT]  = OJW_STEP_SUBJECT,
};

/* The step of a claims refusal (the first refusal's line). */
static ojw_step_id_t claim_step(const ojw_check_t *c, ojw_reason_t rc)
{
    switch (rc) {
    case OJW_ERR_ISSUER:
    case OJW_ERR_TENANT_ID:
    case OJW_ERR_TENANT:
    case OJW_ERR_KEY_ISSUER:    return OJW_STEP_ISSUER;
    case OJW_ERR_AUDIENCE:      return OJW_STEP_AUDIENCE;
    case OJW_ERR_EXP_MISSING:
    case OJW_ERR_EXPIRED:       return OJW_STEP_EXP;
    case OJW_ERR_MALFORMED:
    case OJW_ERR_NOT_YET_VALID: return OJW_STEP_NBF;
    case OJW_ERR_TOO_OLD:       return OJW_STEP_AGE;
    case OJW_ERR_IAT_MISSING:
        return json_object_get(c->claims, "iat") ? OJW_STEP_IAT
                                                 : OJW_STEP_AGE;
    case OJW_ERR_SUBJECT:       return OJW_STEP_SUBJECT;
    default:                    return OJW_STEP_IAT;
    }
}

/* One claim line's own outcome, for the observer. */
static void note_claim(void *baton, ojw_claim_line_t line,
                       const ojw_error_t *err)
{
    ojw_check_t *c = baton;

    observe(c, claim_steps[line], err, err ? ojw_hint_for_claims(c->pool,
            err->reason, c->claims, &c->policy, c->now) : NULL);
}

/* The claims with the profile's policy in this server and the issuer
 * of the key that verified them; an observer is told every claim line's
 * own outcome. */
static ojw_reason_t step_claims(ojw_check_t *c)
{
    ojw_error_t err;
    ojw_reason_t rc;

    err.reason = OJW_OK;
    c->policy.key_issuer = c->tok && c->tok->key ? c->tok->key->issuer
                                                 : NULL;
    rc = observing(c)
         ? ojw_claims_check_each(c->claims, &c->policy, c->now, &c->subject,
                                 &err, note_claim, c)
         : ojw_claims_check(c->claims, &c->policy, c->now, &c->subject,
                            &err);
    if (rc == OJW_OK) {
        return OJW_OK;
    }
    if (c->err.reason == OJW_OK) {
        c->step = claim_step(c, rc);
        c->err = err;
        c->hint = ojw_hint_for_claims(c->pool, rc, c->claims, &c->policy,
                                      c->now);
    }
    return rc;
}

/* AuthBasicProvider ords-jwt: the user name sent must be empty or the
 * subject (the name is the client's word, the subject the issuer's). */
static ojw_reason_t step_user(ojw_check_t *c)
{
    ojw_error_t err;

    if (c->basic_user == NULL || c->subject == NULL) {
        return OJW_OK;
    }
    if (*c->basic_user && strcmp(c->basic_user, c->subject) != 0) {
        ojw_fail(&err, OJW_ERR_USER_MISMATCH, "the Basic user name is "
                 "neither empty nor the token's subject");
        return refuse(c, OJW_STEP_USER, &err, "send an empty user name or "
                      "the sub");
    }
    observe(c, OJW_STEP_USER, NULL, NULL);
    return OJW_OK;
}

/* The sender binding (src/binding.h), with the request's evidence. */
static ojw_reason_t step_bind(ojw_check_t *c)
{
    ojw_bound_token_t tok;
    ojw_evidence_t ev;
    ojw_error_t err;

    memset(&ev, 0, sizeof(ev));
    c->hooks->evidence(c, &ev);
    tok.claims = c->claims;
    tok.profile = c->profile;
    tok.basic = c->basic_user != NULL;
    tok.skew = c->policy.allowed_skew;
    tok.now = c->now;
    err.reason = OJW_OK;
    if (ojw_binding_check(&c->bound, &tok, &ev, c->pool, &err) != OJW_OK) {
        return refuse(c, OJW_STEP_BINDING, &err,
                      ojw_hint_for_binding(err.reason));
    }
    observe(c, OJW_STEP_BINDING, NULL, NULL);
    return OJW_OK;
}

/* ------------------------------------------------------------------ */
/* the run                                                             */

/* What a step needs of the run so far. */
enum { NEEDS_NOTHING, NEEDS_TOKEN, NEEDS_PROFILE, NEEDS_CLAIMS };

typedef ojw_reason_t step_fn(ojw_check_t *c);

/* After the parse, the steps in their order. */
static const struct {
    step_fn *run;
    int needs;
} steps[] = {
    { step_choose, NEEDS_TOKEN },   /* the profile (issuer line) */
    { step_nonce,  NEEDS_PROFILE }, /* dpop nonce */
    { step_type,   NEEDS_PROFILE }, /* typ */
    { step_verify, NEEDS_PROFILE }, /* key found, signature */
    { step_claims, NEEDS_CLAIMS },  /* issuer ... subject */
    { step_user,   NEEDS_CLAIMS },  /* Basic user name */
    { step_bind,   NEEDS_CLAIMS },  /* sender binding */
};

#define NSTEPS      (sizeof(steps) / sizeof(steps[0]))
#define FIRST_CLAIM 4               /* steps[4]: a cache hit starts there */

static int can_run(const ojw_check_t *c, int needs)
{
    switch (needs) {
    case NEEDS_TOKEN:   return c->tok != NULL;
    case NEEDS_PROFILE: return c->profile != NULL;
    case NEEDS_CLAIMS:  return c->claims != NULL;
    default:            return 1;
    }
}

/* The steps from first on; without an observer, up to the first
 * refusal. */
static void run_steps(ojw_check_t *c, size_t first)
{
    size_t i;

    for (i = first; i < NSTEPS; i++) {
        if (c->err.reason != OJW_OK && !observing(c)) {
            return;
        }
        if (can_run(c, steps[i].needs)) {
            steps[i].run(c);
        }
        if (i == FIRST_CLAIM && c->err.reason == OJW_OK && !c->cached
            && c->hooks->cache_put) {
            c->hooks->cache_put(c);         /* the token's verdict */
        }
    }
}

static void reset(ojw_check_t *c)
{
    c->tok = NULL;
    c->profile = NULL;
    c->claims = NULL;
    c->kid = NULL;
    c->subject = NULL;
    c->cached = 0;
    c->entry = NULL;
    c->nonce = NULL;
    c->nonce_age = 0;
    c->nonce_done = 0;
    memset(&c->bound, 0, sizeof(c->bound));
    c->step = OJW_STEP_FORMAT;
    c->err.reason = OJW_OK;
    c->err.detail[0] = '\0';
    c->hint = NULL;
}

/* A token verified before whose dates still hold: the claims step (its
 * iss, aud and sub passed for this profile when it was put; its dates
 * again, with this server's skew and age, at this time), the nonce (the
 * verdict is the full check's: a hit whose dates fail is checked
 * afresh), then the rest. 0 when there is none. */
static int from_cache(ojw_check_t *c, const char *compact, size_t len)
{
    const ojw_check_hooks_t *h = c->hooks;
    const ojw_cached_t *hit;

    if (h->cache_get == NULL || len > c->token_max
        || (hit = h->cache_get(c, compact, len)) == NULL) {
        return 0;
    }
    set_profile(c, hit->profile);
    c->claims = hit->claims;
    c->kid = hit->kid;
    c->subject = hit->subject;
    c->cached = 1;
    c->entry = hit;
    if (ojw_claims_check_times(&hit->times, &c->policy, c->now, &c->err)
        != OJW_OK) {
        h->cache_judged(c, compact, len, hit, 0);
        reset(c);
        return 0;
    }
    h->cache_judged(c, compact, len, hit, 1);
    if (step_nonce(c) == OJW_OK) {
        run_steps(c, FIRST_CLAIM + 1);
    }
    return 1;
}

void ojw_check_cache_entry(const ojw_check_t *c, ojw_cached_t *e)
{
    const json_t *iss = json_object_get(c->claims, "iss");

    memset(e, 0, sizeof(*e));
    e->profile = c->profile;
    e->slot = -1;
    e->claims = (json_t *)c->claims;
    e->kid = c->kid;
    e->subject = c->subject;
    e->iss = json_is_string(iss) ? json_string_value(iss) : NULL;
    e->aud = json_object_get(c->claims, "aud");
    ojw_claim_times_read(&e->times, c->claims);
}

ojw_reason_t ojw_check_run(ojw_check_t *c, const char *compact, size_t len)
{
    reset(c);
    if (from_cache(c, compact, len)) {
        return c->err.reason;
    }
    nonce_first(c);
    if ((c->err.reason == OJW_OK || observing(c))
        && (step_parse(c, compact, len) == OJW_OK || observing(c))) {
        run_steps(c, 0);
    }
    return c->err.reason;
}
