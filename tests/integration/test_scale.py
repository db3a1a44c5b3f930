# SPDX-License-Identifier: Apache-2.0
"""A thousand tenants on one httpd (issue 22, part 1): one loopback HTTPS
issuer serves 1,000 JWKS documents, one per profile (each its own issuer
and jwk_url) and <Location>. Each document is fetched once; a key rotation
in one tenant leaves the others untouched; the shared memory holds what
the documents take, not 256 KiB each; the status page is filtered and
paged."""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import assert_ok
from httpd_instance import Httpd, bad_lines
import sites
from tokens import Key, claims, raw_token

TENANTS = 1000
STATUS_PAGE = """\
<Location /ordsjwt-status>
    SetHandler ordsjwt-status
</Location>"""


def issuer(i):
    return "https://idp.example/t%d/" % i


@functools.lru_cache(maxsize=None)
def _key(private, kid):
    return Key(kid, "RS256", private)


def tenant_key(keys, i, kid=None):
    """Tenant i's signing key: the test RSA key under the tenant's kid."""
    return _key(keys["rsa1"].private, kid or "t%d" % i)


def tenant_jwks(keys, i, *extra):
    return {"keys": [tenant_key(keys, i).public_jwk()]
            + [k.public_jwk() for k in extra]}


_tokens = {}


def token(keys, i, kid=None):
    """A token of tenant i (minted once per test session)."""
    if (i, kid) not in _tokens:
        key = tenant_key(keys, i, kid)
        _tokens[(i, kid)] = raw_token({"alg": "RS256", "kid": key.kid},
                                      claims(iss=issuer(i)), key=key)
    return _tokens[(i, kid)]


def scale_site(pki, jwks):
    out = [sites.ca(pki)]
    for i in range(TENANTS):
        out.append(sites.profile("t%d" % i, issuer=issuer(i),
                                 jwk_url=jwks.url("/scale/t%d" % i)))
        out.append(sites.location("/t%d/" % i, "t%d" % i))
    out.append(STATUS_PAGE)
    return sites.site(*out)


@pytest.fixture(scope="module", params=("event", "prefork"))
def tenants(request, workdir, pki, jwks, keys):
    for i in range(TENANTS):
        jwks.publish("/scale/t%d" % i, tenant_jwks(keys, i))
    server = Httpd(os.path.join(workdir, "scale-" + request.param),
                   request.param, scale_site(pki, jwks))
    server.start(timeout=60)
    yield server
    server.stop()


def get(server, i, tok):
    return requests.get(server.url("/t%d/" % i), timeout=30,
                        headers={"Authorization": "Bearer " + tok})


def status(server, query):
    r = requests.get(server.url("/ordsjwt-status" + query), timeout=30)
    assert r.status_code == 200, r.status_code
    return r


def test_thousand_tenants_each_fetched_once(tenants, jwks, keys):
    offset = tenants.log_offset()
    toks = [token(keys, i) for i in range(TENANTS)]
    for rnd in range(2):
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: get(tenants, i, toks[i]),
                                    range(TENANTS)))
        for r in answers:
            assert_ok(r)
    counts = [jwks.fetch_count("/scale/t%d" % i) for i in range(TENANTS)]
    assert counts == [1] * TENANTS, [(i, c) for i, c in enumerate(counts)
                                     if c != 1][:10]
    doc = status(tenants, "?json&limit=1").json()
    shm = doc["shared_memory"]
    assert shm["documents"] == TENANTS
    # what the documents take (about 0.5 KiB each here) and their URLs,
    # far below the 256 KiB each that was reserved before
    assert shm["used"] < TENANTS * 4 * 1024, shm
    assert shm["size"] == (512 + 16 * TENANTS) * 1024, shm
    assert doc["summary"]["profiles"] == TENANTS
    assert doc["summary"]["errors"]["count"] == 0
    # AH00161: prefork's 16 children all busy for a moment (a slow build)
    assert not bad_lines(tenants.read_log(offset), ("AH00161",))


def test_rotation_in_one_tenant_leaves_the_others(tenants, jwks, keys):
    offset = tenants.log_offset()
    new = tenant_key(keys, 500, kid="t500-next")
    jwks.set_document("/scale/t500", tenant_jwks(keys, 500, new))
    # a token signed with the new kid: one forced refetch of t500 only
    assert_ok(get(tenants, 500, token(keys, 500, kid="t500-next")))
    assert_ok(get(tenants, 500, token(keys, 500)))
    assert jwks.fetch_count("/scale/t500") == 1
    sample = [0, 1, 499, 501, 998, 999]
    for i in sample:
        assert_ok(get(tenants, i, token(keys, i)))
    assert all(jwks.fetch_count("/scale/t%d" % i) == 0 for i in sample)
    t500 = status(tenants, "?json&profile=t500").json()["profiles"]
    assert [p["name"] for p in t500] == ["t500"]
    assert sorted(k["kid"] for k in t500[0]["keys"]) == ["t500", "t500-next"]
    assert t500[0]["jwks"]["generation"] == 2
    t501 = status(tenants, "?json&profile=t501").json()["profiles"][0]
    assert t501["jwks"]["generation"] == 1 and t501["nkeys"] == 1
    assert not bad_lines(tenants.read_log(offset))


def test_status_pages_of_a_thousand(tenants):
    doc = status(tenants, "?json").json()
    assert doc["paging"] == {"offset": 0, "limit": 100, "total": TENANTS}
    assert len(doc["profiles"]) == 100
    # by name: t0, t1, t10, t100, ...
    assert [p["name"] for p in doc["profiles"][:4]] == ["t0", "t1", "t10",
                                                        "t100"]
    last = status(tenants, "?json&offset=990&limit=50").json()
    assert len(last["profiles"]) == 10
    html = status(tenants, "?offset=100").text
    assert "Profiles 101 to 200 of 1000" in html
    assert html.count("<h2>Profile ") == 100
    assert len(html) < 1024 * 1024
    one = status(tenants, "?profile=t999").text
    assert one.count("<h2>Profile ") == 1 and "<h2>Profile t999</h2>" in one
    metrics = status(tenants, "?metrics").text
    assert metrics.count('ordsjwt_keys{profile="') == TENANTS


def test_full_region_names_the_directive(workdir, pki, jwks, keys):
    """OrdsJwtJwksCacheSize too small: configtest says so with an estimate;
    a document that finds no room is a failed fetch naming the directive
    (503 for that tenant), the others are served."""
    pad = "A" * 100000                      # a member the parser ignores
    for i in range(3):
        jwks.publish("/big/t%d" % i, {"keys": [dict(
            tenant_key(keys, i).public_jwk(), x_pad=pad)]})
    out = [sites.ca(pki), "OrdsJwtJwksCacheSize 256"]
    for i in range(3):
        out.append(sites.profile("t%d" % i, issuer=issuer(i),
                                 jwk_url=jwks.url("/big/t%d" % i)))
        out.append(sites.location("/t%d/" % i, "t%d" % i))
    server = Httpd(os.path.join(workdir, "scale-full"), "event",
                   sites.site(*out, STATUS_PAGE))
    code, text = server.configtest()
    assert code == 0 and "ORDSJWT00124" in text, text
    assert "OrdsJwtJwksCacheSize 256 is less than the about 280 KiB" in text
    server.start(acknowledged=("ORDSJWT00124",))
    try:
        offset = server.log_offset()
        assert_ok(get(server, 0, token(keys, 0)))
        assert_ok(get(server, 1, token(keys, 1)))
        r = get(server, 2, token(keys, 2))
        assert r.status_code == 503 and r.headers.get("Retry-After"), r
        log = server.read_log(offset)
        lines = [l for l in log.splitlines() if "ORDSJWT00009" in l]
        assert lines and "no room for its" in lines[0], log
        assert "raise OrdsJwtJwksCacheSize" in lines[0], lines[0]
        doc = status(server, "?json").json()
        assert doc["shared_memory"]["refused_no_room"] == 1
        assert doc["shared_memory"]["documents"] == 2
        assert doc["summary"]["errors"]["profiles"] == ["t2"]
        assert_ok(get(server, 0, token(keys, 0)))   # the others still served
        assert not bad_lines(server.read_log(offset), ("ORDSJWT00009",))
    finally:
        server.stop()


@pytest.mark.parametrize("line,message", [
    ("OrdsJwtJwksCacheSize 255", "OrdsJwtJwksCacheSize: \"255\" is not a "
     "number from 256 to 16777216 (or auto)"),
    ("OrdsJwtJwksMaxWaiters 0", "OrdsJwtJwksMaxWaiters: \"0\" is not a "
     "number from 1 to 1024 (or auto)"),
    ("OrdsJwtJwksMaxWaiters off", "OrdsJwtJwksMaxWaiters: \"off\""),
])
def test_sizes_are_checked(workdir, line, message):
    server = Httpd(os.path.join(workdir, "scale-ct"), "event",
                   sites.site(line))
    code, text = server.configtest()
    assert code != 0 and message in text, text


def test_sizes_auto_and_in_a_virtual_host(workdir):
    ok = Httpd(os.path.join(workdir, "scale-ct-ok"), "event", sites.site(
        "OrdsJwtJwksCacheSize auto", "OrdsJwtJwksMaxWaiters 3"))
    code, text = ok.configtest()
    assert code == 0, text
    vhost = Httpd(os.path.join(workdir, "scale-ct-vh"), "event", sites.site(
        sites.virtual_host("127.0.0.1:1", "OrdsJwtJwksMaxWaiters 3")))
    code, text = vhost.configtest()
    assert code != 0 and "OrdsJwtJwksMaxWaiters" in text, text


def small_site(pki, jwks, names):
    out = [sites.ca(pki)]
    for i in names:
        out.append(sites.profile("t%d" % i, issuer=issuer(i),
                                 jwk_url=jwks.url("/scale/t%d" % i)))
        out.append(sites.location("/t%d/" % i, "t%d" % i))
    return sites.site(*out, STATUS_PAGE)


@pytest.mark.parametrize("mpm", ("event", "prefork"))
def test_graceful_restart_with_another_profile_set(workdir, pki, jwks, keys,
                                                   mpm):
    """Profiles added and removed, then apachectl graceful: a new segment,
    and every tenant that stays keeps its keys (no fetch); the new one is
    fetched when needed."""
    for i in range(4):
        jwks.publish("/scale/t%d" % i, tenant_jwks(keys, i))
    server = Httpd(os.path.join(workdir, "scale-graceful-" + mpm), mpm,
                   small_site(pki, jwks, (0, 1, 2)))
    server.start()
    try:
        offset = server.log_offset()
        for i in (0, 1, 2):
            assert_ok(get(server, i, token(keys, i)))
        before = status(server, "?json").json()["shared_memory"]
        server.site = small_site(pki, jwks, (3, 2, 0))
        server.write_config()
        server.graceful()
        for i in (0, 2, 3, 0, 2, 3):
            assert_ok(get(server, i, token(keys, i)))
        assert [jwks.fetch_count("/scale/t%d" % i) for i in range(4)] \
            == [1, 1, 1, 1]
        assert requests.get(server.url("/ordsjwt-status?profile=t1"),
                            timeout=10).status_code == 404  # t1 is gone
        after = status(server, "?json").json()
        assert after["shared_memory"]["documents"] == 3
        assert after["shared_memory"]["size"] == before["size"]
        assert [p["name"] for p in after["profiles"]] == ["t0", "t2", "t3"]
        assert not bad_lines(server.read_log(offset), ("AH00493",))
    finally:
        server.stop()
