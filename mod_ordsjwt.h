/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt glue: what its files share. The logic is in src/ and
 * knows nothing of httpd; each mod_*.c file holds one concern:
 *
 *   mod_auth_ordsjwt.c     the module record: directives and hooks only
 *   mod_ordsjwt_config.c   configuration records, directive handlers
 *   mod_ordsjwt_request.c  the request's state, refusals, the RFC 6750
 *                          challenges, the access log notes
 *   mod_ordsjwt_check.c    the token check: the core's pipeline with the
 *                          request's keys, token cache and binding;
 *                          AuthType ords-jwt
 *   mod_ordsjwt_authz.c    Require ords-scope / ords-role / ords-privilege /
 *                          ords-claim
 *   mod_ordsjwt_shared.c   shared memory, the global mutex, retained data,
 *                          child setup, the per-process keys, counters
 *   mod_ordsjwt_authn.c    the authn provider: AuthBasicProvider ords-jwt
 *                          (and, where httpd has it, AuthBearerProvider)
 *   mod_ordsjwt_backend.c  claims and the token to the backend
 *   mod_ordsjwt_status.c   the ordsjwt-status handler
 *   mod_ordsjwt_compose.c  warnings about Require lines that do not compose
 *                          with httpd's authorization as they read
 *   mod_ordsjwt_source.c   where the token comes from (OrdsJwtTokenFrom),
 *                          anonymous access (OrdsJwtAnonymous)
 *   mod_ordsjwt_bound.c    sender-constrained tokens: DPoP, certificate-
 *                          bound tokens
 *   mod_ordsjwt_replay.c   the DPoP replay store (socache), bounded in time
 *   mod_ordsjwt_htu.c      the URL a DPoP proof's htu is compared with
 *   mod_ordsjwt_nonce.c    resource-server DPoP nonces (OrdsJwtDpopNonce):
 *                          the key, the policy of the pipeline's nonce
 *                          step, DPoP-Nonce
 *
 * No file calls into one that calls it (the hook file calls everyone;
 * authz -> authn -> check -> request -> bound -> replay, htu, nonce ->
 * config, shared).
 *
 * Log message ids: every call site has its own "ORDSJWTnnnnn:" id, never
 * reused. The next free id is ORDSJWT00092 (ranges 00100-00199 were given
 * to parallel branches; next free there: 00102, 00125, 00171, 00195;
 * 00200 and above are free).
 *
 * Token-derived text (kid, iss, sub, details) is logged as is: httpd 2.4
 * escapes control characters and backslashes in error log messages.
 */
#ifndef MOD_ORDSJWT_H
#define MOD_ORDSJWT_H

#include "httpd.h"
#include "http_config.h"
#include "ap_provider.h"

#include <apr_global_mutex.h>
#include <apr_hash.h>
#include <apr_shm.h>

#include "ojw.h"
#include "binding.h"
#include "dpop_nonce.h"
#include "jwks_cache.h"
#include "jwks_fetch.h"
#include "keys.h"
#include "pass.h"
#include "privilege.h"
#include "profile.h"
#include "settings.h"
#include "token.h"
#include "token_cache.h"

#define ORDSJWT_AUTH_TYPE       "ords-jwt"
#define ORDSJWT_STATUS_HANDLER  "ordsjwt-status"
#define ORDSJWT_MUTEX_TYPE      "ordsjwt-jwks"

extern module AP_MODULE_DECLARE_DATA auth_ordsjwt_module;

/* ------------------------------------------------------------------ */
/* configuration (mod_ordsjwt_config.c)                                */

typedef struct {
    apr_hash_t *profiles;       /* name -> ojw_profile_t *, this server's */
    apr_hash_t *privileges;     /* name -> ojw_privilege_t * */
    ojw_settings_t num;         /* the numeric directives (settings.h) */
    const char *ca_file;        /* global only */
    apr_array_header_t *role_requires;  /* main server: ordsjwt_role_line_t */
    const char *dpop_base_url;  /* OrdsJwtDpopBaseUrl, no trailing / */
    const char *replay_cache;   /* OrdsJwtReplayCache, global only */
    const char *nonce_key_file; /* OrdsJwtDpopNonceKeyFile, global only */
    const ojw_nonce_key_t *nonce_key;   /* its key, read at startup */
    int nonce_key_shared;       /* the file is readable by every user */
} ordsjwt_srv_conf_t;

/* Where verified claims go (OrdsJwtPassClaims). */
enum { ORDSJWT_PASS_UNSET = -1, ORDSJWT_PASS_NONE = 0, ORDSJWT_PASS_ENV = 1,
       ORDSJWT_PASS_HEADERS = 2, ORDSJWT_PASS_BOTH = 3 };

typedef struct {
    apr_array_header_t *profiles;   /* ojw_profile_t *, in the given order */
    ojw_profile_set_t *profile_set; /* the same, indexed (profile.h) */
    int pass_claims;                /* ORDSJWT_PASS_*, default env */
    int forward_token;              /* -1 unset, default 1 */
    apr_array_header_t *sources;    /* ojw_source_t (OrdsJwtTokenFrom);
                                     * NULL: header=Authorization:Bearer */
    int anonymous;                  /* -1 unset, default 0 */
    int dpop_nonce;                 /* OrdsJwtDpopNonce: -1 unset, default
                                     * 0; a profile's dpop_nonce= wins */
} ordsjwt_dir_conf_t;

/* A "Require ords-role" line, checked after parsing against the profiles
 * of its section. */
typedef struct {
    ap_conf_vector_t *section;
    const char *file;
    int line;
} ordsjwt_role_line_t;

void *ordsjwt_create_srv_conf(apr_pool_t *p, server_rec *s);
void *ordsjwt_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
void *ordsjwt_create_dir_conf(apr_pool_t *p, char *dir);
void *ordsjwt_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

ordsjwt_srv_conf_t *ordsjwt_srv_conf(server_rec *s);
ordsjwt_dir_conf_t *ordsjwt_dir_conf(request_rec *r);

/* Directive handlers (the command table is in mod_auth_ordsjwt.c). */
const char *ordsjwt_cmd_profile(cmd_parms *cmd, void *dconf,
                                const char *args);
const char *ordsjwt_cmd_number(cmd_parms *cmd, void *dconf,
                               const char *arg);
const char *ordsjwt_cmd_ca_file(cmd_parms *cmd, void *dconf,
                                const char *arg);
const char *ordsjwt_cmd_privilege(cmd_parms *cmd, void *dconf,
                                  const char *args);
const char *ordsjwt_cmd_auth_profile(cmd_parms *cmd, void *dconf,
                                     const char *name);
const char *ordsjwt_cmd_pass_claims(cmd_parms *cmd, void *dconf,
                                    const char *arg);

/* A privilege visible from this server while parsing: its own, else the
 * main server's; NULL when none. */
const ojw_privilege_t *ordsjwt_find_privilege(server_rec *s,
                                              const char *name);

/* Records a Require ords-role line (at startup) for the check below. */
void ordsjwt_note_role_line(cmd_parms *cmd);

/* Warns about every Require ords-role of a profile without
 * role_claim_name (configtest and startup). */
void ordsjwt_warn_roles_without_claim(server_rec *s);
void ordsjwt_test_config(apr_pool_t *pconf, server_rec *s);

/* Logs a key that a JWKS parse skipped; baton: the file or URL. */
void ordsjwt_note_skipped_key(void *baton, ojw_note_level_t level, int index,
                              const char *kid, const char *why);

/* ------------------------------------------------------------------ */
/* process state (mod_ordsjwt_shared.c)                                */

/*
 * The module's process-wide state: one struct in ap_retained_data, reached
 * through ordsjwt_state. httpd unloads and reloads this module on every
 * (graceful) restart, so statics start afresh; the mutex and the segment
 * are kept for the life of the parent, the rest is rebuilt by every
 * post_config (and the keys by every child_init).
 */
typedef struct {
    /* kept across restarts */
    apr_global_mutex_t *gmutex;
    const char *gmutex_file;
    apr_pool_t *cache_pool;         /* the segment's and the cache's */
    ojw_cache_t *cache;
    apr_size_t cache_region;        /* the size its region has */
    /* this generation's */
    int active;                     /* JWKS are fetched and shared */
    int nslots;
    const char **slot_urls;         /* jwk_url, or discovery URL */
    const char **slot_issuers;      /* NULL, or a discovery slot's issuer */
    apr_array_header_t *slot_url_arr;
    apr_array_header_t *slot_issuer_arr;
    apr_size_t region;              /* OrdsJwtJwksCacheSize, in bytes */
    int workers;                    /* the MPM's MaxRequestWorkers */
    ojw_refresh_policy_t policy;    /* max_waiters: OrdsJwtJwksMaxWaiters */
    ojw_fetch_opts_t fetch;
    apr_uint32_t *counters;         /* (nprofiles + 1) * OJW_REASON_COUNT */
    apr_uint32_t *cache_counters;   /* ORDSJWT_CACHE_COUNTERS, after them */
    int nprofiles;
    long token_cache_size;          /* OrdsJwtTokenCache */
    /* this child's */
    ojw_keys_t *keys;
    ojw_token_cache_t *tokens;      /* NULL: OrdsJwtTokenCache off */
} ordsjwt_state_t;

extern ordsjwt_state_t *ordsjwt_state;

int ordsjwt_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp);
int ordsjwt_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s);
void ordsjwt_child_init(apr_pool_t *pchild, server_rec *s);
/* configtest: warns when OrdsJwtJwksCacheSize looks too small. */
void ordsjwt_test_shared(apr_pool_t *ptemp, server_rec *s);

/* Counts an outcome of profile p (NULL: before a profile was chosen). */
void ordsjwt_count(const ojw_profile_t *p, ojw_reason_t reason);

/* The counters of profile p (NULL: the unattributed ones), or NULL. */
const apr_uint32_t *ordsjwt_counters(const ojw_profile_t *p);

/* Token cache outcomes, counted by every child in shared memory. */
enum { ORDSJWT_CACHE_HIT, ORDSJWT_CACHE_MISS, ORDSJWT_CACHE_COUNTERS };

void ordsjwt_count_cache(int outcome);

/* The token cache counters (all children), or NULL. */
const apr_uint32_t *ordsjwt_cache_counters(void);

/* Seconds before a client should retry when the keys cannot be had. */
#define ORDSJWT_RETRY_AFTER_NO_SHM  10

/* ------------------------------------------------------------------ */
/* the request (mod_ordsjwt_request.c, mod_ordsjwt_check.c)            */

typedef enum {
    ORDSJWT_NO_TOKEN, ORDSJWT_INVALID, ORDSJWT_UNAVAILABLE, ORDSJWT_VALID
} ordsjwt_req_state_t;

/* What authentication left for the authz providers and the responses. */
typedef struct {
    ordsjwt_req_state_t state;
    ojw_reason_t reason;
    const ojw_profile_t *profile;
    json_t *claims;
    const char *missing_scopes;     /* from failed ords-scope lines */
    ojw_reason_t denied;            /* scope_, role_missing, claim_mismatch */
    int insufficient;               /* an ords-* provider denied */
    apr_array_header_t *refusals;   /* what each denying line would log */
    const char *basic_user;         /* authn provider: the user name sent */
    const char *basic_token;        /* authn provider: the token (password) */
    const char *outcome;            /* "accepted" or a reason name */
    const char *kid, *subject;      /* of the token, for the access log */
    struct ordsjwt_taken *taken;    /* the request's tokens (_source.c) */
    const char *compact;            /* the token checked */
    int dpop;                       /* sent with the DPoP scheme */
    int dpop_checked;               /* its proof held, its jti is stored */
    const ojw_passed_t *passed;     /* accepted: what it passes and notes
                                     * (its cache entry's, or in r->pool) */
} ordsjwt_req_t;

/* Request notes for the access log (LogFormat %{ordsjwt-outcome}n ...). */
#define ORDSJWT_NOTE_OUTCOME    "ordsjwt-outcome"
#define ORDSJWT_NOTE_PROFILE    "ordsjwt-profile"
#define ORDSJWT_NOTE_KID        "ordsjwt-kid"
#define ORDSJWT_NOTE_SUB        "ordsjwt-sub"
/* Bytes of token-derived text in the access log notes, as in the error
 * log: a kid, a subject or profile names. */
#define ORDSJWT_LOG_KID_MAX     64
#define ORDSJWT_LOG_NAME_MAX    200

/* The request's state, or NULL before the module looked at it. */
static APR_INLINE ordsjwt_req_t *ordsjwt_req(request_rec *r)
{
    return ap_get_module_config(r->request_config, &auth_ordsjwt_module);
}

/* mod_ordsjwt_request.c */
/* The request's state, its profile when there is only one; NULL when the
 * section has no profile. */
ordsjwt_req_t *ordsjwt_start(request_rec *r);
/* A refusal of the token: state, outcome, counter, ORDSJWT00011 with the
 * hint (may be NULL); tok may be NULL. HTTP_UNAUTHORIZED. */
int ordsjwt_refuse(request_rec *r, ordsjwt_req_t *rq, const ojw_token_t *tok,
                   const ojw_error_t *err, const char *hint);
/* The Basic user name is not the subject (ORDSJWT00045). */
int ordsjwt_refuse_user(request_rec *r, ordsjwt_req_t *rq, const char *kid,
                        const char *subject);
/* No signing keys: 503 with Retry-After. */
int ordsjwt_keys_unavailable(request_rec *r, ordsjwt_req_t *rq,
                             const ojw_keys_use_t *use);
/* No token: 401 with the challenge. */
int ordsjwt_refuse_missing(request_rec *r, ordsjwt_req_t *rq);
/* RFC 6750 3.1: more than one token (n, in where) is an invalid_request,
 * whichever would verify: 400 with the challenge. */
int ordsjwt_refuse_ambiguous(request_rec *r, ordsjwt_req_t *rq, int n,
                             const char *where);
/* The challenge of rq's state, in r's error headers. */
void ordsjwt_set_challenge(request_rec *r, const ordsjwt_req_t *rq);
/* 1 when r is answered with Bearer challenges (AuthType ords-jwt); after
 * AuthType Basic, mod_auth_basic sends its own and a 403 gets none. */
int ordsjwt_bearer_section(request_rec *r);
/* The notes of a judged request for LogFormat's %{...}n, on the request
 * and on those that served its answer (a local ErrorDocument): bounded as
 * in the error log; mod_log_config escapes what it prints. The kid of a
 * refused token is what its header says; a subject is only read from a
 * token whose signature verified. */
void ordsjwt_set_log_notes(request_rec *r, const ordsjwt_req_t *rq);
/* The texts of the profile, kid and sub notes of rq, in r->pool. */
void ordsjwt_note_texts(request_rec *r, const ordsjwt_req_t *rq,
                        ojw_passed_t *p);
/* Hooks: note_auth_failure; insert_error_filter (a 403 from our authz
 * providers gets its RFC 6750 challenge); insert_filter (also when a
 * local ErrorDocument answers it). */
int ordsjwt_note_auth_failure(request_rec *r, const char *auth_type);
void ordsjwt_insert_error_filter(request_rec *r);
void ordsjwt_insert_filter(request_rec *r);

/* mod_ordsjwt_check.c */
/*
 * Checks compact, a token from the request, with the section's profiles
 * (the core's pipeline): the token cache, parse, profile, signature,
 * claims, binding; refusals are logged and counted. basic_user: NULL for
 * a bearer token, else the user name sent with it (the authn provider),
 * which must be empty or the subject. *rqp: the request's state (NULL
 * when the section has no profile). Returns OK (r->user is the subject,
 * the claims are passed on), HTTP_UNAUTHORIZED (rq->reason says why),
 * HTTP_SERVICE_UNAVAILABLE (no keys; Retry-After is set) or
 * HTTP_INTERNAL_SERVER_ERROR (no profile). No challenge is set: that is
 * the caller's.
 */
int ordsjwt_authenticate(request_rec *r, const char *compact,
                         const char *basic_user, ordsjwt_req_t **rqp);
/* check_authn hook: AuthType ords-jwt. */
int ordsjwt_check_authn(request_rec *r);

/* ------------------------------------------------------------------ */
/* the other concerns                                                  */

void ordsjwt_authz_register(apr_pool_t *p);                 /* _authz.c */
void ordsjwt_authn_register(apr_pool_t *p);                 /* _authn.c */
/* 1 when the section of directive d (Require line being parsed) asks
 * for an ords-jwt token: AuthType ords-jwt, or AuthType Basic whose
 * AuthBasicProvider names ords-jwt or an alias of it. */
int ordsjwt_section_takes_tokens(cmd_parms *cmd, const ap_directive_t *d,
                                 const char **why);
/* log_transaction hook (before mod_log_config's): counts and logs an
 * authorization refusal once the answer is known, whether a 403 or
 * (AuthzSendForbiddenOnFailure Off) a 401 (a request granted by another
 * Require after an ords-* line denied is not a refusal); then sets the
 * access log notes. */
int ordsjwt_log_transaction(request_rec *r);
int ordsjwt_scrub_lookalikes(request_rec *r);               /* _backend.c */
void ordsjwt_to_backend(request_rec *r, const ordsjwt_req_t *rq);
/* What rq's accepted token (rq->profile, claims, kid and subject set)
 * passes and notes: worked out once for its cache entry (entry, held for
 * r->pool) and kept there; without an entry, for this request alone. */
const ojw_passed_t *ordsjwt_passed(request_rec *r, const ordsjwt_req_t *rq,
                                   const ojw_cached_t *entry);
int ordsjwt_status_handler(request_rec *r);                 /* _status.c */

/* Token sources (mod_ordsjwt_source.c), for AuthType ords-jwt only. */
/* translate_name hook: takes query parameter and cookie tokens out of
 * the request before mod_rewrite, mod_proxy and the backend see it. */
int ordsjwt_take_sources(request_rec *r);
/* The tokens the request carries in the section's sources, its DPoP
 * token and, beside a token, stray Bearer/DPoP credentials (src/source.h):
 * how many; *compact the first (NULL when none); *where the sources that
 * had one (for the log; never the token); *dpop: it came as DPoP. */
int ordsjwt_find_token(request_rec *r, const char **compact,
                       const char **where, int *dpop);
/* force_authn hook: OrdsJwtAnonymous. */
int ordsjwt_force_authn(request_rec *r);
/* Removes the header sources from what the backend gets. */
void ordsjwt_unforward_sources(request_rec *r);
const char *ordsjwt_cmd_token_from(cmd_parms *cmd, void *dconf,
                                   const char *arg);
/* mod_ordsjwt_bound.c: sender-constrained tokens (RFC 9449, RFC 8705). */
void ordsjwt_bound_register(apr_pool_t *p);
const char *ordsjwt_cmd_dpop_base_url(cmd_parms *cmd, void *dconf,
                                      const char *arg);
/* mod_ordsjwt_htu.c: the URL a DPoP proof's htu must name, from the
 * configuration and the request's path; NULL with *why when the request
 * target names another server (or is no URL). */
void ordsjwt_htu_register(apr_pool_t *p);
const char *ordsjwt_htu_url(request_rec *r, const char **why);
/* mod_ordsjwt_replay.c: the DPoP replay store, bounded in time. */
void ordsjwt_replay_register(apr_pool_t *p);
const char *ordsjwt_cmd_replay_cache(cmd_parms *cmd, void *dconf,
                                     const char *arg);
/* Remembers a proof's key until expires (seconds since the epoch):
 * APR_SUCCESS when it was new, APR_EEXIST when seen before, another
 * status when the store did not answer within OrdsJwtReplayTimeout
 * (logged there, once a minute per process): answer 503 with
 * Retry-After: *retry_after. */
apr_status_t ordsjwt_replay_remember(request_rec *r, const unsigned char *key,
                                     long long expires, int *retry_after);
/* The one DPoP header of r, or NULL (none, or several). */
const char *ordsjwt_dpop_proof(request_rec *r);
/* 1 when the request that r serves (a subrequest or an internal
 * redirect) was accepted with the token compact and its proof already. */
int ordsjwt_dpop_checked_before(request_rec *r, const char *compact);
/* Refuses rq for a binding or proof error (logged, counted): 401. */
int ordsjwt_refuse_binding(request_rec *r, ordsjwt_req_t *rq,
                           const ojw_error_t *err);
/* What r shows of the sender of rq's token (checked for profile p), for
 * the pipeline's binding step (src/binding.h): how the token came, the
 * DPoP proof and what it must name, the client certificate and the
 * replay store. */
void ordsjwt_bound_evidence(request_rec *r, const ordsjwt_req_t *rq,
                            const ojw_profile_t *p, ojw_evidence_t *ev);
/* The binding step refused rq for err (b: what it did): 401 (logged and
 * counted; a fresh nonce with OJW_ERR_DPOP_NONCE) or 503 with
 * Retry-After (the replay store did not answer). */
int ordsjwt_bound_refuse(request_rec *r, ordsjwt_req_t *rq,
                         const ojw_error_t *err, const ojw_bound_t *b);
/* The binding step accepted rq's token (b: what it did): a proof checked
 * is not checked again down the request's chain; a fresh nonce when the
 * proof's is old. */
void ordsjwt_bound_accepted(request_rec *r, ordsjwt_req_t *rq,
                            const ojw_bound_t *b);
/* 1 when the refusal of rq is told in the DPoP challenge (the Bearer
 * challenge then carries no error). */
int ordsjwt_dpop_error(request_rec *of, const ordsjwt_req_t *rq);
/* Adds the DPoP challenge where the section of of accepts DPoP. */
void ordsjwt_dpop_challenge(request_rec *r, request_rec *of,
                            const ordsjwt_req_t *rq, const char *header);
/* mod_ordsjwt_nonce.c: resource-server DPoP nonces (RFC 9449 8, 9). */
void ordsjwt_nonce_register(apr_pool_t *p);
const char *ordsjwt_cmd_dpop_nonce_key_file(cmd_parms *cmd, void *dconf,
                                            const char *arg);
/* What a DPoP proof for a token of profile p must show in r's section:
 * the nonce policy, or NULL when no nonce is required there. */
const ojw_nonce_policy_t *ordsjwt_nonce_policy(request_rec *r,
                                               const ojw_profile_t *p);
/* Refuses rq for err (OJW_ERR_DPOP_NONCE) with a fresh DPoP-Nonce: 401. */
int ordsjwt_nonce_refuse(request_rec *r, ordsjwt_req_t *rq,
                         const ojw_error_t *err);
/* An accepted proof's nonce of this age, under pol (NULL: none was
 * required): a fresh DPoP-Nonce once it has lived half its lifetime. */
void ordsjwt_nonce_accepted(request_rec *r, const ojw_nonce_policy_t *pol,
                            long age);
/* Warns (configtest and startup) about Require expr on ORDSJWT_* without
 * REMOTE_USER and sections whose ords-* lines are all negated. */
void ordsjwt_warn_composition(apr_pool_t *ptemp, server_rec *s); /* _compose.c */

#endif
