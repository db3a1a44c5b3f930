# SPDX-License-Identifier: Apache-2.0
"""The parts of the interop suite that nobody here wrote, driven from
pytest: the authorization server (as.mjs: oidc-provider) as a child
process, and its clients (curl for Bearer tokens and client certificates,
client.mjs: oauth4webapi for DPoP)."""

import base64
import json
import os
import select
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = os.environ.get("NODE") or shutil.which("node")
CURL = shutil.which("curl") or "/usr/bin/curl"
# What the module answers with in a DPoP challenge (RFC 9449 section 7.1)
DPOP_ALGS = "ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 PS512"


def missing_tools():
    """Why the suite cannot run here, or None."""
    if not NODE:
        return "node not found (Debian: apt-get install nodejs npm)"
    for package in ("oidc-provider", "oauth4webapi"):
        if not os.path.isdir(os.path.join(HERE, "node_modules", package)):
            return "%s not installed: run npm ci in %s" % (package, HERE)
    return None


def package_version(name):
    """The installed version of an npm package of the suite."""
    with open(os.path.join(HERE, "node_modules", name, "package.json")) as f:
        return json.load(f)["version"]


def jwt_parts(token):
    """(header, payload) of a compact JWS, decoded without any check."""
    def part(text):
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    header, payload = token.split(".")[:2]
    return part(header), part(payload)


class AuthorizationServer:
    """oidc-provider on https://127.0.0.1:PORT (as.mjs), keys made at each
    start: kids {"rs-1": "RS256", ...}; clients and resources as as.mjs
    takes them."""

    def __init__(self, directory, pki, port, kids, clients, resources):
        self.dir = directory
        self.pki = pki
        self.port = port
        self.kids = dict(kids)
        self.clients = {c["client_id"]: c for c in clients}
        self.resources = resources
        self.proc = None
        os.makedirs(directory, exist_ok=True)
        self.log_path = os.path.join(directory, "as.log")

    @property
    def issuer(self):
        return "https://127.0.0.1:%d" % self.port

    @property
    def discovery_url(self):
        return self.issuer + "/.well-known/openid-configuration"

    def _write_config(self):
        path = os.path.join(self.dir, "as.json")
        with open(path, "w") as f:
            json.dump({"port": self.port, "issuer": self.issuer,
                       "tls": {"cert": self.pki["cert"], "key": self.pki["key"]},
                       "keys": [{"kid": k, "alg": a} for k, a in self.kids.items()],
                       "clients": list(self.clients.values()),
                       "resources": self.resources}, f, indent=1)
        return path

    def start(self, timeout=30):
        """Starts as.mjs and waits for its "listening" line."""
        config = self._write_config()
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([NODE, os.path.join(HERE, "as.mjs"), config],
                                     stdout=subprocess.PIPE, stderr=log,
                                     text=True, cwd=HERE)
        log.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError("the authorization server did not start:\n%s%s"
                               % (line, self.log()))
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc.stdout.close()
            self.proc = None

    def rotate(self, kids):
        """A restart with a new keystore: the old keys are gone."""
        self.stop()
        self.kids = dict(kids)
        return self.start()

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def token(self, client_id, resource, scope=None, cert=None):
        """The client-credentials grant by curl (client_secret_basic); with
        cert (cert file, key file) over a TLS connection with that client
        certificate. The token response as a dict (or the error's)."""
        client = self.clients[client_id]
        args = ["-u", "%s:%s" % (client_id, client["client_secret"]),
                "-d", "grant_type=client_credentials",
                "--data-urlencode", "resource=" + resource]
        if scope:
            args += ["--data-urlencode", "scope=" + scope]
        if cert:
            args += ["--cert", cert[0], "--key", cert[1]]
        resp = curl(self.issuer + "/token", self.pki["ca"], args)
        body = json.loads(resp.body)
        assert resp.status == 200 and "access_token" in body, (resp.status, body)
        return body

    def dpop_client(self, client_id, resource, scope, calls, alg="ES256"):
        """client.mjs (oauth4webapi): a DPoP-bound token, then calls; what
        it printed (see client.mjs)."""
        plan = {"issuer": self.issuer, "client_id": client_id,
                "client_secret": self.clients[client_id]["client_secret"],
                "resource": resource, "scope": scope, "alg": alg,
                "calls": calls}
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.pki["ca"])
        r = subprocess.run([NODE, os.path.join(HERE, "client.mjs")],
                           input=json.dumps(plan), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60,
                           cwd=HERE, env=env)
        assert r.returncode == 0, "client.mjs failed:\n%s\nAS log:\n%s" \
            % (r.stderr, self.log()[-3000:])
        return json.loads(r.stdout)


class Response:
    """An HTTP response as curl saw it; header names in lower case, each
    repeated header once per line."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def header(self, name):
        values = self.all(name)
        return values[0] if values else None

    def __repr__(self):
        return "HTTP %d %r" % (self.status, self.headers)


def curl(url, ca, args=(), timeout=30):
    """curl -i URL (verifying the server against ca) with args."""
    r = subprocess.run([CURL, "-sS", "-i", "--max-time", str(timeout),
                        "--cacert", ca] + list(args) + [url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 10)
    assert r.returncode == 0, r.stderr.decode()
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return Response(int(lines[0].split()[1]), headers, body.decode("utf-8", "replace"))
