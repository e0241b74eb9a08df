"""The lab walked on the real node, command by command, with the checker users run
(`scripts/lab.sh check`, the `labcheck` package): every pattern, then the four experiments, then
`pulumi destroy`. Tests run in file order on one stack; the module brings the lab up and leaves
the stack empty, as it found it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from labcheck import LAB_PATTERNS, LabReport, check
from labcheck.report import TextReporter
from multicontainer_patterns._defaults import FIRST_UNALLOCATED_UID
from multicontainer_patterns._lab import POD_SECURITY_VERSION
from tests.e2e.support import ROOT, Kubectl

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
# The exit code of a container that outlived its grace period: SIGKILL (128 + 9).
KILLED = 137


@pytest.fixture(scope="module")
def lab(stack: auto.Stack, kubectl: Kubectl) -> Iterator[auto.Stack]:
    """The lab up, every pod Ready (`pulumi up` awaits them)."""
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("the lab's behaviour needs the real node (E2E_NODE=real): kwok runs no containers")
    result = stack.up(on_output=print)
    assert result.summary.result == "succeeded"
    yield stack
    # Whatever a failed test left behind; the last test destroys the stack itself.
    stack.destroy(on_output=print)


def walk(kubeconfig: str, *patterns: str, experiments: tuple[str, ...] = ()) -> LabReport:
    """The checker's walk, printed as it goes (pytest shows it when a test fails)."""
    reporter = TextReporter(sys.stdout)
    return check(patterns or LAB_PATTERNS, kubeconfig=kubeconfig, experiments=experiments, reporter=reporter)


def failures(report: LabReport) -> list[str]:
    return [f"{r.pattern}: {v.expectation}: {v.reason}" for r in report.patterns for v in r.failures]


def experiment_verdicts(report: LabReport, number: int) -> list[str]:
    return [v.reason for r in report.patterns for v in r.verdicts if f"experiment {number} is on" in v.reason]


def test_the_checker_walks_every_pattern_and_each_behaves_as_the_lab_says(lab: auto.Stack, kubeconfig: str) -> None:
    # As a learner runs it, from a shell: exit status and its closing line.
    run = subprocess.run(
        [str(ROOT / "scripts" / "lab.sh"), "check", "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    print(run.stdout, run.stderr)
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.stdout.rstrip().splitlines()[-1] == f"{len(LAB_PATTERNS)} passed, 0 failed"
    # The same walk through the package, for what each expectation saw.
    report = walk(kubeconfig)
    assert report.passed, failures(report)
    assert [r.pattern for r in report.patterns] == list(LAB_PATTERNS)
    assert not any(experiment_verdicts(report, n) for n in (2, 3))


BREAKS_RESTRICTED = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "runs-as-root"},
    "spec": {"containers": [{"name": "root", "image": "busybox", "securityContext": {"runAsUser": 0}}]},
}


def test_the_api_server_enforces_pod_security_restricted_in_the_namespace(lab: auto.Stack, kubectl: Kubectl) -> None:
    labels = kubectl.get("namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The lab's pods were admitted under it: every one of them runs.
    pods = kubectl.get("pods", "-n", NAMESPACE)["items"]
    assert pods
    assert all(pod["status"]["phase"] == "Running" for pod in pods)
    # A pod that breaks it is refused (a server-side dry run goes through admission).
    refused = kubectl.run(
        "apply", "--dry-run=server", "-n", NAMESPACE, "-f", "-", input=json.dumps(BREAKS_RESTRICTED), check=False
    )
    assert refused.returncode != 0
    assert f'violates PodSecurity "restricted:{POD_SECURITY_VERSION}"' in refused.stderr
    assert "runAsNonRoot != true" in refused.stderr


def test_every_running_container_runs_as_a_user_no_distribution_allocates(lab: auto.Stack, kubectl: Kubectl) -> None:
    checked = 0
    for pod in kubectl.get("pods", "-n", NAMESPACE)["items"]:
        for status in pod["status"]["containerStatuses"] + pod["status"].get("initContainerStatuses", []):
            if "running" not in status["state"]:
                continue
            name = pod["metadata"]["name"]
            uid = kubectl.run("exec", "-n", NAMESPACE, name, "-c", status["name"], "--", "id", "-u").stdout.strip()
            assert int(uid) >= FIRST_UNALLOCATED_UID, (name, status["name"], uid)
            checked += 1
    assert checked >= len(LAB_PATTERNS)


def test_experiment_1_a_killed_native_sidecar_restarts_and_the_app_keeps_running(
    lab: auto.Stack, kubeconfig: str, kubectl: Kubectl
) -> None:
    report = walk(kubeconfig, "native-sidecar", experiments=("sidecar-restart",))
    assert report.passed, failures(report)
    restarted = [v for r in report.patterns for v in r.verdicts if "restarts on its own" in v.expectation]
    assert [v.passed for v in restarted] == [True]
    pod = kubectl.get("pods", "-n", NAMESPACE, "-l", "app=sidecar-proxy")["items"][0]
    statuses = {s["name"]: s for s in [*pod["status"]["initContainerStatuses"], *pod["status"]["containerStatuses"]]}
    assert statuses["proxy"]["restartCount"] >= 1
    assert statuses["app"]["restartCount"] == 0


def walk_an_experiment(
    lab: auto.Stack, kubeconfig: str, *, setting: str, value: str, pattern: str, number: int
) -> None:
    """Switch an experiment on as the README says, see the checker find its stuck pod, switch it off
    and see the pattern behave again."""
    lab.set_config(setting, auto.ConfigValue(value))
    try:
        result = lab.up(on_output=print)
        assert result.summary.result == "succeeded"
        assert any(setting in note for note in result.outputs["experiments"].value)
        report = walk(kubeconfig, pattern)
        assert report.passed, failures(report)
        assert experiment_verdicts(report, number), f"the checker did not see experiment {number}'s stuck pod"
    finally:
        lab.remove_config(setting)
    lab.up(on_output=print)
    report = walk(kubeconfig, pattern)
    assert report.passed, failures(report)
    assert not experiment_verdicts(report, number)


def test_experiment_2_without_native_sidecars_the_app_never_starts_and_undoing_it_heals(
    lab: auto.Stack, kubeconfig: str
) -> None:
    walk_an_experiment(lab, kubeconfig, setting="nativeSidecar", value="false", pattern="native-sidecar", number=2)


def test_experiment_3_a_failing_init_container_holds_the_pod_in_init_and_undoing_it_heals(
    lab: auto.Stack, kubeconfig: str
) -> None:
    # Undoing it replaces the failing pod with the working one, which waits for it to be gone.
    walk_an_experiment(lab, kubeconfig, setting="failingInit", value="true", pattern="init-containers", number=3)


def test_destroy_removes_everything_and_every_container_stops_on_sigterm(
    lab: auto.Stack, kubectl: Kubectl, tmp_path: Path
) -> None:
    # Every state each container reaches while the lab goes away, from a watch.
    watch_log = tmp_path / "watch.json"
    with watch_log.open("w") as sink:
        watch = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubectl.kubeconfig, "get", "pods", "-n", NAMESPACE, "-w", "-o", "json"],
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)  # the watch's first listing
            started = time.perf_counter()
            result = lab.destroy(on_output=print)
            seconds = time.perf_counter() - started
        finally:
            watch.terminate()
            watch.wait(timeout=10)
    assert result.summary.result == "succeeded"
    print(f"pulumi destroy took {seconds:.1f} s")
    assert not kubectl.exists("namespace", NAMESPACE)
    exits = terminations(watch_log.read_text())
    assert exits, "the watch saw no container stop"
    # A container still running at the end of its grace period is killed: exit code 137.
    killed = {container: code for container, code in exits.items() if code == KILLED}
    assert not killed, f"killed after their grace period: {killed}"


def terminations(watch_output: str) -> dict[str, int]:
    """pod/container -> the exit code of its last termination, from `kubectl get -w -o json`."""
    decoder = json.JSONDecoder()
    exits: dict[str, int] = {}
    position = 0
    while True:
        while position < len(watch_output) and watch_output[position].isspace():
            position += 1
        if position >= len(watch_output):
            return exits
        pod, position = decoder.raw_decode(watch_output, position)
        status = pod.get("status", {})
        for container in [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]:
            terminated = (container.get("state") or {}).get("terminated")
            if terminated:
                exits[f"{pod['metadata']['name']}/{container['name']}"] = terminated["exitCode"]
