/* SPDX-License-Identifier: Apache-2.0 */
/* Claims whose env or header names collide once mapped. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "unit.h"
#include "pass.h"

/* The collisions of the claims in json, max bytes of names. */
static ojw_pass_collisions_t collide(const char *json, size_t max)
{
    json_error_t jerr;
    json_t *claims = json_loads(json, 0, &jerr);
    ojw_pass_collisions_t c;

    ck_assert_msg(claims != NULL, "bad test JSON: %s", json);
    ojw_pass_collisions(&c, test_pool, claims, max);
    json_decref(claims);
    return c;
}

static int dropped(const ojw_pass_collisions_t *c, const char *name)
{
    return apr_hash_get(c->dropped, name, APR_HASH_KEY_STRING) != NULL;
}

START_TEST(none_collide)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"iss\":\"i\","
                                      "\"e-mail\":\"a@x\",\"email\":\"b@x\","
                                      "\"s-u-b\":1,\"\":2}", 384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 0);
    ck_assert_ptr_null(c.names);
}
END_TEST

START_TEST(sub_always_wins)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"SUB\":\"admin\","
                                      "\"Sub\":\"root\",\"tier\":\"gold\"}",
                                      384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 2);
    ck_assert(dropped(&c, "SUB") && dropped(&c, "Sub"));
    ck_assert(!dropped(&c, "sub") && !dropped(&c, "tier"));
    ck_assert_str_eq(c.names, "[\"sub\",\"SUB\",\"Sub\"]");
}
END_TEST

START_TEST(sub_wins_in_any_order)
{
    ojw_pass_collisions_t c = collide("{\"S-U-B\":1,\"s_u_b\":2,"
                                      "\"SUB\":\"admin\",\"sub\":\"alice\"}",
                                      384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 3);
    ck_assert(dropped(&c, "SUB") && !dropped(&c, "sub"));
    ck_assert(dropped(&c, "S-U-B") && dropped(&c, "s_u_b"));
}
END_TEST

START_TEST(all_of_a_group_dropped)
{
    ojw_pass_collisions_t c = collide("{\"sub\":\"alice\",\"e-mail\":\"a\","
                                      "\"e_mail\":\"b\",\"E.MAIL\":\"c\","
                                      "\"email\":\"d\"}", 384);

    ck_assert_int_eq(apr_hash_count(c.dropped), 3);
    ck_assert(dropped(&c, "e-mail") && dropped(&c, "e_mail")
              && dropped(&c, "E.MAIL"));
    ck_assert(!dropped(&c, "email") && !dropped(&c, "sub"));
    ck_assert_str_eq(c.names, "[\"e-mail\",\"e_mail\",\"E.MAIL\"]");
}
END_TEST

START_TEST(without_sub_claim_nobody_wins)
{
    ojw_pass_collisions_t c = collide("{\"SUB\":\"a\",\"Sub\":\"b\"}", 384);

    ck_assert(dropped(&c, "SUB") && dropped(&c, "Sub"));
}
END_TEST

START_TEST(non_ascii_maps_like_punctuation)
{
    /* "é" is two bytes, each mapped to "_" or "-": the same as "__" */
    ojw_pass_collisions_t c = collide("{\"a\\u00e9\":1,\"a__\":2,"
                                      "\"a--\":3,\"a\\u00e8x\":4}", 384);

    ck_assert(dropped(&c, "a\xc3\xa9") && dropped(&c, "a__")
              && dropped(&c, "a--"));
    ck_assert(!dropped(&c, "a\xc3\xa8x"));
}
END_TEST

START_TEST(names_are_escaped_and_bounded)
{
    apr_pool_t *p = test_pool;
    char *json = apr_pstrdup(p, "{\"sub\":\"alice\"");
    int i;

    for (i = 0; i < 200; i++) {
        json = apr_psprintf(p, "%s,\"c%d.x\":1,\"c%d_x\":2", json, i, i);
    }
    json = apr_pstrcat(p, json, ",\"q\\\"\\n\":1,\"Q\\\"\\n\":2}", NULL);
    {
        ojw_pass_collisions_t c = collide(json, 64);

        ck_assert_int_eq(apr_hash_count(c.dropped), 402);
        ck_assert_uint_le(strlen(c.names), 64);
        ck_assert_str_eq(c.names + strlen(c.names) - 3, "...");
        ck_assert(strncmp(c.names, "[\"c0.x\",\"c0_x\",", 15) == 0);
    }
    {
        ojw_pass_collisions_t c = collide("{\"q\\\"\\n\":1,\"Q\\\"\\n\":2}",
                                          64);

        ck_assert_str_eq(c.names, "[\"q\\\"\\n\",\"Q\\\"\\n\"]");
    }
}
END_TEST

/* ------------------------------------------------------------------ */
/* what a token passes, worked out once                                */

enum { ENV = 1, HEADERS = 2 };      /* OrdsJwtPassClaims' bits */

/* Sets one value as the module did on every request before pairs were
 * worked out once. */
static void pass_one(apr_table_t *env, apr_table_t *hdr, int how,
                     const char *e, const char *h, const char *value)
{
    if (how & ENV) {
        apr_table_set(env, e, value);
    }
    if (how & HEADERS) {
        apr_table_set(hdr, h, value);
    }
}

/* The reference: what the module passed per request before (claims one
 * by one, colliding ones left out, then profile, scopes, roles). */
static void pass_per_request(apr_table_t *env, apr_table_t *hdr, int how,
                             const json_t *claims, const char *profile,
                             const char *roles)
{
    ojw_pass_collisions_t clash;
    const char *key, *text;
    json_t *value;
    int cut = 0;

    ojw_pass_collisions(&clash, test_pool, claims, OJW_DETAIL_MAX);
    json_object_foreach((json_t *)claims, key, value) {
        if (apr_hash_get(clash.dropped, key, APR_HASH_KEY_STRING) == NULL
            && (text = ojw_pass_value(test_pool, value, OJW_PASS_VALUE_MAX,
                                      &cut)) != NULL) {
            pass_one(env, hdr, how, ojw_pass_env_name(test_pool, key),
                     ojw_pass_header_name(test_pool, key), text);
        }
    }
    pass_one(env, hdr, how, "ORDSJWT_PROFILE", "X-OrdsJwt-Profile",
             profile);
    text = ojw_pass_text(test_pool, ojw_pass_scopes(test_pool, claims),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(env, hdr, how, "ORDSJWT_SCOPES", "X-OrdsJwt-Scopes", text);
    text = ojw_pass_text(test_pool, ojw_pass_roles(test_pool, claims, roles),
                         OJW_PASS_VALUE_MAX, &cut);
    pass_one(env, hdr, how, "ORDSJWT_ROLES", "X-OrdsJwt-Roles", text);
}

/* The rows of t as one text, in order. */
static const char *rows(const apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    const char *out = "";
    int i;

    for (i = 0; i < a->nelts; i++) {
        out = apr_pstrcat(test_pool, out, e[i].key, "=", e[i].val, "\n",
                          NULL);
    }
    return out;
}

/* Tables as a location of mode how gets them: a request header and an
 * environment variable there already (the client's, the server's). */
static void fresh(apr_table_t **env, apr_table_t **hdr)
{
    *env = apr_table_make(test_pool, 4);
    *hdr = apr_table_make(test_pool, 4);
    apr_table_set(*env, "HTTPS", "on");
    apr_table_set(*hdr, "Accept", "*/*");
}

/* p set as a location of mode how sets it, against the reference. */
static void assert_as_per_request(const ojw_passed_t *p, int how,
                                  const json_t *claims, const char *profile,
                                  const char *roles)
{
    apr_table_t *env, *hdr, *ref_env, *ref_hdr;

    fresh(&env, &hdr);
    fresh(&ref_env, &ref_hdr);
    ojw_passed_set(p, how & ENV ? env : NULL, how & HEADERS ? hdr : NULL);
    pass_per_request(ref_env, ref_hdr, how, claims, profile, roles);
    ck_assert_str_eq(rows(env), rows(ref_env));
    ck_assert_str_eq(rows(hdr), rows(ref_hdr));
}

static const char *const tokens[] = {
    "{\"sub\":\"alice\",\"iss\":\"https://i/\",\"aud\":[\"a\",\"b\"],"
    "\"exp\":1700000100,\"scope\":\"x y\",\"scp\":[\"z\"],"
    "\"g\":{\"r\":[\"admin\",\"dev\"]},\"ok\":true,\"n\":null,"
    "\"ctl\":\"a\\u0001b\\u007fc\\nd\",\"e-mail\":\"a@x\",\"nested\":"
    "[[1,2],{\"k\":\"v\"}],\"\\u00e9t\\u00e9\":\"summer\"}",
    "{\"sub\":\"bob\",\"SUB\":\"admin\",\"Sub\":\"root\",\"tier\":\"gold\","
    "\"X_Y\":1,\"x-y\":2,\"g\":{\"r\":\"solo\"}}",
    "{\"sub\":\"u\"}",
};

/* Worked out once (in a pool, or packed for a cache entry), the pairs
 * set exactly what the per-request code set, for env, headers, both and
 * none, and for locations of different modes from the same block; a cut
 * value and colliding names are told as before. */
START_TEST(prepared_pairs_as_per_request)
{
    static const int modes[] = { 0, ENV, HEADERS, ENV | HEADERS };
    static const char *const roles[] = { "/g/r", NULL };
    ojw_passed_t made, *packed;
    json_t *claims;
    size_t i, r, m;

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        claims = json_loads(tokens[i], 0, NULL);
        ck_assert_ptr_nonnull(claims);
        for (r = 0; r < 2; r++) {
            ojw_passed_make(&made, test_pool, claims, "hr", roles[r]);
            made.note_sub = "alice";
            packed = ojw_passed_pack(&made);
            ck_assert_ptr_nonnull(packed);
            for (m = 0; m < 4; m++) {
                assert_as_per_request(&made, modes[m], claims, "hr",
                                      roles[r]);
                assert_as_per_request(packed, modes[m], claims, "hr",
                                      roles[r]);
            }
            ck_assert_str_eq(packed->note_sub, "alice");
            ck_assert_ptr_null(packed->note_kid);
            ck_assert_int_eq(packed->ntruncated, made.ntruncated);
            if (made.collisions) {
                ck_assert_str_eq(packed->collisions, made.collisions);
            }
            else {
                ck_assert_ptr_null(packed->collisions);
            }
            free(packed);
        }
        json_decref(claims);
    }
}
END_TEST

/* The packed block owes nothing to the pool or the claims it was worked
 * out from: both gone, it still sets the same (valgrind: no read of
 * freed memory); a cut value is counted. */
START_TEST(packed_pairs_stand_alone)
{
    apr_pool_t *p;
    ojw_passed_t made, *packed;
    apr_table_t *env = apr_table_make(test_pool, 4);
    char *big = malloc(OJW_PASS_VALUE_MAX + 100);
    json_t *claims;

    memset(big, 'v', OJW_PASS_VALUE_MAX + 99);
    big[OJW_PASS_VALUE_MAX + 99] = '\0';
    claims = json_pack("{s:s,s:s}", "sub", "zed", "big", big);
    free(big);
    apr_pool_create(&p, test_pool);
    ojw_passed_make(&made, p, claims, "hr", NULL);
    ck_assert_int_eq(made.ntruncated, 1);
    packed = ojw_passed_pack(&made);
    apr_pool_destroy(p);
    json_decref(claims);
    ojw_passed_set(packed, env, NULL);
    ck_assert_str_eq(apr_table_get(env, "ORDSJWT_CLAIM_sub"), "zed");
    ck_assert_uint_eq(strlen(apr_table_get(env, "ORDSJWT_CLAIM_big")),
                      OJW_PASS_VALUE_MAX);
    ck_assert_str_eq(apr_table_get(env, "ORDSJWT_PROFILE"), "hr");
    ck_assert_str_eq(apr_table_get(env, "ORDSJWT_ROLES"), "");
    ck_assert_int_eq(packed->ntruncated, 1);
    free(packed);
}
END_TEST

Suite *pass_suite(void)
{
    Suite *s = suite_create("pass");
    TCase *tc = tcase_create("collisions");

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_test(tc, none_collide);
    tcase_add_test(tc, sub_always_wins);
    tcase_add_test(tc, sub_wins_in_any_order);
    tcase_add_test(tc, all_of_a_group_dropped);
    tcase_add_test(tc, without_sub_claim_nobody_wins);
    tcase_add_test(tc, non_ascii_maps_like_punctuation);
    tcase_add_test(tc, names_are_escaped_and_bounded);
    tcase_add_test(tc, prepared_pairs_as_per_request);
    tcase_add_test(tc, packed_pairs_stand_alone);
    suite_add_tcase(s, tc);
    return s;
}
