"""Pod building blocks: volumes mounted by object, named ports, containers and pod templates.

A container never names a volume itself: it holds :class:`Mount` objects made by a
:class:`Volume`, and the pod's ``volumes`` list is derived from the mounts of all its
containers. Two containers that share a volume share the same object, so the name cannot
differ between them, and two different volumes with one name are refused.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from . import _naming as naming
from ._defaults import Privileges, Resources

UNPRIVILEGED_PORT_START = "net.ipv4.ip_unprivileged_port_start"


@dataclass(frozen=True, eq=False)
class Volume:
    """A pod volume. Identity matters: each instance is one volume of the pod."""

    name: str
    source: Mapping[str, object]
    keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        naming.dns1123_label("volume name", self.name)

    @classmethod
    def empty_dir(cls, name: str, *, size_limit: str = "16Mi", in_memory: bool = False) -> Volume:
        source = k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size_limit, medium="Memory" if in_memory else None)
        return cls(name, {"empty_dir": source})

    @classmethod
    def from_config_map(
        cls, name: str, config_map: k8s.core.v1.ConfigMap, keys: Sequence[str], *, mode: int = 0o444
    ) -> Volume:
        source = k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name, default_mode=mode)
        return cls(name, {"config_map": source}, frozenset(keys))

    @classmethod
    def from_secret(cls, name: str, secret: k8s.core.v1.Secret, keys: Sequence[str], *, mode: int = 0o440) -> Volume:
        """The Secret's keys as files owned by root and the pod's fsGroup (PodTemplate), which the
        non-root containers belong to: readable by them, and by no other user."""
        source = k8s.core.v1.SecretVolumeSourceArgs(secret_name=secret.metadata.name, default_mode=mode)
        return cls(name, {"secret": source}, frozenset(keys))

    def mount(self, path: str, *, read_only: bool = False) -> Mount:
        return Mount(self, naming.absolute_path(f"mount path of volume '{self.name}'", path), read_only)

    def to_args(self) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(name=self.name, **self.source)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Mount:
    """A volume mounted at a path of one container."""

    volume: Volume
    path: str
    read_only: bool = False

    def file(self, key: str) -> str:
        """Path of one file of the volume inside the container; only keys the volume holds."""
        if self.volume.keys and key not in self.volume.keys:
            raise ValueError(f"volume '{self.volume.name}' has no key '{key}' (it has {sorted(self.volume.keys)})")
        return posixpath.join(self.path, key)

    def to_args(self) -> k8s.core.v1.VolumeMountArgs:
        return k8s.core.v1.VolumeMountArgs(name=self.volume.name, mount_path=self.path, read_only=self.read_only)


@dataclass(frozen=True)
class Port:
    """A named container port. Services and probes refer to the object, not to a number."""

    name: str
    number: int
    protocol: Literal["TCP", "UDP"] = "TCP"

    def __post_init__(self) -> None:
        naming.port_name("port name", self.name)
        if not 0 < self.number < 65536:
            raise naming.SettingError(f"port '{self.name}'", self.number, "a port number from 1 to 65535")

    def to_args(self) -> k8s.core.v1.ContainerPortArgs:
        return k8s.core.v1.ContainerPortArgs(name=self.name, container_port=self.number, protocol=self.protocol)


def http_probe(
    port: Port, path: str = "/", *, scheme: Literal["HTTP", "HTTPS"] = "HTTP", period: int = 5
) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port.name, scheme=scheme),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=3,
    )


def tcp_probe(port: Port, *, period: int = 5) -> k8s.core.v1.ProbeArgs:
    return k8s.core.v1.ProbeArgs(
        tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=port.name),
        period_seconds=period,
        timeout_seconds=2,
        failure_threshold=3,
    )


@dataclass(frozen=True, kw_only=True)
class Container:
    """One container of a pod, with the lab's defaults for resources and security."""

    name: str
    image: str
    privileges: Privileges
    resources: Resources
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: Sequence[Mount] = ()
    ports: Sequence[Port] = ()
    readiness_probe: k8s.core.v1.ProbeArgs | None = None
    liveness_probe: k8s.core.v1.ProbeArgs | None = None
    startup_probe: k8s.core.v1.ProbeArgs | None = None

    def __post_init__(self) -> None:
        naming.dns1123_label("container name", self.name)
        naming.image_reference(f"image of container '{self.name}'", self.image)
        paths = [mount.path for mount in self.mounts]
        if len(paths) != len(set(paths)):
            raise ValueError(f"container '{self.name}' mounts two volumes at the same path: {paths}")

    @property
    def has_probes(self) -> bool:
        return any(p is not None for p in (self.readiness_probe, self.liveness_probe, self.startup_probe))

    def to_args(self, *, restart_policy: str | None = None) -> k8s.core.v1.ContainerArgs:
        return k8s.core.v1.ContainerArgs(
            name=self.name,
            image=self.image,
            image_pull_policy="IfNotPresent",
            command=list(self.command) if self.command is not None else None,
            args=list(self.args) if self.args is not None else None,
            env=[k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in self.env.items()] or None,
            ports=[port.to_args() for port in self.ports] or None,
            volume_mounts=[mount.to_args() for mount in self.mounts] or None,
            resources=self.resources.to_args(),
            security_context=self.privileges.to_args(),
            readiness_probe=self.readiness_probe,
            liveness_probe=self.liveness_probe,
            startup_probe=self.startup_probe,
            restart_policy=restart_policy,
            termination_message_policy="FallbackToLogsOnError",
        )


@dataclass(frozen=True, kw_only=True)
class PodTemplate:
    """The containers of one pod, in the order Kubernetes starts them.

    ``sidecars`` are native sidecars: init containers with ``restartPolicy: Always`` that start
    before ``init_containers`` finish and keep running beside ``containers``. With
    ``native_sidecars=False`` they are rendered as classic init containers (no restart policy,
    so no probes either), which is the lab's experiment of a broken proxy.
    """

    containers: Sequence[Container]
    init_containers: Sequence[Container] = ()
    sidecars: Sequence[Container] = ()
    native_sidecars: bool = True
    default_container: str | None = None
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Pod-level fields a pattern may set; the rest of the pod spec follows from the containers.
    share_process_namespace: bool = False
    """One PID namespace for all containers: each sees (and may signal) the others' processes."""
    termination_grace_period_seconds: int = 10
    """How long the containers get between SIGTERM and SIGKILL."""
    supplemental_groups: Sequence[int] = ()
    """Groups every container's processes also run with (pod securityContext)."""
    fs_group: int | None = None
    """The pod's group (``fsGroup``): every container also runs with it, and the pod's volumes
    (emptyDirs, Secrets) belong to it, so their files are shared by group, not by being open to
    all. Defaults to the group every container runs as; containers of different groups need it
    set."""

    def __post_init__(self) -> None:
        if not self.containers:
            raise ValueError("a pod needs at least one container")
        if self.termination_grace_period_seconds < 0:
            raise ValueError(
                f"termination_grace_period_seconds must be 0 or more, not {self.termination_grace_period_seconds}"
            )
        groups = {container.privileges.run_as_group for container in self.all_containers}
        if self.fs_group is None and len(groups) > 1:
            raise ValueError(
                f"the containers run as groups {sorted(groups, key=str)}: set fs_group, the group the pod's "
                "volumes belong to and every container joins"
            )
        if self.fs_group is not None and self.fs_group < 0:
            raise ValueError(f"fs_group must be a group id (0 or more), not {self.fs_group}")
        if any(group < 0 for group in self.supplemental_groups):
            raise ValueError(f"supplemental_groups must be group ids (0 or more): {list(self.supplemental_groups)}")
        names = [container.name for container in self.all_containers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"container names must be unique in a pod: {duplicates}")
        for container in self.init_containers:
            if container.has_probes:
                raise ValueError(
                    f"init container '{container.name}' cannot have probes: only native sidecars "
                    "(restartPolicy: Always) may, see kubernetes.io/docs/concepts/workloads/pods/init-containers"
                )
        if self.default_container is not None and self.default_container not in names:
            raise ValueError(f"default container '{self.default_container}' is not in the pod ({names})")
        self._collect_volumes()

    @property
    def all_containers(self) -> list[Container]:
        return [*self.sidecars, *self.init_containers, *self.containers]

    @property
    def ports(self) -> list[Port]:
        return [port for container in self.all_containers for port in container.ports]

    def runs_as_sidecar(self, port: Port) -> bool:
        """True if ``port`` belongs to a native sidecar (an init container of the pod spec)."""
        return any(port in container.ports for container in self.sidecars)

    @property
    def volumes(self) -> list[Volume]:
        """Every volume the containers mount, once each."""
        return self._collect_volumes()

    def _collect_volumes(self) -> list[Volume]:
        # Shared volumes are the same object in each mount; one name for two objects is refused.
        volumes: dict[str, Volume] = {}
        for container in self.all_containers:
            for mount in container.mounts:
                known = volumes.setdefault(mount.volume.name, mount.volume)
                if known is not mount.volume:
                    raise ValueError(
                        f"two different volumes are named '{mount.volume.name}' (container '{container.name}')"
                    )
        return list(volumes.values())

    def effective_resources(self) -> dict[str, Decimal]:
        """What the pod counts for in a ResourceQuota and the scheduler (requests.cpu, ...): the
        most of its running containers (native sidecars included) and of each init container
        with the native sidecars started before it, as Kubernetes computes it."""
        native = list(self.sidecars) if self.native_sidecars else []
        running = [c.resources.amounts() for c in [*self.containers, *native]]
        # In start order; a native sidecar keeps running once started, a classic init container ends.
        starting = [(c.resources.amounts(), c in native) for c in [*self.sidecars, *self.init_containers]]
        totals: dict[str, Decimal] = {}
        for key in Resources().amounts():
            peak, started = Decimal(0), Decimal(0)
            for amounts, keeps_running in starting:
                peak = max(peak, started + amounts[key])
                if keeps_running:
                    started += amounts[key]
            totals[key] = max(sum((amounts[key] for amounts in running), Decimal(0)), peak)
        return totals

    def metadata_annotations(self) -> dict[str, pulumi.Input[str]]:
        annotations = dict(self.annotations)
        if self.default_container is not None:
            # `kubectl logs/exec` without -c pick this container.
            annotations["kubectl.kubernetes.io/default-container"] = self.default_container
        return annotations

    def _unprivileged_port_sysctls(self) -> list[k8s.core.v1.SysctlArgs] | None:
        """Containers run as non-root, and a non-root process binds a port below 1024 only if the
        pod's network namespace lets it: from the lowest port the pod listens on. A namespaced,
        safe sysctl, which Pod Security "restricted" allows."""
        lowest = min((port.number for port in self.ports), default=1024)
        if lowest >= 1024:
            return None
        return [k8s.core.v1.SysctlArgs(name=UNPRIVILEGED_PORT_START, value=str(lowest))]

    @property
    def pod_group(self) -> int | None:
        """The pod's fsGroup: ``fs_group``, or the group all its containers run as."""
        if self.fs_group is not None:
            return self.fs_group
        return self.all_containers[0].privileges.run_as_group

    def spec_args(self, service_account_name: pulumi.Input[str] | None = None) -> k8s.core.v1.PodSpecArgs:
        """The pod spec, run under ``service_account_name`` (None: the namespace's default account)."""
        sidecar_policy = "Always" if self.native_sidecars else None
        sidecars = [
            container.to_args(restart_policy=sidecar_policy)
            if self.native_sidecars
            else _without_probes(container).to_args()
            for container in self.sidecars
        ]
        init_containers = sidecars + [container.to_args() for container in self.init_containers]
        return k8s.core.v1.PodSpecArgs(
            init_containers=init_containers or None,
            containers=[container.to_args() for container in self.containers],
            volumes=[volume.to_args() for volume in self.volumes] or None,
            service_account_name=service_account_name,
            automount_service_account_token=False,
            enable_service_links=False,
            share_process_namespace=self.share_process_namespace or None,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                fs_group=self.pod_group,
                supplemental_groups=list(self.supplemental_groups) or None,
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                sysctls=self._unprivileged_port_sysctls(),
            ),
            termination_grace_period_seconds=self.termination_grace_period_seconds,
        )


def _without_probes(container: Container) -> Container:
    return replace(container, readiness_probe=None, liveness_probe=None, startup_probe=None)
