/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ORDS privileges, "OrdsJwtPrivilege NAME [role=R ...]": a scope name and
 * the roles that grant it too (as ORDS.DEFINE_PRIVILEGE's roles). One
 * structure, one parser and one grant decision, for the module's Require
 * ords-privilege and for ordsjwt-check.
 */
#ifndef OJW_PRIVILEGE_H
#define OJW_PRIVILEGE_H

#include <jansson.h>
#include <apr_pools.h>

typedef struct {
    const char *name;
    const char *const *roles;
    int nroles;
} ojw_privilege_t;

/* Parses the n words of an OrdsJwtPrivilege line (split as httpd splits a
 * directive's arguments): NULL with *out set (from pool), or what is
 * wrong. */
const char *ojw_privilege_parse(ojw_privilege_t **out,
                                const char *const *words, int n,
                                apr_pool_t *pool);

/* The index of the privilege of the n that verified claims grant: by its
 * name as a scope (every name is tried as a scope first), else by one of
 * its roles at pointer (the profile's role_claim_name; NULL: no role
 * grants). -1 when none does; *by_role (may be NULL) says how. */
int ojw_privilege_granted(const ojw_privilege_t *const *pvs, int n,
                          const json_t *claims, const char *pointer,
                          int *by_role);

#endif
