"""One learner's lab of a classroom, in a namespace of its own, with a ServiceAccount that may do
the lab there and nothing elsewhere, a quota the size of the lab, and a kubeconfig."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from . import _naming as naming
from ._defaults import Resources
from ._lab import LabArgs, MultiContainerLab
from ._labels import object_labels
from ._workloads import Workload

LEARNER_PLACEHOLDER = "{learner}"
DEFAULT_NAMESPACE_TEMPLATE = "multi-container-{learner}"
ACCOUNT_NAME = "learner"
ROLE_NAME = "lab-learner"
QUOTA_NAME = "lab"

# What the lab's commands and experiments do, and nothing more: read pods, their logs and events;
# exec into and port-forward to them; delete one to start it afresh (a Deployment's comes back);
# read the Deployments and ReplicaSets `kubectl exec deployment/...` and
# `kubectl describe` resolve. No Secrets, no writes to workloads, nothing cluster-wide.
LEARNER_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (("",), ("pods",), ("get", "list", "watch", "delete")),
    (("",), ("pods/log",), ("get",)),
    (("",), ("pods/exec", "pods/portforward"), ("create",)),
    (("",), ("events",), ("get", "list", "watch")),
    (("events.k8s.io",), ("events",), ("get", "list", "watch")),
    (("apps",), ("deployments", "replicasets"), ("get", "list", "watch")),
)


@dataclass(frozen=True, kw_only=True)
class LearnerLabArgs:
    lab: LabArgs
    """The lab every learner gets; its namespace and instance become the learner's."""
    learner: str
    """The learner's name (a DNS-1123 label)."""
    namespace_template: str = DEFAULT_NAMESPACE_TEMPLATE
    """The learner's namespace: ``{learner}`` is replaced by the learner's name."""
    server: str
    """The API server's URL as learners reach it (their kubeconfig's cluster server)."""

    def __post_init__(self) -> None:
        learner_namespaces([self.learner], self.namespace_template)
        if not self.server.startswith("https://"):
            raise naming.SettingError("server", self.server, "the API server's https:// URL")

    @property
    def namespace(self) -> str:
        return learner_namespaces([self.learner], self.namespace_template)[self.learner]


def learner_namespaces(learners: Sequence[str], template: str) -> dict[str, str]:
    """Each learner's namespace; raises SettingError for a bad template, name or duplicate."""
    if template.count(LEARNER_PLACEHOLDER) != 1 or template.replace(LEARNER_PLACEHOLDER, "").count("{"):
        raise naming.SettingError("learnerNamespace", template, "a name with {learner} once, e.g. lab-{learner}")
    if not learners:
        raise naming.SettingError("learners", list(learners), "at least one learner name")
    namespaces: dict[str, str] = {}
    for learner in learners:
        naming.dns1123_label("learners", learner)
        if learner in namespaces:
            raise naming.SettingError("learners", list(learners), f"each learner once ({learner} is there twice)")
        namespace = template.replace(LEARNER_PLACEHOLDER, learner)
        try:
            naming.dns1123_label("learnerNamespace", namespace)
        except naming.SettingError:
            raise naming.SettingError(
                "learnerNamespace",
                template,
                f"a template whose namespace for each learner is a DNS-1123 label of at most 63 characters "
                f"('{learner}' makes '{namespace}')",
            ) from None
        namespaces[learner] = namespace
    return namespaces


def quota_for(workloads: Sequence[Workload]) -> dict[str, str]:
    """A ResourceQuota's hard limits that hold the lab's workloads and a rolling update of each
    Deployment (one surge pod, the default 25% of a single replica), and no more."""
    pods = 0
    totals = dict.fromkeys(Resources().amounts(), Decimal(0))
    for workload in workloads:
        count = workload.replicas + (1 if isinstance(workload.resource, k8s.apps.v1.Deployment) else 0)
        pods += count
        for key, amount in workload.template.effective_resources().items():
            totals[key] += amount * count
    hard = {"pods": str(pods)}
    for key, amount in totals.items():
        hard[key] = f"{int(amount * 1000)}m" if key.endswith("cpu") else _bytes(amount)
    return hard


def _bytes(amount: Decimal) -> str:
    mebibytes = amount / 2**20
    return f"{int(mebibytes)}Mi" if mebibytes == int(mebibytes) else str(int(amount))


def kubeconfig(*, server: str, ca_crt: str, token: str, namespace: str, learner: str) -> str:
    """A kubeconfig for one learner: their token, their namespace as the context's default."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "classroom", "cluster": {"server": server, "certificate-authority-data": ca_crt}}],
        "users": [{"name": learner, "user": {"token": token}}],
        "contexts": [{"name": learner, "context": {"cluster": "classroom", "user": learner, "namespace": namespace}}],
        "current-context": learner,
    }
    return yaml.safe_dump(config, sort_keys=False)


class LearnerLab(pulumi.ComponentResource):
    """One learner's lab: a :class:`MultiContainerLab` in the learner's namespace, with an account
    that may do the lab there and nothing elsewhere, a quota the size of the lab, and a kubeconfig.
    A classroom is one stack of these per learner (the `classroom` package drives them)."""

    lab: MultiContainerLab
    namespace: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: LearnerLabArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:LearnerLab", name, None, opts)
        self.lab = MultiContainerLab(
            args.learner,
            # Destroyed all at once: one deletion of the learner's namespace takes everything.
            replace(args.lab, namespace=args.namespace, instance=args.learner, workloads_deleted_with_namespace=True),
            pulumi.ResourceOptions(parent=self),
        )
        self.namespace = self.lab.namespace
        self.kubeconfig = pulumi.Output.secret(self._learner_access(args.learner, self.lab, args))
        self.register_outputs({"namespace": self.namespace, "kubeconfig": self.kubeconfig})

    def _learner_access(self, learner: str, lab: MultiContainerLab, args: LearnerLabArgs) -> pulumi.Output[str]:
        """The learner's account, its rights and quota in the lab's namespace, and its kubeconfig."""
        namespace = lab.namespace
        labels = object_labels("classroom", learner)
        # Deleted with the learner's namespace, like the lab's own objects.
        opts = pulumi.ResourceOptions(parent=self, deleted_with=lab.namespace_resource)

        def metadata(object_name: str, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=namespace, labels=labels, **extra)

        account = k8s.core.v1.ServiceAccount(
            f"{learner}-account", metadata=metadata(ACCOUNT_NAME), automount_service_account_token=False, opts=opts
        )
        role = k8s.rbac.v1.Role(
            f"{learner}-role",
            metadata=metadata(ROLE_NAME),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=list(groups), resources=list(resources), verbs=list(verbs))
                for groups, resources, verbs in LEARNER_RULES
            ],
            opts=opts,
        )
        k8s.rbac.v1.RoleBinding(
            f"{learner}-role-binding",
            metadata=metadata(ROLE_NAME),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name
            ),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=namespace)],
            opts=opts,
        )
        k8s.core.v1.ResourceQuota(
            f"{learner}-quota",
            metadata=metadata(QUOTA_NAME),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota_for(list(lab._workload_objects.values()))),
            opts=opts,
        )
        resources = args.lab.resources
        k8s.core.v1.LimitRange(
            f"{learner}-limits",
            metadata=metadata(QUOTA_NAME),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
                        default_request={"cpu": resources.cpu_request, "memory": resources.memory_request},
                        max={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
                    )
                ]
            ),
            opts=opts,
        )
        # A long-lived token for the account, filled in by the cluster's token controller; the
        # provider waits until it is there.
        token = k8s.core.v1.Secret(
            f"{learner}-token",
            metadata=metadata(
                f"{ACCOUNT_NAME}-token",
                annotations={
                    "kubernetes.io/service-account.name": account.metadata.name,
                    "pulumi.com/waitFor": "jsonpath={.data.token}",
                },
            ),
            type="kubernetes.io/service-account-token",
            opts=opts,
        )
        return pulumi.Output.all(token.data, namespace).apply(
            lambda values: kubeconfig(
                server=args.server,
                ca_crt=_data(values[0], "ca.crt"),
                token=base64.b64decode(_data(values[0], "token")).decode(),
                namespace=str(values[1]),
                learner=learner,
            )
        )


def _data(data: Mapping[str, str] | None, key: str) -> str:
    if not data or key not in data:
        raise ValueError(f"the learner's token Secret has no {key} yet")
    return data[key]
