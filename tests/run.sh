#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: installs what it needs (Debian packages), then
#  1. builds the module with -Wall -Wextra -Werror and runs the C unit tests
#     (Check), and the same unit tests under valgrind memcheck (any error or
#     definite leak fails; tests/valgrind.supp holds explained third-party
#     suppressions);
#  2. runs the integration tests (pytest driving a real apache2 on loopback),
#     then the interop tests (tests/interop: a real authorization server,
#     oidc-provider, and real clients, oauth4webapi and curl, installed by
#     npm ci from tests/interop/package-lock.json; Debian's nodejs and npm
#     are installed when there is no node; run again against the sanitizer
#     module in step 3);
#  3. builds again with AddressSanitizer + UndefinedBehaviorSanitizer in
#     build-san/ (a VPATH build of the `make distdir` sources: automake
#     refuses a VPATH build from a configured source tree) and runs the unit
#     tests and the integration tests against that module (the harness
#     preloads libasan; any sanitizer report in an error log fails);
#  4. runs each libFuzzer target (tests/fuzz) for FUZZ_SECONDS: 60 when
#     CI=true, 10 otherwise so that a local run stays quick;
#  5. tests/package.sh: the tarball of "make dist" built as the Debian
#     package (its configure, the module, ordsjwt-check, the unit tests),
#     lintian, the package installed, a2enmod, apache2ctl configtest, a few
#     integration tests against the installed module, then purged: the
#     machine is left as it was. Last, so that nothing else runs while the
#     package is installed.
#
#   bash tests/run.sh                    (as root on Debian bookworm)
#   FUZZ_SECONDS=300 bash tests/run.sh
#
# .ci/run calls exactly this.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

BUILD_PKGS="apache2-dev libssl-dev libcjose-dev libjansson-dev libcurl4-openssl-dev libpcre2-dev
autoconf automake libtool pkg-config make gcc libc6-dev"
TEST_PKGS="apache2 check curl python3 python3-pytest python3-jwcrypto
python3-requests python3-cryptography python3-prometheus-client valgrind clang-14
libclang-rt-14-dev redis-server"
PACKAGE_PKGS="debhelper dpkg-dev fakeroot lintian"
# shellcheck disable=SC2086
scripts/ensure-packages.sh $BUILD_PKGS $TEST_PKGS $PACKAGE_PKGS

if [ "${CI:-}" = true ]; then
    FUZZ_SECONDS=${FUZZ_SECONDS:-60}
else
    FUZZ_SECONDS=${FUZZ_SECONDS:-10}
fi
PYTEST=(/usr/bin/python3 -m pytest -p no:cacheprovider -q)
SAN="$REPO/build-san"
started=$SECONDS
step() {
    echo "== $* [$((SECONDS - started)) s]"
}

# node and npm for tests/interop. No node: Debian's nodejs and npm. A node
# without npm (Debian's nodejs alone): Debian's npm. A node that brings its
# own npm (NodeSource's package, which conflicts with Debian's npm) is left
# as it is. Not root and something missing: skipped, and said so (under
# CI it fails).
interop_tools() {
    local want=()
    if ! command -v node >/dev/null; then
        want=(nodejs npm)
    elif ! command -v npm >/dev/null; then
        want=(npm)
    fi
    [ ${#want[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        scripts/ensure-packages.sh "${want[@]}"
        return 0
    fi
    if [ "${CI:-}" = true ]; then
        echo "interop tests need ${want[*]}: run as root" >&2
        exit 1
    fi
    echo "== interop tests skipped: no ${want[*]} (apt-get install ${want[*]})"
    return 1
}

step "build"
autoreconf -fi >/dev/null
./configure -q
make -j2
# the benchmark is no test, but it must keep building against the core
make -s -C tests/bench micro MICRO="$REPO/tests/bench/micro" \
    CFLAGS="-O2 -g -Werror"

step "unit tests (Check)"
make -j2 tests/unit/unit_tests
tests/unit/unit_tests

step "unit tests under valgrind memcheck"
if ! CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --num-callers=30 --suppressions="$REPO/tests/valgrind.supp" \
        tests/unit/unit_tests >tests/unit/valgrind.log 2>&1; then
    cat tests/unit/valgrind.log
    echo "valgrind: errors or definite leaks (tests/unit/valgrind.log)" >&2
    exit 1
fi
tail -n 1 tests/unit/valgrind.log

step "integration tests (real apache2, event and prefork)"
ORDSJWT_MODULE="$REPO/.libs/mod_auth_ordsjwt.so" "${PYTEST[@]}" "$REPO/tests/integration"

step "interop tests (oidc-provider, oauth4webapi, curl; event and prefork)"
INTEROP=false
if interop_tools; then
    INTEROP=true
    (cd tests/interop && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    ORDSJWT_MODULE="$REPO/.libs/mod_auth_ordsjwt.so" "${PYTEST[@]}" "$REPO/tests/interop"
fi

step "sanitizer build (ASan + UBSan) in build-san/"
rm -rf "$SAN"
mkdir "$SAN"
make -s distdir distdir=build-san/src
mkdir "$SAN/obj"
(cd "$SAN/obj" && ../src/configure -q --enable-sanitizers && make -j2 \
    && make -j2 tests/unit/unit_tests)
case "$(ldd "$SAN/obj/.libs/mod_auth_ordsjwt.so")" in
    *libasan*) ;;
    *) echo "build-san: the module is not linked with ASan" >&2; exit 1 ;;
esac

step "unit tests with ASan + UBSan"
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    "$SAN/obj/tests/unit/unit_tests"

step "integration tests against the ASan + UBSan module"
ORDSJWT_MODULE="$SAN/obj/.libs/mod_auth_ordsjwt.so" "${PYTEST[@]}" "$REPO/tests/integration"
if [ "$INTEROP" = true ]; then
    step "interop tests against the ASan + UBSan module"
    ORDSJWT_MODULE="$SAN/obj/.libs/mod_auth_ordsjwt.so" "${PYTEST[@]}" "$REPO/tests/interop"
fi

step "fuzzing: each target for $FUZZ_SECONDS s"
make fuzz FUZZ_SECONDS="$FUZZ_SECONDS"

step "the release tarball and the Debian package"
bash tests/package.sh

step "all passed"
