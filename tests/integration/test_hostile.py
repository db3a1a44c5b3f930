# SPDX-License-Identifier: Apache-2.0
"""Hostile tokens (issue 4): algorithms, keys, headers, signatures, encoding,
JSON, claims, size. Each is refused with 401 invalid_token; after each test
an honest token still gets 200 (_honest_token_still_accepted), and the error
log check of conftest fails on any crash or sanitizer report.

JWKS-side attacks are in test_hostile_jwks.py.
"""

import base64
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers import assert_challenge, assert_invalid_token, assert_ok
from tokens import AUDIENCE, ISSUER, b64url, claims, mint, now, raw_token, sign

ALG = "signing algorithm not accepted"
MALFORMED = "token is malformed"
CRIT = "unsupported critical header"
KID = "signing key not found"
SIG = "signature is invalid"
AUD = "audience not accepted"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(autouse=True)
def _honest_token_still_accepted(client, keys):
    """After every hostile request: the server still serves honest tokens
    (runs before the error log check of conftest, so it is covered too)."""
    yield
    assert_ok(client.get("/hr/", mint(claims(), key=keys["rsa1"])))


def refused(client, token, description):
    assert_invalid_token(client.get("/hr/", token), description, token)
    client.assert_refusal_logged()


def _parts(token):
    return token.split(".")


def _unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# --- algorithms and keys ----------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", [b"", b"\x01" * 32], ids=["nosig", "sig"])
@pytest.mark.parametrize("kid", [None, "rsa1"], ids=["nokid", "kid"])
def test_alg_none_any_case(client, alg, signature, kid):
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    token = raw_token(header, claims(), signature)
    if not signature:
        assert token.endswith(".")
    refused(client, token, (ALG, MALFORMED))


def _rsa_public_forms(key):
    pub = key.private.public_key()
    return {
        "pem": pub.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
        "pkcs1-pem": pub.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.PKCS1),
        "der": pub.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo),
        "n": _unb64(key.public_jwk()["n"]),
        "jwk-json": json.dumps(key.public_jwk()).encode(),
    }


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
@pytest.mark.parametrize("form", ["pem", "pkcs1-pem", "der", "n", "jwk-json"])
def test_hmac_keyed_with_rsa_public_key(client, keys, alg, form):
    secret = _rsa_public_forms(keys["rsa1"])[form]
    token = raw_token({"alg": alg, "kid": "rsa1", "typ": "JWT"}, claims(), key=secret)
    refused(client, token, ALG)


def test_hmac_keyed_with_ec_public_key(client, keys):
    pem = keys["ec1"].public_pem()
    refused(client, raw_token({"alg": "HS256", "kid": "ec1"}, claims(), key=pem), ALG)


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


@pytest.mark.parametrize("alg", ["PS384", "PS512"])
def test_other_pss_hash_than_jwk_alg(client, keys, alg):
    token = raw_token({"alg": alg, "kid": "ps1"}, claims(), key=keys["ps1"])
    refused(client, token, ALG)


@pytest.mark.parametrize("alg", ["ES256K", "EdDSA", "RS1", "rs256", "RS256 ", ""])
def test_unknown_or_mis_spelt_alg(client, keys, alg):
    token = raw_token({"alg": alg, "kid": "rsa1"}, claims(), key=keys["rsa1"],
                      alg="RS256")
    refused(client, token, ALG)


@pytest.mark.parametrize("header", [
    {"kid": "rsa1"},
    {"alg": ["RS256"], "kid": "rsa1"},
    {"alg": None, "kid": "rsa1"},
    {"alg": 256, "kid": "rsa1"},
], ids=["missing", "array", "null", "number"])
def test_alg_not_a_string(client, keys, header):
    refused(client, raw_token(header, claims(), key=keys["rsa1"], alg="RS256"), ALG)


def test_kid_not_a_string(client, keys):
    token = raw_token({"alg": "RS256", "kid": ["rsa1"]}, claims(), key=keys["rsa1"])
    refused(client, token, MALFORMED)


def test_same_kid_signed_by_another_key(client, keys):
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, claims(), key=keys["attacker"])
    refused(client, token, SIG)


def test_unknown_kid(client, keys):
    refused(client, mint(claims(), key=keys["attacker"]), KID)


def _self_signed_cert_der(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
    t = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.private.public_key()).serial_number(1)
            .not_valid_before(t - datetime.timedelta(days=1))
            .not_valid_after(t + datetime.timedelta(days=1))
            .sign(key.private, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize("param", ["jku", "x5u", "jwk", "x5c"])
@pytest.mark.parametrize("kid", ["attacker", "rsa1", None], ids=["kid-attacker",
                                                                 "kid-rsa1", "nokid"])
def test_key_location_headers_not_followed(client, keys, jwks, param, kid):
    """The attacker signs with its own key and points at it (URL, embedded
    JWK, embedded certificate): never followed, never used."""
    attacker = keys["attacker"]
    value = {"jku": jwks.url("/attacker-jwks"), "x5u": jwks.url("/attacker-x5u"),
             "jwk": attacker.public_jwk(),
             "x5c": [base64.b64encode(_self_signed_cert_der(attacker)).decode()]}[param]
    header = {"alg": "RS256", param: value}
    if kid:
        header["kid"] = kid
    token = raw_token(header, claims(), key=attacker)
    refused(client, token, {"attacker": KID, "rsa1": SIG, None: SIG}[kid])
    assert jwks.fetch_count("/attacker-jwks") == 0
    assert jwks.fetch_count("/attacker-x5u") == 0


# --- JWS extensions ---------------------------------------------------------

@pytest.mark.parametrize("header", [
    {"crit": ["exp"], "exp": 1},
    {"crit": ["x-custom"], "x-custom": True},
    {"crit": []},
    {"crit": "b64"},
    {"crit": ["b64"], "b64": True},
], ids=["exp", "custom", "empty", "not-array", "b64-true"])
def test_crit_refused(client, keys, header):
    h = {"alg": "RS256", "kid": "rsa1"}
    h.update(header)
    refused(client, raw_token(h, claims(), key=keys["rsa1"]), CRIT)


@pytest.mark.parametrize("crit", [True, False], ids=["crit", "nocrit"])
def test_unencoded_payload_b64_false(client, keys, crit):
    header = {"alg": "RS256", "kid": "rsa1", "b64": False}
    if crit:
        header["crit"] = ["b64"]
    # RFC 7797: the payload would be signed as is; here the claims as JSON
    h = b64url(header)
    body = json.dumps(claims(), separators=(",", ":"))
    sig = sign("RS256", keys["rsa1"], ("%s.%s" % (h, body)).encode())
    for token in ("%s.%s.%s" % (h, b64url(body), b64url(sig)),
                  "%s..%s" % (h, b64url(sig))):
        assert_invalid_token(client.get("/hr/", token), (CRIT, MALFORMED, SIG), token)
    client.assert_refusal_logged()


# --- structure and encoding -------------------------------------------------

def _honest(keys):
    return mint(claims(), key=keys["rsa1"])


def _with_char(token, char, where=0):
    parts = _parts(token)
    parts[where] = parts[where][:4] + char + parts[where][4:]
    return ".".join(parts)


def test_jwe_five_parts(client, keys):
    header = b64url({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "rsa1"})
    token = ".".join([header, b64url(b"\x01" * 256), b64url(b"\x02" * 12),
                      b64url(b"ciphertext"), b64url(b"\x03" * 16)])
    refused(client, token, MALFORMED)


@pytest.mark.parametrize("make", [
    pytest.param(lambda t: ".".join(_parts(t)[:2]), id="two-parts"),
    pytest.param(lambda t: _parts(t)[0], id="one-part"),
    pytest.param(lambda t: t + ".AAAA", id="four-parts"),
    pytest.param(lambda t: t + ".", id="trailing-dot"),
    pytest.param(lambda t: t + "==", id="padded-signature"),
    pytest.param(lambda t: _parts(t)[0] + "=." + ".".join(_parts(t)[1:]), id="padded-header"),
    pytest.param(lambda t: ".".join([_parts(t)[0], _parts(t)[1] + "=", _parts(t)[2]]),
                 id="padded-payload"),
    pytest.param(lambda t: _with_char(t, "+"), id="plus"),
    pytest.param(lambda t: _with_char(t, "/"), id="slash"),
    pytest.param(lambda t: _with_char(t, "*"), id="star"),
    pytest.param(lambda t: _with_char(t, "%"), id="percent"),
    pytest.param(lambda t: _with_char(t, "%2E", 1), id="url-encoded-dot"),
    pytest.param(lambda t: _with_char(t, "\u00e9", 2), id="non-ascii"),
    pytest.param(lambda t: _with_char(t, " "), id="space-in-header"),
    pytest.param(lambda t: _with_char(t, " ", 2), id="space-in-signature"),
    pytest.param(lambda t: _with_char(t, "\t", 1), id="tab-in-payload"),
    pytest.param(lambda t: t.replace(".", " . ", 1), id="spaces-around-dot"),
    pytest.param(lambda t: t.replace(".", "..", 1), id="empty-segment"),
    pytest.param(lambda t: "." + t.split(".", 1)[1], id="empty-header"),
    pytest.param(lambda t: "%s..%s" % (_parts(t)[0], _parts(t)[2]), id="empty-payload"),
    pytest.param(lambda t: "..", id="only-dots"),
    pytest.param(lambda t: ".....", id="only-dots-jwe"),
])
def test_malformed_encoding(client, keys, make):
    refused(client, make(_honest(keys)), MALFORMED)


def test_empty_signature(client, keys):
    # well-formed up to the alg, then refused for the signature
    refused(client, "%s.%s." % tuple(_parts(_honest(keys))[:2]), (SIG, MALFORMED))


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


@pytest.mark.parametrize("authorization,error", [
    ("Bearer", None),
    ("Bearer ", None),
    ("Bearer  \t ", None),
    ("Bearer a b", "invalid_token"),
    ("Bearer .", "invalid_token"),
])
def test_odd_authorization_headers(client, authorization, error):
    """No token after the scheme is no token (RFC 6750 3.1: no error
    code); anything else is a bad one."""
    assert_challenge(client.get("/hr/", authorization=authorization), error)


def test_control_characters_in_authorization(client):
    # httpd itself answers 400 (HttpProtocolOptions Strict) before any module
    r = client.get("/hr/", authorization="Bearer \x01\x02")
    assert r.status_code == 400


# --- header and payload content ---------------------------------------------

_NESTED = b"[" * 10000            # 10,000 deep; closed, it would pass the size cap


@pytest.mark.parametrize("header", [
    b"not json",
    b'["alg", "RS256"]',
    b'"RS256"',
    b"null",
    b"1e400",
    b"",
    b'{"alg":"RS256","kid":"rsa1","alg":"RS256"}',       # duplicate member
    b'{"alg":"RS256","kid":"attacker","kid":"rsa1"}',    # duplicate, last one ours
    b'{"alg":"RS256","kid":"rsa1","x":"a\x00b"}',        # raw NUL
    b'{"alg":"RS256","kid":"rsa1","x":"a\\u0000b"}',     # escaped NUL
    b'{"alg":"RS256","kid":"rsa1\\u0000x"}',             # NUL cutting the kid
    b'{"alg":"RS256\\u0000","kid":"rsa1"}',              # NUL cutting the alg
    b'{"alg":"RS256","kid":"rsa1","x":"\xc3\x28"}',      # invalid UTF-8
    b'{"alg":"RS256","kid":"\xff\xfe"}',
    b'{"alg":"RS256","kid":"rsa1"}garbage',
    b'{"alg":"RS256","kid":"rsa1","x":' + _NESTED + b"}",
    _NESTED,
], ids=["not-json", "array", "string", "null", "1e400", "empty-json",
        "dup-alg", "dup-kid", "raw-nul", "escaped-nul", "nul-in-kid",
        "nul-in-alg", "invalid-utf8", "invalid-utf8-kid", "trailing-garbage",
        "nested-10000", "nested-10000-bare"])
def test_header_not_a_clean_json_object(client, keys, header):
    token = raw_token(header, claims(), key=keys["rsa1"], alg="RS256")
    if header == b"":
        token = "e30" + token          # "" would be an empty segment
    refused(client, token, (MALFORMED, ALG))


def _claims_text(extra=b"", drop=()):
    c = claims()
    for name in drop:
        c.pop(name)
    text = json.dumps(c, separators=(",", ":")).encode()
    return text[:-1] + extra + b"}"


@pytest.mark.parametrize("payload", [
    b"not json",
    b'"a string"',
    b"[]",
    b"null",
    _claims_text(b',"sub":"admin"'),                    # duplicate member
    _claims_text(b',"x":"a\x00b"'),
    _claims_text(b',"x":"a\\u0000b"'),
    _claims_text(b',"x":"\xff"'),
    _claims_text(b',"x":' + _NESTED + b"0"),
    _NESTED,
    _claims_text() + b" {}",
], ids=["not-json", "string", "array", "null", "dup-sub", "raw-nul",
        "escaped-nul", "invalid-utf8", "nested-10000", "nested-10000-bare",
        "two-objects"])
def test_payload_not_a_clean_json_object(client, keys, payload):
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, payload, key=keys["rsa1"])
    refused(client, token, MALFORMED)


def test_duplicate_claim_is_refused_even_if_rest_is_valid(client, keys):
    c = claims()
    body = ('{"iss":"%s","aud":"%s","sub":"mallory","sub":"alice","exp":%d,'
            '"scope":"hr.read"}' % (c["iss"], c["aud"], c["exp"])).encode()
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, body, key=keys["rsa1"])
    refused(client, token, MALFORMED)


@pytest.mark.parametrize("claim", ["sub", "iss", "aud"])
def test_nul_cutting_a_claim_short(client, keys, claim):
    """"alice\\u0000x" must not become REMOTE_USER "alice" (nor iss/aud pass
    by their prefix): jansson refuses escaped NULs, so the token is."""
    value = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE}[claim]
    body = _claims_text(drop=(claim,))[:-1] + (
        ',"%s":"%s\\u0000x"}' % (claim, value)).encode()
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, body, key=keys["rsa1"])
    refused(client, token, MALFORMED)


# --- claim types ------------------------------------------------------------

NO_EXP = "token has no valid exp claim"
NO_IAT = "token has no valid iat claim"
TIME_REFUSAL = {"exp": NO_EXP, "nbf": MALFORMED, "iat": NO_IAT}


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", [
    "string", "numeric-string", "true", "false", "null", "object", "array",
    "negative", "huge", "beyond-9999", "1e400", "fraction-beyond-range",
])
def test_time_claim_not_a_numeric_date(client, keys, claim, value):
    t = now()
    literal = {
        "string": '"soon"', "numeric-string": '"%d"' % (t + 300),
        "true": "true", "false": "false", "null": "null",
        "object": '{"t":%d}' % (t + 300), "array": "[%d]" % (t + 300),
        "negative": "-1", "huge": "1e300", "beyond-9999": "253402300800",
        "1e400": "1e400", "fraction-beyond-range": "99999999999999999999.5",
    }[value]
    body = _claims_text(b',"%s":%s' % (claim.encode(), literal.encode()),
                        drop=(claim,) if claim != "nbf" else ())
    token = raw_token({"alg": "RS256", "kid": "rsa1"}, body, key=keys["rsa1"])
    # 1e400 does not parse as a JSON number at all
    expected = MALFORMED if value == "1e400" else TIME_REFUSAL[claim]
    refused(client, token, expected)


def test_time_claims_with_fractions_accepted(client, keys):
    t = now()
    body = _claims_text(b',"nbf":%d.25' % (t - 10), drop=("exp", "iat"))[:-1] + \
        b',"exp":%d.5,"iat":%d.75}' % (t + 300, t - 10)
    assert_ok(client.get("/hr/", raw_token({"alg": "RS256", "kid": "rsa1"}, body,
                                           key=keys["rsa1"])))


@pytest.mark.parametrize("aud", [
    {"aud": AUDIENCE}, 7, [], [7], [None], [[AUDIENCE]], None, "", True,
], ids=["object", "number", "empty-array", "array-of-number", "array-of-null",
        "nested-array", "null", "empty-string", "bool"])
def test_aud_wrong_type(client, keys, aud):
    c = claims(aud=aud)
    refused(client, raw_token({"alg": "RS256", "kid": "rsa1"}, c, key=keys["rsa1"]), AUD)


@pytest.mark.parametrize("iss", [{"iss": ISSUER}, [ISSUER], 1, None, ISSUER + " "])
def test_iss_wrong_type(client, keys, iss):
    c = claims(iss=iss)
    refused(client, raw_token({"alg": "RS256", "kid": "rsa1"}, c, key=keys["rsa1"]),
            "issuer not accepted")


@pytest.mark.parametrize("sub", [None, "", 7, ["alice"], "ali\nce", "ali\x7fce"])
def test_sub_missing_or_odd(client, keys, sub):
    c = claims(sub=sub)
    refused(client, raw_token({"alg": "RS256", "kid": "rsa1"}, c, key=keys["rsa1"]),
            "token has no subject")


# --- signatures -------------------------------------------------------------

def test_tampered_payload(client, keys):
    h, _, s = _parts(mint(claims(), key=keys["rsa1"]))
    refused(client, ".".join([h, b64url(claims(sub="admin")), s]), SIG)


@pytest.mark.parametrize("kid", ["rsa1", "ps1", "ec1"])
def test_tampered_signature(client, keys, kid):
    h, p, s = _parts(mint(claims(), key=keys[kid]))
    s = ("B" if s[0] == "A" else "A") + s[1:]
    refused(client, ".".join([h, p, s]), SIG)


def _es256_parts():
    return b64url({"alg": "ES256", "kid": "ec1"}), b64url(claims())


@pytest.mark.parametrize("sig", [
    bytes(64),
    P256_ORDER.to_bytes(32, "big") + (1).to_bytes(32, "big"),
    (1).to_bytes(32, "big") + P256_ORDER.to_bytes(32, "big"),
    (P256_ORDER + 1).to_bytes(32, "big") + (1).to_bytes(32, "big"),
    (1).to_bytes(32, "big") + (P256_ORDER + 5).to_bytes(32, "big"),
    b"\xff" * 64,
    (1).to_bytes(32, "big") * 2,
], ids=["all-zero", "r-is-order", "s-is-order", "r-above-order", "s-above-order",
        "all-ones", "r-s-one"])
def test_es256_signature_values(client, sig):
    h, p = _es256_parts()
    refused(client, "%s.%s.%s" % (h, p, b64url(sig)), SIG)


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 66, 96, 132, 256])
def test_es256_signature_of_wrong_length(client, keys, length):
    h, p = _es256_parts()
    sig = (b"\x01" * length) if length else b""
    token = "%s.%s.%s" % (h, p, b64url(sig))
    refused(client, token, (SIG, MALFORMED))


def test_es256_signature_with_extra_byte(client, keys):
    good = raw_token({"alg": "ES256", "kid": "ec1"}, claims(), key=keys["ec1"])
    h, p, s = _parts(good)
    refused(client, ".".join([h, p, b64url(_unb64(s) + b"\x00")]), (SIG, MALFORMED))


def test_es256_der_signature(client, keys):
    h, p = _es256_parts()
    der = keys["ec1"].private.sign(("%s.%s" % (h, p)).encode(), ec.ECDSA(hashes.SHA256()))
    refused(client, "%s.%s.%s" % (h, p, b64url(der)), (SIG, MALFORMED))


@pytest.mark.parametrize("kid", ["rsa1", "ps1"])
@pytest.mark.parametrize("change", ["drop-first", "drop-last", "prepend-zero",
                                    "append-zero", "double", "zero", "modulus"])
def test_rsa_signature_not_modulus_sized(client, keys, kid, change):
    good = mint(claims(), key=keys[kid])
    h, p, s = _parts(good)
    sig = _unb64(s)
    n = _unb64(keys[kid].public_jwk()["n"])
    bad = {"drop-first": sig[1:], "drop-last": sig[:-1], "prepend-zero": b"\0" + sig,
           "append-zero": sig + b"\0", "double": sig + sig, "zero": bytes(len(sig)),
           "modulus": n}[change]
    refused(client, ".".join([h, p, b64url(bad)]), SIG)


# --- size -------------------------------------------------------------------

def test_token_too_large(client, keys):
    token = mint(claims(padding="x" * 17000), key=keys["rsa1"])
    assert len(token) > 16 * 1024
    refused(client, token, "token is too large")


def test_too_large_is_refused_before_any_decoding(client):
    """Bytes that are neither base64url nor JSON: the size alone refuses."""
    token = "%" * 8000 + "." + "*" * 8000 + "." + "=" * 1000
    refused(client, token, "token is too large")


def test_token_just_under_the_limit(client, keys):
    base = len(mint(claims(padding=""), key=keys["rsa1"]))
    pad = (16 * 1024 - 64 - base) * 3 // 4
    token = mint(claims(padding="x" * pad), key=keys["rsa1"])
    assert len(token) < 16 * 1024
    assert_ok(client.get("/hr/", token))
