#!/bin/bash
# The whole test suite: installs what it needs (Debian packages), builds the
# module with -Wall -Wextra -Werror, runs the C unit tests (Check) and the
# integration tests (pytest driving a real apache2 on loopback).
#
#   bash tests/run.sh        (as root on Debian bookworm)
#
# .ci/run calls exactly this.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

BUILD_PKGS="apache2-dev libssl-dev libcjose-dev libjansson-dev libcurl4-openssl-dev
autoconf automake libtool pkg-config make gcc libc6-dev"
TEST_PKGS="apache2 check curl python3 python3-pytest python3-jwcrypto
python3-requests python3-cryptography"
# shellcheck disable=SC2086
scripts/ensure-packages.sh $BUILD_PKGS $TEST_PKGS

echo "== build"
autoreconf -fi >/dev/null
./configure -q
make -j2

echo "== unit tests (Check)"
make -j2 tests/unit/unit_tests
tests/unit/unit_tests

echo "== integration tests (real apache2, event and prefork)"
ORDSJWT_MODULE="$REPO/.libs/mod_auth_ordsjwt.so" \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q "$REPO/tests/integration"
