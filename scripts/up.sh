#!/usr/bin/env bash
# Deploys the lab with one command: checks the prerequisites, prepares .venv, uses your Pulumi
# backend (or a local one in .pulumi-state when you are not logged in to any), selects or
# creates the stack and runs `pulumi up` (for a classroom, scripts/classroom.sh up). Extra arguments
# go to `pulumi up` (e.g. --yes).
#   scripts/up.sh [pulumi up options]      stack: $PULUMI_STACK, default "dev"
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/venv.sh
. scripts/venv.sh

stack="${PULUMI_STACK:-dev}"

if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: the Pulumi CLI is not installed (no `pulumi` on PATH).
       Install it: https://www.pulumi.com/docs/iac/download-install/
       (Linux/macOS: curl -fsSL https://get.pulumi.com | sh; macOS: brew install pulumi/tap/pulumi)
MSG
  exit 1
fi
if ! command -v kubectl >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: kubectl is not installed; the lab is explored with it.
       Install it: https://kubernetes.io/docs/tasks/tools/
MSG
  exit 1
fi
ensure_venv requirements.txt

# shellcheck source=scripts/backend.sh
. scripts/backend.sh

# The oldest Kubernetes release the end-to-end suite runs (e2e/versions.env) is the oldest supported.
supported=$(. e2e/versions.env && echo "$KUBERNETES_VERSIONS")
oldest=${supported##* }
oldest=${oldest%.*}

# The cluster first: a refused run creates nothing, not even the stack.
context_args=()
kube_context=$(pulumi config get kubeContext --stack "$stack" 2>/dev/null || true)
[ -n "$kube_context" ] && context_args=(--context "$kube_context")
context_name=${kube_context:-$(kubectl config current-context 2>/dev/null || echo none)}
if ! server=$(kubectl "${context_args[@]}" version -o json --request-timeout=5s 2>/dev/null); then
  cat >&2 <<MSG
error: no Kubernetes cluster answers at kube context '$context_name'.
       Start one (Kubernetes $oldest or later), for example:
         kind create cluster        (https://kind.sigs.k8s.io)
         minikube start             (https://minikube.sigs.k8s.io)
         k3d cluster create         (https://k3d.io)
       or choose a context: pulumi config set kubeContext <context> --stack ${stack}
MSG
  exit 1
fi
# "1.33" of {"serverVersion": {"major": "1", "minor": "33+", ...}} (some clouds add a "+").
read -r version git_version < <(.venv/bin/python -c '
import json, sys
server = json.load(sys.stdin)["serverVersion"]
print(server["major"] + "." + server["minor"].rstrip("+"), server.get("gitVersion", ""))' <<<"$server")
if [ "$(printf '%s\n%s\n' "$oldest" "$version" | sort -V | head -1)" != "$oldest" ]; then
  cat >&2 <<MSG
error: the cluster at kube context '$context_name' runs Kubernetes ${git_version:-$version}; the lab
       needs $oldest or later (native sidecars are generally available from 1.33), the releases
       its end-to-end suite runs: ${supported// /, }. Upgrade the cluster or choose another
       context: pulumi config set kubeContext <context> --stack ${stack}
MSG
  exit 1
fi

pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"

# A classroom (the stack has learners) is one stack per learner: scripts/classroom.sh runs them.
if is_classroom "$stack"; then
  exec scripts/classroom.sh --stack "$stack" up "$@"
fi
exec pulumi up --stack "$stack" "$@"
