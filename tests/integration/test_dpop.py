# SPDX-License-Identifier: Apache-2.0
"""DPoP-bound access tokens (RFC 9449, issue 13) on a real httpd, event
and prefork: honest proofs (ES256, RS256, PS256), every rule of section
4.3 broken one at a time, one use per proof (shmcb replay store), a bound
token sent as Bearer, dpop=required, the token cache (a cached token's
proof is checked on every request), OrdsJwtDpopBaseUrl, and the
challenges. Then a fleet: two httpds (event, prefork) sharing a real
redis-server (OrdsJwtReplayCache redis:...), a replay across them, redis
stopped (503, Retry-After, logged once) and back."""

import http.client
import os
import time

import pytest

import sites
from dpop import bound_token, challenges, jkt, proof, proof_keys, send
from helpers import Client
from httpd_instance import Httpd, bad_lines
from jwks_server import free_port
from tokens import claims, mint, now

SHMCB = "LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so"
ALGS = 'algs="ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512"'


def dpop_site(pki, jwks, port):
    url = jwks.url
    protected = "\n".join([
        sites.location("/dpop/", "dp"),
        sites.location("/must/", "dpmust"),
        sites.location("/plain/", "plain"),
        "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
        "    Require ip 127.0.0.1\n</Location>",
    ])
    address = "127.0.0.1:%d" % port
    return sites.site(
        SHMCB,
        "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so",
        sites.ca(pki),
        "OrdsJwtTokenCache 64",
        "OrdsJwtAllowedSkew 5",
        "OrdsJwtDpopProofWindow 30",
        sites.profile("dp", jwk_url=url("/dp"), dpop="allowed"),
        sites.profile("dpmust", jwk_url=url("/dp"), dpop="required"),
        sites.profile("plain", jwk_url=url("/dp")),
        sites.virtual_host(address, protected, server_name="127.0.0.1"),
        sites.virtual_host(address, protected,
                           "OrdsJwtDpopBaseUrl https://api.example.com/",
                           "ServerAlias api.example.com",
                           server_name="behind.test"),
    )


@pytest.fixture(scope="module", params=["event", "prefork"])
def httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    port = free_port()
    server = Httpd(os.path.join(workdir, "dpop-" + request.param),
                   request.param, dpop_site(pki, jwks, port), port=port)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pk():
    return proof_keys()


@pytest.fixture
def client(httpd):
    return Client(httpd)


@pytest.fixture(autouse=True)
def _republish(jwks, keys):
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    yield


def url(httpd, path):
    return httpd.url(path)


def assert_proof_refused(resp, error="invalid_dpop_proof"):
    assert resp.status_code == 401, (resp.status_code, dict(resp.headers))
    ch = challenges(resp)
    assert ch["DPoP"].startswith("DPoP " + ALGS + ', error="%s"' % error), ch
    assert ch["Bearer"] == 'Bearer realm="ORDS"', ch


@pytest.mark.parametrize("alg", ["es", "rs", "ps"])
def test_honest_proof(httpd, keys, pk, client, alg):
    token = bound_token(keys["rsa1"], pk[alg])
    u = url(httpd, "/dpop/emp")
    resp = send(httpd, "/dpop/emp?page=2", token,
                proof(pk[alg], "GET", u, token))
    assert resp.status_code == 200, dict(resp.headers)
    assert resp.headers["X-Remote-User"] == "alice"


def test_proof_used_once(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", url(httpd, "/dpop/x"), token)
    assert send(httpd, "/dpop/x", token, p).status_code == 200
    # whichever child answers: the shmcb store is shared by all of them
    for _ in range(3):
        assert_proof_refused(send(httpd, "/dpop/x", token, p))
    assert "dpop_proof_replayed" in client.new_log()


BROKEN = {
    "typ missing": dict(drop=("typ",)),
    "typ JWT": dict(header={"typ": "JWT"}),
    "alg none": dict(header={"alg": "none"}, signature=b""),
    "alg HS256": dict(header={"alg": "HS256"}, signature=b"x" * 32),
    "no jwk": dict(drop=("jwk",)),
    "private jwk": "private",
    "other key signs": "other-signer",
    "htm": dict(over={"htm": "POST"}),
    "htu path": dict(over={"htu": "/dpop/other"}),
    "htu scheme": dict(over={"htu": "https"}),
    "htu missing": dict(drop=("htu",)),
    "iat old": dict(over={"iat": -36}),
    # beyond the 5 s skew, with room for the server's clock to tick twice
    "iat future": dict(over={"iat": 8}),
    "iat missing": dict(drop=("iat",)),
    "ath wrong": dict(over={"ath": "A" * 43}),
    "ath missing": dict(drop=("ath",)),
    "jti missing": dict(drop=("jti",)),
    "proof key not cnf.jkt": "other-key",
}


def broken_proof(httpd, pk, token, how):
    u = url(httpd, "/dpop/b")
    key = pk["es"]
    if how == "private":
        jwk_ = key.jwk.export_private(as_dict=True)
        return proof(key, "GET", u, token, header={"jwk": jwk_})
    if how == "other-signer":
        return proof(key, "GET", u, token, sign_with=pk["other"])
    if how == "other-key":
        return proof(pk["other"], "GET", u, token)
    over = dict(how.get("over", {}))
    if "iat" in over:
        over["iat"] += now()
    if over.get("htu") == "/dpop/other":
        over["htu"] = url(httpd, "/dpop/other")
    if over.get("htu") == "https":
        over["htu"] = u.replace("http://", "https://")
    return proof(key, "GET", u, token, header=how.get("header"),
                 drop=how.get("drop", ()), signature=how.get("signature"),
                 **over)


@pytest.mark.parametrize("how", list(BROKEN), ids=list(BROKEN))
def test_each_rule_broken(httpd, keys, pk, client, how):
    token = bound_token(keys["rsa1"], pk["es"])
    resp = send(httpd, "/dpop/b", token, broken_proof(httpd, pk, token,
                                                      BROKEN[how]))
    assert_proof_refused(resp)
    lines = [l for l in client.new_log().splitlines() if "ORDSJWT00070" in l]
    assert lines and "dpop_proof_invalid" in lines[-1], client.new_log()


def test_no_proof_or_two(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    assert_proof_refused(send(httpd, "/dpop/n", token, None))
    p1 = proof(pk["es"], "GET", url(httpd, "/dpop/n"), token)
    p2 = proof(pk["es"], "GET", url(httpd, "/dpop/n"), token)
    assert_proof_refused(send(httpd, "/dpop/n", token, [p1, p2]))
    assert "dpop_proof_missing" in client.new_log()


def test_bound_token_as_bearer(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", url(httpd, "/dpop/c"), token)
    resp = send(httpd, "/dpop/c", token, p, scheme="Bearer")
    assert_proof_refused(resp, error="invalid_token")
    assert "binding_refused" in client.new_log()


def test_unbound_token_with_dpop_scheme(httpd, keys, pk, client):
    token = mint(claims(), key=keys["rsa1"])
    p = proof(pk["es"], "GET", url(httpd, "/dpop/u"), token)
    assert_proof_refused(send(httpd, "/dpop/u", token, p),
                         error="invalid_token")
    # a plain bearer token is fine where DPoP is allowed, not required
    resp = send(httpd, "/dpop/u", token, None, scheme="Bearer")
    assert resp.status_code == 200
    resp = send(httpd, "/must/u", token, None, scheme="Bearer")
    assert resp.status_code == 401
    assert challenges(resp)["DPoP"].startswith("DPoP " + ALGS)


def test_dpop_off_profile(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", url(httpd, "/plain/x"), token)
    resp = send(httpd, "/plain/x", token, p)
    assert resp.status_code == 401
    assert "dpop=allowed enables it" in client.new_log()
    # no DPoP challenge where no profile takes DPoP
    resp = send(httpd, "/plain/x", None)
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="ORDS"'


def test_challenge_without_token(httpd, client):
    resp = send(httpd, "/dpop/x", None)
    assert resp.status_code == 401
    ch = challenges(resp)
    assert ch["DPoP"] == "DPoP " + ALGS and ch["Bearer"] == 'Bearer realm="ORDS"'


def test_cached_token_still_needs_its_proof(httpd, keys, pk, client):
    """The token cache keeps the token's verdict, never the proof's."""
    token = bound_token(keys["rsa1"], pk["es"])
    u = url(httpd, "/dpop/c")
    for _ in range(4):
        assert send(httpd, "/dpop/c", token,
                    proof(pk["es"], "GET", u, token)).status_code == 200
    assert_proof_refused(send(httpd, "/dpop/c", token, None))
    assert_proof_refused(send(httpd, "/dpop/c", token,
                              proof(pk["other"], "GET", u, token)))
    assert_proof_refused(send(httpd, "/dpop/c", token,
                              proof(pk["es"], "POST", u, token)))
    resp = send(httpd, "/dpop/c", token, None, scheme="Bearer")
    assert resp.status_code == 401


def test_base_url_behind_balancer(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    ext = "https://API.example.com:443/dpop/./lb"
    resp = send(httpd, "/dpop/lb", token, proof(pk["es"], "GET", ext, token),
                host="behind.test")
    assert resp.status_code == 200, dict(resp.headers)
    # the URL httpd sees is not what that server's clients sign
    resp = send(httpd, "/dpop/lb", token,
                proof(pk["es"], "GET", url(httpd, "/dpop/lb"), token),
                host="behind.test")
    assert_proof_refused(resp)


def raw_send(httpd, target, token, proof_, host=None):
    """GET target as sent (a path, or absolute-form), with Host: host (this
    server's address by default)."""
    conn = http.client.HTTPConnection("127.0.0.1", httpd.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host or "127.0.0.1:%d" % httpd.port)
        conn.putheader("Authorization", "DPoP " + token)
        conn.putheader("DPoP", proof_)
        conn.putheader("Connection", "close")
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.headers.get_all("WWW-Authenticate") or []
    finally:
        conn.close()


def assert_raw_refused(answer):
    status, challenges_ = answer
    assert status == 401, answer
    assert any(c.startswith("DPoP ") and 'error="invalid_dpop_proof"' in c
               for c in challenges_), answer


def test_htu_absolute_form_for_another_server(httpd, keys, pk, client):
    """Issue 20: a proof made for another resource server, sent here as
    GET https://victim-rs.example/... (absolute-form): the request target
    does not choose the URL htu is compared with."""
    token = bound_token(keys["rsa1"], pk["es"])
    victim = "https://victim-rs.example/dpop/v"
    for host in ("victim-rs.example", None):
        assert_raw_refused(raw_send(httpd, victim, token,
                                    proof(pk["es"], "GET", victim, token),
                                    host=host))
    log = client.new_log()
    assert "names https://victim-rs.example/, this server is " \
        "http://127.0.0.1:%d/" % httpd.port in log, log
    assert "dpop_proof_invalid" in log


def test_htu_host_header_does_not_choose(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    for evil in ("http://evil.example:%d/dpop/h" % httpd.port,
                 "http://evil.example/dpop/h"):
        host = evil.split("/")[2]
        resp = send(httpd, "/dpop/h", token, proof(pk["es"], "GET", evil,
                                                   token), host=host)
        assert_proof_refused(resp)
    assert "htu is not the request URL http://127.0.0.1:%d/dpop/h" \
        % httpd.port in client.new_log()


def test_htu_absolute_form_naming_this_server(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    mine = url(httpd, "/dpop/a")
    status, _ = raw_send(httpd, mine + "?x=1", token,
                         proof(pk["es"], "GET", mine, token))
    assert status == 200


def test_htu_base_url_wins_over_absolute_form(httpd, keys, pk, client):
    """Behind a balancer (OrdsJwtDpopBaseUrl https://api.example.com/): an
    absolute-form target naming that URL is taken; one naming the virtual
    host's own ServerName is not."""
    token = bound_token(keys["rsa1"], pk["es"])
    ext = "https://api.example.com/dpop/b"
    status, _ = raw_send(httpd, ext, token, proof(pk["es"], "GET", ext, token),
                         host="api.example.com")
    assert status == 200
    own = "http://behind.test:%d/dpop/b" % httpd.port
    assert_raw_refused(raw_send(httpd, own, token,
                                proof(pk["es"], "GET", own, token),
                                host="behind.test"))
    assert "this server is https://api.example.com/" in client.new_log()


def test_proof_never_logged(httpd, keys, pk, client):
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", url(httpd, "/dpop/l"), token, over={})
    send(httpd, "/dpop/l", token, p)
    send(httpd, "/dpop/l", token, p)
    log = client.new_log()
    for part in p.split(".") + token.split("."):
        assert part not in log
    assert not bad_lines(log)


def test_status_page_counts_binding_reasons(httpd, keys, pk, client):
    import requests

    def refused():
        doc = requests.get(httpd.url("/ordsjwt-status?json"), timeout=10).json()
        return [p for p in doc["profiles"] if p["name"] == "dp"][0]["refused"]

    before = refused()
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", url(httpd, "/dpop/st"), token)
    assert send(httpd, "/dpop/st", token, p).status_code == 200
    assert send(httpd, "/dpop/st", token, p).status_code == 401
    assert send(httpd, "/dpop/st", token, None).status_code == 401
    assert send(httpd, "/dpop/st", token, p, scheme="Bearer").status_code == 401
    after = refused()
    for reason in ("dpop_proof_replayed", "dpop_proof_missing",
                   "binding_refused"):
        assert after[reason] == before[reason] + 1, (reason, after)


# --- configuration ------------------------------------------------------------

def test_configtest_needs_a_replay_store(workdir, pki, jwks):
    site = sites.site(sites.ca(pki),
                      sites.profile("dp", jwk_url=jwks.url("/dp"),
                                    dpop="allowed"),
                      sites.location("/dpop/", "dp"))
    server = Httpd(os.path.join(workdir, "dpop-no-store"), "event", site)
    server.write_config()
    rc, out = server.configtest()
    assert rc != 0 and "ORDSJWT00072" in out and "socache_shmcb" in out, out
    for bad, why in (("OrdsJwtReplayCache nosuch", "no socache provider"),
                     ("OrdsJwtDpopBaseUrl ftp://x", "OrdsJwtDpopBaseUrl"),
                     ("OrdsJwtDpopBaseUrl https://x/?q", "query"),
                     ("OrdsJwtDpopProofWindow 0", "OrdsJwtDpopProofWindow")):
        server.site = site + bad + "\n"
        server.write_config()
        rc, out = server.configtest()
        assert rc != 0 and why in out, (bad, out)


def test_configtest_warns_of_a_vhost_without_server_name(workdir, pki, jwks):
    """htu is compared with the virtual host's ServerName: one without it
    gets the main server's name, which clients may not sign."""
    server = Httpd(os.path.join(workdir, "dpop-unnamed"), "event", "")
    address = "127.0.0.1:%d" % server.port
    loc = sites.location("/dpop/", "dp")
    base = (SHMCB, sites.ca(pki),
            sites.profile("dp", jwk_url=jwks.url("/dp"), dpop="allowed"),
            sites.profile("plain", jwk_url=jwks.url("/dp")))
    cases = [
        (sites.virtual_host(address, loc), True),
        # a section of the main server is in every virtual host too
        (loc + "\n" + sites.virtual_host(address, "KeepAlive On"), True),
        (sites.virtual_host(address, loc, server_name="api.test"), False),
        (sites.virtual_host(address, loc,
                            "OrdsJwtDpopBaseUrl https://api.example.com"),
         False),
        (sites.virtual_host(address, sites.location("/b/", "plain")), False),
    ]
    for vhost, warns in cases:
        server.site = sites.site(*base, vhost)
        rc, out = server.configtest()
        assert rc == 0, out
        assert ("ORDSJWT00085" in out) == warns, (vhost, out)
        if warns:
            assert "profile dp" in out and "set ServerName" in out, out


# --- ordsjwt-check --dpop ---------------------------------------------------

def test_checker_dpop(httpd, keys, pk, client):
    from test_checker import with_config
    token = bound_token(keys["rsa1"], pk["es"])
    u = url(httpd, "/dpop/chk")
    run = with_config(httpd, "dp", token, "--dpop",
                      proof(pk["es"], "GET", u, token), "--url", u + "?x=1")
    assert run.result == "accepted", run
    assert "DPoP proof by key jkt %s holds" % jkt(pk["es"]) in run.out, run
    run = with_config(httpd, "dp", token, "--dpop",
                      proof(pk["es"], "POST", u, token), "--url", u)
    assert run.result == "dpop_proof_invalid", run
    step, detail, hint = run.failed["dpop_proof_invalid"]
    assert step == "binding" and "htm" in detail and hint, run
    assert 'DPoP error="invalid_dpop_proof"' in run.out, run
    # the same token as Bearer, as the module refuses it
    run = with_config(httpd, "dp", token)
    assert run.result == "binding_refused", run
    assert "DPoP scheme" in run.failed["binding_refused"][1], run
    run = with_config(httpd, "dpmust", mint(claims(), key=keys["rsa1"]))
    assert run.result == "binding_refused", run
    run = with_config(httpd, "dp", mint(claims(), key=keys["rsa1"],
                                        header={"typ": "dpop+jwt"}))
    assert run.result == "token_type" and run.failed["token_type"][2], run
    run = with_config(httpd, "dp", token, "--dpop", "x.y.z")
    assert run.code == 2 and "--url" in run.err, run


def test_checker_dpop_where_httpd_answers(httpd, keys, pk):
    """The binding step is the module's, with the checker's evidence: at a
    --location without --url (and no OrdsJwtDpopBaseUrl) the URL the proof
    must name is unknown, which the proof line says (it used to crash on a
    proof whose htm held); two proofs in --dpop are the two DPoP headers
    httpd answers dpop_proof_missing to."""
    from test_checker import check
    token = bound_token(keys["rsa1"], pk["es"])
    u = url(httpd, "/dpop/chk")
    good = proof(pk["es"], "GET", u, token)
    run = check("--config", httpd.conf, "--location", "/dpop/chk", "--dpop",
                good, token)
    assert run.result == "dpop_proof_invalid", run
    step, detail, hint = run.failed["dpop_proof_invalid"]
    assert step == "binding" and "give --url" in detail and hint, run
    run = check("--config", httpd.conf, "--location", "/dpop/chk", "--dpop",
                good, "--url", u, token)
    assert run.result == "accepted", run
    run = check("--config", httpd.conf, "--location", "/dpop/chk", "--dpop",
                good + ", " + good, "--url", u, token)
    assert run.result == "dpop_proof_missing", run


# --- the fleet: two httpds sharing one redis replay store -------------------

REDIS_MOD = "LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so"
# mod_socache_redis's own errors while redis is down (apr_redis)
REDIS_DOWN_IDS = ("ORDSJWT00071", "AH03478", "AH03480", "AH03481", "AH03479", "AH03482",
                  "AH03483", "AH03484", "AH03485", "AH03486")


def fleet_site(pki, jwks, redis):
    return sites.site(
        REDIS_MOD,
        sites.ca(pki),
        "OrdsJwtReplayCache redis:%s" % redis.address,
        "RedisTimeout 1",
        "RedisConnPoolTTL 1",
        sites.profile("dp", jwk_url=jwks.url("/dp"), dpop="allowed"),
        sites.location("/dpop/", "dp"),
    )


@pytest.fixture(scope="module")
def fleet(workdir, pki, jwks, keys):
    from redis_server import RedisServer
    jwks.publish("/dp", keys.jwks("rsa1", "ec1"))
    redis = RedisServer(os.path.join(workdir, "redis"))
    redis.start()
    servers = [Httpd(os.path.join(workdir, "fleet-" + mpm), mpm,
                     fleet_site(pki, jwks, redis)) for mpm in ("event", "prefork")]
    for s in servers:
        s.start()
    yield redis, servers
    for s in servers:
        s.stop()
    redis.stop()


def fleet_log_ok(servers, offsets, acknowledged=()):
    for s, off in zip(servers, offsets):
        bad = bad_lines(s.read_log(off), acknowledged)
        assert not bad, "\n".join(bad)


def test_fleet_replay_on_each_server(fleet, keys, pk):
    """A proof is used once on each server, through redis."""
    redis, (a, b) = fleet
    offsets = [s.log_offset() for s in (a, b)]
    token = bound_token(keys["rsa1"], pk["es"])
    p = proof(pk["es"], "GET", b.url("/dpop/f"), token)
    assert send(b, "/dpop/f", token, p).status_code == 200
    resp = send(b, "/dpop/f", token, p)
    assert_proof_refused(resp)
    p = proof(pk["es"], "GET", a.url("/dpop/f"), token)
    assert send(a, "/dpop/f", token, p).status_code == 200
    assert_proof_refused(send(a, "/dpop/f", token, p))
    fleet_log_ok((a, b), offsets)


def test_fleet_shares_the_store(fleet, keys, pk):
    """One jti, seen by a, is refused by b: the servers share redis (the
    key is the jti scoped by the proof key, not the URL)."""
    redis, (a, b) = fleet
    offsets = [s.log_offset() for s in (a, b)]
    token = bound_token(keys["rsa1"], pk["es"])
    jti = "fleet-" + str(time.time())
    assert send(a, "/dpop/s", token,
                proof(pk["es"], "GET", a.url("/dpop/s"), token,
                      jti=jti)).status_code == 200
    resp = send(b, "/dpop/s", token,
                proof(pk["es"], "GET", b.url("/dpop/s"), token, jti=jti))
    assert_proof_refused(resp)
    assert "dpop_proof_replayed" in b.read_log(offsets[1])
    fleet_log_ok((a, b), offsets)


def test_fleet_redis_down_then_back(fleet, keys, pk):
    redis, (a, b) = fleet
    offsets = [s.log_offset() for s in (a, b)]
    token = bound_token(keys["rsa1"], pk["es"])
    redis.stop()
    try:
        for _ in range(4):
            resp = send(a, "/dpop/d", token,
                        proof(pk["es"], "GET", a.url("/dpop/d"), token))
            assert resp.status_code == 503
            assert int(resp.headers["Retry-After"]) > 0
    finally:
        redis.start()
    deadline = time.time() + 40
    while True:
        resp = send(a, "/dpop/d", token,
                    proof(pk["es"], "GET", a.url("/dpop/d"), token))
        if resp.status_code == 200 or time.time() > deadline:
            break
        assert resp.status_code == 503
        time.sleep(0.5)
    assert resp.status_code == 200
    # logged once a minute per child process (a: event, 2 children), not
    # for each of the 503 answers
    logged = a.read_log(offsets[0]).count("ORDSJWT00071")
    assert 1 <= logged <= 2, a.read_log(offsets[0])
    fleet_log_ok((a, b), offsets, REDIS_DOWN_IDS)
