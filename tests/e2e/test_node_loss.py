"""A node lost with the lab on it (marker `node_loss`: `scripts/test.sh e2e` runs it on a cluster of
its own, which it leaves a node short). The lab comes up through the README's `scripts/up.sh` with
every pod on node-1 (node-0 cordoned meanwhile: it runs the cluster's DNS as a process of its own,
which no other node could take over), then every process of node-1 is killed at once, as at a power
loss. Measured from the kill: the node going NotReady, the Deployments' pods running on node-0, what
`pulumi preview` and `pulumi preview --refresh` plan meanwhile, the README's recovery ("A node
lost", run as written) bringing the bare Pods back, the lab checker passing on node-0, and `pulumi
destroy` with the node still down leaving nothing."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.e2e.support import ROOT, Kubectl, copy_project, local_stack, run_cli, shell, wait_until
from tests.workflows import README, readme_commands, readme_section

pytestmark = [pytest.mark.e2e, pytest.mark.node_loss]

NAMESPACE = "multi-container-demo"
LOST, LEFT = "node-1", "node-0"
STACK = "node-loss"


def pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    return kubectl.get("pods", "-n", NAMESPACE)["items"]


def running_on(kubectl: Kubectl, node: str) -> set[str]:
    """The lab's workloads with a pod Running and ready on ``node`` (a Deployment's by its label)."""
    found = set()
    for pod in pods(kubectl):
        status = pod["status"]
        statuses = status.get("containerStatuses") or []
        if (
            pod["spec"]["nodeName"] == node
            and status.get("phase") == "Running"
            and "deletionTimestamp" not in pod["metadata"]
            and all(s.get("ready") for s in statuses)
        ):
            found.add(pod["metadata"]["labels"]["app.kubernetes.io/name"])
    return found


def node_ready(kubectl: Kubectl, node: str) -> bool:
    conditions = kubectl.get("node", node)["status"]["conditions"]
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture
def project(tmp_path: Path, kubeconfig: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the tree whose stack `node-loss` has the node's images, and the environment the
    README's commands run in (that stack, its backend)."""
    work = copy_project(tmp_path / "project")
    state = tmp_path / "state"
    state.mkdir()
    stack = local_stack(work, state, kubeconfig, name=STACK)
    env = {**os.environ, **stack.workspace.env_vars, "PULUMI_STACK": STACK}
    yield work, env
    stack.destroy(on_output=print)
    stack.workspace.remove_stack(STACK)


def plan(work: Path, env: dict[str, str], *flags: str) -> dict[str, int]:
    """What `pulumi preview` (with ``flags``) would do, as its JSON summary counts it."""
    stack = auto.Stack.select(STACK, auto.LocalWorkspace(work_dir=str(work), env_vars=env))
    preview = run_cli(stack, "preview", "--json", *flags)
    return {op: count for op, count in json.loads(preview.stdout)["changeSummary"].items() if op != "same"}


def test_a_lost_node_s_lab_comes_back_on_the_node_left_and_goes_away_while_it_is_down(
    project: tuple[Path, dict[str, str]], kubectl: Kubectl
) -> None:
    work, env = project
    nodes = [node["metadata"]["name"] for node in kubectl.get("nodes")["items"]]
    if nodes != [LEFT, LOST]:
        pytest.skip(f"needs the two real nodes {LEFT} and {LOST} (E2E_NODES=2), not {nodes}")
    (run,) = readme_commands("Run")
    kubectl.run("cordon", LEFT)
    try:
        shell(work, f"{run} --yes", env)
    finally:
        kubectl.run("uncordon", LEFT)
    workloads = {p["metadata"]["labels"]["app.kubernetes.io/name"] for p in pods(kubectl)}
    assert running_on(kubectl, LOST) == workloads
    deployments = {d["metadata"]["name"] for d in kubectl.get("deployments", "-n", NAMESPACE)["items"]}
    bare = workloads - deployments

    timeline: dict[str, float] = {}
    killed = time.monotonic()
    subprocess.run([str(ROOT / "e2e" / "node.sh"), "kill", LOST.removeprefix("node-")], check=True, timeout=60)

    def mark(event: str) -> None:
        timeline[event] = round(time.monotonic() - killed, 1)
        print(f"{timeline[event]:7.1f} s  {event}")

    wait_until(f"{LOST} NotReady", lambda: not node_ready(kubectl, LOST), 180, interval=1)
    mark(f"{LOST} NotReady")
    # Meanwhile: the state still has every object, and the cluster reads them all there.
    meanwhile = {"preview": plan(work, env), "preview --refresh": plan(work, env, "--refresh")}
    mark(f"previews: {meanwhile}")
    assert "create" not in meanwhile["preview --refresh"], "the bare Pods still exist, Terminating or not"
    wait_until(
        "the Deployments' pods running on the node left",
        lambda: deployments <= running_on(kubectl, LEFT),
        300,
        interval=1,
    )
    mark(f"Deployments' pods running on {LEFT}")

    # The README's recovery, as written, for this node.
    section = readme_section(README.read_text(), "node lost")
    assert section is not None, "README: a section on a lost node"
    for line in section.lines:
        shell(work, line.replace("NODE", LOST), env)
        mark(line.split(" --field-selector")[0])
    wait_until(
        "the bare Pods running on the node left", lambda: workloads <= running_on(kubectl, LEFT), 300, interval=1
    )
    mark(f"bare Pods {sorted(bare)} running on {LEFT}")
    after = plan(work, env, "--refresh")
    assert after == {}, f"the stack and the cluster still differ: {after}"

    (check,) = readme_commands("lab")
    checked = shell(work, check, env, timeout=600)
    assert "FAIL" not in checked
    mark("lab checker passed")

    # The node still down: destroy leaves nothing, in well under the await timeout.
    assert not node_ready(kubectl, LOST)
    clean = readme_section(README.read_text(), "Clean")
    assert clean is not None
    (clean_up,) = clean.lines
    start = time.monotonic()
    shell(work, f"{clean_up} --yes", env)
    mark(f"destroyed, in {time.monotonic() - start:.0f} s")
    assert not kubectl.exists("namespace", NAMESPACE)
    print(json.dumps(timeline, indent=2))
