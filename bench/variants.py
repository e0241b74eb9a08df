"""Times `pulumi up` and `pulumi destroy` of the whole lab (plain CLI) with the engine's
parallelism and the Kubernetes provider's client and await settings changed, one at a time,
beside the defaults a user gets, in the same run. Prints the medians and each variant's ratio to
the defaults.

Run inside the end-to-end environment, on the real node (the default) or on kwok:
    e2e/with-cluster.sh .venv/bin/python bench/variants.py [rounds]
    E2E_NODE=kwok e2e/with-cluster.sh .venv/bin/python bench/variants.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.support import copy_project, local_stack, run_cli

STACK = "variants"
DEFAULTS = "defaults (--parallel unbounded, client QPS 50 / burst 120)"
# name: (extra CLI arguments, extra environment)
VARIANTS: dict[str, tuple[list[str], dict[str, str]]] = {
    DEFAULTS: ([], {}),
    "--parallel 4": (["--parallel", "4"], {}),
    "--parallel 1": (["--parallel", "1"], {}),
    "client-go's own QPS 5 / burst 10": ([], {"PULUMI_K8S_CLIENT_QPS": "5", "PULUMI_K8S_CLIENT_BURST": "10"}),
    "PULUMI_K8S_AWAIT_ALL=true": ([], {"PULUMI_K8S_AWAIT_ALL": "true"}),
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "project").mkdir()
        (work / "state").mkdir()
        project = copy_project(work / "project")
        stack = local_stack(project, work / "state", os.environ["KUBECONFIG"], STACK)

        def timed(args: list[str], env: dict[str, str]) -> float:
            start = time.perf_counter()
            run_cli(stack, *args, env=env)
            return time.perf_counter() - start

        results: dict[tuple[str, str], list[float]] = {}
        for round_number in range(1, rounds + 1):
            for index, (name, (args, env)) in enumerate(VARIANTS.items()):
                # A namespace per variant: a name deleted seconds before may still be queued for a
                # later pass of the namespace controller, which would finish this deletion early.
                namespace = ["--config", f"namespace=bench-variant-{index}"]
                up = timed(["up", "--yes", "--skip-preview", *namespace, *args], env)
                destroy = timed(["destroy", "--yes", "--skip-preview", *args], env)
                results.setdefault((name, "up"), []).append(up)
                results.setdefault((name, "destroy"), []).append(destroy)
            print(f"round {round_number} done", flush=True)
        stack.workspace.remove_stack(STACK)

    print(f"\nmedians of {rounds} rounds:")
    for operation in ("up", "destroy"):
        default = statistics.median(results[(DEFAULTS, operation)])
        for name in VARIANTS:
            median = statistics.median(results[(name, operation)])
            print(f"  pulumi {operation:<8} {name:<60} {median:6.1f} s  {median / default:5.2f}x")


if __name__ == "__main__":
    main()
