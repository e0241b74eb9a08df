#!/usr/bin/env bash
# Runs the project's checks. Prepares .venv itself.
#   scripts/test.sh           lint, format, types and the unit tests (fast, no cluster)
#   scripts/test.sh e2e       the lab on a local cluster with a real node: pulumi preview/up/destroy,
#                             every command of the lab walked by scripts/lab.sh check, runs
#                             interrupted, killed, cut off from the API server or run twice (root)
#   scripts/test.sh node      the real node itself: no route off the machine, and stop (also after a
#                             crash) leaves nothing behind (root)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

suite="${1:-unit}"
ensure_venv requirements-dev.txt

case "$suite" in
  unit)
    echo "==> ruff check";          .venv/bin/ruff check .
    echo "==> ruff format --check"; .venv/bin/ruff format --check .
    echo "==> pyright";             .venv/bin/pyright
    echo "==> pytest";              .venv/bin/python -m pytest
    ;;
  e2e)
    # Builds the toolchain when its cache lacks it, starts the cluster, stops it after.
    e2e/with-cluster.sh .venv/bin/python -m pytest -m e2e tests/e2e
    ;;
  node)
    # The tests start and stop their own cluster: only the toolchain and its packages here.
    # shellcheck disable=SC2046 # one package per line
    scripts/install-debian-packages.sh $(grep -v '^#' e2e/debian-packages.txt)
    e2e/install-toolchain.sh >/dev/null
    eval "$(e2e/install-toolchain.sh --env)"
    .venv/bin/python -m pytest -m node tests/node
    ;;
  *)
    echo "usage: scripts/test.sh [unit|e2e|node]" >&2
    exit 2
    ;;
esac
