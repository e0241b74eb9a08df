#!/usr/bin/env bash
# Builds the end-to-end toolchain with the `go` command from the Go module proxy:
# the Pulumi CLI and Python language host, the kubernetes and tls provider
# plugins (installed into a private PULUMI_HOME), etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl and kwok; and the real node:
# kubelet, kube-proxy, containerd, runc, the CNI plugins and CoreDNS, plus the
# lab's images built from Debian packages as OCI archives (toolchain/images/).
#
# Needs, besides Go: gcc and libseccomp-dev (runc, pause), mmdebstrap and umoci
# (images), all in debian-packages.txt, which with-cluster.sh installs.
#
# Everything lands in a cache directory outside the repository:
#   ${E2E_CACHE:-$HOME/.cache/multi-container-patterns-e2e}/<key>
# where <key> hashes versions.env and the toolchain/ wrapper modules, so a pin
# change builds into a fresh directory. Finished pieces are reused (each has a
# stamp file), so running the script again is cheap and resumes a broken build.
#
# Usage:
#   e2e/install-toolchain.sh            build what is missing, then print the environment
#   e2e/install-toolchain.sh --prefix   print the cache directory only (builds nothing)
#   e2e/install-toolchain.sh --env      print the environment lines only (builds nothing)
#
# `source "$(e2e/install-toolchain.sh --prefix)/env.sh"` puts the tools on PATH and
# sets PULUMI_HOME and the offline switches for Pulumi.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE_ROOT=${E2E_CACHE:-$HOME/.cache/multi-container-patterns-e2e}
KEY=$(
	cd "$HERE"
	find versions.env toolchain -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16
)
PREFIX=$CACHE_ROOT/$KEY
BIN=$PREFIX/bin
PULUMI_HOME_DIR=$PREFIX/pulumi-home
WORK=$PREFIX/work
LOGS=$PREFIX/logs
STAMPS=$PREFIX/stamps
REPORT=$PREFIX/build-report.tsv

env_lines() {
	cat <<EOF
export E2E_TOOLCHAIN="$PREFIX"
export PATH="$BIN:\$PATH"
export PULUMI_HOME="$PULUMI_HOME_DIR"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
EOF
}

case "${1:-}" in
--prefix)
	echo "$PREFIX"
	exit 0
	;;
--env)
	env_lines
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--prefix|--env]" >&2
	exit 2
	;;
esac

log() { printf '[install-toolchain] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# --- Go --------------------------------------------------------------------
command -v go >/dev/null || die "the go command is required (Go >= $GO_MIN_VERSION)"
export GOTOOLCHAIN=${GO_TOOLCHAIN:-local}
export GOFLAGS=-mod=mod
export CGO_ENABLED=0
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
GO_VERSION=$(go env GOVERSION)
GO_VERSION=${GO_VERSION#go}
if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$GO_VERSION" | sort -V | head -1)" != "$GO_MIN_VERSION" ]; then
	die "Go $GO_VERSION is older than $GO_MIN_VERSION: set GO_TOOLCHAIN=go1.27.3 in versions.env"
fi

mkdir -p "$BIN" "$PULUMI_HOME_DIR" "$WORK" "$LOGS" "$STAMPS"
[ -f "$REPORT" ] || printf 'piece\tseconds\tbytes\n' >"$REPORT"

# Run one build step once: step NAME FUNCTION. Output goes to $LOGS/NAME.log.
step() {
	local name=$1 fn=$2 start end
	if [ -f "$STAMPS/$name" ]; then
		log "$name: cached"
		return 0
	fi
	log "$name: building (log: $LOGS/$name.log)"
	start=$(date +%s)
	# A subshell outside any condition, so that errexit holds inside it.
	set +e
	(
		set -e
		"$fn"
	) >"$LOGS/$name.log" 2>&1
	local rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$LOGS/$name.log" >&2
		die "$name failed (exit $rc); full log: $LOGS/$name.log"
	fi
	end=$(date +%s)
	printf '%s\t%s\t%s\n' "$name" "$((end - start))" "$(piece_size "$name")" >>"$REPORT"
	touch "$STAMPS/$name"
	log "$name: done in $((end - start))s"
}

piece_size() {
	case $1 in
	pulumi) du -cb "$BIN/pulumi" | tail -1 | cut -f1 ;;
	pulumi-language-python) du -cb "$BIN"/pulumi-language-python* "$BIN"/pulumi-resource-pulumi-python 2>/dev/null | tail -1 | cut -f1 ;;
	provider-kubernetes) du -sb "$PULUMI_HOME_DIR/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION" | cut -f1 ;;
	provider-tls) du -sb "$PULUMI_HOME_DIR/plugins/resource-tls-v$PULUMI_TLS_VERSION" | cut -f1 ;;
	etcd) du -cb "$BIN/etcd" | tail -1 | cut -f1 ;;
	kubernetes) du -cb "$BIN"/kube-apiserver "$BIN"/kube-controller-manager "$BIN"/kube-scheduler "$BIN"/kubectl "$BIN"/kubelet "$BIN"/kube-proxy | tail -1 | cut -f1 ;;
	kwok) du -cb "$BIN/kwok" | tail -1 | cut -f1 ;;
	containerd) du -cb "$BIN"/containerd "$BIN"/containerd-shim-runc-v2 "$BIN"/ctr | tail -1 | cut -f1 ;;
	runc) du -cb "$BIN/runc" | tail -1 | cut -f1 ;;
	cni-plugins) du -sb "$PREFIX/cni/bin" | cut -f1 ;;
	coredns) du -cb "$BIN/coredns" | tail -1 | cut -f1 ;;
	images) du -sb "$PREFIX/images" | cut -f1 ;;
	*) echo 0 ;;
	esac
}

# Fresh writable copy of a wrapper module: workdir NAME -> prints its path.
workdir() {
	local dir=$WORK/$1
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -R "$HERE/toolchain/$1/." "$dir/"
	chmod -R u+w "$dir"
	echo "$dir"
}

moddir() { go list -m -f '{{.Dir}}' "$1"; }

# downloaded MODULE@VERSION FIELD: a field of `go mod download -json` (Dir, GoMod, ...) for a
# module this build does not require.
downloaded() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }

# Installs a provider binary into PULUMI_HOME without any download.
install_plugin() {
	local name=$1 version=$2 file=$3
	PULUMI_HOME=$PULUMI_HOME_DIR PULUMI_SKIP_UPDATE_CHECK=true \
		PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_DISABLE_REGISTRY_RESOLVE=true \
		"$BIN/pulumi" plugin install resource "$name" "$version" --file "$file" --reinstall
	PULUMI_HOME=$PULUMI_HOME_DIR "$BIN/pulumi" plugin ls
}

# --- Pulumi CLI ------------------------------------------------------------
PULUMI_LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"

build_pulumi() {
	local dir
	dir=$(workdir pulumi)
	cd "$dir"
	go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
		-require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
	go build -trimpath -tags osusergo,grpcnotrace -ldflags "$PULUMI_LDFLAGS" \
		-o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	"$BIN/pulumi" version
}

# --- Python language host --------------------------------------------------
build_language_python() {
	local dir sdk f
	dir=$(workdir pulumi-language-python)
	cd "$dir"
	go mod edit -require="github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION"
	go build -trimpath -tags osusergo,grpcnotrace -ldflags "$PULUMI_LDFLAGS" \
		-o "$BIN/pulumi-language-python" .
	# The executor and the helper scripts ship in the sdk/v3 module tree.
	sdk=$(moddir github.com/pulumi/pulumi/sdk/v3)
	install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$BIN/"
	install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$BIN/"
	ls -l "$BIN"
}

# --- kubernetes provider ---------------------------------------------------
build_provider_kubernetes() {
	local dir src cmd=cmd/pulumi-resource-kubernetes
	dir=$(workdir pulumi-resource-kubernetes)
	cd "$dir"
	go mod edit \
		-require="github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_PROVIDER_MODULE" \
		-replace="github.com/pulumi/pulumi-kubernetes/sdk/v4=github.com/pulumi/pulumi-kubernetes/sdk/v4@$PULUMI_KUBERNETES_SDK_MODULE"
	go mod download github.com/pulumi/pulumi-kubernetes/provider/v4
	# The main package embeds files that `go generate` makes; build it from a
	# writable copy inside this module.
	src=$(moddir github.com/pulumi/pulumi-kubernetes/provider/v4)/$cmd
	mkdir -p "$cmd"
	cp "$src/main.go" "$src/generate.go" "$src/schema.json" "$src/terraform-mapping.json" "$cmd/"
	chmod u+w "$cmd"/*
	(cd "$cmd" && VERSION=$PULUMI_KUBERNETES_VERSION go run ./generate.go)
	go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
		-o "$dir/bin/pulumi-resource-kubernetes" "./$cmd"
	install_plugin kubernetes "$PULUMI_KUBERNETES_VERSION" "$dir/bin/pulumi-resource-kubernetes"
	rm -rf "${dir:?}/bin"
}

# --- tls provider ----------------------------------------------------------
build_provider_tls() {
	local dir cmd=cmd/pulumi-resource-tls
	dir=$(workdir pulumi-resource-tls)
	cd "$dir"
	(cd shim && go mod edit \
		-require="github.com/hashicorp/terraform-provider-tls@$TERRAFORM_PROVIDER_TLS_MODULE" \
		-require="github.com/hashicorp/terraform-plugin-framework@$TERRAFORM_PLUGIN_FRAMEWORK_VERSION")
	go mod edit \
		-require="github.com/hashicorp/terraform-provider-tls@$TERRAFORM_PROVIDER_TLS_MODULE" \
		-require="github.com/pulumi/pulumi-terraform-bridge/v3@$PULUMI_TERRAFORM_BRIDGE_VERSION"
	local ldflags="-s -w -X multi-container-patterns/e2e/toolchain/pulumi-resource-tls/tlsinfo.Version=$PULUMI_TLS_VERSION"
	# 1. schema.json and bridge-metadata.json from the upstream provider's schema.
	go build -trimpath -ldflags "$ldflags" -o "$dir/bin/pulumi-tfgen-tls" ./cmd/pulumi-tfgen-tls
	# Descriptions come from the upstream module's docs/; converting its HCL
	# examples would need `pulumi convert` and a terraform converter plugin.
	UPSTREAM_REPO_PATH=$(moddir github.com/hashicorp/terraform-provider-tls) \
		"$dir/bin/pulumi-tfgen-tls" schema --skip-examples --out "$cmd"
	python3 - "$cmd" "$PULUMI_TLS_VERSION" <<'PY'
import json, sys
d, version = sys.argv[1], sys.argv[2]
spec = json.load(open(f"{d}/schema.json"))
spec["version"] = version
json.dump(spec, open(f"{d}/schema-embed.json", "w"), separators=(",", ":"))
PY
	# 2. the provider itself, embedding both files.
	go build -trimpath -ldflags "$ldflags" -o "$dir/bin/pulumi-resource-tls" "./$cmd"
	install_plugin tls "$PULUMI_TLS_VERSION" "$dir/bin/pulumi-resource-tls"
	rm -rf "${dir:?}/bin"
}

# --- etcd ------------------------------------------------------------------
build_etcd() {
	local dir m
	dir=$(workdir etcd)
	cd "$dir"
	for m in api/v3 client/pkg/v3 client/v3 pkg/v3 server/v3; do
		go mod edit -require="go.etcd.io/etcd/$m@v$ETCD_VERSION"
	done
	go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
	"$BIN/etcd" --version
}

# --- kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ------
build_kubernetes() {
	local dir gomod m minor ldflags pkg
	dir=$(workdir kubernetes)
	cd "$dir"
	minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
	go mod edit -require="k8s.io/kubernetes@v$KUBERNETES_VERSION"
	# Map every staging module named by this release's go.mod to its published
	# v0.<minor>.<patch> module.
	gomod=$(downloaded "k8s.io/kubernetes@v$KUBERNETES_VERSION" GoMod)
	sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$gomod" | while read -r m; do
		go mod edit -replace="$m=$m@v0.${KUBERNETES_VERSION#*.}"
	done
	ldflags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags="$ldflags -X $pkg.gitVersion=v$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	done
	go build -trimpath -ldflags "$ldflags" -o "$BIN/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
		k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
	"$BIN/kube-apiserver" --version
	"$BIN/kubelet" --version
	"$BIN/kubectl" version --client
}

# --- kwok ------------------------------------------------------------------
build_kwok() {
	# sigs.k8s.io/kwok has no replace directives: plain `go install pkg@version`.
	cd "$WORK"
	GOFLAGS="" GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
	"$BIN/kwok" --version
	# kwok only acts through Stage objects; without a --config it has none.
	# Collect the stages kwokctl uses by default: fast node initialisation,
	# heartbeat with a Lease, and the fast pod life cycle.
	local src f
	src=$(GOFLAGS="" downloaded "sigs.k8s.io/kwok@v$KWOK_VERSION" Dir)
	mkdir -p "$PREFIX/share/kwok"
	for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		echo "---"
		cat "$src/kustomize/stage/$f"
	done >"$PREFIX/share/kwok/stages.yaml"
}

# --- the real node: containerd, runc, CNI plugins, CoreDNS ------------------
build_containerd() {
	# No replace directives: plain `go install pkg@version`. no_btrfs drops the
	# btrfs snapshotter, which needs C headers; overlayfs is what the node uses.
	cd "$WORK"
	local m=github.com/containerd/containerd/v2
	GOFLAGS="" GOBIN="$BIN" go install -trimpath -tags no_btrfs \
		-ldflags "-s -w -X $m/version.Version=v$CONTAINERD_VERSION" \
		"$m/cmd/containerd@v$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION" \
		"$m/cmd/ctr@v$CONTAINERD_VERSION"
	"$BIN/containerd" --version
}

build_runc() {
	# runc's nsenter is C (cgo), and the seccomp tag links libseccomp, which
	# RuntimeDefault seccomp profiles need.
	cd "$WORK"
	CGO_ENABLED=1 GOFLAGS="" GOBIN="$BIN" go install -trimpath -tags seccomp \
		-ldflags "-s -w -X main.version=$RUNC_VERSION" "github.com/opencontainers/runc@v$RUNC_VERSION"
	"$BIN/runc" --version
}

build_cni_plugins() {
	local m=github.com/containernetworking/plugins/plugins
	mkdir -p "$PREFIX/cni/bin"
	cd "$WORK"
	GOFLAGS="" GOBIN="$PREFIX/cni/bin" go install -trimpath -ldflags "-s -w" \
		"$m/main/bridge@v$CNI_PLUGINS_VERSION" "$m/main/loopback@v$CNI_PLUGINS_VERSION" \
		"$m/ipam/host-local@v$CNI_PLUGINS_VERSION" "$m/meta/portmap@v$CNI_PLUGINS_VERSION"
	ls -l "$PREFIX/cni/bin"
}

build_coredns() {
	local dir
	dir=$(workdir coredns)
	cd "$dir"
	go mod edit -require="github.com/coredns/coredns@v$COREDNS_VERSION"
	go build -trimpath -ldflags "-s -w" -o "$BIN/coredns" .
	"$BIN/coredns" -version
	"$BIN/coredns" -plugins
}

# --- the node's images -------------------------------------------------------
# Each toolchain/images/<name>/image.env names the image (IMAGE), the lab
# setting it serves (LAB_SETTING), the Debian packages it is made of (PACKAGES,
# unpacked with their dependencies by mmdebstrap), users, directories, symbolic
# links (LINKS, PATH=TARGET) and the OCI config (CONFIG: umoci config flags);
# rootfs/ beside it (regular files only: the cache key hashes them) is laid
# over the packages' files, and so is images/common/rootfs. The result, in
# $PREFIX/images: <name>.tar (an OCI archive, imported into containerd when the
# node starts), <name>.ref (its reference) and <name>.setting.
build_images() {
	local spec
	rm -rf "$PREFIX/images"
	mkdir -p "$PREFIX/images"
	cd "$WORK"
	for spec in "$HERE"/toolchain/images/*/image.env; do
		[ "$(basename "$(dirname "$spec")")" = common ] || build_image "$(dirname "$spec")"
	done
	ls -l "$PREFIX/images"
}

build_image() {
	local spec=$1 name root tag applet entry version reported
	local IMAGE="" LAB_SETTING="" VERSION_COMMAND="" PACKAGES="" USERS=() GROUPS_=() DIRS=() LINKS=() CONFIG=()
	name=$(basename "$spec")
	# shellcheck source=/dev/null
	source "$spec/image.env"
	tag=${IMAGE##*:}
	root=$WORK/images/$name/rootfs
	rm -rf "$WORK/images/$name"
	mkdir -p "$WORK/images/$name"
	if [ -n "$PACKAGES" ]; then
		mmdebstrap --quiet --variant=extract --include="$PACKAGES" --skip=output/dev \
			--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
			--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
			"$DEBIAN_SUITE" "$root"
		# Installer leftovers an image does not need.
		rm -rf "$root"/etc/apt "$root"/var/lib/apt "$root"/var/cache/apt "$root"/var/lib/dpkg \
			"$root"/var/log/apt "$root"/var/log/dpkg.log "$root"/var/log/alternatives.log
		# Every busybox applet in /bin, unless a package ships that command.
		if [ -x "$root/bin/busybox" ]; then
			for applet in $(chroot "$root" /bin/busybox --list); do
				[ -e "$root/bin/$applet" ] || [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
			done
		fi
		mkdir -p "$root/etc" "$root/tmp"
		chmod 1777 "$root/tmp"
		[ -f "$root/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
		[ -f "$root/etc/group" ] || printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
		for entry in "${USERS[@]}"; do echo "$entry" >>"$root/etc/passwd"; done
		for entry in "${GROUPS_[@]}"; do echo "$entry" >>"$root/etc/group"; done
		for entry in "${DIRS[@]}"; do mkdir -p "$root$entry"; done
		for entry in "${LINKS[@]}"; do ln -sfn "${entry#*=}" "$root${entry%%=*}"; done
		cp -R "$HERE/toolchain/images/common/rootfs/." "$root/"
		[ ! -d "$spec/rootfs" ] || cp -R "$spec/rootfs/." "$root/"
		# The tag names the packaged version: refuse a rootfs whose binary says otherwise.
		version=${tag%%-*}
		# shellcheck disable=SC2086 # VERSION_COMMAND is a command line
		reported=$(chroot "$root" $VERSION_COMMAND 2>&1 || true)
		case $reported in
		*"$version"*) echo "$IMAGE: $(echo "$reported" | head -1)" ;;
		*) die "$IMAGE: '$VERSION_COMMAND' does not report version $version: $reported" ;;
		esac
	else
		# pause: Kubernetes' pause.c, built as build/pause/Makefile does.
		mkdir -p "$root"
		gcc -Os -Wall -Werror -static -DVERSION="v$tag" -o "$root/pause" \
			"$(downloaded "k8s.io/kubernetes@v$KUBERNETES_VERSION" Dir)/build/pause/linux/pause.c"
		strip "$root/pause"
	fi
	# One layer, reproducible: sorted entries, numeric owners, a fixed mtime.
	tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$WORK/images/$name/layer.tar" .
	umoci init --layout "$WORK/images/$name/oci"
	umoci new --image "$WORK/images/$name/oci:$tag"
	umoci raw add-layer --image "$WORK/images/$name/oci:$tag" "$WORK/images/$name/layer.tar"
	umoci config --image "$WORK/images/$name/oci:$tag" --os linux --architecture amd64 \
		--author multi-container-patterns "${CONFIG[@]}"
	tar -C "$WORK/images/$name/oci" -cf "$PREFIX/images/$name.tar" .
	echo "$IMAGE" >"$PREFIX/images/$name.ref"
	[ -z "$LAB_SETTING" ] || echo "$LAB_SETTING" >"$PREFIX/images/$name.setting"
	rm -rf "$WORK/images/$name"
}

TOTAL_START=$(date +%s)
step pulumi build_pulumi
step pulumi-language-python build_language_python
step provider-kubernetes build_provider_kubernetes
step provider-tls build_provider_tls
step etcd build_etcd
step kubernetes build_kubernetes
step kwok build_kwok
step containerd build_containerd
step runc build_runc
step cni-plugins build_cni_plugins
step coredns build_coredns
step images build_images
env_lines >"$PREFIX/env.sh"
log "all pieces ready in $(($(date +%s) - TOTAL_START))s (per piece: $REPORT)"
log "binaries: $BIN"
log "PULUMI_HOME: $PULUMI_HOME_DIR"
log "use: source $PREFIX/env.sh"
env_lines
