# SPDX-License-Identifier: Apache-2.0
"""Certificate-bound access tokens (RFC 8705 3, issue 13) with mod_ssl and
real client certificates, event and prefork: a token whose cnf
"x5t#S256" is the SHA-256 of the connection's client certificate is
accepted; no certificate or another one is refused (401 invalid_token,
the log says which); mtls=required refuses unbound tokens; a cached token
is checked against the certificate on every request."""

import os

import pytest
import requests

import sites
from helpers import INVALID_PREFIX
from httpd_instance import Httpd
from jwks_server import free_port
from pki import make_client_cert
from tokens import claims, mint

MODS = "/usr/lib/apache2/modules"


def mtls_site(pki, jwks, tls_port):
    protected = "\n".join([
        sites.location("/bound/", "mt"),
        sites.location("/must/", "mtmust"),
    ])
    return sites.site(
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODS,
        "LoadModule ssl_module %s/mod_ssl.so" % MODS,
        "Listen 127.0.0.1:%d" % tls_port,
        "SSLSessionCache shmcb:ssl_scache(512000)",
        sites.ca(pki),
        "OrdsJwtTokenCache 64",
        sites.profile("mt", jwk_url=jwks.url("/mt")),
        sites.profile("mtmust", jwk_url=jwks.url("/mt"), mtls="required"),
        protected,
        sites.virtual_host(
            "127.0.0.1:%d" % tls_port,
            "SSLEngine on\n"
            "SSLCertificateFile %s\n"
            "SSLCertificateKeyFile %s\n"
            "SSLVerifyClient optional_no_ca\n" % (pki["cert"], pki["key"]),
            protected, server_name="127.0.0.1"),
    )


@pytest.fixture(scope="module")
def certs(workdir):
    return {name: make_client_cert(workdir, name)
            for name in ("client-a", "client-b")}


@pytest.fixture(scope="module", params=["event", "prefork"])
def httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/mt", keys.jwks("rsa1", "ec1"))
    tls_port = free_port()
    server = Httpd(os.path.join(workdir, "mtls-" + request.param),
                   request.param, mtls_site(pki, jwks, tls_port))
    server.tls_port = tls_port
    # AH01882: Debian's mod_ssl built against a newer OpenSSL than installed
    server.start(acknowledged=("AH01882",))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _republish(jwks, keys):
    jwks.publish("/mt", keys.jwks("rsa1", "ec1"))
    yield


def get(httpd, pki, path, token, cert=None, tls=True):
    url = ("https://127.0.0.1:%d%s" % (httpd.tls_port, path)) if tls \
        else httpd.url(path)
    return requests.get(url, headers={"Authorization": "Bearer " + token,
                                      "Connection": "close"},
                        cert=cert, verify=pki["ca"], timeout=30)


def bound(keys, thumb):
    return mint(claims(cnf={"x5t#S256": thumb}), key=keys["rsa1"])


def assert_refused(resp, httpd, reason, offset):
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith(INVALID_PREFIX)
    assert "(%s)" % reason in httpd.read_log(offset)


def test_good_certificate(httpd, pki, keys, certs):
    a_cert, a_key, a_thumb = certs["client-a"]
    token = bound(keys, a_thumb)
    for _ in range(3):     # the second and third from the token cache
        resp = get(httpd, pki, "/bound/", token, cert=(a_cert, a_key))
        assert resp.status_code == 200
        assert resp.headers["X-Remote-User"] == "alice"


def test_no_certificate(httpd, pki, keys, certs):
    token = bound(keys, certs["client-a"][2])
    offset = httpd.log_offset()
    assert_refused(get(httpd, pki, "/bound/", token), httpd,
                   "client_cert_missing", offset)
    assert_refused(get(httpd, pki, "/bound/", token, tls=False), httpd,
                   "client_cert_missing", offset)


def test_other_certificate(httpd, pki, keys, certs):
    a_cert, a_key, a_thumb = certs["client-a"]
    b_cert, b_key, _ = certs["client-b"]
    token = bound(keys, a_thumb)
    assert get(httpd, pki, "/bound/", token, cert=(a_cert, a_key)).status_code == 200
    offset = httpd.log_offset()
    # cached now: the certificate is still compared on every request
    assert_refused(get(httpd, pki, "/bound/", token, cert=(b_cert, b_key)),
                   httpd, "client_cert_mismatch", offset)


def test_unbound_token(httpd, pki, keys, certs):
    a_cert, a_key, _ = certs["client-a"]
    token = mint(claims(), key=keys["rsa1"])
    assert get(httpd, pki, "/bound/", token).status_code == 200
    offset = httpd.log_offset()
    assert_refused(get(httpd, pki, "/must/", token, cert=(a_cert, a_key)),
                   httpd, "binding_refused", offset)
    assert "mtls=required" in httpd.read_log(offset)


def test_unknown_confirmation_method(httpd, pki, keys, certs):
    token = mint(claims(cnf={"jwk": {"kty": "EC"}}), key=keys["rsa1"])
    offset = httpd.log_offset()
    assert_refused(get(httpd, pki, "/bound/", token), httpd,
                   "binding_refused", offset)


@pytest.mark.parametrize("cnf", [{}, [], "x5t", None, {"x5t#S256": ""}],
                         ids=["empty-object", "array", "string", "null",
                              "empty-thumbprint"])
def test_empty_or_malformed_cnf_is_refused(httpd, pki, keys, certs, cnf):
    """A cnf that binds to nothing is no bearer token either (README:
    Sender-constrained tokens), with or without a certificate."""
    a_cert, a_key, _ = certs["client-a"]
    token = mint(claims(cnf=cnf), key=keys["rsa1"])
    offset = httpd.log_offset()
    for cert in (None, (a_cert, a_key)):
        assert_refused(get(httpd, pki, "/bound/", token, cert=cert), httpd,
                       "binding_refused", offset)
