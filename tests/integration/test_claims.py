# SPDX-License-Identifier: Apache-2.0
"""Claim rules: time (exp, nbf, iat, skew, age), iss, aud, sub."""

import pytest

from helpers import assert_invalid_token, assert_ok
from tokens import DROP, claims, mint, now


def refused(client, keys, path, description, profile="hr", **over):
    token = mint(claims(**over), key=keys["rsa1"])
    assert_invalid_token(client.get(path, token), description, token)
    client.assert_refusal_logged(profile)


# --- time -------------------------------------------------------------------

def test_expired(client, keys):
    refused(client, keys, "/hr/", "token has expired", exp=now() - 60, iat=now() - 120)


def test_skew_accepts_recently_expired(client, keys):
    token = mint(claims(exp=now() - 10, iat=now() - 100), key=keys["rsa1"])
    assert_ok(client.get("/skew/", token))


def test_no_skew_refuses_recently_expired(client, keys):
    refused(client, keys, "/hr/", "token has expired", exp=now() - 10, iat=now() - 100)


def test_skew_does_not_cover_more(client, keys):
    refused(client, keys, "/skew/", "token has expired", "skew30",
            exp=now() - 45, iat=now() - 100)


def test_nbf_in_future(client, keys):
    refused(client, keys, "/hr/", "token is not yet valid", nbf=now() + 300)


def test_nbf_in_past_accepted(client, keys):
    assert_ok(client.get("/hr/", mint(claims(nbf=now() - 5), key=keys["rsa1"])))


def test_nbf_within_skew_accepted(client, keys):
    assert_ok(client.get("/skew/", mint(claims(nbf=now() + 10), key=keys["rsa1"])))


def test_iat_in_future(client, keys):
    refused(client, keys, "/hr/", "token issued in the future", iat=now() + 300)


def test_too_old(client, keys):
    refused(client, keys, "/age/", "token is too old", "age60", iat=now() - 120)


def test_young_enough(client, keys):
    assert_ok(client.get("/age/", mint(claims(iat=now() - 10), key=keys["rsa1"])))


def test_age_requires_iat(client, keys):
    refused(client, keys, "/age/", "token has no valid iat claim", "age60", iat=DROP)


def test_without_age_iat_is_optional(client, keys):
    assert_ok(client.get("/hr/", mint(claims(iat=DROP), key=keys["rsa1"])))


def test_missing_exp(client, keys):
    refused(client, keys, "/hr/", "token has no valid exp claim", exp=DROP)


def test_exp_as_string(client, keys):
    refused(client, keys, "/hr/", "token has no valid exp claim", exp=str(now() + 300))


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_nbf_iat_must_be_numeric(client, keys, claim):
    refused(client, keys, "/hr/", None, **{claim: str(now() - 5)})


# --- issuer -----------------------------------------------------------------

def test_wrong_issuer(client, keys):
    refused(client, keys, "/hr/", "issuer not accepted", iss="https://evil.example/")


def test_issuer_trailing_slash_matters(client, keys):
    refused(client, keys, "/hr/", "issuer not accepted", iss="https://issuer.example")


def test_missing_issuer(client, keys):
    refused(client, keys, "/hr/", "issuer not accepted", iss=DROP)


# --- audience ---------------------------------------------------------------

def test_wrong_audience(client, keys):
    refused(client, keys, "/hr/", "audience not accepted", aud="ords/finance/")


def test_audience_trailing_slash_matters(client, keys):
    refused(client, keys, "/hr/", "audience not accepted", aud="ords/hr")


def test_audience_array_containing_it(client, keys):
    token = mint(claims(aud=["other", "ords/hr/"]), key=keys["rsa1"])
    assert_ok(client.get("/hr/", token))


def test_audience_array_without_it(client, keys):
    refused(client, keys, "/hr/", "audience not accepted", aud=["other", "ords/hr"])


def test_missing_audience(client, keys):
    refused(client, keys, "/hr/", "audience not accepted", aud=DROP)


# --- subject ----------------------------------------------------------------

def test_missing_subject(client, keys):
    refused(client, keys, "/hr/", "token has no subject", sub=DROP)


def test_empty_subject(client, keys):
    refused(client, keys, "/hr/", "token has no subject", sub="")
