# SPDX-License-Identifier: Apache-2.0
"""A query token (OrdsJwtTokenFrom query=NAME) is out of every URL the
backends and the logs see (issue 20, item 3): the request line
(r->the_request, which REQUEST_URI, THE_REQUEST and %r are built from)
as well as QUERY_STRING. Real backends on loopback: a CGI script
(mod_cgid), a FastCGI responder behind mod_proxy_fcgi, an SSI page
(mod_include's printenv) and an ErrorDocument CGI, on a 200, a 401 for an
expired token and a 403; and Debian's "combined" access log format.
Event and prefork."""

import json
import os
import socket

import pytest

import sites
from fcgi_responder import FcgiResponder
from helpers import assert_log_clean, read_file, wait_log
from httpd_instance import Httpd
from tokens import claims, mint

MODS = "/usr/lib/apache2/modules"
COMBINED = "logs/combined.log"
QUERY = "OrdsJwtTokenFrom query=access_token"

ENV_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
env
"""

SSI_PAGE = """<html><body><pre>
<!--#printenv -->
</pre></body></html>
"""


@pytest.fixture(scope="module")
def fcgi():
    f = FcgiResponder().start()
    yield f
    f.stop()


def site(pki, jwks, d, fcgi):
    cgi, ssi, dirsrc = (os.path.join(d, x) for x in ("cgi", "ssi", "dirsrc"))
    open_dir = "<Directory %s>\n    Options +ExecCGI\n    Require all granted\n" \
        "</Directory>"
    errdoc = ["ErrorDocument 401 /cgi/bin/err.sh", "ErrorDocument 403 /cgi/bin/err.sh"]
    return sites.site(
        "LoadModule cgid_module %s/mod_cgid.so" % MODS,
        "LoadModule include_module %s/mod_include.so" % MODS,
        "LoadModule proxy_module %s/mod_proxy.so" % MODS,
        "LoadModule proxy_fcgi_module %s/mod_proxy_fcgi.so" % MODS,
        "ScriptSock cgid.sock",
        # Debian's apache2.conf
        'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" '
        '\\"%{User-Agent}i\\"" combined',
        'CustomLog "%s" combined' % COMBINED,
        sites.ca(pki),
        sites.profile("scrub", jwk_url=jwks.url("/scrub-jwks")),
        # the AliasMatch of the test httpd leaves /cgi/ alone
        "ScriptAlias /cgi/bin/ %s/" % cgi,
        "ScriptAlias /cgi/dir/ %s/" % dirsrc,
        "Alias /cgi/ssi/ %s/" % ssi,
        open_dir % cgi,
        "<Directory %s>\n    Options +Includes\n    AddType text/html .shtml\n"
        "    AddOutputFilter INCLUDES .shtml\n    Require all granted\n"
        "</Directory>" % ssi,
        # a source in a <Directory> section is taken out at authentication
        "<Directory %s>\n    Options +ExecCGI\n    AuthType ords-jwt\n"
        '    AuthName "ORDS"\n    AuthOrdsJwtProfile scrub\n    %s\n'
        "    Require valid-user\n</Directory>" % (dirsrc, QUERY),
        sites.location("/cgi/bin/env.sh", "scrub", extra=[QUERY] + errdoc),
        sites.location("/cgi/bin/scope.sh", "scrub", "ords-scope nobody.has.this",
                       extra=[QUERY] + errdoc),
        sites.location("/cgi/ssi/", "scrub", extra=[QUERY] + errdoc),
        sites.location("/cgi/fcgi/", "scrub", extra=[
            QUERY, "ProxyPass fcgi://127.0.0.1:%d/srv/app.php" % fcgi.port]
            + errdoc))


@pytest.fixture(scope="module", params=("event", "prefork"))
def srv(request, workdir, pki, jwks, keys, fcgi):
    jwks.publish("/scrub-jwks", keys.jwks("rsa1"))
    d = os.path.join(workdir, "scrub-" + request.param)
    for sub in ("cgi", "ssi", "dirsrc"):
        os.makedirs(os.path.join(d, sub), mode=0o755, exist_ok=True)
        os.chmod(os.path.join(d, sub), 0o755)
    for path in ("cgi/env.sh", "cgi/scope.sh", "cgi/err.sh", "dirsrc/env.sh"):
        with open(os.path.join(d, path), "w") as f:
            f.write(ENV_CGI)
        os.chmod(os.path.join(d, path), 0o755)
    with open(os.path.join(d, "ssi", "page.shtml"), "w") as f:
        f.write(SSI_PAGE)
    os.chmod(os.path.join(d, "ssi", "page.shtml"), 0o644)
    server = Httpd(d, request.param, site(pki, jwks, d, fcgi)).start()
    yield server
    server.stop()


class Raw:
    """Sends request lines as written (no client-side normalisation) and
    checks afterwards that no token reached the error log."""

    def __init__(self, httpd):
        self.httpd = httpd
        self.tokens = []
        self.acknowledged = ["AH01631"]

    def get(self, target, token=None, headers=()):
        if token:
            self.tokens.append(token)
        lines = ["GET %s HTTP/1.1" % target, "Host: 127.0.0.1:%d" % self.httpd.port,
                 "Connection: close"] + list(headers)
        with socket.create_connection(("127.0.0.1", self.httpd.port), timeout=20) as s:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"chunked" in head.lower():
            body = _unchunk(body)
        return status, body.decode("latin-1")

    def combined_log(self, wanted):
        """The access log once it holds wanted (mod_log_config writes it
        just after the response)."""
        return wait_log(read_file(os.path.join(self.httpd.dir, COMBINED)),
                        wanted)


def _unchunk(body):
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += rest[:n]
        body = rest[n + 2:]
    return out


@pytest.fixture
def raw(srv):
    client = Raw(srv)
    offset = srv.log_offset()
    yield client
    assert_log_clean(srv, offset, client.acknowledged, client.tokens)


def env_of(text):
    """NAME=VALUE lines (env, printenv) as a dict."""
    out = {}
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        if eq and name.strip() and " " not in name.strip():
            out[name.strip()] = value
    return out


def assert_clean(text, token, where):
    for part in [token] + token.split("."):
        assert part not in text, "the token is in %s:\n%s" % (where, text)


@pytest.fixture
def good(keys):
    return mint(claims(), key=keys["rsa1"])


@pytest.fixture
def expired(keys):
    return mint(claims(exp=1000), key=keys["rsa1"])


def check_access_log(raw, token, line):
    log = raw.combined_log(line)
    assert line in log, log
    assert_clean(log, token, "the access log")


def test_cgi_gets_no_token_in_any_variable(raw, good):
    status, body = raw.get("/cgi/bin/env.sh?a=1&access_token=%s&b=2" % good, good)
    assert status == 200, body
    env = env_of(body)
    assert env["REMOTE_USER"] == "alice", body
    assert env["QUERY_STRING"] == "a=1&b=2", body
    assert env["REQUEST_URI"] == "/cgi/bin/env.sh?a=1&b=2", body
    assert_clean(body, good, "the CGI environment")
    check_access_log(raw, good, '"GET /cgi/bin/env.sh?a=1&b=2 HTTP/1.1" 200')


def test_cgi_token_alone_leaves_no_query(raw, good):
    status, body = raw.get("/cgi/bin/env.sh?access_token=" + good, good)
    assert status == 200, body
    env = env_of(body)
    assert env["REQUEST_URI"] == "/cgi/bin/env.sh" and env.get("QUERY_STRING", "") == ""
    check_access_log(raw, good, '"GET /cgi/bin/env.sh HTTP/1.1" 200')


def test_source_in_directory_section(raw, good):
    status, body = raw.get("/cgi/dir/env.sh?access_token=%s&z=9" % good, good)
    assert status == 200, body
    assert env_of(body)["REQUEST_URI"] == "/cgi/dir/env.sh?z=9", body
    assert_clean(body, good, "the CGI environment")
    check_access_log(raw, good, '"GET /cgi/dir/env.sh?z=9 HTTP/1.1" 200')


def test_fastcgi_gets_no_token(raw, fcgi, good):
    status, body = raw.get("/cgi/fcgi/index.php?access_token=%s&page=2" % good, good)
    assert status == 200, body
    params = json.loads(body)
    assert params["REMOTE_USER"] == "alice", params
    assert params["QUERY_STRING"] == "page=2", params
    assert params["REQUEST_URI"] == "/cgi/fcgi/index.php?page=2", params
    assert_clean(body, good, "the FastCGI parameters")
    check_access_log(raw, good, '"GET /cgi/fcgi/index.php?page=2 HTTP/1.1" 200')


def test_ssi_printenv_shows_no_token(raw, good):
    status, body = raw.get("/cgi/ssi/page.shtml?access_token=%s&q=x" % good, good)
    assert status == 200, body
    env = env_of(body)
    assert env["REQUEST_URI"] == "/cgi/ssi/page.shtml?q=x", body
    assert env["QUERY_STRING"] == "q=x", body
    assert_clean(body, good, "the SSI page")
    check_access_log(raw, good, '"GET /cgi/ssi/page.shtml?q=x HTTP/1.1" 200')


@pytest.mark.parametrize("path", ("/cgi/bin/env.sh", "/cgi/fcgi/x.php",
                                  "/cgi/ssi/page.shtml"))
def test_error_document_of_an_expired_token(raw, expired, path):
    status, body = raw.get("%s?access_token=%s&k=v" % (path, expired), expired)
    assert status == 401, body
    env = env_of(body)
    assert env["REDIRECT_STATUS"] == "401", body
    assert env["REQUEST_URI"] == path + "?k=v", body
    assert env["REDIRECT_QUERY_STRING"] == "k=v", body
    assert_clean(body, expired, "the ErrorDocument's environment")
    check_access_log(raw, expired, '"GET %s?k=v HTTP/1.1" 401' % path)


def test_error_document_of_a_403(raw, good):
    status, body = raw.get("/cgi/bin/scope.sh?access_token=%s" % good, good)
    assert status == 403, body
    env = env_of(body)
    assert env["REDIRECT_STATUS"] == "403" and env["REQUEST_URI"] == "/cgi/bin/scope.sh"
    assert_clean(body, good, "the ErrorDocument's environment")
    check_access_log(raw, good, '"GET /cgi/bin/scope.sh HTTP/1.1" 403')


def test_absolute_form_target(raw, good):
    target = "http://127.0.0.1:%d/cgi/bin/env.sh?access_token=%s&m=1" \
        % (raw.httpd.port, good)
    status, body = raw.get(target, good)
    assert status == 200, body
    env = env_of(body)
    assert env["QUERY_STRING"] == "m=1", body
    assert_clean(body, good, "the CGI environment")
    log = raw.combined_log("env.sh?m=1 HTTP/1.1")
    assert '"GET http://127.0.0.1:%d/cgi/bin/env.sh?m=1 HTTP/1.1" 200' \
        % raw.httpd.port in log, log
    assert_clean(log, good, "the access log")


def test_fragment_is_refused_before_the_module_runs(raw, good):
    """httpd refuses a target with a "#fragment" (400) before any module
    hook: the token stays in that request's access log line (README)."""
    status, _ = raw.get("/cgi/bin/env.sh?access_token=%s#top" % good)
    assert status == 400
