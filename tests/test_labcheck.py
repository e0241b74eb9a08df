"""The lab checker (scripts/lab.sh check): its commands are the README's and the program's, its
expectations judge realistic outputs, and whole walks run against a scripted cluster."""

from __future__ import annotations

import base64
import copy
import datetime
import json
import socket
import ssl
import stat
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import labcheck
from labcheck import expectations, k8s, tls
from labcheck.__main__ import main
from labcheck.commands import (
    COMMANDS,
    DEFAULT_NAMESPACE,
    FAILING_INIT_CONTAINER,
    LAB_PATTERNS,
    OVERVIEW,
    readme_command_lines,
)
from labcheck.kubectl import KubectlCluster, Output, PortForwardError, argv_of, with_global_flags
from multicontainer_patterns import PATTERNS
from tests.harness import ProgramRun, run_program
from tests.tree import PACKAGE, ROOT

NS = DEFAULT_NAMESPACE
QUICK = labcheck.Timing(settle_seconds=0.0, restart_seconds=0.0, poll_seconds=0.0)


def ok(stdout: str = "", stderr: str = "") -> Output:
    return Output(stdout, stderr, 0)


def error(stderr: str, exit_code: int = 1) -> Output:
    return Output("", stderr, exit_code)


# --- the commands: the README's and the program's ----------------------------------------------


def readme_kubectl_lines() -> list[str]:
    """The kubectl lines of the fenced blocks of "The lab" and "Experiments", in order."""
    readme = (ROOT / "README.md").read_text()
    lines: list[str] = []
    for title in ("## The lab", "## Experiments"):
        section = readme.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]
        fenced = False
        for line in section.splitlines():
            if line.strip().startswith("```"):
                fenced = not fenced
            elif fenced and line.strip().startswith("kubectl "):
                lines.append(line.strip())
    return lines


def test_the_checker_runs_the_readmes_commands_in_the_readmes_order() -> None:
    readme = readme_kubectl_lines()
    assert len(readme) == 16
    assert readme_command_lines() == readme


def test_each_patterns_commands_are_the_programs_own(lab: ProgramRun) -> None:
    # The checker walks the lab text's patterns: registered ones, in the registry's order.
    assert list(LAB_PATTERNS) == [pattern for pattern in PATTERNS if pattern in LAB_PATTERNS]
    program = lab.exports["kubectl_commands"]
    for pattern, commands in COMMANDS.items():
        rendered = [command.render(NS, commands.workload) for command in commands.readme_commands]
        assert rendered == program[pattern], pattern
        assert lab.exports["workloads"][pattern] == commands.workload


def test_in_another_namespace_too() -> None:
    program = run_program({"namespace": "patterns-test"}).exports["kubectl_commands"]
    for pattern, commands in COMMANDS.items():
        rendered = [command.render("patterns-test", commands.workload) for command in commands.readme_commands]
        assert rendered == program[pattern], pattern


def test_experiment_3s_failing_init_container_is_the_one_the_checker_looks_for() -> None:
    program = run_program({"failingInit": "true"}).exports["kubectl_commands"]["init-containers"]
    commands = COMMANDS["init-containers"]
    failing_log = commands["failing_log"].render(NS, commands.workload)
    assert program == [failing_log, *(c.render(NS, commands.workload) for c in commands.readme_commands)]
    assert f"-c {FAILING_INIT_CONTAINER} " in failing_log


def test_a_context_goes_right_after_kubectl_even_in_a_pipeline() -> None:
    line = "kubectl logs adapter-format -c adapter -n multi-container-demo | tail -5"
    assert with_global_flags(line, context="kind-lab") == (
        "kubectl --context kind-lab logs adapter-format -c adapter -n multi-container-demo | tail -5"
    )
    assert with_global_flags(line) == line
    assert with_global_flags("kubectl get pods", context="my lab", kubeconfig="/tmp/k config") == (
        "kubectl --context 'my lab' --kubeconfig '/tmp/k config' get pods"
    )


def test_a_pipeline_runs_through_sh_exactly_as_written_anything_else_word_by_word() -> None:
    line = "kubectl describe pod -l app=sidecar-proxy -n multi-container-demo | grep -A5 Requests"
    assert argv_of(line) == ["sh", "-c", line]
    assert argv_of("kubectl exec x -c app -n ns -- wget -qO- http://localhost:80") == [
        "kubectl",
        *["exec", "x", "-c", "app", "-n", "ns", "--", "wget", "-qO-", "http://localhost:80"],
    ]


# --- running kubectl: timeouts, port-forwards and watches end what they started ----------------


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def gone(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return False


def test_a_command_shows_its_output_and_exit_code() -> None:
    output = KubectlCluster().run("sh -c 'echo shown; echo said >&2; exit 3'")
    assert (output.stdout, output.stderr, output.exit_code) == ("shown\n", "said\n", 3)
    assert output.failure() == "exit 3: said"


def test_a_command_past_its_timeout_is_stopped_with_everything_it_started() -> None:
    started = time.monotonic()
    # `cat` keeps the pipe open while `sleep` lives: the run returns quickly only if both are gone.
    output = KubectlCluster().run("(echo begun; sleep 30) | cat", timeout=0.5)
    assert time.monotonic() - started < 3
    assert output.exit_code is None
    assert output.stdout == "begun\n"
    assert output.failure().startswith("timed out after")


def test_a_missing_kubectl_is_a_failed_command() -> None:
    output = KubectlCluster().run("no-such-kubectl get pods")
    assert output.exit_code == 127
    assert "not found" in output.failure()


def test_a_port_forward_yields_its_local_port_and_is_stopped_after(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    forward = script(
        tmp_path, "kubectl", f"echo $$ > {pid_file}\necho 'Forwarding from 127.0.0.1:41234 -> 8443'\nexec sleep 30\n"
    )
    with KubectlCluster().port_forward(f"{forward} port-forward pod/ambassador-proxy :8443") as port:
        assert port == 41234
        pid = int(pid_file.read_text())
        assert not gone(pid)
    assert gone(pid)


def test_a_port_forward_that_fails_says_why(tmp_path: Path) -> None:
    forward = script(tmp_path, "kubectl", "echo 'error: unable to forward port because pod is not running'\nexit 1\n")
    started = time.monotonic()
    with (
        pytest.raises(PortForwardError, match="pod is not running"),
        KubectlCluster().port_forward(f"{forward} port-forward pod/x :8443"),
    ):
        pass
    assert time.monotonic() - started < 5


def test_a_followed_watch_collects_its_lines_until_it_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    watch = script(tmp_path, "kubectl", f"echo $$ > {pid_file}\necho NAME READY\necho pod-a 1/1\nexec sleep 30\n")
    with KubectlCluster().follow(f"{watch} get pods -w") as followed:
        deadline = time.monotonic() + 5
        while len(followed.lines()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int(pid_file.read_text())
    assert followed.lines() == ["NAME READY", "pod-a 1/1"]
    assert gone(pid)


# --- realistic objects and outputs -----------------------------------------------------------

START = datetime.datetime(2026, 11, 26, 13, 30, tzinfo=datetime.UTC)
NODE = "lab-control-plane"
REQUESTS = {"cpu": "10m", "memory": "16Mi"}
LIMITS = {"cpu": "100m", "memory": "64Mi"}


def at(seconds: int) -> str:
    """A time as Kubernetes writes it, ``seconds`` after the lab started."""
    return (START + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name: str, *, sidecar: bool = False, mounts: Sequence[str] = ()) -> dict[str, Any]:
    declared: dict[str, Any] = {
        "name": name,
        "image": "nginx:1.25.3-alpine",
        "resources": {"limits": dict(LIMITS), "requests": dict(REQUESTS)},
        "volumeMounts": [{"name": mount, "mountPath": f"/mnt/{mount}"} for mount in mounts],
    }
    if sidecar:
        declared["restartPolicy"] = "Always"
    return declared


def running(
    name: str, since: int, *, ready: bool = True, restarts: int = 0, last: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": at(since)}},
        "lastState": {"terminated": last} if last else {},
    }


def run_ended(exit_code: int, started: int, finished: int) -> dict[str, Any]:
    return {
        "exitCode": exit_code,
        "reason": "Completed" if exit_code == 0 else "Error",
        "startedAt": at(started),
        "finishedAt": at(finished),
    }


def ended(name: str, exit_code: int, started: int, finished: int, *, restarts: int = 0) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "state": {"terminated": run_ended(exit_code, started, finished)},
        "lastState": {},
    }


def waiting(name: str, reason: str, *, restarts: int = 0, last: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
        "lastState": {"terminated": last} if last else {},
    }


def pod_object(
    name: str,
    *,
    containers: Sequence[dict[str, Any]],
    statuses: Sequence[dict[str, Any]],
    init_containers: Sequence[dict[str, Any]] = (),
    init_statuses: Sequence[dict[str, Any]] = (),
    phase: str = "Running",
    ready: bool = True,
    initialized_at: int | None = 0,
    volumes: Sequence[dict[str, Any]] = (),
    uid: str = "pod-uid",
    owner_uid: str | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": uid,
            "labels": {"app": name.rsplit("-", 2)[0] if owner_uid else name},
            "ownerReferences": [{"kind": "ReplicaSet", "uid": owner_uid}] if owner_uid else [],
        },
        "spec": {
            "nodeName": NODE,
            "initContainers": list(init_containers),
            "containers": list(containers),
            "volumes": list(volumes),
        },
        "status": {
            "phase": phase,
            "conditions": [
                {
                    "type": "Initialized",
                    "status": "False" if initialized_at is None else "True",
                    "lastTransitionTime": at(initialized_at or 0),
                },
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": at(initialized_at or 0),
                },
            ],
            "initContainerStatuses": list(init_statuses),
            "containerStatuses": list(statuses),
        },
    }


def as_json(obj: Mapping[str, Any]) -> Output:
    return ok(json.dumps(obj, indent=4))


NGINX_PAGE = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
"""

SIDECAR_APP_LOG = "".join(f"2026-11-26T13:37:{30 + n:02d}Z INFO app: handled request id={n}\n" for n in range(1, 8))
# Read a moment later: the shipper has shipped one more line.
SIDECAR_SHIPPER_LOG = "".join(
    f"[shipped] 2026-11-26T13:37:{30 + n:02d}Z INFO app: handled request id={n}\n" for n in range(1, 9)
)

RAW_FILE = """1795700255|http_requests_total|11|method=GET,path=/api/orders
1795700255|http_errors_total|0|method=GET,path=/api/orders
1795700255|queue_depth|8|queue=orders
1795700255|request_latency_seconds|0.043|
1795700260|http_requests_total|16|method=GET,path=/api/orders
1795700260|http_errors_total|1|method=GET,path=/api/orders
1795700260|queue_depth|9|queue=orders
1795700260|request_latency_seconds|0.044|
1795700265|http_requests_total|22|method=GET,path=/api/orders
1795700265|http_errors_total|1|method=GET,path=/api/orders
1795700265|queue_depth|10|queue=orders
1795700265|request_latency_seconds|0.045|
"""
RAW_TAIL = "".join(RAW_FILE.splitlines(keepends=True)[-5:])


def adapter_log_of(raw: str) -> str:
    """What the adapter prints for these raw lines: each batch sorted by name through the lab's own
    converter, as multicontainer_patterns/_adapter/adapter.sh runs it."""
    converter = PACKAGE / "_adapter" / "to-prometheus.awk"
    batches: dict[str, list[str]] = {}
    for line in raw.splitlines():
        batches.setdefault(line.split("|")[0], []).append(line)
    log = ""
    for lines in batches.values():
        ordered = "".join(line + "\n" for line in sorted(lines, key=lambda line: line.split("|")[1]))
        converted = subprocess.run(
            ["awk", "-f", str(converter)], input=ordered, capture_output=True, text=True, check=True, timeout=10
        )
        log += converted.stdout
    return log


ADAPTER_LOG = adapter_log_of(RAW_FILE)
ADAPTER_TAIL = "".join(ADAPTER_LOG.splitlines(keepends=True)[-5:])

INIT_CONFIG_LOG = """init-config: writing /config/app.conf
# written by init-config at 2026-11-26T13:30:02Z
app_environment=lab
db_host=db
db_port=6379
init-config: done
"""
INIT_WAIT_DB_LOG = """init-wait-db: waiting for database db:6379 (attempt 1)
init-wait-db: waiting for database db:6379 (attempt 2)
init-wait-db: database db:6379 answered PONG after 3 attempt(s)
"""
INIT_APP_LOG = """app: started with the configuration from /config/app.conf:
# written by init-config at 2026-11-26T13:30:02Z
app_environment=lab
db_host=db
db_port=6379
app: serving in lab, using database db:6379
app: serving in lab, using database db:6379
"""

PROXY_HEADERS = """Connecting to localhost:8080 (127.0.0.1:8080)
  HTTP/1.1 200 OK
  Server: nginx/1.25.3
  Date: Thu, 26 Nov 2026 13:40:00 GMT
  Content-Type: text/html
  Content-Length: 615
  Connection: close
  Last-Modified: Tue, 24 Oct 2023 16:10:27 GMT
  ETag: "6537cac3-267"
  Accept-Ranges: bytes
  X-Proxy: native-sidecar
  X-Proxy-Upstream: 127.0.0.1:80
"""


def requests_blocks(containers: int) -> str:
    """`kubectl describe pod ... | grep -A5 Requests` for pods of the native-sidecar pattern."""
    proxy = """    Requests:
      cpu:        10m
      memory:     16Mi
    Liveness:     http-get http://:8080/health delay=0s timeout=2s period=10s #success=1 #failure=3
    Readiness:    http-get http://:8080/health delay=0s timeout=2s period=5s #success=1 #failure=3
    Startup:      http-get http://:8080/health delay=0s timeout=2s period=1s #success=1 #failure=3
"""
    app = """    Requests:
      cpu:        10m
      memory:     16Mi
    Readiness:    http-get http://:http/ delay=0s timeout=2s period=5s #success=1 #failure=3
    Environment:  <none>
    Mounts:
"""
    return "--\n".join([proxy, app] * (containers // 2))


def node_table_line(*cells: str) -> str:
    """A line of `kubectl describe node`'s "Non-terminated Pods" table, in its column widths."""
    widths = (28, 41, 14, 12, 17, 15, 0)
    return "  " + "".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip() + "\n"


def node_row(pod: str, cpu: str, memory: str) -> str:
    return node_table_line(NS, pod, f"{cpu} (1%)", "200m (10%)", f"{memory} (0%)", "128Mi (1%)", "10m")


def describe_node(rows: Sequence[str]) -> str:
    return (
        f"""Name:               {NODE}
Roles:              control-plane
Capacity:
  cpu:                2
  memory:             8130840Ki
Non-terminated Pods:          ({len(rows) + 1} in total)
"""
        + node_table_line("Namespace", "Name", "CPU Requests", "CPU Limits", "Memory Requests", "Memory Limits", "Age")
        + node_table_line("---------", "----", "------------", "----------", "---------------", "-------------", "---")
        + node_table_line(
            "kube-system", "coredns-76f75df574-8xkq2", "100m (5%)", "0 (0%)", "70Mi (0%)", "170Mi (2%)", "20m"
        )
        + "".join(rows)
        + """Allocated resources:
  (Total limits may be over 100 percent, i.e., overcommitted.)
  Resource           Requests    Limits
  --------           --------    ------
  cpu                120m (6%)   200m (10%)
Events:              <none>
"""
    )


# --- expectations on what the commands showed --------------------------------------------------


def test_the_shipper_showing_the_apps_requests_tagged_passes() -> None:
    verdict = expectations.shipper_ships_app_requests(ok(SIDECAR_APP_LOG), ok(SIDECAR_SHIPPER_LOG))
    assert verdict.passed, verdict
    assert "request ids 1..7" in verdict.reason


def test_a_shipper_that_drops_a_line_or_the_tag_fails() -> None:
    dropped = SIDECAR_SHIPPER_LOG.replace("[shipped] 2026-11-26T13:37:33Z INFO app: handled request id=3\n", "")
    verdict = expectations.shipper_ships_app_requests(ok(SIDECAR_APP_LOG), ok(dropped))
    assert not verdict.passed
    assert "ids only the app logged: [3]" in verdict.reason
    untagged = SIDECAR_SHIPPER_LOG.replace("[shipped] ", "", 1)
    assert "lack the [shipped] tag" in expectations.shipper_ships_app_requests(ok(SIDECAR_APP_LOG), ok(untagged)).reason


def test_a_shipper_that_has_shipped_nothing_or_cannot_be_read_fails() -> None:
    assert not expectations.shipper_ships_app_requests(ok(SIDECAR_APP_LOG), ok("")).passed
    unreadable = error('Error from server (BadRequest): container "log-shipper" in pod "sidecar-logging" is waiting')
    verdict = expectations.shipper_ships_app_requests(ok(SIDECAR_APP_LOG), unreadable)
    assert not verdict.passed
    assert "BadRequest" in verdict.reason


def test_the_shipped_tag_and_request_line_are_the_scripts() -> None:
    shipper = (PACKAGE / "_sidecar" / "log-shipper.sh").read_text()
    assert 'tag="${SHIP_TAG:-' + expectations.SHIPPED_TAG + '}"' in shipper
    app = (PACKAGE / "_sidecar" / "app.sh").read_text()
    assert "INFO app: handled request id=${count}" in app


def test_raw_metrics_in_the_apps_format_pass_and_other_lines_fail() -> None:
    verdict = expectations.raw_metrics_are_pipe_delimited(ok(RAW_TAIL))
    assert verdict.passed, verdict
    assert "5 lines" in verdict.reason
    broken = RAW_TAIL + "1795700270 http_requests_total 27\n"
    assert "1 of 6 lines" in expectations.raw_metrics_are_pipe_delimited(ok(broken)).reason


def test_the_adapters_tail_even_cut_mid_batch_is_prometheus_text() -> None:
    verdict = expectations.tail_is_prometheus_text(ok(ADAPTER_TAIL))
    assert verdict.passed, verdict
    assert "queue_depth" in verdict.reason
    assert not expectations.tail_is_prometheus_text(ok('queue_depth{queue="orders" 10\n')).passed


def test_the_adapters_newest_batch_matches_the_raw_one() -> None:
    verdict = expectations.newest_batch_matches_raw(ok(ADAPTER_LOG), ok(RAW_FILE))
    assert verdict.passed, verdict
    assert "batch 1795700265: 4 samples" in verdict.reason


def test_an_adapter_batch_with_another_value_fails_naming_the_metric() -> None:
    altered = ADAPTER_LOG.replace(
        'queue_depth{queue="orders"} 10 1795700265000', 'queue_depth{queue="orders"} 11 1795700265000'
    )
    verdict = expectations.newest_batch_matches_raw(ok(altered), ok(RAW_FILE))
    assert not verdict.passed
    assert verdict.reason == "batch 1795700265 differs from metrics.raw in queue_depth"


def test_an_adapter_that_stopped_converting_fails() -> None:
    later = "".join(f"{second}|queue_depth|1|queue=orders\n" for second in (1795700270, 1795700275, 1795700280))
    verdict = expectations.newest_batch_matches_raw(ok(ADAPTER_LOG), ok(RAW_FILE + later))
    assert not verdict.passed
    assert "behind" in verdict.reason
    assert not expectations.newest_batch_matches_raw(ok("# adapter: stopping\n"), ok(RAW_FILE)).passed


def init_demo(*, app_started: int = 9) -> dict[str, Any]:
    return pod_object(
        "init-demo",
        init_containers=[container("init-config"), container("init-wait-db")],
        containers=[container("app")],
        init_statuses=[ended("init-config", 0, 1, 2), ended("init-wait-db", 0, 3, 8)],
        statuses=[running("app", app_started)],
        initialized_at=8,
    )


def test_init_containers_that_finished_in_order_before_the_app_pass() -> None:
    verdict = expectations.init_containers_ran_in_order(init_demo())
    assert verdict.passed, verdict
    assert (
        verdict.reason == "init-config exited 0 at 13:30:02, init-wait-db exited 0 at 13:30:08, app started at 13:30:09"
    )


def test_an_app_started_before_the_init_containers_finished_fails() -> None:
    verdict = expectations.init_containers_ran_in_order(init_demo(app_started=5))
    assert not verdict.passed
    assert "before init-wait-db finished" in verdict.reason


def test_the_init_logs_and_the_apps_use_of_the_configuration_pass() -> None:
    work = expectations.init_logs_show_their_work(ok(INIT_CONFIG_LOG), ok(INIT_WAIT_DB_LOG))
    assert work.passed, work
    assert "app_environment=lab, db_host=db, db_port=6379" in work.reason
    used = expectations.app_uses_written_config(ok(INIT_CONFIG_LOG), ok(INIT_APP_LOG))
    assert used.passed, used
    assert used.reason == "app printed that configuration, then 'app: serving in lab, using database db:6379'"


def test_an_app_using_other_values_than_init_config_wrote_fails() -> None:
    other = INIT_APP_LOG.replace("using database db:6379", "using database cache:6379")
    other = other.replace("db_host=db", "db_host=cache")
    assert not expectations.app_uses_written_config(ok(INIT_CONFIG_LOG), ok(other)).passed


def test_the_init_samples_are_what_the_scripts_print(tmp_path: Path) -> None:
    scripts = PACKAGE / "_init_containers"
    config = tmp_path / "app.conf"
    env = {
        "PATH": "/usr/bin:/bin",
        "CONFIG_FILE": str(config),
        "APP_ENVIRONMENT": "lab",
        "DB_HOST": "db",
        "DB_PORT": "6379",
    }
    written = subprocess.run(
        ["sh", str(scripts / "init-config.sh")], env=env, capture_output=True, text=True, check=True, timeout=10
    )
    assert expectations.written_config(written.stdout) == expectations.written_config(INIT_CONFIG_LOG)
    assert "init-config: done" in written.stdout
    wait_db = (scripts / "init-wait-db.sh").read_text()
    assert "answered PONG after ${attempt} attempt(s)" in wait_db
    assert (
        'echo "app: serving in ${environment}, using database ${db_host}:${db_port}"'
        in (scripts / "app.sh").read_text()
    )


def experiment_3_pod(failing: dict[str, Any]) -> dict[str, Any]:
    return pod_object(
        "init-demo",
        init_containers=[container(FAILING_INIT_CONTAINER), container("init-config"), container("init-wait-db")],
        containers=[container("app")],
        init_statuses=[failing, waiting("init-config", "PodInitializing"), waiting("init-wait-db", "PodInitializing")],
        statuses=[waiting("app", "PodInitializing")],
        phase="Pending",
        initialized_at=None,
        ready=False,
    )


def test_experiment_3_is_recognised_in_crash_loop_and_right_after_the_first_failure() -> None:
    looping = experiment_3_pod(
        waiting(FAILING_INIT_CONTAINER, "CrashLoopBackOff", restarts=3, last=run_ended(1, 40, 40))
    )
    verdict = expectations.failing_init_blocks_the_app(looping, FAILING_INIT_CONTAINER)
    assert verdict.passed, verdict
    assert verdict.reason.startswith("experiment 3 is on: init-demo is Init:CrashLoopBackOff")
    first = experiment_3_pod(ended(FAILING_INIT_CONTAINER, 1, 1, 1))
    assert "Init:Error" in expectations.failing_init_blocks_the_app(first, FAILING_INIT_CONTAINER).reason


def test_experiment_3_is_recognised_while_the_kubelet_runs_the_failing_container_again() -> None:
    # Between two failures the container runs again: its last termination says it failed.
    rerun = experiment_3_pod(running(FAILING_INIT_CONTAINER, 12, ready=False, restarts=1, last=run_ended(1, 1, 1)))
    verdict = expectations.failing_init_blocks_the_app(rerun, FAILING_INIT_CONTAINER)
    assert verdict.passed, verdict
    assert "failing-init exited 1 and is restarted by the kubelet" in verdict.reason
    never_failed = experiment_3_pod(running(FAILING_INIT_CONTAINER, 1, ready=False))
    assert not expectations.failing_init_blocks_the_app(never_failed, FAILING_INIT_CONTAINER).passed


def test_experiment_3_with_an_app_that_ran_fails() -> None:
    pod = experiment_3_pod(ended(FAILING_INIT_CONTAINER, 1, 1, 1))
    pod["status"]["containerStatuses"] = [running("app", 5)]
    assert not expectations.failing_init_blocks_the_app(pod, FAILING_INIT_CONTAINER).passed


def sidecar_proxy_pod(
    *,
    proxy: dict[str, Any] | None = None,
    app: dict[str, Any] | None = None,
    native: bool = True,
    name: str = "sidecar-proxy-6d8f7c9b5-x7k2p",
    owner_uid: str = "rs-2",
) -> dict[str, Any]:
    if native:
        return pod_object(
            name,
            init_containers=[container("proxy", sidecar=True)],
            containers=[container("app")],
            init_statuses=[proxy or running("proxy", 1)],
            statuses=[app or running("app", 3)],
            initialized_at=2,
            owner_uid=owner_uid,
        )
    return pod_object(
        name,
        init_containers=[container("proxy")],
        containers=[container("app")],
        init_statuses=[proxy or running("proxy", 1, ready=False)],
        statuses=[app or waiting("app", "PodInitializing")],
        phase="Pending",
        initialized_at=None,
        ready=False,
        owner_uid=owner_uid,
    )


def test_a_proxy_started_before_the_app_and_running_is_a_native_sidecar() -> None:
    verdict = expectations.proxy_runs_as_native_sidecar(sidecar_proxy_pod())
    assert verdict.passed, verdict
    assert verdict.reason.startswith("proxy started at 13:30:01, app at 13:30:03")


def test_after_restarts_the_proxys_first_start_comes_from_its_last_run_or_the_pods_initialisation() -> None:
    once = sidecar_proxy_pod(proxy=running("proxy", 300, restarts=1, last=run_ended(0, 1, 299)))
    assert "proxy started at 13:30:01" in expectations.proxy_runs_as_native_sidecar(once).reason
    twice = sidecar_proxy_pod(proxy=running("proxy", 600, restarts=2, last=run_ended(0, 300, 599)))
    verdict = expectations.proxy_runs_as_native_sidecar(twice)
    assert verdict.passed, verdict
    assert "Initialized (proxy started) at 13:30:02" in verdict.reason


def test_a_proxy_started_after_the_app_or_not_ready_fails() -> None:
    assert not expectations.proxy_runs_as_native_sidecar(sidecar_proxy_pod(app=running("app", 0))).passed
    unready = sidecar_proxy_pod(proxy=running("proxy", 1, ready=False))
    assert "not running and ready" in expectations.proxy_runs_as_native_sidecar(unready).reason


def test_experiment_2_is_recognised_by_the_pod_stuck_in_init() -> None:
    verdict = expectations.classic_init_proxy_blocks_the_app(sidecar_proxy_pod(native=False))
    assert verdict.passed, verdict
    assert verdict.reason.startswith("experiment 2 is on: pod sidecar-proxy-6d8f7c9b5-x7k2p is Init:0/1")


def test_health_and_the_proxy_header() -> None:
    assert expectations.answers_health(ok("ok\n")).passed
    assert not expectations.answers_health(ok("<html>404</html>")).passed
    header = expectations.adds_proxy_header(ok(NGINX_PAGE, PROXY_HEADERS))
    assert header.passed, header
    assert header.reason == "X-Proxy: native-sidecar"
    assert not expectations.adds_proxy_header(ok(NGINX_PAGE, PROXY_HEADERS.replace("X-Proxy", "X-Other"))).passed


def test_pages() -> None:
    assert expectations.shows_nginx_page("page", ok(NGINX_PAGE)).passed
    failed_exec = error('error: unable to upgrade connection: container not found ("app")')
    assert "container not found" in expectations.shows_nginx_page("page", failed_exec).reason
    assert expectations.shows_same_page("same", ok(NGINX_PAGE), ok(NGINX_PAGE)).passed
    assert not expectations.shows_same_page("same", ok(NGINX_PAGE), ok(NGINX_PAGE + "<!-- proxied -->")).passed


def test_the_requests_describe_shows_are_those_of_every_container() -> None:
    pods = [sidecar_proxy_pod()]
    verdict = expectations.describe_shows_requests(ok(requests_blocks(2)), pods)
    assert verdict.passed, verdict
    assert verdict.reason == "2 containers: cpu 10m, memory 16Mi; cpu 10m, memory 16Mi"
    assert not expectations.describe_shows_requests(ok(requests_blocks(2).replace("16Mi", "32Mi", 1)), pods).passed


def test_a_pods_requests_count_its_native_sidecars_as_kubernetes_does() -> None:
    spec = sidecar_proxy_pod()["spec"]
    assert k8s.pod_requests(spec) == {"cpu": k8s.quantity("20m"), "memory": k8s.quantity("32Mi")}
    classic = sidecar_proxy_pod(native=False)["spec"]
    assert k8s.pod_requests(classic) == {"cpu": k8s.quantity("10m"), "memory": k8s.quantity("16Mi")}
    heavy_init = copy.deepcopy(classic)
    heavy_init["initContainers"][0]["resources"]["requests"] = {"cpu": "50m", "memory": "8Mi"}
    assert k8s.pod_requests(heavy_init) == {"cpu": k8s.quantity("50m"), "memory": k8s.quantity("16Mi")}


def test_the_node_counting_app_plus_sidecar_passes_and_only_the_app_fails() -> None:
    pod = sidecar_proxy_pod()
    row = node_row("sidecar-proxy-6d8f7c9b5-x7k2p", "20m", "32Mi")
    verdict = expectations.node_counts_sidecar_requests(ok(describe_node([row])), pod)
    assert verdict.passed, verdict
    assert verdict.reason == (
        "the node counts cpu 20m, memory 32Mi = app (cpu 10m, memory 16Mi) + proxy (cpu 10m, memory 16Mi)"
    )
    app_only = row.replace("20m (1%)", "10m (0%)").replace("32Mi (0%)", "16Mi (0%)")
    assert not expectations.node_counts_sidecar_requests(ok(describe_node([app_only])), pod).passed
    assert "lists no pod" in expectations.node_counts_sidecar_requests(ok(describe_node([])), pod).reason


def test_quantities() -> None:
    assert k8s.quantity("10m") * 2 == k8s.quantity("0.02")
    assert k8s.quantity("16Mi") == 16 * 2**20
    assert k8s.quantity("1e3") == k8s.quantity("1k")
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        k8s.quantity("ten")


# --- TLS against real local servers ----------------------------------------------------------


def self_signed() -> tuple[str, str]:
    """A certificate and key like the ambassador's: ECDSA P-256, for localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ambassador-proxy")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


@contextmanager
def tls_server(tmp_path: Path, cert_pem: str, key_pem: str, lowest: ssl.TLSVersion) -> Iterator[int]:
    """A TLS server on 127.0.0.1 speaking ``lowest`` up to TLS 1.3; yields its port."""
    (tmp_path / "tls.crt").write_text(cert_pem)
    (tmp_path / "tls.key").write_text(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    with warnings.catch_warnings():
        # Serving TLS 1.0 is deprecated; here it is the server the proxy must not be.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = lowest
    if lowest < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                try:
                    with context.wrap_socket(connection, server_side=True):
                        pass
                except (ssl.SSLError, OSError):
                    pass

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        server.join(timeout=5)
        listener.close()


@pytest.fixture(scope="module")
def certificate() -> tuple[str, str]:
    return self_signed()


def test_a_server_of_tls_1_2_and_1_3_only_speaks_them_and_refuses_the_old_ones(
    tmp_path: Path, certificate: tuple[str, str]
) -> None:
    cert_pem, key_pem = certificate
    with tls_server(tmp_path, cert_pem, key_pem, ssl.TLSVersion.TLSv1_2) as port:
        verdicts = [tls.judge_handshake(tls.handshake(port, version)) for version in tls.MODERN_VERSIONS]
        verdicts += [tls.judge_handshake(tls.handshake(port, version)) for version in tls.LEGACY_VERSIONS]
        presented = tls.presented_certificate(port)
    assert [(v.expectation, v.passed) for v in verdicts] == [
        ("the proxy speaks TLS 1.2", True),
        ("the proxy speaks TLS 1.3", True),
        ("the proxy refuses TLS 1.0", True),
        ("the proxy refuses TLS 1.1", True),
    ], verdicts
    assert verdicts[2].reason == "the server refused it: TLSV1_ALERT_PROTOCOL_VERSION"
    assert tls.presents_secret_certificate(presented, "lab-tls", cert_pem).passed
    assert not tls.presents_secret_certificate(presented, "lab-tls", self_signed()[0]).passed


def test_a_server_that_accepts_tls_1_0_fails(tmp_path: Path, certificate: tuple[str, str]) -> None:
    cert_pem, key_pem = certificate
    with tls_server(tmp_path, cert_pem, key_pem, ssl.TLSVersion.TLSv1) as port:
        verdict = tls.judge_handshake(tls.handshake(port, ssl.TLSVersion.TLSv1))
    assert not verdict.passed
    assert verdict.reason == "the proxy accepted TLS 1.0 (TLSv1)"


def test_a_client_that_cannot_offer_an_old_version_is_inconclusive_not_a_refusal() -> None:
    cannot = tls.Handshake(ssl.TLSVersion.TLSv1_1, None, "NO_PROTOCOLS_AVAILABLE", "[SSL: NO_PROTOCOLS_AVAILABLE]")
    verdict = tls.judge_handshake(cannot)
    assert not verdict.passed
    assert verdict.reason.startswith("inconclusive: this machine's OpenSSL cannot offer TLS 1.1")
    reset = tls.Handshake(ssl.TLSVersion.TLSv1, None, None, "ConnectionResetError: [Errno 104]")
    assert tls.judge_handshake(reset).reason.startswith("inconclusive: the handshake ended without")


# --- whole walks against a scripted cluster --------------------------------------------------

Answer = Output | list[Output]


class Watched:
    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = list(lines)

    def lines(self) -> list[str]:
        return list(self._lines)


class ScriptedCluster:
    """Answers exactly the command lines it knows; a line answered by a list gives its answers in
    turn, the last one from then on. Any other line fails the test."""

    def __init__(
        self, answers: Mapping[str, Answer], *, forward_port: int | None = None, watch: Sequence[str] = ()
    ) -> None:
        self.answers = {
            line: list(answer) if isinstance(answer, list) else [answer] for line, answer in answers.items()
        }
        self.forward_port = forward_port
        self.watch = watch
        self.ran: list[str] = []

    def run(self, line: str, timeout: float = 30.0) -> Output:
        self.ran.append(line)
        assert line in self.answers, f"unexpected command: {line}"
        queue = self.answers[line]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    @contextmanager
    def port_forward(self, line: str) -> Iterator[int]:
        self.ran.append(line)
        if self.forward_port is None:
            raise PortForwardError("port-forward did not listen on 127.0.0.1 (it said: error: lost connection to pod)")
        yield self.forward_port

    @contextmanager
    def follow(self, line: str) -> Iterator[Watched]:
        self.ran.append(line)
        yield Watched(self.watch)


def line(pattern: str, key: str, **fields: str) -> str:
    commands = COMMANDS[pattern]
    return commands[key].render(NS, commands.workload, **fields)


CURRENT_POD = "sidecar-proxy-6d8f7c9b5-x7k2p"
PREVIOUS_POD = "sidecar-proxy-5c4b3a291-k9j8h"
TLS_SECRET = "lab-ambassador-tls-5e6f7a8b"
PODS_TABLE = f"""NAME                             READY   STATUS    RESTARTS   AGE
adapter-format                   2/2     Running   0          10m
ambassador-proxy                 2/2     Running   0          10m
db-7c9d8b6f5-q2w3e               1/1     Running   0          10m
init-demo                        1/1     Running   0          10m
sidecar-logging                  2/2     Running   0          10m
{CURRENT_POD}    2/2     Running   0          10m
"""


def deployment(*, native: bool) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "sidecar-proxy",
            "namespace": NS,
            "uid": "deployment-uid",
            "annotations": {"deployment.kubernetes.io/revision": "2"},
        },
        "spec": {
            "template": {
                "spec": {"initContainers": [container("proxy", sidecar=native)], "containers": [container("app")]}
            }
        },
    }


def replica_sets() -> dict[str, Any]:
    def replica_set(name: str, uid: str, revision: str) -> dict[str, Any]:
        return {
            "metadata": {
                "name": name,
                "uid": uid,
                "annotations": {"deployment.kubernetes.io/revision": revision},
                "ownerReferences": [{"kind": "Deployment", "uid": "deployment-uid"}],
            }
        }

    return {
        "items": [
            replica_set("sidecar-proxy-5c4b3a291", "rs-1", "1"),
            replica_set("sidecar-proxy-6d8f7c9b5", "rs-2", "2"),
        ]
    }


def script_pod(name: str, helper: str) -> dict[str, Any]:
    """A running pod of app and one helper container, as the sidecar and adapter patterns make."""
    return pod_object(
        name,
        containers=[container("app"), container(helper)],
        statuses=[running("app", 1), running(helper, 1)],
    )


def healthy_lab(cert_pem: str, key_pem: str) -> dict[str, Answer]:
    """What every command of the lab shows on a cluster where the lab runs as it should."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": TLS_SECRET, "namespace": NS},
        "data": {
            key: base64.b64encode(pem.encode()).decode() for key, pem in (("tls.crt", cert_pem), ("tls.key", key_pem))
        },
    }
    ambassador = pod_object(
        "ambassador-proxy",
        containers=[container("app"), container("proxy", mounts=["proxy-config", "tls", "proxy-cache", "proxy-run"])],
        statuses=[running("app", 2), running("proxy", 2)],
        volumes=[
            {"name": "proxy-config", "configMap": {"name": "lab-ambassador-proxy-config-1a2b3c4d"}},
            {"name": "tls", "secret": {"secretName": TLS_SECRET, "defaultMode": 256}},
        ],
    )
    current = sidecar_proxy_pod(name=CURRENT_POD)
    return {
        OVERVIEW.render(NS, ""): ok(PODS_TABLE),
        line("sidecar", "pod"): as_json(script_pod("sidecar-logging", "log-shipper")),
        line("sidecar", "app_log"): ok(SIDECAR_APP_LOG),
        line("sidecar", "shipper_log"): ok(SIDECAR_SHIPPER_LOG),
        line("adapter", "pod"): as_json(script_pod("adapter-format", "adapter")),
        line("adapter", "raw_tail"): ok(RAW_TAIL),
        line("adapter", "adapter_tail"): ok(ADAPTER_TAIL),
        line("adapter", "adapter_log"): ok(ADAPTER_LOG),
        line("adapter", "raw_file"): ok(RAW_FILE),
        line("ambassador", "pod"): as_json(ambassador),
        line("ambassador", "http_page"): ok(NGINX_PAGE),
        line("ambassador", "https_page"): ok(NGINX_PAGE),
        line("ambassador", "secret", secret=TLS_SECRET): as_json(secret),
        line("init-containers", "pod"): as_json(init_demo()),
        line("init-containers", "config_log"): ok(INIT_CONFIG_LOG),
        line("init-containers", "wait_db_log"): ok(INIT_WAIT_DB_LOG),
        line("init-containers", "app_log"): ok(INIT_APP_LOG),
        line("native-sidecar", "deployment"): as_json(deployment(native=True)),
        line("native-sidecar", "replicasets"): as_json(replica_sets()),
        line("native-sidecar", "pods"): as_json({"items": [current]}),
        line("native-sidecar", "app_page"): ok(NGINX_PAGE),
        line("native-sidecar", "proxied_page"): ok(NGINX_PAGE),
        line("native-sidecar", "health"): ok("ok\n"),
        line("native-sidecar", "proxy_headers"): ok(NGINX_PAGE, PROXY_HEADERS),
        line("native-sidecar", "requests"): ok(requests_blocks(2)),
        line("native-sidecar", "node", node=NODE): ok(describe_node([node_row(CURRENT_POD, "20m", "32Mi")])),
    }


@pytest.fixture
def ambassador_port(tmp_path: Path, certificate: tuple[str, str]) -> Iterator[int]:
    """The proxy's TLS port as a port-forward would offer it: a server of TLS 1.2 and 1.3 only."""
    with tls_server(tmp_path, *certificate, ssl.TLSVersion.TLSv1_2) as port:
        yield port


@pytest.fixture
def healthy(certificate: tuple[str, str], ambassador_port: int) -> ScriptedCluster:
    return ScriptedCluster(healthy_lab(*certificate), forward_port=ambassador_port)


def verdicts_of(report: labcheck.LabReport, pattern: str) -> list[labcheck.Verdict]:
    return next(result.verdicts for result in report.patterns if result.pattern == pattern)


def test_a_lab_that_behaves_passes_every_pattern_running_the_readmes_commands_in_order(
    healthy: ScriptedCluster,
) -> None:
    report = labcheck.check(cluster=healthy, timing=QUICK)
    assert [(result.pattern, result.passed) for result in report.patterns] == [(p, True) for p in LAB_PATTERNS], [
        verdict for result in report.patterns for verdict in result.failures
    ]
    assert [len(result.verdicts) for result in report.patterns] == [1, 3, 7, 3, 7]
    readme = readme_command_lines()
    ran = [line for line in healthy.ran if line in readme]
    # Experiment 1 changes the cluster: only run when asked for.
    kill, watch = readme[-3], readme[-2]
    assert ran == [line for line in readme if line not in (kill, watch)]
    skipped = [run for result in report.patterns for run in result.commands if run.output is None]
    assert [(run.command, run.note.split(";")[0]) for run in skipped] == [
        (
            line("ambassador", "forward"),
            "run for each handshake below, listening on 127.0.0.1 only, stopped right after it",
        ),
        (kill, "not run: experiment 1 changes the cluster"),
        (watch, "not run: experiment 1 changes the cluster"),
    ]
    assert healthy.ran.count(line("ambassador", "forward")) == 5


def test_the_cli_prints_each_command_what_it_showed_the_verdicts_and_the_summary(
    healthy: ScriptedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"], cluster=healthy) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "5 passed, 0 failed"
    assert printed[-6:-1] == [
        "sidecar          PASS  1/1 expectations",
        "adapter          PASS  3/3 expectations",
        "ambassador       PASS  7/7 expectations",
        "init-containers  PASS  3/3 expectations",
        "native-sidecar   PASS  7/7 expectations",
    ]
    start = printed.index(f"$ {line('sidecar', 'app_log')}")
    assert printed[start : start + 4] == [
        f"$ {line('sidecar', 'app_log')}",
        "  # the app's lines, 'INFO app: handled request id=N', one every 2 s",
        "  | 2026-11-26T13:37:31Z INFO app: handled request id=1",
        "  | 2026-11-26T13:37:32Z INFO app: handled request id=2",
    ]
    page = printed.index(f"$ {line('ambassador', 'http_page')}")
    assert printed[page + 9 : page + 11] == [
        "  | <p>If you see this page, the nginx web server is successfully installed and",
        "  | ... 3 more lines",
    ]
    assert any(text.startswith("PASS  the proxy refuses TLS 1.1: the server refused it") for text in printed)
    assert f"+ {line('native-sidecar', 'node', node=NODE)}" in printed


def test_with_a_context_every_command_names_it_right_after_kubectl(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = {
        with_global_flags(text, context="kind-lab"): answer for text, answer in healthy_lab(*certificate).items()
    }
    cluster = ScriptedCluster(answers, forward_port=ambassador_port)
    report = labcheck.check(context="kind-lab", cluster=cluster, timing=QUICK)
    assert report.passed
    assert all(text.startswith("kubectl --context kind-lab ") for text in cluster.ran)
    assert line("adapter", "adapter_tail").replace("kubectl", "kubectl --context kind-lab", 1) in cluster.ran


def test_a_pattern_whose_pod_is_missing_fails_and_the_others_still_pass(
    healthy: ScriptedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    healthy.answers[line("sidecar", "pod")] = [error('Error from server (NotFound): pods "sidecar-logging" not found')]
    assert main(["check", "--pattern", "sidecar", "--pattern", "adapter"], cluster=healthy) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "1 passed, 1 failed"
    assert printed[-3].startswith(
        "sidecar  FAIL  0/1 expectations; pod sidecar-logging is there: "
        "kubectl get pod: exit 1: Error from server (NotFound)"
    )
    assert line("sidecar", "app_log") not in healthy.ran


def test_a_cluster_that_does_not_answer_fails_every_pattern_at_once() -> None:
    down = ScriptedCluster({OVERVIEW.render(NS, ""): error("The connection to the server localhost:8080 was refused")})
    report = labcheck.check(cluster=down, timing=QUICK)
    assert report.failed_count == 5
    assert {verdict.reason for result in report.patterns for verdict in result.verdicts} == {
        "kubectl get pods: exit 1: The connection to the server localhost:8080 was refused"
    }


def test_without_a_port_forward_the_tls_expectations_fail_and_say_why(certificate: tuple[str, str]) -> None:
    cluster = ScriptedCluster(healthy_lab(*certificate), forward_port=None)
    verdicts = verdicts_of(labcheck.check(["ambassador"], cluster=cluster, timing=QUICK), "ambassador")
    assert [verdict.passed for verdict in verdicts] == [True, True, False, False, False, False, False]
    assert all("lost connection to pod" in verdict.reason for verdict in verdicts[2:])


def test_a_proxy_that_presents_another_certificate_fails(ambassador_port: int) -> None:
    cluster = ScriptedCluster(healthy_lab(*self_signed()), forward_port=ambassador_port)
    verdicts = verdicts_of(labcheck.check(["ambassador"], cluster=cluster, timing=QUICK), "ambassador")
    assert verdicts[2].expectation == "the proxy presents the certificate of its TLS Secret"
    assert not verdicts[2].passed
    assert TLS_SECRET in verdicts[2].reason


def test_experiment_1_kills_the_proxy_and_sees_it_back_with_the_pod_running(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = healthy_lab(*certificate)
    killed = running("proxy", 1, restarts=0)
    answers[line("native-sidecar", "pod", pod=CURRENT_POD)] = [
        as_json(sidecar_proxy_pod(name=CURRENT_POD)),
        as_json(sidecar_proxy_pod(name=CURRENT_POD, proxy={**killed, "state": {"terminated": run_ended(0, 1, 600)}})),
        as_json(sidecar_proxy_pod(name=CURRENT_POD, proxy=running("proxy", 601, ready=False, restarts=1))),
        as_json(
            sidecar_proxy_pod(name=CURRENT_POD, proxy=running("proxy", 601, restarts=1, last=run_ended(0, 1, 600)))
        ),
    ]
    answers[line("native-sidecar", "kill_proxy")] = ok()
    watch = [
        "NAME                             READY   STATUS    RESTARTS      AGE",
        "adapter-format                   2/2     Running   0             10m",
        f"{CURRENT_POD}    2/2     Running   0             10m",
        f"{CURRENT_POD}    1/2     Running   1 (1s ago)    10m",
        f"{CURRENT_POD}    2/2     Running   1 (2s ago)    10m",
    ]
    cluster = ScriptedCluster(answers, forward_port=ambassador_port, watch=watch)
    timing = labcheck.Timing(settle_seconds=0, restart_seconds=10, poll_seconds=0)
    report = labcheck.check(["native-sidecar"], experiments=["sidecar-restart"], cluster=cluster, timing=timing)
    verdicts = verdicts_of(report, "native-sidecar")
    assert report.passed, [verdict for verdict in verdicts if not verdict.passed]
    restart = next(verdict for verdict in verdicts if verdict.expectation == "the killed proxy restarts on its own")
    assert restart.reason.startswith("restartCount 0 -> 1, running and ready again ")
    assert restart.reason.endswith(" s after the kill")
    assert [verdict.expectation for verdict in verdicts][5:8] == [
        "the killed proxy restarts on its own",
        "the pod stays Running and app is not restarted",
        "the proxy serves the page again",
    ]
    kill_at = cluster.ran.index("kubectl exec -n multi-container-demo -c proxy deployment/sidecar-proxy -- kill 1")
    assert cluster.ran[kill_at + 1] == "kubectl get pods -n multi-container-demo -w"
    runs = next(result.commands for result in report.patterns)
    watched = next(run for run in runs if run.command == "kubectl get pods -n multi-container-demo -w")
    assert watched.note.startswith("a watch never ends by itself: run in the background, stopped after")
    assert watched.excerpt == (watch[0], *watch[2:])


def test_experiment_1_fails_when_the_proxy_does_not_come_back_in_time(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = healthy_lab(*certificate)
    answers[line("native-sidecar", "pod", pod=CURRENT_POD)] = as_json(sidecar_proxy_pod(name=CURRENT_POD))
    answers[line("native-sidecar", "kill_proxy")] = ok()
    cluster = ScriptedCluster(answers, forward_port=ambassador_port)
    report = labcheck.check(["native-sidecar"], experiments=["sidecar-restart"], cluster=cluster, timing=QUICK)
    restart = next(
        v for v in verdicts_of(report, "native-sidecar") if v.expectation == "the killed proxy restarts on its own"
    )
    assert not restart.passed
    assert restart.reason == "after 0 s the proxy's restartCount is 0 (was 0), pod Running"


def test_experiment_2_on_passes_as_such_with_the_previous_pod_still_serving(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = healthy_lab(*certificate)
    stuck = sidecar_proxy_pod(native=False, name=CURRENT_POD)
    previous = sidecar_proxy_pod(name=PREVIOUS_POD, owner_uid="rs-1")
    answers[line("native-sidecar", "deployment")] = as_json(deployment(native=False))
    answers[line("native-sidecar", "pods")] = as_json({"items": [previous, stuck]})
    answers[line("native-sidecar", "requests")] = ok(requests_blocks(4))
    answers[line("native-sidecar", "node", node=NODE)] = ok(
        describe_node([node_row(PREVIOUS_POD, "20m", "32Mi"), node_row(CURRENT_POD, "10m", "16Mi")])
    )
    cluster = ScriptedCluster(answers, forward_port=ambassador_port)
    verdicts = verdicts_of(labcheck.check(["native-sidecar"], cluster=cluster, timing=QUICK), "native-sidecar")
    assert [(verdict.passed, verdict.expectation) for verdict in verdicts] == [
        (True, "with experiment 2 on, the pod is stuck in Init:0/1 and app never starts"),
        (True, "describe shows the requests of app and of the sidecar"),
        (True, "the node counts the pod's requests as app plus sidecar"),
    ]
    assert verdicts[0].reason.startswith(f"experiment 2 is on: pod {CURRENT_POD} is Init:0/1")
    asked = labcheck.check(["native-sidecar"], experiments=["sidecar-restart"], cluster=cluster, timing=QUICK)
    assert not asked.passed
    assert line("native-sidecar", "kill_proxy") not in cluster.ran


def test_experiment_3_on_passes_as_such_showing_the_failing_containers_log(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = healthy_lab(*certificate)
    looping = waiting(FAILING_INIT_CONTAINER, "CrashLoopBackOff", restarts=4, last=run_ended(1, 80, 80))
    answers[line("init-containers", "pod")] = as_json(experiment_3_pod(looping))
    waiting_to_start = (
        'Error from server (BadRequest): container "{}" in pod "init-demo" is waiting to start: PodInitializing'
    )
    for key, name in (("config_log", "init-config"), ("wait_db_log", "init-wait-db"), ("app_log", "app")):
        answers[line("init-containers", key)] = error(waiting_to_start.format(name))
    answers[line("init-containers", "failing_log")] = ok("failing-init: exiting 1 on purpose\n")
    cluster = ScriptedCluster(answers, forward_port=ambassador_port)
    report = labcheck.check(["init-containers"], cluster=cluster, timing=QUICK)
    (verdict,) = verdicts_of(report, "init-containers")
    assert verdict.passed, verdict
    assert verdict.reason == (
        "experiment 3 is on: init-demo is Init:CrashLoopBackOff, failing-init exited 1 and is in CrashLoopBackOff "
        "(restarted 4 times), app never started"
    )
    assert line("init-containers", "failing_log") in cluster.ran


def test_a_pod_that_does_not_settle_is_judged_as_it_is_after_the_wait(
    certificate: tuple[str, str], ambassador_port: int
) -> None:
    answers = healthy_lab(*certificate)
    pending = pod_object(
        "sidecar-logging",
        containers=[container("app"), container("log-shipper")],
        statuses=[waiting("app", "ImagePullBackOff"), waiting("log-shipper", "ImagePullBackOff")],
        phase="Pending",
        ready=False,
    )
    answers[line("sidecar", "pod")] = as_json(pending)
    answers[line("sidecar", "app_log")] = error(
        'Error from server (BadRequest): container "app" in pod "sidecar-logging" is waiting to start: '
        "trying and failing to pull image"
    )
    report = labcheck.check(["sidecar"], cluster=ScriptedCluster(answers, forward_port=ambassador_port), timing=QUICK)
    pod_run = report.patterns[0].commands[0]
    assert pod_run.note == "still not settled after 0 s"
    assert pod_run.excerpt == ("pod sidecar-logging: ImagePullBackOff, 0/2 ready",)
    assert not report.passed


def test_unknown_patterns_and_experiments_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown pattern or experiment: sidecars"):
        labcheck.check(["sidecars"], cluster=ScriptedCluster({}))
    with pytest.raises(ValueError, match="select it too"):
        labcheck.check(["sidecar"], experiments=["sidecar-restart"], cluster=ScriptedCluster({}))
    with pytest.raises(SystemExit) as usage:
        main(["check", "--pattern", "sidecars"], cluster=ScriptedCluster({}))
    assert usage.value.code == 2
    assert main(["check", "--pattern", "sidecar", "--experiment", "sidecar-restart"], cluster=ScriptedCluster({})) == 2
