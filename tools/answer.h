/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answer httpd gives to one request, for ordsjwt-check --location:
 * httpd's request flow (mod_authz_core's pass before authentication, the
 * authentication, its pass with the user, AuthzSendForbiddenOnFailure,
 * OrdsJwtAnonymous) over the merged sections of the path (location.h),
 * with the token's verdict from the module's pipeline and every Require
 * ords-* line decided by the module's own code (src/authz.c).
 *
 * Lines of other providers are decided where the request alone decides
 * them (all, valid-user, user, method); the others (ip, host, env, expr,
 * group, ldap-*, ...) are not evaluated: each way they could go is
 * tried, and the answer is known only when it is the same every way.
 */
#ifndef OJW_TOOL_ANSWER_H
#define OJW_TOOL_ANSWER_H

#include "location.h"
#include "pipeline.h"

/* What the request carries, besides the path. */
typedef struct {
    const ojw_location_t *loc;
    ojw_methods_t method;
    int tokens;                 /* in the location's sources (DPoP too) */
    int basic;                  /* sent as Basic credentials */
    const ojw_check_t *check;   /* the pipeline's run, when tokens == 1 */
} ojw_request_t;

/* httpd's answer. */
typedef struct {
    int status;                 /* 200, 400, 401, 403, 500, 503 */
    const char *outcome;        /* the module's %{ordsjwt-outcome}n, "-"
                                 * when it did not judge the request */
    const char *why;            /* in words */
    const char *scopes;         /* a 403's scope="...", or NULL */
} ojw_answer_t;

/* A Require line's part in the answer, for the output. */
typedef struct {
    const ojw_authz_node_t *node;
    const char *decision;       /* "granted", "denied", "not evaluated"... */
    const char *detail;         /* why, or NULL */
    const char *hint;           /* a denial's hint, or NULL */
    int unknown;                /* another module decides: not evaluated */
} ojw_line_t;

/* The answer to req: 1 when it is known (*out set), 0 when it depends on
 * lines that are not evaluated (*out is one possible answer, *why says
 * which way those lines would have to go for each). lines: every line of
 * the tree (ojw_line_t), with its decision. */
int ojw_answer(const ojw_request_t *req, ojw_answer_t *out,
               apr_array_header_t *lines, const char **why,
               apr_pool_t *pool);

#endif
