"""Adapter pattern: the adapter turns the app's raw metrics into Prometheus text, one complete
exposition per batch, with the raw lines' values."""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import ProgramRun

from .conftest import PodFactory
from .pods import PodSpec

pytestmark = pytest.mark.runtime

PROMTOOL = "/usr/bin/promtool"


def exposition_blocks(stdout: str) -> list[str]:
    """The adapter's stdout cut into its blocks: a block ends where a family it has begins again."""
    blocks: list[list[str]] = [[]]
    families: set[str] = set()
    for line in stdout.splitlines():
        if line.startswith("# HELP "):
            family = line.split()[2]
            if family in families:
                blocks.append([])
                families = set()
            families.add(family)
        blocks[-1].append(line)
    return ["\n".join(block) + "\n" for block in blocks if any(not line.startswith("#") for line in block)]


def raw_batches(raw: str) -> dict[int, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """The app's raw lines by batch (unix seconds): (name, labels) -> value."""
    batches: dict[int, dict[tuple[str, frozenset[tuple[str, str]]], float]] = {}
    for line in raw.splitlines():
        seconds, name, value, labels = line.split("|")
        pairs = frozenset(tuple(pair.split("=", 1)) for pair in labels.split(",") if pair)
        batches.setdefault(int(seconds), {})[(name, pairs)] = float(value)  # type: ignore[index]
    return batches


def test_adapter_output_is_prometheus_text_with_the_raw_values(program: ProgramRun, start_pod: PodFactory) -> None:
    pod = start_pod(program, PodSpec.of_pod(program, "adapter-format"))
    pod.wait_running()
    # The app writes a batch every 5 s; two blocks show the adapter converts each new batch.
    blocks = pod.wait_for_log(
        "adapter", lambda out: len(found := exposition_blocks(out)) >= 2 and found, 12, "two exposition blocks"
    )
    # As the lab reads the raw metrics: in the app container.
    raw = pod.exec("app", ["cat", "/var/log/app/metrics.raw"])
    assert raw.returncode == 0, raw.stderr
    batches = raw_batches(raw.stdout)
    assert pod.logs("adapter", "stderr") == ""  # no malformed line skipped

    seen_batches = []
    for block in blocks:
        families = list(text_string_to_metric_families(block))
        assert [f.name for f in families] == ["http_errors", "http_requests", "queue_depth", "request_latency_seconds"]
        assert [f.type for f in families] == ["counter", "counter", "gauge", "gauge"]
        samples = [sample for family in families for sample in family.samples]
        # The text format's timestamps are milliseconds; the parser gives seconds.
        assert all(isinstance(s.timestamp, float) for s in samples), "every sample has a timestamp"
        (timestamp,) = {float(s.timestamp) for s in samples if isinstance(s.timestamp, float)}
        batch = int(timestamp)
        assert batch == timestamp, "timestamps are the batch's whole seconds, in milliseconds"
        expected = batches[batch]
        got = {(s.name, frozenset(s.labels.items())): s.value for s in samples}
        assert got == expected, f"block for batch {batch}:\n{block}"
        seen_batches.append(batch)
        promtool = subprocess.run(
            [PROMTOOL, "check", "metrics"], input=block, capture_output=True, text=True, timeout=10, check=False
        )
        assert promtool.returncode == 0, f"promtool check metrics:\n{promtool.stdout}{promtool.stderr}\n{block}"
    # One block per batch, newest batches in order, none twice.
    assert seen_batches == sorted(set(seen_batches))
