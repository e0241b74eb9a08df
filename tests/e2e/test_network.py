"""The lab's network on the real nodes.

NetworkPolicies enforced (kube-router's firewall controller on every node): from every pod of the
lab, and from a probe pod on each node in a namespace of its own, a new TCP connection to every
Service port and pod port of the lab. What gets through must be exactly what the NetworkPolicies
the program created allow, as `tests.netpol` reads them from the cluster, and exactly the flows the
lab's objects on the cluster need (`tests.flows`, the reading the unit tests hold the rendered
policies to); every other attempt is dropped, on one node and across nodes. With
`networkPolicies=false` every attempt gets through. The matrix is printed.

Paths across nodes, with pods placed by cordoning a node (never by pinning the lab's own pods):
init-wait-db reaches db on the other node by name, and a client on one node reaches each proxy's
Service whose pod is on the other."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e.support import Kubectl, node_image_settings
from tests.flows import LabFlows, Workload
from tests.netpol import Pod, Policies

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
PROBE_NAMESPACE = "e2e-network-probe"
PROBE_LABELS = {"app.kubernetes.io/name": "probe"}
# Seconds a connection attempt may take: a dropped SYN is retried within it, an allowed one
# connects in milliseconds.
CONNECT_TIMEOUT = 2
# kube-router applies a change of pods or policies within seconds; the matrix is measured again
# until it matches or this many seconds have passed.
SETTLE = 45


@dataclass(frozen=True)
class Target:
    """An address and port of the lab: a pod's port, or a Service's port and the pod behind it."""

    label: str
    ip: str
    port: int
    backend: Pod
    backend_port: int
    service: bool

    @property
    def workload(self) -> str:
        return self.backend.labels["app.kubernetes.io/name"]

    def judged_from(self, source: Pod) -> bool:
        """Whether the matrix judges this target from ``source``: all but a pod's own Service. That
        connection is hairpinned through the node (kube-proxy masquerades it to the node's
        address), which is no policy's verdict: in the matrix, where every pod knocks at once,
        db's failed in every run, with policies and without, and alone it gets through."""
        return not (self.service and source == self.backend)


def probe_pod(name: str, node: str | None = None) -> dict[str, Any]:
    """A busybox pod in a namespace no policy of the lab's names, to knock from outside; on
    ``node`` when given."""
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 0,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "probe",
                "image": node_image_settings()["busyboxImage"],
                "command": ["sleep", "3600"],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": PROBE_NAMESPACE, "labels": PROBE_LABELS},
        "spec": spec,
    }


def start_pod(kubectl: Kubectl, pod: dict[str, Any]) -> dict[str, Any]:
    """Create ``pod`` and wait until it is Ready; returns it as the API server has it."""
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    kubectl.run("apply", "-f", "-", input=json.dumps(pod))
    kubectl.run("wait", "--for=condition=Ready", f"pod/{name}", "-n", namespace, "--timeout=90s", timeout=100)
    return kubectl.get("pod", name, "-n", namespace)


def delete_pod(kubectl: Kubectl, namespace: str, name: str) -> None:
    kubectl.run("delete", "pod", name, "-n", namespace, "--grace-period=0", "--ignore-not-found")


@pytest.fixture(scope="module")
def nodes(kubectl: Kubectl) -> list[str]:
    found = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in found):
        pytest.skip("the network is the real nodes': kwok runs no containers")
    return sorted(node["metadata"]["name"] for node in found)


@pytest.fixture(scope="module")
def lab(stack: auto.Stack, kubectl: Kubectl, nodes: list[str]) -> Iterator[auto.Stack]:
    """The lab up, and a probe pod on each node."""
    result = stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    kubectl.run("create", "namespace", PROBE_NAMESPACE)
    for node in nodes:
        start_pod(kubectl, probe_pod(f"probe-{node}", node))
    yield stack
    kubectl.run("delete", "namespace", PROBE_NAMESPACE, "--wait=false")
    stack.destroy(on_output=print)


def running_pods(kubectl: Kubectl, namespace: str) -> list[dict[str, Any]]:
    return [p for p in kubectl.get("pods", "-n", namespace)["items"] if p["status"].get("phase") == "Running"]


def lab_targets(kubectl: Kubectl, pods: dict[str, Pod], objects: list[dict[str, Any]]) -> list[Target]:
    """Every port a container of the lab declares, on its pod's address, and every Service port on
    the Service's address, with the pod and port its EndpointSlice sends it to."""
    by_ip = {pod.ip: pod for pod in pods.values()}
    targets = []
    for obj in objects:
        pod = pods[obj["metadata"]["name"]]
        for container in [*obj["spec"].get("initContainers", []), *obj["spec"]["containers"]]:
            for port in container.get("ports") or []:
                number = int(port["containerPort"])
                targets.append(Target(f"{pod.name}:{number}", pod.ip, number, pod, number, service=False))
    for service in kubectl.get("services", "-n", NAMESPACE)["items"]:
        name = service["metadata"]["name"]
        slices = kubectl.get("endpointslices", "-n", NAMESPACE, "-l", f"kubernetes.io/service-name={name}")["items"]
        for port in service["spec"]["ports"]:
            backends = [
                (by_ip[address], int(slice_port["port"]))
                for endpoint_slice in slices
                for slice_port in endpoint_slice.get("ports") or []
                if slice_port.get("name", "") == port.get("name", "")
                for endpoint in endpoint_slice.get("endpoints") or []
                for address in endpoint["addresses"]
            ]
            assert len(backends) == 1, f"service {name} port {port['port']}: backends {backends}"
            backend, backend_port = backends[0]
            label = f"svc/{name}:{port['port']}"
            address = service["spec"]["clusterIP"]
            targets.append(Target(label, address, int(port["port"]), backend, backend_port, service=True))
    return targets


def connect(host: str, port: int) -> list[str]:
    """A command that makes one TCP connection and exits 0 once it is established: busybox's nc,
    in every image of the lab (Debian's build has no `-z`; `-e true` closes it at once)."""
    return ["nc", "-w", str(CONNECT_TIMEOUT), host, str(port), "-e", "true"]


def knock(kubectl: Kubectl, source: Pod, container: str, targets: list[tuple[str, int]]) -> list[bool]:
    """From ``source``, one new TCP connection to each (address, port), all at once, each made
    the way `connect` makes it."""
    attempts = " ".join(f"{index}:{ip}:{port}" for index, (ip, port) in enumerate(targets))
    script = (
        f"for t in {attempts}; do "
        "i=${t%%:*}; rest=${t#*:}; "
        f'( if nc -w {CONNECT_TIMEOUT} "${{rest%:*}}" "${{rest#*:}}" -e true </dev/null >/dev/null 2>&1; '
        'then echo "$i ok"; else echo "$i no"; fi ) & '
        "done; wait"
    )
    result = kubectl.run("exec", "-n", source.namespace, source.name, "-c", container, "--", "sh", "-c", script)
    verdicts = dict(line.split() for line in result.stdout.splitlines())
    assert len(verdicts) == len(targets), result.stdout + result.stderr
    return [verdicts[str(index)] == "ok" for index in range(len(targets))]


@dataclass(frozen=True)
class Matrix:
    sources: list[Pod]
    targets: list[Target]
    measured: list[list[bool]]
    expected: list[list[bool]]
    node_of: dict[str, str]
    flows: LabFlows

    def cells(self) -> Iterator[tuple[Pod, Target, bool, bool]]:
        """The judged cells: source, target, what got through, what the policies allow."""
        for source, got_row, want_row in zip(self.sources, self.measured, self.expected, strict=True):
            for target, got, want in zip(self.targets, got_row, want_row, strict=True):
                if target.judged_from(source):
                    yield source, target, got, want

    def differences(self) -> list[str]:
        return [
            f"{source.namespace}/{source.name} -> {target.label}: "
            f"{'connected' if got else 'dropped'}, the policies {'allow' if want else 'deny'} it"
            for source, target, got, want in self.cells()
            if got != want
        ]

    def beside_the_labs_flows(self) -> list[str]:
        """The cells where what got through is not what the lab's flows say."""
        return [
            f"{source.namespace}/{source.name} -> {target.label}: {'connected' if got else 'dropped'}, "
            f"the lab's flows {'allow' if intended else 'deny'} it"
            for source, target, got, _ in self.cells()
            if got != (intended := self.flows.connects(workload(source), target.workload, target.backend_port))
        ]

    def across_nodes(self) -> set[bool]:
        """What the cells whose source and backend are on different nodes measured."""
        return {
            got
            for source, target, got, _ in self.cells()
            if self.node_of[source.name] != self.node_of[target.backend.name]
        }

    def render(self) -> str:
        """Rows: sources; columns: targets. `ok` connected, `--` dropped; `!` where that is not
        what the policies say, `~` a pod to its own Service (not judged)."""
        names = [f"{s.namespace}/{s.name} ({self.node_of[s.name]})" for s in self.sources]
        width = max(len(name) for name in names)
        lines = [f"{'':{width}}  " + "  ".join(f"{i:>3}" for i in range(len(self.targets)))]
        for source, name, got_row, want_row in zip(self.sources, names, self.measured, self.expected, strict=True):
            cells = [
                ("ok" if got else "--") + ("~" if not target.judged_from(source) else "!" if got != want else " ")
                for target, got, want in zip(self.targets, got_row, want_row, strict=True)
            ]
            lines.append(f"{name:{width}}  " + "  ".join(f"{c:>3}" for c in cells))
        lines += [
            f"  {i:>3} = {t.label} ({t.ip}:{t.port}, pod on {self.node_of[t.backend.name]})"
            for i, t in enumerate(self.targets)
        ]
        return "\n".join(lines)


def workload(pod: Pod) -> str | None:
    """The lab's workload a pod belongs to; None for a pod outside the lab."""
    return pod.labels.get("app.kubernetes.io/name") if pod.namespace == NAMESPACE else None


def measure(kubectl: Kubectl) -> Matrix:
    lab_objects = running_pods(kubectl, NAMESPACE)
    objects = [*lab_objects, *running_pods(kubectl, PROBE_NAMESPACE)]
    pods = {obj["metadata"]["name"]: Pod.from_object(obj) for obj in objects}
    node_of = {obj["metadata"]["name"]: obj["spec"]["nodeName"] for obj in objects}
    sources = list(pods.values())
    containers = [obj["spec"]["containers"][0]["name"] for obj in objects]
    targets = lab_targets(kubectl, pods, lab_objects)
    policies = Policies(
        kubectl.get("networkpolicies", "-A")["items"],
        {ns["metadata"]["name"]: ns["metadata"].get("labels") or {} for ns in kubectl.get("namespaces")["items"]},
    )
    expected = [[policies.allows(s, t.backend, t.backend_port) for t in targets] for s in sources]
    addresses = [(t.ip, t.port) for t in targets]
    with ThreadPoolExecutor(max_workers=len(sources)) as pool:
        measured = list(
            pool.map(lambda pair: knock(kubectl, pair[0], pair[1], addresses), zip(sources, containers, strict=True))
        )
    # One pod per workload: the lab runs one replica of each.
    workloads = {w.name: w for w in (Workload.of_pod(o["metadata"]["labels"], o["spec"]) for o in lab_objects)}
    lab_flows = LabFlows.read(workloads.values(), kubectl.get("services", "-n", NAMESPACE)["items"])
    return Matrix(sources, targets, measured, expected, node_of, lab_flows)


def settled_matrix(kubectl: Kubectl, capsys: pytest.CaptureFixture[str], title: str) -> Matrix:
    """The matrix once it matches the policies, or the last one measured after SETTLE seconds;
    printed in the test run's output, passed or not."""
    deadline = time.monotonic() + SETTLE
    while True:
        matrix = measure(kubectl)
        if not matrix.differences() or time.monotonic() > deadline:
            with capsys.disabled():
                print(f"\n{title}\n{matrix.render()}")
            return matrix
        time.sleep(3)


def test_exactly_the_flows_the_policies_allow_get_through(
    lab: auto.Stack, kubectl: Kubectl, nodes: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = settled_matrix(kubectl, capsys, "The flow matrix, the lab's NetworkPolicies enforced:")
    assert not matrix.differences(), "\n".join(matrix.differences())
    assert not matrix.beside_the_labs_flows(), "\n".join(matrix.beside_the_labs_flows())
    # The policies deny most of the matrix and allow some of it: both kinds of cell were seen,
    # and, with several nodes, both across nodes.
    cells = {got for _, _, got, _ in matrix.cells()}
    assert cells == {True, False}
    if len(nodes) > 1:
        assert matrix.across_nodes() == {True, False}
    # The lab's own flows are among what got through: a client outside reaches both proxies,
    # init-demo reaches db.
    allowed = {(source.name, target.label) for source, target, got, _ in matrix.cells() if got}
    for node in nodes:
        assert {(f"probe-{node}", "svc/ambassador-proxy:8443"), (f"probe-{node}", "svc/sidecar-proxy:8080")} <= allowed
    assert ("init-demo", "svc/db:6379") in allowed


@contextmanager
def cordoned(kubectl: Kubectl, node: str) -> Iterator[None]:
    """``node`` takes no new pod while the block runs."""
    kubectl.run("cordon", node)
    try:
        yield
    finally:
        kubectl.run("uncordon", node)


def pod_of(kubectl: Kubectl, app: str) -> dict[str, Any]:
    pods = kubectl.get("pods", "-n", NAMESPACE, "-l", f"app={app}")["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def needs_two_nodes(nodes: list[str]) -> None:
    if len(nodes) < 2:
        pytest.skip("needs two real nodes (E2E_NODES=2, cluster.sh's default)")


def test_init_wait_db_reaches_db_on_the_other_node_by_name(lab: auto.Stack, kubectl: Kubectl, nodes: list[str]) -> None:
    needs_two_nodes(nodes)
    db_node = pod_of(kubectl, "db")["spec"]["nodeName"]
    # init-demo as the lab made it, once more, under another name: its init containers run again
    # (init-wait-db waits for db's PONG) on the node that db is not on.
    original = pod_of(kubectl, "init-demo")
    copy = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "init-demo-elsewhere", "namespace": NAMESPACE, "labels": original["metadata"]["labels"]},
        "spec": {key: value for key, value in original["spec"].items() if key != "nodeName"},
    }
    try:
        with cordoned(kubectl, db_node):
            started = start_pod(kubectl, copy)
        assert started["spec"]["nodeName"] != db_node
        waited = kubectl.run("logs", "-n", NAMESPACE, "init-demo-elsewhere", "-c", "init-wait-db").stdout
        print(waited)
        assert "answered PONG" in waited, waited
    finally:
        delete_pod(kubectl, NAMESPACE, "init-demo-elsewhere")


@pytest.mark.parametrize(("app", "port"), [("ambassador-proxy", 8443), ("sidecar-proxy", 8080)])
def test_a_client_on_one_node_reaches_a_proxys_service_on_the_other_by_name(
    lab: auto.Stack, kubectl: Kubectl, nodes: list[str], app: str, port: int
) -> None:
    needs_two_nodes(nodes)
    backend_node = pod_of(kubectl, app)["spec"]["nodeName"]
    name = f"client-of-{app}"
    try:
        with cordoned(kubectl, backend_node):
            client = start_pod(kubectl, probe_pod(name))
        assert client["spec"]["nodeName"] != backend_node
        host = f"{app}.{NAMESPACE}.svc.cluster.local"
        resolved = kubectl.run("exec", "-n", PROBE_NAMESPACE, name, "--", "nslookup", host).stdout
        cluster_ip = kubectl.get("service", app, "-n", NAMESPACE)["spec"]["clusterIP"]
        assert cluster_ip in resolved, resolved
        connected = kubectl.run("exec", "-n", PROBE_NAMESPACE, name, "--", *connect(host, port), check=False)
        assert connected.returncode == 0, connected.stderr
    finally:
        delete_pod(kubectl, PROBE_NAMESPACE, name)


def test_without_network_policies_every_flow_gets_through(
    lab: auto.Stack, kubectl: Kubectl, capsys: pytest.CaptureFixture[str]
) -> None:
    lab.set_config("networkPolicies", auto.ConfigValue("false"))
    try:
        assert lab.up(on_output=print).summary.result == "succeeded"
        assert kubectl.get("networkpolicies", "-n", NAMESPACE)["items"] == []
        matrix = settled_matrix(kubectl, capsys, "The flow matrix, networkPolicies=false:")
        assert not matrix.differences(), "\n".join(matrix.differences())
        assert all(got for _, _, got, _ in matrix.cells())
    finally:
        lab.remove_config("networkPolicies")
    assert lab.up(on_output=print).summary.result == "succeeded"
