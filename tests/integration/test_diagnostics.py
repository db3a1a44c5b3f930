# SPDX-License-Identifier: Apache-2.0
"""Saying exactly what is wrong: configtest messages, refusal reasons with
hints in the log, and the ordsjwt-status page (HTML and ?json)."""

import json
import os
import re
import time

import pytest
import requests

from helpers import Client, assert_insufficient_scope, assert_invalid_token, \
    assert_no_token, assert_ok, wait_log
from httpd_instance import Httpd, bad_lines
import sites
from tokens import claims, mint, now

ISS = "https://identity.oraclecloud.com/"
STATUS_PAGE = """\
<Location /ordsjwt-status>
    SetHandler ordsjwt-status
    Require ip 127.0.0.1
</Location>"""


def diag_site(pki, jwks, static_jwks):
    url = jwks.url("/diag-jwks")
    return sites.site(
        "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so",
        sites.ca(pki),
        sites.profile("broken", ISS, jwk_url=jwks.url("/diag-broken")),
        sites.profile("hr", ISS, jwk_url=url, role_claim_name="/groups",
                      description="HR <API>"),
        sites.profile("aged", ISS, jwk_url=url, allowed_age=60),
        sites.profile("static", "https://static.example/",
                      jwk_url="file://" + static_jwks),
        sites.location("/hr/", "hr", "ords-scope hr.read"),
        # the administrator's choice: a failed Require answers 401
        sites.location("/hr401/", "hr", "ords-scope hr.read",
                       extra=["AuthzSendForbiddenOnFailure Off"]),
        sites.location("/broken/", "broken"),
        sites.location("/aged/", "aged"),
        STATUS_PAGE)


@pytest.fixture(scope="module")
def diag(workdir, pki, jwks, keys, static_jwks):
    jwks.publish("/diag-jwks", keys.jwks("rsa1", "ec1"))
    jwks.publish("/diag-broken", "internal error", status=500,
                 content_type="text/plain")
    # prefork: a kept-alive connection holds its child, so that
    # test_status_counts_over_all_children knows several served it
    server = Httpd(os.path.join(workdir, "diag"), "prefork",
                   diag_site(pki, jwks, static_jwks)).start()
    yield server
    server.stop()


@pytest.fixture
def dc(diag):
    client = Client(diag)
    client.acknowledged = ()
    offset = diag.log_offset()
    yield client
    bad = bad_lines(diag.read_log(offset), ("AH01631",) + tuple(client.acknowledged))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def refusal_line(client):
    lines = [l for l in client.new_log().splitlines() if "ORDSJWT00011" in l]
    assert lines, client.new_log()
    return lines[-1]


# --- refusal reasons and hints in the log ----------------------------------

@pytest.mark.parametrize("over,reason,hint", [
    ({"iss": ISS.rstrip("/")}, "issuer_mismatch", "only by a trailing slash"),
    ({"aud": "ords/hr"}, "audience_mismatch", "set audience=ords/hr"),
    ({"exp": "NOW-20"}, "expired", "allowed_skew"),
], ids=["iss-slash", "aud-slash", "exp-just-passed"])
def test_refusal_names_reason_and_hint(dc, keys, over, reason, hint):
    over = dict({"iss": ISS}, **{k: (now() - 20 if v == "NOW-20" else v)
                                 for k, v in over.items()})
    assert_invalid_token(dc.get("/hr/", mint(claims(**over), key=keys["rsa1"])))
    line = refusal_line(dc)
    assert "(%s)" % reason in line and "hint: " in line and hint in line, line
    assert "[profile hr, kid rsa1, iss " in line and "sub alice]" in line, line


def test_long_expired_has_no_skew_hint(dc, keys):
    assert_invalid_token(dc.get("/hr/", mint(claims(iss=ISS, exp=now() - 3600),
                                             key=keys["rsa1"])), "token has expired")
    assert "hint:" not in refusal_line(dc)


def test_too_old_names_allowed_age(dc, keys):
    token = mint(claims(iss=ISS, iat=now() - 600), key=keys["rsa1"])
    assert_invalid_token(dc.get("/aged/", token), "token is too old")
    line = refusal_line(dc)
    assert "(too_old)" in line and "allowed_age=60" in line, line


def test_scope_with_audience_prefix_hint(dc, keys):
    token = mint(claims(iss=ISS, scope="openid ords/hr/hr.read"), key=keys["rsa1"])
    assert_insufficient_scope(dc.get("/hr/", token), scope="hr.read")
    lines = [l for l in wait_log(dc.new_log, "ORDSJWT00017").splitlines()
             if "ORDSJWT00017" in l]
    assert lines and "(scope_missing)" in lines[0], dc.new_log()
    assert 'the token has scope "ords/hr/hr.read" but not "hr.read"' in lines[0]
    assert "without the primary audience" in lines[0]


# --- status page -----------------------------------------------------------

def status_json(server):
    r = requests.get(server.url("/ordsjwt-status?json"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    return r.json()


def profile_of(doc, name):
    found = [p for p in doc["profiles"] if p["name"] == name]
    assert found, doc
    return found[0]


def test_status_json_counts_and_keys(dc, diag, keys):
    before = profile_of(status_json(diag), "hr")
    assert_ok(dc.get("/hr/", mint(claims(iss=ISS, scope="hr.read"), key=keys["rsa1"])))
    assert_invalid_token(dc.get("/hr/", mint(claims(iss=ISS, exp=now() - 999),
                                             key=keys["rsa1"])))
    assert_no_token(dc.get("/hr/"))
    doc = status_json(diag)
    hr = profile_of(doc, "hr")
    assert hr["issuer"] == ISS and hr["audience"] == "ords/hr/"
    assert hr["jwk_url"].endswith("/diag-jwks")
    assert hr["role_claim_name"] == "/groups"
    assert hr["accepted"] == before["accepted"] + 1
    assert hr["refused"]["expired"] == before["refused"]["expired"] + 1
    assert hr["refused"]["token_missing"] == before["refused"]["token_missing"] + 1
    kids = sorted(k["kid"] for k in hr["keys"])
    assert kids == ["ec1", "rsa1"], hr["keys"]
    rsa = [k for k in hr["keys"] if k["kid"] == "rsa1"][0]
    assert rsa == {"kid": "rsa1", "kty": "RSA", "alg": None, "bits": 2048}
    ec = [k for k in hr["keys"] if k["kid"] == "ec1"][0]
    assert ec["crv"] == "P-256"
    assert hr["jwks"]["fetches"] >= 1 and hr["jwks"]["generation"] >= 1
    assert hr["jwks"]["next_refresh"] == hr["jwks"]["fetched_at"] + 3600
    assert profile_of(doc, "static")["jwks"] == "static"
    # never key material
    text = json.dumps(doc)
    assert '"n"' not in text and '"x"' not in text
    assert keys["rsa1"].public_jwk()["n"][:40] not in text


def test_status_counts_scope_refusals_whatever_the_status(dc, diag, keys):
    """A missing scope is a scope_missing refusal on the status page, also
    where AuthzSendForbiddenOnFailure Off makes httpd answer 401."""
    token = mint(claims(iss=ISS, scope="openid"), key=keys["rsa1"])
    def scope_missing():
        return profile_of(status_json(diag), "hr")["refused"]["scope_missing"]

    def counted(want):
        # counted when the request is logged, just after the answer went out
        deadline = time.monotonic() + 5
        while scope_missing() != want and time.monotonic() < deadline:
            time.sleep(0.05)
        return scope_missing()

    before = scope_missing()
    assert_insufficient_scope(dc.get("/hr/", token), scope="hr.read")
    assert counted(before + 1) == before + 1
    r = dc.get("/hr401/", token)
    assert r.status_code == 401, (r.status_code, dict(r.headers))
    assert counted(before + 2) == before + 2


def test_status_counts_over_all_children(dc, diag, keys):
    token = mint(claims(iss=ISS, scope="hr.read"), key=keys["rsa1"])
    before = profile_of(status_json(diag), "hr")["accepted"]
    offset = diag.access_offset()
    # three connections kept open at once: under prefork, three children
    sessions = [requests.Session() for _ in range(3)]
    for i in range(30):
        r = sessions[i % 3].get(diag.url("/hr/"), timeout=10,
                                headers={"Authorization": "Bearer " + token})
        assert_ok(r)
    for s in sessions:
        s.close()
    assert profile_of(status_json(diag), "hr")["accepted"] == before + 30
    assert len(diag.access_pids(offset)) >= 3


def test_status_shows_last_fetch_error(dc, diag, jwks, keys):
    dc.acknowledged = ("ORDSJWT00009",)
    assert profile_of(status_json(diag), "hr")["jwks"]["last_error"] is None
    r = dc.get("/broken/", mint(claims(iss=ISS), key=keys["rsa1"]))
    assert r.status_code == 503
    broken = profile_of(status_json(diag), "broken")
    assert broken["jwks"]["last_error"] == "HTTP status 500", broken
    assert broken["jwks"]["last_error_at"] >= now() - 5
    assert broken["jwks"]["failures"] >= 1 and broken["keys"] == []
    assert broken["refused"]["keys_unavailable"] >= 1


def test_status_html_escapes(diag, dc):
    r = requests.get(diag.url("/ordsjwt-status"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<h2>Profile hr</h2>" in r.text
    assert "HR &lt;API&gt;" in r.text and "HR <API>" not in r.text
    assert "rsa1" in r.text and "expired" in r.text


def status_get(server, query):
    return requests.get(server.url("/ordsjwt-status" + query), timeout=10)


def test_status_filter_paging_and_summary(dc, diag, keys):
    """Issue 22: ?profile=NAME, pages (?offset=N&limit=N) and a summary of
    every profile first, so that thousands of profiles are not one page."""
    dc.acknowledged = ("ORDSJWT00009",)
    assert dc.get("/broken/", mint(claims(iss=ISS),
                                   key=keys["rsa1"])).status_code == 503
    doc = status_get(diag, "?json&profile=hr").json()
    assert [p["name"] for p in doc["profiles"]] == ["hr"]
    assert doc["paging"]["total"] == 1
    doc = status_get(diag, "?json&limit=2").json()
    assert [p["name"] for p in doc["profiles"]] == ["aged", "broken"]
    assert doc["paging"] == {"offset": 0, "limit": 2, "total": 4}
    doc = status_get(diag, "?limit=2&offset=2&json").json()
    assert [p["name"] for p in doc["profiles"]] == ["hr", "static"]
    # the summary is of every profile, whatever the page
    assert doc["summary"]["profiles"] == 4
    assert doc["summary"]["errors"]["profiles"] == ["broken"]
    assert doc["summary"]["refusals"]["count"] >= 1
    assert doc["waiters"]["bound"] == 4         # prefork, 16 workers
    assert doc["shared_memory"]["used"] <= doc["shared_memory"]["size"]
    html = status_get(diag, "?profile=broken").text
    assert "<h2>Profile broken</h2>" in html and "<h2>Profile hr</h2>" not in html
    assert html.index("<h2>Summary</h2>") < html.index("<h2>Profile broken")
    assert '<a href="?profile=broken">broken</a>' in html
    html = status_get(diag, "?limit=1&offset=1").text
    assert "Profiles 2 to 2 of 4" in html and ">next</a>" in html
    assert status_get(diag, "?json&profile=nope").status_code == 404
    for bad in ("?json&limit=0", "?json&limit=10001", "?offset=-1",
                "?offset=x", "?profile=", "?limit=%zz"):
        assert status_get(diag, bad).status_code == 400, bad


# --- configtest ------------------------------------------------------------

BASE = "OrdsJwtProfile ok issuer=https://i/ audience=a jwk_url=https://127.0.0.1:1/j\n"


@pytest.fixture
def configtest(workdir, request):
    def run(site):
        d = os.path.join(workdir, "ct-" + re.sub(r"\W", "_", request.node.name))
        server = Httpd(d, "event", site)
        code, out = server.configtest()
        return code, out, server.conf
    return run


@pytest.mark.parametrize("site,message", [
    ("OrdsJwtProfile hr audience=a jwk_url=https://x/\n",
     "OrdsJwtProfile hr: missing issuer"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=https://x/ isuer=j\n",
     "OrdsJwtProfile hr: unknown key \"isuer\" (did you mean issuer?)"),
    (BASE + BASE, "OrdsJwtProfile ok: a profile of that name is already defined"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=https://x/ allowed_skew=61\n",
     "OrdsJwtProfile hr: allowed_skew=61 is more than 60 seconds"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=https://x/ allowed_skew=abc\n",
     "OrdsJwtProfile hr: allowed_skew=abc is not a number of seconds"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=https://x/ allowed_age=1h\n",
     "OrdsJwtProfile hr: allowed_age=1h is not a number of seconds"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=http://x/\n",
     "jwk_url=http://x/ must start with https://"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=file:///nonexistent/jwks.json\n",
     "OrdsJwtProfile hr: jwk_url: cannot read /nonexistent/jwks.json"),
    ("OrdsJwtProfile hr issuer=i audience=a jwk_url=https://x/ role_claim_name=groups\n",
     "role_claim_name=groups is not a JSON pointer"),
    ("<Location /x/>\nAuthType ords-jwt\nAuthOrdsJwtProfile nope\nRequire valid-user\n</Location>\n",
     "no OrdsJwtProfile named \"nope\" is defined"),
    (BASE + "<Location /x/>\nAuthType Basic\nAuthName x\nRequire ords-scope s\n</Location>\n",
     "this section has AuthType Basic and no AuthBasicProvider (httpd's "
     "default is file): add AuthBasicProvider ords-jwt"),
    ("OrdsJwtCACertificateFile /nonexistent/ca.pem\n",
     "OrdsJwtCACertificateFile: /nonexistent/ca.pem is not a readable file"),
], ids=["missing-key", "unknown-key", "duplicate", "skew-range", "skew-nan",
        "age-nan", "http-url", "file-url", "pointer", "undefined-profile",
        "wrong-authtype", "ca-file"])
def test_configtest_reports(configtest, site, message):
    code, out, conf = configtest(site)
    assert code != 0, out
    assert message in out, out
    assert "Syntax error on line" in out and conf in out, out


def test_configtest_bad_static_jwks_file(configtest, workdir):
    path = os.path.join(workdir, "bad-static.json")
    with open(path, "w") as f:
        f.write('{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}')
    code, out, _ = configtest("OrdsJwtProfile s issuer=i audience=a jwk_url=file://%s\n"
                              % path)
    assert code != 0 and "no usable signature key" in out, out
    assert "RSA modulus of" in out, out


def test_configtest_warns_role_without_claim(configtest):
    code, out, conf = configtest(
        BASE + "<Location /x/>\nAuthType ords-jwt\nAuthOrdsJwtProfile ok\n"
        "Require ords-role admin\n</Location>\n")
    assert code == 0, out
    assert "ORDSJWT00020" in out and "profile ok" in out and "role_claim_name" in out
    assert conf in out, out
