#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    /usr/bin/python3 tests/fuzz/make_corpus.py            # seeds from keys/
    /usr/bin/python3 tests/fuzz/make_corpus.py --new-keys # new test keys too

keys/private-jwks.json holds throwaway test keys (never used anywhere else);
keys/fixed-jwks.json, their public half, is the JWKS fuzz_token verifies
with. Honest tokens are valid at fuzz_token's fixed clock (FUZZ_NOW) for its
fixed profile. Files are named after what they are; rerunning rewrites the
generated ones (ECDSA and PSS signatures differ each time) and leaves any
other file (e.g. a crash reproducer kept as a regression seed) alone.

Needs Debian's python3-cryptography and python3-jwcrypto.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwk

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
CORPUS = os.path.join(HERE, "corpus")
PREFIX = "gen-"     # generated seeds; other files are kept

FUZZ_NOW = 1700000000           # fuzz_token.c
ISSUER = "https://issuer.example/"
AUDIENCE = "ords/hr/"
EC_ORDER = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                 "581A0DB248B0A77AECEC196ACCC52973", 16),
    "P-521": int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
                 "FFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C"
                 "47AEBB6FB71E91386409", 16),
}


# --- keys -------------------------------------------------------------------

def new_keys():
    specs = [
        ("rsa1", rsa.generate_private_key(public_exponent=65537, key_size=2048), {}),
        ("ps1", rsa.generate_private_key(public_exponent=65537, key_size=2048),
         {"alg": "PS256", "use": "sig"}),
        ("ec256", ec.generate_private_key(ec.SECP256R1()), {}),
        ("ec384", ec.generate_private_key(ec.SECP384R1()), {"alg": "ES384"}),
        ("ec521", ec.generate_private_key(ec.SECP521R1()), {"key_ops": ["verify"]}),
        ("attacker", rsa.generate_private_key(public_exponent=65537, key_size=2048), {}),
    ]
    private = {"keys": []}
    for kid, key, extra in specs:
        d = jwk.JWK.from_pyca(key).export(private_key=True, as_dict=True)
        d["kid"] = kid
        d.update(extra)
        private["keys"].append(d)
    os.makedirs(KEYS, exist_ok=True)
    with open(os.path.join(KEYS, "private-jwks.json"), "w") as f:
        json.dump(private, f, indent=1)
        f.write("\n")


def load_keys():
    with open(os.path.join(KEYS, "private-jwks.json")) as f:
        private = json.load(f)
    keys = {}
    public = {"keys": []}
    for d in private["keys"]:
        # the signing key without use/key_ops (they say "verify")
        k = jwk.JWK(**{m: v for m, v in d.items() if m not in ("use", "key_ops", "alg")})
        pub = k.export_public(as_dict=True)
        for member in ("kid", "alg", "use", "key_ops"):
            if member in d:
                pub[member] = d[member]
        keys[d["kid"]] = (k.get_op_key("sign"), pub)
        if d["kid"] != "attacker":
            public["keys"].append(pub)
    with open(os.path.join(KEYS, "fixed-jwks.json"), "w") as f:
        json.dump(public, f, indent=1)
        f.write("\n")
    return keys


# --- encoding ---------------------------------------------------------------

def b64(data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, separators=(",", ":")).encode()
    elif isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def int_bytes(n, size):
    return n.to_bytes(size, "big")


HASH = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def sign(alg, key, data):
    fam, bits = alg[:2], alg[2:]
    if fam == "HS":
        digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[bits]
        return hmac.new(key, data, digest).digest()
    h = HASH[bits]
    if fam == "RS":
        return key.sign(data, padding.PKCS1v15(), h)
    if fam == "PS":
        return key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
    size = (key.curve.key_size + 7) // 8
    return int_bytes(r, size) + int_bytes(s, size)


def token(header, payload, alg=None, key=None, sig=None):
    """header/payload: dict (JSON), str or bytes; signed unless sig given."""
    head = b64(header)
    body = b64(payload)
    if sig is None:
        sig = sign(alg or header["alg"], key, ("%s.%s" % (head, body)).encode())
    return "%s.%s.%s" % (head, body, b64(sig) if isinstance(sig, bytes) else sig)


def claims(**over):
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": FUZZ_NOW - 60,
         "exp": FUZZ_NOW + 3600, "scope": "openid hr.read",
         "groups": ["admin"], "realm_access": {"roles": ["hr"]}}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def structured(header, payload, sig=b""):
    """fuzz_token's 'J' form: raw parts the target encodes itself."""
    def raw(x):
        if isinstance(x, (dict, list)):
            return json.dumps(x, separators=(",", ":")).encode()
        return x.encode() if isinstance(x, str) else x
    return b"J" + raw(header) + b"\n.\n" + raw(payload) + b"\n.\n" + raw(sig)


# --- seeds ------------------------------------------------------------------

def token_seeds(keys):
    out = {}
    rsa1, ps1 = keys["rsa1"][0], keys["ps1"][0]
    ec256, ec384, ec521 = keys["ec256"][0], keys["ec384"][0], keys["ec521"][0]
    attacker = keys["attacker"][0]
    c = claims()

    # honest tokens, one per accepted algorithm family and key
    for alg in ("RS256", "RS384", "RS512"):
        out["honest-" + alg] = token({"alg": alg, "kid": "rsa1", "typ": "JWT"}, c, key=rsa1)
    out["honest-PS256"] = token({"alg": "PS256", "kid": "ps1"}, c, key=ps1)
    out["honest-ES256"] = token({"alg": "ES256", "kid": "ec256"}, c, key=ec256)
    out["honest-ES384"] = token({"alg": "ES384", "kid": "ec384"}, c, key=ec384)
    out["honest-ES512"] = token({"alg": "ES512", "kid": "ec521"}, c, key=ec521)
    out["honest-ES256-nokid"] = token({"alg": "ES256"}, c, key=ec256)
    out["honest-aud-array"] = token({"alg": "RS256", "kid": "rsa1"},
                                    claims(aud=["other", AUDIENCE]), key=rsa1)
    out["honest-scp-array"] = token({"alg": "RS256", "kid": "rsa1"},
                                    claims(scope=None, scp=["hr.read", "x"]), key=rsa1)
    honest = out["honest-RS256"]
    h, p, s = honest.split(".")

    # alg none, HMAC with the public key
    for name in ("none", "None", "NONE", "nOnE"):
        out["none-%s-nosig" % name] = token({"alg": name, "kid": "rsa1"}, c, sig="")
        out["none-%s-sig" % name] = token({"alg": name, "kid": "rsa1"}, c, sig=b"\x01" * 32)
    pub = keys["rsa1"][0].public_key()
    pem = pub.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    n = unb64(keys["rsa1"][1]["n"])
    for alg in ("HS256", "HS384", "HS512"):
        for what, secret in (("pem", pem), ("der", der), ("n", n)):
            out["hmac-%s-%s" % (alg, what)] = token({"alg": alg, "kid": "rsa1"}, c,
                                                    key=secret)

    # alg and key do not fit
    out["rs256-with-ec-kid"] = token({"alg": "RS256", "kid": "ec256"}, c, key=rsa1)
    out["es256-with-rsa-kid"] = token({"alg": "ES256", "kid": "rsa1"}, c, key=ec256)
    out["es256-with-p384-kid"] = token({"alg": "ES256", "kid": "ec384"}, c, key=ec256)
    out["es384-with-p256-kid"] = token({"alg": "ES384", "kid": "ec256"}, c, key=ec384)
    out["rs256-by-ps-only-key"] = token({"alg": "RS256", "kid": "ps1"}, c, key=ps1)
    out["same-kid-other-key"] = token({"alg": "RS256", "kid": "rsa1"}, c, key=attacker)
    out["unknown-kid"] = token({"alg": "RS256", "kid": "attacker"}, c, key=attacker)
    out["kid-not-string"] = token({"alg": "RS256", "kid": 7}, c, key=rsa1)
    out["alg-not-string"] = token({"alg": ["RS256"], "kid": "rsa1"}, c, alg="RS256", key=rsa1)
    out["alg-missing"] = token({"kid": "rsa1"}, c, alg="RS256", key=rsa1)
    out["alg-es256k"] = token({"alg": "ES256K", "kid": "ec256"}, c, alg="ES256", key=ec256)
    out["alg-eddsa"] = token({"alg": "EdDSA", "kid": "ec256"}, c, alg="ES256", key=ec256)

    # key location headers
    apub = keys["attacker"][1]
    for param, value in (("jku", "https://attacker.example/jwks"),
                         ("x5u", "https://attacker.example/cert.pem"),
                         ("jwk", apub), ("x5c", [b64(der)])):
        for kid in ("attacker", "rsa1"):
            out["%s-%s" % (param, kid)] = token(
                {"alg": "RS256", "kid": kid, param: value}, c, key=attacker)

    # extensions
    out["crit-exp"] = token({"alg": "RS256", "kid": "rsa1", "crit": ["exp"], "exp": 1}, c, key=rsa1)
    out["crit-empty"] = token({"alg": "RS256", "kid": "rsa1", "crit": []}, c, key=rsa1)
    out["crit-string"] = token({"alg": "RS256", "kid": "rsa1", "crit": "b64"}, c, key=rsa1)
    out["b64-false"] = token({"alg": "RS256", "kid": "rsa1", "b64": False, "crit": ["b64"]},
                             c, key=rsa1)
    out["b64-false-nocrit"] = token({"alg": "RS256", "kid": "rsa1", "b64": False}, c, key=rsa1)
    out["b64-true"] = token({"alg": "RS256", "kid": "rsa1", "b64": True}, c, key=rsa1)

    # structure and encoding
    out["jwe-five-parts"] = ".".join([b64({"alg": "RSA-OAEP", "enc": "A256GCM"}),
                                      "AAAA", "AAAAAAAAAAAAAAAA", "AAAA", "AAAAAAAAAAAAAAAAAAAAAA"])
    out["two-parts"] = "%s.%s" % (h, p)
    out["four-parts"] = honest + ".AAAA"
    out["empty-header"] = ".%s.%s" % (p, s)
    out["empty-payload"] = "%s..%s" % (h, s)
    out["empty-signature"] = "%s.%s." % (h, p)
    out["only-dots"] = ".."
    out["padded-signature"] = honest + "=="
    out["padded-header"] = "%s=.%s.%s" % (h, p, s)
    out["plus-slash"] = honest.replace("-", "+").replace("_", "/")
    for name, ch in (("space", " "), ("tab", "\t"), ("newline", "\n"), ("nul", "\0"),
                     ("percent", "%"), ("star", "*"), ("high-byte", "\xe9")):
        out["char-" + name] = h[:5] + ch + h[5:] + "." + p + "." + s
    out["leading-space"] = " " + honest
    out["trailing-newline"] = honest + "\n"
    out["cjose-abort-header"] = "A===.e30.AAAA"
    out["cjose-abort-payload"] = "e30.A===.AAAA"
    out["cjose-abort-signature"] = "e30.e30.A==="
    out["len-mod4-1"] = "e30AA.e30.AAAA"
    out["noncanonical-bits"] = "e31.e30.AAAA"

    # header / payload content
    for where in ("header", "payload"):
        def put(raw, where=where):
            if where == "header":
                return token(raw, c, alg="RS256", key=rsa1)
            return token({"alg": "RS256", "kid": "rsa1"}, raw, key=rsa1)
        out[where + "-not-json"] = put(b"not json")
        out[where + "-array"] = put(b'["alg","RS256"]')
        out[where + "-string"] = put(b'"RS256"')
        out[where + "-number"] = put(b"1e400")
        out[where + "-null"] = put(b"null")
        out[where + "-nul-byte"] = put(b'{"alg":"RS256","kid":"rsa1","x":"a\x00b"}'
                                       if where == "header" else
                                       json.dumps(c)[:-1].encode() + b',"x":"a\x00b"}')
        out[where + "-escaped-nul"] = put(b'{"alg":"RS256","kid":"rsa1","x":"a\\u0000b"}'
                                          if where == "header" else
                                          json.dumps(c)[:-1].encode() + b',"x":"a\\u0000b"}')
        out[where + "-invalid-utf8"] = put(b'{"alg":"RS256","kid":"rsa1","x":"\xc3\x28"}'
                                           if where == "header" else
                                           json.dumps(c)[:-1].encode() + b',"x":"\xff\xfe"}')
        out[where + "-nested-deep"] = put(b"[" * 10000)     # 10,000 deep, cut short by the size cap
        out[where + "-trailing-garbage"] = put(b'{"alg":"RS256","kid":"rsa1"}x'
                                               if where == "header" else
                                               json.dumps(c).encode() + b"x")
    out["header-duplicate-alg"] = token(b'{"alg":"RS256","kid":"rsa1","alg":"RS256"}', c,
                                        alg="RS256", key=rsa1)
    out["header-duplicate-kid"] = token(b'{"alg":"RS256","kid":"attacker","kid":"rsa1"}', c,
                                        alg="RS256", key=rsa1)
    body = json.dumps(c)[:-1] + ',"sub":"mallory"}'
    out["payload-duplicate-sub"] = token({"alg": "RS256", "kid": "rsa1"}, body.encode(), key=rsa1)

    # claim types
    odd = {"string": "1800000000", "float": 1800000000.5, "negative": -1,
           "huge": 1e300, "bool": True, "null": None, "object": {"t": 1}}
    for claim in ("exp", "nbf", "iat"):
        for name, value in odd.items():
            cc = claims()
            cc[claim] = value
            out["claim-%s-%s" % (claim, name)] = token({"alg": "RS256", "kid": "rsa1"}, cc,
                                                       key=rsa1)
        raw = json.dumps(claims())[:-1] + ',"%s":1e400}' % claim
        if claim == "exp":
            raw = raw.replace('"exp": %d, ' % (FUZZ_NOW + 3600), "")
        out["claim-%s-1e400" % claim] = token({"alg": "RS256", "kid": "rsa1"}, raw.encode(),
                                              key=rsa1)
    for name, value in (("object", {"a": AUDIENCE}), ("number", 7), ("empty-array", []),
                        ("array-of-numbers", [1, 2]), ("null", None)):
        cc = claims()
        cc["aud"] = value
        out["aud-" + name] = token({"alg": "RS256", "kid": "rsa1"}, cc, key=rsa1)
    out["sub-missing"] = token({"alg": "RS256", "kid": "rsa1"}, claims(sub=None), key=rsa1)
    out["sub-control"] = token({"alg": "RS256", "kid": "rsa1"}, claims(sub="a\nb"), key=rsa1)
    out["iss-trailing-slash"] = token({"alg": "RS256", "kid": "rsa1"},
                                      claims(iss=ISSUER.rstrip("/")), key=rsa1)
    out["expired"] = token({"alg": "RS256", "kid": "rsa1"}, claims(exp=FUZZ_NOW - 100), key=rsa1)
    out["groups-pointer-escapes"] = token({"alg": "RS256", "kid": "rsa1"},
                                          claims(groups={"a/b": ["admin"], "~": 1}), key=rsa1)

    # signatures
    ehead = b64({"alg": "ES256", "kid": "ec256"})
    ebody = b64(c)
    n256 = EC_ORDER["P-256"]
    for name, sig in (("zero", bytes(64)),
                      ("r-is-order", int_bytes(n256, 32) + int_bytes(1, 32)),
                      ("s-is-order", int_bytes(1, 32) + int_bytes(n256, 32)),
                      ("r-above-order", int_bytes(n256 + 1, 32) + int_bytes(1, 32)),
                      ("r-s-max", b"\xff" * 64),
                      ("short", b"\x01" * 63), ("long", b"\x01" * 65),
                      ("p384-size", b"\x01" * 96)):
        out["es256-sig-" + name] = "%s.%s.%s" % (ehead, ebody, b64(sig))
    real = ec256.sign(("%s.%s" % (ehead, ebody)).encode(), ec.ECDSA(hashes.SHA256()))
    out["es256-sig-der"] = "%s.%s.%s" % (ehead, ebody, b64(real))
    good = unb64(out["honest-ES256"].split(".")[2])
    out["es256-sig-extra-byte"] = out["honest-ES256"].rsplit(".", 1)[0] + "." + b64(good + b"\0")
    rsig = unb64(s)
    out["rs256-sig-short"] = "%s.%s.%s" % (h, p, b64(rsig[1:]))
    out["rs256-sig-long"] = "%s.%s.%s" % (h, p, b64(b"\0" + rsig))
    out["rs256-sig-zero"] = "%s.%s.%s" % (h, p, b64(bytes(256)))
    out["rs256-sig-modulus"] = "%s.%s.%s" % (h, p, b64(n))
    out["rs256-tampered-payload"] = "%s.%s.%s" % (h, b64(claims(sub="admin")), s)

    # structured ('J') seeds: raw JSON the target encodes
    out["J-honest-shape"] = structured({"alg": "RS256", "kid": "rsa1"}, c, rsig)
    out["J-es256-shape"] = structured({"alg": "ES256", "kid": "ec256"}, c, good)
    out["J-nokid"] = structured({"alg": "ES384"}, c, b"\x01" * 96)
    out["J-crit"] = structured({"alg": "PS256", "kid": "ps1", "crit": ["x"]}, c, rsig)
    out["J-claims-odd"] = structured({"alg": "RS256", "kid": "rsa1"},
                                     {"iss": 1, "aud": {"x": []}, "exp": "soon",
                                      "nbf": [], "iat": 1e308, "scope": 5,
                                      "scp": [None, "hr.read"]}, rsig)
    return {k: v.encode("latin-1") if isinstance(v, str) else v for k, v in out.items()}


def jwks_seeds(keys):
    out = {}
    pubs = {kid: pub for kid, (_, pub) in keys.items()}
    with open(os.path.join(KEYS, "fixed-jwks.json"), "rb") as f:
        out["honest-fixed"] = f.read()
    for kid, pub in pubs.items():
        out["honest-" + kid] = {"keys": [pub]}
    rsa_pub, ec_pub = pubs["rsa1"], pubs["ec256"]

    def with_(base, **over):
        d = dict(base)
        for k, v in over.items():
            if v is None:
                d.pop(k, None)
            else:
                d[k] = v
        return {"keys": [d]}

    # EC
    x = unb64(ec_pub["x"])
    y = unb64(ec_pub["y"])
    off = (int.from_bytes(y, "big") ^ 1).to_bytes(32, "big")
    out["ec-off-curve"] = with_(ec_pub, y=b64(off))
    out["ec-zero-point"] = with_(ec_pub, x=b64(bytes(32)), y=b64(bytes(32)))
    out["ec-unknown-curve"] = with_(ec_pub, crv="secp256k1")
    out["ec-curve-p192"] = with_(ec_pub, crv="P-192", x=b64(x[:24]), y=b64(y[:24]))
    out["ec-curve-not-string"] = with_(ec_pub, crv=256)
    out["ec-short-x"] = with_(ec_pub, x=b64(x[1:]))
    out["ec-long-x"] = with_(ec_pub, x=b64(b"\0" + x))
    out["ec-alg-mismatch"] = with_(ec_pub, alg="ES384")
    out["ec-with-d"] = with_(ec_pub, d=b64(bytes(31) + b"\x01"))
    out["ec-padded-x"] = with_(ec_pub, x=ec_pub["x"] + "=")
    out["ec-abort-x"] = with_(ec_pub, x="A===")
    # RSA
    n = unb64(rsa_pub["n"])
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small_pub = jwk.JWK.from_pyca(small.public_key()).export_public(as_dict=True)
    out["rsa-1024"] = {"keys": [dict(small_pub, kid="small")]}
    out["rsa-2047-bits"] = with_(rsa_pub, n=b64(b"\x7f" + n[1:]))
    out["rsa-e-even"] = with_(rsa_pub, e=b64(b"\x01\x00\x00"))
    out["rsa-e-1"] = with_(rsa_pub, e="AQ")
    out["rsa-e-3"] = with_(rsa_pub, e="Aw")
    out["rsa-e-zero"] = with_(rsa_pub, e="AA")
    out["rsa-e-huge"] = with_(rsa_pub, e=b64(b"\x01" * 16))
    out["rsa-n-leading-zeros"] = with_(rsa_pub, n=b64(b"\0\0" + n))
    out["rsa-n-missing"] = with_(rsa_pub, n=None)
    out["rsa-n-number"] = with_(rsa_pub, n=12345)
    out["rsa-abort-n"] = with_(rsa_pub, n="A===")
    out["rsa-with-private"] = with_(rsa_pub, d="AQAB", p="AQAB")
    out["rsa-huge-modulus"] = with_(rsa_pub, n=b64(b"\xff" * 2100))
    # kty, use, key_ops, alg
    out["kty-oct"] = {"keys": [{"kty": "oct", "kid": "hs", "k": b64(b"secret" * 6), "alg": "HS256"}]}
    out["kty-oct-and-rsa"] = {"keys": [{"kty": "oct", "kid": "rsa1", "k": "c2VjcmV0"}, rsa_pub]}
    out["kty-missing"] = with_(rsa_pub, kty=None)
    out["kty-okp"] = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(bytes(32))}]}
    out["kty-lowercase"] = with_(rsa_pub, kty="rsa")
    out["kty-number"] = with_(rsa_pub, kty=1)
    out["use-enc"] = with_(rsa_pub, use="enc")
    out["key-ops-sign-only"] = with_(rsa_pub, key_ops=["sign"])
    out["key-ops-not-array"] = with_(rsa_pub, key_ops="verify")
    out["alg-hs256-on-rsa"] = with_(rsa_pub, alg="HS256")
    out["alg-unknown"] = with_(rsa_pub, alg="RS1")
    out["kid-number"] = with_(rsa_pub, kid=5)
    out["duplicate-kid"] = {"keys": [rsa_pub, dict(ec_pub, kid="rsa1")]}
    # document shape
    out["keys-object"] = {"keys": {"0": rsa_pub}}
    out["keys-string"] = {"keys": "[]"}
    out["keys-empty"] = {"keys": []}
    out["keys-missing"] = {"jwks": [rsa_pub]}
    out["root-array"] = [rsa_pub]
    out["root-string"] = b'"keys"'
    out["not-json"] = b"<html>login</html>"
    out["truncated"] = json.dumps({"keys": [rsa_pub]}).encode()[:-5]
    out["duplicate-member"] = b'{"keys":[],"keys":[' + json.dumps(rsa_pub).encode() + b"]}"
    out["nul-in-kid"] = json.dumps({"keys": [rsa_pub]}).encode().replace(
        b'"rsa1"', b'"rsa\\u00001"')
    out["invalid-utf8"] = json.dumps({"keys": [rsa_pub]}).encode().replace(
        b'"rsa1"', b'"rsa\xff"')
    out["nested-deep"] = b'{"keys":' + b"[" * 10000 + b"]" * 10000 + b"}"
    out["keys-10000"] = ('{"keys":[' + ",".join(["{}"] * 10000) + "]}").encode()
    out["keys-65"] = {"keys": [dict(ec_pub, kid="k%d" % i) for i in range(65)]}
    out["keys-64"] = {"keys": [dict(ec_pub, kid="k%d" % i) for i in range(64)]}
    # PEM input (the target also runs ojw_jwks_from_pem on it)
    out["pem-rsa"] = keys["rsa1"][0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out["pem-ec"] = keys["ec384"][0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out["pem-rsa-1024"] = small.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out["pem-garbage"] = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    return {k: (json.dumps(v).encode() if isinstance(v, (dict, list)) else v)
            for k, v in out.items()}


def pointer_seeds():
    doc = json.dumps(claims(**{"a/b": {"m~n": ["admin"]}, "arr": [["x"], ["admin"]],
                               "": ["hr"], "deep": {"x": {"y": {"z": "admin"}}}}))
    seeds = {}
    for name, ptr in (("groups", "/groups"), ("realm", "/realm_access/roles"),
                      ("escaped", "/a~1b/m~0n"), ("array-index", "/arr/1"),
                      ("array-index-0", "/arr/0/0"), ("array-dash", "/arr/-"),
                      ("array-leading-zero", "/arr/01"), ("array-huge", "/arr/99999999999999999999"),
                      ("empty-token", "/"), ("whole", ""), ("bad-escape", "/a~2b"),
                      ("tilde-end", "/groups~"), ("no-slash", "groups"),
                      ("deep", "/deep/x/y/z"), ("long-token", "/" + "g" * 300),
                      ("many-slashes", "/" * 200)):
        seeds[name] = (ptr + "\n" + doc).encode()
    seeds["role-string"] = b'/r\n{"r":"admin"}'
    seeds["role-number-array"] = b'/r\n{"r":[1,null,{"a":"admin"},"admin"]}'
    seeds["nested-deep"] = b"/a/0/0/0\n" + b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    seeds["duplicate"] = b'/r\n{"r":"x","r":"admin"}'
    seeds["nul-member"] = b'/a\n{"a\\u0000b":["admin"],"a":["x"]}'
    seeds["scalar-root"] = b"/x\n42"
    return seeds


def profile_seeds():
    lines = {
        "full": 'hr issuer=https://identity.oraclecloud.com/ audience=ords/hr/ '
                'jwk_url=https://idcs-1.example/admin/v1/SigningCert/jwk '
                'allowed_skew=30 allowed_age=3600 role_claim_name=/iam_group '
                'description="HR \\"API\\" v1"',
        "file-url": "s issuer=i audience=a jwk_url=file:///etc/keys.json allowed_skew=-3",
        "pem": "p issuer=i audience=a pem_file=/etc/k.pem pem_kid=k1",
        "pem-and-url": "p issuer=i audience=a pem_file=/etc/k.pem jwk_url=https://x/",
        "pem-relative": "p issuer=i audience=a pem_file=k.pem",
        "pem-kid-alone": "p issuer=i audience=a jwk_url=https://x/ pem_kid=k",
        "http-url": "h issuer=i audience=a jwk_url=http://x/jwks",
        "https-empty": "h issuer=i audience=a jwk_url=https://",
        "file-relative": "h issuer=i audience=a jwk_url=file://rel.json",
        "skew-too-big": "s issuer=i audience=a jwk_url=https://x/ allowed_skew=61",
        "skew-overflow": "s issuer=i audience=a jwk_url=https://x/ allowed_skew=99999999999999999999",
        "skew-not-number": "s issuer=i audience=a jwk_url=https://x/ allowed_skew=3s",
        "age-negative": "s issuer=i audience=a jwk_url=https://x/ allowed_age=-9",
        "role-bad-pointer": "r issuer=i audience=a jwk_url=https://x/ role_claim_name=groups",
        "role-escapes": "r issuer=i audience=a jwk_url=https://x/ role_claim_name=/a~1b/c~0d",
        "role-bad-escape": "r issuer=i audience=a jwk_url=https://x/ role_claim_name=/a~2",
        "unterminated-quote": 'q issuer=i audience=a jwk_url=https://x/ description="oops',
        "quote-backslash-end": 'q issuer=i audience=a jwk_url=https://x/ description="a\\',
        "quoted-key": 'q "issuer"=i audience=a jwk_url=https://x/',
        "quoted-everything": '"q" issuer="i j" audience="a" jwk_url="https://x/"',
        "empty-value": "e issuer= audience=a jwk_url=https://x/",
        "no-equals": "e issuer audience=a jwk_url=https://x/",
        "equals-first": "e =i audience=a jwk_url=https://x/",
        "unknown-key": "u issuer=i audience=a jwk_url=https://x/ colour=blue",
        "duplicate-key": "d issuer=i issuer=j audience=a jwk_url=https://x/",
        "bad-name": "h/r issuer=i audience=a jwk_url=https://x/",
        "name-only": "hr",
        "empty": "",
        "spaces": "   \t  ",
        "tabs-newlines": "hr\tissuer=i\naudience=a\rjwk_url=https://x/",
        "control-chars": "hr issuer=\x01 audience=\x7f jwk_url=https://x/\x1b",
        "utf8": "hr issuer=https://ex\xc3\xa4mple/ audience=\xe2\x82\xac jwk_url=https://x/",
        "missing-all": "x description=only",
    }
    return {k: v.encode("latin-1") if not isinstance(v, bytes) else v
            for k, v in lines.items()}


DPOP_URL = "https://api.example.com/ords/hr/emp"      # fuzz_dpop.c
DPOP_TOKEN = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
DPOP_NONCE_KEY = b"fuzz-dpop-nonce-key-0123456789ab"   # fuzz_dpop.c


def dpop_nonce(issued, key=DPOP_NONCE_KEY):
    """A resource-server nonce (src/dpop_nonce.h) issued at issued."""
    t = struct.pack(">Q", issued)
    mac = hmac.new(key, b"ordsjwt-dpop-nonce-v1" + t,
                   hashlib.sha256).digest()[:16]
    return b64(t + mac)


def dpop_seeds(keys):
    """fuzz_dpop: proofs by ec256 (whose thumbprint the fixed access token
    is bound to), honest at FUZZ_NOW and broken; 'C' claims with cnf (the
    binding step); 'N' nonces. The URL seeds are fuzz_htu's (by hand)."""
    ec256, ec_pub = keys["ec256"]
    rsa1, rsa_pub = keys["rsa1"]
    jwk_ = {k: v for k, v in ec_pub.items() if k in ("kty", "crv", "x", "y")}
    rjwk = {k: v for k, v in rsa_pub.items() if k in ("kty", "n", "e")}
    ath = b64(hashlib.sha256(DPOP_TOKEN.encode()).digest())
    c = {"jti": "j-1", "htm": "GET", "htu": DPOP_URL, "iat": FUZZ_NOW,
         "ath": ath}
    h = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk_}
    seeds = {
        "honest-es256": token(h, c, key=ec256).encode(),
        "honest-rs256": token(dict(h, alg="RS256", jwk=rjwk), c,
                              key=rsa1).encode(),
        "typ-jwt": token(dict(h, typ="JWT"), c, key=ec256).encode(),
        "private-jwk": token(dict(h, jwk=dict(jwk_, d="AAAA")), c,
                             key=ec256).encode(),
        "htu-dots": token(h, dict(c, htu="HTTPS://API.example.com:443/ords/x/"
                                         "../hr/%65mp?q#f"), key=ec256).encode(),
        "iat-string": token(h, dict(c, iat="1"), key=ec256).encode(),
        "J-honest": structured(h, c),
        "J-no-jwk": structured({"typ": "dpop+jwt", "alg": "ES256"}, c),
        "C-jkt": b'C{"cnf":{"jkt":"abc"}}',
        "C-x5t": b'C{"cnf":{"x5t#S256":"abc","jkt":7}}',
        "C-other": b'C{"cnf":{"jwk":{}}}',
        "C-unbound": b'C{"sub":"a","cnf":null}',
        "C-both": b'C{"cnf":{"jkt":"abc","x5t#S256":"def"}}',
        "nonce-good": token(h, dict(c, nonce=dpop_nonce(FUZZ_NOW - 10)),
                            key=ec256).encode(),
        "nonce-stale": token(h, dict(c, nonce=dpop_nonce(FUZZ_NOW - 301)),
                             key=ec256).encode(),
        "nonce-other-key": token(h, dict(c, nonce=dpop_nonce(
            FUZZ_NOW, b"another-fleet-key-0123456789abcd")), key=ec256).encode(),
        "nonce-number": token(h, dict(c, nonce=7), key=ec256).encode(),
        "J-nonce": structured(h, dict(c, nonce=dpop_nonce(FUZZ_NOW + 5))),
        "N-good": b"N" + dpop_nonce(FUZZ_NOW - 150).encode(),
        "N-future": b"N" + dpop_nonce(FUZZ_NOW + 6).encode(),
        "N-max-time": b"N" + dpop_nonce(2 ** 64 - 1).encode(),
        "N-short": b"NAAAA",
    }
    return seeds


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith(PREFIX):
            os.unlink(os.path.join(d, name))
    for name, data in seeds.items():
        with open(os.path.join(d, PREFIX + name), "wb") as f:
            f.write(data)
    print("%-13s %3d seeds" % (target, len(seeds)))


def main():
    if "--new-keys" in sys.argv or not os.path.exists(os.path.join(KEYS, "private-jwks.json")):
        new_keys()
    keys = load_keys()
    write("fuzz_token", token_seeds(keys))
    write("fuzz_jwks", jwks_seeds(keys))
    write("fuzz_pointer", pointer_seeds())
    write("fuzz_profile", profile_seeds())
    write("fuzz_dpop", dpop_seeds(keys))


if __name__ == "__main__":
    main()
