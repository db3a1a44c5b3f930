/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the arguments of an OrdsJwtProfile directive
 * (ojw_profile_parse), as httpd hands them over: one NUL-terminated line.
 */
#include "fuzz.h"
#include "profile.h"
#include "claims.h"
#include "tenant.h"

static void fuzz_setup(void)
{
}

static void check_profile(const ojw_profile_t *p)
{
    size_t at, len;
    int placeholders = ojw_issuer_placeholder(p->issuer, &at, &len);

    if (placeholders < 0 || (p->tenants && placeholders != 1)
        || (p->tenants && p->tenants->count <= 0)) {
        abort();    /* two {tid}, or tenants= without a template */
    }
    if (p->name == NULL || *p->name == '\0' || p->issuer == NULL
        || p->audience == NULL
        || !!p->jwk_url + !!p->pem_file + !!p->discovery_url != 1) {
        abort();    /* accepted without one source of keys, or with two */
    }
    if (p->discovery_url && strncmp(p->discovery_url, "https://", 8) != 0) {
        abort();
    }
    if (p->skew_set && p->allowed_skew > OJW_SKEW_MAX) {
        abort();
    }
    if (p->role_claim_name && !ojw_json_pointer_valid(p->role_claim_name)) {
        abort();
    }
    if (p->jwk_url && strncmp(p->jwk_url, "https://", 8) != 0
        && (p->jwk_file == NULL || *p->jwk_file != '/')) {
        abort();    /* neither https nor an absolute file: URL */
    }
    (void)ojw_profile_skew(p, 5);
    (void)ojw_profile_age(p, 60);
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const char *error = NULL;
    ojw_profile_t *p;

    p = ojw_profile_parse(fuzz_cstring(pool, data, size), pool, &error);
    if (p != NULL) {
        check_profile(p);
    }
    else if (error == NULL || *error == '\0') {
        abort();    /* refused without saying why */
    }
}
