# SPDX-License-Identifier: Apache-2.0
"""A loopback HTTPS server for JWKS documents, run in a background thread.

    server = JwksServer(cert_file, key_file)
    server.start()
    server.publish("/jwks", {"keys": [...]})          # a default document
    server.set_response("/jwks", status=500)          # per-path override
    server.fetch_count("/jwks")                       # requests seen
    server.reset()                                    # back to the defaults
    server.stop()
"""

import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_UNSET = object()


class _Response:
    def __init__(self, status=200, body=b"", content_type="application/json", delay=0.0,
                 headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.delay = delay
        self.headers = dict(headers or {})


def _as_bytes(body):
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode()
    if isinstance(body, str):
        return body.encode()
    return bytes(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jwks-test"

    def do_GET(self):
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        resp = owner._hit(path, self.headers.get("If-None-Match"))
        if resp.delay:
            time.sleep(resp.delay)
        try:
            self.send_response(resp.status)
            if resp.content_type:
                self.send_header("Content-Type", resp.content_type)
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def log_message(self, fmt, *args):  # keep pytest output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, owner, context):
        self.owner = owner
        self.context = context
        super().__init__(addr, _Handler)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us, or went away
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass


class JwksServer:
    def __init__(self, cert_file, key_file, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_file, key_file)
        self._lock = threading.Lock()
        self._defaults = {}
        self._overrides = {}
        self._counts = {}
        self._conditional = {}
        self._httpd = None
        self._thread = None

    # --- lifecycle ------------------------------------------------------
    def start(self):
        """Starts serving; after stop() it binds the same port again."""
        self._httpd = _Server((self.host, self.port), self, self._context)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="jwks-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = self._thread = None

    @property
    def running(self):
        return self._httpd is not None

    def url(self, path):
        return "https://%s:%d%s" % (self.host, self.port, path)

    # --- content --------------------------------------------------------
    def publish(self, path, document, content_type="application/json", status=200,
                delay=0.0):
        """Sets the default response of path (kept across reset())."""
        with self._lock:
            self._defaults[path] = _Response(status, _as_bytes(document), content_type,
                                             delay)

    def set_document(self, path, document, content_type="application/json"):
        """Replaces the document of path until reset()."""
        self.set_response(path, status=200, body=document, content_type=content_type)

    def set_response(self, path, status=_UNSET, body=_UNSET, content_type=_UNSET,
                     delay=_UNSET, headers=_UNSET):
        """Overrides parts of the response of path until reset(). headers
        (a dict) are sent as given; an "ETag" among them makes a request
        whose If-None-Match matches it get 304 (counted as a fetch)."""
        with self._lock:
            base = self._overrides.get(path) or self._defaults.get(path) \
                or _Response(404, b'{"error":"not found"}')
            resp = _Response(base.status, base.body, base.content_type, base.delay,
                             base.headers)
            if status is not _UNSET:
                resp.status = status
            if body is not _UNSET:
                resp.body = _as_bytes(body)
            if content_type is not _UNSET:
                resp.content_type = content_type
            if delay is not _UNSET:
                resp.delay = delay
            if headers is not _UNSET:
                resp.headers = dict(headers)
            self._overrides[path] = resp

    def reset(self):
        """Drops every override and zeroes the counters."""
        with self._lock:
            self._overrides.clear()
            self._counts.clear()
            self._conditional.clear()

    def fetch_count(self, path):
        with self._lock:
            return self._counts.get(path, 0)

    def _hit(self, path, if_none_match=None):
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1
            self._conditional[path] = self._conditional.get(path, 0) + \
                (1 if if_none_match else 0)
            resp = (self._overrides.get(path) or self._defaults.get(path)
                    or _Response(404, b'{"error":"not found"}'))
            etag = resp.headers.get("ETag")
            if etag and if_none_match == etag and resp.status == 200:
                return _Response(304, b"", None, resp.delay, resp.headers)
            return resp

    def conditional_count(self, path):
        """How many requests for path carried If-None-Match."""
        with self._lock:
            return self._conditional.get(path, 0)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]
