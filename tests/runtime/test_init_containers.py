"""Init-container pattern: init-config writes the app's configuration, init-wait-db holds the
pod until the database Service answers, and a failing init container keeps the app from starting."""

from __future__ import annotations

import time

import pytest

from tests.harness import ProgramRun, run_program

from .conftest import PodFactory
from .pods import PodSpec

pytestmark = pytest.mark.runtime


def test_init_containers_prepare_config_and_wait_for_the_db(program: ProgramRun, start_pod: PodFactory) -> None:
    pod = start_pod(program, PodSpec.of_pod(program, "init-demo"))

    # init-config ran to completion first and wrote the file.
    written = pod.wait_for_log("init-config", lambda out: "init-config: done" in out and out, 5, "init-config done")
    assert pod.container("init-config").wait(2) == 0
    # init-wait-db blocks while no database answers: the app does not start.
    pod.wait_for_log("init-wait-db", lambda out: "(attempt 2)" in out, 8, "two failed attempts")
    assert pod.phase == "Init:init-wait-db"
    assert "app" not in pod.containers
    assert pod.container("init-wait-db").running

    # The database comes up in its own pod, behind its Service `db`.
    db = start_pod(program, PodSpec.of_deployment(program, "db"))
    db.wait_ready(10)
    pod.wait_for_log("init-wait-db", lambda out: "answered PONG" in out, 8, "the database answered")
    assert pod.container("init-wait-db").wait(2) == 0
    pod.wait_running(5)

    # The app prints the very file init-config wrote, and uses its values.
    out = pod.wait_for_log("app", lambda out: "app: serving in" in out and out, 5, "app serving")
    config = written.split("init-config: writing /config/app.conf\n", 1)[1].split("init-config: done\n", 1)[0]
    assert config.startswith("# written by init-config at ")
    printed = out.split("app: started with the configuration from /config/app.conf:\n", 1)[1]
    assert printed.startswith(config)
    assert "app: serving in lab, using database db:6379" in out
    on_volume = pod.exec("app", ["cat", "/config/app.conf"])
    assert on_volume.stdout == config
    # The app's view of the config volume is read-only, as its mount says.
    assert pod.exec("app", ["touch", "/config/app.conf"]).returncode != 0


def test_failing_init_container_stops_the_pod_before_the_app(start_pod: PodFactory) -> None:
    program = run_program({"failingInit": "true"})
    pod = start_pod(program, PodSpec.of_pod(program, "init-demo"))
    init_names = [c["name"] for c in pod.spec.spec["initContainers"]]
    assert init_names[0] == "failing-init"
    pod.wait_for(lambda: pod.phase.startswith("Init:Error"), 5, "an init container failing")
    assert pod.phase == "Init:Error:failing-init"
    assert pod.container("failing-init").poll() != 0
    time.sleep(0.5)
    assert set(pod.containers) == {"failing-init"}
