"""How the program, `pulumi preview`, `up` and `destroy` scale from one learner's lab to a classroom,
beside Kubernetes' own handling of the same objects on the same cluster.

For each classroom size (learners `l00`, `l01`, ...), one round measures:
  * the program under Pulumi's mocks, in a fresh interpreter, after its imports;
  * `pulumi preview` of the empty stack, `pulumi up --skip-preview`, a no-change `pulumi preview`
    and `pulumi destroy --skip-preview`, through the plain CLI;
  * `kubectl apply -f` of the same objects (rendered under mocks, the learners' namespaces renamed)
    and `kubectl wait` for every pod, Deployment and token, `kubectl diff -f` with nothing
    changed, and `kubectl delete namespace` of all of them.
Prints the medians per size, the ratios, and the growth per learner between sizes.

kwok runs hundreds of pods in seconds, so it is the cluster for this:
    E2E_NODE=kwok e2e/with-cluster.sh .venv/bin/python bench/classroom.py [sizes] [rounds] \
        [--skip-checkpoints] [--parallel N]
e.g. `bench/classroom.py 1,10,50 1`. `--skip-checkpoints` runs the CLI with PULUMI_SKIP_CHECKPOINTS=true:
a file backend then writes the state once at the end of an update instead of after every step.
`--parallel N` runs it with PULUMI_PARALLEL=N (the CLI's `--parallel`, 8 by default on 2 cores).
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.support import (  # noqa: E402
    Kubectl,
    copy_project,
    local_stack,
    node_image_settings,
    run_cli,
    timed,
    write_manifests,
)

PART_OF = "app.kubernetes.io/part-of=multi-container-patterns"
MOCKS_SAMPLE = """
import json, runpy, sys, time
import pulumi, pulumi_kubernetes, pulumi_tls
from tests.harness import LabMocks, PROJECT, STACK, PROGRAM
learners = json.loads(sys.argv[1])
class CountingMocks(LabMocks):
    created = 0
    def new_resource(self, args):
        CountingMocks.created += 1
        return super().new_resource(args)
pulumi.runtime.set_mocks(CountingMocks(), project=PROJECT, stack=STACK, preview=False)
pulumi.runtime.set_all_config({
    f"{PROJECT}:learners": json.dumps(learners), f"{PROJECT}:classroomServer": "https://127.0.0.1:6443",
})
@pulumi.runtime.test
def run():
    runpy.run_path(str(PROGRAM), run_name="__main__")
    return pulumi.Output.from_input(None)
start = time.perf_counter()
run()
print(f"{time.perf_counter() - start:.4f} {CountingMocks.created}")
"""
# The reference for the program under mocks: the SDK's own cost of as many resources, each the
# smallest typed Kubernetes object (a ConfigMap with one label and one key), under mocks that
# echo their inputs: no components, no outputs wired between resources.
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


def learner_names(count: int) -> list[str]:
    return [f"l{index:02d}" for index in range(count)]


def program_under_mocks(learners: list[str]) -> tuple[float, int]:
    """Seconds the program takes under mocks, and how many resources it had the mocks create."""
    out = subprocess.run(
        [sys.executable, "-c", MOCKS_SAMPLE, json.dumps(learners)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seconds, created = out.stdout.split()[-2:]
    return float(seconds), int(created)


def sdk_floor(resources: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", SDK_FLOOR_SAMPLE, str(resources)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    arguments = sys.argv[1:]
    cli_env: dict[str, str] = {}
    if "--skip-checkpoints" in arguments:
        arguments.remove("--skip-checkpoints")
        cli_env["PULUMI_SKIP_CHECKPOINTS"] = "true"
    if "--parallel" in arguments:
        at = arguments.index("--parallel")
        cli_env["PULUMI_PARALLEL"] = str(int(arguments[at + 1]))
        del arguments[at : at + 2]
    sizes = [int(size) for size in (arguments[0] if arguments else "1,10,50").split(",")]
    rounds = int(arguments[1]) if len(arguments) > 1 else 1
    kubeconfig = os.environ["KUBECONFIG"]
    kubectl = Kubectl(kubeconfig)
    server = kubectl.run("config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").stdout
    medians: dict[int, dict[str, float]] = {}
    counts: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "project").mkdir()
        (work / "state").mkdir()
        project = copy_project(work / "project")
        for size in sizes:
            learners = learner_names(size)
            manifests = work / f"classroom-{size}.yaml"
            config = {
                **node_image_settings(),
                "learners": json.dumps(learners),
                "learnerNamespace": "k-{learner}",
                "classroomServer": server,
            }
            counts[size] = write_manifests(manifests, config)
            stack = local_stack(project, work / "state", kubeconfig, f"classroom-{size}")
            for index, learner in enumerate(learners):
                stack.set_config(f"learners[{index}]", auto.ConfigValue(learner), path=True)
            stack.set_config("learnerNamespace", auto.ConfigValue("p-{learner}"))
            results: dict[str, list[float]] = {
                key: []
                for key in (
                    "program under mocks",
                    "SDK floor",
                    "first preview",
                    "pulumi up",
                    "no-change preview",
                    "pulumi destroy",
                    "apply+wait",
                    "kubectl diff",
                    "delete namespaces",
                )
            }

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

            for _ in range(rounds):
                seconds, created = program_under_mocks(learners)
                results["program under mocks"].append(seconds)
                results["SDK floor"].append(sdk_floor(created))
                results["first preview"].append(timed(lambda stack=stack: run_cli(stack, "preview", env=cli_env)))
                results["pulumi up"].append(
                    timed(lambda stack=stack: run_cli(stack, "up", "--yes", "--skip-preview", env=cli_env))
                )
                results["no-change preview"].append(
                    timed(lambda stack=stack: run_cli(stack, "preview", "--expect-no-changes", env=cli_env))
                )
                results["pulumi destroy"].append(
                    timed(lambda stack=stack: run_cli(stack, "destroy", "--yes", "--skip-preview", env=cli_env))
                )
                results["apply+wait"].append(timed(apply_and_wait))
                results["kubectl diff"].append(timed(diff_unchanged))
                namespaces = [f"k-{learner}" for learner in learners]
                results["delete namespaces"].append(
                    timed(lambda namespaces=namespaces: kubectl.run("delete", "namespace", *namespaces, timeout=900))
                )
                print(f"{size} learners: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in results.items()), flush=True)
            stack.workspace.remove_stack(stack.name)
            medians[size] = {key: statistics.median(values) for key, values in results.items()}

    node = kubectl.get("nodes")["items"][0]["metadata"]["name"]
    settings = " ".join(f"{key}={value}" for key, value in cli_env.items())
    print(f"\nmedians of {rounds} round(s) on node {node}{f' ({settings})' if settings else ''}:")
    keys = list(next(iter(medians.values())))
    print(f"{'learners':>20} " + " ".join(f"{size:>9}" for size in sizes))
    print(f"{'objects':>20} " + " ".join(f"{counts[size]:>9}" for size in sizes))
    for key in keys:
        print(f"{key:>20} " + " ".join(f"{medians[size][key]:>8.2f}s" for size in sizes))
    for pulumi_side, kubectl_side in (
        ("program under mocks", "SDK floor"),
        ("pulumi up", "apply+wait"),
        ("no-change preview", "kubectl diff"),
        ("pulumi destroy", "delete namespaces"),
    ):
        ratios = " ".join(f"{medians[size][pulumi_side] / medians[size][kubectl_side]:>8.2f}x" for size in sizes)
        print(f"{pulumi_side + ' / ' + kubectl_side:>40} {ratios}")
    for low, high in itertools.pairwise(sizes):
        growth = ", ".join(f"{key} {(medians[high][key] - medians[low][key]) / (high - low):.3f} s" for key in keys)
        print(f"per learner from {low} to {high}: {growth}")


if __name__ == "__main__":
    main()
