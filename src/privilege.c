/* SPDX-License-Identifier: Apache-2.0 */
/* ORDS privileges: the definition, its parser, the grant (privilege.h). */
#include <string.h>
#include <apr_strings.h>
#include "privilege.h"
#include "claims.h"

const char *ojw_privilege_parse(ojw_privilege_t **out,
                                const char *const *words, int n,
                                apr_pool_t *pool)
{
    ojw_privilege_t *pv = apr_pcalloc(pool, sizeof(*pv));
    const char **roles;
    int i;

    *out = NULL;
    if (n < 1 || *words[0] == '\0') {
        return "OrdsJwtPrivilege needs a NAME, then role=R pairs";
    }
    pv->name = apr_pstrdup(pool, words[0]);
    roles = apr_pcalloc(pool, sizeof(*roles) * (apr_size_t)n);
    for (i = 1; i < n; i++) {
        if (strncmp(words[i], "role=", 5) != 0 || words[i][5] == '\0') {
            return apr_psprintf(pool, "OrdsJwtPrivilege %s: \"%s\" is not "
                                "role=NAME", pv->name, words[i]);
        }
        roles[i - 1] = apr_pstrdup(pool, words[i] + 5);
    }
    pv->roles = roles;
    pv->nroles = n - 1;
    *out = pv;
    return NULL;
}

int ojw_privilege_granted(const ojw_privilege_t *const *pvs, int n,
                          const json_t *claims, const char *pointer,
                          int *by_role)
{
    int i;

    for (i = 0; i < n; i++) {
        if (ojw_claims_has_any_scope(claims, &pvs[i]->name, 1)) {
            if (by_role) {
                *by_role = 0;
            }
            return i;
        }
    }
    for (i = 0; pointer && i < n; i++) {
        if (pvs[i]->nroles > 0
            && ojw_claims_has_any_role(claims, pointer, pvs[i]->roles,
                                       pvs[i]->nroles)) {
            if (by_role) {
                *by_role = 1;
            }
            return i;
        }
    }
    return -1;
}
