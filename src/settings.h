/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The numeric directives of mod_auth_ordsjwt: names, scope, bounds,
 * defaults and help, in one table read by the module (its command table
 * and handlers), by ordsjwt-check (its configuration reader) and by the
 * unit tests. Add a number directive here, nowhere else.
 */
#ifndef OJW_SETTINGS_H
#define OJW_SETTINGS_H

#include <apr_pools.h>
#include "ojw.h"
#include "dpop_nonce.h"

#define OJW_SKEW_MAX    60
#define OJW_DAY         86400L
#define OJW_GLOBAL      1
#define OJW_OFF         2
#define OJW_AUTO        4

/*
 * X(id, directive, flags, min, max, default, help)
 * OJW_GLOBAL: the main server only (one JWKS cache, one token cache per
 * process); else per server, a virtual host inheriting the main server's
 * value. OJW_OFF: "off" is read as 0. OJW_AUTO: "auto" is read as 0, the
 * default, which the module works out (any other value is in min..max).
 */
#define OJW_NUMBER_SETTINGS(X)                                              \
    X(OJW_SET_SKEW, "OrdsJwtAllowedSkew", 0, -OJW_DAY, OJW_SKEW_MAX, 0,     \
      "default allowed clock skew in seconds (0 or less: none; at most 60)") \
    X(OJW_SET_AGE, "OrdsJwtAllowedAge", 0, -OJW_DAY * 3650, OJW_DAY * 3650, \
      0, "default maximum token age in seconds since iat (0 or less: not "  \
      "checked)")                                                            \
    X(OJW_SET_REFRESH, "OrdsJwtJwksRefreshInterval", OJW_GLOBAL, 1, OJW_DAY * 7,     \
      3600, "seconds fetched keys are used before a refetch (default 3600)") \
    X(OJW_SET_MIN_REFRESH, "OrdsJwtJwksMinRefreshInterval", OJW_GLOBAL, 1,           \
      OJW_DAY * 30, 10, "fewest seconds between two fetches of one JWK "    \
      "URL, and between two refetches forced by an unknown kid, across all " \
      "processes (default 10)")                                             \
    X(OJW_SET_MAX_STALE, "OrdsJwtJwksMaxStale", OJW_GLOBAL, 0, OJW_DAY * 30,         \
      OJW_DAY, "seconds the last good keys are still used after a refresh " \
      "was due and failed (default 86400)")                                 \
    X(OJW_SET_FETCH_TIMEOUT, "OrdsJwtJwksFetchTimeout", OJW_GLOBAL, 1, 60, 5,        \
      "seconds a JWKS fetch may take (default 5, at most 60)")              \
    X(OJW_SET_TOKEN_MAX, "OrdsJwtMaxTokenSize", 0, 1024, 1024 * 1024,       \
      OJW_TOKEN_MAX_DEFAULT, "largest accepted token in bytes (default "    \
      "16384)")                                                             \
    X(OJW_SET_TOKEN_CACHE, "OrdsJwtTokenCache", OJW_GLOBAL | OJW_OFF, 0, 1000000, 1000,        \
      "verified tokens kept per child process, N or off (default 1000)") \
    X(OJW_SET_JWKS_MEMORY, "OrdsJwtJwksCacheSize", OJW_GLOBAL | OJW_AUTO,  \
      256, 16L * 1024 * 1024, 0, "KiB of shared memory for the JWKS "       \
      "documents of all JWK URLs together, or auto (default: 512 KiB and "   \
      "16 KiB per JWK URL)")                                                \
    X(OJW_SET_MAX_WAITERS, "OrdsJwtJwksMaxWaiters", OJW_GLOBAL | OJW_AUTO, \
      1, 1024, 0, "requests of the whole server that may wait for JWKS "    \
      "fetches in flight, or auto (default: a quarter of "                  \
      "MaxRequestWorkers, at least 1)")                                      \
    X(OJW_SET_DPOP_WINDOW, "OrdsJwtDpopProofWindow", 0, 1, 3600, 60,      \
      "seconds after its iat a DPoP proof is accepted, plus the skew "     \
      "(default 60)")                                                       \
    X(OJW_SET_REPLAY_TIMEOUT, "OrdsJwtReplayTimeout", OJW_GLOBAL, 50,      \
      60000, 1000, "milliseconds a DPoP request waits for the replay "     \
      "store, its lock and its I/O together, then 503 (default 1000)")    \
    X(OJW_SET_DPOP_NONCE_LIFETIME, "OrdsJwtDpopNonceLifetime", 0, 5, 3600, \
      OJW_NONCE_LIFETIME_DEFAULT, "seconds a DPoP-Nonce this server "      \
      "issues is good (default 300; renewed after half of it)")

#define OJW_SETTING_ID(id, name, flags, min, max, def, help) id,
typedef enum {
    OJW_NUMBER_SETTINGS(OJW_SETTING_ID)
    OJW_SET_COUNT
} ojw_setting_id_t;
#undef OJW_SETTING_ID

/* One row of the table. */
typedef struct {
    ojw_setting_id_t id;
    const char *directive;
    int global_only;            /* OJW_GLOBAL */
    int off;                    /* OJW_OFF: "off" means 0 */
    int autov;                  /* OJW_AUTO: "auto" means 0, the default */
    long min;
    long max;
    long def;
    const char *help;
} ojw_setting_t;

/* The table, indexed by ojw_setting_id_t. */
extern const ojw_setting_t ojw_settings[OJW_SET_COUNT];

/* The values of one server; a value not set is its default. */
typedef struct {
    long value[OJW_SET_COUNT];
    unsigned int set;             /* bit (1 << id) when written */
} ojw_settings_t;

/* Every value at its default, none set. */
void ojw_settings_init(ojw_settings_t *s);

/* A virtual host's values: its own where set, else the base's. */
void ojw_settings_merge(ojw_settings_t *out, const ojw_settings_t *base,
                        const ojw_settings_t *add);

/* The row of a directive name (case-insensitive, as httpd), or NULL. */
const ojw_setting_t *ojw_setting_find(const char *directive);

/* Parses arg for row st into s (marks it set; "off" or "auto" is 0 where
 * the row allows it); on error returns the message ("Directive: \"arg\" is
 * not a number from MIN to MAX"). */
const char *ojw_setting_parse(ojw_settings_t *s, const ojw_setting_t *st,
                              const char *arg, apr_pool_t *pool);

/* The value of id in s. */
long ojw_setting(const ojw_settings_t *s, ojw_setting_id_t id);

#endif
