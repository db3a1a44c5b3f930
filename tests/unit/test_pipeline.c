/* SPDX-License-Identifier: Apache-2.0 */
/* The check pipeline (src/pipeline.c) with injected keys, binding and
 * cache, and its observer, ordsjwt-check's record (src/report.c). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "pipeline.h"
#include "report.h"
#include "profile.h"

#define NOW 1700000000LL
#define RS256 "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}"

/* What the hooks saw and do. */
typedef struct {
    const ojw_keyset_t *ks;
    int verified, bound, puts, hits, misses, nonces;
    const char *proof;              /* the DPoP proof, or NULL */
    const ojw_nonce_policy_t *pol;  /* where a nonce is required */
    int dpop;                       /* the token came as DPoP */
    ojw_cached_t entry;             /* the one cached token */
    const char *cached;             /* its compact form, or NULL */
} hooks_t;

static ojw_keyset_t *rsa_keys(void)
{
    cjose_jwk_t *k = test_rsa_key();
    const char *kid = "rsa1";
    const char *doc = test_jwks(test_pool, 1, &k, &kid);
    ojw_keyset_t *ks = NULL;
    char errbuf[256];

    ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    return ks;
}

static ojw_reason_t verify(ojw_check_t *c, ojw_error_t *err,
                           const char **hint)
{
    hooks_t *h = c->baton;

    (void)hint;
    h->verified++;
    return ojw_token_verify(c->tok, h->ks, c->pool, err);
}

/* The module's way: the proof's nonce where h->pol requires one. */
static ojw_reason_t nonce_hook(ojw_check_t *c, ojw_error_t *err,
                               const char **hint)
{
    hooks_t *h = c->baton;

    (void)hint;
    h->nonces++;
    if (h->proof == NULL || h->pol == NULL) {
        return OJW_OK;
    }
    c->nonce = h->pol;
    return ojw_nonce_require(&c->nonce_age, h->proof, strlen(h->proof),
                             h->pol, c->pool, err);
}

/* The request's evidence: the token sent as Bearer, or (h->dpop) as
 * DPoP with no proof. */
static void evidence(ojw_check_t *c, ojw_evidence_t *ev)
{
    hooks_t *h = c->baton;

    h->bound++;
    ev->dpop = h->dpop;
    ev->access_token = "t";
}

static const ojw_cached_t *cache_get(ojw_check_t *c, const char *compact,
                                     size_t len)
{
    hooks_t *h = c->baton;

    if (h->cached == NULL || strlen(h->cached) != len
        || memcmp(h->cached, compact, len) != 0) {
        h->misses++;
        return NULL;
    }
    return &h->entry;
}

static void cache_judged(ojw_check_t *c, const char *compact, size_t len,
                         const ojw_cached_t *hit, int good)
{
    hooks_t *h = c->baton;

    (void)compact;
    (void)len;
    (void)hit;
    if (good) {
        h->hits++;
    }
    else {
        h->misses++;
        h->cached = NULL;
    }
}

static void cache_put(ojw_check_t *c)
{
    hooks_t *h = c->baton;

    h->puts++;
    h->cached = c->tok->compact;
    ojw_check_cache_entry(c, &h->entry);
    c->entry = &h->entry;
}

static const ojw_check_hooks_t observed = {
    .verify = verify, .nonce = nonce_hook, .evidence = evidence,
    .observe = ojw_report_step
};
static const ojw_check_hooks_t module_like = {
    .verify = verify, .nonce = nonce_hook, .evidence = evidence,
    .cache_get = cache_get, .cache_judged = cache_judged,
    .cache_put = cache_put
};

static ojw_profile_t *profile(const char *args)
{
    const char *err = NULL;
    ojw_profile_t *p = ojw_profile_parse(args, test_pool, &err);

    ck_assert_msg(p != NULL, "%s", err);
    return p;
}

#define PROFILE "p issuer=https://issuer/ audience=api jwk_url=https://x/"

/* The n profiles ps as a location's set. */
static const ojw_profile_set_t *set_of(const ojw_profile_t **ps, int n)
{
    ojw_profile_set_t *set = ojw_profile_set_make(test_pool);
    int i;

    for (i = 0; i < n; i++) {
        ck_assert_ptr_null(ojw_profile_set_add(set, ps[i], test_pool));
    }
    return set;
}

/* c set up with n profiles, the hooks, and rep as the observer. */
static void setup_n(ojw_check_t *c, const ojw_check_hooks_t *hooks,
                    hooks_t *h, ojw_report_t *rep, const ojw_profile_t **p,
                    int n)
{
    memset(c, 0, sizeof(*c));
    memset(rep, 0, sizeof(*rep));
    c->profiles = set_of(p, n);
    c->token_max = OJW_TOKEN_MAX_DEFAULT;
    c->now = NOW;
    c->hooks = hooks;
    c->baton = h;
    c->observer = rep;
    c->pool = test_pool;
    h->ks = h->ks ? h->ks : rsa_keys();
    rep->ks = h->ks;
}

/* ... with one profile. */
static void setup(ojw_check_t *c, const ojw_check_hooks_t *hooks,
                  hooks_t *h, ojw_report_t *rep, const ojw_profile_t **p)
{
    setup_n(c, hooks, h, rep, p, 1);
}

static ojw_reason_t run(ojw_check_t *c, ojw_report_t *rep, const char *t)
{
    rep->compact = t;
    rep->len = strlen(t);
    return ojw_check_run(c, t, strlen(t));
}

static const char *sign(const char *header, const char *claims)
{
    return test_sign(test_pool, test_rsa_key(), header, claims);
}

static void assert_step(const ojw_report_t *rep, ojw_step_id_t id,
                        ojw_step_state_t state, ojw_reason_t reason)
{
    ck_assert_msg(rep->steps[id].state == state, "%s: state %d, not %d (%s)",
                  ojw_step_name(id), rep->steps[id].state, state,
                  rep->steps[id].detail ? rep->steps[id].detail : "");
    ck_assert_int_eq(rep->steps[id].reason, reason);
}

START_TEST(honest_token_passes_every_step)
{
    const ojw_profile_t *p = profile(PROFILE);
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;
    int id;

    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, sign(RS256, "{\"iss\":\"https://issuer/\","
                         "\"aud\":[\"x\",\"api\"],\"sub\":\"alice\","
                         "\"exp\":1700000300,\"iat\":1700000000}")), OJW_OK);
    for (id = 0; id <= OJW_STEP_SUBJECT; id++) {
        if (id != OJW_STEP_TYPE         /* shown only when it matters */
            && id != OJW_STEP_NONCE) {
            assert_step(&rep, (ojw_step_id_t)id, OJW_STEP_PASSED, OJW_OK);
        }
    }
    ck_assert_str_eq(c.subject, "alice");
    ck_assert_int_eq(h.bound, 1);
    ck_assert_str_eq(rep.steps[OJW_STEP_KEY].detail,
                     "kid \"rsa1\": RSA 2048 bits");
    ck_assert_str_eq(rep.steps[OJW_STEP_EXP].detail,
                     "in 300 s (2023-11-14T22:18:20Z)");
    ck_assert_str_eq(rep.steps[OJW_STEP_AUDIENCE].detail,
                     "\"api\" (one of 2 entries)");
    ck_assert_str_eq(rep.steps[OJW_STEP_NBF].detail, "absent (optional)");
    ck_assert_int_eq(rep.steps[OJW_STEP_BINDING].state, OJW_STEP_NOT_RUN);
}
END_TEST

/* Every claim line shows its own outcome; the verdict is the module's
 * first refusal, with the module's detail and hint. */
START_TEST(each_claim_line_on_its_own)
{
    const ojw_profile_t *p = profile(PROFILE);
    const char *t = sign(RS256, "{\"iss\":\"https://issuer\",\"aud\":\"other\","
                         "\"exp\":1699999990,\"nbf\":1700000100,"
                         "\"iat\":\"soon\"}");
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c, quiet;

    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_ISSUER);
    assert_step(&rep, OJW_STEP_ISSUER, OJW_STEP_FAILED, OJW_ERR_ISSUER);
    assert_step(&rep, OJW_STEP_AUDIENCE, OJW_STEP_FAILED, OJW_ERR_AUDIENCE);
    assert_step(&rep, OJW_STEP_EXP, OJW_STEP_FAILED, OJW_ERR_EXPIRED);
    assert_step(&rep, OJW_STEP_NBF, OJW_STEP_FAILED, OJW_ERR_NOT_YET_VALID);
    assert_step(&rep, OJW_STEP_IAT, OJW_STEP_FAILED, OJW_ERR_IAT_MISSING);
    assert_step(&rep, OJW_STEP_AGE, OJW_STEP_NOT_RUN, OJW_OK);
    assert_step(&rep, OJW_STEP_SUBJECT, OJW_STEP_FAILED, OJW_ERR_SUBJECT);
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_ISSUER].hint,
                                 "only by a trailing slash"));
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_EXP].hint,
                                 "off by only 10 s"));
    ck_assert_str_eq(c.err.detail, rep.steps[OJW_STEP_ISSUER].detail);
    ck_assert_str_eq(c.hint, rep.steps[OJW_STEP_ISSUER].hint);
    /* the binding still runs for the observer; the module's run stops */
    ck_assert_int_eq(h.bound, 1);
    setup(&quiet, &module_like, &h, &rep, &p);
    h.bound = 0;
    ck_assert_int_eq(run(&quiet, &rep, t), OJW_ERR_ISSUER);
    ck_assert_str_eq(quiet.err.detail, c.err.detail);
    ck_assert_int_eq(h.bound, 0);
    ck_assert_int_eq(h.puts, 0);
}
END_TEST

START_TEST(server_defaults_and_age)
{
    const ojw_profile_t *p = profile(PROFILE);
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    setup(&c, &observed, &h, &rep, &p);
    c.default_age = 60;         /* the server's OrdsJwtAllowedAge */
    ck_assert_int_eq(run(&c, &rep, sign(RS256, "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1700000300,"
                         "\"iat\":1699999000}")), OJW_ERR_TOO_OLD);
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_AGE].hint,
                                 "allowed_age=60"));
    setup(&c, &observed, &h, &rep, &p);
    c.default_skew = 30;        /* its OrdsJwtAllowedSkew */
    ck_assert_int_eq(run(&c, &rep, sign(RS256, "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1699999990,"
                         "\"nbf\":1700000020}")), OJW_OK);
    ck_assert_str_eq(rep.steps[OJW_STEP_AGE].detail,
                     "not checked (allowed_age 0)");
}
END_TEST

START_TEST(bad_signature_leaves_claims_unchecked)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    const char *kid = "rsa1";
    const char *doc = test_jwks(test_pool, 1, &ec, &kid);
    const ojw_profile_t *p = profile(PROFILE);
    const char *t = sign(RS256, "{\"iss\":\"x\"}");
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;
    char errbuf[256];
    ojw_keyset_t *ks;
    int id;

    ck_assert_int_eq(ojw_jwks_parse(&ks, doc, strlen(doc), test_pool, NULL,
                                    NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    h.ks = ks;
    setup(&c, &observed, &h, &rep, &p);
    /* an EC key under the token's kid: the key does not fit RS256 */
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_ALG);
    assert_step(&rep, OJW_STEP_KEY, OJW_STEP_FAILED, OJW_ERR_ALG);
    for (id = OJW_STEP_SIGNATURE; id < OJW_STEP_COUNT; id++) {
        assert_step(&rep, (ojw_step_id_t)id, OJW_STEP_NOT_RUN, OJW_OK);
    }
    ck_assert_ptr_null(c.claims);
    h.ks = NULL;
    setup(&c, &observed, &h, &rep, &p);
    t = apr_pstrcat(test_pool, apr_pstrndup(test_pool, t, strlen(t) - 4),
                    "AAAA", NULL);
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_SIGNATURE);
    assert_step(&rep, OJW_STEP_KEY, OJW_STEP_PASSED, OJW_OK);
    assert_step(&rep, OJW_STEP_SIGNATURE, OJW_STEP_FAILED, OJW_ERR_SIGNATURE);
}
END_TEST

START_TEST(parse_refusals_name_their_step)
{
    const ojw_profile_t *p = profile(PROFILE);
    static const char none_header[] = "{\"alg\":\"none\"}";
    static const char crit_header[] = "{\"alg\":\"RS256\",\"crit\":[\"x\"],"
                                      "\"x\":1}";
    const char *none = apr_pstrcat(test_pool,
                                   test_b64(test_pool, none_header,
                                            strlen(none_header)),
                                   ".", test_b64(test_pool, "{}", 2), ".", NULL);
    const char *crit = apr_pstrcat(test_pool,
                                   test_b64(test_pool, crit_header,
                                            strlen(crit_header)),
                                   ".", test_b64(test_pool, "{}", 2), ".AAAA",
                                   NULL);
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, "a.b"), OJW_ERR_MALFORMED);
    assert_step(&rep, OJW_STEP_FORMAT, OJW_STEP_FAILED, OJW_ERR_MALFORMED);
    assert_step(&rep, OJW_STEP_ALG, OJW_STEP_NOT_RUN, OJW_OK);
    setup(&c, &observed, &h, &rep, &p);
    c.token_max = 4;
    ck_assert_int_eq(run(&c, &rep, "a.b.c"), OJW_ERR_TOO_LARGE);
    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, none), OJW_ERR_ALG);
    assert_step(&rep, OJW_STEP_FORMAT, OJW_STEP_PASSED, OJW_OK);
    assert_step(&rep, OJW_STEP_ALG, OJW_STEP_FAILED, OJW_ERR_ALG);
    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, crit), OJW_ERR_CRIT);
    ck_assert_str_eq(rep.steps[OJW_STEP_ALG].detail, "RS256");
    assert_step(&rep, OJW_STEP_CRIT, OJW_STEP_FAILED, OJW_ERR_CRIT);
    ck_assert_int_eq(h.verified, 0);
}
END_TEST

/* Several profiles: chosen by iss, then aud; none has the iss. */
START_TEST(profile_choice)
{
    const ojw_profile_t *ps[2];
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    ps[0] = profile("a issuer=https://a/ audience=api jwk_url=https://x/");
    ps[1] = profile(PROFILE);
    setup_n(&c, &observed, &h, &rep, ps, 2);
    ck_assert_int_eq(run(&c, &rep, sign(RS256, "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1700000300}")),
                     OJW_OK);
    ck_assert_ptr_eq(c.profile, ps[1]);
    setup_n(&c, &observed, &h, &rep, ps, 2);
    ck_assert_int_eq(run(&c, &rep, sign(RS256, "{\"iss\":\"https://c/\"}")),
                     OJW_ERR_ISSUER);
    ck_assert_ptr_null(c.profile);
    ck_assert_ptr_nonnull(strstr(c.err.detail, "matches none of the 2"));
    ck_assert_int_eq(c.step, OJW_STEP_ISSUER);
}
END_TEST

/* The module's way: the cache, and the binding and the Basic user name
 * on every request, hit or not. */
START_TEST(cache_hit_skips_parse_and_signature)
{
    const ojw_profile_t *p = profile(PROFILE);
    const char *t = sign(RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
                         "\"sub\":\"bob\",\"exp\":1700000300}");
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    setup(&c, &module_like, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert_int_eq(h.verified, 1);
    ck_assert_int_eq(h.puts, 1);
    ck_assert_int_eq(h.misses, 1);
    ck_assert(!c.cached);
    ck_assert_ptr_eq(c.entry, &h.entry);    /* the entry put */
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert_int_eq(h.verified, 1);        /* not again */
    ck_assert_int_eq(h.hits, 1);
    ck_assert(c.cached);
    ck_assert_ptr_eq(c.entry, &h.entry);    /* the hit */
    ck_assert_ptr_null(c.tok);
    ck_assert_str_eq(c.subject, "bob");
    ck_assert_int_eq(h.bound, 2);           /* every request */
    c.basic_user = "eve";
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_USER_MISMATCH);
    ck_assert_int_eq(c.step, OJW_STEP_USER);
    c.basic_user = NULL;
    h.dpop = 1;             /* the profile takes no DPoP */
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_BINDING);
    ck_assert_int_eq(c.step, OJW_STEP_BINDING);
    /* later: expired; the hit goes and the full check says why */
    h.dpop = 0;
    c.now = NOW + 400;
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_EXPIRED);
    ck_assert_ptr_null(h.cached);
    ck_assert_int_eq(h.verified, 2);
    ck_assert_ptr_nonnull(c.tok);
}
END_TEST

/* A hit's dates are judged with this server's skew and age at this
 * time: a server default that refuses it refuses it as the full check
 * does, which then runs afresh. */
START_TEST(cache_hit_dates_with_the_server_defaults)
{
    const ojw_profile_t *p = profile(PROFILE);
    const char *t = sign(RS256, "{\"iss\":\"https://issuer/\",\"aud\":\"api\","
                         "\"sub\":\"bob\",\"exp\":1700000300,"
                         "\"iat\":1699999900}");
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;
    ojw_error_t fresh;

    setup(&c, &module_like, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    c.default_age = 60;                     /* issued 100 s ago */
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_TOO_OLD);
    ck_assert_int_eq(c.step, OJW_STEP_AGE);
    ck_assert_int_eq(h.verified, 2);        /* checked afresh */
    ck_assert_ptr_null(h.cached);
    fresh = c.err;
    c.default_age = 0;
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);     /* put again */
    c.default_age = 60;
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_TOO_OLD);
    ck_assert_str_eq(c.err.detail, fresh.detail);
    c.default_age = 0;
    c.now = NOW - 130;                      /* iat 30 s ahead */
    c.default_skew = 60;
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert(c.cached);
    c.default_skew = 0;                     /* no tolerance here */
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_IAT_FUTURE);
    ck_assert_int_eq(c.step, OJW_STEP_IAT);
    ck_assert(!c.cached);
}
END_TEST

START_TEST(type_and_binding_steps)
{
    const ojw_profile_t *p = profile(PROFILE " token_type=at+jwt");
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    setup(&c, &observed, &h, &rep, &p);
    h.dpop = 1;
    ck_assert_int_eq(run(&c, &rep, sign("{\"alg\":\"RS256\",\"kid\":\"rsa1\","
                         "\"typ\":\"dpop+jwt\"}", "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1700000300}")),
                     OJW_ERR_TOKEN_TYPE);
    assert_step(&rep, OJW_STEP_TYPE, OJW_STEP_FAILED, OJW_ERR_TOKEN_TYPE);
    ck_assert_ptr_nonnull(rep.steps[OJW_STEP_TYPE].hint);
    assert_step(&rep, OJW_STEP_BINDING, OJW_STEP_FAILED, OJW_ERR_BINDING);
    ck_assert(strstr(rep.steps[OJW_STEP_BINDING].detail, "DPoP scheme")
              != NULL);
    setup(&c, &observed, &h, &rep, &p);
    h.dpop = 0;
    ck_assert_int_eq(run(&c, &rep, sign("{\"alg\":\"RS256\",\"kid\":\"rsa1\","
                         "\"typ\":\"at+jwt\"}", "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1700000300}")),
                     OJW_OK);
    ck_assert_str_eq(rep.steps[OJW_STEP_TYPE].detail,
                     "typ \"at+jwt\" (token_type=at+jwt)");
}
END_TEST

/* issue 23 in the pipeline: the nonce step, before the parse at a
 * location of one profile, after the choice at one of several; its
 * refusal is the verdict; a passing one says its age. */
START_TEST(nonce_step)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    const char *dh = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}";
    const ojw_profile_t *ps[2];
    ojw_nonce_policy_t pol = { NULL, 300, 0, NOW };
    const char *good = sign(RS256, "{\"iss\":\"https://issuer/\","
                            "\"aud\":\"api\",\"sub\":\"a\","
                            "\"exp\":1700000300}");
    const char *with;
    ojw_nonce_key_t k;
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;
    char bytes[32];

    memset(bytes, 'n', sizeof(bytes));
    ck_assert_ptr_null(ojw_nonce_key_set(&k, bytes, sizeof(bytes)));
    pol.key = &k;
    with = test_sign(test_pool, ec, dh, apr_psprintf(test_pool,
                     "{\"nonce\":\"%s\"}",
                     ojw_nonce_make(&k, NOW - 200, test_pool)));
    ps[0] = profile("a issuer=https://a/ audience=api jwk_url=https://x/");
    ps[1] = profile(PROFILE);
    h.pol = &pol;
    h.proof = test_sign(test_pool, ec, dh, "{\"jti\":\"1\"}");
    /* one profile: judged before the token is even read */
    setup(&c, &observed, &h, &rep, &ps[1]);
    ck_assert_int_eq(run(&c, &rep, "x"), OJW_ERR_DPOP_NONCE);
    ck_assert_int_eq(c.step, OJW_STEP_NONCE);
    assert_step(&rep, OJW_STEP_NONCE, OJW_STEP_FAILED, OJW_ERR_DPOP_NONCE);
    assert_step(&rep, OJW_STEP_FORMAT, OJW_STEP_FAILED, OJW_ERR_MALFORMED);
    ck_assert_int_eq(h.nonces, 1);
    /* several: the token's profile is chosen first; a token that does
     * not parse is refused for that */
    setup_n(&c, &observed, &h, &rep, ps, 2);
    ck_assert_int_eq(run(&c, &rep, "x"), OJW_ERR_MALFORMED);
    assert_step(&rep, OJW_STEP_NONCE, OJW_STEP_NOT_RUN, OJW_OK);
    setup_n(&c, &module_like, &h, &rep, ps, 2);
    ck_assert_int_eq(run(&c, &rep, good), OJW_ERR_DPOP_NONCE);
    ck_assert_ptr_eq(c.profile, ps[1]);
    ck_assert_int_eq(h.verified, 0);            /* before any signature */
    /* a good nonce: passed, with its age; not asked twice */
    h.proof = with;
    h.nonces = 0;
    setup(&c, &observed, &h, &rep, &ps[1]);
    ck_assert_int_eq(run(&c, &rep, good), OJW_OK);
    ck_assert_int_eq(h.nonces, 1);
    ck_assert_str_eq(rep.steps[OJW_STEP_NONCE].detail,
                     "issued 200 s ago with the key, good for 300 s; httpd "
                     "would send a fresh one with the answer");
    /* none required: no line */
    h.pol = NULL;
    setup(&c, &observed, &h, &rep, &ps[1]);
    ck_assert_int_eq(run(&c, &rep, good), OJW_OK);
    assert_step(&rep, OJW_STEP_NONCE, OJW_STEP_NOT_RUN, OJW_OK);
    ck_assert_str_eq(ojw_step_name(OJW_STEP_NONCE), "dpop nonce");
}
END_TEST

/* A cached token still needs its nonce; a refused nonce leaves the hit
 * cached and the signature unchecked. */
START_TEST(nonce_on_a_cache_hit)
{
    cjose_jwk_t *ec = test_ec_key(CJOSE_JWK_EC_P_256);
    const char *dh = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\"}";
    const ojw_profile_t *p = profile(PROFILE);
    ojw_nonce_policy_t pol = { NULL, 300, 0, NOW };
    const char *t = sign(RS256, "{\"iss\":\"https://issuer/\","
                         "\"aud\":\"api\",\"sub\":\"a\",\"exp\":1700000300}");
    ojw_nonce_key_t k;
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;

    test_nonce_key(&k);
    pol.key = &k;
    h.pol = &pol;
    h.proof = test_sign(test_pool, ec, dh, apr_psprintf(test_pool,
                        "{\"nonce\":\"%s\"}",
                        ojw_nonce_make(&k, NOW, test_pool)));
    setup(&c, &module_like, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert_int_eq(run(&c, &rep, t), OJW_OK);
    ck_assert(c.cached);
    h.proof = test_sign(test_pool, ec, dh, "{\"jti\":\"2\"}");
    ck_assert_int_eq(run(&c, &rep, t), OJW_ERR_DPOP_NONCE);
    ck_assert_int_eq(c.step, OJW_STEP_NONCE);
    ck_assert(c.cached);
    ck_assert_int_eq(h.verified, 1);
    ck_assert_int_eq(h.bound, 2);               /* not for the refusal */
    ck_assert_ptr_nonnull(h.cached);
}
END_TEST

#define TID_A   "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define TID_B   "9188040d-6c67-4c5b-b112-36a304b66dad"
#define ENTRA   "https://login.microsoftonline.com/{tid}/v2.0"

/* A token of an issuer template and a tenant. */
static const char *tenant_token(const char *tid)
{
    return sign(RS256, apr_psprintf(test_pool, "{\"iss\":\"https://login."
                                    "microsoftonline.com/%s/v2.0\",\"tid\":"
                                    "\"%s\",\"aud\":\"api\",\"sub\":\"a\","
                                    "\"exp\":1700000300}", tid, tid));
}

/* issue 22: the tenant and the key's issuer are rows of the issuer line:
 * shown there, refused there, the other lines still shown. */
START_TEST(tenant_rows_of_the_issuer_line)
{
    const ojw_profile_t *p = profile("e issuer=" ENTRA " audience=api "
                                     "jwk_url=https://x/ tenants=" TID_A);
    cjose_jwk_t *k = test_rsa_key();
    const char *kid = "rsa1";
    json_t *doc = json_loads(test_jwks(test_pool, 1, &k, &kid), 0, NULL);
    ojw_keyset_t *other;
    hooks_t h = { 0 };
    ojw_report_t rep;
    ojw_check_t c;
    char errbuf[256], *out;

    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, tenant_token(TID_A)), OJW_OK);
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_ISSUER].detail,
                                 "tenant " TID_A " (listed in tenants=)"));
    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, tenant_token(TID_B)), OJW_ERR_TENANT);
    ck_assert_int_eq(c.step, OJW_STEP_ISSUER);
    assert_step(&rep, OJW_STEP_ISSUER, OJW_STEP_FAILED, OJW_ERR_TENANT);
    assert_step(&rep, OJW_STEP_AUDIENCE, OJW_STEP_PASSED, OJW_OK);
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_ISSUER].hint,
                                 "tenants= list"));
    /* a key of another issuer: key_issuer_mismatch, before the tenant */
    json_object_set_new(json_array_get(json_object_get(doc, "keys"), 0),
                        "issuer", json_string("https://sts.windows.net/"
                                              "{tenantid}/"));
    out = json_dumps(doc, JSON_COMPACT);
    ck_assert_int_eq(ojw_jwks_parse(&other, out, strlen(out), test_pool,
                                    NULL, NULL, errbuf, sizeof(errbuf)),
                     APR_SUCCESS);
    free(out);
    json_decref(doc);
    h.ks = other;
    setup(&c, &observed, &h, &rep, &p);
    ck_assert_int_eq(run(&c, &rep, tenant_token(TID_B)), OJW_ERR_KEY_ISSUER);
    assert_step(&rep, OJW_STEP_ISSUER, OJW_STEP_FAILED, OJW_ERR_KEY_ISSUER);
    ck_assert_ptr_nonnull(strstr(rep.steps[OJW_STEP_ISSUER].hint,
                                 "a key signs only for its own issuer"));
}
END_TEST

START_TEST(segments_for_display)
{
    const char *why = NULL;
    const char *t = sign(RS256, "{\"a\":1}");
    json_t *v = ojw_report_segment(t, strlen(t), 1, test_pool, &why);

    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "a")), 1);
    ck_assert_ptr_null(ojw_report_segment("abc", 3, 1, test_pool, &why));
    ck_assert_str_eq(why, "no such segment");
    ck_assert_ptr_null(ojw_report_segment("e30!.x", 6, 0, test_pool, &why));
    ck_assert_str_eq(why, "not canonical unpadded base64url");
}
END_TEST

/* A pasted Authorization value: Bearer, Basic (password = token), bare. */
START_TEST(header_token_bearer_basic_bare)
{
    const char *user, *scheme, *err = NULL, *t;

    t = ojw_header_token(test_pool, "  Bearer   a.b.c \n", &user, &scheme,
                         &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_ptr_null(user);
    ck_assert_str_eq(scheme, "Bearer");
    t = ojw_header_token(test_pool, "a.b.c\n", &user, &scheme, &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_ptr_null(scheme);
    /* base64("carol:a.b.c"), base64(":a.b.c") */
    t = ojw_header_token(test_pool, "Basic Y2Fyb2w6YS5iLmM=", &user, &scheme,
                         &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_str_eq(user, "carol");
    ck_assert_str_eq(scheme, "Basic");
    t = ojw_header_token(test_pool, "basic OmEuYi5j", &user, &scheme, &err);
    ck_assert_str_eq(t, "a.b.c");
    ck_assert_str_eq(user, "");
    /* a password with a colon keeps it: only the first colon splits */
    t = ojw_header_token(test_pool, "Basic dTphOmI=", &user, &scheme, &err);
    ck_assert_str_eq(t, "a:b");
}
END_TEST

START_TEST(header_token_hostile_basic)
{
    static const char *const bad[] = {
        "Basic ", "Basic Y2Fyb2w", "Basic Y2Fy*2w6YS5iLmM=",
        "Basic Y2Fyb2w=",           /* "carol": no colon */
        "Basic YQBiOmM=",           /* "a\0b:c": a NUL byte */
        "Basic ====", "Basic Y2Fyb2w6YS5iLmM=Y2Fy",
    };
    const char *user, *scheme, *err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        ck_assert_msg(ojw_header_token(test_pool, bad[i], &user, &scheme,
                                       &err) == NULL, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(err);
    }
}
END_TEST

Suite *pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, honest_token_passes_every_step);
    tcase_add_test(tc, each_claim_line_on_its_own);
    tcase_add_test(tc, server_defaults_and_age);
    tcase_add_test(tc, bad_signature_leaves_claims_unchecked);
    tcase_add_test(tc, parse_refusals_name_their_step);
    tcase_add_test(tc, profile_choice);
    tcase_add_test(tc, cache_hit_skips_parse_and_signature);
    tcase_add_test(tc, cache_hit_dates_with_the_server_defaults);
    tcase_add_test(tc, type_and_binding_steps);
    tcase_add_test(tc, nonce_step);
    tcase_add_test(tc, nonce_on_a_cache_hit);
    tcase_add_test(tc, tenant_rows_of_the_issuer_line);
    tcase_add_test(tc, segments_for_display);
    tcase_add_test(tc, header_token_bearer_basic_bare);
    tcase_add_test(tc, header_token_hostile_basic);
    suite_add_tcase(s, tc);
    return s;
}
