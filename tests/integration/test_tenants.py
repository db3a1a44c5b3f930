# SPDX-License-Identifier: Apache-2.0
"""Multi-tenant issuers and many issuers on one <Location> (issue 22,
parts 2 and 3).

An Entra ID-like multi-tenant profile: issuer
https://login.microsoftonline.com/{tid}/v2.0, the keys of one JWKS whose
keys carry an issuer member in Entra's spelling ({tenantid}), tenants=
inline or from a file. One <Location> listing 1,000 profiles (static keys)
and the template: the token's iss picks, first and last alike.

Its own httpd per MPM, with the conftest's HTTPS JWKS server.
"""

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import sites
from helpers import Client, assert_invalid_token, assert_ok
from httpd_instance import Httpd, bad_lines
from test_checker import REFUSED, check
from tokens import DROP, Key, claims, mint

CLOUD = "https://login.microsoftonline.com/"
TEMPLATE = CLOUD + "{tid}/v2.0"
KEY_ISSUER = CLOUD + "{tenantid}/v2.0"
GOV_KEY_ISSUER = "https://login.microsoftonline.us/{tenantid}/v2.0"
APP = "api://7d1c2b3a-ords"
TID_A = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TID_B = "9188040d-6c67-4c5b-b112-36a304b66dad"
TID_C = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
MANY = 1000
ANY_TENANT = "ORDSJWT00170"
STATUS_PAGE = ("LoadModule authz_host_module "
               "/usr/lib/apache2/modules/mod_authz_host.so\n"
               "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
               "    Require ip 127.0.0.1\n</Location>")

# mod_authz_core logs every authorization failure at [error]
pytestmark = pytest.mark.expect_log("AH01631")


def iss_of(tid):
    return CLOUD + tid + "/v2.0"


@pytest.fixture(scope="module")
def entra_keys():
    def key(kid, issuer):
        return Key(kid, "RS256", rsa.generate_private_key(65537, 2048),
                   {"issuer": issuer, "use": "sig"})
    return {"ent1": key("ent1", KEY_ISSUER), "gov1": key("gov1", GOV_KEY_ISSUER),
            "plain": Key("plain", "RS256", rsa.generate_private_key(65537, 2048))}


def entra_token(keys, tenant=TID_A, key="ent1", **over):
    """An Entra v2.0 access token of a tenant for the app; over: claims
    to change (DROP removes one)."""
    values = {"iss": iss_of(tenant), "aud": APP, "tid": tenant,
              "sub": "user-" + tenant[:8]}
    values.update(over)
    return mint(claims(**values), key=keys[key])


def tenants_file(workdir):
    """1,000 tenant ids, comments and blank lines; TID_B among them."""
    path = os.path.join(workdir, "tenants.txt")
    with open(path, "w") as f:
        f.write("# customers of the SaaS front\n\n")
        for i in range(MANY - 1):
            f.write("%08x-0000-4000-8000-%012x  # customer %d\n" % (i, i, i))
        f.write(TID_B.upper() + "\n")
    os.chmod(path, 0o644)
    return path


def site(pki, jwks, static_jwks, tenants_path):
    url = jwks.url("/entra-keys")
    out = [sites.ca(pki), STATUS_PAGE,
           sites.profile("entra", TEMPLATE, APP, jwk_url=url,
                         tenants="%s,%s" % (TID_A, TID_B)),
           sites.profile("entrafile", TEMPLATE, APP, jwk_url=url,
                         tenants="@" + tenants_path),
           sites.profile("entraany", TEMPLATE, APP, jwk_url=url),
           # one tenant's own issuer with the keys common to all tenants
           sites.profile("single", iss_of(TID_A), APP, jwk_url=url)]
    out += [sites.profile("t%d" % i, "https://t%d.example/" % i, "ords/",
                          jwk_url="file://" + static_jwks) for i in range(MANY)]
    tid_header = ['Header always set X-Tid "expr=%{reqenv:ORDSJWT_CLAIM_tid}"']
    out += [sites.location("/entra/", "entra", extra=tid_header),
            sites.location("/entrafile/", "entrafile"),
            sites.location("/entraany/", "entraany"),
            sites.location("/single/", "single")]
    names = ["t%d" % i for i in range(MANY)]
    lines = ["AuthOrdsJwtProfile " + " ".join(names[i:i + 100])
             for i in range(100, MANY, 100)]
    out.append(sites.location("/many/", " ".join(names[:100]),
                              extra=lines + ["AuthOrdsJwtProfile entra"]))
    return sites.site(*out)


@pytest.fixture(scope="module", params=("event", "prefork"))
def tn_httpd(request, workdir, pki, jwks, keys, static_jwks, entra_keys):
    jwks.publish("/entra-keys", {"keys": [k.public_jwk()
                                          for k in entra_keys.values()]})
    server = Httpd(os.path.join(workdir, "tenants-" + request.param),
                   request.param,
                   site(pki, jwks, static_jwks, tenants_file(workdir)))
    server.start(timeout=60)
    yield server
    server.stop()


@pytest.fixture
def tn(tn_httpd):
    """A client of the tenants httpd; checks its error log afterwards."""
    client = Client(tn_httpd)
    offset = tn_httpd.log_offset()
    yield client
    bad = bad_lines(tn_httpd.read_log(offset), ("AH01631",))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
    for token in client.tokens:
        assert token.split(".")[2] not in tn_httpd.read_log(offset)


def refusal(client):
    """(reason, detail, hint) of the last ORDSJWT00011 line."""
    lines = [l for l in client.new_log().splitlines() if "ORDSJWT00011" in l]
    assert lines, client.new_log()
    return REFUSED.search(lines[-1]).groups()


# --- Entra multi-tenant ------------------------------------------------------

def test_own_and_listed_tenants(tn, entra_keys):
    r = tn.get("/entra/", entra_token(entra_keys, TID_A))
    assert_ok(r, sub="user-" + TID_A[:8])
    assert r.headers.get("X-Tid") == TID_A
    assert_ok(tn.get("/entra/", entra_token(entra_keys, TID_B)),
              sub="user-" + TID_B[:8])
    # a cached verdict too
    t = entra_token(entra_keys, TID_A)
    assert_ok(tn.get("/entra/", t), sub="user-" + TID_A[:8])
    assert_ok(tn.get("/entra/", t), sub="user-" + TID_A[:8])


def test_tenant_not_listed(tn, entra_keys):
    t = entra_token(entra_keys, TID_C)
    assert_invalid_token(tn.get("/entra/", t), "tenant not accepted", t)
    reason, detail, hint = refusal(tn)
    assert reason == "tenant_not_allowed"
    assert TID_C in detail and "tenants=" in hint
    # with no list, any tenant of the cloud
    assert_ok(tn.get("/entraany/", t), sub="user-" + TID_C[:8])


def test_other_tenants_iss(tn, entra_keys):
    """A tid that does not fill the iss: the token claims another tenant's
    issuer than its own."""
    t = entra_token(entra_keys, TID_A, iss=iss_of(TID_B))
    assert_invalid_token(tn.get("/entra/", t), "issuer not accepted", t)
    reason, detail, _ = refusal(tn)
    assert reason == "issuer_mismatch" and "the token's tid " + TID_A in detail


@pytest.mark.parametrize("tid", (DROP, "", "common", TID_A.upper(), "{%s}" % TID_A,
                                 TID_A + "0", 42))
def test_tid_missing_or_not_a_guid(tn, entra_keys, tid):
    t = entra_token(entra_keys, TID_A, tid=tid)
    assert_invalid_token(tn.get("/entra/", t), "tenant id missing or invalid", t)
    reason, _, hint = refusal(tn)
    assert reason == "tenant_id_invalid" and "GUID" in hint


def test_key_of_another_cloud(tn, entra_keys):
    """The JWKS holds a key whose issuer is another cloud's: it verifies
    the signature, and is still refused for this cloud's issuer."""
    t = entra_token(entra_keys, TID_A, key="gov1")
    assert_invalid_token(tn.get("/entra/", t),
                         "issuer not accepted for this signing key", t)
    reason, detail, hint = refusal(tn)
    assert reason == "key_issuer_mismatch"
    assert GOV_KEY_ISSUER in detail and "jwk_url" in hint
    # a key without an issuer member signs for any issuer of the profile
    assert_ok(tn.get("/entra/", entra_token(entra_keys, TID_A, key="plain")),
              sub="user-" + TID_A[:8])


def test_single_tenant_profile_with_common_keys(tn, entra_keys):
    assert_ok(tn.get("/single/", entra_token(entra_keys, TID_A)),
              sub="user-" + TID_A[:8])
    # the key's {tenantid} needs the token's tid
    t = entra_token(entra_keys, TID_A, tid=DROP)
    assert_invalid_token(tn.get("/single/", t), None, t)
    assert refusal(tn)[0] == "key_issuer_mismatch"


def test_tenants_file(tn, entra_keys):
    assert_ok(tn.get("/entrafile/", entra_token(entra_keys, TID_B)),
              sub="user-" + TID_B[:8])
    assert_ok(tn.get("/entrafile/", entra_token(entra_keys,
                                                "000003e6-0000-4000-8000-0000000003e6")),
              sub="user-000003e6")
    t = entra_token(entra_keys, TID_A)
    assert_invalid_token(tn.get("/entrafile/", t), "tenant not accepted", t)
    assert "tenants file" in refusal(tn)[2]


def test_status_page_shows_tenants(tn):
    r = tn.get("/ordsjwt-status?json")
    assert r.status_code == 200
    profiles = {p["name"]: p for p in r.json()["profiles"]}
    assert profiles["entra"]["tenants"] == 2
    assert profiles["entrafile"]["tenants"] == MANY
    assert profiles["entrafile"]["tenants_file"].endswith("tenants.txt")
    assert profiles["entraany"]["tenants"] == "any"
    assert "tenants" not in profiles["t0"]


def test_checker_shows_the_tenant(tn_httpd, entra_keys):
    run = check("--config", tn_httpd.conf, "--profile", "entra",
                entra_token(entra_keys, TID_B))
    assert run.code == 0, run
    assert "tenant %s (listed in tenants=)" % TID_B in run.out, run
    assert "tenants: 2 listed" in run.out, run
    run = check("--config", tn_httpd.conf, "--profile", "entra",
                entra_token(entra_keys, TID_C))
    assert run.result == "tenant_not_allowed", run
    run = check("--config", tn_httpd.conf, "--profile", "entra",
                entra_token(entra_keys, TID_A, key="gov1"))
    assert run.result == "key_issuer_mismatch", run
    assert run.failed["key_issuer_mismatch"][0] == "issuer", run


# --- one <Location>, many issuers -------------------------------------------

def test_many_profiles_chosen_by_iss(tn, keys, entra_keys):
    for i in (0, 1, MANY // 2, MANY - 1):
        t = mint(claims(iss="https://t%d.example/" % i, aud="ords/",
                        sub="s%d" % i), key=keys["static1"])
        assert_ok(tn.get("/many/", t), sub="s%d" % i)
        assert_ok(tn.get("/many/", t), sub="s%d" % i)     # cached
    # the template listed after them is found too
    assert_ok(tn.get("/many/", entra_token(entra_keys, TID_B)),
              sub="user-" + TID_B[:8])
    t = mint(claims(iss="https://t%d.example/" % MANY, aud="ords/"),
             key=keys["static1"])
    assert_invalid_token(tn.get("/many/", t), "issuer not accepted", t)
    assert "none of the %d profiles" % (MANY + 1) in refusal(tn)[1]


def test_refusal_names_a_few_candidates(tn, keys):
    """Refused before a profile is chosen, the log names the first few of
    the 1,001 candidates and their number, not all of them (at 10,000
    their names took 9.5 s of copying per request)."""
    t = mint(claims(iss="https://nobody.example/", aud="ords/"),
             key=keys["static1"])
    assert_invalid_token(tn.get("/many/", t), "issuer not accepted", t)
    line = [l for l in tn.new_log().splitlines() if "ORDSJWT00011" in l][-1]
    assert "[profile t0|t1|t2|" in line, line
    assert "|... (%d profiles), kid" % (MANY + 1) in line, line
    assert len(line) < 1000, line


def test_cached_verdict_is_the_locations(tn, keys, entra_keys):
    """A token accepted on one location is not taken from the cache on
    another whose set would not choose its profile."""
    t = entra_token(entra_keys, TID_C)
    assert_ok(tn.get("/entraany/", t), sub="user-" + TID_C[:8])
    assert_invalid_token(tn.get("/entra/", t), "tenant not accepted", t)
    assert_invalid_token(tn.get("/entrafile/", t), "tenant not accepted", t)
    assert_ok(tn.get("/entraany/", t), sub="user-" + TID_C[:8])


# --- configtest --------------------------------------------------------------

def configtest(workdir, name, *parts):
    server = Httpd(os.path.join(workdir, "tn-ct-" + name), "event",
                   sites.site(*parts))
    return server.configtest()


def test_configtest_warns_of_any_tenant(workdir, pki):
    rc, out = configtest(workdir, "any", sites.ca(pki),
                         sites.profile("e", TEMPLATE, APP,
                                       jwk_url="https://127.0.0.1:9/k"),
                         sites.location("/e/", "e"))
    assert rc == 0 and ANY_TENANT in out and "tenants=" in out, out
    rc, out = configtest(workdir, "listed", sites.ca(pki),
                         sites.profile("e", TEMPLATE, APP,
                                       jwk_url="https://127.0.0.1:9/k",
                                       tenants=TID_A),
                         sites.location("/e/", "e"))
    assert rc == 0 and ANY_TENANT not in out, out


@pytest.mark.parametrize("keys, location, what", [
    ({"tenants": "@/nonexistent/tenants.txt"}, None, "cannot read"),
    ({"tenants": "tenants.txt"}, None, "is not a tenant id"),
    ({"tenants": TID_A + "," + TID_A}, None, "listed twice"),
    ({"issuer": "https://x/{tid}/{tenantid}"}, None, "at most one {tid}"),
    ({"issuer": "https://i/", "tenants": TID_A}, None,
     "tenants needs an issuer with {tid}"),
    ({}, "twin", "no token could tell them apart"),
])
def test_configtest_errors(workdir, pki, keys, location, what):
    values = {"issuer": TEMPLATE, "jwk_url": "https://127.0.0.1:9/k"}
    values.update(keys)
    issuer = values.pop("issuer")
    parts = [sites.ca(pki), sites.profile("e", issuer, APP, **values)]
    if location == "twin":
        parts.append(sites.profile("twin", KEY_ISSUER, APP,
                                   jwk_url="https://127.0.0.1:9/k"))
        parts.append(sites.location("/e/", "e twin"))
    rc, out = configtest(workdir, "err", *parts)
    assert rc != 0 and what in out, out
