"""Times `pulumi up`, a no-change `pulumi preview` and `pulumi destroy` of the whole lab against
the local cluster, beside Kubernetes' own: `kubectl apply -f` of the same objects (rendered to
YAML from the program under mocks, with the same settings) plus `kubectl wait` for readiness,
`kubectl diff -f` of them with nothing changed, and `kubectl delete namespace --wait`. `pulumi up`
and `destroy` run twice a round: through the Automation API (what the end-to-end suite and any
user's automation run) and as the plain CLI. Prints every round (with the steps of the Automation
API's `up` that took longest, from the engine's events as they arrive, so a stalled round shows
what it waited for), then the medians, the slowest rounds and the ratios.

Run inside the end-to-end environment, on the real node (the default) or on kwok:
    e2e/with-cluster.sh .venv/bin/python bench/up_vs_apply.py [rounds]
    E2E_NODE=kwok e2e/with-cluster.sh .venv/bin/python bench/up_vs_apply.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pulumi import automation as auto

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.support import Kubectl, copy_project, local_stack, node_image_settings, run_cli, timed, write_manifests

# One namespace per path, so no path reuses a name another deleted seconds before: the namespace
# controller keeps a deleted namespace's name queued for a later pass (its pods' grace period / 2),
# and a namespace of that name deleted meanwhile would be finished early by that pass.
NAMESPACES = {"automation": "bench-automation", "cli": "bench-cli", "kubectl": "bench-kubectl"}


class StepTimes:
    """When each resource's step began and ended in one run, from the engine's events as they arrive."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.began: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.retries: list[str] = []

    def __call__(self, event: auto.EngineEvent) -> None:
        now = time.perf_counter() - self.start
        diagnostic = event.diagnostic_event
        if diagnostic is not None and "Retry" in diagnostic.message:
            # The provider retries a create the API server refused with "not found", after a pause.
            self.retries.append(
                f"{now:.1f} s {diagnostic.urn and diagnostic.urn.rsplit('::', 1)[-1]}: {diagnostic.message}"
            )
        if event.resource_pre_event is not None:
            metadata = event.resource_pre_event.metadata
            # Objects only: a component's (and the stack's) step lasts as long as its children's.
            if metadata.new is not None and metadata.new.custom:
                self.began[metadata.urn] = now
        elif event.res_outputs_event is not None:
            self.ended[event.res_outputs_event.metadata.urn] = now

    def slowest(self, count: int = 3) -> str:
        steps = sorted(
            ((self.ended[urn] - began, began, urn) for urn, began in self.began.items() if urn in self.ended),
            reverse=True,
        )[:count]
        return ", ".join(
            f"{urn.rsplit('::', 1)[-1]} {seconds:.1f} s (from {began:.1f} s)" for seconds, began, urn in steps
        )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    kubeconfig = os.environ["KUBECONFIG"]
    kubectl = Kubectl(kubeconfig)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        manifests = work / "lab.yaml"
        count = write_manifests(manifests, {**node_image_settings(), "namespace": NAMESPACES["kubectl"]})
        (work / "project").mkdir()
        (work / "state").mkdir()
        project = copy_project(work / "project")
        stack = local_stack(project, work / "state", kubeconfig, "bench")
        stack.set_config("namespace", auto.ConfigValue(NAMESPACES["automation"]))
        cli_stack = local_stack(project, work / "state", kubeconfig, "bench-cli")
        cli_stack.set_config("namespace", auto.ConfigValue(NAMESPACES["cli"]))
        results: dict[str, list[float]] = {
            "pulumi up": [],
            "no-change preview": [],
            "pulumi destroy": [],
            "pulumi up (CLI)": [],
            "pulumi destroy (CLI)": [],
            "apply+wait": [],
            "kubectl diff": [],
            "delete ns": [],
        }

        def apply_and_wait() -> None:
            kubectl.run("apply", "-f", str(manifests), timeout=300)
            kubectl.run(
                "wait",
                "--for=condition=Ready",
                "pod",
                "--all",
                "-n",
                NAMESPACES["kubectl"],
                "--timeout=300s",
                timeout=310,
            )
            kubectl.run(
                "wait",
                "--for=condition=Available",
                "deployment",
                "--all",
                "-n",
                NAMESPACES["kubectl"],
                "--timeout=300s",
                timeout=310,
            )

        def diff_unchanged() -> None:
            result = kubectl.run("diff", "-f", str(manifests), check=False, timeout=120)
            assert result.returncode == 0, f"kubectl diff found changes:\n{result.stdout}{result.stderr}"

        for round_number in range(1, rounds + 1):
            steps = StepTimes()
            results["pulumi up"].append(timed(lambda steps=steps: stack.up(on_event=steps)))
            results["no-change preview"].append(timed(lambda: stack.preview(expect_no_changes=True)))
            results["pulumi destroy"].append(timed(stack.destroy))
            results["pulumi up (CLI)"].append(timed(lambda: run_cli(cli_stack, "up", "--yes", "--skip-preview")))
            results["pulumi destroy (CLI)"].append(
                timed(lambda: run_cli(cli_stack, "destroy", "--yes", "--skip-preview"))
            )
            results["apply+wait"].append(timed(apply_and_wait))
            results["kubectl diff"].append(timed(diff_unchanged))
            results["delete ns"].append(
                timed(
                    lambda: kubectl.run(
                        "delete", "namespace", NAMESPACES["kubectl"], "--wait=true", "--timeout=300s", timeout=310
                    )
                )
            )
            print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in results.items()), flush=True)
            print(f"  longest steps of pulumi up: {steps.slowest()}", flush=True)
            for retry in steps.retries:
                print(f"  retried: {retry.strip()}", flush=True)
        stack.workspace.remove_stack("bench")
        cli_stack.workspace.remove_stack("bench-cli")

    medians = {key: statistics.median(values) for key, values in results.items()}
    node = kubectl.get("nodes")["items"][0]["metadata"]["name"]
    print(f"\n{count} objects on node {node}, medians of {rounds} rounds:")
    for key, value in medians.items():
        print(f"  {key:>20}: {value:6.1f} s (slowest round {max(results[key]):.1f} s)")
    for pulumi_side, kubectl_side in (
        ("pulumi up", "apply+wait"),
        ("pulumi up (CLI)", "apply+wait"),
        ("no-change preview", "kubectl diff"),
        ("pulumi destroy", "delete ns"),
        ("pulumi destroy (CLI)", "delete ns"),
    ):
        print(
            f"  {pulumi_side} / {kubectl_side}: {medians[pulumi_side] / medians[kubectl_side]:.2f}x, "
            f"slowest rounds {max(results[pulumi_side]) / max(results[kubectl_side]):.2f}x"
        )


if __name__ == "__main__":
    main()
