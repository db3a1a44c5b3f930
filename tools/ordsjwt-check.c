/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ordsjwt-check: checks a bearer token against an ORDS JWT profile the way
 * mod_auth_ordsjwt does, without httpd, and says what every check found.
 *
 *   ordsjwt-check --config /etc/apache2/apache2.conf --profile hr TOKEN
 *   ordsjwt-check --issuer https://identity.oraclecloud.com/ \
 *       --audience ords/hr/ --jwk-url https://.../jwk < token.txt
 *
 * Exit status: 0 accepted, 1 refused, 2 usage or configuration error, or
 * no signing keys (the module would answer 503: no verdict on the token).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "ojw.h"
#include "token.h"
#include "claims.h"
#include "jwks.h"
#include "jwks_fetch.h"
#include "jwks_cache.h"
#include "discovery.h"
#include "profile.h"
#include "settings.h"
#include "inspect.h"
#include "conf.h"

#define EXIT_ACCEPTED       0
#define EXIT_REFUSED        1
#define EXIT_USAGE          2
#define INPUT_MAX           (1024 * 1024)   /* bytes read from stdin */
#define NOW_MAX             253402300799LL  /* the last second of 9999 */
#define OPTIONS_PROFILE     "options"       /* name of a profile from options */
#define NAME_WIDTH          12

typedef struct {
    /* the profile as options, or from a configuration file */
    const char *issuer, *audience, *jwk_url, *pem_file, *pem_kid;
    const char *discovery_url;
    const char *role_claim_name, *allowed_skew, *allowed_age;
    const char *ca_file;
    const char *config;
    apr_array_header_t *profiles;   /* const char *: --profile, split */
    apr_array_header_t *scopes;     /* const char *: --scope */
    apr_array_header_t *roles;      /* const char *: --role */
    apr_array_header_t *privileges; /* const char *: --privilege */
    apr_array_header_t *defines;    /* const char *: --define */
    const char *token;              /* the argument, or NULL: stdin */
    const char *dpop;               /* --dpop PROOF: sent with DPoP */
    const char *method, *url;       /* --method, --url: of that request */
    long long now;
    int help;
    int version;
} options_t;

/* The keys of the profile, where they came from, and what was skipped. */
typedef struct {
    const ojw_keyset_t *ks;
    const char *source;
    const char *jwks_uri;           /* the one discovery found, or NULL */
    apr_array_header_t *notes;      /* const char * */
    const char *error;              /* why there are none */
    const char *hint;
    apr_pool_t *pool;
} keys_t;

/* What the checks need besides the token: one per --profile. */
typedef struct {
    ojw_profile_t *profile;
    const char *origin;             /* "the options" or FILE:LINE */
    const char *note;               /* about the definition, or NULL */
    long default_skew;              /* OrdsJwtAllowedSkew */
    long default_age;               /* OrdsJwtAllowedAge */
    size_t token_max;               /* OrdsJwtMaxTokenSize */
    const char *ca_file;            /* OrdsJwtCACertificateFile */
    long fetch_timeout;             /* OrdsJwtJwksFetchTimeout */
    long dpop_window;               /* OrdsJwtDpopProofWindow */
    const ojw_privilege_t **pvs;    /* --privilege, as this server sees them */
    keys_t keys;
} setup_t;

static const char usage_text[] =
"Usage: ordsjwt-check [OPTIONS] [TOKEN]\n"
"\n"
"Checks a bearer token the way mod_auth_ordsjwt does, without httpd: prints\n"
"the decoded header and claims (never the signature), then every check with\n"
"the reason and the hint the module would log. The token is the argument,\n"
"or read from stdin (\"-\" or no argument); surrounding whitespace and a\n"
"leading \"Bearer \" are ignored. An Authorization value \"Basic ...\" is\n"
"decoded and its password taken as the token (AuthBasicProvider ords-jwt).\n"
"\n"
"The profile, from an httpd configuration (Include and IncludeOptional are\n"
"followed; OrdsJwtAllowedSkew, OrdsJwtAllowedAge, OrdsJwtMaxTokenSize,\n"
"OrdsJwtCACertificateFile and OrdsJwtJwksFetchTimeout are used):\n"
"  --config FILE           httpd.conf, apache2.conf or any file it includes\n"
"  --profile NAME          the OrdsJwtProfile to check with; several (repeat\n"
"                          it, or \"a b\"), as AuthOrdsJwtProfile a b: the\n"
"                          profile is chosen by the token's iss, then aud\n"
"  --define NAME           as httpd's -D NAME, for <IfDefine NAME>\n"
"or from options (the keys of OrdsJwtProfile, with the same rules):\n"
"  --issuer ISS            required\n"
"  --audience AUD          required\n"
"  --jwk-url URL           https://... or file:///path.json\n"
"  --pem-file PATH         instead of --jwk-url: one public key (PEM)\n"
"  --discovery-url URL     instead of --jwk-url: the issuer's\n"
"                          /.well-known/openid-configuration (its issuer\n"
"                          must equal --issuer; prints the jwks_uri found)\n"
"  --pem-kid KID           the kid of --pem-file's key (default: any kid)\n"
"  --role-claim-name PTR   JSON pointer to the roles, e.g. /groups\n"
"  --allowed-skew N        seconds (at most 60; default 0)\n"
"  --allowed-age N         seconds since iat (default 0: not checked)\n"
"Either way:\n"
"  --ca-file PATH          CA bundle for an https JWK URL (default: the\n"
"                          configuration's, else the system store)\n"
"  --scope S               as \"Require ords-scope\": repeat for more\n"
"                          scopes, any one of them suffices\n"
"  --role R                as \"Require ords-role\": repeat for more roles,\n"
"                          any one of them suffices (with --scope: both\n"
"                          must pass, as in <RequireAll>)\n"
"  --privilege NAME        as \"Require ords-privilege\" (needs --config:\n"
"                          the OrdsJwtPrivilege definitions): repeat for\n"
"                          more, any one suffices; with --scope or --role\n"
"                          all must pass\n"
"  --dpop PROOF            the DPoP header: the token is sent as\n"
"                          \"Authorization: DPoP TOKEN\" with this proof\n"
"  --method M              with --dpop: the request method (default GET)\n"
"  --url U                 with --dpop: the URL the client addressed (as\n"
"                          OrdsJwtDpopBaseUrl makes it behind a balancer)\n"
"  --now SECONDS           check at this time (seconds since 1970)\n"
"  --help                  this text\n"
"  --version               the release, e.g. \"ordsjwt-check 0.1.0\"\n"
"\n"
"<IfModule> and <IfDefine> are evaluated as httpd would (LoadModule and\n"
"Define lines read before them); the sections skipped are listed on stderr.\n"
"\n"
"Exit status: 0 accepted, 1 refused, 2 usage or configuration error, or\n"
"the signing keys cannot be had (the JWK URL cannot be fetched: httpd would\n"
"answer 503, so there is no verdict on the token).\n";

/* ------------------------------------------------------------------ */
/* output                                                              */

/* Prints s with control characters escaped: a token's claims or a
 * configuration file may hold terminal escape sequences. */
static void print_clean(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c < 0x20 || c == 0x7f) {
            printf("\\x%02x", c);
        }
        else {
            putchar(c);
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
    json_t *v = ojw_inspect_segment(token, strlen(token), index, pool, &why);

    printf("%s:\n", title);
    if (v) {
        print_json(v);
    }
    else {
        printf("  (cannot be decoded: %s)\n", why);
    }
}

static void print_step(const ojw_inspection_t *in, ojw_step_id_t id)
{
    const ojw_step_t *st = &in->steps[id];

    printf("  %s %-*s ", st->state == OJW_STEP_PASSED ? "\u2714" : "\u2718",
           NAME_WIDTH, ojw_step_name(id));
    if (st->state == OJW_STEP_FAILED) {
        printf("%s: ", ojw_reason_name(st->reason));
    }
    print_clean(st->detail ? st->detail : "");
    printf("\n");
    if (st->state == OJW_STEP_FAILED && st->hint) {
        printf("    %*s hint: ", NAME_WIDTH, "");
        print_clean(st->hint);
        printf("\n");
    }
}

/* Why the steps that did not run did not. */
static const char *not_run_reason(const ojw_inspection_t *in)
{
    if (in->tok == NULL) {
        return "the token was refused before them";
    }
    if (in->steps[OJW_STEP_KEY].reason == OJW_ERR_KEYS_UNAVAILABLE) {
        return "no signing keys";
    }
    if (!in->verified) {
        return "the signature did not verify, so the claims are not "
               "trusted";
    }
    return "needs a usable iat";
}

/* Every check, one line each; the ones that did not run on one line. */
static void print_steps(const ojw_inspection_t *in, int scopes, int roles,
                        int privileges, apr_pool_t *pool)
{
    const char *skipped = NULL;
    int id;

    for (id = 0; id < OJW_STEP_COUNT; id++) {
        if (((id == OJW_STEP_TYPE || id == OJW_STEP_BINDING)
             && in->steps[id].state == OJW_STEP_NOT_RUN)
            || (id == OJW_STEP_SCOPE && !scopes)
            || (id == OJW_STEP_ROLE && !roles)
            || (id == OJW_STEP_PRIVILEGE && !privileges)) {
            continue;
        }
        if (in->steps[id].state != OJW_STEP_NOT_RUN) {
            print_step(in, (ojw_step_id_t)id);
        }
        else {
            skipped = apr_pstrcat(pool, skipped ? skipped : "",
                                  skipped ? ", " : "",
                                  ojw_step_name((ojw_step_id_t)id), NULL);
        }
    }
    if (skipped) {
        printf("  - not checked: %s: %s\n", skipped, not_run_reason(in));
    }
}

/* Every audience= of p, as one quoted list: a" "b. */
static void print_audiences(const ojw_profile_t *p)
{
    int i;

    for (i = 0; i < p->audiences->nelts; i++) {
        printf("%s", i ? "\" \"" : "");
        print_clean(APR_ARRAY_IDX(p->audiences, i, const char *));
    }
}

static void print_profile(const setup_t *su, const ojw_claim_policy_t *pol)
{
    const ojw_profile_t *p = su->profile;

    printf("Profile %s (%s):\n  issuer \"", p->name, su->origin);
    print_clean(p->issuer);
    printf("\", audience \"");
    print_audiences(p);
    printf("\"\n  %s ", p->pem_file ? "pem_file" : p->discovery_url
           ? "discovery_url" : "jwk_url");
    print_clean(p->pem_file ? p->pem_file : p->discovery_url
                ? p->discovery_url : p->jwk_url);
    printf("\n  allowed_skew %ld s%s, allowed_age %ld s%s, role_claim_name ",
           pol->allowed_skew, p->skew_set ? "" : " (server default)",
           pol->allowed_age, p->age_set ? "" : " (server default)");
    print_clean(p->role_claim_name ? p->role_claim_name : "(none)");
    printf("\n");
    if (su->note) {
        printf("  note: %s\n", su->note);
    }
}

static void print_keys(const keys_t *k)
{
    int i;

    if (k->jwks_uri) {
        printf("Discovery: jwks_uri ");
        print_clean(k->jwks_uri);
        printf("\n");
    }
    if (k->ks == NULL) {
        return;
    }
    printf("Keys from ");
    print_clean(k->source);
    printf(":\n");
    for (i = 0; i < k->ks->nkeys; i++) {
        const ojw_key_t *key = &k->ks->keys[i];

        printf("  kid ");
        print_clean(key->kid ? key->kid : "(none)");
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
        print_clean(APR_ARRAY_IDX(k->notes, i, const char *));
        printf("\n");
    }
}

/* The last line: what httpd would do with the request. */
static void print_result(const ojw_inspection_t *in)
{
    ojw_reason_t r = in->verdict.reason;

    if (r == OJW_OK) {
        printf("Result: accepted; REMOTE_USER would be ");
        print_clean(in->subject ? in->subject : "");
        printf("\n");
    }
    else if (r == OJW_ERR_KEYS_UNAVAILABLE) {
        printf("Result: no verdict (keys_unavailable): httpd would answer "
               "503 until the JWK URL can be fetched\n");
    }
    else if (r == OJW_ERR_DPOP_MISSING || r == OJW_ERR_DPOP_PROOF) {
        printf("Result: refused (%s): httpd would answer 401 with the "
               "challenge DPoP error=\"invalid_dpop_proof\"\n",
               ojw_reason_name(r));
    }
    else if (r == OJW_ERR_SCOPE_MISSING || r == OJW_ERR_ROLE_MISSING
             || r == OJW_ERR_CLAIM_MISMATCH) {
        printf("Result: refused (%s): httpd would answer 403 "
               "error=\"insufficient_scope\"\n", ojw_reason_name(r));
    }
    else {
        printf("Result: refused (%s): httpd would answer 401 "
               "error=\"invalid_token\", error_description=\"%s\"\n",
               ojw_reason_name(r), ojw_reason_description(r));
    }
}

static ojw_claim_policy_t claim_policy(const setup_t *su);

/* Which of several profiles the token's iss chose (nothing for one). */
/* Two profiles that no token could tell apart (same issuer, a shared
 * audience): an error, as httpd's configtest says for one location. */
static int indistinguishable(const apr_array_header_t *setups,
                             apr_pool_t *pool, const char **error)
{
    const ojw_profile_t *a, *b;
    const char *aud;
    int i, j;

    for (i = 0; i < setups->nelts; i++) {
        for (j = i + 1; j < setups->nelts; j++) {
            a = APR_ARRAY_IDX(setups, i, setup_t).profile;
            b = APR_ARRAY_IDX(setups, j, setup_t).profile;
            if ((aud = ojw_profiles_overlap(a, b)) != NULL) {
                *error = apr_psprintf(pool, "profiles %s and %s have the "
                                      "same issuer and both accept audience "
                                      "%s: no token could tell them apart",
                                      a->name, b->name, aud);
                return -1;
            }
        }
    }
    return 0;
}

static void print_choice(const apr_array_header_t *setups, const setup_t *su,
                         int parsed)
{
    int i;

    if (setups->nelts < 2) {
        return;
    }
    printf("Profiles of the location (chosen by the token's iss, then by "
           "its aud):\n");
    for (i = 0; i < setups->nelts; i++) {
        const setup_t *c = &APR_ARRAY_IDX(setups, i, setup_t);

        printf("  %s %s, issuer \"", parsed && c == su ? "*" : "-",
               c->profile->name);
        print_clean(c->profile->issuer);
        printf("\"\n");
    }
    if (!parsed) {
        printf("  none chosen: the token was refused before\n");
    }
    else if (su == NULL) {
        printf("  none has the token's iss\n");
    }
}

static void print_report(const ojw_inspection_t *in,
                         const apr_array_header_t *setups, const setup_t *su,
                         const options_t *opt, const char *token,
                         apr_pool_t *pool)
{
    char date[32] = "";
    time_t now = (time_t)opt->now;
    ojw_claim_policy_t policy;
    struct tm tm;

    print_segment("Header", token, 0, pool);
    print_segment(in->verified ? "Claims (signature verified)"
                               : "Claims (not verified)", token, 1, pool);
    print_choice(setups, su, in->tok != NULL);
    if (su && (in->tok || setups->nelts == 1)) {
        policy = claim_policy(su);
        print_profile(su, &policy);
        print_keys(&su->keys);
    }
    if (gmtime_r(&now, &tm)) {
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf("Checks at %s (%lld):\n", date, opt->now);
    print_steps(in, opt->scopes->nelts > 0, opt->roles->nelts > 0,
                opt->privileges->nelts > 0, pool);
    print_result(in);
}

/* ------------------------------------------------------------------ */
/* keys                                                                */

static void note_key(void *baton, ojw_note_level_t level, int index,
                     const char *kid, const char *why)
{
    keys_t *k = baton;

    (void)level;
    APR_ARRAY_PUSH(k->notes, const char *) =
        apr_psprintf(k->pool, "key #%d (kid %s): %s", index,
                     kid ? kid : "none", why);
}

/* The keys of a file: JWK URL or pem_file, loaded as the module loads
 * them, at startup. A failure is a configuration error. */
static int load_static_keys(keys_t *k, ojw_profile_t *p, const char **error)
{
    const char *err = ojw_profile_load_static_keys(p, k->pool, note_key, k);

    k->source = p->jwk_file ? p->jwk_file : p->pem_file;
    if (err) {
        *error = apr_psprintf(k->pool, "%s: %s", p->pem_file ? "pem_file"
                              : "jwk_url", err);
        return -1;
    }
    k->ks = p->static_keys;
    return 0;
}

/* The jwks_uri of the profile's discovery document, read and checked as
 * the module does; NULL with k->error set when there is none. */
static const char *discover(keys_t *k, const setup_t *su)
{
    const char *url = su->profile->discovery_url;
    ojw_fetch_opts_t opts = { su->ca_file, su->fetch_timeout * 1000L,
                              OJW_DISCOVERY_MAX, NULL };
    ojw_fetch_result_t res;
    ojw_discovery_t d;
    char errbuf[1024];
    const char *cause;

    if (ojw_fetch(url, &opts, &res, k->pool) != APR_SUCCESS) {
        cause = ojw_discovery_fetch_cause(url, su->profile->issuer, &res,
                                          &k->hint, k->pool);
        k->error = apr_psprintf(k->pool, "discovery document fetch from %s "
                                "failed: %s", url, cause);
        return NULL;
    }
    if (ojw_discovery_check(&d, res.body, res.len, su->profile->issuer,
                            OJW_URL_MAX, k->pool, errbuf, sizeof(errbuf))
        != APR_SUCCESS) {
        k->error = apr_psprintf(k->pool, "discovery document %s refused: %s",
                                url, errbuf);
        return NULL;
    }
    k->jwks_uri = d.jwks_uri;
    return d.jwks_uri;
}

/* The keys of an https JWK URL (or of the jwks_uri that discovery
 * found), fetched as the module fetches them. */
static void fetch_keys(keys_t *k, const setup_t *su)
{
    const char *url = su->profile->jwk_url;
    ojw_fetch_opts_t opts = { su->ca_file, su->fetch_timeout * 1000L,
                              OJW_JWKS_MAX, NULL };
    ojw_fetch_result_t res;
    ojw_keyset_t *ks;
    char errbuf[512];
    const char *type;

    k->source = url;
    if (ojw_fetch_global_init() != 0) {
        k->error = "libcurl global initialisation failed";
        return;
    }
    if (su->profile->discovery_url
        && (url = k->source = discover(k, su)) == NULL) {
        k->source = su->profile->discovery_url;
        return;
    }
    if (ojw_fetch(url, &opts, &res, k->pool) != APR_SUCCESS) {
        k->error = apr_psprintf(k->pool, "JWKS fetch from %s failed: %s", url,
                                res.error);
        k->hint = res.hint;
        return;
    }
    if (ojw_jwks_parse(&ks, res.body, res.len, k->pool, note_key, k, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        type = res.content_type ? apr_psprintf(k->pool, " (Content-Type %s)",
                                               res.content_type) : "";
        k->error = apr_psprintf(k->pool, "JWKS fetched from %s is not "
                                "usable: %s%s", url, errbuf, type);
        k->hint = ojw_fetch_body_hint(&res);
        return;
    }
    k->ks = ks;
}

/* ------------------------------------------------------------------ */
/* the check                                                           */

static ojw_claim_policy_t claim_policy(const setup_t *su)
{
    ojw_claim_policy_t policy;

    ojw_profile_policy(&policy, su->profile, su->default_skew,
                       su->default_age);
    return policy;
}

/* The token's binding: the --dpop proof for --method and --url. */
static void check_binding(ojw_inspection_t *in,
                          const ojw_claim_policy_t *policy,
                          const setup_t *su, const options_t *opt,
                          apr_pool_t *pool)
{
    ojw_dpop_request_t req;

    memset(&req, 0, sizeof(req));
    req.method = opt->method ? opt->method : "GET";
    req.url = opt->url;
    req.window = su->dpop_window;
    req.skew = policy->allowed_skew > 0 ? policy->allowed_skew : 0;
    req.now = opt->now;
    ojw_inspect_binding(in, su->profile->dpop, su->profile->mtls, opt->dpop,
                        &req, pool);
}

/* Signature, claims, then Require ords-scope / ords-role. */
static void check_with_keys(ojw_inspection_t *in, const ojw_keyset_t *ks,
                            const ojw_claim_policy_t *policy,
                            const setup_t *su, const options_t *opt,
                            apr_pool_t *pool)
{
    if (ojw_inspect_verify(in, ks, pool) != OJW_OK) {
        return;
    }
    ojw_inspect_claims(in, policy, opt->now, pool);
    check_binding(in, policy, su, opt, pool);
    ojw_inspect_scopes(in, (const char *const *)opt->scopes->elts,
                       opt->scopes->nelts, pool);
    ojw_inspect_roles(in, su->profile->role_claim_name,
                      (const char *const *)opt->roles->elts,
                      opt->roles->nelts, pool);
    ojw_inspect_privileges(in, su->profile->role_claim_name,
                           (const ojw_privilege_t *const *)su->pvs,
                           opt->privileges->nelts, pool);
}

/* The setup of the profile the module would choose for the parsed
 * token: the only one, else the first whose issuer is its iss; NULL when
 * none is. */
static setup_t *choose(apr_array_header_t *setups, ojw_inspection_t *in,
                       apr_pool_t *pool)
{
    const ojw_profile_t **list = apr_palloc(pool, sizeof(*list)
                                                  * setups->nelts);
    const ojw_profile_t *p;
    const char *iss = NULL;
    int i;

    for (i = 0; i < setups->nelts; i++) {
        list[i] = APR_ARRAY_IDX(setups, i, setup_t).profile;
    }
    if (setups->nelts > 1) {
        iss = ojw_token_peek_issuer(in->tok, pool);
    }
    p = ojw_profile_choose(list, setups->nelts, iss,
                           setups->nelts > 1
                           ? json_object_get(ojw_token_unverified_claims(
                                                 in->tok, pool), "aud")
                           : NULL);
    for (i = 0; p && i < setups->nelts; i++) {
        if (list[i] == p) {
            return &APR_ARRAY_IDX(setups, i, setup_t);
        }
    }
    return NULL;
}

/* Keys (fetched only for a token that parses), verify, claims. */
static void check_chosen(ojw_inspection_t *in, setup_t *su,
                         const options_t *opt, apr_pool_t *pool)
{
    ojw_claim_policy_t policy = claim_policy(su);
    keys_t *k = &su->keys;

    ojw_inspect_type(in, su->profile->token_type, pool);
    if (k->ks == NULL) {
        fetch_keys(k, su);
    }
    if (k->ks) {
        check_with_keys(in, k->ks, &policy, su, opt, pool);
    }
    else {
        ojw_inspect_keys_unavailable(in, k->error, k->hint, pool);
    }
}

/* In the module's order: parse, the profile, keys, verify, claims.
 * Returns the exit status. */
static int check_token(const char *token, apr_array_header_t *setups,
                       const options_t *opt, apr_pool_t *pool)
{
    setup_t *su = &APR_ARRAY_IDX(setups, 0, setup_t);
    ojw_inspection_t in;

    if (ojw_inspect_parse(&in, token, strlen(token), su->token_max, pool)
        == OJW_OK) {
        if ((su = choose(setups, &in, pool)) != NULL) {
            check_chosen(&in, su, opt, pool);
        }
        else {
            ojw_inspect_no_profile(&in, setups->nelts, pool);
        }
    }
    print_report(&in, setups, su, opt, token, pool);
    if (in.verdict.reason == OJW_ERR_KEYS_UNAVAILABLE) {
        fprintf(stderr, "ordsjwt-check: %s%s%s\n", su->keys.error,
                su->keys.hint ? "; hint: " : "",
                su->keys.hint ? su->keys.hint : "");
        return EXIT_USAGE;
    }
    return in.verdict.reason == OJW_OK ? EXIT_ACCEPTED : EXIT_REFUSED;
}

/* ------------------------------------------------------------------ */
/* the profile                                                         */

/* value as a double-quoted OrdsJwtProfile value ('"' and '\' escaped). */
static const char *quoted_value(apr_pool_t *pool, const char *value)
{
    char *out = apr_palloc(pool, 2 * strlen(value) + 3), *o = out;

    *o++ = '"';
    for (; *value; value++) {
        if (*value == '"' || *value == '\\') {
            *o++ = '\\';
        }
        *o++ = *value;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *add_key(apr_pool_t *pool, const char *args,
                           const char *key, const char *value)
{
    if (value == NULL) {
        return args;
    }
    return apr_pstrcat(pool, args, " ", key, "=", quoted_value(pool, value),
                       NULL);
}

/* The options as "OrdsJwtProfile options key=value ...", parsed by
 * ojw_profile_parse so that the module's rules apply. */
static int profile_from_options(setup_t *su, const options_t *opt,
                                apr_pool_t *pool, const char **error)
{
    const char *args = OPTIONS_PROFILE, *err = NULL;

    args = add_key(pool, args, "issuer", opt->issuer);
    args = add_key(pool, args, "audience", opt->audience);
    args = add_key(pool, args, "jwk_url", opt->jwk_url);
    args = add_key(pool, args, "pem_file", opt->pem_file);
    args = add_key(pool, args, "discovery_url", opt->discovery_url);
    args = add_key(pool, args, "pem_kid", opt->pem_kid);
    args = add_key(pool, args, "role_claim_name", opt->role_claim_name);
    args = add_key(pool, args, "allowed_skew", opt->allowed_skew);
    args = add_key(pool, args, "allowed_age", opt->allowed_age);
    su->profile = ojw_profile_parse(args, pool, &err);
    if (su->profile == NULL) {
        if (strncmp(err, OPTIONS_PROFILE ": ", sizeof(OPTIONS_PROFILE) + 1)
            == 0) {
            err += sizeof(OPTIONS_PROFILE) + 1;
        }
        *error = apr_psprintf(pool, "profile options: %s", err);
        return -1;
    }
    su->origin = "from the options";
    su->ca_file = opt->ca_file;
    if (opt->dpop) {
        su->profile->dpop = OJW_BIND_ALLOWED;   /* the options take DPoP */
    }
    return 0;
}

/* The names of the profiles defined, each once. */
static const char *profile_names(const ojw_conf_t *conf, apr_pool_t *pool)
{
    apr_hash_t *seen = apr_hash_make(pool);
    const char *names = NULL;
    int i;

    for (i = 0; i < conf->profiles->nelts; i++) {
        const char *name = APR_ARRAY_IDX(conf->profiles, i,
                                         ojw_conf_profile_t).name;

        if (apr_hash_get(seen, name, APR_HASH_KEY_STRING) == NULL) {
            apr_hash_set(seen, name, APR_HASH_KEY_STRING, name);
            names = apr_pstrcat(pool, names ? names : "", names ? ", " : "",
                                name, NULL);
        }
    }
    return names ? names : "none";
}

static const char *where(apr_pool_t *pool, const ojw_conf_profile_t *d)
{
    return apr_psprintf(pool, "%s:%d", d->file, d->line);
}

/* Why two definitions of one name are not interchangeable, or NULL. */
static const char *difference(const ojw_conf_t *conf,
                              const ojw_conf_profile_t *a,
                              const ojw_conf_profile_t *b)
{
    ojw_settings_t da = ojw_conf_defaults(conf, a->server);
    ojw_settings_t db = ojw_conf_defaults(conf, b->server);

    if (a->server == b->server) {
        return "in one server, which httpd refuses";
    }
    if (strcmp(a->args, b->args) != 0) {
        return "differently";
    }
    if (ojw_setting(&da, OJW_SET_SKEW) != ojw_setting(&db, OJW_SET_SKEW)
        || ojw_setting(&da, OJW_SET_AGE) != ojw_setting(&db, OJW_SET_AGE)
        || ojw_setting(&da, OJW_SET_TOKEN_MAX)
           != ojw_setting(&db, OJW_SET_TOKEN_MAX)) {
        return "in virtual hosts with different OrdsJwtAllowedSkew, "
               "OrdsJwtAllowedAge or OrdsJwtMaxTokenSize";
    }
    return NULL;
}

/* Several definitions of one name are usable only when they are the same
 * line in different virtual hosts with the same defaults; NULL then. */
static const char *ambiguity(const ojw_conf_t *conf,
                             const apr_array_header_t *defs,
                             apr_pool_t *pool)
{
    const ojw_conf_profile_t *first = APR_ARRAY_IDX(defs, 0,
                                                    ojw_conf_profile_t *);
    const char *places = where(pool, first), *why = NULL;
    int i;

    for (i = 1; i < defs->nelts; i++) {
        const ojw_conf_profile_t *d = APR_ARRAY_IDX(defs, i,
                                                    ojw_conf_profile_t *);

        why = why ? why : difference(conf, first, d);
        places = apr_pstrcat(pool, places, ", ", where(pool, d), NULL);
    }
    if (why == NULL) {
        return NULL;
    }
    return apr_psprintf(pool, "OrdsJwtProfile %s is defined %d times, %s "
                        "(%s): the checker cannot tell which one is meant",
                        first->name, defs->nelts, why, places);
}

/* The definition of profile name in --config; NULL with *error set. */
static const ojw_conf_profile_t *find_definition(const ojw_conf_t *conf,
                                                 setup_t *su, const char *name,
                                                 const options_t *opt,
                                                 apr_pool_t *pool,
                                                 const char **error)
{
    apr_array_header_t *defs = ojw_conf_find(conf, name, pool);

    if (defs->nelts == 0) {
        *error = apr_psprintf(pool, "no OrdsJwtProfile named \"%s\" in %s or "
                              "the files it includes (%d files; profiles: "
                              "%s%s)", name, opt->config, conf->nfiles,
                              profile_names(conf, pool),
                              conf->skipped->nelts ? "; sections skipped "
                              "are listed above" : "");
        return NULL;
    }
    if (defs->nelts > 1 && (*error = ambiguity(conf, defs, pool)) != NULL) {
        return NULL;
    }
    if (defs->nelts > 1) {
        su->note = apr_psprintf(pool, "defined %d times, identically, in "
                                "different virtual hosts", defs->nelts);
    }
    return APR_ARRAY_IDX(defs, 0, ojw_conf_profile_t *);
}

/* The --privilege definitions as server sees them, as the module parses
 * Require ords-privilege: each must be defined. */
static int privileges_of(setup_t *su, const ojw_conf_t *conf, int server,
                         const options_t *opt, apr_pool_t *pool,
                         const char **error)
{
    int i, n = opt->privileges->nelts;

    su->pvs = apr_pcalloc(pool, sizeof(*su->pvs) * (n ? n : 1));
    for (i = 0; i < n; i++) {
        const char *name = APR_ARRAY_IDX(opt->privileges, i, const char *);
        const ojw_conf_privilege_t *pv = ojw_conf_privilege(conf, name,
                                                            server);

        if (pv == NULL) {
            *error = apr_psprintf(pool, "--privilege %s: no OrdsJwtPrivilege "
                                  "named \"%s\" is defined for profile %s's "
                                  "server in %s (httpd refuses such a "
                                  "Require ords-privilege)", name, name,
                                  su->profile->name, opt->config);
            return -1;
        }
        su->pvs[i] = pv->pv;
    }
    return 0;
}

static int profile_from_config(setup_t *su, const ojw_conf_t *conf,
                               const char *name, const options_t *opt,
                               apr_pool_t *pool, const char **error)
{
    const ojw_conf_profile_t *def;
    ojw_settings_t defaults;
    const char *err = NULL;

    if ((def = find_definition(conf, su, name, opt, pool, error)) == NULL) {
        return -1;
    }
    su->profile = ojw_profile_parse(def->args, pool, &err);
    if (su->profile == NULL) {
        *error = apr_psprintf(pool, "%s: OrdsJwtProfile %s", where(pool, def),
                              err);
        return -1;
    }
    defaults = ojw_conf_defaults(conf, def->server);
    su->origin = apr_pstrcat(pool, "from ", where(pool, def), NULL);
    su->default_skew = ojw_setting(&defaults, OJW_SET_SKEW);
    su->default_age = ojw_setting(&defaults, OJW_SET_AGE);
    su->token_max = (size_t)ojw_setting(&defaults, OJW_SET_TOKEN_MAX);
    su->fetch_timeout = ojw_setting(&defaults, OJW_SET_FETCH_TIMEOUT);
    su->dpop_window = ojw_setting(&defaults, OJW_SET_DPOP_WINDOW);
    su->ca_file = opt->ca_file ? opt->ca_file : conf->ca_file;
    return privileges_of(su, conf, def->server, opt, pool, error);
}

static int has_profile_options(const options_t *opt)
{
    return opt->issuer || opt->audience || opt->jwk_url || opt->pem_file
           || opt->discovery_url || opt->pem_kid || opt->role_claim_name || opt->allowed_skew
           || opt->allowed_age;
}

/* A setup with the defaults of the settings table. */
static setup_t *new_setup(apr_array_header_t *setups, apr_pool_t *pool)
{
    setup_t *su = apr_array_push(setups);

    memset(su, 0, sizeof(*su));
    su->token_max = (size_t)ojw_settings[OJW_SET_TOKEN_MAX].def;
    su->fetch_timeout = ojw_settings[OJW_SET_FETCH_TIMEOUT].def;
    su->dpop_window = ojw_settings[OJW_SET_DPOP_WINDOW].def;
    su->keys.pool = pool;
    su->keys.notes = apr_array_make(pool, 4, sizeof(const char *));
    return su;
}

/* Prints the sections the configuration reader skipped, on stderr. */
static void print_skipped(const ojw_conf_t *conf)
{
    int i;

    for (i = 0; i < conf->skipped->nelts; i++) {
        fprintf(stderr, "ordsjwt-check: %s\n",
                APR_ARRAY_IDX(conf->skipped, i, const char *));
    }
}

static int setups_from_config(apr_array_header_t *setups,
                              const options_t *opt, apr_pool_t *pool,
                              const char **error)
{
    const ojw_conf_t *conf = ojw_conf_read_defined(opt->config, opt->defines,
                                                   pool, error);
    int i;

    if (conf == NULL) {
        return -1;
    }
    print_skipped(conf);
    for (i = 0; i < opt->profiles->nelts; i++) {
        if (profile_from_config(new_setup(setups, pool), conf,
                                APR_ARRAY_IDX(opt->profiles, i, const char *),
                                opt, pool, error) != 0) {
            return -1;
        }
    }
    return 0;
}

/* What does not go together; NULL when the options are fine. */
static const char *option_conflict(const options_t *opt)
{
    if (opt->dpop && opt->url == NULL) {
        return "--dpop needs --url, the URL the client addressed";
    }
    if (opt->dpop == NULL && (opt->url || opt->method)) {
        return "--method and --url describe the request of a --dpop proof";
    }
    if (opt->config && has_profile_options(opt)) {
        return "--config takes the profile from the file: --issuer, "
               "--audience, --jwk-url, --pem-file, --discovery-url, "
               "--pem-kid, --role-claim-name, --allowed-skew and "
               "--allowed-age do not go with it";
    }
    if (opt->config && opt->profiles->nelts == 0) {
        return "--config needs --profile NAME";
    }
    if (opt->profiles->nelts && opt->config == NULL) {
        return "--profile needs --config FILE";
    }
    if ((opt->privileges->nelts || opt->defines->nelts)
        && opt->config == NULL) {
        return "--privilege and --define need --config FILE (the "
               "OrdsJwtPrivilege definitions are in the configuration)";
    }
    if (opt->config == NULL && !has_profile_options(opt)) {
        return "no profile: give --config FILE --profile NAME, or --issuer, "
               "--audience and --jwk-url (or --pem-file)";
    }
    return NULL;
}

static int setup_profiles(apr_array_header_t *setups, const options_t *opt,
                          apr_pool_t *pool, const char **error)
{
    if ((*error = option_conflict(opt)) != NULL) {
        return -1;
    }
    if (opt->config) {
        return setups_from_config(setups, opt, pool, error);
    }
    return profile_from_options(new_setup(setups, pool), opt, pool, error);
}

/* The static keys of every profile, loaded as the module does at startup:
 * a file that cannot be used is a configuration error. */
static int load_all_static_keys(apr_array_header_t *setups, apr_pool_t *pool,
                                const char **error)
{
    int i;

    for (i = 0; i < setups->nelts; i++) {
        setup_t *su = &APR_ARRAY_IDX(setups, i, setup_t);

        if ((su->profile->jwk_file || su->profile->pem_file)
            && load_static_keys(&su->keys, su->profile, error) != 0) {
            *error = apr_psprintf(pool, "profile %s (%s): %s",
                                  su->profile->name, su->origin, *error);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* options and the token                                               */

enum {
    OPT_ISSUER = 256, OPT_AUDIENCE, OPT_JWK_URL, OPT_PEM_FILE, OPT_PEM_KID,
    OPT_ROLE_CLAIM, OPT_SKEW, OPT_AGE, OPT_CA_FILE, OPT_CONFIG, OPT_PROFILE,
    OPT_SCOPE, OPT_ROLE, OPT_NOW, OPT_HELP, OPT_DISCOVERY_URL, OPT_PRIVILEGE,
    OPT_DEFINE, OPT_VERSION, OPT_DPOP, OPT_METHOD, OPT_URL
};

static const struct option long_options[] = {
    { "issuer", required_argument, NULL, OPT_ISSUER },
    { "audience", required_argument, NULL, OPT_AUDIENCE },
    { "jwk-url", required_argument, NULL, OPT_JWK_URL },
    { "pem-file", required_argument, NULL, OPT_PEM_FILE },
    { "pem-kid", required_argument, NULL, OPT_PEM_KID },
    { "discovery-url", required_argument, NULL, OPT_DISCOVERY_URL },
    { "role-claim-name", required_argument, NULL, OPT_ROLE_CLAIM },
    { "allowed-skew", required_argument, NULL, OPT_SKEW },
    { "allowed-age", required_argument, NULL, OPT_AGE },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "config", required_argument, NULL, OPT_CONFIG },
    { "profile", required_argument, NULL, OPT_PROFILE },
    { "scope", required_argument, NULL, OPT_SCOPE },
    { "role", required_argument, NULL, OPT_ROLE },
    { "now", required_argument, NULL, OPT_NOW },
    { "help", no_argument, NULL, OPT_HELP },
    { "privilege", required_argument, NULL, OPT_PRIVILEGE },
    { "define", required_argument, NULL, OPT_DEFINE },
    { "version", no_argument, NULL, OPT_VERSION },
    { "dpop", required_argument, NULL, OPT_DPOP },
    { "method", required_argument, NULL, OPT_METHOD },
    { "url", required_argument, NULL, OPT_URL },
    { NULL, 0, NULL, 0 }
};

static int parse_now(options_t *opt, const char *arg, apr_pool_t *pool,
                     const char **error)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || errno == ERANGE || v < 0
        || v >= NOW_MAX) {
        *error = apr_psprintf(pool, "--now %s is not a number of seconds "
                              "since 1970 before the year 10000", arg);
        return -1;
    }
    opt->now = v;
    return 0;
}

/* The words of arg (separated by spaces or commas) added to list. */
static void add_words(apr_array_header_t *list, const char *arg,
                      apr_pool_t *pool)
{
    char *copy = apr_pstrdup(pool, arg), *last = NULL, *w;

    for (w = apr_strtok(copy, " \t,", &last); w;
         w = apr_strtok(NULL, " \t,", &last)) {
        APR_ARRAY_PUSH(list, const char *) = w;
    }
}

/* Stores one option; -1 with *error set when it is not valid. */
static int set_option(options_t *opt, int c, const char *arg,
                      apr_pool_t *pool, const char **error)
{
    switch (c) {
    case OPT_ISSUER:        opt->issuer = arg; break;
    case OPT_AUDIENCE:      opt->audience = arg; break;
    case OPT_JWK_URL:       opt->jwk_url = arg; break;
    case OPT_PEM_FILE:      opt->pem_file = arg; break;
    case OPT_PEM_KID:       opt->pem_kid = arg; break;
    case OPT_DISCOVERY_URL: opt->discovery_url = arg; break;
    case OPT_ROLE_CLAIM:    opt->role_claim_name = arg; break;
    case OPT_SKEW:          opt->allowed_skew = arg; break;
    case OPT_AGE:           opt->allowed_age = arg; break;
    case OPT_CA_FILE:       opt->ca_file = arg; break;
    case OPT_CONFIG:        opt->config = arg; break;
    case OPT_PROFILE:       add_words(opt->profiles, arg, pool); break;
    case OPT_PRIVILEGE:     APR_ARRAY_PUSH(opt->privileges, const char *) = arg;
                            break;
    case OPT_DEFINE:        APR_ARRAY_PUSH(opt->defines, const char *) = arg;
                            break;
    case OPT_SCOPE:         APR_ARRAY_PUSH(opt->scopes, const char *) = arg;
                            break;
    case OPT_ROLE:          APR_ARRAY_PUSH(opt->roles, const char *) = arg;
                            break;
    case OPT_DPOP:          opt->dpop = arg; break;
    case OPT_METHOD:        opt->method = arg; break;
    case OPT_URL:           opt->url = arg; break;
    case OPT_NOW:           return parse_now(opt, arg, pool, error);
    case OPT_HELP:          opt->help = 1; break;
    case OPT_VERSION:       opt->version = 1; break;
    default:
        *error = "unknown option or missing value (see --help)";
        return -1;
    }
    return 0;
}

static int parse_options(options_t *opt, int argc, char **argv,
                         apr_pool_t *pool, const char **error)
{
    int c;

    memset(opt, 0, sizeof(*opt));
    opt->scopes = apr_array_make(pool, 4, sizeof(const char *));
    opt->roles = apr_array_make(pool, 4, sizeof(const char *));
    opt->profiles = apr_array_make(pool, 4, sizeof(const char *));
    opt->privileges = apr_array_make(pool, 4, sizeof(const char *));
    opt->defines = apr_array_make(pool, 4, sizeof(const char *));
    opt->now = (long long)time(NULL);
    opterr = 0;     /* our message, not getopt's */
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        if (set_option(opt, c, optarg, pool, error) != 0) {
            if (c == '?' || c == ':') {
                *error = apr_psprintf(pool, "%s: unknown option or missing "
                                      "value (see --help)",
                                      argv[optind - 1]);
            }
            return -1;
        }
    }
    if (argc - optind > 1) {
        *error = "more than one token given (see --help)";
        return -1;
    }
    opt->token = optind < argc ? argv[optind] : NULL;
    return 0;
}

/* stdin, at most INPUT_MAX bytes; NULL with *error set. */
static char *read_stdin(apr_pool_t *pool, const char **error)
{
    char *buf = apr_palloc(pool, INPUT_MAX + 1);
    size_t n;

    if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "ordsjwt-check: reading the token from stdin "
                "(end with Ctrl-D)\n");
    }
    n = fread(buf, 1, INPUT_MAX + 1, stdin);
    if (ferror(stdin) || n > INPUT_MAX) {
        *error = ferror(stdin) ? "cannot read stdin"
                               : "stdin holds more than 1 MiB: not a token";
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int read_token(const char **token, const options_t *opt,
                      apr_pool_t *pool, const char **error)
{
    const char *user;
    char *raw;

    if (opt->token && strcmp(opt->token, "-") != 0) {
        raw = apr_pstrdup(pool, opt->token);
    }
    else if ((raw = read_stdin(pool, error)) == NULL) {
        return -1;
    }
    if ((*token = ojw_header_token(pool, raw, &user, error)) == NULL) {
        return -1;
    }
    if (user && *user) {
        printf("Basic credentials: user name \"%s\" (AuthBasicProvider "
               "ords-jwt accepts it only when it is the token's sub)\n",
               user);
    }
    if (**token == '\0') {
        *error = "no token: give it as the argument or on stdin";
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    apr_pool_t *pool = NULL;
    const char *error = NULL, *token = NULL;
    apr_array_header_t *setups;
    options_t opt;
    int rc = EXIT_USAGE;

    if (apr_app_initialize(&argc, (const char *const **)&argv, NULL)
        != APR_SUCCESS || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "ordsjwt-check: cannot initialise APR\n");
        return EXIT_USAGE;
    }
    if (parse_options(&opt, argc, argv, pool, &error) != 0) {
        goto cleanup;
    }
    if (opt.help) {
        fputs(usage_text, stdout);
        rc = EXIT_ACCEPTED;
        goto cleanup;
    }
    if (opt.version) {
        printf("ordsjwt-check %s\n", ojw_version());
        rc = EXIT_ACCEPTED;
        goto cleanup;
    }
    setups = apr_array_make(pool, 2, sizeof(setup_t));
    if (setup_profiles(setups, &opt, pool, &error) != 0
        || indistinguishable(setups, pool, &error) != 0
        || load_all_static_keys(setups, pool, &error) != 0
        || read_token(&token, &opt, pool, &error) != 0) {
        goto cleanup;
    }
    rc = check_token(token, setups, &opt, pool);
cleanup:
    if (error) {
        fprintf(stderr, "ordsjwt-check: %s\n", error);
    }
    fflush(stdout);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
