# SPDX-License-Identifier: Apache-2.0
"""README.md's "Tested with" table names what this suite runs: the npm
packages installed from the lock file, and the Node.js major version."""

import json
import os
import subprocess

import interop
from httpd_instance import REPO


def table_rows():
    with open(os.path.join(REPO, "README.md")) as f:
        section = f.read().split("\n## Tested with\n", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ")]


def row_of(software):
    rows = [r for r in table_rows() if r[1].split(" ")[0] == software]
    assert len(rows) == 1, (software, table_rows())
    return rows[0]


def test_package_versions():
    with open(os.path.join(interop.HERE, "package.json")) as f:
        pinned = json.load(f)["dependencies"]
    for package in ("oidc-provider", "oauth4webapi"):
        version = interop.package_version(package)
        assert pinned[package] == version, (package, pinned[package], version)
        assert row_of(package)[2] == version, row_of(package)


def test_node_version():
    out = subprocess.run([interop.NODE, "--version"], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    major = out.strip().lstrip("v").split(".")[0]
    assert major in row_of("Node.js:")[2].split(", "), (out, row_of("Node.js:"))
