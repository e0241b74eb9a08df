"""What each pattern must show, as pure functions from what the commands printed (and the objects
``kubectl get -o json`` returned) to a :class:`Verdict`. Nothing here talks to a cluster."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families

from . import k8s
from .k8s import Json
from .kubectl import Output
from .results import Verdict, failed, passed

# nginx's default page, which the lab's web apps serve.
NGINX_WELCOME = "<title>Welcome to nginx!</title>"
# multicontainer_patterns/_sidecar: app.sh's request line, and the tag log-shipper.sh puts before each line.
REQUEST_LINE = re.compile(r"INFO app: handled request id=(\d+)$")
SHIPPED_TAG = "[shipped]"
# multicontainer_patterns/_adapter/to-prometheus.awk: <unix seconds>|<metric name>|<value>|<label>=<value>,...
RAW_FORMAT = "<seconds>|<name>|<value>|<labels>"
_RAW_METRIC = re.compile(
    r"^(?P<batch>[0-9]+)\|(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\|(?P<value>-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"
    r"\|(?P<labels>(?:[a-zA-Z_][a-zA-Z0-9_]*=[^,|]*(?:,[a-zA-Z_][a-zA-Z0-9_]*=[^,|]*)*)?)$"
)
# How many raw batches the adapter's newest may trail: it converts every 2 s, the app writes every
# 5 s, and the raw file is read after the adapter's log.
ADAPTER_LAG_BATCHES = 2
# multicontainer_patterns/_init_containers: what init-config writes and app.sh says while it serves.
_CONFIG_LINE = re.compile(r"^([a-z_]+)=(.*)$")
_SERVING = re.compile(r"app: serving in (\S+), using database (\S+):(\S+)$")
# multicontainer_patterns/_native_sidecar/proxy.conf: the header the proxy adds to every response.
PROXY_HEADER = re.compile(r"^\s*X-Proxy:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
# Expectations the walk also judges itself when it cannot get as far as these functions.
PROXY_RESTARTS = "the killed proxy restarts on its own"
NODE_COUNTS_SIDECAR = "the node counts the pod's requests as app plus sidecar"


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _quote(text: str, limit: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _ran(expectation: str, *outputs: Output) -> Verdict | None:
    """A FAIL for the first of the commands that failed itself, else None."""
    for output in outputs:
        if not output.ok:
            return failed(expectation, f"the command failed ({output.failure()})")
    return None


# --- pages -----------------------------------------------------------------------------------


def shows_nginx_page(expectation: str, output: Output) -> Verdict:
    if (problem := _ran(expectation, output)) is not None:
        return problem
    if NGINX_WELCOME in output.stdout:
        return passed(expectation, f"nginx's welcome page ({len(output.stdout)} bytes)")
    return failed(expectation, f"no nginx welcome page, got {_quote(output.stdout) if output.stdout else 'nothing'}")


def shows_same_page(expectation: str, reference: Output, output: Output) -> Verdict:
    if (problem := _ran(expectation, output)) is not None:
        return problem
    if NGINX_WELCOME not in output.stdout:
        return failed(
            expectation, f"no nginx welcome page, got {_quote(output.stdout) if output.stdout else 'nothing'}"
        )
    if output.stdout != reference.stdout:
        return failed(expectation, f"a different page ({len(output.stdout)} bytes, not {len(reference.stdout)})")
    return passed(expectation, f"the same welcome page, byte for byte ({len(output.stdout)} bytes)")


# --- sidecar ---------------------------------------------------------------------------------


def _requests(lines: Sequence[str]) -> list[tuple[int, str]]:
    return [(int(match.group(1)), line) for line in lines if (match := REQUEST_LINE.search(line))]


def shipper_ships_app_requests(app_log: Output, shipper_log: Output) -> Verdict:
    """Both logs show the same request ids, the shipper's copies tagged. The shipper's log is read
    after the app's, so each may have lines the other was too early or too late for: the ids are
    compared where both logs overlap."""
    expectation = "log-shipper shows the app's requests, tagged [shipped]"
    if (problem := _ran(expectation, app_log, shipper_log)) is not None:
        return problem
    app = _requests(_lines(app_log.stdout))
    shipped_raw = _requests(_lines(shipper_log.stdout))
    if not app:
        return failed(expectation, "the app's log has no 'handled request id=N' line yet")
    if not shipped_raw:
        return failed(expectation, "the shipper's log has no request line")
    untagged = [line for _, line in shipped_raw if not line.startswith(SHIPPED_TAG + " ")]
    if untagged:
        return failed(
            expectation, f"{len(untagged)} shipped lines lack the {SHIPPED_TAG} tag, e.g. {_quote(untagged[0])}"
        )
    shipped = [(number, line.removeprefix(SHIPPED_TAG + " ")) for number, line in shipped_raw]
    app_ids = {number for number, _ in app}
    shipped_ids = {number for number, _ in shipped}
    low, high = max(min(app_ids), min(shipped_ids)), min(max(app_ids), max(shipped_ids))
    if low > high:
        return failed(
            expectation,
            f"no request id is in both logs (app: {min(app_ids)}..{max(app_ids)}, "
            f"shipped: {min(shipped_ids)}..{max(shipped_ids)})",
        )
    app_window = {number for number in app_ids if low <= number <= high}
    shipped_window = {number for number in shipped_ids if low <= number <= high}
    if app_window != shipped_window:
        only_app = sorted(app_window - shipped_window)
        only_shipped = sorted(shipped_window - app_window)
        return failed(expectation, f"ids only the app logged: {only_app[:5]}; only shipped: {only_shipped[:5]}")
    shipped_lines = {line for _, line in shipped}
    altered = [line for number, line in app if low <= number <= high and line not in shipped_lines]
    if altered:
        return failed(expectation, f"the shipper changed the app's line {_quote(altered[0])}")
    return passed(
        expectation,
        f"request ids {low}..{high} are in both logs, each shipped line the app's line tagged {SHIPPED_TAG}",
    )


# --- adapter ---------------------------------------------------------------------------------

MetricKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class RawMetric:
    batch: int
    """Unix seconds the app wrote the batch at."""
    name: str
    value: float
    labels: frozenset[tuple[str, str]]

    @property
    def key(self) -> MetricKey:
        return (self.name, self.labels)


def parse_raw_metric(line: str) -> RawMetric | None:
    match = _RAW_METRIC.match(line)
    if match is None:
        return None
    pairs = [pair.split("=", 1) for pair in match.group("labels").split(",") if pair]
    return RawMetric(
        int(match.group("batch")),
        match.group("name"),
        float(match.group("value")),
        frozenset((key, value) for key, value in pairs),
    )


def raw_batches(text: str) -> dict[int, dict[MetricKey, float]]:
    """The raw lines by batch: (name, labels) to value; lines not in the format are left out."""
    batches: dict[int, dict[MetricKey, float]] = {}
    for line in _lines(text):
        if (metric := parse_raw_metric(line)) is not None:
            batches.setdefault(metric.batch, {})[metric.key] = metric.value
    return batches


def raw_metrics_are_pipe_delimited(output: Output) -> Verdict:
    expectation = "metrics.raw holds pipe-delimited metrics"
    if (problem := _ran(expectation, output)) is not None:
        return problem
    lines = _lines(output.stdout)
    if not lines:
        return failed(expectation, "metrics.raw is empty")
    malformed = [line for line in lines if parse_raw_metric(line) is None]
    if malformed:
        return failed(
            expectation,
            f"{len(malformed)} of {len(lines)} lines are not {RAW_FORMAT}, e.g. {_quote(malformed[0])}",
        )
    metrics = [metric for line in lines if (metric := parse_raw_metric(line)) is not None]
    names = sorted({metric.name for metric in metrics})
    return passed(expectation, f"{len(lines)} lines {RAW_FORMAT} ({', '.join(names)})")


def exposition_blocks(log: str) -> list[str]:
    """The adapter's log cut into the expositions it printed: one begins where a family already
    seen begins again. Blocks with no sample (a stopping message) are left out."""
    blocks: list[list[str]] = [[]]
    families: set[str] = set()
    for line in log.splitlines():
        if line.startswith("# HELP "):
            family = line.split()[2]
            if family in families:
                blocks.append([])
                families = set()
            families.add(family)
        blocks[-1].append(line)
    return ["\n".join(block) + "\n" for block in blocks if any(line and not line.startswith("#") for line in block)]


def _samples(text: str) -> list[tuple[str, dict[str, str], float, float | None]]:
    """(name, labels, value, timestamp in seconds) of every sample; ValueError when not Prometheus text."""
    found: list[tuple[str, dict[str, str], float, float | None]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            timestamp = float(sample.timestamp) if sample.timestamp is not None else None  # pyright: ignore[reportArgumentType]
            found.append((sample.name, dict(sample.labels), float(sample.value), timestamp))
    return found


def tail_is_prometheus_text(output: Output) -> Verdict:
    expectation = "the adapter's last lines are Prometheus text"
    if (problem := _ran(expectation, output)) is not None:
        return problem
    try:
        samples = _samples(output.stdout)
    except ValueError as error:
        return failed(expectation, f"prometheus_client cannot parse them: {error}")
    if not samples:
        return failed(expectation, f"no sample in them: {_quote(output.stdout) if output.stdout else 'nothing'}")
    return passed(expectation, f"prometheus_client parses {len(samples)} sample(s): {', '.join(s[0] for s in samples)}")


def newest_batch_matches_raw(adapter_log: Output, raw_file: Output) -> Verdict:
    """The adapter's newest exposition parses as Prometheus text and holds exactly the values the
    app wrote for that batch: same names, labels and values, time-stamped with the batch."""
    expectation = "the adapter's newest batch is the raw batch in Prometheus text"
    if (problem := _ran(expectation, adapter_log, raw_file)) is not None:
        return problem
    blocks = exposition_blocks(adapter_log.stdout)
    if not blocks:
        return failed(expectation, "the adapter has printed no batch yet")
    try:
        samples = _samples(blocks[-1])
    except ValueError as error:
        return failed(expectation, f"prometheus_client cannot parse its newest block: {error}")
    stamps = {timestamp for _, _, _, timestamp in samples}
    if len(stamps) != 1 or None in stamps:
        return failed(
            expectation, f"its newest block's samples do not share one batch time stamp: {sorted(map(str, stamps))}"
        )
    (stamp,) = stamps
    assert stamp is not None
    batch = int(stamp)
    batches = raw_batches(raw_file.stdout)
    if batch not in batches:
        return failed(expectation, f"batch {batch} is not in metrics.raw (it has {sorted(batches)[-3:]}...)")
    newer = [other for other in batches if other > batch]
    if len(newer) > ADAPTER_LAG_BATCHES:
        return failed(
            expectation, f"the adapter is behind: its newest batch is {batch}, metrics.raw has {len(newer)} newer"
        )
    converted = {(name, frozenset(labels.items())): value for name, labels, value, _ in samples}
    expected = batches[batch]
    if converted != expected:
        differing = sorted(key[0] for key in set(converted) | set(expected) if converted.get(key) != expected.get(key))
        return failed(expectation, f"batch {batch} differs from metrics.raw in {', '.join(differing)}")
    return passed(
        expectation,
        f"prometheus_client parses batch {batch}: {len(converted)} samples, names, labels and values as in metrics.raw",
    )


# --- init containers -------------------------------------------------------------------------


def _exit_summary(name: str, status: Json | None) -> str:
    if status is None:
        return f"{name} has no status yet"
    ended = k8s.terminated(status)
    if ended is None:
        return f"{name} has not finished ({k8s.waiting_reason(status) or 'running'})"
    return f"{name} exited {ended.get('exitCode')}"


def init_containers_ran_in_order(pod: Json) -> Verdict:
    """init-config, then init-wait-db, each to exit 0, and only then app started."""
    expectation = "init-config and init-wait-db exit 0, in order, before app starts"
    config = k8s.container_status(pod, "init-config")
    wait_db = k8s.container_status(pod, "init-wait-db")
    app_started = k8s.running_since(k8s.container_status(pod, "app"))
    config_end, wait_db_end = k8s.terminated(config), k8s.terminated(wait_db)
    for name, status, ended in (("init-config", config, config_end), ("init-wait-db", wait_db, wait_db_end)):
        if ended is None or ended.get("exitCode") != 0:
            return failed(expectation, _exit_summary(name, status))
    assert config_end is not None
    assert wait_db_end is not None
    if app_started is None:
        return failed(expectation, f"app is not running ({k8s.pod_state(pod)})")
    config_finished = k8s.parse_time(config_end["finishedAt"])
    wait_db_started = k8s.parse_time(wait_db_end["startedAt"])
    wait_db_finished = k8s.parse_time(wait_db_end["finishedAt"])
    if config_finished > wait_db_started:
        return failed(
            expectation,
            f"init-wait-db started at {wait_db_started:%X}, before init-config finished at {config_finished:%X}",
        )
    if wait_db_finished > app_started:
        return failed(
            expectation, f"app started at {app_started:%X}, before init-wait-db finished at {wait_db_finished:%X}"
        )
    return passed(
        expectation,
        f"init-config exited 0 at {config_finished:%X}, init-wait-db exited 0 at {wait_db_finished:%X}, "
        f"app started at {app_started:%X}",
    )


def written_config(config_log: str) -> dict[str, str]:
    """The key=value lines init-config printed after writing them."""
    return {match.group(1): match.group(2) for line in config_log.splitlines() if (match := _CONFIG_LINE.match(line))}


def init_logs_show_their_work(config_log: Output, wait_db_log: Output) -> Verdict:
    expectation = "init-config wrote the configuration and init-wait-db saw the database answer"
    if (problem := _ran(expectation, config_log, wait_db_log)) is not None:
        return problem
    config = written_config(config_log.stdout)
    if "init-config: done" not in config_log.stdout or not config:
        return failed(
            expectation, f"init-config's log has no configuration and 'init-config: done': {_quote(config_log.stdout)}"
        )
    answered = next((line for line in wait_db_log.stdout.splitlines() if "answered PONG" in line), None)
    if answered is None:
        return failed(expectation, f"init-wait-db's log has no PONG: {_quote(wait_db_log.stdout)}")
    return passed(
        expectation, f"init-config wrote {', '.join(f'{k}={v}' for k, v in config.items())}; {answered.strip()}"
    )


def app_uses_written_config(config_log: Output, app_log: Output) -> Verdict:
    expectation = "app shows and uses the values init-config wrote"
    if (problem := _ran(expectation, config_log, app_log)) is not None:
        return problem
    config = written_config(config_log.stdout)
    shown = written_config(app_log.stdout)
    if not config or shown != config:
        return failed(expectation, f"app shows the configuration {shown}, init-config wrote {config}")
    serving = next((match for line in app_log.stdout.splitlines() if (match := _SERVING.search(line))), None)
    if serving is None:
        return failed(expectation, "app's log has no 'app: serving in ...' line")
    used = {"app_environment": serving.group(1), "db_host": serving.group(2), "db_port": serving.group(3)}
    wrong = {key: value for key, value in used.items() if config.get(key) != value}
    if wrong:
        return failed(expectation, f"app uses {wrong}, init-config wrote {config}")
    return passed(expectation, f"app printed that configuration, then '{serving.group(0)}'")


def init_failure(status: Json | None) -> str | None:
    """How an init container has failed, once it has: exited non-zero now, or before its restart."""
    ended = k8s.terminated(status)
    if ended is not None and ended.get("exitCode") != 0:
        return f"exited {ended.get('exitCode')}"
    last = ((status or {}).get("lastState") or {}).get("terminated")
    if last is not None and last.get("exitCode") != 0:
        now = "in CrashLoopBackOff" if k8s.waiting_reason(status) == "CrashLoopBackOff" else "restarted by the kubelet"
        return f"exited {last.get('exitCode')} and is {now}"
    return None


def failing_init_blocks_the_app(pod: Json, failing_container: str) -> Verdict:
    """Experiment 3: the failing init container keeps failing and the app never starts."""
    expectation = "with experiment 3 on, init-demo is stuck in Init and app never starts"
    status = k8s.container_status(pod, failing_container)
    failure = init_failure(status)
    if failure is None:
        return failed(expectation, f"{failing_container} has not failed yet ({k8s.pod_state(pod)})")
    failing = f"{failing_container} {failure}"
    if k8s.ever_started(k8s.container_status(pod, "app")):
        return failed(expectation, f"{failing}, yet app started")
    restarts = (status or {}).get("restartCount", 0)
    return passed(
        expectation,
        f"experiment 3 is on: init-demo is {k8s.pod_state(pod)}, {failing} (restarted {restarts} times), "
        "app never started",
    )


# --- native sidecar --------------------------------------------------------------------------


def answers_health(output: Output) -> Verdict:
    expectation = "the proxy answers /health itself"
    if (problem := _ran(expectation, output)) is not None:
        return problem
    if output.stdout.strip() == "ok":
        return passed(expectation, "'ok'")
    return failed(expectation, f"not 'ok' but {_quote(output.stdout)}")


def adds_proxy_header(output: Output) -> Verdict:
    """wget -S prints the response headers on stderr."""
    expectation = "responses through the proxy carry an X-Proxy header"
    if (problem := _ran(expectation, output)) is not None:
        return problem
    header = PROXY_HEADER.search(output.stderr) or PROXY_HEADER.search(output.stdout)
    if header is None:
        return failed(expectation, "no X-Proxy header among the response headers")
    return passed(expectation, f"X-Proxy: {header.group(1)}")


def proxy_first_start(pod: Json, proxy: str = "proxy") -> datetime | None:
    """When the proxy first started, while the pod still records it: its current run when it never
    restarted, the run before that after one restart."""
    status = k8s.container_status(pod, proxy) or {}
    restarts = status.get("restartCount", 0)
    if restarts == 0:
        return k8s.running_since(status)
    previous = (status.get("lastState") or {}).get("terminated")
    if restarts == 1 and previous is not None and previous.get("startedAt"):
        return k8s.parse_time(previous["startedAt"])
    return None


def proxy_runs_as_native_sidecar(pod: Json) -> Verdict:
    expectation = "proxy is a native sidecar: started before app and running beside it"
    declared = next((c for c in k8s.init_containers(k8s.pod_spec(pod)) if c["name"] == "proxy"), None)
    if declared is None or not k8s.is_sidecar(declared):
        return failed(expectation, "proxy is not an init container with restartPolicy: Always")
    proxy = k8s.container_status(pod, "proxy")
    if k8s.running_since(proxy) is None or not (proxy or {}).get("ready"):
        return failed(expectation, f"proxy is not running and ready ({k8s.pod_state(pod)})")
    app_started = k8s.running_since(k8s.container_status(pod, "app"))
    if app_started is None:
        return failed(expectation, f"app is not running ({k8s.pod_state(pod)})")
    first = proxy_first_start(pod)
    if first is not None:
        if first > app_started:
            return failed(expectation, f"proxy started at {first:%X}, after app at {app_started:%X}")
        return passed(expectation, f"proxy started at {first:%X}, app at {app_started:%X}; both running, proxy ready")
    # After several restarts the proxy's first start is gone; the pod became Initialized once its
    # sidecar had started, so that time stands for it.
    initialized = k8s.condition_time(pod, "Initialized")
    if initialized is None or initialized > app_started:
        return failed(expectation, f"the pod was not Initialized before app started at {app_started:%X}")
    restarts = (proxy or {}).get("restartCount", 0)
    return passed(
        expectation,
        f"the pod was Initialized (proxy started) at {initialized:%X}, app started at {app_started:%X}; "
        f"proxy running and ready after {restarts} restarts",
    )


def classic_init_proxy_blocks_the_app(pod: Json) -> Verdict:
    """Experiment 2: the proxy is a classic init container, which never completes."""
    expectation = "with experiment 2 on, the pod is stuck in Init:0/1 and app never starts"
    state = k8s.pod_state(pod)
    proxy = k8s.container_status(pod, "proxy")
    if k8s.running_since(proxy) is None:
        return failed(expectation, f"the proxy, a classic init container, is not running ({state})")
    if k8s.ever_started(k8s.container_status(pod, "app")):
        return failed(expectation, f"app started ({state})")
    return passed(
        expectation,
        f"experiment 2 is on: pod {k8s.name_of(pod)} is {state}: the proxy, a classic init container now, "
        "runs and never completes, so app never started",
    )


# --- experiment 1: sidecar crash recovery ----------------------------------------------------


def _restarts(pod: Json, container: str) -> int:
    return int((k8s.container_status(pod, container) or {}).get("restartCount", 0))


def restarted_at(before: Json, polls: Sequence[tuple[float, Json]]) -> float | None:
    """Seconds after the kill at which the proxy was running and ready again, one restart later."""
    target = _restarts(before, "proxy") + 1
    for seconds, pod in polls:
        proxy = k8s.container_status(pod, "proxy") or {}
        if _restarts(pod, "proxy") >= target and k8s.running_since(proxy) is not None and proxy.get("ready"):
            return seconds
    return None


def proxy_restarts_by_itself(before: Json, polls: Sequence[tuple[float, Json]], waited: float) -> Verdict:
    expectation = PROXY_RESTARTS
    seconds = restarted_at(before, polls)
    was = _restarts(before, "proxy")
    if seconds is None:
        now = _restarts(polls[-1][1], "proxy") if polls else was
        state = k8s.pod_state(polls[-1][1]) if polls else "no status"
        return failed(expectation, f"after {waited:.0f} s the proxy's restartCount is {now} (was {was}), pod {state}")
    return passed(
        expectation, f"restartCount {was} -> {was + 1}, running and ready again {seconds:.1f} s after the kill"
    )


def pod_untouched_by_sidecar_restart(before: Json, polls: Sequence[tuple[float, Json]]) -> Verdict:
    expectation = "the pod stays Running and app is not restarted"
    uid = before["metadata"].get("uid")
    app_restarts = _restarts(before, "app")
    for seconds, pod in polls:
        if pod["metadata"].get("uid") != uid:
            return failed(expectation, f"the pod was replaced ({seconds:.1f} s after the kill)")
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            return failed(expectation, f"the pod was {phase} {seconds:.1f} s after the kill")
    if not polls:
        return failed(expectation, "the pod was never seen after the kill")
    now = _restarts(polls[-1][1], "app")
    if now != app_restarts:
        return failed(expectation, f"app's restartCount went from {app_restarts} to {now}")
    return passed(
        expectation, f"the pod was Running at all {len(polls)} looks; app's restartCount stays {app_restarts}"
    )


# --- experiment 4: resource accounting -------------------------------------------------------


def requests_shown(describe_grep: str) -> list[dict[str, Decimal]]:
    """Each ``Requests:`` block of ``kubectl describe pod | grep -A5 Requests``: its cpu and memory."""
    blocks: list[dict[str, Decimal]] = []
    indent: int | None = None
    for line in describe_grep.splitlines():
        stripped = line.strip()
        if stripped == "Requests:":
            blocks.append({})
            indent = len(line) - len(line.lstrip())
            continue
        if indent is None or not stripped or len(line) - len(line.lstrip()) <= indent:
            indent = None
            continue
        resource, _, amount = stripped.partition(":")
        if resource in k8s.RESOURCES and amount.strip():
            blocks[-1][resource] = k8s.quantity(amount.strip())
    return blocks


def _format_requests(requests: dict[str, Decimal]) -> str:
    cpu = requests.get("cpu", Decimal(0)) * 1000
    memory = requests.get("memory", Decimal(0)) / 2**20
    return f"cpu {cpu.normalize():f}m, memory {memory.normalize():f}Mi"


def describe_shows_requests(output: Output, pods: Sequence[Json]) -> Verdict:
    """One Requests block per container of the pods, init and sidecar containers included."""
    expectation = "describe shows the requests of app and of the sidecar"
    if (problem := _ran(expectation, output)) is not None:
        return problem
    shown = requests_shown(output.stdout)
    declared = [
        k8s.requests_of(container)
        for pod in pods
        for container in [*k8s.init_containers(k8s.pod_spec(pod)), *k8s.containers(k8s.pod_spec(pod))]
        if k8s.requests_of(container)
    ]

    def ordered(blocks: list[dict[str, Decimal]]) -> list[tuple[Decimal, Decimal]]:
        return sorted((block.get("cpu", Decimal(0)), block.get("memory", Decimal(0))) for block in blocks)

    if not shown:
        return failed(expectation, "no Requests block")
    if ordered(shown) != ordered(declared):
        return failed(
            expectation,
            f"shown: {'; '.join(map(_format_requests, shown))}; declared: {'; '.join(map(_format_requests, declared))}",
        )
    return passed(expectation, f"{len(shown)} containers: {'; '.join(map(_format_requests, shown))}")


@dataclass(frozen=True)
class NodeRow:
    line: str
    cpu_requests: Decimal
    memory_requests: Decimal


_NODE_ROW = re.compile(
    r"^\s*(?P<namespace>\S+)\s+(?P<name>\S+)\s+(?P<cpu>\S+)\s+\([^)]*\)\s+\S+\s+\([^)]*\)\s+"
    r"(?P<memory>\S+)\s+\([^)]*\)\s+\S+\s+\([^)]*\)"
)


def node_row(describe_node: str, namespace: str, pod_name: str) -> NodeRow | None:
    """The pod's row of the node's "Non-terminated Pods" table."""
    in_table = False
    for line in describe_node.splitlines():
        if line.startswith("Non-terminated Pods:"):
            in_table = True
            continue
        if in_table and line and not line[0].isspace():
            break
        match = _NODE_ROW.match(line) if in_table else None
        if match and match.group("namespace") == namespace and match.group("name") == pod_name:
            return NodeRow(line.strip(), k8s.quantity(match.group("cpu")), k8s.quantity(match.group("memory")))
    return None


def node_counts_sidecar_requests(describe_node: Output, pod: Json) -> Verdict:
    """The scheduler's count of the pod, as its node shows it, is app plus the sidecar."""
    expectation = NODE_COUNTS_SIDECAR
    if (problem := _ran(expectation, describe_node)) is not None:
        return problem
    namespace = pod["metadata"].get("namespace", "")
    row = node_row(describe_node.stdout, namespace, k8s.name_of(pod))
    if row is None:
        return failed(expectation, f"the node lists no pod {namespace}/{k8s.name_of(pod)} under Non-terminated Pods")
    spec = k8s.pod_spec(pod)
    expected = k8s.pod_requests(spec)
    counted = {"cpu": row.cpu_requests, "memory": row.memory_requests}
    running_side_by_side = [*k8s.containers(spec), *(c for c in k8s.init_containers(spec) if k8s.is_sidecar(c))]
    parts = " + ".join(f"{c['name']} ({_format_requests(k8s.requests_of(c))})" for c in running_side_by_side)
    if counted != expected:
        return failed(
            expectation,
            f"the node counts {_format_requests(counted)}, "
            f"the pod's requests are {_format_requests(expected)} ({parts})",
        )
    return passed(expectation, f"the node counts {_format_requests(counted)} = {parts}")
