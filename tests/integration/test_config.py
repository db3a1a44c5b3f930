# SPDX-License-Identifier: Apache-2.0
"""Configuration mistakes are reported by `apache2 -t` (configtest) with the
directive, the profile and what is wrong."""

import itertools
import os

import pytest

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
