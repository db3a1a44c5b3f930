# SPDX-License-Identifier: Apache-2.0
"""DPoP (RFC 9449) end to end, event and prefork: oauth4webapi
(client.mjs) gets a DPoP-bound token from oidc-provider (cnf.jkt of its
key) and calls the profile of conf-examples/oidc-provider.conf with proofs
it makes itself. Accepted; the same proof replayed, a proof made for
another URL, another method or with another key, an hour old, and the
bound token sent as Bearer refused with the RFC 9449 challenge, which
oauth4webapi parses.

client.mjs retries once on use_dpop_nonce with the nonce the server sent
(RFC 9449 section 9), and "proof_claims" sets claims of a proof (a foreign
"nonce"). Where the example requires resource-server nonces
(OrdsJwtDpopNonce on), oauth4webapi is asked for one, retries with it and
is accepted; a nonce made with another fleet's key is refused, one made
with this fleet's key file is taken."""

import os
import time

import pytest

from dpop import nonce
from interop import DPOP_ALGS, jwt_parts
from interop_site import HR, NONCE_PATH, READ_PATH


def calls(api):
    """The plan: one case per call (see client.mjs)."""
    u = api.url
    return [
        {"method": "GET", "url": u(READ_PATH + "a")},
        {"method": "GET", "url": u(READ_PATH + "a"), "replay": 0},
        {"method": "GET", "url": u(READ_PATH + "b"),
         "send_to": u(READ_PATH + "c")},
        {"method": "POST", "url": u(READ_PATH + "d"), "send_method": "GET"},
        {"method": "GET", "url": u(READ_PATH + "e"), "key": "other"},
        {"method": "GET", "url": u(READ_PATH + "f"), "scheme": "Bearer"},
        {"method": "GET", "url": u(READ_PATH + "g?page=2")},
        {"method": "GET", "url": u(READ_PATH + "h"),
         "proof_claims": {"iat": int(time.time()) - 3600}},
    ]


def by_scheme(values):
    """WWW-Authenticate challenges by scheme; fetch joins repeated headers
    with ", ", so split before each scheme name."""
    out = {}
    for part in values.replace(", Bearer ", "\nBearer ").replace(
            ", DPoP ", "\nDPoP ").split("\n"):
        out[part.split(" ", 1)[0]] = part
    return out


def assert_dpop_refused(call, error):
    assert call["status"] == 401, call
    assert call["nonce_retries"] == 0
    got = by_scheme(call["headers"]["www-authenticate"])
    assert got["Bearer"] == 'Bearer realm="ORDS"', got
    assert got["DPoP"].startswith('DPoP algs="%s", error="%s", error_description="'
                                  % (DPOP_ALGS, error)), got
    if call["challenges"] is not None:
        # as oauth4webapi read them (RFC 9110 section 11.6.1 syntax)
        schemes = {c["scheme"]: c["parameters"] for c in call["challenges"]}
        assert schemes["dpop"]["algs"] == DPOP_ALGS, schemes
        assert schemes["dpop"]["error"] == error, schemes
        assert schemes["bearer"] == {"realm": "ORDS"}, schemes


def test_dpop_end_to_end(auth_server, api):
    out = auth_server.dpop_client("dpop-client", HR, "hr.read", calls(api))
    token = api.remember(out["access_token"])
    assert out["token_type"].lower() == "dpop"
    claims = jwt_parts(token)[1]
    assert set(claims["cnf"]) == {"jkt"}, claims
    ok, replayed, url, method, key, bearer, again, old = out["calls"]
    for call in (ok, again):
        assert call["status"] == 200, call
        assert call["sent"]["authorization"] == "DPoP " + token
        assert call["headers"]["x-remote-user"] == "dpop-client"
        assert call["nonce_retries"] == 0
    assert replayed["sent"] == ok["sent"]
    assert_dpop_refused(replayed, "invalid_dpop_proof")
    api.assert_refused("dpop_proof_replayed")
    for call in (url, method, key, old):
        assert call["challenges"], call     # oauth4webapi read the challenge
        assert_dpop_refused(call, "invalid_dpop_proof")
    assert bearer["sent"] == {"authorization": "Bearer " + token, "dpop": None}
    assert_dpop_refused(bearer, "invalid_token")
    api.assert_refused("binding_refused")
    log = api.new_log()
    assert log.count("(dpop_proof_invalid)") >= 4, log


@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256"])
def test_proof_algorithms(auth_server, api, alg):
    """Proofs signed with each kind of key oauth4webapi makes."""
    out = auth_server.dpop_client("dpop-client", HR, "hr.read",
                                  [{"method": "GET", "url": api.url(READ_PATH)}],
                                  alg=alg)
    api.remember(out["access_token"])
    (call,) = out["calls"]
    assert call["status"] == 200, call
    assert jwt_parts(call["sent"]["dpop"])[0]["alg"] == alg


def test_dpop_nonce(auth_server, api, httpd):
    """RFC 9449 section 9 with a real client: the first call is answered
    401 use_dpop_nonce with a DPoP-Nonce, oauth4webapi retries with it (and
    keeps it for the next call); a nonce from another fleet's key file is
    refused, one made with this fleet's key file is taken."""
    u = api.url
    foreign = nonce(os.urandom(32), int(time.time()))
    ours = nonce(httpd.nonce_key, int(time.time()) - 1)
    out = auth_server.dpop_client("dpop-client", HR, "hr.read", [
        {"method": "GET", "url": u(NONCE_PATH + "a")},
        {"method": "GET", "url": u(NONCE_PATH + "b")},
        {"method": "GET", "url": u(NONCE_PATH + "c"),
         "proof_claims": {"nonce": foreign}},
        {"method": "GET", "url": u(NONCE_PATH + "d"),
         "proof_claims": {"nonce": ours}},
        {"method": "GET", "url": u(READ_PATH + "e")},
    ])
    api.remember(out["access_token"])
    first, cached, other_fleet, fleet, elsewhere = out["calls"]
    assert first["status"] == 200 and first["nonce_retries"] == 1, first
    assert first["headers"]["x-remote-user"] == "dpop-client"
    sent = jwt_parts(first["sent"]["dpop"])[1]
    assert len(sent["nonce"]) == 32, sent
    assert cached["status"] == 200 and cached["nonce_retries"] == 0, cached
    assert jwt_parts(cached["sent"]["dpop"])[1]["nonce"] == sent["nonce"]
    # refused twice: the retry carries the foreign nonce again
    assert other_fleet["status"] == 401 and \
        other_fleet["nonce_retries"] == 1, other_fleet
    got = by_scheme(other_fleet["headers"]["www-authenticate"])
    assert got["DPoP"].startswith('DPoP algs="%s", error="use_dpop_nonce"'
                                  % DPOP_ALGS), got
    assert len(other_fleet["headers"]["dpop-nonce"]) == 32
    schemes = {c["scheme"]: c["parameters"]
               for c in other_fleet["challenges"]}
    assert schemes["dpop"]["error"] == "use_dpop_nonce", schemes
    assert fleet["status"] == 200 and fleet["nonce_retries"] == 0, fleet
    assert elsewhere["status"] == 200, elsewhere
    api.assert_refused("dpop_nonce_required")
    assert "not issued with this server's nonce key" in api.new_log()
