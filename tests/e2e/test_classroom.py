"""A classroom of two learners on the real nodes: their pods spread over the nodes, each learner's
kubeconfig walks the lab in their own namespace and is refused everywhere else, the quota refuses
a pod beyond the lab, and taking a learner off the list removes only their namespace. Its own
stack, destroyed at the end."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from labcheck import LAB_PATTERNS, check, expectations, tls
from labcheck.report import TextReporter
from tests.e2e.support import ROOT, Kubectl, local_stack

pytestmark = pytest.mark.e2e

LEARNERS = ("alice", "bob")


@pytest.fixture(scope="module")
def classroom(project_dir: Path, state_dir: Path, kubeconfig: str, kubectl: Kubectl) -> Iterator[auto.Stack]:
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("the learners' commands need the real node (E2E_NODE=real): kwok runs no containers")
    stack = local_stack(project_dir, state_dir, kubeconfig, name="classroom")
    for index, learner in enumerate(LEARNERS):
        stack.set_config(f"learners[{index}]", auto.ConfigValue(learner), path=True)
    result = stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    yield stack
    stack.destroy(on_output=print)
    stack.workspace.remove_stack("classroom")


@pytest.fixture(scope="module")
def learner_kubeconfigs(classroom: auto.Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each learner's kubeconfig file, as the instructor hands them out: scripts/kubeconfigs.sh
    writes them from the stack's secret output."""
    output = classroom.outputs()["learner_kubeconfigs"]
    assert output.secret
    directory = tmp_path_factory.mktemp("learners") / "handout"
    written = subprocess.run(
        [str(ROOT / "scripts" / "kubeconfigs.sh"), str(directory)],
        env={**os.environ, **classroom.workspace.env_vars, "PULUMI_STACK": classroom.name},
        capture_output=True,
        text=True,
        check=True,
    )
    paths = {Path(line).stem: line for line in written.stdout.split()}
    assert sorted(paths) == sorted(LEARNERS)
    for learner, path in paths.items():
        assert Path(path).read_text() == output.value[learner]
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600, path
    return paths


def _namespaces(classroom: auto.Stack) -> dict[str, str]:
    return classroom.outputs()["namespaces"].value


def test_the_learners_pods_spread_over_the_nodes(classroom: auto.Stack, kubectl: Kubectl) -> None:
    nodes = {node["metadata"]["name"] for node in kubectl.get("nodes")["items"]}
    placed = {
        pod["metadata"]["name"]: pod["spec"]["nodeName"]
        for namespace in _namespaces(classroom).values()
        for pod in kubectl.get("pods", "-n", namespace)["items"]
    }
    print(placed)
    assert set(placed.values()) == nodes


@pytest.mark.parametrize("learner", LEARNERS)
def test_each_learner_walks_the_lab_in_their_namespace_with_their_own_kubeconfig(
    classroom: auto.Stack, learner_kubeconfigs: dict[str, str], learner: str
) -> None:
    namespace = _namespaces(classroom)[learner]
    report = check(
        LAB_PATTERNS, namespace=namespace, kubeconfig=learner_kubeconfigs[learner], reporter=TextReporter(sys.stdout)
    )
    # Only what the checker reads beyond the lab's commands is refused to a learner: the node
    # (cluster-wide) and the ambassador's TLS Secret (a learner reads no Secret). So exactly the
    # two expectations that need them fail, and every other one holds.
    refused = [c.command for r in report.patterns for c in r.commands if _forbidden(c.output)]
    assert len(refused) == 2, refused
    assert any("describe node" in line for line in refused), refused
    assert any("get secret" in line for line in refused), refused
    failed = {v.expectation for r in report.patterns for v in r.failures}
    assert failed == {expectations.NODE_COUNTS_SIDECAR, tls.PRESENTS_SECRET_CERTIFICATE}, failed
    # Every lab command itself ran for the learner.
    readme_commands = [c for r in report.patterns for c in r.commands if c.readme]
    assert readme_commands
    assert not [c.command for c in readme_commands if _forbidden(c.output)]
    assert [c for c in readme_commands if c.output is not None and c.output.exit_code == 0]


def _forbidden(output: object) -> bool:
    return output is not None and "forbidden" in getattr(output, "stderr", "").lower()


def test_a_learner_is_forbidden_outside_their_lab(classroom: auto.Stack, learner_kubeconfigs: dict[str, str]) -> None:
    namespaces = _namespaces(classroom)
    alice = Kubectl(learner_kubeconfigs["alice"])
    assert alice.run("get", "pods", "-n", namespaces["alice"]).returncode == 0
    refused = {
        "another learner's pods": ("get", "pods", "-n", namespaces["bob"]),
        "another learner's logs": ("logs", "sidecar-logging", "-c", "app", "-n", namespaces["bob"]),
        "Secrets of their own namespace": ("get", "secrets", "-n", namespaces["alice"]),
        "nodes": ("get", "nodes"),
        "pods of every namespace": ("get", "pods", "--all-namespaces"),
        "namespaces": ("get", "namespaces"),
        "changing a workload": ("scale", "deployment", "sidecar-proxy", "--replicas=2", "-n", namespaces["alice"]),
        "creating a pod": ("run", "extra", "--image=busybox:1.36", "-n", namespaces["alice"]),
    }
    for what, args in refused.items():
        result = alice.run(*args, check=False)
        assert result.returncode != 0, what
        assert "forbidden" in result.stderr.lower(), (what, result.stderr)


def test_a_pod_beyond_the_quota_is_refused(classroom: auto.Stack, kubectl: Kubectl) -> None:
    namespace = _namespaces(classroom)["alice"]
    quota = kubectl.get("resourcequota", "lab", "-n", namespace)
    # The lab's pods are all counted, with room for one rolling update and nothing more.
    assert int(quota["status"]["used"]["pods"]) == len(kubectl.get("pods", "-n", namespace)["items"])
    extra = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "one-too-many"},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "c",
                    "image": "busybox:1.36",
                    "securityContext": {
                        "runAsUser": 65534,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "64Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                }
            ],
        },
    }
    refused = kubectl.run("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(extra), check=False)
    assert refused.returncode != 0
    assert "exceeded quota: lab" in refused.stderr, refused.stderr


def test_taking_a_learner_off_the_list_removes_only_their_namespace(classroom: auto.Stack, kubectl: Kubectl) -> None:
    namespaces = _namespaces(classroom)
    alice_pods = {
        p["metadata"]["name"]: p["metadata"]["uid"] for p in kubectl.get("pods", "-n", namespaces["alice"])["items"]
    }
    classroom.remove_config("learners[1]", path=True)
    result = classroom.up(on_output=print)
    changes = {getattr(op, "value", op): n for op, n in (result.summary.resource_changes or {}).items()}
    assert set(changes) <= {"same", "delete"}, changes
    assert not kubectl.exists("namespace", namespaces["bob"])
    after = {
        p["metadata"]["name"]: p["metadata"]["uid"] for p in kubectl.get("pods", "-n", namespaces["alice"])["items"]
    }
    assert after == alice_pods
    assert _namespaces(classroom) == {"alice": namespaces["alice"]}


def _pod_uids(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    return {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in kubectl.get("pods", "-n", namespace)["items"]}
