"""How a classroom (one stack per learner, scripts/classroom.sh) scales from one learner to fifty,
beside Kubernetes' own handling of the same objects on the same cluster.

For each classroom size (learners `l00`, `l01`, ...), each round measures, and prints:
  * `classroom up` (every learner's stack created and brought up, checkpoints on), a no-change
    `classroom preview`, and `classroom destroy`;
  * `kubectl apply -f` of the same objects (rendered under mocks, the learners' namespaces renamed)
    and `kubectl wait` for every pod, Deployment and token; `kubectl diff -f` with nothing changed;
    `kubectl delete namespace` of all of them;
  * the peak resident memory of the CLI, its plugins and the programs while `up` runs: the largest
    single process, and all of them together;
  * the CPU seconds per learner of `classroom up` (the driver, and the CLI, program and providers it
    runs) and of `kubectl apply` + `wait` (kubectl's own, not the cluster's): on two cores, what
    sets the pace of a large class.
Then the medians per size, the ratios, and the growth per learner between sizes. Before the
cluster rounds: one learner's program under Pulumi's mocks (every learner's stack runs the same
program, whatever the class's size) against the SDK's floor for as many resources, and the
driver's own planning for the largest class.

kwok runs hundreds of pods in seconds, so it is the cluster for this:
    E2E_NODE=kwok e2e/with-cluster.sh .venv/bin/python bench/classroom.py [sizes] [rounds] [--parallel N]
e.g. `bench/classroom.py 1,10,25,50 3`. `--parallel N` runs N learners at once (the driver's
defaults otherwise); `--parallel 25,default` measures each, in the same run. The driver's retries
of a learner's run that failed on the API server's load are counted and printed.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classroom import learner_settings, plan  # noqa: E402
from tests.e2e.support import (  # noqa: E402
    Kubectl,
    copy_project,
    local_stack,
    node_image_settings,
    timed,
    write_manifests,
)

PART_OF = "app.kubernetes.io/part-of=multi-container-patterns"
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
MOCKS_SAMPLE = """
import runpy, sys, time
import pulumi, pulumi_kubernetes, pulumi_tls
from tests.harness import LabMocks, PROJECT, STACK, PROGRAM
class CountingMocks(LabMocks):
    created = 0
    def new_resource(self, args):
        CountingMocks.created += 1
        return super().new_resource(args)
pulumi.runtime.set_mocks(CountingMocks(), project=PROJECT, stack=STACK, preview=False)
pulumi.runtime.set_all_config({f"{PROJECT}:learner": "l00", f"{PROJECT}:classroomServer": "https://127.0.0.1:6443"})
@pulumi.runtime.test
def run():
    runpy.run_path(str(PROGRAM), run_name="__main__")
    return pulumi.Output.from_input(None)
start = time.perf_counter()
run()
print(f"{time.perf_counter() - start:.4f} {CountingMocks.created}")
"""
# The SDK's own cost of as many resources, each the smallest typed Kubernetes object, under mocks
# that echo their inputs: no components, no outputs wired between resources.
SDK_FLOOR_SAMPLE = """
import sys, time
import pulumi, pulumi_kubernetes as k8s
class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", args.inputs
    def call(self, args):
        return {}
pulumi.runtime.set_mocks(EchoMocks(), project="floor", stack="floor", preview=False)
import pulumi_kubernetes.core.v1, pulumi_kubernetes.meta.v1
@pulumi.runtime.test
def run():
    for index in range(int(sys.argv[1])):
        k8s.core.v1.ConfigMap(
            f"c{index}",
            metadata=k8s.meta.v1.ObjectMetaArgs(namespace="floor", labels={"app.kubernetes.io/name": "floor"}),
            data={"key": "value"},
        )
    return pulumi.Output.from_input(None)
start = time.perf_counter()
run()
print(f"{time.perf_counter() - start:.4f}")
"""
# The processes a class's `up` runs: the CLI, its plugins (language host, providers) and Python
# (whose name gRPC may give one of its threads' names).
PULUMI_PROCESSES = ("pulumi", "python", "event_engine", "grpc")


def learner_names(count: int) -> list[str]:
    return [f"l{index:02d}" for index in range(count)]


def program_under_mocks() -> tuple[float, int]:
    """Seconds one learner's program takes under mocks, and how many resources it registers."""
    out = subprocess.run([sys.executable, "-c", MOCKS_SAMPLE], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, created = out.stdout.split()[-2:]
    return float(seconds), int(created)


def sdk_floor(resources: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SDK_FLOOR_SAMPLE, str(resources)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


def planning_seconds(size: int) -> float:
    """The driver's own work for a class of ``size``: every learner's settings and the plan."""
    config: dict[str, object] = {f"{PROJECT}:learners": learner_names(size)}
    config.update({f"{PROJECT}:{key}": value for key, value in node_image_settings().items()})
    start = time.perf_counter()
    for learner in learner_names(size):
        learner_settings(PROJECT, config, learner)
    plan("bench", learner_names(size), [f"bench.{name}" for name in learner_names(size)])
    return time.perf_counter() - start


class MemorySampler:
    """Peak resident memory of Pulumi's processes while it runs: the largest one, and the sum."""

    def __init__(self) -> None:
        self.largest = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        own = os.getpid()
        while not self._stop.wait(0.2):
            sizes = []
            for status in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
                except OSError:
                    continue
                if int(status.parent.name) != own and fields.get("Name", "").strip().startswith(PULUMI_PROCESSES):
                    sizes.append(int(fields.get("VmRSS", "0 kB").split()[0]) * 1024)
            if sizes:
                self.largest = max(self.largest, *sizes)
                self.total = max(self.total, sum(sizes))


def with_cpu(action: Callable[[], None], cpu: list[float], learners: int) -> Callable[[], None]:
    """``action``, adding to ``cpu`` the CPU seconds per learner of the processes it ran (and of
    theirs: a process's children count once it has waited for them)."""

    def run() -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        action()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / learners)

    return run


RETRY = re.compile(r"\sretry \d+ of \d+: ")


def classroom(class_stack: auto.Stack, *args: str, parallel: int | None, retries: list[float] | None = None) -> None:
    """The driver on the class; its retries (printed) counted into ``retries``."""
    command = [sys.executable, "-m", "classroom", "--stack", class_stack.name]
    command += ["--parallel", str(parallel)] if parallel else []
    result = subprocess.run(
        [*command, *args],
        cwd=class_stack.workspace.work_dir,
        env={**os.environ, **class_stack.workspace.env_vars, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    retried = [line for line in result.stdout.splitlines() if RETRY.search(line)]
    for line in retried:
        print(line.strip(), flush=True)
    if retries is not None:
        retries.append(len(retried))
    if result.returncode != 0:
        raise RuntimeError(f"classroom {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")


def main() -> None:
    arguments = sys.argv[1:]
    parallels: list[int | None] = [None]
    if "--parallel" in arguments:
        at = arguments.index("--parallel")
        parallels = [None if value == "default" else int(value) for value in arguments[at + 1].split(",")]
        del arguments[at : at + 2]
    sizes = [int(size) for size in (arguments[0] if arguments else "1,10,25,50").split(",")]
    rounds = int(arguments[1]) if len(arguments) > 1 else 3
    kubeconfig = os.environ["KUBECONFIG"]
    kubectl = Kubectl(kubeconfig)
    server = kubectl.run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout

    mocks = [program_under_mocks() for _ in range(5)]
    program = statistics.median(seconds for seconds, _ in mocks)
    floor = statistics.median(sdk_floor(mocks[0][1]) for _ in range(5))
    planning = statistics.median(planning_seconds(max(sizes)) for _ in range(5))
    print(
        f"one learner's program under mocks: {program:.3f} s for {mocks[0][1]} resources; SDK floor {floor:.3f} s "
        f"({program / floor:.2f}x); the driver's planning for {max(sizes)} learners: {planning * 1000:.1f} ms",
        flush=True,
    )

    # Each measured column: a class size and how many of its learners run at once (None: the driver's
    # defaults).
    columns = [(size, parallel) for size in sizes for parallel in parallels]
    medians: dict[tuple[int, int | None], dict[str, float]] = {}
    counts: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "project").mkdir()
        (work / "state").mkdir()
        project = copy_project(work / "project")
        for size in sizes:
            learners = learner_names(size)
            manifests = work / f"classroom-{size}.yaml"
            counts[size] = write_manifests(
                manifests,
                *(
                    {
                        **node_image_settings(),
                        "learner": learner,
                        "learnerNamespace": "k-{learner}",
                        "classroomServer": server,
                    }
                    for learner in learners
                ),
            )
            class_stack = local_stack(project, work / "state", kubeconfig, f"class{size}")
            class_stack.set_all_config(
                {
                    "learners": auto.ConfigValue(json.dumps(learners)),
                    "learnerNamespace": auto.ConfigValue("p-{learner}"),
                    "classroomServer": auto.ConfigValue(server),
                }
            )

            def apply_and_wait(manifests: Path = manifests) -> None:
                kubectl.run("apply", "-f", str(manifests), timeout=900)
                for what, condition in (
                    ("pod", "condition=Ready"),
                    ("deployment", "condition=Available"),
                    ("secret", "jsonpath={.data.token}"),
                ):
                    selector = PART_OF if what != "secret" else "app.kubernetes.io/component=classroom"
                    kubectl.run("wait", f"--for={condition}", what, "-A", "-l", selector, "--timeout=900s", timeout=910)

            def diff_unchanged(manifests: Path = manifests) -> None:
                result = kubectl.run("diff", "-f", str(manifests), check=False, timeout=900)
                assert result.returncode == 0, f"kubectl diff found changes:\n{result.stdout[-2000:]}{result.stderr}"

            for parallel in parallels:
                results = measure(
                    size,
                    parallel,
                    rounds=rounds,
                    class_stack=class_stack,
                    learners=learners,
                    kubectl=kubectl,
                    apply_and_wait=apply_and_wait,
                    diff_unchanged=diff_unchanged,
                )
                medians[(size, parallel)] = {key: statistics.median(values) for key, values in results.items()}
            class_stack.workspace.remove_stack(class_stack.name)
    report(columns, medians, counts, rounds, kubectl)


def measure(
    size: int,
    parallel: int | None,
    *,
    rounds: int,
    class_stack: auto.Stack,
    learners: list[str],
    kubectl: Kubectl,
    apply_and_wait: Callable[[], None],
    diff_unchanged: Callable[[], None],
) -> dict[str, list[float]]:
    """``rounds`` rounds of one class size with ``parallel`` learners at once, beside kubectl's."""
    results: dict[str, list[float]] = {
        key: []
        for key in (
            "classroom up",
            "no-change preview",
            "classroom destroy",
            "apply+wait",
            "kubectl diff",
            "delete namespaces",
            "peak MiB, largest",
            "peak MiB, all",
            "CPU s/learner, up",
            "CPU s/learner, kubectl",
            "retries, up",
        )
    }

    def run(*args: str, retries: list[float] | None = None) -> Callable[[], None]:
        return lambda: classroom(class_stack, *args, parallel=parallel, retries=retries)

    for index in range(rounds):
        with MemorySampler() as memory:
            up = run("up", "--yes", retries=results["retries, up"])
            results["classroom up"].append(timed(with_cpu(up, results["CPU s/learner, up"], size)))
        results["peak MiB, largest"].append(memory.largest / 2**20)
        results["peak MiB, all"].append(memory.total / 2**20)
        results["no-change preview"].append(timed(run("preview")))
        results["classroom destroy"].append(timed(run("destroy", "--yes")))
        results["apply+wait"].append(timed(with_cpu(apply_and_wait, results["CPU s/learner, kubectl"], size)))
        results["kubectl diff"].append(timed(diff_unchanged))
        namespaces = [f"k-{learner}" for learner in learners]
        results["delete namespaces"].append(
            timed(lambda namespaces=namespaces: kubectl.run("delete", "namespace", *namespaces, timeout=900))
        )
        print(
            f"{size} learners, {label(parallel)} at once, round {index + 1}: "
            + ", ".join(f"{k} {v[-1]:.1f}" for k, v in results.items()),
            flush=True,
        )
    return results


def label(parallel: int | None) -> str:
    return str(parallel) if parallel else "default"


def report(
    columns: list[tuple[int, int | None]],
    medians: dict[tuple[int, int | None], dict[str, float]],
    counts: dict[int, int],
    rounds: int,
    kubectl: Kubectl,
) -> None:
    node = kubectl.get("nodes")["items"][0]["metadata"]["name"]
    print(f"\nmedians of {rounds} round(s) on node {node}:")
    keys = list(next(iter(medians.values())))
    print(f"{'learners':>22} " + " ".join(f"{size:>9}" for size, _ in columns))
    print(f"{'at once':>22} " + " ".join(f"{label(parallel):>9}" for _, parallel in columns))
    print(f"{'objects':>22} " + " ".join(f"{counts[size]:>9}" for size, _ in columns))
    for key in keys:
        unit = "" if key.startswith(("peak", "CPU", "retries")) else "s"
        print(f"{key:>22} " + " ".join(f"{medians[column][key]:>8.1f}{unit or ' '}" for column in columns))
    for pulumi_side, kubectl_side in (
        ("classroom up", "apply+wait"),
        ("no-change preview", "kubectl diff"),
        ("classroom destroy", "delete namespaces"),
    ):
        ratios = " ".join(f"{medians[c][pulumi_side] / medians[c][kubectl_side]:>8.2f}x" for c in columns)
        print(f"{pulumi_side + ' / ' + kubectl_side:>40} {ratios}")
    for parallel in dict.fromkeys(p for _, p in columns):
        for low, high in itertools.pairwise([c for c in columns if c[1] == parallel]):
            report_growth(low, high, medians, keys)


def report_growth(
    low: tuple[int, int | None],
    high: tuple[int, int | None],
    medians: dict[tuple[int, int | None], dict[str, float]],
    keys: list[str],
) -> None:
    """What one more learner adds to each timing, between two class sizes."""
    growth = ", ".join(
        f"{key} {(medians[high][key] - medians[low][key]) / (high[0] - low[0]):.2f} s"
        for key in keys
        if not key.startswith(("peak", "CPU", "retries"))
    )
    print(f"per learner from {low[0]} to {high[0]} ({label(low[1])} at once): {growth}")


if __name__ == "__main__":
    main()
