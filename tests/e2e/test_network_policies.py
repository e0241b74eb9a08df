"""The lab's NetworkPolicies enforced on the real node (kube-router's firewall controller): from
every pod of the lab, and from a probe pod in a namespace of its own, a new TCP connection to every
Service port and pod port of the lab. What gets through must be exactly what the NetworkPolicies
the program created allow, as `tests.netpol` reads them from the cluster; every other attempt is
dropped. With `networkPolicies=false` every attempt gets through. The matrix is printed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from pulumi import automation as auto

from tests.e2e.support import Kubectl, node_image_settings
from tests.netpol import Pod, Policies

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
PROBE_NAMESPACE = "e2e-netpol-probe"
PROBE = "probe"
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


def probe_pod(image: str) -> dict[str, object]:
    """A pod in a namespace no policy of the lab's names, to knock from outside."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": PROBE, "namespace": PROBE_NAMESPACE, "labels": {"app.kubernetes.io/name": PROBE}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": PROBE,
                    "image": image,
                    "command": ["sleep", "3600"],
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def lab(stack: auto.Stack, kubectl: Kubectl) -> Iterator[auto.Stack]:
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("NetworkPolicies are enforced on the real node only: kwok runs no containers")
    result = stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    kubectl.run("create", "namespace", PROBE_NAMESPACE)
    kubectl.run("apply", "-f", "-", input=json.dumps(probe_pod(node_image_settings()["busyboxImage"])))
    kubectl.run("wait", "--for=condition=Ready", f"pod/{PROBE}", "-n", PROBE_NAMESPACE, "--timeout=60s")
    yield stack
    kubectl.run("delete", "namespace", PROBE_NAMESPACE, "--wait=false")
    stack.destroy(on_output=print)


def running_pods(kubectl: Kubectl, namespace: str) -> list[dict]:
    return [p for p in kubectl.get("pods", "-n", namespace)["items"] if p["status"].get("phase") == "Running"]


def lab_targets(kubectl: Kubectl, pods: list[Pod], objects: list[dict]) -> list[Target]:
    """Every port a container of the lab declares, on its pod's address, and every Service port on
    the Service's address, with the pod and port its EndpointSlice sends it to."""
    by_ip = {pod.ip: pod for pod in pods}
    targets = []
    for obj, pod in zip(objects, pods, strict=True):
        spec = obj["spec"]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            for port in container.get("ports") or []:
                number = int(port["containerPort"])
                targets.append(Target(f"{pod.name}:{number}", pod.ip, number, pod, number))
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
            targets.append(Target(label, service["spec"]["clusterIP"], int(port["port"]), backend, backend_port))
    return targets


def knock(kubectl: Kubectl, source: Pod, container: str, targets: list[Target]) -> list[bool]:
    """From ``source``, one new TCP connection to each target, all at once (numeric addresses)."""
    attempts = " ".join(f"{index}:{t.ip}:{t.port}" for index, t in enumerate(targets))
    script = (
        f"for t in {attempts}; do "
        "i=${t%%:*}; rest=${t#*:}; "
        f'( if nc -z -w {CONNECT_TIMEOUT} "${{rest%:*}}" "${{rest#*:}}" </dev/null >/dev/null 2>&1; '
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

    def differences(self) -> list[str]:
        return [
            f"{source.namespace}/{source.name} -> {target.label}: "
            f"{'connected' if got else 'dropped'}, the policies {'allow' if want else 'deny'} it"
            for source, got_row, want_row in zip(self.sources, self.measured, self.expected, strict=True)
            for target, got, want in zip(self.targets, got_row, want_row, strict=True)
            if got != want
        ]

    def render(self) -> str:
        """Rows: sources; columns: targets. `ok` connected, `--` dropped; `!` where that is not
        what the policies say."""
        width = max(len(f"{s.namespace}/{s.name}") for s in self.sources)
        lines = [f"{'':{width}}  " + "  ".join(f"{i:>3}" for i in range(len(self.targets)))]
        for source, got_row, want_row in zip(self.sources, self.measured, self.expected, strict=True):
            cells = [
                ("ok" if got else "--") + ("!" if got != want else " ")
                for got, want in zip(got_row, want_row, strict=True)
            ]
            lines.append(f"{source.namespace + '/' + source.name:{width}}  " + "  ".join(f"{c:>3}" for c in cells))
        lines += [f"  {i:>3} = {t.label} ({t.ip}:{t.port})" for i, t in enumerate(self.targets)]
        return "\n".join(lines)


def measure(kubectl: Kubectl) -> Matrix:
    lab_objects = running_pods(kubectl, NAMESPACE)
    probe_objects = running_pods(kubectl, PROBE_NAMESPACE)
    lab_pods = [Pod.from_object(p) for p in lab_objects]
    sources = [*lab_pods, *(Pod.from_object(p) for p in probe_objects)]
    containers = [p["spec"]["containers"][0]["name"] for p in (*lab_objects, *probe_objects)]
    targets = lab_targets(kubectl, lab_pods, lab_objects)
    policies = Policies(
        kubectl.get("networkpolicies", "-A")["items"],
        {ns["metadata"]["name"]: ns["metadata"].get("labels") or {} for ns in kubectl.get("namespaces")["items"]},
    )
    expected = [[policies.allows(s, t.backend, t.backend_port) for t in targets] for s in sources]
    with ThreadPoolExecutor(max_workers=len(sources)) as pool:
        measured = list(
            pool.map(lambda pair: knock(kubectl, pair[0], pair[1], targets), zip(sources, containers, strict=True))
        )
    return Matrix(sources, targets, measured, expected)


def settled_matrix(kubectl: Kubectl) -> Matrix:
    """The matrix once it matches the policies, or the last one measured after SETTLE seconds."""
    deadline = time.monotonic() + SETTLE
    while True:
        matrix = measure(kubectl)
        if not matrix.differences() or time.monotonic() > deadline:
            print(matrix.render())
            return matrix
        time.sleep(3)


def test_exactly_the_flows_the_policies_allow_get_through(lab: auto.Stack, kubectl: Kubectl) -> None:
    matrix = settled_matrix(kubectl)
    assert not matrix.differences(), "\n".join(matrix.differences())
    # The policies deny most of the matrix and allow some of it: both kinds of cell were seen.
    cells = [got for row in matrix.measured for got in row]
    assert any(cells)
    assert not all(cells)
    # The lab's own flows are among what got through: a client outside reaches both proxies,
    # init-demo reaches db.
    allowed = {
        (source.name, target.label)
        for source, row in zip(matrix.sources, matrix.measured, strict=True)
        for target, got in zip(matrix.targets, row, strict=True)
        if got
    }
    assert {(PROBE, "svc/ambassador-proxy:8443"), (PROBE, "svc/sidecar-proxy:8080")} <= allowed
    assert ("init-demo", "svc/db:6379") in allowed


def test_without_network_policies_every_flow_gets_through(lab: auto.Stack, kubectl: Kubectl) -> None:
    lab.set_config("networkPolicies", auto.ConfigValue("false"))
    try:
        assert lab.up(on_output=print).summary.result == "succeeded"
        assert kubectl.get("networkpolicies", "-n", NAMESPACE)["items"] == []
        matrix = settled_matrix(kubectl)
        assert not matrix.differences(), "\n".join(matrix.differences())
        assert all(got for row in matrix.measured for got in row)
    finally:
        lab.remove_config("networkPolicies")
    assert lab.up(on_output=print).summary.result == "succeeded"
