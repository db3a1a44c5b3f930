#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mod_auth_ordsjwt demo: build the module, start a local HTTPS issuer and an
# httpd on loopback, and show what bearer tokens get with curl.
#
#   bash demo/demo.sh        (as root on Debian bookworm; installs what is missing)
#
# Exits non-zero when an answer is not the expected one. Stops what it starts.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
APACHE2=/usr/sbin/apache2
MODULES_DIR=/usr/lib/apache2/modules
PACKAGES="apache2 apache2-dev libssl-dev libcjose-dev libjansson-dev
libcurl4-openssl-dev libpcre2-dev autoconf automake libtool pkg-config make gcc libc6-dev
curl python3 python3-jwcrypto"

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }

# --- 1. packages ------------------------------------------------------------
# shellcheck disable=SC2086
"$REPO/scripts/ensure-packages.sh" $PACKAGES

# --- 2. build ---------------------------------------------------------------
say "building mod_auth_ordsjwt"
cd "$REPO"
if [ ! -f Makefile ]; then
    autoreconf -fi
    ./configure
fi
make
MODULE="$REPO/.libs/mod_auth_ordsjwt.so"
[ -f "$MODULE" ] || { echo "no $MODULE after make" >&2; exit 1; }

# --- 3. start the issuer and httpd -----------------------------------------
WORK=$(mktemp -d /tmp/ordsjwt-demo.XXXXXX)
chmod 755 "$WORK"     # httpd's children (www-data) read the CA file here
mkdir -m 755 "$WORK/htdocs"
echo "<html><body>HR data for authorised callers</body></html>" >"$WORK/htdocs/index.html"
ISSUER_PID=
HTTPD_STARTED=
FAILED=0

cleanup() {
    rc=$?
    set +e
    if [ -n "$HTTPD_STARTED" ]; then
        pid=$(cat "$WORK/httpd.pid" 2>/dev/null)
        "$APACHE2" -f "$WORK/httpd.conf" -k stop
        for _ in $(seq 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ -n "$ISSUER_PID" ]; then
        kill "$ISSUER_PID" 2>/dev/null
        wait "$ISSUER_PID" 2>/dev/null
    fi
    if [ $rc -ne 0 ] && [ -f "$WORK/error.log" ]; then
        echo "--- httpd error log ($WORK/error.log) ---" >&2
        tail -n 30 "$WORK/error.log" >&2
    fi
    if [ $rc -eq 0 ] && [ -z "${KEEP:-}" ]; then
        rm -rf "$WORK"
    else
        echo "demo files kept in $WORK" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "starting the local HTTPS issuer (throwaway CA, JWKS on 127.0.0.1)"
"$PY" "$REPO/demo/issuer.py" --dir "$WORK" &
ISSUER_PID=$!
for _ in $(seq 300); do
    [ -f "$WORK/issuer.env" ] && break
    kill -0 "$ISSUER_PID" 2>/dev/null || { echo "the issuer did not start" >&2; exit 1; }
    sleep 0.1
done
[ -f "$WORK/issuer.env" ] || { echo "the issuer did not start" >&2; exit 1; }
. "$WORK/issuer.env"
echo "issuer $ISSUER, JWKS at $JWK_URL"

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|@WORKDIR@|$WORK|g" -e "s|@PORT@|$PORT|g" -e "s|@MODULE@|$MODULE|g" \
    -e "s|@MODULES_DIR@|$MODULES_DIR|g" -e "s|@CA_FILE@|$WORK/ca.pem|g" \
    -e "s|@ISSUER@|$ISSUER|g" -e "s|@JWK_URL@|$JWK_URL|g" \
    "$REPO/conf-examples/demo.conf" >"$WORK/httpd.conf"

say "starting httpd on 127.0.0.1:$PORT with conf-examples/demo.conf"
"$APACHE2" -f "$WORK/httpd.conf" -t 2>&1
"$APACHE2" -f "$WORK/httpd.conf" -k start
HTTPD_STARTED=1
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.1
done

# --- 4. show ----------------------------------------------------------------
URL="http://127.0.0.1:$PORT/ords/hr/employees"
VALID_TOKEN=$(cat "$WORK/token-valid")
EXPIRED_TOKEN=$(cat "$WORK/token-expired")
NOSCOPE_TOKEN=$(cat "$WORK/token-noscope")

# try TITLE TOKEN_VARIABLE_NAME EXPECTED_STATUS EXPECTED_WWW_AUTHENTICATE EXPECTED_USER
try() {
    local title=$1 var=$2 want_status=$3 want_www=$4 want_user=$5
    local args=(-s -o /dev/null -D - "$URL") shown="curl -s -o /dev/null -D - $URL"
    if [ -n "$var" ]; then
        args=(-H "Authorization: Bearer ${!var}" "${args[@]}")
        shown="curl -H \"Authorization: Bearer \$$var\" ${shown#curl }"
        echo
        echo "# $title   (\$$var = ${!var:0:24}...)"
    else
        echo
        echo "# $title"
    fi
    echo "\$ $shown"
    local headers status www user
    headers=$(curl "${args[@]}" | tr -d '\r') || true
    status=$(printf '%s\n' "$headers" | head -n1 | cut -d' ' -f2)
    www=$(printf '%s\n' "$headers" | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p')
    user=$(printf '%s\n' "$headers" | sed -n 's/^[Xx]-[Rr]emote-[Uu]ser: //p')
    echo "  HTTP $status"
    [ -n "$www" ] && echo "  WWW-Authenticate: $www"
    [ -n "$user" ] && echo "  X-Remote-User (REMOTE_USER): $user"
    local ok=1
    [ "$status" = "$want_status" ] || ok=0
    [ "$www" = "$want_www" ] || ok=0
    [ -z "$want_user" ] || [ "$user" = "$want_user" ] || ok=0
    if [ $ok = 1 ]; then
        echo "  -> as expected"
    else
        echo "  -> WRONG: expected HTTP $want_status${want_www:+, WWW-Authenticate: $want_www}${want_user:+, user $want_user}" >&2
        FAILED=$((FAILED + 1))
    fi
}

say "asking httpd"
try "a valid token with scope hr.employees.read" VALID_TOKEN 200 "" "alice@example.com"
try "no token" "" 401 'Bearer realm="ORDS"' ""
try "an expired token" EXPIRED_TOKEN 401 \
    'Bearer realm="ORDS", error="invalid_token", error_description="token has expired"' ""
try "a valid token without the scope" NOSCOPE_TOKEN 403 \
    'Bearer realm="ORDS", error="insufficient_scope", scope="hr.employees.read"' ""

say "what httpd logged (info, ORDSJWT ids; never the token)"
grep -h "ORDSJWT" "$WORK/error.log" | sed 's/^/  /' || true
if grep -qF -e "$VALID_TOKEN" -e "$EXPIRED_TOKEN" -e "$NOSCOPE_TOKEN" "$WORK/error.log"; then
    echo "  -> WRONG: a token appears in the error log" >&2
    FAILED=$((FAILED + 1))
fi

echo
if [ "$FAILED" -ne 0 ]; then
    echo "demo: $FAILED answer(s) not as expected" >&2
    exit 1
fi
echo "demo: all answers as expected"
