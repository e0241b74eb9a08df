#!/usr/bin/env bash
# Writes each learner's kubeconfig of a classroom stack (the `learners` setting) to DIR, one file
# per learner, readable by you only: DIR/<learner>.kubeconfig. Hand each learner their file.
#   scripts/kubeconfigs.sh DIR      stack: $PULUMI_STACK, default "dev"
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || {
  echo "usage: scripts/kubeconfigs.sh DIR" >&2
  exit 2
}
# shellcheck source=scripts/backend.sh
. scripts/backend.sh

umask 077
mkdir -p "$1"
# Python reads the secret output itself: the kubeconfigs never pass through an argument or a
# variable another process could see.
python3 - "$1" "${PULUMI_STACK:-dev}" <<'PY'
import json
import subprocess
import sys
from pathlib import Path

directory, stack = Path(sys.argv[1]), sys.argv[2]
command = ["pulumi", "stack", "output", "learner_kubeconfigs", "--show-secrets", "--json", "--stack", stack]
result = subprocess.run(command, capture_output=True, text=True, check=False)
if result.returncode != 0:
    sys.exit(
        f"error: stack '{stack}' has no learner_kubeconfigs output (set learners and run scripts/up.sh):\n"
        + result.stderr
    )
for learner, kubeconfig in json.loads(result.stdout).items():
    path = directory / f"{learner}.kubeconfig"
    path.write_text(kubeconfig)
    print(path)
PY
