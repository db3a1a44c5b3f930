# SPDX-License-Identifier: Apache-2.0
"""HTTP client for the httpd under test, assertions on its answers, and a
loopback echo backend for mod_proxy."""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

INVALID_PREFIX = 'Bearer realm="ORDS", error="invalid_token", error_description="'
LOG_ID = re.compile(r"ORDSJWT\d{5}:")


class Client:
    """Sends requests to one httpd; remembers tokens so that the log check
    can prove none of them was written to the error log."""

    def __init__(self, httpd):
        self.httpd = httpd
        self.tokens = []
        self.log_start = httpd.log_offset()

    def get(self, path, token=None, scheme="Bearer", authorization=None,
            timeout=30, host=None):
        """host: the Host header, to reach a name-based virtual host."""
        headers = {"Connection": "close"}
        if host is not None:
            headers["Host"] = host
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = "%s %s" % (scheme, token)
            self.tokens.append(token)
        return requests.get(self.httpd.url(path), headers=headers,
                            timeout=timeout, allow_redirects=False)

    def new_log(self):
        return self.httpd.read_log(self.log_start)

    def assert_refusal_logged(self, profile=None):
        """An info line with an ORDSJWT id (naming profile, if given) was
        logged since the client was made; returns the matching lines."""
        word = re.compile(r"(?<![\w.-])%s(?![\w.-])" % re.escape(profile or ""))
        lines = [l for l in self.new_log().splitlines()
                 if "[auth_ordsjwt:info]" in l and LOG_ID.search(l)
                 and (profile is None or word.search(l))]
        assert lines, ("no [auth_ordsjwt:info] ORDSJWTnnnnn: line%s in the error log:\n%s"
                       % (" naming profile %r" % profile if profile else "",
                          self.new_log()))
        return lines


def wait_log(read, *wanted, timeout=5.0):
    """read() once it holds every wanted text, or after timeout. An
    authorization refusal is logged when the request is logged (the
    log_transaction hook), just after its response went out."""
    deadline = time.time() + timeout
    while True:
        text = read()
        if all(w in text for w in wanted) or time.time() > deadline:
            return text
        time.sleep(0.05)


def read_file(path):
    """A function that reads path, for wait_log (an access log)."""
    def read():
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    return read


def assert_log_clean(httpd, offset, acknowledged=(), tokens=()):
    """httpd's error log since offset: no unacknowledged warn or worse, and
    none of the tokens (their signature) in it."""
    from httpd_instance import bad_lines
    log = httpd.read_log(offset)
    bad = bad_lines(log, acknowledged)
    assert not bad, "unexpected lines in the error log:\n" + "\n".join(bad)
    for t in tokens:
        assert t.split(".")[2] not in log, "a token was logged"


def assert_ok(resp, sub="alice"):
    assert resp.status_code == 200, _show(resp)
    assert resp.headers.get("X-Remote-User") == sub, _show(resp)


def assert_challenge(resp, error=None, realm="ORDS", scope=None,
                     header="WWW-Authenticate"):
    """The RFC 6750 answer and its challenge, in header (Proxy-Authenticate
    for a proxy request; the other header must be absent):
      error=None                 401 `Bearer realm="REALM"` (no token);
      error="invalid_token"      401 with error="invalid_token" and a
                                 non-empty error_description;
      error="insufficient_scope" 403 with error="insufficient_scope" and
                                 scope="SCOPE", or no scope when None.
    Returns the challenge."""
    other = "WWW-Authenticate" if header == "Proxy-Authenticate" \
        else "Proxy-Authenticate"
    assert resp.status_code == (403 if error == "insufficient_scope" else 401), \
        _show(resp)
    assert other not in resp.headers, _show(resp)
    got = resp.headers.get(header, "")
    want = 'Bearer realm="%s"' % realm
    if error is None:
        assert got == want, _show(resp)
    elif error == "invalid_token":
        prefix = want + ', error="invalid_token", error_description="'
        assert got.startswith(prefix) and got.endswith('"') \
            and len(got) > len(prefix) + 1, _show(resp)
    elif error == "insufficient_scope":
        want += ', error="insufficient_scope"'
        if scope is not None:
            want += ', scope="%s"' % scope
        assert got == want, _show(resp)
    else:
        raise ValueError("unknown error %r" % error)
    return got


def assert_no_token(resp):
    assert_challenge(resp)


def assert_invalid_token(resp, description=None, token=None):
    """401 invalid_token; description: exact text, or a tuple of accepted
    texts, or None for any non-empty text."""
    assert resp.status_code == 401, _show(resp)
    www = resp.headers.get("WWW-Authenticate", "")
    assert www.startswith(INVALID_PREFIX) and www.endswith('"'), _show(resp)
    desc = www[len(INVALID_PREFIX):-1]
    assert desc, _show(resp)
    assert '"' not in desc and "\\" not in desc, _show(resp)
    if token:
        assert token not in www
        for part in token.split("."):
            if len(part) >= 8:
                assert part not in www, "token part echoed to the client"
    if isinstance(description, str):
        assert desc == description, _show(resp)
    elif description is not None:
        assert desc in description, _show(resp)
    return desc


def assert_insufficient_scope(resp, scope=None):
    assert_challenge(resp, "insufficient_scope", scope=scope)


def assert_unavailable(resp):
    assert resp.status_code == 503, _show(resp)
    retry = resp.headers.get("Retry-After", "")
    assert retry.strip().isdigit() and int(retry) > 0, _show(resp)


def _show(resp):
    return "HTTP %d, headers %r" % (resp.status_code, dict(resp.headers))


class EchoBackend:
    """A loopback HTTP server that answers every request with the request
    line and headers it got, as JSON, and counts the requests."""

    def __init__(self):
        owner = self
        self.count = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with owner.lock:
                    owner.count += 1
                body = json.dumps({"method": self.command, "path": self.path,
                                   "headers": list(self.headers.items())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
