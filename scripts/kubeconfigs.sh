#!/usr/bin/env bash
# Writes each learner's kubeconfig of a classroom (the `learners` setting) to DIR, one file per
# learner, readable by you only: DIR/<learner>.kubeconfig. Hand each learner their file.
#   scripts/kubeconfigs.sh DIR      the class's stack: $PULUMI_STACK, default "dev"
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || {
  echo "usage: scripts/kubeconfigs.sh DIR" >&2
  exit 2
}
exec scripts/classroom.sh --stack "${PULUMI_STACK:-dev}" kubeconfigs "$1"
