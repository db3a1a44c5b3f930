# SPDX-License-Identifier: Apache-2.0
"""The AS's signing keys as the module finds them, event and prefork:
RS256, PS256 and ES256 keys read through discovery_url= (the AS's
metadata, then its jwks_uri); metadata whose issuer is not the profile's
gives 503 + Retry-After with the reason logged; a key rotation at the AS
(restarted with a new keystore: new kid, old key dropped) followed without
an httpd restart."""

import json

import pytest

from interop import jwt_parts
from interop_site import BY_ALG, ROT

ISSUER_MISMATCH = "ORDSJWT00052"


def status_of(api, name):
    resp = api.get("/ordsjwt-status?json")
    assert resp.status == 200, resp
    return [p for p in json.loads(resp.body)["profiles"] if p["name"] == name][0]


@pytest.mark.parametrize("alg", sorted(BY_ALG))
def test_signing_algorithm(auth_server, api, alg):
    token = auth_server.token("reader", BY_ALG[alg], "hr.read")["access_token"]
    header = jwt_parts(token)[0]
    assert header["alg"] == alg and auth_server.kids[header["kid"]] == alg
    resp = api.get("/algs/", token)
    assert resp.status == 200, resp
    assert resp.header("X-Remote-User") == "reader"


def test_keys_found_by_discovery(auth_server, api):
    token = auth_server.token("reader", BY_ALG["ES256"], "hr.read")["access_token"]
    assert api.get("/algs/", token).status == 200
    st = status_of(api, "algs")
    assert st["discovery_url"] == auth_server.discovery_url
    assert st["jwks"]["jwks_uri"] == auth_server.issuer + "/jwks"
    assert sorted(k["kid"] for k in st["keys"]) == sorted(auth_server.kids)


@pytest.mark.expect_log(ISSUER_MISMATCH)
def test_metadata_issuer_mismatch(auth_server, api):
    """The profile says issuer=ISSUER/; the AS's metadata says ISSUER."""
    token = auth_server.token("reader", BY_ALG["RS256"], "hr.read")["access_token"]
    resp = api.get("/mismatch/", token)
    assert resp.status == 503, resp
    retry = resp.header("Retry-After")
    assert retry and retry.isdigit() and int(retry) > 0, resp
    log = api.new_log()
    assert ISSUER_MISMATCH in log, log
    assert '"%s"' % auth_server.issuer in log and '"%s/"' % auth_server.issuer in log
    assert status_of(api, "mismatch")["jwks"]["jwks_uri"] is None


def test_key_rotation(rotating_server, api):
    """The first token of the new key works at once (its unknown kid makes
    the module read the JWKS again), and the old key's token, still within
    its lifetime and in the token cache of some children, is refused once
    the JWKS no longer has its key."""
    old = rotating_server.token("reader", ROT, "hr.read")["access_token"]
    old_kid = jwt_parts(old)[0]["kid"]
    for _ in range(4):
        assert api.get("/rot/", old).status == 200
    generation = int(old_kid.split("-")[1]) + 1
    new_kid = "rot-%d" % generation
    rotating_server.rotate({new_kid: "RS256"})
    new = rotating_server.token("reader", ROT, "hr.read")["access_token"]
    assert jwt_parts(new)[0]["kid"] == new_kid
    resp = api.get("/rot/", new)
    assert resp.status == 200, resp
    for _ in range(4):
        resp = api.get("/rot/", old)
        assert resp.status == 401, resp
    api.assert_refused("kid_unknown")
    assert [k["kid"] for k in status_of(api, "rot")["keys"]] == [new_kid]
