#!/usr/bin/env bash
# Runs one command with the whole end-to-end environment, then tears it down:
# installs the Debian packages it needs (debian-packages.txt), builds the
# toolchain if the cache lacks it, puts it on PATH with PULUMI_HOME and
# the offline switches, starts the local control plane, exports KUBECONFIG, runs
# the command, stops the control plane (also on failure or Ctrl-C), and exits with
# the command's status.
#
#   e2e/with-cluster.sh python -m pytest tests/e2e -q
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -gt 0 ] || {
	echo "usage: $0 COMMAND [ARGS...]" >&2
	exit 2
}

# shellcheck disable=SC2046 # one package per line
"$HERE/../scripts/install-debian-packages.sh" $(grep -v '^#' "$HERE/debian-packages.txt")
"$HERE/install-toolchain.sh" >/dev/null
eval "$("$HERE/install-toolchain.sh" --env)"

export E2E_CLUSTER_DIR=${E2E_CLUSTER_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mcp-e2e-cluster.XXXXXX")}
export E2E_BIN_DIR=$E2E_TOOLCHAIN/bin
trap '"$HERE/cluster.sh" stop' EXIT
out=$("$HERE/cluster.sh" start)
export "${out##*$'\n'}" # KUBECONFIG=...

set +e
"$@"
rc=$?
set -e
exit $rc
