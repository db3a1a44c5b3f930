/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: OrdsJwtTokenFrom sources and taking a token out of a
 * header value, a query string and a Cookie header (src/source.c).
 *
 * Input: SOURCE "\n" VALUE. SOURCE is parsed as the directive's argument;
 * when it parses, VALUE is searched as that kind of source says. Checks:
 * a token is found exactly when the count is positive, and what is left
 * after taking a query parameter or cookie holds no more of it; VALUE as
 * Authorization, Proxy-Authorization and the source's header through
 * ojw_found_headers (the DPoP token, stray credentials); VALUE as a Basic
 * user name.
 */
#include "fuzz.h"
#include "source.h"

static void fuzz_setup(void)
{
}

static void check_take(const ojw_source_t *s, const char *v,
                       apr_pool_t *pool)
{
    int (*take)(const char *, const char *, const char **, const char **,
                apr_pool_t *) = s->kind == OJW_SOURCE_QUERY
                                ? ojw_query_take : ojw_cookie_take;
    const char *tok, *rest, *tok2, *rest2;
    int n = take(v, s->name, &tok, &rest, pool);

    if ((n > 0) != (tok != NULL) || (rest && *rest == '\0')) {
        abort();
    }
    if (rest && take(rest, s->name, &tok2, &rest2, pool) != 0) {
        abort();    /* what goes on still holds the token */
    }
}

/* The value as Authorization, Proxy-Authorization and the source's own
 * header, for a reverse and a forward proxy request: a token is found
 * exactly when counted, DPoP only with one, strays add only beside one. */
static void check_found(const ojw_source_t *s, const char *v,
                        apr_pool_t *pool)
{
    apr_table_t *t = apr_table_make(pool, 3);
    const char *where;
    ojw_found_t f;
    int forward, n;

    apr_table_add(t, "Authorization", v);
    apr_table_add(t, "Proxy-Authorization", v);
    if (s->kind == OJW_SOURCE_HEADER) {
        apr_table_add(t, s->name, v);
    }
    for (forward = 0; forward < 2; forward++) {
        memset(&f, 0, sizeof(f));
        ojw_found_headers(&f, s, 1, t, forward, pool);
        n = ojw_found_tokens(&f, &where, pool);
        if ((f.count > 0) != (f.token != NULL) || (f.dpop && !f.count)
            || (f.token && (*f.token == '\0' || strchr(f.token, ',')))
            || n != (f.count ? f.count + f.stray : 0)
            || (n > 0) != (where != NULL)) {
            abort();
        }
    }
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t alen = nl ? (size_t)(nl - data) : size;
    const char *arg = fuzz_cstring(pool, data, alen);
    const char *value = nl ? fuzz_cstring(pool, nl + 1, size - alen - 1) : "";
    ojw_source_t s;

    if (ojw_source_parse(&s, arg, pool) != NULL) {
        return;
    }
    (void)ojw_source_text(&s, pool);
    check_found(&s, value, pool);
    if ((ojw_basic_credential(value, "", pool) == OJW_BASIC_USER_TOKEN)
        != ojw_source_looks_like_jose(value, pool)) {
        abort();    /* a Basic user name: a token exactly when it looks so */
    }
    if (s.kind != OJW_SOURCE_HEADER) {
        check_take(&s, value, pool);
    }
}
