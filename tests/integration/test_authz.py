# SPDX-License-Identifier: Apache-2.0
"""Require ords-scope, ords-role and ords-claim (403 insufficient_scope);
negated lines and <RequireAny> (issue 11)."""

import time

import pytest

from helpers import assert_insufficient_scope, assert_invalid_token, \
    assert_no_token, assert_ok, wait_log
from tokens import DROP, claims, mint

# mod_authz_core logs every authorization failure at [error]
pytestmark = pytest.mark.expect_log("AH01631")


@pytest.mark.parametrize("over", [
    {"scope": "openid hr.read"},
    {"scope": "hr.write"},
    {"scope": DROP, "scp": "hr.read"},
    {"scope": DROP, "scp": ["profile", "hr.write"]},
], ids=["scope-string", "scope-second-listed", "scp-string", "scp-array"])
def test_scope_granted(client, keys, over):
    assert_ok(client.get("/hr/", mint(claims(**over), key=keys["rsa1"])))


@pytest.mark.parametrize("over", [
    {"scope": DROP},
    {"scope": "openid hr.admin"},
    {"scope": "hr.read.all hr"},
    {"scope": "HR.READ"},
    {"scope": DROP, "scp": ["hr.read hr.write"]},
    {"scope": DROP, "scp": 42},
], ids=["missing", "other", "prefixes", "case", "scp-array-joined", "scp-number"])
def test_scope_refused(client, keys, over):
    r = client.get("/hr/", mint(claims(**over), key=keys["rsa1"]))
    assert_insufficient_scope(r, scope="hr.read hr.write")


@pytest.mark.parametrize("groups", [["users", "admin"], "admin"], ids=["array", "string"])
def test_role_granted(client, keys, groups):
    assert_ok(client.get("/roles/", mint(claims(groups=groups), key=keys["rsa1"])))


@pytest.mark.parametrize("over", [
    {},
    {"groups": ["users", "Admin"]},
    {"groups": "admin users"},
    {"groups": {"admin": True}},
], ids=["missing", "case", "space-joined", "object"])
def test_role_refused(client, keys, over):
    assert_insufficient_scope(client.get("/roles/", mint(claims(**over), key=keys["rsa1"])))


def test_nested_role_pointer(client, keys):
    token = mint(claims(realm_access={"roles": ["user", "admin"]}), key=keys["rsa1"])
    assert_ok(client.get("/realm/", token))


@pytest.mark.parametrize("over", [
    {"groups": ["admin"]},
    {"realm_access": {"roles": ["user"]}},
    {"realm_access": ["admin"]},
], ids=["top-level-only", "no-admin", "not-an-object"])
def test_nested_role_refused(client, keys, over):
    assert_insufficient_scope(client.get("/realm/", mint(claims(**over), key=keys["rsa1"])))


def test_error_document_keeps_the_challenges(client, keys):
    """A local ErrorDocument for 403 and 401 answers with its own page; the
    RFC 6750 challenges stay on the final response (issue 11)."""
    r = client.get("/hrdoc/", mint(claims(scope="openid"), key=keys["rsa1"]))
    assert_insufficient_scope(r, scope="hr.read hr.write")
    r = client.get("/hrdoc/", mint(claims(aud="ords/nope/"), key=keys["rsa1"]))
    assert_invalid_token(r, "audience not accepted")
    assert_ok(client.get("/hrdoc/", mint(claims(), key=keys["rsa1"])))


# --- Require ords-claim (issue 11, item 1) ----------------------------------

@pytest.mark.parametrize("path, over", [
    ("/claim/", {"tier": "gold"}),
    ("/claim/", {"tier": "silver"}),
    ("/claim/", {"tier": ["bronze", "silver"]}),
    ("/claimptr/", {"org": {"depts": ["it", "sales"]}}),
    ("/claimptr/", {"org": {"depts": "sales"}}),
    ("/claimlit/", {"level": 3}),
    ("/claimlit/", {"level": "3"}),
], ids=["string", "second-value", "array-member", "pointer-array",
        "pointer-string", "integer", "integer-as-string"])
def test_claim_granted(client, keys, path, over):
    assert_ok(client.get(path, mint(claims(**over), key=keys["rsa1"])))


@pytest.mark.parametrize("path, over", [
    ("/claim/", {}),
    ("/claim/", {"tier": "Gold"}),
    ("/claim/", {"tier": "gold silver"}),
    ("/claim/", {"tier": {"gold": True}}),
    ("/claim/", {"tier": None}),
    ("/claim/", {"tier": [["gold"]]}),
    ("/claimptr/", {"depts": ["sales"]}),
    ("/claimptr/", {"org": ["sales"]}),
    ("/claimlit/", {"level": 3.0}),
    ("/claimlit/", {"level": [3]}),
    ("/claimlit/", {"level": True}),
], ids=["missing", "case", "space-joined", "object", "null", "nested-array",
        "top-level-only", "not-an-object", "real", "integer-in-array", "boolean"])
def test_claim_refused(client, keys, path, over):
    r = client.get(path, mint(claims(**over), key=keys["rsa1"]))
    assert_insufficient_scope(r)
    log = _logged(client, "ORDSJWT00030:")
    lines = [l for l in log.splitlines() if "ORDSJWT00030:" in l]
    assert lines and "(claim_mismatch)" in lines[-1], log


@pytest.mark.parametrize("path", ["/claim/", "/notblocked/"])
def test_claim_asks_for_a_token(client, path):
    """Unlike `Require expr` on ORDSJWT_CLAIM_*, which httpd evaluates before
    authentication (200 without a token), ords-claim needs a user."""
    assert_no_token(client.get(path))


# --- Require not ords-* (issue 11, item 2) ----------------------------------

def _logged(client, *wanted):
    return wait_log(client.new_log, *wanted)


def _refusals(client, keys):
    """The "refused (...)" lines logged so far, made certain by a last
    request that is refused (under event, its line may come first: then
    wait a little more)."""
    r = client.get("/claim/", mint(claims(tier="marker"), key=keys["rsa1"]))
    assert_insufficient_scope(r)
    log = _logged(client, "ORDSJWT00030")
    time.sleep(0.2)
    log = client.new_log()
    return [l for l in log.splitlines() if "refused (" in l
            and "ORDSJWT00030" not in l]


def test_negated_lines_with_valid_user(client, keys):
    """The safe pattern: Require valid-user beside the negated lines asks for
    the token; a token with the role or claim value is refused; one without
    is granted, and no negated line's denial is logged as a refusal."""
    assert_no_token(client.get("/notblocked/"))
    r = client.get("/notblocked/", mint(claims(groups=["blocked"]), key=keys["rsa1"]))
    assert r.status_code == 403, r.headers
    r = client.get("/notblocked/", mint(claims(tier="guest"), key=keys["rsa1"]))
    assert r.status_code == 403, r.headers
    assert_ok(client.get("/notblocked/", mint(claims(groups=["users"], tier="gold"),
                                              key=keys["rsa1"])))
    assert not _refusals(client, keys), client.new_log()


@pytest.mark.parametrize("over", [
    {"groups": ["admin"]}, {"tier": "gold"}, {"scope": "hr.admin"},
], ids=["role", "claim", "scope"])
def test_granted_by_another_line_logs_no_refusal(client, keys, over):
    """Under <RequireAny>, lines that denied before another granted are no
    refusal: nothing "refused (...)" in the log."""
    over = dict({"scope": "openid"}, **over)
    assert_ok(client.get("/anyof/", mint(claims(**over), key=keys["rsa1"])))
    assert not _refusals(client, keys), client.new_log()


def test_refused_by_every_line_logs_each(client, keys):
    r = client.get("/anyof/", mint(claims(scope="openid"), key=keys["rsa1"]))
    assert_insufficient_scope(r, scope="hr.admin")
    wanted = ("ORDSJWT00017: refused (scope_missing)",
              "ORDSJWT00019: refused (role_missing)",
              "ORDSJWT00030: refused (claim_mismatch)")
    log = _logged(client, *wanted)
    for want in wanted:
        assert want in log, log
