# SPDX-License-Identifier: Apache-2.0
"""A throwaway redis-server (Debian's redis-server package) on a loopback
port with its own directory, for the fleet-wide DPoP replay store."""

import os
import signal
import socket
import subprocess
import time

from jwks_server import free_port

REDIS = "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, directory, port=None):
        self.dir = directory
        self.port = port or free_port()
        self.proc = None
        os.makedirs(directory, exist_ok=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=10):
        self.proc = subprocess.Popen(
            [REDIS, "--bind", "127.0.0.1", "--port", str(self.port),
             "--dir", self.dir, "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--protected-mode", "yes",
             "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer on %s" % self.address)

    def command(self, *words):
        """One command (RESP), its first reply line."""
        msg = b"*%d\r\n" % len(words) + b"".join(
            b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words)
        with socket.create_connection(("127.0.0.1", self.port), 5) as s:
            s.sendall(msg)
            return s.recv(256).split(b"\r\n", 1)[0].decode()

    def pause(self):
        """SIGSTOP: the process holds its connections and answers nothing
        (a failover, a paused VM, a full socket buffer)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self):
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self):
        if self.proc is not None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
