"""A classroom of two learners on the real nodes, one stack each, driven by `python -m classroom`
(scripts/classroom.sh): their pods spread over the nodes, each learner's kubeconfig walks the lab in
their own namespace and is refused everywhere else, the quota refuses a pod beyond the lab, a reset
rebuilds one learner's lab only, a learner who cannot be built does not stop the others, and taking
a learner off the list removes only their lab. Destroyed at the end."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from labcheck import LAB_PATTERNS, check, expectations, tls
from labcheck.report import TextReporter
from tests.e2e.support import Kubectl, local_stack, run_classroom

pytestmark = pytest.mark.e2e

LEARNERS = ("alice", "bob")
# A list setting of the class (every pattern, another order than the default's), which each
# learner's stack must get as a list: the project declares `patterns` an array of strings.
CLASS_PATTERNS = list(reversed(LAB_PATTERNS))


def namespace_of(learner: str) -> str:
    return f"multi-container-{learner}"


def set_learners(class_stack: auto.Stack, learners: tuple[str, ...]) -> None:
    class_stack.set_config("learners", auto.ConfigValue(json.dumps(list(learners))))


@pytest.fixture(scope="module")
def classroom(project_dir: Path, state_dir: Path, kubeconfig: str, kubectl: Kubectl) -> Iterator[auto.Stack]:
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("the learners' commands need the real node (E2E_NODE=real): kwok runs no containers")
    class_stack = local_stack(project_dir, state_dir, kubeconfig, name="classroom")
    set_learners(class_stack, LEARNERS)
    class_stack.set_all_config(
        {f"patterns[{index}]": auto.ConfigValue(pattern) for index, pattern in enumerate(CLASS_PATTERNS)}, path=True
    )
    run_classroom(class_stack, "up", "--yes")
    yield class_stack
    run_classroom(class_stack, "destroy", "--yes")
    remaining = [s.name for s in class_stack.workspace.list_stacks() if s.name.startswith("classroom.")]
    assert remaining == [], remaining
    class_stack.workspace.remove_stack("classroom")


@pytest.fixture(scope="module")
def learner_kubeconfigs(classroom: auto.Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each learner's kubeconfig file, as the instructor hands them out (scripts/kubeconfigs.sh):
    written from each learner's stack's secret output, readable by the instructor only."""
    directory = tmp_path_factory.mktemp("learners") / "handout"
    written = run_classroom(classroom, "kubeconfigs", str(directory))
    paths = {Path(line).stem: line for line in written.stdout.split()}
    assert sorted(paths) == sorted(LEARNERS)
    for learner, path in paths.items():
        output = auto.Stack.select(f"classroom.{learner}", classroom.workspace).outputs()["learner_kubeconfig"]
        assert output.secret
        assert Path(path).read_text() == output.value
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600, path
    classroom.workspace.select_stack("classroom")
    return paths


def _namespaces(classroom: auto.Stack) -> dict[str, str]:
    learners = json.loads(classroom.get_config("learners").value)
    return {learner: namespace_of(learner) for learner in learners}


def test_each_learners_stack_has_the_class_settings_with_its_own_learner(classroom: auto.Stack) -> None:
    for learner in LEARNERS:
        config = auto.Stack.select(f"classroom.{learner}", classroom.workspace).get_all_config()
        assert json.loads(config["multi-container-patterns:patterns"].value) == CLASS_PATTERNS
        assert config["multi-container-patterns:learner"].value == learner
        # `learners` is the class's; a learner's stack has the project's default, no one.
        assert json.loads(config["multi-container-patterns:learners"].value) == []


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


def test_the_preview_of_a_built_class_shows_no_change_for_anyone(classroom: auto.Stack) -> None:
    result = run_classroom(classroom, "preview")
    for learner in LEARNERS:
        assert any(line.split()[:4] == [learner, "preview", "ok", "no"] for line in result.stdout.splitlines()), learner


def test_a_reset_rebuilds_one_learners_lab_and_touches_no_one_else(classroom: auto.Stack, kubectl: Kubectl) -> None:
    before = {learner: _pod_uids(kubectl, namespace_of(learner)) for learner in LEARNERS}
    run_classroom(classroom, "reset", "alice", "--yes")
    after = {learner: _pod_uids(kubectl, namespace_of(learner)) for learner in LEARNERS}
    assert after["bob"] == before["bob"]
    assert sorted(name.rsplit("-", 2)[0] for name in after["alice"]) == sorted(
        name.rsplit("-", 2)[0] for name in before["alice"]
    )
    assert not set(after["alice"].values()) & set(before["alice"].values())


def test_a_learner_who_cannot_be_built_does_not_stop_the_others(classroom: auto.Stack, kubectl: Kubectl) -> None:
    """carol's namespace is taken (someone made it by hand): her stack fails, the output and the exit
    status say so, and the rest of the class is brought up to date all the same."""
    taken = namespace_of("carol")
    kubectl.run("create", "namespace", taken)
    try:
        set_learners(classroom, ("alice", "carol", "bob"))
        before = {learner: _pod_uids(kubectl, namespace_of(learner)) for learner in LEARNERS}
        result = run_classroom(classroom, "up", "--yes", check=False)
        assert result.returncode == 1
        assert "failed for 1 learner(s): carol" in result.stderr
        lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
        assert lines["carol"].split()[1:3] == ["up", "FAILED"]
        assert "already exists" in result.stdout
        for learner in LEARNERS:
            assert lines[learner].split()[1:3] == ["up", "ok"], lines[learner]
            assert _pod_uids(kubectl, namespace_of(learner)) == before[learner]
    finally:
        set_learners(classroom, LEARNERS)
        kubectl.run("delete", "namespace", taken, "--wait=true", timeout=120)


def test_taking_a_learner_off_the_list_removes_only_their_lab(classroom: auto.Stack, kubectl: Kubectl) -> None:
    alice_pods = _pod_uids(kubectl, namespace_of("alice"))
    set_learners(classroom, ("alice",))
    result = run_classroom(classroom, "up", "--yes")
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("  ") and line.split()]
    assert lines[0][:5] == ["alice", "up", "ok", "no", "changes"], lines
    assert [line[:3] for line in lines if line[0] == "bob"] == [["bob", "destroy", "ok"]]
    # carol's stack (the failed learner above) is taken away as well: she is no longer listed.
    assert not kubectl.exists("namespace", namespace_of("bob"))
    assert _pod_uids(kubectl, namespace_of("alice")) == alice_pods
    stacks = {s.name for s in classroom.workspace.list_stacks()}
    assert "classroom.bob" not in stacks
    assert "classroom.alice" in stacks


def _pod_uids(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    return {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in kubectl.get("pods", "-n", namespace)["items"]}
