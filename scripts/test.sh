#!/usr/bin/env bash
# Runs the project's checks. Prepares .venv itself.
#   scripts/test.sh           lint, format, types and the unit tests (fast, no cluster)
#   scripts/test.sh pythons   the unit tests on each Python the package declares (pyproject.toml's
#                             classifiers), each in a virtualenv of its own (.venv-3.X, or .venv
#                             for the Python it was made with)
#   scripts/test.sh ends      the unit tests with the components' dependencies at each end of the
#                             ranges they declare (tests/ends.py): their lower bounds, and the
#                             newest PyPI serves within them (.venv-lowest, .venv-newest)
#   scripts/test.sh e2e       the lab on a local cluster with a real node: pulumi preview/up/destroy,
#                             every command of the lab walked by scripts/lab.sh check, runs
#                             interrupted, killed, cut off from the API server or run twice (root)
#   scripts/test.sh versions  the lab walk, its four experiments and the NetworkPolicy flow matrix
#                             on each older Kubernetes release of e2e/versions.env (root)
#   scripts/test.sh package   the components built as a wheel, installed into a fresh virtualenv,
#                             running the example program (examples/team-a) under Pulumi's mocks
#   scripts/test.sh newcomer  the README's test command as freshly created users without root or
#                             sudo, on a fresh clone, and the preview workflow's steps as GitHub's
#                             runner runs them (root: it makes the users)
#   scripts/test.sh node      the real node itself: no route off the machine, and stop (also after a
#                             crash) leaves nothing behind (root)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

suite="${1:-unit}"
ensure_venv requirements-dev.txt

# The unit tests with the virtualenv $1, their result recorded as $2; `report` prints every one
# recorded and fails when one failed.
results=()
unit_tests_with() {
  local status=0
  "$1/bin/python" -m pytest -n auto --dist loadfile -p no:cacheprovider -q || status=$?
  results+=("$2: $([ "$status" -eq 0 ] && echo passed || echo "FAILED ($status)")")
}
report() {
  printf '%s\n' "${results[@]}"
  ! printf '%s\n' "${results[@]}" | grep -q FAILED
}

case "$suite" in
  unit)
    # The behaviour tests run the lab's pods, with busybox and nginx downloaded and unpacked as
    # the user (tests/debian-packages.txt); where the machine keeps them from running, this says
    # why and what to do, and they are skipped.
    echo "==> the lab's pods"
    .venv/bin/python -m tests.packages || true
    .venv/bin/python -m tests.pods || true
    echo "==> ruff check";          .venv/bin/ruff check .
    echo "==> ruff format --check"; .venv/bin/ruff format --check .
    echo "==> pyright";             .venv/bin/pyright
    # One worker per core, each test module on one worker (its module fixtures built once).
    echo "==> pytest";              .venv/bin/python -m pytest -n auto --dist loadfile
    ;;
  pythons)
    # Each declared Python: `python3.X` on PATH, or pyenv's newest 3.X; $PYTHONS (interpreters,
    # space-separated) replaces them.
    read -ra versions <<<"$(.venv/bin/python -c '
import tomllib
prefix = "Programming Language :: Python :: 3."
classifiers = tomllib.load(open("pyproject.toml", "rb"))["project"]["classifiers"]
print(" ".join("3." + c.removeprefix(prefix) for c in classifiers if c.startswith(prefix)))')"
    interpreters=()
    if [ -n "${PYTHONS:-}" ]; then
      read -ra interpreters <<<"$PYTHONS"
    else
      for version in "${versions[@]}"; do
        found=""
        pyenv_root=$(pyenv root 2>/dev/null || echo /nonexistent)
        mapfile -t candidates < <(printf '%s\n' "python$version" "$pyenv_root/versions/$version".*/bin/"python$version" | sort -Vr)
        for candidate in "${candidates[@]}"; do
          if "$candidate" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$version')" 2>/dev/null; then
            found=$candidate
            break
          fi
        done
        [ -n "$found" ] || {
          echo "error: no Python $version (python$version on PATH, or pyenv's); install it or set PYTHONS" >&2
          exit 1
        }
        interpreters+=("$found")
      done
    fi
    for python in "${interpreters[@]}"; do
      version=$("$python" -c 'import platform; print(platform.python_version())')
      # .venv serves the Python it was made with; each other one gets a virtualenv of its own.
      venv=".venv-${version%.*}"
      [ "$(.venv/bin/python -c 'import platform; print(platform.python_version())')" != "$version" ] || venv=.venv
      echo "==> Python $version ($python): $venv"
      PYTHON=$python ensure_venv requirements-dev.txt "$venv"
      unit_tests_with "$venv" "Python $version"
    done
    report
    ;;
  ends)
    read -ra ends <<<"$(.venv/bin/python -c 'from tests.ends import ENDS; print(*ENDS)')"
    for end in "${ends[@]}"; do
      venv=.venv-$end
      echo "==> the components' dependencies at their $end: $venv"
      ensure_venv requirements-dev.txt "$venv"
      mapfile -t wanted < <(.venv/bin/python -m tests.ends "$end")
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${wanted[@]}"
      installed=$("$venv/bin/python" -m tests.ends installed)
      echo "==> $installed"
      unit_tests_with "$venv" "$end ($installed)"
    done
    report
    ;;
  e2e)
    # Builds the toolchain when its cache lacks it, starts the cluster, stops it after.
    e2e/with-cluster.sh .venv/bin/python -m pytest -m "e2e and not node_loss" tests/e2e
    # A node lost, on a cluster of its own: the test leaves it a node short.
    e2e/with-cluster.sh .venv/bin/python -m pytest -m node_loss tests/e2e
    ;;
  versions)
    # Every release of KUBERNETES_VERSIONS but the first, which `e2e` runs: its own toolchain
    # (only its Kubernetes piece is built) and its own cluster.
    read -ra releases <<<"$(. e2e/versions.env && echo "$KUBERNETES_VERSIONS")"
    for version in "${releases[@]:1}"; do
      echo "==> Kubernetes $version"
      E2E_KUBERNETES_VERSION=$version e2e/with-cluster.sh .venv/bin/python -m pytest -m e2e \
        tests/e2e/test_lab.py tests/e2e/test_network.py
    done
    ;;
  package)
    .venv/bin/python -m pytest -m package tests/package
    ;;
  newcomer)
    [ "$(id -u)" -eq 0 ] || {
      echo "scripts/test.sh newcomer makes users: run it as root" >&2
      exit 2
    }
    .venv/bin/python -m pytest -m newcomer tests/newcomer
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
    echo "usage: scripts/test.sh [unit|pythons|ends|e2e|versions|node|package|newcomer]" >&2
    exit 2
    ;;
esac
