#!/usr/bin/env bash
# Proves the toolchain end to end, offline apart from PyPI for the virtualenv:
#  1. starts the local control plane (cluster.sh) with kwok's simulated node (its
#     images are upstream names no registry serves here) unless KUBECONFIG is given;
#  2. kubectl: a Deployment with an init container and a native sidecar plus a
#     Service roll out, and the Service gets endpoints;
#  3. pulumi CLI: a small Python project (Namespace, tls PrivateKey +
#     SelfSignedCert, Secret, Deployment) - up, preview --expect-no-changes,
#     destroy - with a local file backend and a passphrase secrets provider;
#  4. the same project through the Python Automation API (LocalWorkspace);
#  5. stops the control plane it started.
# Usage: e2e/smoke.sh   (E2E_KEEP=1 keeps the temp dir for inspection)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$HERE/versions.env"
log() { printf '[smoke] %s\n' "$*" >&2; }

# Without a cluster of the caller's, kwok's: its toolchain has the kwok piece.
[ -n "${KUBECONFIG:-}" ] || export E2E_NODE=kwok
"$HERE/install-toolchain.sh" >/dev/null
eval "$("$HERE/install-toolchain.sh" --env)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcp-e2e-smoke.XXXXXX")
STARTED_CLUSTER=
cleanup() {
	local rc=$?
	if [ -n "$STARTED_CLUSTER" ]; then
		E2E_CLUSTER_DIR=$TMP/cluster "$HERE/cluster.sh" stop || true
	fi
	if [ -z "${E2E_KEEP:-}" ]; then rm -rf "$TMP"; else log "kept $TMP"; fi
	exit $rc
}
trap cleanup EXIT

if [ -z "${KUBECONFIG:-}" ]; then
	out=$(E2E_CLUSTER_DIR=$TMP/cluster E2E_BIN_DIR=$E2E_TOOLCHAIN/bin "$HERE/cluster.sh" start)
	STARTED_CLUSTER=1
	export "${out##*$'\n'}" # KUBECONFIG=...
fi
log "KUBECONFIG=$KUBECONFIG"
kubectl version

# --- 2. kubectl ------------------------------------------------------------
t0=$(date +%s)
kubectl apply -f "$HERE/smoke/sidecar-demo.yaml"
kubectl -n e2e-smoke rollout status deployment/web --timeout=120s
kubectl -n e2e-smoke get pods -o wide
ready=$(kubectl -n e2e-smoke get endpointslices -l kubernetes.io/service-name=web \
	-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c . || true)
log "service web: $ready ready endpoint(s)"
[ "$ready" -eq 2 ] || {
	kubectl -n e2e-smoke get endpointslices -o yaml
	exit 1
}
sidecar=$(kubectl -n e2e-smoke get pods -o jsonpath='{.items[0].spec.initContainers[1].restartPolicy}')
[ "$sidecar" = Always ] || {
	log "native sidecar missing"
	exit 1
}
kubectl delete namespace e2e-smoke --wait=true --timeout=120s
log "kubectl check passed in $(($(date +%s) - t0))s"

# --- 3. pulumi CLI -----------------------------------------------------------
PROJECT=$TMP/project
cp -R "$HERE/smoke/pulumi-project" "$PROJECT"
python3 -m venv "$PROJECT/venv"
"$PROJECT/venv/bin/pip" install -q --disable-pip-version-check \
	"pulumi==$PULUMI_PYTHON_SDK_VERSION" "pulumi-kubernetes==$PULUMI_KUBERNETES_VERSION" "pulumi-tls==$PULUMI_TLS_VERSION"
mkdir -p "$TMP/state"
export PULUMI_BACKEND_URL=file://$TMP/state PULUMI_CONFIG_PASSPHRASE=
cd "$PROJECT"
pulumi version
pulumi plugin ls
pulumi stack init dev
t0=$(date +%s)
pulumi up --yes --non-interactive --skip-preview
log "pulumi up: $(($(date +%s) - t0))s"
kubectl -n e2e-pulumi-smoke rollout status deployment/web --timeout=60s
kubectl -n e2e-pulumi-smoke get secret smoke-tls -o jsonpath='{.type}{"\n"}'
pulumi preview --expect-no-changes --non-interactive
if pulumi stack export | grep -q 'BEGIN EC PRIVATE KEY\|BEGIN PRIVATE KEY'; then
	log "private key in plain text in the state"
	exit 1
fi
t0=$(date +%s)
pulumi destroy --yes --non-interactive --skip-preview
log "pulumi destroy: $(($(date +%s) - t0))s"
if kubectl get namespace e2e-pulumi-smoke >/dev/null 2>&1; then
	phase=$(kubectl get namespace e2e-pulumi-smoke -o jsonpath='{.status.phase}')
	[ "$phase" = Terminating ] || {
		log "namespace still there after destroy"
		exit 1
	}
fi
pulumi stack rm dev --yes
log "pulumi CLI check passed"

# --- 4. Automation API -------------------------------------------------------
"$PROJECT/venv/bin/python" "$HERE/smoke/automation_check.py" "$PROJECT"
log "all smoke checks passed"
