#!/usr/bin/env bash
# Writes docs/api.md, the API reference, from the docstrings of what multicontainer_patterns
# exports (griffe2md, configured in pyproject.toml). The unit tests fail when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh
ensure_venv requirements-dev.txt
.venv/bin/griffe2md multicontainer_patterns -o docs/api.md
