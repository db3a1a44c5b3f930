# SPDX-License-Identifier: Apache-2.0
"""Fronting a backend: verified claims passed on (environment for CGI,
headers for mod_proxy), look-alike request headers stripped, the token
forwarded or not, and ORDS privileges (scope or role) with Require
ords-privilege."""

import http.client
import os
import re
from types import SimpleNamespace

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from helpers import Client, EchoBackend, assert_challenge, assert_insufficient_scope, \
    assert_no_token, assert_ok
from httpd_instance import Httpd, bad_lines
import sites
from tokens import claims, mint

MODS = "/usr/lib/apache2/modules"


@pytest.fixture(scope="module")
def backend():
    b = EchoBackend()
    yield b
    b.stop()


CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
env | grep '^ORDSJWT_' | sort
"""


def site(jwks, pki, backend, cgi_dir):
    proxy = "ProxyPass http://127.0.0.1:%d/" % backend.port
    return sites.site(
        "LoadModule proxy_module %s/mod_proxy.so" % MODS,
        "LoadModule proxy_http_module %s/mod_proxy_http.so" % MODS,
        "LoadModule cgid_module %s/mod_cgid.so" % MODS,
        "ScriptSock cgid.sock",
        sites.ca(pki),
        sites.profile("hr", jwk_url=jwks.url("/backend-jwks"), role_claim_name="/groups"),
        "OrdsJwtPrivilege hr.admin role=HR_ADMINS role=SUPERUSERS",
        "OrdsJwtPrivilege hr.read",
        sites.location("/proxy/", "hr", extra=["OrdsJwtPassClaims headers", proxy]),
        sites.location("/proxy-debug/", "hr",
                       extra=["OrdsJwtPassClaims both", "LogLevel auth_ordsjwt:debug",
                              proxy]),
        sites.location("/proxy-notoken/", "hr",
                       extra=["OrdsJwtPassClaims none", "OrdsJwtForwardToken Off", proxy]),
        "<Location /open/>\n    %s\n</Location>" % proxy,
        "ScriptAlias /cgi/ %s/" % cgi_dir,
        "<Directory %s>\n    Options +ExecCGI\n    Require all granted\n</Directory>"
        % cgi_dir,
        sites.location("/cgi/", "hr"),
        sites.location("/priv/", "hr", "ords-privilege hr.admin"),
        sites.location("/priv-all/", "hr", None,
                       extra=["<RequireAll>", "    Require ords-privilege hr.read",
                              "    Require not ords-role BANNED", "</RequireAll>"]),
        sites.location("/priv-any/", "hr", None,
                       extra=["<RequireAny>", "    Require ords-privilege hr.admin",
                              "    Require ords-scope hr.read", "</RequireAny>"]))


@pytest.fixture(scope="module")
def bk(workdir, pki, jwks, keys, backend):
    jwks.publish("/backend-jwks", keys.jwks("rsa1"))
    directory = os.path.join(workdir, "backend")
    cgi_dir = os.path.join(directory, "cgi")
    os.makedirs(cgi_dir, mode=0o755, exist_ok=True)
    script = os.path.join(cgi_dir, "env.sh")
    with open(script, "w") as f:
        f.write(CGI)
    os.chmod(script, 0o755)
    server = Httpd(directory, "event", site(jwks, pki, backend, cgi_dir)).start()
    yield server
    server.stop()


@pytest.fixture
def bc(bk):
    client = Client(bk)
    client.acknowledged = ["AH01631"]
    offset = bk.log_offset()
    yield client
    bad = bad_lines(bk.read_log(offset), client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def get(client, path, token, extra=None):
    headers = {"Authorization": "Bearer " + token, "Connection": "close"}
    headers.update(extra or {})
    client.tokens.append(token)
    return requests.get(client.httpd.url(path), headers=headers, timeout=10)


def lower(resp):
    """The headers the echo backend got: {lower-case name: value}."""
    return {k.lower(): v for k, v in resp.json()["headers"]}


SPOOFS = {"X-OrdsJwt-Claim-sub": "mallory", "x_ordsjwt_roles": "HR_ADMINS",
          "X-ORDSJWT-PROFILE": "evil", "OrdsJwt-Scopes": "hr.admin",
          "x-ordsjwt-claim-iss": "https://evil/"}


def test_claims_as_headers_to_the_proxied_backend(bc, keys):
    token = mint(claims(scope="hr.read hr.write", groups=["HR", "DEV"],
                        realm={"a": 1}, admin=True, n=7), key=keys["rsa1"])
    r = get(bc, "/proxy/x", token, SPOOFS)
    assert r.status_code == 200, r.text
    got = lower(r)
    assert got["x-ordsjwt-claim-sub"] == "alice"
    assert got["x-ordsjwt-claim-iss"] == "https://issuer.example/"
    assert got["x-ordsjwt-profile"] == "hr"
    assert got["x-ordsjwt-scopes"] == "hr.read hr.write"
    assert got["x-ordsjwt-roles"] == "HR,DEV"
    assert got["x-ordsjwt-claim-groups"] == "HR,DEV"
    assert got["x-ordsjwt-claim-realm"] == '{"a":1}'
    assert got["x-ordsjwt-claim-admin"] == "true"
    assert got["x-ordsjwt-claim-n"] == "7"
    assert got["authorization"] == "Bearer " + token
    # none of the client's look-alikes survived
    assert "x_ordsjwt_roles" not in got and "ordsjwt-scopes" not in got
    assert all(v != "mallory" and v != "evil" for v in got.values())


def test_spoofed_headers_stripped_without_auth_and_with_none(bc, keys, backend):
    r = requests.get(bc.httpd.url("/open/"), headers=SPOOFS, timeout=10)
    got = lower(r)
    assert not [k for k in got if "ordsjwt" in k.replace("_", "-")], got
    token = mint(claims(), key=keys["rsa1"])
    got = lower(get(bc, "/proxy-notoken/", token, SPOOFS))
    assert not [k for k in got if "ordsjwt" in k.replace("_", "-")], got


def test_forward_token_off(bc, keys):
    got = lower(get(bc, "/proxy-notoken/", mint(claims(), key=keys["rsa1"])))
    assert "authorization" not in got


def test_no_token_never_reaches_the_backend(bc, backend):
    before = backend.count
    assert_no_token(requests.get(bc.httpd.url("/proxy/"), timeout=10))
    assert backend.count == before


def test_claims_in_the_cgi_environment(bc, keys):
    token = mint(claims(scope="hr.read", groups="HR"), key=keys["rsa1"])
    r = get(bc, "/cgi/env.sh", token, {"X-OrdsJwt-Claim-sub": "mallory"})
    assert r.status_code == 200, r.text
    env = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line)
    assert env, r.text
    assert env["ORDSJWT_CLAIM_sub"] == "alice"
    assert env["ORDSJWT_CLAIM_aud"] == "ords/hr/"
    assert env["ORDSJWT_PROFILE"] == "hr"
    assert env["ORDSJWT_SCOPES"] == "hr.read"
    assert env["ORDSJWT_ROLES"] == "HR"
    assert "mallory" not in r.text


def test_control_characters_and_oversize_values(bc, keys):
    bc.acknowledged.append("ORDSJWT00026")
    # 4001 + 2 * 47 bytes = 4095: the 48th "é" would straddle the 4096 cap
    token = mint(claims(note="a\r\nX-Injected: 1\x07\tb", big="x" * 4001 + "é" * 60),
                 key=keys["rsa1"])
    r = get(bc, "/proxy/", token)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    got = lower(r)
    assert got["x-ordsjwt-claim-note"] == "aX-Injected: 1b"
    assert "x-injected" not in got
    big = got["x-ordsjwt-claim-big"].encode("latin-1").decode("utf-8")
    assert big == "x" * 4001 + "é" * 47
    assert "ORDSJWT00026" in bc.new_log()


def test_one_cached_token_each_location_its_own_mode(bc, keys):
    """A token-cache hit passes what its location says (issue 22, item 4:
    the pairs are worked out once, for every mode), whichever location
    verified the token first."""
    bc.acknowledged.append("ORDSJWT00026")
    token = mint(claims(scope="hr.read", groups=["HR"], big="y" * 5000),
                 key=keys["rsa1"])
    for _ in range(2):
        r = get(bc, "/cgi/env.sh", token)               # env
        assert r.status_code == 200, r.text
        env = dict(line.split("=", 1) for line in r.text.splitlines()
                   if "=" in line)
        assert env["ORDSJWT_CLAIM_sub"] == "alice"
        assert env["ORDSJWT_ROLES"] == "HR"
        assert len(env["ORDSJWT_CLAIM_big"]) == 4096
        got = lower(get(bc, "/proxy/", token))          # headers
        assert got["x-ordsjwt-claim-sub"] == "alice"
        assert got["x-ordsjwt-profile"] == "hr"
        assert got["x-ordsjwt-scopes"] == "hr.read"
        got = lower(get(bc, "/proxy-notoken/", token))  # none
        assert not [k for k in got if "ordsjwt" in k.replace("_", "-")], got
    # every request that passed the cut value said so, hit or not
    assert bc.new_log().count("ORDSJWT00026") == 4


# claim names that map to one env/header name: sub wins, the others are dropped
COLLIDING = {"SUB": "admin", "e-mail": "a@evil.example", "e_mail": "b@evil.example",
             "tier": "gold"}
COLLIDED_WARN, COLLIDED_DEBUG = "ORDSJWT00035", "ORDSJWT00036"


def test_colliding_claim_names_not_passed_as_headers(bc, keys):
    bc.acknowledged.append(COLLIDED_WARN)
    r = get(bc, "/proxy/", mint(claims(**COLLIDING), key=keys["rsa1"]))
    assert r.status_code == 200, r.text
    got = lower(r)
    assert got["x-ordsjwt-claim-sub"] == "alice"
    assert [k for k in got if k == "x-ordsjwt-claim-sub"] == ["x-ordsjwt-claim-sub"]
    assert "x-ordsjwt-claim-e-mail" not in got
    assert "admin" not in got.values() and "@evil.example" not in str(got)
    assert got["x-ordsjwt-claim-tier"] == "gold"


def test_colliding_claim_names_not_in_the_cgi_environment(bc, keys):
    bc.acknowledged.append(COLLIDED_WARN)
    r = get(bc, "/cgi/env.sh", mint(claims(**COLLIDING), key=keys["rsa1"]))
    assert r.status_code == 200, r.text
    env = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line)
    assert env["ORDSJWT_CLAIM_sub"] == "alice"
    assert env["ORDSJWT_CLAIM_tier"] == "gold"
    assert not [k for k in env if k.lower() in ("ordsjwt_claim_e_mail",)], env
    assert "ORDSJWT_CLAIM_SUB" not in env and "admin" not in r.text, r.text


def test_colliding_claim_names_warned_once_per_process(bc, bk, keys):
    """warn the first time in each child, debug after that; the line names
    the colliding claims."""
    bc.acknowledged.append(COLLIDED_WARN)
    for _ in range(8):
        r = get(bc, "/proxy-debug/", mint(claims(**COLLIDING), key=keys["rsa1"]))
        assert r.status_code == 200, r.text
        got = lower(r)
        assert got["x-ordsjwt-claim-sub"] == "alice" and "x-ordsjwt-claim-e-mail" not in got
    log = bk.read_log(0)
    warned = [l for l in log.splitlines() if COLLIDED_WARN in l]
    assert warned, log
    assert all("[auth_ordsjwt:warn]" in l for l in warned), warned
    assert '["sub","SUB","e-mail","e_mail"]' in warned[0], warned[0]
    pids = [re.search(r"\[pid (\d+)", l).group(1) for l in warned]
    assert len(pids) == len(set(pids)), warned
    debug = [l for l in bc.new_log().splitlines() if COLLIDED_DEBUG in l]
    assert debug and all("[auth_ordsjwt:debug]" in l for l in debug), bc.new_log()
    assert '["sub","SUB","e-mail","e_mail"]' in debug[0], debug[0]


@pytest.mark.parametrize("over,path,ok", [
    ({"scope": "hr.admin"}, "/priv/", True),
    ({"scope": "openid", "groups": ["HR_ADMINS"]}, "/priv/", True),
    ({"scope": "openid", "groups": "SUPERUSERS"}, "/priv/", True),
    ({"scope": "hr.read", "groups": ["HR"]}, "/priv/", False),
    ({"scope": "hr.read"}, "/priv-all/", True),
    ({"scope": "hr.read", "groups": ["BANNED"]}, "/priv-all/", False),
    ({"scope": "hr.read"}, "/priv-any/", True),
    ({"scope": "x", "groups": ["HR_ADMINS"]}, "/priv-any/", True),
    ({"scope": "x"}, "/priv-any/", False),
], ids=["scope", "role-array", "role-string", "neither", "all-ok", "all-banned",
        "any-scope", "any-role", "any-none"])
def test_privileges(bc, keys, over, path, ok):
    r = get(bc, path, mint(claims(**over), key=keys["rsa1"]))
    if ok:
        assert_ok(r)
    elif path == "/priv/":
        assert_insufficient_scope(r, scope="hr.admin")
    elif path == "/priv-any/":
        assert_insufficient_scope(r, scope="hr.admin hr.read")
    else:
        # refused by "Require not ords-role BANNED": no scope is missing, so
        # which challenge (if any) fits is open; today there is none
        assert r.status_code == 403


def test_undefined_privilege_is_a_configtest_error(workdir):
    server = Httpd(os.path.join(workdir, "priv-undefined"), "event", "OrdsJwtProfile p issuer=i audience=a "
                   "jwk_url=https://127.0.0.1:1/j\n<Location /x/>\nAuthType ords-jwt\n"
                   "AuthOrdsJwtProfile p\nRequire ords-privilege nope\n</Location>\n")
    code, out = server.configtest()
    assert code != 0 and 'no OrdsJwtPrivilege named "nope"' in out, out


# --- a forward proxy guarded by <Proxy *> -------------------------------------

def forward_proxy_site(jwks, pki):
    return sites.site(
        "LoadModule proxy_module %s/mod_proxy.so" % MODS,
        "LoadModule proxy_http_module %s/mod_proxy_http.so" % MODS,
        sites.ca(pki),
        sites.profile("hr", jwk_url=jwks.url("/backend-jwks"), role_claim_name="/groups"),
        "ProxyRequests On",
        sites.location('"*"', "hr", "ords-scope hr.read", section="Proxy"))


@pytest.fixture(scope="module")
def fwd(workdir, pki, jwks, keys, backend):
    jwks.publish("/backend-jwks", keys.jwks("rsa1"))
    server = Httpd(os.path.join(workdir, "forward-proxy"), "event",
                   forward_proxy_site(jwks, pki)).start()
    yield server
    server.stop()


def through_proxy(server, backend, token):
    """GET http://127.0.0.1:BACKEND/fwd/ with server as the forward proxy
    and the token in Proxy-Authorization."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "http://127.0.0.1:%d/fwd/" % backend.port,
                     headers={"Proxy-Authorization": "Bearer " + token,
                              "Connection": "close"})
        resp = conn.getresponse()
        return SimpleNamespace(status_code=resp.status, body=resp.read(),
                               headers=CaseInsensitiveDict(resp.getheaders()))
    finally:
        conn.close()


def test_forward_proxy_challenges_in_proxy_authenticate(fwd, backend, keys):
    """A proxy request's challenge goes in Proxy-Authenticate, the 403 of
    a missing scope too (RFC 7235 4.3), never in WWW-Authenticate, which
    would be the origin server's."""
    offset = fwd.log_offset()
    before = backend.count
    r = through_proxy(fwd, backend, mint(claims(scope="hr.read"), key=keys["rsa1"]))
    assert r.status_code == 200 and backend.count == before + 1, (r.status_code, r.body)
    r = through_proxy(fwd, backend, mint(claims(scope="openid"), key=keys["rsa1"]))
    assert_challenge(r, "insufficient_scope", scope="hr.read", header="Proxy-Authenticate")
    assert backend.count == before + 1
    bad = bad_lines(fwd.read_log(offset), ("AH01631",))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
