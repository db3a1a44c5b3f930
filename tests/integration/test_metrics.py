# SPDX-License-Identifier: Apache-2.0
"""The ordsjwt-status handler in the Prometheus text format (issue 14,
part 2): ?metrics and Accept negotiation, parsed with prometheus_client's
own parser, the values checked against the requests each test made."""

import os
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from helpers import Client, assert_insufficient_scope, assert_invalid_token, \
    assert_no_token, assert_ok
from httpd_instance import Httpd, bad_lines
import sites
from tokens import claims, mint, now

ISS_B = "https://other.example/"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,"
                     "application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
METRICS_PAGE = """\
<Location /ordsjwt-metrics>
    SetHandler ordsjwt-status
    Require local
</Location>"""


def metrics_site(pki, jwks, static_jwks):
    return sites.site(
        "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so",
        sites.ca(pki),
        "OrdsJwtTokenCache 32",
        sites.profile("mx", jwk_url=jwks.url("/mx-jwks")),
        sites.profile("mxb", issuer=ISS_B, jwk_url=jwks.url("/mx-jwks")),
        sites.profile("mxstatic", issuer="https://static.example/",
                      jwk_url="file://" + static_jwks),
        sites.location("/mx/", "mx", "ords-scope hr.read"),
        # two profiles: a token of neither issuer is refused before a
        # profile is chosen
        sites.location("/both/", "mx mxb"),
        METRICS_PAGE)


@pytest.fixture(scope="module")
def mx(workdir, pki, jwks, keys, static_jwks):
    jwks.publish("/mx-jwks", keys.jwks("rsa1", "ec1"))
    server = Httpd(os.path.join(workdir, "metrics"), "event",
                   metrics_site(pki, jwks, static_jwks))
    # one child: a repeated token meets the cache of the child that has it
    server.mpm_extra = ("StartServers 1\nServerLimit 1\nMaxRequestWorkers 8\n"
                        "MinSpareThreads 1\nMaxSpareThreads 8\n")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mc(mx):
    client = Client(mx)
    yield client
    # AH01631: httpd's own line for an authorization refusal
    bad = bad_lines(client.new_log(), ("AH01631",))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def scrape(server, path="/ordsjwt-metrics?metrics", headers=None):
    r = requests.get(server.url(path), headers=headers or {}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CONTENT_TYPE, r.headers
    return r.text


def samples(text):
    """{(sample name, ((label, value), ...)): value}, and the families."""
    out, families = {}, {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out, families


def value(s, name, **labels):
    return s.get((name, tuple(sorted(labels.items()))))


def refused(s, profile, reason):
    """A refusal counter; 0 when its series is absent (issue 22: a series
    appears with its first refusal)."""
    return value(s, "ordsjwt_refusals_total", profile=profile,
                 reason=reason) or 0


def wait_for(server, check, timeout=5.0):
    """The samples once check(samples) holds (an authorization refusal is
    counted when the request is logged, just after its answer)."""
    deadline = time.time() + timeout
    while True:
        s, _ = samples(scrape(server))
        if check(s) or time.time() > deadline:
            return s
        time.sleep(0.05)


def test_families_are_typed_and_helped(mc, mx):
    text = scrape(mx)
    _, families = samples(text)
    assert families["ordsjwt_tokens_accepted"].type == "counter"
    assert families["ordsjwt_refusals"].type == "counter"
    assert families["ordsjwt_jwks_fetches"].type == "counter"
    assert families["ordsjwt_jwks_fetch_failures"].type == "counter"
    assert families["ordsjwt_jwks_age_seconds"].type == "gauge"
    assert families["ordsjwt_jwks_next_refresh_seconds"].type == "gauge"
    assert families["ordsjwt_token_cache_hits"].type == "counter"
    assert families["ordsjwt_token_cache_entries"].type == "gauge"
    assert all(f.documentation for f in families.values())
    for line in text.splitlines():
        assert line.startswith(("# HELP ordsjwt_", "# TYPE ordsjwt_", "ordsjwt_")), line


def test_counters_follow_the_requests(mc, mx, keys):
    before, _ = samples(scrape(mx))
    good = mint(claims(scope="hr.read"), key=keys["rsa1"])
    assert_ok(mc.get("/mx/", good))
    assert_ok(mc.get("/mx/", good))
    assert_ok(mc.get("/mx/", good))
    assert_invalid_token(mc.get("/mx/", mint(claims(exp=now() - 999),
                                            key=keys["rsa1"])))
    assert_no_token(mc.get("/mx/"))
    assert_insufficient_scope(mc.get("/mx/", mint(claims(scope="hr.write"),
                                                 key=keys["rsa1"])),
                              scope="hr.read")
    assert_invalid_token(mc.get("/both/", mint(claims(iss="https://nope/"),
                                              key=keys["rsa1"])))

    def delta(s, b, key):
        return (s.get(key) or 0) - (b.get(key) or 0)

    after = wait_for(mx, lambda s: refused(s, "mx", "scope_missing")
                     == refused(before, "mx", "scope_missing") + 1)
    # accepted: authentication's verdict; the hr.write token was accepted
    # too, then refused by Require ords-scope
    key = ("ordsjwt_tokens_accepted_total", (("profile", "mx"),))
    assert delta(after, before, key) == 4
    for profile, reason, n in (("mx", "expired", 1), ("mx", "token_missing", 1),
                               ("mx", "scope_missing", 1),
                               ("", "issuer_mismatch", 1),
                               ("mx", "signature_invalid", 0),
                               ("mxb", "expired", 0)):
        k = ("ordsjwt_refusals_total",
             (("profile", profile), ("reason", reason)))
        assert delta(after, before, k) == n, (profile, reason)
    # the token cache: the good token was verified once, then served from
    # the cache twice (one child); the others missed
    hits = ("ordsjwt_token_cache_hits_total", ())
    misses = ("ordsjwt_token_cache_misses_total", ())
    assert delta(after, before, hits) == 2
    assert delta(after, before, misses) == 4
    assert value(after, "ordsjwt_token_cache_entries") >= 2
    assert value(after, "ordsjwt_token_cache_max_entries") >= 32


def test_jwks_numbers(mc, mx, jwks, keys):
    assert_ok(mc.get("/mx/", mint(claims(scope="hr.read"), key=keys["ec1"])))
    s, _ = samples(scrape(mx))
    labels = {"profile": "mx", "jwk_url": jwks.url("/mx-jwks")}
    assert value(s, "ordsjwt_jwks_fetches_total", **labels) >= 1
    assert value(s, "ordsjwt_jwks_fetch_failures_total", **labels) == 0
    assert 0 <= value(s, "ordsjwt_jwks_age_seconds", **labels) < 600
    assert 0 < value(s, "ordsjwt_jwks_next_refresh_seconds", **labels)
    assert value(s, "ordsjwt_keys", profile="mx") == 2
    # static keys: held, never fetched
    assert value(s, "ordsjwt_keys", profile="mxstatic") == 1
    assert not any(k[0].startswith("ordsjwt_jwks_") and ("profile", "mxstatic") in k[1]
                   for k in s)


def test_accept_negotiation(mc, mx):
    text = scrape(mx, "/ordsjwt-metrics", {"Accept": PROMETHEUS_ACCEPT})
    assert "ordsjwt_refusals_total{" in text
    r = requests.get(mx.url("/ordsjwt-metrics"), timeout=10, headers={
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Accept" in r.headers.get("Vary", "")
    r = requests.get(mx.url("/ordsjwt-metrics?json"), timeout=10,
                     headers={"Accept": PROMETHEUS_ACCEPT})
    assert r.headers["Content-Type"] == "application/json"



def series_of(s, profile):
    return sorted(k[0] for k in s if ("profile", profile) in k[1])


def test_refusal_series_appear_with_their_first_refusal(mc, mx, keys):
    """Issue 22: a refusal series is emitted once its counter is not zero,
    so that a tenant costs 6 series (README) plus one per reason seen."""
    s, _ = samples(scrape(mx))
    # mxb: one JWKS profile that no request chose
    assert series_of(s, "mxb") == sorted([
        "ordsjwt_tokens_accepted_total", "ordsjwt_keys",
        "ordsjwt_jwks_fetches_total", "ordsjwt_jwks_fetch_failures_total",
        "ordsjwt_jwks_age_seconds", "ordsjwt_jwks_next_refresh_seconds"])
    assert value(s, "ordsjwt_refusals_total", profile="mx",
                 reason="audience_mismatch") is None
    assert_invalid_token(mc.get("/mx/", mint(claims(aud="other/"),
                                            key=keys["rsa1"])))
    s = wait_for(mx, lambda s: refused(s, "mx", "audience_mismatch") >= 1)
    assert refused(s, "mx", "audience_mismatch") >= 1
    zero = [k for k, v in s.items()
            if k[0] == "ordsjwt_refusals_total" and v == 0]
    assert not zero, zero


def test_waiters_and_shared_memory(mc, mx):
    s, families = samples(scrape(mx))
    # event, 1 process x 8 threads: a quarter of MaxRequestWorkers 8
    assert value(s, "ordsjwt_jwks_waiting_requests_max") == 2
    assert value(s, "ordsjwt_jwks_waiting_requests") == 0
    assert value(s, "ordsjwt_jwks_waits_refused_total") == 0
    assert families["ordsjwt_jwks_waits_refused"].type == "counter"
    used = value(s, "ordsjwt_jwks_shared_memory_used_bytes")
    size = value(s, "ordsjwt_jwks_shared_memory_bytes")
    # one JWK URL (mx and mxb share it; a file: has no slot): auto is
    # 512 KiB and 16 KiB per URL
    assert size == (512 + 16) * 1024, size
    assert 0 < used < 128 * 1024, used
