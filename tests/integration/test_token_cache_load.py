# SPDX-License-Identifier: Apache-2.0
"""The token cache under many distinct tokens (issue 20, item 8): 12,000
distinct valid tokens, 12 times OrdsJwtTokenCache, through one child
process on one keep-alive connection. The child's resident memory stays
flat once the cache is full (evictions free what they evict), and the
whole cache costs what the README says an entry costs. The count at
100,000 tokens is a unit test (tests/unit/test_token_cache.c)."""

import http.client
import os
import time

import pytest

from httpd_instance import Httpd, bad_lines, sanitizer_runtime
from sites import ca, location, profile, site
from test_token_cache import ONE_CHILD
from tokens import claims, now, raw_token

CACHE = 1000
N = 12000
MARKS = (2 * CACHE, N // 2, N)


def rss_kib(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %s" % pid)


def tokens(keys, n, start=0):
    """n distinct ES256 tokens of a typical size (about 600 bytes)."""
    header = {"alg": "ES256", "kid": "ec1", "typ": "JWT"}
    t = now()
    for i in range(start, start + n):
        body = claims(sub="user-%06d" % i, jti="%032x" % i, iat=t, exp=t + 600,
                      groups=["HR", "DEV"], email="user-%06d@example.com" % i)
        yield raw_token(header, body, key=keys["ec1"])


@pytest.fixture(scope="module", params=("event", "prefork"))
def load(request, workdir, pki, jwks, keys):
    jwks.publish("/tcl", keys.jwks("ec1"))
    server = Httpd(os.path.join(workdir, "tc-load-" + request.param),
                   request.param,
                   site(ca(pki), "OrdsJwtTokenCache %d" % CACHE,
                        profile("tcl", jwk_url=jwks.url("/tcl")),
                        location("/tcl/", "tcl")))
    server.mpm_extra = ONE_CHILD[request.param]
    server.start()
    yield server
    server.stop()


def send(conn, token):
    conn.request("GET", "/tcl/", headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status


def test_memory_flat_once_the_cache_is_full(load, keys):
    offset = load.log_offset()
    conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=30)
    send(conn, next(tokens(keys, 1, start=N)))
    time.sleep(0.5)
    (pid,) = load.access_pids()
    start = rss_kib(pid)
    marks = {}
    for i, token in enumerate(tokens(keys, N)):
        send(conn, token)
        if i + 1 in MARKS:
            marks[i + 1] = rss_kib(pid)
    conn.close()
    assert load.access_pids() == {pid}, "another child served"
    bad = bad_lines(load.read_log(offset), ("AH00161",))
    assert not bad, "\n".join(bad)
    if sanitizer_runtime(load.module):
        return      # ASan keeps freed memory in quarantine: RSS says nothing
    half, end = marks[N // 2], marks[N]
    print("RSS of the child: %d KiB at start, then %s" % (start, ", ".join(
        "%d KiB after %d tokens" % (marks[m], m) for m in MARKS)))
    # flat once full: evictions free what they evict (the event MPM's
    # threads warm their own pools on the way, hence the slack)
    assert end - half < 1024, marks
    # the whole cache: about 2 KB per entry (README), with slack
    assert end - start < CACHE * 4 + 4096, (start, marks)
