# SPDX-License-Identifier: Apache-2.0
"""Signing keys, honest tokens (python3-jwcrypto) and hand-made hostile ones.

    keys = KeySet.generate()
    keys.jwks("rsa1", "ps1", "ec1")          # public JWKS document (dict)
    mint(claims(sub="bob"), key=keys["rsa1"])
    raw_token({"alg": "none"}, claims(), b"")  # any bytes in any segment
"""

import base64
import hashlib
import hmac
import json
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwcrypto import jwk, jws

ISSUER = "https://issuer.example/"
AUDIENCE = "ords/hr/"
SUBJECT = "alice"

DROP = object()  # claims(exp=DROP) removes the claim


class Key:
    """A private signing key with its kid and the alg it signs with."""

    def __init__(self, kid, alg, private, jwk_extra=None):
        self.kid = kid
        self.alg = alg
        self.private = private              # cryptography private key
        self.jwk = jwk.JWK.from_pyca(private)
        self.jwk_extra = dict(jwk_extra or {})

    def public_jwk(self):
        d = self.jwk.export_public(as_dict=True)
        d["kid"] = self.kid
        d.update(self.jwk_extra)
        return d

    def public_pem(self):
        return self.jwk.export_to_pem(private_key=False)


class KeySet(dict):
    @classmethod
    def generate(cls):
        def rsa_key():
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)

        keys = cls()
        for key in (
            Key("rsa1", "RS256", rsa_key()),
            # its JWK states alg (and use): tokens must use exactly PS256
            Key("ps1", "PS256", rsa_key(), {"alg": "PS256", "use": "sig"}),
            Key("ec1", "ES256", ec.generate_private_key(ec.SECP256R1())),
            Key("rsaB", "RS256", rsa_key()),          # issuer B's own JWKS
            Key("static1", "ES256", ec.generate_private_key(ec.SECP256R1())),
            Key("attacker", "RS256", rsa_key()),      # published nowhere we trust
        ):
            keys[key.kid] = key
        return keys

    def jwks(self, *kids):
        return {"keys": [self[k].public_jwk() for k in kids]}


def now():
    return int(time.time())


def claims(**over):
    """An honest claim set for the default profile; keyword args override
    or (with DROP) remove claims."""
    t = now()
    c = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "iat": t,
        "exp": t + 300,
        "scope": "openid hr.read",
    }
    for name, value in over.items():
        if value is DROP:
            c.pop(name, None)
        else:
            c[name] = value
    return c


def mint(claims_=None, key=None, header=None, alg=None):
    """An honest compact JWS made by jwcrypto.

    header: extra/overriding protected header members.
    """
    assert key is not None, "mint needs a key"
    protected = {"alg": alg or key.alg, "kid": key.kid, "typ": "JWT"}
    protected.update(header or {})
    payload = json.dumps(claims() if claims_ is None else claims_).encode()
    token = jws.JWS(payload)
    token.add_signature(key.jwk, alg=protected["alg"],
                        protected=json.dumps(protected))
    return token.serialize(compact=True)


# --- hand-made tokens -------------------------------------------------------

def b64url(data):
    """base64url without padding of bytes, str or a JSON-able object."""
    if isinstance(data, (dict, list)):
        data = json.dumps(data).encode()
    elif isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def sign(alg, key, signing_input):
    """Signature bytes of signing_input for alg, by hand (cryptography).

    key: a Key, or bytes for HS*.
    """
    family, bits = alg[:2], alg[2:]
    if family == "HS":
        digest = {"256": hashlib.sha256, "384": hashlib.sha384,
                  "512": hashlib.sha512}[bits]
        return hmac.new(key, signing_input, digest).digest()
    h = _HASHES[bits]
    priv = key.private
    if family == "RS":
        return priv.sign(signing_input, padding.PKCS1v15(), h)
    if family == "PS":
        return priv.sign(signing_input,
                         padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if family == "ES":
        r, s = decode_dss_signature(priv.sign(signing_input, ec.ECDSA(h)))
        size = (priv.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(alg)


def raw_token(header, payload, signature=None, key=None, alg=None):
    """header.payload.signature from arbitrary parts.

    header/payload: dict (JSON), bytes or str (encoded as base64url).
    signature: bytes (encoded), or None to sign with key and alg
    (alg defaults to header["alg"]).
    """
    signing_input = ("%s.%s" % (b64url(header), b64url(payload))).encode()
    if signature is None:
        signature = sign(alg or header["alg"], key, signing_input)
    return signing_input.decode() + "." + b64url(signature)
