# SPDX-License-Identifier: Apache-2.0
"""Access log fields (issue 14, part 3): every request the module judged
carries the notes ordsjwt-outcome, -profile, -kid and -sub for LogFormat's
%{...}n; bounded like the error log's fields, escaped by mod_log_config,
never the token; an authorization refusal names its reason, also when a
local ErrorDocument answers it."""

import os
import re
import time

import pytest

from helpers import Client, assert_insufficient_scope, assert_invalid_token, \
    assert_no_token, assert_ok
from httpd_instance import Httpd, bad_lines
import sites
from tokens import claims, mint, now

FORMAT = ('LogFormat "%>s %U outcome=%{ordsjwt-outcome}n '
          'profile=%{ordsjwt-profile}n kid=%{ordsjwt-kid}n '
          'sub=\\"%{ordsjwt-sub}n\\" user=%u" ordsjwt')


def access_site(pki, jwks, directory):
    return sites.site(
        sites.ca(pki),
        FORMAT,
        'CustomLog "%s/logs/ordsjwt.log" ordsjwt' % directory,
        sites.profile("al", jwk_url=jwks.url("/al-jwks")),
        sites.profile("alb", issuer="https://other.example/",
                      jwk_url=jwks.url("/al-jwks")),
        sites.location("/al/", "al", "ords-scope hr.read"),
        sites.location("/both/", "al alb"),
        sites.location("/errdoc/", "al", "ords-scope hr.read",
                       extra=["ErrorDocument 403 /index.html"]),
        '<Location /plain/>\n    Require all granted\n</Location>')


@pytest.fixture(scope="module")
def al(workdir, pki, jwks, keys):
    jwks.publish("/al-jwks", keys.jwks("rsa1", "ec1"))
    d = os.path.join(workdir, "access-log")
    server = Httpd(d, "event", access_site(pki, jwks, d))
    server.ordsjwt_log = os.path.join(d, "logs", "ordsjwt.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ac(al):
    client = Client(al)
    client.offset = os.path.getsize(al.ordsjwt_log) \
        if os.path.exists(al.ordsjwt_log) else 0
    yield client
    bad = bad_lines(client.new_log(), ("AH01631",))
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)


def lines_for(client, path, n=1, timeout=5.0):
    """The last n access log lines of path since the client was made (a
    request is logged just after its answer went out)."""
    deadline = time.time() + timeout
    while True:
        with open(client.httpd.ordsjwt_log, "rb") as f:
            f.seek(client.offset)
            text = f.read().decode("utf-8", "replace")
        found = [l for l in text.splitlines() if l.split(" ")[1:2] == [path]]
        if len(found) >= n or time.time() > deadline:
            return found[-n:] if found else [text]
        time.sleep(0.05)


def test_accepted(ac, keys):
    token = mint(claims(scope="hr.read"), key=keys["rsa1"])
    assert_ok(ac.get("/al/", token))
    line = lines_for(ac, "/al/")[0]
    assert line == ('200 /al/ outcome=accepted profile=al kid=rsa1 '
                    'sub="alice" user=alice'), line
    assert token not in open(ac.httpd.ordsjwt_log).read()


@pytest.mark.parametrize("path,make,outcome,profile,sub", [
    ("/al/", lambda k: mint(claims(exp=now() - 999), key=k["rsa1"]),
     "expired", "al", "alice"),
    # the claims of a token not verified are not read: no subject
    ("/both/", lambda k: mint(claims(iss="https://nope/"), key=k["rsa1"]),
     "issuer_mismatch", "al|alb", "-"),
    ("/al/", lambda k: "not.a.token", "malformed", "al", "-"),
], ids=["expired", "no-profile-chosen", "malformed"])
def test_refused_token(ac, keys, path, make, outcome, profile, sub):
    token = make(keys)
    assert_invalid_token(ac.get(path, token))
    line = lines_for(ac, path)[0]
    kid = "-" if outcome == "malformed" else "rsa1"
    assert line == ('401 %s outcome=%s profile=%s kid=%s sub="%s" user=-'
                    % (path, outcome, profile, kid, sub)), line


def test_no_token(ac):
    assert_no_token(ac.get("/al/"))
    line = lines_for(ac, "/al/")[0]
    assert line == '401 /al/ outcome=token_missing profile=al kid=- sub="-" user=-', line


def test_authz_refusal_names_the_reason(ac, keys):
    assert_insufficient_scope(ac.get("/al/", mint(claims(scope="hr.write"),
                                                 key=keys["rsa1"])),
                              scope="hr.read")
    line = lines_for(ac, "/al/")[0]
    assert line == ('403 /al/ outcome=scope_missing profile=al kid=rsa1 '
                    'sub="alice" user=alice'), line


def test_authz_refusal_answered_by_an_error_document(ac, keys):
    r = ac.get("/errdoc/", mint(claims(scope="hr.write"), key=keys["rsa1"]))
    assert r.status_code == 403
    # %{...}n reads the notes of the request that served the answer (the
    # ErrorDocument's), %U and %>s the refused one's
    line = lines_for(ac, "/errdoc/")[0]
    assert line.startswith('403 /errdoc/ outcome=scope_missing profile=al '
                           'kid=rsa1 sub="alice" '), line


def test_not_judged(ac):
    ac.get("/plain/")
    line = lines_for(ac, "/plain/")[0]
    assert line.endswith(' /plain/ outcome=- profile=- kid=- sub="-" user=-'), line


def test_hostile_sub_bounded_and_escaped(ac, keys):
    # a signed sub with a quote and a newline: refused (a subject has no
    # control characters), its note one line, cut at 200 bytes
    sub = 'evil" x\nfake line ' + "s" * 300
    assert_invalid_token(ac.get("/al/", mint(claims(sub=sub), key=keys["rsa1"])))
    text = lines_for(ac, "/al/")[0]
    m = re.search(r'^401 /al/ outcome=subject_missing profile=al kid=rsa1 '
                  r'sub="(.*)" user=-$', text)
    assert m, text
    assert m.group(1) == 'evil\\" x\\nfake line ' + "s" * (200 - 18), m.group(1)
    # a printable sub with a quote, accepted
    sub = 'o"brien ' + "t" * 300
    assert_ok(ac.get("/al/", mint(claims(sub=sub, scope="hr.read"),
                                  key=keys["rsa1"])), sub=sub)
    text = lines_for(ac, "/al/")[0]
    assert ' kid=rsa1 sub="o\\"brien %s" user=' % ("t" * (200 - 8)) in text, text


def test_hostile_kid_bounded_and_escaped(ac, keys):
    kid = 'k"\n' + "k" * 100
    token = mint(claims(), key=keys["rsa1"], header={"kid": kid})
    assert_invalid_token(ac.get("/al/", token))
    text = lines_for(ac, "/al/")[0]
    m = re.search(r'^401 /al/ outcome=kid_unknown profile=al kid=(\S+) sub="-" '
                  r'user=-$', text)
    assert m, text
    assert m.group(1) == 'k\\"\\n' + "k" * 61, m.group(1)
