"""The whole lab: the namespace and every pattern, composed into one component."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import _naming as naming
from ._defaults import BUSYBOX_IMAGE, DB_IMAGE, NGINX_IMAGE, Resources
from ._labels import object_labels
from ._registry import PATTERNS, REGISTRY
from ._tls import TlsSettings
from ._workloads import Workload, default_deny

POD_SECURITY_LEVELS = ("restricted", "baseline", "privileged")
# The Pod Security Standards as Kubernetes 1.33, the oldest release the lab is tested on, defines
# them: a newer API server judges the namespace by the same rules.
POD_SECURITY_VERSION = "v1.33"


def pod_security_labels(level: str) -> dict[str, str]:
    """The namespace labels that make the API server enforce ``level``, and audit and warn on it."""
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = POD_SECURITY_VERSION
    return labels


@dataclass(frozen=True, kw_only=True)
class LabArgs:
    """Arguments of `MultiContainerLab`: its namespace, which patterns, their images and settings.
    The lab's stack settings (`Pulumi.yaml`) build these."""

    namespace: str = "multi-container-demo"
    """The namespace the lab creates; every other object lives in it."""
    patterns: Sequence[str] = PATTERNS
    """Which patterns to deploy."""
    busybox_image: str = BUSYBOX_IMAGE
    """Image of the script containers (sidecar, adapter, init containers)."""
    nginx_image: str = NGINX_IMAGE
    """Image of the web apps and proxies (ambassador, native sidecar)."""
    db_image: str = DB_IMAGE
    """Image of the init-containers pattern's database (a Redis-protocol server)."""
    tls: TlsSettings = field(default_factory=TlsSettings)
    """How the ambassador's key and certificate are made."""
    resources: Resources = field(default_factory=Resources)
    """Requests and limits of every container."""
    native_sidecar: bool = True
    """False turns the native sidecar into a classic init container (the lab's experiment)."""
    failing_init: bool = False
    """True adds a failing init container to init-demo (the lab's experiment)."""
    instance: str = "lab"
    """`app.kubernetes.io/instance` of every object."""
    service_account_name: str = "multi-container-lab"
    """The ServiceAccount the lab makes for its pods to run under (no token mounted)."""
    pod_security: str = "restricted"
    """The Pod Security Standard the API server enforces in the namespace."""
    network_policies: bool = True
    """Deny all traffic in the namespace but the flows the lab needs (NetworkPolicies)."""
    workloads_deleted_with_namespace: bool = False
    """Destroy the workloads with the namespace instead of before it (`PatternArgs`)."""

    def __post_init__(self) -> None:
        naming.dns1123_label("namespace", self.namespace)
        naming.one_of("podSecurity", self.pod_security, POD_SECURITY_LEVELS)
        naming.dns1123_label("instance", self.instance)
        naming.dns1123_subdomain("service_account_name", self.service_account_name)
        if not self.patterns:
            raise naming.SettingError("patterns", list(self.patterns), "at least one of " + ", ".join(PATTERNS))
        for pattern in self.patterns:
            naming.one_of("patterns", pattern, PATTERNS)
        if len(set(self.patterns)) != len(self.patterns):
            raise naming.SettingError("patterns", list(self.patterns), "each pattern at most once")


class MultiContainerLab(pulumi.ComponentResource):
    """The namespace and the enabled patterns of the Multi-Container Patterns lab."""

    namespace_resource: k8s.core.v1.Namespace
    """The lab's Namespace (for `depends_on` or `deleted_with` of objects you add to it)."""
    namespace: pulumi.Output[str]
    """Name of the namespace."""
    workloads: pulumi.Output[dict[str, str]]
    """Each enabled pattern's workload name, keyed by its setting (`sidecar`, ...).

    A pattern's other workloads are keyed `<setting>-<role>` (`init-containers-db`)."""
    kubectl_commands: pulumi.Output[dict[str, list[str]]]
    """The lab's commands of each enabled pattern, keyed by its setting."""
    pattern_exports: dict[str, pulumi.Output[Any]]
    """Outputs of the patterns' own for the stack to export (`ambassador_cert_expiry`, ...)."""
    experiments: list[str]
    """What `pulumi up` should tell the user about the experiments the settings turn on."""

    def __init__(self, name: str, args: LabArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:Lab", name, None, opts)
        self.namespace_resource = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                labels={**object_labels("lab", args.instance), **pod_security_labels(args.pod_security)},
            ),
            # A fixed name cannot exist twice.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        # Every namespaced object takes the namespace from this output, so each depends on it:
        # created after it and deleted before it.
        namespace = self.namespace_resource.metadata.name
        child = pulumi.ResourceOptions(parent=self)
        # The lab owns its namespace: what goes at once with it is deleted with it (PatternArgs).
        # The pods' own account: created with the namespace's objects, before any pod that names
        # it, where the namespace's `default` account is made by a controller whenever it gets to it.
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.service_account_name, namespace=namespace, labels=object_labels("lab", args.instance)
            ),
            automount_service_account_token=False,
            # A fixed name cannot exist twice.
            opts=pulumi.ResourceOptions(parent=self, deleted_with=self.namespace_resource, delete_before_replace=True),
        )
        common = {
            "namespace": namespace,
            "owned_namespace": self.namespace_resource,
            "service_account": service_account,
            "network_policies": args.network_policies,
            "resources": args.resources,
            "instance": args.instance,
            "workloads_deleted_with_namespace": args.workloads_deleted_with_namespace,
        }
        if args.network_policies:
            default_deny(
                f"{name}-default-deny",
                namespace=namespace,
                labels=object_labels("lab", args.instance),
                opts=pulumi.ResourceOptions(parent=self, deleted_with=self.namespace_resource),
            )
        enabled = set(args.patterns)
        # The enabled patterns' workloads, keyed as the workloads output keys them.
        self._workload_objects: dict[str, Workload] = {}
        commands: dict[str, pulumi.Output[list[str]]] = {}
        exports: dict[str, pulumi.Output[Any]] = {}
        self.experiments: list[str] = []
        for pattern in (p for p in REGISTRY if p.setting in enabled):
            component = pattern.component(f"{name}-{pattern.setting}", pattern.args(args, common), child)
            self._workload_objects.update(pattern.keyed_workloads(component))
            commands[pattern.setting] = component.kubectl_commands
            exports.update(pattern.exports(component))
            self.experiments += [
                e.warning.format(namespace=args.namespace) for e in pattern.experiments if e.active(args)
            ]

        self.namespace = namespace
        names = {key: workload.resource.metadata.name for key, workload in self._workload_objects.items()}
        self.workloads = pulumi.Output.all(**names).apply(dict)
        self.kubectl_commands = pulumi.Output.all(**commands).apply(dict)
        # Outputs of the patterns' own, for the stack to export (the ambassador's certificate facts).
        self.pattern_exports = exports
        self.register_outputs(
            {"namespace": self.namespace, "workloads": self.workloads, "kubectl_commands": self.kubectl_commands}
        )
