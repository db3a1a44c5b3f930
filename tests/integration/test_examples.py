# SPDX-License-Identifier: Apache-2.0
"""The ready-made configurations in conf-examples/.

Each file gets its placeholders replaced by loopback values (JWK URLs on the
test JWKS server, the backend on a loopback echo server, key files in the
test directory, the just-built module) and must pass `apache2 -t` without a
word of warning. reverse-proxy-to-ords.conf and static-keys.conf are also
started and exercised; conf-examples/debian/ is enabled with a2enmod in a
scratch /etc/apache2.

Every directive the examples use exists: a file that names a lost one fails
its configtest, nothing is skipped for it.
"""

import glob
import json
import os
import re
import shutil
import subprocess

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import EchoBackend, assert_challenge
from httpd_instance import APACHE2, MODULES_DIR, REPO, Httpd, _httpd_env, bad_lines
from jwks_server import free_port
from tokens import Key, claims, mint

EXAMPLES = os.path.join(REPO, "conf-examples")
OCI_ISSUER = "https://identity.oraclecloud.com/"
OCI_JWK_PATH = "/idcs-0123456789abcdef.identity.oraclecloud.com/admin/v1/SigningCert/jwk"
BACKEND_PLACEHOLDER = "10.0.0.10:8080"
# mtls-bound.conf: the server's certificate and key
TLS_PLACEHOLDERS = ("/etc/ssl/certs/api.example.com.pem",
                    "/etc/ssl/private/api.example.com.key")
KEY_DIR_PLACEHOLDER = "/etc/apache2/ordsjwt/"
DEBIAN_MODULE = "/usr/lib/apache2/modules/mod_auth_ordsjwt.so"
LOAD_LINE = re.compile(r"^\s*LoadModule\s+auth_ordsjwt_module\s", re.M)


def example_files():
    """Every configuration file in conf-examples/ but the demo's (a whole
    server config, tested by demo/demo.sh) and debian/ (tested below)."""
    out = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "**", "*.conf"), recursive=True)):
        rel = os.path.relpath(path, EXAMPLES)
        if rel != "demo.conf" and not rel.startswith("debian" + os.sep):
            out.append(rel)
    return out


# --- an httpd around one example ---------------------------------------------

class ExampleHttpd(Httpd):
    """The harness's httpd; without its own LoadModule of the module when the
    example loads it itself."""

    def __init__(self, *args, loads_itself=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.loads_itself = loads_itself

    def write_config(self):
        text = super().write_config()
        if self.loads_itself:
            text = text.replace("LoadModule auth_ordsjwt_module %s\n" % self.module, "")
            with open(self.conf, "w") as f:
                f.write(text)
        return text


@pytest.fixture(scope="module")
def example_jwks(jwks, keys):
    """The test JWKS server also answers for every example's JWK URL host:
    https://HOST/PATH becomes https://127.0.0.1:PORT/HOST/PATH."""
    jwks.publish(OCI_JWK_PATH, keys.jwks("rsa1", "ec1"))
    return jwks


def localize(text, directory, jwks, backend_port=None, pki=None):
    """The example with its placeholders replaced by loopback values."""
    if pki:
        text = text.replace(TLS_PLACEHOLDERS[0], pki["cert"])
        text = text.replace(TLS_PLACEHOLDERS[1], pki["key"])
    text = re.sub(r"jwk_url=https://([^/\s]+)(/\S*)",
                  lambda m: "jwk_url=" + jwks.url("/" + m.group(1) + m.group(2)), text)
    text = text.replace(KEY_DIR_PLACEHOLDER, os.path.join(directory, "ordsjwt") + "/")
    text = text.replace(BACKEND_PLACEHOLDER, "127.0.0.1:%d" % (backend_port or 9))
    module = os.environ.get("ORDSJWT_MODULE") or \
        os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so")
    text = text.replace(DEBIAN_MODULE, module)
    assert "10.0.0.10" not in text
    for url in re.findall(r"jwk_url=(\S+)", text):
        assert url.startswith(("https://127.0.0.1:", "file://" + directory)), url
    return text


def wrap(rel, text, directory, pki, extra=""):
    """An ExampleHttpd whose site is the (localized) example, written next to
    its config so that apache2 -t names the file and line of a mistake."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    os.chmod(directory, 0o755)
    path = os.path.join(directory, os.path.basename(rel))
    with open(path, "w") as f:
        f.write(text)
    site = "OrdsJwtCACertificateFile %s\n" % pki["ca"]
    if "ProxyPass" in text and not re.search(r"LoadModule\s+proxy_module", text):
        site += ("LoadModule proxy_module {m}/mod_proxy.so\n"
                 "LoadModule proxy_http_module {m}/mod_proxy_http.so\n").format(m=MODULES_DIR)
    if "Require local" in text:
        site += "LoadModule authz_host_module %s/mod_authz_host.so\n" % MODULES_DIR
    if "${PRODUCT_HOME}" in text:
        site += "Define PRODUCT_HOME %s\n" % fake_ohs_home(directory)
    site += extra + "Include %s\n" % path
    return ExampleHttpd(directory, "event", site, loads_itself=bool(LOAD_LINE.search(text)))


def fake_ohs_home(directory):
    """$ORACLE_HOME/ohs of a pretend OHS: modules/ holds Debian's modules
    and the just-built one."""
    home = os.path.join(directory, "oracle_home", "ohs")
    mods = os.path.join(home, "modules")
    os.makedirs(mods, exist_ok=True)
    for so in glob.glob(os.path.join(MODULES_DIR, "*.so")):
        link = os.path.join(mods, os.path.basename(so))
        if not os.path.lexists(link):
            os.symlink(so, link)
    built = os.environ.get("ORDSJWT_MODULE") or \
        os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so")
    link = os.path.join(mods, "mod_auth_ordsjwt.so")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(built, link)
    return home


def assert_clean_configtest(httpd):
    """apache2 -t says "Syntax OK" and nothing else but, at info, what a
    DPoP replay store holds (ORDSJWT00087)."""
    rc, out = httpd.configtest()
    rest = [line for line in out.strip().splitlines()
            if not re.search(r"\[auth_ordsjwt:info\] .*ORDSJWT00087:", line)]
    assert rc == 0 and rest == ["Syntax OK"], out
    return out


# --- every example passes apache2 -t ----------------------------------------

@pytest.mark.parametrize("rel", example_files())
def test_example_passes_configtest(rel, workdir, pki, example_jwks):
    with open(os.path.join(EXAMPLES, rel)) as f:
        text = f.read()
    d = os.path.join(workdir, "example-" + rel.replace(os.sep, "-"))
    os.makedirs(os.path.join(d, "ordsjwt"), mode=0o755, exist_ok=True)
    if KEY_DIR_PLACEHOLDER in text:
        write_static_keys(d, None)
    assert_clean_configtest(wrap(rel, localize(text, d, example_jwks, pki=pki),
                                 d, pki))


PLACEHOLDERS = ("idcs-0123456789abcdef", "00000000-0000-0000-0000-000000000000",
                "11111111-1111-1111-1111-111111111111", "keycloak.example.com",
                BACKEND_PLACEHOLDER, KEY_DIR_PLACEHOLDER, "auth.partner.example",
                "api.example.com", "redis.internal.example")


@pytest.mark.parametrize("rel", example_files())
def test_example_lists_its_placeholders(rel):
    """The placeholders a file uses are listed in its opening comment."""
    with open(os.path.join(EXAMPLES, rel)) as f:
        lines = f.read().splitlines()
    head = []
    for line in lines:
        if not line.startswith("#"):
            break
        head.append(line)
    head = "\n".join(head)
    body = "\n".join(l for l in lines if not l.lstrip().startswith("#"))
    assert "Placeholders" in head, rel
    for placeholder in PLACEHOLDERS:
        if placeholder in body:
            assert placeholder in head, (rel, placeholder)


def test_demo_conf_passes_configtest(workdir, pki, jwks):
    d = os.path.join(workdir, "example-demo")
    os.makedirs(os.path.join(d, "htdocs"), mode=0o755, exist_ok=True)
    with open(os.path.join(EXAMPLES, "demo.conf")) as f:
        text = f.read()
    module = os.environ.get("ORDSJWT_MODULE") or \
        os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so")
    for key, value in (("@WORKDIR@", d), ("@PORT@", str(free_port())),
                       ("@MODULES_DIR@", MODULES_DIR), ("@MODULE@", module),
                       ("@CA_FILE@", pki["ca"]), ("@ISSUER@", "https://issuer.example/"),
                       ("@JWK_URL@", jwks.url("/jwks"))):
        text = text.replace(key, value)
    assert "@" not in re.sub(r"#.*", "", text)
    conf = os.path.join(d, "httpd.conf")
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run([APACHE2, "-t", "-f", conf], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60,
                       env=_httpd_env(module))
    assert r.returncode == 0 and r.stdout.strip() == "Syntax OK", r.stdout


# --- debian/: a2enmod auth_ordsjwt -------------------------------------------

def test_debian_files_enable_with_a2enmod(workdir, pki):
    a2enmod = shutil.which("a2enmod") or "/usr/sbin/a2enmod"
    if not os.path.exists(a2enmod):
        pytest.skip("no a2enmod")
    d = os.path.join(workdir, "example-debian")
    confdir = os.path.join(d, "apache2")
    avail = os.path.join(confdir, "mods-available")
    os.makedirs(avail, exist_ok=True)
    os.makedirs(os.path.join(confdir, "mods-enabled"), exist_ok=True)
    open(os.path.join(confdir, "envvars"), "w").close()
    for dep in ("authn_core", "authz_core"):
        shutil.copy("/etc/apache2/mods-available/%s.load" % dep, avail)
    with open(os.path.join(EXAMPLES, "debian", "auth_ordsjwt.load")) as f:
        load = f.read()
    assert DEBIAN_MODULE in load
    with open(os.path.join(avail, "auth_ordsjwt.load"), "w") as f:
        f.write(localize(load, d, None))
    shutil.copy(os.path.join(EXAMPLES, "debian", "auth_ordsjwt.conf"), avail)

    env = dict(os.environ, APACHE_CONFDIR=confdir,
               APACHE_ENVVARS=os.path.join(confdir, "envvars"),
               APACHE_STATE_DIRECTORY=os.path.join(d, "state"))
    r = subprocess.run([a2enmod, "auth_ordsjwt"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout
    enabled = sorted(os.listdir(os.path.join(confdir, "mods-enabled")))
    assert enabled == ["auth_ordsjwt.conf", "auth_ordsjwt.load",
                       "authn_core.load", "authz_core.load"], (enabled, r.stdout)

    # what apache2.conf includes from mods-enabled (authn_core and authz_core
    # are loaded by the harness already)
    site = ("OrdsJwtCACertificateFile %s\nInclude %s/mods-enabled/auth_ordsjwt.load\n"
            "Include %s/mods-enabled/auth_ordsjwt.conf\n" % (pki["ca"], confdir, confdir))
    assert_clean_configtest(ExampleHttpd(d, "event", site, loads_itself=True))


# --- static-keys.conf, end to end --------------------------------------------

def write_static_keys(directory, keys):
    """The files static-keys.conf (and dpop-fleet-redis.conf) name, in
    directory/ordsjwt/. Without keys,
    throwaway ones (enough for apache2 -t)."""
    kd = os.path.join(directory, "ordsjwt")
    os.makedirs(kd, mode=0o755, exist_ok=True)
    if keys is None:
        jwks_doc = {"keys": [Key("k", "ES256", ec.generate_private_key(
            ec.SECP256R1())).public_jwk()]}
        pem = Key("p", "ES256", ec.generate_private_key(ec.SECP256R1())).public_pem()
    else:
        jwks_doc = keys.jwks("static1")
        pem = keys["ec1"].public_pem()
    with open(os.path.join(kd, "partners-jwks.json"), "w") as f:
        json.dump(jwks_doc, f)
    with open(os.path.join(kd, "gateway-signing.pem"), "wb") as f:
        f.write(pem)
    for name in ("partners-jwks.json", "gateway-signing.pem"):
        os.chmod(os.path.join(kd, name), 0o644)
    # dpop-fleet-redis.conf: the fleet's DPoP nonce key, root's alone
    with open(os.path.join(kd, "dpop-nonce.key"), "wb") as f:
        f.write(os.urandom(32))
    os.chmod(os.path.join(kd, "dpop-nonce.key"), 0o600)


def started(httpd):
    httpd.start()
    return httpd


def stop_and_check_log(httpd):
    """Nothing at warn or worse but httpd's own line for a 403 (AH01631)."""
    httpd.stop()
    bad = bad_lines(httpd.read_log(0), ("AH00170", "AH01631"))
    assert not bad, "httpd logged:\n" + "\n".join(bad)


@pytest.fixture(scope="module")
def static_httpd(workdir, pki, keys, example_jwks):
    with open(os.path.join(EXAMPLES, "static-keys.conf")) as f:
        text = f.read()
    d = os.path.join(workdir, "example-static-e2e")
    write_static_keys(d, keys)
    httpd = started(wrap("static-keys.conf", localize(text, d, example_jwks), d, pki))
    yield httpd
    stop_and_check_log(httpd)


def get(httpd, path, token=None, headers=None):
    h = {"Connection": "close"}
    h.update(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    return requests.get(httpd.url(path), headers=h, timeout=30, allow_redirects=False)


def assert_401(resp, realm, invalid=True):
    assert_challenge(resp, "invalid_token" if invalid else None, realm=realm)


def partner_claims(scope):
    return claims(iss="https://auth.partner.example/", aud="https://api.example.com/",
                  scope=scope)


def test_static_keys_jwks_file(static_httpd, keys):
    good = mint(partner_claims("partners.read"), key=keys["static1"])
    r = get(static_httpd, "/api/partners/orders", good)
    assert r.status_code == 200 and r.headers.get("X-Remote-User") == "alice", r.headers
    # the right kid, another key
    forged = Key("static1", "ES256", ec.generate_private_key(ec.SECP256R1()))
    assert_401(get(static_httpd, "/api/partners/orders",
                   mint(partner_claims("partners.read"), key=forged)), "Partner API")
    # a key that the issuer does have, but not in this file
    assert_401(get(static_httpd, "/api/partners/orders",
                   mint(partner_claims("partners.read"), key=keys["rsa1"])), "Partner API")
    assert_401(get(static_httpd, "/api/partners/orders"), "Partner API", invalid=False)
    r = get(static_httpd, "/api/partners/orders",
            mint(partner_claims("other.read"), key=keys["static1"]))
    assert_challenge(r, "insufficient_scope", realm="Partner API",
                     scope="partners.read")


def test_static_keys_pem_file(static_httpd, keys):
    signer = Key("gateway-2026", "ES256", keys["ec1"].private)
    good = mint(partner_claims("gateway.read"), key=signer)
    r = get(static_httpd, "/api/gateway/x", good)
    assert r.status_code == 200 and r.headers.get("X-Remote-User") == "alice", r.headers
    wrong_key = Key("gateway-2026", "ES256", keys["static1"].private)
    assert_401(get(static_httpd, "/api/gateway/x",
                   mint(partner_claims("gateway.read"), key=wrong_key)), "Partner API")
    # pem_kid: the right key under another kid is refused
    other_kid = Key("gateway-2025", "ES256", keys["ec1"].private)
    assert_401(get(static_httpd, "/api/gateway/x",
                   mint(partner_claims("gateway.read"), key=other_kid)), "Partner API")


# --- reverse-proxy-to-ords.conf, end to end ----------------------------------

@pytest.fixture(scope="module")
def backend():
    b = EchoBackend()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def proxy_httpd(workdir, pki, example_jwks, backend):
    """reverse-proxy-to-ords.conf in front of the echo backend."""
    with open(os.path.join(EXAMPLES, "reverse-proxy-to-ords.conf")) as f:
        text = f.read()
    d = os.path.join(workdir, "example-proxy-e2e")
    httpd = started(wrap("reverse-proxy-to-ords.conf",
                         localize(text, d, example_jwks, backend.port), d, pki))
    yield httpd
    stop_and_check_log(httpd)


def oci_token(keys, scope="openid hr.employees.read", key="rsa1", **over):
    return mint(claims(iss=OCI_ISSUER, aud="ords/hr/", scope=scope, **over), key=keys[key])


def backend_headers(resp):
    """The headers the backend got: {lower-case name: [values]}."""
    out = {}
    for name, value in resp.json()["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


REALM = "Oracle REST Data Services"


def test_proxy_valid_token_reaches_backend(proxy_httpd, backend, keys):
    token = oci_token(keys)
    r = get(proxy_httpd, "/ords/hr/employees/?q=1", token)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.json()["path"] == "/ords/hr/employees/?q=1"
    got = backend_headers(r)
    assert got["x-remote-user"] == ["alice"]
    assert got["authorization"] == ["Bearer " + token]
    assert got["x-ordsjwt-claim-sub"] == ["alice"], got
    assert got["x-ordsjwt-claim-iss"] == [OCI_ISSUER], got
    assert got["x-ordsjwt-profile"] == ["hr"], got
    assert got["x-ordsjwt-scopes"][0].split() == ["openid", "hr.employees.read"], got


def test_proxy_refusals_never_reach_backend(proxy_httpd, backend, keys):
    before = backend.count
    assert_401(get(proxy_httpd, "/ords/hr/employees/"), REALM, invalid=False)
    assert_401(get(proxy_httpd, "/ords/hr/employees/", "not.a.token"), REALM)
    assert_401(get(proxy_httpd, "/ords/hr/employees/", oci_token(keys, key="attacker")),
               REALM)
    assert_401(get(proxy_httpd, "/ords/hr/employees/",
                   mint(claims(aud="ords/hr/", scope="hr.employees.read"),
                        key=keys["rsa1"])), REALM)      # another issuer
    assert_403(get(proxy_httpd, "/ords/hr/employees/", oci_token(keys, scope="hr.other")),
               "hr.employees.read")
    assert backend.count == before


def test_proxy_spoofed_identity_headers_dropped(proxy_httpd, backend, keys):
    spoof = {"X-OrdsJwt-Claim-Sub": "mallory", "x-ordsjwt-roles": "admin",
             "X-ORDSJWT-SCOPES": "hr.admin", "X_OrdsJwt_Profile": "evil",
             "X-OrdsJwt-Claim-Groups": "admin", "X-Remote-User": "mallory"}
    r = get(proxy_httpd, "/ords/hr/employees/", oci_token(keys), headers=spoof)
    assert r.status_code == 200, r.status_code
    got = backend_headers(r)
    for name, values in got.items():
        if name.replace("_", "-").startswith("x-ordsjwt-") or name == "x-remote-user":
            for value in values:
                assert value not in ("mallory", "admin", "hr.admin", "evil"), (name, got)
    assert got["x-ordsjwt-claim-sub"] == ["alice"], got


# --- the OCI IAM walk-throughs of README.md "Deploy", end to end -------------

@pytest.fixture(scope="module", params=["oci-iam-scope.conf", "oci-iam-rbac.conf"])
def oci_httpd(request, workdir, pki, example_jwks):
    rel = request.param
    with open(os.path.join(EXAMPLES, rel)) as f:
        text = f.read()
    d = os.path.join(workdir, "example-e2e-" + rel[:-5])
    httpd = started(wrap(rel, localize(text, d, example_jwks), d, pki))
    httpd.example = rel
    yield httpd
    stop_and_check_log(httpd)


def assert_403(resp, privilege):
    assert_challenge(resp, "insufficient_scope", realm=REALM, scope=privilege)


def test_oci_deploy_walkthrough(oci_httpd, keys):
    if oci_httpd.example == "oci-iam-scope.conf":
        # client credentials token for ords/hr/hr.employees
        token = oci_token(keys, scope="hr.employees")
        assert get(oci_httpd, "/ords/hr/employees/", token).status_code == 200
        assert_403(get(oci_httpd, "/ords/hr/payroll/", token), "hr.payroll.approve")
        both = oci_token(keys, scope="hr.employees hr.payroll.approve")
        assert get(oci_httpd, "/ords/hr/payroll/", both).status_code == 200
    else:
        # a user token for ords/hr/hr.access with the iam_group custom claim
        reader = oci_token(keys, scope="hr.access", iam_group=["HR_READERS"])
        assert get(oci_httpd, "/ords/hr/employees/", reader).status_code == 200
        assert_403(get(oci_httpd, "/ords/hr/admin/", reader), "hr.admin")
        admin = oci_token(keys, scope="hr.access", iam_group=["HR_READERS", "HR_ADMINS"])
        assert get(oci_httpd, "/ords/hr/admin/", admin).status_code == 200
        nobody = oci_token(keys, scope="hr.access")
        assert_403(get(oci_httpd, "/ords/hr/employees/", nobody), "hr.employees")
    assert_401(get(oci_httpd, "/ords/hr/employees/"), REALM, invalid=False)
