# SPDX-License-Identifier: Apache-2.0
"""Configuration mistakes are reported by `apache2 -t` (configtest) with the
directive, the profile and what is wrong."""

import itertools
import os

import pytest
import requests

from httpd_instance import Httpd
import sites

_seq = itertools.count()
GOOD = ("issuer=https://issuer.example/ audience=ords/hr/ "
        "jwk_url=https://127.0.0.1:9/jwks role_claim_name=/groups")


@pytest.fixture
def configtest(workdir, pki):
    def run(profile_line, profile="cfg", require="ords-scope hr.read"):
        d = os.path.join(workdir, "config-%d" % next(_seq))
        httpd = Httpd(d, "event", sites.site(sites.ca(pki), profile_line,
                                             sites.location("/hr/", profile, require)))
        return httpd.configtest()
    return run


def test_good_config(configtest):
    rc, out = configtest("OrdsJwtProfile cfg " + GOOD)
    assert rc == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("line, what", [
    ("OrdsJwtProfile cfg issuer=https://i.example/ audience=a "
     "jwk_url=http://127.0.0.1:9/jwks", "jwk_url"),
    ("OrdsJwtProfile cfg audience=a jwk_url=https://127.0.0.1:9/jwks", "issuer"),
    ("OrdsJwtProfile cfg issuer=https://i.example/ jwk_url=https://127.0.0.1:9/jwks",
     "audience"),
    ("OrdsJwtProfile cfg issuer=https://i.example/ audience=a", "jwk_url"),
    ("OrdsJwtProfile cfg " + GOOD + " allowed_skew=61", "allowed_skew"),
    ("OrdsJwtProfile cfg " + GOOD + " allowed_skew=ten", "allowed_skew"),
    ("OrdsJwtProfile cfg " + GOOD + " allowed_age=soon", "allowed_age"),
    ("OrdsJwtProfile cfg " + GOOD + " colour=blue", "colour"),
    ("OrdsJwtProfile cfg issuer=https://i.example/ audience=a "
     "jwk_url=file:///nonexistent/jwks.json", "jwk_url"),
], ids=["http-jwk-url", "no-issuer", "no-audience", "no-jwk-url", "skew-over-60",
        "skew-not-a-number", "age-not-a-number", "unknown-key", "missing-static-file"])
def test_profile_mistakes(configtest, line, what):
    rc, out = configtest(line)
    assert rc != 0, out
    assert "OrdsJwtProfile" in out and what in out, out


def test_profile_mistake_names_the_profile(configtest):
    rc, out = configtest("OrdsJwtProfile hr-payroll " + GOOD + " allowed_skew=61",
                         profile="hr-payroll")
    assert rc != 0 and "hr-payroll" in out, out


def test_unknown_profile_in_location(configtest):
    rc, out = configtest("OrdsJwtProfile cfg " + GOOD, profile="nosuch")
    assert rc != 0 and "nosuch" in out, out


def test_ords_role_without_role_claim_name_warns(configtest):
    line = ("OrdsJwtProfile cfg issuer=https://issuer.example/ audience=ords/hr/ "
            "jwk_url=https://127.0.0.1:9/jwks")
    rc, out = configtest(line, require="ords-role admin")
    assert rc == 0, out
    assert "role_claim_name" in out and "cfg" in out, out


# --- Require lines that do not compose as they read (issue 11) --------------

AUTHZ_HOST = "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so"


def composed_site(pki, *extra, require=None):
    """Profile cfg, privilege p and <Location /hr/> whose authorization is
    extra (lines) or require (one Require line)."""
    return sites.site(AUTHZ_HOST, sites.ca(pki), "OrdsJwtProfile cfg " + GOOD,
                      "OrdsJwtPrivilege p",
                      sites.location("/hr/", "cfg", require, extra=extra))


@pytest.fixture
def configtest_authz(workdir, pki):
    def run(*extra, require=None):
        d = os.path.join(workdir, "config-%d" % next(_seq))
        return Httpd(d, "event", composed_site(pki, *extra, require=require)).configtest()
    return run


def _all(*lines):
    return ("<RequireAll>",) + tuple("    " + l for l in lines) + ("</RequireAll>",)


@pytest.mark.parametrize("expr", [
    "%{env:ORDSJWT_CLAIM_tier} != 'guest'",
    "%{reqenv:ORDSJWT_CLAIM_tier} == 'acme'",
    "%{HTTP:X-OrdsJwt-Claim-tier} == 'acme'",
    "req('x-ordsjwt-roles') =~ /admin/",
], ids=["env", "reqenv", "header", "req-function"])
def test_require_expr_on_claims_warns(configtest_authz, expr):
    rc, out = configtest_authz(require='expr "%s"' % expr)
    assert rc == 0, out
    assert "ORDSJWT00031" in out and "Require ords-claim" in out \
        and "REMOTE_USER" in out, out


@pytest.mark.parametrize("require", [
    'expr "%{REMOTE_USER} != \'\' && %{env:ORDSJWT_CLAIM_tier} != \'guest\'"',
    'expr "%{REQUEST_URI} =~ m#^/hr/#"',
    "ords-claim tier gold",
], ids=["mentions-remote-user", "no-ordsjwt-variable", "ords-claim"])
def test_require_expr_without_warning(configtest_authz, require):
    rc, out = configtest_authz(require=require)
    assert rc == 0 and "Syntax OK" in out, out
    assert "ORDSJWT0003" not in out, out


@pytest.mark.parametrize("lines", [
    _all("Require ip 127.0.0.1", "Require not ords-role blocked"),
    _all("Require ip 127.0.0.1", "Require not ords-scope hr.none",
         "Require not ords-claim tier guest"),
    _all("Require ip 127.0.0.1", "<RequireNone>", "    Require ords-scope hr.x",
         "</RequireNone>"),
    ("<RequireAny>", "    Require ip 10.0.0.0/8",) + tuple(
        "    " + l for l in _all("Require ip 127.0.0.1",
                                 "Require not ords-privilege p"))
    + ("</RequireAny>",),
], ids=["not-role", "not-scope-and-claim", "require-none", "nested"])
def test_only_negated_ords_lines_warn(configtest_authz, lines):
    rc, out = configtest_authz(*lines)
    assert rc == 0, out
    assert "ORDSJWT00032" in out and "Require valid-user" in out \
        and "<Location /hr/>" in out, out


@pytest.mark.parametrize("lines", [
    _all("Require valid-user", "Require not ords-role blocked"),
    _all("Require ords-scope hr.read", "Require not ords-role blocked"),
    _all("Require user alice bob", "<RequireNone>", "    Require ords-role x",
         "</RequireNone>"),
    _all("Require expr %{REMOTE_USER} =~ /^svc-/", "Require not ords-role x"),
    _all("Require ip 127.0.0.1", "Require not ip 127.0.0.2"),
], ids=["valid-user", "positive-ords", "user", "expr-remote-user", "no-ords-line"])
def test_negated_ords_lines_with_a_user_do_not_warn(configtest_authz, lines):
    rc, out = configtest_authz(*lines)
    assert rc == 0 and "Syntax OK" in out, out
    assert "ORDSJWT0003" not in out, out


@pytest.mark.parametrize("require, what", [
    ("ords-claim tier", "claim name and at least one value"),
    ("ords-claim /a~2b x", "JSON pointer"),
], ids=["no-value", "bad-pointer"])
def test_ords_claim_mistakes(configtest_authz, require, what):
    rc, out = configtest_authz(require=require)
    assert rc != 0 and what in out, out


def test_composition_warnings_at_startup(workdir, pki):
    """The same warnings reach the error log when httpd starts; they do not
    stop it (the configuration is valid httpd, only misleading)."""
    site = composed_site(pki, *_all("Require ip 127.0.0.1",
                                    "Require not ords-role blocked",
                                    "Require expr \"%{env:ORDSJWT_CLAIM_tier} != 'guest'\""))
    httpd = Httpd(os.path.join(workdir, "config-%d" % next(_seq)), "event", site)
    httpd.start(acknowledged=("ORDSJWT00031", "ORDSJWT00032"))
    try:
        log = httpd.read_log()
        assert "[auth_ordsjwt:warn]" in log and "ORDSJWT00031" in log \
            and "ORDSJWT00032" in log, log
        # what the warnings are about: no token, yet 200
        assert requests.get(httpd.url("/hr/"), timeout=10).status_code == 200
    finally:
        httpd.stop()
