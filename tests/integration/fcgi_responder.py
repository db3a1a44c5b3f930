# SPDX-License-Identifier: Apache-2.0
"""A tiny FastCGI responder on loopback, for mod_proxy_fcgi: it answers
every request with the parameters (the CGI variables) it was given, as a
JSON object, the way PHP-FPM hands them to an application as $_SERVER.

    fcgi = FcgiResponder().start()
    ... ProxyPass "fcgi://127.0.0.1:%d/" % fcgi.port ...
    fcgi.stop()

Only what a responder needs of the FastCGI 1.0 specification: records of
8-byte headers, BEGIN_REQUEST, PARAMS and STDIN in, STDOUT and
END_REQUEST out; one request per connection unless FCGI_KEEP_CONN.
"""

import json
import socket
import struct
import threading

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT = 1, 2, 3, 4, 5, 6
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
KEEP_CONN = 1
HEADER = struct.Struct("!BBHHBx")


def _read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_record(sock):
    """(type, request id, content) of the next record."""
    version, rtype, rid, length, padding = HEADER.unpack(_read_exact(sock, 8))
    if version != VERSION:
        raise ValueError("FastCGI version %d" % version)
    content = _read_exact(sock, length) if length else b""
    if padding:
        _read_exact(sock, padding)
    return rtype, rid, content


def record(rtype, rid, content=b""):
    padding = -len(content) % 8
    return HEADER.pack(VERSION, rtype, rid, len(content), padding) + content \
        + b"\0" * padding


def _length(data, i):
    if data[i] < 128:
        return data[i], i + 1
    return struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF, i + 4


def name_values(data):
    """The name-value pairs of a PARAMS stream, decoded as latin-1."""
    out, i = {}, 0
    while i < len(data):
        nlen, i = _length(data, i)
        vlen, i = _length(data, i)
        name = data[i:i + nlen].decode("latin-1")
        out[name] = data[i + nlen:i + nlen + vlen].decode("latin-1")
        i += nlen + vlen
    return out


class FcgiResponder:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []          # the params of every request served
        self.lock = threading.Lock()
        self.thread = None
        self.running = False

    def start(self):
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.running = False
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()

    def _accept(self):
        while self.running:
            conn, _ = self.sock.accept()
            if not self.running:
                conn.close()
                break
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            while self._one_request(conn):
                pass
        except (EOFError, OSError, ValueError):
            pass
        finally:
            conn.close()

    def _one_request(self, conn):
        """Serves one request; True when the connection is kept."""
        params, rid, flags, stdin_done = b"", 0, 0, False
        while not stdin_done:
            rtype, rid, content = read_record(conn)
            if rtype == BEGIN_REQUEST:
                flags = content[2]
            elif rtype == PARAMS:
                params += content
            elif rtype == STDIN:
                stdin_done = not content    # the body itself is not needed
            elif rtype == GET_VALUES:
                conn.sendall(record(GET_VALUES_RESULT, 0))
            elif rtype == ABORT_REQUEST:
                return False
            else:
                conn.sendall(record(UNKNOWN_TYPE, 0, bytes([rtype]) + b"\0" * 7))
        env = name_values(params)
        with self.lock:
            self.requests.append(env)
        body = json.dumps(env).encode()
        head = b"Status: 200 OK\r\nContent-Type: application/json\r\n" \
            b"Content-Length: %d\r\n\r\n" % len(body)
        out = head + body
        for i in range(0, len(out), 32768):
            conn.sendall(record(STDOUT, rid, out[i:i + 32768]))
        conn.sendall(record(STDOUT, rid) + record(END_REQUEST, rid, b"\0" * 8))
        return bool(flags & KEEP_CONN)
