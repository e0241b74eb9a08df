"""Faults a real `pulumi up` meets, on the local cluster with the plain CLI: interrupted by Ctrl-C
or killed at several points, an API server that goes away during `up` and during `destroy`, and
two runs at once. Each test has a stack and a namespace of its own, recovers the way the README's
Troubleshooting section says, and checks the cluster's objects (by kind, name and uid) and the
stack's state afterwards: nothing lost, nothing twice, nothing the state does not know of."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from recovery import checkpoint_files, file_backend_root, has_ended, process_stat
from recovery.__main__ import LAB_SELECTOR
from tests import k8s
from tests.e2e.support import ROOT, Kubectl, kubectl_resource, local_stack, run_cli, wait_until
from tests.harness import ProgramRun, run_program

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
PART_OF = "app.kubernetes.io/part-of=multi-container-patterns"
# The fault tests' awaitTimeoutSeconds: what the provider waits at most for an object, here where
# the images are on the node and pods are ready in seconds.
AWAIT_TIMEOUT = 60
# What the next run says after a kill: the dead run's lock; or, when the kill cut short a write of
# the state's attributes file, that the state cannot be read (the file backend writes that file in
# place), until scripts/recover.sh clears what the write left.
REFUSED_AFTER_A_KILL = ("the stack is currently locked by 1 lock(s)", "failed to load checkpoint: EOF")
# What the classroom driver says instead when such a write left a learner's stack unreadable: the
# backend's stacks cannot be listed at all; it names the learners' stacks the kill cut short.
CLASS_CUT_SHORT = "the backend's stacks cannot be read (a run killed while it wrote their state cut it short: "
# Longest a CLI may take to give up once the API server is gone: the await timeout and the
# engine's wind-down, with room for a slow machine. Beyond it, the run counts as hung.
GIVE_UP_WITHIN = AWAIT_TIMEOUT + 120


def _session_members(session: int) -> list[int]:
    """The session's processes still running (a zombie has ended: it only waits to be collected)."""
    members = []
    for pid in (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()):
        stat = process_stat(pid)
        # state ppid pgrp session ...
        if stat is not None and int(stat[3]) == session and not has_ended(stat):
            members.append(pid)
    return members


@dataclass
class Run:
    """A CLI run in the background, its output in a file."""

    process: subprocess.Popen[str]
    log: Path

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the CLI's process group (its plugins run in groups of their own)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        """SIGKILL to every process of the run's session, the CLI and its plugins: what a closed
        laptop or a cancelled CI job does."""
        for pid in _session_members(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # What the user does next comes after the processes are gone, not while the kill lands.
        wait_until("the run's processes to end", lambda: not _session_members(self.process.pid), timeout=30)

    def wait(self, timeout: float) -> int:
        """The run's exit status; fails the test when the run does not end within ``timeout``."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
            pytest.fail(f"{self.process.args} still ran after {timeout} s:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text()


@dataclass
class Lab:
    """A stack of the lab in a namespace of its own."""

    stack: auto.Stack
    namespace: str
    kubectl: Kubectl
    work: Path
    declared: ProgramRun
    """What the program registers for this namespace (under mocks)."""

    def start(self, *args: str) -> Run:
        """The plain CLI in a session of its own, so a signal reaches it and its plugins together,
        as Ctrl-C in a terminal does."""
        log = self.work / f"{self.stack.name}-{args[0]}-{time.monotonic_ns()}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["pulumi", *args, "--stack", self.stack.name, "--non-interactive"],
                cwd=self.stack.workspace.work_dir,
                env={**os.environ, **self.stack.workspace.env_vars},
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        return Run(process, log)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(self.stack, *args, check=check)

    def recover(self) -> subprocess.CompletedProcess[str]:
        """scripts/recover.sh, as the README says to run it after a killed run."""
        return recover_sh(self.stack)

    def objects(self) -> dict[str, str]:
        """kind/name -> uid of the lab's objects in the cluster, the namespace included."""
        found = {}
        if self.kubectl.exists("namespace", self.namespace):
            namespace = self.kubectl.get("namespace", self.namespace)
            found[f"Namespace/{self.namespace}"] = namespace["metadata"]["uid"]
        kinds = sorted(
            {kubectl_resource(r.type) for r in self.declared.kubernetes_objects() if r.type != NAMESPACE_TYPE}
        )
        listed = self.kubectl.get(",".join(kinds), "-n", self.namespace, "-l", PART_OF)["items"]
        # What the program declares, not what controllers make from it (a Deployment's pods).
        for item in (i for i in listed if not i["metadata"].get("ownerReferences")):
            found[f"{item['kind']}/{item['metadata']['name']}"] = item["metadata"]["uid"]
        return found

    def state(self) -> Mapping[str, Any]:
        """The stack's last whole state, read from the file backend as `pulumi stack export` prints
        it; unlike the CLI, also while a killed run's cut-short write leaves the stack unreadable."""
        root = file_backend_root(self.stack.workspace.env_vars["PULUMI_BACKEND_URL"])
        assert root is not None
        project = yaml.safe_load((Path(self.stack.workspace.work_dir) / "Pulumi.yaml").read_text())["name"]
        files = checkpoint_files(root, project, self.stack.name)
        return (json.loads(files[0].read_text())["checkpoint"].get("latest") or {}) if files else {}

    def state_objects(self) -> dict[str, str]:
        """kind/name -> uid of the Kubernetes objects the state records."""
        recorded = {}
        for resource in self.state().get("resources") or []:
            if resource["type"].startswith("kubernetes:") and resource.get("custom") and resource.get("outputs"):
                outputs = resource["outputs"]
                recorded[f"{outputs['kind']}/{outputs['metadata']['name']}"] = outputs["metadata"]["uid"]
        return recorded

    def assert_converged(self) -> None:
        """The cluster holds exactly the objects the program declares, each once, each recorded in
        the state with its uid, with no pending operation and nothing left to change."""
        expected = Counter(k8s.group_version_kind(r.type)[2] for r in self.declared.kubernetes_objects())
        in_cluster = self.objects()
        assert Counter(key.split("/")[0] for key in in_cluster) == expected
        assert self.state_objects() == in_cluster
        assert not self.state().get("pending_operations")
        self.cli("preview", "--expect-no-changes")

    def recover_then_up(self, recorded: Mapping[str, str], fault: str) -> None:
        """scripts/recover.sh, then `up`: what the state recorded is untouched, what it did not is
        gone from the cluster, and the lab converges with every recorded object kept (same uid)."""
        recovered = self.recover()
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        assert not self.state().get("pending_operations")
        assert self.state_objects() == recorded
        assert self.objects() == recorded, f"recovery:\n{recovered.stdout}"
        self.cli("up", "--yes", "--skip-preview")
        self.assert_converged()
        after = self.objects()
        assert {key: after[key] for key in recorded} == recorded, f"an object recorded before {fault} was made again"

    def destroy_and_assert_gone(self) -> None:
        self.cli("destroy", "--yes", "--skip-preview")
        assert self.objects() == {}
        assert not self.state().get("resources")


def recover_sh(stack: auto.Stack) -> subprocess.CompletedProcess[str]:
    """The README's `scripts/recover.sh` on ``stack`` (a class's: every learner's), in the copy of
    the tree the stack's workspace is, with the stack's backend."""
    result = subprocess.run(
        ["scripts/recover.sh", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env={**os.environ, **stack.workspace.env_vars},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    print(result.stdout, result.stderr)
    return result


@pytest.fixture
def make_lab(
    project_dir: Path, state_dir: Path, kubeconfig: str, kubectl: Kubectl, tmp_path: Path
) -> Iterator[Callable[[str], Lab]]:
    made: list[Lab] = []

    def make(name: str) -> Lab:
        stack = local_stack(project_dir, state_dir, kubeconfig, name=name)
        stack.set_config("namespace", auto.ConfigValue(name))
        stack.set_config("awaitTimeoutSeconds", auto.ConfigValue(str(AWAIT_TIMEOUT)))
        lab = Lab(stack, name, kubectl, tmp_path, run_program({"namespace": name}))
        made.append(lab)
        return lab

    yield make
    for lab in made:
        # Whatever a failed test left: its lock, its objects, its stack.
        lab.recover()
        lab.cli("destroy", "--yes", "--skip-preview", check=False)
        lab.stack.workspace.remove_stack(lab.stack.name, force=True)


def _bare_pods(lab: Lab) -> int:
    return len(lab.kubectl.get("pods", "-n", lab.namespace, "-l", PART_OF)["items"])


@dataclass(frozen=True)
class InterruptPoint:
    reached: Callable[[Lab], bool]
    in_flight: bool
    """Whether creates are surely under way then (pods wait to become ready): a kill leaves them pending."""


# Where a run is interrupted: right after the namespace exists, and when most of the lab's pods do.
INTERRUPT_POINTS = {
    "after-namespace": InterruptPoint(lambda lab: lab.kubectl.exists("namespace", lab.namespace), in_flight=False),
    "mid-pods": InterruptPoint(
        lambda lab: lab.kubectl.exists("namespace", lab.namespace) and _bare_pods(lab) >= 3, in_flight=True
    ),
}


def start_up_until(lab: Lab, point: str) -> Run:
    """`pulumi up` of the lab in the background, once it has reached ``point``."""
    run = lab.start("up", "--yes", "--skip-preview")
    wait_until(point, lambda: INTERRUPT_POINTS[point].reached(lab))
    return run


@pytest.mark.parametrize("point", list(INTERRUPT_POINTS))
def test_ctrl_c_during_up_is_repaired_by_recover_and_the_next_up_converges(
    make_lab: Callable[[str], Lab], point: str
) -> None:
    lab = make_lab(f"int-{point}")
    run = start_up_until(lab, point)
    run.interrupt()
    assert run.wait(timeout=GIVE_UP_WITHIN) != 0
    wait_until("the plugins to stop with the CLI", lambda: not _session_members(run.process.pid), timeout=30)
    # Ctrl-C lets the operations under way finish and records them: no lock, nothing pending. A
    # create cancelled after its request reached the API server leaves an object without a record.
    assert not lab.state().get("pending_operations")
    lab.recover_then_up(lab.state_objects(), "Ctrl-C")
    lab.destroy_and_assert_gone()


# A kind the lab has one object of, with a dependent (the ambassador's Pod mounts its Secret).
FORGOTTEN_TYPE = "kubernetes:core/v1:Secret"


def test_recover_deletes_what_the_provider_wrote_of_a_kind_the_state_no_longer_records_and_nothing_else(
    make_lab: Callable[[str], Lab], kubectl: Kubectl
) -> None:
    """Objects the provider wrote that the state does not record, of a kind the state records none
    of (what a run stopped right after its namespace can leave): scripts/recover.sh deletes them.
    What a controller made with the lab's labels (a Service's Endpoints) and an object made with
    kubectl with the lab's labels stay; the next `up` makes the forgotten objects again."""
    lab = make_lab("forgotten")
    lab.cli("up", "--yes", "--skip-preview")
    resources = lab.state()["resources"]
    [secret] = [r for r in resources if r["type"] == FORGOTTEN_TYPE]
    lab.cli("state", "delete", secret["urn"], "--target-dependents", "--yes")
    recorded = lab.state_objects()
    forgotten = set(lab.objects()) - set(recorded)
    assert f"Secret/{secret['outputs']['metadata']['name']}" in forgotten
    assert not any(r["type"] == FORGOTTEN_TYPE for r in lab.state()["resources"])

    def labelled() -> dict[str, str]:
        """kind/name -> uid of the Endpoints and ConfigMaps with the lab's labels."""
        listed = kubectl.get("endpoints,configmap", "-n", lab.namespace, "-l", LAB_SELECTOR)["items"]
        return {f"{item['kind']}/{item['metadata']['name']}": item["metadata"]["uid"] for item in listed}

    kubectl.run("create", "configmap", "notes", "-n", lab.namespace, "--from-literal=mine=yes")
    kubectl.run("label", "configmap", "notes", "-n", lab.namespace, *LAB_SELECTOR.split(","))
    kept = {key: uid for key, uid in labelled().items() if key.startswith("Endpoints/") or key == "ConfigMap/notes"}
    assert "ConfigMap/notes" in kept
    assert any(key.startswith("Endpoints/") for key in kept), kept

    recovered = lab.recover()
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    for key in forgotten:
        kind, name = key.split("/")
        assert f"{kind} {lab.namespace}/{name} is in the cluster but not in the state" in recovered.stdout
    assert set(lab.objects()) - {"ConfigMap/notes"} == set(recorded), recovered.stdout
    still = labelled()
    assert {key: still.get(key) for key in kept} == kept, recovered.stdout

    kubectl.run("delete", "configmap", "notes", "-n", lab.namespace)
    lab.cli("up", "--yes", "--skip-preview")
    lab.assert_converged()
    lab.destroy_and_assert_gone()


@pytest.mark.parametrize("point", list(INTERRUPT_POINTS))
def test_a_killed_up_is_repaired_by_recover_and_the_next_up_converges(
    make_lab: Callable[[str], Lab], point: str
) -> None:
    lab = make_lab(f"kill-{point}")
    run = start_up_until(lab, point)
    run.kill()
    run.wait(timeout=30)
    in_cluster = lab.objects()
    recorded = lab.state_objects()
    pending = [op["resource"]["urn"] for op in lab.state().get("pending_operations") or []]
    if INTERRUPT_POINTS[point].in_flight:
        # Pods waiting to become ready: created in the cluster, not recorded in the state.
        assert set(in_cluster) - set(recorded), f"the kill came too late to leave anything behind: {pending}"
    # What the user meets: the dead run's lock refuses the next up, which changes nothing.
    refused = lab.cli("up", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0
    assert any(message in refused.stderr for message in REFUSED_AFTER_A_KILL), refused.stderr
    assert lab.objects() == in_cluster
    lab.recover_then_up(recorded, "the kill")
    lab.destroy_and_assert_gone()


def test_a_second_up_of_a_running_stack_is_refused_and_another_stack_runs_beside_it(
    make_lab: Callable[[str], Lab],
) -> None:
    first, other = make_lab("twice-a"), make_lab("twice-b")
    running = first.start("up", "--yes", "--skip-preview")
    wait_until("the first up to begin", lambda: first.kubectl.exists("namespace", first.namespace))
    beside = other.start("up", "--yes", "--skip-preview")
    second = first.cli("up", "--yes", "--skip-preview", check=False)
    assert second.returncode != 0
    # Refused by the lock; or, when it reads the stack's state while the running `up` writes it,
    # before it gets to the lock: the file backend writes the state's attributes file in place
    # (pulumi/pulumi#9033; recovery.interrupted_write_leftovers), and the reader sees it empty.
    # Either way it changes nothing.
    locked = "the stack is currently locked by 1 lock(s)" in second.stderr
    assert locked or second.stderr.strip() == "error: failed to load checkpoint: EOF", second.stderr
    if locked:
        assert "Either wait for the other process(es) to end" in second.stderr
    assert running.wait(timeout=GIVE_UP_WITHIN) == 0, running.output()
    assert beside.wait(timeout=GIVE_UP_WITHIN) == 0, beside.output()
    # The refused run made nothing: the first one's objects are the program's, each once.
    first.assert_converged()
    other.assert_converged()
    others = other.objects()
    first.destroy_and_assert_gone()
    assert other.objects() == others, "destroying one stack touched the other"
    other.destroy_and_assert_gone()


@contextlib.contextmanager
def api_server_away(kubectl: Kubectl) -> Iterator[None]:
    """The cluster's control plane stopped (the API server, the controller manager and the
    scheduler; etcd and the node keep running), and started again on the way out, as a
    restarting cluster does, until the node's kubelet is back in touch with it."""
    cluster = [str(ROOT / "e2e" / "cluster.sh"), "control-plane"]
    subprocess.run([*cluster, "stop"], check=True, timeout=60)
    try:
        yield
    finally:
        subprocess.run([*cluster, "start"], check=True, timeout=180)
        back = datetime.datetime.now(datetime.UTC)
        leases = [n["metadata"]["name"] for n in kubectl.get("nodes")["items"]]

        def kubelets_renewed() -> bool:
            for node in leases:
                renewed = kubectl.get("lease", node, "-n", "kube-node-lease")["spec"]["renewTime"]
                if datetime.datetime.fromisoformat(renewed.replace("Z", "+00:00")) <= back:
                    return False
            return True

        wait_until("the kubelet to renew its lease", kubelets_renewed)


def assert_gave_up(output: str) -> None:
    """The CLI's reasons: requests refused, or what it waited for not reached within the timeout."""
    reasons = ("connect: connection refused", "timed out waiting")
    assert any(reason in output for reason in reasons), output[-3000:]


def test_up_cut_off_from_the_api_server_ends_and_the_next_up_converges(make_lab: Callable[[str], Lab]) -> None:
    """What the provider waits for fails at the timeout; pulumi-kubernetes 4.25 may keep waiting
    on some pods until the API server answers again, so the run ends within the bound of the
    timeout or of the API server's return, whichever comes first: never the provider's 10 minutes
    after it is back."""
    lab = make_lab("away-up")
    run = start_up_until(lab, "mid-pods")
    with api_server_away(lab.kubectl), contextlib.suppress(subprocess.TimeoutExpired):
        run.process.wait(timeout=GIVE_UP_WITHIN)
    if run.wait(timeout=GIVE_UP_WITHIN) != 0:
        assert_gave_up(run.output())
    # The run ended on its own: its lock released, every step recorded.
    assert not lab.state().get("pending_operations")
    recorded = lab.state_objects()
    # Once the cluster has caught up with what the run made, the next up finds it ready.
    lab.kubectl.run("wait", "--for=condition=Ready", "pod", "--all", "-n", lab.namespace, "--timeout=180s", timeout=190)
    lab.cli("up", "--yes", "--skip-preview")
    lab.assert_converged()
    after = lab.objects()
    assert {key: after[key] for key in recorded} == recorded
    lab.destroy_and_assert_gone()


def test_destroy_cut_off_from_the_api_server_ends_once_it_is_back_and_the_next_destroy_finishes(
    make_lab: Callable[[str], Lab],
) -> None:
    """Pods being deleted fail at the timeout; pulumi-kubernetes 4.25's wait for a Deployment's
    deletion outlives its timeout while the API server does not answer, so this run may only end
    once the API server is back: within the bound from then, and failing."""
    lab = make_lab("away-destroy")
    lab.cli("up", "--yes", "--skip-preview")
    everything = lab.objects()
    run = lab.start("destroy", "--yes", "--skip-preview")
    wait_until("objects being deleted", lambda: len(lab.objects()) < len(everything))
    with api_server_away(lab.kubectl), contextlib.suppress(subprocess.TimeoutExpired):
        run.process.wait(timeout=GIVE_UP_WITHIN)
    assert run.wait(timeout=GIVE_UP_WITHIN) != 0
    assert_gave_up(run.output())
    assert not lab.state().get("pending_operations")
    # The objects that go with the namespace were struck from the state when their deletion was
    # left to it; the namespace, which takes them along, is still recorded.
    assert f"Namespace/{lab.namespace}" in lab.state_objects()
    assert set(lab.objects()) <= set(everything)
    lab.destroy_and_assert_gone()


@dataclass
class Class:
    """A classroom of the fault tests: the class's stack and each learner's lab, run through
    `python -m classroom` (what scripts/classroom.sh runs)."""

    stack: auto.Stack
    labs: dict[str, Lab]
    work: Path

    @property
    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.stack.workspace.env_vars, "PYTHONPATH": str(ROOT)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "classroom", "--stack", self.stack.name, *args],
            cwd=self.stack.workspace.work_dir,
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=GIVE_UP_WITHIN * 2,
        )
        print(result.stdout, result.stderr)
        return result

    def start(self, *args: str) -> Run:
        """The driver in a session of its own, with every learner at once."""
        log = self.work / f"{self.stack.name}-{args[0]}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "classroom",
                    "--stack",
                    self.stack.name,
                    "--parallel",
                    str(len(self.labs)),
                    *args,
                ],
                cwd=self.stack.workspace.work_dir,
                env=self.environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        return Run(process, log)

    def objects(self) -> dict[str, dict[str, str]]:
        return {learner: lab.objects() for learner, lab in self.labs.items()}

    def recover(self) -> subprocess.CompletedProcess[str]:
        return recover_sh(self.stack)

    def destroy_and_assert_gone(self) -> None:
        self.recover()
        destroyed = self.run("destroy", "--yes")
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        assert all(objects == {} for objects in self.objects().values())
        learner_stacks = [
            s.name for s in self.stack.workspace.list_stacks() if s.name.startswith(f"{self.stack.name}.")
        ]
        assert learner_stacks == []
        self.stack.workspace.remove_stack(self.stack.name, force=True)


@pytest.fixture
def make_class(
    project_dir: Path, state_dir: Path, kubeconfig: str, kubectl: Kubectl, tmp_path: Path
) -> Callable[[str, tuple[str, ...]], Class]:
    def make(name: str, learners: tuple[str, ...]) -> Class:
        class_stack = local_stack(project_dir, state_dir, kubeconfig, name=name)
        class_stack.set_config("learners", auto.ConfigValue(json.dumps(list(learners))))
        class_stack.set_config("awaitTimeoutSeconds", auto.ConfigValue(str(AWAIT_TIMEOUT)))
        labs = {
            learner: Lab(
                auto.Stack.create_or_select(f"{name}.{learner}", class_stack.workspace),
                f"multi-container-{learner}",
                kubectl,
                tmp_path,
                run_program({"learner": learner, "classroomServer": "https://127.0.0.1:6443"}),
            )
            for learner in learners
        }
        class_stack.workspace.select_stack(name)
        return Class(class_stack, labs, tmp_path)

    return make


def test_a_killed_class_up_is_repaired_by_recover_and_the_next_up_converges(
    make_class: Callable[[str, tuple[str, ...]], Class],
) -> None:
    """A classroom's `up` (one stack per learner, all at once) killed with every process of it while
    the learners' pods start: each stack the kill left locked refuses the next `up`, which says so
    for that learner (or, when the kill cut short a learner's state write, the next `up` names that
    learner and cannot list the class's stacks); scripts/recover.sh repairs every learner's stack,
    and the next `up` converges with what each state recorded kept."""
    learners = ("kill-a", "kill-b", "kill-c")
    killed = make_class("killclass", learners)
    labs = killed.labs
    try:
        run = killed.start("up", "--yes")
        wait_until("every learner's pods to be starting", lambda: all(_bare_pods(lab) >= 2 for lab in labs.values()))
        run.kill()
        run.wait(timeout=30)
        recorded = {learner: lab.state_objects() for learner, lab in labs.items()}
        in_cluster = killed.objects()
        assert any(set(in_cluster[learner]) - set(recorded[learner]) for learner in learners), "killed too late"

        refused = killed.run("up", "--yes")
        said = refused.stdout + refused.stderr
        assert refused.returncode in (1, 2)
        cut_short = CLASS_CUT_SHORT in said and any(f"killclass.{learner}" in said for learner in learners)
        assert any(message in said for message in REFUSED_AFTER_A_KILL) or cut_short, said
        assert killed.objects() == in_cluster

        recovered = killed.recover()
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
        for learner, lab in labs.items():
            assert not lab.state().get("pending_operations")
            assert lab.objects() == recorded[learner], f"{learner}: what recovery left"

        converged = killed.run("up", "--yes")
        assert converged.returncode == 0, converged.stdout + converged.stderr
        for learner, lab in labs.items():
            lab.assert_converged()
            after = lab.objects()
            assert {key: after[key] for key in recorded[learner]} == recorded[learner], learner
    finally:
        killed.destroy_and_assert_gone()


def test_a_killed_class_destroy_is_finished_by_recover_and_the_next_destroy(
    make_class: Callable[[str, tuple[str, ...]], Class], kubectl: Kubectl
) -> None:
    """A classroom's `destroy` killed with every process of it while the learners' namespaces go: a
    learner's destroy writes its state once, at its end, so each killed learner's state still
    records every object and no operation is pending; scripts/recover.sh releases the locks, and the
    next `destroy` deletes what is left and removes every learner's stack: nothing stays behind."""
    learners = ("gone-a", "gone-b")
    killed = make_class("goneclass", learners)
    labs = killed.labs
    try:
        built = killed.run("up", "--yes")
        assert built.returncode == 0, built.stdout + built.stderr
        recorded = {learner: lab.state_objects() for learner, lab in labs.items()}

        def terminating() -> bool:
            namespaces = [
                kubectl.get("namespace", lab.namespace)
                for lab in labs.values()
                if kubectl.exists("namespace", lab.namespace)
            ]
            return len(namespaces) == len(labs) and all(n["metadata"].get("deletionTimestamp") for n in namespaces)

        run = killed.start("destroy", "--yes")
        wait_until("every learner's namespace to be terminating", terminating)
        run.kill()
        run.wait(timeout=30)
        for learner, lab in labs.items():
            assert lab.state_objects() == recorded[learner], f"{learner}: the killed destroy's state"
            assert not lab.state().get("pending_operations")

        refused = killed.run("destroy", "--yes")
        assert refused.returncode in (1, 2)
        assert any(message in refused.stdout + refused.stderr for message in REFUSED_AFTER_A_KILL)

        recovered = killed.recover()
        assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    finally:
        killed.destroy_and_assert_gone()
