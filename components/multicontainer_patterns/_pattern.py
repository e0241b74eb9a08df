"""What every pattern component shares: its common arguments, the helpers that build its
ConfigMap of files, its labels and its script containers in one way for all patterns, and
:class:`Pattern`, the declaration by which a pattern package joins the lab."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from . import _naming as naming
from ._defaults import UNPRIVILEGED, Resources
from ._files import CHECKSUM_ANNOTATION, FileBundle, file_bundle
from ._labels import Labels, object_labels
from ._pod import Container, Mount, PodTemplate, Port
from ._tls import TlsSettings
from ._workloads import Workload, deployment, network_policy, pod, service


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
    """A NetworkPolicy for each workload that talks to others, allowing exactly its flows.

    Each also isolates its pods. False for clusters without a NetworkPolicy engine, where they do
    nothing."""
    owned_namespace: pulumi.Resource | None = None
    """The namespace's own resource, when the caller creates the namespace and deletes it with the stack.

    The component's objects that go at once with their namespace (ConfigMaps, Secrets,
    Services, TLS state) are then deleted with it (`deletedWith`) instead of one by one. Without
    it, the namespace may be shared and every object is deleted on its own."""
    service_account: k8s.core.v1.ServiceAccount | None = None
    """The ServiceAccount the component's pods run under (no token of it is mounted).

    None runs them under their namespace's `default` account, which a controller makes a moment
    after the namespace: a pod created before it exists is refused."""
    workloads_deleted_with_namespace: bool = False
    """Whether the workloads of an owned namespace are deleted with it, not before it.

    False deletes the workloads, and waits for their pods to stop, before the namespace, which is
    then empty when the namespace controller first looks (the fastest destroy of one lab). True
    leaves them to the namespace as well, so destroying many labs at once costs one deletion per
    lab instead of one per workload."""

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
        """Options of the component's workloads. Unless ``workloads_deleted_with_namespace``,
        `pulumi destroy` deletes them (and waits for their pods to stop) before the namespace: the
        namespace controller first looks 5 s after the namespace is deleted, and when pods are
        still terminating then, it looks again 5 s later. An emptied namespace is gone on the
        first look; the engine does not inherit deletedWith to a workload, because it is not set
        on the component."""
        if self.args.workloads_deleted_with_namespace:
            return self.deleted_with_namespace
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

    @property
    def service_account_name(self) -> pulumi.Output[str] | None:
        """The name of the account the component's pods run under; depending on it, a pod is
        created after its account."""
        account = self.args.service_account
        return None if account is None else account.metadata.name

    def pod(self, pod_name: str, template: PodTemplate, *, expect_ready: bool = True) -> Workload:
        """The component's Pod, labelled as its pattern."""
        return pod(
            f"{self.name}-pod",
            name=pod_name,
            namespace=self.args.namespace,
            labels=self.workload_labels(pod_name),
            template=template,
            service_account_name=self.service_account_name,
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
            service_account_name=self.service_account_name,
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


# --- How a pattern joins the lab ------------------------------------------------------------


class LabSettings(Protocol):
    """The lab's settings a pattern builds its arguments from (``LabArgs`` has them all)."""

    @property
    def busybox_image(self) -> str: ...
    @property
    def nginx_image(self) -> str: ...
    @property
    def db_image(self) -> str: ...
    @property
    def tls(self) -> TlsSettings: ...
    @property
    def native_sidecar(self) -> bool: ...
    @property
    def failing_init(self) -> bool: ...


class PatternComponent(Protocol):
    """What the lab reads from every pattern component."""

    @property
    def kubectl_commands(self) -> pulumi.Output[list[str]]: ...


ArgsT = TypeVar("ArgsT", bound=PatternArgs)
ComponentT = TypeVar("ComponentT", bound=PatternComponent)


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """A way the lab breaks a pattern on purpose, turned on by a stack setting."""

    setting: str
    """The stack setting (declared in Pulumi.yaml) that turns it on."""
    active: Callable[[LabSettings], bool]
    warning: str
    """What `pulumi up` tells the user while it is on; ``{namespace}`` is the lab's namespace."""


def _no_exports(_component: Any) -> Mapping[str, pulumi.Output[Any]]:
    return {}


@dataclass(frozen=True, kw_only=True)
class Pattern(Generic[ArgsT, ComponentT]):
    """A pattern as the lab knows it, declared once in its own package (``PATTERN``) and listed in
    ``multicontainer_patterns/_registry.py``: the lab builds it, exports its workloads, commands and outputs,
    and the settings and tests take it from there."""

    setting: str
    """Its name in the lab's `patterns` setting, in the component's Pulumi name (``lab-<setting>``)
    and among the keys of the lab's outputs."""
    component: Callable[[str, ArgsT, pulumi.ResourceOptions], ComponentT]
    args: Callable[[LabSettings, Mapping[str, Any]], ArgsT]
    """Its component's arguments from the lab's settings and the arguments every pattern of the
    lab shares (:class:`PatternArgs`' fields, passed on as they are)."""
    workloads: Callable[[ComponentT], Mapping[str, Workload]]
    """Its workloads by role: ``""`` for the one its kubectl commands are about, which the lab's
    ``workloads`` output lists under the setting, and any other role under ``<setting>-<role>``
    (the init-containers pattern's ``db``)."""
    experiments: Sequence[Experiment] = ()
    exports: Callable[[ComponentT], Mapping[str, pulumi.Output[Any]]] = _no_exports
    """Stack outputs of its own (e.g. the ambassador's certificate facts)."""

    def __post_init__(self) -> None:
        naming.dns1123_label("pattern setting", self.setting)

    def keyed_workloads(self, component: ComponentT) -> dict[str, Workload]:
        """Its workloads keyed as the lab's ``workloads`` output keys them."""
        return {
            self.setting + (f"-{role}" if role else ""): workload
            for role, workload in self.workloads(component).items()
        }
