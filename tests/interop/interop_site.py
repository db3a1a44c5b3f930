# SPDX-License-Identifier: Apache-2.0
"""What the interop tests set up: the clients and resource servers of the
authorization server (as.mjs), and the site of the httpd under test, built
around conf-examples/oidc-provider.conf (used as it is, the loopback issuer
put in). The tests import the names from here; conftest.py holds the
fixtures."""

import os
import re

import sites
from httpd_instance import MODULES_DIR, REPO

EXAMPLE = os.path.join(REPO, "conf-examples", "oidc-provider.conf")
EXAMPLE_ISSUER = "https://as.example.com"


def _example():
    with open(EXAMPLE) as f:
        return f.read()


# What the example names: its profile, its audience (the resource
# indicator the clients ask for) and its two Locations.
PROFILE = re.search(r"^OrdsJwtProfile (\S+)", _example(), re.M).group(1)
HR = re.search(r"audience=(\S+)", _example()).group(1)
READ_PATH, WRITE_PATH, NONCE_PATH = re.findall(r"^<Location (\S+)>",
                                               _example(), re.M)[:3]
# other resources of the AS
OTHER = "https://api.example.com/other/"
SHORT = "https://api.example.com/short/"
ROT = "https://api.example.com/rot/"
ALGS = ("RS256", "PS256", "ES256")
BY_ALG = {alg: "https://api.example.com/%s/" % alg.lower() for alg in ALGS}
SHORT_TTL = 4
CLIENTS = [{"client_id": "reader", "client_secret": "reader-secret"},
           {"client_id": "dpop-client", "client_secret": "dpop-secret",
            "dpop": True},
           {"client_id": "mtls-client", "client_secret": "mtls-secret",
            "mtls": True}]


def resources():
    """The resource servers of the main AS: audience, signing alg, token
    lifetime, and the scopes each client is granted there."""
    out = {HR: {"alg": "RS256", "ttl": 300,
                "grants": {"reader": "hr.read", "dpop-client": "hr.read hr.write",
                           "mtls-client": "hr.read"}},
           OTHER: {"alg": "RS256", "ttl": 300, "grants": {"reader": "hr.read"}},
           SHORT: {"alg": "ES256", "ttl": SHORT_TTL, "grants": {"reader": "hr.read"}}}
    for alg, resource in BY_ALG.items():
        out[resource] = {"alg": alg, "ttl": 300, "grants": {"reader": "hr.read"}}
    return out


def example_site(auth_server):
    """conf-examples/oidc-provider.conf for the loopback AS."""
    return _example().replace(EXAMPLE_ISSUER, auth_server.issuer)


def extra_profiles(auth_server, rotating_server):
    """Profiles for the cases the example has no Location for."""
    disc = auth_server.discovery_url
    algs = " ".join("audience=" + r for r in BY_ALG.values())
    return [
        "OrdsJwtProfile algs issuer=%s %s discovery_url=%s token_type=at+jwt"
        % (auth_server.issuer, algs, disc),
        sites.profile("short", auth_server.issuer, SHORT, discovery_url=disc,
                      token_type="at+jwt", allowed_skew=0),
        # the AS's own issuer has no trailing slash
        sites.profile("mismatch", auth_server.issuer + "/", HR, discovery_url=disc),
        sites.profile("rot", rotating_server.issuer, ROT,
                      discovery_url=rotating_server.discovery_url,
                      token_type="at+jwt"),
    ]


def site(pki, auth_server, rotating_server, tls_port, cgi_dir, nonce_key):
    extra = [sites.location("/cgi/", PROFILE, "ords-scope hr.read"),
             sites.location("/algs/", "algs"),
             sites.location("/short/", "short"),
             sites.location("/mismatch/", "mismatch"),
             sites.location("/rot/", "rot"),
             "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
             "    Require ip 127.0.0.1\n</Location>"]
    return sites.site(
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODULES_DIR,
        "LoadModule ssl_module %s/mod_ssl.so" % MODULES_DIR,
        "LoadModule cgid_module %s/mod_cgid.so" % MODULES_DIR,
        "LoadModule authz_host_module %s/mod_authz_host.so" % MODULES_DIR,
        "ScriptSock cgid.sock",
        "SSLSessionCache shmcb:ssl_scache(512000)",
        sites.ca(pki),
        # a key rotation is followed at once (unknown kid: refetch)
        "OrdsJwtJwksMinRefreshInterval 1",
        # the fleet's DPoP nonce key (the tests make nonces with it too)
        "OrdsJwtDpopNonceKeyFile %s" % nonce_key,
        example_site(auth_server),
        *extra_profiles(auth_server, rotating_server),
        *extra,
        "ScriptAlias /cgi/ %s/" % cgi_dir,
        "<Directory %s>\n    Options +ExecCGI\n    Require all granted\n"
        "</Directory>" % cgi_dir,
        "Listen 127.0.0.1:%d" % tls_port,
        sites.virtual_host(
            "127.0.0.1:%d" % tls_port,
            "SSLEngine on\nSSLCertificateFile %s\nSSLCertificateKeyFile %s\n"
            "SSLVerifyClient optional_no_ca" % (pki["cert"], pki["key"]),
            server_name="127.0.0.1"))


CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "REMOTE_USER=$REMOTE_USER"
env | grep '^ORDSJWT_' | sort
"""


def write_nonce_key(directory):
    """A DPoP nonce key file (OrdsJwtDpopNonceKeyFile), root's alone:
    (its path, its bytes)."""
    path = os.path.join(directory, "dpop-nonce.key")
    key = os.urandom(32)
    with open(path, "wb") as f:
        f.write(key)
    os.chmod(path, 0o600)
    return path, key


def write_cgi(directory):
    cgi_dir = os.path.join(directory, "cgi")
    os.makedirs(cgi_dir, mode=0o755, exist_ok=True)
    os.chmod(directory, 0o755)
    script = os.path.join(cgi_dir, "env.sh")
    with open(script, "w") as f:
        f.write(CGI)
    os.chmod(script, 0o755)
    return cgi_dir
