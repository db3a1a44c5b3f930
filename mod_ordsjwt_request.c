/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: the request's state and its answers. A request
 * judged by the module starts here (ordsjwt_start), is refused here
 * (ordsjwt_refuse and its kin: the log line, the counter, the state that
 * the challenge reads), and its RFC 6750 challenge and access log notes
 * are set here.
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

APLOG_USE_MODULE(auth_ordsjwt);

/* ------------------------------------------------------------------ */
/* the challenge                                                       */

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

void ordsjwt_set_challenge(request_rec *r, const ordsjwt_req_t *rq)
{
    set_challenge_of(r, r, rq);
}

int ordsjwt_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, ORDSJWT_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    ordsjwt_set_challenge(r, ordsjwt_req(r));
    return OK;
}

int ordsjwt_bearer_section(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, ORDSJWT_AUTH_TYPE) == 0;
}

void ordsjwt_insert_error_filter(request_rec *r)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    if (rq && rq->insufficient && r->status == HTTP_FORBIDDEN
        && ordsjwt_bearer_section(r)) {
        ordsjwt_set_challenge(r, rq);
    }
}

/* A local ErrorDocument is served as an internal redirect, a new request
 * whose prev is the refused one (the 401 challenge survives on its own:
 * it is set before the redirect, in the error headers the redirect
 * keeps). */
void ordsjwt_insert_filter(request_rec *r)
{
    request_rec *refused = r->prev;
    ordsjwt_req_t *rq;

    while (refused && refused->prev) {
        refused = refused->prev;
    }
    if (refused == NULL || !ap_is_HTTP_ERROR(r->status)
        || (rq = ordsjwt_req(refused)) == NULL
        || !ordsjwt_bearer_section(refused)) {
        return;
    }
    if (rq->insufficient && refused->status == HTTP_FORBIDDEN) {
        set_challenge_of(r, refused, rq);
    }
}

/* ------------------------------------------------------------------ */
/* the access log notes                                                */

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

void ordsjwt_note_texts(request_rec *r, const ordsjwt_req_t *rq,
                        ojw_passed_t *p)
{
    p->note_profile = bounded(r->pool, profile_label(r, rq),
                              ORDSJWT_LOG_NAME_MAX);
    p->note_kid = bounded(r->pool, rq->kid, ORDSJWT_LOG_KID_MAX);
    p->note_sub = bounded(r->pool, rq->subject, ORDSJWT_LOG_NAME_MAX);
}

void ordsjwt_set_log_notes(request_rec *r, const ordsjwt_req_t *rq)
{
    const ojw_passed_t *p = rq->passed;
    ojw_passed_t here;

    if (p == NULL || rq->state != ORDSJWT_VALID) {
        ordsjwt_note_texts(r, rq, &here);
        p = &here;
    }
    set_note(r, ORDSJWT_NOTE_OUTCOME, rq->outcome);
    set_note(r, ORDSJWT_NOTE_PROFILE, p->note_profile);
    set_note(r, ORDSJWT_NOTE_KID, p->note_kid);
    set_note(r, ORDSJWT_NOTE_SUB, p->note_sub);
}

/* ------------------------------------------------------------------ */
/* start and refusals                                                  */

ordsjwt_req_t *ordsjwt_start(request_rec *r)
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

static const char *claim_text(const json_t *claims, const char *name)
{
    const json_t *v = claims ? json_object_get(claims, name) : NULL;

    return json_is_string(v) ? json_string_value(v) : "-";
}

int ordsjwt_refuse(request_rec *r, ordsjwt_req_t *rq, const ojw_token_t *tok,
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

int ordsjwt_refuse_user(request_rec *r, ordsjwt_req_t *rq, const char *kid,
                        const char *subject)
{
    rq->state = ORDSJWT_INVALID;
    rq->reason = OJW_ERR_USER_MISMATCH;
    ordsjwt_count(rq->profile, OJW_ERR_USER_MISMATCH);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "ORDSJWT00045: token refused "
                  "(%s): the Basic user name is neither empty nor the "
                  "token's subject; hint: send an empty user name or the sub "
                  "[profile %s, kid %.64s, sub %.200s]",
                  ojw_reason_name(OJW_ERR_USER_MISMATCH), rq->profile->name,
                  kid ? kid : "-", subject);
    return HTTP_UNAUTHORIZED;
}

int ordsjwt_keys_unavailable(request_rec *r, ordsjwt_req_t *rq,
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

int ordsjwt_refuse_missing(request_rec *r, ordsjwt_req_t *rq)
{
    ordsjwt_count(rq->profile, OJW_ERR_TOKEN_MISSING);
    rq->outcome = ojw_reason_name(OJW_ERR_TOKEN_MISSING);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00014: no bearer "
                  "token in the request");
    ordsjwt_set_challenge(r, rq);
    return HTTP_UNAUTHORIZED;
}

int ordsjwt_refuse_ambiguous(request_rec *r, ordsjwt_req_t *rq, int n,
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
    ordsjwt_set_challenge(r, rq);
    return HTTP_BAD_REQUEST;
}
