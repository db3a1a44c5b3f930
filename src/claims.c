/* SPDX-License-Identifier: Apache-2.0 */
/* Claim checks, scopes, JSON-pointer roles, claim values (see claims.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "claims.h"

/* The last second of year 9999: later NumericDates are nobody's clock. */
#define NUMERIC_DATE_MAX 253402300799.0

/* A NumericDate: an integer or a real (fractions allowed) from 0 to
 * NUMERIC_DATE_MAX; 0 when absent or not one. Negative, huge or
 * non-numeric times are refused rather than read as "long ago" or
 * "never expires". */
static int numeric_date(const json_t *v, double *out)
{
    double d;

    if (json_is_integer(v)) {
        d = (double)json_integer_value(v);
    }
    else if (json_is_real(v)) {
        d = json_real_value(v);
    }
    else {
        return 0;
    }
    if (!isfinite(d) || d < 0 || d > NUMERIC_DATE_MAX) {
        return 0;
    }
    *out = d;
    return 1;
}

/* What the checks of one token share: its dates, read once. */
typedef struct {
    const json_t *claims;
    const ojw_claim_policy_t *policy;
    double now, skew;
    ojw_claim_times_t t;
    int tmpl;                           /* the issuer is a template */
    const char *subject;
} claim_ctx_t;

void ojw_claim_times_read(ojw_claim_times_t *t, const json_t *claims)
{
    const json_t *nbf = json_object_get(claims, "nbf");
    const json_t *iat = json_object_get(claims, "iat");

    memset(t, 0, sizeof(*t));
    t->has_exp = numeric_date(json_object_get(claims, "exp"), &t->exp);
    t->nbf_present = nbf != NULL;
    t->has_nbf = numeric_date(nbf, &t->nbf);
    t->iat_present = iat != NULL;
    t->has_iat = numeric_date(iat, &t->iat);
}

/* An issuer template (tenant.h): a valid tid that fills it. */
static ojw_reason_t check_template(const json_t *claims, const char *iss,
                                   const char *issuer, ojw_error_t *err)
{
    const json_t *tid = json_object_get(claims, "tid");

    if (!json_is_string(tid)) {
        return ojw_fail(err, OJW_ERR_TENANT_ID, "the token has no \"tid\" "
                        "string; the profile's issuer \"%s\" needs one",
                        issuer);
    }
    if (!ojw_tid_valid(json_string_value(tid))) {
        return ojw_fail(err, OJW_ERR_TENANT_ID, "tid \"%.64s\" is not a "
                        "tenant id (a lower-case GUID)",
                        json_string_value(tid));
    }
    if (!ojw_issuer_matches(issuer, iss, json_string_value(tid))) {
        return ojw_fail(err, OJW_ERR_ISSUER, "iss \"%.200s\" is not the "
                        "profile's issuer \"%s\" with the token's tid %s",
                        iss, issuer, json_string_value(tid));
    }
    return OJW_OK;
}

/* iss: the profile's issuer, or its template filled with the tid. */
static ojw_reason_t issuer(claim_ctx_t *c, ojw_error_t *err)
{
    const ojw_claim_policy_t *p = c->policy;
    const json_t *iss = json_object_get(c->claims, "iss");

    if (!json_is_string(iss)) {
        return ojw_fail(err, OJW_ERR_ISSUER, "the token has no \"iss\" string; "
                        "the profile expects \"%s\"", p->issuer);
    }
    if (c->tmpl) {
        return check_template(c->claims, json_string_value(iss), p->issuer,
                              err);
    }
    if (strcmp(json_string_value(iss), p->issuer) != 0) {
        return ojw_fail(err, OJW_ERR_ISSUER, "iss \"%.200s\" is not the "
                        "profile's issuer \"%s\" (exact comparison)",
                        json_string_value(iss), p->issuer);
    }
    return OJW_OK;
}

/* The iss is the issuer of the key that verified the token (tenant.h). */
static ojw_reason_t key_issuer(claim_ctx_t *c, ojw_error_t *err)
{
    return ojw_key_issuer_check(c->policy->key_issuer, c->claims, err);
}

/* An issuer template's tenant is one of its tenants= (when listed). */
static ojw_reason_t tenant(claim_ctx_t *c, ojw_error_t *err)
{
    const ojw_tenants_t *t = c->policy->tenants;

    if (c->tmpl && t && !ojw_tenants_has(t, ojw_claims_tid(c->claims))) {
        return ojw_fail(err, OJW_ERR_TENANT, "tenant %s is not one of the "
                        "%d tenants of the profile",
                        ojw_claims_tid(c->claims), t->count);
    }
    return OJW_OK;
}

/* 1 when value is one of the policy's audiences (exact comparison). */
static int audience_listed(const ojw_claim_policy_t *p, const char *value)
{
    int i;

    if (p->naudiences <= 0) {
        return strcmp(value, p->audience) == 0;
    }
    for (i = 0; i < p->naudiences; i++) {
        if (strcmp(value, p->audiences[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* How many more audiences than the first the profile accepts. */
static int more_audiences(const ojw_claim_policy_t *p)
{
    return p->naudiences > 1 ? p->naudiences - 1 : 0;
}

#define AUD_FMT     "\"%s\"%s%.0d%s"
#define AUD_ARGS(p) (p)->audience, more_audiences(p) ? " (or one of " : "", \
                    more_audiences(p), more_audiences(p) ? " more)" : ""

static ojw_reason_t check_audience(const json_t *claims,
                                   const ojw_claim_policy_t *p,
                                   ojw_error_t *err)
{
    const json_t *aud = json_object_get(claims, "aud");
    const json_t *v;
    size_t i;

    if (json_is_string(aud)) {
        if (audience_listed(p, json_string_value(aud))) {
            return OJW_OK;
        }
        return ojw_fail(err, OJW_ERR_AUDIENCE, "aud \"%.200s\" is not the "
                        "profile's audience " AUD_FMT " (exact comparison)",
                        json_string_value(aud), AUD_ARGS(p));
    }
    if (!json_is_array(aud)) {
        return ojw_fail(err, OJW_ERR_AUDIENCE, "the token has no \"aud\" string "
                        "or array; the profile expects " AUD_FMT, AUD_ARGS(p));
    }
    /* every member is looked at first: the verdict must not depend on
     * where a member that is not a string stands */
    json_array_foreach(aud, i, v) {
        if (!json_is_string(v)) {
            return ojw_fail(err, OJW_ERR_AUDIENCE, "\"aud\" array has a "
                            "member that is not a string");
        }
    }
    json_array_foreach(aud, i, v) {
        if (audience_listed(p, json_string_value(v))) {
            return OJW_OK;
        }
    }
    return ojw_fail(err, OJW_ERR_AUDIENCE, "none of the %zu \"aud\" entries "
                    "is the profile's audience " AUD_FMT, json_array_size(aud),
                    AUD_ARGS(p));
}

static ojw_reason_t exp_valid(claim_ctx_t *c, ojw_error_t *err)
{
    if (!c->t.has_exp) {
        return ojw_fail(err, OJW_ERR_EXP_MISSING, "\"exp\" is missing or not "
                        "a number of seconds from 0 to year 9999");
    }
    return OJW_OK;
}

static ojw_reason_t nbf_valid(claim_ctx_t *c, ojw_error_t *err)
{
    if (c->t.nbf_present && !c->t.has_nbf) {
        return ojw_fail(err, OJW_ERR_MALFORMED, "\"nbf\" is not a number "
                        "of seconds from 0 to year 9999");
    }
    return OJW_OK;
}

static ojw_reason_t iat_valid(claim_ctx_t *c, ojw_error_t *err)
{
    if (c->t.iat_present && !c->t.has_iat) {
        return ojw_fail(err, OJW_ERR_IAT_MISSING, "\"iat\" is not a number "
                        "of seconds from 0 to year 9999");
    }
    return OJW_OK;
}

static ojw_reason_t exp_passed(claim_ctx_t *c, ojw_error_t *err)
{
    if (c->now >= c->t.exp + c->skew) {
        return ojw_fail(err, OJW_ERR_EXPIRED, "expired %.0f s ago (exp %.0f, "
                        "allowed_skew %.0f s)", c->now - c->t.exp, c->t.exp,
                        c->skew);
    }
    return OJW_OK;
}

static ojw_reason_t nbf_reached(claim_ctx_t *c, ojw_error_t *err)
{
    if (c->t.nbf_present && c->now + c->skew < c->t.nbf) {
        return ojw_fail(err, OJW_ERR_NOT_YET_VALID, "not valid for another "
                        "%.0f s (nbf %.0f, allowed_skew %.0f s)",
                        c->t.nbf - c->now, c->t.nbf, c->skew);
    }
    return OJW_OK;
}

static ojw_reason_t iat_past(claim_ctx_t *c, ojw_error_t *err)
{
    if (c->t.has_iat && c->t.iat > c->now + c->skew) {
        return ojw_fail(err, OJW_ERR_IAT_FUTURE, "issued %.0f s in the future "
                        "(iat %.0f, allowed_skew %.0f s)", c->t.iat - c->now,
                        c->t.iat, c->skew);
    }
    return OJW_OK;
}

static ojw_reason_t age(claim_ctx_t *c, ojw_error_t *err)
{
    long allowed = c->policy->allowed_age;

    if (allowed <= 0) {
        return OJW_OK;
    }
    if (!c->t.has_iat) {
        return ojw_fail(err, OJW_ERR_IAT_MISSING, "allowed_age is %ld s "
                        "but the token has no \"iat\"", allowed);
    }
    if (c->now - c->t.iat > (double)allowed + c->skew) {
        return ojw_fail(err, OJW_ERR_TOO_OLD, "issued %.0f s ago, "
                        "allowed_age is %ld s (allowed_skew %.0f s)",
                        c->now - c->t.iat, allowed, c->skew);
    }
    return OJW_OK;
}

static int has_control_char(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* 1 when s holds nothing but spaces (other whitespace is a control
 * character, refused on its own). */
static int is_blank(const char *s)
{
    return s[strspn(s, " ")] == '\0';
}

static ojw_reason_t subject(claim_ctx_t *c, ojw_error_t *err)
{
    const json_t *sub = json_object_get(c->claims, "sub");

    if (!json_is_string(sub) || is_blank(json_string_value(sub))) {
        return ojw_fail(err, OJW_ERR_SUBJECT, "\"sub\" is missing, empty, "
                        "only spaces or not a string");
    }
    if (has_control_char(json_string_value(sub))) {
        return ojw_fail(err, OJW_ERR_SUBJECT, "\"sub\" contains control "
                        "characters");
    }
    c->subject = json_string_value(sub);
    return OJW_OK;
}

static ojw_reason_t audience(claim_ctx_t *c, ojw_error_t *err)
{
    return check_audience(c->claims, c->policy, err);
}

typedef ojw_reason_t claim_row_fn(claim_ctx_t *c, ojw_error_t *err);

/*
 * The checks in the order that decides which refusal a token gets: every
 * date is checked for form before any is compared with the clock. Each
 * row belongs to one line (the claim it is about); a line passes when
 * all its rows do.
 */
static const struct {
    ojw_claim_line_t line;
    claim_row_fn *check;
} rows[] = {
    { OJW_CLAIM_ISSUER,   issuer },
    { OJW_CLAIM_ISSUER,   key_issuer },
    { OJW_CLAIM_ISSUER,   tenant },
    { OJW_CLAIM_AUDIENCE, audience },
    { OJW_CLAIM_EXP,      exp_valid },
    { OJW_CLAIM_NBF,      nbf_valid },
    { OJW_CLAIM_IAT,      iat_valid },
    { OJW_CLAIM_EXP,      exp_passed },
    { OJW_CLAIM_NBF,      nbf_reached },
    { OJW_CLAIM_IAT,      iat_past },
    { OJW_CLAIM_AGE,      age },
    { OJW_CLAIM_SUBJECT,  subject },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void start_ctx(claim_ctx_t *c, const json_t *claims,
                      const ojw_claim_policy_t *policy, long long now)
{
    size_t at, len;

    memset(c, 0, sizeof(*c));
    c->claims = claims;
    c->policy = policy;
    c->now = (double)now;
    c->skew = policy->allowed_skew > 0 ? (double)policy->allowed_skew : 0;
    c->tmpl = ojw_issuer_placeholder(policy->issuer, &at, &len) == 1;
    ojw_claim_times_read(&c->t, claims);
}

ojw_reason_t ojw_claims_check(const json_t *claims,
                              const ojw_claim_policy_t *policy,
                              long long now, const char **subject,
                              ojw_error_t *err)
{
    claim_ctx_t c;
    ojw_reason_t rc;
    size_t i;

    *subject = NULL;
    start_ctx(&c, claims, policy, now);
    for (i = 0; i < NROWS; i++) {
        if ((rc = rows[i].check(&c, err)) != OJW_OK) {
            return rc;
        }
    }
    *subject = c.subject;
    return OJW_OK;
}

/* 1 for the rows about dates. */
static int dated(ojw_claim_line_t line)
{
    return line == OJW_CLAIM_EXP || line == OJW_CLAIM_NBF
           || line == OJW_CLAIM_IAT || line == OJW_CLAIM_AGE;
}

ojw_reason_t ojw_claims_check_times(const ojw_claim_times_t *times,
                                    const ojw_claim_policy_t *policy,
                                    long long now, ojw_error_t *err)
{
    claim_ctx_t c;
    ojw_reason_t rc;
    size_t i;

    c.claims = NULL;
    c.policy = policy;
    c.now = (double)now;
    c.skew = policy->allowed_skew > 0 ? (double)policy->allowed_skew : 0;
    c.t = *times;
    for (i = 0; i < NROWS; i++) {
        if (dated(rows[i].line) && (rc = rows[i].check(&c, err)) != OJW_OK) {
            return rc;
        }
    }
    return OJW_OK;
}

/* Runs row i unless its line failed already (or, for the age, the iat
 * line did: an unusable iat is that line's). */
static ojw_reason_t run_row(claim_ctx_t *c, size_t i, ojw_reason_t *lines,
                            ojw_error_t *line_err)
{
    ojw_claim_line_t l = rows[i].line;

    if (lines[l] != OJW_OK
        || (l == OJW_CLAIM_AGE && lines[OJW_CLAIM_IAT] != OJW_OK)) {
        return OJW_OK;
    }
    memset(&line_err[l], 0, sizeof(line_err[l]));
    lines[l] = rows[i].check(c, &line_err[l]);
    return lines[l];
}

ojw_reason_t ojw_claims_check_each(const json_t *claims,
                                   const ojw_claim_policy_t *policy,
                                   long long now, const char **subject,
                                   ojw_error_t *err, ojw_claim_note_fn *note,
                                   void *baton)
{
    ojw_reason_t lines[OJW_CLAIM_LINES] = { OJW_OK }, rc = OJW_OK, r;
    ojw_error_t line_err[OJW_CLAIM_LINES];
    claim_ctx_t c;
    size_t i;
    int l;

    *subject = NULL;
    start_ctx(&c, claims, policy, now);
    for (i = 0; i < NROWS; i++) {
        if ((r = run_row(&c, i, lines, line_err)) != OJW_OK && rc == OJW_OK) {
            rc = r;
            *err = line_err[rows[i].line];
        }
    }
    for (l = 0; l < OJW_CLAIM_LINES; l++) {
        if (l != OJW_CLAIM_AGE || lines[OJW_CLAIM_IAT] == OJW_OK) {
            note(baton, (ojw_claim_line_t)l,
                 lines[l] == OJW_OK ? NULL : &line_err[l]);
        }
    }
    *subject = rc == OJW_OK ? c.subject : NULL;
    return rc;
}

const char *ojw_next_word(const char **p, size_t *len)
{
    const char *word = *p;

    while (*word == ' ') {
        word++;
    }
    *len = strcspn(word, " ");
    *p = word + *len;
    return word;
}

/* 1 when word is one of the space-separated words of list. */
static int word_in_list(const char *list, const char *word)
{
    size_t wlen = strlen(word), n;
    const char *w;

    while ((w = ojw_next_word(&list, &n)), n > 0) {
        if (n == wlen && strncmp(w, word, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 when word is in a string (space-separated) or an array of strings. */
static int value_contains(const json_t *v, const char *word, int split)
{
    const json_t *item;
    size_t i;

    if (json_is_string(v)) {
        return split ? word_in_list(json_string_value(v), word)
                     : strcmp(json_string_value(v), word) == 0;
    }
    json_array_foreach(v, i, item) {
        if (json_is_string(item) && strcmp(json_string_value(item), word) == 0) {
            return 1;
        }
    }
    return 0;
}

int ojw_claims_has_any_scope(const json_t *claims, const char *const *scopes,
                             int n)
{
    const json_t *scope = json_object_get(claims, "scope");
    const json_t *scp = json_object_get(claims, "scp");
    int i;

    for (i = 0; i < n; i++) {
        if ((json_is_string(scope) && word_in_list(json_string_value(scope),
                                                   scopes[i]))
            || value_contains(scp, scopes[i], 1)) {
            return 1;
        }
    }
    return 0;
}

int ojw_json_pointer_valid(const char *pointer)
{
    const char *p;

    if (pointer == NULL || (*pointer != '\0' && *pointer != '/')) {
        return 0;
    }
    for (p = pointer; *p; p++) {
        if (*p == '~' && p[1] != '0' && p[1] != '1') {
            return 0;
        }
    }
    return 1;
}

/* Unescapes one reference token (~1 -> /, ~0 -> ~) into buf. */
static size_t pointer_token(const char *p, char *buf, size_t buflen)
{
    size_t n = 0;

    while (*p && *p != '/' && n + 1 < buflen) {
        if (*p == '~') {
            buf[n++] = p[1] == '1' ? '/' : '~';
            p += 2;
        }
        else {
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    return n;
}

/* Array index per RFC 6901: "0" or digits without a leading zero. */
static int array_index(const char *tok, size_t *index)
{
    char *end;
    unsigned long v;

    if (*tok == '\0' || (tok[0] == '0' && tok[1] != '\0')
        || strspn(tok, "0123456789") != strlen(tok) || strlen(tok) > 9) {
        return 0;
    }
    v = strtoul(tok, &end, 10);
    *index = (size_t)v;
    return 1;
}

const json_t *ojw_json_pointer(const json_t *root, const char *pointer)
{
    const json_t *cur = root;
    const char *p = pointer;
    char tok[256];
    size_t index;

    if (!ojw_json_pointer_valid(pointer)) {
        return NULL;
    }
    while (cur && *p == '/') {
        const char *next = strchr(p + 1, '/');
        size_t rawlen = next ? (size_t)(next - p - 1) : strlen(p + 1);

        if (rawlen >= sizeof(tok)) {
            return NULL;
        }
        pointer_token(p + 1, tok, sizeof(tok));
        if (json_is_object(cur)) {
            cur = json_object_get(cur, tok);
        }
        else if (json_is_array(cur) && array_index(tok, &index)) {
            cur = json_array_get(cur, index);
        }
        else {
            return NULL;
        }
        p += 1 + rawlen;
    }
    return cur;
}

int ojw_claims_has_any_role(const json_t *claims, const char *pointer,
                            const char *const *roles, int n)
{
    const json_t *v = ojw_json_pointer(claims, pointer);
    int i;

    for (i = 0; v && i < n; i++) {
        if (value_contains(v, roles[i], 0)) {
            return 1;
        }
    }
    return 0;
}

/* The JSON text of a boolean or integer scalar into buf; NULL for any
 * other value (strings are compared as they are, the rest never match). */
static const char *literal_text(const json_t *v, char *buf, size_t buflen)
{
    if (json_is_true(v)) {
        return "true";
    }
    if (json_is_false(v)) {
        return "false";
    }
    if (json_is_integer(v)) {
        snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    return NULL;
}

/* 1 when the string s equals one of the n values. */
static int equals_any(const char *s, const char *const *values, int n)
{
    int i;

    for (i = 0; s && i < n; i++) {
        if (strcmp(s, values[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

int ojw_claims_match(const json_t *claims, const char *name,
                     const char *const *values, int n)
{
    const json_t *v, *item;
    char buf[32];
    size_t i;

    if (claims == NULL || name == NULL) {
        return 0;
    }
    v = name[0] == '/' ? ojw_json_pointer(claims, name)
                       : json_object_get(claims, name);
    if (json_is_string(v)) {
        return equals_any(json_string_value(v), values, n);
    }
    json_array_foreach(v, i, item) {
        if (json_is_string(item)
            && equals_any(json_string_value(item), values, n)) {
            return 1;
        }
    }
    return equals_any(literal_text(v, buf, sizeof(buf)), values, n);
}
