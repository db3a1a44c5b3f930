# SPDX-License-Identifier: Apache-2.0
"""One real apache2 with mod_auth_ordsjwt: config, start, stop, error log."""

import os
import re
import signal
import socket
import subprocess
import time

from jwks_server import free_port

APACHE2 = os.environ.get("APACHE2", "/usr/sbin/apache2")
MODULES_DIR = "/usr/lib/apache2/modules"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_MODULE = os.path.join(REPO, ".libs", "mod_auth_ordsjwt.so")

# [core:warn], [auth_ordsjwt:error], [:crit] ..., what sanitizers print, and
# a child that died of a signal ("[core:notice] AH00052: child pid N exit
# signal Segmentation fault (11)": notice is logged whatever the LogLevel)
BAD_LINE = re.compile(r"\[(?:[\w.-]*:)?(?:warn|error|crit|alert|emerg)\]"
                      r"|AddressSanitizer|LeakSanitizer|runtime error:"
                      r"|ERROR: \w+Sanitizer|exit signal")
SANITIZER_LINE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:"
                            r"|ERROR: \w+Sanitizer")

MPM_CONF = {
    "event": """\
LoadModule mpm_event_module {mods}/mod_mpm_event.so
StartServers 2
ServerLimit 4
ThreadsPerChild 8
MinSpareThreads 8
MaxSpareThreads 32
MaxRequestWorkers 32
""",
    "prefork": """\
LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
StartServers 4
MinSpareServers 4
MaxSpareServers 8
ServerLimit 16
MaxRequestWorkers 16
""",
}

BASE_CONF = """\
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}/run"
PidFile "{dir}/run/httpd.pid"
Mutex file:{dir}/run default
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}
ErrorLog "{dir}/logs/error.log"
LogLevel warn {loglevel}
LogFormat "%P %>s \\"%r\\"" pidlog
CustomLog "{dir}/logs/access.log" pidlog
Timeout 20
KeepAlive On
LimitRequestFieldSize 65536
LimitRequestLine 65536

{mpm}
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_user_module {mods}/mod_authz_user.so
LoadModule headers_module {mods}/mod_headers.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule alias_module {mods}/mod_alias.so
{load_module}

TypesConfig /etc/mime.types
DocumentRoot "{dir}/htdocs"
AliasMatch "^/(?!cgi/)(.*)$" "{dir}/htdocs/index.html"
<Directory />
    Require all denied
</Directory>
<Directory "{dir}/htdocs">
    Require all granted
</Directory>
Header always set X-Remote-User "expr=%{{REMOTE_USER}}"

{site}
"""


class HttpdError(Exception):
    pass


def bad_lines(text, acknowledged=()):
    """Lines of an error log that fail a test: unacknowledged warn or worse."""
    out = []
    for line in text.splitlines():
        if BAD_LINE.search(line) and not any(a in line for a in acknowledged):
            out.append(line)
    return out


class Httpd:
    def __init__(self, directory, mpm, site, module=None, port=None,
                 loglevel="auth_ordsjwt:info"):
        self.dir = directory
        self.mpm = mpm
        self.site = site
        self.module = module if module is not None else \
            os.environ.get("ORDSJWT_MODULE", DEFAULT_MODULE)
        self.port = port or free_port()
        self.loglevel = loglevel if self.module else ""
        self.conf = os.path.join(directory, "conf", "httpd.conf")
        self.error_log = os.path.join(directory, "logs", "error.log")
        self.access_log = os.path.join(directory, "logs", "access.log")
        self.pid = None
        self.mpm_extra = ""     # MPM directives appended to the defaults

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    # --- configuration --------------------------------------------------
    def write_config(self):
        """Writes the config and its directories (0755: when started as
        root, the children run as www-data and read files here)."""
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        os.chmod(self.dir, 0o755)
        for sub in ("conf", "run", "logs", "htdocs"):
            os.makedirs(os.path.join(self.dir, sub), mode=0o755, exist_ok=True)
            os.chmod(os.path.join(self.dir, sub), 0o755)
        with open(os.path.join(self.dir, "htdocs", "index.html"), "w") as f:
            f.write("<html><body>protected resource</body></html>\n")
        user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        load = ("LoadModule auth_ordsjwt_module %s" % self.module) if self.module else ""
        text = BASE_CONF.format(dir=self.dir, port=self.port, user=user,
                                loglevel=self.loglevel, mods=MODULES_DIR,
                                mpm=MPM_CONF[self.mpm].format(mods=MODULES_DIR)
                                + self.mpm_extra,
                                load_module=load, site=self.site)
        with open(self.conf, "w") as f:
            f.write(text)
        return text

    # --- error log ------------------------------------------------------
    def log_offset(self):
        try:
            return os.path.getsize(self.error_log)
        except FileNotFoundError:
            return 0

    def read_log(self, offset=0):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def access_pids(self, offset=0):
        """pids (as text) of the children that served requests since offset."""
        with open(self.access_log, "rb") as f:
            f.seek(offset)
            return {line.split(b" ", 1)[0].decode() for line in f if line.strip()}

    def access_offset(self):
        try:
            return os.path.getsize(self.access_log)
        except FileNotFoundError:
            return 0

    # --- lifecycle ------------------------------------------------------
    def _run(self, *args):
        return subprocess.run([APACHE2, "-f", self.conf] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=60, env=_httpd_env(self.module))

    def _ctl(self, action):
        return self._run("-k", action)

    def configtest(self):
        """Writes the config and runs apache2 -t: (exit code, output)."""
        self.write_config()
        r = self._run("-t")
        return r.returncode, r.stdout

    def start(self, timeout=20, acknowledged=()):
        """Starts httpd and waits until it answers; raises HttpdError with
        the output and the error log when it does not, or when startup logged
        an unacknowledged warning."""
        self.write_config()
        offset = self.log_offset()
        r = self._ctl("start")
        if r.returncode != 0:
            raise HttpdError("apache2 -k start failed (%d):\n%s\n%s"
                             % (r.returncode, r.stdout, self.read_log(offset)))
        deadline = time.time() + timeout
        while True:
            if self._answers():
                break
            if time.time() > deadline:
                self.stop()
                raise HttpdError("httpd did not answer on port %d:\n%s"
                                 % (self.port, self.read_log(offset)))
            time.sleep(0.05)
        self.pid = self._read_pid()
        bad = bad_lines(self.read_log(offset), acknowledged)
        if bad:
            self.stop()
            raise HttpdError("httpd logged at startup:\n" + "\n".join(bad))
        return self

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"OPTIONS * HTTP/1.0\r\n\r\n")
                return s.recv(12).startswith(b"HTTP/")
        except OSError:
            return False

    def _read_pid(self):
        path = os.path.join(self.dir, "run", "httpd.pid")
        for _ in range(100):
            try:
                with open(path) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        return None

    def stop(self, timeout=20):
        """Stops httpd; raises HttpdError if a sanitizer reported anything
        in the whole error log (the per-test checks see only their part)."""
        pid = self.pid or self._read_pid()
        self._ctl("stop")
        if pid:
            deadline = time.time() + timeout
            while _alive(pid):
                if time.time() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    break
                time.sleep(0.05)
        self.pid = None
        reports = self.sanitizer_reports()
        if reports:
            raise HttpdError("sanitizer reports in %s:\n%s"
                             % (self.error_log, "\n".join(reports)))

    def sanitizer_reports(self):
        """Lines of the error log written by ASan/UBSan/LSan."""
        return [line for line in self.read_log().splitlines()
                if SANITIZER_LINE.search(line)]

    def graceful(self, timeout=20):
        self._ctl("graceful")
        time.sleep(0.5)
        deadline = time.time() + timeout
        while not self._answers():
            if time.time() > deadline:
                raise HttpdError("httpd did not come back after graceful")
            time.sleep(0.05)


# For a module built with --enable-sanitizers. httpd itself keeps memory in
# pools until it exits and its children exit without freeing it: leak
# reports would all be httpd's, so LeakSanitizer is off. Reports go to
# stderr, which httpd points at the error log, where the log check of every
# test finds them. ASAN_OPTIONS/UBSAN_OPTIONS from the environment come
# last and so win.
ASAN_DEFAULTS = "detect_leaks=0:halt_on_error=1"
UBSAN_DEFAULTS = "print_stacktrace=1:halt_on_error=1"


def sanitizer_runtime(module):
    """The ASan runtime a module links against (path), or None."""
    if not module or not os.path.exists(module):
        return None
    try:
        ldd = subprocess.run(["ldd", module], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in ldd.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("libasan.so") and "=>" in parts:
            return parts[parts.index("=>") + 1]
    return None


def _httpd_env(module):
    """The environment for apache2: a module built with -fsanitize=address
    needs libasan loaded first, which a stock apache2 does not do."""
    env = dict(os.environ)
    lib = sanitizer_runtime(module)
    if lib:
        env["LD_PRELOAD"] = " ".join(filter(None, [lib, env.get("LD_PRELOAD")]))
        env["ASAN_OPTIONS"] = ":".join(filter(None, [ASAN_DEFAULTS,
                                                    env.get("ASAN_OPTIONS")]))
        env["UBSAN_OPTIONS"] = ":".join(filter(None, [UBSAN_DEFAULTS,
                                                     env.get("UBSAN_OPTIONS")]))
    return env


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours would still "exist"; httpd daemonises, so no
    return True
