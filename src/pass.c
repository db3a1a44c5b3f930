/* SPDX-License-Identifier: Apache-2.0 */
/* Passing verified claims on (see pass.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include "pass.h"
#include "claims.h"

/* The longest prefix of s[0..n) that does not end inside a UTF-8
 * character. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t start = n, need;
    unsigned char lead;

    while (start > 0 && ((unsigned char)s[start - 1] & 0xc0) == 0x80) {
        start--;
    }
    if (start == 0 || (lead = (unsigned char)s[start - 1]) < 0x80) {
        return n;
    }
    need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return n - (start - 1) >= need ? n : start - 1;
}

const char *ojw_pass_text(apr_pool_t *pool, const char *s, size_t max,
                          int *truncated)
{
    char *out = apr_palloc(pool, strlen(s) + 1);
    size_t n = 0;

    for (; *s; s++) {
        if ((unsigned char)*s >= 0x20 && *s != 0x7f) {
            out[n++] = *s;
        }
    }
    if (n > max) {
        n = utf8_cut(out, max);
        *truncated = 1;
    }
    out[n] = '\0';
    return out;
}

static const char *json_text(apr_pool_t *pool, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy = apr_pstrdup(pool, text ? text : "");

    free(text);
    return copy;
}

static int is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static const char *scalar_text(apr_pool_t *pool, const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : json_text(pool, v);
}

/* An array of scalars joined with ","; NULL if it holds anything else. */
static const char *joined(apr_pool_t *pool, const json_t *a)
{
    apr_array_header_t *parts = apr_array_make(pool, 8, sizeof(char *));
    const json_t *item;
    size_t i;

    json_array_foreach(a, i, item) {
        if (!is_scalar(item)) {
            return NULL;
        }
        APR_ARRAY_PUSH(parts, const char *) = scalar_text(pool, item);
    }
    return apr_array_pstrcat(pool, parts, ',');
}

const char *ojw_pass_value(apr_pool_t *pool, const json_t *v, size_t max,
                           int *truncated)
{
    const char *text = NULL;

    *truncated = 0;
    if (v == NULL || json_is_null(v)) {
        return NULL;
    }
    if (is_scalar(v)) {
        text = scalar_text(pool, v);
    }
    else if (json_is_array(v)) {
        text = joined(pool, v);
    }
    if (text == NULL) {
        text = json_text(pool, v);
    }
    return ojw_pass_text(pool, text, max, truncated);
}

static const char *mapped(apr_pool_t *pool, const char *prefix,
                          const char *claim, char other)
{
    char *name = apr_pstrcat(pool, prefix, claim, NULL);
    char *c;

    for (c = name + strlen(prefix); *c; c++) {
        if (!isalnum((unsigned char)*c)) {
            *c = other;
        }
    }
    return name;
}

const char *ojw_pass_env_name(apr_pool_t *pool, const char *claim)
{
    return mapped(pool, "ORDSJWT_CLAIM_", claim, '_');
}

const char *ojw_pass_header_name(apr_pool_t *pool, const char *claim)
{
    return mapped(pool, "X-OrdsJwt-Claim-", claim, '-');
}

/* name with its letters in lower case: equal for every spelling that an
 * apr table takes for the same key. */
static const char *folded(apr_pool_t *pool, const char *name)
{
    char *s = apr_pstrdup(pool, name), *c;

    for (c = s; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return s;
}

/* Counts one more claim under the folded name. */
static void count_name(apr_hash_t *counts, const char *name)
{
    apr_pool_t *pool = apr_hash_pool_get(counts);
    const char *key = folded(pool, name);
    int *n = apr_hash_get(counts, key, APR_HASH_KEY_STRING);

    if (n == NULL) {
        n = apr_pcalloc(pool, sizeof(*n));
        apr_hash_set(counts, key, APR_HASH_KEY_STRING, n);
    }
    (*n)++;
}

/* How many claims have the folded name. */
static int name_count(apr_hash_t *counts, const char *name)
{
    int *n = apr_hash_get(counts, folded(apr_hash_pool_get(counts), name),
                          APR_HASH_KEY_STRING);

    return n ? *n : 0;
}

/* names (a JSON array) as compact JSON text of at most max bytes, cut on
 * a character boundary and ended with "..." when longer. */
static const char *names_text(apr_pool_t *pool, const json_t *names,
                              size_t max)
{
    char *text = json_dumps(names, JSON_COMPACT);
    const char *out;
    int cut = 0;

    if (max < 8) {
        max = 8;
    }
    out = ojw_pass_text(pool, text ? text : "[]", text && strlen(text) > max
                        ? max - 3 : max, &cut);
    free(text);
    return cut ? apr_pstrcat(pool, out, "...", NULL) : out;
}

void ojw_pass_collisions(ojw_pass_collisions_t *out, apr_pool_t *pool,
                         const json_t *claims, size_t max)
{
    apr_hash_t *env = apr_hash_make(pool), *hdr = apr_hash_make(pool);
    json_t *obj = (json_t *)claims, *names = json_array(), *value;
    const char *key, *copy;

    out->dropped = apr_hash_make(pool);
    out->names = NULL;
    json_object_foreach(obj, key, value) {
        count_name(env, ojw_pass_env_name(pool, key));
        count_name(hdr, ojw_pass_header_name(pool, key));
    }
    json_object_foreach(obj, key, value) {
        if (name_count(env, ojw_pass_env_name(pool, key)) < 2
            && name_count(hdr, ojw_pass_header_name(pool, key)) < 2) {
            continue;
        }
        json_array_append_new(names, json_string(key));
        if (strcmp(key, "sub") != 0) {
            copy = apr_pstrdup(pool, key);  /* key itself is the iterator */
            apr_hash_set(out->dropped, copy, APR_HASH_KEY_STRING, copy);
        }
    }
    if (json_array_size(names) > 0) {
        out->names = names_text(pool, names, max);
    }
    json_decref(names);
}

/* 1 when name starts with prefix, comparing "-" and "_" as equal and
 * letters in any case. */
static int starts_like(const char *name, const char *prefix)
{
    for (; *prefix; prefix++, name++) {
        char a = *name == '_' ? '-' : (char)tolower((unsigned char)*name);

        if (a != *prefix) {
            return 0;
        }
    }
    return 1;
}

int ojw_pass_is_lookalike(const char *header_name)
{
    return starts_like(header_name, "x-ordsjwt-")
           || starts_like(header_name, "ordsjwt-");
}

/* Adds v's non-empty strings (v a string or an array of them) to words. */
static void add_words(apr_array_header_t *words, const json_t *v)
{
    const json_t *item;
    size_t i;

    if (json_is_string(v) && *json_string_value(v)) {
        APR_ARRAY_PUSH(words, const char *) = json_string_value(v);
    }
    json_array_foreach(v, i, item) {
        if (json_is_string(item)) {
            add_words(words, item);
        }
    }
}

const char *ojw_pass_scopes(apr_pool_t *pool, const json_t *claims)
{
    apr_array_header_t *words = apr_array_make(pool, 8, sizeof(char *));

    add_words(words, json_object_get(claims, "scope"));
    add_words(words, json_object_get(claims, "scp"));
    return apr_array_pstrcat(pool, words, ' ');
}

const char *ojw_pass_roles(apr_pool_t *pool, const json_t *claims,
                           const char *pointer)
{
    const json_t *v = pointer ? ojw_json_pointer(claims, pointer) : NULL;
    apr_array_header_t *roles = apr_array_make(pool, 8, sizeof(char *));
    const json_t *item;
    size_t i;

    if (json_is_string(v)) {
        return json_string_value(v);
    }
    json_array_foreach(v, i, item) {
        if (json_is_string(item)) {
            APR_ARRAY_PUSH(roles, const char *) = json_string_value(item);
        }
    }
    return apr_array_pstrcat(pool, roles, ',');
}

/* ------------------------------------------------------------------ */
/* what a token passes, worked out once                                */

/* Appends a pair to pairs; counts a cut value. */
static void add_pair(apr_array_header_t *pairs, ojw_passed_t *out,
                     const char *env, const char *header, const char *value,
                     int truncated)
{
    ojw_pass_pair_t *pair = apr_array_push(pairs);

    pair->env = env;
    pair->header = header;
    pair->value = value;
    pair->truncated = truncated;
    out->ntruncated += truncated != 0;
}

void ojw_passed_make(ojw_passed_t *out, apr_pool_t *pool,
                     const json_t *claims, const char *profile,
                     const char *role_pointer)
{
    apr_array_header_t *pairs = apr_array_make(pool, 16,
                                               sizeof(ojw_pass_pair_t));
    ojw_pass_collisions_t clash;
    const char *key, *text;
    json_t *value;
    int cut = 0;

    memset(out, 0, sizeof(*out));
    ojw_pass_collisions(&clash, pool, claims, OJW_DETAIL_MAX);
    out->collisions = clash.names;
    json_object_foreach((json_t *)claims, key, value) {
        if (apr_hash_get(clash.dropped, key, APR_HASH_KEY_STRING) == NULL
            && (text = ojw_pass_value(pool, value, OJW_PASS_VALUE_MAX,
                                      &cut)) != NULL) {
            add_pair(pairs, out, ojw_pass_env_name(pool, key),
                     ojw_pass_header_name(pool, key), text, cut);
        }
    }
    add_pair(pairs, out, "ORDSJWT_PROFILE", "X-OrdsJwt-Profile", profile, 0);
    cut = 0;
    text = ojw_pass_text(pool, ojw_pass_scopes(pool, claims),
                         OJW_PASS_VALUE_MAX, &cut);
    add_pair(pairs, out, "ORDSJWT_SCOPES", "X-OrdsJwt-Scopes", text, cut);
    cut = 0;
    text = ojw_pass_text(pool, ojw_pass_roles(pool, claims, role_pointer),
                         OJW_PASS_VALUE_MAX, &cut);
    add_pair(pairs, out, "ORDSJWT_ROLES", "X-OrdsJwt-Roles", text, cut);
    out->pairs = (const ojw_pass_pair_t *)pairs->elts;
    out->npairs = pairs->nelts;
}

/* Bytes of s with its NUL (0 for NULL). */
static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s to *at and moves *at past it; NULL for NULL. */
static const char *copy_text(char **at, const char *s)
{
    size_t n = text_size(s);
    const char *copy = *at;

    if (s == NULL) {
        return NULL;
    }
    memcpy(*at, s, n);
    *at += n;
    return copy;
}

/* The bytes of p's strings. */
static size_t texts_size(const ojw_passed_t *p)
{
    size_t n = text_size(p->collisions) + text_size(p->note_profile)
               + text_size(p->note_kid) + text_size(p->note_sub);
    int i;

    for (i = 0; i < p->npairs; i++) {
        n += text_size(p->pairs[i].env) + text_size(p->pairs[i].header)
             + text_size(p->pairs[i].value);
    }
    return n;
}

ojw_passed_t *ojw_passed_pack(const ojw_passed_t *p)
{
    size_t head = sizeof(ojw_passed_t)
                  + (size_t)p->npairs * sizeof(ojw_pass_pair_t);
    ojw_passed_t *out = malloc(head + texts_size(p));
    ojw_pass_pair_t *pairs;
    char *at;
    int i;

    if (out == NULL) {
        return NULL;
    }
    pairs = (ojw_pass_pair_t *)(void *)(out + 1);
    at = (char *)out + head;
    *out = *p;
    out->pairs = pairs;
    for (i = 0; i < p->npairs; i++) {
        pairs[i].env = copy_text(&at, p->pairs[i].env);
        pairs[i].header = copy_text(&at, p->pairs[i].header);
        pairs[i].value = copy_text(&at, p->pairs[i].value);
        pairs[i].truncated = p->pairs[i].truncated;
    }
    out->collisions = copy_text(&at, p->collisions);
    out->note_profile = copy_text(&at, p->note_profile);
    out->note_kid = copy_text(&at, p->note_kid);
    out->note_sub = copy_text(&at, p->note_sub);
    return out;
}

void ojw_passed_set(const ojw_passed_t *p, apr_table_t *env,
                    apr_table_t *headers)
{
    int i;

    for (i = 0; i < p->npairs; i++) {
        if (env) {
            apr_table_setn(env, p->pairs[i].env, p->pairs[i].value);
        }
        if (headers) {
            apr_table_setn(headers, p->pairs[i].header, p->pairs[i].value);
        }
    }
}
