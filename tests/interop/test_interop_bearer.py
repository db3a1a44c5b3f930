# SPDX-License-Identifier: Apache-2.0
"""Bearer tokens from oidc-provider (client-credentials grant, resource
indicator, RFC 9068 JWT), sent by curl to the profile of
conf-examples/oidc-provider.conf, event and prefork: accepted with
REMOTE_USER and the claims passed on; no token, a scope the AS did not
grant, a token for another resource and an expired token refused."""

import time

import pytest

from interop import DPOP_ALGS, jwt_parts
from interop_site import HR, OTHER, PROFILE, READ_PATH, SHORT, WRITE_PATH

REALM = 'Bearer realm="ORDS"'


def assert_challenge(resp, status, bearer, dpop=True):
    """status, the Bearer challenge exactly, and with dpop the DPoP one
    beside it (where the profile takes DPoP, RFC 9449 section 7.1)."""
    assert resp.status == status, resp
    challenges = resp.all("WWW-Authenticate")
    assert bearer in challenges, resp
    if status == 401 and dpop:
        assert any(c.startswith('DPoP algs="%s"' % DPOP_ALGS) for c in challenges), resp


def test_token_is_rfc9068(auth_server):
    """What the AS issues is what the profile expects."""
    body = auth_server.token("reader", HR, "hr.read")
    header, claims = jwt_parts(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256", header
    assert header["kid"] in auth_server.kids
    assert claims["iss"] == auth_server.issuer and claims["aud"] == HR, claims
    assert claims["sub"] == claims["client_id"] == "reader", claims
    assert body["token_type"] == "Bearer"


def test_accepted_with_claims_passed(auth_server, api):
    token = auth_server.token("reader", HR, "hr.read")["access_token"]
    resp = api.get(READ_PATH + "employees/", token)
    assert resp.status == 200, resp
    assert resp.header("X-Remote-User") == "reader"
    resp = api.get("/cgi/env.sh", token)
    assert resp.status == 200, resp
    env = dict(line.split("=", 1) for line in resp.body.splitlines() if "=" in line)
    assert env["REMOTE_USER"] == "reader"
    assert env["ORDSJWT_PROFILE"] == PROFILE
    assert env["ORDSJWT_SCOPES"] == "hr.read"
    assert env["ORDSJWT_CLAIM_iss"] == auth_server.issuer
    assert env["ORDSJWT_CLAIM_aud"] == HR
    assert env["ORDSJWT_CLAIM_client_id"] == "reader"
    assert env["ORDSJWT_CLAIM_jti"] == jwt_parts(token)[1]["jti"]


def test_no_token(api):
    assert_challenge(api.get(READ_PATH), 401, REALM)


@pytest.mark.expect_log("AH01631")     # httpd's own: authorization failure
def test_scope_not_granted(auth_server, api):
    """reader asks for both scopes; the AS grants it hr.read only."""
    body = auth_server.token("reader", HR, "hr.read hr.write")
    assert body["scope"] == "hr.read"
    token = body["access_token"]
    assert api.get(READ_PATH, token).status == 200
    assert_challenge(api.get(WRITE_PATH, token), 403,
                     REALM + ', error="insufficient_scope", scope="hr.write"')


def test_token_for_another_resource(auth_server, api):
    token = auth_server.token("reader", OTHER, "hr.read")["access_token"]
    assert jwt_parts(token)[1]["aud"] == OTHER
    resp = api.get(READ_PATH, token)
    assert_challenge(resp, 401, REALM + ', error="invalid_token", '
                     'error_description="audience not accepted"')
    api.assert_refused("audience_mismatch")


def test_expired_token(auth_server, api):
    """The AS gives tokens for SHORT a lifetime of SHORT_TTL seconds; the
    profile "short" allows no skew."""
    token = auth_server.token("reader", SHORT, "hr.read")["access_token"]
    claims = jwt_parts(token)[1]
    assert claims["exp"] - claims["iat"] <= 5
    assert api.get("/short/", token).status == 200
    time.sleep(max(0, claims["exp"] + 1.2 - time.time()))
    resp = api.get("/short/", token)
    assert_challenge(resp, 401, REALM + ', error="invalid_token", '
                     'error_description="token has expired"', dpop=False)
    api.assert_refused("expired")
