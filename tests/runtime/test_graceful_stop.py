"""Graceful stop: every container of every pattern, sent SIGTERM as the kubelet does (to its
PID 1), exits within 2 s, far inside the pods' grace period. A PID-1 shell that ignores SIGTERM
would hold every `pulumi destroy` for the whole grace period instead."""

from __future__ import annotations

import threading

import pytest

from tests.harness import ProgramRun

from .conftest import STOP_TIMES, PodFactory
from .pods import Pod, PodSpec

pytestmark = pytest.mark.runtime

LIMIT_SECONDS = 2.0


def stop_all(pods: list[Pod], note: str = "") -> dict[tuple[str, str], tuple[float | None, int | None]]:
    """Stop the pods at once, each as the kubelet would; (pod, container) -> (seconds, exit code)."""
    results: dict[tuple[str, str], tuple[float | None, int | None]] = {}

    def stop(pod: Pod) -> None:
        for name, seconds in pod.stop().items():
            results[(pod.name + note, name)] = (seconds, pod.containers[name].poll())

    threads = [threading.Thread(target=stop, args=(pod,)) for pod in pods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return results


def test_every_container_exits_on_sigterm_within_2_s(
    program: ProgramRun, start_pod: PodFactory, request: pytest.FixtureRequest
) -> None:
    stashed = request.config.stash.setdefault(STOP_TIMES, [])
    # init-wait-db while it waits for a database that is not there.
    waiting = start_pod(program, PodSpec.of_pod(program, "init-demo"))
    waiting.wait_for_log("init-wait-db", lambda out: "(attempt 1)" in out, 5, "waiting for the db")
    results = stop_all([waiting], " (db absent)")

    # Every other container, once its pod runs.
    pods = [
        start_pod(program, PodSpec.of_pod(program, "sidecar-logging")),
        start_pod(program, PodSpec.of_pod(program, "adapter-format")),
        start_pod(program, PodSpec.of_pod(program, "ambassador-proxy")),
        start_pod(program, PodSpec.of_deployment(program, "sidecar-proxy")),
        start_pod(program, PodSpec.of_deployment(program, "db")),
    ]
    for pod in pods:
        pod.wait_ready(10)
    init_demo = start_pod(program, PodSpec.of_pod(program, "init-demo"))
    init_demo.wait_for_log("app", lambda out: "app: serving in" in out, 10, "app running")
    pods.append(init_demo)
    results.update(stop_all(pods))

    stashed.extend((pod, container, seconds, code) for (pod, container), (seconds, code) in sorted(results.items()))
    # Every container that was running when its pod stopped; the rest had exited by themselves.
    running_at_stop = {(pod.name, name) for pod in pods for name, c in pod.containers.items() if c.spec.kind != "init"}
    assert running_at_stop <= set(results)
    assert (waiting.name + " (db absent)", "init-wait-db") in results
    assert {init_demo.container("init-config").poll(), init_demo.container("init-wait-db").poll()} == {0}
    slow = {key: value for key, value in results.items() if value[0] is None or value[0] > LIMIT_SECONDS}
    assert not slow, f"containers that did not exit within {LIMIT_SECONDS} s of SIGTERM (None: killed): {slow}"
