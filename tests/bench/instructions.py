#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Instructions (and, with --cache-sim, cache misses) per request of
mod_auth_ordsjwt, counted by valgrind's callgrind on one apache2 -X (a
single process): not timed, so a busy machine does not move the figures.
See tests/bench/README.md, "Instructions per request".

    /usr/bin/python3 tests/bench/instructions.py [--requests 2000]
        [--module PATH] [--cache-sim] [--locations 1,10000] [--keep]

Cells: no authentication, ours with OrdsJwtPassClaims none, ours with the
default (env), ours with both; one token, a token-cache hit after the
first request. With --locations N (N > 1): N profiles and N <Location>s
(as scale.py), the cell the last one, against a server with the same N
<Location>s and no authentication.
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import run  # noqa: E402
import scale  # noqa: E402
from httpd_instance import APACHE2, MODULES_DIR  # noqa: E402
from jwks_server import JwksServer  # noqa: E402
from pki import make_pki  # noqa: E402

# one process, few threads: apache2 -X under callgrind
MPM_ONE = """\
ThreadsPerChild 2
MaxRequestWorkers 2
MinSpareThreads 1
MaxSpareThreads 2"""

EVENTS = ("Ir", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")


def as_user():
    """(command prefix, uid, gid): as root, valgrind, apache2 and
    callgrind_control run as www-data, so that httpd changes no user
    (vgdb, behind callgrind_control, cannot reach a process that did)."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    import pwd
    pw = pwd.getpwnam("www-data")
    return (["setpriv", "--reuid=www-data", "--regid=www-data",
             "--init-groups"], pw.pw_uid, pw.pw_gid)


class CgHttpd(run.BenchHttpd):
    """An apache2 -X under callgrind; zero() and dump() bracket what is
    counted."""

    def __init__(self, directory, site, load, cache_sim):
        super().__init__(directory, site, load, MPM_ONE, None)
        self.cache_sim = cache_sim
        self.proc = None
        self.dumps = 0

    def write_config(self):
        text = super().write_config()
        with open(os.path.join(self.dir, "htdocs", "x"), "wb") as f:
            f.write(run.BODY)
        return text

    def start(self, timeout=600, acknowledged=()):
        self.write_config()
        for sub in ("", "logs", "run"):
            os.chown(os.path.join(self.dir, sub), *as_user()[1:])
        out = os.path.join(self.dir, "callgrind.out")
        cmd = as_user()[0] + ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
               "--dump-instr=no", "--instr-atstart=no",
               "--cache-sim=%s" % ("yes" if self.cache_sim else "no"),
               APACHE2, "-X", "-f", self.conf]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(
                                         self.dir, "valgrind.log"), "w"))
        deadline = time.time() + timeout
        while not self._answers():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("apache2 -X under callgrind did not "
                                   "answer: see %s" % self.dir)
            time.sleep(0.5)
        return self

    def control(self, *args):
        subprocess.run(as_user()[0] + ["callgrind_control"] + list(args) + [
            str(self.proc.pid)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=True)

    def counted(self, fn, warm):
        """The events of fn() alone, after warm() (instrumented, not
        counted): {event: count}."""
        self.control("-i", "on")
        warm()
        self.control("-z")
        fn()
        self.dumps += 1
        self.control("-d")
        return self.totals(self.dumps)

    def totals(self, n):
        path = os.path.join(self.dir, "callgrind.out.%d" % n)
        for _ in range(100):
            if os.path.exists(path):
                break
            time.sleep(0.1)
        events = totals = None
        with open(path) as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith(("totals:", "summary:")):
                    totals = [int(x) for x in line.split()[1:]]
        return dict(zip(events, totals))

    def stop(self, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def requests(port, path, token, n):
    """n GETs of path on one keep-alive connection; the statuses seen."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": "Bearer " + token}
    seen = {}
    for _ in range(n):
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        seen[resp.status] = seen.get(resp.status, 0) + 1
    conn.close()
    return seen


def cells_site(ca, jwks_url):
    """The locations of the one-location cells."""
    site = ['AliasMatch "^/[^/]+/x$" "{dir}/htdocs/x"',
            "<Location /noauth/>\n    Require all granted\n</Location>",
            "OrdsJwtCACertificateFile %s" % ca,
            "OrdsJwtJwksRefreshInterval 3600",
            "OrdsJwtProfile bench issuer=%s audience=%s jwk_url=%s"
            % (run.ISSUER, run.AUDIENCE, jwks_url)]
    for loc, how in (("ords-none", "none"), ("ords", None),
                     ("ords-both", "both")):
        site.append('<Location /%s/>\n    AuthType ords-jwt\n'
                    '    AuthName "bench"\n    AuthOrdsJwtProfile bench\n'
                    '%s    Require valid-user\n</Location>'
                    % (loc, "    OrdsJwtPassClaims %s\n" % how if how else ""))
    return "\n".join(site) + "\n"


def measure(httpd, path, token, n):
    """Events per request of n requests to path (after a warm-up)."""
    result, seen = {}, {}

    def warm():
        seen.update(requests(httpd.port, path, token, 50))

    def go():
        result.update(requests(httpd.port, path, token, n))
    ev = httpd.counted(go, warm)
    if set(seen) != {200} or set(result) != {200}:
        return None, "got %s, then %s" % (seen, result)
    return {k: v / n for k, v in ev.items()}, None


def one_location(args, work, pki, jwks, keys):
    load = "LoadModule alias_module %s/mod_alias.so\n" \
           "LoadModule auth_ordsjwt_module %s" % (MODULES_DIR, args.module)
    site = cells_site(pki["ca"], jwks.url("/jwks"))
    httpd = CgHttpd(os.path.join(work, "one"), site, load, args.cache_sim)
    httpd.site = site.replace("{dir}", httpd.dir)
    token = run.mint(keys.by_alg["RS256"], 1, "one-")[0]
    rows = []
    httpd.start()
    try:
        for label, path in (("no authentication", "/noauth/x"),
                            ("ours, OrdsJwtPassClaims none", "/ords-none/x"),
                            ("ours, env (default)", "/ords/x"),
                            ("ours, both", "/ords-both/x")):
            ev, why = measure(httpd, path, token, args.requests)
            rows.append((label, ev, why))
    finally:
        httpd.stop()
    return rows


def many_locations(args, work, pki, n):
    tenants = scale.Tenants()
    jwks = JwksServer(pki["cert"], pki["key"]).start()
    rows = []
    try:
        for i in range(n):
            jwks.publish("/t%d/jwks" % i, tenants.jwks(i))
        token = tenants.token(n - 1)
        for label, auth in (("no authentication", False), ("ours", True)):
            text = scale.site(n, jwks, pki["ca"], auth)
            load = "LoadModule alias_module %s/mod_alias.so" % MODULES_DIR
            if auth or args.module_in_bare:
                load += "\nLoadModule auth_ordsjwt_module %s" % args.module
            httpd = CgHttpd(os.path.join(work, "n%d-%s" % (n, auth)), text,
                            load, args.cache_sim)
            httpd.site = text.replace("{dir}", httpd.dir)
            httpd.start()
            try:
                ev, why = measure(httpd, "/t%d/x" % (n - 1), token,
                                  args.requests)
            finally:
                httpd.stop()
            rows.append(("%d <Location>s: %s" % (n, label), ev, why))
    finally:
        jwks.stop()
    return rows


def report(rows):
    events = [e for e in EVENTS if any(ev and e in ev for _, ev, _ in rows)]
    base = rows[0][1] if rows and rows[0][1] else None
    lines = ["| cell | " + " | ".join(
        "%s/request" % e for e in events) + " | Ir × first |",
        "|---" * (len(events) + 2) + "|"]
    for label, ev, why in rows:
        if ev is None:
            lines.append("| %s | not measured: %s |" % (label, why))
            continue
        lines.append("| %s | %s | %s |" % (
            label, " | ".join("{:,.0f}".format(ev.get(e, 0)) for e in events),
            "%.3f" % (ev["Ir"] / base["Ir"]) if base else "–"))
    return "\n".join(lines)


def parse_args():
    default_module = os.environ.get(
        "ORDSJWT_MODULE", os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000,
                   help="requests counted per cell (default 2000)")
    p.add_argument("--module", default=default_module)
    p.add_argument("--cache-sim", action="store_true",
                   help="also simulate the caches (I1, D1, LL misses)")
    p.add_argument("--locations", default="1",
                   help="comma-separated <Location> counts (default 1: the "
                   "one-location cells)")
    p.add_argument("--module-in-bare", action="store_true",
                   help="load the module in the servers without "
                   "authentication too")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    args.module = os.path.abspath(args.module)
    args.counts = [int(x) for x in args.locations.split(",")]
    return args


def main():
    args = parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: apt-get install -y valgrind")
    work = tempfile.mkdtemp(prefix="ordsjwt-instr-", dir="/tmp")
    os.chmod(work, 0o755)
    rows = []
    try:
        pki = make_pki(work)
        for n in args.counts:
            if n == 1:
                keys = run.Keys(work)
                jwks = JwksServer(pki["cert"], pki["key"]).start()
                jwks.publish("/jwks", keys.jwks())
                try:
                    rows += one_location(args, work, pki, jwks, keys)
                finally:
                    jwks.stop()
            else:
                rows += many_locations(args, work, pki, n)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work, file=sys.stderr)
    print("## mod_auth_ordsjwt: events per request (callgrind)\n")
    print("- module: %s" % args.module)
    print("- apache2 -X (event MPM, one process) under valgrind %s; %d "
          "requests per cell on one keep-alive connection, one RS256 token "
          "(a token-cache hit)" % (
              re.sub(r"^valgrind-", "", subprocess.run(
                  ["valgrind", "--version"], stdout=subprocess.PIPE,
                  text=True).stdout.strip()), args.requests))
    print()
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
