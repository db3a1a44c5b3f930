# SPDX-License-Identifier: Apache-2.0
"""The release: one version (configure.ac's AC_INIT) that the module logs at
startup, the status page shows and ordsjwt-check --version prints."""

import os
import re
import subprocess

import requests

from httpd_instance import Httpd
import sites
from test_checker import CHECKER

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def configure_version():
    with open(os.path.join(REPO, "configure.ac")) as f:
        m = re.search(r"^AC_INIT\(\[[^]]*\], *\[([^]]+)\]", f.read(), re.M)
    assert m, "no AC_INIT version in configure.ac"
    return m.group(1)


def test_checker_prints_the_version():
    r = subprocess.run([CHECKER, "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "ordsjwt-check %s\n" % \
        configure_version(), r


def test_module_logs_the_version_once_and_status_shows_it(workdir):
    site = sites.site(
        "<Location /ordsjwt-status>\n    SetHandler ordsjwt-status\n</Location>")
    server = Httpd(os.path.join(workdir, "release"), "event", site).start()
    try:
        version = configure_version()
        r = requests.get(server.url("/ordsjwt-status?json"), timeout=10)
        assert r.status_code == 200 and r.json()["version"] == version, r.text
        html = requests.get(server.url("/ordsjwt-status"), timeout=10).text
        assert "<p>Version %s</p>" % version in html, html
        lines = [l for l in server.read_log().splitlines() if "ORDSJWT00060" in l]
        assert len(lines) == 1, server.read_log()
        assert ":info]" in lines[0], lines
        assert "mod_auth_ordsjwt %s configured" % version in lines[0], lines
        assert "ordsjwt" not in r.headers.get("Server", "").lower()
    finally:
        server.stop()


def test_debian_changelog_carries_the_version():
    """debian/changelog's newest entry is configure.ac's version, packaged
    (UPSTREAM-DEBIAN_REVISION)."""
    with open(os.path.join(REPO, "debian", "changelog")) as f:
        first = f.readline()
    m = re.match(r"^libapache2-mod-auth-ordsjwt \(([^)]+)\) ", first)
    assert m, first
    upstream, _, revision = m.group(1).rpartition("-")
    assert upstream == configure_version() and revision.isdigit(), first
