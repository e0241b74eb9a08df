"""Sidecar pattern: an app writes logs to a shared emptyDir, a log shipper tails and ships them.

Creates a ConfigMap with the two containers' scripts and the Pod (``sidecar-logging`` in the
lab) with containers ``app`` and ``log-shipper`` sharing the ``log-volume`` emptyDir. Neither
container knows about the other: they only share the volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from .. import naming
from ..commands import kubectl_commands
from ..defaults import BUSYBOX_IMAGE, UNPRIVILEGED, Resources
from ..files import CHECKSUM_ANNOTATION, file_bundle
from ..labels import Labels, object_labels
from ..pod import Container, PodTemplate, Volume
from ..workloads import pod

FILES = Path(__file__).parent
SCRIPTS = ("app.sh", "log-shipper.sh")


@dataclass(frozen=True, kw_only=True)
class SidecarArgs:
    namespace: pulumi.Input[str]
    """Namespace of every object."""
    pod_name: str = "sidecar-logging"
    """Name of the Pod."""
    image: str = BUSYBOX_IMAGE
    """Image of both containers (needs `sh`, `tail` and `date`)."""
    log_dir: str = "/var/log/app"
    """Where both containers mount the shared log volume."""
    log_interval_seconds: int = 2
    """How often the app writes a log line."""
    resources: Resources = field(default_factory=Resources)
    instance: str = "lab"
    """`app.kubernetes.io/instance` label of every object."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels for every object."""

    def __post_init__(self) -> None:
        naming.dns1123_subdomain("pod_name", self.pod_name)
        naming.image_reference("image", self.image)
        naming.absolute_path("log_dir", self.log_dir)
        naming.positive_int("log_interval_seconds", self.log_interval_seconds)


class Sidecar(pulumi.ComponentResource):
    """An app and a log-shipping sidecar sharing an emptyDir."""

    pod_name: pulumi.Output[str]
    kubectl_commands: pulumi.Output[list[str]]

    def __init__(self, name: str, args: SidecarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:Sidecar", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = Labels(args.pod_name, "sidecar", args.instance, args.labels)

        scripts = file_bundle(
            f"{name}-scripts",
            volume_name="scripts",
            directory=FILES,
            names=SCRIPTS,
            namespace=args.namespace,
            labels=object_labels("sidecar", args.instance, args.labels),
            opts=child,
        )
        scripts_mount = scripts.volume.mount("/scripts", read_only=True)
        log_volume = Volume.empty_dir("log-volume")
        log_file = log_volume.mount(args.log_dir).file("app.log")

        app = Container(
            name="app",
            image=args.image,
            command=["sh", scripts_mount.file("app.sh")],
            env={"LOG_FILE": log_file, "LOG_INTERVAL_SECONDS": str(args.log_interval_seconds)},
            mounts=[log_volume.mount(args.log_dir), scripts_mount],
            privileges=UNPRIVILEGED,
            resources=args.resources,
        )
        shipper = Container(
            name="log-shipper",
            image=args.image,
            command=["sh", scripts_mount.file("log-shipper.sh")],
            env={"LOG_FILE": log_file},
            # The shipper only reads what the app writes.
            mounts=[log_volume.mount(args.log_dir, read_only=True), scripts_mount],
            privileges=UNPRIVILEGED,
            resources=args.resources,
        )
        template = PodTemplate(
            containers=[app, shipper],
            default_container=app.name,
            annotations={CHECKSUM_ANNOTATION: scripts.checksum},
        )
        self.workload = pod(
            f"{name}-pod", name=args.pod_name, namespace=args.namespace, labels=labels, template=template, opts=child
        )
        self.pod_name = self.workload.resource.metadata.name
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.pod_name,
            lambda namespace, pod_name: [
                f"kubectl logs {pod_name} -c {container.name} -n {namespace}" for container in (app, shipper)
            ],
        )
        self.register_outputs({"pod_name": self.pod_name, "kubectl_commands": self.kubectl_commands})
