"""The proxies' nginx configs do what their patterns say, served by nginx (Debian's, the package of the
end-to-end suite's nginx image) in their pods as the program renders them (`tests.pods`), each pod
on a loopback of its own: the native sidecar forwards to the app and marks every answer as its
own, the ambassador terminates TLS with the certificate of its Secret and forwards to the app, and
each proxy answers the paths its startup and liveness probes ask for itself, so a failing app
never restarts it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest

from multicontainer_patterns._defaults import UNPRIVILEGED, Resources
from multicontainer_patterns._labels import Labels
from multicontainer_patterns._nginx import HTML_DIR, nginx_app
from multicontainer_patterns._pod import Container, PodTemplate, Port, Volume
from multicontainer_patterns._workloads import pod
from tests import k8s
from tests.harness import ProgramRun, run, run_program
from tests.pods import RunningPod, run_pod

pytestmark = pytest.mark.pods

PAGE = Path(__file__).resolve().parents[1] / "e2e/toolchain/images/nginx/rootfs/usr/share/nginx/html/index.html"


@pytest.fixture(scope="module")
def lab() -> ProgramRun:
    return run_program()


def without_app(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pod with its app container gone: what the proxy does when the app is down."""
    return {**spec, "containers": [c for c in spec["containers"] if c["name"] != "app"]}


def proxy_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    return next(c for c in k8s.all_containers(dict(spec)) if c["name"] == "proxy")


def port_of(container: Mapping[str, Any], name: str | float) -> int:
    if isinstance(name, str):
        return next(int(p["containerPort"]) for p in container["ports"] if p["name"] == name)
    return int(name)


def probed(container: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The port and path of each of the container's HTTP probes whose failure restarts it (startup
    and liveness; readiness may follow the app: a proxy whose app is down should get no traffic)."""
    probes = [container.get(kind) for kind in ("startupProbe", "livenessProbe")]
    gets = [p["httpGet"] for p in probes if p and "httpGet" in p]
    return [(port_of(container, get["port"]), get.get("path", "/")) for get in gets]


def served(pod: RunningPod, url: str, cafile: str | None = None) -> None:
    def answers() -> bool:
        try:
            pod.http(url, cafile=cafile)
        except AssertionError:
            return False
        return True

    pod.wait_for(f"{url} answers", answers)


@pytest.fixture
def ca_file(lab: ProgramRun) -> Iterator[str]:
    """The ambassador's certificate, the only one a client trusts here."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as file:
        file.write(lab.one("kubernetes:core/v1:Secret").inputs["stringData"]["tls.crt"])
        file.flush()
        yield file.name


def test_the_native_sidecar_forwards_to_the_app_and_marks_every_answer(lab: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(lab, "sidecar-proxy"))
    port = port_of(proxy_of(spec), "proxy")
    with run_pod(spec, k8s.config_map_data(lab)) as pod:
        served(pod, f"http://localhost:{port}/")
        page = pod.http(f"http://localhost:{port}/")
        health = pod.http(f"http://localhost:{port}/health")
        missing = pod.http(f"http://localhost:{port}/no-such-page")
    assert page.status == 200
    assert page.body == PAGE.read_text()
    assert health.status == 200
    # Every answer through the proxy says so: a page, its own /health, and an error the app gave.
    for response in (page, health, missing):
        assert response.headers.get("x-proxy") == "native-sidecar", response
    assert missing.status == 404
    assert page.headers.get("x-proxy-upstream") == "127.0.0.1:80"


def test_the_ambassador_terminates_tls_with_its_certificate_and_forwards_to_the_app(
    lab: ProgramRun, ca_file: str
) -> None:
    spec = k8s.pod_spec(k8s.workload(lab, "ambassador-proxy"))
    port = port_of(proxy_of(spec), "proxy-port")
    with run_pod(spec, k8s.config_map_data(lab), k8s.secret_data(lab)) as pod:
        served(pod, f"https://localhost:{port}/", ca_file)
        page = pod.http(f"https://localhost:{port}/", cafile=ca_file)
        plain = pod.http(f"http://localhost:{port}/")
    assert page.status == 200
    assert page.body == PAGE.read_text()
    # nginx's answer to plain HTTP on a TLS port: the port speaks only TLS.
    assert plain.status == 400


@pytest.mark.parametrize(("workload", "scheme"), [("sidecar-proxy", "http"), ("ambassador-proxy", "https")])
def test_a_proxy_answers_the_probes_that_restart_it_itself_while_the_app_is_down(
    lab: ProgramRun, ca_file: str, workload: str, scheme: str
) -> None:
    spec = without_app(k8s.pod_spec(k8s.workload(lab, workload)))
    probes = probed(proxy_of(spec))
    assert probes, f"{workload}: the proxy has no HTTP probe"
    urls = [f"{scheme}://localhost:{port}{path}" for port, path in probes]
    cafile = ca_file if scheme == "https" else None
    with run_pod(spec, k8s.config_map_data(lab), k8s.secret_data(lab)) as pod:
        served(pod, urls[0], cafile)
        answers = {url: pod.http(url, cafile=cafile).status for url in urls}
        forwarded = pod.http(f"{scheme}://localhost:{probes[0][0]}/", cafile=cafile)
    assert set(answers.values()) == {200}, answers
    # What it forwards fails meanwhile: the probes do not depend on the app.
    assert forwarded.status == 502


def test_nginx_app_serves_the_folder_another_container_of_its_pod_writes() -> None:
    """`nginx_app` with ``content``: a web server of any name serving a shared emptyDir, which a
    busybox container of another group fills (so the pod names its group, ``fs_group``)."""
    site = Volume.empty_dir("site")
    page = "<h1>written by the writer</h1>"
    writer = Container(
        name="writer",
        image="busybox:1.36",
        command=[
            "sh",
            "-c",
            f"printf '%s' '{page}' >/site/index.html.tmp && mv /site/index.html.tmp /site/index.html && sleep 3600",
        ],
        mounts=[site.mount("/site")],
        privileges=UNPRIVILEGED,
        resources=Resources(),
    )
    web = nginx_app(
        image="nginx:1.25.3-alpine",
        port=Port("http", 80),
        resources=Resources(),
        name="web",
        content=site.mount(HTML_DIR, read_only=True),
    )
    template = PodTemplate(containers=[web, writer], fs_group=3000)

    def body() -> None:
        labels = Labels("site", "site", "test")
        pod("site", name="site", namespace="team-a", labels=labels, template=template, opts=pulumi.ResourceOptions())

    spec = k8s.pod_spec(k8s.workload(run(body), "site"))
    with run_pod(spec, {}) as running:
        served(running, "http://localhost:80/")
        running.wait_for("the writer's page is served", lambda: running.http("http://localhost:80/").body == page)
    with pytest.raises(ValueError, match="serves the image's default server on 80, not 8080"):
        nginx_app(image="nginx:1.25.3-alpine", port=Port("http", 8080), resources=Resources())
    with pytest.raises(ValueError, match="serves content from /usr/share/nginx/html, not /srv"):
        nginx_app(image="nginx:1.25.3-alpine", port=Port("http", 80), resources=Resources(), content=site.mount("/srv"))
