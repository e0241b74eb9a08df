"""Measures how long evaluating the whole program under Pulumi's mocks takes, beside the bare SDK
imports it cannot avoid, in one run.

Each sample is a fresh interpreter that imports the SDKs (pulumi, pulumi_kubernetes, pulumi_tls:
their top-level packages, as `import pulumi_kubernetes` leaves them), then the API packages of
pulumi_kubernetes the program uses (core/v1, apps/v1, meta/v1: loaded lazily on first use, so a
plain run pays them inside the program), then the harness, then runs `__main__.py` once. The
program's own run is what is left: our components, the SDK's registration work, the mocks.
    .venv/bin/python bench/mock_evaluation.py [samples]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = """
import time
start = time.perf_counter()
import pulumi, pulumi_kubernetes, pulumi_tls
bare = time.perf_counter()
import pulumi_kubernetes.apps.v1, pulumi_kubernetes.core.v1, pulumi_kubernetes.meta.v1
api = time.perf_counter()
from tests.harness import run_program
harness = time.perf_counter()
run = run_program()
done = time.perf_counter()
assert len(run.resources) > 20
print(f"{bare - start:.4f} {api - bare:.4f} {harness - api:.4f} {done - harness:.4f} {done - start:.4f}")
"""
LABELS = (
    "bare SDK imports",
    "SDK API packages the program uses",
    "test harness and mocks",
    "program's own run",
    "total",
)


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", SAMPLE], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        rows.append(tuple(map(float, out)))
    medians = {}
    for index, label in enumerate(LABELS):
        values = [row[index] for row in rows]
        medians[label] = statistics.median(values)
        print(f"{label:>34}: median {medians[label]:.3f} s  (min {min(values):.3f}, max {max(values):.3f})")
    print(f"program's own run / bare SDK imports: {medians[LABELS[3]] / medians[LABELS[0]]:.2f}x")


if __name__ == "__main__":
    main()
