/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_ordsjwt_probe: a test-only module for the benchmark (tests/bench),
 * never built or installed with the product. It is the "physical limit" of
 * a bearer-JWT module: per request it takes the bearer token, base64url-
 * decodes the signature and does ONE bare OpenSSL verification over the JWS
 * signing input (a one-shot SHA-256 and the RSA or ECDSA operation), then
 * answers OK or 401. No JSON, no header or claim checks, no key lookup.
 *
 *     <Location /probe-rs256/>
 *         AuthType ordsjwt-probe
 *         OrdsJwtProbeKey /path/to/public-key.pem
 *         Require valid-user
 *     </Location>
 *
 * The key (an RSA key verifies RS256, an EC P-256 key ES256) is read once,
 * at configuration time. Each thread keeps a verification context
 * initialised once per key and copies it for every request.
 *
 * Built by tests/bench/run.py: apxs -c mod_ordsjwt_probe.c -lcrypto
 */
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_base64.h"
#include "apr_strings.h"

#define PROBE_AUTH_TYPE "ordsjwt-probe"
#define PROBE_SIG_MAX   1024          /* bytes of a decoded signature */

module AP_MODULE_DECLARE_DATA ordsjwt_probe_module;

typedef struct {
    EVP_PKEY *key;
    int ec;                           /* ES256: r||s must become DER */
} probe_conf_t;

/* One thread's contexts: a template initialised for one key, a copy made
 * of it for each request. */
typedef struct {
    const EVP_PKEY *key;
    EVP_MD_CTX *tpl;
    EVP_MD_CTX *work;
} probe_thread_t;

static __thread probe_thread_t tls;

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(probe_conf_t));
}

static apr_status_t free_key(void *key)
{
    EVP_PKEY_free(key);
    return APR_SUCCESS;
}

static const char *set_key(cmd_parms *cmd, void *dconf, const char *path)
{
    probe_conf_t *c = dconf;
    const char *file = ap_server_root_relative(cmd->pool, path);
    FILE *f = file ? fopen(file, "r") : NULL;

    if (f == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtProbeKey: cannot open %s", path);
    }
    c->key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (c->key == NULL) {
        return apr_psprintf(cmd->pool, "OrdsJwtProbeKey: no public key in %s",
                            path);
    }
    apr_pool_cleanup_register(cmd->pool, c->key, free_key,
                              apr_pool_cleanup_null);
    c->ec = EVP_PKEY_base_id(c->key) == EVP_PKEY_EC;
    if (!c->ec && EVP_PKEY_base_id(c->key) != EVP_PKEY_RSA) {
        return "OrdsJwtProbeKey: the key is neither RSA nor EC";
    }
    return NULL;
}

/* The per-thread context for key, ready for one verification. */
static EVP_MD_CTX *thread_ctx(EVP_PKEY *key)
{
    if (tls.key != key) {
        if (tls.tpl == NULL) {
            tls.tpl = EVP_MD_CTX_new();
            tls.work = EVP_MD_CTX_new();
            if (tls.tpl == NULL || tls.work == NULL) {
                return NULL;
            }
        }
        tls.key = NULL;
        /* a context once initialised for another key type must be reset */
        EVP_MD_CTX_reset(tls.tpl);
        if (EVP_DigestVerifyInit(tls.tpl, NULL, EVP_sha256(), NULL, key) != 1) {
            return NULL;
        }
        tls.key = key;
    }
    return EVP_MD_CTX_copy_ex(tls.work, tls.tpl) == 1 ? tls.work : NULL;
}

/* base64url (no padding) -> bytes; -1 when it does not fit. */
static int b64url_decode(unsigned char *out, const char *in, size_t len)
{
    char buf[PROBE_SIG_MAX * 4 / 3 + 8];
    size_t i;

    if (len + 4 > sizeof(buf)) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    while (i % 4) {
        buf[i++] = '=';
    }
    buf[i] = '\0';
    return apr_base64_decode_binary(out, buf);
}

/* ES256: raw r||s (64 bytes) -> DER ECDSA-Sig-Value; length or -1. */
static int ec_raw_to_der(unsigned char *out, const unsigned char *raw, int len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r, *s;
    int n = -1;

    if (sig == NULL || len != 64) {
        ECDSA_SIG_free(sig);
        return -1;
    }
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    if (r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        n = i2d_ECDSA_SIG(sig, &out);
    }
    else {
        BN_free(r);
        BN_free(s);
    }
    ECDSA_SIG_free(sig);
    return n;
}

/* 1 when the compact token's signature verifies with c->key. */
static int verifies(const probe_conf_t *c, const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    unsigned char raw[PROBE_SIG_MAX], der[PROBE_SIG_MAX];
    const unsigned char *sig = raw;
    EVP_MD_CTX *ctx;
    int len;

    if (dot2 == NULL
        || (len = b64url_decode(raw, dot2 + 1, strlen(dot2 + 1))) <= 0) {
        return 0;
    }
    if (c->ec) {
        if ((len = ec_raw_to_der(der, raw, len)) <= 0) {
            return 0;
        }
        sig = der;
    }
    ctx = thread_ctx(c->key);
    return ctx != NULL
           && EVP_DigestVerify(ctx, sig, (size_t)len,
                               (const unsigned char *)token,
                               (size_t)(dot2 - token)) == 1;
}

static int check_authn(request_rec *r)
{
    const probe_conf_t *c = ap_get_module_config(r->per_dir_config,
                                                 &ordsjwt_probe_module);
    const char *type = ap_auth_type(r);
    const char *h = apr_table_get(r->headers_in, "Authorization");

    if (type == NULL || strcasecmp(type, PROBE_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    if (c->key == NULL) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0
        || !verifies(c, h + 7)) {
        return HTTP_UNAUTHORIZED;
    }
    r->user = "probe";
    return OK;
}

static const command_rec probe_cmds[] = {
    AP_INIT_TAKE1("OrdsJwtProbeKey", set_key, NULL, ACCESS_CONF,
                  "PEM file of the public key (RSA: RS256, EC P-256: ES256)"),
    { NULL }
};

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_check_authn(check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
}

AP_DECLARE_MODULE(ordsjwt_probe) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    NULL,
    NULL,
    NULL,
    probe_cmds,
    register_hooks
#ifdef AP_MODULE_FLAG_NONE
    , AP_MODULE_FLAG_NONE
#endif
};
