"""Adapter pattern: the app writes metrics in its own pipe-delimited format, the adapter
converts them to the Prometheus text exposition format.

Creates a ConfigMap with the scripts and the converter, and the Pod (``adapter-format`` in the
lab) with containers ``app`` and ``adapter`` sharing an emptyDir at ``/var/log/app``, where the
app writes ``metrics.raw``.
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

_SCRIPTS = ("app.sh", "adapter.sh", "to-prometheus.awk")


@dataclass(frozen=True, kw_only=True)
class AdapterArgs(PatternArgs):
    """Arguments of `Adapter`: the Pod's name, the image and where the metrics are written."""

    pod_name: str = "adapter-format"
    """Name of the Pod."""
    image: str = BUSYBOX_IMAGE
    """Image of both containers (needs `sh`, `awk`, `tail`, `sort`, `grep`)."""
    metrics_dir: str = "/var/log/app"
    """Where both containers mount the shared volume; the app writes `metrics.raw` there."""
    metrics_interval_seconds: int = 5
    """How often the app writes a batch of metrics."""

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_subdomain("pod_name", self.pod_name)
        naming.image_reference("image", self.image)
        naming.absolute_path("metrics_dir", self.metrics_dir)
        naming.positive_int("metrics_interval_seconds", self.metrics_interval_seconds)


class Adapter(pulumi.ComponentResource):
    """An app writing custom-format metrics and an adapter converting them for Prometheus."""

    pod_name: pulumi.Output[str]
    """Name of the Pod."""
    kubectl_commands: pulumi.Output[list[str]]
    """The lab's commands for this pattern, with the pod's namespace and name.

    The raw metrics the app writes, and the adapter's Prometheus text."""

    def __init__(self, name: str, args: AdapterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:Adapter", name, None, opts)
        scope = PatternScope(self, name, "adapter", args, Path(__file__).parent)
        scripts, scripts_mount = scope.files("scripts", _SCRIPTS, mount_path="/scripts")
        metrics_volume = Volume.empty_dir("metrics-volume")
        raw_file = metrics_volume.mount(args.metrics_dir).file("metrics.raw")

        app = scope.script_container(
            "app",
            image=args.image,
            scripts=scripts_mount,
            script="app.sh",
            env={"METRICS_FILE": raw_file, "METRICS_INTERVAL_SECONDS": str(args.metrics_interval_seconds)},
            mounts=[metrics_volume.mount(args.metrics_dir)],
        )
        adapter = scope.script_container(
            "adapter",
            image=args.image,
            scripts=scripts_mount,
            script="adapter.sh",
            env={"METRICS_FILE": raw_file, "CONVERTER": scripts_mount.file("to-prometheus.awk")},
            mounts=[metrics_volume.mount(args.metrics_dir, read_only=True)],
        )
        template = PodTemplate(
            containers=[app, adapter], default_container=app.name, annotations=checksum_annotations(scripts)
        )
        self._workload = scope.pod(args.pod_name, template)
        self.pod_name = self._workload.resource.metadata.name
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.pod_name,
            lambda namespace, pod_name: [
                f"kubectl exec {pod_name} -c {app.name} -n {namespace} -- tail -5 {raw_file}",
                f"kubectl logs {pod_name} -c {adapter.name} -n {namespace} | tail -5",
            ],
        )
        self.register_outputs({"pod_name": self.pod_name, "kubectl_commands": self.kubectl_commands})


PATTERN = Pattern(
    setting="adapter",
    component=Adapter,
    args=lambda lab, common: AdapterArgs(image=lab.busybox_image, **common),
    workloads=lambda adapter: {"": adapter._workload},
)
