/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: protect httpd locations with OAuth 2.0 bearer JWTs the
 * way Oracle REST Data Services JWT profiles do.
 *
 * This file holds the module record, the hooks, AuthType ords-jwt, the
 * token check that it shares with the authn provider (mod_ordsjwt_authn.c)
 * and the mapping of the core's results to HTTP (RFC 6750). The other glue is in
 * mod_ordsjwt_*.c, one concern per file (see mod_ordsjwt.h); the logic is
 * in src/ and knows nothing of httpd.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "token.h"
#include "claims.h"
#include "diagnose.h"
#include "token_cache.h"

APLOG_USE_MODULE(auth_ordsjwt);

ordsjwt_req_t *ordsjwt_req(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_ordsjwt_module);
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

/* s as the inside of an RFC 7230 quoted-string, control chars dropped. */
static const char *quoted(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            continue;
        }
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* The Bearer challenge for this request's state. */
static const char *bearer_challenge(request_rec *r, const ordsjwt_req_t *rq)
{
    const char *realm = ap_auth_name(r) ? ap_auth_name(r) : ORDSJWT_AUTH_TYPE;
    const char *c = apr_psprintf(r->pool, "Bearer realm=\"%s\"",
                                 quoted(r->pool, realm));

    if (rq && rq->state == ORDSJWT_INVALID && !ordsjwt_dpop_error(r, rq)) {
        c = apr_psprintf(r->pool, "%s, error=\"%s\", "
                         "error_description=\"%s\"", c,
                         rq->reason == OJW_ERR_TOKEN_AMBIGUOUS
                         ? "invalid_request" : "invalid_token",
                         ojw_reason_description(rq->reason));
    }
    else if (rq && rq->state == ORDSJWT_VALID && rq->insufficient) {
        c = apr_pstrcat(r->pool, c, ", error=\"insufficient_scope\"", NULL);
        if (rq->missing_scopes) {
            c = apr_psprintf(r->pool, "%s, scope=\"%s\"", c,
                             quoted(r->pool, rq->missing_scopes));
        }
    }
    return c;
}

/* Sets the challenge for request of (its AuthName, its state) in the
 * error headers of r, in the header a client reads: Proxy-Authenticate
 * for a proxy request, else WWW-Authenticate. */
static void set_challenge_of(request_rec *r, request_rec *of,
                             const ordsjwt_req_t *rq)
{
    const char *header = PROXYREQ_PROXY == of->proxyreq
                         ? "Proxy-Authenticate" : "WWW-Authenticate";

    apr_table_setn(r->err_headers_out, header, bearer_challenge(of, rq));
    ordsjwt_dpop_challenge(r, of, rq, header);
}

static void set_challenge(request_rec *r, const ordsjwt_req_t *rq)
{
    set_challenge_of(r, r, rq);
}

static int note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, ORDSJWT_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    set_challenge(r, ordsjwt_req(r));
    return OK;
}

/* 1 when r is answered with Bearer challenges (AuthType ords-jwt); after
 * AuthType Basic, mod_auth_basic sends its own and a 403 gets none. */
static int bearer_section(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, ORDSJWT_AUTH_TYPE) == 0;
}

/* A 403 from our authz providers gets its RFC 6750 challenge. */
static void insert_error_filter(request_rec *r)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    if (rq && rq->insufficient && r->status == HTTP_FORBIDDEN
        && bearer_section(r)) {
        set_challenge(r, rq);
    }
}

/* ... also when a local ErrorDocument answers it: httpd serves that page
 * as an internal redirect, a new request whose prev is the refused one
 * (the 401 challenge survives on its own: it is set before the redirect,
 * in the error headers the redirect keeps). */
static void insert_filter(request_rec *r)
{
    request_rec *refused = r->prev;
    ordsjwt_req_t *rq;

    while (refused && refused->prev) {
        refused = refused->prev;
    }
    if (refused == NULL || !ap_is_HTTP_ERROR(r->status)
        || (rq = ordsjwt_req(refused)) == NULL || !bearer_section(refused)) {
        return;
    }
    if (rq->insufficient && refused->status == HTTP_FORBIDDEN) {
        set_challenge_of(r, refused, rq);
    }
}

/* At most max bytes of s, or NULL. */
static const char *bounded(apr_pool_t *p, const char *s, apr_size_t max)
{
    return s ? apr_pstrndup(p, s, max) : NULL;
}

static void set_note(request_rec *r, const char *name, const char *value)
{
    for (; value && r; r = r->next) {
        apr_table_setn(r->notes, name, value);
    }
}

static const char *profile_label(request_rec *r, const ordsjwt_req_t *rq);

/* The notes of a judged request for LogFormat's %{...}n, on the request
 * and on those that served its answer (a local ErrorDocument): bounded as
 * in the error log; mod_log_config escapes what it prints. The kid of a
 * refused token is what its header says; a subject is only read from a
 * token whose signature verified. */
static void set_log_notes(request_rec *r, const ordsjwt_req_t *rq)
{
    set_note(r, ORDSJWT_NOTE_OUTCOME, rq->outcome);
    set_note(r, ORDSJWT_NOTE_PROFILE,
             bounded(r->pool, profile_label(r, rq), ORDSJWT_LOG_NAME_MAX));
    set_note(r, ORDSJWT_NOTE_KID,
             bounded(r->pool, rq->kid, ORDSJWT_LOG_KID_MAX));
    set_note(r, ORDSJWT_NOTE_SUB,
             bounded(r->pool, rq->subject, ORDSJWT_LOG_NAME_MAX));
}

/* Counts and logs an authorization refusal once the answer is known,
 * whether it is a 403 or (AuthzSendForbiddenOnFailure Off) a 401; a
 * request granted by another Require after an ords-* line denied is not
 * a refusal. Then sets the access log notes: this hook runs before
 * mod_log_config's (APR_HOOK_REALLY_FIRST against its MIDDLE). */
static int count_authz_refusal(request_rec *r)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    if (rq && rq->state == ORDSJWT_VALID && rq->insufficient
        && (r->status == HTTP_FORBIDDEN || r->status == HTTP_UNAUTHORIZED)) {
        ordsjwt_count(rq->profile, rq->denied);
        ordsjwt_log_refusals(r, rq);
        rq->outcome = ojw_reason_name(rq->denied);
    }
    if (rq && rq->outcome) {
        set_log_notes(r, rq);
    }
    return DECLINED;
}

/* ------------------------------------------------------------------ */
/* authentication                                                      */

/* The profile to check the token with: the only one, or the one the
 * (not yet verified) iss and aud choose. */
static const ojw_profile_t *choose_profile(request_rec *r,
                                           const ordsjwt_dir_conf_t *dc,
                                           ojw_token_t *tok,
                                           ojw_error_t *err)
{
    int n = ojw_profile_set_count(dc->profile_set);
    const char *iss = n == 1 ? NULL : ojw_token_peek_issuer(tok, r->pool);
    const json_t *aud = n == 1 ? NULL
                        : json_object_get(ojw_token_unverified_claims(
                                              tok, r->pool), "aud");
    const ojw_profile_t *p = ojw_profile_set_choose(dc->profile_set, iss,
                                                    aud);

    if (p) {
        return p;
    }
    ojw_fail(err, OJW_ERR_ISSUER, "iss \"%.200s\" matches none of the %d "
             "profiles of this location", iss ? iss : "(none)", n);
    return NULL;
}

static const char *claim_text(const json_t *claims, const char *name)
{
    const json_t *v = claims ? json_object_get(claims, name) : NULL;

    return json_is_string(v) ? json_string_value(v) : "-";
}

/* The profile for the log: the chosen one, else the candidates, as many
 * names as fit in ORDSJWT_LOG_NAME_MAX bytes and how many there are (a
 * location may list thousands). */
static const char *profile_label(request_rec *r, const ordsjwt_req_t *rq)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);
    int i, n = dc->profiles ? dc->profiles->nelts : 0;
    apr_size_t len = 0;
    char *label;

    if (rq->profile) {
        return rq->profile->name;
    }
    label = apr_palloc(r->pool, ORDSJWT_LOG_NAME_MAX + 1);
    label[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *name = APR_ARRAY_IDX(dc->profiles, i,
                                         const ojw_profile_t *)->name;
        apr_size_t add = strlen(name) + (i > 0);

        if (len + add > ORDSJWT_LOG_NAME_MAX) {
            break;
        }
        apr_snprintf(label + len, ORDSJWT_LOG_NAME_MAX + 1 - len, "%s%s",
                     i > 0 ? "|" : "", name);
        len += add;
    }
    if (i < n) {
        return apr_psprintf(r->pool, "%s|... (%d profiles)", label, n);
    }
    return n ? label : "-";
}

static int refuse(request_rec *r, ordsjwt_req_t *rq, const ojw_token_t *tok,
                  const ojw_error_t *err, const char *hint)
{
    const json_t *claims = tok ? tok->claims : NULL;

    rq->state = ORDSJWT_INVALID;
    rq->reason = err->reason;
    rq->outcome = ojw_reason_name(err->reason);
    rq->kid = tok ? tok->kid : NULL;
    rq->subject = json_is_string(json_object_get(claims, "sub"))
                  ? claim_text(claims, "sub") : NULL;
    ordsjwt_count(rq->profile, err->reason);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00011: token refused "
                  "(%s): %s%s%s [profile %s, kid %.64s, iss %.200s, "
                  "sub %.200s]",
                  ojw_reason_name(err->reason), err->detail,
                  hint ? "; hint: " : "", hint ? hint : "",
                  profile_label(r, rq),
                  tok && tok->kid ? tok->kid : "-",
                  claim_text(claims, "iss"), claim_text(claims, "sub"));
    return HTTP_UNAUTHORIZED;
}

static int keys_unavailable(request_rec *r, ordsjwt_req_t *rq,
                            const ojw_keys_use_t *use)
{
    rq->state = ORDSJWT_UNAVAILABLE;
    rq->outcome = ojw_reason_name(OJW_ERR_KEYS_UNAVAILABLE);
    ordsjwt_count(rq->profile, OJW_ERR_KEYS_UNAVAILABLE);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_ltoa(r->pool, use->retry_after));
    if (use->busy) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00040: %d "
                      "requests wait already for JWKS fetches, none more for "
                      "the keys of profile %s (%s): answering 503, retry in "
                      "%ld s",
                      ordsjwt_state->policy.max_waiters, rq->profile->name,
                      ojw_profile_key_source(rq->profile, r->pool),
                      use->retry_after);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00012: no signing keys "
                  "for profile %s (%s): answering 503, retry in %ld s; "
                  "the error log says why the JWKS could not be fetched",
                  rq->profile->name,
                  ojw_profile_key_source(rq->profile, r->pool),
                  use->retry_after);
    return HTTP_SERVICE_UNAVAILABLE;
}

/* The signature, with the profile's static keys or its shared JWKS;
 * use->generation: that of the keys that verified (0 for static keys). */
static ojw_reason_t verify(request_rec *r, const ojw_profile_t *p,
                           ojw_token_t *tok, ojw_keys_use_t *use,
                           ojw_error_t *err)
{
    ordsjwt_state_t *st = ordsjwt_state;

    memset(use, 0, sizeof(*use));
    if (p->static_keys) {
        return ojw_token_verify(tok, p->static_keys, r->pool, err);
    }
    if (st == NULL || !st->active || st->keys == NULL) {
        use->retry_after = ORDSJWT_RETRY_AFTER_NO_SHM;
        return ojw_fail(err, OJW_ERR_KEYS_UNAVAILABLE, "no shared JWKS cache");
    }
    return ojw_keys_verify(use, st->keys, p->slot, tok, r->pool, r, err);
}

/* The profile's claim policy in this server, and the time now. */
static long long claim_policy(request_rec *r, const ojw_profile_t *p,
                              ojw_claim_policy_t *policy)
{
    const ojw_settings_t *n = &ordsjwt_srv_conf(r->server)->num;

    ojw_profile_policy(policy, p, ojw_setting(n, OJW_SET_SKEW),
                       ojw_setting(n, OJW_SET_AGE));
    return apr_time_sec(apr_time_now());
}

/* The claims of a verified token, checked with the profile's policy. */
static int check_claims(request_rec *r, ordsjwt_req_t *rq, ojw_token_t *tok,
                        const char **subject)
{
    ojw_claim_policy_t policy;
    long long now = claim_policy(r, rq->profile, &policy);
    ojw_error_t err;

    policy.key_issuer = tok->key ? tok->key->issuer : NULL;
    memset(&err, 0, sizeof(err));
    if (ojw_claims_check(tok->claims, &policy, now, subject, &err) != OJW_OK) {
        return refuse(r, rq, tok, &err,
                      ojw_hint_for_claims(r->pool, err.reason, tok->claims,
                                          &policy, now));
    }
    return OK;
}

/* A Basic user name (user, not NULL) must be empty or the subject: the
 * name is the client's word, the subject the issuer's. */
static int user_refused(request_rec *r, ordsjwt_req_t *rq, const char *kid,
                        const char *user, const char *subject)
{
    if (user == NULL || *user == '\0' || strcmp(user, subject) == 0) {
        return 0;
    }
    rq->state = ORDSJWT_INVALID;
    rq->reason = OJW_ERR_USER_MISMATCH;
    ordsjwt_count(rq->profile, OJW_ERR_USER_MISMATCH);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00045: token refused "
                  "(%s): the Basic user name is neither empty nor the "
                  "token's subject; hint: send an empty user name or the sub "
                  "[profile %s, kid %.64s, sub %.200s]",
                  ojw_reason_name(OJW_ERR_USER_MISMATCH), rq->profile->name,
                  kid ? kid : "-", subject);
    return 1;
}

/* Accepts a verified token: r->user is its subject. */
static int accept_token(request_rec *r, ordsjwt_req_t *rq, json_t *claims,
                        const char *kid, const char *subject, int cached)
{
    int rc;

    if (user_refused(r, rq, kid, rq->basic_user, subject)) {
        return HTTP_UNAUTHORIZED;
    }
    rq->subject = subject;
    if ((rc = ordsjwt_bound_check(r, rq, claims)) != OK) {
        return rc;
    }
    rq->state = ORDSJWT_VALID;
    rq->claims = claims;
    rq->outcome = "accepted";
    rq->kid = kid;
    ordsjwt_count(rq->profile, OJW_OK);
    ordsjwt_to_backend(r, rq);
    r->user = apr_pstrdup(r->pool, subject);
    rq->subject = r->user;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00015: token accepted "
                  "[profile %s, kid %s, sub %s]%s", rq->profile->name,
                  kid ? kid : "-", r->user, cached ? " (cached)" : "");
    return OK;
}

/* ------------------------------------------------------------------ */
/* verified tokens of this process                                     */

/* 1 when a cached verdict still holds: the keys that verified it are
 * still the profile's current ones, and exp/nbf/age hold now. */
static int still_good(request_rec *r, const ojw_profile_t *p,
                      const ojw_cached_t *hit, const char **subject)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_claim_policy_t policy;
    long long now;
    ojw_keys_use_t use;
    ojw_error_t err;

    if (p->static_keys == NULL) {
        if (st->keys == NULL) {
            return 0;
        }
        ojw_keys_generation(&use, st->keys, p->slot, r->pool, r);
        if (use.generation == 0 || use.generation != hit->generation) {
            return 0;
        }
    }
    now = claim_policy(r, p, &policy);
    return ojw_claims_check(hit->claims, &policy, now, subject, &err)
           == OJW_OK;
}

/* 1 when a cached verdict is for the profile the section would choose
 * for its token (baton: the section's profile set). */
static int chosen_here(const ojw_cached_t *e, void *set)
{
    return ojw_profile_set_would_choose(set, e->profile, e->claims);
}

/* Accepts a token verified before, or DECLINED: verify it afresh. */
static int from_cache(request_rec *r, ordsjwt_req_t *rq, const char *compact,
                      size_t len)
{
    ojw_profile_set_t *set = ordsjwt_dir_conf(r)->profile_set;
    ordsjwt_state_t *st = ordsjwt_state;
    const ojw_profile_t *p;
    const char *subject = NULL;
    ojw_cached_t hit;

    if (st == NULL || st->tokens == NULL) {
        return DECLINED;
    }
    if (!ojw_token_cache_find(st->tokens, compact, len, chosen_here, set,
                              r->pool, &hit)) {
        ordsjwt_count_cache(ORDSJWT_CACHE_MISS);
        return DECLINED;
    }
    p = hit.profile;
    if (!still_good(r, p, &hit, &subject)) {
        ojw_token_cache_remove(st->tokens, compact, len, p);
        ordsjwt_count_cache(ORDSJWT_CACHE_MISS);
        return DECLINED;    /* the full check says why, and logs it */
    }
    ordsjwt_count_cache(ORDSJWT_CACHE_HIT);
    rq->profile = p;
    return accept_token(r, rq, hit.claims, hit.kid, subject, 1);
}

/* Keeps an accepted token for its next request. */
static void remember(const ordsjwt_req_t *rq, const ojw_token_t *tok,
                     apr_uint64_t generation)
{
    ordsjwt_state_t *st = ordsjwt_state;
    ojw_cached_t e;

    if (st == NULL || st->tokens == NULL) {
        return;
    }
    e.profile = rq->profile;
    e.slot = rq->profile->slot;
    e.generation = generation;
    e.claims = tok->claims;
    e.kid = tok->kid;
    ojw_token_cache_put(st->tokens, tok->compact, tok->len, &e);
}

/* The request's state, its profile when there is only one; NULL when the
 * section has no profile. */
static ordsjwt_req_t *start(request_rec *r)
{
    const ordsjwt_dir_conf_t *dc = ordsjwt_dir_conf(r);
    ordsjwt_req_t *rq = apr_pcalloc(r->pool, sizeof(*rq));
    ordsjwt_req_t *before = ordsjwt_req(r);

    rq->taken = before ? before->taken : NULL;  /* see _source.c */
    ap_set_module_config(r->request_config, &auth_ordsjwt_module, rq);
    if (dc->profiles == NULL || dc->profiles->nelts == 0) {
        return NULL;
    }
    if (dc->profiles->nelts == 1) {
        rq->profile = APR_ARRAY_IDX(dc->profiles, 0, const ojw_profile_t *);
    }
    return rq;
}

/* The checks of a compact token, from either header (see mod_ordsjwt.h). */
static int check_token(request_rec *r, ordsjwt_req_t *rq, const char *compact)
{
    size_t token_max = (size_t)ojw_setting(&ordsjwt_srv_conf(r->server)->num,
                                           OJW_SET_TOKEN_MAX);
    size_t len = strlen(compact);
    const char *subject = NULL;
    ojw_keys_use_t use;
    ojw_token_t *tok = NULL;
    ojw_error_t err;
    int rc;

    rq->compact = compact;
    if (len <= token_max && (rc = from_cache(r, rq, compact, len)) != DECLINED) {
        return rc;
    }
    memset(&err, 0, sizeof(err));
    if (ojw_token_parse(&tok, compact, len, token_max, r->pool, &err) != OJW_OK
        || (rq->profile = choose_profile(r, ordsjwt_dir_conf(r), tok,
                                         &err)) == NULL) {
        return refuse(r, rq, tok, &err, NULL);
    }
    if (ojw_token_check_type(tok, rq->profile->token_type, &err) != OJW_OK) {
        return refuse(r, rq, tok, &err, NULL);
    }
    if (verify(r, rq->profile, tok, &use, &err) != OJW_OK) {
        return err.reason == OJW_ERR_KEYS_UNAVAILABLE
               ? keys_unavailable(r, rq, &use)
               : refuse(r, rq, tok, &err, NULL);
    }
    if ((rc = check_claims(r, rq, tok, &subject)) != OK) {
        return rc;
    }
    remember(rq, tok, use.generation);
    return accept_token(r, rq, tok->claims, tok->kid, subject, 0);
}

int ordsjwt_authenticate(request_rec *r, const char *compact,
                         const char *basic_user, ordsjwt_req_t **rqp)
{
    ordsjwt_req_t *rq = start(r);

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

/* RFC 6750 3.1: a request with more than one token (two sources, or
 * one sent twice) is an invalid_request, whichever would verify. */
static int ambiguous(request_rec *r, ordsjwt_req_t *rq, int n,
                     const char *where)
{
    rq->state = ORDSJWT_INVALID;
    rq->reason = OJW_ERR_TOKEN_AMBIGUOUS;
    rq->outcome = ojw_reason_name(OJW_ERR_TOKEN_AMBIGUOUS);
    ordsjwt_count(rq->profile, OJW_ERR_TOKEN_AMBIGUOUS);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00080: request "
                  "refused (%s): %d tokens in %s; hint: send one token, in "
                  "one of the sources of OrdsJwtTokenFrom",
                  ojw_reason_name(OJW_ERR_TOKEN_AMBIGUOUS), n, where);
    set_challenge(r, rq);
    return HTTP_BAD_REQUEST;
}

static int check_authn(request_rec *r)
{
    const char *compact, *where;
    ordsjwt_req_t *rq;
    int rc, n, dpop;

    if (!bearer_section(r)) {
        return DECLINED;
    }
    if ((rq = start(r)) == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "ORDSJWT00013: AuthType "
                      "%s without AuthOrdsJwtProfile for %s",
                      ORDSJWT_AUTH_TYPE, r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    n = ordsjwt_find_token(r, &compact, &where, &dpop);
    if (n > 1) {        /* the Bearer challenge says invalid_request */
        return ambiguous(r, rq, n, where);
    }
    rq->dpop = dpop;
    if (n == 0) {
        ordsjwt_count(rq->profile, OJW_ERR_TOKEN_MISSING);
        rq->outcome = ojw_reason_name(OJW_ERR_TOKEN_MISSING);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00014: no bearer "
                      "token in the request");
        set_challenge(r, rq);
        return HTTP_UNAUTHORIZED;
    }
    if ((rc = ordsjwt_nonce_gate(r, rq, compact)) == OK) {
        rc = check_token(r, rq, compact);
    }
    if (rc == HTTP_UNAUTHORIZED) {
        set_challenge(r, rq);
    }
    return rc;
}

/* ------------------------------------------------------------------ */

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(ordsjwt_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(ordsjwt_scrub_lookalikes, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(ordsjwt_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_test_config(ordsjwt_test_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(ordsjwt_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_translate_name(ordsjwt_take_sources, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_force_authn(ordsjwt_force_authn, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(note_auth_failure, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_insert_filter(insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(count_authz_refusal, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
    ap_hook_handler(ordsjwt_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ordsjwt_authz_register(p);
    ordsjwt_authn_register(p);
    ordsjwt_bound_register(p);
}

module AP_MODULE_DECLARE_DATA auth_ordsjwt_module = {
    STANDARD20_MODULE_STUFF,
    ordsjwt_create_dir_conf,
    ordsjwt_merge_dir_conf,
    ordsjwt_create_srv_conf,
    ordsjwt_merge_srv_conf,
    ordsjwt_cmds,
    register_hooks
#ifdef AP_MODULE_FLAG_NONE
    , AP_MODULE_FLAG_NONE
#endif
};
