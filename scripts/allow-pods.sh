#!/usr/bin/env bash
# Gives a user what the unit tests' pods need of the machine, once, as its administrator (as root,
# or through sudo): newuidmap and newgidmap (Debian's uidmap), a range of 65536 subordinate user
# and group ids no other user has, and user namespaces (which Ubuntu 24.04's AppArmor keeps from
# mounting by default). Changes only what is not so already.
#   scripts/allow-pods.sh [USER]      default: the user running it (sudo's caller under sudo)
set -euo pipefail

user="${1:-${SUDO_USER:-$(id -un)}}"
id "$user" >/dev/null
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then
  echo "allow-pods: installing uidmap (newuidmap, newgidmap)"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends uidmap >/dev/null
fi

# A range of at least 65535 ids in both files, by name or uid, as newuidmap reads them.
has_range() {
  awk -F: -v user="$user" -v uid="$(id -u "$user")" \
    '($1 == user || $1 == uid) && $3 >= 65535 { found = 1 } END { exit !found }' "$1" 2>/dev/null
}
if ! has_range /etc/subuid || ! has_range /etc/subgid; then
  # Past every range already given, so no two users share ids.
  first=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: 'BEGIN { end = 100000 } $2 + $3 > end { end = $2 + $3 } END { print end }')
  last=$((first + 65535))
  echo "allow-pods: subordinate ids $first-$last for $user"
  "${as_root[@]}" usermod --add-subuids "$first-$last" --add-subgids "$first-$last" "$user"
fi

# The kernel's settings that keep users from making user namespaces (tests/pods.py lists them).
cd "$(dirname "$0")/.."
for setting in $(python3 -m tests.pods --forbidding); do
  echo "allow-pods: $setting"
  "${as_root[@]}" sysctl -qw "$setting"
done
echo "allow-pods: $user can run the unit tests' pods"
