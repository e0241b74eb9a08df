"""The real nodes as `e2e/cluster.sh` starts and stops them (two, its default): their network has
no way off the machine, pods reach each other across nodes only over the nodes' own segment, each
node's NetworkPolicy engine keeps its rules in the node's namespace, and `stop` removes every
process, mount, cgroup, interface, directory, sysctl change and firewall rule they made, also after
a crash of the nodes' daemons, and a second `stop` is harmless.

Needs root and the toolchain on PATH (`scripts/test.sh node` provides both). Starts its own
cluster, so it must not run while another real node is up (the node's names are fixed)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.support import ROOT, Kubectl

pytestmark = pytest.mark.node

CLUSTER = ROOT / "e2e" / "cluster.sh"
NODES = 2
# What node.sh creates under names of its own, per node and shared by the nodes.
NODE_DIRS = tuple(Path(f"/var/lib/mcp-e2e-node-{index}") for index in range(NODES))
SHARED_DIR = Path("/var/lib/mcp-e2e-node-shared")
NODE_CGROUPS = tuple(f"mcp-e2e-node-{index}" for index in range(NODES))
NODE_HOST_IFS = tuple(f"mcp-e2e-node{index}" for index in range(NODES))
# Places outside the node's directory that the kubelet and libcni use whatever their settings.
FIXED_PLACES = (Path("/var/lib/cni"), Path("/var/log/containers"), Path("/var/lib/kube-router"))
KUBELET_SYSCTLS = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
# The machine's own network settings: the node sets its own inside its namespace, never these.
MACHINE_NET_SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.route_localnet",
    "net.bridge.bridge-nf-call-iptables",
    "net.netfilter.nf_conntrack_max",
)
NODE_PROGRAMS = (
    "kubelet",
    "kube-proxy",
    "kube-router",
    "containerd",
    "containerd-shim-runc-v2",
    "coredns",
    "socat",
    "runc",
)
NODE_DAEMONS = ("kubelet", "containerd", "kube-proxy", "kube-router", "coredns")
# The machine's own packet filter, as each of its tools lists it.
FIREWALL_LISTINGS = (("nft", "list", "ruleset"), ("iptables-save",), ("iptables-legacy-save",), ("ipset", "list", "-n"))


@dataclass(frozen=True)
class MachineState:
    """What the node could leave behind on the machine."""

    mounts: frozenset[str]
    links: frozenset[str]
    cgroups: frozenset[str]
    processes: frozenset[str]
    places: frozenset[str]
    sysctls: tuple[tuple[str, str], ...]
    firewall: tuple[str, ...]


def machine_state() -> MachineState:
    mounts = frozenset(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    links = frozenset(
        re.split(r"[:@]", line.split(": ", 1)[1])[0]
        for line in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout.splitlines()
    )
    cgroups = frozenset(str(path) for path in Path("/sys/fs/cgroup").glob("*/*") if path.is_dir())
    processes = frozenset(
        f"{entry.name} {name}"
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and (name := _program(entry)) in NODE_PROGRAMS
    )
    places = frozenset(str(path) for path in (*NODE_DIRS, SHARED_DIR, *FIXED_PLACES) if path.exists())
    sysctls = tuple((name, _sysctl(name)) for name in (*KUBELET_SYSCTLS, *MACHINE_NET_SYSCTLS))
    firewall = tuple(_listing(command) for command in FIREWALL_LISTINGS)
    return MachineState(mounts, links, cgroups, processes, places, sysctls, firewall)


def _listing(command: tuple[str, ...]) -> str:
    """What a firewall tool lists, without the comment lines iptables-save dates."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))


def _program(process: Path) -> str:
    try:
        return Path((process / "cmdline").read_bytes().split(b"\0")[0].decode()).name
    except (OSError, IndexError):
        return ""


def _sysctl(name: str) -> str:
    return Path("/proc/sys", *name.split(".")).read_text().strip()


def cluster(*args: str, cluster_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "E2E_CLUSTER_DIR": str(cluster_dir), "E2E_NODE": "real", "E2E_NODES": str(NODES)}
    return subprocess.run([str(CLUSTER), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def in_netns(netns: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={netns}", "--", *command], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.fixture(scope="module")
def before() -> MachineState:
    if os.geteuid() != 0:
        pytest.fail("the node tests need root", pytrace=False)
    running = [str(path) for path in (*NODE_DIRS, SHARED_DIR) if path.exists()]
    assert not running, f"real nodes are running already ({running}): stop them first"
    return machine_state()


@pytest.fixture(scope="module")
def node(before: MachineState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    """A cluster with its real node, and a pod on it with volumes, so there is something to leave."""
    cluster_dir = tmp_path_factory.mktemp("cluster")
    started = cluster("start", cluster_dir=cluster_dir)
    assert started.returncode == 0, started.stderr[-3000:]
    kubectl = Kubectl(str(cluster_dir / "admin.kubeconfig"))
    image = (Path(os.environ["E2E_TOOLCHAIN"]) / "images" / "busybox.ref").read_text().strip()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "resident", "namespace": "default"},
        "spec": {
            "terminationGracePeriodSeconds": 30,
            "containers": [
                {
                    "name": "resident",
                    "image": image,
                    # Ignores SIGTERM, as a careless container would.
                    "command": ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"],
                    "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                }
            ],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }
    subprocess.run(
        ["kubectl", "--kubeconfig", kubectl.kubeconfig, "apply", "-f", "-"],
        input=json.dumps(pod),
        text=True,
        check=True,
        capture_output=True,
    )
    kubectl.run("wait", "--for=condition=Ready", "pod/resident", "--timeout=60s", timeout=70)
    yield kubectl
    # A failed test must not leave the node behind.
    cluster("stop", cluster_dir=cluster_dir)


def test_the_nodes_network_has_no_route_off_the_machine(node: Kubectl, before: MachineState) -> None:
    machine_net = {name: _sysctl(name) for name in MACHINE_NET_SYSCTLS}
    assert machine_net == {name: value for name, value in before.sysctls if name in MACHINE_NET_SYSCTLS}
    for index, node_dir in enumerate(NODE_DIRS):
        netns = node_dir / "netns"
        assert in_netns(netns, "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "1", "a node routes inside"
        assert in_netns(netns, "ip", "-4", "route", "show", "default").stdout.strip() == ""
        # A route lookup sends nothing: it only asks the node's routing table.
        lookup = in_netns(netns, "ip", "-4", "route", "get", "192.0.2.77")
        assert lookup.returncode != 0
        assert "unreachable" in lookup.stderr.lower()
        routes = in_netns(netns, "ip", "-4", "route", "show").stdout
        assert f"10.250.0.{4 * index}/30" in routes
        # The other nodes' pods are reached over the segment, through their eth1 address.
        for other in range(NODES):
            if other != index:
                assert f"10.244.{other}.0/24 via 10.251.0.{other + 1} dev eth1" in routes
        tables = {
            block.split(" {", 1)[0]: block
            for block in in_netns(netns, "nft", "list", "ruleset").stdout.split("table ")[1:]
        }
        assert "ip kube-proxy" in tables, "kube-proxy programs the node's own nftables"
        # kube-proxy masquerades Service traffic it marks (hairpin, off-cluster sources), which has
        # nowhere to go here; nothing else NATs: the pods' bridge has ipMasq off.
        natting = [name for name, block in tables.items() if re.search(r"\b(masquerade|snat)\b", block)]
        assert set(natting) <= {"ip kube-proxy", "ip6 kube-proxy"}, natting
        # The NetworkPolicy engine's chains are the node's, none is the machine's.
        assert "KUBE-ROUTER-FORWARD" in in_netns(netns, "iptables-save").stdout
    assert not any("KUBE-ROUTER" in listing for listing in before.firewall + machine_state().firewall)
    # The segment is a bridge and nothing else: no address, no route, no link to the machine.
    segment = SHARED_DIR / "netns"
    assert in_netns(segment, "ip", "-4", "route", "show").stdout.strip() == ""
    addresses = re.findall(r"inet (\S+)", in_netns(segment, "ip", "-4", "addr", "show").stdout)
    assert all(address.startswith("127.") for address in addresses), addresses
    # CoreDNS answers the cluster's names and has nowhere to forward any other.
    assert "forward" not in (NODE_DIRS[0] / "Corefile").read_text()


def test_the_pod_runs_in_the_nodes_network_behind_the_cluster_dns(node: Kubectl) -> None:
    pod = node.get("pod", "resident")
    index = int(pod["spec"]["nodeName"].removeprefix("node-"))
    assert pod["status"]["podIP"].startswith(f"10.244.{index}.")
    # The node's pod range is its bridge's (made with the node's first pod).
    routes = in_netns(NODE_DIRS[index] / "netns", "ip", "-4", "route", "show").stdout
    assert f"10.244.{index}.0/24 dev cni0" in routes
    resolv = node.run("exec", "resident", "--", "cat", "/etc/resolv.conf").stdout
    assert "nameserver 10.0.0.10" in resolv
    answer = node.run("exec", "resident", "--", "nslookup", "kube-dns.kube-system.svc.cluster.local").stdout
    assert "10.0.0.10" in answer


def test_stop_after_a_crash_removes_everything_the_node_made_and_a_second_stop_is_harmless(
    node: Kubectl, before: MachineState, tmp_path_factory: pytest.TempPathFactory
) -> None:
    running = machine_state()
    assert running != before
    for cgroup in NODE_CGROUPS:
        assert any(name.endswith(f"/{cgroup}") for name in running.cgroups - before.cgroups)
    assert set(NODE_HOST_IFS) <= running.links
    # The crash: every daemon of the node dies at once; the pod's processes and shims live on.
    for entry in running.processes:
        pid, name = entry.split()
        if name in NODE_DAEMONS:
            os.kill(int(pid), signal.SIGKILL)
    assert any(entry.endswith("containerd-shim-runc-v2") for entry in machine_state().processes)
    cluster_dir = Path(node.kubeconfig).parent
    stopped = cluster("stop", cluster_dir=cluster_dir)
    assert stopped.returncode == 0, stopped.stderr
    after = machine_state()
    assert after.processes == before.processes
    assert after.mounts == before.mounts
    assert after.cgroups == before.cgroups
    assert after.links == before.links
    assert after.places == before.places
    assert after.sysctls == before.sysctls
    assert after.firewall == before.firewall
    again = cluster("stop", cluster_dir=cluster_dir)
    assert again.returncode == 0, again.stderr
    assert machine_state() == before
