/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: where the token comes from (OrdsJwtTokenFrom) and
 * anonymous access (OrdsJwtAnonymous), for AuthType ords-jwt. The string
 * logic is in src/source.c.
 *
 * A query parameter or cookie source is taken out of the request in the
 * translate_name hook, first of all modules: httpd has walked the
 * <Location> sections by then (so this section's sources are known), and
 * mod_rewrite's and mod_proxy's translate hooks run after it. r->args,
 * r->parsed_uri.query, r->unparsed_uri and r->the_request, the request
 * line, lose the parameter (the access log's %r and %U%q, QUERY_STRING,
 * and REQUEST_URI, which httpd builds from the request line, for CGI,
 * FastCGI, SSI and ErrorDocument targets; the proxied URL). Sources set
 * in a <Directory> or <Files> section are known only later: they are
 * taken out at authentication, after mod_rewrite's server-level rules.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"

#include <apr_strings.h>

#include "mod_ordsjwt.h"
#include "source.h"

APLOG_USE_MODULE(auth_ordsjwt);

/* What the request carries: counted once for the removable sources. */
struct ordsjwt_taken {
    int removable_done;
    const apr_array_header_t *done_for; /* the sources taken out */
    ojw_found_t found;
};

static int ords_jwt_section(request_rec *r)
{
    const char *type = ap_auth_type(r);

    return type && strcasecmp(type, ORDSJWT_AUTH_TYPE) == 0;
}

/* The sources of r's section, n of them. */
static const ojw_source_t *sources_of(request_rec *r, int *n)
{
    return ojw_sources_of(ordsjwt_dir_conf(r)->sources, n);
}

/* The request line with r's target (unparsed_uri): what REQUEST_URI,
 * THE_REQUEST and the access log's %r are made of. */
static void set_request_line(request_rec *r)
{
    const char *line = r->the_request
                       ? ojw_request_line_retarget(r->the_request,
                                                   r->unparsed_uri, r->pool)
                       : NULL;

    r->the_request = (char *)(line ? line
                              : apr_pstrcat(r->pool, r->method, " ",
                                            r->unparsed_uri, " ",
                                            r->protocol, NULL));
}

/* r's query string is now rest (NULL: none), everywhere httpd keeps it:
 * r->args, the parsed and the unparsed URI, the request line. */
static void set_query(request_rec *r, const char *rest)
{
    const char *u = r->unparsed_uri;
    const char *q = u ? strchr(u, '?') : NULL;
    const char *frag = q ? strchr(q, '#') : NULL;

    r->args = (char *)rest;
    r->parsed_uri.query = (char *)rest;
    if (q) {
        r->unparsed_uri = apr_pstrcat(r->pool,
                                      apr_pstrmemdup(r->pool, u,
                                                     (apr_size_t)(q - u)),
                                      rest ? "?" : "", rest ? rest : "",
                                      frag ? frag : "", NULL);
        set_request_line(r);
    }
}

static void set_cookie(request_rec *r, const char *rest)
{
    if (rest) {
        apr_table_setn(r->headers_in, "Cookie", rest);
    }
    else {
        apr_table_unset(r->headers_in, "Cookie");
    }
}

static struct ordsjwt_taken *taken_of(request_rec *r)
{
    ordsjwt_req_t *rq = ordsjwt_req(r);

    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        ap_set_module_config(r->request_config, &auth_ordsjwt_module, rq);
    }
    if (rq->taken == NULL) {
        rq->taken = apr_pcalloc(r->pool, sizeof(*rq->taken));
    }
    return rq->taken;
}

/* Takes the query parameter and cookie sources out of r, once. */
static struct ordsjwt_taken *take_removable(request_rec *r)
{
    struct ordsjwt_taken *tk = taken_of(r);
    const apr_array_header_t *now = ordsjwt_dir_conf(r)->sources;
    const char *cookie = apr_table_get(r->headers_in, "Cookie"), *rest;
    const ojw_source_t *s;
    int n;

    /* again when the section that authenticates (walked after
     * translate_name: <Directory>, <Files>) lists other sources than
     * the <Location> seen before it */
    if (tk->removable_done && tk->done_for == now) {
        return tk;
    }
    tk->removable_done = 1;
    tk->done_for = now;
    s = sources_of(r, &n);
    rest = ojw_found_take(&tk->found, s, n, OJW_SOURCE_QUERY, r->args,
                          r->pool);
    if (rest != r->args) {
        set_query(r, rest);
    }
    rest = ojw_found_take(&tk->found, s, n, OJW_SOURCE_COOKIE, cookie,
                          r->pool);
    if (rest != cookie) {
        set_cookie(r, rest);
    }
    return tk;
}

int ordsjwt_take_sources(request_rec *r)
{
    if (ords_jwt_section(r)) {
        take_removable(r);
    }
    return DECLINED;
}

int ordsjwt_find_token(request_rec *r, const char **compact,
                       const char **where, int *dpop)
{
    ojw_found_t f = take_removable(r)->found;
    const ojw_source_t *s;
    int n;

    s = sources_of(r, &n);
    ojw_found_headers(&f, s, n, r->headers_in, PROXYREQ_PROXY == r->proxyreq,
                      r->pool);
    *compact = f.token;
    *dpop = f.dpop;
    return ojw_found_tokens(&f, where, r->pool);
}

/* OrdsJwtAnonymous On: httpd asks this hook only when Require let the
 * request in without a user. A request that carries a token is
 * authenticated all the same (a bad token is refused, a good one gives
 * the user and claims, two tokens are a bad request); one without goes
 * on with no user. Off: httpd's own rule, as before (authentication when
 * Require needs a user). */
int ordsjwt_force_authn(request_rec *r)
{
    const char *compact, *where;
    int dpop;

    if (!ords_jwt_section(r) || ordsjwt_dir_conf(r)->anonymous != 1) {
        return DECLINED;
    }
    if (ordsjwt_find_token(r, &compact, &where, &dpop) > 0) {
        return OK;
    }
    ordsjwt_req(r)->outcome = "anonymous";
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "ORDSJWT00081: no token, "
                  "anonymous access (OrdsJwtAnonymous on): Require decides "
                  "without a user");
    return DECLINED;
}

void ordsjwt_unforward_sources(request_rec *r)
{
    const ojw_source_t *s;
    int i, n;

    for (s = sources_of(r, &n), i = 0; i < n; i++) {
        if (s[i].kind == OJW_SOURCE_HEADER) {
            apr_table_unset(r->headers_in,
                            ojw_source_header_name(&s[i], PROXYREQ_PROXY
                                                          == r->proxyreq));
        }
    }
}

/* ------------------------------------------------------------------ */
/* directives                                                          */

const char *ordsjwt_cmd_token_from(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    ordsjwt_dir_conf_t *dc = dconf;
    ojw_source_t src, *prev;
    const char *err = ojw_source_parse(&src, arg, cmd->pool);
    int i;

    if (err) {
        return apr_pstrcat(cmd->pool, "OrdsJwtTokenFrom: ", err, NULL);
    }
    if (dc->sources == NULL) {
        dc->sources = apr_array_make(cmd->pool, 2, sizeof(ojw_source_t));
    }
    for (i = 0; i < dc->sources->nelts; i++) {
        prev = &APR_ARRAY_IDX(dc->sources, i, ojw_source_t);
        if (prev->kind == src.kind
            && (src.kind == OJW_SOURCE_HEADER ? strcasecmp : strcmp)
               (ojw_source_text(prev, cmd->temp_pool),
                ojw_source_text(&src, cmd->temp_pool)) == 0) {
            return apr_psprintf(cmd->pool, "OrdsJwtTokenFrom: %s is listed "
                                "twice", arg);
        }
    }
    APR_ARRAY_PUSH(dc->sources, ojw_source_t) = src;
    return NULL;
}
