# SPDX-License-Identifier: Apache-2.0
"""JWKS fetching: 503 when no keys can be had; one fetch shared by all
children (APR shared memory); a JWKS that is not served as JSON, redirects
to another origin and more than three redirects refused."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sites
from conftest import DOWN_CASES
from helpers import Client, assert_ok, assert_unavailable
from httpd_instance import Httpd, bad_lines
from jwks_server import JwksServer
from tokens import claims, mint

# the id the module logs a failed JWKS fetch with
FETCH_FAILED = "ORDSJWT00009"


@pytest.mark.parametrize("case", DOWN_CASES)
def test_jwks_unavailable_is_503(client, keys, jwks, bad_tls_jwks, expect_log, case):
    expect_log(FETCH_FAILED)
    token = mint(claims(), key=keys["rsa1"])
    r = client.get("/%s/" % case, token)
    assert_unavailable(r)
    assert "error=" not in r.headers.get("WWW-Authenticate", "")
    log = client.new_log()
    assert "[auth_ordsjwt:error]" in log and "ORDSJWT" in log, log
    # the client is told nothing about the JWK URL
    assert "127.0.0.1" not in r.text and "jwks" not in r.text
    # the untrusted servers were asked (TLS failed), never believed
    if case == "downuntrusted" or case == "downwronghost":
        assert bad_tls_jwks[case[4:]].fetch_count("/jwks") == 0


def test_jwks_fetch_times_out(client, httpd, keys, jwks, expect_log):
    if httpd.mpm != "event":
        pytest.skip("takes the fetch timeout; once is enough")
    expect_log(FETCH_FAILED)
    token = mint(claims(), key=keys["rsa1"])
    start = time.monotonic()
    r = client.get("/slow/", token)
    elapsed = time.monotonic() - start
    assert_unavailable(r)
    assert 3 <= elapsed < 7.5, "fetch took %.1f s; the timeout is 5 s" % elapsed
    assert jwks.fetch_count("/jwks-slow-event") == 1


def test_children_share_one_fetch(client, httpd, keys, jwks):
    path = "/jwks-count-%s" % httpd.mpm
    token = mint(claims(), key=keys["ec1"])
    assert jwks.fetch_count(path) == 0
    assert_ok(client.get("/count/", token))
    access = httpd.access_offset()

    def one(i):
        r = client.get("/count/", token)
        return r.status_code, r.headers.get("X-Remote-User")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(40)))
    assert results == [(200, "alice")] * 40
    assert jwks.fetch_count(path) == 1
    pids = httpd.access_pids(access)
    if httpd.mpm == "prefork":
        assert len(pids) >= 2, "all requests were served by one child: %r" % pids


# --- what a JWK URL may answer: Content-Type and redirects (issue 11, item 8) ---
# Its own event httpd: one profile and Location /xo-CASE/ per case (JWK URL
# /xo-CASE on the shared JWKS server), and a second JWKS server on another
# loopback port: another origin, which must never be asked.

XO_CASES = ("html", "notype", "octet", "charset", "problem", "same", "chain3",
            "chain4", "cross", "tohttp")
STATUS_PAGE = ("LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so\n"
               "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
               "    Require ip 127.0.0.1\n</Location>")


@pytest.fixture(scope="module")
def other_origin(pki, keys):
    server = JwksServer(pki["cert"], pki["key"]).start()
    server.publish("/jwks", keys.jwks("rsa1", "attacker"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def xo(workdir, pki, jwks, keys):
    parts = [sites.ca(pki), STATUS_PAGE]
    for case in XO_CASES:
        parts.append(sites.profile("xo" + case, jwk_url=jwks.url("/xo-" + case)))
        parts.append(sites.location("/xo-%s/" % case, "xo" + case))
    server = Httpd(os.path.join(workdir, "xo"), "event", sites.site(*parts)).start()
    yield server
    server.stop()


@pytest.fixture
def xc(xo, jwks, keys, other_origin):
    doc = keys.jwks("rsa1")
    jwks.publish("/xo-html", doc, content_type="text/html")
    jwks.publish("/xo-notype", doc, content_type=None)
    jwks.publish("/xo-octet", doc, content_type="application/octet-stream")
    jwks.publish("/xo-charset", doc, content_type="Application/JWK-Set+JSON; charset=utf-8")
    jwks.publish("/xo-problem", doc, content_type="application/x-keys+json")
    jwks.publish("/xo-target", doc)
    jwks.publish("/xo-same", b"", status=302)
    jwks.set_response("/xo-same", headers={"Location": "/xo-target"})
    # three same-origin redirects are followed, a fourth is not
    for n, hops in (("3", 3), ("4", 4)):
        for i in range(hops):
            path = "/xo-chain%s" % n + ("-%d" % i if i else "")
            jwks.publish(path, b"", status=307)
            jwks.set_response(path, headers={
                "Location": jwks.url("/xo-chain%s-%d" % (n, i + 1))
                if i + 1 < hops else jwks.url("/xo-target")})
    jwks.publish("/xo-cross", b"", status=302)
    jwks.set_response("/xo-cross", headers={"Location": other_origin.url("/jwks")})
    jwks.publish("/xo-tohttp", b"", status=301)
    jwks.set_response("/xo-tohttp", headers={
        "Location": "http://127.0.0.1:%d/xo-target" % jwks.port})
    client = Client(xo)
    client.acknowledged = []
    offset = xo.log_offset()
    yield client
    bad = bad_lines(xo.read_log(offset), client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def xo_last_error(server, case):
    r = requests.get(server.url("/ordsjwt-status?json"), timeout=10)
    assert r.status_code == 200, r.text
    for p in r.json()["profiles"]:
        if p["name"] == "xo" + case:
            return p["jwks"]["last_error"]
    raise AssertionError("no profile xo%s in %s" % (case, r.text))


@pytest.mark.parametrize("case,shown", [
    ("html", "JWKS served as text/html; expected application/json or "
             "application/jwk-set+json"),
    ("notype", "JWKS served without a Content-Type; expected application/json"),
    ("octet", "JWKS served as application/octet-stream; expected"),
])
def test_jwks_content_type_not_json_refused(xc, xo, keys, case, shown):
    xc.acknowledged.append(FETCH_FAILED)
    assert_unavailable(xc.get("/xo-%s/" % case, mint(claims(), key=keys["rsa1"])))
    failed = [l for l in xc.new_log().splitlines() if FETCH_FAILED in l]
    assert failed and shown in failed[0] and "/xo-" + case in failed[0], xc.new_log()
    if case == "html":
        assert "hint: the JWK URL answered with an HTML page" in failed[0], failed[0]
    assert shown in xo_last_error(xo, case)


@pytest.mark.parametrize("case", ["charset", "problem"])
def test_jwks_json_content_types_accepted(xc, keys, case):
    assert_ok(xc.get("/xo-%s/" % case, mint(claims(), key=keys["rsa1"])))


def test_jwks_same_origin_redirects_followed(xc, jwks, keys):
    before = jwks.fetch_count("/xo-target")
    assert_ok(xc.get("/xo-same/", mint(claims(), key=keys["rsa1"])))
    assert_ok(xc.get("/xo-chain3/", mint(claims(), key=keys["rsa1"])))
    assert jwks.fetch_count("/xo-target") == before + 2
    assert jwks.fetch_count("/xo-chain3-2") == 1


def test_jwks_more_than_three_redirects_refused(xc, xo, jwks, keys):
    xc.acknowledged.append(FETCH_FAILED)
    before = jwks.fetch_count("/xo-target")
    assert_unavailable(xc.get("/xo-chain4/", mint(claims(), key=keys["rsa1"])))
    assert jwks.fetch_count("/xo-chain4-3") == 1
    assert jwks.fetch_count("/xo-target") == before
    assert "more than 3 JWKS redirects" in xo_last_error(xo, "chain4")


def test_jwks_cross_origin_redirect_refused_never_asked(xc, xo, keys, other_origin):
    xc.acknowledged.append(FETCH_FAILED)
    for key in ("rsa1", "attacker"):
        assert_unavailable(xc.get("/xo-cross/", mint(claims(), key=keys[key])))
    assert other_origin.fetch_count("/jwks") == 0
    want = ("JWKS redirect to another origin refused: %s ; set jwk_url to the "
            "final URL" % other_origin.url("/jwks"))
    assert want in xc.new_log(), xc.new_log()
    assert want in xo_last_error(xo, "cross")


def test_jwks_redirect_to_http_refused(xc, xo, jwks, keys):
    xc.acknowledged.append(FETCH_FAILED)
    before = jwks.fetch_count("/xo-target")
    assert_unavailable(xc.get("/xo-tohttp/", mint(claims(), key=keys["rsa1"])))
    assert jwks.fetch_count("/xo-target") == before
    log = xc.new_log()
    assert "refused: not https" in log and "every redirect must use https" in log, log
