# SPDX-License-Identifier: Apache-2.0
"""ordsjwt-check against the module: for the same tokens, the tool's verdict
(reason, detail and hint) is the one the module logs, and its exit status
is 0 where httpd answers 200, 1 where it refuses. The tool reads the
profiles from the httpd configuration the fixture wrote (--config), follows
Includes, and exits 2 on usage and configuration errors."""

import os
import re
import subprocess
import time

import pytest

from helpers import INVALID_PREFIX, assert_insufficient_scope, assert_ok, \
    wait_log
from conftest import ISSUER_A, ISSUER_B
from tokens import AUDIENCE, DROP, ISSUER, b64url, claims, mint, now, raw_token

# mod_authz_core logs every authorization failure at [error]
pytestmark = pytest.mark.expect_log("AH01631")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:"
                       r"|ERROR: \w+Sanitizer")
# ORDSJWT00011: token refused (REASON): DETAIL[; hint: HINT] [profile ...
REFUSED = re.compile(r"ORDSJWT00011: token refused \((\w+)\): (.*?)"
                     r"(?:; hint: (.*))? \[profile ")
# ORDSJWT00017: refused (scope_missing): sub S has none ...[; hint: H] [profile
SCOPE_REFUSED = re.compile(r"ORDSJWT00017: refused \(scope_missing\).*?"
                           r"(?:; hint: (.*))? \[profile ")
FAILED = re.compile(r"^  \u2718 (.{12}) (\w+): (.*)$")
HINT = re.compile(r"^ {17}hint: (.*)$")
RESULT = re.compile(r"^Result: (accepted|refused \((\w+)\)|no verdict \((\w+)\))")


def checker_path():
    """The tool built next to the module under test (the sanitizer build
    has its own), else the one in the source tree."""
    if os.environ.get("ORDSJWT_CHECK"):
        return os.environ["ORDSJWT_CHECK"]
    module = os.environ.get("ORDSJWT_MODULE")
    if module:
        beside = os.path.join(os.path.dirname(os.path.dirname(module)),
                              "ordsjwt-check")
        if os.path.exists(beside):
            return beside
    return os.path.join(REPO, "ordsjwt-check")


CHECKER = checker_path()


class Run:
    """One run of the tool: exit status, output, and the parsed checks."""

    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        assert not SANITIZER.search(self.err), self.err
        self.failed = {}            # reason -> (step, detail, hint)
        self.result = None          # "accepted" or the reason name
        last = None
        for line in self.out.splitlines():
            m = FAILED.match(line)
            if m:
                last = m.group(2)
                self.failed[last] = (m.group(1).strip(), m.group(3), None)
                continue
            m = HINT.match(line)
            if m and last:
                step, detail, _ = self.failed[last]
                self.failed[last] = (step, detail, m.group(1))
            last = None
            m = RESULT.match(line)
            if m:
                self.result = m.group(2) or m.group(3) or "accepted"

    def __repr__(self):
        return "exit %d\n--- stdout\n%s--- stderr\n%s" % (self.code, self.out,
                                                         self.err)


def check(*args, stdin=None):
    proc = subprocess.run([CHECKER] + [str(a) for a in args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=60)
    return Run(proc)


def with_config(httpd, profile, token, *more):
    return check("--config", httpd.conf, "--profile", profile, *more, token)


# --- the module and the tool agree -----------------------------------------

def module_verdict(httpd, client, path, token):
    """(status, reason, detail, hint, error_description) of one request,
    with the seconds it was made in."""
    offset = httpd.log_offset()
    t0 = int(time.time())
    resp = client.get(path, token)
    t1 = int(time.time())
    if resp.status_code == 200:
        return resp, None, None, None, None, (t0, t1)
    lines = [l for l in httpd.read_log(offset).splitlines() if "ORDSJWT00011" in l]
    assert lines, httpd.read_log(offset)
    m = REFUSED.search(lines[-1])
    assert m, lines[-1]
    www = resp.headers.get("WWW-Authenticate", "")
    assert www.startswith(INVALID_PREFIX), www
    return resp, m.group(1), m.group(2), m.group(3), www[len(INVALID_PREFIX):-1], \
        (t0, t1)


def tool_at(httpd, profile, token, seconds, reason, detail):
    """The tool's run at the second the module checked the token in (the
    request may have straddled two)."""
    run = None
    for t in range(seconds[0], seconds[1] + 1):
        run = with_config(httpd, profile, token, "--now", t)
        if reason is None or run.failed.get(reason, (None, None))[1] == detail:
            break
    return run


def t_rel(seconds):
    return now() + seconds


CASES = {
    # id: (expected reason (a name from src/reason.c) or None for accepted,
    #      location, profile, token maker)
    "honest": (None, "/any/", "hr", lambda k: mint(claims(), key=k["rsa1"])),
    "honest-ec": (None, "/any/", "hr", lambda k: mint(claims(), key=k["ec1"])),
    "skew-accepts": (None, "/skew/", "skew30",
                     lambda k: mint(claims(exp=t_rel(-10), iat=t_rel(-100)),
                                    key=k["rsa1"])),
    "expired": ("expired", "/any/", "hr",
                lambda k: mint(claims(exp=t_rel(-3600), iat=t_rel(-4000)),
                               key=k["rsa1"])),
    "expired-near": ("expired", "/any/", "hr",
                     lambda k: mint(claims(exp=t_rel(-20), iat=t_rel(-100)),
                                    key=k["rsa1"])),
    "wrong-iss": ("issuer_mismatch", "/any/", "hr",
                  lambda k: mint(claims(iss="https://other.example/"), key=k["rsa1"])),
    "iss-slash": ("issuer_mismatch", "/any/", "hr",
                  lambda k: mint(claims(iss=ISSUER.rstrip("/")), key=k["rsa1"])),
    "wrong-aud": ("audience_mismatch", "/any/", "hr",
                  lambda k: mint(claims(aud="ords/other/"), key=k["rsa1"])),
    "aud-slash": ("audience_mismatch", "/any/", "hr",
                  lambda k: mint(claims(aud=[AUDIENCE.rstrip("/"), "x"]),
                                 key=k["rsa1"])),
    "no-sub": ("subject_missing", "/any/", "hr",
               lambda k: mint(claims(sub=DROP), key=k["rsa1"])),
    "unknown-kid": ("kid_unknown", "/any/", "hr",
                    lambda k: mint(claims(), key=k["attacker"])),
    "bad-signature": ("signature_invalid", "/any/", "hr",
                      lambda k: mint(claims(), key=k["attacker"],
                                     header={"kid": "rsa1"})),
    "alg-none": ("alg_not_allowed", "/any/", "hr",
                 lambda k: raw_token({"alg": "none", "kid": "rsa1"}, claims(), b"")),
    "alg-hs256": ("alg_not_allowed", "/any/", "hr",
                  lambda k: raw_token({"alg": "HS256", "kid": "rsa1"}, claims(),
                                      key=b"secret")),
    "crit": ("crit_unsupported", "/any/", "hr",
             lambda k: raw_token({"alg": "RS256", "kid": "rsa1", "crit": ["exp"],
                                  "exp": 1}, claims(), key=k["rsa1"])),
    "malformed": ("malformed", "/any/", "hr",
                  lambda k: "not-a-jwt." + b64url("x") + ".sig"),
    "jwe-like": ("malformed", "/any/", "hr", lambda k: "a.b.c.d.e"),
    "too-large": ("too_large", "/any/", "hr",
                  lambda k: mint(claims(pad="x" * 20000), key=k["rsa1"])),
    "too-old": ("too_old", "/age/", "age60",
                lambda k: mint(claims(iat=t_rel(-600)), key=k["rsa1"])),
    "future-iat": ("issued_in_future", "/any/", "hr",
                   lambda k: mint(claims(iat=t_rel(3600)), key=k["rsa1"])),
    "nbf": ("not_yet_valid", "/any/", "hr",
            lambda k: mint(claims(nbf=t_rel(3600)), key=k["rsa1"])),
    "no-exp": ("exp_missing", "/any/", "hr",
               lambda k: mint(claims(exp=DROP), key=k["rsa1"])),
    "age-needs-iat": ("iat_missing", "/age/", "age60",
                      lambda k: mint(claims(iat=DROP), key=k["rsa1"])),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_module_and_tool_agree(httpd, client, keys, case):
    """The module refuses for the expected reason (or accepts), and the
    tool says the same: the two share the core, so agreement alone would
    not catch a check broken in it."""
    expected, path, profile, make = CASES[case]
    token = make(keys)
    resp, reason, detail, hint, description, seconds = \
        module_verdict(httpd, client, path, token)
    assert reason == expected, (reason, detail)
    run = tool_at(httpd, profile, token, seconds, reason, detail)
    if reason is None:
        assert_ok(resp)
        assert run.code == 0 and run.result == "accepted", run
        assert not run.failed, run
        return
    assert run.code == 1 and run.result == reason, run
    assert reason in run.failed, run
    _, tool_detail, tool_hint = run.failed[reason]
    assert tool_detail == detail, run
    assert tool_hint == hint, run
    assert 'error_description="%s"' % description in run.out, run


@pytest.mark.parametrize("case,words", [
    ("iss-slash", "only by a trailing slash"),
    ("aud-slash", "set audience=ords/hr"),
    ("expired-near", "allowed_skew"),
    ("too-old", "allowed_age=60"),
], ids=["iss-slash", "aud-slash", "skew", "age"])
def test_hints_are_the_modules(httpd, client, keys, case, words):
    _, path, profile, make = CASES[case]
    token = make(keys)
    _, reason, detail, hint, _, seconds = module_verdict(httpd, client, path, token)
    assert hint and words in hint, hint
    run = tool_at(httpd, profile, token, seconds, reason, detail)
    assert run.failed[reason][2] == hint, run
    assert "    hint: " + hint in run.out


def test_scope_refusal_and_hint_agree(httpd, client, keys):
    token = mint(claims(scope="openid ords/hr/hr.read"), key=keys["rsa1"])
    offset = httpd.log_offset()
    r = client.get("/hr/", token)
    assert_insufficient_scope(r, scope="hr.read hr.write")
    log = wait_log(lambda: httpd.read_log(offset), "ORDSJWT00017")
    lines = [l for l in log.splitlines() if "ORDSJWT00017" in l]
    m = SCOPE_REFUSED.search(lines[-1]) if lines else None
    assert m and m.group(1), httpd.read_log(offset)
    run = with_config(httpd, "hr", token, "--scope", "hr.read", "--scope", "hr.write")
    assert run.code == 1 and run.result == "scope_missing", run
    assert run.failed["scope_missing"][2] == m.group(1), run
    assert 'answer 403 error="insufficient_scope"' in run.out


@pytest.mark.parametrize("groups,status,code", [
    (["users", "admin"], 200, 0), (["users"], 403, 1),
], ids=["granted", "refused"])
def test_role_agrees(httpd, client, keys, groups, status, code):
    token = mint(claims(groups=groups), key=keys["rsa1"])
    r = client.get("/roles/", token)
    if status == 200:
        assert_ok(r)
    else:
        assert_insufficient_scope(r)      # a role: no scope to name
    run = with_config(httpd, "hr", token, "--role", "admin")
    assert run.code == code, run
    assert run.result == ("accepted" if code == 0 else "role_missing"), run


def test_scope_granted_by_any_listed(httpd, keys):
    token = mint(claims(scope="openid hr.write"), key=keys["rsa1"])
    run = with_config(httpd, "hr", token, "--scope", "hr.read", "--scope", "hr.write")
    assert run.code == 0, run
    assert '\u2714 scope        "hr.write" granted' in run.out, run


# --- output ------------------------------------------------------------------

def test_output_shows_claims_never_the_signature(httpd, keys):
    token = mint(claims(sub="bob"), key=keys["rsa1"])
    run = with_config(httpd, "hr", token)
    assert run.code == 0, run
    assert token not in run.out and token.split(".")[2] not in run.out
    assert '"alg": "RS256"' in run.out and '"sub": "bob"' in run.out
    assert "Claims (signature verified):" in run.out
    for step in ("format/size", "alg", "crit", "key found", "signature",
                 "issuer", "audience", "exp", "nbf", "iat", "allowed_age",
                 "subject"):
        assert re.search(r"^  \u2714 %s " % re.escape(step), run.out, re.M), step
    assert "Result: accepted; REMOTE_USER would be bob" in run.out


def test_bad_signature_claims_not_trusted(httpd, keys):
    token = mint(claims(iss="https://other.example/"), key=keys["attacker"],
                 header={"kid": "rsa1"})
    run = with_config(httpd, "hr", token)
    assert run.code == 1 and list(run.failed) == ["signature_invalid"], run
    assert "Claims (not verified):" in run.out
    assert '"iss": "https://other.example/"' in run.out
    assert "the claims are not trusted" in run.out


def test_every_failing_claim_is_shown(httpd, keys):
    token = mint(claims(iss="x", aud="y", sub=DROP, exp=now() - 9999),
                 key=keys["rsa1"])
    run = with_config(httpd, "hr", token)
    assert run.code == 1 and run.result == "issuer_mismatch", run
    assert set(run.failed) == {"issuer_mismatch", "audience_mismatch",
                               "expired", "subject_missing"}, run


def test_stdin_bearer_and_whitespace(httpd, keys):
    token = mint(claims(), key=keys["rsa1"])
    run = check("--config", httpd.conf, "--profile", "hr",
                stdin="\n  Bearer   %s  \r\n" % token)
    assert run.code == 0, run
    run = check("--config", httpd.conf, "--profile", "hr", "-", stdin=token)
    assert run.code == 0, run


def test_options_give_the_same_verdict(httpd, pki, jwks, keys):
    opts = ["--issuer", ISSUER, "--audience", AUDIENCE, "--jwk-url",
            jwks.url("/jwks"), "--ca-file", pki["ca"],
            "--role-claim-name", "/groups"]
    good = mint(claims(groups=["admin"]), key=keys["ps1"])
    assert check(*opts, "--role", "admin", good).code == 0
    old = mint(claims(iat=now() - 600), key=keys["rsa1"])
    assert check(*opts, old).code == 0
    run = check(*opts, "--allowed-age", "60", old)
    assert run.code == 1 and run.result == "too_old", run
    run = check(*opts, "--allowed-skew", "30",
                mint(claims(exp=now() - 10), key=keys["rsa1"]))
    assert run.code == 0, run


def test_static_keys_from_options(static_jwks, keys, workdir):
    token = mint(claims(iss="https://static.example/"), key=keys["static1"])
    run = check("--issuer", "https://static.example/", "--audience", AUDIENCE,
                "--jwk-url", "file://" + static_jwks, token)
    assert run.code == 0, run
    pem = os.path.join(workdir, "checker-static1.pem")
    with open(pem, "wb") as f:
        f.write(keys["static1"].public_pem())
    base = ["--issuer", "https://static.example/", "--audience", AUDIENCE,
            "--pem-file", pem]
    assert check(*base, token).code == 0
    assert check(*base, "--pem-kid", "static1", token).code == 0
    run = check(*base, "--pem-kid", "other", token)
    assert run.code == 1 and run.result == "kid_unknown", run


def test_fixed_now(httpd, keys):
    t = 1700000000
    token = mint(claims(iat=t, exp=t + 300), key=keys["rsa1"])
    assert with_config(httpd, "hr", token, "--now", t + 10).code == 0
    run = with_config(httpd, "hr", token, "--now", t + 300)
    assert run.code == 1 and run.result == "expired", run
    assert "expired 0 s ago" in run.failed["expired"][1]


# --- --config ----------------------------------------------------------------

def write(path, text):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_config_follows_includes(httpd, workdir, jwks, keys):
    """A file of our own includes the fixture's httpd.conf by a relative
    path; that sets ServerRoot, against which a later IncludeOptional
    wildcard resolves; continuation lines and comments as httpd reads them."""
    d = os.path.join(workdir, "checker-conf-" + httpd.mpm)
    extra = os.path.join(httpd.dir, "checker.d")
    write(os.path.join(extra, "extra.conf"),
          "# a profile on continuation lines \\\n"
          "OrdsJwtProfile commented issuer=x audience=y jwk_url=https://x/\n"
          "OrdsJwtProfile extra \\\n"
          "    issuer=%s \\\n"
          "    audience=\"%s\" \\\n"
          "    jwk_url=%s allowed_age=60\n" % (ISSUER, AUDIENCE, jwks.url("/jwks")))
    top = write(os.path.join(d, "top.conf"),
                "# ordsjwt-check test\n"
                "Include %s\n"
                "IncludeOptional checker.d/*.conf\n"
                "IncludeOptional nothing-here/*.conf\n"
                % os.path.relpath(httpd.conf, d))
    token = mint(claims(), key=keys["rsa1"])
    run = check("--config", top, "--profile", "hr", token)
    assert run.code == 0, run
    m = re.search(r"^Profile hr \(from (.*):\d+\):$", run.out, re.M)
    assert m and os.path.realpath(m.group(1)) == httpd.conf, run
    run = check("--config", top, "--profile", "extra", token)
    assert run.code == 0, run
    assert "Profile extra (from %s/extra.conf:3)" % extra in run.out, run
    run = check("--config", top, "--profile", "extra",
                mint(claims(iat=now() - 600), key=keys["rsa1"]))
    assert run.code == 1 and run.result == "too_old", run
    run = check("--config", top, "--profile", "commented", token)
    assert run.code == 2 and 'no OrdsJwtProfile named "commented"' in run.err, run


def test_config_server_defaults(workdir, static_jwks, keys):
    """OrdsJwtAllowedSkew/Age of the main server, overridden in a virtual
    host, apply to the profiles that do not set their own."""
    conf = write(os.path.join(workdir, "checker-defaults", "httpd.conf"),
                 "OrdsJwtAllowedSkew 30\n"
                 "OrdsJwtProfile main issuer=https://static.example/ "
                 "audience=%s jwk_url=file://%s\n"
                 "<VirtualHost 127.0.0.1:8080>\n"
                 "    OrdsJwtAllowedSkew 0\n"
                 "    OrdsJwtProfile vhost issuer=https://static.example/ "
                 "audience=%s jwk_url=file://%s\n"
                 "</VirtualHost>\n" % (AUDIENCE, static_jwks, AUDIENCE, static_jwks))
    token = mint(claims(iss="https://static.example/", exp=now() - 10),
                 key=keys["static1"])
    assert check("--config", conf, "--profile", "main", token).code == 0
    run = check("--config", conf, "--profile", "vhost", token)
    assert run.code == 1 and run.result == "expired", run


def test_config_profile_defined_twice(httpd, workdir):
    top = write(os.path.join(workdir, "checker-dup-" + httpd.mpm, "top.conf"),
                "Include %s\n"
                "<VirtualHost 127.0.0.1:8080>\n"
                "OrdsJwtProfile hr issuer=https://elsewhere/ audience=a "
                "jwk_url=https://127.0.0.1:1/\n"
                "</VirtualHost>\n" % httpd.conf)
    run = check("--config", top, "--profile", "hr", "x.y.z")
    assert run.code == 2, run
    assert "OrdsJwtProfile hr is defined 2 times, differently" in run.err, run
    assert httpd.conf in run.err and top + ":3" in run.err, run


@pytest.mark.parametrize("text,message", [
    ("Include missing.conf\n", "Include: cannot open"),
    ("Include nowhere/*.conf\n", "Include: no file matches"),
    ("OrdsJwtAllowedSkew 61\n", "OrdsJwtAllowedSkew: \"61\" is not a number"),
    ("OrdsJwtProfile p issuer=i audience=a jwk_url=http://x/\n",
     "jwk_url=http://x/ must start with https://"),
    ("OrdsJwtProfile p issuer=i audience=a jwk_url=file:///nonexistent.json\n",
     "cannot read /nonexistent.json"),
    ("Include self.conf\n", "nested levels"),
], ids=["include-missing", "include-nomatch", "skew-range", "http-url",
        "file-url", "include-loop"])
def test_config_errors(workdir, request, text, message):
    d = os.path.join(workdir, "checker-err-" + request.node.callspec.id)
    conf = write(os.path.join(d, "self.conf"), text)
    run = check("--config", conf, "--profile", "p", "x.y.z")
    assert run.code == 2 and message in run.err, run
    assert conf + ":1" in run.err, run


# --- exit 2 ------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["--bogus"], "--bogus: unknown option"),
    (["--issuer"], "--issuer: unknown option or missing value"),
    (["--config", "/nonexistent/httpd.conf", "--profile", "hr", "t"],
     "cannot read /nonexistent/httpd.conf"),
    (["--config", "/dev/null", "t"], "--config needs --profile"),
    (["--profile", "hr", "t"], "--profile needs --config"),
    (["--config", "/dev/null", "--profile", "x", "--issuer", "i", "t"],
     "do not go with it"),
    (["t"], "no profile"),
    (["--issuer", "i", "--audience", "a", "t"], "missing jwk_url"),
    (["--issuer", "i", "--audience", "a", "--jwk-url", "https://x/",
      "--allowed-skew", "61", "t"], "allowed_skew=61 is more than 60"),
    (["--issuer", "i", "--audience", "a", "--jwk-url", "https://x/",
      "--role-claim-name", "groups", "t"], "not a JSON pointer"),
    (["--issuer", "i", "--audience", "a", "--jwk-url", "https://x/",
      "--now", "soon", "t"], "--now soon is not a number"),
    (["--issuer", "i", "--audience", "a", "--jwk-url", "https://x/", "a", "b"],
     "more than one token"),
    (["--issuer", "i", "--audience", "a", "--pem-file", "/nonexistent.pem", "t"],
     "cannot read /nonexistent.pem"),
], ids=["unknown", "no-value", "no-config-file", "no-profile-name",
        "profile-without-config", "config-and-options", "nothing",
        "missing-key", "skew", "pointer", "now", "two-tokens", "pem"])
def test_usage_errors(args, message):
    run = check(*args, stdin="")
    assert run.code == 2 and message in run.err, run
    assert run.out == "", run


def test_no_token(httpd):
    run = check("--config", httpd.conf, "--profile", "hr", stdin="  \n")
    assert run.code == 2 and "no token" in run.err, run


def test_help():
    run = check("--help")
    assert run.code == 0 and "--config FILE" in run.out and "Exit status" in run.out


@pytest.mark.parametrize("profile,cause", [
    ("down500", "HTTP status 500"),
    ("downhtml", "JWKS served as text/html; expected application/json"),
    ("downdead", "Couldn't connect"),
    ("downuntrusted", "certificate"),
], ids=["http-500", "html", "refused", "untrusted"])
def test_keys_unavailable_is_exit_2(httpd, keys, profile, cause):
    run = with_config(httpd, profile, mint(claims(), key=keys["rsa1"]))
    assert run.code == 2 and run.result == "keys_unavailable", run
    assert cause in run.out and cause in run.err, run
    assert "\u2718 key found    keys_unavailable: " in run.out, run
    if profile == "downhtml":       # the same hint as the module's log line
        assert "hint: the JWK URL answered with an HTML page" in run.out, run


def test_keys_unavailable_hint(pki, jwks, keys):
    jwks.set_response("/admin/v1/SigningCert/jwk", status=401,
                      body='{"error":"unauthorized"}')
    run = check("--issuer", ISSUER, "--audience", AUDIENCE, "--ca-file", pki["ca"],
                "--jwk-url", jwks.url("/admin/v1/SigningCert/jwk"),
                mint(claims(), key=keys["rsa1"]))
    assert run.code == 2, run
    assert "hint: this looks like an OCI IAM identity domain" in run.out, run
    assert "Configure client access" in run.err, run


def test_malformed_token_needs_no_keys(keys):
    """As in the module, a token that does not parse is refused before the
    keys are fetched: an unreachable JWK URL does not matter."""
    run = check("--issuer", ISSUER, "--audience", AUDIENCE,
                "--jwk-url", "https://127.0.0.1:1/jwks", "abc")
    assert run.code == 1 and run.result == "malformed", run


# --- several profiles: chosen by iss, as the module chooses ----------------

def test_profiles_chosen_by_iss(httpd, client, keys):
    a = mint(claims(iss=ISSUER_A, sub="from-a"), key=keys["rsa1"])
    run = with_config(httpd, "multiA multiB", a)
    assert run.code == 0 and "  * multiA, issuer" in run.out, run
    assert "  - multiB, issuer" in run.out and "Profile multiA (" in run.out, run
    b = mint(claims(iss=ISSUER_B, sub="from-b"), key=keys["rsaB"])
    run = check("--config", httpd.conf, "--profile", "multiA",
                "--profile", "multiB", b)
    assert run.code == 0 and "  * multiB, issuer" in run.out, run
    # b's iss with a's key: multiB checks it, as in the module
    b_with_a_key = mint(claims(iss=ISSUER_B), key=keys["rsa1"])
    resp, reason, detail, _, _, _ = module_verdict(httpd, client, "/multi/",
                                                   b_with_a_key)
    run = with_config(httpd, "multiA,multiB", b_with_a_key)
    assert run.code == 1 and run.result == reason == "kid_unknown", run
    assert "Profile multiB (" in run.out, run


def test_no_profile_for_the_iss_agrees(httpd, client, keys):
    token = mint(claims(iss="https://nope.example/"), key=keys["rsa1"])
    resp, reason, detail, hint, _, _ = module_verdict(httpd, client, "/multi/",
                                                      token)
    run = with_config(httpd, "multiA multiB", token)
    assert run.code == 1 and run.result == reason == "issuer_mismatch", run
    assert run.failed[reason][1] == detail, (run, detail)
    assert "none has the token's iss" in run.out, run


def test_several_profiles_token_refused_before_choice(httpd, keys):
    run = with_config(httpd, "multiA multiB", "not-a-token")
    assert run.code == 1 and run.result == "malformed", run
    assert "none chosen: the token was refused before" in run.out, run


# --- Require ords-privilege ---------------------------------------------------

PRIV_ISS = "https://priv.example/"


@pytest.fixture(scope="module")
def priv_httpd(workdir, static_jwks):
    from httpd_instance import Httpd
    import sites
    site = sites.site(
        sites.profile("pv", PRIV_ISS, jwk_url="file://" + static_jwks,
                      role_claim_name="/groups"),
        sites.profile("pvnoroles", PRIV_ISS, jwk_url="file://" + static_jwks),
        "OrdsJwtPrivilege hr.read role=hr-readers role=hr-admins",
        "OrdsJwtPrivilege hr.write",
        sites.location("/pv/", "pv", "ords-privilege hr.read hr.write"),
        sites.location("/pvnoroles/", "pvnoroles", "ords-privilege hr.read"))
    server = Httpd(os.path.join(workdir, "checker-priv"), "event", site).start()
    yield server
    server.stop()


def priv_status(server, path, token):
    import requests
    return requests.get(server.url(path), timeout=10, headers={
        "Authorization": "Bearer " + token, "Connection": "close"}).status_code


@pytest.mark.parametrize("path,over,status", [
    ("/pv/", {"scope": "hr.read"}, 200),
    ("/pv/", {"scope": "openid hr.write"}, 200),
    ("/pv/", {"groups": ["hr-admins"], "scope": "openid"}, 200),
    ("/pv/", {"groups": ["sales"], "scope": "hr"}, 403),
    ("/pv/", {"scope": DROP}, 403),
    ("/pvnoroles/", {"groups": ["hr-readers"], "scope": "openid"}, 403),
    ("/pvnoroles/", {"scope": "hr.read"}, 200),
], ids=["scope", "second-scope", "role", "neither", "nothing",
        "no-role-claim", "no-role-claim-scope"])
def test_privilege_agrees(priv_httpd, keys, path, over, status):
    token = mint(claims(iss=PRIV_ISS, **over), key=keys["static1"])
    assert priv_status(priv_httpd, path, token) == status
    profile = path.strip("/")
    privileges = ["hr.read"] if profile == "pvnoroles" else ["hr.read", "hr.write"]
    args = []
    for p in privileges:
        args += ["--privilege", p]
    run = with_config(priv_httpd, profile, token, *args)
    if status == 200:
        assert run.code == 0 and run.result == "accepted", run
        assert "\u2714 privilege" in run.out, run
    else:
        assert run.code == 1 and run.result == "scope_missing", run
        assert run.failed["scope_missing"][0] == "privilege", run
        assert 'none of the privileges "%s"' % " ".join(privileges) \
            in run.failed["scope_missing"][1], run


def test_privilege_undefined_is_a_config_error(priv_httpd, keys):
    token = mint(claims(iss=PRIV_ISS), key=keys["static1"])
    run = with_config(priv_httpd, "pv", token, "--privilege", "hr.nope")
    assert run.code == 2 and 'no OrdsJwtPrivilege named "hr.nope"' in run.err, run


def test_privilege_needs_config():
    run = check("--issuer", "i", "--audience", "a", "--jwk-url", "https://x/",
                "--privilege", "p", "t", stdin="")
    assert run.code == 2 and "--privilege and --define need --config" in run.err


# --- <IfModule> / <IfDefine> --------------------------------------------------

def test_conditional_sections(workdir, static_jwks, keys):
    line = ("OrdsJwtProfile %%s issuer=https://static.example/ audience=%s "
            "jwk_url=file://%s\n" % (AUDIENCE, static_jwks))
    conf = write(os.path.join(workdir, "checker-if", "httpd.conf"),
                 "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so\n"
                 "<IfModule mod_authz_host.c>\n" + line % "loaded" +
                 "</IfModule>\n"
                 "<IfModule !authz_host_module>\n" + line % "notloaded" +
                 "</IfModule>\n"
                 "<IfModule mod_ssl.c>\n"
                 "  <IfModule mod_auth_ordsjwt.c>\n" + line % "nested" +
                 "  </IfModule>\n"
                 "</IfModule>\n"
                 "<IfModule auth_ordsjwt_module>\n" + line % "self" +
                 "</IfModule>\n"
                 "<IfDefine ORDS_EXTRA>\n" + line % "extra" + "</IfDefine>\n"
                 "Define LOCAL\n"
                 "<IfDefine LOCAL>\n" + line % "local" + "</IfDefine>\n"
                 "<IfDefine !LOCAL>\n" + line % "notlocal" + "</IfDefine>\n")
    token = mint(claims(iss="https://static.example/"), key=keys["static1"])
    for name in ("loaded", "self", "local"):
        run = check("--config", conf, "--profile", name, token)
        assert run.code == 0, (name, run)
        assert conf + ":5: <IfModule !authz_host_module>: false here, skipped" \
            in run.err, run
        assert conf + ":8: <IfModule mod_ssl.c>: false here" in run.err, run
        assert conf + ":16: <IfDefine ORDS_EXTRA>: false here" in run.err, run
    for name in ("notloaded", "nested", "extra", "notlocal"):
        run = check("--config", conf, "--profile", name, token)
        assert run.code == 2 and 'no OrdsJwtProfile named "%s"' % name in run.err, run
        assert "sections skipped are listed above" in run.err, run
    run = check("--config", conf, "--define", "ORDS_EXTRA", "--profile", "extra",
                token)
    assert run.code == 0 and "<IfDefine ORDS_EXTRA>" not in run.err, run


def test_man_page_documents_every_option():
    """tools/ordsjwt-check.1 (installed by make install) names every option
    that --help lists."""
    with open(os.path.join(REPO, "tools", "ordsjwt-check.1")) as f:
        man = f.read().replace("\\-", "-")
    options = set(re.findall(r"^  (--[a-z-]+)", check("--help").out, re.M))
    assert len(options) >= 17, options
    missing = [o for o in options if ".BI %s " % o not in man
               and ".B %s\n" % o not in man]
    assert not missing, missing
