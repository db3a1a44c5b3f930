# SPDX-License-Identifier: Apache-2.0
"""Certificate-bound tokens (RFC 8705 section 3) end to end, event and
prefork: curl asks oidc-provider for a token over a TLS connection with a
client certificate (the client is registered with
tls_client_certificate_bound_access_tokens), the AS binds the token to it
(cnf x5t#S256), and curl calls httpd (mod_ssl, SSLVerifyClient
optional_no_ca) with the profile of conf-examples/oidc-provider.conf:
accepted with that certificate, refused without one or with another."""

from interop import jwt_parts
from interop_site import HR, READ_PATH

INVALID = 'Bearer realm="ORDS", error="invalid_token", error_description="'


def assert_refused(api, resp, reason):
    assert resp.status == 401, resp
    assert any(c.startswith(INVALID) for c in resp.all("WWW-Authenticate")), resp
    api.assert_refused(reason)


def test_certificate_bound_token(auth_server, api, certs):
    a_cert, a_key, a_thumb = certs["client-a"]
    b_cert, b_key, _ = certs["client-b"]
    body = auth_server.token("mtls-client", HR, "hr.read", cert=(a_cert, a_key))
    token = body["access_token"]
    assert jwt_parts(token)[1]["cnf"] == {"x5t#S256": a_thumb}
    for _ in range(3):      # the later ones from the token cache
        resp = api.get(READ_PATH, token, cert=(a_cert, a_key))
        assert resp.status == 200, resp
        assert resp.header("X-Remote-User") == "mtls-client"
    assert_refused(api, api.get(READ_PATH, token), "client_cert_missing")
    assert_refused(api, api.get(READ_PATH, token, cert=(b_cert, b_key)),
                   "client_cert_mismatch")
