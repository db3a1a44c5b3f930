# SPDX-License-Identifier: Apache-2.0
"""Several profiles on one Location; a static file:// JWKS."""

from conftest import ISSUER_A, ISSUER_B, ISSUER_STATIC
from helpers import assert_invalid_token, assert_ok
from tokens import claims, mint


def test_profile_chosen_by_issuer(client, keys, jwks):
    a = mint(claims(iss=ISSUER_A, sub="from-a"), key=keys["rsa1"])
    b = mint(claims(iss=ISSUER_B, sub="from-b"), key=keys["rsaB"])
    assert_ok(client.get("/multi/", a), sub="from-a")
    assert_ok(client.get("/multi/", b), sub="from-b")
    assert jwks.fetch_count("/jwks-b") <= 1


def test_each_issuer_uses_its_own_keys(client, keys):
    # issuer B's JWKS does not hold rsa1, issuer A's does not hold rsaB
    b_with_a_key = mint(claims(iss=ISSUER_B), key=keys["rsa1"])
    assert_invalid_token(client.get("/multi/", b_with_a_key), "signing key not found",
                         b_with_a_key)
    client.assert_refusal_logged("multiB")
    a_with_b_key = mint(claims(iss=ISSUER_A), key=keys["rsaB"])
    assert_invalid_token(client.get("/multi/", a_with_b_key), "signing key not found",
                         a_with_b_key)
    client.assert_refusal_logged("multiA")


def test_unknown_issuer_on_multi_profile_location(client, keys):
    token = mint(claims(iss="https://c.example/"), key=keys["rsa1"])
    assert_invalid_token(client.get("/multi/", token), "issuer not accepted", token)


def test_static_jwks_without_https_server(client, keys, jwks):
    token = mint(claims(iss=ISSUER_STATIC, sub="static-user"), key=keys["static1"])
    jwks.stop()
    try:
        assert_ok(client.get("/static/", token), sub="static-user")
        other = mint(claims(iss=ISSUER_STATIC), key=keys["ec1"])
        assert_invalid_token(client.get("/static/", other), "signing key not found", other)
    finally:
        jwks.start()
