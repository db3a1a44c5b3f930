/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_auth_ordsjwt: protect httpd locations with OAuth 2.0 bearer JWTs the
 * way Oracle REST Data Services JWT profiles do.
 *
 * This file is the module record: its directives and its hooks, nothing
 * else. What each does is in mod_ordsjwt_*.c, one concern per file (see
 * mod_ordsjwt.h); the logic is in src/ and knows nothing of httpd.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"

#include "mod_ordsjwt.h"

#define NUMBER_CMD(id, name, flags, min, max, def, help) \
    AP_INIT_TAKE1(name, ordsjwt_cmd_number, (void *)&ojw_settings[id], \
                  RSRC_CONF, help),

static const command_rec ordsjwt_cmds[] = {
    AP_INIT_RAW_ARGS("OrdsJwtProfile", ordsjwt_cmd_profile, NULL, RSRC_CONF,
        "NAME issuer=... audience=... jwk_url=https://...|file:///... "
        "(or pem_file=/... [pem_kid=...], or discovery_url=https://...) "
        "[allowed_skew=N] [allowed_age=N] "
        "[role_claim_name=/pointer] [description=...] [token_type=at+jwt] "
        "[dpop=off|allowed|required] [dpop_nonce=on|off] "
        "[mtls=allowed|required]"),
    OJW_NUMBER_SETTINGS(NUMBER_CMD)
    AP_INIT_TAKE1("OrdsJwtCACertificateFile", ordsjwt_cmd_ca_file, NULL,
        RSRC_CONF, "CA bundle that verifies JWK URL servers (default: "
        "system store)"),
    AP_INIT_ITERATE("AuthOrdsJwtProfile", ordsjwt_cmd_auth_profile, NULL,
        OR_AUTHCFG, "one or more OrdsJwtProfile names; the token's iss "
        "picks one"),
    AP_INIT_TAKE1("OrdsJwtPassClaims", ordsjwt_cmd_pass_claims, NULL,
        OR_AUTHCFG, "none|env|headers|both: where verified claims go "
        "(default env)"),
    AP_INIT_FLAG("OrdsJwtForwardToken", ap_set_flag_slot,
        (void *)APR_OFFSETOF(ordsjwt_dir_conf_t, forward_token), OR_AUTHCFG,
        "Off removes the Authorization header from what the backend gets "
        "(default On)"),
    AP_INIT_ITERATE("OrdsJwtTokenFrom", ordsjwt_cmd_token_from, NULL,
        OR_AUTHCFG, "where AuthType ords-jwt finds the token: one or more of "
        "header=NAME[:SCHEME], query=NAME, cookie=NAME (default "
        "header=Authorization:Bearer)"),
    AP_INIT_FLAG("OrdsJwtAnonymous", ap_set_flag_slot,
        (void *)APR_OFFSETOF(ordsjwt_dir_conf_t, anonymous), OR_AUTHCFG,
        "On lets a request without a token go on with no user, so that "
        "Require decides; a bad token is still refused (default Off)"),
    AP_INIT_TAKE1("OrdsJwtDpopBaseUrl", ordsjwt_cmd_dpop_base_url, NULL,
        RSRC_CONF, "the external https://host[:port] clients address (and "
        "sign in DPoP proofs) when a balancer terminates TLS"),
    AP_INIT_FLAG("OrdsJwtDpopNonce", ap_set_flag_slot,
        (void *)APR_OFFSETOF(ordsjwt_dir_conf_t, dpop_nonce), OR_AUTHCFG,
        "On: a DPoP proof must carry a nonce this server issued, else 401 "
        "use_dpop_nonce with a fresh one in DPoP-Nonce; a profile's "
        "dpop_nonce= wins (default Off)"),
    AP_INIT_TAKE1("OrdsJwtDpopNonceKeyFile", ordsjwt_cmd_dpop_nonce_key_file,
        NULL, RSRC_CONF, "FILE of 32 to 1024 random bytes (openssl rand "
        "-out FILE 32): the DPoP nonce key of every httpd of a fleet "
        "(default: a random key made at startup, kept by restarts)"),
    AP_INIT_TAKE1("OrdsJwtReplayCache", ordsjwt_cmd_replay_cache, NULL,
        RSRC_CONF, "PROVIDER[:ARGS]: the socache provider that remembers "
        "DPoP proofs (default shmcb; redis:host:port for a fleet)"),
    AP_INIT_RAW_ARGS("OrdsJwtPrivilege", ordsjwt_cmd_privilege, NULL,
        RSRC_CONF, "NAME [role=R ...]: a privilege granted by the scope NAME "
        "or by any of the roles"),
    { NULL }
};

static void register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(ordsjwt_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(ordsjwt_scrub_lookalikes, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_post_config(ordsjwt_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_test_config(ordsjwt_test_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    /* after the configuration's warnings */
    ap_hook_test_config(ordsjwt_test_shared, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_init(ordsjwt_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_authn(ordsjwt_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_translate_name(ordsjwt_take_sources, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_force_authn(ordsjwt_force_authn, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(ordsjwt_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(ordsjwt_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_insert_filter(ordsjwt_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_log_config's (MIDDLE): the notes are set by then */
    ap_hook_log_transaction(ordsjwt_log_transaction, NULL, NULL,
                            APR_HOOK_REALLY_FIRST);
    ap_hook_handler(ordsjwt_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ordsjwt_authz_register(p);
    ordsjwt_authn_register(p);
    ordsjwt_bound_register(p);
}

module AP_MODULE_DECLARE_DATA auth_ordsjwt_module = {
    STANDARD20_MODULE_STUFF,
    ordsjwt_create_dir_conf,
    ordsjwt_merge_dir_conf,
    ordsjwt_create_srv_conf,
    ordsjwt_merge_srv_conf,
    ordsjwt_cmds,
    register_hooks
#ifdef AP_MODULE_FLAG_NONE
    , AP_MODULE_FLAG_NONE
#endif
};
