"""Hostile tokens: algorithms, keys, headers, signatures, encoding, size."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import assert_invalid_token, assert_ok
from tokens import b64url, claims, mint, raw_token

ALG = "signing algorithm not accepted"
MALFORMED = "token is malformed"


def refused(client, token, description):
    assert_invalid_token(client.get("/hr/", token), description, token)
    client.assert_refusal_logged()


# --- algorithms and keys ----------------------------------------------------

def test_alg_none(client):
    refused(client, raw_token({"alg": "none", "typ": "JWT"}, claims(), b""), ALG)


def test_alg_none_with_kid_and_signature(client):
    refused(client, raw_token({"alg": "none", "kid": "rsa1"}, claims(), b"\x01" * 32), ALG)


def test_hs256_signed_with_rsa_public_key(client, keys):
    header = {"alg": "HS256", "kid": "rsa1", "typ": "JWT"}
    refused(client, raw_token(header, claims(), key=keys["rsa1"].public_pem()), ALG)


def test_rs256_with_kid_of_ec_key(client, keys):
    token = raw_token({"alg": "RS256", "kid": "ec1"}, claims(), key=keys["rsa1"])
    refused(client, token, ALG)


def test_es256_with_kid_of_rsa_key(client, keys):
    token = raw_token({"alg": "ES256", "kid": "rsa1"}, claims(), key=keys["ec1"])
    refused(client, token, ALG)


def test_alg_differs_from_jwk_alg(client, keys):
    # ps1's JWK says "alg": "PS256"; an RS256 signature by that very key
    token = raw_token({"alg": "RS256", "kid": "ps1"}, claims(), key=keys["ps1"])
    refused(client, token, ALG)


def test_unknown_kid(client, keys):
    refused(client, mint(claims(), key=keys["attacker"]), "signing key not found")


@pytest.mark.parametrize("param", ["jku", "x5u", "jwk"])
def test_key_location_headers_not_followed(client, keys, jwks, param):
    attacker = keys["attacker"]
    value = {"jku": jwks.url("/attacker-jwks"), "x5u": jwks.url("/attacker-x5u"),
             "jwk": attacker.public_jwk()}[param]
    token = raw_token({"alg": "RS256", "kid": "attacker", param: value}, claims(),
                      key=attacker)
    refused(client, token, "signing key not found")
    assert jwks.fetch_count("/attacker-jwks") == 0
    assert jwks.fetch_count("/attacker-x5u") == 0


def test_crit_exp(client, keys):
    header = {"alg": "RS256", "kid": "rsa1", "crit": ["exp"], "exp": 1}
    refused(client, raw_token(header, claims(), key=keys["rsa1"]),
            "unsupported critical header")


# --- signatures -------------------------------------------------------------

def test_tampered_payload(client, keys):
    h, _, s = mint(claims(), key=keys["rsa1"]).split(".")
    refused(client, ".".join([h, b64url(claims(sub="admin")), s]), "signature is invalid")


@pytest.mark.parametrize("kid", ["rsa1", "ps1", "ec1"])
def test_tampered_signature(client, keys, kid):
    h, p, s = mint(claims(), key=keys[kid]).split(".")
    s = ("B" if s[0] == "A" else "A") + s[1:]
    refused(client, ".".join([h, p, s]), "signature is invalid")


def test_es256_signature_with_extra_byte(client, keys):
    key = keys["ec1"]
    good = raw_token({"alg": "ES256", "kid": "ec1"}, claims(), key=key)
    h, p, s = good.split(".")
    sig = base64.urlsafe_b64decode(s + "==")
    token = ".".join([h, p, b64url(sig + b"\x00")])
    refused(client, token, ("signature is invalid", MALFORMED))


def test_es256_der_signature(client, keys):
    header, payload = b64url({"alg": "ES256", "kid": "ec1"}), b64url(claims())
    der = keys["ec1"].private.sign(("%s.%s" % (header, payload)).encode(),
                                   ec.ECDSA(hashes.SHA256()))
    refused(client, "%s.%s.%s" % (header, payload, b64url(der)),
            ("signature is invalid", MALFORMED))


# --- encoding ---------------------------------------------------------------

def _honest(keys):
    return mint(claims(), key=keys["rsa1"])


def _with_bad_char(token, char):
    h, p, s = token.split(".")
    return ".".join([h[:4] + char + h[5:], p, s])


@pytest.mark.parametrize("make", [
    pytest.param(lambda t: ".".join(t.split(".")[:2]), id="two-parts"),
    pytest.param(lambda t: t + ".AAAA", id="four-parts"),
    pytest.param(lambda t: t + "==", id="padded-signature"),
    pytest.param(lambda t: t.split(".")[0] + "=." + ".".join(t.split(".")[1:]),
                 id="padded-header"),
    pytest.param(lambda t: _with_bad_char(t, "+"), id="plus"),
    pytest.param(lambda t: _with_bad_char(t, "/"), id="slash"),
    pytest.param(lambda t: _with_bad_char(t, "*"), id="star"),
    pytest.param(lambda t: _with_bad_char(t, "%"), id="percent"),
    pytest.param(lambda t: t.replace(".", "..", 1), id="empty-segment"),
    pytest.param(lambda t: "." + t.split(".", 1)[1], id="empty-header"),
])
def test_malformed_encoding(client, keys, make):
    refused(client, make(_honest(keys)), MALFORMED)


@pytest.mark.parametrize("token", [
    "A===.e30.AAAA",          # aborts cjose's base64 decoder
    "e30.A===.AAAA",
    "e30.e30.A===",
    "e30AA.e30.AAAA",         # length mod 4 == 1
    "e31.e30.AAAA",           # non-canonical trailing bits
])
def test_cjose_abort_inputs_then_alive(client, keys, token):
    assert_invalid_token(client.get("/hr/", token), MALFORMED)
    assert_ok(client.get("/hr/", _honest(keys)))
    client.assert_refusal_logged()


@pytest.mark.parametrize("header", [
    b"not json",
    b'["alg", "RS256"]',
    b'{"alg":"RS256","kid":"rsa1","alg":"RS256"}',  # duplicate member
])
def test_header_not_a_json_object(client, keys, header):
    refused(client, raw_token(header, claims(), key=keys["rsa1"], alg="RS256"), MALFORMED)


@pytest.mark.parametrize("payload", [
    b"not json",
    b'"a string"',
    b'{"sub":"alice","sub":"admin"}',  # duplicate member
])
def test_payload_not_a_json_object(client, keys, payload):
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, payload, key=keys["rsa1"])
    refused(client, token, MALFORMED)


def test_duplicate_claim_is_refused_even_if_rest_is_valid(client, keys):
    c = claims()
    body = ('{"iss":"%s","aud":"%s","sub":"mallory","sub":"alice","exp":%d,'
            '"scope":"hr.read"}' % (c["iss"], c["aud"], c["exp"])).encode()
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, body, key=keys["rsa1"])
    refused(client, token, MALFORMED)


# --- size -------------------------------------------------------------------

def test_token_too_large(client, keys):
    token = mint(claims(padding="x" * 17000), key=keys["rsa1"])
    assert len(token) > 16 * 1024
    refused(client, token, "token is too large")


def test_token_just_under_the_limit(client, keys):
    base = len(mint(claims(padding=""), key=keys["rsa1"]))
    pad = (16 * 1024 - 64 - base) * 3 // 4
    token = mint(claims(padding="x" * pad), key=keys["rsa1"])
    assert len(token) < 16 * 1024
    assert_ok(client.get("/hr/", token))
