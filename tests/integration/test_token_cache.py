# SPDX-License-Identifier: Apache-2.0
"""The verified-token cache of each child process (OrdsJwtTokenCache,
issue 10): a repeated token is accepted from the cache only while the keys
that verified it are current and exp, nbf and allowed_age hold now; a
token is judged per profile; with the cache off every answer is the same.

Each test runs against three servers: event and prefork with the cache on,
event with it off."""

import os
import time

import pytest

from helpers import Client, assert_invalid_token, assert_ok
from httpd_instance import Httpd, bad_lines
from sites import ca, location, profile, site
from tokens import AUDIENCE, claims, mint, now

SERVERS = (("event", "on"), ("prefork", "on"), ("event", "off"))
ONE_CHILD = {
    "event": "StartServers 1\nServerLimit 1\nMaxRequestWorkers 8\n"
             "MinSpareThreads 1\nMaxSpareThreads 8\n",
    "prefork": "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
               "ServerLimit 1\nMaxRequestWorkers 1\n",
}


def cache_site(pki, jwks, cache):
    url = jwks.url
    return site(
        ca(pki),
        "OrdsJwtTokenCache %s" % ("64" if cache == "on" else "off"),
        "OrdsJwtJwksRefreshInterval 2",
        "OrdsJwtJwksMinRefreshInterval 1",
        profile("tc", jwk_url=url("/tc"), allowed_skew=0),
        profile("tcage", jwk_url=url("/tc"), allowed_skew=0, allowed_age=2),
        profile("tcother", audience="ords/other/", jwk_url=url("/tc")),
        profile("tcrot", jwk_url=url("/tc-rot"), allowed_skew=0),
        location("/tc/", "tc"),
        location("/age/", "tcage"),
        location("/other/", "tcother"),
        # two profiles of one issuer: the first one is chosen
        location("/both/", "tcother tc"),
        location("/rot/", "tcrot"),
    )


@pytest.fixture(scope="module", params=SERVERS,
                ids=["-".join(s) for s in SERVERS])
def tc_httpd(request, workdir, pki, jwks, keys):
    mpm, cache = request.param
    jwks.publish("/tc", keys.jwks("rsa1", "ec1"))
    jwks.publish("/tc-rot", keys.jwks("rsa1", "ec1"))
    # one child process, so that a repeated token meets the child that
    # cached it (the cache is per process)
    server = Httpd(os.path.join(workdir, "tc-%s-%s" % (mpm, cache)), mpm,
                   cache_site(pki, jwks, cache), loglevel="auth_ordsjwt:debug")
    server.mpm_extra = ONE_CHILD[mpm]
    server.start()
    server.cache = cache
    yield server
    server.stop()


@pytest.fixture
def tc(tc_httpd, jwks, keys):
    jwks.set_document("/tc", keys.jwks("rsa1", "ec1"))
    jwks.set_document("/tc-rot", keys.jwks("rsa1", "ec1"))
    client = Client(tc_httpd)
    client.cache = tc_httpd.cache
    yield client
    # AH00161: with one prefork child by design, the parent says so when
    # that child is busy (slow under the sanitizers)
    bad = bad_lines(client.new_log(), ("AH00161",))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def cached_hits(client):
    return sum(1 for line in client.new_log().splitlines()
               if "ORDSJWT00015" in line and "(cached)" in line)


def wait_until(t):
    while time.time() < t:
        time.sleep(0.05)


def test_repeated_token_is_served_from_the_cache(tc, keys):
    token = mint(claims(), key=keys["rsa1"])
    for _ in range(5):
        assert_ok(tc.get("/tc/", token))
    assert cached_hits(tc) == (4 if tc.cache == "on" else 0), tc.new_log()


def test_refusals_are_not_cached(tc, keys):
    token = mint(claims(aud="ords/nope/"), key=keys["rsa1"])
    for _ in range(3):
        assert_invalid_token(tc.get("/tc/", token), "audience not accepted")
    assert cached_hits(tc) == 0
    assert tc.new_log().count("ORDSJWT00011") == 3


def test_expired_at_exp_with_no_skew(tc, keys):
    exp = now() + 2
    token = mint(claims(exp=exp), key=keys["rsa1"])
    assert_ok(tc.get("/tc/", token))
    assert_ok(tc.get("/tc/", token))
    wait_until(exp + 1.05)
    assert_invalid_token(tc.get("/tc/", token), "token has expired")
    assert_invalid_token(tc.get("/tc/", token), "token has expired")


def test_too_old_at_iat_plus_allowed_age(tc, keys):
    iat = now()
    token = mint(claims(iat=iat), key=keys["rsa1"])
    assert_ok(tc.get("/age/", token))
    assert_ok(tc.get("/age/", token))
    wait_until(iat + 3.05)
    assert_invalid_token(tc.get("/age/", token), "token is too old")


def test_not_yet_valid_then_valid(tc, keys):
    nbf = now() + 2
    token = mint(claims(nbf=nbf), key=keys["rsa1"])
    assert_invalid_token(tc.get("/tc/", token), "token is not yet valid")
    wait_until(nbf + 0.05)
    assert_ok(tc.get("/tc/", token))
    assert_ok(tc.get("/tc/", token))


def test_one_token_judged_per_profile(tc, keys):
    token = mint(claims(), key=keys["rsa1"])        # aud: the tc profile's
    assert_ok(tc.get("/tc/", token))
    assert_ok(tc.get("/tc/", token))
    assert_invalid_token(tc.get("/other/", token), "audience not accepted")
    # /both/ holds tcother and tc, one issuer: the audience chooses tc
    # (issue 15), whose cached verdict answers; /other/ above was not
    # answered by it
    assert_ok(tc.get("/both/", token))
    other = mint(claims(aud="ords/other/"), key=keys["rsa1"])
    assert_ok(tc.get("/both/", other))
    assert_ok(tc.get("/both/", other))
    assert_invalid_token(tc.get("/tc/", other), "audience not accepted")
    assert AUDIENCE != "ords/other/"


def test_key_removed_from_the_jwks_takes_its_tokens(tc, jwks, keys):
    token = mint(claims(), key=keys["ec1"])
    assert_ok(tc.get("/rot/", token))
    assert_ok(tc.get("/rot/", token))
    jwks.set_document("/tc-rot", keys.jwks("rsa1"))
    time.sleep(2.2)                         # the refresh interval passes
    assert_ok(tc.get("/rot/", mint(claims(), key=keys["rsa1"])))
    assert_invalid_token(tc.get("/rot/", token), "signing key not found")
