#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The release and the Debian package, on this machine (as root, Debian):
#  1. "make dist" in a configured tree; the tarball holds every file git
#     tracks (but .gitignore files and .ci/, the CI hook);
#  2. the package is built from that tarball with dpkg-buildpackage -us -uc
#     -b: its configure, the module, ordsjwt-check and the unit tests (so
#     this is also the test that the tarball builds and passes them); then
#     from a clean "git archive" of HEAD, which has no configure (what a
#     packager or a CI building a .deb per commit starts from);
#  3. lintian on each .deb and .changes: no errors;
#  4. apt-get install ./libapache2-mod-auth-ordsjwt_*.deb, a2enmod
#     auth_ordsjwt, apache2ctl configtest with an example profile enabled,
#     ordsjwt-check --version and its man page, and a few integration tests
#     against the installed module;
#  5. apt-get purge: nothing the package installed or its scripts created is
#     left, and the installed packages and /etc/apache2/*-enabled are as
#     they were before.
# The system apache2 is never started (its configuration is only tested).
#
#   bash tests/package.sh        (tests/run.sh runs it last; needs ./configure)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
PKG=libapache2-mod-auth-ordsjwt
CONF=ordsjwt-package-test
EXAMPLE=conf-examples/oci-iam-scope.conf
WORK=$(mktemp -d /tmp/ordsjwt-package.XXXXXX)
VERSION=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)

fail() {
    echo "package: $*" >&2
    exit 1
}

# a2enconf, a2dismod and the maintainer scripts' helper make directories
# for their state in /var/lib/apache2; those that were not there and are
# empty go.
remove_new_state_dirs() {
    [ -f "$WORK/dirs.before" ] || return 0
    find /var/lib/apache2 -depth -type d | while read -r d; do
        grep -qxF "$d" "$WORK/dirs.before" || rmdir "$d" 2>/dev/null || true
    done
}

# Whatever happens, the machine is left as it was found.
cleanup() {
    if [ -e /etc/apache2/conf-enabled/$CONF.conf ]; then
        a2disconf -q -p $CONF >/dev/null || true
    fi
    rm -f /etc/apache2/conf-available/$CONF.conf
    if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q installed; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKG >/dev/null || true
    fi
    remove_new_state_dirs
    rm -rf "$WORK"
}
trap cleanup EXIT

state() {   # what must be the same before and after
    dpkg-query -W -f='${Package} ${Version} ${Status}\n' | sort
    find /etc/apache2/mods-enabled /etc/apache2/conf-enabled \
        /etc/apache2/sites-enabled -printf '%p %l\n' | sort
    find /var/lib/apache2 2>/dev/null | sort
}

if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q "install ok"; then
    trap - EXIT
    rm -rf "$WORK"
    fail "$PKG is installed already: purge it first (this test purges it)"
fi
find /var/lib/apache2 -type d >"$WORK/dirs.before"
state >"$WORK/state.before"

echo "-- make dist"
make -s dist >/dev/null
mv "mod_auth_ordsjwt-$VERSION.tar.gz" "$WORK/"
tar tzf "$WORK/mod_auth_ordsjwt-$VERSION.tar.gz" \
    | sed -n "s|^mod_auth_ordsjwt-$VERSION/||p" | grep -v '/$' | sort >"$WORK/dist.list"
git ls-files | grep -v -e '\.gitignore$' -e '^\.ci/' | sort >"$WORK/git.list"
missing=$(comm -23 "$WORK/git.list" "$WORK/dist.list")
[ -z "$missing" ] || fail "not in the tarball (EXTRA_DIST): $missing"

debver=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
[ "${debver%-*}" = "$VERSION" ] || fail "debian/changelog $debver, configure.ac $VERSION"

# dpkg-buildpackage -us -uc -b in the tree $1 (the .deb lands beside it),
# which must run the unit tests; then lintian on the .deb and .changes.
build_package() {
    local tree=$1 what=$2 out log deb changes depends
    out=$(dirname "$tree")
    log="$out/build.log"
    echo "-- dpkg-buildpackage -us -uc -b from $what"
    if ! (cd "$tree" \
            && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
               nice dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
        tail -n 60 "$log"
        fail "dpkg-buildpackage from $what failed"
    fi
    grep -x "PASS: tests/unit/unit_tests" "$log" \
        || { tail -n 60 "$log"; fail "$what: the unit tests did not run"; }
    deb=$(ls "$out"/${PKG}_"$debver"_*.deb)
    changes=$(ls "$out"/*_"$debver"_*.changes)
    depends=$(dpkg-deb -f "$deb" Depends)
    case "$depends" in
        *apache2-api-*libcjose*|*libcjose*apache2-api-*) echo "Depends: $depends" ;;
        *) fail "$what: Depends lacks the apache2 API or a library: $depends" ;;
    esac
    echo "-- lintian ($what)"
    lintian --fail-on error --display-level '>=warning' "$deb" "$changes" \
        || fail "lintian ($what): errors (above)"
}

# 1. the release tarball, with its own configure
mkdir "$WORK/tarball"
tar xzf "$WORK/mod_auth_ordsjwt-$VERSION.tar.gz" -C "$WORK/tarball"
build_package "$WORK/tarball/mod_auth_ordsjwt-$VERSION" "the tarball"
deb=$(ls "$WORK"/tarball/${PKG}_"$debver"_*.deb)

# 2. a clean git tree of HEAD, as a packager or a CI clones it: no
#    configure, debian/rules runs autoreconf
mkdir -p "$WORK/git/mod_auth_ordsjwt"
git archive --format=tar HEAD | tar xf - -C "$WORK/git/mod_auth_ordsjwt"
[ ! -e "$WORK/git/mod_auth_ordsjwt/configure" ] || fail "git tree has a configure"
build_package "$WORK/git/mod_auth_ordsjwt" "a git archive of HEAD"

echo "-- install, a2enmod, configtest"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >"$WORK/install.log" 2>&1 \
    || { cat "$WORK/install.log"; fail "apt-get install failed"; }
dpkg -L $PKG >"$WORK/files"
a2enmod auth_ordsjwt
[ -e /etc/apache2/mods-enabled/auth_ordsjwt.load ] || fail "a2enmod: no .load link"
cp $EXAMPLE /etc/apache2/conf-available/$CONF.conf
a2enconf -q $CONF
apache2ctl configtest 2>&1 | tee "$WORK/configtest.log"
grep -qx "Syntax OK" "$WORK/configtest.log" || fail "configtest"
a2disconf -q -p $CONF
rm /etc/apache2/conf-available/$CONF.conf
[ "$(ordsjwt-check --version)" = "ordsjwt-check $VERSION" ] || fail "ordsjwt-check --version"
man -w ordsjwt-check >/dev/null || fail "no man page"

echo "-- integration tests against the installed module"
ORDSJWT_MODULE=/usr/lib/apache2/modules/mod_auth_ordsjwt.so \
ORDSJWT_CHECK=/usr/bin/ordsjwt-check \
    /usr/bin/python3 -m pytest -p no:cacheprovider -q \
    tests/integration/test_basic.py tests/integration/test_release.py

echo "-- purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKG >"$WORK/purge.log" 2>&1 \
    || { cat "$WORK/purge.log"; fail "apt-get purge failed"; }
left=""
while read -r f; do
    if [ -e "$f" ] && [ ! -d "$f" ]; then left="$left $f"; fi
done <"$WORK/files"
for f in /etc/apache2/mods-available/auth_ordsjwt.* \
         /etc/apache2/mods-enabled/auth_ordsjwt.* \
         /var/lib/apache2/module/*/auth_ordsjwt; do
    if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done
[ -z "$left" ] || fail "left after purge:$left"
remove_new_state_dirs
state >"$WORK/state.after"
diff -u "$WORK/state.before" "$WORK/state.after" || fail "the machine is not as it was"
echo "-- package: all passed"
