# SPDX-License-Identifier: Apache-2.0
"""The harness itself, without the module: CA, JWKS server, tokens, httpd."""

import json
import os

import pytest
import requests
from jwcrypto import jwk, jws

from httpd_instance import Httpd, bad_lines
from tokens import claims, mint, raw_token


def test_jwks_server_over_tls_counts_and_overrides(jwks, pki):
    r = requests.get(jwks.url("/jwks"), verify=pki["ca"], timeout=5)
    assert r.status_code == 200 and len(r.json()["keys"]) == 3
    assert jwks.fetch_count("/jwks") == 1
    jwks.set_response("/jwks", status=500, body="nope", content_type="text/plain")
    r = requests.get(jwks.url("/jwks"), verify=pki["ca"], timeout=5)
    assert (r.status_code, r.text) == (500, "nope")
    assert jwks.fetch_count("/jwks") == 2
    jwks.reset()
    assert jwks.fetch_count("/jwks") == 0
    r = requests.get("https://localhost:%d/jwks" % jwks.port, verify=pki["ca"], timeout=5)
    assert r.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(jwks.url("/jwks"), timeout=5)  # not in the system store


@pytest.mark.parametrize("kid", ["rsa1", "ps1", "ec1"])
def test_minted_tokens_verify_with_published_keys(keys, kid):
    token = mint(claims(), key=keys[kid])
    pub = jwk.JWK(**keys[kid].public_jwk())
    check = jws.JWS()
    check.deserialize(token)
    check.verify(pub)
    assert json.loads(check.payload)["sub"] == "alice"


@pytest.mark.parametrize("kid", ["rsa1", "ps1", "ec1"])
def test_hand_signed_tokens_verify(keys, kid):
    key = keys[kid]
    token = raw_token({"alg": key.alg, "kid": kid}, claims(), key=key)
    check = jws.JWS()
    check.deserialize(token)
    check.verify(jwk.JWK(**key.public_jwk()))


def test_plain_httpd_starts_logs_and_stops(workdir):
    directory = os.path.join(workdir, "plain")
    site = '<Location /secret/>\n    Require all denied\n</Location>\n' \
           'Header always set X-Test "yes"\n'
    httpd = Httpd(directory, "prefork", site, module="")
    httpd.start()
    try:
        r = requests.get(httpd.url("/x"), timeout=5)
        assert r.status_code == 200 and r.headers["X-Test"] == "yes"
        offset = httpd.log_offset()
        assert requests.get(httpd.url("/secret/"), timeout=5).status_code == 403
        text = httpd.read_log(offset)
        # mod_authz_core's "client denied by server configuration", and
        # nothing else at warn or worse
        assert "AH01630" in text, text
        assert bad_lines(text, ("AH01630",)) == [], text
    finally:
        httpd.stop()
    assert httpd.pid is None
