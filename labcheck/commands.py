"""Every command the checker runs, in one place.

Per pattern: the lab's own commands exactly as the README writes them (``{namespace}`` and
``{workload}`` filled in at run time), each next to what it should show, followed by the
commands the checker adds to judge them (``readme=False``). The lab's commands of all patterns,
after :data:`OVERVIEW` and in pattern order, are the README's "The lab" and "Experiments"
command lines in their order, and each pattern's are the program's own ``kubectl_commands``
output; tests hold both to that.
"""

from __future__ import annotations

from dataclasses import dataclass

from multicontainer_patterns._settings import LAB_DEFAULTS

DEFAULT_NAMESPACE = LAB_DEFAULTS.namespace

# Parts of a pattern's walk: the lab itself, and the README's experiments that use its objects.
LAB = "lab"
SIDECAR_RESTART = "sidecar-restart"
RESOURCE_ACCOUNTING = "resource-accounting"
PART_TITLES = {
    LAB: "the lab",
    SIDECAR_RESTART: "experiment 1: sidecar crash recovery",
    RESOURCE_ACCOUNTING: "experiment 4: resource accounting",
}
EXPERIMENTS = (SIDECAR_RESTART,)
"""Experiments that change the cluster, so they only run when asked for."""

# The init container experiment 3 adds in front of init-demo's own (multicontainer_patterns/_init_containers).
FAILING_INIT_CONTAINER = "failing-init"


@dataclass(frozen=True)
class Command:
    key: str
    """How the checker refers to it."""
    template: str
    shows: str
    """What it should show, or for the checker's own commands, why it runs."""
    part: str = LAB
    readme: bool = True
    """False for a command the checker adds; the README does not have it."""

    def render(self, namespace: str, workload: str, **fields: str) -> str:
        return self.template.format(namespace=namespace, workload=workload, **fields)


def probe(key: str, template: str, why: str, part: str = LAB) -> Command:
    """A command the checker adds to judge what the lab's commands showed."""
    return Command(key, template, why, part, readme=False)


@dataclass(frozen=True)
class PatternCommands:
    pattern: str
    title: str
    workload: str
    """The Pod, or for native-sidecar the Deployment, the commands look at."""
    commands: tuple[Command, ...]

    def __getitem__(self, key: str) -> Command:
        for command in self.commands:
            if command.key == key:
                return command
        raise KeyError(f"{self.pattern} has no command '{key}'")

    @property
    def readme_commands(self) -> tuple[Command, ...]:
        return tuple(command for command in self.commands if command.readme)


OVERVIEW = Command(
    "pods",
    "kubectl get pods -n {namespace}",
    "every pod of the lab Running (init-demo and sidecar-proxy stay in Init while experiment 3 or 2 is on)",
)

_POD_JSON = "kubectl get pod {workload} -n {namespace} -o json"

COMMANDS: dict[str, PatternCommands] = {
    "sidecar": PatternCommands(
        "sidecar",
        "Sidecar (log shipping)",
        "sidecar-logging",
        (
            Command(
                "app_log",
                "kubectl logs {workload} -c app -n {namespace}",
                "the app's lines, 'INFO app: handled request id=N', one every 2 s",
            ),
            Command(
                "shipper_log",
                "kubectl logs {workload} -c log-shipper -n {namespace}",
                "the same lines, each tagged [shipped]",
            ),
            probe("pod", _POD_JSON, "the pod's status, to wait until it runs"),
        ),
    ),
    "adapter": PatternCommands(
        "adapter",
        "Adapter (format conversion)",
        "adapter-format",
        (
            Command(
                "raw_tail",
                "kubectl exec {workload} -c app -n {namespace} -- tail -5 /var/log/app/metrics.raw",
                "the newest raw metrics, '<unix seconds>|<name>|<value>|<label>=<value>,...'",
            ),
            Command(
                "adapter_tail",
                "kubectl logs {workload} -c adapter -n {namespace} | tail -5",
                "the end of the newest batch in the Prometheus text format",
            ),
            probe("pod", _POD_JSON, "the pod's status, to wait until it runs"),
            probe(
                "adapter_log",
                "kubectl logs {workload} -c adapter -n {namespace}",
                "every batch the adapter printed, whole, to parse the newest",
            ),
            probe(
                "raw_file",
                "kubectl exec {workload} -c app -n {namespace} -- cat /var/log/app/metrics.raw",
                "every raw batch still kept, to compare the adapter's values with",
            ),
        ),
    ),
    "ambassador": PatternCommands(
        "ambassador",
        "Ambassador (TLS proxy)",
        "ambassador-proxy",
        (
            Command(
                "http_page",
                "kubectl exec {workload} -c app -n {namespace} -- wget -qO- http://localhost:80",
                "the app's page over plain HTTP: nginx's welcome page",
            ),
            Command(
                "https_page",
                "kubectl exec {workload} -c app -n {namespace} -- wget -qO- --no-check-certificate https://localhost:8443",
                "the same page through the proxy, over TLS",
            ),
            probe("pod", _POD_JSON, "the pod's status and the TLS Secret it mounts"),
            probe(
                "secret",
                "kubectl get secret {secret} -n {namespace} -o json",
                "the certificate the proxy should present",
            ),
            probe(
                "forward",
                "kubectl port-forward pod/{workload} :8443 --address 127.0.0.1 -n {namespace}",
                "the proxy's TLS port on a random local port, for handshakes from here",
            ),
        ),
    ),
    "init-containers": PatternCommands(
        "init-containers",
        "Init containers",
        "init-demo",
        (
            Command(
                "config_log",
                "kubectl logs {workload} -c init-config -n {namespace}",
                "the configuration init-config wrote, then 'init-config: done'",
            ),
            Command(
                "wait_db_log",
                "kubectl logs {workload} -c init-wait-db -n {namespace}",
                "init-wait-db waiting until the database answered PONG",
            ),
            Command(
                "app_log",
                "kubectl logs {workload} -c app -n {namespace}",
                "the app started with that configuration and using it",
            ),
            probe("pod", _POD_JSON, "when each init container finished and the app started"),
            probe(
                "failing_log",
                f"kubectl logs {{workload}} -c {FAILING_INIT_CONTAINER} -n {{namespace}}",
                "experiment 3's failing init container saying why it exits",
            ),
        ),
    ),
    "native-sidecar": PatternCommands(
        "native-sidecar",
        "Native sidecar (Kubernetes 1.29+)",
        "sidecar-proxy",
        (
            Command(
                "app_page",
                "kubectl exec -n {namespace} deployment/{workload} -c app -- wget -qO- http://localhost:80",
                "the app's page: nginx's welcome page",
            ),
            Command(
                "proxied_page",
                "kubectl exec -n {namespace} deployment/{workload} -c app -- wget -qO- http://localhost:8080",
                "the same page through the proxy sidecar",
            ),
            Command(
                "health",
                "kubectl exec -n {namespace} deployment/{workload} -c app -- wget -qO- http://localhost:8080/health",
                "'ok', answered by the proxy itself",
            ),
            Command(
                "kill_proxy",
                "kubectl exec -n {namespace} -c proxy deployment/{workload} -- kill 1",
                "nothing: the proxy's nginx stops",
                SIDECAR_RESTART,
            ),
            Command(
                "watch_pods",
                "kubectl get pods -n {namespace} -w",
                "the sidecar-proxy pod with one more restart, Running all along",
                SIDECAR_RESTART,
            ),
            Command(
                "requests",
                "kubectl describe pod -l app={workload} -n {namespace} | grep -A5 Requests",
                "the requests of app and of the proxy sidecar",
                RESOURCE_ACCOUNTING,
            ),
            probe(
                "deployment", "kubectl get deployment {workload} -n {namespace} -o json", "how the proxy is declared"
            ),
            probe(
                "replicasets",
                "kubectl get replicasets -l app={workload} -n {namespace} -o json",
                "which ReplicaSet is the Deployment's current one",
            ),
            probe("pods", "kubectl get pods -l app={workload} -n {namespace} -o json", "the Deployment's pods"),
            probe(
                "proxy_headers",
                "kubectl exec -n {namespace} deployment/{workload} -c app -- wget -S -qO- http://localhost:8080",
                "the response headers through the proxy (on stderr), with X-Proxy",
            ),
            probe(
                "pod",
                "kubectl get pod {pod} -n {namespace} -o json",
                "the pod's restart counts while the proxy restarts",
                SIDECAR_RESTART,
            ),
            probe(
                "node",
                "kubectl describe node {node}",
                "the node's 'Non-terminated Pods' row for the pod",
                RESOURCE_ACCOUNTING,
            ),
        ),
    ),
}
# The patterns of the lab's text, which the checker walks, in the lab's order. The program may
# register more (multicontainer_patterns/_registry.py); the checker knows the commands of these.
LAB_PATTERNS = tuple(COMMANDS)


def readme_command_lines(namespace: str = DEFAULT_NAMESPACE) -> list[str]:
    """The lab's command lines as the README writes them, in its order."""
    lines = [OVERVIEW.render(namespace, "")]
    for commands in COMMANDS.values():
        lines += [command.render(namespace, commands.workload) for command in commands.readme_commands]
    return lines
