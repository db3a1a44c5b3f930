# SPDX-License-Identifier: Apache-2.0
"""A DPoP replay store that hangs or restarts (issue 20, item 1), on a real
httpd (event and prefork, 8 workers each) behind a real redis-server and
httpd's mod_socache_redis.

- redis stopped with SIGSTOP (a failover, a paused VM): with as many DPoP
  requests in flight as the server has workers, a static page and a Bearer
  location still answer within 1 s; each DPoP request gets 503 with
  Retry-After within OrdsJwtReplayTimeout + 1 s; after SIGCONT, DPoP
  requests get 200 again without a restart.
- redis restarted on its port: every child holds a pooled connection to
  the old process; the first DPoP request to each child gets 200.
- one proof sent by as many clients as there are workers at once: one 200.
"""

import http.client
import os
import signal
import threading
import time

import pytest
import requests

import sites
from dpop import bound_token, proof, send
from httpd_instance import Httpd, bad_lines
from jwks_server import free_port
from redis_server import RedisServer
from test_dpop import _republish, pk  # noqa: F401 (the same fixtures)
from tokens import claims, mint

REDIS_MOD = ("LoadModule socache_redis_module "
             "/usr/lib/apache2/modules/mod_socache_redis.so")
WORKERS = 8
TIMEOUT_MS = 500        # OrdsJwtReplayTimeout in these tests
# the MPM's "every worker busy" (prefork, event)
MPM_BUSY_IDS = ("AH00161", "AH00484", "AH10159")
# mod_socache_redis's own errors while redis is away (apr_redis), the
# module's "store cannot be reached" line
STORE_DOWN_IDS = ("ORDSJWT00071", "AH03478", "AH03479", "AH03480",
                  "AH03481", "AH03482", "AH03483", "AH03484", "AH03485",
                  "AH03486") + MPM_BUSY_IDS

MPM_EXTRA = {
    "prefork": "StartServers %d\nMinSpareServers %d\nMaxSpareServers %d\n"
               "ServerLimit %d\nMaxRequestWorkers %d\n"
               % ((WORKERS,) * 5),
    "event": "StartServers 2\nServerLimit 2\nThreadsPerChild %d\n"
             "MinSpareThreads %d\nMaxSpareThreads %d\nMaxRequestWorkers %d\n"
             % (WORKERS // 2, WORKERS // 2, WORKERS, WORKERS),
}


def store_site(pki, jwks, redis, timeout=True):
    return sites.site(
        REDIS_MOD,
        sites.ca(pki),
        "OrdsJwtReplayCache redis:%s" % redis.address,
        "OrdsJwtReplayTimeout %d" % TIMEOUT_MS if timeout else "",
        "KeepAliveTimeout 30",
        sites.profile("dp", jwk_url=jwks.url("/dp"), dpop="allowed"),
        sites.profile("plain", jwk_url=jwks.url("/dp")),
        sites.location("/dpop/", "dp"),
        sites.location("/bearer/", "plain"),
    )


@pytest.fixture(scope="module")
def redis(workdir):
    server = RedisServer(os.path.join(workdir, "replay-redis"))
    server.start()
    yield server
    server.resume()
    server.stop()


@pytest.fixture(scope="module", params=["event", "prefork"])
def httpd(request, workdir, pki, jwks, keys, redis):
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    server = Httpd(os.path.join(workdir, "replay-" + request.param),
                   request.param, store_site(pki, jwks, redis),
                   port=free_port())
    server.mpm_extra = MPM_EXTRA[request.param]
    server.start()
    yield server
    server.stop()


def dpop_get(httpd, token, key, path="/dpop/r", timeout=30):
    """One DPoP request with a fresh proof: (response or exception,
    seconds it took)."""
    t0 = time.monotonic()
    try:
        resp = send(httpd, path, token,
                    proof(key, "GET", httpd.url(path), token),
                    timeout=timeout)
    except requests.RequestException as e:
        resp = e
    return resp, time.monotonic() - t0


def timed_get(httpd, path, headers=None, timeout=5):
    t0 = time.monotonic()
    try:
        resp = requests.get(httpd.url(path), timeout=timeout,
                            headers=dict({"Connection": "close"},
                                         **(headers or {})))
    except requests.RequestException as e:
        resp = e
    return resp, time.monotonic() - t0


def wait_dpop_ok(httpd, token, key, seconds):
    """DPoP requests, one every 0.2 s, until one gets 200: the statuses
    seen."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        resp, _ = dpop_get(httpd, token, key, timeout=10)
        seen.append(getattr(resp, "status_code", repr(resp)))
        if seen[-1] == 200:
            break
        time.sleep(0.2)
    return seen


@pytest.mark.expect_log(*STORE_DOWN_IDS)
def test_hung_store_does_not_stall_the_server(httpd, redis, keys, pk):
    offset = httpd.log_offset()
    token = bound_token(keys["rsa1"], pk["es"])
    bearer = mint(claims(), key=keys["rsa1"])
    assert dpop_get(httpd, token, pk["es"])[0].status_code == 200
    results = [None] * WORKERS

    def one(i):
        results[i] = dpop_get(httpd, token, pk["es"], timeout=8)

    redis.pause()
    try:
        threads = [threading.Thread(target=one, args=(i,))
                   for i in range(WORKERS)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        page, page_s = timed_get(httpd, "/")
        api, api_s = timed_get(httpd, "/bearer/x",
                               {"Authorization": "Bearer " + bearer})
        for t in threads:
            t.join(15)
        # the store still hangs: answered at once, no waiting
        late, late_s = dpop_get(httpd, token, pk["es"], timeout=8)
    finally:
        redis.resume()
    assert getattr(page, "status_code", page) == 200 and page_s < 1.0, \
        (page, page_s)
    assert getattr(api, "status_code", api) == 200 and api_s < 1.0, \
        (api, api_s)
    for resp, took in results:
        assert getattr(resp, "status_code", resp) == 503, (resp, took)
        assert int(resp.headers["Retry-After"]) > 0
        assert took < TIMEOUT_MS / 1000 + 1.0, took
    # the store was found down: the next request is answered at once, not
    # after the deadline (one request a second tries the store again)
    assert getattr(late, "status_code", late) == 503, late
    assert late_s < TIMEOUT_MS / 2000, late_s
    # back without a restart
    seen = wait_dpop_ok(httpd, token, pk["es"], 10)
    assert seen[-1] == 200, seen
    log = httpd.read_log(offset)
    assert "ORDSJWT00071" in log, log
    # logged once per interval and process, not per request
    assert log.count("ORDSJWT00071") <= 2 * WORKERS, log
    assert not bad_lines(log, STORE_DOWN_IDS), log


@pytest.mark.expect_log(*MPM_BUSY_IDS)
def test_one_proof_sent_at_once_to_every_worker(httpd, redis, keys, pk):
    """The look-up and the store of a key are one step on this host (the
    lock of its stripe): of as many copies of one proof as there are
    workers, sent at the same time while redis holds writes back for
    0.3 s (every look-up would find the key absent), exactly one is
    taken."""
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", httpd.url("/dpop/once"), token)
    statuses = [None] * WORKERS
    barrier = threading.Barrier(WORKERS + 1)

    def one(i):
        barrier.wait()
        statuses[i] = send(httpd, "/dpop/once", token, p).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    assert redis.command("CLIENT", "PAUSE", "300", "WRITE") == "+OK"
    barrier.wait()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200] + [401] * (WORKERS - 1), statuses


class Pinned:
    """One keep-alive connection, so one httpd child (prefork) or one
    process (event) answers every request sent on it."""

    def __init__(self, httpd):
        self.httpd = httpd
        self.conn = http.client.HTTPConnection("127.0.0.1", httpd.port,
                                               timeout=10)

    def dpop(self, token, key, path="/dpop/p"):
        self.conn.request("GET", path, headers={
            "Authorization": "DPoP " + token,
            "DPoP": proof(key, "GET", self.httpd.url(path), token)})
        resp = self.conn.getresponse()
        resp.read()
        return resp.status

    def close(self):
        self.conn.close()


@pytest.mark.expect_log(*STORE_DOWN_IDS)
def test_store_restarted_is_used_at_once(httpd, redis, keys, pk):
    offset = httpd.log_offset()
    token = bound_token(keys["rsa1"], pk["es"])
    # every worker busy with a connection of its own: each child holds a
    # pooled connection to this redis process
    conns = [Pinned(httpd) for _ in range(WORKERS)]
    try:
        assert [c.dpop(token, pk["es"]) for c in conns] == [200] * WORKERS
        redis.stop()
        redis.start()
        access = httpd.access_offset()
        statuses = [c.dpop(token, pk["es"]) for c in conns]
    finally:
        for c in conns:
            c.close()
    assert statuses == [200] * WORKERS, statuses
    if httpd.mpm == "prefork":
        # each answer came from another child (a line is logged just
        # after its answer went out)
        deadline = time.monotonic() + 5
        while len(httpd.access_pids(access)) < WORKERS \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(httpd.access_pids(access)) == WORKERS
    assert not bad_lines(httpd.read_log(offset), STORE_DOWN_IDS)


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_restart_and_stop_while_the_store_hangs(mpm, workdir, pki, jwks,
                                                keys, redis, pk):
    """A lane left with a hung store holds up neither a graceful restart
    nor a stop, and no child dies of it."""
    server = Httpd(os.path.join(workdir, "replay-stop-" + mpm), mpm,
                   store_site(pki, jwks, redis), port=free_port())
    server.mpm_extra = MPM_EXTRA[mpm]
    server.start()
    token = bound_token(keys["rsa1"], pk["es"])
    try:
        assert dpop_get(server, token, pk["es"])[0].status_code == 200
        redis.pause()
        for _ in range(3):
            resp, took = dpop_get(server, token, pk["es"], timeout=8)
            assert resp.status_code == 503, resp
            assert took < TIMEOUT_MS / 1000 + 1.0
        server.graceful()
        assert timed_get(server, "/")[0].status_code == 200
        resp, _ = dpop_get(server, token, pk["es"], timeout=8)
        assert resp.status_code == 503, resp
        t0 = time.monotonic()
        server.stop()
        assert time.monotonic() - t0 < 10
    finally:
        redis.resume()
        server.stop()
    assert not bad_lines(server.read_log(), STORE_DOWN_IDS + (
        "AH00170",)), server.read_log()
