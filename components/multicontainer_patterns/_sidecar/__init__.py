"""Sidecar pattern: an app writes logs to a shared emptyDir, a log shipper tails and ships them.

Creates a ConfigMap with the two containers' scripts and the Pod (``sidecar-logging`` in the
lab) with containers ``app`` and ``log-shipper`` sharing the ``log-volume`` emptyDir. Neither
container knows about the other: they only share the volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from .. import _naming as naming
from .._commands import kubectl_commands
from .._defaults import BUSYBOX_IMAGE
from .._pattern import Pattern, PatternArgs, PatternScope, checksum_annotations
from .._pod import PodTemplate, Volume

_SCRIPTS = ("app.sh", "log-shipper.sh")


@dataclass(frozen=True, kw_only=True)
class SidecarArgs(PatternArgs):
    """Arguments of `Sidecar`: the Pod's name, the image and the shared log file."""

    pod_name: str = "sidecar-logging"
    """Name of the Pod."""
    image: str = BUSYBOX_IMAGE
    """Image of both containers (needs `sh`, `tail` and `date`)."""
    log_dir: str = "/var/log/app"
    """Where both containers mount the shared log volume."""
    log_interval_seconds: int = 2
    """How often the app writes a log line."""

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_subdomain("pod_name", self.pod_name)
        naming.image_reference("image", self.image)
        naming.absolute_path("log_dir", self.log_dir)
        naming.positive_int("log_interval_seconds", self.log_interval_seconds)


class Sidecar(pulumi.ComponentResource):
    """An app and a log-shipping sidecar sharing an emptyDir."""

    pod_name: pulumi.Output[str]
    """Name of the Pod."""
    kubectl_commands: pulumi.Output[list[str]]
    """The lab's commands for this pattern (both containers' logs), with the pod's namespace and name."""

    def __init__(self, name: str, args: SidecarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:Sidecar", name, None, opts)
        scope = PatternScope(self, name, "sidecar", args, Path(__file__).parent)
        scripts, scripts_mount = scope.files("scripts", _SCRIPTS, mount_path="/scripts")
        log_volume = Volume.empty_dir("log-volume")
        log_file = log_volume.mount(args.log_dir).file("app.log")

        app = scope.script_container(
            "app",
            image=args.image,
            scripts=scripts_mount,
            script="app.sh",
            env={"LOG_FILE": log_file, "LOG_INTERVAL_SECONDS": str(args.log_interval_seconds)},
            mounts=[log_volume.mount(args.log_dir)],
        )
        shipper = scope.script_container(
            "log-shipper",
            image=args.image,
            scripts=scripts_mount,
            script="log-shipper.sh",
            env={"LOG_FILE": log_file},
            # The shipper only reads what the app writes.
            mounts=[log_volume.mount(args.log_dir, read_only=True)],
        )
        template = PodTemplate(
            containers=[app, shipper], default_container=app.name, annotations=checksum_annotations(scripts)
        )
        self._workload = scope.pod(args.pod_name, template)
        self.pod_name = self._workload.resource.metadata.name
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.pod_name,
            lambda namespace, pod_name: [
                f"kubectl logs {pod_name} -c {container.name} -n {namespace}" for container in (app, shipper)
            ],
        )
        self.register_outputs({"pod_name": self.pod_name, "kubectl_commands": self.kubectl_commands})


PATTERN = Pattern(
    setting="sidecar",
    component=Sidecar,
    args=lambda lab, common: SidecarArgs(image=lab.busybox_image, **common),
    workloads=lambda sidecar: {"": sidecar._workload},
)
