/* SPDX-License-Identifier: Apache-2.0 */
/* OrdsJwtProfile argument parser (see profile.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include "profile.h"
#include "claims.h"
#include "tenant.h"

/* Next word: key=value, key="quoted value", or a bare NAME. Returns NULL
 * at the end; sets *error on an unterminated quote. */
static char *next_word(apr_pool_t *pool, const char **s, const char **error)
{
    const char *p = *s;
    char *out, *o;

    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '\0') {
        *s = p;
        return NULL;
    }
    out = o = apr_palloc(pool, strlen(p) + 1);
    while (*p && !isspace((unsigned char)*p)) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                    p++;
                }
                *o++ = *p;
            }
            if (*p != '"') {
                *error = "unterminated double quote";
                return NULL;
            }
            p++;
        }
        else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *s = p;
    return out;
}

static const char *parse_seconds(const char *key, const char *value,
                                 long *out, apr_pool_t *pool)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || errno == ERANGE
        || v < -86400L * 3650 || v > 86400L * 3650) {
        return apr_psprintf(pool, "%s=%s is not a number of seconds", key,
                            value);
    }
    *out = v;
    return NULL;
}

static const char *set_url(ojw_profile_t *p, const char *value,
                           apr_pool_t *pool)
{
    p->jwk_url = value;
    if (strncmp(value, "https://", 8) == 0 && value[8] != '\0') {
        return NULL;
    }
    if (strncmp(value, "file://", 7) == 0 && value[7] == '/') {
        p->jwk_file = value + 7;
        return NULL;
    }
    return apr_psprintf(pool, "jwk_url=%s must start with https:// (or be "
                        "file:///absolute/path.json for static keys)", value);
}

static const char *set_discovery_url(ojw_profile_t *p, const char *value,
                                     apr_pool_t *pool)
{
    p->discovery_url = value;
    if (strncmp(value, "https://", 8) == 0 && value[8] != '\0'
        && value[8] != '/') {
        return NULL;
    }
    return apr_psprintf(pool, "discovery_url=%s must start with https:// "
                        "(e.g. https://issuer/.well-known/openid-configuration)",
                        value);
}

/* token_type=at+jwt, dpop=off|allowed|required, mtls=allowed|required,
 * dpop_nonce=on|off. */
static const char *set_binding_key(ojw_profile_t *p, const char *key,
                                   const char *value, apr_pool_t *pool)
{
    int v = strcmp(value, "required") == 0 ? OJW_BIND_REQUIRED
            : strcmp(value, "allowed") == 0 ? OJW_BIND_ALLOWED
            : strcmp(value, "off") == 0 ? OJW_BIND_OFF : -1;

    if (strcmp(key, "token_type") == 0) {
        p->token_type = value;
        return strcasecmp(value, "at+jwt") == 0 ? NULL
               : apr_psprintf(pool, "token_type=%s: the one type known is "
                              "at+jwt (RFC 9068)", value);
    }
    if (strcmp(key, "dpop") == 0 && v >= 0) {
        p->dpop = v;
        return NULL;
    }
    if (strcmp(key, "mtls") == 0 && v > 0) {
        p->mtls = v;
        return NULL;
    }
    if (strcmp(key, "dpop_nonce") == 0) {
        p->dpop_nonce = strcmp(value, "on") == 0 ? 1
                        : strcmp(value, "off") == 0 ? 0 : -1;
        return p->dpop_nonce >= 0 ? NULL
               : apr_psprintf(pool, "dpop_nonce=%s: use dpop_nonce=on or "
                              "dpop_nonce=off", value);
    }
    return apr_psprintf(pool, "%s=%s: use %s=allowed or %s=required%s", key,
                        value, key, key,
                        strcmp(key, "dpop") == 0 ? " (or off)" : "");
}

static const char *const known_keys[] = {
    "issuer", "audience", "jwk_url", "allowed_skew", "allowed_age",
    "role_claim_name", "description", "pem_file", "pem_kid",
    "discovery_url", "token_type", "dpop", "mtls", "tenants", "dpop_nonce",
    NULL
};

/* Levenshtein distance of a and b (short strings), capped at 99. */
static int edit_distance(const char *a, const char *b)
{
    int row[64], i, j, prev, cur;
    int la = (int)strlen(a), lb = (int)strlen(b);

    if (la >= 63 || lb >= 63) {
        return 99;
    }
    for (j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            cur = row[j];
            row[j] = 1 + (row[j] < row[j - 1] ? row[j] : row[j - 1]);
            if (prev + (a[i - 1] != b[j - 1]) < row[j]) {
                row[j] = prev + (a[i - 1] != b[j - 1]);
            }
            prev = cur;
        }
    }
    return row[lb];
}

/* The known key closest to key, when close enough to be a typo. */
static const char *closest_key(const char *key)
{
    const char *best = NULL;
    int d, best_d = 4;
    const char *const *k;

    for (k = known_keys; *k; k++) {
        if ((d = edit_distance(key, *k)) < best_d) {
            best_d = d;
            best = *k;
        }
    }
    return best;
}

static const char *unknown_key(const char *key, apr_pool_t *pool)
{
    const char *near = closest_key(key);
    const char *list = NULL;
    const char *const *k;

    if (near) {
        return apr_psprintf(pool, "unknown key \"%s\" (did you mean %s?)",
                            key, near);
    }
    for (k = known_keys; *k; k++) {
        list = list ? apr_pstrcat(pool, list, ", ", *k, NULL) : *k;
    }
    return apr_psprintf(pool, "unknown key \"%s\" (known: %s)", key, list);
}

/* audience= may be repeated: any one of them is accepted. */
static const char *add_audience(ojw_profile_t *p, const char *value,
                                apr_pool_t *pool)
{
    int i;

    for (i = 0; i < p->audiences->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(p->audiences, i, const char *), value)
            == 0) {
            return apr_psprintf(pool, "audience=%s is listed twice", value);
        }
    }
    if (p->audience == NULL) {
        p->audience = value;
    }
    APR_ARRAY_PUSH(p->audiences, const char *) = value;
    return NULL;
}

static const char *read_file(const char *path, apr_off_t max, char **doc,
                             apr_size_t *len, apr_pool_t *pool);

/* tenants=ID[,ID...] or tenants=@/absolute/path (tenant.h). */
static const char *set_tenants(ojw_profile_t *p, const char *value,
                               apr_pool_t *pool)
{
    const char *err;
    char *doc = NULL;
    apr_size_t len = 0;

    if (*value != '@') {
        return ojw_tenants_parse(&p->tenants, value, strlen(value), pool);
    }
    if (value[1] != '/') {
        return apr_psprintf(pool, "tenants=%s: the file must be an absolute "
                            "path (tenants=@/path)", value);
    }
    if ((err = read_file(value + 1, OJW_TENANTS_FILE_MAX, &doc, &len, pool))
        || (err = ojw_tenants_parse(&p->tenants, doc, len, pool))) {
        return apr_psprintf(pool, "tenants=%s: %s", value, err);
    }
    p->tenants->file = value + 1;
    return NULL;
}

static const char *set_key(ojw_profile_t *p, const char *key,
                           const char *value, apr_pool_t *pool)
{
    const char *err = NULL;

    if (strcmp(key, "issuer") == 0) {
        p->issuer = value;
    }
    else if (strcmp(key, "audience") == 0) {
        err = add_audience(p, value, pool);
    }
    else if (strcmp(key, "jwk_url") == 0) {
        err = set_url(p, value, pool);
    }
    else if (strcmp(key, "allowed_skew") == 0) {
        p->skew_set = 1;
        err = parse_seconds(key, value, &p->allowed_skew, pool);
        if (!err && p->allowed_skew > OJW_SKEW_MAX) {
            err = apr_psprintf(pool, "allowed_skew=%ld is more than %d seconds",
                               p->allowed_skew, OJW_SKEW_MAX);
        }
    }
    else if (strcmp(key, "allowed_age") == 0) {
        p->age_set = 1;
        err = parse_seconds(key, value, &p->allowed_age, pool);
    }
    else if (strcmp(key, "role_claim_name") == 0) {
        p->role_claim_name = value;
        if (!ojw_json_pointer_valid(value) || *value == '\0') {
            err = apr_psprintf(pool, "role_claim_name=%s is not a JSON pointer "
                               "(RFC 6901), e.g. /groups or /realm_access/roles",
                               value);
        }
    }
    else if (strcmp(key, "description") == 0) {
        p->description = value;
    }
    else if (strcmp(key, "pem_file") == 0) {
        p->pem_file = value;
        if (*value != '/') {
            err = apr_psprintf(pool, "pem_file=%s must be an absolute path",
                               value);
        }
    }
    else if (strcmp(key, "pem_kid") == 0) {
        p->pem_kid = value;
    }
    else if (strcmp(key, "discovery_url") == 0) {
        err = set_discovery_url(p, value, pool);
    }
    else if (strcmp(key, "tenants") == 0) {
        err = set_tenants(p, value, pool);
    }
    else if (strcmp(key, "token_type") == 0 || strcmp(key, "dpop") == 0
             || strcmp(key, "mtls") == 0 || strcmp(key, "dpop_nonce") == 0) {
        err = set_binding_key(p, key, value, pool);
    }
    else {
        err = unknown_key(key, pool);
    }
    return err;
}

static int valid_name(const char *name)
{
    const char *c;

    for (c = name; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-'
            && *c != '.') {
            return 0;
        }
    }
    return *name != '\0';
}

static const char *check_pairs(const ojw_profile_t *p, apr_pool_t *pool);

static const char *parse_pairs(ojw_profile_t *p, const char *rest,
                               apr_pool_t *pool)
{
    apr_hash_t *seen = apr_hash_make(pool);
    const char *err = NULL;
    char *word, *eq;

    while ((word = next_word(pool, &rest, &err)) != NULL) {
        eq = strchr(word, '=');
        if (eq == NULL || eq == word) {
            return apr_psprintf(pool, "\"%s\" is not key=value", word);
        }
        *eq = '\0';
        if (eq[1] == '\0') {
            return apr_psprintf(pool, "%s has an empty value", word);
        }
        /* only audience may be repeated: a second issuer= is a mistake,
         * never "the last one wins" */
        if (strcmp(word, "audience") != 0
            && apr_hash_get(seen, word, APR_HASH_KEY_STRING) != NULL) {
            return apr_psprintf(pool, "%s is given twice", word);
        }
        apr_hash_set(seen, word, APR_HASH_KEY_STRING, word);
        if ((err = set_key(p, word, eq + 1, pool)) != NULL) {
            return err;
        }
    }
    if (err) {
        return err;
    }
    return check_pairs(p, pool);
}

/* An issuer template: one placeholder and something around it; tenants=
 * only with one. */
static const char *check_template(const ojw_profile_t *p, apr_pool_t *pool)
{
    size_t at, len;
    int n = ojw_issuer_placeholder(p->issuer, &at, &len);

    if (n < 0) {
        return apr_psprintf(pool, "issuer=%s: an issuer holds at most one "
                            "{tid}", p->issuer);
    }
    if (n == 1 && at == 0 && p->issuer[len] == '\0') {
        return apr_psprintf(pool, "issuer=%s: the issuer is more than {tid}",
                            p->issuer);
    }
    if (n == 0 && p->tenants) {
        return "tenants needs an issuer with {tid} (e.g. issuer=https://"
               "login.microsoftonline.com/{tid}/v2.0)";
    }
    return NULL;
}

/* The rules between keys, once all are read. */
static const char *check_pairs(const ojw_profile_t *p, apr_pool_t *pool)
{
    int sources = !!p->jwk_url + !!p->pem_file + !!p->discovery_url;

    if (!p->issuer || !p->audience || sources == 0) {
        return apr_psprintf(pool, "missing %s%s%s(issuer, audience and jwk_url"
                            ", discovery_url or pem_file are required)",
                            p->issuer ? "" : "issuer ",
                            p->audience ? "" : "audience ",
                            sources ? "" : "jwk_url ");
    }
    if (p->discovery_url && sources > 1) {
        return apr_psprintf(pool, "discovery_url and %s exclude each other: a "
                            "profile takes its keys from one place",
                            p->jwk_url ? "jwk_url" : "pem_file");
    }
    if (p->jwk_url && p->pem_file) {
        return "jwk_url and pem_file exclude each other: a profile takes its "
               "keys from one place";
    }
    if (p->pem_kid && !p->pem_file) {
        return "pem_kid needs pem_file";
    }
    if (p->dpop_nonce == 1 && p->dpop == OJW_BIND_OFF) {
        return "dpop_nonce=on needs dpop=allowed or dpop=required (nonces "
               "are for DPoP proofs)";
    }
    return check_template(p, pool);
}

ojw_profile_t *ojw_profile_parse(const char *args, apr_pool_t *pool,
                                 const char **error)
{
    ojw_profile_t *p = apr_pcalloc(pool, sizeof(*p));
    const char *rest = args ? args : "";
    const char *err = NULL;

    p->slot = -1;
    p->audiences = apr_array_make(pool, 2, sizeof(const char *));
    p->mtls = OJW_BIND_ALLOWED;
    p->dpop_nonce = -1;
    p->name = next_word(pool, &rest, &err);
    if (p->name == NULL || !valid_name(p->name)) {
        *error = err ? err : "needs a profile NAME (letters, digits, _ - .) "
                 "followed by key=value pairs";
        return NULL;
    }
    if ((err = parse_pairs(p, rest, pool)) != NULL) {
        *error = apr_psprintf(pool, "%s: %s", p->name, err);
        return NULL;
    }
    return p;
}

long ojw_profile_skew(const ojw_profile_t *p, long default_skew)
{
    long skew = p->skew_set ? p->allowed_skew : default_skew;

    return skew > 0 ? skew : 0;
}

int ojw_profile_nonce_required(const ojw_profile_t *p, int location)
{
    return p->dpop != OJW_BIND_OFF
           && (p->dpop_nonce >= 0 ? p->dpop_nonce == 1 : location == 1);
}

long ojw_profile_age(const ojw_profile_t *p, long default_age)
{
    long age = p->age_set ? p->allowed_age : default_age;

    return age > 0 ? age : 0;
}

static int has_audience(const ojw_profile_t *p, const char *aud)
{
    int i;

    for (i = 0; i < p->audiences->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(p->audiences, i, const char *), aud) == 0) {
            return 1;
        }
    }
    return 0;
}

int ojw_profile_accepts_aud(const ojw_profile_t *p, const json_t *aud)
{
    const json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        return has_audience(p, json_string_value(aud));
    }
    json_array_foreach(aud, i, v) {
        if (json_is_string(v) && has_audience(p, json_string_value(v))) {
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* the profiles of a location                                          */

typedef struct {
    const ojw_profile_t *p;
    int pos;                    /* in the list */
} member_t;

/* The profiles of one issuer (or template, spelled with {tid}). */
typedef struct {
    const char *issuer;
    int tmpl;                   /* a template */
    const member_t *first;      /* the first listed */
    apr_hash_t *audiences;      /* audience -> member_t *: the one that
                                 * takes it */
} issuer_t;

struct ojw_profile_set {
    int count;
    const ojw_profile_t *first;
    apr_hash_t *members;        /* profile address -> member_t * */
    apr_hash_t *issuers;        /* issuer -> issuer_t *, templates too */
    apr_array_header_t *templates;  /* issuer_t *, first listed first */
};

ojw_profile_set_t *ojw_profile_set_make(apr_pool_t *pool)
{
    ojw_profile_set_t *set = apr_pcalloc(pool, sizeof(*set));

    set->members = apr_hash_make(pool);
    set->issuers = apr_hash_make(pool);
    set->templates = apr_array_make(pool, 1, sizeof(issuer_t *));
    return set;
}

static const member_t *member_of(const ojw_profile_set_t *set,
                                 const ojw_profile_t *p)
{
    return apr_hash_get(set->members, &p, sizeof(p));
}

/* The entry of issuer (canonical), made when new. */
static issuer_t *issuer_entry(ojw_profile_set_t *set, const char *issuer,
                              apr_pool_t *pool)
{
    issuer_t *e = apr_hash_get(set->issuers, issuer, APR_HASH_KEY_STRING);
    size_t at, len;

    if (e == NULL) {
        e = apr_pcalloc(pool, sizeof(*e));
        e->issuer = issuer;
        e->audiences = apr_hash_make(pool);
        apr_hash_set(set->issuers, issuer, APR_HASH_KEY_STRING, e);
        if (ojw_issuer_placeholder(issuer, &at, &len) == 1) {
            e->tmpl = 1;
            APR_ARRAY_PUSH(set->templates, issuer_t *) = e;
        }
    }
    return e;
}

const char *ojw_profile_set_add(ojw_profile_set_t *set,
                                const ojw_profile_t *p, apr_pool_t *pool)
{
    issuer_t *e = issuer_entry(set, ojw_issuer_canonical(p->issuer, pool),
                               pool);
    member_t *m;
    const member_t *q;
    const ojw_profile_t **key;
    int i;

    if (member_of(set, p)) {
        return apr_psprintf(pool, "%s is listed twice", p->name);
    }
    for (i = 0; i < p->audiences->nelts; i++) {
        const char *aud = APR_ARRAY_IDX(p->audiences, i, const char *);

        if ((q = apr_hash_get(e->audiences, aud, APR_HASH_KEY_STRING))) {
            return apr_psprintf(pool, "profiles %s and %s have the same "
                                "issuer %s and both accept audience %s: no "
                                "token could tell them apart (give them "
                                "different audiences)", q->p->name, p->name,
                                p->issuer, aud);
        }
    }
    m = apr_palloc(pool, sizeof(*m));
    m->p = p;
    m->pos = set->count++;
    for (i = 0; i < p->audiences->nelts; i++) {
        apr_hash_set(e->audiences, APR_ARRAY_IDX(p->audiences, i,
                                                 const char *),
                     APR_HASH_KEY_STRING, m);
    }
    e->first = e->first ? e->first : m;
    set->first = set->first ? set->first : p;
    key = apr_palloc(pool, sizeof(*key));
    *key = p;
    apr_hash_set(set->members, key, sizeof(*key), m);
    return NULL;
}

int ojw_profile_set_count(const ojw_profile_set_t *set)
{
    return set ? set->count : 0;
}

int ojw_profile_set_contains(const ojw_profile_set_t *set,
                             const ojw_profile_t *p)
{
    return set && member_of(set, p) != NULL;
}

/* Of the profiles of e, the first listed that takes one of aud (a string
 * or an array of strings), if listed before best; else best. */
static const member_t *taking(const issuer_t *e, const json_t *aud,
                              const member_t *best)
{
    const member_t *m;
    const json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        m = apr_hash_get(e->audiences, json_string_value(aud),
                         APR_HASH_KEY_STRING);
        return m && (!best || m->pos < best->pos) ? m : best;
    }
    json_array_foreach(aud, i, v) {
        if (json_is_string(v)) {
            best = taking(e, v, best);
        }
    }
    return best;
}

/* Of the templates that iss fits, the first listed that takes aud, or
 * with aud NULL the first listed of any. */
static const member_t *template_choice(const ojw_profile_set_t *set,
                                       const char *iss, const json_t *aud)
{
    const member_t *best = NULL;
    int i;

    for (i = 0; i < set->templates->nelts; i++) {
        const issuer_t *t = APR_ARRAY_IDX(set->templates, i, issuer_t *);

        if (!ojw_issuer_fits(t->issuer, iss)) {
            continue;
        }
        if (aud == NULL) {
            return t->first;
        }
        best = taking(t, aud, best);
    }
    return best;
}

const ojw_profile_t *ojw_profile_set_choose(const ojw_profile_set_t *set,
                                            const char *iss,
                                            const json_t *aud)
{
    const issuer_t *e;
    const member_t *m = NULL;

    if (set == NULL || set->count <= 1) {
        return set ? set->first : NULL;
    }
    if (iss == NULL) {
        return NULL;
    }
    e = apr_hash_get(set->issuers, iss, APR_HASH_KEY_STRING);
    if (e && e->tmpl) {
        e = NULL;       /* a template is no exact issuer */
    }
    if (e && (m = taking(e, aud, NULL)) != NULL) {
        return m->p;
    }
    if (set->templates->nelts
        && (m = template_choice(set, iss, aud)) != NULL) {
        return m->p;
    }
    if (e) {
        return e->first->p;
    }
    m = set->templates->nelts ? template_choice(set, iss, NULL) : NULL;
    return m ? m->p : NULL;
}

const ojw_profile_t *ojw_profile_set_choose_token(
    const ojw_profile_set_t *set, ojw_token_t *tok, apr_pool_t *pool)
{
    int many = ojw_profile_set_count(set) > 1;
    const json_t *claims = many ? ojw_token_unverified_claims(tok, pool)
                                : NULL;

    return ojw_profile_set_choose(set, many ? ojw_token_peek_issuer(tok, pool)
                                            : NULL,
                                  json_object_get(claims, "aud"));
}

int ojw_profile_set_would_choose(const ojw_profile_set_t *set,
                                 const ojw_profile_t *p, const json_t *claims)
{
    const json_t *iss = json_object_get(claims, "iss");

    return ojw_profile_set_would_choose_for(set, p, json_is_string(iss)
                                            ? json_string_value(iss) : NULL,
                                            json_object_get(claims, "aud"));
}

int ojw_profile_set_would_choose_for(const ojw_profile_set_t *set,
                                     const ojw_profile_t *p, const char *iss,
                                     const json_t *aud)
{
    return ojw_profile_set_contains(set, p)
           && ojw_profile_set_choose(set, iss, aud) == p;
}

void ojw_profile_policy(ojw_claim_policy_t *policy, const ojw_profile_t *p,
                        long default_skew, long default_age)
{
    policy->issuer = p->issuer;
    policy->audience = p->audience;
    policy->audiences = (const char *const *)p->audiences->elts;
    policy->naudiences = p->audiences->nelts;
    policy->allowed_skew = ojw_profile_skew(p, default_skew);
    policy->allowed_age = ojw_profile_age(p, default_age);
    policy->tenants = p->tenants;
    policy->key_issuer = NULL;
}

/* A whole file of at most max bytes, NUL-terminated. */
static const char *read_file(const char *path, apr_off_t max, char **doc,
                             apr_size_t *len, apr_pool_t *pool)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;

    *len = 0;
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_TYPE, f);
        if (rv == APR_SUCCESS && fi.filetype != APR_REG) {
            apr_file_close(f);
            return apr_psprintf(pool, "%s is not a regular file", path);
        }
        if (rv == APR_SUCCESS && fi.size > max) {
            apr_file_close(f);
            return apr_psprintf(pool, "%s is larger than %" APR_OFF_T_FMT
                                " bytes", path, max);
        }
    }
    if (rv == APR_SUCCESS) {
        *doc = apr_palloc(pool, (apr_size_t)fi.size + 1);
        rv = apr_file_read_full(f, *doc, (apr_size_t)fi.size, len);
        (*doc)[*len] = '\0';
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(pool, "cannot read %s: %pm", path, &rv);
    }
    return NULL;
}

const char *ojw_profile_load_static_keys(ojw_profile_t *p, apr_pool_t *pool,
                                         ojw_jwks_note_fn *note, void *baton)
{
    const char *path = p->jwk_file ? p->jwk_file : p->pem_file;
    char *doc = NULL;
    apr_size_t len;
    char errbuf[512];
    const char *err;

    if (path == NULL) {
        return NULL;
    }
    if ((err = read_file(path, OJW_JWKS_MAX, &doc, &len, pool)) != NULL) {
        return err;
    }
    if (p->pem_file
        && ojw_jwks_from_pem(&doc, doc, len, p->pem_kid, pool, errbuf,
                             sizeof(errbuf)) != APR_SUCCESS) {
        return apr_psprintf(pool, "%s: %s", path, errbuf);
    }
    len = strlen(doc);
    if (ojw_jwks_parse(&p->static_keys, doc, len, pool, note, baton, errbuf,
                       sizeof(errbuf)) != APR_SUCCESS) {
        return apr_psprintf(pool, "%s: %s", path, errbuf);
    }
    p->static_keys->any_kid = p->pem_file && p->pem_kid == NULL;
    return NULL;
}

const char *ojw_profile_key_source(const ojw_profile_t *p, apr_pool_t *pool)
{
    if (p->discovery_url) {
        return apr_pstrcat(pool, "discovery_url ", p->discovery_url, NULL);
    }
    return apr_pstrcat(pool, "jwk_url ", p->jwk_url ? p->jwk_url : "-",
                       NULL);
}
