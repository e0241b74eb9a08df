# shellcheck shell=bash
# Sourced by the other scripts: creates .venv (or the virtualenv named second) with Python 3.11+
# ($PYTHON, default python3) and installs a requirements file into it, again only when that file
# changed.
ensure_venv() {
  local requirements="$1" venv="${2:-.venv}"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed ('$python' is $("$python" --version 2>&1 || echo missing))." >&2
    echo "       Install it (https://www.python.org/downloads/) or point PYTHON at one." >&2
    return 1
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating $venv"
    "$python" -m venv "$venv"
  fi
  local stamp digest
  stamp="$venv/.installed-$(basename "$requirements")"
  # pyproject.toml too: requirements.txt installs the components from it (their version, their
  # dependencies).
  digest=$(cat requirements*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "==> installing $requirements into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" >"$stamp"
  fi
}
