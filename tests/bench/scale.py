#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The scale benchmark of mod_auth_ordsjwt (not a test: it exits 0 whatever
the numbers). See tests/bench/README.md, "Scale".

    /usr/bin/python3 tests/bench/scale.py [--tenants 1,10000]
        [--one-location] [--seconds 3] [--module PATH] [--keep]

For each tenant count N: one loopback HTTPS issuer serves N JWKS documents
(two keys each, an RSA-2048 and a P-256 one, with the tenant's own kids);
one apache2 (event MPM) has N profiles, each its own issuer and jwk_url,
and N <Location>s. The benchmark times configtest and start, reads the
parent's and the largest child's RSS and the shared memory the module
holds, times the first request to tenant 0 and to the last tenant (each
includes that tenant's one JWKS fetch), and measures the warm per-request
CPU at the last tenant against a server with the same N <Location>s and no
authentication (httpd's own walk over N <Location>s is not the module's).
"""

import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

import run  # noqa: E402  (the throughput benchmark: httpd, wrk, /proc)
from httpd_instance import MODULES_DIR  # noqa: E402
from jwks_server import JwksServer  # noqa: E402
from pki import make_pki  # noqa: E402
from tokens import AUDIENCE, Key, claims, raw_token  # noqa: E402

ISSUER = "https://issuer.example/t%d/"
BODY = b"ok\n"

MPM = """\
StartServers 2
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
MinSpareThreads 25
MaxSpareThreads 75"""


class Tenants:
    """Two signing keys shared by every tenant, published by each under
    its own kids (t<i>-rsa, t<i>-ec): N distinct JWKS documents without
    generating N keys."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537,
                                            key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())

    def key(self, i, kind="rsa"):
        if kind == "rsa":
            return Key("t%d-rsa" % i, "RS256", self.rsa)
        return Key("t%d-ec" % i, "ES256", self.ec)

    def jwks(self, i):
        return {"keys": [self.key(i).public_jwk(),
                         self.key(i, "ec").public_jwk()]}

    def token(self, i):
        key = self.key(i)
        header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        return raw_token(header, claims(iss=ISSUER % i,
                                        exp=int(time.time()) + 6 * 3600),
                         key=key)


class ScaleHttpd(run.BenchHttpd):
    """run.py's httpd with a site of N <Location>s, each serving the same
    3-byte file at <location>x."""

    def write_config(self):
        text = super().write_config()
        with open(os.path.join(self.dir, "htdocs", "x"), "wb") as f:
            f.write(BODY)
        return text


def site(n, jwks, ca, auth, one_location=False):
    """The site: N profiles (auth) and N <Location /t<i>/>, or one
    <Location /all/> listing every profile (one_location)."""
    out = ['AliasMatch "^/[^/]+/x$" "{dir}/htdocs/x"']
    if auth:
        out += ["OrdsJwtCACertificateFile %s" % ca,
                "OrdsJwtJwksRefreshInterval 3600"]
        out += ["OrdsJwtProfile t%d issuer=%s audience=%s jwk_url=%s"
                % (i, ISSUER % i, AUDIENCE, jwks.url("/t%d/jwks" % i))
                for i in range(n)]
    if one_location:
        out.append('<Location /all/>\n    AuthType ords-jwt\n    AuthName "s"\n'
                   '    AuthOrdsJwtProfile %s\n    Require valid-user\n'
                   '</Location>' % " ".join("t%d" % i for i in range(n)))
        return "\n".join(out) + "\n"
    for i in range(n):
        if auth:
            out.append('<Location /t%d/>\n    AuthType ords-jwt\n'
                       '    AuthName "s"\n    AuthOrdsJwtProfile t%d\n'
                       '    Require valid-user\n</Location>' % (i, i))
        else:
            out.append("<Location /t%d/>\n    Require all granted\n"
                       "</Location>" % i)
    return "\n".join(out) + "\n"


def make_httpd(work, name, text, module):
    load = "LoadModule alias_module %s/mod_alias.so" % MODULES_DIR
    if module:
        load += "\nLoadModule auth_ordsjwt_module %s" % module
    httpd = ScaleHttpd(os.path.join(work, name), text, load, MPM, module)
    httpd.site = text.replace("{dir}", httpd.dir)
    return httpd


def timed_get(httpd, path, token=None):
    req = urllib.request.Request(httpd.url(path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status = resp.status
            resp.read()
    except urllib.error.HTTPError as e:
        status = e.code
    return status, 1000 * (time.monotonic() - start)


def fetch_ms(jwks, ca, path):
    """The median time of 5 HTTPS GETs of one JWKS (a new TLS connection
    each, as the module fetches), in ms: the part of a first request that
    is the issuer's."""
    ctx = ssl.create_default_context(cafile=ca)
    took = []
    for _ in range(5):
        start = time.monotonic()
        with urllib.request.urlopen(jwks.url(path), context=ctx,
                                    timeout=10) as resp:
            resp.read()
        took.append(1000 * (time.monotonic() - start))
    return statistics.median(took)


def shm_of(pids):
    """The largest anonymous shared mapping of the processes (the JWKS
    segment): its size and the pages resident, summed (Pss) over the
    processes, in KiB."""
    size, pss = {}, {}
    for pid in pids:
        try:
            with open("/proc/%d/smaps" % pid) as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        cur = None
        for line in lines:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                cur = head[0] if "/dev/zero" in line or "SYSV" in line else None
            elif cur and head[0] == "Size:":
                size[cur] = int(head[1])
            elif cur and head[0] == "Pss:":
                pss[cur] = pss.get(cur, 0) + int(head[1])
    if not size:
        return None, None
    top = max(size, key=size.get)
    return size[top], pss[top]


def module_shm(httpd):
    """The module's own account of its JWKS shared memory (status page),
    or None when it gives none."""
    status, body = run.http_status(httpd, "/ordsjwt-status?json&limit=1", None)
    if status != 200:
        return None
    try:
        return json.loads(body).get("shared_memory")
    except ValueError:
        return None


def page_cost(httpd, query):
    """(bytes, ms) of one status page."""
    start = time.monotonic()
    status, body = run.http_status(httpd, "/ordsjwt-status" + query, None)
    took = 1000 * (time.monotonic() - start)
    return (len(body), took) if status == 200 else (0, took)


def warm_cpu(httpd, path, tokfile, seconds):
    """httpd CPU µs per request of wrk on path for seconds."""
    cell = run.Cell("warm", path[:-1], "RS256", tokfile, "ours")
    run.wrk(httpd, cell, 1, 16)
    cpu0 = httpd.cpu_seconds()
    rps, total, bad, _ = run.wrk(httpd, cell, seconds, 16)
    cpu = httpd.cpu_seconds() - cpu0
    return 1e6 * cpu / max(total, 1), rps, bad


def measure(args, work, tenants, jwks, ca, n, one_location):
    """One row: the figures of N tenants."""
    label = "%d%s" % (n, " in one <Location>" if one_location else "")
    text = site(n, jwks, ca, True, one_location)
    status_loc = ("<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n"
                  "</Location>\n")
    httpd = make_httpd(work, "s%d%s" % (n, "-one" if one_location else ""),
                       text + status_loc, args.module)
    httpd.write_config()
    t0 = time.monotonic()
    rc, out = httpd.configtest()
    configtest_s = time.monotonic() - t0
    if rc != 0:
        return {"label": label, "error": "configtest: " + out[-500:]}
    t0 = time.monotonic()
    httpd.start(timeout=120)
    start_s = time.monotonic() - t0
    row = {"label": label, "configtest": configtest_s, "start": start_s}
    try:
        last = n - 1
        path = (lambda i: "/all/x") if one_location else (lambda i: "/t%d/x" % i)
        row["first0"] = timed_get(httpd, path(0), tenants.token(0))
        row["again0"] = timed_get(httpd, path(0), tenants.token(0))
        row["firstN"] = timed_get(httpd, path(last), tenants.token(last))
        row["fetch"] = fetch_ms(jwks, ca, "/t%d/jwks" % last)
        row["againN"] = timed_get(httpd, path(last), tenants.token(last))
        row["parent_rss"] = run.vm_rss_kb(httpd.pid)
        children = httpd.children()
        row["child_rss"] = max(run.vm_rss_kb(c) for c in children)
        row["shm_size"], row["shm_pss"] = shm_of([httpd.pid] + children)
        row["shm_module"] = module_shm(httpd)
        row["json"] = page_cost(httpd, "?json")
        row["metrics"] = page_cost(httpd, "?metrics")
        if args.seconds:
            tokfile = os.path.join(work, "tok-%s.txt" % label.replace(" ", "_"))
            run.write_tokens(tokfile, [tenants.token(last)])
            row["warm"] = warm_cpu(httpd, path(last), tokfile, args.seconds)
    finally:
        httpd.stop()
    if args.seconds and not one_location:
        bare = make_httpd(work, "bare%d" % n, site(n, jwks, ca, False), None)
        bare.start(timeout=120)
        try:
            tokfile = os.path.join(work, "tok-bare.txt")
            run.write_tokens(tokfile, [tenants.token(last)])
            row["bare"] = warm_cpu(bare, "/t%d/x" % last, tokfile, args.seconds)
        finally:
            bare.stop()
    return row


def kib(v):
    return "–" if v is None else "{:,.1f} MiB".format(v / 1024)


def report(rows):
    lines = ["| tenants | configtest | start | parent RSS | largest child RSS "
             "| JWKS shared memory: reserved / resident (module: used) "
             "| first request t0 / last (a fetch alone) | again t0 / last "
             "| warm µs/request: ours / no auth (×) |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        if "error" in r:
            lines.append("| %s | %s |" % (r["label"], r["error"]))
            continue
        mod = r.get("shm_module") or {}
        used = (" ({:,.1f} MiB used of {:,.1f})".format(
            mod["used"] / 1048576, mod["size"] / 1048576) if mod else "")
        warm = "–"
        if "warm" in r:
            warm = "%.0f" % r["warm"][0]
            if "bare" in r:
                warm += " / %.0f (%.2f×)" % (r["bare"][0],
                                            r["warm"][0] / r["bare"][0])
            if r["warm"][2]:
                warm += " NON-2xx %d" % r["warm"][2]
        lines.append("| %s | %.2f s | %.2f s | %s | %s | %s / %s%s | "
                     "%d %.0f ms / %d %.0f ms (%.0f ms) | %.1f / %.1f ms | "
                     "%s |" % (
                         r["label"], r["configtest"], r["start"],
                         kib(r["parent_rss"]), kib(r["child_rss"]),
                         kib(r["shm_size"]), kib(r["shm_pss"]), used,
                         r["first0"][0], r["first0"][1], r["firstN"][0],
                         r["firstN"][1], r["fetch"], r["again0"][1],
                         r["againN"][1], warm))
    lines += ["", "| tenants | status page `?json` (first 100 profiles and the "
              "summary) | `?metrics` (every profile) |", "|---|--:|--:|"]
    for r in rows:
        if "json" in r:
            lines.append("| %s | %s KiB, %.0f ms | %s KiB, %.0f ms |" % (
                r["label"], "{:,.0f}".format(r["json"][0] / 1024),
                r["json"][1], "{:,.0f}".format(r["metrics"][0] / 1024),
                r["metrics"][1]))
    return "\n".join(lines)


def parse_args():
    default_module = os.environ.get(
        "ORDSJWT_MODULE", os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tenants", default="1,10000",
                   help="tenant counts, comma-separated (default 1,10000)")
    p.add_argument("--one-location", action="store_true",
                   help="also the largest count as profiles listed in one "
                   "<Location> (the token's iss chooses)")
    p.add_argument("--seconds", type=int, default=3,
                   help="wrk seconds of each warm measurement (0: none)")
    p.add_argument("--module", default=default_module)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    args.module = os.path.abspath(args.module)
    args.counts = [int(x) for x in args.tenants.split(",")]
    return args


def main():
    args = parse_args()
    if args.seconds and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk "
                         "(or --seconds 0)")
    work = tempfile.mkdtemp(prefix="ordsjwt-scale-", dir="/tmp")
    os.chmod(work, 0o755)
    jwks = None
    rows = []
    try:
        pki = make_pki(work)
        tenants = Tenants()
        jwks = JwksServer(pki["cert"], pki["key"]).start()
        for i in range(max(args.counts)):
            jwks.publish("/t%d/jwks" % i, tenants.jwks(i))
        for n in args.counts:
            print("%d tenants ..." % n, file=sys.stderr, flush=True)
            rows.append(measure(args, work, tenants, jwks, pki["ca"], n, False))
        if args.one_location:
            n = max(args.counts)
            print("%d profiles in one <Location> ..." % n, file=sys.stderr)
            rows.append(measure(args, work, tenants, jwks, pki["ca"], n, True))
    finally:
        if jwks:
            jwks.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work, file=sys.stderr)
    print("## mod_auth_ordsjwt scale benchmark\n")
    for line in run.machine():
        print("- " + line)
    print("- module: %s" % args.module)
    print("- one apache2 (event MPM, 2 processes x 25 threads), N profiles "
          "(own issuer and jwk_url) and N <Location>s; one loopback HTTPS "
          "issuer serving N two-key JWKS; warm: wrk -t1 -c16 -d%ds, one "
          "token of the last tenant, httpd CPU per request" % args.seconds)
    print()
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
