# SPDX-License-Identifier: Apache-2.0
"""Honest tokens, the Authorization header, 401 without a token."""

import pytest

from helpers import assert_invalid_token, assert_no_token, assert_ok
from tokens import claims, mint


@pytest.mark.parametrize("kid", ["rsa1", "ps1", "ec1"], ids=["RS256", "PS256", "ES256"])
def test_honest_token_sets_remote_user(client, keys, kid):
    token = mint(claims(sub="alice-" + kid), key=keys[kid])
    assert_ok(client.get("/hr/", token), sub="alice-" + kid)


def test_valid_user_location(client, keys):
    assert_ok(client.get("/any/", mint(claims(scope="x"), key=keys["rsa1"])))


def test_no_token(client):
    r = client.get("/hr/")
    assert_no_token(r)
    assert "error=" not in r.headers["WWW-Authenticate"]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(client, keys, scheme):
    assert_ok(client.get("/hr/", mint(claims(), key=keys["rsa1"]), scheme=scheme))


def test_basic_scheme_is_no_token(client):
    assert_no_token(client.get("/hr/", authorization="Basic YWxpY2U6c2VjcmV0"))


def test_token_in_query_is_ignored(client, keys):
    token = mint(claims(), key=keys["rsa1"])
    client.tokens.append(token)
    assert_no_token(client.get("/hr/?access_token=" + token))


def test_bearer_then_spaces_rfc6750(client, keys):
    """RFC 6750 2.1: "Bearer" 1*SP b64token. Several spaces are one or
    more SP; a tab is not SP, so such a header carries no bearer token
    (issue 11)."""
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(client.get("/hr/", authorization="Bearer   " + token))
    r = client.get("/hr/", authorization="Bearer\t" + token)
    assert_no_token(r)
    assert "error=" not in r.headers["WWW-Authenticate"]


def test_blank_subject_refused(client, keys):
    r = client.get("/hr/", mint(claims(sub="   "), key=keys["rsa1"]))
    assert_invalid_token(r, "token has no subject")
    r = client.get("/hr/", mint(claims(aud=["ords/hr/", 7]), key=keys["rsa1"]))
    assert_invalid_token(r, "audience not accepted")
