"""Native sidecar pattern: the proxy, an init container with restartPolicy Always, starts
before the app, keeps running beside it and adds its headers."""

from __future__ import annotations

import pytest

from tests.harness import ProgramRun

from .conftest import PodFactory
from .pods import Pod, PodSpec, http_get

pytestmark = pytest.mark.runtime

PAGE_TITLE = b"<title>Welcome to nginx!</title>"


@pytest.fixture
def sidecar_proxy(program: ProgramRun, start_pod: PodFactory) -> Pod:
    pod = start_pod(program, PodSpec.of_deployment(program, "sidecar-proxy"))
    pod.wait_ready()
    return pod


def test_proxy_starts_first_and_keeps_running(sidecar_proxy: Pod) -> None:
    events = sidecar_proxy.events
    order = [
        next(i for i, e in enumerate(events) if "started sidecar container proxy" in e),
        next(i for i, e in enumerate(events) if "startup probe of proxy passed" in e),
        next(i for i, e in enumerate(events) if "started app container app" in e),
    ]
    assert order == sorted(order), events
    assert sidecar_proxy.container("proxy").running
    assert sidecar_proxy.container("app").running


def test_app_page_through_the_proxy_carries_its_headers(sidecar_proxy: Pod) -> None:
    status, headers, body, _ = http_get(sidecar_proxy.netns, "127.0.0.1", 8080)
    assert status == 200
    assert headers["x-proxy"] == "native-sidecar"
    assert headers["x-proxy-upstream"] == "127.0.0.1:80"
    direct_status, direct_headers, direct_body, _ = http_get(sidecar_proxy.netns, "127.0.0.1", 80)
    assert direct_status == 200
    assert "x-proxy" not in direct_headers
    assert body == direct_body
    assert PAGE_TITLE in body
    # As the lab does it: busybox wget in the app container, with the response headers.
    via_proxy = sidecar_proxy.exec("app", ["wget", "-S", "-qO-", "http://localhost:8080"])
    assert via_proxy.returncode == 0, via_proxy.stderr
    assert via_proxy.stdout.encode() == body
    assert "X-Proxy: native-sidecar" in via_proxy.stderr


def test_health_is_answered_by_the_proxy_itself(sidecar_proxy: Pod) -> None:
    before = sidecar_proxy.logs("app")
    status, headers, body, _ = http_get(sidecar_proxy.netns, "127.0.0.1", 8080, "/health")
    assert (status, body) == (200, b"ok\n")
    assert headers["x-proxy"] == "native-sidecar"
    assert "x-proxy-upstream" not in headers
    wget = sidecar_proxy.exec("app", ["wget", "-qO-", "http://localhost:8080/health"])
    assert (wget.returncode, wget.stdout) == (0, "ok\n")
    # The app never saw it.
    assert "/health" not in sidecar_proxy.logs("app").removeprefix(before)


def test_app_answers_directly_on_80(sidecar_proxy: Pod) -> None:
    direct = sidecar_proxy.exec("app", ["wget", "-qO-", "http://localhost:80"])
    assert direct.returncode == 0, direct.stderr
    assert PAGE_TITLE in direct.stdout.encode()
