# SPDX-License-Identifier: Apache-2.0
"""Signing keys through rotation, outages and load (the JWKS lifecycle).

These tests run their own httpd with short intervals:
OrdsJwtJwksMinRefreshInterval 1 (one fetch per URL per second at most),
OrdsJwtJwksFetchTimeout 2, so that refresh, back-off and outages can be
shown in seconds. Every JWK URL is its own path on the loopback HTTPS JWKS
server, which counts the fetches.
"""

import os
import random
import string
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import INVALID_PREFIX, Client, assert_invalid_token, assert_ok, \
    assert_unavailable
from httpd_instance import Httpd, bad_lines
import sites
from tokens import claims, mint

FETCH_FAILED = "ORDSJWT00009"
MIN_INTERVAL = 1
FETCH_TIMEOUT = 2

# profile name -> JWK URL path; each gets a Location /<name>/
PATHS = ("rot", "remove", "stale", "maxage", "etag", "nokeys", "slow", "flood",
         "redirhttp", "redirhttps", "target", "load", "graceful",
         "garbage", "octet", "html", "huge", "empty", "notkeys", "toomany", "dupkid")


# OCI IAM identity domains publish their keys here, readable without
# signing in only when "Configure client access" is on
OCI_PATH = "/lc-oci/admin/v1/SigningCert/jwk"


def pem_files(workdir, keys):
    path = os.path.join(workdir, "static1.pem")
    with open(path, "wb") as f:
        f.write(keys["static1"].public_pem())
    os.chmod(path, 0o644)
    return path


def site(pki, jwks, pem):
    out = [sites.ca(pki),
           "OrdsJwtJwksRefreshInterval 3600",
           "OrdsJwtJwksMinRefreshInterval %d" % MIN_INTERVAL,
           "OrdsJwtJwksFetchTimeout %d" % FETCH_TIMEOUT,
           "OrdsJwtJwksMaxStale 3600"]
    for name in PATHS:
        out.append(sites.profile(name, jwk_url=jwks.url("/lc-" + name)))
        out.append(sites.location("/%s/" % name, name))
    out.append(sites.profile("oci", "https://identity.oraclecloud.com/",
                             jwk_url=jwks.url(OCI_PATH)))
    out.append(sites.profile("pem", "https://static.example/", pem_file=pem))
    out.append(sites.profile("pemkid", "https://static.example/", pem_file=pem,
                             pem_kid="static1"))
    out += [sites.location("/%s/" % name, name) for name in ("oci", "pem", "pemkid")]
    return sites.site(*out)


def make_httpd(workdir, pki, jwks, keys, mpm, name, extra=""):
    return Httpd(os.path.join(workdir, name), mpm,
                 site(pki, jwks, pem_files(workdir, keys)) + extra)


@pytest.fixture(scope="module", params=("event", "prefork"))
def lc_httpd(request, workdir, pki, jwks, keys):
    for name in PATHS:
        jwks.publish("/lc-" + name, keys.jwks("rsa1"))
    server = make_httpd(workdir, pki, jwks, keys, request.param,
                        "lifecycle-" + request.param).start()
    yield server
    server.stop()


@pytest.fixture
def lc(lc_httpd, jwks, keys, request):
    """A client of the lifecycle httpd; checks its error log afterwards."""
    client = Client(lc_httpd)
    client.acknowledged = []
    offset = lc_httpd.log_offset()
    yield client
    bad = bad_lines(lc_httpd.read_log(offset), client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def fetches(jwks, name):
    return jwks.fetch_count("/lc-" + name)


def wait_min_interval():
    time.sleep(MIN_INTERVAL + 0.2)


def test_new_key_accepted_on_first_request(lc, jwks, keys):
    assert_ok(lc.get("/rot/", mint(claims(), key=keys["rsa1"])))
    assert fetches(jwks, "rot") == 1
    jwks.set_document("/lc-rot", keys.jwks("rsa1", "ec1"))
    wait_min_interval()
    # ec1 is unknown to the cached keys: one refetch, then accepted
    assert_ok(lc.get("/rot/", mint(claims(), key=keys["ec1"])))
    assert fetches(jwks, "rot") == 2
    assert_ok(lc.get("/rot/", mint(claims(), key=keys["rsa1"])))
    assert fetches(jwks, "rot") == 2


def test_removed_key_refused_after_refetch_in_every_process(lc, jwks, keys):
    jwks.set_document("/lc-remove", keys.jwks("rsa1", "ec1"))
    ec_token = mint(claims(), key=keys["ec1"])
    assert_ok(lc.get("/remove/", ec_token))
    # the issuer drops ec1 and adds ps1; a ps1 token makes the module refetch
    jwks.set_document("/lc-remove", keys.jwks("rsa1", "ps1"))
    wait_min_interval()
    assert_ok(lc.get("/remove/", mint(claims(), key=keys["ps1"])))
    assert fetches(jwks, "remove") == 2
    # no process verifies with ec1 any more (new connection each time)
    for _ in range(12):
        assert_invalid_token(lc.get("/remove/", ec_token), "signing key not found")


def test_outage_keeps_stale_keys(lc, jwks, keys):
    lc.acknowledged.append(FETCH_FAILED)
    jwks.set_response("/lc-stale", headers={"Cache-Control": "max-age=1"})
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(lc.get("/stale/", token))
    jwks.set_response("/lc-stale", status=500, body="down")
    time.sleep(MIN_INTERVAL + 0.3)
    assert_ok(lc.get("/stale/", token))        # refetch fails, keys stay
    assert fetches(jwks, "stale") == 2
    assert "HTTP status 500" in lc.new_log() and "keeping the previous keys" in lc.new_log()
    start = time.monotonic()
    for _ in range(10):
        assert_ok(lc.get("/stale/", token))
    # retried no more often than the min interval
    assert fetches(jwks, "stale") <= 2 + int((time.monotonic() - start) / MIN_INTERVAL)


def test_max_age_triggers_refresh(lc, jwks, keys):
    jwks.set_response("/lc-maxage", headers={"Cache-Control": "public, max-age=1"})
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(lc.get("/maxage/", token))
    assert_ok(lc.get("/maxage/", token))
    assert fetches(jwks, "maxage") == 1
    time.sleep(1.3)
    assert_ok(lc.get("/maxage/", token))
    assert fetches(jwks, "maxage") == 2


def test_etag_revalidation(lc, jwks, keys):
    jwks.set_response("/lc-etag", headers={"Cache-Control": "max-age=1",
                                           "ETag": '"v1"'})
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(lc.get("/etag/", token))
    time.sleep(1.3)
    assert_ok(lc.get("/etag/", token))
    assert fetches(jwks, "etag") == 2
    assert jwks.conditional_count("/lc-etag") == 1     # answered 304
    assert_ok(lc.get("/etag/", token))


def test_no_keys_at_all_is_503_with_retry_after(lc, jwks, keys):
    lc.acknowledged.append(FETCH_FAILED)
    jwks.set_response("/lc-nokeys", status=503, body="maintenance")
    token = mint(claims(), key=keys["rsa1"])
    r = lc.get("/nokeys/", token)
    assert_unavailable(r)
    assert int(r.headers["Retry-After"]) <= MIN_INTERVAL
    # the issuer comes back: after the back-off the keys are fetched
    jwks.set_response("/lc-nokeys", status=200, body=keys.jwks("rsa1"))
    wait_min_interval()
    assert_ok(lc.get("/nokeys/", token))


def test_slow_issuer_bounded_latency(lc, jwks, keys):
    lc.acknowledged.append(FETCH_FAILED)
    jwks.set_response("/lc-slow", delay=FETCH_TIMEOUT + 2)
    token = mint(claims(), key=keys["rsa1"])
    start = time.monotonic()
    r = lc.get("/slow/", token)
    assert_unavailable(r)
    assert time.monotonic() - start < FETCH_TIMEOUT + 1.5
    assert "Timeout" in lc.new_log() or "timed out" in lc.new_log()


@pytest.mark.parametrize("case,body,ctype,logged", [
    ("garbage", b"\x00\xff\xfe garbage", "application/json", "not valid JSON"),
    ("octet", b'{"keys":[]}', "application/octet-stream", "served as application/octet-stream"),
    ("html", b"<html><body>Sign in</body></html>", "text/html", "HTML page"),
    ("huge", b'{"keys":[' + b" " * (300 * 1024) + b"]}", "application/json",
     "larger than"),
    ("empty", b"", "application/json", "empty response body"),
    ("notkeys", b'{"keys":"none"}', "application/json", '"keys" array'),
    ("dupkid", None, "application/json", "several keys with kid"),
    ("toomany", None, "application/json", "more than the limit of 64"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_bad_bodies_never_become_keys(lc, jwks, keys, case, body, ctype, logged):
    lc.acknowledged.append(FETCH_FAILED)
    if case == "dupkid":
        doc = keys.jwks("rsa1")
        doc["keys"].append(dict(keys["ec1"].public_jwk(), kid="rsa1"))
        body = doc
    elif case == "toomany":
        doc = keys.jwks("rsa1")
        doc["keys"] = [dict(doc["keys"][0], kid="k%d" % i) for i in range(65)]
        body = doc
    jwks.set_response("/lc-" + case, body=body, content_type=ctype)
    assert_unavailable(lc.get("/%s/" % case, mint(claims(), key=keys["rsa1"])))
    log = lc.new_log()
    assert logged in log and "/lc-" + case in log, log


def test_redirect_to_http_refused(lc, jwks, keys):
    lc.acknowledged.append(FETCH_FAILED)
    jwks.set_response("/lc-redirhttp", status=302, body="",
                      headers={"Location": "http://127.0.0.1:%d/lc-target" % jwks.port})
    assert_unavailable(lc.get("/redirhttp/", mint(claims(), key=keys["rsa1"])))
    assert "every redirect must use https" in lc.new_log(), lc.new_log()
    assert fetches(jwks, "target") == 0


def test_redirect_to_https_followed(lc, jwks, keys):
    jwks.set_response("/lc-redirhttps", status=302, body="",
                      headers={"Location": jwks.url("/lc-target")})
    assert_ok(lc.get("/redirhttps/", mint(claims(), key=keys["rsa1"])))
    assert fetches(jwks, "target") == 1


def test_oci_domain_without_client_access_gets_the_hint(lc, jwks, keys):
    lc.acknowledged.append(FETCH_FAILED)
    jwks.set_response(OCI_PATH, status=401, body='{"detail":"unauthorized"}')
    assert_unavailable(lc.get("/oci/", mint(claims(
        iss="https://identity.oraclecloud.com/"), key=keys["rsa1"])))
    log = lc.new_log()
    assert "HTTP status 401" in log and "Configure client access" in log, log


def test_static_pem_key_never_touches_the_network(lc, jwks, keys):
    token = mint(claims(iss="https://static.example/"), key=keys["static1"])
    assert_ok(lc.get("/pem/", token))
    assert_ok(lc.get("/pemkid/", token))
    # without pem_kid any kid is accepted; with it, only that kid
    other_kid = mint(claims(iss="https://static.example/"), key=keys["static1"],
                     header={"kid": "whatever"})
    assert_ok(lc.get("/pem/", other_kid))
    assert_invalid_token(lc.get("/pemkid/", other_kid), "signing key not found")
    assert_invalid_token(lc.get("/pem/", mint(claims(iss="https://static.example/"),
                                              key=keys["ec1"])),
                         "signature is invalid")
    # no JWKS was fetched to serve these requests
    assert "ORDSJWT00010" not in lc.new_log() and "ORDSJWT00009" not in lc.new_log()


def random_kid():
    return "".join(random.choice(string.ascii_letters) for _ in range(12))


def test_random_kid_flood_fetches_at_most_once_per_interval(lc, jwks, keys):
    assert_ok(lc.get("/flood/", mint(claims(), key=keys["rsa1"])))
    start = time.monotonic()

    def flood(_):
        codes = []
        while time.monotonic() - start < 3.5 * MIN_INTERVAL:
            token = mint(claims(), key=keys["attacker"],
                         header={"kid": random_kid()})
            r = lc.get("/flood/", token)
            codes.append((r.status_code, r.headers.get("WWW-Authenticate"),
                          r.headers.get("Retry-After") is not None))
        return codes

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sum(pool.map(flood, range(8)), [])
    elapsed = time.monotonic() - start
    assert len(codes) > 50
    # while a forced refetch is in flight, the requests beyond the waiter
    # bound (OrdsJwtJwksMaxWaiters) get 503 + Retry-After rather than wait
    # (on a loaded machine the fetch can outlast the bound's grace); every
    # other one is refused at once
    refused = (401, INVALID_PREFIX + 'signing key not found"', False)
    assert set(codes) <= {refused, (503, None, True)}, set(codes)
    assert codes.count(refused) > len(codes) * 0.8, set(codes)
    # the first fetch (not forced), then forced refetches: one at once (the
    # forced budget is apart from other fetches), then at most one per
    # interval (slot times are milliseconds).
    allowed = 1 + 1 + int(elapsed / MIN_INTERVAL)
    assert 3 <= fetches(jwks, "flood") <= allowed, (fetches(jwks, "flood"), elapsed)
    print("random-kid flood: %d requests, %d fetches in %.1f s"
          % (len(codes), fetches(jwks, "flood"), elapsed))


# --- the forced-refetch budget (issue 9, defect 2) ---------------------------
#
# OrdsJwtJwksMinRefreshInterval bounds the refetches that an unknown kid
# forces: at most one per interval across processes, counted on their own.
# A fetch of another kind a moment ago (here the first one) does not hold
# back the first token signed with a key the issuer has just published.

BUDGET_INTERVAL = 3


def budget_site(pki, jwks):
    out = [sites.ca(pki),
           "OrdsJwtJwksRefreshInterval 3600",
           "OrdsJwtJwksMinRefreshInterval %d" % BUDGET_INTERVAL,
           "OrdsJwtJwksFetchTimeout %d" % FETCH_TIMEOUT,
           # these tests count forced refetches: the waiter bound (a quarter
           # of the workers by default) must not answer 503 to the flood's
           # 8 clients while a refetch is slow on a loaded machine
           "OrdsJwtJwksMaxWaiters 16"]
    for name in ("newkid", "kidflood"):
        out.append(sites.profile(name, jwk_url=jwks.url("/budget-" + name)))
        out.append(sites.location("/%s/" % name, name))
    return sites.site(*out)


@pytest.fixture(scope="module", params=("event", "prefork"))
def budget_httpd(request, workdir, pki, jwks, keys):
    for name in ("newkid", "kidflood"):
        jwks.publish("/budget-" + name, keys.jwks("rsa1"))
    server = Httpd(os.path.join(workdir, "budget-" + request.param), request.param,
                   budget_site(pki, jwks)).start()
    yield server
    server.stop()


@pytest.fixture
def budget(budget_httpd):
    client = Client(budget_httpd)
    yield client
    bad = bad_lines(client.new_log())
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def test_new_kid_accepted_right_after_a_fetch(budget, jwks, keys):
    start = time.monotonic()
    assert_ok(budget.get("/newkid/", mint(claims(), key=keys["rsa1"])))
    assert jwks.fetch_count("/budget-newkid") == 1
    jwks.set_document("/budget-newkid", keys.jwks("rsa1", "ec1"))
    r = budget.get("/newkid/", mint(claims(), key=keys["ec1"]))
    elapsed = time.monotonic() - start
    assert elapsed < BUDGET_INTERVAL, "%.1f s: not within the interval" % elapsed
    assert_ok(r)
    assert jwks.fetch_count("/budget-newkid") == 2
    assert_ok(budget.get("/newkid/", mint(claims(), key=keys["rsa1"])))
    assert jwks.fetch_count("/budget-newkid") == 2


def test_random_kid_flood_one_forced_fetch_per_interval(budget, jwks, keys):
    def fetches():
        return jwks.fetch_count("/budget-kidflood")

    def unknown_kid():
        return mint(claims(), key=keys["attacker"], header={"kid": random_kid()})

    assert_ok(budget.get("/kidflood/", mint(claims(), key=keys["rsa1"])))
    assert fetches() == 1
    start = time.monotonic()
    # no forced refetch yet: the first unknown kid gets one, at once
    assert_invalid_token(budget.get("/kidflood/", unknown_kid()), "signing key not found")
    assert fetches() == 2, "the first unknown kid after a fetch forced no refetch"

    def flood(_):
        codes = []
        while time.monotonic() - start < 1.5 * BUDGET_INTERVAL:
            codes.append(budget.get("/kidflood/", unknown_kid()).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = sum(pool.map(flood, range(8)), [])
    elapsed = time.monotonic() - start
    assert len(codes) > 50 and set(codes) == {401}
    # slot times are whole seconds: two forced refetches are at least
    # BUDGET_INTERVAL - 1 real seconds apart
    forced = fetches() - 1
    assert forced <= 1 + int(elapsed / (BUDGET_INTERVAL - 1)), (forced, elapsed)
    print("random-kid flood: %d requests, %d forced fetches in %.1f s"
          % (len(codes), forced, elapsed))


@pytest.fixture(scope="module")
def prefork8(workdir, pki, jwks, keys):
    """prefork with 8 children for the load tests."""
    for name in PATHS:
        jwks.publish("/lc-" + name, keys.jwks("rsa1"))
    # the rotation, not the waiter bound (test_hung_issuer): 8 waiters
    # for one refetch on a slow (ASan) server
    server = make_httpd(workdir, pki, jwks, keys, "prefork", "prefork8",
                        "\nOrdsJwtJwksMaxWaiters 16\n")
    server.mpm_extra = ("StartServers 8\nMinSpareServers 8\n"
                        "MaxSpareServers 12\n")
    server.start()
    yield server
    server.stop()


def hammer(url, tokens_of, stop, results):
    """Sends requests until stop is set; tokens_of() picks the token."""
    while not stop.is_set():
        token = tokens_of()
        try:
            r = requests.get(url, timeout=10,
                             headers={"Authorization": "Bearer " + token,
                                      "Connection": "close"})
            results.append(r.status_code)
        except requests.RequestException as e:
            results.append(repr(e))


def test_rotation_under_load_prefork8(prefork8, jwks, keys):
    offset = prefork8.log_offset()
    old = mint(claims(), key=keys["rsa1"])
    new = mint(claims(), key=keys["ec1"])
    current = [old]
    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=hammer,
                                args=(prefork8.url("/load/"),
                                      lambda: random.choice(current), stop,
                                      results))
               for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    # rotation: the issuer publishes ec1 beside rsa1, clients start using it
    jwks.set_document("/lc-load", keys.jwks("rsa1", "ec1"))
    time.sleep(MIN_INTERVAL + 0.2)
    current.append(new)
    time.sleep(2.5)
    stop.set()
    for t in threads:
        t.join(15)
    wrong = [r for r in results if r != 200]
    print("rotation under load (prefork, 8 children): %d requests, %d fetches"
          % (len(results), fetches(jwks, "load")))
    assert len(results) > 100
    assert not wrong, "wrongful answers: %r" % wrong[:10]
    assert fetches(jwks, "load") == 2
    assert not bad_lines(prefork8.read_log(offset))


def test_graceful_restart_under_load_keeps_keys(prefork8, jwks, keys):
    offset = prefork8.log_offset()
    token = mint(claims(), key=keys["rsa1"])
    assert requests.get(prefork8.url("/graceful/"), timeout=10,
                        headers={"Authorization": "Bearer " + token}).status_code == 200
    before = fetches(jwks, "graceful")
    stop = threading.Event()
    results = []
    threads = [threading.Thread(target=hammer,
                                args=(prefork8.url("/graceful/"),
                                      lambda: token, stop, results))
               for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(1)
    prefork8.graceful()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join(15)
    print("graceful under load: %d requests, JWKS fetches before %d after %d"
          % (len(results), before, fetches(jwks, "graceful")))
    assert results and all(r == 200 for r in results), \
        [r for r in results if r != 200][:10]
    # the shared keys survived the restart: the new children did not refetch
    assert fetches(jwks, "graceful") == before == 1
    assert not bad_lines(prefork8.read_log(offset), ("AH00493",))


# --- a hung issuer parks few workers (issue 11, item 4; issue 20, item 6) ---
#
# With no keys yet held, a request for a profile whose issuer hangs waits for
# the fetch in flight. At most OrdsJwtJwksMaxWaiters requests of the whole
# server (auto: a quarter of MaxRequestWorkers) wait beside the one fetching,
# once the fetch is past its first 100 ms (OJW_WAIT_GRACE_MS); the others are
# answered 503 + Retry-After at once, so that a flood of self-made tokens for
# that profile cannot park every prefork child and stall the healthy
# profiles. The figure is the healthy profile's latency.

MAX_WAITERS = {"prefork": 16 // 4, "event": 32 // 4}   # MPM_CONF's workers
HUNG_FLOOD = 30


def hung_site(pki, jwks):
    out = [sites.ca(pki),
           "OrdsJwtJwksRefreshInterval 3600",
           "OrdsJwtJwksMinRefreshInterval 10",
           "OrdsJwtJwksFetchTimeout %d" % FETCH_TIMEOUT]
    for name in ("hung", "healthy"):
        out.append(sites.profile(name, jwk_url=jwks.url("/hang-" + name)))
        out.append(sites.location("/%s/" % name, name))
    return sites.site(*out)


@pytest.fixture(scope="module", params=("prefork", "event"))
def hung_httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/hang-healthy", keys.jwks("rsa1"))
    jwks.publish("/hang-hung", keys.jwks("rsa1"), delay=FETCH_TIMEOUT + 8)
    server = Httpd(os.path.join(workdir, "hung-" + request.param), request.param,
                   hung_site(pki, jwks))
    if request.param == "prefork":      # all 16 children from the start
        server.mpm_extra = ("StartServers 16\nMinSpareServers 16\n"
                            "MaxSpareServers 16\n")
    server.start()
    yield server
    server.stop()


def timed_get(url, token):
    start = time.monotonic()
    r = requests.get(url, timeout=30, headers={"Authorization": "Bearer " + token})
    return r, time.monotonic() - start


def test_hung_issuer_parks_few_workers(hung_httpd, jwks, keys):
    offset = hung_httpd.log_offset()
    healthy = mint(claims(), key=keys["rsa1"])
    r, _ = timed_get(hung_httpd.url("/healthy/"), healthy)
    assert_ok(r)                                    # its keys are held
    with ThreadPoolExecutor(HUNG_FLOOD) as pool:
        flood = [pool.submit(timed_get, hung_httpd.url("/hung/"),
                             mint(claims(), key=keys["rsa1"]))
                 for _ in range(HUNG_FLOOD)]
        time.sleep(0.3)
        latencies = []
        for _ in range(10):
            r, took = timed_get(hung_httpd.url("/healthy/"), healthy)
            assert_ok(r)
            latencies.append(took)
            time.sleep(0.1)
        answers = [f.result() for f in flood]
    for r, _ in answers:
        assert_unavailable(r)
    slow = [took for _, took in answers if took > 1.0]
    print("hung issuer (%s): healthy profile max %.3f s, median %.3f s; "
          "%d of %d flood requests waited (%.1f s at most)"
          % (hung_httpd.mpm, max(latencies), sorted(latencies)[5], len(slow),
             HUNG_FLOOD, max(took for _, took in answers)))
    # one fetching, at most MAX_WAITERS waiting; the rest answered at once
    assert len(slow) <= 1 + MAX_WAITERS[hung_httpd.mpm], \
        sorted(took for _, took in answers)
    assert max(latencies) < 1.0, latencies
    assert jwks.fetch_count("/hang-hung") == 1
    log = hung_httpd.read_log(offset)
    assert "ORDSJWT00040" in log
    assert not bad_lines(log, [FETCH_FAILED, "AH00161"])


# Issue 20, item 6: prefork with MaxRequestWorkers 8 and a hung issuer. The
# bound used to be 8 requests per JWK URL: with one fetching, every worker
# waited for the hung issuer and a healthy profile's requests waited up to
# the fetch timeout (3.99 s measured). Now a quarter of the workers (2)
# wait, the healthy profile's requests are answered throughout (100 ms is
# the aim; the assertion leaves room for a loaded 2-core machine), and the
# status page shows the waiters and the refusals.

@pytest.fixture(scope="module")
def prefork_8(workdir, pki, jwks, keys):
    jwks.publish("/hang-healthy", keys.jwks("rsa1"))
    jwks.publish("/hang-hung", keys.jwks("rsa1"), delay=FETCH_TIMEOUT + 8)
    server = Httpd(os.path.join(workdir, "hung-prefork-8"), "prefork",
                   hung_site(pki, jwks) + STATUS_PAGE)
    server.mpm_extra = ("StartServers 8\nMinSpareServers 8\n"
                        "MaxSpareServers 8\nServerLimit 8\n"
                        "MaxRequestWorkers 8\n")
    server.start()
    yield server
    server.stop()


STATUS_PAGE = """\
<Location /ordsjwt-status>
    SetHandler ordsjwt-status
</Location>
"""


def test_hung_issuer_leaves_prefork_8_workers(prefork_8, jwks, keys):
    offset = prefork_8.log_offset()
    healthy = mint(claims(), key=keys["rsa1"])
    r, _ = timed_get(prefork_8.url("/healthy/"), healthy)
    assert_ok(r)                                    # its keys are held
    latencies, stop = [], threading.Event()

    def healthy_requests():
        while not stop.is_set():
            r, took = timed_get(prefork_8.url("/healthy/"), healthy)
            assert_ok(r)
            latencies.append(took)
            time.sleep(0.02)

    watcher = threading.Thread(target=healthy_requests)
    with ThreadPoolExecutor(HUNG_FLOOD) as pool:
        flood = [pool.submit(timed_get, prefork_8.url("/hung/"),
                             mint(claims(), key=keys["rsa1"]))
                 for _ in range(HUNG_FLOOD)]
        watcher.start()
        time.sleep(1.0)
        status = requests.get(prefork_8.url("/ordsjwt-status?json"),
                              timeout=10).json()
        # throughout the hung fetch (FETCH_TIMEOUT + 1 s)
        time.sleep(FETCH_TIMEOUT + 0.5)
        stop.set()
        watcher.join(30)
        answers = [f.result() for f in flood]
    for r, _ in answers:
        assert_unavailable(r)
    slow = [took for _, took in answers if took > 1.0]
    ordered = sorted(latencies)
    print("hung issuer, prefork MaxRequestWorkers 8: %d healthy requests, "
          "median %.3f s, 90th %.3f s, max %.3f s; %d of %d flood requests "
          "waited" % (len(ordered), ordered[len(ordered) // 2],
                      ordered[len(ordered) * 9 // 10], ordered[-1], len(slow),
                      HUNG_FLOOD))
    assert len(ordered) >= 10
    assert ordered[-1] < 1.0, ordered[-5:]
    assert ordered[len(ordered) // 2] < 0.1, ordered
    # the fetching one and OrdsJwtJwksMaxWaiters auto (8 / 4) waited
    assert len(slow) <= 3, sorted(took for _, took in answers)
    waiters = status["waiters"]
    assert waiters["bound"] == 2 and waiters["max_request_workers"] == 8
    assert waiters["waiting"] == 2 and waiters["refused"] >= 1, waiters
    hung = [p for p in status["profiles"] if p["name"] == "hung"][0]
    assert hung["jwks"]["waits_refused"] == waiters["refused"]
    assert hung["refused"]["keys_unavailable"] >= 1
    assert jwks.fetch_count("/hang-hung") == 1
    log = prefork_8.read_log(offset)
    assert "ORDSJWT00040" in log
    assert not bad_lines(log, [FETCH_FAILED, "AH00161"])
