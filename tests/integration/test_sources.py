# SPDX-License-Identifier: Apache-2.0
"""Where the token comes from (OrdsJwtTokenFrom: a header with or without a
scheme, a query parameter, a cookie), several tokens in one request,
anonymous access (OrdsJwtAnonymous), several audiences per profile and
profiles of one issuer told apart by audience (issue 15). Real apache2,
event and prefork; what the backend and the access log see is checked."""

import http.client
import json
import os
import time

from types import SimpleNamespace

import pytest
import requests

from helpers import EchoBackend, assert_challenge, assert_invalid_token, \
    assert_log_clean, assert_no_token
from httpd_instance import Httpd
import sites
from tokens import ISSUER, claims, mint

MODS = "/usr/lib/apache2/modules"
ACCESS = "logs/sources.log"


@pytest.fixture(scope="module")
def backend():
    b = EchoBackend()
    yield b
    b.stop()


def site(jwks, pki, backend):
    proxy = "ProxyPass http://127.0.0.1:%d/" % backend.port
    any_scope = ["<RequireAny>", "    Require all granted",
                 "    Require ords-scope hr.read", "</RequireAny>"]
    return sites.site(
        "LoadModule proxy_module %s/mod_proxy.so" % MODS,
        "LoadModule proxy_http_module %s/mod_proxy_http.so" % MODS,
        "LoadModule rewrite_module %s/mod_rewrite.so" % MODS,
        'CustomLog "%s" "%%>s %%U%%q"' % ACCESS,
        # a server-level rule that would refuse the request if mod_rewrite
        # saw the token in the query string
        "RewriteEngine On",
        "RewriteCond %{QUERY_STRING} access_token",
        "RewriteRule ^ - [F]",
        sites.ca(pki),
        sites.profile("src", jwk_url=jwks.url("/sources-jwks")),
        sites.profile("multi", jwk_url=jwks.url("/sources-jwks"),
                      audience="ords/hr/ audience=https://api.example.com"),
        sites.profile("pa", jwk_url=jwks.url("/sources-jwks"), audience="ords/a/",
                      role_claim_name="/groups"),
        sites.profile("pb", jwk_url=jwks.url("/sources-jwks"), audience="ords/b/",
                      role_claim_name="/roles"),
        sites.location("/def/", "src", extra=[proxy]),
        sites.location("/hdr/", "src", extra=["OrdsJwtTokenFrom header=X-Api-Token", proxy]),
        sites.location("/q/", "src", extra=["OrdsJwtTokenFrom query=access_token", proxy]),
        sites.location("/ck/", "src", extra=["OrdsJwtTokenFrom cookie=jwt", proxy]),
        sites.location("/multi-src/", "src", extra=[
            "OrdsJwtTokenFrom header=Authorization:Bearer query=access_token "
            "cookie=jwt", proxy]),
        sites.location("/anon/", "src", None, extra=["OrdsJwtAnonymous on", *any_scope]),
        sites.location("/anon-q/", "src", None, extra=[
            "OrdsJwtAnonymous on", "OrdsJwtTokenFrom query=access_token", *any_scope,
            proxy]),
        sites.location("/tok/", "src", extra=[
            "OrdsJwtTokenFrom header=Authorization:Token", proxy]),
        sites.location("/anon-strict/", "src", "ords-scope hr.read",
                       extra=["OrdsJwtAnonymous on"]),
        sites.location("/strict-all/", "src", "all granted"),
        sites.location("/aud/", "multi"),
        sites.location("/two/", "pa pb", "ords-role ADMIN"),
        "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n</Location>")


@pytest.fixture(scope="module", params=["event", "prefork"])
def srv(request, workdir, pki, jwks, keys, backend):
    jwks.publish("/sources-jwks", keys.jwks("rsa1"))
    server = Httpd(os.path.join(workdir, "sources-" + request.param),
                   request.param, site(jwks, pki, backend)).start()
    yield server
    server.stop()


class Cl:
    def __init__(self, httpd):
        self.httpd = httpd
        self.tokens = []
        self.acknowledged = ["AH01631"]

    def get(self, path, headers=None, token=None):
        if token:
            self.tokens.append(token)
        h = {"Connection": "close"}
        h.update(headers or {})
        return requests.get(self.httpd.url(path), headers=h, timeout=10,
                            allow_redirects=False)

    def access_log(self):
        with open(os.path.join(self.httpd.dir, ACCESS)) as f:
            return f.read()


@pytest.fixture
def sc(srv):
    client = Cl(srv)
    offset = srv.log_offset()
    yield client
    assert_log_clean(srv, offset, client.acknowledged, client.tokens)


@pytest.fixture
def token(keys):
    return mint(claims(), key=keys["rsa1"])


def seen(resp):
    """The request the echo backend got: (path, {lower-case header: value})."""
    body = resp.json()
    return body["path"], {k.lower(): v for k, v in body["headers"]}


def wait_access(sc, text, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        log = sc.access_log()
        if text in log:
            return log
        time.sleep(0.05)
    return sc.access_log()


# --- token sources -----------------------------------------------------------

def test_custom_header_without_scheme(sc, token):
    r = sc.get("/hdr/x", {"X-Api-Token": token}, token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice", r.text
    assert seen(r)[1]["x-api-token"] == token    # OrdsJwtForwardToken On
    # Authorization is not a source of this location
    assert_no_token(sc.get("/hdr/x", {"Authorization": "Bearer " + token}, token))


def test_query_token_is_gone_from_backend_rewrite_and_access_log(sc, token):
    r = sc.get("/q/x?a=1&access_token=%s&b=2" % token, token=token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice", r.text
    path, headers = seen(r)
    assert path == "/x?a=1&b=2", path
    assert token not in str(headers)
    log = wait_access(sc, "200 /q/x?a=1&b=2")
    assert "200 /q/x?a=1&b=2" in log, log
    assert token.split(".")[2] not in log


def test_query_token_alone_leaves_no_query(sc, token):
    r = sc.get("/q/y?access_token=" + token, token=token)
    assert r.status_code == 200, r.text
    assert seen(r)[0] == "/y"
    assert "200 /q/y\n" in wait_access(sc, "200 /q/y\n")


def test_query_bad_token_and_missing_token(sc, keys):
    bad = mint(claims(exp=1000), key=keys["rsa1"])
    assert_invalid_token(sc.get("/q/x?access_token=" + bad, token=bad))
    assert_no_token(sc.get("/q/x?other=1"))


def test_cookie_token_is_gone_from_backend_cookie(sc, token):
    r = sc.get("/ck/x", {"Cookie": "a=1; jwt=%s; b=2" % token}, token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice", r.text
    assert seen(r)[1]["cookie"] == "a=1; b=2"
    r = sc.get("/ck/x", {"Cookie": "jwt=" + token}, token)
    assert r.status_code == 200, r.text
    assert "cookie" not in seen(r)[1]


def test_default_source_is_authorization_bearer(sc, token):
    r = sc.get("/def/x", {"Authorization": "Bearer " + token}, token)
    assert r.status_code == 200, r.text
    # the query is not a source here: the token stays in it, so the
    # server-level rewrite rule refuses the request
    assert sc.get("/def/x?access_token=" + token, token=token).status_code == 403


def assert_ambiguous(resp):
    assert resp.status_code == 400, resp.headers
    assert resp.headers["WWW-Authenticate"] == (
        'Bearer realm="ORDS", error="invalid_request", '
        'error_description="more than one token in the request"'), resp.headers


def test_two_sources_at_once(sc, token):
    assert_ambiguous(sc.get("/multi-src/x?access_token=" + token,
                            {"Authorization": "Bearer " + token}, token))
    assert_ambiguous(sc.get("/multi-src/x", {"Authorization": "Bearer " + token,
                                             "Cookie": "jwt=" + token}, token))
    r = sc.get("/multi-src/x", {"Cookie": "jwt=" + token}, token)
    assert r.status_code == 200, r.text


def test_same_source_twice(sc, token):
    assert_ambiguous(sc.get("/q/x?access_token=%s&access_token=%s" % (token, token),
                            token=token))
    assert_ambiguous(sc.get("/ck/x", {"Cookie": "jwt=%s; jwt=%s" % (token, token)},
                            token))
    sc.tokens.append(token)
    conn = http.client.HTTPConnection("127.0.0.1", sc.httpd.port, timeout=10)
    conn.putrequest("GET", "/def/x")
    conn.putheader("Authorization", "Bearer " + token)
    conn.putheader("Authorization", "Bearer " + token)
    conn.putheader("Connection", "close")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 400
    assert 'error="invalid_request"' in resp.getheader("WWW-Authenticate")
    conn.close()


# --- anonymous access --------------------------------------------------------

def test_anonymous_without_token(sc):
    r = sc.get("/anon/")
    assert r.status_code == 200 and r.headers.get("X-Remote-User", "") == "", r.headers
    # Require needs a user: 401 with the plain challenge
    assert_no_token(sc.get("/anon-strict/"))


def test_anonymous_with_good_token(sc, token):
    r = sc.get("/anon/", {"Authorization": "Bearer " + token}, token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice"
    r = sc.get("/anon-strict/", {"Authorization": "Bearer " + token}, token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice"


def test_anonymous_with_bad_token_is_refused(sc, keys, token):
    bad = mint(claims(exp=1000), key=keys["rsa1"])
    assert_invalid_token(sc.get("/anon/", {"Authorization": "Bearer " + bad}, bad))
    assert_invalid_token(sc.get("/anon/", {"Authorization": "Bearer x.y.z"}))
    assert_invalid_token(sc.get("/anon-q/x?access_token=" + bad, token=bad))
    # no token at all: the backend gets no claims, and look-alikes are scrubbed
    r = sc.get("/anon-q/x?k=v", {"X-OrdsJwt-Claim-sub": "mallory"})
    assert r.status_code == 200, r.text
    path, headers = seen(r)
    assert path == "/x?k=v" and "x-ordsjwt-claim-sub" not in headers


def test_without_anonymous_require_without_user_is_httpds_rule(sc, token):
    """OrdsJwtAnonymous Off keeps httpd's rule: a Require that grants without
    a user lets the request in without authentication, token or not (the
    configtest warnings ORDSJWT00031/32 point at such sections); On checks a
    token when one is sent (test_anonymous_with_good_token)."""
    assert sc.get("/strict-all/").status_code == 200
    r = sc.get("/strict-all/", {"Authorization": "Bearer " + token}, token)
    assert r.status_code == 200 and r.headers.get("X-Remote-User", "") == ""


# --- a second credential (issue 20, item 4) -----------------------------------

@pytest.mark.parametrize("path, carrier", [
    ("/q/x?access_token={t}", {}),
    ("/hdr/x", {"X-Api-Token": "{t}"}),
    ("/ck/x", {"Cookie": "jwt={t}"}),
    ("/tok/x", {"Authorization": "Token {t}"}),
    ("/anon-q/x?access_token={t}", {})])
@pytest.mark.parametrize("second", [
    {"Authorization": "Bearer {f}"}, {"Authorization": "bearer   {f}"},
    {"Authorization": "DPoP {f}"}, {"Proxy-Authorization": "Bearer {f}"},
    {"Proxy-Authorization": "DPoP {f}"}])
def test_authorization_beside_another_source_is_a_second_token(
        sc, token, keys, path, carrier, second):
    """A Bearer or DPoP credential in Authorization or Proxy-Authorization
    is a second token beside a token of another source, even where
    OrdsJwtTokenFrom does not list that header: the backend would get a
    token the module never checked (RFC 6750 2: one method per request)."""
    forged = mint(claims(sub="admin"), key=keys["attacker"])
    sc.tokens += [token, forged]
    offset = sc.httpd.log_offset()
    headers = {k: v.format(t=token, f=forged) for k, v in carrier.items()}
    for k, v in second.items():
        v = v.format(f=forged)
        headers[k] = headers[k] + ", " + v if k in headers else v
    assert_ambiguous(sc.get(path.format(t=token), headers))
    assert "ORDSJWT00080" in sc.httpd.read_log(offset)


def test_authorization_of_another_scheme_passes(sc, token):
    """Basic (or any scheme but Bearer and DPoP) is no token: it goes on."""
    r = sc.get("/q/x?access_token=" + token, {"Authorization": "Basic Ym9iOnB3"},
               token)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice", r.text
    assert seen(r)[1]["authorization"] == "Basic Ym9iOnB3"


def test_stray_bearer_alone_is_no_token(sc, keys):
    """Alone, a credential where no source looks is not a token: 401 where
    a user is needed; an anonymous location lets it through (README: a
    backend must not trust what an anonymous location passes on)."""
    forged = mint(claims(sub="admin"), key=keys["attacker"])
    sc.tokens.append(forged)
    assert_no_token(sc.get("/q/x", {"Authorization": "Bearer " + forged}))
    r = sc.get("/anon-q/x", {"Authorization": "Bearer " + forged})
    assert r.status_code == 200 and r.headers.get("X-Remote-User", "") == ""
    assert seen(r)[1]["authorization"] == "Bearer " + forged


@pytest.mark.parametrize("target, headers, lookalike", [
    # ";" separates parameters for some frameworks, never for httpd
    ("/anon-q/x?a=1;access%5Ftoken={f}", {}, "a=1;access%5Ftoken={f}"),
    # PHP reads "access.token" and "access token" as access_token
    ("/anon-q/x?access.token={f}", {}, "access.token={f}"),
    ("/anon-q/x?access%20token={f}", {}, "access%20token={f}"),
    ("/anon-q/x?access[token={f}", {}, "access[token={f}"),
    # a blank before "=" is no cookie named jwt for RFC 6265
    ("/anon-q/x", {"Cookie": "jwt ={f}"}, "jwt ={f}"),
])
def test_lookalikes_pass_an_anonymous_location_untouched(
        sc, keys, target, headers, lookalike):
    """What the module does not take as a token goes to the backend as
    sent, with no REMOTE_USER and no claims (README, Anonymous access)."""
    forged = mint(claims(sub="admin"), key=keys["attacker"])
    sc.tokens.append(forged)
    # as written: no client-side normalisation of the target
    conn = http.client.HTTPConnection("127.0.0.1", sc.httpd.port, timeout=10)
    conn.request("GET", target.format(f=forged), headers=dict(
        {k: v.format(f=forged) for k, v in headers.items()}, Connection="close"))
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200 and r.getheader("X-Remote-User", "") == "", \
        r.getheaders()
    path, got = seen(SimpleNamespace(json=lambda: json.loads(body)))
    assert lookalike.format(f=forged) in path + got.get("cookie", "")
    assert not any(k.startswith("x-ordsjwt") for k in got)


# --- audiences and profiles --------------------------------------------------

@pytest.mark.parametrize("aud, ok", [
    ("ords/hr/", True), ("https://api.example.com", True),
    (["x", "https://api.example.com"], True), ("https://api.example.com/", False),
    (["ords/hr"], False)])
def test_audience_list(sc, keys, aud, ok):
    t = mint(claims(aud=aud), key=keys["rsa1"])
    r = sc.get("/aud/", {"Authorization": "Bearer " + t}, t)
    if ok:
        assert r.status_code == 200, r.headers
    else:
        assert_invalid_token(r, "audience not accepted")


def test_two_profiles_of_one_issuer_told_apart_by_audience(sc, keys):
    def status(**c):
        t = mint(claims(**c), key=keys["rsa1"])
        return sc.get("/two/", {"Authorization": "Bearer " + t}, t).status_code

    assert status(aud="ords/a/", groups=["ADMIN"]) == 200      # pa: /groups
    assert status(aud="ords/b/", groups=["ADMIN"]) == 403      # pb: /roles
    assert status(aud="ords/b/", roles=["ADMIN"]) == 200
    assert status(aud="ords/a/", roles=["ADMIN"]) == 403
    assert status(aud="ords/c/", groups=["ADMIN"]) == 401


def test_status_page_lists_audiences(sc):
    doc = requests.get(sc.httpd.url("/ordsjwt-status?json"), timeout=10).json()
    multi = [p for p in doc["profiles"] if p["name"] == "multi"][0]
    assert multi["audience"] == "ords/hr/"
    assert multi["audiences"] == ["ords/hr/", "https://api.example.com"]


# --- configuration -----------------------------------------------------------

def configtest(workdir, pki, *parts):
    d = os.path.join(workdir, "sources-config-%d" % len(os.listdir(workdir)))
    return Httpd(d, "event", sites.site(sites.ca(pki), *parts)).configtest()


def test_configtest_refuses_profiles_no_token_tells_apart(workdir, pki):
    rc, out = configtest(
        workdir, pki,
        sites.profile("x1", audience="a audience=b", jwk_url="https://127.0.0.1:9/j"),
        sites.profile("x2", audience="c audience=b", jwk_url="https://127.0.0.1:9/j"),
        sites.location("/x/", "x1 x2"))
    assert rc != 0 and "x1 and x2" in out and "audience b" in out, out
    rc, out = configtest(
        workdir, pki,
        sites.profile("y1", audience="a", jwk_url="https://127.0.0.1:9/j"),
        sites.profile("y2", audience="b", jwk_url="https://127.0.0.1:9/j"),
        sites.location("/y/", "y1 y2"))
    assert rc == 0, out


@pytest.mark.parametrize("line, what", [
    ("OrdsJwtTokenFrom body=x", "is not header=NAME"),
    ("OrdsJwtTokenFrom query=a&b", "parameter name"),
    ("OrdsJwtTokenFrom header=X:", "scheme"),
    ("OrdsJwtTokenFrom cookie=jwt cookie=jwt", "listed twice"),
    ("OrdsJwtAnonymous maybe", "OrdsJwtAnonymous")])
def test_configtest_refuses_bad_sources(workdir, pki, line, what):
    rc, out = configtest(workdir, pki,
                         sites.profile("z", jwk_url="https://127.0.0.1:9/j"),
                         sites.location("/z/", "z", extra=[line]))
    assert rc != 0 and what in out, out


# --- ordsjwt-check follows the same rules ------------------------------------

def test_checker_chooses_by_audience_and_refuses_twins(srv, keys, workdir, pki):
    from test_checker import check
    t = mint(claims(aud="ords/b/", roles=["ADMIN"]), key=keys["rsa1"])
    run = check("--config", srv.conf, "--profile", "pa pb", t)
    assert run.code == 0 and "* pb" in run.out, run
    run = check("--config", srv.conf, "--profile", "multi", mint(
        claims(aud="https://api.example.com"), key=keys["rsa1"]))
    assert run.code == 0, run
    run = check("--config", srv.conf, "--profile", "src multi", t)
    assert run.code != 0 and "no token could tell them apart" in run.err, run
