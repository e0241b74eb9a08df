#!/usr/bin/env bash
# A classroom's labs, one Pulumi stack per learner (<class stack>.<learner>), driven from the
# class's stack, which holds the `learners` setting and every other setting of the labs.
#   scripts/classroom.sh [--stack NAME] [--parallel N] preview|up [--yes]|destroy [--yes]
#   scripts/classroom.sh reset LEARNER [--yes] | kubeconfigs DIR | recover
# Uses the same backend as scripts/up.sh; the class's stack: --stack, $PULUMI_STACK or "dev".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

ensure_venv requirements.txt
# shellcheck source=scripts/backend.sh
. scripts/backend.sh
exec .venv/bin/python -m classroom "$@"
