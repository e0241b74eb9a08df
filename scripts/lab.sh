#!/usr/bin/env bash
# Checks the deployed lab the way a learner walks it: runs each pattern's kubectl commands of the
# README against your cluster and judges what they show. Prepares .venv like scripts/up.sh.
#   scripts/lab.sh check [--context NAME] [--namespace NS] [--kubeconfig PATH]
#                        [--pattern NAME]... [--experiment sidecar-restart] [--wait SECONDS]
# Exits 0 when every selected pattern behaves, 1 when one does not, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

ensure_venv requirements.txt
exec .venv/bin/python -m labcheck "$@"
