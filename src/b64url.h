/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64url guard: Debian's libcjose 0.6.2.1 asserts (aborting the process)
 * on some malformed base64, so nothing reaches cjose's decoder before
 * ojw_b64url_valid() accepted it.
 */
#ifndef OJW_B64URL_H
#define OJW_B64URL_H

#include <stddef.h>
#include <apr_pools.h>

/* 1 when s[0..len) is canonical unpadded base64url: alphabet A-Z a-z 0-9 - _,
 * no '=', len % 4 != 1, and the unused trailing bits are zero. */
int ojw_b64url_valid(const char *s, size_t len);

/* Validates, then decodes with cjose into pool memory (NUL-terminated for
 * convenience, *outlen excludes it). Returns 0 on success, -1 if invalid. */
int ojw_b64url_decode(apr_pool_t *pool, const char *s, size_t len,
                      unsigned char **out, size_t *outlen);

/* base64url without padding of len bytes, in pool; NULL on failure. */
char *ojw_b64url_encode(apr_pool_t *pool, const unsigned char *in,
                        size_t len);

/* base64url(SHA-256(in)): 43 characters, in pool; NULL on failure. */
char *ojw_b64url_sha256(apr_pool_t *pool, const void *in, size_t len);

#endif
