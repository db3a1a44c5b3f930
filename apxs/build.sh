#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Plain apxs build of mod_auth_ordsjwt, for those without autotools.
#
#   sh apxs/build.sh            build .libs/mod_auth_ordsjwt.so
#   sh apxs/build.sh -i         build and install into httpd's module dir
#
# Needs: apxs (apache2-dev), pkg-config, libcjose-dev, libjansson-dev,
# libssl-dev, libcurl4-openssl-dev. APXS=/path/to/apxs overrides the apxs used.
set -eu
cd "$(dirname "$0")/.."
APXS=${APXS:-$(command -v apxs2 || command -v apxs)}
PKGS="cjose jansson libcrypto libcurl"
# the release, from configure.ac's AC_INIT (src/version.c)
VERSION=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' configure.ac)
CFLAGS="-Wc,-DOJW_VERSION_BARE=$VERSION"
for f in -Wall -Wextra -Werror -I. -Isrc $(pkg-config --cflags $PKGS); do
    CFLAGS="$CFLAGS -Wc,$f"
done
# shellcheck disable=SC2046,SC2086
"$APXS" -c ${1:+"$1"} -n auth_ordsjwt -o mod_auth_ordsjwt.la $CFLAGS \
    mod_auth_ordsjwt.c mod_ordsjwt_*.c src/*.c $(pkg-config --libs $PKGS)
