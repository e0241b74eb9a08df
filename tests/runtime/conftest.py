"""Fixtures of the runtime suite: the program's manifests, the node network, and pods that are
always torn down, whatever the test did."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import ProgramRun, run_program

from . import images
from .pods import ClusterNetwork, Pod, PodSpec, remove_stale_namespaces


@pytest.fixture(scope="session", autouse=True)
def runtime_environment() -> None:
    """Root, or skip; every stand-in binary and tool present, or fail (a CI without them is broken)."""
    if os.geteuid() != 0:
        pytest.skip("runtime tests need root (network, PID and mount namespaces, bind mounts)")
    needed = {path: "+".join(image.packages) for image in images.IMAGES.values() for path in image.binaries}
    needed.update(images.TOOLS)
    missing = sorted(
        f"{path} (Debian package {package})" for path, package in needed.items() if not Path(path).exists()
    )
    if missing:
        pytest.fail(f"missing: {', '.join(missing)}; run scripts/test.sh runtime, which installs them", pytrace=False)


@pytest.fixture(scope="session")
def program() -> ProgramRun:
    """Everything `pulumi up` would send, with the default configuration."""
    return run_program()


@pytest.fixture(scope="session")
def image_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def network() -> Iterator[ClusterNetwork]:
    remove_stale_namespaces()
    cluster = ClusterNetwork(uuid.uuid4().hex[:6])
    try:
        yield cluster
    finally:
        cluster.close()


PodFactory = Callable[[ProgramRun, PodSpec], Pod]
# (pod, container, seconds from SIGTERM to exit or None if killed, exit code), for the summary.
STOP_TIMES = pytest.StashKey[list[tuple[str, str, float | None, int | None]]]()


@pytest.fixture
def start_pod(
    network: ClusterNetwork, image_cache: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[PodFactory]:
    """Starts a pod; every pod started is destroyed when the test ends, passed or failed."""
    started: list[Pod] = []

    def start(program: ProgramRun, spec: PodSpec) -> Pod:
        pod = Pod(spec, program, network, tmp_path / f"{len(started)}-{spec.name}", image_cache)
        started.append(pod)
        return pod.start()

    yield start
    failed = getattr(request.node, "rep_call", None)
    for pod in reversed(started):
        if failed is not None and failed.failed:
            print(pod.describe())
        pod.destroy()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    times = config.stash.get(STOP_TIMES, None)
    if not times:
        return
    terminalreporter.section("SIGTERM to exit, per container")
    terminalreporter.write_line(f"{'pod':<32} {'container':<14} {'seconds':>8}  exit")
    for pod, container, seconds, code in times:
        shown = "killed" if seconds is None else f"{seconds:.3f}"
        terminalreporter.write_line(f"{pod:<32} {container:<14} {shown:>8}  {code}")
