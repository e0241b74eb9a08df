#!/usr/bin/env bash
# Installs the Debian packages the runtime test suite (tests/runtime) runs the lab's containers
# with: busybox and nginx stand in for the busybox and nginx images, redis-server for the redis
# image, shellcheck lints the container scripts, prometheus ships promtool. Idempotent: does
# nothing when every package is installed. Needs root (apt-get).
set -euo pipefail

packages=(busybox nginx redis-server shellcheck prometheus openssl)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-runtime-deps: all installed (${packages[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-runtime-deps: missing ${missing[*]}, and installing needs root" >&2
  exit 1
fi

# The packages' maintainer scripts must not start nginx, redis or prometheus as services: the
# tests start every server themselves, inside network namespaces they own.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-runtime-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-runtime-deps: done"
