/* SPDX-License-Identifier: Apache-2.0 */
/* Sender-constrained tokens (src/binding.c): cnf, the policy of dpop=,
 * mtls= and the scheme, the client certificate, and the binding step in
 * its one order, with the request's evidence. */
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "binding.h"
#include "b64url.h"
#include "dpop.h"

#define NOW     1700000000LL
#define URL     "https://api.example.com/ords/hr/emp"
#define TOKEN   "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
#define PROFILE "p issuer=https://issuer/ audience=api jwk_url=https://x/"

/* A self-signed P-256 certificate (openssl req -x509), and its x5t#S256
 * as the openssl command line computes it: openssl x509 -outform DER |
 * openssl dgst -sha256 -binary | base64url. */
static const char cert_a[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBfTCCASOgAwIBAgIUEK4b03w2KE2PC1dtyU+DRvukDswwCgYIKoZIzj0EAwIw\n"
    "EzERMA8GA1UEAwwIY2xpZW50LWEwIBcNMjYxMjA1MTIwNDE2WhgPMjEyNjExMTEx\n"
    "MjA0MTZaMBMxETAPBgNVBAMMCGNsaWVudC1hMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
    "AQcDQgAEIEyYoG6hCSUM0Dj2aXF1QMaw9cx1F3rKQLLg4cOTvkkIXfVah73WIy5J\n"
    "RsXWrl+EDPD7aUBhhn4zleKw2pGwd6NTMFEwHQYDVR0OBBYEFGDGMr31VWjvULRs\n"
    "VHKxIuTHhUzEMB8GA1UdIwQYMBaAFGDGMr31VWjvULRsVHKxIuTHhUzEMA8GA1Ud\n"
    "EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAM3w8Jz05TjMvD641s7tg1+P\n"
    "2lywlIvFWnJhZzBErwfHAiAyTFvWClN/wmZLNTlBuGqLN5bALbkaAUMEiN1vwc2o\n"
    "6w==\n"
    "-----END CERTIFICATE-----\n";
#define CERT_A_X5T "uGOr6dpmoNjcKux8sIOP6Znj5BzB7ELv6SsXpQYRnfs"

static apr_status_t decref(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

static json_t *json(const char *doc)
{
    json_t *j = json_loads(doc, 0, NULL);

    ck_assert_msg(j != NULL, "%s", doc);
    apr_pool_cleanup_register(test_pool, j, decref, apr_pool_cleanup_null);
    return j;
}

START_TEST(cnf_members)
{
    ojw_cnf_t cnf;
    ojw_error_t err;

#define CNF(doc) ojw_cnf_read(&cnf, json(doc), &err)
    ck_assert_int_eq(CNF("{}"), OJW_OK);
    ck_assert_int_eq(cnf.present, 0);
    ck_assert_int_eq(CNF("{\"cnf\":{\"jkt\":\"abc\"}}"), OJW_OK);
    ck_assert_str_eq(cnf.jkt, "abc");
    ck_assert_int_eq(CNF("{\"cnf\":{\"x5t#S256\":\"xyz\"}}"), OJW_OK);
    ck_assert_str_eq(cnf.x5t_s256, "xyz");
    ck_assert_int_eq(CNF("{\"cnf\":{\"jwk\":{}}}"), OJW_ERR_BINDING);
    ck_assert_int_eq(CNF("{\"cnf\":{\"jkt\":7}}"), OJW_ERR_BINDING);
    ck_assert_int_eq(CNF("{\"cnf\":{\"jkt\":\"\"}}"), OJW_ERR_BINDING);
    ck_assert_int_eq(CNF("{\"cnf\":\"jkt\"}"), OJW_ERR_BINDING);
#undef CNF
}
END_TEST

/* dpop= and mtls= of a profile, and how the token was sent. */
START_TEST(policy_of_profile_and_scheme)
{
    ojw_cnf_t none = { NULL, NULL, 0 }, jkt = { "j", NULL, 1 };
    ojw_cnf_t x5t = { NULL, "x", 1 }, both = { "j", "x", 1 };
    ojw_error_t err;

#define POLICY(cnf, dpop, mtls, sent) \
    ojw_binding_policy(&cnf, OJW_BIND_##dpop, OJW_BIND_##mtls, \
                       OJW_SENT_##sent, &err)
    ck_assert_int_eq(POLICY(none, OFF, ALLOWED, BEARER), OJW_OK);
    ck_assert_int_eq(POLICY(none, OFF, ALLOWED, BASIC), OJW_OK);
    ck_assert_int_eq(POLICY(x5t, OFF, ALLOWED, BEARER), OJW_OK);
    ck_assert_int_eq(POLICY(jkt, ALLOWED, ALLOWED, DPOP), OJW_OK);
    ck_assert_int_eq(POLICY(both, REQUIRED, REQUIRED, DPOP), OJW_OK);
    ck_assert_int_eq(POLICY(jkt, OFF, ALLOWED, DPOP), OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "not accepted by this profile") != NULL);
    ck_assert_int_eq(POLICY(none, ALLOWED, ALLOWED, DPOP), OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "not DPoP-bound") != NULL);
    ck_assert_int_eq(POLICY(jkt, ALLOWED, ALLOWED, BEARER), OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "not as Bearer") != NULL);
    ck_assert_int_eq(POLICY(jkt, ALLOWED, ALLOWED, BASIC), OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "a Basic password") != NULL);
    ck_assert_int_eq(POLICY(none, REQUIRED, ALLOWED, BEARER),
                     OJW_ERR_BINDING);
    ck_assert_int_eq(POLICY(jkt, ALLOWED, REQUIRED, DPOP), OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "mtls=required") != NULL);
#undef POLICY
}
END_TEST

START_TEST(certificate_thumbprint)
{
    ck_assert_str_eq(ojw_cert_thumbprint_pem(cert_a, strlen(cert_a),
                                             test_pool), CERT_A_X5T);
    ck_assert_ptr_null(ojw_cert_thumbprint_pem("", 0, test_pool));
    ck_assert_ptr_null(ojw_cert_thumbprint_pem(cert_a, 40, test_pool));
    ck_assert_ptr_null(ojw_cert_thumbprint_pem("-----BEGIN CERTIFICATE-----"
                                               "\nAAAA\n-----END CERTIFICATE"
                                               "-----\n", 61, test_pool));
}
END_TEST

START_TEST(every_binding_refusal_has_a_hint)
{
    static const ojw_reason_t reasons[] = {
        OJW_ERR_TOKEN_TYPE, OJW_ERR_DPOP_MISSING, OJW_ERR_DPOP_PROOF,
        OJW_ERR_DPOP_REPLAY, OJW_ERR_DPOP_NONCE, OJW_ERR_CERT_MISSING,
        OJW_ERR_CERT_MISMATCH,
    };
    size_t i;

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        ck_assert_ptr_nonnull(ojw_hint_for_binding(reasons[i]));
    }
    ck_assert_ptr_null(ojw_hint_for_binding(OJW_ERR_EXPIRED));
}
END_TEST

/* ------------------------------------------------------------------ */
/* the step                                                            */

/* The connection and the replay store the evidence points at. */
typedef struct {
    const char *pem;            /* the client certificate, or NULL */
    int certs_asked, remembered;
    apr_status_t store_says;
    long long expires;
} conn_t;

static const char *client_cert(void *baton)
{
    conn_t *k = baton;

    k->certs_asked++;
    return k->pem;
}

static apr_status_t remember(void *baton, const unsigned char *key,
                             long long expires, int *retry_after)
{
    conn_t *k = baton;

    (void)key;
    k->remembered++;
    k->expires = expires;
    *retry_after = 7;
    return k->store_says;
}

/* A request to URL with the token TOKEN; sent as DPoP with proof when
 * proof is not NULL. */
static ojw_evidence_t evidence(conn_t *k, const char *proof)
{
    ojw_evidence_t ev;

    memset(&ev, 0, sizeof(ev));
    ev.dpop = proof != NULL;
    ev.access_token = TOKEN;
    ev.proof = proof;
    ev.method = "GET";
    ev.url = URL "?page=1";
    ev.window = 60;
    ev.client_cert = client_cert;
    ev.remember = remember;
    ev.baton = k;
    return ev;
}

/* The binding of claims for a profile with the options opts. */
static ojw_reason_t bound(ojw_bound_t *out, const char *opts,
                         const char *claims, const ojw_evidence_t *ev,
                         ojw_error_t *err)
{
    const char *why = NULL;
    ojw_bound_token_t tok;

    tok.profile = ojw_profile_parse(apr_pstrcat(test_pool, PROFILE " ", opts,
                                                NULL), test_pool, &why);
    ck_assert_msg(tok.profile != NULL, "%s", why);
    tok.claims = json(claims);
    tok.basic = 0;
    tok.skew = 5;
    tok.now = NOW;
    memset(err, 0, sizeof(*err));
    return ojw_binding_check(out, &tok, ev, test_pool, err);
}

/* An honest proof for the request of evidence() by key, with jti and
 * the nonce member (JSON text, or NULL). */
static const char *proof(cjose_jwk_t *key, const char *jti,
                         const char *nonce)
{
    const char *h = apr_psprintf(test_pool, "{\"alg\":\"ES256\",\"typ\":"
                                 "\"dpop+jwt\",\"jwk\":%s}",
                                 test_pub_jwk(test_pool, key));
    const char *c = apr_psprintf(test_pool, "{\"htm\":\"GET\",\"htu\":\"%s\","
                                 "\"iat\":%ld,\"ath\":\"%s\",\"jti\":\"%s\""
                                 "%s%s}", URL, (long)NOW,
                                 ojw_b64url_sha256(test_pool, TOKEN,
                                                   strlen(TOKEN)), jti,
                                 nonce ? ",\"nonce\":" : "",
                                 nonce ? nonce : "");

    return test_sign(test_pool, key, h, c);
}

/* A token bound to key (cnf.jkt) and, with x5t, to a certificate. */
static const char *bound_to(cjose_jwk_t *key, const char *x5t)
{
    return apr_psprintf(test_pool, "{\"cnf\":{\"jkt\":\"%s\"%s%s%s}}",
                        test_jkt(test_pool, key), x5t ? ",\"x5t#S256\":\""
                        : "", x5t ? x5t : "", x5t ? "\"" : "");
}

START_TEST(unbound_bearer_asks_nothing)
{
    conn_t k = { cert_a, 0, 0, APR_SUCCESS, 0 };
    ojw_evidence_t ev = evidence(&k, NULL);
    ojw_bound_t out;
    ojw_error_t err;

    ck_assert_int_eq(bound(&out, "", "{\"sub\":\"a\"}", &ev, &err), OJW_OK);
    ck_assert_int_eq(k.certs_asked + k.remembered, 0);
    ck_assert(!out.proof_checked);
}
END_TEST

/* cnf first, then the policy, then the certificate, then the proof:
 * each refusal is the first, and nothing after it is asked. */
START_TEST(one_order)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    conn_t k = { NULL, 0, 0, APR_SUCCESS, 0 };
    ojw_evidence_t ev = evidence(&k, "not.a.proof");
    const char *both = bound_to(ec, CERT_A_X5T);
    ojw_bound_t out;
    ojw_error_t err;

    /* a cnf that cannot be read, whatever else is wrong */
    ck_assert_int_eq(bound(&out, "", "{\"cnf\":[]}", &ev, &err),
                     OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "cnf is not an object") != NULL);
    /* the policy: DPoP is off in this profile */
    ck_assert_int_eq(bound(&out, "", both, &ev, &err), OJW_ERR_BINDING);
    ck_assert_int_eq(k.certs_asked, 0);
    /* the certificate before the (bad) proof */
    ck_assert_int_eq(bound(&out, "dpop=allowed", both, &ev, &err),
                     OJW_ERR_CERT_MISSING);
    ck_assert_int_eq(k.certs_asked, 1);
    k.pem = "no certificate";
    ck_assert_int_eq(bound(&out, "dpop=allowed", both, &ev, &err),
                     OJW_ERR_CERT_MISSING);
    k.pem = cert_a;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, "AAAA"), &ev,
                          &err), OJW_ERR_CERT_MISMATCH);
    ck_assert(strstr(err.detail, CERT_A_X5T) != NULL);
    /* then the proof */
    ck_assert_int_eq(bound(&out, "dpop=allowed", both, &ev, &err),
                     OJW_ERR_DPOP_PROOF);
    ck_assert_int_eq(k.remembered, 0);
    ev.proof = proof(ec, "j1", NULL);
    ck_assert_int_eq(bound(&out, "dpop=allowed mtls=required", both, &ev,
                          &err), OJW_OK);
    ck_assert_int_eq(k.remembered, 1);
    ck_assert_int_eq(k.expires, NOW + 60 + 5 + 1);
    ck_assert(out.proof_checked);
}
END_TEST

START_TEST(the_proof_header)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    conn_t k = { NULL, 0, 0, APR_SUCCESS, 0 };
    const char *good = proof(ec, "j2", NULL);
    ojw_evidence_t ev = evidence(&k, good);
    ojw_bound_t out;
    ojw_error_t err;

    ev.proof = NULL;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_MISSING);
    ev.proof = apr_pstrcat(test_pool, good, ", ", good, NULL);
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_MISSING);
    ck_assert(strstr(err.detail, "more than one") != NULL);
    ev.proof = "";
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_MISSING);
    /* accepted for the request this one serves: not checked again */
    ev.proof_checked = 1;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_OK);
    ck_assert(!out.proof_checked);
    ck_assert_int_eq(k.remembered, 0);
    /* no URL to compare htu with */
    ev.proof_checked = 0;
    ev.proof = good;
    ev.url = NULL;
    ev.url_why = "this server has no name (ServerName)";
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_PROOF);
    ck_assert_str_eq(err.detail, "proof: this server has no name "
                     "(ServerName)");
    ev.url_why = NULL;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_PROOF);
}
END_TEST

START_TEST(the_replay_store)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    conn_t k = { NULL, 0, 0, APR_EEXIST, 0 };
    ojw_evidence_t ev = evidence(&k, proof(ec, "j3", NULL));
    ojw_bound_t out;
    ojw_error_t err;

    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_REPLAY);
    ck_assert(!out.proof_checked);
    k.store_says = APR_TIMEUP;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_REPLAY_UNAVAILABLE);
    ck_assert_int_eq(out.retry_after, 7);
    /* no store (ordsjwt-check): taken as fresh */
    ev.remember = NULL;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_OK);
    ck_assert(out.proof_checked);
    ck_assert_int_eq(k.remembered, 2);
}
END_TEST

/* Where a nonce is required, the proof check judges it again; an
 * accepted one says its age, for a fresh nonce when it is old. */
START_TEST(the_nonce_of_the_proof)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    conn_t k = { NULL, 0, 0, APR_SUCCESS, 0 };
    ojw_nonce_policy_t pol = { NULL, 300, 5, NOW };
    ojw_evidence_t ev = evidence(&k, proof(ec, "j4", NULL));
    ojw_nonce_key_t key;
    ojw_bound_t out;
    ojw_error_t err;

    test_nonce_key(&key);
    pol.key = &key;
    ev.nonce = &pol;
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_ERR_DPOP_NONCE);
    ev.proof = proof(ec, "j5", apr_psprintf(test_pool, "\"%s\"",
                     ojw_nonce_make(&key, NOW - 250, test_pool)));
    ck_assert_int_eq(bound(&out, "dpop=allowed", bound_to(ec, NULL), &ev,
                          &err), OJW_OK);
    ck_assert_ptr_eq(out.nonce, &pol);
    ck_assert_int_eq(out.nonce_age, 250);
}
END_TEST

/* A Basic password is never DPoP-bound, and the scheme of a DPoP token
 * wins over the rest. */
START_TEST(how_the_token_was_sent)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    conn_t k = { NULL, 0, 0, APR_SUCCESS, 0 };
    ojw_evidence_t ev = evidence(&k, NULL);
    ojw_bound_token_t tok;
    ojw_bound_t out;
    ojw_error_t err;
    const char *why;

    tok.profile = ojw_profile_parse(PROFILE " dpop=allowed", test_pool,
                                    &why);
    tok.claims = json(bound_to(ec, NULL));
    tok.basic = 1;
    tok.skew = 0;
    tok.now = NOW;
    ck_assert_int_eq(ojw_binding_check(&out, &tok, &ev, test_pool, &err),
                     OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "a Basic password") != NULL);
    tok.basic = 0;
    ck_assert_int_eq(ojw_binding_check(&out, &tok, &ev, test_pool, &err),
                     OJW_ERR_BINDING);
    ck_assert(strstr(err.detail, "not as Bearer") != NULL);
}
END_TEST

Suite *binding_suite(void)
{
    Suite *s = suite_create("binding");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, cnf_members);
    tcase_add_test(tc, policy_of_profile_and_scheme);
    tcase_add_test(tc, certificate_thumbprint);
    tcase_add_test(tc, every_binding_refusal_has_a_hint);
    tcase_add_test(tc, unbound_bearer_asks_nothing);
    tcase_add_test(tc, one_order);
    tcase_add_test(tc, the_proof_header);
    tcase_add_test(tc, the_replay_store);
    tcase_add_test(tc, the_nonce_of_the_proof);
    tcase_add_test(tc, how_the_token_was_sent);
    suite_add_tcase(s, tc);
    return s;
}
