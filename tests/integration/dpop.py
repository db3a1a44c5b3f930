# SPDX-License-Identifier: Apache-2.0
"""DPoP (RFC 9449) for the tests: proof keys, bound access tokens and
proofs, honest or broken one rule at a time, and a client that sends
them."""

import base64
import hashlib
import hmac
import json
import struct
import uuid

import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tokens import Key, b64url, claims, mint, now, raw_token


def proof_keys():
    """Client keys a DPoP proof is signed with (never in a JWKS)."""
    return {
        "es": Key("dpop-es", "ES256", ec.generate_private_key(ec.SECP256R1())),
        "rs": Key("dpop-rs", "RS256", rsa.generate_private_key(
            public_exponent=65537, key_size=2048)),
        "ps": Key("dpop-ps", "PS256", rsa.generate_private_key(
            public_exponent=65537, key_size=2048)),
        "other": Key("dpop-other", "ES256",
                     ec.generate_private_key(ec.SECP256R1())),
    }


def jkt(key):
    return key.jwk.thumbprint()


def bound_token(signing_key, proof_key, **over):
    """An access token bound to proof_key (cnf.jkt)."""
    return mint(claims(cnf={"jkt": jkt(proof_key)}, **over), key=signing_key)


def ath(token):
    return base64.urlsafe_b64encode(
        hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def proof(key, method, url, token, header=None, drop=(), sign_with=None,
          signature=None, **over):
    """A compact DPoP proof; header: members to add or override; drop:
    claim or header names to remove; over: claims to override."""
    h = {"typ": "dpop+jwt", "alg": key.alg,
         "jwk": key.jwk.export_public(as_dict=True)}
    h.update(header or {})
    c = {"jti": str(uuid.uuid4()), "htm": method, "htu": url, "iat": now(),
         "ath": ath(token)}
    c.update(over)
    for name in drop:
        h.pop(name, None)
        c.pop(name, None)
    return raw_token(h, c, signature=signature, key=sign_with or key,
                     alg=h.get("alg") if h.get("alg") in (
                         "ES256", "RS256", "PS256") else key.alg)


def send(httpd, path, token, dpop=None, method="GET", scheme="DPoP",
         host=None, extra=None, timeout=30):
    """A request with Authorization: SCHEME token and DPoP: dpop (a list
    sends the header once per member)."""
    headers = [("Connection", "close")]
    if token is not None:
        headers.append(("Authorization", "%s %s" % (scheme, token)))
    for p in (dpop if isinstance(dpop, list) else [dpop] if dpop else []):
        headers.append(("DPoP", p))
    if host:
        headers.append(("Host", host))
    headers += list((extra or {}).items())
    s = requests.Session()
    req = requests.Request(method, httpd.url(path))
    prepared = s.prepare_request(req)
    prepared.headers.clear()
    for k, v in headers:
        if k in prepared.headers:
            prepared.headers[k] += ", " + v      # a repeated header, as httpd joins them
        else:
            prepared.headers[k] = v
    return s.send(prepared, timeout=timeout, allow_redirects=False)


def challenges(resp):
    """The WWW-Authenticate challenges, by scheme (requests joins repeated
    headers with ", ")."""
    raw = resp.raw.headers.getlist("WWW-Authenticate") \
        if hasattr(resp.raw.headers, "getlist") else \
        [resp.headers.get("WWW-Authenticate", "")]
    return {c.split(" ", 1)[0]: c for c in raw}


NONCE_LABEL = b"ordsjwt-dpop-nonce-v1"


def nonce(key, issued):
    """A resource-server nonce as the module makes them (src/dpop_nonce.h):
    base64url(issued as 8 bytes big-endian || the first 16 bytes of
    HMAC-SHA256(key, label || those 8 bytes)); key: the bytes of an
    OrdsJwtDpopNonceKeyFile."""
    t = struct.pack(">Q", issued)
    mac = hmac.new(key, NONCE_LABEL + t, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(t + mac).rstrip(b"=").decode()


def dump(obj):
    return json.dumps(obj)


__all__ = ["proof_keys", "jkt", "bound_token", "ath", "proof", "send",
           "challenges", "b64url", "dump", "nonce"]
