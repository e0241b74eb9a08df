#!/usr/bin/env bash
# Runs the project's checks. Prepares .venv itself.
#   scripts/test.sh           lint, format, types and the unit tests (fast, no cluster)
#   scripts/test.sh runtime   runs every container's real commands in Linux namespaces (root)
#   scripts/test.sh e2e       real pulumi up/preview/destroy against a local control plane
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

suite="${1:-unit}"
RUNTIME_PACKAGES="busybox nginx redis-server shellcheck prometheus openssl"
ensure_venv requirements-dev.txt

case "$suite" in
  unit)
    echo "==> ruff check";          .venv/bin/ruff check .
    echo "==> ruff format --check"; .venv/bin/ruff format --check .
    echo "==> pyright";             .venv/bin/pyright
    echo "==> pytest";              .venv/bin/python -m pytest
    ;;
  runtime)
    # busybox, nginx and redis-server stand in for the images, shellcheck lints the container
    # scripts, prometheus ships promtool.
    scripts/install-debian-packages.sh $RUNTIME_PACKAGES
    .venv/bin/python -m pytest -m runtime tests/runtime
    ;;
  e2e)
    # Builds the toolchain when its cache lacks it, starts the control plane, stops it after.
    e2e/with-cluster.sh .venv/bin/python -m pytest -m e2e tests/e2e
    ;;
  *)
    echo "usage: scripts/test.sh [unit|runtime|e2e]" >&2
    exit 2
    ;;
esac
