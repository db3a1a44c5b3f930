# SPDX-License-Identifier: Apache-2.0
"""Profiles and privileges of the main server inside <VirtualHost>s.

On Debian every site is a virtual host, and the README's recipe defines
the profiles in conf-available (main server) and the Locations in a site.
So an OrdsJwtProfile and an OrdsJwtPrivilege of the main server must be
usable by AuthOrdsJwtProfile and Require ords-privilege in any virtual
host, and a virtual host's own profile of the same name shadows the main
server's there (issue 9, defect 1).

One httpd (event) with three name-based virtual hosts on its one port:
a.test and b.test use the main server's profile "main" and privilege
"vh.admin"; c.test defines its own "main" with another issuer.
"""

import os

import pytest

import sites
from helpers import Client, assert_challenge, assert_insufficient_scope, \
    assert_invalid_token, assert_ok
from httpd_instance import Httpd, HttpdError, bad_lines
from jwks_server import free_port
from tokens import ISSUER, claims, mint

ISSUER_C = "https://c.example/"
USERS = ("a.test", "b.test")          # the virtual hosts that use "main"


def vhost_site(pki, jwks, port):
    def protected(profile_name):
        return sites.site(
            sites.location("/priv/", profile_name, "ords-privilege vh.admin"),
            sites.location("/any/", profile_name))
    address = "127.0.0.1:%d" % port
    return sites.site(
        sites.ca(pki),
        sites.profile("main", jwk_url=jwks.url("/vh-main"), role_claim_name="/groups"),
        "OrdsJwtPrivilege vh.admin role=admin",
        sites.virtual_host(address, protected("main"), server_name="a.test"),
        sites.virtual_host(address, protected("main"), server_name="b.test"),
        sites.virtual_host(
            address,
            sites.profile("main", ISSUER_C, jwk_url=jwks.url("/vh-c")),
            sites.location("/any/", "main"),
            server_name="c.test"))


def privilege_only_site(pki, jwks, port):
    """The main server's privilege, with a profile of the virtual host."""
    return sites.site(
        sites.ca(pki),
        "OrdsJwtPrivilege vh.admin role=admin",
        sites.virtual_host(
            "127.0.0.1:%d" % port,
            sites.profile("own", jwk_url=jwks.url("/vh-main"), role_claim_name="/groups"),
            sites.location("/priv/", "own", "ords-privilege vh.admin"),
            server_name="a.test"))


@pytest.fixture(scope="module")
def vh_server(workdir, pki, jwks, keys):
    jwks.publish("/vh-main", keys.jwks("rsa1"))
    jwks.publish("/vh-c", keys.jwks("rsa1"))
    port = free_port()
    server = Httpd(os.path.join(workdir, "vhosts"), "event",
                   vhost_site(pki, jwks, port), port=port)
    server.start_error = None
    yield server
    if server.pid:
        server.stop()


@pytest.fixture
def vh(vh_server):
    """vh() starts the httpd if no test has yet and returns a client; a
    start that failed fails the test with httpd's own words. The error log
    written during the test is checked afterwards."""
    clients = []

    def connect():
        if vh_server.pid is None and vh_server.start_error is None:
            try:
                vh_server.start()
            except HttpdError as e:
                vh_server.start_error = str(e)
        if vh_server.start_error:
            pytest.fail("httpd with virtual hosts did not start:\n"
                        + vh_server.start_error)
        clients.append(Client(vh_server))
        return clients[-1]
    yield connect
    for client in clients:
        bad = bad_lines(client.new_log(), ("AH01631",))
        assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


@pytest.mark.parametrize("make_site", [vhost_site, privilege_only_site],
                         ids=["profile-and-privilege", "privilege"])
def test_configtest_passes(workdir, pki, jwks, make_site):
    port = free_port()
    server = Httpd(os.path.join(workdir, "vhosts-configtest-" + make_site.__name__),
                   "event", make_site(pki, jwks, port), port=port)
    code, out = server.configtest()
    assert code == 0 and out.strip() == "Syntax OK", out


@pytest.mark.parametrize("host", USERS)
def test_main_server_profile_and_privilege(vh, keys, host):
    vh = vh()
    admin = mint(claims(groups=["admin"]), key=keys["rsa1"])
    assert_ok(vh.get("/any/", admin, host=host))
    assert_ok(vh.get("/priv/", admin, host=host))
    # the privilege is the main server's: its role, or its name as a scope
    assert_ok(vh.get("/priv/", mint(claims(scope="vh.admin"), key=keys["rsa1"]),
                     host=host))
    assert_insufficient_scope(vh.get("/priv/", mint(claims(groups=["users"]),
                                                    key=keys["rsa1"]), host=host),
                              scope="vh.admin")
    forged = mint(claims(groups=["admin"]), key=keys["attacker"], header={"kid": "rsa1"})
    assert_invalid_token(vh.get("/priv/", forged, host=host), "signature is invalid")
    assert_challenge(vh.get("/any/", host=host))


def test_vhost_profile_shadows_the_main_servers(vh, keys):
    vh = vh()
    assert_ok(vh.get("/any/", mint(claims(iss=ISSUER_C), key=keys["rsa1"]),
                     host="c.test"))
    # a token of the main server's issuer is not for this virtual host
    assert_invalid_token(vh.get("/any/", mint(claims(iss=ISSUER), key=keys["rsa1"]),
                                host="c.test"), "issuer not accepted")
    lines = [l for l in vh.new_log().splitlines() if "ORDSJWT00011" in l]
    assert lines and "(issuer_mismatch)" in lines[-1], vh.new_log()
    # and the other way round in the hosts that use the main server's
    assert_invalid_token(vh.get("/any/", mint(claims(iss=ISSUER_C), key=keys["rsa1"]),
                                host="a.test"), "issuer not accepted")
