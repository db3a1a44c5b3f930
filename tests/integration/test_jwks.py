# SPDX-License-Identifier: Apache-2.0
"""JWKS fetching: 503 when no keys can be had; one fetch shared by all
children (APR shared memory)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import DOWN_CASES
from helpers import assert_ok, assert_unavailable
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
