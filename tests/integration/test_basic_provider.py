# SPDX-License-Identifier: Apache-2.0
"""AuthBasicProvider ords-jwt (issue 12, part 1): the token as the Basic
password, checked as a bearer token is; REMOTE_USER is its subject; the
Basic challenge on refusal; composition with a password file, a provider
alias and mod_authn_socache (which must never make a claims check pass);
what a Basic client gets when no keys can be had."""

import base64
import os
import subprocess
import time

import pytest

import sites
from helpers import Client, EchoBackend, read_file, wait_log
from httpd_instance import Httpd, bad_lines
from tokens import claims, mint, now

MODS = "/usr/lib/apache2/modules"
MPMS = ("event", "prefork")
FETCH_FAILED = "ORDSJWT00009"
# httpd's own lines for a refusal: mod_auth_basic (password mismatch, user
# not found) and mod_authz_core (authorization failure)
HTTPD_REFUSALS = ("AH01617", "AH01618", "AH01631")
REALM = 'Basic realm="ORDS"'
USER_LOG = "logs/user.log"

CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "REMOTE_USER=$REMOTE_USER"
echo "AUTH_TYPE=$AUTH_TYPE"
env | grep '^ORDSJWT_' | sort
"""


def site(pki, jwks, backend, cgi_dir, passwd, mpm):
    url = jwks.url
    hr = "hr"
    scope = "ords-scope hr.read"
    cache = ["AuthnCacheProvideFor ords-jwt", "AuthnCacheContext bp"]
    return sites.site(
        "LoadModule auth_basic_module %s/mod_auth_basic.so" % MODS,
        "LoadModule authn_file_module %s/mod_authn_file.so" % MODS,
        "LoadModule authn_socache_module %s/mod_authn_socache.so" % MODS,
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODS,
        "LoadModule cgid_module %s/mod_cgid.so" % MODS,
        "LoadModule proxy_module %s/mod_proxy.so" % MODS,
        "LoadModule proxy_http_module %s/mod_proxy_http.so" % MODS,
        "ScriptSock cgid.sock",
        "AuthnCacheSOCache shmcb",
        'CustomLog "%s" "%%u %%>s %%r"' % USER_LOG,
        sites.ca(pki),
        sites.profile(hr, jwk_url=url("/bp-jwks"), allowed_skew=0,
                      role_claim_name="/groups"),
        sites.profile("bpdown", jwk_url=url("/jwks-down500-%s" % mpm)),
        "<AuthnProviderAlias ords-jwt hr-tokens>",
        "    AuthOrdsJwtProfile hr",
        "</AuthnProviderAlias>",
        sites.basic_location("/b/", hr, scope),
        sites.basic_location("/bany/", hr),
        sites.basic_location("/broles/", hr, "ords-role admin"),
        sites.basic_location("/bmixed/", hr, scope, "file ords-jwt",
                             extra=["AuthUserFile %s" % passwd]),
        sites.basic_location("/bmixedany/", hr, "valid-user", "file ords-jwt",
                             extra=["AuthUserFile %s" % passwd]),
        # the profile in the alias only: 403 needs the line that
        # AuthOrdsJwtProfile writes for its own section
        sites.basic_location("/balias/", None, scope, "hr-tokens",
                             extra=["AuthzSendForbiddenOnFailure On"]),
        sites.basic_location("/balias401/", None, scope, "hr-tokens"),
        sites.basic_location("/bcache/", hr, scope, "socache ords-jwt",
                             extra=cache),
        sites.basic_location("/bcacheuser/", hr, "valid-user",
                             "socache ords-jwt", extra=cache),
        sites.basic_location("/bcachefile/", hr, scope, "socache file ords-jwt",
                             extra=["AuthUserFile %s" % passwd,
                                    "AuthnCacheProvideFor file ords-jwt",
                                    "AuthnCacheContext bpf"]),
        sites.basic_location("/bdown/", "bpdown"),
        "ScriptAlias /cgi/ %s/" % cgi_dir,
        "<Directory %s>\n    Options +ExecCGI\n    Require all granted\n"
        "</Directory>" % cgi_dir,
        sites.basic_location("/cgi/", hr, scope),
        sites.basic_location("/proxy/", hr, scope,
                             extra=["ProxyPass http://127.0.0.1:%d/"
                                    % backend.port]),
        sites.basic_location("/proxy-notoken/", hr, scope,
                             extra=["OrdsJwtForwardToken Off",
                                    "ProxyPass http://127.0.0.1:%d/"
                                    % backend.port]))


@pytest.fixture(scope="module")
def backend():
    b = EchoBackend()
    yield b
    b.stop()


@pytest.fixture(scope="module", params=MPMS)
def bp(request, workdir, pki, jwks, keys, backend):
    mpm = request.param
    jwks.publish("/bp-jwks", keys.jwks("rsa1", "ec1"))
    directory = os.path.join(workdir, "basic-provider-" + mpm)
    cgi_dir = os.path.join(directory, "cgi")
    os.makedirs(cgi_dir, mode=0o755, exist_ok=True)
    script = os.path.join(cgi_dir, "env.sh")
    with open(script, "w") as f:
        f.write(CGI)
    os.chmod(script, 0o755)
    passwd = os.path.join(directory, "passwd")
    subprocess.run(["htpasswd", "-cbB", passwd, "bob", "bobs-secret"],
                   check=True, capture_output=True)
    os.chmod(passwd, 0o644)
    server = Httpd(directory, mpm,
                   site(pki, jwks, backend, cgi_dir, passwd, mpm)).start()
    yield server
    server.stop()


@pytest.fixture
def bc(bp):
    client = Client(bp)
    client.acknowledged = list(HTTPD_REFUSALS)
    offset = bp.log_offset()
    yield client
    text = bp.read_log(offset)
    bad = bad_lines(text, client.acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
    for token in client.tokens:
        for part in [token] + token.split(".")[1:]:
            if len(part) >= 16:
                assert part not in text, "the error log contains the token"


def basic(client, path, token, user="", timeout=30):
    client.tokens.append(token)
    cred = base64.b64encode(("%s:%s" % (user, token)).encode()).decode()
    return client.get(path, authorization="Basic " + cred, timeout=timeout)


def good(keys, **over):
    return mint(claims(**over), key=keys["rsa1"])


def assert_basic_challenge(r, status=401):
    assert r.status_code == status, (r.status_code, dict(r.headers))
    assert r.headers.get("WWW-Authenticate") == REALM, dict(r.headers)


def info_lines(client, log_id):
    return [line for line in client.new_log().splitlines() if log_id in line]


# --- the token as the password ---------------------------------------------

def test_good_token_remote_user_is_sub(bc, keys):
    r = basic(bc, "/cgi/env.sh", good(keys, sub="carol"))
    assert r.status_code == 200, r.text
    assert "REMOTE_USER=carol" in r.text
    assert "AUTH_TYPE=Basic" in r.text
    assert "ORDSJWT_CLAIM_sub=carol" in r.text


def test_user_name_empty_or_sub(bc, keys):
    token = good(keys, sub="carol")
    assert basic(bc, "/b/", token, user="").headers["X-Remote-User"] == "carol"
    r = basic(bc, "/b/", token, user="carol")
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "carol"
    r = basic(bc, "/b/", token, user="admin")
    assert_basic_challenge(r)
    assert any("(user_mismatch)" in line
               for line in info_lines(bc, "ORDSJWT00045:")), bc.new_log()


def test_ec_token_and_valid_user(bc, keys):
    r = basic(bc, "/bany/", mint(claims(), key=keys["ec1"]))
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice"


@pytest.mark.parametrize("over, reason", [
    ({"exp": 1}, "expired"),
    ({"aud": "ords/other/"}, "audience_mismatch"),
    ({"iss": "https://evil.example/"}, "issuer_mismatch"),
])
def test_bad_token_basic_challenge_reason_logged(bc, keys, over, reason):
    r = basic(bc, "/b/", good(keys, **over))
    assert_basic_challenge(r)
    assert "Bearer" not in r.headers.get("WWW-Authenticate", "")
    lines = info_lines(bc, "ORDSJWT00011:")
    assert any("(%s)" % reason in line for line in lines), bc.new_log()


def test_foreign_key_and_garbage(bc, keys):
    assert_basic_challenge(basic(bc, "/b/", mint(claims(), key=keys["attacker"])))
    r = basic(bc, "/b/", "not-a-token")
    assert_basic_challenge(r)
    assert any("(malformed)" in line for line in info_lines(bc, "ORDSJWT00011:"))


def test_missing_scope_403(bc, keys):
    r = basic(bc, "/b/", good(keys, scope="other"))
    assert r.status_code == 403, dict(r.headers)
    # a Basic client gets no Bearer challenge it could not use
    assert "Bearer" not in r.headers.get("WWW-Authenticate", "")


def test_roles_after_basic(bc, keys):
    assert basic(bc, "/broles/", good(keys, groups=["admin"])).status_code == 200
    assert basic(bc, "/broles/", good(keys, groups=["dev"])).status_code == 403


def test_backend_gets_bearer_never_the_basic_user(bc, keys, backend):
    token = good(keys, sub="carol")
    r = basic(bc, "/proxy/x", token, user="carol")
    assert r.status_code == 200, r.text
    got = {k.lower(): v for k, v in r.json()["headers"]}
    assert got["authorization"] == "Bearer " + token
    r = basic(bc, "/proxy-notoken/x", token)
    assert r.status_code == 200, r.text
    assert "authorization" not in {k.lower() for k, _ in r.json()["headers"]}


# --- the token as the user name (issue 20, item 5) -------------------------

def basic_user(client, path, token, password):
    """GitHub-style: the token as the user name."""
    client.tokens.append(token)
    cred = base64.b64encode(("%s:%s" % (token, password)).encode()).decode()
    return client.get(path, authorization="Basic " + cred)


def user_log(client, wanted):
    """The %u log once it holds wanted."""
    return wait_log(read_file(os.path.join(client.httpd.dir, USER_LOG)), wanted)


def assert_not_in(text, token, where):
    for part in [token] + token.split(".")[1:]:
        if len(part) >= 16:
            assert part not in text, "the token is in " + where


@pytest.mark.parametrize("password", ["", "x-oauth-basic"])
def test_token_as_user_name_is_checked_as_the_password(bc, keys, password):
    token = good(keys, sub="carol")
    r = basic_user(bc, "/cgi/env.sh?u1", token, password)
    assert r.status_code == 200, r.text
    assert "REMOTE_USER=carol" in r.text
    assert_not_in(r.text, token, "the CGI environment")
    # with a password file first, too
    r = basic_user(bc, "/bmixedany/?u1", token, password)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "carol"
    log = user_log(bc, "carol 200 GET /bmixedany/?u1")
    assert "carol 200 GET /cgi/env.sh?u1" in log, log
    assert_not_in(log, token, "the access log (%u)")


@pytest.mark.parametrize("path", ["/b/?u2", "/bmixedany/?u2", "/balias/?u2"])
def test_refused_token_as_user_name_is_never_logged(bc, keys, path):
    """mod_auth_basic logs the user name of every refusal (AH01617,
    AH01618) and keeps it as r->user (%u): the token is never there."""
    for token in (good(keys, exp=1), mint(claims(), key=keys["attacker"])):
        assert_basic_challenge(basic_user(bc, path, token, ""))
    assert basic_user(bc, path, "eyJhbGciOiJub25lIn0.e30.", "").status_code == 401
    log = user_log(bc, '"" 401 GET ' + path)
    assert '"" 401 GET ' + path in log, log
    for token in bc.tokens:
        assert_not_in(log, token, "the access log (%u)")


def test_token_as_user_name_with_a_password_is_refused(bc, keys):
    token = good(keys)
    for path in ("/b/?u3", "/bmixedany/?u3"):
        assert_basic_challenge(basic_user(bc, path, token, "hunter2"))
    lines = info_lines(bc, "ORDSJWT00101:")
    assert len(lines) == 2 and "(user_mismatch)" in lines[0], bc.new_log()
    assert "hunter2" not in bc.new_log()
    log = user_log(bc, "401 GET /bmixedany/?u3")
    assert_not_in(log, token, "the access log (%u)")
    assert "- 401 GET /b/?u3" in log, log


def test_user_names_that_are_no_token_are_left_alone(bc):
    cred = base64.b64encode(b"bob:bobs-secret").decode()
    r = bc.get("/bmixedany/", authorization="Basic " + cred)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "bob"
    cred = base64.b64encode(b"j.r.r:x-oauth-basic").decode()
    assert_basic_challenge(bc.get("/bmixedany/", authorization="Basic " + cred))
    assert not info_lines(bc, "ORDSJWT00101:")


# --- composition -----------------------------------------------------------

def test_file_user_and_token_together(bc, keys):
    cred = base64.b64encode(b"bob:bobs-secret").decode()
    r = bc.get("/bmixedany/", authorization="Basic " + cred)
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "bob"
    r = basic(bc, "/bmixedany/", good(keys))
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice"
    # a token for a user name in the file is the file's to judge
    assert_basic_challenge(basic(bc, "/bmixedany/", good(keys), user="bob"))


def test_file_user_gets_no_claims_grant(bc, keys):
    cred = base64.b64encode(b"bob:bobs-secret").decode()
    r = bc.get("/bmixed/", authorization="Basic " + cred)
    assert r.status_code == 403, dict(r.headers)
    assert info_lines(bc, "ORDSJWT00047:"), bc.new_log()
    assert basic(bc, "/bmixed/", good(keys)).status_code == 200


def test_provider_alias(bc, keys):
    r = basic(bc, "/balias/", good(keys))
    assert r.status_code == 200 and r.headers["X-Remote-User"] == "alice"
    assert basic(bc, "/balias/", good(keys, scope="other")).status_code == 403
    assert_basic_challenge(basic(bc, "/balias/", good(keys, exp=1)))
    assert_basic_challenge(basic(bc, "/balias401/", good(keys, scope="other")))


def test_socache_never_holds_a_token(bc, keys):
    """AuthnCacheProvideFor ords-jwt: nothing is stored, so every request
    is judged by the token; a token that expired is refused although the
    same user name and password were granted a moment before."""
    token = good(keys, exp=now() + 2)
    for _ in range(3):
        r = basic(bc, "/bcacheuser/", token)
        assert r.status_code == 200, dict(r.headers)
    time.sleep(max(0.0, 2.5))
    assert_basic_challenge(basic(bc, "/bcacheuser/", token))


def test_socache_cannot_make_a_scope_check_pass(bc, keys):
    good_token = good(keys)
    for _ in range(2):
        assert basic(bc, "/bcache/", good_token).status_code == 200
    assert basic(bc, "/bcache/", good(keys, scope="other")).status_code == 403
    # a cache hit (here: a file user, cached by mod_authn_socache) has no
    # claims: the scope check is not granted, from the file or the cache
    cred = base64.b64encode(b"bob:bobs-secret").decode()
    for _ in range(3):
        r = bc.get("/bcachefile/", authorization="Basic " + cred)
        assert r.status_code == 403, dict(r.headers)
    assert basic(bc, "/bcachefile/", good_token).status_code == 200


# --- no keys -----------------------------------------------------------------

def test_outage_is_500_with_retry_after(bc, keys):
    bc.acknowledged.append(FETCH_FAILED)
    r = basic(bc, "/bdown/", good(keys))
    assert r.status_code == 500, dict(r.headers)
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and int(retry) > 0, dict(r.headers)
    assert info_lines(bc, "ORDSJWT00012:"), bc.new_log()


# --- configtest ----------------------------------------------------------------

@pytest.mark.parametrize("section, ok", [
    (("AuthType Basic", "AuthBasicProvider ords-jwt"), True),
    (("AuthType Basic", "AuthBasicProvider file ords-jwt"), True),
    (("AuthType Basic", "AuthBasicProvider hr-tokens"), True),
    (("AuthType Basic", "AuthBasicProvider file"), False),
    (("AuthType Form",), False),
], ids=["ords-jwt", "file-ords-jwt", "alias", "file-only", "other-type"])
def test_configtest_auth_types(workdir, pki, section, ok):
    lines = ["<Location /x/>"] + ["    " + l for l in section] + [
        '    AuthName "ORDS"', "    AuthOrdsJwtProfile cfg",
        "    Require ords-scope hr.read", "</Location>"]
    text = sites.site(
        "LoadModule auth_basic_module %s/mod_auth_basic.so" % MODS,
        "LoadModule authn_file_module %s/mod_authn_file.so" % MODS,
        sites.ca(pki),
        sites.profile("cfg", jwk_url="https://127.0.0.1:9/jwks"),
        "<AuthnProviderAlias ords-jwt hr-tokens>", "</AuthnProviderAlias>",
        "\n".join(lines))
    d = os.path.join(workdir, "basic-cfg-" + "-".join(section).replace(" ", "_"))
    rc, out = Httpd(d, "event", text).configtest()
    assert (rc == 0) == ok, out
    if not ok:
        assert "AuthBasicProvider ords-jwt" in out, out
