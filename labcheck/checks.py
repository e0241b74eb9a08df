"""The walk through the lab: per pattern, its commands from :mod:`labcheck.commands` run in the
README's order, then the expectations of :mod:`labcheck.expectations` judged on what they showed.

Every wait is bounded by :class:`Timing`, every command by its timeout.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from . import expectations, k8s, tls
from .commands import (
    COMMANDS,
    DEFAULT_NAMESPACE,
    EXPERIMENTS,
    FAILING_INIT_CONTAINER,
    LAB,
    LAB_PATTERNS,
    OVERVIEW,
    PART_TITLES,
    RESOURCE_ACCOUNTING,
    SIDECAR_RESTART,
    Command,
    PatternCommands,
)
from .k8s import Json
from .kubectl import DEFAULT_TIMEOUT_SECONDS, Cluster, KubectlCluster, Output, PortForwardError, with_global_flags
from .results import CommandRun, LabReport, PatternResult, Verdict, failed

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    settle_seconds: float = 60.0
    """How long a pod may take to settle: ready, or stuck the way its experiment makes it."""
    restart_seconds: float = 60.0
    """How long the killed proxy may take to be running and ready again (experiment 1)."""
    poll_seconds: float = 1.0
    """Pause between two looks at a pod while waiting."""
    command_seconds: float = DEFAULT_TIMEOUT_SECONDS
    """Timeout of each kubectl command."""


class Reporter(Protocol):
    """Told about the walk as it goes, e.g. to print it."""

    def heading(self, title: str) -> None: ...

    def part(self, title: str) -> None: ...

    def command(self, run: CommandRun) -> None: ...

    def verdict(self, verdict: Verdict) -> None: ...


class SilentReporter:
    def heading(self, title: str) -> None:
        pass

    def part(self, title: str) -> None:
        pass

    def command(self, run: CommandRun) -> None:
        pass

    def verdict(self, verdict: Verdict) -> None:
        pass


@dataclass(frozen=True)
class _Lab:
    namespace: str
    context: str | None
    kubeconfig: str | None
    cluster: Cluster
    timing: Timing
    experiments: frozenset[str]
    reporter: Reporter

    def line(self, template_line: str) -> str:
        return with_global_flags(template_line, context=self.context, kubeconfig=self.kubeconfig)

    def sleep(self) -> None:
        time.sleep(self.timing.poll_seconds)


@dataclass
class _Walk:
    """One pattern's walk: runs its commands, and records and reports what they showed and the
    verdicts on it."""

    lab: _Lab
    commands: PatternCommands
    result: PatternResult
    _last: dict[str, tuple[Command, str, Output]] = field(default_factory=dict)

    @property
    def workload(self) -> str:
        return self.commands.workload

    def line(self, key: str, **fields: str) -> str:
        return self.lab.line(self.commands[key].render(self.lab.namespace, self.workload, **fields))

    def execute(self, key: str, **fields: str) -> Output:
        """Run a command without recording it (yet): waits look many times, record the last."""
        line = self.line(key, **fields)
        output = self.lab.cluster.run(line, self.lab.timing.command_seconds)
        self._last[key] = (self.commands[key], line, output)
        return output

    def execute_json(self, key: str, **fields: str) -> Json | None:
        output = self.execute(key, **fields)
        if not output.ok:
            return None
        try:
            return k8s.parse_object(output.stdout)
        except ValueError:
            return None

    def last_output(self, key: str) -> Output:
        return self._last[key][2]

    def record_last(self, key: str, note: str = "", excerpt: Sequence[str] | None = None) -> Output:
        command, line, output = self._last[key]
        self._record(CommandRun(line, command.shows, command.readme, output, note, _tuple(excerpt)))
        return output

    def run(
        self, key: str, note: str = "", excerpt: Callable[[Output], Sequence[str]] | None = None, **fields: str
    ) -> Output:
        output = self.execute(key, **fields)
        return self.record_last(key, note, excerpt(output) if excerpt and output.ok else None)

    def fetch(self, key: str, describe: Callable[[Json], str], **fields: str) -> Json | None:
        """A JSON object, recorded with a one-line description instead of its text."""
        found = self.execute_json(key, **fields)
        self.record_last(key, excerpt=[describe(found)] if found is not None else None)
        return found

    def record(
        self, key: str, output: Output | None, note: str, excerpt: Sequence[str] | None = None, **fields: str
    ) -> None:
        command = self.commands[key]
        self._record(CommandRun(self.line(key, **fields), command.shows, command.readme, output, note, _tuple(excerpt)))

    def skip(self, key: str, reason: str) -> None:
        self.record(key, None, f"not run: {reason}")

    def _record(self, run: CommandRun) -> None:
        self.result.commands.append(run)
        self.lab.reporter.command(run)

    def judge(self, verdict: Verdict) -> None:
        self.result.verdicts.append(verdict)
        self.lab.reporter.verdict(verdict)

    def part(self, part: str) -> None:
        self.lab.reporter.part(PART_TITLES[part])

    def settle(self, look: Callable[[], T | None], settled: Callable[[T], bool]) -> tuple[T | None, str]:
        """Look until ``settled`` holds, the look fails, or the settle time is up. Returns the last
        thing seen and a note on the wait."""
        started = time.monotonic()
        looks = 0
        while True:
            seen = look()
            looks += 1
            if seen is None or settled(seen):
                break
            if time.monotonic() - started >= self.lab.timing.settle_seconds:
                return seen, f"still not settled after {self.lab.timing.settle_seconds:.0f} s"
            self.lab.sleep()
        return seen, f"waited {time.monotonic() - started:.0f} s for it to settle" if looks > 1 else ""

    def settle_pod(self, settled: Callable[[Json], bool]) -> Json | None:
        """The pattern's bare Pod once settled; a FAIL when it cannot be read at all."""
        pod, note = self.settle(lambda: self.execute_json("pod"), settled)
        output = self.record_last("pod", note, [_pod_line(pod)] if pod is not None else None)
        if pod is None:
            self.judge(failed(f"pod {self.workload} is there", f"kubectl get pod: {_failure(output)}"))
        return pod

    def skip_readme_commands(self, reason: str) -> None:
        for command in self.commands.readme_commands:
            if command.part == LAB:
                self.skip(command.key, reason)


def _tuple(lines: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(lines) if lines is not None else None


def _failure(output: Output) -> str:
    return output.failure() if not output.ok else "not a JSON object"


def _pod_line(pod: Json) -> str:
    return f"pod {k8s.name_of(pod)}: {k8s.pod_state(pod)}, {k8s.ready_count(pod)} ready"


def _count_line(noun: str) -> Callable[[Output], Sequence[str]]:
    return lambda output: [f"{len(output.stdout.splitlines())} lines of {noun}"]


# --- the patterns ----------------------------------------------------------------------------


def _pod_settled_ready(walk: _Walk) -> bool:
    """Wait for the pattern's pod to be ready; False (its commands skipped) when it cannot be read."""
    if walk.settle_pod(k8s.is_ready) is None:
        walk.skip_readme_commands("the pod cannot be read")
        return False
    return True


def _sidecar(walk: _Walk) -> None:
    if not _pod_settled_ready(walk):
        return
    app_log = walk.run("app_log")
    shipper_log = walk.run("shipper_log")
    walk.judge(expectations.shipper_ships_app_requests(app_log, shipper_log))


def _adapter(walk: _Walk) -> None:
    if not _pod_settled_ready(walk):
        return
    raw_tail = walk.run("raw_tail")
    adapter_tail = walk.run("adapter_tail")
    # `| tail -5` may cut a batch: the whole log has the newest one whole.
    adapter_log = walk.run("adapter_log", excerpt=_count_line("Prometheus text"))
    raw_file = walk.run("raw_file", excerpt=_count_line("raw metrics"))
    walk.judge(expectations.raw_metrics_are_pipe_delimited(raw_tail))
    walk.judge(expectations.tail_is_prometheus_text(adapter_tail))
    walk.judge(expectations.newest_batch_matches_raw(adapter_log, raw_file))


def _tls_secret_name(pod: Json) -> str | None:
    """The Secret the proxy container mounts (the ambassador's certificate and key)."""
    spec = k8s.pod_spec(pod)
    proxy = next((c for c in k8s.containers(spec) if c["name"] == "proxy"), {})
    mounted = {mount["name"] for mount in proxy.get("volumeMounts") or []}
    for volume in spec.get("volumes") or []:
        if "secret" in volume and volume["name"] in mounted:
            return str(volume["secret"]["secretName"])
    return None


def _certificate_of(secret: Json) -> str | None:
    encoded = (secret.get("data") or {}).get("tls.crt")
    if not encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _forwarded(walk: _Walk, probe: Callable[[int], T]) -> T | PortForwardError:
    """``probe(local_port)`` through a port-forward of its own, stopped right after: a refused
    handshake may end a kubectl port-forward, so none is reused."""
    try:
        with walk.lab.cluster.port_forward(walk.line("forward")) as port:
            return probe(port)
    except PortForwardError as error:
        return error


def _ambassador(walk: _Walk) -> None:
    pod = walk.settle_pod(k8s.is_ready)
    if pod is None:
        walk.skip_readme_commands("the pod cannot be read")
        return
    plain = walk.run("http_page")
    secure = walk.run("https_page")
    walk.judge(expectations.shows_nginx_page("the app serves its page over plain HTTP on :80", plain))
    walk.judge(expectations.shows_same_page("the proxy serves the same page over TLS on :8443", plain, secure))

    certificate_check = tls.PRESENTS_SECRET_CERTIFICATE
    secret_name = _tls_secret_name(pod)
    if secret_name is None:
        walk.judge(failed(certificate_check, "the proxy container mounts no Secret"))
        return
    secret = walk.fetch("secret", lambda s: f"Secret {k8s.name_of(s)} of type {s.get('type')}", secret=secret_name)
    certificate = _certificate_of(secret) if secret is not None else None
    walk.record(
        "forward",
        None,
        "run for each handshake below, listening on 127.0.0.1 only, stopped right after it",
    )
    presented = _forwarded(walk, tls.presented_certificate)
    if isinstance(presented, PortForwardError):
        walk.judge(failed(certificate_check, str(presented)))
    elif certificate is None:
        walk.judge(failed(certificate_check, f"Secret {secret_name} has no readable tls.crt"))
    else:
        walk.judge(tls.presents_secret_certificate(presented, secret_name, certificate))
    for version in (*tls.MODERN_VERSIONS, *tls.LEGACY_VERSIONS):
        result = _forwarded(walk, partial(tls.handshake, version=version))
        if isinstance(result, PortForwardError):
            walk.judge(failed(tls.expectation_for(version), str(result)))
        else:
            walk.judge(tls.judge_handshake(result))


def _has_failing_init(pod: Json) -> bool:
    return any(c["name"] == FAILING_INIT_CONTAINER for c in k8s.init_containers(k8s.pod_spec(pod)))


def _failing_init_settled(pod: Json) -> bool:
    return expectations.init_failure(k8s.container_status(pod, FAILING_INIT_CONTAINER)) is not None


def _init_containers(walk: _Walk) -> None:
    pod = walk.settle_pod(lambda pod: _failing_init_settled(pod) if _has_failing_init(pod) else k8s.is_ready(pod))
    if pod is None:
        walk.skip_readme_commands("the pod cannot be read")
        return
    config_log = walk.run("config_log")
    wait_db_log = walk.run("wait_db_log")
    app_log = walk.run("app_log")
    if _has_failing_init(pod):
        walk.run("failing_log")
        walk.judge(expectations.failing_init_blocks_the_app(pod, FAILING_INIT_CONTAINER))
        return
    walk.judge(expectations.init_containers_ran_in_order(pod))
    walk.judge(expectations.init_logs_show_their_work(config_log, wait_db_log))
    walk.judge(expectations.app_uses_written_config(config_log, app_log))


def _declared_proxy(deployment: Json) -> Json | None:
    template_spec = deployment.get("spec", {}).get("template", {}).get("spec", {})
    return next((c for c in k8s.init_containers(template_spec) if c["name"] == "proxy"), None)


@dataclass(frozen=True)
class _DeploymentPods:
    current: Json
    """The first pod of the Deployment's current revision."""
    labelled: list[Json]
    """Every pod with the Deployment's app label (what `describe pod -l` shows)."""


def _native_sidecar(walk: _Walk) -> None:
    deployment = walk.fetch(
        "deployment",
        lambda d: (
            "proxy: " + ("native sidecar" if k8s.is_sidecar(_declared_proxy(d) or {}) else "classic init container")
        ),
    )
    if deployment is None:
        reason = f"kubectl get deployment: {_failure(walk.last_output('deployment'))}"
        walk.judge(failed(f"deployment {walk.workload} is there", reason))
        walk.skip_readme_commands("the Deployment cannot be read")
        return
    native = k8s.is_sidecar(_declared_proxy(deployment) or {})

    def look() -> _DeploymentPods | None:
        replicasets = walk.execute_json("replicasets")
        pods = walk.execute_json("pods")
        if replicasets is None or pods is None:
            return None
        current = k8s.current_pods(deployment, replicasets, pods)
        return _DeploymentPods(current[0], k8s.items(pods)) if current else None

    def settled(found: _DeploymentPods) -> bool:
        if native:
            return k8s.is_ready(found.current)
        return k8s.running_since(k8s.container_status(found.current, "proxy")) is not None

    found, note = walk.settle(look, settled)
    walk.record_last("replicasets", excerpt=_current_replica_set_line(deployment, walk.last_output("replicasets")))
    walk.record_last("pods", note, [_pod_line(pod) for pod in found.labelled] if found else None)
    if found is None:
        walk.judge(failed(f"deployment {walk.workload} has a pod of its current revision", "none found"))
        walk.skip_readme_commands("the Deployment has no current pod")
        return
    pod = found.current

    app_page = walk.run("app_page")
    proxied_page = walk.run("proxied_page")
    health = walk.run("health")
    if native:
        headers = walk.run(
            "proxy_headers", excerpt=lambda o: [line.strip() for line in o.stderr.splitlines() if line.strip()]
        )
        walk.judge(expectations.shows_nginx_page("the app serves its page on :80", app_page))
        walk.judge(expectations.shows_same_page("the proxy forwards to it on :8080", app_page, proxied_page))
        walk.judge(expectations.answers_health(health))
        walk.judge(expectations.adds_proxy_header(headers))
        walk.judge(expectations.proxy_runs_as_native_sidecar(pod))
    else:
        walk.judge(expectations.classic_init_proxy_blocks_the_app(pod))

    walk.part(SIDECAR_RESTART)
    if SIDECAR_RESTART not in walk.lab.experiments:
        reason = "experiment 1 changes the cluster; `--experiment sidecar-restart` runs it"
        walk.skip("kill_proxy", reason)
        walk.skip("watch_pods", reason + " (the watch then runs in the background until the proxy is back)")
    elif not native:
        for key in ("kill_proxy", "watch_pods"):
            walk.skip(key, "experiment 2 is on: there is no native sidecar to kill")
        walk.judge(
            failed(
                expectations.PROXY_RESTARTS,
                "cannot run: experiment 2 is on, the proxy is a classic init container",
            )
        )
    else:
        _sidecar_restart(walk, k8s.name_of(pod))

    walk.part(RESOURCE_ACCOUNTING)
    requests = walk.run("requests")
    walk.judge(expectations.describe_shows_requests(requests, found.labelled))
    node = k8s.pod_spec(pod).get("nodeName")
    if not node:
        walk.judge(failed(expectations.NODE_COUNTS_SIDECAR, f"pod {k8s.name_of(pod)} is on no node yet"))
        return
    namespace, name = walk.lab.namespace, k8s.name_of(pod)
    described = walk.run("node", excerpt=lambda o: _node_excerpt(o.stdout, namespace, name), node=str(node))
    walk.judge(expectations.node_counts_sidecar_requests(described, pod))


def _current_replica_set_line(deployment: Json, replicasets: Output) -> list[str] | None:
    revision = (deployment["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
    try:
        listed = k8s.items(k8s.parse_object(replicasets.stdout))
    except ValueError:
        return None
    names = [
        k8s.name_of(rs)
        for rs in listed
        if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision
    ]
    return [f"{len(listed)} ReplicaSets; the current one, of revision {revision}: {', '.join(names) or 'none'}"]


def _node_excerpt(describe_node: str, namespace: str, pod_name: str) -> list[str]:
    row = expectations.node_row(describe_node, namespace, pod_name)
    lines = describe_node.splitlines()
    header = next(
        (lines[i + 1].strip() for i, line in enumerate(lines[:-1]) if line.startswith("Non-terminated Pods:")), ""
    )
    return [header, row.line] if row is not None else ["(no row for the pod under Non-terminated Pods)"]


def _sidecar_restart(walk: _Walk, pod_name: str) -> None:
    """Experiment 1: kill the proxy's nginx, watch the kubelet restart it while app runs on."""
    expectation = expectations.PROXY_RESTARTS
    before = walk.fetch("pod", _pod_line, pod=pod_name)
    if before is None:
        walk.judge(failed(expectation, f"pod {pod_name} cannot be read before the kill"))
        return
    kill = walk.run("kill_proxy")
    if not kill.ok:
        walk.skip("watch_pods", "the kill failed")
        walk.judge(failed(expectation, f"the kill failed ({kill.failure()})"))
        return
    started = time.monotonic()
    polls: list[tuple[float, Json]] = []
    with walk.lab.cluster.follow(walk.line("watch_pods")) as watch:
        while True:
            seen = walk.execute_json("pod", pod=pod_name)
            if seen is not None:
                polls.append((time.monotonic() - started, seen))
            if expectations.restarted_at(before, polls[-1:]) is not None:
                break
            if time.monotonic() - started >= walk.lab.timing.restart_seconds:
                break
            walk.lab.sleep()
        watched = watch.lines()
    waited = time.monotonic() - started
    walk.record(
        "watch_pods",
        Output("\n".join(watched), "", None, waited),
        f"a watch never ends by itself: run in the background, stopped after {waited:.0f} s once the proxy was back",
        [line for line in watched if line.startswith(("NAME", pod_name))],
    )
    walk.record_last("pod", f"looked {len(polls)} times", [_pod_line(polls[-1][1])] if polls else None)
    walk.judge(expectations.proxy_restarts_by_itself(before, polls, waited))
    walk.judge(expectations.pod_untouched_by_sidecar_restart(before, polls))
    again = walk.run("proxied_page", note="again, after the restart")
    walk.judge(expectations.shows_nginx_page("the proxy serves the page again", again))


_WALKS: dict[str, Callable[[_Walk], None]] = {
    "sidecar": _sidecar,
    "adapter": _adapter,
    "ambassador": _ambassador,
    "init-containers": _init_containers,
    "native-sidecar": _native_sidecar,
}


def check(
    patterns: Collection[str] = LAB_PATTERNS,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    context: str | None = None,
    kubeconfig: str | None = None,
    experiments: Collection[str] = (),
    timing: Timing | None = None,
    reporter: Reporter | None = None,
    cluster: Cluster | None = None,
) -> LabReport:
    """Walk the lab in ``namespace`` as a learner does and judge what each pattern shows.

    ``patterns`` are walked in the lab's order; ``experiments`` (of :data:`EXPERIMENTS`) also run
    the experiments that change the cluster. ``reporter`` hears of each command and verdict as it
    comes; ``cluster`` defaults to the kubectl on PATH. Raises ValueError for an unknown pattern or
    experiment.
    """
    unknown = sorted(set(patterns) - set(LAB_PATTERNS)) + sorted(set(experiments) - set(EXPERIMENTS))
    if unknown:
        raise ValueError(f"unknown pattern or experiment: {', '.join(unknown)}")
    if experiments and "native-sidecar" not in patterns:
        raise ValueError("the experiments use the native-sidecar pattern: select it too")
    lab = _Lab(
        namespace,
        context,
        kubeconfig,
        cluster or KubectlCluster(),
        timing or Timing(),
        frozenset(experiments),
        reporter or SilentReporter(),
    )
    report = LabReport(namespace, context)
    lab.reporter.heading("pods")
    overview_line = lab.line(OVERVIEW.render(namespace, ""))
    overview = lab.cluster.run(overview_line, lab.timing.command_seconds)
    report.overview = CommandRun(overview_line, OVERVIEW.shows, True, overview)
    lab.reporter.command(report.overview)
    for pattern in (p for p in LAB_PATTERNS if p in patterns):
        commands = COMMANDS[pattern]
        result = PatternResult(pattern, commands.title)
        report.patterns.append(result)
        lab.reporter.heading(f"{pattern}: {commands.title}")
        walk = _Walk(lab, commands, result)
        if not overview.ok:
            walk.judge(failed("the cluster answers", f"kubectl get pods: {overview.failure()}"))
            continue
        try:
            _WALKS[pattern](walk)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            # An object not shaped as expected: this pattern fails, the others are still walked.
            walk.judge(failed("the pattern's objects are as the lab makes them", f"{type(error).__name__}: {error}"))
    return report
