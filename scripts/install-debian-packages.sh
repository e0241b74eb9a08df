#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing, without starting
# any service they ship. Idempotent: does nothing when every package is installed. Needs root
# (apt-get) only when something is missing.
#   scripts/install-debian-packages.sh PACKAGE...
set -euo pipefail

[ $# -gt 0 ] || {
  echo "usage: $0 PACKAGE..." >&2
  exit 2
}

missing=()
for package in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-debian-packages: all installed ($*)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-debian-packages: missing ${missing[*]}, and installing needs root" >&2
  exit 1
fi

# The packages' maintainer scripts must not start any service they ship: the tests start what
# they need themselves.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-debian-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-debian-packages: done"
