"""The lab's shell scripts do what their patterns say, run as their pods run them (`tests.pods`: the
rendered containers' commands, environment and volumes, with busybox): the log shipper ships the
lines the app writes, the adapter turns the app's raw metrics into Prometheus text with the same
values, init-config names the database init-wait-db waits for, and init-wait-db lets the app start
only once that database answers PONG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests import k8s
from tests.harness import ProgramRun, run_program
from tests.pods import PodError, RunningPod, run_pod

pytestmark = pytest.mark.pods

# What a Redis server answers to PING, and what it answers to anything it refuses.
PONG = "+PONG\r\n+OK\r\n"
REFUSED = "-ERR unknown command\r\n"


@pytest.fixture(scope="module")
def lab() -> ProgramRun:
    return run_program()


def pod_of(run: ProgramRun, workload: str) -> tuple[dict[str, Any], dict[str, Mapping[str, str]]]:
    """The workload's pod spec and the data of every ConfigMap of the run."""
    return k8s.pod_spec(k8s.workload(run, workload)), k8s.config_map_data(run)


def nc_stub(reply: str) -> str:
    """A stand-in for `nc HOST PORT` that records what it was asked and answers ``reply``."""
    return f"#!/bin/sh\necho \"$*\" >>/tmp/nc.calls\ncat >>/tmp/nc.input\nprintf '%s' {reply!r}\n".replace(
        "\r", "\\r"
    ).replace("\n'", "\\n'")


def shipped(pod: RunningPod) -> list[str]:
    return [line for line in pod.log("log-shipper").splitlines() if line.startswith("[shipped] ")]


def test_the_log_shipper_ships_every_line_the_app_writes_in_order(lab: ProgramRun) -> None:
    spec, config_maps = pod_of(lab, "sidecar-logging")
    fast = {"LOG_INTERVAL_SECONDS": "0.1"}
    with run_pod(spec, config_maps, env={"app": fast}) as pod:
        pod.wait_for("the shipper ships three lines", lambda: len(shipped(pod)) >= 3)
        written = [line for line in pod.log("app").splitlines() if "handled request" in line]
        lines = [line.removeprefix("[shipped] ") for line in shipped(pod)]
    assert lines == written[: len(lines)]
    assert [line.rsplit("id=", 1)[1] for line in lines[:3]] == ["1", "2", "3"]


def shipped_ids(pod: RunningPod) -> list[int]:
    return [int(line.rsplit("id=", 1)[1]) for line in shipped(pod)]


def test_the_log_shipper_follows_the_log_across_its_rotations(lab: ProgramRun) -> None:
    """The app moves its log aside every few lines; the shipper goes on with the new file (a line
    written just before a move may be missed: `tail -F` looks for the new file once a second)."""
    spec, config_maps = pod_of(lab, "sidecar-logging")
    rotating = {"LOG_INTERVAL_SECONDS": "0.2", "LOG_ROTATE_AFTER_LINES": "3"}
    with run_pod(spec, config_maps, env={"app": rotating}) as pod:
        pod.wait_for("the shipper ships lines written after two rotations", lambda: max(shipped_ids(pod) or [0]) > 7)
        ids = shipped_ids(pod)
    assert ids == sorted(set(ids))


def test_the_adapter_prints_each_new_batch_of_the_app_as_prometheus_text_with_the_same_values(
    lab: ProgramRun,
) -> None:
    spec, config_maps = pod_of(lab, "adapter-format")
    raw_file = pod_volume_file(spec, "app", "METRICS_FILE")
    # Batches are stamped with the second they were written in: one a second.
    fast = {"app": {"METRICS_INTERVAL_SECONDS": "1"}, "adapter": {"ADAPT_INTERVAL_SECONDS": "0.1"}}
    with run_pod(spec, config_maps, env=fast) as pod:

        def batches() -> list[str]:
            path = pod.volume(raw_file[0]) / raw_file[1]
            stamps = [line.split("|")[0] for line in path.read_text().splitlines()] if path.exists() else []
            return list(dict.fromkeys(stamps))

        def converted() -> set[int]:
            return {stamp_of(s) for f in text_string_to_metric_families(pod.log("adapter")) for s in f.samples}

        pod.wait_for(
            "the adapter converts the app's second batch",
            lambda: len(batches()) >= 2 and int(batches()[1]) in converted(),
        )
        raw = (pod.volume(raw_file[0]) / raw_file[1]).read_text()
        output = pod.log("adapter")
    raw_values: dict[int, dict[tuple[str, str], float]] = {}
    for stamp, name, value, labels in (line.split("|") for line in raw.splitlines()):
        raw_values.setdefault(int(stamp), {})[(name, labels)] = float(value)
    samples: dict[int, dict[tuple[str, str], float]] = {}
    for family in text_string_to_metric_families(output):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sample.labels.items())
            samples.setdefault(stamp_of(sample), {})[(sample.name, labels)] = sample.value
    assert samples
    assert {stamp: raw_values[stamp] for stamp in samples} == samples
    # Each batch printed once and whole when it is the newest (README: "converts each batch"): in
    # the order printed the stamps never go back, and each has exactly its batch's rows.
    printed = [stamp_of(s) for family in text_string_to_metric_families(output) for s in family.samples]
    assert printed == sorted(printed), "the adapter printed an older batch again"
    assert {stamp: printed.count(stamp) for stamp in printed} == {stamp: len(raw_values[stamp]) for stamp in printed}, (
        "the adapter printed other rows than each batch's, or a batch twice"
    )


def stamp_of(sample: Sample) -> int:
    """The second a sample is stamped with (the text format's milliseconds, parsed to seconds)."""
    assert isinstance(sample.timestamp, float), sample
    return int(sample.timestamp)


def pod_volume_file(spec: Mapping[str, Any], container: str, variable: str) -> tuple[str, str]:
    """The emptyDir volume and file name that ``variable`` of ``container`` names."""
    named = k8s.container(dict(spec), container)
    directory, _, name = k8s.env_of(named)[variable].rpartition("/")
    return k8s.mount_of(dict(spec), named, directory)[1]["name"], name


def test_init_wait_db_asks_the_database_init_config_names_and_the_app_starts_on_pong(lab: ProgramRun) -> None:
    spec, config_maps = pod_of(lab, "init-demo")
    init_config = k8s.env_of(k8s.container(spec, "init-config", init=True))
    with run_pod(spec, config_maps, stubs={"nc": nc_stub(PONG)}) as pod:
        pod.wait_for("the app starts", lambda: "app: serving" in pod.log("app"))
        calls = (pod.directory / "roots" / "init-wait-db" / "tmp" / "nc.calls").read_text()
        sent = (pod.directory / "roots" / "init-wait-db" / "tmp" / "nc.input").read_bytes().decode()
        assert pod.exit_code("init-config") == 0
        assert pod.exit_code("init-wait-db") == 0
        waited, app = pod.log("init-wait-db"), pod.log("app")
    # It asked the host and port init-config wrote, which name the database's Service.
    assert calls.split()[-2:] == [init_config["DB_HOST"], init_config["DB_PORT"]]
    assert sent.startswith("PING\r\n")
    assert "PONG after 1 attempt(s)" in waited
    assert f"using database {init_config['DB_HOST']}:{init_config['DB_PORT']}" in app


@pytest.mark.parametrize("reply", [REFUSED, ""], ids=["an-error", "nothing"])
def test_init_wait_db_keeps_the_app_waiting_until_the_database_answers_pong(lab: ProgramRun, reply: str) -> None:
    spec, config_maps = pod_of(lab, "init-demo")
    with run_pod(
        spec, config_maps, stubs={"nc": nc_stub(reply)}, env={"init-wait-db": {"RETRY_SECONDS": "0.1"}}
    ) as pod:
        pod.wait_for("init-wait-db retries", lambda: "(attempt 3)" in pod.log("init-wait-db"))
        assert pod.exit_code("init-wait-db") is None
        assert pod.log("app") == ""


@pytest.mark.parametrize("workload", ["sidecar-logging", "adapter-format", "sidecar-proxy", "ambassador-proxy"])
def test_each_container_runs_as_the_user_and_groups_its_pod_gives_it(lab: ProgramRun, workload: str) -> None:
    """As the kubelet runs them: the container's user and group (or the pod's), with the pod's
    fsGroup among its groups, which owns the volumes it shares and may read its TLS files."""
    spec, config_maps = pod_of(lab, workload)
    pod_security = spec.get("securityContext") or {}
    running = [c for c in k8s.all_containers(spec) if c.get("restartPolicy") == "Always" or c in spec["containers"]]
    with run_pod(spec, config_maps, k8s.secret_data(lab)) as pod:
        for container in running:
            security = {**pod_security, **(container.get("securityContext") or {})}
            pod.wait_for(f"{container['name']} runs", lambda name=container["name"]: _runs(pod, name))
            uid, gid, groups = pod.ids(container["name"])
            assert (uid, gid) == (security["runAsUser"], security.get("runAsGroup", security["runAsUser"]))
            assert pod_security["fsGroup"] in groups


def _runs(pod: RunningPod, container: str) -> bool:
    try:
        pod.ids(container)
    except PodError:
        return False
    return True
