# SPDX-License-Identifier: Apache-2.0
"""Issuer discovery (issue 12, part 2): a profile names discovery_url, the
issuer's /.well-known/openid-configuration, instead of jwk_url; its issuer
must equal the profile's and its jwks_uri must be https. The pair follows
the JWKS lifecycle: stale keys through an outage, 503 + Retry-After without
keys, a changed jwks_uri followed at the next refresh.

Its own httpd per MPM with short intervals (as test_rotation.py): every
case is a discovery document /dc-CASE/.well-known/openid-configuration and
JWKS /dc-CASE/jwks... on the loopback HTTPS server.
"""

import os
import time

import pytest

import sites
from helpers import Client, assert_invalid_token, assert_ok, assert_unavailable
from httpd_instance import Httpd, bad_lines
from tokens import AUDIENCE, ISSUER, claims, mint

DISCOVERED = "ORDSJWT00050"
DISCOVERY_FAILED = "ORDSJWT00051"
ISSUER_MISMATCH = "ORDSJWT00052"
NO_KEYS = "ORDSJWT00012"
MIN_INTERVAL = 1
WELL_KNOWN = "/.well-known/openid-configuration"
OCI_ISSUER = "https://identity.oraclecloud.com/"
CASES = ("happy", "mismatch", "httpjwks", "stale", "nokeys", "change", "oci",
         "html")
STATUS_PAGE = ("LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so\n"
               "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
               "    Require ip 127.0.0.1\n</Location>")


def disc_path(case):
    return "/dc-%s%s" % (case, WELL_KNOWN)


def metadata(jwks, case, issuer=ISSUER, jwks_uri=None):
    return {"issuer": issuer,
            "jwks_uri": jwks_uri or jwks.url("/dc-%s/jwks" % case),
            "authorization_endpoint": jwks.url("/authorize"),
            "id_token_signing_alg_values_supported": ["RS256"]}


def site(pki, jwks):
    out = [sites.ca(pki), STATUS_PAGE,
           "OrdsJwtJwksRefreshInterval 3600",
           "OrdsJwtJwksMinRefreshInterval %d" % MIN_INTERVAL,
           "OrdsJwtJwksFetchTimeout 2",
           "OrdsJwtJwksMaxStale 3600"]
    for case in CASES:
        issuer = OCI_ISSUER if case == "oci" else ISSUER
        out.append(sites.profile(case, issuer,
                                 discovery_url=jwks.url(disc_path(case))))
        out.append(sites.location("/%s/" % case, case))
    return sites.site(*out)


def publish_all(jwks, keys):
    for case in CASES:
        jwks.publish(disc_path(case), metadata(jwks, case))
        jwks.publish("/dc-%s/jwks" % case, keys.jwks("rsa1"))
    jwks.publish(disc_path("mismatch"),
                 metadata(jwks, "mismatch", issuer=ISSUER.rstrip("/")))
    jwks.publish(disc_path("httpjwks"), metadata(
        jwks, "httpjwks",
        jwks_uri="http://127.0.0.1:%d/dc-httpjwks/jwks" % jwks.port))
    jwks.publish(disc_path("nokeys"), {"error": "down"}, status=500)
    jwks.publish(disc_path("oci"), {"error": "unauthorized"}, status=401)
    jwks.publish(disc_path("html"), "<html>sign in</html>",
                 content_type="text/html")
    jwks.publish("/dc-change/jwks2", keys.jwks("ec1"))


@pytest.fixture(scope="module", params=("event", "prefork"))
def dc_httpd(request, workdir, pki, jwks, keys):
    publish_all(jwks, keys)
    server = Httpd(os.path.join(workdir, "discovery-" + request.param),
                   request.param, site(pki, jwks)).start()
    yield server
    server.stop()


@pytest.fixture
def dc(dc_httpd):
    """A client of the discovery httpd; checks its error log afterwards."""
    client = Client(dc_httpd)
    client.acknowledged = []
    offset = dc_httpd.log_offset()
    yield client
    bad = bad_lines(dc_httpd.read_log(offset), client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def status_of(dc, name):
    r = dc.get("/ordsjwt-status?json")
    assert r.status_code == 200, r.text
    return [p for p in r.json()["profiles"] if p["name"] == name][0]


def test_happy_path(dc, jwks, keys):
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(dc.get("/happy/", token))
    assert_ok(dc.get("/happy/", token))
    assert jwks.fetch_count(disc_path("happy")) == 1
    assert jwks.fetch_count("/dc-happy/jwks") == 1
    st = status_of(dc, "happy")
    assert st["discovery_url"] == jwks.url(disc_path("happy"))
    assert "jwk_url" not in st
    assert st["jwks"]["jwks_uri"] == jwks.url("/dc-happy/jwks")
    assert st["jwks"]["discovery_fetched_at"] >= time.time() - 60
    assert st["jwks"]["fetched_at"] >= st["jwks"]["discovery_fetched_at"]
    assert [k["kid"] for k in st["keys"]] == ["rsa1"]
    html = dc.get("/ordsjwt-status").text
    assert "discovery_fetched_at" in html and "/dc-happy/jwks" in html


def test_issuer_mismatch_refused(dc, jwks, keys):
    dc.acknowledged.append(ISSUER_MISMATCH)
    r = dc.get("/mismatch/", mint(claims(), key=keys["rsa1"]))
    assert_unavailable(r)
    log = dc.new_log()
    assert ISSUER_MISMATCH in log, log
    # both values, so that the trailing slash shows
    assert '"https://issuer.example"' in log and '"https://issuer.example/"' in log
    assert jwks.fetch_count("/dc-mismatch/jwks") == 0
    assert status_of(dc, "mismatch")["jwks"]["jwks_uri"] is None


def test_jwks_uri_over_http_refused(dc, jwks, keys):
    dc.acknowledged.append(DISCOVERY_FAILED)
    r = dc.get("/httpjwks/", mint(claims(), key=keys["rsa1"]))
    assert_unavailable(r)
    log = dc.new_log()
    assert DISCOVERY_FAILED in log and "is not https://" in log, log
    assert jwks.fetch_count("/dc-httpjwks/jwks") == 0


def test_outage_with_cached_keys_uses_them(dc, jwks, keys):
    dc.acknowledged.append(DISCOVERY_FAILED)
    jwks.set_response(disc_path("stale"), headers={"Cache-Control": "max-age=1"})
    token = mint(claims(), key=keys["rsa1"])
    assert_ok(dc.get("/stale/", token))
    jwks.set_response(disc_path("stale"), status=503, body="down")
    time.sleep(MIN_INTERVAL + 0.3)
    assert_ok(dc.get("/stale/", token))         # discovery fails, keys stay
    log = dc.new_log()
    assert DISCOVERY_FAILED in log and "HTTP status 503" in log, log
    assert "keeping the previous keys" in log
    assert jwks.fetch_count(disc_path("stale")) == 2
    assert jwks.fetch_count("/dc-stale/jwks") == 1
    assert "HTTP status 503" in status_of(dc, "stale")["jwks"]["last_error"]


def test_outage_without_keys_is_503(dc, jwks, keys):
    dc.acknowledged.append(DISCOVERY_FAILED)
    r = dc.get("/nokeys/", mint(claims(), key=keys["rsa1"]))
    assert_unavailable(r)
    assert int(r.headers["Retry-After"]) >= 1
    log = dc.new_log()
    assert DISCOVERY_FAILED in log and "tokens of this issuer get 503" in log
    assert "discovery_url " + jwks.url(disc_path("nokeys")) in log
    assert jwks.fetch_count("/dc-nokeys/jwks") == 0


def test_jwks_uri_change_is_picked_up(dc, jwks, keys):
    jwks.set_response(disc_path("change"), headers={"Cache-Control": "max-age=1"})
    assert_ok(dc.get("/change/", mint(claims(), key=keys["rsa1"])))
    jwks.set_response(disc_path("change"), body=metadata(
        jwks, "change", jwks_uri=jwks.url("/dc-change/jwks2")))
    time.sleep(MIN_INTERVAL + 0.3)
    assert_ok(dc.get("/change/", mint(claims(), key=keys["ec1"])))
    assert jwks.fetch_count("/dc-change/jwks2") == 1
    assert status_of(dc, "change")["jwks"]["jwks_uri"] == jwks.url("/dc-change/jwks2")
    time.sleep(MIN_INTERVAL + 0.3)
    # the old jwks_uri's key is gone with it
    assert_invalid_token(dc.get("/change/", mint(claims(), key=keys["rsa1"])))


def test_hint_oci_domain_hiding_its_metadata(dc, jwks, keys):
    dc.acknowledged.append(DISCOVERY_FAILED)
    token = mint(claims(iss=OCI_ISSUER), key=keys["rsa1"])
    assert_unavailable(dc.get("/oci/", token))
    log = dc.new_log()
    assert "HTTP status 401" in log and "Configure client access" in log, log


def test_hint_html_page(dc, jwks, keys):
    dc.acknowledged.append(DISCOVERY_FAILED)
    assert_unavailable(dc.get("/html/", mint(claims(), key=keys["rsa1"])))
    log = dc.new_log()
    assert "discovery document served as text/html" in log, log
    assert "HTML page" in log


@pytest.mark.parametrize("other", ("jwk_url=https://x.example/jwks",
                                   "pem_file=/tmp/k.pem"))
def test_configtest_discovery_excludes_other_sources(workdir, pki, other):
    line = "OrdsJwtProfile ex issuer=%s audience=a discovery_url=https://x.example%s %s" \
        % (ISSUER, WELL_KNOWN, other)
    h = Httpd(os.path.join(workdir, "discovery-conf-" + other[:3]), "event",
              sites.site(sites.ca(pki), line, sites.location("/ex/", "ex")))
    code, out = h.configtest()
    assert code != 0
    assert "discovery_url and %s exclude each other" % other.split("=")[0] in out, out


# --- ordsjwt-check --discovery-url ------------------------------------------

def test_checker_discovery_url(pki, jwks, keys):
    from test_checker import check
    publish_all(jwks, keys)
    opts = ["--issuer", ISSUER, "--audience", AUDIENCE, "--ca-file", pki["ca"]]
    run = check(*opts, "--discovery-url", jwks.url(disc_path("happy")),
                mint(claims(), key=keys["rsa1"]))
    assert run.code == 0, run
    assert "discovery_url " + jwks.url(disc_path("happy")) in run.out, run
    assert "jwks_uri " + jwks.url("/dc-happy/jwks") in run.out, run
    run = check(*opts, "--discovery-url", jwks.url(disc_path("mismatch")),
                mint(claims(), key=keys["rsa1"]))
    assert run.code == 2, run
    assert '"https://issuer.example"' in run.err and ISSUER in run.err, run
    run = check(*opts, "--discovery-url", jwks.url(disc_path("html")),
                mint(claims(), key=keys["rsa1"]))
    assert run.code == 2 and "HTML page" in run.err, run
    run = check(*opts, "--discovery-url", jwks.url(disc_path("happy")),
                "--jwk-url", jwks.url("/jwks"), "abc")
    assert run.code == 2 and "exclude each other" in run.err, run
