#!/usr/bin/env bash
# Repairs a stack after a `pulumi up` or `pulumi destroy` that was killed rather than stopped with
# Ctrl-C: removes its lock when the process that held it is gone, deletes from the cluster the
# objects it created without recording them (the next `up` would otherwise fail with "already
# exists"), and clears its pending creates. Then `scripts/up.sh` creates them again. Uses the same backend as scripts/up.sh.
#   scripts/recover.sh [--stack NAME]      default: $PULUMI_STACK, or "dev"; a classroom's stack:
#                                          every learner's stack
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

ensure_venv requirements.txt
# shellcheck source=scripts/backend.sh
. scripts/backend.sh
stack="${PULUMI_STACK:-dev}"
[ "${1:-}" = "--stack" ] && [ -n "${2:-}" ] && stack="$2"
# A classroom: each learner's stack is repaired on its own.
if is_classroom "$stack"; then
  exec .venv/bin/python -m classroom --stack "$stack" recover
fi
exec .venv/bin/python -m recovery "$@"
