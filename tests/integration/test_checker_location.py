# SPDX-License-Identifier: Apache-2.0
"""ordsjwt-check --location against the real server (issue 21).

One httpd (event, then prefork): a main server and a virtual host on a
second port that uses the main server's profiles with its own skew, age,
token size and privileges; static and https JWKS; a location per Require
combination. Every (location, token) pair is sent to the server and given
to the checker with the same configuration; the status and the module's
reason (the access log note ordsjwt-outcome, "-" when the module did not
judge the request) must be the same, and the checker's exit status must
say the same (0 let in, 1 refused, 2 no verdict).

The six kinds of issue 21's measurement are among the pairs:
Require ords-claim; a virtual host's location with a main-server profile;
two Require ords-scope lines; <RequireAll> with the role line first;
AuthzSendForbiddenOnFailure Off; a certificate-bound token without a
client certificate. Then what main grew beside the pipeline: an issuer
template with tenants= and keys with an issuer member (its tenant and key
issuer rules are rows of the issuer line), and a location that requires
DPoP nonces (judged with the server's OrdsJwtDpopNonceKeyFile, before
the token's parse at a location of one profile). A few pairs also have
their answer written down here, so that the server and the checker
cannot agree on a wrong one.
"""

import base64
import json
import os
import re
import subprocess
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

import dpop
import sites
from httpd_instance import Httpd, bad_lines
from jwks_server import free_port
from test_checker import CHECKER, SANITIZER
from tokens import AUDIENCE, DROP, ISSUER, Key, b64url, claims, mint, now, \
    raw_token

MPMS = ("event", "prefork")
STATIC = "https://static.example/"
ISSUER_A = "https://a.example/"
ISSUER_B = "https://b.example/"
MODULES = "/usr/lib/apache2/modules"
# an issuer template, its tenants, and its keys' issuer members
TENANT_TEMPLATE = "https://login.t.example/{tid}/v2.0"
TENANT_KEY_ISSUER = "https://login.t.example/{tenantid}/v2.0"
OTHER_CLOUD_ISSUER = "https://login.other.example/{tenantid}/v2.0"
TID_A = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TID_B = "9188040d-6c67-4c5b-b112-36a304b66dad"
TID_C = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
NONCE_KEY = b"k" * 32               # OrdsJwtDpopNonceKeyFile's bytes
# what httpd and the module log at warn or worse for refusals on purpose
ACKNOWLEDGED = ("AH01631", "AH01630", "AH01629", "ORDSJWT00009", "AH01617",
                "AH01618")
OUTCOME_LOG = "outcome.log"
ANSWER = re.compile(r"^Answer: (\d{3}) (\S+)$", re.M)


# --- the configuration ------------------------------------------------------

def authz(path, profile, *lines, extra=(), section="Location"):
    """A section with AuthType ords-jwt, profile and the lines as written
    (Require lines, containers, other directives)."""
    return sites.location(path, profile, None, extra=tuple(extra) + lines,
                          section=section)


MAIN_LOCATIONS = [
    authz("/user/", "st", "Require valid-user"),
    authz("/scope/", "st", "Require ords-scope a b"),
    authz("/role/", "st", "Require ords-role admin"),
    authz("/priv/", "st", "Require ords-privilege hr.admin"),
    authz("/claim/", "st", "Require ords-claim tier gold silver"),
    authz("/claimptr/", "st", "Require ords-claim /org/region emea"),
    # two lines in a section: mod_authz_core's <RequireAny>
    authz("/twoscopes/", "st", "Require ords-scope a", "Require ords-scope b"),
    authz("/twoscopesall/", "st", "<RequireAll>", "  Require ords-scope a",
          "  Require ords-scope b", "</RequireAll>"),
    authz("/allrole/", "st", "<RequireAll>", "  Require ords-role admin",
          "  Require ords-scope a", "</RequireAll>"),
    authz("/anyof/", "st", "<RequireAny>", "  Require ords-scope x",
          "  Require ords-role admin", "  Require ords-claim tier gold",
          "</RequireAny>"),
    authz("/none/", "st", "<RequireAll>", "  Require valid-user",
          "  <RequireNone>", "    Require ords-role blocked",
          "    Require ords-claim tier guest", "  </RequireNone>",
          "</RequireAll>"),
    authz("/not/", "st", "<RequireAll>", "  Require valid-user",
          "  Require not ords-role blocked", "  Require ords-scope a",
          "</RequireAll>"),
    authz("/off/", "st", "Require ords-scope a",
          extra=("AuthzSendForbiddenOnFailure Off",)),
    authz("/multi/", "pa pb", "Require ords-scope a"),
    authz("/https/", "hr", "Require ords-scope a"),
    authz("/typed/", "typed", "Require valid-user"),
    authz("/anon/", "st", "Require all granted",
          extra=("OrdsJwtAnonymous On",)),
    authz("/open/", "st", "Require all granted"),
    authz("/denied/", "st", "Require all denied"),
    authz("/query/", "st", "Require valid-user",
          extra=("OrdsJwtTokenFrom query=access_token",)),
    authz("/down/", "down", "Require valid-user"),
    authz("/dpop/", "dp", "Require valid-user"),
    authz("/nonce/", "dp", "Require valid-user",
          extra=("OrdsJwtDpopNonce On",)),
    authz("/tenant/", "tn", "Require ords-scope a"),
    authz("/tenantmulti/", "st tn", "Require valid-user"),
    authz("/user/deeper/", "st", "Require ords-role admin"),
    authz("/scope/and/", "st", "Require ords-role admin",
          extra=("AuthMerging And",)),
    authz("^/rx/[0-9]+/", "st", "Require ords-claim tier gold",
          section="LocationMatch"),
    "<Location /basic/>\n    AuthType Basic\n    AuthName \"ORDS\"\n"
    "    AuthBasicProvider ords-jwt\n    AuthOrdsJwtProfile st\n"
    "    Require ords-scope a\n</Location>",
]

VHOST_LOCATIONS = [
    authz("/v/user/", "st", "Require valid-user"),
    authz("/v/priv/", "st", "Require ords-privilege vh.priv"),
    authz("/v/shadow/", "st", "Require ords-privilege hr.admin"),
    authz("/v/scope/", "hr", "Require ords-scope a"),
    authz("/v/allrole/", "st", "<RequireAll>", "  Require ords-role admin",
          "  Require ords-scope a", "</RequireAll>"),
]


def tenant_keys():
    """Keys of the template's cloud and of another cloud (their issuer
    members say so)."""
    def key(kid, issuer):
        return Key(kid, "RS256", rsa.generate_private_key(65537, 2048),
                   {"issuer": issuer})
    return {"tkey": key("tkey", TENANT_KEY_ISSUER),
            "tother": key("tother", OTHER_CLOUD_ISSUER)}


def site_files(workdir, tkeys):
    """The tenant profile's JWKS and the nonce key file: their paths."""
    os.makedirs(workdir, exist_ok=True)
    jwks_path = os.path.join(workdir, "tenant-jwks.json")
    with open(jwks_path, "w") as f:
        json.dump({"keys": [k.public_jwk() for k in tkeys.values()]}, f)
    os.chmod(jwks_path, 0o644)
    key_path = os.path.join(workdir, "nonce.key")
    with open(key_path, "wb") as f:
        f.write(NONCE_KEY)
    os.chmod(key_path, 0o600)
    return jwks_path, key_path


def site_text(pki, jwks, static_jwks, vport, files):
    dead = "https://127.0.0.1:%d/jwks" % free_port()
    groups = {"role_claim_name": "/groups"}
    tenant_jwks, nonce_key = files
    main = [
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODULES,
        "LoadModule auth_basic_module %s/mod_auth_basic.so" % MODULES,
        "Listen 127.0.0.1:%d" % vport,
        'LogFormat "%{X-Case}i %>s %{ordsjwt-outcome}n" outcome',
        'CustomLog "logs/%s" outcome' % OUTCOME_LOG,
        sites.ca(pki),
        "OrdsJwtAllowedSkew 0",
        "OrdsJwtAllowedAge 0",
        sites.profile("st", STATIC, jwk_url="file://" + static_jwks, **groups),
        sites.profile("typed", STATIC, audience="typed",
                      jwk_url="file://" + static_jwks, token_type="at+jwt"),
        sites.profile("dp", STATIC, audience="dpop",
                      jwk_url="file://" + static_jwks, dpop="allowed"),
        sites.profile("hr", jwk_url=jwks.url("/jwks"), **groups),
        sites.profile("pa", ISSUER_A, jwk_url=jwks.url("/jwks"), **groups),
        sites.profile("pb", ISSUER_B, jwk_url=jwks.url("/jwks-b"), **groups),
        sites.profile("down", jwk_url=dead),
        sites.profile("tn", TENANT_TEMPLATE, audience="tenant",
                      jwk_url="file://" + tenant_jwks,
                      tenants="%s,%s" % (TID_A, TID_B)),
        "OrdsJwtPrivilege hr.admin role=admin",
        "OrdsJwtDpopNonceKeyFile " + nonce_key,
    ]
    vhost = sites.virtual_host(
        "127.0.0.1:%d" % vport,
        "OrdsJwtAllowedSkew 30",
        "OrdsJwtAllowedAge 600",
        "OrdsJwtMaxTokenSize 2048",
        "OrdsJwtPrivilege vh.priv role=vhrole",
        "OrdsJwtPrivilege hr.admin role=vhadmin",
        *VHOST_LOCATIONS, server_name="v.test")
    return sites.site(*main, *MAIN_LOCATIONS, vhost)


@pytest.fixture(scope="module", params=MPMS)
def server(request, workdir, pki, jwks, static_jwks):
    vport = free_port()
    d = os.path.join(workdir, "checker-location-" + request.param)
    srv = Httpd(d, request.param,
                site_text(pki, jwks, static_jwks, vport,
                          site_files(d + "-files", TKEYS)))
    srv.vport = vport
    srv.start()
    yield srv
    offset = srv.log_offset()
    srv.stop()
    bad = bad_lines(srv.read_log(offset), ("AH00170",))
    assert not bad, "httpd logged while stopping:\n" + "\n".join(bad)


# --- the tokens -------------------------------------------------------------

def st(keys, **over):
    """A token of the static issuer; over: claims to change."""
    over.setdefault("iss", STATIC)
    return mint(claims(**over), key=keys["static1"])


def hr(keys, **over):
    return mint(claims(**over), key=keys["rsa1"])


TKEYS = tenant_keys()


def tn(tid, key="tkey", **over):
    """A token of the template's tenant tid (DROP: no tid claim)."""
    values = {"iss": TENANT_TEMPLATE.replace("{tid}", str(tid)),
              "aud": "tenant", "tid": tid, "scope": "a"}
    values.update(over)
    return mint(claims(**values), key=TKEYS[key])


def tampered(token):
    """token with its signature's last bytes changed."""
    head, _, sig = token.rpartition(".")
    return head + "." + sig[:-6] + ("AAAAAA" if sig[-6:] != "AAAAAA"
                                    else "BBBBBB")


def tokens(keys):
    """name -> token, made now: the honest, the refused for every reason
    that can be provoked, and some refused for several at once."""
    t = now()
    attacker = keys["attacker"]
    return {
        "plain": st(keys, scope="openid", groups=["users"]),
        "scope-a": st(keys, scope="a", groups=["users"], tier="silver",
                      org={"region": "emea"}),
        "scope-b": st(keys, scope="openid b", tier="guest"),
        "admin": st(keys, scope="x", groups=["admin"], tier="gold"),
        "admin-a-b": st(keys, scope="a b", groups=["admin"]),
        "blocked": st(keys, scope="a", groups=["blocked", "admin"]),
        "privscope": st(keys, scope="hr.admin"),
        "vhroles": st(keys, scope="y", groups=["vhrole", "vhadmin"]),
        "prefixed": st(keys, scope="ords/hr/a"),
        "expired-near": st(keys, exp=t - 20, iat=t - 100, scope="a"),
        "old": st(keys, iat=t - 900, exp=t + 300, scope="a"),
        "big": st(keys, scope="a", pad="x" * 1500),
        "expired": st(keys, exp=t - 3600, iat=t - 4000),
        "nbf": st(keys, nbf=t + 3600),
        "future-iat": st(keys, iat=t + 3600),
        "no-exp": st(keys, exp=DROP),
        "no-sub": st(keys, sub=DROP),
        "bad-iat": st(keys, iat="soon"),
        "wrong-iss": st(keys, iss="https://other.example/"),
        "iss-slash": st(keys, iss=STATIC.rstrip("/")),
        "wrong-aud": st(keys, aud="ords/other/"),
        # several refusals at once: the order decides the reason
        "many": st(keys, iss="x", aud="y", sub=DROP, exp=t - 9999),
        "expired-bad-iat": st(keys, exp=t - 3600, iat="soon"),
        "old-no-sub": st(keys, iat=t - 900, sub=DROP),
        "malformed": "not-a-jwt." + b64url("x") + ".sig",
        "alg-none": raw_token({"alg": "none", "kid": "static1"},
                              claims(iss=STATIC), b""),
        "hs256": raw_token({"alg": "HS256", "kid": "static1"},
                           claims(iss=STATIC), key=b"secret"),
        "crit": raw_token({"alg": "ES256", "kid": "static1", "crit": ["exp"],
                           "exp": 1}, claims(iss=STATIC), key=keys["static1"]),
        "unknown-kid": mint(claims(iss=STATIC), key=attacker),
        "bad-sig": tampered(st(keys)),
        "typ-dpop": mint(claims(iss=STATIC), key=keys["static1"],
                         header={"typ": "dpop+jwt"}),
        "cnf-jwk": st(keys, cnf={"jwk": {"kty": "EC"}}),
        "x5t-bound": st(keys, cnf={"x5t#S256": b64url(b"\x01" * 32)}),
        "hr-a": hr(keys, scope="a"),
        "hr-none": hr(keys, scope="openid"),
        "from-a": mint(claims(iss=ISSUER_A, scope="a"), key=keys["rsa1"]),
        "from-b": mint(claims(iss=ISSUER_B, scope="b"), key=keys["rsaB"]),
        "from-c": mint(claims(iss="https://c.example/"), key=keys["rsa1"]),
        "typed": mint(claims(iss=STATIC, aud="typed"), key=keys["static1"],
                      header={"typ": "at+jwt"}),
        "tenant-a": tn(TID_A),
        "tenant-b-noscope": tn(TID_B, scope="openid"),
        "tenant-c": tn(TID_C),
        "tenant-no-tid": tn(DROP, iss=TENANT_TEMPLATE.replace("{tid}",
                                                              TID_A)),
        "tenant-bad-tid": tn("common"),
        "tenant-iss-b": tn(TID_A, iss=TENANT_TEMPLATE.replace("{tid}",
                                                              TID_B)),
        "tenant-other-cloud": tn(TID_A, key="tother"),
        # several at once: the issuer line's rows first, in their order
        "tenant-c-other-cloud": tn(TID_C, key="tother", exp=t - 3600),
        "tenant-c-expired": tn(TID_C, exp=t - 3600, aud="x"),
    }


# Which tokens go where: every token to /user/ and /v/user/, the authz
# tokens to the authz locations, the special ones where they matter.
AUTHZ_TOKENS = ("plain", "scope-a", "scope-b", "admin", "admin-a-b",
                "blocked", "privscope", "vhroles", "prefixed", "expired",
                "many")
SPECIAL = {
    "/multi/": ("from-a", "from-b", "from-c", "plain", "malformed"),
    "/https/": ("hr-a", "hr-none", "plain", "unknown-kid"),
    "/v/scope/": ("hr-a", "hr-none", "expired-near"),
    "/typed/": ("typed", "plain", "typ-dpop"),
    "/anon/": ("scope-a", "expired", "malformed"),
    "/open/": ("scope-a", "expired"),
    "/denied/": ("scope-a", "expired"),
    "/down/": ("hr-a", "malformed"),
    "/dpop/": ("plain",),
    "/user/deeper/": ("admin", "plain"),
    "/scope/and/": ("admin-a-b", "admin", "scope-a"),
    "/rx/12/x": ("admin", "plain"),
    "/rx/x/": ("admin", "plain"),
    "/tenant/": ("tenant-a", "tenant-b-noscope", "tenant-c", "tenant-no-tid",
                 "tenant-bad-tid", "tenant-iss-b", "tenant-other-cloud",
                 "tenant-c-other-cloud", "tenant-c-expired", "plain"),
    "/tenantmulti/": ("tenant-a", "tenant-c", "plain", "tenant-other-cloud",
                      "from-c"),
}


def pairs(toks):
    """(path, token name, how it is sent) for every pair."""
    out = []
    for path in ("/user/", "/v/user/"):
        out += [(path, name, "bearer") for name in toks
                if name not in ("typed",)]
    for path in ("/scope/", "/role/", "/priv/", "/claim/", "/claimptr/",
                 "/twoscopes/", "/twoscopesall/", "/allrole/", "/anyof/",
                 "/none/", "/not/", "/off/", "/v/priv/", "/v/shadow/",
                 "/v/allrole/", "/basic/"):
        out += [(path, name, "basic" if path == "/basic/" else "bearer")
                for name in AUTHZ_TOKENS]
    for path, names in SPECIAL.items():
        out += [(path, name, "bearer") for name in names]
    out += [("/query/", "scope-a", "query"), ("/query/", "expired", "query"),
            ("/query/", "scope-a", "bearer"), ("/basic/", "scope-a",
                                               "basic-user")]
    return out


# --- the two answers --------------------------------------------------------

def send(srv, case_id, path, token, how, proof=None):
    """The request of one pair; its X-Case header finds its log line."""
    port = srv.vport if path.startswith("/v/") else srv.port
    url = "http://127.0.0.1:%d%s" % (port, path)
    headers = {"Connection": "close", "X-Case": str(case_id)}
    if how == "query":
        url += "?access_token=" + token
    elif how in ("basic", "basic-user"):
        user = "mallory" if how == "basic-user" else ""
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, token)).encode()).decode()
    elif how == "dpop":
        headers["Authorization"] = "DPoP " + token
        headers["DPoP"] = proof
    else:
        headers["Authorization"] = "Bearer " + token
    return requests.get(url, headers=headers, timeout=30,
                        allow_redirects=False).status_code


def checker_input(token, how):
    if how in ("basic", "basic-user"):
        user = "mallory" if how == "basic-user" else ""
        return "Basic " + base64.b64encode(
            ("%s:%s" % (user, token)).encode()).decode()
    return token if how in ("query", "dpop") else "Bearer " + token


def check(srv, path, token, how, at, *more):
    args = [CHECKER, "--config", srv.conf, "--location", path, "--now",
            str(at)]
    if path.startswith("/v/"):
        args += ["--vhost", "127.0.0.1:%d" % srv.vport]
    proc = subprocess.run(args + list(more) + [checker_input(token, how)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    assert not SANITIZER.search(proc.stderr), proc.stderr
    m = ANSWER.search(proc.stdout)
    return proc, (int(m.group(1)), m.group(2)) if m else None


def outcomes(srv, n, timeout=10):
    """{case id: (status, outcome)} of the n requests, from the log the
    module's notes are written to (after each response went out)."""
    path = os.path.join(srv.dir, "logs", OUTCOME_LOG)
    deadline = time.time() + timeout
    while True:
        found = {}
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 3 and parts[0].isdigit():
                        found[int(parts[0])] = (int(parts[1]), parts[2])
        if len(found) >= n or time.time() > deadline:
            return found
        time.sleep(0.1)


def exit_for(answer, proc):
    status = answer[0]
    if status == 200:
        return 0
    if status >= 500 or "client_cert_missing" in answer[1]:
        return 2
    return 1


# Answers written down: the server and the checker must both give them.
KNOWN = {
    ("/allrole/", "plain"): (403, "role_missing"),
    ("/allrole/", "scope-a"): (403, "role_missing"),    # role line first
    ("/allrole/", "admin"): (403, "scope_missing"),
    ("/twoscopes/", "scope-b"): (200, "accepted"),      # any one line
    ("/twoscopesall/", "scope-b"): (403, "scope_missing"),
    ("/twoscopesall/", "admin-a-b"): (200, "accepted"),
    ("/off/", "plain"): (401, "scope_missing"),
    ("/claim/", "admin"): (200, "accepted"),
    ("/claim/", "plain"): (403, "claim_mismatch"),
    ("/claimptr/", "scope-a"): (200, "accepted"),
    ("/v/priv/", "vhroles"): (200, "accepted"),
    ("/priv/", "vhroles"): (403, "scope_missing"),
    ("/v/shadow/", "admin"): (403, "scope_missing"),    # the vhost's own
    ("/v/shadow/", "vhroles"): (200, "accepted"),
    ("/priv/", "admin"): (200, "accepted"),
    ("/user/", "expired-near"): (401, "expired"),
    ("/v/user/", "expired-near"): (200, "accepted"),    # the vhost's skew
    ("/user/", "old"): (200, "accepted"),
    ("/v/user/", "old"): (401, "too_old"),              # the vhost's age
    ("/user/", "big"): (200, "accepted"),
    ("/v/user/", "big"): (401, "too_large"),            # the vhost's size
    ("/user/", "x5t-bound"): (401, "client_cert_missing"),
    ("/user/", "many"): (401, "issuer_mismatch"),
    ("/user/", "expired-bad-iat"): (401, "iat_missing"),
    ("/none/", "blocked"): (403, "accepted"),
    ("/not/", "blocked"): (403, "accepted"),
    ("/anon/", "expired"): (401, "expired"),
    ("/open/", "expired"): (200, "-"),
    ("/denied/", "scope-a"): (403, "-"),
    ("/query/", "scope-a", "query"): (200, "accepted"),
    ("/query/", "scope-a", "bearer"): (401, "token_missing"),
    ("/basic/", "scope-a", "basic-user"): (401, "-"),   # user_mismatch
    ("/down/", "hr-a"): (503, "keys_unavailable"),
    ("/scope/and/", "admin"): (403, "scope_missing"),
    ("/scope/and/", "admin-a-b"): (200, "accepted"),
    ("/rx/12/x", "plain"): (403, "claim_mismatch"),
    ("/tenant/", "tenant-a"): (200, "accepted"),
    ("/tenant/", "tenant-b-noscope"): (403, "scope_missing"),
    ("/tenant/", "tenant-c"): (401, "tenant_not_allowed"),
    ("/tenant/", "tenant-no-tid"): (401, "tenant_id_invalid"),
    ("/tenant/", "tenant-bad-tid"): (401, "tenant_id_invalid"),
    ("/tenant/", "tenant-iss-b"): (401, "issuer_mismatch"),
    ("/tenant/", "tenant-other-cloud"): (401, "key_issuer_mismatch"),
    ("/tenant/", "tenant-c-other-cloud"): (401, "key_issuer_mismatch"),
    ("/tenant/", "tenant-c-expired"): (401, "tenant_not_allowed"),
    ("/tenantmulti/", "tenant-a"): (200, "accepted"),
    ("/tenantmulti/", "plain"): (200, "accepted"),
    ("/tenantmulti/", "tenant-c"): (401, "tenant_not_allowed"),
}

# The nonce pairs in their order (dpop-3 ...): the server's answers.
NONCE_KNOWN = {
    "dpop-3": (401, "dpop_nonce_required"),
    "dpop-4": (200, "accepted"),
    "dpop-5": (401, "dpop_nonce_required"),
    "dpop-6": (401, "dpop_nonce_required"),
    "dpop-7": (401, "dpop_nonce_required"),
    "dpop-8": (401, "dpop_nonce_required"),
    "dpop-9": (401, "expired"),
}

# Paths no <Location> matches: the <Directory> sections of the test
# server (not read by the checker) decide, so the checker cannot know.
UNKNOWN = ("/rx/x/",)

# every reason a (location, token) pair here provokes, at least once
PROVOKED = {
    "accepted", "-", "malformed", "too_large",
    "alg_not_allowed", "crit_unsupported", "kid_unknown", "signature_invalid",
    "expired", "not_yet_valid", "issued_in_future", "too_old", "exp_missing",
    "iat_missing", "issuer_mismatch", "audience_mismatch", "subject_missing",
    "token_type", "binding_refused", "client_cert_missing", "token_missing",
    "scope_missing", "role_missing", "claim_mismatch", "keys_unavailable",
    "dpop_proof_invalid", "tenant_not_allowed", "tenant_id_invalid",
    "key_issuer_mismatch", "dpop_nonce_required",
}


def dpop_pairs(srv, keys, pk):
    """DPoP: an honest proof, one for another URL, a bound token sent as
    Bearer; (path, token, how, proof, checker options)."""
    bound = dpop.bound_token(keys["static1"], pk["es"], iss=STATIC,
                             aud="dpop")
    url = srv.url("/dpop/")
    good = dpop.proof(pk["es"], "GET", url, bound)
    other = dpop.proof(pk["es"], "GET", srv.url("/elsewhere/"), bound)
    out = [("/dpop/", bound, "dpop", good, ["--dpop", good, "--url", url]),
           ("/dpop/", bound, "dpop", other, ["--dpop", other, "--url", url]),
           ("/dpop/", bound, "bearer", None, [])]
    return out + nonce_pairs(srv, keys, pk, bound)


def nonce_pairs(srv, keys, pk, bound):
    """OrdsJwtDpopNonce On: no nonce, a good one, a stale one, a forged
    one; a token that does not parse and an expired one without a nonce
    (the nonce is judged first at a location of one profile)."""
    url, t = srv.url("/nonce/"), now()
    expired = dpop.bound_token(keys["static1"], pk["es"], iss=STATIC,
                               aud="dpop", exp=t - 3600)
    out = []
    for token, nonce_ in ((bound, None), (bound, dpop.nonce(NONCE_KEY, t)),
                          (bound, dpop.nonce(NONCE_KEY, t - 1000)),
                          (bound, dpop.nonce(b"x" * 32, t)),
                          ("not-a-token", None), (expired, None),
                          (expired, dpop.nonce(NONCE_KEY, t))):
        over = {"nonce": nonce_} if nonce_ is not None else {}
        p = dpop.proof(pk["es"], "GET", url, token, **over)
        out.append(("/nonce/", token, "dpop", p, ["--dpop", p, "--url", url]))
    return out


def test_checker_answers_as_the_server(server, keys):
    pk = dpop.proof_keys()
    toks = tokens(keys)
    cases = [(path, name, toks[name], how, None, [])
             for path, name, how in pairs(toks)]
    cases += [(path, "dpop-%d" % i, tok, how, proof, more)
              for i, (path, tok, how, proof, more)
              in enumerate(dpop_pairs(server, keys, pk))]
    offset = server.log_offset()
    sent = []
    for i, (path, name, token, how, proof, more) in enumerate(cases):
        at = now()
        status = send(server, i, path, token, how, proof)
        sent.append((i, path, name, token, how, more, at, status))
    logged = outcomes(server, len(cases))
    differ, seen = [], set()
    for i, path, name, token, how, more, at, status in sent:
        srv = logged.get(i, (status, "(not logged)"))
        assert srv[0] == status, (path, name, srv, status)
        proc, tool = check(server, path, token, how, at, *more)
        seen.add(srv[1])
        if path in UNKNOWN:     # no <Location>: the <Directory> lines decide
            assert tool is None and proc.returncode == 2, proc.stdout
            assert "Answer: unknown" in proc.stdout and "<Directory" \
                in proc.stdout, proc.stdout
            continue
        if tool != srv or proc.returncode != exit_for(srv, proc):
            differ.append("%s %s (%s): server %s, checker %s exit %d\n%s%s"
                          % (path, name, how, srv, tool, proc.returncode,
                             proc.stdout[-800:], proc.stderr[-400:]))
        want = KNOWN.get((path, name, how), KNOWN.get((path, name))
                         if how == "bearer" else None)
        want = NONCE_KNOWN.get(name, want) if path == "/nonce/" else want
        assert want is None or srv == want, (path, name, how, srv, want)
    assert not differ, "%d of %d pairs differ:\n%s" % (
        len(differ), len(sent), "\n".join(differ))
    assert len(sent) >= 250, len(sent)
    assert PROVOKED <= seen, PROVOKED - seen
    bad = bad_lines(server.read_log(offset), ACKNOWLEDGED)
    assert not bad, "\n".join(bad)


# --- what the checker cannot know --------------------------------------------

def write(path, text):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def run_checker(*args):
    proc = subprocess.run([CHECKER] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    assert not SANITIZER.search(proc.stderr), proc.stderr
    return proc


def test_other_modules_lines_are_not_evaluated(workdir, static_jwks, keys):
    """A Require ip beside an ords-* line: httpd's answer depends on the
    client; the checker says which way it would have to go and exits 2,
    unless the answer is the same either way."""
    conf = write(os.path.join(workdir, "checker-unknown", "httpd.conf"),
                 "Listen 127.0.0.1:8080\n"
                 + sites.profile("st", STATIC, jwk_url="file://" + static_jwks)
                 + "\n" + authz("/either/", "st", "Require ip 10.0.0.0/8",
                                "Require ords-scope a") + "\n"
                 + authz("/both/", "st", "<RequireAll>",
                         "  Require ip 10.0.0.0/8", "  Require ords-scope a",
                         "</RequireAll>") + "\n"
                 + authz("/granted/", "st", "Require ip 10.0.0.0/8",
                         "Require all granted") + "\n")
    lacking = st(keys, scope="b")
    run = run_checker("--config", conf, "--location", "/either/", lacking)
    assert run.returncode == 2 and "Answer: unknown" in run.stdout, run.stdout
    assert "? Require ip 10.0.0.0/8" in run.stdout, run.stdout
    assert "grants: 200 (-)" in run.stdout, run.stdout
    assert "denies: 403 (scope_missing)" in run.stdout, run.stdout
    # the status is 403 either way, but not the reason: httpd refuses
    # before the token when ip denies
    run = run_checker("--config", conf, "--location", "/both/", lacking)
    assert run.returncode == 2 and "denies: 403 (-)" in run.stdout \
        and "grants: 403 (scope_missing)" in run.stdout, run.stdout
    # the same answer every way: known
    run = run_checker("--config", conf, "--location", "/granted/", lacking)
    assert run.returncode == 0 and "Answer: 200 -" in run.stdout, run.stdout


def test_profile_with_vhost_settings(server, keys):
    """--profile with --vhost: the virtual host's settings and privileges
    (issue 21: the checker used the profile's server's, and refused the
    virtual host's privilege)."""
    token = st(keys, scope="y", groups=["vhrole"], exp=now() - 20)
    base = [CHECKER, "--config", server.conf, "--profile", "st"]
    run = subprocess.run(base + ["--vhost", "127.0.0.1:%d" % server.vport,
                                 "--privilege", "vh.priv", token],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60)
    assert run.returncode == 0 and "Answer: 200 accepted" in run.stdout, \
        run.stdout + run.stderr
    run = subprocess.run(base + [token], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert run.returncode == 1 and "Answer: 401 expired" in run.stdout, \
        run.stdout + run.stderr


def test_configuration_errors_as_httpd(workdir, static_jwks):
    """What httpd refuses to start with, the checker refuses (exit 2)."""
    prof = sites.profile("st", STATIC, jwk_url="file://" + static_jwks)
    for lines, message in (
            (("Require not ords-scope a",), "negative Require directive has "
             "no effect in <RequireAny> directive"),
            (("<RequireAll>", "  Require not ords-scope a", "</RequireAll>"),
             "only negative authorization directives"),
            (("Require ords-privilege nope",), 'no OrdsJwtPrivilege named '
             '"nope" is defined before this line'),
            (("Require ords-claim tier",), "needs a claim name and at least "
             "one value")):
        conf = write(os.path.join(workdir, "checker-errors", "httpd.conf"),
                     prof + "\n" + authz("/x/", "st", *lines) + "\n")
        run = subprocess.run([CHECKER, "--config", conf, "--location", "/x/",
                              "a.b.c"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert conf + ":" in run.stderr, run.stderr
