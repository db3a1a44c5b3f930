# SPDX-License-Identifier: Apache-2.0
"""Fixtures: throwaway CA, HTTPS JWKS server, signing keys and one real
apache2 with mod_auth_ordsjwt per MPM (event, prefork).

After every test the error log written during the test is checked: any
[warn] or worse, or sanitizer output, fails the test unless acknowledged
with @pytest.mark.expect_log("ORDSJWT00042", ...) or expect_log(...).
The tokens the test sent must not appear in the log either.
"""

import json
import os
import shutil
import tempfile

import pytest

from helpers import Client
from httpd_instance import Httpd, bad_lines
from jwks_server import JwksServer, free_port
from pki import make_pki
from sites import ca, location, profile, site
from tokens import KeySet

MPMS = ("event", "prefork")
ISSUER_A = "https://a.example/"
ISSUER_B = "https://b.example/"
ISSUER_STATIC = "https://static.example/"
# JWKS that can never be fetched: 500, not JSON, nothing listening, a TLS
# server whose certificate chains to another CA, one whose certificate names
# another host. Each is a profile and a Location /NAME/.
DOWN_CASES = ("down500", "downhtml", "downdead", "downuntrusted", "downwronghost")


@pytest.fixture(scope="session")
def workdir():
    # not tmp_path: httpd children (User www-data) must read the files here
    d = tempfile.mkdtemp(prefix="ordsjwt-it-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    if not os.environ.get("ORDSJWT_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(workdir):
    return make_pki(workdir)


@pytest.fixture(scope="session")
def keys():
    return KeySet.generate()


@pytest.fixture(scope="session")
def jwks(pki, keys):
    server = JwksServer(pki["cert"], pki["key"]).start()
    server.publish("/jwks", keys.jwks("rsa1", "ps1", "ec1"))
    server.publish("/jwks-b", keys.jwks("rsaB"))
    server.publish("/attacker-jwks", keys.jwks("attacker"))
    for mpm in MPMS:
        server.publish("/jwks-count-%s" % mpm, keys.jwks("rsa1", "ps1", "ec1"))
        server.publish("/jwks-down500-%s" % mpm, {"error": "boom"}, status=500)
        server.publish("/jwks-downhtml-%s" % mpm, "<html>login</html>",
                       content_type="text/html")
        # slower than the module's fetch timeout (5 s)
        server.publish("/jwks-slow-%s" % mpm, keys.jwks("rsa1"), delay=8)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bad_tls_jwks(workdir, pki, keys):
    """Servers with the right keys that the module must not trust."""
    servers = {}
    for name, kwargs in (("untrusted", {}),
                         ("wronghost", {"ips": (), "dns": ("other.example",),
                                        "ca": pki["ca_obj"]})):
        d = os.path.join(workdir, name)
        os.makedirs(d, mode=0o755)
        p = make_pki(d, **kwargs)
        servers[name] = JwksServer(p["cert"], p["key"]).start()
        servers[name].publish("/jwks", keys.jwks("rsa1", "ps1", "ec1"))
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def static_jwks(workdir, keys):
    path = os.path.join(workdir, "static-jwks.json")
    with open(path, "w") as f:
        json.dump(keys.jwks("static1"), f)
    os.chmod(path, 0o644)
    return path


def site_config(mpm, pki, jwks, static_jwks, bad_tls_jwks):
    dead = "https://127.0.0.1:%d/jwks" % free_port()
    url = jwks.url
    groups = {"role_claim_name": "/groups"}
    profiles = [
        profile("hr", jwk_url=url("/jwks"), allowed_skew=0, allowed_age=0,
                role_claim_name="/groups", description="HR"),
        profile("skew30", jwk_url=url("/jwks"), allowed_skew=30, **groups),
        profile("age60", jwk_url=url("/jwks"), allowed_age=60, **groups),
        profile("realm", jwk_url=url("/jwks"), role_claim_name="/realm_access/roles"),
        profile("multiA", ISSUER_A, jwk_url=url("/jwks"), **groups),
        profile("multiB", ISSUER_B, jwk_url=url("/jwks-b"), **groups),
        profile("static", ISSUER_STATIC, jwk_url="file://" + static_jwks, **groups),
        profile("count", jwk_url=url("/jwks-count-%s" % mpm), **groups),
        profile("down500", jwk_url=url("/jwks-down500-%s" % mpm), **groups),
        profile("downhtml", jwk_url=url("/jwks-downhtml-%s" % mpm), **groups),
        profile("downdead", jwk_url=dead, **groups),
        profile("slow", jwk_url=url("/jwks-slow-%s" % mpm), **groups),
        profile("downuntrusted", jwk_url=bad_tls_jwks["untrusted"].url("/jwks"),
                **groups),
        profile("downwronghost", jwk_url=bad_tls_jwks["wronghost"].url("/jwks"),
                **groups),
    ]
    locations = [
        ("/hr/", "hr", "ords-scope hr.read hr.write"),
        ("/hrdoc/", "hr", "ords-scope hr.read hr.write", "ORDS",
         ('ErrorDocument 403 /errors/403.html',
          'ErrorDocument 401 /errors/401.html')),
        ("/any/", "hr", "valid-user"),
        ("/roles/", "hr", "ords-role admin"),
        ("/skew/", "skew30", "valid-user"),
        ("/age/", "age60", "valid-user"),
        ("/realm/", "realm", "ords-role admin"),
        ("/claim/", "hr", "ords-claim tier gold silver"),
        ("/claimptr/", "hr", "ords-claim /org/depts sales"),
        ("/claimlit/", "hr", "ords-claim level 3"),
        # the safe negation pattern (README): valid-user asks for the token
        ("/notblocked/", "hr", None, "ORDS",
         ("<RequireAll>", "    Require valid-user",
          "    Require not ords-role blocked",
          "    Require not ords-claim tier guest", "</RequireAll>")),
        ("/anyof/", "hr", None, "ORDS",
         ("<RequireAny>", "    Require ords-scope hr.admin",
          "    Require ords-role admin", "    Require ords-claim tier gold",
          "</RequireAny>")),
        ("/multi/", "multiA multiB", "valid-user"),
        ("/static/", "static", "valid-user"),
        ("/count/", "count", "valid-user"),
        ("/slow/", "slow", "valid-user"),
    ] + [("/%s/" % d, d, "valid-user") for d in DOWN_CASES]
    return site(ca(pki),
                "OrdsJwtJwksRefreshInterval 3600",
                "OrdsJwtAllowedSkew 0",
                "OrdsJwtAllowedAge 0",
                *profiles,
                *[location(*loc) for loc in locations])


@pytest.fixture(scope="session", params=MPMS)
def httpd(request, workdir, pki, jwks, static_jwks, bad_tls_jwks):
    mpm = request.param
    server = Httpd(os.path.join(workdir, "httpd-" + mpm), mpm,
                   site_config(mpm, pki, jwks, static_jwks, bad_tls_jwks))
    server.start()
    yield server
    offset = server.log_offset()
    server.stop()
    bad = bad_lines(server.read_log(offset), ("AH00170",))
    assert not bad, "httpd logged while stopping:\n" + "\n".join(bad)


@pytest.fixture
def expect_log():
    """expect_log("ORDSJWT00042") acknowledges error-log lines with that id."""
    acknowledged = []

    def add(*ids):
        acknowledged.extend(ids)
    add.ids = acknowledged
    return add


@pytest.fixture
def client(httpd):
    return Client(httpd)


@pytest.fixture(autouse=True)
def _jwks_reset(request):
    if "jwks" in request.fixturenames:
        request.getfixturevalue("jwks").reset()
    yield


@pytest.fixture(autouse=True)
def _error_log_check(request, expect_log):
    if "httpd" not in request.fixturenames:
        yield
        return
    httpd = request.getfixturevalue("httpd")
    client = request.getfixturevalue("client") \
        if "client" in request.fixturenames else None
    offset = httpd.log_offset()
    yield
    text = httpd.read_log(offset)
    acknowledged = list(expect_log.ids)
    for mark in request.node.iter_markers("expect_log"):
        acknowledged.extend(mark.args)
    bad = bad_lines(text, acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
    if client is not None:
        for token in client.tokens:
            parts = [token] + [p for p in token.split(".")[1:] if len(p) >= 16]
            for part in parts:
                if len(part) >= 16:
                    assert part not in text, "the error log contains the token"
