# SPDX-License-Identifier: Apache-2.0
"""Require ords-claim with RFC 6901 JSON pointers, as an attacker who
chooses claim names would try them (issue 20, item 8): "~0" and "~1"
escapes (and "~01", which is "~1", never "/"), empty segments, array
indexes, and names that only look like the one the Require line names
(case, blanks, zero-width and Cyrillic letters, an escaped duplicate).
A valid signature is assumed (the attacker is a client of an issuer that
lets it choose some claims); nothing but the exact member may match.
Its own httpd per MPM."""

import json
import os

import pytest

import sites
from helpers import Client, assert_insufficient_scope, assert_invalid_token, assert_ok
from httpd_instance import Httpd, bad_lines
from tokens import claims, mint, raw_token

# refusals, and the warning about claim names that collide (TIER, tier)
REFUSED = ("ORDSJWT00030", "AH01631", "ORDSJWT00035")
LINES = {
    "tilde": "/a~1b/~0c gold",          # member "a/b", then "~c"
    "tilde01": "/x~01 gold",            # member "x~1"
    "empty": "/org//x gold",            # org, then "", then x
    "rootempty": "/ gold",              # the member named ""
    "trailing": "/groups/ gold",        # groups, then ""
    "index": "/groups/1 gold",
    "name": "tier gold",
    "slashname": "a/b gold",            # a name, not a pointer
}


@pytest.fixture(scope="module", params=("event", "prefork"))
def cp_httpd(request, workdir, pki, jwks, keys):
    jwks.publish("/cp-jwks", keys.jwks("rsa1"))
    parts = [sites.ca(pki), sites.profile("cp", jwk_url=jwks.url("/cp-jwks"))]
    for name, line in LINES.items():
        parts.append(sites.location("/%s/" % name, "cp", "ords-claim " + line))
    server = Httpd(os.path.join(workdir, "claim-pointers-" + request.param),
                   request.param, sites.site(*parts)).start()
    yield server
    server.stop()


@pytest.fixture
def cp(cp_httpd):
    client = Client(cp_httpd)
    offset = cp_httpd.log_offset()
    yield client
    bad = bad_lines(cp_httpd.read_log(offset), REFUSED)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def status(cp, keys, path, **over):
    return cp.get(path, mint(claims(**over), key=keys["rsa1"]))


@pytest.mark.parametrize("path, over", [
    ("/tilde/", {"a/b": {"~c": "gold"}}),
    ("/tilde01/", {"x~1": "gold"}),
    ("/empty/", {"org": {"": {"x": "gold"}}}),
    ("/rootempty/", {"": "gold"}),
    ("/trailing/", {"groups": {"": "gold"}}),
    ("/index/", {"groups": ["x", "gold"]}),
    ("/name/", {"tier": "gold"}),
    ("/slashname/", {"a/b": "gold"}),
])
def test_exact_member_matches(cp, keys, path, over):
    assert_ok(status(cp, keys, path, **over))


@pytest.mark.parametrize("path, over", [
    # the escapes are read once, ~1 before ~0 would be wrong
    ("/tilde/", {"a": {"b": {"~c": "gold"}}}),
    ("/tilde/", {"a~1b": {"~c": "gold"}}),
    ("/tilde/", {"a/b": {"/c": "gold"}}),
    ("/tilde/", {"a/b": {"~0c": "gold"}}),
    ("/tilde01/", {"x/": "gold"}),
    ("/tilde01/", {"x~": {"1": "gold"}}),
    # an empty segment is the member "", not a wildcard or "skip"
    ("/empty/", {"org": {"x": "gold"}}),
    ("/empty/", {"org": [{"x": "gold"}]}),
    ("/rootempty/", {"gold": "gold"}),
    ("/trailing/", {"groups": ["gold"]}),
    ("/trailing/", {"groups": "gold"}),
    # array indexes: digits only, no leading zero, no "-"
    ("/index/", {"groups": ["gold"]}),
    ("/index/", {"groups": {"01": "gold"}}),
    # look-alike names
    ("/name/", {"Tier": "gold"}),
    ("/name/", {"tier ": "gold"}),
    ("/name/", {" tier": "gold"}),
    ("/name/", {"tier\u200b": "gold"}),
    ("/name/", {"t\u0456er": "gold"}),
    ("/name/", {"TIER": "gold", "tier": "bronze"}),
    ("/slashname/", {"a": {"b": "gold"}}),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else v)
def test_look_alikes_do_not_match(cp, keys, path, over):
    assert_insufficient_scope(status(cp, keys, path, **over))


def test_escaped_duplicate_name_is_a_malformed_token(cp, keys):
    """{"tier":"bronze","ti\\u0065r":"gold"}: one name written twice; the
    token is refused whole (no "first" or "last" member wins)."""
    payload = json.dumps(claims(tier="bronze"))[:-1] + ', "ti\\u0065r": "gold"}'
    token = raw_token({"alg": "RS256", "kid": "rsa1", "typ": "JWT"},
                      payload.encode(), key=keys["rsa1"])
    cp.tokens.append(token)
    assert_invalid_token(cp.get("/name/", token), "token is malformed")


@pytest.mark.parametrize("line, what", [
    ("/a~2 x", "not a JSON pointer"), ("/a~ x", "not a JSON pointer"),
    ("/a~1 ", "at least one value")])
def test_configtest_refuses_bad_pointers(workdir, pki, line, what):
    site = sites.site(sites.ca(pki),
                      sites.profile("cpx", jwk_url="https://127.0.0.1:9/jwks"),
                      sites.location("/x/", "cpx", "ords-claim " + line))
    d = os.path.join(workdir, "claim-pointers-cfg-%d" % len(os.listdir(workdir)))
    rc, out = Httpd(d, "event", site).configtest()
    assert rc != 0 and what in out, out
