#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The demo's local OAuth issuer: a throwaway CA, an HTTPS JWKS endpoint on
127.0.0.1 and a few tokens to try.

    /usr/bin/python3 demo/issuer.py --dir DIR [--audience ords/hr/]

Writes into DIR: ca.pem (trust anchor for OrdsJwtCACertificateFile),
token-valid, token-expired, token-noscope, and last issuer.env (ISSUER=...,
JWK_URL=...), which tells the caller it is ready. Serves until SIGTERM.
Reuses the integration tests' CA, JWKS server and token code.
"""

import argparse
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from jwks_server import JwksServer  # noqa: E402
from pki import make_pki  # noqa: E402
from tokens import Key, mint, now  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--audience", default="ords/hr/")
    ap.add_argument("--scope", default="hr.employees.read")
    ap.add_argument("--sub", default="alice@example.com")
    args = ap.parse_args()

    paths = make_pki(args.dir)
    key = Key("demo-key-1", "RS256",
              rsa.generate_private_key(public_exponent=65537, key_size=2048))
    server = JwksServer(paths["cert"], paths["key"]).start()
    server.publish("/jwks", {"keys": [key.public_jwk()]})
    issuer = server.url("/")

    t = now()
    base = {"iss": issuer, "aud": args.audience, "sub": args.sub}
    tokens = {
        "valid": dict(base, iat=t, exp=t + 3600, scope="openid " + args.scope),
        "expired": dict(base, iat=t - 7200, exp=t - 3600, scope=args.scope),
        "noscope": dict(base, iat=t, exp=t + 3600, scope="openid profile"),
    }
    for name, claims in tokens.items():
        with open(os.path.join(args.dir, "token-" + name), "w") as f:
            f.write(mint(claims, key=key) + "\n")

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())

    env = os.path.join(args.dir, "issuer.env")
    with open(env + ".tmp", "w") as f:
        f.write("ISSUER=%s\nJWK_URL=%s\n" % (issuer, server.url("/jwks")))
    os.rename(env + ".tmp", env)
    while not done.wait(1):
        pass
    server.stop()


if __name__ == "__main__":
    main()
