# SPDX-License-Identifier: Apache-2.0
"""Require ords-scope and Require ords-role (403 insufficient_scope)."""

import pytest

from helpers import assert_insufficient_scope, assert_invalid_token, assert_ok
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
