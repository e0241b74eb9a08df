#!/usr/bin/env bash
# A local Kubernetes cluster for the end-to-end tests: a control plane on
# 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) and
# worker nodes, chosen with E2E_NODE:
#   real (default)  node.sh: E2E_NODES real nodes (default 2), each a kubelet with
#                   containerd, runc, CNI, kube-proxy and kube-router's NetworkPolicy
#                   controller in a network namespace of its own, CoreDNS on the
#                   first; pods run and reach each other across nodes. Root.
#   kwok            kwok simulates one Node (kwok-node-0): pods are scheduled and
#                   reported Running/Ready at once, but nothing runs in them. Starts
#                   in seconds, without root.
#
# Usage:
#   e2e/cluster.sh start     start everything, wait until it is ready, print KUBECONFIG=...
#   e2e/cluster.sh stop      stop every process this script started and wipe the state dir
#   e2e/cluster.sh status    show the processes and the node
#   e2e/cluster.sh env       print `export KUBECONFIG=...`
#   e2e/cluster.sh control-plane stop|start
#                            take the API server, controller manager and scheduler away and
#                            bring them back (a restarting cluster); etcd and the node run on
#
# The binaries come from install-toolchain.sh (its cache, built if missing) or
# from E2E_BIN_DIR. State (certificates, etcd data, logs, pid files, the admin
# kubeconfig) lives in ${E2E_CLUSTER_DIR:-${TMPDIR:-/tmp}/multi-container-patterns-e2e-cluster}.
# Listening ports are picked free on 127.0.0.1 at start.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${E2E_CLUSTER_DIR:-${TMPDIR:-/tmp}/multi-container-patterns-e2e-cluster}
NODE_KIND=${E2E_NODE:-real}
NODE_COUNT=${E2E_NODES:-2}
KWOK_NODE_NAME=kwok-node-0
START_TIMEOUT=${E2E_CLUSTER_TIMEOUT:-120} # seconds, for each wait

log() { printf '[cluster] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
PID_DIR=$DIR/run
LOG_DIR=$DIR/logs
# shellcheck source=processes.sh
source "$HERE/processes.sh"

bin_dir() {
	if [ -n "${E2E_BIN_DIR:-}" ]; then
		echo "$E2E_BIN_DIR"
	else
		local prefix
		prefix=$("$HERE/install-toolchain.sh" --prefix)
		if [ ! -f "$prefix/env.sh" ]; then
			"$HERE/install-toolchain.sh" >/dev/null
		fi
		echo "$prefix/bin"
	fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

gen_certs() {
	local p=$DIR/pki
	mkdir -p "$p"
	(
		cd "$p"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=e2e-ca" \
			-keyout ca.key -out ca.crt
		cat >apiserver.ext <<'EOF'
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment
EOF
		openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key -out apiserver.csr
		openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile apiserver.ext -out apiserver.crt
		printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >client.ext
		openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=e2e-admin" -keyout admin.key -out admin.csr
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out admin.crt
		# The API server's identity towards kubelets (logs, exec, port-forward).
		openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
			-keyout apiserver-kubelet-client.key -out apiserver-kubelet-client.csr
		openssl x509 -req -in apiserver-kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile client.ext -out apiserver-kubelet-client.crt
		openssl genrsa -out sa.key 2048
		openssl rsa -in sa.key -pubout -out sa.pub
		rm -f ./*.csr ./*.ext
	) >"$DIR/logs/pki.log" 2>&1 || die "certificate generation failed: $DIR/logs/pki.log"
}

write_kubeconfig() {
	cat >"$DIR/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $DIR/pki/ca.crt
users:
- name: e2e-admin
  user:
    client-certificate: $DIR/pki/admin.crt
    client-key: $DIR/pki/admin.key
contexts:
- name: e2e
  context:
    cluster: e2e
    user: e2e-admin
current-context: e2e
EOF
	chmod 600 "$DIR/admin.kubeconfig"
}

curl_api() {
	curl -fsS --max-time 5 --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key" "$@"
}

node_manifest() {
	cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_NODE_NAME
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: $KWOK_NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
# Room for a classroom of 50 learners' labs (300 pods; a kubelet's default is 110).
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "32", memory: 256Gi, pods: "1000"}
EOF
}

# The API server, on the ports of ports.env: at start, and again after `control-plane stop`. A pod on
# a node gone not-ready or unreachable is evicted after 30 s, not Kubernetes' 300 s: the node-loss
# test's Deployments move within two minutes.
launch_apiserver() {
	local bin=$1
	launch kube-apiserver "$bin/kube-apiserver" \
		--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
		--cert-dir="$DIR/pki" --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
		--client-ca-file="$DIR/pki/ca.crt" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		--authorization-mode=Node,RBAC --allow-privileged=true \
		--kubelet-client-certificate="$DIR/pki/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$DIR/pki/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority="$DIR/pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
		--endpoint-reconciler-type=none \
		--default-not-ready-toleration-seconds=30 --default-unreachable-toleration-seconds=30 \
		--profiling=false --v=1
}

# The controller manager and the scheduler, ready; at start and again after `control-plane stop`.
launch_controllers() {
	local bin=$1 kc=$DIR/admin.kubeconfig
	launch kube-controller-manager "$bin/kube-controller-manager" \
		--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
		--bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
		--root-ca-file="$DIR/pki/ca.crt" --service-account-private-key-file="$DIR/pki/sa.key" \
		--use-service-account-credentials=false --controllers='*' \
		--node-monitor-grace-period=60s --profiling=false --v=1
	launch kube-scheduler "$bin/kube-scheduler" \
		--kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
		--bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false --profiling=false --v=1
	wait_until "kube-controller-manager /healthz" "$START_TIMEOUT" curl_api -k "https://127.0.0.1:$KCM_PORT/healthz" || return 1
	wait_until "kube-scheduler /healthz" "$START_TIMEOUT" curl_api -k "https://127.0.0.1:$SCHED_PORT/healthz" || return 1
}

# `control-plane stop|start`: takes the API server, the controller manager and the scheduler away
# and brings them back, as a restarting cluster does (the fault tests); etcd and the node keep
# running, the kubelet waiting for the API server to come back.
control_plane() {
	[ -f "$DIR/ports.env" ] || die "no cluster runs in $DIR"
	# shellcheck disable=SC1091 # written by start
	. "$DIR/ports.env"
	case "${1:-}" in
	stop) term_wait 10 kube-scheduler kube-controller-manager kube-apiserver ;;
	start)
		[ ! -f "$DIR/run/kube-apiserver.pid" ] || die "the control plane runs already"
		local bin
		bin=$(bin_dir)
		launch_apiserver "$bin"
		wait_until "kube-apiserver /readyz" "$START_TIMEOUT" curl_api "https://127.0.0.1:$APISERVER_PORT/readyz"
		launch_controllers "$bin"
		;;
	*) die "usage: $0 control-plane stop|start" ;;
	esac
}

start() {
	local bin t0
	t0=$(date +%s)
	if [ -d "$DIR/run" ] && ls "$DIR"/run/*.pid >/dev/null 2>&1; then
		die "a cluster seems to run already in $DIR (run '$0 stop' first)"
	fi
	for tool in openssl curl python3; do
		command -v "$tool" >/dev/null || die "$tool is required"
	done
	case $NODE_KIND in
	real | kwok) ;;
	*) die "E2E_NODE must be 'real' or 'kwok', not '$NODE_KIND'" ;;
	esac
	[[ $NODE_COUNT =~ ^[1-8]$ ]] || die "E2E_NODES must be a number of real nodes from 1 to 8, not '$NODE_COUNT'"
	bin=$(bin_dir)
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
		[ -x "$bin/$b" ] || die "$bin/$b is missing (run e2e/install-toolchain.sh)"
	done
	# kwok's node and pod stages (node-initialize, heartbeat-with-lease, pod
	# ready/complete/delete), copied from the kwok module by install-toolchain.sh.
	local kwok_config=${E2E_KWOK_CONFIG:-$bin/../share/kwok/stages.yaml}
	if [ "$NODE_KIND" = kwok ]; then
		[ -x "$bin/kwok" ] && [ -f "$kwok_config" ] ||
			die "kwok is missing from $bin (E2E_NODE=kwok e2e/install-toolchain.sh builds it)"
	fi
	rm -rf "$DIR"
	mkdir -p "$DIR/logs" "$DIR/run" "$DIR/etcd"
	chmod 700 "$DIR"

	ETCD_PORT=$(free_port)
	ETCD_PEER_PORT=$(free_port)
	APISERVER_PORT=$(free_port)
	KCM_PORT=$(free_port)
	SCHED_PORT=$(free_port)
	KWOK_PORT=$(free_port)
	cat >"$DIR/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KCM_PORT=$KCM_PORT
SCHED_PORT=$SCHED_PORT
KWOK_PORT=$KWOK_PORT
EOF
	gen_certs
	write_kubeconfig
	local kc=$DIR/admin.kubeconfig

	launch etcd "$bin/etcd" --name=e2e --data-dir="$DIR/etcd" \
		--listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync=true \
		--log-level=warn
	wait_until "etcd /readyz" "$START_TIMEOUT" curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/readyz" || abort_start

	launch_apiserver "$bin"
	wait_until "kube-apiserver /readyz" "$START_TIMEOUT" curl_api "https://127.0.0.1:$APISERVER_PORT/readyz" || abort_start

	launch_controllers "$bin" || abort_start

	if [ "$NODE_KIND" = real ]; then
		local index
		for index in $(seq 0 $((NODE_COUNT - 1))); do
			E2E_CLUSTER_DIR=$DIR E2E_BIN_DIR=$bin "$HERE/node.sh" start "$index" "$NODE_COUNT" || abort_start
		done
	else
		start_kwok "$bin" "$kc" "$kwok_config" || abort_start
	fi
	# The service-account controller creates `default` in each namespace; pods
	# are refused until it exists.
	wait_until "serviceaccount default/default" "$START_TIMEOUT" \
		"$bin/kubectl" --kubeconfig="$kc" -n default get serviceaccount default || abort_start
	log "control plane ready in $(($(date +%s) - t0))s; $("$bin/kubectl" --kubeconfig="$kc" version 2>/dev/null | tail -1)"
	echo "KUBECONFIG=$kc"
}

start_kwok() {
	local bin=$1 kc=$2 kwok_config=$3
	node_manifest | "$bin/kubectl" --kubeconfig="$kc" apply -f - >/dev/null || return 1
	launch kwok "$bin/kwok" --kubeconfig="$kc" --config="$kwok_config" \
		--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
		--manage-nodes-with-label-selector= --manage-single-node= \
		--cidr=10.244.0.0/16 --node-ip=10.240.0.1 --node-lease-duration-seconds=40 \
		--server-address="127.0.0.1:$KWOK_PORT"
	wait_until "node $KWOK_NODE_NAME Ready" "$START_TIMEOUT" \
		"$bin/kubectl" --kubeconfig="$kc" wait --for=condition=Ready "node/$KWOK_NODE_NAME" --timeout=2s
}

# term_wait SECONDS NAME...: SIGTERM to the recorded processes NAME..., wait up
# to SECONDS for all of them to exit, then SIGKILL whatever is left.
term_wait() {
	local timeout=$1 f pid name pids=() names=()
	shift
	for name in "$@"; do
		f=$DIR/run/$name.pid
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			pids+=("$pid")
			names+=("$name")
		fi
		rm -f "$f"
	done
	[ "${#pids[@]}" -gt 0 ] || return 0
	term_pids "$timeout" "${pids[@]}"
	log "stopped: ${names[*]}"
}

# Stops everything recorded in $DIR/run; etcd last, so that the others can
# shut down cleanly (a few seconds in all).
kill_all() {
	term_wait 10 kwok kube-scheduler kube-controller-manager kube-apiserver
	term_wait 10 etcd
}

# Also when the state dir is gone: node.sh finds its node by its fixed names, and does
# nothing where there is none.
stop_real_node() { "$HERE/node.sh" stop; }

abort_start() {
	stop_real_node
	kill_all
	die "start failed; logs are in $DIR/logs ('$0 stop' removes them)"
}

stop() {
	stop_real_node
	if [ ! -d "$DIR" ]; then
		log "nothing to stop ($DIR does not exist)"
		return 0
	fi
	kill_all
	rm -rf "$DIR"
	log "state removed ($DIR)"
}

status() {
	[ -d "$DIR/run" ] || {
		log "not running"
		return 1
	}
	list_processes
	"$HERE/node.sh" status || true
	"$(bin_dir)/kubectl" --kubeconfig="$DIR/admin.kubeconfig" get nodes -o wide
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
control-plane) control_plane "${2:-}" ;;
env) echo "export KUBECONFIG=$DIR/admin.kubeconfig" ;;
*)
	echo "usage: $0 start|stop|status|env|control-plane stop|start" >&2
	exit 2
	;;
esac
