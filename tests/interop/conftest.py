# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the interop suite: a real authorization server (oidc-provider,
as.mjs) on loopback HTTPS with a throwaway CA, a second one whose keys the
tests rotate, client certificates, and one apache2 with the module per MPM
(event, prefork) serving HTTPS (mod_ssl) with the site of
interop_site.py (conf-examples/oidc-provider.conf as it is, and more).

The harness of tests/integration is reused (httpd_instance, pki, sites,
and its conftest's workdir and pki fixtures).
After every test the error log written during it is checked as there: any
[warn] or worse fails the test unless acknowledged with
@pytest.mark.expect_log("ORDSJWTnnnnn"), and no token a test sent may
appear in it.
"""

import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(HERE, "..", "integration")
sys.path.insert(0, INTEGRATION)

import interop  # noqa: E402
from helpers import wait_log  # noqa: E402
from httpd_instance import Httpd, bad_lines  # noqa: E402
from interop_site import CLIENTS, ROT, resources, site, write_cgi, \
    write_nonce_key  # noqa: E402
from jwks_server import free_port  # noqa: E402
from pki import make_client_cert  # noqa: E402

MPMS = ("event", "prefork")


def pytest_sessionstart(session):
    why = interop.missing_tools()
    if why:
        pytest.exit("interop suite cannot run: " + why, returncode=3)


def _integration_conftest():
    """tests/integration/conftest.py under a name of its own (pytest knows
    it as "conftest" when it runs that suite)."""
    spec = importlib.util.spec_from_file_location(
        "integration_conftest", os.path.join(INTEGRATION, "conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the working directory in /tmp (ORDSJWT_KEEP=1 keeps it) and the
# throwaway CA with the loopback server certificate, as the integration
# tests make them
_INTEGRATION_CONFTEST = _integration_conftest()
workdir = _INTEGRATION_CONFTEST.workdir
pki = _INTEGRATION_CONFTEST.pki


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


@pytest.fixture(scope="session", params=MPMS)
def httpd(request, workdir, pki, auth_server, rotating_server):
    directory = os.path.join(workdir, "httpd-" + request.param)
    tls_port = free_port()
    os.makedirs(directory, mode=0o755, exist_ok=True)
    key_path, server_nonce_key = write_nonce_key(directory)
    server = Httpd(directory, request.param,
                   site(pki, auth_server, rotating_server, tls_port,
                        write_cgi(directory), key_path))
    server.tls_port = tls_port
    server.nonce_key = server_nonce_key
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
