#!/usr/bin/env bash
# Builds the end-to-end toolchain with the `go` command from the Go module proxy:
# the Pulumi CLI and Python language host, the kubernetes and tls provider
# plugins (installed into a private PULUMI_HOME), etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl and kwok; and the real node:
# kubelet, kube-proxy, containerd, runc, the CNI plugins, CoreDNS and kube-router's
# NetworkPolicy controller, plus the lab's images built from Debian packages as OCI
# archives (toolchain/images/).
#
# Needs, besides Go: gcc and libseccomp-dev (runc, pause), mmdebstrap and umoci
# (images), all in debian-packages.txt, which with-cluster.sh installs.
#
# Everything lands in a cache directory outside the repository,
# ${E2E_CACHE:-$HOME/.cache/multi-container-patterns-e2e}:
#   pieces/<piece>-<key>/  one per piece, <key> hashing what that piece is built from (PIECES)
#   <key>/                 the toolchain: hard links to its pieces' files, and env.sh
# so a pin change rebuilds only the pieces that use it, and the toolchain of each
# Kubernetes release of versions.env (E2E_KUBERNETES_VERSION) shares every other piece.
# Finished pieces are reused, so running the script again is cheap and resumes a
# broken build.
#
# Usage:
#   e2e/install-toolchain.sh            build what is missing, then print the environment
#   e2e/install-toolchain.sh --prefix   print the toolchain directory only (builds nothing)
#   e2e/install-toolchain.sh --env      print the environment lines only (builds nothing)
#   e2e/install-toolchain.sh --pieces   print each piece's directory name, PIECE-KEY (builds nothing)
#
# `source "$(e2e/install-toolchain.sh --prefix)/env.sh"` puts the tools on PATH and
# sets PULUMI_HOME and the offline switches for Pulumi.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE_ROOT=${E2E_CACHE:-$HOME/.cache/multi-container-patterns-e2e}
PIECES_DIR=$CACHE_ROOT/pieces
WORK=$CACHE_ROOT/work
LOGS=$CACHE_ROOT/logs

log() { printf '[install-toolchain] %s\n' "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# The Kubernetes release of this toolchain: E2E_KUBERNETES_VERSION picks one of
# KUBERNETES_VERSIONS by minor (1.33) or in full (1.33.13); the default is the first, the newest.
kubernetes_version() {
	local wanted=${E2E_KUBERNETES_VERSION:-} v
	if [ -z "$wanted" ]; then
		echo "${KUBERNETES_VERSIONS%% *}"
		return
	fi
	for v in $KUBERNETES_VERSIONS; do
		if [ "$v" = "$wanted" ] || [ "${v%.*}" = "$wanted" ]; then
			echo "$v"
			return
		fi
	done
	die "E2E_KUBERNETES_VERSION=$wanted is not one of KUBERNETES_VERSIONS in versions.env ($KUBERNETES_VERSIONS)"
}
KUBERNETES_VERSION=$(kubernetes_version)
KUBERNETES_MINOR=${KUBERNETES_VERSION%.*}
NEWEST_KUBERNETES_VERSION=${KUBERNETES_VERSIONS%% *}

# The pieces, in build order: NAME|its build function and the helpers only it calls|the
# versions.env variables it is built from|the toolchain/ folders it is built from. A piece's key
# hashes exactly these (values, files, the functions' text) and the Go version: a change
# rebuilds only the pieces it touches.
PIECES=(
	"pulumi|build_pulumi|PULUMI_VERSION|pulumi"
	"pulumi-language-python|build_language_python|PULUMI_VERSION|pulumi-language-python"
	"provider-kubernetes|build_provider_kubernetes|PULUMI_VERSION PULUMI_KUBERNETES_VERSION PULUMI_KUBERNETES_PROVIDER_MODULE PULUMI_KUBERNETES_SDK_MODULE|pulumi-resource-kubernetes"
	"provider-tls|build_provider_tls|PULUMI_VERSION PULUMI_TLS_VERSION TERRAFORM_PROVIDER_TLS_MODULE TERRAFORM_PLUGIN_FRAMEWORK_VERSION PULUMI_TERRAFORM_BRIDGE_VERSION|pulumi-resource-tls"
	"etcd|build_etcd|ETCD_VERSION|etcd"
	"kubernetes-$KUBERNETES_MINOR|build_kubernetes|KUBERNETES_VERSION|kubernetes-$KUBERNETES_MINOR"
	"containerd|build_containerd|CONTAINERD_VERSION|"
	"runc|build_runc|RUNC_VERSION|"
	"cni-plugins|build_cni_plugins|CNI_PLUGINS_VERSION|"
	"coredns|build_coredns|COREDNS_VERSION|coredns"
	"kube-router|build_kube_router|KUBE_ROUTER_VERSION|"
	"images|build_images build_image|DEBIAN_SUITE NEWEST_KUBERNETES_VERSION|images"
)
# kwok's simulated node serves E2E_NODE=kwok clusters only (benchmarks, smoke.sh): a toolchain
# for those has its piece too.
if [ "${E2E_NODE:-real}" = kwok ]; then PIECES+=("kwok|build_kwok|KWOK_VERSION|"); fi

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

# Installs a provider binary into the piece's PULUMI_HOME without any download, with the
# pulumi piece's CLI.
install_plugin() {
	local name=$1 version=$2 file=$3
	PULUMI_HOME=$OUT/pulumi-home PULUMI_SKIP_UPDATE_CHECK=true \
		PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true PULUMI_DISABLE_REGISTRY_RESOLVE=true \
		"$PULUMI_CLI" plugin install resource "$name" "$version" --file "$file" --reinstall
	PULUMI_HOME=$OUT/pulumi-home "$PULUMI_CLI" plugin ls
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
	dir=$(workdir "kubernetes-$KUBERNETES_MINOR")
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
	mkdir -p "$OUT/share/kwok"
	for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
		pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
		echo "---"
		cat "$src/kustomize/stage/$f"
	done >"$OUT/share/kwok/stages.yaml"
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
	mkdir -p "$OUT/cni/bin"
	cd "$WORK"
	GOFLAGS="" GOBIN="$OUT/cni/bin" go install -trimpath -ldflags "-s -w" \
		"$m/main/bridge@v$CNI_PLUGINS_VERSION" "$m/main/loopback@v$CNI_PLUGINS_VERSION" \
		"$m/ipam/host-local@v$CNI_PLUGINS_VERSION" "$m/meta/portmap@v$CNI_PLUGINS_VERSION"
	ls -l "$OUT/cni/bin"
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
# $OUT/images: <name>.tar (an OCI archive, imported into containerd when the
# node starts), <name>.ref (its reference) and <name>.setting.
build_images() {
	local spec
	rm -rf "$OUT/images"
	mkdir -p "$OUT/images"
	cd "$WORK"
	for spec in "$HERE"/toolchain/images/*/image.env; do
		[ "$(basename "$(dirname "$spec")")" = common ] || build_image "$(dirname "$spec")"
	done
	ls -l "$OUT/images"
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
		# pause: Kubernetes' pause.c (the newest release's, one sandbox image for every
		# release), built as build/pause/Makefile does.
		mkdir -p "$root"
		gcc -Os -Wall -Werror -static -DVERSION="v$tag" -o "$root/pause" \
			"$(downloaded "k8s.io/kubernetes@v$NEWEST_KUBERNETES_VERSION" Dir)/build/pause/linux/pause.c"
		strip "$root/pause"
	fi
	# One layer, reproducible: sorted entries, numeric owners, a fixed mtime.
	tar --sort=name --numeric-owner --mtime=@0 -C "$root" -cf "$WORK/images/$name/layer.tar" .
	umoci init --layout "$WORK/images/$name/oci"
	umoci new --image "$WORK/images/$name/oci:$tag"
	umoci raw add-layer --image "$WORK/images/$name/oci:$tag" "$WORK/images/$name/layer.tar"
	umoci config --image "$WORK/images/$name/oci:$tag" --os linux --architecture amd64 \
		--author multi-container-patterns "${CONFIG[@]}"
	tar -C "$WORK/images/$name/oci" -cf "$OUT/images/$name.tar" .
	echo "$IMAGE" >"$OUT/images/$name.ref"
	[ -z "$LAB_SETTING" ] || echo "$LAB_SETTING" >"$OUT/images/$name.setting"
	rm -rf "$WORK/images/$name"
}

# --- kube-router's NetworkPolicy controller ------------------------------------------
build_kube_router() {
	# No replace directives: plain `go install pkg@version`. The node runs its firewall
	# (NetworkPolicy) controller only, with iptables and ipset from Debian.
	cd "$WORK"
	local m=github.com/cloudnativelabs/kube-router/v2
	GOFLAGS="" GOBIN="$BIN" go install -trimpath \
		-ldflags "-s -w -X $m/pkg/version.Version=v$KUBE_ROUTER_VERSION" "$m/cmd/kube-router@v$KUBE_ROUTER_VERSION"
	"$BIN/kube-router" --version
}

# --- pieces and the toolchain ----------------------------------------------------------
piece_field() { echo "$1" | cut -d'|' -f"$2"; }

# piece_id SPEC: NAME-KEY, the key hashing everything the piece is built from.
piece_id() {
	local spec=$1 name fn var path
	name=$(piece_field "$spec" 1)
	printf '%s-' "$name"
	{
		echo "$name"
		echo "$GO_VERSION_LINE"
		for fn in $(piece_field "$spec" 2); do declare -f "$fn"; done
		for var in $(piece_field "$spec" 3); do echo "$var=${!var}"; done
		for path in $(piece_field "$spec" 4); do
			(cd "$HERE/toolchain" && find "$path" -type f | LC_ALL=C sort | xargs sha256sum)
		done
	} | sha256sum | cut -c1-16
}

GO_VERSION_LINE=$(go version 2>/dev/null || echo "no go")
PIECE_IDS=()
for spec in "${PIECES[@]}"; do PIECE_IDS+=("$(piece_id "$spec")"); done
# The toolchain's directory: named by its pieces, so each mix of versions has its own.
PREFIX=$CACHE_ROOT/$(printf '%s\n' "${PIECE_IDS[@]}" | sha256sum | cut -c1-16)

env_lines() {
	cat <<EOT
export E2E_TOOLCHAIN="$PREFIX"
export E2E_KUBERNETES_VERSION="$KUBERNETES_VERSION"
export PATH="$PREFIX/bin:\$PATH"
export PULUMI_HOME="$PREFIX/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
EOT
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
--pieces)
	printf '%s\n' "${PIECE_IDS[@]}"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--prefix|--env|--pieces]" >&2
	exit 2
	;;
esac

# --- Go --------------------------------------------------------------------
command -v go >/dev/null || die "the go command is required (Go >= $GO_MIN_VERSION)"
export GOTOOLCHAIN=${GO_TOOLCHAIN:-local}
export GOFLAGS=-mod=mod
export CGO_ENABLED=0
export GOPROXY=${GOPROXY:-https://proxy.golang.org,direct}
# The compiler collects its garbage a quarter as often: a cold build about a fifth faster (CoreDNS:
# 138 s against 167 s) for a few hundred MB more per compile; the binaries are the same.
export GOGC=${GOGC:-400}
GO_VERSION=$(go env GOVERSION)
GO_VERSION=${GO_VERSION#go}
if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$GO_VERSION" | sort -V | head -1)" != "$GO_MIN_VERSION" ]; then
	die "Go $GO_VERSION is older than $GO_MIN_VERSION: set GO_TOOLCHAIN=go1.27.3 in versions.env"
fi
mkdir -p "$PIECES_DIR" "$WORK" "$LOGS"

# build_piece SPEC ID: build one piece into pieces/ID once. Its build function writes below OUT
# (BIN=$OUT/bin); output goes to logs/ID.log, time and size to pieces/ID.tsv.
build_piece() {
	local spec=$1 id=$2 name fn start end rc
	name=$(piece_field "$spec" 1)
	fn=$(piece_field "$spec" 2)
	fn=${fn%% *}
	OUT=$PIECES_DIR/$id
	BIN=$OUT/bin
	if [ -f "$OUT.tsv" ]; then
		log "$name: cached ($OUT)"
		return 0
	fi
	log "$name: building (log: $LOGS/$id.log)"
	rm -rf "$OUT"
	mkdir -p "$BIN"
	start=$(date +%s)
	# A subshell outside any condition, so that errexit holds inside it.
	set +e
	(
		set -e
		"$fn"
	) >"$LOGS/$id.log" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$LOGS/$id.log" >&2
		die "$name failed (exit $rc); full log: $LOGS/$id.log"
	fi
	end=$(date +%s)
	printf '%s\t%s\t%s\t%s\n' "$name" "$id" "$((end - start))" "$(du -sb "$OUT" | cut -f1)" >"$OUT.tsv"
	log "$name: done in $((end - start))s"
}

TOTAL_START=$(date +%s)
for i in "${!PIECES[@]}"; do
	build_piece "${PIECES[$i]}" "${PIECE_IDS[$i]}"
	# The providers' pieces install their plugins with the CLI of the pulumi piece.
	[ "$(piece_field "${PIECES[$i]}" 1)" != pulumi ] || PULUMI_CLI=$BIN/pulumi
done
if [ ! -f "$PREFIX/env.sh" ]; then
	rm -rf "$PREFIX"
	mkdir -p "$PREFIX"
	for id in "${PIECE_IDS[@]}"; do cp -al "$PIECES_DIR/$id/." "$PREFIX/"; done
	{
		printf 'piece\tid\tseconds\tbytes\n'
		for id in "${PIECE_IDS[@]}"; do cat "$PIECES_DIR/$id.tsv"; done
	} >"$PREFIX/build-report.tsv"
	env_lines >"$PREFIX/env.sh"
fi
log "all pieces ready in $(($(date +%s) - TOTAL_START))s (per piece: $PREFIX/build-report.tsv)"
log "Kubernetes: v$KUBERNETES_VERSION"
log "use: source $PREFIX/env.sh"
env_lines
