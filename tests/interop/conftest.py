# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the interop suite: a real authorization server (oidc-provider,
as.mjs) on loopback HTTPS with a throwaway CA, a second one whose keys the
tests rotate, client certificates, and one apache2 with the module per MPM
(event, prefork) serving HTTPS (mod_ssl) with the profile of
conf-examples/oidc-provider.conf, the example itself, placeholders
replaced.

The harness of tests/integration is reused (httpd_instance, pki, sites).
After every test the error log written during it is checked as there: any
[warn] or worse fails the test unless acknowledged with
@pytest.mark.expect_log("ORDSJWTnnnnn"), and no token a test sent may
appear in it.
"""

import os
import re
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import interop  # noqa: E402
import sites  # noqa: E402
from helpers import wait_log  # noqa: E402
from httpd_instance import MODULES_DIR, REPO, Httpd, bad_lines  # noqa: E402
from jwks_server import free_port  # noqa: E402
from pki import make_client_cert, make_pki  # noqa: E402

MPMS = ("event", "prefork")
EXAMPLE = os.path.join(REPO, "conf-examples", "oidc-provider.conf")
EXAMPLE_ISSUER = "https://as.example.com"


def _example():
    with open(EXAMPLE) as f:
        return f.read()


# What the example names: its profile, its audience (the resource
# indicator the clients ask for) and its two Locations.
PROFILE = re.search(r"^OrdsJwtProfile (\S+)", _example(), re.M).group(1)
HR = re.search(r"audience=(\S+)", _example()).group(1)
READ_PATH, WRITE_PATH = re.findall(r"^<Location (\S+)>", _example(), re.M)[:2]
# other resources of the AS
OTHER = "https://api.example.com/other/"
SHORT = "https://api.example.com/short/"
ROT = "https://api.example.com/rot/"
ALGS = ("RS256", "PS256", "ES256")
BY_ALG = {alg: "https://api.example.com/%s/" % alg.lower() for alg in ALGS}
SHORT_TTL = 4
CLIENTS = [{"client_id": "reader", "client_secret": "reader-secret"},
           {"client_id": "dpop-client", "client_secret": "dpop-secret",
            "dpop": True},
           {"client_id": "mtls-client", "client_secret": "mtls-secret",
            "mtls": True}]


def resources():
    """The resource servers of the main AS: audience, signing alg, token
    lifetime, and the scopes each client is granted there."""
    out = {HR: {"alg": "RS256", "ttl": 300,
                "grants": {"reader": "hr.read", "dpop-client": "hr.read hr.write",
                           "mtls-client": "hr.read"}},
           OTHER: {"alg": "RS256", "ttl": 300, "grants": {"reader": "hr.read"}},
           SHORT: {"alg": "ES256", "ttl": SHORT_TTL, "grants": {"reader": "hr.read"}}}
    for alg, resource in BY_ALG.items():
        out[resource] = {"alg": alg, "ttl": 300, "grants": {"reader": "hr.read"}}
    return out


def pytest_sessionstart(session):
    why = interop.missing_tools()
    if why:
        pytest.exit("interop suite cannot run: " + why, returncode=3)


@pytest.fixture(scope="session")
def workdir():
    # not tmp_path: httpd children (User www-data) must read the files here
    d = tempfile.mkdtemp(prefix="ordsjwt-interop-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    if not os.environ.get("ORDSJWT_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(workdir):
    return make_pki(workdir)


@pytest.fixture(scope="session")
def certs(workdir):
    """Self-signed client certificates: (cert, key, x5t#S256)."""
    return {name: make_client_cert(workdir, name)
            for name in ("client-a", "client-b")}


@pytest.fixture(scope="session")
def auth_server(workdir, pki):
    server = interop.AuthorizationServer(
        os.path.join(workdir, "as"), pki, free_port(),
        {"rs256-1": "RS256", "ps256-1": "PS256", "es256-1": "ES256"},
        CLIENTS, resources()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rotating_server(workdir, pki):
    """An AS of its own whose keys the rotation test replaces."""
    server = interop.AuthorizationServer(
        os.path.join(workdir, "as-rot"), pki, free_port(), {"rot-1": "RS256"},
        CLIENTS[:1], {ROT: {"alg": "RS256", "ttl": 300,
                            "grants": {"reader": "hr.read"}}}).start()
    yield server
    server.stop()


def example_site(auth_server):
    """conf-examples/oidc-provider.conf for the loopback AS."""
    return _example().replace(EXAMPLE_ISSUER, auth_server.issuer)


def extra_profiles(auth_server, rotating_server):
    """Profiles for the cases the example has no Location for."""
    disc = auth_server.discovery_url
    algs = " ".join("audience=" + r for r in BY_ALG.values())
    return [
        "OrdsJwtProfile algs issuer=%s %s discovery_url=%s token_type=at+jwt"
        % (auth_server.issuer, algs, disc),
        sites.profile("short", auth_server.issuer, SHORT, discovery_url=disc,
                      token_type="at+jwt", allowed_skew=0),
        # the AS's own issuer has no trailing slash
        sites.profile("mismatch", auth_server.issuer + "/", HR, discovery_url=disc),
        sites.profile("rot", rotating_server.issuer, ROT,
                      discovery_url=rotating_server.discovery_url,
                      token_type="at+jwt"),
    ]


def site(pki, auth_server, rotating_server, tls_port, cgi_dir):
    extra = [sites.location("/cgi/", PROFILE, "ords-scope hr.read"),
             sites.location("/algs/", "algs"),
             sites.location("/short/", "short"),
             sites.location("/mismatch/", "mismatch"),
             sites.location("/rot/", "rot"),
             "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
             "    Require ip 127.0.0.1\n</Location>"]
    return sites.site(
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODULES_DIR,
        "LoadModule ssl_module %s/mod_ssl.so" % MODULES_DIR,
        "LoadModule cgid_module %s/mod_cgid.so" % MODULES_DIR,
        "LoadModule authz_host_module %s/mod_authz_host.so" % MODULES_DIR,
        "ScriptSock cgid.sock",
        "SSLSessionCache shmcb:ssl_scache(512000)",
        sites.ca(pki),
        # a key rotation is followed at once (unknown kid: refetch)
        "OrdsJwtJwksMinRefreshInterval 1",
        example_site(auth_server),
        *extra_profiles(auth_server, rotating_server),
        *extra,
        "ScriptAlias /cgi/ %s/" % cgi_dir,
        "<Directory %s>\n    Options +ExecCGI\n    Require all granted\n"
        "</Directory>" % cgi_dir,
        "Listen 127.0.0.1:%d" % tls_port,
        sites.virtual_host(
            "127.0.0.1:%d" % tls_port,
            "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
            "SSLVerifyClient optional_no_ca" % (pki["cert"], pki["key"]),
            server_name="127.0.0.1"))


CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep '^ORDSJWT_' | sort
"""


def write_cgi(directory):
    cgi_dir = os.path.join(directory, "cgi")
    os.makedirs(cgi_dir, mode=0o755, exist_ok=True)
    os.chmod(directory, 0o755)
    script = os.path.join(cgi_dir, "env.sh")
    with open(script, "w") as f:
        f.write(CGI)
    os.chmod(script, 0o755)
    return cgi_dir


@pytest.fixture(scope="session", params=MPMS)
def httpd(request, workdir, pki, auth_server, rotating_server):
    directory = os.path.join(workdir, "httpd-" + request.param)
    tls_port = free_port()
    server = Httpd(directory, request.param,
                   site(pki, auth_server, rotating_server, tls_port,
                        write_cgi(directory)))
    server.tls_port = tls_port
    # AH01882: Debian's mod_ssl built against a newer OpenSSL than installed
    server.start(acknowledged=("AH01882",))
    yield server
    server.stop()


class Api:
    """Requests to the httpd under test over HTTPS, by curl; remembers the
    tokens sent so that the log check can prove none was logged."""

    def __init__(self, httpd, pki):
        self.httpd = httpd
        self.ca = pki["ca"]
        self.tokens = []
        self.log_start = httpd.log_offset()

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.httpd.tls_port, path)

    def remember(self, token):
        self.tokens.append(token)
        return token

    def get(self, path, token=None, scheme="Bearer", cert=None):
        """GET path; cert: (cert file, key file) for the TLS handshake."""
        args = ["-H", "Connection: close"]
        if token is not None:
            args += ["-H", "Authorization: %s %s" % (scheme, self.remember(token))]
        if cert:
            args += ["--cert", cert[0], "--key", cert[1]]
        return interop.curl(self.url(path), self.ca, args)

    def new_log(self):
        return self.httpd.read_log(self.log_start)

    def assert_refused(self, reason):
        """The error log names the refusal reason (src/reason.c)."""
        text = wait_log(self.new_log, "(%s)" % reason)
        assert "(%s)" % reason in text, text


@pytest.fixture
def api(httpd, pki):
    return Api(httpd, pki)


@pytest.fixture(autouse=True)
def _error_log_check(request):
    if "httpd" not in request.fixturenames:
        yield
        return
    httpd = request.getfixturevalue("httpd")
    api = request.getfixturevalue("api")
    offset = httpd.log_offset()
    yield
    text = httpd.read_log(offset)
    acknowledged = []
    for mark in request.node.iter_markers("expect_log"):
        acknowledged.extend(mark.args)
    bad = bad_lines(text, acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
    for token in api.tokens:
        for part in [token] + token.split(".")[1:]:
            if len(part) >= 16:
                assert part not in text, "the error log contains a token"
