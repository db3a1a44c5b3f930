# SPDX-License-Identifier: Apache-2.0
"""A full shmcb replay store (issue 20, item 8). shmcb makes room for a new
entry by dropping the oldest entries of its subcache (chosen by the key's
first byte), expired or not, and says nothing: before the module kept a
mirror of its subcaches, a proof whose entry was dropped while still
inside its window could be used once more (300 proofs through the 8192-byte
store: 228 of them replayed). Now the module answers 503 with Retry-After
to a proof that would make shmcb drop a live one (ORDSJWT00086, once a
minute for the host), and takes proofs again once older ones expire.

A deliberately tiny store (shmcb's minimum, 8192 bytes): 4 subcaches of 31
proofs with the module's hints. Event and prefork."""

import hashlib
import os
import re
import time
import uuid

import pytest

import sites
from dpop import bound_token, jkt, proof, proof_keys, send
from httpd_instance import Httpd, bad_lines

MODS = "/usr/lib/apache2/modules"
HELD = 30           # proofs the 8192-byte store surely holds
OVERFLOW = 300      # far more than it holds
TOTAL = 124         # what it holds: 4 subcaches of 31 proofs
FULL = "ORDSJWT00086"       # a proof refused: its subcache is full
SMALL = "ORDSJWT00088"      # startup: the store holds few proofs a second
ROOM = re.compile(r"ORDSJWT00087: .* holds (\d+) subcaches of (\d+) proofs, "
                  r"(\d+) in all")


def tiny_store(request, workdir, pki, jwks, keys, window):
    jwks.publish("/re", keys.jwks("ec1"))
    d = os.path.join(workdir, "replay-eviction-%s-%s" % (request.param,
                                                         request.node.name))
    server = Httpd(d, request.param, sites.site(
        "LoadModule socache_shmcb_module %s/mod_socache_shmcb.so" % MODS,
        sites.ca(pki),
        "OrdsJwtDpopProofWindow %d" % window,
        "OrdsJwtReplayCache shmcb:%s/run/replay(8192)" % d,
        sites.profile("re", jwk_url=jwks.url("/re"), dpop="required"),
        sites.location("/re/", "re")))
    server.start(acknowledged=(SMALL,))
    return server


@pytest.fixture(params=("event", "prefork"))
def small(request, workdir, pki, jwks, keys):
    server = tiny_store(request, workdir, pki, jwks, keys, 120)
    yield server
    server.stop()


@pytest.fixture(params=("event", "prefork"))
def short(request, workdir, pki, jwks, keys):
    server = tiny_store(request, workdir, pki, jwks, keys, 20)
    yield server
    server.stop()


def client(server, keys, aim=False):
    """A token bound to a fresh proof key, and a proof maker; aim: every
    proof's replay key (SHA-256 of the thumbprint, a NUL and the jti)
    starts with a byte that is 0 modulo 4, i.e. would fall into the
    first of 4 subcaches."""
    pk = proof_keys()["es"]
    token = bound_token(keys["ec1"], pk)
    prefix = jkt(pk).encode() + b"\0"

    def jti():
        while True:
            j = str(uuid.uuid4())
            if not aim or hashlib.sha256(prefix + j.encode()).digest()[0] \
                    % 4 == 0:
                return j

    def make(**over):
        return proof(pk, "GET", server.url("/re/"), token, jti=jti(), **over)
    return token, make


def room(server):
    """(subcaches, proofs each, in all) that the module said at startup."""
    m = ROOM.search(server.read_log())
    assert m, server.read_log()
    return tuple(int(g) for g in m.groups())


def test_the_store_says_what_it_holds(small):
    # 4 subcaches of 31 with the module's hints (72 with hints of the id
    # and value alone); checked against shmcb at startup, or ORDSJWT00089
    assert room(small) == (4, 31, TOTAL)
    log = small.read_log()
    assert SMALL in log and "raise the size in OrdsJwtReplayCache" in log
    assert "ORDSJWT00089" not in log
    # apachectl configtest says it too
    rc, out = small.configtest()
    assert rc == 0 and ROOM.search(out) and SMALL in out, out


def test_a_size_shmcb_refuses_fails_configtest(small):
    site = small.site
    small.site = site.replace("(8192)", "(4096)")
    try:
        rc, out = small.configtest()
        assert rc != 0 and "ORDSJWT00090" in out and ">= 8192" in out, out
    finally:
        small.site = site
        small.write_config()


def test_replays_refused_while_the_store_holds_them(small, keys):
    token, make = client(small, keys)
    offset = small.log_offset()
    proofs = [make() for _ in range(HELD)]
    assert [send(small, "/re/", token, p).status_code
            for p in proofs] == [200] * HELD
    assert [send(small, "/re/", token, p).status_code
            for p in reversed(proofs)] == [401] * HELD
    assert not bad_lines(small.read_log(offset))


def test_a_client_cannot_aim_at_one_subcache(small, keys):
    """Proofs whose keys would all fall into one subcache of 31: shmcb
    gets the key keyed with a secret, so they spread over all four."""
    token, make = client(small, keys, aim=True)
    offset = small.log_offset()
    codes = [send(small, "/re/", token, make()).status_code
             for _ in range(62)]
    assert codes == [200] * 62, codes
    assert not bad_lines(small.read_log(offset))


def test_no_replay_after_the_store_overflowed(small, keys):
    """Far more fresh proofs than the store holds, then each accepted one
    replayed, newest first: none is accepted twice; the proofs beyond
    the room got 503 with Retry-After, logged once for the host."""
    token, make = client(small, keys)
    offset = small.log_offset()
    proofs = [make() for _ in range(OVERFLOW)]
    answers = [send(small, "/re/", token, p) for p in proofs]
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 503}, codes
    taken = [p for p, c in zip(proofs, codes) if c == 200]
    replayed = [send(small, "/re/", token, p).status_code
                for p in reversed(taken)]
    assert replayed.count(200) == 0, "%d of %d replayed" % (
        replayed.count(200), len(taken))
    assert replayed == [401] * len(taken), replayed
    assert 80 <= len(taken) <= TOTAL, len(taken)
    for a in answers:
        if a.status_code == 503:
            assert 1 <= int(a.headers["Retry-After"]) <= 121
    log = small.read_log(offset)
    assert log.count(FULL) == 1, log
    assert "shmcb:PATH(BYTES)" in log
    assert not bad_lines(log, (FULL,))


def test_full_store_refuses_then_takes_again(short, keys):
    """A store of N proofs: N proofs of one moment are taken (a proof in
    a full subcache is refused with 503 and not stored); then every new
    proof is refused within the window, replays still get 401, and once
    the N expire (iat + window + 1) new proofs are taken again."""
    token, make = client(short, keys)
    total = TOTAL
    offset = short.log_offset()
    iat = int(time.time())
    proofs = [make(iat=iat) for _ in range(3 * total)]
    taken = []
    for p in proofs:
        code = send(short, "/re/", token, p).status_code
        assert code in (200, 503), code
        if code == 200:
            taken.append(p)
        if len(taken) == total:
            break
    assert len(taken) == total
    assert time.time() < iat + 20, "too slow to fill the store in a window"
    refused = send(short, "/re/", token, make())
    assert refused.status_code == 503
    assert 1 <= int(refused.headers["Retry-After"]) <= 21
    assert [send(short, "/re/", token, p).status_code
            for p in taken[:10]] == [401] * 10
    time.sleep(max(0.0, iat + 21 + 1 - time.time()))
    assert [send(short, "/re/", token, make()).status_code
            for _ in range(20)] == [200] * 20
    log = short.read_log(offset)
    assert log.count(FULL) == 1, log
    assert not bad_lines(log, (FULL,))
