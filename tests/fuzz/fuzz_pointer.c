/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the JSON-pointer role lookup (role_claim_name) and
 * the Require ords-claim match (the pointer also as a claim name).
 *
 * Input: POINTER "\n" JSON. The pointer is checked as the configuration
 * parser does, then resolved against the JSON value (any JSON, with
 * duplicate members refused as for token claims) and used for a role
 * check and a claim-value match.
 */
#include <jansson.h>
#include "fuzz.h"
#include "claims.h"

static const char *const roles[] = { "admin", "hr", "" };
static const char *const values[] = { "admin", "true", "42", "" };

static void fuzz_setup(void)
{
}

static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    const char *pointer;
    json_error_t jerr;
    json_t *doc;
    int valid;

    pointer = fuzz_cstring(pool, data, plen);
    valid = ojw_json_pointer_valid(pointer);
    doc = nl ? json_loadb((const char *)nl + 1, size - plen - 1,
                          JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr)
             : NULL;
    if (doc != NULL) {
        const json_t *v = ojw_json_pointer(doc, pointer);

        if (v != NULL && !valid) {
            abort();    /* an invalid pointer resolved */
        }
        if (*pointer == '\0' && valid && v != doc) {
            abort();    /* "" is the whole document */
        }
        (void)ojw_claims_has_any_role(doc, pointer, roles, 3);
        if (ojw_claims_match(doc, pointer, values, 4) && *pointer == '/'
            && v == NULL) {
            abort();    /* a pointer that does not resolve matched */
        }
        json_decref(doc);
    }
}
