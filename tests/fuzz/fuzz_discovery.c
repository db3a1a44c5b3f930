/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the issuer discovery document parser and issuer check
 * (src/discovery.c). Input: the document as served. Whatever it holds, a
 * document that is accepted has a non-empty issuer and an https jwks_uri
 * without blanks or control characters, shorter than the slot's URL cap;
 * the issuer check accepts only an exactly equal issuer.
 */
#include <string.h>
#include "fuzz.h"
#include "discovery.h"
#include "jwks_cache.h"

#define ISSUER "https://issuer.example/"

static void fuzz_setup(void)
{
}

static void check_uri(const char *uri)
{
    const char *c;

    if (strncmp(uri, "https://", 8) != 0 || uri[8] == '\0' || uri[8] == '/'
        || strlen(uri) >= OJW_URL_MAX) {
        abort();
    }
    for (c = uri; *c; c++) {
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            abort();
        }
    }
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    ojw_discovery_t d;
    char err[1024];
    apr_status_t rv;

    err[0] = '\0';
    rv = ojw_discovery_parse(&d, (const char *)data, size, OJW_URL_MAX, pool,
                             err, sizeof(err));
    if (rv == APR_SUCCESS) {
        if (d.issuer == NULL || *d.issuer == '\0') {
            abort();
        }
        check_uri(d.jwks_uri);
    }
    else if (err[0] == '\0') {
        abort();        /* a refusal always says why */
    }
    rv = ojw_discovery_check(&d, (const char *)data, size, ISSUER,
                             OJW_URL_MAX, pool, err, sizeof(err));
    if (rv == APR_SUCCESS && strcmp(d.issuer, ISSUER) != 0) {
        abort();
    }
}
