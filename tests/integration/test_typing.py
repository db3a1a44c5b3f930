# SPDX-License-Identifier: Apache-2.0
"""Explicit typing (RFC 9068, RFC 8725 3.11; issue 13), event and prefork:
token_type=at+jwt takes only typ at+jwt or application/at+jwt (any case);
whatever the profile says, a JWT of another kind (a DPoP proof, a security
event, a logout token) is never an access token."""

import os

import pytest

import sites
from helpers import Client, assert_invalid_token, assert_ok
from httpd_instance import Httpd
from tokens import claims, mint, raw_token

REFUSED = "token type not accepted"


@pytest.fixture(scope="module", params=["event", "prefork"])
def httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/typ", keys.jwks("rsa1", "ec1"))
    site = sites.site(
        sites.ca(pki),
        sites.profile("typed", jwk_url=jwks.url("/typ"), token_type="at+jwt"),
        sites.profile("untyped", jwk_url=jwks.url("/typ")),
        sites.location("/typed/", "typed"),
        sites.location("/untyped/", "untyped"),
    )
    server = Httpd(os.path.join(workdir, "typing-" + request.param),
                   request.param, site)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(httpd):
    return Client(httpd)


@pytest.fixture(autouse=True)
def _republish(jwks, keys):
    jwks.publish("/typ", keys.jwks("rsa1", "ec1"))
    yield


def typed(keys, typ):
    return mint(claims(), key=keys["rsa1"], header={"typ": typ})


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt",
                                 "AT+JWT", "Application/At+Jwt"])
def test_at_jwt_accepted(client, keys, typ):
    assert_ok(client.get("/typed/", typed(keys, typ)))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt2", "dpop+jwt"])
def test_other_types_refused_by_at_jwt_profile(client, keys, typ):
    assert_invalid_token(client.get("/typed/", typed(keys, typ)), REFUSED)
    assert "token_type" in client.assert_refusal_logged("typed")[-1]


def test_no_typ_refused_by_at_jwt_profile(client, keys):
    tok = mint(claims(), key=keys["rsa1"], header={"typ": "at+jwt"})
    assert_ok(client.get("/typed/", tok))
    tok = raw_token({"alg": "RS256", "kid": "rsa1"}, claims(),
                    key=keys["rsa1"])
    assert_invalid_token(client.get("/typed/", tok), REFUSED)


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "application/jwt"])
def test_untyped_profile_takes_access_tokens(client, keys, typ):
    assert_ok(client.get("/untyped/", typed(keys, typ)))


@pytest.mark.parametrize("typ", ["dpop+jwt", "application/dpop+jwt",
                                 "secevent+jwt", "logout+jwt",
                                 "token-introspection+jwt"])
def test_never_an_access_token(client, keys, typ):
    for path in ("/untyped/", "/typed/"):
        assert_invalid_token(client.get(path, typed(keys, typ)), REFUSED)
