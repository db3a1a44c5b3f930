# SPDX-License-Identifier: Apache-2.0
"""Refusals are logged at info with an ORDSJWT id, the profile and the
reason, and never with the token (the autouse log check proves the latter
for every test)."""

import pytest

from helpers import assert_invalid_token
from tokens import b64url, claims, mint, now, raw_token


def _expired(keys):
    return mint(claims(exp=now() - 60, iat=now() - 120), key=keys["rsa1"])


def _bad_signature(keys):
    h, _, s = mint(claims(), key=keys["rsa1"]).split(".")
    return ".".join([h, b64url(claims(sub="admin")), s])


def _alg_none(keys):
    return raw_token({"alg": "none"}, claims(), b"\x01" * 32)


def _malformed(keys):
    return "A===." + mint(claims(), key=keys["rsa1"]).split(".", 1)[1]


def _too_large(keys):
    return mint(claims(padding="x" * 17000), key=keys["rsa1"])


@pytest.mark.parametrize("make, reason", [
    (_expired, "expired"),
    (_bad_signature, "signature"),
    (_alg_none, "alg"),
    (_malformed, "malformed"),
    (_too_large, "too_large"),
])
def test_refusal_log_names_profile_and_reason(client, keys, make, reason):
    # /hr/ has exactly one profile, so the profile is known whatever the token
    token = make(keys)
    assert_invalid_token(client.get("/hr/", token), token=token)
    lines = client.assert_refusal_logged("hr")
    assert any(reason in line for line in lines), lines
