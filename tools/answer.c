/* SPDX-License-Identifier: Apache-2.0 */
/* The answer httpd gives to one request (see answer.h). */
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "answer.h"

#define MAX_UNKNOWN 10          /* lines not evaluated whose ways are tried */

/* mod_authz_core's results. */
typedef enum { GRANTED, DENIED, DENIED_NO_USER, NEUTRAL } authz_t;

/* One try of the request. */
typedef struct {
    const ojw_request_t *req;
    apr_pool_t *pool;
    const ojw_authz_node_t **unknown;   /* the lines not evaluated */
    int nunknown;
    unsigned mask;              /* this try: bit i set, unknown[i] grants */
    const char *user;           /* r->user in this pass, or NULL */
    int insufficient;           /* an ords-* line (not negated) denied */
    ojw_reason_t denied;        /* the module's reason for the refusal */
    const char *missing;        /* its scope="..." */
} sim_t;

/* ------------------------------------------------------------------ */
/* the lines                                                           */

static int is_word_of(const char *word, const char *args, apr_pool_t *pool)
{
    char *copy = apr_pstrdup(pool, args), *last = NULL, *w;

    for (w = apr_strtok(copy, " \t", &last); w;
         w = apr_strtok(NULL, " \t", &last)) {
        if (strcmp(w, word) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 for the lines whose result the request alone gives. */
static int known(const ojw_authz_node_t *n)
{
    return n->rl || strcasecmp(n->provider, "all") == 0
           || strcasecmp(n->provider, "valid-user") == 0
           || strcasecmp(n->provider, "user") == 0
           || strcasecmp(n->provider, "method") == 0;
}

/* 1 for a line of another module that asks for a user first. */
static int needs_user(const ojw_authz_node_t *n, apr_pool_t *pool)
{
    static const char *const providers[] = {
        "group", "file-owner", "file-group", "dbm-group", "dbd-group", NULL
    };
    char *lower, *p;
    int i;

    for (i = 0; providers[i]; i++) {
        if (strcasecmp(n->provider, providers[i]) == 0) {
            return 1;
        }
    }
    lower = apr_pstrdup(pool, n->args);
    for (p = lower; *p; p++) {
        *p = (char)apr_tolower(*p);
    }
    return strncasecmp(n->provider, "ldap-", 5) == 0
           || (strcasecmp(n->provider, "expr") == 0
               && strstr(lower, "remote_user") != NULL);
}

/* A Require ords-* line: the module's provider (mod_ordsjwt_authz.c)
 * with the core's decision, the refusal kept as the module keeps it. */
static authz_t ords_line(sim_t *s, const ojw_authz_node_t *n)
{
    const ojw_check_t *c = s->req->check;
    ojw_reason_t d;

    if (s->user == NULL) {
        return DENIED_NO_USER;
    }
    if (c == NULL || c->err.reason != OJW_OK) {
        return DENIED;          /* a user without the module's claims */
    }
    d = ojw_require_decide(n->rl, c->claims, c->profile->role_claim_name);
    if (d == OJW_OK) {
        return GRANTED;
    }
    if (!n->ords_negated) {
        s->insufficient = 1;
        s->denied = s->denied == OJW_OK || d < s->denied ? d : s->denied;
        if (d == OJW_ERR_SCOPE_MISSING) {
            s->missing = s->missing ? apr_pstrcat(s->pool, s->missing, " ",
                                                  n->rl->joined, NULL)
                                    : n->rl->joined;
        }
    }
    return DENIED;
}

static authz_t other_line(sim_t *s, const ojw_authz_node_t *n)
{
    int i;

    if (strcasecmp(n->provider, "all") == 0) {
        return strcasecmp(n->args, "granted") == 0 ? GRANTED : DENIED;
    }
    if (strcasecmp(n->provider, "method") == 0) {
        return s->req->method & ojw_method_bit(n->args) ? GRANTED : DENIED;
    }
    if (strcasecmp(n->provider, "valid-user") == 0
        || strcasecmp(n->provider, "user") == 0) {
        return s->user == NULL ? DENIED_NO_USER
               : n->provider[0] == 'v' || is_word_of(s->user, n->args, s->pool)
               ? GRANTED : DENIED;
    }
    if (s->user == NULL && needs_user(n, s->pool)) {
        return DENIED_NO_USER;
    }
    for (i = 0; i < s->nunknown && s->unknown[i] != n; i++) {
    }
    return s->mask & (1u << i) ? GRANTED : DENIED;
}

/* apply_authz_sections of mod_authz_core. */
static authz_t apply(sim_t *s, const ojw_authz_node_t *n, int parent_op)
{
    const ojw_authz_node_t *c;
    authz_t r = NEUTRAL, child;

    if (!(n->limited & s->req->method)) {
        return parent_op == OJW_AUTHZ_AND ? GRANTED : NEUTRAL;
    }
    if (n->provider) {
        r = n->rl ? ords_line(s, n) : other_line(s, n);
    }
    for (c = n->provider ? NULL : n->first; c; c = c->next) {
        if ((child = apply(s, c, n->op)) == NEUTRAL) {
            continue;
        }
        if (n->op == OJW_AUTHZ_AND ? child == DENIED : child == GRANTED) {
            r = child;
            break;
        }
        if ((child == DENIED_NO_USER
             && (n->op == OJW_AUTHZ_AND ? r != DENIED : r == DENIED))
            || r == NEUTRAL) {
            r = child;
        }
    }
    if (n->negate) {
        r = r == GRANTED ? DENIED : NEUTRAL;
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* the request                                                         */

static void set(ojw_answer_t *a, int status, const char *outcome,
                const char *why)
{
    a->status = status;
    a->outcome = outcome ? outcome : "-";
    a->why = why;
    a->scopes = NULL;
}

/* The answer of a refused token (the module's, or mod_auth_basic's). */
static void refused(sim_t *s, ojw_answer_t *a)
{
    const ojw_check_t *c = s->req->check;
    ojw_reason_t r = c->err.reason;
    int unavailable = r == OJW_ERR_KEYS_UNAVAILABLE
                      || r == OJW_ERR_REPLAY_UNAVAILABLE;

    /* the module leaves user_mismatch out of the access log note */
    set(a, unavailable ? (s->req->basic ? 500 : 503) : 401,
        r == OJW_ERR_USER_MISMATCH ? NULL : ojw_reason_name(r),
        apr_psprintf(s->pool, "the token is refused (%s)",
                     ojw_reason_name(r)));
}

/* Basic credentials through AuthBasicProvider: 1 when ords-jwt accepted
 * them; else *a is the answer (-1: another provider would be asked). */
static int basic_authn(sim_t *s, ojw_answer_t *a)
{
    const char *providers = s->req->loc->basic_providers;
    const ojw_check_t *c = s->req->check;
    char *last = NULL;

    if (!s->req->basic) {
        set(a, 401, NULL, "no Basic credentials (mod_auth_basic)");
        return 0;
    }
    if (providers == NULL
        || strcmp(apr_strtok(apr_pstrdup(s->pool, providers), " \t",
                             &last), "ords-jwt") != 0) {
        return -1;              /* another provider comes first */
    }
    if (c == NULL) {
        set(a, 500, NULL, "AuthBasicProvider ords-jwt without "
            "AuthOrdsJwtProfile (ORDSJWT00046)");
        return 0;
    }
    if (c->err.reason == OJW_OK) {
        return 1;
    }
    if (c->err.reason == OJW_ERR_MALFORMED
        && apr_strtok(NULL, " \t", &last) != NULL) {
        return -1;              /* not a token: the next provider */
    }
    refused(s, a);
    return 0;
}

/* check_authn of AuthType ords-jwt (mod_ordsjwt_check.c). */
static int bearer_authn(sim_t *s, ojw_answer_t *a)
{
    const ojw_request_t *req = s->req;

    if (req->loc->profiles == NULL) {
        set(a, 500, NULL, "AuthType ords-jwt without AuthOrdsJwtProfile "
            "(ORDSJWT00013)");
        return 0;
    }
    if (req->tokens == 0) {
        set(a, 401, ojw_reason_name(OJW_ERR_TOKEN_MISSING), "no token in "
            "the location's sources");
        return 0;
    }
    if (req->tokens > 1) {
        set(a, 400, ojw_reason_name(OJW_ERR_TOKEN_AMBIGUOUS), "more than "
            "one token");
        return 0;
    }
    if (req->check->err.reason != OJW_OK) {
        refused(s, a);
        return 0;
    }
    return 1;
}

/* Authentication: 1 with s->user set, 0 with *a the answer, -1 when
 * another module decides. */
static int authenticate(sim_t *s, ojw_answer_t *a)
{
    const char *type = s->req->loc->auth_type;
    int rc;

    if (type == NULL) {
        set(a, 500, NULL, "Require asks for a user and there is no AuthType "
            "(AH00027)");
        return 0;
    }
    if (strcasecmp(type, "ords-jwt") == 0) {
        rc = bearer_authn(s, a);
    }
    else if (strcasecmp(type, "Basic") == 0) {
        rc = basic_authn(s, a);
    }
    else {
        return -1;
    }
    if (rc == 1) {
        s->user = s->req->check->subject;
    }
    return rc;
}

/* mod_authz_core's pass with the user (authorize_user_core). */
static void with_user(sim_t *s, ojw_answer_t *a)
{
    authz_t r = apply(s, s->req->loc->authz, OJW_AUTHZ_AND);
    const char *outcome = s->insufficient ? ojw_reason_name(s->denied)
                                          : "accepted";

    if (r == GRANTED) {
        set(a, 200, "accepted", "authenticated and authorized");
        return;
    }
    if (r == DENIED_NO_USER) {
        set(a, 401, outcome, "authorization failure with no user (AH01629)");
        return;
    }
    set(a, s->req->loc->forbidden_on_fail > 0 ? 403 : 401, outcome,
        s->req->loc->forbidden_on_fail > 0
        ? "authorization failure (AuthzSendForbiddenOnFailure On)"
        : "authorization failure, answered 401 (AuthzSendForbiddenOnFailure "
          "Off)");
    a->scopes = s->insufficient ? s->missing : NULL;
}

/* OrdsJwtAnonymous On: a request let in without a user that carries a
 * token is authenticated all the same (force_authn). */
static int anonymous_section(const ojw_location_t *loc)
{
    return loc->anonymous && loc->auth_type
           && strcasecmp(loc->auth_type, "ords-jwt") == 0;
}

/* One try: the request through httpd; -1 when another module decides
 * the authentication. */
static int answer_once(sim_t *s, ojw_answer_t *a)
{
    const ojw_location_t *loc = s->req->loc;
    authz_t r;
    int rc;

    s->user = NULL;
    s->insufficient = 0;
    s->denied = OJW_OK;
    s->missing = NULL;
    if (loc->authz == NULL) {
        set(a, loc->auth_type ? 500 : 200, NULL, loc->auth_type
            ? "AuthType without a Require line (AH01627)"
            : "no Require line: granted");
        return 0;
    }
    r = apply(s, loc->authz, OJW_AUTHZ_AND);
    if (r == GRANTED && !(anonymous_section(loc) && s->req->tokens > 0)) {
        set(a, 200, anonymous_section(loc) ? "anonymous" : NULL,
            "Require lets the request in without a user");
        return 0;
    }
    if (r == DENIED || r == NEUTRAL) {
        set(a, 403, NULL, "client denied by server configuration before "
            "authentication (AH01630)");
        return 0;
    }
    if ((rc = authenticate(s, a)) != 1) {
        return rc;
    }
    with_user(s, a);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the lines not evaluated, each way                                   */

/* Every line of the tree, once (merged trees share nodes). */
static void collect(const ojw_authz_node_t *n, apr_array_header_t *all)
{
    int i;

    for (; n; n = n->next) {
        if (n->provider == NULL) {
            collect(n->first, all);
            continue;
        }
        for (i = 0; i < all->nelts
             && APR_ARRAY_IDX(all, i, const ojw_authz_node_t *) != n; i++) {
        }
        if (i == all->nelts) {
            APR_ARRAY_PUSH(all, const ojw_authz_node_t *) = n;
        }
    }
}

static const char *line_text(apr_pool_t *pool, const ojw_authz_node_t *n)
{
    if (n->file == NULL) {
        return apr_psprintf(pool, "the Require lines of %s", n->args);
    }
    return apr_psprintf(pool, "Require %s%s %s (%s:%d)", n->negate ? "not "
                        : "", n->provider, n->args, n->file, n->line);
}

/* "if A grants and B denies" for one try. */
static const char *ways(const sim_t *s, unsigned mask)
{
    const char *out = "";
    int i;

    for (i = 0; i < s->nunknown; i++) {
        int lines = s->unknown[i]->file == NULL;   /* sections not read */

        out = apr_psprintf(s->pool, "%s%s%s %s", out, i ? " and " : "if ",
                           line_text(s->pool, s->unknown[i]),
                           mask & (1u << i) ? (lines ? "grant" : "grants")
                                            : (lines ? "deny" : "denies"));
    }
    return out;
}

static int same(const ojw_answer_t *a, const ojw_answer_t *b)
{
    return a->status == b->status && strcmp(a->outcome, b->outcome) == 0;
}

/* Each way the lines not evaluated could go; 1 when all agree. */
static int every_way(sim_t *s, ojw_answer_t *out, const char **why)
{
    ojw_answer_t first = { 0, "-", NULL, NULL }, a;
    unsigned mask, tries = 1u << s->nunknown;
    int agree = 1;

    *why = NULL;
    for (mask = 0; mask < tries; mask++) {
        s->mask = mask;
        if (answer_once(s, &a) < 0) {
            *why = "another module's authentication (AuthType "
                   "or AuthBasicProvider) decides";
            return 0;
        }
        if (mask == 0) {
            first = a;
            *out = a;
            *why = apr_psprintf(s->pool, "%s: %d (%s)", ways(s, mask),
                                a.status, a.outcome);
        }
        else if (!same(&a, &first)) {
            agree = 0;
            *why = apr_psprintf(s->pool, "%s; %s: %d (%s)", *why,
                                ways(s, mask), a.status, a.outcome);
        }
    }
    return agree;
}

/* The line's own decision, for the output. */
static void describe(sim_t *s, const ojw_authz_node_t *n, ojw_line_t *l)
{
    const ojw_check_t *c = s->req->check;
    ojw_reason_t d;

    l->node = n;
    l->unknown = !known(n);
    l->detail = NULL;
    l->hint = NULL;
    if (l->unknown) {
        l->decision = "not evaluated";
        l->detail = "another module decides; each way is tried";
        return;
    }
    if (n->rl == NULL) {
        s->user = c && c->err.reason == OJW_OK ? c->subject : NULL;
        l->decision = other_line(s, n) == GRANTED ? "granted"
                      : s->user ? "denied" : "denied without a user";
        return;
    }
    if (c == NULL || c->claims == NULL) {
        l->decision = "not decided";
        l->detail = "no verified claims";
        return;
    }
    d = ojw_require_decide(n->rl, c->claims, c->profile->role_claim_name);
    l->decision = d == OJW_OK ? "granted" : ojw_reason_name(d);
    l->detail = ojw_require_explain(n->rl, c->claims,
                                    c->profile->role_claim_name, d, s->pool);
    l->hint = d == OJW_OK ? NULL : ojw_require_hint(n->rl, c->claims,
                                                    s->pool);
}

int ojw_answer(const ojw_request_t *req, ojw_answer_t *out,
               apr_array_header_t *lines, const char **why,
               apr_pool_t *pool)
{
    apr_array_header_t *all = apr_array_make(pool, 8, sizeof(void *));
    sim_t s;
    int i, agree, unknown = 0;

    memset(&s, 0, sizeof(s));
    s.req = req;
    s.pool = pool;
    s.unknown = apr_pcalloc(pool, sizeof(*s.unknown) * MAX_UNKNOWN);
    collect(req->loc->authz, all);
    for (i = 0; i < all->nelts; i++) {
        const ojw_authz_node_t *n = APR_ARRAY_IDX(all, i,
                                                  const ojw_authz_node_t *);

        describe(&s, n, apr_array_push(lines));
        if (!known(n) && unknown++ < MAX_UNKNOWN) {
            s.unknown[s.nunknown++] = n;
        }
    }
    agree = every_way(&s, out, why);
    if (unknown > MAX_UNKNOWN) {
        *why = apr_psprintf(pool, "%d lines of other modules: too many ways "
                            "to try", unknown);
    }
    return agree && unknown <= MAX_UNKNOWN && !req->loc->unknown;
}
