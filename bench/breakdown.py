"""Where the seconds of `pulumi up` (creating the lab), a no-change `pulumi preview` and `pulumi
destroy` go, from the engine's own trace (`--otel-traces file://...`: spans of the CLI, the
language host and the providers) and, inside Python, bench/probe/sitecustomize.py (when the
program starts and returns, and how long it spends importing SDK modules).

Each round runs the plain CLI on a stack of the real project (up, preview, destroy), then the
three commands the Automation API adds to every `Stack.up()` (`stack output --json`, the same
with `--show-secrets`, and `stack history --json --show-secrets --page-size 1`). Prints, for each
operation, the wall-clock phases in order (they add up to the CLI's own span) and the work that
overlaps them, as medians of the rounds; the engine's parallelism and the provider's options are
left at the defaults a user gets.

Run inside the end-to-end environment, on the real node (the default) or on kwok:
    e2e/with-cluster.sh .venv/bin/python bench/breakdown.py [rounds]
    E2E_NODE=kwok e2e/with-cluster.sh .venv/bin/python bench/breakdown.py [rounds]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.support import copy_project, local_stack, run_cli

PROBE_DIR = Path(__file__).resolve().parent / "probe"
STACK = "breakdown"
OPERATIONS = {
    "up": ["up", "--yes", "--skip-preview"],
    "no-change preview": ["preview", "--expect-no-changes"],
    "destroy": ["destroy", "--yes", "--skip-preview"],
}
# What `Stack.up()` of the Automation API runs after `pulumi up` itself, to return the outputs
# and the update's summary (pulumi/automation/_stack.py and _local_workspace.py).
AUTOMATION_FOLLOW_UPS = {
    "stack output --json": ["stack", "output", "--json"],
    "stack output --json --show-secrets": ["stack", "output", "--json", "--show-secrets"],
    "stack history --json --show-secrets --page-size 1": [
        "stack",
        "history",
        "--json",
        "--show-secrets",
        "--page-size",
        "1",
    ],
}
RESOURCE_RPCS = ("Check", "Diff", "Create", "Update", "Delete", "Read")


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    start: int
    end: int
    attributes: dict[str, Any]

    @property
    def ms(self) -> float:
        return (self.end - self.start) / 1e6


def load_spans(path: Path) -> list[Span]:
    spans = []
    for line in path.read_text().splitlines():
        for resource_spans in json.loads(line)["resourceSpans"]:
            resource = {a["key"]: a["value"] for a in resource_spans["resource"]["attributes"]}
            service = resource["service.name"]["stringValue"]
            for scope in resource_spans["scopeSpans"]:
                for span in scope["spans"]:
                    attributes = {a["key"]: next(iter(a["value"].values())) for a in span.get("attributes", [])}
                    spans.append(
                        Span(
                            service,
                            span["name"],
                            int(span["startTimeUnixNano"]),
                            int(span["endTimeUnixNano"]),
                            attributes,
                        )
                    )
    return spans


def breakdown(spans: list[Span], probe: dict[str, int] | None) -> tuple[dict[str, float], dict[str, float]]:
    """The operation's wall-clock phases (ms, in order, adding up to the CLI's root span) and the
    work overlapping them (ms summed over spans, and counts)."""
    cli = [s for s in spans if s.service == "pulumi-cli"]

    def first(name: str, kind: str | None = None) -> Span | None:
        matching = (s for s in cli if s.name == name and (kind is None or s.attributes.get("kind") == kind))
        return min(matching, key=lambda s: s.start, default=None)

    def all_of(name: str) -> list[Span]:
        return [s for s in cli if s.name == name]

    root = first("pulumi")
    assert root is not None, "no root span: is --otel-traces supported by this CLI?"
    language_start = first("newPlugin", kind="language")
    about = sum(s.ms for s in all_of("pulumirpc.LanguageRuntime/About"))
    packages = sum(s.ms for s in all_of("pulumirpc.LanguageRuntime/GetRequiredPackages"))
    run = first("pulumirpc.LanguageRuntime/Run")
    operations = [s for s in cli if s.name.removeprefix("pulumirpc.ResourceProvider/") in RESOURCE_RPCS]

    phases: dict[str, float] = {}
    cursor = root.start
    if language_start is not None:
        phases["CLI start, until the language host starts"] = (language_start.start - cursor) / 1e6
        cursor = language_start.start
    phases["language host: interpreter probe (About)"] = about
    phases["language host: plugin scan (GetRequiredPackages)"] = packages
    if run is not None and probe is not None:
        phases["CLI: plugins, stack, secrets, snapshot (rest before the program)"] = (run.start - cursor) / 1e6 - (
            about + packages
        )
        lazy = probe["lazy_sdk_ns"] / 1e6
        phases["Python start and SDK imports"] = (probe["program_start"] - run.start) / 1e6
        phases["program's own run"] = (probe["program_end"] - probe["program_start"]) / 1e6 - lazy
        phases["  SDK modules the program imports (lazily)"] = lazy
        phases["resources finishing after the program returned"] = (run.end - probe["program_end"]) / 1e6
        phases["after the program: last snapshot, plugins stop"] = (root.end - run.end) / 1e6
    elif operations:
        start = min(s.start for s in operations)
        end = max(s.end for s in operations)
        phases["CLI: plugins, stack, secrets, snapshot (rest before the program)"] = (start - cursor) / 1e6 - (
            about + packages
        )
        phases["resource operations"] = (end - start) / 1e6
        phases["after the operations: last snapshot, plugins stop"] = (root.end - end) / 1e6
    phases["total (the CLI's own span)"] = root.ms

    overlapping: dict[str, float] = defaultdict(float)
    for span in cli:
        if span.name == "newPlugin" and span.attributes.get("kind") == "resource":
            overlapping["provider plugin starts (ms)"] += span.ms
            overlapping["provider plugin starts (count)"] += 1
        elif span.name == "pulumirpc.ResourceProvider/Configure":
            overlapping["provider Configure (ms)"] += span.ms
        elif span.name.startswith("gocloud.dev/blob."):
            overlapping["snapshot writes to the backend (ms)"] += span.ms
            overlapping["snapshot writes to the backend (count)"] += 1
        elif span.name == "pulumirpc.Engine/Log":
            overlapping["log messages from the program and plugins (count)"] += 1
    for rpc in RESOURCE_RPCS:
        calls = [s for s in operations if s.name.endswith("/" + rpc)]
        if calls:
            overlapping[f"provider {rpc}, with its await (ms, summed)"] = sum(s.ms for s in calls)
            overlapping[f"provider {rpc} (count)"] = len(calls)
            overlapping[f"provider {rpc}, longest (ms)"] = max(s.ms for s in calls)
    return phases, dict(overlapping)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    kubeconfig = os.environ["KUBECONFIG"]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "project").mkdir()
        project = copy_project(work / "project")
        (work / "state").mkdir()
        stack = local_stack(project, work / "state", kubeconfig, STACK)

        def pulumi(args: list[str], name: str | None = None) -> tuple[float, list[Span], dict[str, int] | None]:
            trace = work / f"{name}.json"
            probe = work / f"{name}.probe"
            extra = ["--otel-traces", f"file://{trace}"] if name else []
            start = time.perf_counter()
            run_cli(stack, *args, *extra, env={"PYTHONPATH": str(PROBE_DIR), "PULUMI_BENCH_PROBE": str(probe)})
            wall = (time.perf_counter() - start) * 1000
            probes = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
            assert len(probes) <= 1, probes
            return wall, load_spans(trace) if name else [], probes[0] if probes else None

        phases: dict[str, dict[str, list[float]]] = {op: defaultdict(list) for op in OPERATIONS}
        overlapping: dict[str, dict[str, list[float]]] = {op: defaultdict(list) for op in OPERATIONS}
        walls: dict[str, list[float]] = defaultdict(list)
        for round_number in range(1, rounds + 1):
            for operation, args in OPERATIONS.items():
                wall, spans, probe = pulumi(args, f"{operation.replace(' ', '-')}-{round_number}")
                walls[operation].append(wall)
                op_phases, op_overlapping = breakdown(spans, probe)
                for key, value in op_phases.items():
                    phases[operation][key].append(value)
                for key, value in op_overlapping.items():
                    overlapping[operation][key].append(value)
                if operation == "up":
                    for label, follow_up in AUTOMATION_FOLLOW_UPS.items():
                        walls[label].append(pulumi(follow_up)[0])
            print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:.0f} ms" for k, v in walls.items()), flush=True)
        stack.workspace.remove_stack(STACK)

    print(f"\nmedians of {rounds} rounds, in ms")
    for operation in OPERATIONS:
        wall = statistics.median(walls[operation])
        total = statistics.median(phases[operation]["total (the CLI's own span)"])
        print(f"\n`pulumi {operation}`: {wall:.0f} ms from exec to exit")
        for key, values in phases[operation].items():
            median = statistics.median(values)
            print(f"  {key:<68} {median:7.0f}  {100 * median / total:4.0f} %")
        print("  overlapping work:")
        for key, values in sorted(overlapping[operation].items()):
            print(f"    {key:<66} {statistics.median(values):7.0f}")
    up = statistics.median(walls["up"])
    added = sum(statistics.median(walls[label]) for label in AUTOMATION_FOLLOW_UPS)
    print("\nThe Automation API's `Stack.up()` runs after `pulumi up`:")
    for label in AUTOMATION_FOLLOW_UPS:
        print(f"  pulumi {label:<58} {statistics.median(walls[label]):7.0f}")
    print(f"  together {added:.0f} ms: {added / up:.2f}x of the `pulumi up` itself")


if __name__ == "__main__":
    main()
