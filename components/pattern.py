"""What every pattern component shares: its common arguments and the helpers that build its
ConfigMap of files, its labels and its script containers in one way for all patterns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from . import naming
from .defaults import UNPRIVILEGED, Resources
from .files import CHECKSUM_ANNOTATION, FileBundle, file_bundle
from .labels import Labels, object_labels
from .pod import Container, Mount, PodTemplate, Port
from .workloads import Workload, deployment, network_policy, pod, service


@dataclass(frozen=True, kw_only=True)
class PatternArgs:
    """Arguments every pattern component takes."""

    namespace: pulumi.Input[str]
    """Namespace of every object the component creates."""
    resources: Resources = field(default_factory=Resources)
    """Requests and limits of every container."""
    instance: str = "lab"
    """`app.kubernetes.io/instance` label of every object."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels for every object."""
    network_policies: bool = True
    """A NetworkPolicy for each workload that talks to others, allowing exactly its flows (and
    isolating its pods). False for clusters without a NetworkPolicy engine, where they do nothing."""
    owned_namespace: pulumi.Resource | None = None
    """The namespace's own resource, when the caller creates the namespace and deletes it with
    the stack. The component's objects that go at once with their namespace (ConfigMaps, Secrets,
    Services, TLS state) are then deleted with it (`deletedWith`) instead of one by one. Without
    it, the namespace may be shared and every object is deleted on its own."""

    def __post_init__(self) -> None:
        naming.dns1123_label("instance", self.instance)


@dataclass(frozen=True)
class PatternScope:
    """One component's view of its own pieces: children are parented to it, named after it,
    labelled as its pattern, and its files are read from its own directory."""

    component: pulumi.ComponentResource
    name: str
    pattern: str
    args: PatternArgs
    directory: Path

    @property
    def child(self) -> pulumi.ResourceOptions:
        """Options of the component's workloads. `pulumi destroy` deletes them (and waits for their
        pods to stop) before the namespace: the namespace controller first looks 5 s after the
        namespace is deleted, and when pods are still terminating then, it looks again 5 s later.
        An emptied namespace is gone on the first look; the engine does not inherit deletedWith
        to a workload, because it is not set on the component."""
        return pulumi.ResourceOptions(parent=self.component)

    @property
    def deleted_with_namespace(self) -> pulumi.ResourceOptions:
        """Options of the component's objects that go at once with their namespace."""
        return pulumi.ResourceOptions(parent=self.component, deleted_with=self.args.owned_namespace)

    @property
    def object_labels(self) -> dict[str, str]:
        return object_labels(self.pattern, self.args.instance, self.args.labels)

    def workload_labels(self, workload_name: str, component: str | None = None) -> Labels:
        return Labels(workload_name, component or self.pattern, self.args.instance, self.args.labels)

    def files(self, suffix: str, names: Sequence[str], *, mount_path: str) -> tuple[FileBundle, Mount]:
        """A ConfigMap with ``names`` from the component's directory, mounted read-only."""
        bundle = file_bundle(
            f"{self.name}-{suffix}",
            volume_name=suffix,
            directory=self.directory,
            names=names,
            namespace=self.args.namespace,
            labels=self.object_labels,
            opts=self.deleted_with_namespace,
        )
        return bundle, bundle.volume.mount(mount_path, read_only=True)

    def script_container(
        self,
        name: str,
        *,
        image: str,
        scripts: Mount,
        script: str,
        env: Mapping[str, str],
        mounts: Sequence[Mount] = (),
    ) -> Container:
        """A container that runs one of the component's shell scripts with `sh`, unprivileged."""
        return Container(
            name=name,
            image=image,
            command=["sh", scripts.file(script)],
            env=env,
            mounts=[*mounts, scripts],
            privileges=UNPRIVILEGED,
            resources=self.args.resources,
        )

    def pod(self, pod_name: str, template: PodTemplate, *, expect_ready: bool = True) -> Workload:
        """The component's Pod, labelled as its pattern."""
        return pod(
            f"{self.name}-pod",
            name=pod_name,
            namespace=self.args.namespace,
            labels=self.workload_labels(pod_name),
            template=template,
            expect_ready=expect_ready,
            opts=self.child,
        )

    def deployment(
        self,
        suffix: str,
        name: str,
        template: PodTemplate,
        *,
        component: str | None = None,
        replicas: int = 1,
        expect_ready: bool = True,
    ) -> Workload:
        """A Deployment of the component, labelled as its pattern (or as ``component``)."""
        return deployment(
            f"{self.name}-{suffix}",
            name=name,
            namespace=self.args.namespace,
            labels=self.workload_labels(name, component),
            template=template,
            replicas=replicas,
            expect_ready=expect_ready,
            opts=self.child,
        )

    def network_policy(
        self,
        suffix: str,
        workload: Workload,
        *,
        public: Sequence[Port] = (),
        clients: Sequence[tuple[Workload, Port]] = (),
        dependencies: Sequence[tuple[Workload, Port]] = (),
        dns: bool = False,
    ) -> k8s.networking.v1.NetworkPolicy | None:
        """The flows of one of the component's workloads (workloads.network_policy), unless the
        component was asked for no NetworkPolicies."""
        if not self.args.network_policies:
            return None
        return network_policy(
            f"{self.name}-{suffix}",
            namespace=self.args.namespace,
            workload=workload,
            public=public,
            clients=clients,
            dependencies=dependencies,
            dns=dns,
            opts=self.deleted_with_namespace,
        )

    def service(self, suffix: str, name: str, workload: Workload, port: Port) -> k8s.core.v1.Service:
        """A Service exposing one port of ``workload`` on the same port number."""
        return service(
            f"{self.name}-{suffix}",
            name=name,
            namespace=self.args.namespace,
            workload=workload,
            ports=[(port, port.number)],
            opts=self.deleted_with_namespace,
        )


def checksum_annotations(*bundles: FileBundle) -> dict[str, pulumi.Input[str]]:
    """The pod annotation that changes whenever a mounted file does."""
    return {CHECKSUM_ANNOTATION: ",".join(bundle.checksum for bundle in bundles)}
