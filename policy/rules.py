"""The checks of the policy pack, as plain functions of plain data.

Every resource check takes ``(resource_type, props, config, name=...)`` and returns the
violation messages (an empty list when the resource complies):

* ``resource_type`` is the Pulumi type token, e.g. ``kubernetes:apps/v1:Deployment``;
* ``props`` are the resource's inputs as the engine sends them to a policy pack: camelCase keys,
  secrets already unwrapped, and :data:`UNKNOWN` wherever a value is not known yet (during a
  preview, values computed from resources that do not exist yet);
* ``config`` is the policy's configuration (missing keys take the defaults of :data:`DEFAULTS`);
* ``name`` is the Pulumi resource name, used in messages next to the Kubernetes name.

The stack checks (:data:`STACK_RULES`) see every resource of the stack at once, with the
property dependencies the engine records for each input: what no single resource shows, such
as where a TLS Secret's data came from or which NetworkPolicies select a workload's pods.

Nothing here imports Pulumi: ``pack.py`` adapts these functions to ``pulumi_policy`` and the
tests call them directly with the inputs the program registers under mocks.

Unknown values are never reported: a value that is unknown during a preview is known at
``pulumi up``, where the same checks run again and block the update.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value the engine does not know yet (only during a preview)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

RESOURCE_REQUIREMENTS = "container-resources"
IMAGE_PINNED = "image-pinned"
NO_PRIVILEGED = "no-privileged-containers"
NO_HOST_NAMESPACES = "no-host-namespaces"
NO_HOST_PATH = "no-host-path-volumes"
NO_PRIVILEGE_ESCALATION = "no-privilege-escalation"
TLS_SECRET_TYPE = "tls-secret-type"
TLS_SECRET_SOURCES = "tls-secret-data-from-resources"
NATIVE_SIDECAR_VERSION = "native-sidecar-kubernetes-version"
RECOMMENDED_LABELS = "recommended-labels"
NAMESPACE_POD_SECURITY = "namespace-pod-security"
NETWORK_POLICY_COVERAGE = "pods-selected-by-network-policies"

MINIMUM_KUBERNETES_VERSION = "minimumKubernetesVersion"
TARGET_KUBERNETES_VERSION = "targetKubernetesVersion"
REQUIRED_LABELS = "requiredLabels"
MINIMUM_LEVEL = "minimumLevel"

# The Pod Security Standards, least strict first, and the namespace label that enforces one.
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POLICY_DIRECTIONS = ("Ingress", "Egress")

# Policy configuration defaults, by policy name. `pulumi preview --policy-pack policy` without a
# config file uses these; `--policy-pack-config <file>` overrides them per policy.
DEFAULTS: dict[str, dict[str, Any]] = {
    NATIVE_SIDECAR_VERSION: {
        # Native sidecars (SidecarContainers) are on by default from Kubernetes 1.29 (beta); 1.28
        # only has them behind a feature gate.
        MINIMUM_KUBERNETES_VERSION: "1.29",
        # The oldest Kubernetes the lab supports (the oldest its end-to-end suite runs). A stack
        # deployed to an older cluster declares its version here; CI declares the version of its
        # kind node (policy/ci-config.json).
        TARGET_KUBERNETES_VERSION: "1.33",
    },
    NAMESPACE_POD_SECURITY: {
        # The lab's pods run under "restricted"; a namespace enforcing less admits pods that
        # break what the lab's components keep (non-root, no capabilities, seccomp).
        MINIMUM_LEVEL: "restricted",
    },
    RECOMMENDED_LABELS: {
        REQUIRED_LABELS: [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/component",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/managed-by",
        ],
    },
}

# Where each workload kind keeps its pod template (the path of the pod spec's parent object).
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
WORKLOAD_GROUPS = ("core", "apps", "batch", "extensions")

TLS_SECRET = "kubernetes.io/tls"
TLS_KEYS = ("tls.crt", "tls.key")
SECRET_TYPE = "kubernetes:core/v1:Secret"


def is_known(value: Any) -> bool:
    return value is not UNKNOWN


def _get(value: Any, *path: str) -> Any:
    """The value at ``path``, None when a part is missing, UNKNOWN when a part is unknown."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _items(value: Any) -> list[Any]:
    """The known elements of a list input (nothing when the list itself is missing or unknown)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, Mapping)]
    return []


# --- Workloads ------------------------------------------------------------------------------


def workload_kind(resource_type: str) -> str | None:
    """The kind of a workload type token (``kubernetes:apps/v1:Deployment`` -> ``Deployment``)."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group = parts[1].split("/")[0]
    kind = parts[2]
    if group in WORKLOAD_GROUPS and kind in POD_TEMPLATE_PATHS:
        return kind
    return None


def pod_template(resource_type: str, props: Mapping[str, Any]) -> Any:
    """The object holding ``metadata`` and ``spec`` of the workload's pods (the Pod itself for a Pod)."""
    kind = workload_kind(resource_type)
    if kind is None:
        return None
    return _get(props, *POD_TEMPLATE_PATHS[kind]) if POD_TEMPLATE_PATHS[kind] else props


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Any:
    return _get(pod_template(resource_type, props), "spec")


def describe(resource_type: str, props: Mapping[str, Any], name: str = "") -> str:
    """``Deployment 'sidecar-proxy' (Pulumi resource 'lab-native-sidecar-deployment')``."""
    kind = resource_type.rsplit(":", 1)[-1]
    metadata_name = _get(props, "metadata", "name")
    if isinstance(metadata_name, str) and metadata_name:
        namespace = _get(props, "metadata", "namespace")
        shown = f"{namespace}/{metadata_name}" if isinstance(namespace, str) and namespace else metadata_name
        return f"{kind} '{shown}'" + (f" (Pulumi resource '{name}')" if name else "")
    return f"{kind} (Pulumi resource '{name}')" if name else kind


@dataclass(frozen=True)
class ContainerRef:
    role: str
    """``container``, ``init container``, ``native sidecar`` or ``ephemeral container``."""
    name: str
    spec: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.role} '{self.name}'"


def containers(spec: Any) -> Iterator[ContainerRef]:
    """Every known container of a pod spec: init containers (native sidecars included) first."""
    if not isinstance(spec, Mapping):
        return
    for key, role in (("initContainers", "init container"), ("containers", "container")):
        for container in _items(spec.get(key)):
            actual = role
            if key == "initContainers" and container.get("restartPolicy") == "Always":
                actual = "native sidecar"
            name = container.get("name")
            yield ContainerRef(actual, name if isinstance(name, str) else "?", container)
    for container in _items(spec.get("ephemeralContainers")):
        name = container.get("name")
        yield ContainerRef("ephemeral container", name if isinstance(name, str) else "?", container)


# --- Resource checks ------------------------------------------------------------------------

Check = Callable[..., list[str]]


def check_container_resources(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Every container, init container and native sidecar has CPU and memory requests and limits."""
    messages = []
    for container in containers(pod_spec(resource_type, props)):
        if container.role == "ephemeral container":
            continue  # Kubernetes forbids resources on ephemeral containers.
        missing = []
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                value = _get(container.spec, "resources", section, resource)
                if value is None or value == "":
                    missing.append(f"resources.{section}.{resource}")
        if missing:
            messages.append(
                f"{describe(resource_type, props, name)}: {container} has no {', '.join(missing)}. "
                "Fix: give it CPU and memory requests and limits (the lab's cpuRequest, memoryRequest, "
                "cpuLimit and memoryLimit settings apply to every container)."
            )
    return messages


_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")


def image_problem(image: Any) -> str | None:
    """Why ``image`` is not pinned to a tag or digest, or None when it is."""
    if not is_known(image):
        return None
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if "@" in image:
        digest = image.split("@", 1)[1]
        return None if _DIGEST.match(digest) else f"has a malformed digest in '{image}'"
    last = image.rsplit("/", 1)[-1]  # a registry port (`host:5000/app`) is not a tag
    if ":" not in last or not last.split(":", 1)[1]:
        return f"uses the untagged image '{image}' (which means ':latest')"
    if last.split(":", 1)[1].lower() == "latest":
        return f"uses the mutable tag 'latest' ('{image}')"
    return None


def check_image_pinned(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Every image names a tag other than ``latest``, or a digest."""
    messages = []
    for container in containers(pod_spec(resource_type, props)):
        problem = image_problem(container.spec.get("image"))
        if problem:
            messages.append(
                f"{describe(resource_type, props, name)}: {container} {problem}. "
                "Fix: pin the image to a version tag (e.g. busybox:1.36) or a digest (image@sha256:...), "
                "through the lab's busyboxImage, nginxImage or dbImage settings."
            )
    return messages


def check_no_privileged(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """No container runs privileged."""
    return [
        f"{describe(resource_type, props, name)}: {container} sets securityContext.privileged: true. "
        "Fix: remove it (or set it to false) and add only the capabilities the image needs."
        for container in containers(pod_spec(resource_type, props))
        if _get(container.spec, "securityContext", "privileged") is True
    ]


def check_no_host_namespaces(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Pods share no namespace with the node: no hostNetwork, hostPID, hostIPC, nor host ports."""
    spec = pod_spec(resource_type, props)
    if not isinstance(spec, Mapping):
        return []
    messages = [
        f"{describe(resource_type, props, name)}: the pod sets {field_name}: true and shares the node's "
        f"namespace. Fix: remove {field_name} from the pod spec."
        for field_name in ("hostNetwork", "hostPID", "hostIPC")
        if spec.get(field_name) is True
    ]
    for container in containers(spec):
        for port in _items(container.spec.get("ports")):
            host_port = port.get("hostPort")
            if is_known(host_port) and host_port not in (None, 0):
                shown = f"{host_port:g}" if isinstance(host_port, int | float) else str(host_port)
                messages.append(
                    f"{describe(resource_type, props, name)}: {container} binds hostPort {shown} on the node. "
                    "Fix: remove hostPort and reach the pod through a Service."
                )
    return messages


def check_no_host_path(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """No pod mounts a directory of the node."""
    spec = pod_spec(resource_type, props)
    if not isinstance(spec, Mapping):
        return []
    messages = []
    for volume in _items(spec.get("volumes")):
        if volume.get("hostPath") is not None:
            path = _get(volume, "hostPath", "path")
            where = f" ({path})" if isinstance(path, str) else ""
            messages.append(
                f"{describe(resource_type, props, name)}: volume '{volume.get('name')}' is a hostPath{where}. "
                "Fix: use an emptyDir, ConfigMap, Secret or PersistentVolumeClaim volume instead."
            )
    return messages


def check_no_privilege_escalation(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Every container sets ``allowPrivilegeEscalation: false`` explicitly.

    Kubernetes allows privilege escalation when the field is unset, so unset is reported too
    (as the Pod Security Standards' ``restricted`` profile does).
    """
    messages = []
    for container in containers(pod_spec(resource_type, props)):
        value = _get(container.spec, "securityContext", "allowPrivilegeEscalation")
        if value is False or not is_known(value):
            continue
        state = "sets allowPrivilegeEscalation: true" if value is True else "does not set allowPrivilegeEscalation"
        messages.append(
            f"{describe(resource_type, props, name)}: {container} {state}, so its processes may gain more "
            "privileges than they started with. Fix: set securityContext.allowPrivilegeEscalation: false."
        )
    return messages


def _secret_keys(props: Mapping[str, Any]) -> tuple[set[str], bool]:
    """The keys of a Secret's data and stringData, and whether all of them are known."""
    keys: set[str] = set()
    complete = True
    for section in ("data", "stringData"):
        value = props.get(section)
        if value is None:
            continue
        if isinstance(value, Mapping):
            keys.update(value)
        else:
            complete = False
    return keys, complete


def is_tls_secret(resource_type: str, props: Mapping[str, Any]) -> bool:
    if resource_type != SECRET_TYPE:
        return False
    keys, _ = _secret_keys(props)
    return props.get("type") == TLS_SECRET or any(key in keys for key in TLS_KEYS)


def check_tls_secret_type(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """A Secret holding tls.crt or tls.key is of type kubernetes.io/tls and holds both."""
    if not is_tls_secret(resource_type, props):
        return []
    secret_type = props.get("type")
    keys, complete = _secret_keys(props)
    messages = []
    if is_known(secret_type) and secret_type != TLS_SECRET:
        messages.append(
            f"{describe(resource_type, props, name)} holds {', '.join(k for k in TLS_KEYS if k in keys)} but is of "
            f"type '{secret_type or 'Opaque'}'. Fix: set type: kubernetes.io/tls, so Kubernetes validates the "
            "pair and Ingresses and tools recognise it."
        )
    missing = [key for key in TLS_KEYS if key not in keys]
    if complete and missing:
        messages.append(
            f"{describe(resource_type, props, name)} is a TLS Secret without {' and '.join(missing)}. "
            "Fix: put the certificate chain in tls.crt and the private key in tls.key."
        )
    return messages


def _version(value: Any) -> tuple[int, int] | None:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?", str(value).strip())
    return (int(match[1]), int(match[2])) if match else None


def check_native_sidecar_version(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Native sidecars (init containers with restartPolicy: Always) only on a cluster that runs them.

    ``targetKubernetesVersion`` is the Kubernetes version the stack deploys to and
    ``minimumKubernetesVersion`` the first version that runs native sidecars.
    """
    settings = {**DEFAULTS[NATIVE_SIDECAR_VERSION], **(config or {})}
    sidecars = [c for c in containers(pod_spec(resource_type, props)) if c.role == "native sidecar"]
    if not sidecars:
        return []
    parsed = {key: _version(settings.get(key)) for key in (MINIMUM_KUBERNETES_VERSION, TARGET_KUBERNETES_VERSION)}
    for key, version in parsed.items():
        if version is None:
            return [
                f"{describe(resource_type, props, name)} runs a native sidecar, but the policy config "
                f"{key} '{settings.get(key)}' is not a Kubernetes version. Fix: set {key} to a version "
                "such as 1.29 in the policy pack config."
            ]
    target = parsed[TARGET_KUBERNETES_VERSION] or (0, 0)
    minimum = parsed[MINIMUM_KUBERNETES_VERSION] or (0, 0)
    if target >= minimum:
        return []
    shown_target, shown_minimum = "{}.{}".format(*target), "{}.{}".format(*minimum)
    return [
        f"{describe(resource_type, props, name)}: {sidecar} is a native sidecar (an init container with "
        f"restartPolicy: Always), which needs Kubernetes {shown_minimum}+, but the stack targets "
        f"Kubernetes {shown_target}, where it would block the pod's start as a never-ending init container. "
        f"Fix: deploy to Kubernetes {shown_minimum}+ and set the policy config {TARGET_KUBERNETES_VERSION} "
        "to its version, or run this sidecar as a regular container."
        for sidecar in sidecars
    ]


def check_recommended_labels(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Every workload and its pod template carry the app.kubernetes.io/* labels."""
    kind = workload_kind(resource_type)
    if kind is None:
        return []
    settings = {**DEFAULTS[RECOMMENDED_LABELS], **(config or {})}
    required = list(settings[REQUIRED_LABELS])
    places = [("its metadata", props)]
    if kind != "Pod":
        places.append(("its pod template", pod_template(resource_type, props)))
    messages = []
    for where, holder in places:
        labels = _get(holder, "metadata", "labels")
        if not is_known(labels) or not is_known(holder):
            continue
        labels = labels if isinstance(labels, Mapping) else {}
        missing = [key for key in required if is_known(labels.get(key)) and not labels.get(key)]
        if missing:
            messages.append(
                f"{describe(resource_type, props, name)}: {where} lacks the label(s) {', '.join(missing)}. "
                "Fix: build the labels with multicontainer_patterns._labels.Labels (Labels.all), which sets every "
                "app.kubernetes.io/* label the lab requires."
            )
    return messages


def _pod_security_problem(level: Any, minimum: str) -> str | None:
    """What is wrong with a namespace's enforce label value, or None."""
    if not level:
        return (
            f"has no label {POD_SECURITY_ENFORCE_LABEL}, so the API server admits any pod in it, "
            "privileged ones included"
        )
    if level not in POD_SECURITY_LEVELS:
        return (
            f"has {POD_SECURITY_ENFORCE_LABEL} '{level}', not a Pod Security level "
            f"({', '.join(POD_SECURITY_LEVELS)}), so the API server rejects the namespace"
        )
    if POD_SECURITY_LEVELS.index(level) < POD_SECURITY_LEVELS.index(minimum):
        return f"enforces the Pod Security Standard '{level}', less strict than '{minimum}'"
    return None


def check_namespace_pod_security(
    resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None, *, name: str = ""
) -> list[str]:
    """Every Namespace enforces a Pod Security Standard at least as strict as ``minimumLevel``."""
    if resource_type != NAMESPACE_TYPE:
        return []
    minimum = {**DEFAULTS[NAMESPACE_POD_SECURITY], **(config or {})}[MINIMUM_LEVEL]
    if minimum not in POD_SECURITY_LEVELS:
        return [
            f"{describe(resource_type, props, name)}: the policy config {MINIMUM_LEVEL} '{minimum}' is not a Pod "
            f"Security level. Fix: set it to one of {', '.join(POD_SECURITY_LEVELS)} in the policy pack config."
        ]
    labels = _get(props, "metadata", "labels")
    level = labels.get(POD_SECURITY_ENFORCE_LABEL) if isinstance(labels, Mapping) else labels
    if not is_known(level):
        return []
    problem = _pod_security_problem(level, minimum)
    if problem is None:
        return []
    return [
        f"{describe(resource_type, props, name)} {problem}. Fix: label the namespace "
        f"{POD_SECURITY_ENFORCE_LABEL}={minimum} (the lab's podSecurity setting, 'restricted' by default), "
        f"or lower {MINIMUM_LEVEL} in the policy pack config for this stack."
    ]


# --- Stack checks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StackResource:
    """One resource as a stack check sees it."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Top-level input name -> URNs of the resources its value came from."""


def check_tls_secret_sources(
    resources: Sequence[StackResource], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """The tls.crt and tls.key of a TLS Secret come from other resources, never from literals.

    The engine unwraps secrets before policies see them, and values of resources that already
    exist are known in a preview, so a value alone cannot tell a literal from a resource output.
    What can: the property dependencies the engine records for each input. A Secret's ``data``
    or ``stringData`` holding TLS keys must depend on at least one resource (a tls.PrivateKey and
    tls.SelfSignedCert, cert-manager, ...). Returns ``(urn, message)`` pairs.

    A stack policy judges each resource's final state: after an update, the API server has moved
    ``stringData`` into ``data``, while the dependencies are those the program gave its inputs. So a
    dependency of either input vouches for the keys in either.
    """
    violations = []
    for resource in resources:
        if not is_tls_secret(resource.type, resource.props):
            continue
        holding = [
            section
            for section in ("data", "stringData")
            if resource.props.get(section) is not None
            and not (
                isinstance(resource.props[section], Mapping) and not any(k in resource.props[section] for k in TLS_KEYS)
            )
        ]
        if not holding or any(resource.property_dependencies.get(section) for section in ("data", "stringData")):
            continue
        violations.append(
            (
                resource.urn,
                f"{describe(resource.type, resource.props, resource.name)}: {' and '.join(holding)} "
                f"{'holds' if len(holding) == 1 else 'hold'} the TLS certificate and key as literal values (they come "
                "from no resource). Fix: take them from resources, e.g. tls.SelfSignedCert.cert_pem and "
                "tls.PrivateKey.private_key_pem, never from strings or files in the program.",
            )
        )
    return violations


def selects(selector: Any, labels: Mapping[str, Any]) -> bool | None:
    """Whether a LabelSelector selects objects with ``labels``; None when that is not known yet.

    An empty selector selects everything (as a NetworkPolicy's ``podSelector: {}`` does).
    """
    if not is_known(selector):
        return None
    if not isinstance(selector, Mapping):
        selector = {}
    unknown = False
    match_labels = selector.get("matchLabels")
    if not is_known(match_labels):
        unknown = True
    elif isinstance(match_labels, Mapping):
        for key, value in match_labels.items():
            if not is_known(value) or not is_known(labels.get(key)):
                unknown = True
            elif labels.get(key) != value:
                return False
    expressions = selector.get("matchExpressions")
    if not is_known(expressions):
        unknown = True
    for expression in _items(expressions):
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values")
        if not all(is_known(part) for part in (key, operator, values, labels.get(key))):
            unknown = True
            continue
        present = key in labels
        listed = present and isinstance(values, Sequence) and labels[key] in values
        matched = {"In": listed, "NotIn": not listed, "Exists": present, "DoesNotExist": not present}.get(operator)
        if matched is None:
            unknown = True  # an operator the API server rejects: the object never exists
        elif not matched:
            return False
    return None if unknown else True


def policy_directions(props: Mapping[str, Any]) -> set[str] | None:
    """The directions a NetworkPolicy isolates its pods in (``policyTypes``, or its default:
    Ingress, plus Egress when it has egress rules); None when that is not known yet."""
    spec = _get(props, "spec")
    if not is_known(spec):
        return None
    types = _get(spec, "policyTypes")
    if not is_known(types):
        return None
    if isinstance(types, Sequence) and not isinstance(types, str) and types:
        return {t for t in types if isinstance(t, str)} if all(is_known(t) for t in types) else None
    egress = _get(spec, "egress")
    if not is_known(egress):
        return None
    return {"Ingress", "Egress"} if egress else {"Ingress"}


def check_network_policy_coverage(
    resources: Sequence[StackResource], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Every workload's pods are selected by a NetworkPolicy of the stack for ingress and for egress.

    A pod no NetworkPolicy selects in a direction is open in it: anything in the cluster reaches
    it, or it reaches anything. With the lab's default-deny policy (``podSelector: {}``, both
    directions) every pod of its namespace is covered, and the lab's other policies open the
    flows it needs. Returns ``(urn, message)`` pairs.
    """
    policies = [r for r in resources if r.type == NETWORK_POLICY_TYPE]
    violations = []
    for resource in resources:
        template = pod_template(resource.type, resource.props)
        if template is None:
            continue
        namespace = _get(resource.props, "metadata", "namespace")
        labels = _get(template, "metadata", "labels")
        if not is_known(namespace) or not is_known(labels):
            continue
        labels = labels if isinstance(labels, Mapping) else {}
        covered: set[str] = set()
        for policy in policies:
            policy_namespace = _get(policy.props, "metadata", "namespace")
            if is_known(policy_namespace) and policy_namespace != namespace:
                continue
            if selects(_get(policy.props, "spec", "podSelector"), labels) is False:
                continue
            directions = policy_directions(policy.props)
            covered.update(POLICY_DIRECTIONS if directions is None else directions)
        missing = [direction for direction in POLICY_DIRECTIONS if direction not in covered]
        if not missing:
            continue
        shown_labels = ", ".join(f"{key}={value}" for key, value in sorted(labels.items())) or "none"
        violations.append(
            (
                resource.urn,
                f"{describe(resource.type, resource.props, resource.name)}: no NetworkPolicy of the stack selects "
                f"its pods for {' and '.join(missing)}, so {_OPEN[tuple(missing)]}. Fix: keep the lab's "
                "networkPolicies setting true (its default-deny policy selects every pod of the namespace), or "
                f"add a NetworkPolicy in namespace '{namespace}' whose podSelector matches the pods' labels "
                f"({shown_labels}) with policyTypes {', '.join(missing)}.",
            )
        )
    return violations


_OPEN = {
    ("Ingress",): "any pod of the cluster reaches them",
    ("Egress",): "they reach any address",
    ("Ingress", "Egress"): "any pod of the cluster reaches them and they reach any address",
}


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    remediation: str


RULES: list[Rule] = [
    Rule(
        RESOURCE_REQUIREMENTS,
        "Every container (init containers and native sidecars included) has CPU and memory requests and limits.",
        check_container_resources,
        "Set resources.requests and resources.limits for cpu and memory on every container.",
    ),
    Rule(
        IMAGE_PINNED,
        "Every container image is pinned to a tag other than 'latest' or to a digest.",
        check_image_pinned,
        "Use image:tag (not latest) or image@sha256:digest.",
    ),
    Rule(
        NO_PRIVILEGED,
        "No container runs privileged.",
        check_no_privileged,
        "Remove securityContext.privileged; add only the capabilities the image needs.",
    ),
    Rule(
        NO_HOST_NAMESPACES,
        "No pod uses the node's network, PID or IPC namespace, nor binds host ports.",
        check_no_host_namespaces,
        "Remove hostNetwork, hostPID, hostIPC and hostPort.",
    ),
    Rule(
        NO_HOST_PATH,
        "No pod mounts a hostPath volume.",
        check_no_host_path,
        "Use emptyDir, ConfigMap, Secret or PersistentVolumeClaim volumes.",
    ),
    Rule(
        NO_PRIVILEGE_ESCALATION,
        "Every container sets securityContext.allowPrivilegeEscalation: false (unset allows escalation).",
        check_no_privilege_escalation,
        "Set securityContext.allowPrivilegeEscalation: false on every container.",
    ),
    Rule(
        TLS_SECRET_TYPE,
        "A Secret holding tls.crt or tls.key is of type kubernetes.io/tls and holds both.",
        check_tls_secret_type,
        "Set type: kubernetes.io/tls with tls.crt and tls.key.",
    ),
    Rule(
        NATIVE_SIDECAR_VERSION,
        "Native sidecars (init containers with restartPolicy: Always) only where the stack targets a "
        "Kubernetes version that runs them (1.29+ by default).",
        check_native_sidecar_version,
        "Deploy to a cluster that runs native sidecars and declare its version in targetKubernetesVersion.",
    ),
    Rule(
        RECOMMENDED_LABELS,
        "Every workload and its pod template carry the app.kubernetes.io/* labels.",
        check_recommended_labels,
        "Label workloads and pod templates with app.kubernetes.io/name, instance, component, part-of, managed-by.",
    ),
    Rule(
        NAMESPACE_POD_SECURITY,
        "Every namespace enforces a Pod Security Standard at least as strict as minimumLevel (restricted by "
        "default) with its pod-security.kubernetes.io/enforce label.",
        check_namespace_pod_security,
        "Label the namespace pod-security.kubernetes.io/enforce=restricted (the lab's podSecurity setting).",
    ),
]

StackCheck = Callable[[Sequence[StackResource], Mapping[str, Any] | None], list[tuple[str, str]]]


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck
    remediation: str


STACK_RULES: list[StackRule] = [
    StackRule(
        TLS_SECRET_SOURCES,
        "The tls.crt and tls.key of a TLS Secret come from other resources (e.g. pulumi-tls), never from literals.",
        check_tls_secret_sources,
        "Build the Secret's data from resource outputs (pulumi-tls, cert-manager).",
    ),
    StackRule(
        NETWORK_POLICY_COVERAGE,
        "Every workload's pods are selected by a NetworkPolicy of the stack for ingress and for egress.",
        check_network_policy_coverage,
        "Keep the lab's default-deny NetworkPolicy (networkPolicies: true), or add policies that select the pods.",
    ),
]


def check_all(
    resource_type: str,
    props: Mapping[str, Any],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    name: str = "",
) -> dict[str, list[str]]:
    """Every resource check's violations, by policy name (only policies with violations)."""
    results = {}
    for rule in RULES:
        messages = rule.check(resource_type, props, (config or {}).get(rule.name), name=name)
        if messages:
            results[rule.name] = messages
    return results


def check_stack(
    resources: Sequence[StackResource], config: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """Every stack check's violations, by policy name (only policies with violations)."""
    results = {}
    for rule in STACK_RULES:
        violations = rule.check(resources, (config or {}).get(rule.name))
        if violations:
            results[rule.name] = violations
    return results
