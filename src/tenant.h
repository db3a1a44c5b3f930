/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-tenant issuers (Entra ID and the like): an issuer template holds
 * one placeholder, {tid} (or Entra's own spelling {tenantid}), that a
 * token's iss fills with its own "tid" claim; a tenant id is a GUID. The
 * same rule applies to the "issuer" member of a JWK (Entra's keys carry
 * "https://login.microsoftonline.com/{tenantid}/v2.0"): a key signs only
 * for the issuers its template describes.
 *
 * A list of accepted tenants (tenants=ID,ID... or tenants=@/path): ids
 * separated by commas or white space; in a file, "#" starts a comment
 * that runs to the end of the line. Ids are GUIDs in any case, kept in
 * lower case; a token's tid must already be the lower-case form that
 * Entra issues.
 */
#ifndef OJW_TENANT_H
#define OJW_TENANT_H

#include <apr_pools.h>
#include <apr_hash.h>
#include <jansson.h>
#include "ojw.h"

#define OJW_TID_LEN             36          /* 8-4-4-4-12 hex digits */
#define OJW_TENANTS_FILE_MAX    (4 * 1024 * 1024)   /* bytes */

/* Where the one placeholder of an issuer template is: 1 with *at (its
 * offset) and *len (its length) set; 0 when there is none (an ordinary
 * issuer); -1 when there are several. */
int ojw_issuer_placeholder(const char *issuer, size_t *at, size_t *len);

/* 1 when s is a tenant id as a token carries it: a GUID in the canonical
 * lower-case 8-4-4-4-12 form, nothing before or after. */
int ojw_tid_valid(const char *s);

/* 1 when iss equals tmpl with its placeholder replaced by tid (tid NULL
 * never fills one); without a placeholder, when iss equals tmpl. */
int ojw_issuer_matches(const char *tmpl, const char *iss, const char *tid);

/* 1 when iss has the shape of tmpl: the text before and after its
 * placeholder, and between them something without "/" (to choose a
 * profile; the claim check then says whether the tid fits). Without a
 * placeholder, when iss equals tmpl. */
int ojw_issuer_fits(const char *tmpl, const char *iss);

/* 1 when a and b are the same issuer, or the same template whatever the
 * spelling of their placeholders. */
int ojw_issuer_same(const char *a, const char *b);

/* tmpl with tid in place of its placeholder; tmpl when it has none. */
const char *ojw_issuer_fill(const char *tmpl, const char *tid,
                            apr_pool_t *pool);

/* tmpl with its placeholder spelled {tid} (a key for tables), or tmpl
 * itself when it has none. */
const char *ojw_issuer_canonical(const char *tmpl, apr_pool_t *pool);

/* The tenants a template profile accepts. */
typedef struct {
    apr_hash_t *ids;            /* lower-case id -> itself */
    int count;
    const char *file;           /* where they came from, or NULL */
} ojw_tenants_t;

/* Parses a list of tenant ids (len bytes of text, no NUL needed) into
 * *out, from pool: NULL, or what is wrong, with the line number when the
 * text has several lines ("line 3: \"x\" is not a tenant id ..."). An
 * empty list and an id given twice are mistakes. */
const char *ojw_tenants_parse(ojw_tenants_t **out, const char *text,
                              size_t len, apr_pool_t *pool);

/* 1 when tid (a valid tid) is in the list. */
int ojw_tenants_has(const ojw_tenants_t *t, const char *tid);

/* The "tid" claim when it is a valid tid, else NULL. */
const char *ojw_claims_tid(const json_t *claims);

/* The key rule: a key whose JWK has an issuer member (key_issuer, NULL
 * when it has none) verifies only tokens whose iss matches it, with the
 * token's own tid for a placeholder. OJW_OK or OJW_ERR_KEY_ISSUER. */
ojw_reason_t ojw_key_issuer_check(const char *key_issuer,
                                  const json_t *claims, ojw_error_t *err);

#endif
