#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The benchmark of mod_auth_ordsjwt (not a test: it exits 0 whatever the
numbers). See tests/bench/README.md.

    /usr/bin/python3 tests/bench/run.py [--seconds 10] [--repeat 3]
        [--module PATH] [--quick] [--rss-tokens 100000] ...

One apache2 (event MPM) on 127.0.0.1 serves a 3-byte file under several
locations side by side: no authentication, the probe module (one bare
OpenSSL verify per request, RS256 and ES256), mod_auth_ordsjwt with one
repeated token and with many distinct tokens, and mod_auth_openidc on the
same keys when it is installed. wrk drives each location in turn, the cells
interleaved round after round; the table gives the median requests/s, the
ratios to no authentication and to the probe, and httpd's CPU per request.
Then a second apache2 with a single child process measures that child's
RSS before and after many distinct valid tokens. Finally the C
micro-benchmark (micro.c) is built against the build tree's libojw.a and
run, when that library is there.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

from httpd_instance import MODULES_DIR, Httpd  # noqa: E402
from jwks_server import JwksServer  # noqa: E402
from pki import make_pki  # noqa: E402
from tokens import AUDIENCE, ISSUER, Key, claims, raw_token  # noqa: E402

OPENIDC = os.path.join(MODULES_DIR, "mod_auth_openidc.so")
LUA = os.path.join(HERE, "tokens.lua")
BODY = b"ok\n"                   # the 3-byte static file of every location
TOKEN_LIFETIME = 6 * 3600        # outlives any run
LOCATIONS = ("/noauth/", "/probe-rs256/", "/probe-es256/", "/ords/", "/openidc/")
RSS_THREADS = 16

CONF = """\
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}/run"
PidFile "{dir}/run/httpd.pid"
Mutex file:{dir}/run default
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}
ErrorLog "{dir}/logs/error.log"
LogLevel warn
Timeout 20
KeepAlive On
MaxKeepAliveRequests 0

LoadModule mpm_event_module {mods}/mod_mpm_event.so
{mpm}
MaxConnectionsPerChild 0
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_user_module {mods}/mod_authz_user.so
{load}

DocumentRoot "{dir}/htdocs"
<Directory />
    Require all denied
</Directory>
<Directory "{dir}/htdocs">
    Require all granted
</Directory>

{site}
"""

# No process comes or goes during a run: the CPU of every request is seen.
MPM_BENCH = """\
StartServers 2
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
MinSpareThreads 25
MaxSpareThreads 75"""

# One child process, for its RSS.
MPM_ONE_CHILD = """\
StartServers 1
ServerLimit 1
ThreadsPerChild {n}
MaxRequestWorkers {n}
MinSpareThreads {n}
MaxSpareThreads {twice}""".format(n=RSS_THREADS, twice=2 * RSS_THREADS)


class BenchHttpd(Httpd):
    """The harness's Httpd (start, stop, startup log check, ASan preload)
    with the benchmark's own configuration: no access log, no headers
    added, a 3-byte file in each location's directory."""

    def __init__(self, directory, site, load, mpm, module):
        super().__init__(directory, "event", site, module=module)
        self.load = load
        self.mpm_text = mpm

    def write_config(self):
        for sub in ("", "conf", "run", "logs", "htdocs"):
            path = os.path.join(self.dir, sub)
            os.makedirs(path, mode=0o755, exist_ok=True)
            os.chmod(path, 0o755)
        for loc in LOCATIONS:
            d = os.path.join(self.dir, "htdocs", loc.strip("/"))
            os.makedirs(d, mode=0o755, exist_ok=True)
            with open(os.path.join(d, "x"), "wb") as f:
                f.write(BODY)
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        text = CONF.format(dir=self.dir, port=self.port, user=user,
                           mods=MODULES_DIR, mpm=self.mpm_text,
                           load=self.load, site=self.site)
        with open(self.conf, "w") as f:
            f.write(text)
        return text

    def children(self):
        """pids of the master's child processes."""
        out = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                stat = _proc_stat(name)
                if stat and int(stat[1]) == self.pid:
                    out.append(int(name))
        return out

    def cpu_seconds(self):
        """utime + stime of the master and its children."""
        ticks = 0
        for pid in [self.pid] + self.children():
            stat = _proc_stat(str(pid))
            if stat:
                ticks += int(stat[11]) + int(stat[12])
        return ticks / os.sysconf("SC_CLK_TCK")


def _proc_stat(pid):
    """Fields of /proc/PID/stat after the command name (state first)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


# --- keys and tokens -----------------------------------------------------

class Keys:
    """One RS256 and one ES256 signing key, their public PEM files and
    the JWKS document the issuer publishes."""

    def __init__(self, directory):
        self.by_alg = {
            "RS256": Key("rsa1", "RS256", rsa.generate_private_key(
                public_exponent=65537, key_size=2048)),
            "ES256": Key("ec1", "ES256", ec.generate_private_key(ec.SECP256R1())),
        }
        self.pem = {}
        for alg, key in self.by_alg.items():
            path = os.path.join(directory, "%s.pem" % key.kid)
            with open(path, "wb") as f:
                f.write(key.public_pem())
            os.chmod(path, 0o644)
            self.pem[alg] = path

    def jwks(self):
        return {"keys": [k.public_jwk() for k in self.by_alg.values()]}


def mint(key, count, prefix, **over):
    """count distinct valid tokens (a distinct sub and jti each), signed
    with cryptography directly (tokens.raw_token); over: other claims."""
    header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
    exp = int(time.time()) + TOKEN_LIFETIME
    return [raw_token(header, claims(sub="%s%06d" % (prefix, i),
                                     jti="%s-%d" % (prefix, i), exp=exp, **over),
                      key=key)
            for i in range(count)]


def write_tokens(path, tokens):
    with open(path, "w") as f:
        f.write("\n".join(tokens) + "\n")
    return path


# --- the cells -------------------------------------------------------------

class Cell:
    def __init__(self, label, path, alg, tokens, kind):
        self.label = label
        self.path = path            # the location, e.g. /ords/
        self.alg = alg              # None for no authentication
        self.tokens = tokens        # a token file
        self.kind = kind            # noauth, probe, ours, openidc
        self.runs = []              # (req/s, requests, cpu seconds, non-2xx)
        self.skipped = None         # why the cell was not measured

    @property
    def url_path(self):
        return self.path + "x"


def site_config(module, keys, jwks_url, ca, probe_so, openidc, ords_conf):
    """LoadModule lines and the site: one location of LOCATIONS per kind
    of cell."""
    load = ["LoadModule auth_ordsjwt_module %s" % module,
            "LoadModule ordsjwt_probe_module %s" % probe_so]
    site = ["<Location /noauth/>\n    Require all granted\n</Location>"]
    for alg in ("RS256", "ES256"):
        site.append('<Location /probe-%s/>\n    AuthType ordsjwt-probe\n'
                    '    OrdsJwtProbeKey %s\n    Require valid-user\n'
                    '</Location>' % (alg.lower(), keys.pem[alg]))
    site += ["OrdsJwtCACertificateFile %s" % ca,
             "OrdsJwtJwksRefreshInterval 3600"] + list(ords_conf)
    site.append("OrdsJwtProfile bench issuer=%s audience=%s jwk_url=%s"
                % (ISSUER, AUDIENCE, jwks_url))
    site.append('<Location /ords/>\n    AuthType ords-jwt\n    AuthName "bench"\n'
                '    AuthOrdsJwtProfile bench\n    Require valid-user\n'
                '</Location>')
    if openidc:
        load.append("LoadModule auth_openidc_module %s" % OPENIDC)
        # an OAuth 2.0 resource server with the same JWKS from the same
        # issuer (HTTPS, the throwaway CA), checking iss and aud as ours
        # does (its OAuth mode has no directive for them: Require claim);
        # it has no session to encrypt, but wants a passphrase all the same
        site += ["OIDCOAuthVerifyJwksUri %s" % jwks_url,
                 "OIDCCABundlePath %s" % ca,
                 "OIDCJWKSRefreshInterval 3600",
                 "OIDCOAuthRemoteUserClaim sub",
                 "OIDCCryptoPassphrase bench-%d" % os.getpid(),
                 "<Location /openidc/>\n    AuthType oauth20\n"
                 "    <RequireAll>\n        Require claim iss:%s\n"
                 "        Require claim aud:%s\n    </RequireAll>\n"
                 "</Location>" % (ISSUER, AUDIENCE)]
    return "\n".join(load), "\n".join(site) + "\n"


def make_cells(tokdir, openidc, distinct):
    one = {a: os.path.join(tokdir, "%s-one.txt" % a) for a in ("RS256", "ES256")}
    many = {a: os.path.join(tokdir, "%s-distinct.txt" % a) for a in ("RS256", "ES256")}
    d = "%d distinct" % distinct
    cells = [Cell("no authentication", "/noauth/", None, one["RS256"], "noauth")]
    for alg in ("RS256", "ES256"):
        cells += [
            Cell("probe: one bare %s verify" % alg, "/probe-%s/" % alg.lower(),
                 alg, many[alg], "probe"),
            Cell("mod_auth_ordsjwt, one token", "/ords/", alg, one[alg], "ours"),
            Cell("mod_auth_ordsjwt, %s" % d, "/ords/", alg, many[alg], "ours"),
        ]
        if openidc:
            if alg == "RS256":
                cells.append(Cell("mod_auth_openidc, one token", "/openidc/",
                                  alg, one[alg], "openidc"))
            cells.append(Cell("mod_auth_openidc, %s" % d, "/openidc/", alg,
                              many[alg], "openidc"))
    return cells


def http_status(httpd, path, token):
    req = urllib.request.Request(httpd.url(path))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def tampered(token):
    head, sig = token.rsplit(".", 1)
    return head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]


def sanity(httpd, cell, other_issuer):
    """None when the location accepts the cell's tokens and (with
    authentication) refuses a missing or tampered one and (but the probe,
    which checks no claim) a well signed one of another issuer; else why
    not. other_issuer: such a token per alg."""
    with open(cell.tokens) as f:
        token = f.readline().strip()
    status, body = http_status(httpd, cell.url_path, token)
    if status != 200 or body != BODY:
        return "a valid token got HTTP %d" % status
    refused = []
    if cell.kind != "noauth":
        refused = [("no token", None), ("a tampered token", tampered(token))]
    if cell.kind in ("ours", "openidc"):
        refused.append(("a token of another issuer", other_issuer[cell.alg]))
    for what, t in refused:
        status, _ = http_status(httpd, cell.url_path, t)
        if status not in (401, 403):
            return "%s got HTTP %d" % (what, status)
    return None


def wrk(httpd, cell, seconds, connections, stop_after=0):
    """Runs wrk on the cell's location for seconds, or (stop_after) until
    that many responses came: (req/s, requests, non-2xx, socket errors)."""
    env = dict(os.environ, BENCH_TOKENS=cell.tokens)
    done = os.path.join(os.path.dirname(cell.tokens), "wrk-done")
    if stop_after:
        env.update(BENCH_STOP_AFTER=str(stop_after), BENCH_DONE=done)
    cmd = ["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "-s", LUA,
           httpd.url(cell.url_path)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        if stop_after:
            deadline = time.time() + seconds
            while not os.path.exists(done) and proc.poll() is None \
                    and time.time() < deadline:
                time.sleep(0.05)
            if os.path.exists(done):
                os.unlink(done)
            proc.send_signal(signal.SIGINT)   # wrk prints its summary
        out = proc.communicate(timeout=seconds + 120)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if not rps or not total:
        raise RuntimeError("wrk said:\n" + out)
    return (float(rps.group(1)), int(total.group(1)),
            int(bad.group(1)) if bad else 0, errors.group(0) if errors else None)


def measure(httpd, cell, seconds, connections):
    cpu0 = httpd.cpu_seconds()
    rps, total, bad, errors = wrk(httpd, cell, seconds, connections)
    cpu = httpd.cpu_seconds() - cpu0
    cell.runs.append((rps, total, cpu, bad))
    print("  %-42s %-6s %9.0f req/s  %6.1f us/req%s%s" % (
        cell.label, cell.alg or "", rps, 1e6 * cpu / max(total, 1),
        "  NON-2xx: %d" % bad if bad else "", "  " + errors if errors else ""),
        file=sys.stderr, flush=True)


# --- the table ---------------------------------------------------------------

def median_rps(cell):
    return statistics.median(r[0] for r in cell.runs) if cell.runs else None


def table(cells, repeat):
    noauth = next((median_rps(c) for c in cells if c.kind == "noauth"), None)
    probe = {c.alg: median_rps(c) for c in cells if c.kind == "probe"}
    lines = ["| location | alg | requests/s (median of %d) | min–max | × no auth "
             "| × probe | httpd CPU µs/request |" % repeat,
             "|---|---|--:|--:|--:|--:|--:|"]
    for c in cells:
        if c.skipped:
            lines.append("| %s | %s | not measured: %s | | | | |"
                         % (c.label, c.alg or "–", c.skipped))
            continue
        m = median_rps(c)
        rates = [r[0] for r in c.runs]
        cpu = statistics.median(1e6 * r[2] / max(r[1], 1) for r in c.runs)
        bad = sum(r[3] for r in c.runs)
        ref = probe.get(c.alg)
        lines.append("| %s | %s | %s%s | %s–%s | %s | %s | %.0f |" % (
            c.label, c.alg or "–", "{:,.0f}".format(m),
            " (%d non-2xx!)" % bad if bad else "",
            "{:,.0f}".format(min(rates)), "{:,.0f}".format(max(rates)),
            "%.2f×" % (m / noauth) if noauth else "–",
            "%.2f×" % (m / ref) if ref and c.kind != "noauth" else "–", cpu))
    return "\n".join(lines)


# --- memory --------------------------------------------------------------------

def rss_phase(args, work, keys, jwks, ca, probe_so, tokdir):
    """RSS of the one child before and after args.rss_tokens distinct
    tokens, and after as many again (other ones)."""
    key = keys.by_alg[args.rss_alg]
    t0 = time.time()
    batches = [mint(key, args.rss_tokens, "rss%d-" % b) for b in (1, 2)]
    warm = mint(key, 200, "warm-")
    mint_s = time.time() - t0
    files = [write_tokens(os.path.join(tokdir, "rss-%d.txt" % i), b)
             for i, b in enumerate(batches)]
    warm_file = write_tokens(os.path.join(tokdir, "rss-warm.txt"), warm)
    load, site = site_config(args.module, keys, jwks.url("/jwks"), ca, probe_so,
                             False, args.ords_conf)
    httpd = BenchHttpd(os.path.join(work, "httpd-rss"), site, load,
                       MPM_ONE_CHILD, args.module)
    httpd.start()
    try:
        cell = Cell("rss", "/ords/", args.rss_alg, warm_file, "ours")
        why = sanity(httpd, cell, {args.rss_alg: mint(
            key, 1, "x", iss="https://other.example/")[0]})
        if why:
            return "RSS not measured: %s" % why
        # every thread has served requests before the first reading
        wrk(httpd, cell, 2, args.connections)
        (child,) = httpd.children()
        readings = [vm_rss_kb(child)]
        for path in files:
            cell.tokens = path
            _, total, bad, _ = wrk(httpd, cell, 600, args.connections,
                                   stop_after=args.rss_tokens)
            if bad:
                return "RSS not measured: %d of %d requests refused" % (bad, total)
            readings.append(vm_rss_kb(child))
        if httpd.children() != [child]:
            return "RSS not measured: the child process changed"
    finally:
        httpd.stop()
    n = args.rss_tokens
    return ("Memory (one child process, event MPM, %d threads; %s tokens "
            "minted in %.0f s): VmRSS %s KiB after warm-up; %s KiB after %s "
            "distinct valid tokens (%+d KiB); %s KiB after %s other ones "
            "(%+d KiB)." % (
                RSS_THREADS, args.rss_alg, mint_s, "{:,}".format(readings[0]),
                "{:,}".format(readings[1]), "{:,}".format(n),
                readings[1] - readings[0], "{:,}".format(readings[2]),
                "{:,}".format(n), readings[2] - readings[1]))


# --- the micro-benchmark ------------------------------------------------------------

def micro(args, work):
    """Builds micro.c with tests/bench/Makefile against the module's build
    tree and runs it; its output, or why not."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.module)))
    if not os.path.exists(os.path.join(build, "libojw.a")):
        return "micro-benchmark not run: no libojw.a in %s" % build
    exe = os.path.join(work, "micro")
    r = subprocess.run(["make", "-s", "-C", HERE, "micro", "BUILD=" + build,
                        "MICRO=" + exe], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        return "micro-benchmark not built:\n" + r.stdout
    r = subprocess.run([exe, "--seconds", str(args.micro_seconds)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.stdout


# --- main ------------------------------------------------------------------------------

def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    httpd = subprocess.run(["/usr/sbin/apache2", "-v"], stdout=subprocess.PIPE,
                           text=True).stdout.splitlines()
    ssl = subprocess.run(["openssl", "version"], stdout=subprocess.PIPE,
                         text=True).stdout.strip()
    return [
        "date: %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "machine: nproc %d, %s, Linux %s" % (os.cpu_count(), model, platform.release()),
        "software: %s, %s" % (httpd[0].split(":", 1)[1].strip() if httpd else "?", ssl),
        "load average (1, 5, 15 min) at the end: %.2f %.2f %.2f (other work on "
        "the machine lowers and spreads the numbers)" % os.getloadavg(),
    ]


def build_probe(work):
    d = os.path.join(work, "probe")
    os.makedirs(d)
    shutil.copy(os.path.join(HERE, "probe", "mod_ordsjwt_probe.c"), d)
    r = subprocess.run(["apxs", "-c", "-Wc,-O2", "-Wc,-Wall", "mod_ordsjwt_probe.c",
                        "-lcrypto"], cwd=d, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    so = os.path.join(d, ".libs", "mod_ordsjwt_probe.so")
    if r.returncode != 0 or not os.path.exists(so):
        raise SystemExit("apxs could not build the probe:\n" + r.stdout)
    return so


def parse_args():
    default_module = os.environ.get("ORDSJWT_MODULE",
                                    os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=int, default=10, help="per cell and round")
    p.add_argument("--repeat", type=int, default=3, help="rounds (median)")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--module", default=default_module,
                   help="mod_auth_ordsjwt.so (default: $ORDSJWT_MODULE or "
                   "this tree's .libs/mod_auth_ordsjwt.so)")
    p.add_argument("--distinct", type=int, default=2000,
                   help="tokens of the distinct-token cells")
    p.add_argument("--rss-tokens", type=int, default=100000)
    p.add_argument("--rss-alg", choices=("ES256", "RS256"), default="ES256")
    p.add_argument("--micro-seconds", type=float, default=1.0,
                   help="per micro-benchmark measurement")
    p.add_argument("--ords-conf", action="append", default=[], metavar="LINE",
                   help="a server-level directive for mod_auth_ordsjwt, e.g. "
                   "'OrdsJwtTokenCache off' (repeatable)")
    p.add_argument("--only", metavar="REGEX",
                   help="only the cells whose label or path match")
    p.add_argument("--no-openidc", action="store_true")
    p.add_argument("--no-rss", action="store_true")
    p.add_argument("--no-micro", action="store_true")
    p.add_argument("--quick", action="store_true",
                   help="3 s, 1 round, 10,000 tokens for RSS, 0.2 s micro")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if args.quick:
        args.seconds, args.repeat = 3, 1
        args.rss_tokens = min(args.rss_tokens, 10000)
        args.micro_seconds = 0.2
    args.module = os.path.abspath(args.module)
    return args


def main():
    args = parse_args()
    if not os.path.exists(args.module):
        raise SystemExit("no module at %s: build it (make) or give --module"
                         % args.module)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    openidc = os.path.exists(OPENIDC) and not args.no_openidc
    work = tempfile.mkdtemp(prefix="ordsjwt-bench-", dir="/tmp")
    os.chmod(work, 0o755)
    jwks = None
    try:
        probe_so = build_probe(work)
        pki = make_pki(work)
        keys = Keys(work)
        jwks = JwksServer(pki["cert"], pki["key"]).start()
        jwks.publish("/jwks", keys.jwks())
        tokdir = os.path.join(work, "tokens")
        os.makedirs(tokdir)
        for alg, key in keys.by_alg.items():
            write_tokens(os.path.join(tokdir, "%s-one.txt" % alg), mint(key, 1, "one-"))
            write_tokens(os.path.join(tokdir, "%s-distinct.txt" % alg),
                         mint(key, args.distinct, "user"))
        other_issuer = {alg: mint(key, 1, "x", iss="https://other.example/")[0]
                        for alg, key in keys.by_alg.items()}
        cells = make_cells(tokdir, openidc, args.distinct)
        if args.only:
            cells = [c for c in cells if re.search(args.only, c.label + " " + c.path
                                                   + " " + (c.alg or ""))]
        load, site = site_config(args.module, keys, jwks.url("/jwks"), pki["ca"],
                                 probe_so, openidc, args.ords_conf)
        httpd = BenchHttpd(os.path.join(work, "httpd"), site, load, MPM_BENCH,
                           args.module)
        # mod_auth_openidc warns that its resource server is deprecated
        httpd.start(acknowledged=("oidc_check_config_oauth",))
        try:
            for c in cells:
                c.skipped = sanity(httpd, c, other_issuer)
            live = [c for c in cells if not c.skipped]
            for c in live:          # warm-up: JWKS fetched, threads started
                wrk(httpd, c, 1, args.connections)
            for rnd in range(args.repeat):
                print("round %d/%d" % (rnd + 1, args.repeat), file=sys.stderr)
                k = rnd % max(len(live), 1)
                for c in live[k:] + live[:k]:
                    measure(httpd, c, args.seconds, args.connections)
        finally:
            httpd.stop()
        rss = None if args.no_rss else rss_phase(args, work, keys, jwks, pki["ca"],
                                                 probe_so, tokdir)
        micro_out = None if args.no_micro else micro(args, work)
    finally:
        if jwks:
            jwks.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work, file=sys.stderr)

    print("## mod_auth_ordsjwt benchmark\n")
    for line in machine():
        print("- " + line)
    print("- module: %s" % args.module)
    print("- load: wrk -t1 -c%d -d%ds per cell, %d interleaved rounds, median; "
          "a 3-byte static file; one apache2 (event MPM, 2 processes x 25 threads) "
          "on 127.0.0.1; keys from a loopback HTTPS JWKS issuer; RSA-2048 / P-256"
          % (args.connections, args.seconds, args.repeat))
    if args.ords_conf:
        print("- mod_auth_ordsjwt settings: %s" % "; ".join(args.ords_conf))
    print()
    print(table(cells, args.repeat))
    print()
    if rss:
        print(rss + "\n")
    if micro_out:
        print("Micro-benchmark (one token, whole verification vs a bare "
              "EVP_DigestVerify):\n")
        print("```\n" + micro_out.rstrip() + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
