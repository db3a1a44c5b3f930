/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared set-up of the libFuzzer targets (tests/fuzz/README.md), included
 * by the one source file of each target.
 *
 * fuzz.h defines libFuzzer's entry points; a target defines
 *   static void fuzz_setup(void);   once, after APR is up (fixtures)
 *   static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool);
 * Every input gets a fresh APR pool, destroyed afterwards, so that a leak
 * or a use after the pool is gone shows up under ASan/LSan.
 */
#ifndef OJW_FUZZ_H
#define OJW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <cjose/base64.h>
#include <cjose/util.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* apr_initialize() once; the process-wide pool for fixtures. */
static inline apr_pool_t *fuzz_global_pool(void)
{
    static apr_pool_t *global;

    if (global == NULL) {
        if (apr_initialize() != APR_SUCCESS
            || apr_pool_create(&global, NULL) != APR_SUCCESS) {
            fprintf(stderr, "fuzz: cannot initialise APR\n");
            abort();
        }
    }
    return global;
}

/* A NUL-terminated pool copy of the input. */
static inline char *fuzz_cstring(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    return apr_pstrmemdup(pool, (const char *)data, size);
}

/* Reads FUZZ_DATA/name into global pool memory; aborts if it cannot. */
static inline char *fuzz_read_fixture(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", FUZZ_DATA, name);
    f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        abort();
    }
    buf = apr_palloc(fuzz_global_pool(), (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "fuzz: short read of %s\n", path);
        abort();
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void fuzz_setup(void);
static void fuzz_one(const uint8_t *data, size_t size, apr_pool_t *pool);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)fuzz_global_pool();
    fuzz_setup();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;

    if (apr_pool_create(&pool, fuzz_global_pool()) != APR_SUCCESS) {
        abort();
    }
    fuzz_one(data, size, pool);
    apr_pool_destroy(pool);
    return 0;
}

/* base64url of data[0..len) into pool memory ("" for none). */
static inline const char *fuzz_b64url(apr_pool_t *pool, const uint8_t *data,
                                      size_t len)
{
    char *out = NULL, *copy;
    size_t outlen = 0;
    cjose_err cerr;

    if (len == 0 || !cjose_base64url_encode(data, len, &out, &outlen, &cerr)) {
        return "";
    }
    copy = apr_pstrmemdup(pool, out, outlen);
    cjose_get_dealloc()(out);
    return copy;
}

/* The next part of a structured input, up to "\n.\n" (or the end);
 * advances *data and *size. */
static inline const uint8_t *fuzz_next_part(const uint8_t **data,
                                            size_t *size, size_t *len)
{
    const uint8_t *start = *data;
    size_t i;

    for (i = 0; i + 3 <= *size; i++) {
        if (memcmp(start + i, "\n.\n", 3) == 0) {
            *len = i;
            *data += i + 3;
            *size -= i + 3;
            return start;
        }
    }
    *len = *size;
    *data += *size;
    *size = 0;
    return start;
}

#endif
