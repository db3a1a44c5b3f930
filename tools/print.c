/* SPDX-License-Identifier: Apache-2.0 */
/* ordsjwt-check's output: what the pipeline and httpd's answer found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <apr_strings.h>
#include "checker.h"
#include "dpop.h"

#define NAME_WIDTH  12
#define PASS        "\u2714"
#define FAIL        "\u2718"

/* Prints s with control characters escaped: a token's claims or a
 * configuration file may hold terminal escape sequences. */
void ojw_print_clean(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch < 0x20 || ch == 0x7f) {
            printf("\\x%02x", ch);
        }
        else {
            putchar(ch);
        }
    }
}

static void print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s) {
        printf("%s\n", s);      /* jansson escapes control characters */
        free(s);
    }
}

/* A decoded segment, for display: a token that does not verify is shown
 * too, marked as such. */
static void print_segment(const char *title, const char *token, int index,
                          apr_pool_t *pool)
{
    const char *why = NULL;
    json_t *v = ojw_report_segment(token, strlen(token), index, pool, &why);

    printf("%s:\n", title);
    if (v) {
        print_json(v);
    }
    else {
        printf("  (cannot be decoded: %s)\n", why);
    }
}

/* ------------------------------------------------------------------ */
/* the profile and its keys                                            */

static void print_audiences(const ojw_profile_t *p)
{
    int i;

    for (i = 0; i < p->audiences->nelts; i++) {
        printf("%s", i ? "\" \"" : "");
        ojw_print_clean(APR_ARRAY_IDX(p->audiences, i, const char *));
    }
}

/* An issuer template's tenants: how many are listed, and where. */
static void print_tenants(const ojw_profile_t *p)
{
    size_t at, len;

    if (ojw_issuer_placeholder(p->issuer, &at, &len) != 1) {
        return;
    }
    if (p->tenants == NULL) {
        printf("  tenants: any (no tenants=)\n");
        return;
    }
    printf("  tenants: %d listed", p->tenants->count);
    if (p->tenants->file) {
        printf(" in ");
        ojw_print_clean(p->tenants->file);
    }
    printf("\n");
}

static void print_profile(const setup_t *su, const ojw_claim_policy_t *pol)
{
    const ojw_profile_t *p = su->profile;

    printf("Profile %s (%s):\n  issuer \"", p->name, su->origin);
    ojw_print_clean(p->issuer);
    printf("\", audience \"");
    print_audiences(p);
    printf("\"\n  %s ", p->pem_file ? "pem_file" : p->discovery_url
           ? "discovery_url" : "jwk_url");
    ojw_print_clean(p->pem_file ? p->pem_file : p->discovery_url
                    ? p->discovery_url : p->jwk_url);
    printf("\n  allowed_skew %ld s%s, allowed_age %ld s%s, role_claim_name ",
           pol->allowed_skew, p->skew_set ? "" : " (server default)",
           pol->allowed_age, p->age_set ? "" : " (server default)");
    ojw_print_clean(p->role_claim_name ? p->role_claim_name : "(none)");
    printf("\n");
    print_tenants(p);
    if (su->note) {
        printf("  note: %s\n", su->note);
    }
}

static void print_keys(const keys_t *k)
{
    int i;

    if (k->jwks_uri) {
        printf("Discovery: jwks_uri ");
        ojw_print_clean(k->jwks_uri);
        printf("\n");
    }
    if (k->ks == NULL) {
        return;
    }
    printf("Keys from ");
    ojw_print_clean(k->source);
    printf(":\n");
    for (i = 0; i < k->ks->nkeys; i++) {
        const ojw_key_t *key = &k->ks->keys[i];

        printf("  kid ");
        ojw_print_clean(key->kid ? key->kid : "(none)");
        if (key->kty == OJW_KTY_EC) {
            printf(": EC %s", key->crv);
        }
        else {
            printf(": RSA %d bits", key->bits);
        }
        printf("%s%s\n", key->alg ? ", alg " : "", key->alg ? key->alg : "");
    }
    for (i = 0; i < k->notes->nelts; i++) {
        printf("  skipped: ");
        ojw_print_clean(APR_ARRAY_IDX(k->notes, i, const char *));
        printf("\n");
    }
}

/* Which of several profiles the token's iss chose (nothing for one). */
static void print_choice(const run_t *run, const ojw_check_t *c)
{
    const apr_array_header_t *setups = run->setups;
    int i;

    if (setups->nelts < 2) {
        return;
    }
    printf("Profiles of the location (chosen by the token's iss, then by "
           "its aud):\n");
    for (i = 0; i < setups->nelts; i++) {
        const setup_t *su = &APR_ARRAY_IDX(setups, i, setup_t);

        printf("  %s %s, issuer \"", c->tok && su->profile == c->profile
               ? "*" : "-", su->profile->name);
        ojw_print_clean(su->profile->issuer);
        printf("\"\n");
    }
    if (c->tok == NULL) {
        printf("  none chosen: the token was refused before\n");
    }
    else if (c->profile == NULL) {
        printf("  none has the token's iss\n");
    }
}

static const setup_t *setup_of(const run_t *run, const ojw_profile_t *p)
{
    int i;

    for (i = 0; p && i < run->setups->nelts; i++) {
        if (APR_ARRAY_IDX(run->setups, i, setup_t).profile == p) {
            return &APR_ARRAY_IDX(run->setups, i, setup_t);
        }
    }
    return NULL;
}

void ojw_print_token(const run_t *run, const ojw_check_t *c,
                     const char *token)
{
    const setup_t *su = setup_of(run, c->profile);

    print_segment("Header", token, 0, run->pool);
    print_segment(c->claims && !c->cached ? "Claims (signature verified)"
                                          : "Claims (not verified)",
                  token, 1, run->pool);
    print_choice(run, c);
    if (su == NULL && run->setups->nelts == 1) {
        su = &APR_ARRAY_IDX(run->setups, 0, setup_t);
    }
    if (su) {
        ojw_claim_policy_t policy;

        ojw_profile_policy(&policy, su->profile,
                           ojw_setting(&run->server->num, OJW_SET_SKEW),
                           ojw_setting(&run->server->num, OJW_SET_AGE));
        print_profile(su, &policy);
        print_keys(&su->keys);
    }
}

/* ------------------------------------------------------------------ */
/* the checks                                                          */

static void print_line(const char *mark, const char *name,
                       ojw_reason_t reason, const char *detail,
                       const char *hint)
{
    printf("  %s %-*s ", mark, NAME_WIDTH, name);
    if (reason != OJW_OK) {
        printf("%s: ", ojw_reason_name(reason));
    }
    ojw_print_clean(detail ? detail : "");
    printf("\n");
    if (reason != OJW_OK && hint) {
        printf("    %*s hint: ", NAME_WIDTH, "");
        ojw_print_clean(hint);
        printf("\n");
    }
}

/* Why the steps that did not run did not. */
static const char *not_run_reason(const run_t *run, const ojw_check_t *c)
{
    if (c->tok == NULL) {
        return "the token was refused before them";
    }
    if (run->report.steps[OJW_STEP_KEY].reason == OJW_ERR_KEYS_UNAVAILABLE) {
        return "no signing keys";
    }
    if (c->claims == NULL) {
        return "the signature did not verify, so the claims are not "
               "trusted";
    }
    return "needs a usable iat";
}

static const char *skipped_add(apr_pool_t *pool, const char *skipped,
                               const char *name)
{
    return apr_pstrcat(pool, skipped ? skipped : "", skipped ? ", " : "",
                       name, NULL);
}

/* The steps of the pipeline, one line each; the ones that did not run
 * on one line. */
static const char *print_steps(const run_t *run, const ojw_check_t *c)
{
    const char *skipped = NULL;
    int id;

    for (id = 0; id < OJW_STEP_COUNT; id++) {
        const ojw_step_record_t *st = &run->report.steps[id];

        if (st->state != OJW_STEP_NOT_RUN) {
            print_line(st->state == OJW_STEP_PASSED ? PASS : FAIL,
                       ojw_step_name((ojw_step_id_t)id), st->reason,
                       st->detail, st->hint);
        }
        else if (id != OJW_STEP_NONCE && id != OJW_STEP_TYPE
                 && id != OJW_STEP_USER && id != OJW_STEP_BINDING) {
            skipped = skipped_add(run->pool, skipped,
                                  ojw_step_name((ojw_step_id_t)id));
        }
    }
    (void)c;
    return skipped;
}

/* The option's Require lines (--scope, --role, ...), as steps. */
static const char *print_requirements(const run_t *run,
                                      const apr_array_header_t *lines,
                                      const char *skipped)
{
    int i;

    for (i = 0; lines && i < lines->nelts; i++) {
        const ojw_line_t *l = &APR_ARRAY_IDX(lines, i, ojw_line_t);
        const char *name;
        int granted = strcmp(l->decision, "granted") == 0;

        if (l->node->rl == NULL) {
            continue;           /* valid-user, when the options have none */
        }
        name = ojw_require_provider(l->node->rl->kind) + 5;
        if (strcmp(l->decision, "not decided") == 0) {
            skipped = skipped_add(run->pool, skipped, name);
            continue;
        }
        print_line(granted ? PASS : FAIL, name, granted ? OJW_OK
                   : l->node->rl->kind == OJW_REQUIRE_CLAIM
                   ? OJW_ERR_CLAIM_MISMATCH : l->node->rl->kind
                   == OJW_REQUIRE_ROLE ? OJW_ERR_ROLE_MISSING
                   : OJW_ERR_SCOPE_MISSING, l->detail, l->hint);
    }
    return skipped;
}

void ojw_print_checks(const run_t *run, const ojw_check_t *c,
                      const apr_array_header_t *lines, int as_steps)
{
    time_t now = (time_t)run->opt->now;
    const char *skipped;
    char date[32] = "";
    struct tm tm;

    if (gmtime_r(&now, &tm)) {
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf("Checks at %s (%lld):\n", date, run->opt->now);
    skipped = print_steps(run, c);
    if (as_steps) {
        skipped = print_requirements(run, lines, skipped);
    }
    if (skipped) {
        printf("  - not checked: %s: %s\n", skipped, not_run_reason(run, c));
    }
}

/* ------------------------------------------------------------------ */
/* the location                                                        */

static const char *sources_text(const ojw_location_t *loc, apr_pool_t *pool)
{
    const char *out = NULL;
    int i;

    if (loc->sources == NULL) {
        return apr_pstrcat(pool, ojw_source_text(ojw_sources_of(NULL, &i),
                                                 pool), " (the default)",
                           NULL);
    }
    for (i = 0; i < loc->sources->nelts; i++) {
        const char *t = ojw_source_text(&APR_ARRAY_IDX(loc->sources, i,
                                                       ojw_source_t), pool);

        out = out ? apr_pstrcat(pool, out, " ", t, NULL) : t;
    }
    return out;
}

static void print_sections(const ojw_location_t *loc)
{
    int i;

    for (i = 0; i < loc->sections->nelts; i++) {
        const ojw_conf_location_t *s =
            APR_ARRAY_IDX(loc->sections, i, const ojw_conf_location_t *);

        printf("  <%s ", s->regex ? "LocationMatch" : "Location");
        ojw_print_clean(s->path);
        printf("> at %s:%d\n", s->file, s->line);
    }
    if (loc->sections->nelts == 0) {
        printf("  no <Location> or <LocationMatch> matches\n");
    }
}

static const char *profile_names(const ojw_location_t *loc, apr_pool_t *pool)
{
    const char *out = NULL;
    int i;

    for (i = 0; loc->profiles && i < loc->profiles->nelts; i++) {
        const char *n = APR_ARRAY_IDX(loc->profiles, i,
                                      const ojw_conf_profile_t *)->name;

        out = out ? apr_pstrcat(pool, out, " ", n, NULL) : n;
    }
    return out ? out : "(none)";
}

void ojw_print_location(const run_t *run, const ojw_location_t *loc,
                        const ojw_conf_t *conf)
{
    const ojw_settings_t *n = &run->server->num;
    int i;

    (void)conf;
    printf("Location ");
    ojw_print_clean(loc->uri);
    printf(" in %s, sections merged in this order:\n", run->server->label);
    print_sections(loc);
    printf("  AuthType %s, AuthName \"", loc->auth_type ? loc->auth_type
                                                         : "(none)");
    ojw_print_clean(loc->auth_name ? loc->auth_name : "");
    printf("\", AuthOrdsJwtProfile %s\n", profile_names(loc, run->pool));
    if (loc->basic_providers) {
        printf("  AuthBasicProvider ");
        ojw_print_clean(loc->basic_providers);
        printf("\n");
    }
    printf("  OrdsJwtTokenFrom %s, OrdsJwtAnonymous %s, "
           "AuthzSendForbiddenOnFailure %s, OrdsJwtDpopNonce %s\n",
           sources_text(loc, run->pool), loc->anonymous ? "On" : "Off",
           loc->forbidden_on_fail > 0 ? "On" : "Off",
           loc->dpop_nonce ? "On" : "Off");
    printf("  the server's OrdsJwtAllowedSkew %ld, OrdsJwtAllowedAge %ld, "
           "OrdsJwtMaxTokenSize %ld, OrdsJwtDpopProofWindow %ld\n",
           ojw_setting(n, OJW_SET_SKEW), ojw_setting(n, OJW_SET_AGE),
           ojw_setting(n, OJW_SET_TOKEN_MAX),
           ojw_setting(n, OJW_SET_DPOP_WINDOW));
    for (i = 0; i < loc->notes->nelts; i++) {
        printf("  note: ");
        ojw_print_clean(APR_ARRAY_IDX(loc->notes, i, const char *));
        printf("\n");
    }
}

/* The decision of a line, found among lines. */
static const ojw_line_t *line_of(const apr_array_header_t *lines,
                                 const ojw_authz_node_t *n)
{
    int i;

    for (i = 0; i < lines->nelts; i++) {
        if (APR_ARRAY_IDX(lines, i, ojw_line_t).node == n) {
            return &APR_ARRAY_IDX(lines, i, ojw_line_t);
        }
    }
    return NULL;
}

static const char *container_name(const ojw_authz_node_t *n)
{
    if (n->merged) {
        return n->op == OJW_AUTHZ_AND ? "AuthMerging And" : "AuthMerging Or";
    }
    return n->op == OJW_AUTHZ_AND ? (n->negate ? "<RequireNotAll>"
                                               : "<RequireAll>")
           : (n->negate ? "<RequireNone>" : "<RequireAny>");
}

static void print_node(const ojw_authz_node_t *n,
                       const apr_array_header_t *lines, int depth)
{
    const ojw_line_t *l;

    for (; n; n = n->next) {
        if (n->provider == NULL) {
            printf("%*s%s%s\n", 4 + 2 * depth, "", container_name(n),
                   n->limited != OJW_ALL_METHODS ? " (some methods)" : "");
            print_node(n->first, lines, depth + 1);
            continue;
        }
        l = line_of(lines, n);
        printf("%*s%s ", 4 + 2 * depth, "", l == NULL || l->unknown ? "?"
               : strcmp(l->decision, "granted") == 0 ? PASS : FAIL);
        if (n->file) {
            printf("Require %s%s ", n->negate ? "not " : "", n->provider);
            ojw_print_clean(n->args);
            printf(" (%s:%d)", n->file, n->line);
        }
        else {
            printf("the Require lines of %s", n->args);
        }
        printf(": %s%s", l ? l->decision : "", l && l->detail ? ": " : "");
        ojw_print_clean(l && l->detail ? l->detail : "");
        printf("\n");
    }
}

void ojw_print_tree(const ojw_location_t *loc,
                    const apr_array_header_t *lines)
{
    printf("Require lines (mod_authz_core's tree, after its startup "
           "rewrite; each line's own decision):\n");
    if (loc->authz == NULL) {
        printf("    none\n");
        return;
    }
    print_node(loc->authz, lines, 0);
}

/* ------------------------------------------------------------------ */
/* the result                                                          */

/* The module's reason for a refusal, or NULL when it has none. */
static const char *reason_of(const ojw_check_t *c, const ojw_answer_t *a)
{
    if (strcmp(a->outcome, "-") != 0 && strcmp(a->outcome, "accepted") != 0
        && strcmp(a->outcome, "anonymous") != 0) {
        return a->outcome;
    }
    if (a->status == 401 && c && c->err.reason == OJW_ERR_USER_MISMATCH) {
        return ojw_reason_name(c->err.reason);
    }
    return NULL;
}

static int is_authz(const char *reason)
{
    return strcmp(reason, "scope_missing") == 0
           || strcmp(reason, "role_missing") == 0
           || strcmp(reason, "claim_mismatch") == 0;
}

/* What the client gets with a refusal, after "httpd would answer". */
static const char *refusal_text(const run_t *run, const ojw_check_t *c,
                                const ojw_answer_t *a, const char *reason)
{
    apr_pool_t *p = run->pool;
    const char *dpop = c && strcmp(reason, ojw_reason_name(c->err.reason)) == 0
                       ? ojw_dpop_challenge_error(c->err.reason) : NULL;

    if (dpop) {
        return apr_psprintf(p, "401 with the challenge DPoP error=\"%s\"%s",
                            dpop, c->err.reason == OJW_ERR_DPOP_NONCE
                            ? " and a fresh nonce in the DPoP-Nonce header"
                            : "");
    }
    if (is_authz(reason)) {
        return apr_psprintf(p, "%d%s error=\"insufficient_scope\"%s%s%s",
                            a->status, a->status == 401
                            ? " (AuthzSendForbiddenOnFailure Off)" : "",
                            a->scopes ? ", scope=\"" : "",
                            a->scopes ? a->scopes : "",
                            a->scopes ? "\"" : "");
    }
    if (strcmp(reason, "token_missing") == 0) {
        return "401 with no error (Bearer realm only)";
    }
    if (strcmp(reason, "token_ambiguous") == 0) {
        return "400 error=\"invalid_request\"";
    }
    return apr_psprintf(p, "%d error=\"invalid_token\", "
                        "error_description=\"%s\"", a->status,
                        ojw_reason_description(c->err.reason));
}

static int print_known(const run_t *run, const ojw_check_t *c,
                       const ojw_answer_t *a)
{
    const char *reason = reason_of(c, a);

    if (a->status == 200) {
        if (strcmp(a->outcome, "accepted") == 0) {
            printf("Result: accepted; REMOTE_USER would be ");
            ojw_print_clean(c->subject ? c->subject : "");
            printf("; httpd would answer 200\n");
        }
        else {
            printf("Result: accepted without the token (%s): httpd would "
                   "answer 200\n", a->why);
        }
        return EXIT_ACCEPTED;
    }
    if (a->status == 503) {
        printf("Result: no verdict (%s): httpd would answer 503 until the "
               "JWK URL can be fetched\n", a->outcome);
        return EXIT_USAGE;
    }
    if (a->status == 500) {
        printf("Result: no verdict: httpd would answer 500 (%s)\n", a->why);
        return EXIT_USAGE;
    }
    if (reason == NULL) {
        printf("Result: refused: httpd would answer %d (%s)\n", a->status,
               a->why);
        return EXIT_REFUSED;
    }
    printf("Result: refused (%s): httpd would answer %s\n", reason,
           refusal_text(run, c, a, reason));
    return EXIT_REFUSED;
}

int ojw_print_result(const run_t *run, const ojw_check_t *c,
                     const ojw_answer_t *a, int known, const char *why)
{
    int rc = EXIT_USAGE;

    if (known && !run->cert_unknown) {
        rc = print_known(run, c, a);
    }
    else if (run->cert_unknown) {
        printf("Result: no verdict (client_cert_missing): the token is bound "
               "to a client certificate and no --client-cert FILE was given; "
               "to a client that presents none, httpd would answer %d\n",
               a->status);
    }
    else {
        printf("Result: no verdict: it depends on what the checker does not "
               "evaluate: %s\n", why);
    }
    if (known || run->cert_unknown) {
        printf("Answer: %d %s\n", a->status, a->outcome);
    }
    else {
        printf("Answer: unknown\n");
    }
    return rc;
}
