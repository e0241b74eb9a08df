"""Workloads (bare Pods and Deployments) built from a :class:`PodTemplate`, and the Services and
NetworkPolicies built from a workload, so selectors and ports always come from the pods they
serve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ._labels import Labels
from ._pod import PodTemplate, Port

# pulumi-kubernetes waits for Pods and Deployments to become ready; an experiment that breaks
# a workload on purpose must not hold `pulumi up` for the whole await timeout.
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
# For a bare Pod, skipAwait would also skip waiting for its deletion, so replacing it (same
# fixed name) would race the old pod's termination: "object is being deleted". Awaiting only
# the pod's scheduling keeps `pulumi up` short and the deletion awaited.
AWAIT_SCHEDULED_ONLY = {"pulumi.com/waitFor": "condition=PodScheduled"}


@dataclass(frozen=True)
class Workload:
    """A Pod or Deployment, with the labels and template it was built from."""

    name: str
    labels: Labels
    template: PodTemplate
    resource: k8s.core.v1.Pod | k8s.apps.v1.Deployment
    replicas: int = 1
    """How many pods of the template it runs (a Pod: one)."""


def _fixed_name_options(
    opts: pulumi.ResourceOptions, *, replace_on_annotations: bool = False
) -> pulumi.ResourceOptions:
    # A fixed metadata.name cannot exist twice: replacement must delete the old object first.
    own = pulumi.ResourceOptions(
        delete_before_replace=True,
        replace_on_changes=["metadata.annotations"] if replace_on_annotations else None,
    )
    return pulumi.ResourceOptions.merge(opts, own)


def pod(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    labels: Labels,
    template: PodTemplate,
    service_account_name: pulumi.Input[str] | None = None,
    expect_ready: bool = True,
    opts: pulumi.ResourceOptions,
) -> Workload:
    """A bare Pod, as the lab uses for the classic patterns.

    A Pod cannot be rolled in place: a change of its mounted files (the checksum annotation)
    replaces it. A pod not ``expect_ready`` is awaited until it is scheduled only.
    """
    annotations = {**template.metadata_annotations(), **({} if expect_ready else AWAIT_SCHEDULED_ONLY)}
    resource = k8s.core.v1.Pod(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels.all, annotations=annotations),
        spec=template.spec_args(service_account_name),
        opts=_fixed_name_options(opts, replace_on_annotations=True),
    )
    return Workload(name, labels, template, resource)


def deployment(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    labels: Labels,
    template: PodTemplate,
    service_account_name: pulumi.Input[str] | None = None,
    replicas: int = 1,
    expect_ready: bool = True,
    opts: pulumi.ResourceOptions,
) -> Workload:
    """A Deployment; a change of the template's annotations (file checksums) rolls its pods."""
    resource = k8s.apps.v1.Deployment(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels=labels.all,
            annotations=None if expect_ready else SKIP_AWAIT,
        ),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels.selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels.all, annotations=template.metadata_annotations()),
                spec=template.spec_args(service_account_name),
            ),
        ),
        opts=_fixed_name_options(opts),
    )
    return Workload(name, labels, template, resource, replicas)


def service(
    resource_name: str,
    *,
    name: str,
    namespace: pulumi.Input[str],
    workload: Workload,
    ports: Sequence[tuple[Port, int]],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Service:
    """A ClusterIP Service for ``workload``: its selector and target ports come from the workload.

    Each entry of ``ports`` is a container port of the workload and the port the Service
    exposes it on. The Service is created beside its workload, not after it: a client that waits
    for it by name (the lab's init-wait-db waits for `db`) finds it from the start, and its
    endpoints follow the pods. pulumi-kubernetes' own Service await, a fixed settling wait of
    about ten seconds per Service, is skipped: `pulumi up` still ends only once every awaited
    workload is ready, so the Service has its endpoints by then.
    """
    for port, _ in ports:
        _own_port(workload, port)
    service_ports = [
        k8s.core.v1.ServicePortArgs(
            name=port.name,
            port=service_port,
            protocol=port.protocol,
            # Named target ports are resolved on regular containers only; a native sidecar's
            # port is targeted by number.
            target_port=port.number if workload.template.runs_as_sidecar(port) else port.name,
        )
        for port, service_port in ports
    ]
    return k8s.core.v1.Service(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=namespace,
            labels=workload.labels.all,
            annotations=SKIP_AWAIT,
        ),
        spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=workload.labels.selector, ports=service_ports),
        opts=_fixed_name_options(opts),
    )


DNS_PORTS = [
    k8s.networking.v1.NetworkPolicyPortArgs(port=53, protocol="UDP"),
    k8s.networking.v1.NetworkPolicyPortArgs(port=53, protocol="TCP"),
]


def _own_port(workload: Workload, port: Port) -> Port:
    if port not in workload.template.ports:
        raise ValueError(f"port '{port.name}' is not a container port of workload '{workload.name}'")
    return port


def _policy_ports(*ports: Port) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
    return [k8s.networking.v1.NetworkPolicyPortArgs(port=port.number, protocol=port.protocol) for port in ports]


def network_policy(
    resource_name: str,
    *,
    namespace: pulumi.Input[str],
    workload: Workload,
    public: Sequence[Port] = (),
    clients: Sequence[tuple[Workload, Port]] = (),
    dependencies: Sequence[tuple[Workload, Port]] = (),
    dns: bool = False,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """Every flow ``workload``'s pods may have, and no other: ``public`` ports of its own that any
    client may reach (through its Service, or a port-forward), its own ports that ``clients``
    reach, the ``dependencies`` it reaches, and DNS. Selectors and ports come from the workloads,
    so a renamed label or port cannot leave a stale rule."""
    ingress = []
    if public:
        ingress.append(
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                ports=_policy_ports(*(_own_port(workload, p) for p in public))
            )
        )
    for client, port in clients:
        ingress.append(
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                from_=[k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_selector(client))],
                ports=_policy_ports(_own_port(workload, port)),
            )
        )
    egress = [
        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=[k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_selector(dependency))],
            ports=_policy_ports(_own_port(dependency, port)),
        )
        for dependency, port in dependencies
    ]
    if dns:
        # To whatever serves the cluster's DNS: a CoreDNS pod, a node-local cache, or a host.
        egress.append(k8s.networking.v1.NetworkPolicyEgressRuleArgs(ports=DNS_PORTS))
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=workload.name, namespace=namespace, labels=workload.labels.all),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=_selector(workload),
            policy_types=["Ingress", "Egress"],
            ingress=ingress or None,
            egress=egress or None,
        ),
        opts=_fixed_name_options(opts),
    )


def default_deny(
    resource_name: str, *, namespace: pulumi.Input[str], labels: dict[str, str], opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """No traffic to or from any pod of the namespace that another policy does not allow."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=namespace, labels=labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
        ),
        opts=_fixed_name_options(opts),
    )


def _selector(workload: Workload) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=workload.labels.selector)
