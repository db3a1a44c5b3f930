#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages named as arguments that are not installed yet.
# Usage: scripts/ensure-packages.sh PKG... (as root when something is missing)
set -euo pipefail
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "== installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "run as root, or install: apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
