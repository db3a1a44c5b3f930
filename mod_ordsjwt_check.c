/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the token check of a request, AuthType ords-jwt's
 * check_authn and ordsjwt_authenticate (shared with the authn provider).
 * The checks and their order are the core's pipeline (src/pipeline.c);
 * this file gives it the request's part: the keys of the shared JWKS
 * cache, the process's token cache, the nonce of the request's DPoP
 * proof (mod_ordsjwt_nonce.c), what the request shows of its sender for
 * the binding step (mod_ordsjwt_bound.c), and maps its verdict to the
 * request's state.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "pipeline.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* What the pipeline's hooks need of the request. */
typedef struct {
    request_rec *r;
    ordsjwt_req_t *rq;
    ojw_keys_use_t use;         /* of the keys that verified (generation) */
} run_t;

/* The signature, with the profile's static keys or its shared JWKS;
 * run->use: the generation of the keys that verified (0 for static). */
static ojw_reason_t verify(ojw_check_t *c, ojw_error_t *err,
                           const char **hint)
{
    run_t *run = c->baton;
    ordsjwt_state_t *st = ordsjwt_state;

    (void)hint;
    memset(&run->use, 0, sizeof(run->use));
    if (c->profile->static_keys) {
        return ojw_token_verify(c->tok, c->profile->static_keys, c->pool,
                                err);
    }
    if (st == NULL || !st->active || st->keys == NULL) {
        run->use.retry_after = ORDSJWT_RETRY_AFTER_NO_SHM;
        return ojw_fail(err, OJW_ERR_KEYS_UNAVAILABLE, "no shared JWKS "
                        "cache");
    }
    return ojw_keys_verify(&run->use, st->keys, c->profile->slot, c->tok,
                           c->pool, run->r, err);
}

/* The nonce of the request's DPoP proof, where the profile requires one
 * in this section (a proof checked for the request this one serves is
 * not judged again). */
static ojw_reason_t nonce(ojw_check_t *c, ojw_error_t *err,
                          const char **hint)
{
    run_t *run = c->baton;
    request_rec *r = run->r;
    const ojw_nonce_policy_t *pol;
    const char *proof;

    (void)hint;
    if (!run->rq->dpop || (proof = ordsjwt_dpop_proof(r)) == NULL
        || ordsjwt_dpop_checked_before(r, run->rq->compact)
        || (pol = ordsjwt_nonce_policy(r, c->profile)) == NULL) {
        return OJW_OK;      /* no proof: the binding says so */
    }
    c->nonce = pol;
    return ojw_nonce_require(&c->nonce_age, proof, strlen(proof), pol,
                             c->pool, err);
}

/* What the request shows of its sender (mod_ordsjwt_bound.c). */
static void evidence(ojw_check_t *c, ojw_evidence_t *ev)
{
    run_t *run = c->baton;

    ordsjwt_bound_evidence(run->r, run->rq, c->profile, ev);
}

/* ------------------------------------------------------------------ */
/* verified tokens of this process                                     */

/* 1 when the keys that verified a cached token are still the profile's
 * current ones. */
static int keys_current(run_t *run, const ojw_profile_t *p,
                        const ojw_cached_t *hit)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_keys_use_t use;

    if (p->static_keys) {
        return 1;
    }
    if (st->keys == NULL) {
        return 0;
    }
    ojw_keys_generation(&use, st->keys, p->slot, run->r->pool, run->r);
    return use.generation != 0 && use.generation == hit->generation;
}

/* 1 when a cached verdict is for the profile the section would choose
 * for its token (baton: the section's profile set). */
static int chosen_here(const ojw_cached_t *e, void *set)
{
    return ojw_profile_set_would_choose_for(set, e->profile, e->iss,
                                            e->aud);
}

/* The entry of the profile the section would choose for this token: one
 * lookup, whatever the number of profiles; held for the request. */
static const ojw_cached_t *cache_get(ojw_check_t *c, const char *compact,
                                     size_t len)
{
    ordsjwt_state_t *st = ordsjwt_state;
    const ojw_cached_t *hit;

    if (st == NULL || st->tokens == NULL) {
        return NULL;
    }
    hit = ojw_token_cache_find(st->tokens, compact, len, chosen_here,
                               (void *)c->profiles, c->pool);
    if (hit && !keys_current(c->baton, hit->profile, hit)) {
        ojw_token_cache_remove(st->tokens, compact, len, hit->profile);
        hit = NULL;
    }
    if (hit == NULL) {
        ordsjwt_count_cache(ORDSJWT_CACHE_MISS);
    }
    return hit;
}

/* A hit whose dates no longer hold goes: the full check says why, and
 * logs it. */
static void cache_judged(ojw_check_t *c, const char *compact, size_t len,
                         const ojw_cached_t *hit, int good)
{
    if (!good) {
        ojw_token_cache_remove(ordsjwt_state->tokens, compact, len,
                               hit->profile);
    }
    (void)c;
    ordsjwt_count_cache(good ? ORDSJWT_CACHE_HIT : ORDSJWT_CACHE_MISS);
}

/* Keeps an accepted token for its next request; c->entry: the entry,
 * held for the request. */
static void cache_put(ojw_check_t *c)
{
    ordsjwt_state_t *st = ordsjwt_state;
    run_t *run = c->baton;
    ojw_cached_t e;

    if (st == NULL || st->tokens == NULL) {
        return;
    }
    ojw_check_cache_entry(c, &e);
    e.slot = c->profile->slot;
    e.generation = run->use.generation;
    c->entry = ojw_token_cache_put(st->tokens, c->tok->compact, c->tok->len,
                                   &e, c->pool);
}

static const ojw_check_hooks_t module_hooks = {
    .verify = verify,
    .nonce = nonce,
    .evidence = evidence,
    .cache_get = cache_get,
    .cache_judged = cache_judged,
    .cache_put = cache_put,
};

/* ------------------------------------------------------------------ */
/* the verdict                                                         */

/* Accepts a verified token: r->user is its subject. */
static int accept_token(request_rec *r, ordsjwt_req_t *rq,
                        const ojw_check_t *c)
{
    rq->state = ORDSJWT_VALID;
    rq->claims = (json_t *)c->claims;
    rq->outcome = "accepted";
    rq->kid = c->kid;
    ordsjwt_count(rq->profile, OJW_OK);
    r->user = apr_pstrdup(r->pool, c->subject);
    rq->subject = r->user;
    rq->passed = ordsjwt_passed(r, rq, c->entry);
    ordsjwt_to_backend(r, rq);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00015: token accepted "
                  "[profile %s, kid %s, sub %s]%s", rq->profile->name,
                  c->kid ? c->kid : "-", r->user,
                  c->cached ? " (cached)" : "");
    return OK;
}

/* The request's answer to the pipeline's verdict. */
static int answer(request_rec *r, ordsjwt_req_t *rq, const ojw_check_t *c,
                  const run_t *run)
{
    if (c->profile) {
        rq->profile = c->profile;
    }
    if (c->err.reason == OJW_OK) {
        ordsjwt_bound_accepted(r, rq, &c->bound);
        return accept_token(r, rq, c);
    }
    switch (c->step) {
    case OJW_STEP_NONCE:        /* a fresh nonce goes with the 401 */
        return c->err.reason == OJW_ERR_DPOP_NONCE
               ? ordsjwt_nonce_refuse(r, rq, &c->err)
               : ordsjwt_refuse_binding(r, rq, &c->err);
    case OJW_STEP_BINDING:
        rq->subject = c->subject;
        return ordsjwt_bound_refuse(r, rq, &c->err, &c->bound);
    case OJW_STEP_USER:
        return ordsjwt_refuse_user(r, rq, c->kid, c->subject);
    default:
        break;
    }
    if (c->err.reason == OJW_ERR_KEYS_UNAVAILABLE) {
        return ordsjwt_keys_unavailable(r, rq, &run->use);
    }
    return ordsjwt_refuse(r, rq, c->tok, &c->err, c->hint);
}

/* The checks of a compact token, from any source (see mod_ordsjwt.h). */
static int check_token(request_rec *r, ordsjwt_req_t *rq, const char *compact)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;
    ojw_check_t c;
    run_t run;

    rq->compact = compact;
    rq->passed = NULL;
    run.r = r;
    run.rq = rq;
    c.profiles = dc->profile_set;
    c.token_max = (size_t)ojw_setting(n, OJW_SET_TOKEN_MAX);
    c.default_skew = ojw_setting(n, OJW_SET_SKEW);
    c.default_age = ojw_setting(n, OJW_SET_AGE);
    c.now = apr_time_sec(apr_time_now());
    c.basic_user = rq->basic_user;
    c.hooks = &module_hooks;
    c.baton = &run;
    c.pool = r->pool;
    ojw_check_run(&c, compact, strlen(compact));
    return answer(r, rq, &c, &run);
}

int ordsjwt_authenticate(request_rec *r, const char *compact,
                         const char *basic_user, ordsjwt_req_t **rqp)
{
    ordsjwt_req_t *rq = ordsjwt_start(r);

    *rqp = rq;
    if (rq == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (basic_user) {
        rq->basic_user = basic_user;
        rq->basic_token = compact;
    }
    return check_token(r, rq, compact);
}

int ordsjwt_check_authn(request_rec *r)
{
    const char *compact, *where;
    ordsjwt_req_t *rq;
    int rc, n, dpop;

    if (!ordsjwt_bearer_section(r)) {
        return DECLINED;
    }
    if ((rq = ordsjwt_start(r)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00013: AuthType "
                      "%s without AuthOrdsJwtProfile for %s",
                      ORDSJWT_AUTH_TYPE, r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    n = ordsjwt_find_token(r, &compact, &where, &dpop);
    if (n > 1) {        /* the Bearer challenge says invalid_request */
        return ordsjwt_refuse_ambiguous(r, rq, n, where);
    }
    rq->dpop = dpop;
    if (n == 0) {
        return ordsjwt_refuse_missing(r, rq);
    }
    if ((rc = check_token(r, rq, compact)) == HTTP_UNAUTHORIZED) {
        ordsjwt_set_challenge(r, rq);
    }
    return rc;
}
