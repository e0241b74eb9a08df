#!/usr/bin/env bash
# Real worker nodes for the local control plane of cluster.sh: on each, containerd
# and runc run the pods, the kubelet registers the node and serves logs, exec and
# port-forward, kube-proxy programs Services with nftables, kube-router's firewall
# controller enforces NetworkPolicies with iptables and ipset; node-0 also runs
# CoreDNS for the cluster's names. All of them are upstream binaries from
# install-toolchain.sh.
#
# Each node lives in a network namespace of its own, joined to the machine by one
# veth pair (NODE_HOST_IP <-> NODE_IP, a /30: the API server and the kubelet talk
# over it) and to the other nodes by a second one, eth1, on the nodes' segment: a
# bridge in a namespace of its own (SEGMENT_NETNS) that carries the pods' traffic
# between nodes, each node routing the others' pod ranges to their eth1 address.
# No namespace has a default route (and the pods' bridges no NAT), so pod and
# Service traffic cannot leave the machine. The kubelet and kube-proxy reach the
# API server on the machine's loopback through a Unix-socket relay (socat); the
# API server reaches the kubelet at NODE_IP:10250. CoreDNS has no upstream forwarder.
#
# Usage (cluster.sh calls it; E2E_CLUSTER_DIR and E2E_BIN_DIR must be set):
#   e2e/node.sh start INDEX COUNT   node-INDEX of COUNT nodes (0 <= INDEX < COUNT <= 8): create its
#                                   namespace (and the segment), start its daemons, import the
#                                   images, wait for Ready
#   e2e/node.sh stop                stop every node and remove what they created (safe to repeat,
#                                   and after a crash)
#   e2e/node.sh kill INDEX          a power loss of node-INDEX: every process of it killed at once,
#                                   its objects left in the API server (the fault tests)
#   e2e/node.sh status              the nodes' daemons: running or exited
#
# Everything a node creates carries its index in one name, so `stop` finds it without any
# state: the directory NODE_DIR, the network namespace file in it, the veth NODE_HOST_IF, the
# cgroup /NODE_CGROUP in every cgroup v1 hierarchy (the kubelet's cgroupRoot), and the processes
# whose command line names NODE_DIR; what the nodes share (the segment, the machine-wide
# sysctls' old values) is in SHARED_DIR. Needs root.
set -euo pipefail

NODE_PREFIX=mcp-e2e-node
SHARED_DIR=/var/lib/$NODE_PREFIX-shared
SEGMENT_NETNS=$SHARED_DIR/netns
SEGMENT_BRIDGE=nodes
MAX_NODES=8
# The service range of cluster.sh; 10.0.0.1 is `kubernetes`.
SERVICE_CIDR=10.0.0.0/24
DNS_SERVICE_IP=10.0.0.10
KUBE_ROUTER_HEALTH_PORT=20244
CLUSTER_DOMAIN=cluster.local
# The sysctls the kubelet sets machine-wide at start; `stop` puts the old values back.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
	kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
START_TIMEOUT=${E2E_CLUSTER_TIMEOUT:-120}

# node_names INDEX: sets every name and address of node INDEX.
node_names() {
	NODE_INDEX=$1
	NODE_NAME=node-$1
	NODE_DIR=/var/lib/$NODE_PREFIX-$1
	NODE_CGROUP=$NODE_PREFIX-$1
	NODE_HOST_IF=$NODE_PREFIX$1
	# The veth pair's /30: the machine's end and the node's address (its InternalIP).
	NODE_HOST_IP=10.250.0.$((4 * $1 + 1))
	NODE_IP=10.250.0.$((4 * $1 + 2))
	NODE_HOST_NET=10.250.0.$((4 * $1))/30
	POD_CIDR=10.244.$1.0/24
	POD_GATEWAY=10.244.$1.1
	NETNS=$NODE_DIR/netns
	RUN=$NODE_DIR/run
	LOGS=$NODE_DIR/logs
	CONTAINERD_SOCK=$NODE_DIR/containerd/containerd.sock
	# processes.sh keeps its pid files and logs there.
	# shellcheck disable=SC2034
	PID_DIR=$RUN
	# shellcheck disable=SC2034
	LOG_DIR=$LOGS
}
# The nodes' segment: node INDEX is 10.251.0.(INDEX+1) on it; CoreDNS listens on node-0's.
segment_ip() { echo "10.251.0.$(($1 + 1))"; }
SEGMENT_PREFIX=24
# Every node's pod range (10.244.INDEX.0/24) is in it.
CLUSTER_POD_CIDR=10.244.0.0/16
DNS_IP=$(segment_ip 0)

log() { printf '[node] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

in_node() { nsenter --net="$NETNS" -- "$@"; }

need_cluster() {
	: "${E2E_CLUSTER_DIR:?must name the state directory of the control plane (cluster.sh sets it)}"
	: "${E2E_BIN_DIR:?must name the bin directory of the toolchain (cluster.sh sets it)}"
	PKI=$E2E_CLUSTER_DIR/pki
	ADMIN_KUBECONFIG=$E2E_CLUSTER_DIR/admin.kubeconfig
	# shellcheck source=/dev/null
	source "$E2E_CLUSTER_DIR/ports.env"
	PREFIX=$(cd "$E2E_BIN_DIR/.." && pwd)
}

kubectl_admin() { "$E2E_BIN_DIR/kubectl" --kubeconfig="$ADMIN_KUBECONFIG" "$@"; }

# --- checks ----------------------------------------------------------------------
preflight() {
	local tool b
	[ "$(id -u)" -eq 0 ] || die "the real node needs root (network namespace, mounts, cgroups)"
	[ "$(uname -s)" = Linux ] || die "the real node needs Linux"
	for tool in ip nsenter socat nft iptables ipset openssl curl mount umount; do
		command -v "$tool" >/dev/null || die "$tool is required (scripts/install-debian-packages.sh with e2e/debian-packages.txt installs it)"
	done
	for b in kubelet kube-proxy containerd containerd-shim-runc-v2 ctr runc coredns kube-router; do
		[ -x "$E2E_BIN_DIR/$b" ] || die "$E2E_BIN_DIR/$b is missing (run e2e/install-toolchain.sh)"
	done
	for b in bridge host-local loopback portmap; do
		[ -x "$PREFIX/cni/bin/$b" ] || die "$PREFIX/cni/bin/$b is missing (run e2e/install-toolchain.sh)"
	done
	ls "$PREFIX"/images/*.tar >/dev/null 2>&1 || die "no images in $PREFIX/images (run e2e/install-toolchain.sh)"
	# The cgroup handling here (cgroupRoot in every hierarchy, its removal) is for v1, what
	# this kind of machine has; a unified (v2) host would need its own.
	[ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ] ||
		die "node.sh supports cgroup v1 hosts only (/sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup))"
	[ -e /proc/sys/net/bridge ] || die "the kernel lacks br_netfilter (net.bridge.* sysctls)"
	grep -qw overlay /proc/filesystems || die "the kernel lacks overlayfs"
	[ -e /dev/kmsg ] || die "/dev/kmsg is missing: the kubelet's OOM watcher reads it"
	# The /30 must be free: no route of the machine may already cover it.
	if ip -4 route show | grep -v "dev $NODE_HOST_IF" | awk '{print $1}' | grep -qx "$NODE_HOST_NET"; then
		die "$NODE_HOST_NET is already routed on this machine"
	fi
}

# --- certificates and kubeconfigs ---------------------------------------------------
# issue NAME SUBJECT EXTENSIONS: a key and a certificate signed by the cluster CA.
issue() {
	local name=$1 subject=$2 ext=$3
	printf '%s\n' "$ext" >"$NODE_DIR/pki/$name.ext"
	openssl req -newkey rsa:2048 -nodes -subj "$subject" \
		-keyout "$NODE_DIR/pki/$name.key" -out "$NODE_DIR/pki/$name.csr"
	openssl x509 -req -in "$NODE_DIR/pki/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
		-CAcreateserial -days 2 -extfile "$NODE_DIR/pki/$name.ext" -out "$NODE_DIR/pki/$name.crt"
	rm -f "$NODE_DIR/pki/$name.csr" "$NODE_DIR/pki/$name.ext"
}

gen_certs() {
	local client='extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature,keyEncipherment'
	mkdir -p "$NODE_DIR/pki"
	chmod 700 "$NODE_DIR/pki"
	{
		# The Node authorizer knows the kubelet by this name and group.
		issue kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" "$client"
		issue kubelet-serving "/CN=$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
		# Bound to system:node-proxier by the API server's default RBAC.
		issue kube-proxy "/CN=system:kube-proxy" "$client"
		issue coredns "/CN=system:coredns" "$client"
		issue kube-router "/CN=system:kube-router" "$client"
	} >"$LOGS/pki.log" 2>&1 || die "certificate generation failed: $LOGS/pki.log"
}

# kubeconfig NAME: for the node's daemons, through the relay on the node's loopback.
kubeconfig() {
	local name=$1
	cat >"$NODE_DIR/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI/ca.crt
users:
- name: $name
  user:
    client-certificate: $NODE_DIR/pki/$name.crt
    client-key: $NODE_DIR/pki/$name.key
contexts:
- name: e2e
  context: {cluster: e2e, user: $name}
current-context: e2e
EOF
	chmod 600 "$NODE_DIR/$name.kubeconfig"
}

# --- network ---------------------------------------------------------------------
# The nodes' segment, made by the first node to start: a namespace holding one bridge that
# the nodes' eth1 links join. It forwards nothing to the machine (it has no link to it).
setup_segment() {
	[ ! -e "$SEGMENT_NETNS" ] || return 0
	touch "$SEGMENT_NETNS"
	unshare --net="$SEGMENT_NETNS" true
	nsenter --net="$SEGMENT_NETNS" -- ip link add "$SEGMENT_BRIDGE" type bridge
	nsenter --net="$SEGMENT_NETNS" -- ip link set "$SEGMENT_BRIDGE" up
}

setup_network() {
	touch "$NETNS"
	# A new network namespace, kept alive by a bind mount on $NETNS (no /run/netns entry).
	unshare --net="$NETNS" true
	# The veth pair is made inside the node and its peer handed to PID 1's namespace,
	# the machine's.
	in_node ip link add eth0 type veth peer name "$NODE_HOST_IF" netns 1
	ip addr add "$NODE_HOST_IP/30" dev "$NODE_HOST_IF"
	ip link set "$NODE_HOST_IF" up
	in_node ip link set lo up
	in_node ip addr add "$NODE_IP/30" dev eth0
	in_node ip link set eth0 up
	# Routing between the pods' bridge and Services' NAT stays inside the namespace; there
	# is deliberately no default route, so nothing is forwarded off the machine.
	in_node sysctl -qw net.ipv4.ip_forward=1
	in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1
	in_node sysctl -qw net.bridge.bridge-nf-call-ip6tables=1
	# eth1 on the segment, and a route to each other node's pods through its eth1 address.
	in_node ip link add eth1 type veth peer name "n$NODE_INDEX" netns "$SEGMENT_NETNS"
	nsenter --net="$SEGMENT_NETNS" -- ip link set "n$NODE_INDEX" master "$SEGMENT_BRIDGE" up
	in_node ip addr add "$(segment_ip "$NODE_INDEX")/$SEGMENT_PREFIX" dev eth1
	in_node ip link set eth1 up
	local other
	for other in $(seq 0 $((NODE_COUNT - 1))); do
		[ "$other" -eq "$NODE_INDEX" ] || in_node ip route add "10.244.$other.0/24" via "$(segment_ip "$other")" dev eth1
	done
	mkdir -p "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam"
	cat >"$NODE_DIR/cni/net.d/10-pods.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NODE_CGROUP",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

# --- processes -------------------------------------------------------------------
# shellcheck source=processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

# launch_in_node NAME CMD...: launch, in the node's network namespace.
launch_in_node() {
	local name=$1
	shift
	launch "$name" nsenter --net="$NETNS" -- "$@"
}

start_relay() {
	# The API server listens on the machine's loopback only, and the node's loopback is
	# another one: socat relays the node's 127.0.0.1:6443 to it over a Unix socket.
	launch relay-machine socat "UNIX-LISTEN:$NODE_DIR/apiserver.sock,fork,unlink-early,mode=600" \
		"TCP:127.0.0.1:$APISERVER_PORT"
	launch_in_node relay-node socat "TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$NODE_DIR/apiserver.sock"
	wait_until "API server from the node" "$START_TIMEOUT" \
		in_node curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$NODE_DIR/pki/kube-proxy.crt" \
		--key "$NODE_DIR/pki/kube-proxy.key" https://127.0.0.1:6443/readyz
}

# --- containerd --------------------------------------------------------------------
start_containerd() {
	local sandbox_image
	sandbox_image=$(cat "$PREFIX/images/pause.ref")
	mkdir -p "$NODE_DIR/containerd"
	cat >"$NODE_DIR/containerd/config.toml" <<EOF
version = 3
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
# Nothing outside the node's directory: no NRI socket in /var/run/nri, no /opt/containerd.
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$NODE_DIR/containerd/containerd.sock.ttrpc"

[plugins."io.containerd.cri.v1.runtime"]
  # Root here may lack CAP_SYS_RESOURCE: a pod sandbox's negative oom_score_adj would fail.
  restrict_oom_score_adj = true
  # Pod network namespaces under the state directory, not /run/netns.
  netns_mounts_under_state_dir = true

[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  BinaryName = "$E2E_BIN_DIR/runc"
  Root = "$NODE_DIR/runc"
  SystemdCgroup = false

[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["$PREFIX/cni/bin"]
  conf_dir = "$NODE_DIR/cni/net.d"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "$sandbox_image"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
EOF
	# containerd finds its shim on PATH.
	launch_in_node containerd env PATH="$E2E_BIN_DIR:$PATH" "$E2E_BIN_DIR/containerd" --config "$NODE_DIR/containerd/config.toml"
	wait_until "containerd" "$START_TIMEOUT" ctr_node version
}

# ctr repeats containerd's cgroup v1 deprecation notice on every call: not on our stderr.
ctr_node() {
	"$E2E_BIN_DIR/ctr" --address "$CONTAINERD_SOCK" --namespace k8s.io "$@" \
		2> >(grep -v "DEPRECATION: The support for cgroup v1" >&2)
}

import_images() {
	local archive ref names
	for archive in "$PREFIX"/images/*.tar; do
		ref=$(cat "${archive%.tar}.ref")
		# The archive is tagged with the tag alone; --base-name makes it the full reference.
		ctr_node images import --base-name "${ref%:*}" "$archive" >>"$LOGS/images.log" 2>&1 ||
			die "importing $archive failed: $LOGS/images.log"
		names=$(ctr_node images ls -q)
		grep -qxF "$ref" <<<"$names" || die "$ref is not in containerd after importing $archive"
	done
	# ctr also records each import under an `import-<date>` name; the CRI must see one name only.
	for ref in $(grep '^import-' <<<"$names" || true); do ctr_node images rm "$ref" >/dev/null; done
	log "images: $(ctr_node images ls -q | grep -v '^sha256:' | tr '\n' ' ')"
}

# --- kubelet -------------------------------------------------------------------------
start_kubelet() {
	local hierarchy
	mkdir -p "$NODE_DIR/kubelet" "$NODE_DIR/pod-logs"
	# The kubelet's cgroupRoot must exist in every hierarchy; it creates kubepods below it.
	for hierarchy in /sys/fs/cgroup/*/; do
		[ "$hierarchy" = /sys/fs/cgroup/unified/ ] || mkdir -p "$hierarchy$NODE_CGROUP"
	done
	# The pods' resolv.conf comes from clusterDNS alone: no nameserver of the machine's.
	: >"$NODE_DIR/resolv.conf"
	cat >"$NODE_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 (this kind of machine): refused by default from 1.35 on.
failCgroupV1: false
cgroupDriver: cgroupfs
# Every pod cgroup under one root of our own, which stop removes.
cgroupRoot: /$NODE_CGROUP
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $NODE_DIR/pki/kubelet-serving.crt
tlsPrivateKeyFile: $NODE_DIR/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $NODE_DIR/resolv.conf
podCIDR: $POD_CIDR
podLogsDir: $NODE_DIR/pod-logs
# The images were imported by hand and nothing can pull them again: never collect them,
# and do not evict on a busy disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  imagefs.available: 1%
  nodefs.inodesFree: 1%
serializeImagePulls: false
# Status changes reach the API server at once (the lab watches pods come and go).
syncFrequency: 10s
nodeStatusUpdateFrequency: 10s
EOF
	launch_in_node kubelet "$E2E_BIN_DIR/kubelet" --config="$NODE_DIR/kubelet.yaml" \
		--kubeconfig="$NODE_DIR/kubelet-client.kubeconfig" --root-dir="$NODE_DIR/kubelet" \
		--cert-dir="$NODE_DIR/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
	wait_until "kubelet /healthz" "$START_TIMEOUT" in_node curl -fsS --max-time 2 http://127.0.0.1:10248/healthz
	wait_until "node $NODE_NAME Ready" "$START_TIMEOUT" \
		kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
}

# --- kube-proxy ----------------------------------------------------------------------
start_kube_proxy() {
	cat >"$NODE_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clientConnection:
  kubeconfig: $NODE_DIR/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
clusterCIDR: $CLUSTER_POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Machine-wide conntrack sysctls stay as they are.
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
	launch_in_node kube-proxy "$E2E_BIN_DIR/kube-proxy" --config="$NODE_DIR/kube-proxy.yaml" --v=1
	wait_until "kube-proxy /healthz" "$START_TIMEOUT" in_node curl -fsS --max-time 2 http://127.0.0.1:10256/healthz
}

# --- CoreDNS -------------------------------------------------------------------------
# RBAC as CoreDNS's own deployment manifests grant it, and the kube-dns Service: a
# ClusterIP like any cluster's, whose endpoint is CoreDNS on the node's address.
dns_objects() {
	cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:coredns
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:coredns
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:coredns}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:coredns}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $DNS_SERVICE_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-coredns
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: node.sh.e2e.multi-container-patterns
addressType: IPv4
endpoints:
- addresses: [$DNS_IP]
  conditions: {ready: true}
  nodeName: $NODE_NAME
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

start_coredns() {
	dns_objects | kubectl_admin apply -f - >"$LOGS/dns-objects.log" 2>&1 ||
		die "creating the DNS Service failed: $LOGS/dns-objects.log"
	# Only the cluster's zone and no `forward`: a name outside it gets SERVFAIL/REFUSED
	# instead of a query leaving the machine.
	cat >"$NODE_DIR/Corefile" <<EOF
$CLUSTER_DOMAIN:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $DNS_IP
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $NODE_DIR/coredns.kubeconfig e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF
	launch_in_node coredns "$E2E_BIN_DIR/coredns" -conf "$NODE_DIR/Corefile"
	wait_until "CoreDNS /ready" "$START_TIMEOUT" in_node curl -fsS --max-time 2 http://127.0.0.1:8181/ready
}

# --- NetworkPolicies ------------------------------------------------------------------
# kube-router's firewall controller alone (no routing, no service proxy): for the pods on
# this node it keeps iptables chains and ipsets in the node's namespace that let through
# exactly what the NetworkPolicies allow. The pods' bridge hands its traffic to iptables
# (bridge-nf-call-iptables, set in setup_network). Everything it makes lives in the node's
# namespace and goes with it. Its RBAC is the one kube-router's own manifests grant.
network_policy_objects() {
	cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:kube-router
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [list, get, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, get, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, get, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:kube-router
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:kube-router}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:kube-router}
EOF
}

start_network_policies() {
	network_policy_objects | kubectl_admin apply -f - >"$LOGS/network-policy-objects.log" 2>&1 ||
		die "creating kube-router's RBAC failed: $LOGS/network-policy-objects.log"
	launch_in_node kube-router "$E2E_BIN_DIR/kube-router" --run-firewall=true --run-router=false \
		--run-service-proxy=false --enable-cni=false --kubeconfig="$NODE_DIR/kube-router.kubeconfig" \
		--hostname-override="$NODE_NAME" --service-cluster-ip-range="$SERVICE_CIDR" \
		--health-port="$KUBE_ROUTER_HEALTH_PORT" --metrics-port=0 --v=1
	wait_until "kube-router /healthz" "$START_TIMEOUT" \
		in_node curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_ROUTER_HEALTH_PORT/healthz"
}

# --- start / stop ----------------------------------------------------------------------
start() {
	local t0 name
	t0=$(date +%s)
	need_cluster
	[[ ${1:-} =~ ^[0-9]+$ && ${2:-} =~ ^[0-9]+$ ]] && [ "$1" -lt "$2" ] && [ "$2" -le "$MAX_NODES" ] ||
		die "usage: $0 start INDEX COUNT (0 <= INDEX < COUNT <= $MAX_NODES)"
	NODE_COUNT=$2
	node_names "$1"
	preflight
	if [ -e "$NODE_DIR" ] || ip link show "$NODE_HOST_IF" >/dev/null 2>&1; then
		log "$NODE_NAME from an earlier run is still here; removing it first"
		stop_node "$NODE_INDEX"
	fi
	if [ ! -d "$SHARED_DIR" ]; then
		mkdir -p "$SHARED_DIR"
		chmod 700 "$SHARED_DIR"
		for name in "${KUBELET_SYSCTLS[@]}"; do
			echo "$name=$(sysctl -n "$name")"
		done >"$SHARED_DIR/sysctls.saved"
		# Two directories whose place is fixed: libcni's result cache and the kubelet's links to
		# container logs. Remember whether they are ours to remove.
		[ -e /var/lib/cni ] || touch "$SHARED_DIR/var-lib-cni.ours"
		[ -e /var/log/containers ] || touch "$SHARED_DIR/var-log-containers.ours"
	fi
	mkdir -p "$RUN" "$LOGS"
	chmod 700 "$NODE_DIR"
	gen_certs
	for name in kubelet-client kube-proxy coredns kube-router; do kubeconfig "$name"; done
	setup_segment
	setup_network
	start_relay
	start_containerd
	import_images
	start_kubelet
	start_kube_proxy
	[ "$NODE_INDEX" -ne 0 ] || start_coredns
	start_network_policies
	log "node $NODE_NAME ready in $(($(date +%s) - t0))s (InternalIP $NODE_IP, pods $POD_CIDR, segment $(segment_ip "$NODE_INDEX"))"
}

# Processes whose command line names the node's directory: the daemons, the relays
# and containerd's shims (their -address is the node's socket).
node_pids() {
	local pid
	for pid in $(pgrep -f -- "$NODE_DIR/" || true); do
		[ "$pid" -ne $$ ] && [ "$pid" -ne "$BASHPID" ] && echo "$pid"
	done
}

# Processes in the node's pod cgroups: every container and pod sandbox.
pod_pids() { find /sys/fs/cgroup/pids/"$NODE_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null || true; }

# The indexes of every node with anything left: its directory, its veth or its cgroup.
node_indexes() {
	{
		find /var/lib -maxdepth 1 -name "$NODE_PREFIX-[0-9]*" -printf '%f\n'
		ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -x "${NODE_PREFIX}[0-9]*" || true
		find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -name "$NODE_PREFIX-[0-9]*" -printf '%f\n'
	} | sed -n "s/^$NODE_PREFIX-\{0,1\}\([0-9][0-9]*\)$/\1/p" | sort -un
}

stop() {
	local index name value
	for index in $(node_indexes); do stop_node "$index"; done
	# Then what the nodes shared: the segment, the machine-wide sysctls, the fixed places.
	if [ -e "$SHARED_DIR" ]; then
		if mountpoint -q "$SEGMENT_NETNS"; then umount "$SEGMENT_NETNS" 2>/dev/null || umount -l "$SEGMENT_NETNS"; fi
		if [ -f "$SHARED_DIR/sysctls.saved" ]; then
			while IFS='=' read -r name value; do sysctl -qw "$name=$value" || true; done <"$SHARED_DIR/sysctls.saved"
		fi
		if [ -f "$SHARED_DIR/var-lib-cni.ours" ]; then rm -rf /var/lib/cni; fi
		if [ -f "$SHARED_DIR/var-log-containers.ours" ]; then rm -rf /var/log/containers; fi
		rm -rf "$SHARED_DIR"
		log "the nodes' segment and shared state removed ($SHARED_DIR)"
	fi
}

stop_node() {
	local pids pid f mnt _
	node_names "$1"
	# The kubelet first, so that it restarts nothing; then every container at once (the
	# pods are going away with the node, no grace period is owed to them).
	if [ -f "$RUN/kubelet.pid" ]; then term_pids 5 "$(cat "$RUN/kubelet.pid")"; fi
	for _ in $(seq 1 50); do
		pids=$(pod_pids)
		[ -n "$pids" ] || break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	# Then the daemons, relays and shims.
	pids=()
	for pid in $(node_pids); do pids+=("$pid"); done
	term_pids 5 "${pids[@]}"
	# Mounts under the node's directory (overlay rootfs, volumes, pod network namespaces,
	# the node's own namespace), innermost first.
	awk -v dir="$NODE_DIR" '$5 == dir || index($5, dir "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; done
	# The veth pairs go with the namespace; this removes the machine's end if the
	# namespace is gone already.
	if ip link show "$NODE_HOST_IF" >/dev/null 2>&1; then ip link del "$NODE_HOST_IF" 2>/dev/null || true; fi
	for f in /sys/fs/cgroup/*/"$NODE_CGROUP"; do
		[ -d "$f" ] || continue
		find "$f" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		[ ! -d "$f" ] || log "cgroup $f is still in use"
	done
	rm -f /var/lib/cni/results/"$NODE_CGROUP"-* 2>/dev/null || true
	find /var/log/containers -maxdepth 1 -lname "$NODE_DIR/*" -delete 2>/dev/null || true
	if [ -e "$NODE_DIR" ]; then
		rm -rf "$NODE_DIR" || die "could not remove $NODE_DIR: $(awk -v dir="$NODE_DIR" 'index($5, dir) == 1 {print $5}' /proc/self/mountinfo | head -3)"
		log "$NODE_NAME stopped and removed ($NODE_DIR, $NODE_HOST_IF, /$NODE_CGROUP)"
	fi
}

# A power loss: every process of node INDEX killed at once, its daemons (kubelet, containerd and
# its shims, kube-proxy, kube-router, CoreDNS on node-0) and every container. Nothing is cleaned up:
# its directory, namespace and cgroups stay, and its objects stay in the API server, which learns
# of the loss only when the node's heartbeats stop. `stop` removes the rest.
kill_node() {
	local pids _
	node_names "$1"
	[ -d "$NODE_DIR" ] || die "there is no node $1"
	for _ in $(seq 1 50); do
		pids="$(node_pids) $(pod_pids)"
		[ -n "${pids// /}" ] || break
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	[ -z "$(node_pids)$(pod_pids)" ] || die "$NODE_NAME: some processes outlived SIGKILL"
	log "$NODE_NAME: every process killed (as at a power loss)"
}

status() {
	local index found=1
	for index in $(node_indexes); do
		node_names "$index"
		[ -d "$RUN" ] || continue
		found=0
		echo "$NODE_NAME:"
		list_processes
	done
	[ "$found" -eq 0 ] || log "no real node"
	return "$found"
}

case "${1:-}" in
start) start "${2:-}" "${3:-}" ;;
stop) stop ;;
kill) kill_node "${2:?usage: $0 kill INDEX}" ;;
status) status ;;
*)
	echo "usage: $0 start INDEX COUNT|stop|kill INDEX|status" >&2
	exit 2
	;;
esac
