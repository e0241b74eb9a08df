"""Init-container pattern: two init containers run in order, each to completion, before the app.

Creates a small database backend (a Redis Deployment and its Service) so that the pod really
starts, a ConfigMap with the three scripts, and the Pod (``init-demo`` in the lab):

1. ``init-config`` writes the app's configuration, naming the database, to a shared volume;
2. ``init-wait-db`` blocks until the database named there answers;
3. ``app`` prints and uses that configuration.

With ``failing_init`` a first init container that exits 1 is added, as in the lab's
experiment: the pod stays in ``Init:Error``/``Init:CrashLoopBackOff`` and the app never starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from .. import _naming as naming
from .._commands import kubectl_commands
from .._defaults import BUSYBOX_IMAGE, DB_IMAGE, REDIS, UNPRIVILEGED
from .._pattern import Experiment, Pattern, PatternArgs, PatternScope, checksum_annotations
from .._pod import Container, PodTemplate, Port, Volume, tcp_probe

_SCRIPTS = ("init-config.sh", "init-wait-db.sh", "app.sh")
_DB_PORT = Port("redis", 6379)


@dataclass(frozen=True, kw_only=True)
class InitContainersArgs(PatternArgs):
    """Arguments of `InitContainers`: the Pod's and the database's names, the images and the experiment."""

    pod_name: str = "init-demo"
    """Name of the Pod."""
    db_name: str = "db"
    """Name of the database Deployment and of its Service, which the app's config names."""
    image: str = BUSYBOX_IMAGE
    """Image of the init containers and the app (needs `sh`, `sed`, `nc`, `timeout`)."""
    db_image: str = DB_IMAGE
    """A Redis-protocol server."""
    app_environment: str = "lab"
    """A value init-config writes into the app's configuration."""
    failing_init: bool = False
    """Add an init container that exits 1 (the lab's failing-init experiment)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_subdomain("pod_name", self.pod_name)
        naming.dns1123_label("db_name", self.db_name)
        naming.image_reference("image", self.image)
        naming.image_reference("db_image", self.db_image)
        naming.dns1123_label("app_environment", self.app_environment)


class InitContainers(pulumi.ComponentResource):
    """Init containers that prepare config and wait for a database before the app starts."""

    pod_name: pulumi.Output[str]
    """Name of the Pod."""
    db_service: k8s.core.v1.Service
    """The database's Service, which the app's configuration names."""
    db_service_name: pulumi.Output[str]
    """Name of the database's Service (and Deployment)."""
    kubectl_commands: pulumi.Output[list[str]]
    """The lab's commands for this pattern, with the pod's namespace and name.

    Each container's log, in the order the containers run."""

    def __init__(self, name: str, args: InitContainersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:InitContainers", name, None, opts)
        scope = PatternScope(self, name, "init-containers", args, Path(__file__).parent)

        self._db_workload = scope.deployment("db", args.db_name, _database_template(args), component="database")
        self.db_service = scope.service("db-service", args.db_name, self._db_workload, _DB_PORT)

        scripts, scripts_mount = scope.files("scripts", _SCRIPTS, mount_path="/scripts")
        config_volume = Volume.empty_dir("config-volume", size_limit="1Mi")
        config_file = config_volume.mount("/config").file("app.conf")

        def script_container(
            container_name: str, script: str, env: dict[str, str], *, writes_config: bool
        ) -> Container:
            return scope.script_container(
                container_name,
                image=args.image,
                scripts=scripts_mount,
                script=script,
                env={"CONFIG_FILE": config_file, **env},
                mounts=[config_volume.mount("/config", read_only=not writes_config)],
            )

        init_containers = [
            script_container(
                "init-config",
                "init-config.sh",
                {"APP_ENVIRONMENT": args.app_environment, "DB_HOST": args.db_name, "DB_PORT": str(_DB_PORT.number)},
                writes_config=True,
            ),
            script_container("init-wait-db", "init-wait-db.sh", {}, writes_config=False),
        ]
        if args.failing_init:
            failing = Container(
                name="failing-init",
                image=args.image,
                command=["sh", "-c", "echo 'failing-init: exiting 1 on purpose'; exit 1"],
                privileges=UNPRIVILEGED,
                resources=args.resources,
            )
            init_containers.insert(0, failing)
        app = script_container("app", "app.sh", {}, writes_config=False)

        template = PodTemplate(
            containers=[app],
            init_containers=init_containers,
            default_container=app.name,
            annotations=checksum_annotations(scripts),
        )
        # Created alongside the database on purpose: init-wait-db is what waits for it.
        self._workload = scope.pod(args.pod_name, template, expect_ready=not args.failing_init)
        # init-wait-db resolves the database's Service by name and talks to it; nothing else does.
        scope.network_policy("network-policy", self._workload, dependencies=[(self._db_workload, _DB_PORT)], dns=True)
        scope.network_policy("db-network-policy", self._db_workload, clients=[(self._workload, _DB_PORT)])
        self.pod_name = self._workload.resource.metadata.name
        self.db_service_name = self.db_service.metadata.name
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.pod_name,
            lambda namespace, pod_name: [
                f"kubectl logs {pod_name} -c {container.name} -n {namespace}" for container in [*init_containers, app]
            ],
        )
        self.register_outputs(
            {
                "pod_name": self.pod_name,
                "db_service_name": self.db_service_name,
                "kubectl_commands": self.kubectl_commands,
            }
        )


def _database_template(args: InitContainersArgs) -> PodTemplate:
    data = Volume.empty_dir("data")
    redis = Container(
        name="redis",
        image=args.db_image,
        # An in-memory stand-in: no persistence, reachable from other pods without a password.
        command=["redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
        ports=[_DB_PORT],
        mounts=[data.mount("/data")],
        privileges=REDIS,
        resources=args.resources,
        readiness_probe=tcp_probe(_DB_PORT),
        liveness_probe=tcp_probe(_DB_PORT, period=10),
    )
    return PodTemplate(containers=[redis])


PATTERN = Pattern(
    setting="init-containers",
    component=InitContainers,
    args=lambda lab, common: InitContainersArgs(
        image=lab.busybox_image, db_image=lab.db_image, failing_init=lab.failing_init, **common
    ),
    workloads=lambda init: {"": init._workload, "db": init._db_workload},
    experiments=[
        Experiment(
            setting="failingInit",
            active=lambda lab: lab.failing_init,
            warning="failingInit=true: pod init-demo stays in Init:Error/Init:CrashLoopBackOff; Pulumi does not "
            "wait for it. Watch: kubectl get pods -n {namespace} -w",
        )
    ],
)
