# SPDX-License-Identifier: Apache-2.0
"""Hostile JWKS documents (issue 4), and tokens bigger than the shared
server's 16 KiB default lets through.

This module runs its own httpd (event and prefork) with a profile and a
Location /hj-CASE/ per JWKS case (JWK URL /hj-CASE on the test JWKS server),
OrdsJwtMaxTokenSize 65536 and LimitRequestFieldSize 131072.

- Hostile keys next to an honest one: the hostile key is skipped and logged
  at warn (ORDSJWT00001, acknowledged), the attacker's token is refused with
  401 invalid_token, an honest token of the same JWKS gets 200.
- A JWKS refused as a whole: 503 with Retry-After, logged as a failed fetch
  (ORDSJWT00009, acknowledged).
After every test an honest token on /hj-good/ still gets 200, and the error
log check (conftest) fails on any crash or sanitizer report.
"""

import base64
import copy
import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwk

from helpers import assert_invalid_token, assert_ok, assert_unavailable
from httpd_instance import Httpd, bad_lines
from sites import ca, location, profile, site
from tokens import b64url, claims, mint, raw_token

KEY_SKIPPED = "ORDSJWT00001"
FETCH_FAILED = "ORDSJWT00009"
MAX_TOKEN = 65536


class Attacker:
    """Keys of someone who can get a JWK into a JWKS but not a private key
    out of the issuer."""

    def __init__(self):
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa1024 = rsa.generate_private_key(public_exponent=65537, key_size=1024)

    @staticmethod
    def jwk(private, **over):
        d = jwk.JWK.from_pyca(private.public_key()).export_public(as_dict=True)
        d["kid"] = "bad"
        for k, v in over.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return d

    @staticmethod
    def key(private, alg):
        """A tokens.Key-like object for raw_token (sign uses .private)."""
        return type("K", (), {"private": private, "alg": alg, "kid": "bad"})()


def _unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _off_curve(d):
    y = bytearray(_unb64(d["y"]))
    y[-1] ^= 1
    return dict(d, y=b64url(bytes(y)))


def _pkcs1_sha256_em(data, k):
    """EMSA-PKCS1-v1_5 of SHA-256(data), k bytes: with e = 1 this is the
    signature itself."""
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + \
        hashlib.sha256(data).digest()
    return b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info


def _forged_e1_token():
    header = b64url({"alg": "RS256", "kid": "bad"})
    body = b64url(claims())
    em = _pkcs1_sha256_em(("%s.%s" % (header, body)).encode(), 256)
    return "%s.%s.%s" % (header, body, b64url(em))


def _hs256_token(secret):
    return raw_token({"alg": "HS256", "kid": "bad"}, claims(), key=secret)


# case -> (hostile JWK, attacker token, description) for JWKS of two keys
def skipped_key_cases(a):
    secret = b"attacker-chosen-secret-0123456789"
    return {
        "ec-off-curve": (_off_curve(a.jwk(a.ec)),
                         raw_token({"alg": "ES256", "kid": "bad"}, claims(),
                                   key=a.key(a.ec, "ES256")),
                         "signing key not found"),
        "ec-unknown-curve": (a.jwk(a.ec, crv="secp256k1"),
                             raw_token({"alg": "ES256", "kid": "bad"}, claims(),
                                       key=a.key(a.ec, "ES256")),
                             "signing key not found"),
        "ec-curve-p192": (dict(a.jwk(a.ec), crv="P-192"),
                          raw_token({"alg": "ES256", "kid": "bad"}, claims(),
                                    key=a.key(a.ec, "ES256")),
                          "signing key not found"),
        "rsa-1024": (a.jwk(a.rsa1024),
                     raw_token({"alg": "RS256", "kid": "bad"}, claims(),
                               key=a.key(a.rsa1024, "RS256")),
                     "signing key not found"),
        "rsa-e-even": (a.jwk(a.rsa, e=b64url(b"\x01\x00\x00")),
                       raw_token({"alg": "RS256", "kid": "bad"}, claims(),
                                 key=a.key(a.rsa, "RS256")),
                       "signing key not found"),
        # e = 1: the "signature" is the padded digest, anyone can make it
        "rsa-e-1": (a.jwk(a.rsa, e="AQ"), _forged_e1_token(), "signing key not found"),
        # issue 11: exponents over 32 bits and moduli over 8192 bits only
        # cost CPU (no issuer uses them)
        "rsa-e-33-bits": (a.jwk(a.rsa, e=b64url((2 ** 32 + 1).to_bytes(5, "big"))),
                          raw_token({"alg": "RS256", "kid": "bad"}, claims(),
                                    key=a.key(a.rsa, "RS256")),
                          "signing key not found"),
        "rsa-8200-bits": (a.jwk(a.rsa, n=b64url(b"\x80" + b"\xa5" * 1024)),
                          raw_token({"alg": "RS256", "kid": "bad"}, claims(),
                                    key=a.key(a.rsa, "RS256")),
                          "signing key not found"),
        "kty-oct": ({"kty": "oct", "kid": "bad", "alg": "HS256", "k": b64url(secret)},
                    _hs256_token(secret), "signing algorithm not accepted"),
        "kty-missing": (a.jwk(a.rsa, kty=None),
                        raw_token({"alg": "RS256", "kid": "bad"}, claims(),
                                  key=a.key(a.rsa, "RS256")),
                        "signing key not found"),
        "with-private-d": (dict(a.jwk(a.ec), d=b64url(b"\x01" * 32)),
                           raw_token({"alg": "ES256", "kid": "bad"}, claims(),
                                     key=a.key(a.ec, "ES256")),
                           "signing key not found"),
    }


def refused_jwks_cases(keys, a):
    good = keys["rsa1"].public_jwk()
    many_real = []
    for i in range(10000):
        d = copy.deepcopy(good)
        d["kid"] = "k%05d" % i
        many_real.append(d)
    return {
        "keys-not-array": {"keys": {"0": good}},
        "keys-string": {"keys": "[]"},
        "keys-missing": {"jwks": [good]},
        "root-array": [good],
        "only-oct": {"keys": [{"kty": "oct", "kid": "rsa1", "k": "c2VjcmV0"}]},
        "only-rsa-1024": {"keys": [dict(a.jwk(a.rsa1024), kid="rsa1")]},
        "keys-10000": {"keys": [{"kty": "EC"}] * 10000},
        "keys-10000-real": {"keys": many_real},      # also over the 256 KiB cap
        "duplicate-member": '{"keys":[],"keys":[%s]}' % json.dumps(good),
    }


@pytest.fixture(scope="module")
def attacker():
    return Attacker()


def _site(pki, jwks, names):
    out = [ca(pki),
           "OrdsJwtJwksRefreshInterval 3600",
           "OrdsJwtMaxTokenSize %d" % MAX_TOKEN,
           "LimitRequestFieldSize 131072"]
    for name in names:
        out.append(profile("hj-" + name, jwk_url=jwks.url("/hj-" + name)))
        out.append(location("/hj-%s/" % name, "hj-" + name))
    return site(*out)


@pytest.fixture(scope="module", params=("event", "prefork"))
def httpd(request, workdir, pki, jwks, keys, attacker):
    """This module's own httpd (replaces conftest's for these tests)."""
    good = keys["rsa1"].public_jwk()
    jwks.publish("/hj-good", {"keys": [good]})
    for name, (hostile, _, _) in skipped_key_cases(attacker).items():
        jwks.publish("/hj-" + name, {"keys": [hostile, good]})
    for name, doc in refused_jwks_cases(keys, attacker).items():
        jwks.publish("/hj-" + name, doc)
    names = ["good"] + list(skipped_key_cases(attacker)) + \
        list(refused_jwks_cases(keys, attacker))
    directory = os.path.join(workdir, "hostile-jwks-" + request.param)
    server = Httpd(directory, request.param, _site(pki, jwks, names)).start()
    yield server
    offset = server.log_offset()
    server.stop()
    bad = bad_lines(server.read_log(offset), ("AH00170",))
    assert not bad, "httpd logged while stopping:\n" + "\n".join(bad)


@pytest.fixture(autouse=True)
def _honest_token_still_accepted(client, keys):
    yield
    assert_ok(client.get("/hj-good/", mint(claims(), key=keys["rsa1"])))


# --- keys the policy skips --------------------------------------------------

CASES = ["ec-off-curve", "ec-unknown-curve", "ec-curve-p192", "rsa-1024",
         "rsa-e-even", "rsa-e-1", "rsa-e-33-bits", "rsa-8200-bits", "kty-oct",
         "kty-missing", "with-private-d"]


@pytest.mark.parametrize("case", CASES)
def test_hostile_key_skipped_rest_of_jwks_used(client, keys, attacker, expect_log, case):
    expect_log(KEY_SKIPPED)
    _, token, description = skipped_key_cases(attacker)[case]
    path = "/hj-%s/" % case
    assert_invalid_token(client.get(path, token), description, token)
    client.assert_refusal_logged("hj-" + case)
    # the JWKS's honest key still verifies
    assert_ok(client.get(path, mint(claims(), key=keys["rsa1"])))
    log = client.new_log()
    skipped = [line for line in log.splitlines()
               if KEY_SKIPPED in line and "/hj-%s:" % case in line]
    assert skipped and "[auth_ordsjwt:warn]" in skipped[0], log
    assert "kid bad" in skipped[0], skipped


def test_hostile_key_tests_cover_the_cases(attacker):
    assert sorted(CASES) == sorted(skipped_key_cases(attacker))


# --- JWKS refused as a whole ------------------------------------------------

@pytest.mark.parametrize("case", ["keys-not-array", "keys-string", "keys-missing",
                                  "root-array", "only-oct", "only-rsa-1024",
                                  "keys-10000", "keys-10000-real",
                                  "duplicate-member"])
def test_jwks_refused_as_a_whole_is_503(client, keys, expect_log, case):
    expect_log(FETCH_FAILED, KEY_SKIPPED)
    r = client.get("/hj-%s/" % case, mint(claims(), key=keys["rsa1"]))
    assert_unavailable(r)
    assert "error=" not in r.headers.get("WWW-Authenticate", "")
    assert FETCH_FAILED in client.new_log()


# --- tokens over the raised size cap ----------------------------------------

NESTED = b"[" * 10000 + b"]" * 10000


def test_header_nested_10000_deep(client, keys):
    header = b'{"alg":"RS256","kid":"rsa1","x":' + NESTED + b"}"
    token = raw_token(header, claims(), key=keys["rsa1"], alg="RS256")
    assert 16 * 1024 < len(token) < MAX_TOKEN
    assert_invalid_token(client.get("/hj-good/", token), "token is malformed", token)
    client.assert_refusal_logged("hj-good")


def test_payload_nested_10000_deep(client, keys):
    c = claims()
    c["x"] = "X"
    body = json.dumps(c).encode().replace(b'"X"', NESTED)
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, body, key=keys["rsa1"])
    assert 16 * 1024 < len(token) < MAX_TOKEN
    assert_invalid_token(client.get("/hj-good/", token), "token is malformed", token)
    client.assert_refusal_logged("hj-good")


def test_raised_size_cap_accepts_big_honest_token(client, keys):
    token = mint(claims(padding="x" * 30000), key=keys["rsa1"])
    assert 16 * 1024 < len(token) < MAX_TOKEN
    assert_ok(client.get("/hj-good/", token))


def test_over_raised_size_cap(client, keys):
    token = mint(claims(padding="x" * 50000), key=keys["rsa1"])
    assert len(token) > MAX_TOKEN
    assert_invalid_token(client.get("/hj-good/", token), "token is too large", token)
    client.assert_refusal_logged("hj-good")
