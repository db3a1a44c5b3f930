# SPDX-License-Identifier: Apache-2.0
"""Issuer discovery as an attacker would try it (issue 20, item 8): a
metadata document that names another issuer, a jwks_uri on another host
(trusted or not), redirects of the document (same origin, another origin,
plain http), a huge document and a slow one. Its own httpd per MPM; every
case is a profile /dh-CASE/ whose discovery document is
/dh-CASE/.well-known/openid-configuration on the loopback HTTPS server.
"""

import os
import time

import pytest
import requests

import sites
from helpers import Client, assert_ok, assert_unavailable
from httpd_instance import Httpd, bad_lines
from jwks_server import JwksServer
from tokens import ISSUER, claims, mint

DISCOVERY_FAILED = "ORDSJWT00051"
ISSUER_MISMATCH = "ORDSJWT00052"
FETCH_FAILED = "ORDSJWT00009"
WELL_KNOWN = "/.well-known/openid-configuration"
TIMEOUT = 2         # OrdsJwtJwksFetchTimeout
CASES = ("otherissuer", "otherhost", "untrusted", "samehop", "crosshop",
         "httphop", "huge", "hugeuri", "slowdoc", "slowpair")
STATUS_PAGE = ("LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so\n"
               "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
               "    Require ip 127.0.0.1\n</Location>")


def doc_path(case):
    return "/dh-%s%s" % (case, WELL_KNOWN)


@pytest.fixture(scope="module")
def other_host(pki, keys):
    """Another origin the module trusts (its certificate chains to the CA)."""
    server = JwksServer(pki["cert"], pki["key"]).start()
    server.publish("/keys", keys.jwks("rsa1"))
    server.publish(doc_path("crosshop"), {"issuer": ISSUER,
                                          "jwks_uri": server.url("/keys")})
    yield server
    server.stop()


def publish(jwks, keys, other_host, bad_tls_jwks):
    def meta(case, **over):
        doc = {"issuer": ISSUER, "jwks_uri": jwks.url("/dh-%s/jwks" % case)}
        doc.update(over)
        jwks.publish(doc_path(case), doc)
        jwks.publish("/dh-%s/jwks" % case, keys.jwks("rsa1"))

    for case in CASES:
        meta(case)
    meta("otherissuer", issuer="https://evil.example/")
    meta("otherhost", jwks_uri=other_host.url("/keys"))
    meta("untrusted", jwks_uri=bad_tls_jwks["untrusted"].url("/jwks"))
    meta("samehop-target")
    for case, status, where in (
            ("samehop", 302, jwks.url(doc_path("samehop-target"))),
            ("crosshop", 302, other_host.url(doc_path("crosshop"))),
            ("httphop", 301, "http://127.0.0.1:%d%s" % (jwks.port,
                                                        doc_path("samehop")))):
        jwks.publish(doc_path(case), b"", status=status)
        jwks.set_response(doc_path(case), headers={"Location": where})
    # 70 KiB of JSON around the right members: over the 64 KiB cap
    meta("huge", padding="x" * 70 * 1024)
    meta("hugeuri", jwks_uri=jwks.url("/dh-hugeuri/jwks?" + "a" * 9000))
    jwks.publish(doc_path("slowdoc"), {"issuer": ISSUER,
                                       "jwks_uri": jwks.url("/dh-slowdoc/jwks")},
                 delay=TIMEOUT + 2)
    # each half within the timeout, the pair beyond it
    jwks.publish(doc_path("slowpair"), {"issuer": ISSUER,
                                        "jwks_uri": jwks.url("/dh-slowpair/jwks")},
                 delay=TIMEOUT * 0.8)
    jwks.publish("/dh-slowpair/jwks", keys.jwks("rsa1"), delay=TIMEOUT * 0.8)


@pytest.fixture(scope="module", params=("event", "prefork"))
def dh_httpd(request, workdir, pki, jwks, keys, other_host, bad_tls_jwks):
    publish(jwks, keys, other_host, bad_tls_jwks)
    parts = [sites.ca(pki), STATUS_PAGE, "OrdsJwtJwksFetchTimeout %d" % TIMEOUT,
             "OrdsJwtJwksMinRefreshInterval 1"]
    for case in CASES:
        parts.append(sites.profile("dh" + case,
                                   discovery_url=jwks.url(doc_path(case))))
        parts.append(sites.location("/dh-%s/" % case, "dh" + case))
    server = Httpd(os.path.join(workdir, "discovery-hostile-" + request.param),
                   request.param, sites.site(*parts)).start()
    yield server
    server.stop()


@pytest.fixture
def dh(dh_httpd, jwks, keys, other_host, bad_tls_jwks):
    publish(jwks, keys, other_host, bad_tls_jwks)
    client = Client(dh_httpd)
    client.acknowledged = []
    offset = dh_httpd.log_offset()
    yield client
    bad = bad_lines(dh_httpd.read_log(offset), client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def token(keys):
    return mint(claims(), key=keys["rsa1"])


def last_error(dh, case):
    r = requests.get(dh.httpd.url("/ordsjwt-status?json"), timeout=10)
    return [p for p in r.json()["profiles"]
            if p["name"] == "dh" + case][0]["jwks"]["last_error"]


def test_metadata_naming_another_issuer_is_refused(dh, jwks, keys):
    dh.acknowledged.append(ISSUER_MISMATCH)
    assert_unavailable(dh.get("/dh-otherissuer/", token(keys)))
    assert '"https://evil.example/"' in dh.new_log()
    assert jwks.fetch_count("/dh-otherissuer/jwks") == 0


def test_jwks_uri_on_another_trusted_host_is_used(dh, keys, other_host):
    """The issuer's metadata is the issuer's word: its keys may live on
    another host (Google's do), fetched with the same TLS checks."""
    before = other_host.fetch_count("/keys")
    assert_ok(dh.get("/dh-otherhost/", token(keys)))
    assert other_host.fetch_count("/keys") == before + 1


def test_jwks_uri_on_an_untrusted_host_is_refused(dh, keys, bad_tls_jwks):
    dh.acknowledged.append(FETCH_FAILED)
    assert_unavailable(dh.get("/dh-untrusted/", token(keys)))
    assert bad_tls_jwks["untrusted"].url("/jwks") in dh.new_log()


def test_same_origin_redirect_of_the_document_is_followed(dh, jwks, keys):
    assert_ok(dh.get("/dh-samehop/", token(keys)))
    assert jwks.fetch_count(doc_path("samehop-target")) >= 1


@pytest.mark.parametrize("case, said", [
    ("crosshop", "redirect to another origin refused"),
    ("httphop", "refused: not https")])
def test_redirect_of_the_document_elsewhere_is_refused(dh, jwks, keys, other_host,
                                                       case, said):
    dh.acknowledged.append(DISCOVERY_FAILED)
    before = other_host.fetch_count("/keys")
    assert_unavailable(dh.get("/dh-%s/" % case, token(keys)))
    assert said in dh.new_log(), dh.new_log()
    # the other origin is never asked
    assert other_host.fetch_count(doc_path("crosshop")) == 0
    assert other_host.fetch_count("/keys") == before


@pytest.mark.parametrize("case, said", [
    ("huge", "byte limit"), ("hugeuri", "too long")])
def test_huge_document_or_uri_is_refused(dh, jwks, keys, case, said):
    dh.acknowledged.append(DISCOVERY_FAILED)
    assert_unavailable(dh.get("/dh-%s/" % case, token(keys)))
    assert said in dh.new_log(), dh.new_log()
    assert jwks.fetch_count("/dh-%s/jwks" % case) == 0


def test_slow_document_costs_one_fetch_timeout(dh, jwks, keys):
    dh.acknowledged.append(DISCOVERY_FAILED)
    start = time.time()
    assert_unavailable(dh.get("/dh-slowdoc/", token(keys)))
    took = time.time() - start
    assert took < TIMEOUT + 1.5, took
    assert "timed out" in last_error(dh, "slowdoc").lower() \
        or "timeout" in last_error(dh, "slowdoc").lower(), last_error(dh, "slowdoc")
    assert jwks.fetch_count("/dh-slowdoc/jwks") == 0


def test_document_and_keys_share_one_fetch_timeout(dh, jwks, keys):
    """OrdsJwtJwksFetchTimeout bounds the whole fetch of a discovery
    profile, the document and the keys together: a request never waits
    for two timeouts."""
    dh.acknowledged.append(FETCH_FAILED)
    start = time.time()
    r = dh.get("/dh-slowpair/", token(keys))
    took = time.time() - start
    assert took < TIMEOUT + 1.0, (took, r.status_code)
    assert_unavailable(r)
