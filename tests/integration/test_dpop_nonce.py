# SPDX-License-Identifier: Apache-2.0
"""Resource-server DPoP nonces (RFC 9449 sections 8 and 9, issue 23) on a
real httpd, event and prefork: a proof without a nonce, or with a stale,
altered, made-up or foreign one, gets 401 use_dpop_nonce and a
DPoP-Nonce header; the retry with it is accepted; the nonce is judged
before any signature; accepted responses carry a fresh nonce once the
client's has lived half its life; OrdsJwtDpopNonce (location) and
dpop_nonce= (profile, which wins); nonces off change nothing. The random
key of a server is shared by its children and kept by a graceful
restart. Then a fleet: two httpds given one OrdsJwtDpopNonceKeyFile
accept each other's nonces, a third with another key file refuses them."""

import os
import time

import pytest
import requests

import sites
from dpop import bound_token, challenges, nonce, proof, send
from httpd_instance import Httpd, bad_lines
# the DPoP tests' proof keys, client and JWKS fixtures (pk, client and
# _republish are fixtures: imported, pytest uses them here)
from test_dpop import ALGS, SHMCB, _republish, client, pk  # noqa: F401
from tokens import claims, mint, now

AUTHZ_HOST = ("LoadModule authz_host_module "
              "/usr/lib/apache2/modules/mod_authz_host.so")
LIFETIME = 8            # OrdsJwtDpopNonceLifetime of these servers
OTHER_ISSUER = "https://other.example/"
NONCE_DESCRIPTION = "resource server requires a fresh nonce in the DPoP proof"


def nonce_site(pki, jwks, key_file=None):
    url = jwks.url("/dp")
    return sites.site(
        SHMCB, AUTHZ_HOST, sites.ca(pki),
        "OrdsJwtTokenCache 64",
        "OrdsJwtAllowedSkew 2",
        "OrdsJwtDpopNonceLifetime %d" % LIFETIME,
        "OrdsJwtDpopNonceKeyFile %s" % key_file if key_file else "",
        sites.profile("dp", jwk_url=url, dpop="allowed"),
        sites.profile("dpon", jwk_url=url, dpop="allowed", dpop_nonce="on"),
        sites.profile("dpoff", jwk_url=url, dpop="allowed", dpop_nonce="off"),
        sites.profile("other", OTHER_ISSUER, jwk_url=url, dpop="allowed",
                      dpop_nonce="on"),
        sites.location("/n/", "dp", extra=("OrdsJwtDpopNonce on",)),
        sites.location("/p/", "dpon"),
        sites.location("/off/", "dpoff", extra=("OrdsJwtDpopNonce on",)),
        sites.location("/plain/", "dp"),
        sites.location("/multi/", "dp other"),
        "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
        "    Require ip 127.0.0.1\n</Location>",
    )


@pytest.fixture(scope="module", params=["event", "prefork"])
def httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    server = Httpd(os.path.join(workdir, "nonce-" + request.param),
                   request.param, nonce_site(pki, jwks))
    server.start()
    yield server
    server.stop()


def call(server, path, token, key, nonce_=None, **over):
    """A DPoP request with a new proof for path (its nonce claim: nonce_,
    none when None)."""
    if nonce_ is not None:
        over["nonce"] = nonce_
    return send(server, path, token,
                proof(key, "GET", server.url(path), token, **over))


def assert_nonce_asked(resp):
    """401 use_dpop_nonce with a fresh nonce; returns it."""
    assert resp.status_code == 401, (resp.status_code, dict(resp.headers))
    ch = challenges(resp)
    assert ch["DPoP"] == ('DPoP %s, error="use_dpop_nonce", '
                          'error_description="%s"' % (ALGS, NONCE_DESCRIPTION)), ch
    assert ch["Bearer"] == 'Bearer realm="ORDS"', ch
    fresh = resp.headers["DPoP-Nonce"]
    assert len(fresh) == 32, fresh
    return fresh


def assert_refused(resp, error):
    assert resp.status_code == 401, (resp.status_code, dict(resp.headers))
    assert 'error="%s"' % error in challenges(resp)["DPoP"], dict(resp.headers)


def nonce_lines(text):
    return [l for l in text.splitlines() if "ORDSJWT00190" in l]


def test_no_nonce_then_retry(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/a", token, pk["es"]))
    (line,) = nonce_lines(client.new_log())
    assert "[auth_ordsjwt:info]" in line and "(dpop_nonce_required)" in line
    assert "proof: no nonce" in line and "[profile dp]" in line, line
    resp = call(httpd, "/n/a", token, pk["es"], fresh)
    assert resp.status_code == 200, dict(resp.headers)
    assert resp.headers["X-Remote-User"] == "alice"
    assert "DPoP-Nonce" not in resp.headers     # fresh: nothing to renew


def test_profile_requires_and_wins(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    # dpop_nonce=on, no OrdsJwtDpopNonce in the location
    fresh = assert_nonce_asked(call(httpd, "/p/a", token, pk["es"]))
    assert call(httpd, "/p/a", token, pk["es"], fresh).status_code == 200
    # dpop_nonce=off wins over the location's OrdsJwtDpopNonce on
    resp = call(httpd, "/off/a", token, pk["es"])
    assert resp.status_code == 200 and "DPoP-Nonce" not in resp.headers


def test_nonces_off_change_nothing(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    resp = call(httpd, "/plain/a", token, pk["es"])
    assert resp.status_code == 200 and "DPoP-Nonce" not in resp.headers
    # a nonce where none is asked for is not judged
    resp = call(httpd, "/plain/a", token, pk["es"], "whatever")
    assert resp.status_code == 200 and "DPoP-Nonce" not in resp.headers
    # nor is a Bearer token asked for one where nonces are required
    resp = send(httpd, "/n/a", mint(claims(), key=keys["rsa1"]), None,
                scheme="Bearer")
    assert resp.status_code == 200 and "DPoP-Nonce" not in resp.headers
    # the challenge without a token is the one it was
    resp = send(httpd, "/n/a", None)
    assert resp.status_code == 401 and "DPoP-Nonce" not in resp.headers
    assert challenges(resp)["DPoP"] == "DPoP " + ALGS
    assert not nonce_lines(client.new_log())


def test_profile_of_the_token_decides(httpd, keys, pk, client):
    """Two profiles in one location: the token's iss chooses the one whose
    dpop_nonce= applies, before its signature is checked."""
    mine = bound_token(keys["rsa1"], pk["es"])
    assert call(httpd, "/multi/a", mine, pk["es"]).status_code == 200
    theirs = bound_token(keys["rsa1"], pk["es"], iss=OTHER_ISSUER)
    fresh = assert_nonce_asked(call(httpd, "/multi/a", theirs, pk["es"]))
    assert "[profile other]" in nonce_lines(client.new_log())[-1]
    assert call(httpd, "/multi/a", theirs, pk["es"], fresh).status_code == 200


def test_forged_nonces(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/f", token, pk["es"]))
    altered = fresh[:-1] + ("A" if fresh[-1] != "A" else "Q")
    retimed = fresh[:6] + ("A" if fresh[6] != "A" else "B") + fresh[7:]
    foreign = nonce(os.urandom(32), now())
    for bad in (altered, retimed, foreign, "abc", fresh + "A", ""):
        assert_nonce_asked(call(httpd, "/n/f", token, pk["es"], bad))
    lines = nonce_lines(client.new_log())
    assert len(lines) == 7, lines
    for line in lines[1:]:
        assert "not issued with this server's nonce key" in line, line


def test_nonce_not_a_string(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    assert_refused(call(httpd, "/n/s", token, pk["es"], 42),
                   "invalid_dpop_proof")
    assert "nonce is not a string" in client.new_log()


def test_nonce_before_any_signature(httpd, keys, pk, client):
    """Without a nonce, a proof with a bad signature and a token signed by
    a key nobody publishes are told use_dpop_nonce: neither signature was
    verified (nor the token's key looked for)."""
    token = bound_token(keys["rsa1"], pk["es"])
    bad_sig = proof(pk["es"], "GET", httpd.url("/n/b"), token,
                    sign_with=pk["other"])
    assert_nonce_asked(send(httpd, "/n/b", token, bad_sig))
    stranger = bound_token(keys["attacker"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/b", stranger, pk["es"]))
    log = client.new_log()
    assert "dpop_proof_invalid" not in log and "kid_unknown" not in log, log
    # with the nonce, each is refused for what it is
    bad_sig = proof(pk["es"], "GET", httpd.url("/n/b"), token,
                    sign_with=pk["other"], nonce=fresh)
    assert_refused(send(httpd, "/n/b", token, bad_sig), "invalid_dpop_proof")
    resp = call(httpd, "/n/b", stranger, pk["es"], fresh)
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_cached_token_still_needs_a_nonce(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/c", token, pk["es"]))
    for _ in range(3):
        assert call(httpd, "/n/c", token, pk["es"], fresh).status_code == 200
    assert_nonce_asked(call(httpd, "/n/c", token, pk["es"]))
    assert_nonce_asked(call(httpd, "/n/c", token, pk["es"], fresh[::-1]))


def test_nonce_does_not_lift_the_replay_check(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/r", token, pk["es"]))
    p = proof(pk["es"], "GET", httpd.url("/n/r"), token, nonce=fresh)
    assert send(httpd, "/n/r", token, p).status_code == 200
    assert_refused(send(httpd, "/n/r", token, p), "invalid_dpop_proof")
    assert "dpop_proof_replayed" in client.new_log()


def test_every_child_has_the_key(httpd, keys, pk, client):
    """The random key is made by the parent: a nonce from one child is
    good in all (each request on a new connection)."""
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/k", token, pk["es"]))
    for _ in range(8):
        assert call(httpd, "/n/k", token, pk["es"], fresh).status_code == 200


def test_renewal_then_stale(httpd, keys, pk, client):
    """A nonce past half its lifetime is still good, and the answer carries
    a fresh one; past its lifetime it is stale."""
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/t", token, pk["es"]))
    issued = time.time()
    time.sleep(LIFETIME / 2 + 1.2)
    resp = call(httpd, "/n/t", token, pk["es"], fresh)
    assert resp.status_code == 200, dict(resp.headers)
    renewed = resp.headers["DPoP-Nonce"]
    assert len(renewed) == 32 and renewed != fresh
    resp = call(httpd, "/n/t", token, pk["es"], renewed)
    assert resp.status_code == 200 and "DPoP-Nonce" not in resp.headers
    time.sleep(max(0.0, issued + LIFETIME + 1.5 - time.time()))
    assert_nonce_asked(call(httpd, "/n/t", token, pk["es"], fresh))
    line = nonce_lines(client.new_log())[-1]
    assert "the nonce is stale: issued" in line and \
        "good for %d s" % LIFETIME in line, line
    assert call(httpd, "/n/t", token, pk["es"], renewed).status_code == 200


def test_status_page_counts(httpd, keys, pk, client):
    def refused():
        doc = requests.get(httpd.url("/ordsjwt-status?json"), timeout=10).json()
        return [p for p in doc["profiles"] if p["name"] == "dp"][0]["refused"]

    before = refused()
    token = bound_token(keys["rsa1"], pk["es"])
    assert_nonce_asked(call(httpd, "/n/st", token, pk["es"]))
    assert_nonce_asked(call(httpd, "/n/st", token, pk["es"], "x"))
    assert refused()["dpop_nonce_required"] == \
        before["dpop_nonce_required"] + 2


def test_graceful_restart_keeps_the_key(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    fresh = assert_nonce_asked(call(httpd, "/n/g", token, pk["es"]))
    httpd.graceful()
    assert call(httpd, "/n/g", token, pk["es"], fresh).status_code == 200


# --- configuration ----------------------------------------------------------

def test_configtest(workdir, pki, jwks):
    key = os.path.join(workdir, "nonce-short.key")
    with open(key, "wb") as f:
        f.write(os.urandom(16))
    url = jwks.url("/dp")
    site = sites.site(SHMCB, sites.ca(pki),
                      sites.profile("dp", jwk_url=url, dpop="allowed"),
                      sites.location("/dpop/", "dp"))
    server = Httpd(os.path.join(workdir, "nonce-conf"), "event", site)
    address = "127.0.0.1:%d" % server.port
    for bad, why in (
            ("OrdsJwtDpopNonceKeyFile %s" % key, "at least 32 bytes"),
            ("OrdsJwtDpopNonceKeyFile /nonexistent/k", "cannot be read"),
            ("OrdsJwtDpopNonceKeyFile %s" % workdir, "not a regular file"),
            (sites.virtual_host(address, "OrdsJwtDpopNonceKeyFile %s" % key),
             "cannot occur within"),
            ("OrdsJwtDpopNonceLifetime 4", "OrdsJwtDpopNonceLifetime"),
            ("OrdsJwtDpopNonceLifetime 3601", "OrdsJwtDpopNonceLifetime"),
            (sites.location("/x/", "dp", extra=("OrdsJwtDpopNonce maybe",)),
             "OrdsJwtDpopNonce"),
            (sites.profile("q", jwk_url=url, dpop="allowed",
                           dpop_nonce="maybe"), "dpop_nonce=on or"),
            (sites.profile("q", jwk_url=url, dpop_nonce="on"),
             "dpop_nonce=on needs dpop=allowed")):
        server.site = site + bad + "\n"
        rc, out = server.configtest()
        assert rc != 0 and why in out, (bad, out)
    good = os.path.join(workdir, "nonce-good.key")
    with open(good, "wb") as f:
        f.write(os.urandom(32))
    server.site = site + "\n".join([
        "OrdsJwtDpopNonceKeyFile %s" % good, "OrdsJwtDpopNonceLifetime 60",
        sites.profile("q", jwk_url=url, dpop="required", dpop_nonce="on"),
        sites.location("/y/", "dp", extra=("OrdsJwtDpopNonce on",))]) + "\n"
    rc, out = server.configtest()
    assert rc == 0, out


# --- a fleet: one key file, and another ---------------------------------------

def key_file(workdir, name, mode=0o600):
    path = os.path.join(workdir, name)
    with open(path, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(path, mode)
    with open(path, "rb") as f:
        return path, f.read()


@pytest.fixture(scope="module")
def fleet(workdir, pki, jwks, keys):
    """a (event) and b (prefork) share one key file; c has its own, which
    every user may read (warned)."""
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    shared, shared_key = key_file(workdir, "fleet-nonce.key")
    own, _ = key_file(workdir, "own-nonce.key", 0o644)
    servers = [Httpd(os.path.join(workdir, "nonce-fleet-" + name), mpm,
                     nonce_site(pki, jwks, path))
               for name, mpm, path in (("a", "event", shared),
                                       ("b", "prefork", shared),
                                       ("c", "event", own))]
    servers[0].start()
    servers[1].start()
    servers[2].start(acknowledged=("ORDSJWT00194",))
    assert "ORDSJWT00194" in servers[2].read_log() and \
        "chmod 600" in servers[2].read_log()
    yield servers, shared_key
    for s in servers:
        s.stop()


def fleet_log_ok(servers, offsets):
    for s, off in zip(servers, offsets):
        bad = bad_lines(s.read_log(off))
        assert not bad, "\n".join(bad)


def test_fleet_shares_nonces(fleet, keys, pk):
    (a, b, c), _ = fleet
    offsets = [s.log_offset() for s in (a, b, c)]
    token = bound_token(keys["rsa1"], pk["es"])
    from_a = assert_nonce_asked(call(a, "/n/x", token, pk["es"]))
    from_b = assert_nonce_asked(call(b, "/n/x", token, pk["es"]))
    assert call(b, "/n/x", token, pk["es"], from_a).status_code == 200
    assert call(a, "/n/x", token, pk["es"], from_b).status_code == 200
    assert "ORDSJWT00192: DPoP nonces (where required) are made with the " \
        "key of OrdsJwtDpopNonceKeyFile" in a.read_log()
    fleet_log_ok((a, b, c), offsets)


def test_another_key_file_refuses(fleet, keys, pk):
    (a, b, c), _ = fleet
    offset = c.log_offset()
    token = bound_token(keys["rsa1"], pk["es"])
    from_a = assert_nonce_asked(call(a, "/n/y", token, pk["es"]))
    from_c = assert_nonce_asked(call(c, "/n/y", token, pk["es"], from_a))
    assert "not issued with this server's nonce key" in \
        nonce_lines(c.read_log(offset))[-1]
    assert call(c, "/n/y", token, pk["es"], from_c).status_code == 200
    assert_nonce_asked(call(a, "/n/y", token, pk["es"], from_c))


def test_key_file_nonces_as_documented(fleet, keys, pk):
    """A nonce made from the key file's bytes with the format of
    src/dpop_nonce.h is good: the format is what the README says. One made
    for a time ahead of the clock (more than the skew) or past the
    lifetime is stale."""
    (a, b, c), shared_key = fleet
    offset = a.log_offset()
    token = bound_token(keys["rsa1"], pk["es"])
    t = now()
    assert call(a, "/n/z", token, pk["es"],
                nonce(shared_key, t - 1)).status_code == 200
    assert_nonce_asked(call(a, "/n/z", token, pk["es"],
                            nonce(shared_key, t + 60)))
    assert_nonce_asked(call(a, "/n/z", token, pk["es"],
                            nonce(shared_key, t - LIFETIME - 5)))
    lines = nonce_lines(a.read_log(offset))
    assert "s in the future (skew 2 s)" in lines[0], lines
    assert "the nonce is stale: issued" in lines[1], lines
    resp = call(a, "/n/z", token, pk["es"],
                nonce(shared_key, t - LIFETIME // 2 - 2))
    assert resp.status_code == 200 and len(resp.headers["DPoP-Nonce"]) == 32


# --- ordsjwt-check ------------------------------------------------------------

def checker(server, profile, token, proof_, url, *more):
    from test_checker import with_config
    return with_config(server, profile, token, "--dpop", proof_, "--url", url,
                       *more)


def test_checker_random_key(httpd, keys, pk, client):
    """Without a key file the tool cannot know the server's key: it says
    whether the proof has a nonce where one is required, and that it
    cannot judge it."""
    token = bound_token(keys["rsa1"], pk["es"])
    u = httpd.url("/p/chk")
    run = checker(httpd, "dpon", token, proof(pk["es"], "GET", u, token), u)
    assert run.code == 1 and run.result == "dpop_nonce_required", run
    step, detail, hint = run.failed["dpop_nonce_required"]
    assert step == "dpop nonce" and "no nonce" in detail and \
        "DPoP-Nonce" in hint, run
    assert 'error="use_dpop_nonce"' in run.out, run
    fresh = assert_nonce_asked(call(httpd, "/p/chk", token, pk["es"]))
    run = checker(httpd, "dpon", token,
                  proof(pk["es"], "GET", u, token, nonce=fresh), u)
    assert run.code == 0 and "not judged" in run.out, run
    # dp: only where the location says so (--dpop-nonce); dpoff wins
    p = proof(pk["es"], "GET", u, token)
    assert checker(httpd, "dp", token, p, u).result == "accepted"
    assert checker(httpd, "dp", token, p, u, "--dpop-nonce").result == \
        "dpop_nonce_required"
    assert checker(httpd, "dpoff", token, p, u, "--dpop-nonce").result == \
        "accepted"
    run = checker(httpd, "dp", token, p, u, "--dpop-nonce-key-file",
                  "/nonexistent/k")
    assert run.code == 2 and "cannot be read" in run.err, run


def test_checker_and_module_agree_before_the_token(httpd, keys, pk, client):
    """A token that is not even a JWS, with a proof without a nonce, at a
    location of one profile: both ask for the nonce first."""
    u = httpd.url("/p/junk")
    junk = "not-a-token"
    p = proof(pk["es"], "GET", u, junk)
    assert_nonce_asked(send(httpd, "/p/junk", junk, p))
    run = checker(httpd, "dpon", junk, p, u)
    assert run.result == "dpop_nonce_required", run


def test_checker_with_the_key_file(fleet, keys, pk):
    (a, b, c), shared_key = fleet
    token = bound_token(keys["rsa1"], pk["es"])
    u = a.url("/p/chk")
    from_a = assert_nonce_asked(call(a, "/p/chk", token, pk["es"]))
    run = checker(a, "dpon", token,
                  proof(pk["es"], "GET", u, token, nonce=from_a), u)
    assert run.code == 0, run
    assert "issued 0 s ago with the key, good for %d s" % LIFETIME in run.out \
        or "issued 1 s ago with the key" in run.out, run
    from_c = assert_nonce_asked(call(c, "/p/chk", token, pk["es"]))
    p = proof(pk["es"], "GET", u, token, nonce=from_c)
    run = checker(a, "dpon", token, p, u)
    assert run.result == "dpop_nonce_required", run
    assert "not issued with this server's nonce key" in \
        run.failed["dpop_nonce_required"][1], run
    # c's key file judges c's nonce
    run = checker(a, "dpon", token, p, u, "--dpop-nonce-key-file",
                  c.site.split("OrdsJwtDpopNonceKeyFile ")[1].split("\n")[0])
    assert run.code == 0, run
    # a nonce old enough: the tool says httpd would renew it
    old = nonce(shared_key, now() - LIFETIME // 2 - 2)
    run = checker(a, "dpon", token,
                  proof(pk["es"], "GET", u, token, nonce=old), u)
    assert run.code == 0 and "would send a fresh one" in run.out, run
