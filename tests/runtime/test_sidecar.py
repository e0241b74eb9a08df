"""Sidecar pattern: the log shipper ships the very lines the app writes."""

from __future__ import annotations

import re

import pytest

from tests.harness import ProgramRun

from .conftest import PodFactory
from .pods import PodSpec

pytestmark = pytest.mark.runtime


def test_log_shipper_stdout_carries_the_apps_lines_within_seconds(program: ProgramRun, start_pod: PodFactory) -> None:
    pod = start_pod(program, PodSpec.of_pod(program, "sidecar-logging"))
    pod.wait_running()

    def app_lines() -> list[str]:
        return [line for line in pod.logs("app").splitlines() if "handled request" in line]

    lines = pod.wait_for(lambda: (found := app_lines()) and len(found) >= 2 and found, 8, "app wrote two lines")
    shipped = pod.wait_for_log(
        "log-shipper",
        lambda out: all(f"[shipped] {line}" in out.splitlines() for line in lines) and out,
        4,
        "every app line shipped",
    )
    shipped_lines = [line for line in shipped.splitlines() if line.startswith("[shipped] ")]
    # The shipper adds its tag and nothing else, in the app's order.
    assert [line.removeprefix("[shipped] ") for line in shipped_lines][: len(lines)] == lines
    assert all(re.fullmatch(r"\S+Z INFO app: handled request id=\d+", line) for line in lines)
    assert pod.container("app").running
    assert pod.container("log-shipper").running
