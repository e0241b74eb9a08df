"""Measures how long evaluating the whole program under Pulumi's mocks takes, imports included.

Each sample is a fresh interpreter that imports the harness (pulumi, pulumi-kubernetes,
pulumi-tls, the components) and runs `__main__.py` once; the median of the samples is printed.
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
from tests.harness import run_program
imported = time.perf_counter()
run = run_program()
done = time.perf_counter()
assert len(run.resources) > 20
print(f"{imported - start:.3f} {done - imported:.3f} {done - start:.3f}")
"""


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rows = []
    for _ in range(samples):
        out = subprocess.run(
            [sys.executable, "-c", SAMPLE], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        rows.append(tuple(map(float, out)))
    for label, index in (("imports", 0), ("program under mocks", 1), ("total", 2)):
        values = [row[index] for row in rows]
        print(f"{label:>20}: median {statistics.median(values):.3f} s  (min {min(values):.3f}, max {max(values):.3f})")


if __name__ == "__main__":
    main()
