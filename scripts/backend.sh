# shellcheck shell=bash
# Sourced by scripts/up.sh, and by you before other pulumi commands (`. scripts/backend.sh`):
# keeps your Pulumi backend when you are logged in to one, otherwise points Pulumi at a local
# backend in .pulumi-state/ with an empty passphrase unless you set PULUMI_CONFIG_PASSPHRASE.
_credentials="${PULUMI_HOME:-$HOME/.pulumi}/credentials.json"
if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! grep -q '"current": *"[^"]' "$_credentials" 2>/dev/null; then
  mkdir -p .pulumi-state
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  echo "==> not logged in to a Pulumi backend: keeping state in $PWD/.pulumi-state" >&2
  if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    export PULUMI_CONFIG_PASSPHRASE=""
    echo "==> secrets in that state are encrypted with an empty passphrase (set PULUMI_CONFIG_PASSPHRASE to choose one)" >&2
  fi
fi
unset _credentials

# Whether stack $1 is a classroom's (its `learners` setting names someone): each learner's lab is
# then a stack of its own, which scripts/classroom.sh runs.
is_classroom() {
  local learners
  learners=$(pulumi config get learners --stack "$1" 2>/dev/null || true)
  [ -n "$learners" ] && [ "$learners" != "[]" ]
}
