"""The policy pack (policy/): every policy passes the program's real resources and reports a
copy of one of them with one field broken, with a message naming the resource and the fix.

The resources are what the program registers under mocks (tests/harness.py); each violating
case is a deep copy of one of them with a single change. The last tests drive the pack's
pulumi_policy adapter the way the engine does, with gRPC requests, unknowns and secrets.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, unknown_checking_proxy

from multicontainer_patterns._labels import Labels
from policy import pack, rules
from tests import harness

POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = rules.NAMESPACE_TYPE
NETWORK_POLICY = rules.NETWORK_POLICY_TYPE
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class Run:
    """A program run with the property dependencies the engine would hand a stack policy."""

    def __init__(self, config: dict[str, str] | None = None) -> None:
        self.program = harness.run_program(config)
        self.dependencies = {r.urn: r.property_dependencies for r in self.program.resources}

    def resource(self, type_token: str, k8s_name: str | None = None) -> harness.Registered:
        return self.program.one(type_token, k8s_name)

    def props(self, type_token: str, k8s_name: str | None = None) -> dict[str, Any]:
        """A deep copy of the inputs of one resource, free to break."""
        return copy.deepcopy(self.resource(type_token, k8s_name).inputs)

    def stack(self, **replaced_props: dict[str, Any]) -> list[rules.StackResource]:
        """Every resource as a stack policy sees it; ``replaced_props`` by Pulumi name."""
        return [
            rules.StackResource(
                type=r.type,
                name=r.name,
                urn=r.urn,
                props=replaced_props.get(r.name, r.inputs),
                property_dependencies=self.dependencies.get(r.urn, {}),
            )
            for r in self.program.resources
        ]


@pytest.fixture(scope="module")
def run() -> Run:
    return Run()


def pod_spec(type_token: str, props: dict[str, Any]) -> dict[str, Any]:
    return props["spec"] if type_token == POD else props["spec"]["template"]["spec"]


def container(props: dict[str, Any], type_token: str, name: str) -> dict[str, Any]:
    spec = pod_spec(type_token, props)
    return next(c for c in [*(spec.get("initContainers") or []), *spec["containers"]] if c["name"] == name)


def only(messages: list[str]) -> str:
    assert len(messages) == 1, messages
    return messages[0]


# --- The program as shipped -------------------------------------------------------------------

CONFIGS = [
    {},
    {"nativeSidecar": "false"},
    {"failingInit": "true"},
    {"tlsAlgorithm": "RSA"},
    {"patterns": '["ambassador", "native-sidecar"]'},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: json.dumps(c) if c else "defaults")
def test_the_program_passes_every_policy(config: dict[str, str]) -> None:
    run = Run(config)
    checked = {r.type for r in run.program.resources}
    assert {POD, DEPLOYMENT}.issubset(checked) or config.get("patterns")
    for resource in run.program.resources:
        assert rules.check_all(resource.type, resource.inputs, name=resource.name) == {}, resource.name
    assert rules.check_stack(run.stack()) == {}


def test_every_workload_is_checked(run: Run) -> None:
    workloads = [r for r in run.program.resources if rules.workload_kind(r.type)]
    assert {r.inputs["metadata"]["name"] for r in workloads} == set(run.program.exports["workloads"].values())
    # Every container of them, native sidecar and init containers included.
    roles = {
        (c.role, c.name)
        for r in workloads
        for c in rules.containers(rules.pod_spec(r.type, r.inputs))
        if r.inputs["metadata"]["name"] in ("sidecar-proxy", "init-demo")
    }
    assert roles == {
        ("native sidecar", "proxy"),
        ("container", "app"),
        ("init container", "init-config"),
        ("init container", "init-wait-db"),
    }


# --- container-resources ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        (DEPLOYMENT, "sidecar-proxy", "proxy", "limits", "memory", "native sidecar"),
        (POD, "init-demo", "init-config", "requests", "cpu", "init container"),
        (POD, "sidecar-logging", "log-shipper", "limits", "cpu", "container"),
    ],
)
def test_container_resources(run: Run, case: tuple[str, str, str, str, str, str]) -> None:
    type_token, k8s_name, container_name, section, resource, role = case
    props = run.props(type_token, k8s_name)
    assert rules.check_container_resources(type_token, props) == []
    del container(props, type_token, container_name)["resources"][section][resource]
    message = only(rules.check_container_resources(type_token, props, name="res"))
    assert f"{role} '{container_name}' has no resources.{section}.{resource}" in message
    assert f"'multi-container-demo/{k8s_name}' (Pulumi resource 'res')" in message
    assert "Fix: give it CPU and memory requests and limits" in message


def test_container_resources_reports_every_missing_value(run: Run) -> None:
    props = run.props(POD, "ambassador-proxy")
    del container(props, POD, "proxy")["resources"]
    message = only(rules.check_container_resources(POD, props))
    assert "resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory" in message


# --- image-pinned -----------------------------------------------------------------------------

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("nginx:latest", "uses the mutable tag 'latest' ('nginx:latest')"),
        ("nginx", "uses the untagged image 'nginx' (which means ':latest')"),
        ("registry.local:5000/nginx", "uses the untagged image 'registry.local:5000/nginx'"),
        ("nginx@sha256:abc", "has a malformed digest"),
        ("", "has no image"),
    ],
)
def test_image_pinned_violations(run: Run, image: str, problem: str) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    assert rules.check_image_pinned(DEPLOYMENT, props) == []
    container(props, DEPLOYMENT, "proxy")["image"] = image
    message = only(rules.check_image_pinned(DEPLOYMENT, props))
    assert f"native sidecar 'proxy' {problem}" in message
    assert "Fix: pin the image to a version tag" in message


@pytest.mark.parametrize(
    "image", ["nginx@" + DIGEST, "nginx:1.25.3-alpine@" + DIGEST, "registry.local:5000/nginx:1.25", "busybox:1.36"]
)
def test_image_pinned_accepts_tags_and_digests(run: Run, image: str) -> None:
    props = run.props(POD, "sidecar-logging")
    container(props, POD, "app")["image"] = image
    assert rules.check_image_pinned(POD, props) == []


def test_image_pinned_checks_init_containers(run: Run) -> None:
    props = run.props(POD, "init-demo")
    container(props, POD, "init-wait-db")["image"] = "busybox"
    assert "init container 'init-wait-db' uses the untagged image 'busybox'" in only(
        rules.check_image_pinned(POD, props)
    )


# --- no-privileged-containers -----------------------------------------------------------------


def test_no_privileged(run: Run) -> None:
    props = run.props(POD, "ambassador-proxy")
    assert rules.check_no_privileged(POD, props) == []
    container(props, POD, "proxy")["securityContext"]["privileged"] = True
    message = only(rules.check_no_privileged(POD, props, name="lab-ambassador-pod"))
    assert message.startswith(
        "Pod 'multi-container-demo/ambassador-proxy' (Pulumi resource 'lab-ambassador-pod'): "
        "container 'proxy' sets securityContext.privileged: true. Fix:"
    )


# --- no-host-namespaces -----------------------------------------------------------------------


@pytest.mark.parametrize("field_name", ["hostNetwork", "hostPID", "hostIPC"])
def test_no_host_namespaces(run: Run, field_name: str) -> None:
    props = run.props(DEPLOYMENT, "db")
    assert rules.check_no_host_namespaces(DEPLOYMENT, props) == []
    props["spec"]["template"]["spec"][field_name] = True
    message = only(rules.check_no_host_namespaces(DEPLOYMENT, props))
    assert f"the pod sets {field_name}: true and shares the node's namespace. Fix: remove {field_name}" in message


def test_no_host_namespaces_false_is_fine(run: Run) -> None:
    props = run.props(POD, "adapter-format")
    props["spec"].update(hostNetwork=False, hostPID=False, hostIPC=False)
    assert rules.check_no_host_namespaces(POD, props) == []


def test_no_host_ports(run: Run) -> None:
    props = run.props(DEPLOYMENT, "db")
    container(props, DEPLOYMENT, "redis")["ports"][0]["hostPort"] = 6379.0
    assert "container 'redis' binds hostPort 6379 on the node" in only(
        rules.check_no_host_namespaces(DEPLOYMENT, props)
    )


# --- no-host-path-volumes ---------------------------------------------------------------------


def test_no_host_path(run: Run) -> None:
    props = run.props(POD, "sidecar-logging")
    assert rules.check_no_host_path(POD, props) == []
    props["spec"]["volumes"].append({"name": "node-logs", "hostPath": {"path": "/var/log"}})
    message = only(rules.check_no_host_path(POD, props))
    assert "volume 'node-logs' is a hostPath (/var/log). Fix: use an emptyDir" in message


# --- no-privilege-escalation ------------------------------------------------------------------


def test_no_privilege_escalation_true(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    assert rules.check_no_privilege_escalation(DEPLOYMENT, props) == []
    container(props, DEPLOYMENT, "app")["securityContext"]["allowPrivilegeEscalation"] = True
    message = only(rules.check_no_privilege_escalation(DEPLOYMENT, props))
    assert "container 'app' sets allowPrivilegeEscalation: true" in message
    assert "Fix: set securityContext.allowPrivilegeEscalation: false." in message


def test_no_privilege_escalation_unset_is_reported(run: Run) -> None:
    """Kubernetes allows escalation when the field is unset, so unset is a violation too."""
    props = run.props(POD, "init-demo")
    del container(props, POD, "init-config")["securityContext"]["allowPrivilegeEscalation"]
    assert "init container 'init-config' does not set allowPrivilegeEscalation" in only(
        rules.check_no_privilege_escalation(POD, props)
    )


# --- tls-secret-type --------------------------------------------------------------------------


def test_tls_secret_type(run: Run) -> None:
    props = run.props(SECRET)
    assert props["type"] == "kubernetes.io/tls"
    assert rules.check_tls_secret_type(SECRET, props) == []
    props["type"] = "Opaque"
    message = only(rules.check_tls_secret_type(SECRET, props, name="lab-ambassador-tls-secret"))
    assert message.startswith(
        "Secret (Pulumi resource 'lab-ambassador-tls-secret') holds tls.crt, tls.key but is of type 'Opaque'. "
        "Fix: set type: kubernetes.io/tls"
    )


def test_tls_secret_type_unset_type(run: Run) -> None:
    props = run.props(SECRET)
    del props["type"]
    assert "but is of type 'Opaque'" in only(rules.check_tls_secret_type(SECRET, props))


def test_tls_secret_needs_both_keys(run: Run) -> None:
    props = run.props(SECRET)
    del props["stringData"]["tls.key"]
    assert "is a TLS Secret without tls.key" in only(rules.check_tls_secret_type(SECRET, props))


def test_other_secrets_are_not_tls_secrets(run: Run) -> None:
    props = run.props(SECRET)
    props.update(type="Opaque", stringData={"password": "x"})
    assert rules.check_tls_secret_type(SECRET, props) == []


# --- tls-secret-data-from-resources (stack policy) --------------------------------------------


def test_tls_secret_data_comes_from_the_tls_resources(run: Run) -> None:
    secret = run.resource(SECRET)
    sources = {urn.rsplit("::", 1)[1] for urn in run.dependencies[secret.urn]["stringData"]}
    assert sources == {"lab-ambassador-tls-key", "lab-ambassador-tls-cert"}
    assert rules.check_tls_secret_sources(run.stack()) == []


def test_tls_secret_after_the_update(run: Run) -> None:
    """What a stack policy sees after `pulumi up`: the Secret's outputs, where the API server has
    turned stringData into data, with the dependencies the program gave stringData."""
    secret = run.resource(SECRET)
    props = run.props(SECRET)
    props["data"] = {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
    del props["stringData"]
    dependencies = {"stringData": run.dependencies[secret.urn]["stringData"], "data": []}
    stack = [r for r in run.stack() if r.urn != secret.urn]
    stack.append(rules.StackResource(secret.type, secret.name, secret.urn, props, dependencies))
    assert rules.check_tls_secret_sources(stack) == []


def test_tls_secret_literal_data(run: Run) -> None:
    """The same Secret, with its PEMs written into the program: no property dependency."""
    secret = run.resource(SECRET)
    props = run.props(SECRET)
    stack = [
        r if r.urn != secret.urn else rules.StackResource(r.type, r.name, r.urn, props, {"stringData": []})
        for r in run.stack()
    ]
    ((urn, message),) = rules.check_tls_secret_sources(stack)
    assert urn == secret.urn
    assert message.startswith(
        "Secret (Pulumi resource 'lab-ambassador-tls-secret'): stringData holds the TLS certificate and key as "
        "literal values (they come from no resource). Fix: take them from resources"
    )


def test_tls_secret_literal_base64_data(run: Run) -> None:
    secret = run.resource(SECRET)
    props = run.props(SECRET)
    props["data"] = {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
    del props["stringData"]
    stack = [r for r in run.stack() if r.urn != secret.urn]
    stack.append(rules.StackResource(secret.type, secret.name, secret.urn, props, {}))
    ((_, message),) = rules.check_tls_secret_sources(stack)
    assert "data holds the TLS certificate and key as literal values" in message


# --- namespace-pod-security -------------------------------------------------------------------


@pytest.mark.parametrize("level", ["baseline", "privileged"])
def test_namespace_pod_security_below_restricted(level: str) -> None:
    """The program allows a laxer podSecurity setting; the pack does not, by default."""
    namespace = Run({"podSecurity": level}).resource(NAMESPACE)
    message = only(rules.check_namespace_pod_security(NAMESPACE, namespace.inputs, name=namespace.name))
    assert message.startswith(
        "Namespace 'multi-container-demo' (Pulumi resource 'lab-namespace') enforces the Pod Security Standard "
        f"'{level}', less strict than 'restricted'. Fix: label the namespace "
        "pod-security.kubernetes.io/enforce=restricted (the lab's podSecurity setting"
    )
    assert rules.check_namespace_pod_security(NAMESPACE, namespace.inputs, {"minimumLevel": level}) == []


def test_namespace_without_the_enforce_label(run: Run) -> None:
    props = run.props(NAMESPACE)
    del props["metadata"]["labels"][rules.POD_SECURITY_ENFORCE_LABEL]
    assert "has no label pod-security.kubernetes.io/enforce, so the API server admits any pod in it" in only(
        rules.check_namespace_pod_security(NAMESPACE, props)
    )
    del props["metadata"]["labels"]
    assert "has no label" in only(rules.check_namespace_pod_security(NAMESPACE, props))


def test_namespace_with_a_level_that_does_not_exist(run: Run) -> None:
    props = run.props(NAMESPACE)
    props["metadata"]["labels"][rules.POD_SECURITY_ENFORCE_LABEL] = "strict"
    assert "has pod-security.kubernetes.io/enforce 'strict', not a Pod Security level" in only(
        rules.check_namespace_pod_security(NAMESPACE, props)
    )


def test_namespace_pod_security_bad_minimum_config(run: Run) -> None:
    message = only(rules.check_namespace_pod_security(NAMESPACE, run.props(NAMESPACE), {"minimumLevel": "strict"}))
    assert "the policy config minimumLevel 'strict' is not a Pod Security level" in message


def test_namespace_pod_security_unknown_labels_and_other_kinds(run: Run) -> None:
    props = run.props(NAMESPACE)
    props["metadata"]["labels"][rules.POD_SECURITY_ENFORCE_LABEL] = rules.UNKNOWN
    assert rules.check_namespace_pod_security(NAMESPACE, props) == []
    props["metadata"]["labels"] = rules.UNKNOWN
    assert rules.check_namespace_pod_security(NAMESPACE, props) == []
    assert rules.check_namespace_pod_security(POD, run.props(POD, "init-demo")) == []


# --- pods-selected-by-network-policies (stack policy) -----------------------------------------


def _workloads(run: Run) -> dict[str, str]:
    """URN -> Kubernetes name of every workload the program registers."""
    return {r.urn: r.inputs["metadata"]["name"] for r in run.program.resources if rules.workload_kind(r.type)}


def test_without_network_policies_no_workload_is_covered() -> None:
    """The program allows networkPolicies: false (clusters without an engine); the pack does not."""
    run = Run({"networkPolicies": "false"})
    violations = rules.check_network_policy_coverage(run.stack())
    assert [urn for urn, _ in violations] == list(_workloads(run))
    messages = dict(violations)
    init_demo = next(urn for urn, name in _workloads(run).items() if name == "init-demo")
    assert messages[init_demo].startswith(
        "Pod 'multi-container-demo/init-demo' (Pulumi resource 'lab-init-containers-pod'): no NetworkPolicy of the "
        "stack selects its pods for Ingress and Egress, so any pod of the cluster reaches them and they reach any "
        "address. Fix: keep the lab's networkPolicies setting true"
    )
    assert "app.kubernetes.io/component=init-containers" in messages[init_demo]


def test_the_default_deny_policy_alone_covers_every_pod(run: Run) -> None:
    stack = [r for r in run.stack() if r.type != NETWORK_POLICY or r.name == "lab-default-deny"]
    assert rules.check_network_policy_coverage(stack) == []


def test_without_the_default_deny_policy_the_pods_without_flows_are_open(run: Run) -> None:
    """Pods that talk to nobody (the sidecar and adapter pods) have no policy of their own, so
    only the default-deny policy selects them."""
    stack = [r for r in run.stack() if r.name != "lab-default-deny"]
    own_policies = {r.props["spec"]["podSelector"]["matchLabels"]["app"] for r in stack if r.type == NETWORK_POLICY}
    open_pods = {_workloads(run)[urn] for urn, _ in rules.check_network_policy_coverage(stack)}
    assert {"adapter-format", "sidecar-logging"} <= open_pods
    assert open_pods == set(_workloads(run).values()) - own_policies


def _policy(namespace: Any, selector: Any, **spec: Any) -> rules.StackResource:
    props = {"metadata": {"name": "p", "namespace": namespace}, "spec": {"podSelector": selector, **spec}}
    return rules.StackResource(NETWORK_POLICY, "p", "urn:p", props)


def _open_directions(run: Run, *policies: rules.StackResource) -> str:
    workload = run.resource(POD, "sidecar-logging")
    stack = [rules.StackResource(workload.type, workload.name, workload.urn, workload.inputs), *policies]
    violations = rules.check_network_policy_coverage(stack)
    return violations[0][1].split("for ", 1)[1].split(",", 1)[0] if violations else ""


def test_network_policy_directions_and_namespaces(run: Run) -> None:
    everything = {}
    assert _open_directions(run, _policy("multi-container-demo", everything, policyTypes=["Ingress", "Egress"])) == ""
    assert _open_directions(run, _policy("other", everything, policyTypes=["Ingress", "Egress"])) == (
        "Ingress and Egress"
    )
    # Without policyTypes a policy isolates Ingress, and Egress only when it has egress rules.
    assert _open_directions(run, _policy("multi-container-demo", everything)) == "Egress"
    assert _open_directions(run, _policy("multi-container-demo", everything, egress=[{}])) == ""
    assert _open_directions(run, _policy("multi-container-demo", everything, policyTypes=["Egress"])) == "Ingress"
    # What is not known yet (a preview) is never reported.
    assert _open_directions(run, _policy(rules.UNKNOWN, rules.UNKNOWN, policyTypes=rules.UNKNOWN)) == ""


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({}, True),
        ({"matchLabels": {"app": "sidecar-logging"}}, True),
        ({"matchLabels": {"app": "other"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["sidecar-logging", "x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["sidecar-logging"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "sidecar-logging"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
        ({"matchLabels": {"app": rules.UNKNOWN}}, None),
        (rules.UNKNOWN, None),
    ],
)
def test_label_selectors(selector: Any, selected: bool | None) -> None:
    labels = {"app": "sidecar-logging", "app.kubernetes.io/component": "sidecar"}
    assert rules.selects(selector, labels) is selected


# --- native-sidecar-kubernetes-version --------------------------------------------------------


def test_native_sidecar_on_a_supported_version(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    assert rules.check_native_sidecar_version(DEPLOYMENT, props) == []
    assert rules.check_native_sidecar_version(DEPLOYMENT, props, {"targetKubernetesVersion": "v1.33.1"}) == []


def test_native_sidecar_on_an_older_target(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    message = only(rules.check_native_sidecar_version(DEPLOYMENT, props, {"targetKubernetesVersion": "1.28"}))
    assert message == (
        "Deployment 'multi-container-demo/sidecar-proxy': native sidecar 'proxy' is a native sidecar (an init "
        "container with restartPolicy: Always), which needs Kubernetes 1.29+, but the stack targets Kubernetes "
        "1.28, where it would block the pod's start as a never-ending init container. Fix: deploy to Kubernetes "
        "1.29+ and set the policy config targetKubernetesVersion to its version, or run this sidecar as a "
        "regular container."
    )


def test_native_sidecar_minimum_is_configurable(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    config = {"minimumKubernetesVersion": "1.33", "targetKubernetesVersion": "1.30"}
    assert "needs Kubernetes 1.33+" in only(rules.check_native_sidecar_version(DEPLOYMENT, props, config))


def test_native_sidecar_bad_version_config(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    message = only(rules.check_native_sidecar_version(DEPLOYMENT, props, {"targetKubernetesVersion": "latest"}))
    assert "policy config targetKubernetesVersion 'latest' is not a Kubernetes version" in message


def test_classic_init_containers_need_no_version() -> None:
    """nativeSidecar=false renders the proxy as a classic init container: nothing to report."""
    props = copy.deepcopy(Run({"nativeSidecar": "false"}).resource(DEPLOYMENT, "sidecar-proxy").inputs)
    assert rules.check_native_sidecar_version(DEPLOYMENT, props, {"targetKubernetesVersion": "1.27"}) == []


# --- recommended-labels -----------------------------------------------------------------------


def test_required_labels_are_the_ones_the_program_sets() -> None:
    required = rules.DEFAULTS[rules.RECOMMENDED_LABELS][rules.REQUIRED_LABELS]
    labels = Labels(name="n", component="c", instance="i").all
    assert set(required) == {key for key in labels if key.startswith("app.kubernetes.io/")}


def test_labels_on_a_pod(run: Run) -> None:
    props = run.props(POD, "sidecar-logging")
    assert rules.check_recommended_labels(POD, props) == []
    del props["metadata"]["labels"]["app.kubernetes.io/part-of"]
    message = only(rules.check_recommended_labels(POD, props))
    assert "Pod 'multi-container-demo/sidecar-logging': its metadata lacks the label(s) app.kubernetes.io/part-of" in (
        message
    )
    assert "Fix: build the labels with multicontainer_patterns._labels.Labels" in message


def test_labels_on_a_pod_template(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    assert rules.check_recommended_labels(DEPLOYMENT, props) == []
    labels = props["spec"]["template"]["metadata"]["labels"]
    del labels["app.kubernetes.io/managed-by"]
    labels["app.kubernetes.io/component"] = ""
    message = only(rules.check_recommended_labels(DEPLOYMENT, props))
    assert "its pod template lacks the label(s) app.kubernetes.io/component, app.kubernetes.io/managed-by" in message


def test_labels_on_a_workload_without_labels(run: Run) -> None:
    props = run.props(DEPLOYMENT, "db")
    del props["metadata"]["labels"]
    assert "its metadata lacks the label(s) app.kubernetes.io/name, app.kubernetes.io/instance" in only(
        rules.check_recommended_labels(DEPLOYMENT, props)
    )


def test_labels_are_configurable(run: Run) -> None:
    props = run.props(POD, "adapter-format")
    config = {"requiredLabels": ["app.kubernetes.io/name", "app.kubernetes.io/version"]}
    assert "lacks the label(s) app.kubernetes.io/version" in only(rules.check_recommended_labels(POD, props, config))


def test_labels_are_not_required_on_other_objects(run: Run) -> None:
    props = run.props(SECRET)
    del props["metadata"]["labels"]
    assert rules.check_recommended_labels(SECRET, props) == []


# --- Other workload kinds ---------------------------------------------------------------------


def _other_workloads(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    metadata = {"name": "other", "labels": dict(template["metadata"]["labels"])}
    for type_token in (
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:apps/v1:DaemonSet",
        "kubernetes:apps/v1:ReplicaSet",
        "kubernetes:batch/v1:Job",
    ):
        yield type_token, {"metadata": metadata, "spec": {"template": copy.deepcopy(template)}}
    yield (
        "kubernetes:batch/v1:CronJob",
        {
            "metadata": metadata,
            "spec": {"jobTemplate": {"spec": {"template": copy.deepcopy(template)}}},
        },
    )


def test_other_workload_kinds(run: Run) -> None:
    template = run.props(DEPLOYMENT, "sidecar-proxy")["spec"]["template"]
    for type_token, props in _other_workloads(template):
        assert rules.check_all(type_token, props) == {}, type_token
        spec = rules.pod_spec(type_token, props)
        spec["hostPID"] = True
        spec["initContainers"][0]["image"] = "nginx:latest"
        assert set(rules.check_all(type_token, props)) == {rules.NO_HOST_NAMESPACES, rules.IMAGE_PINNED}, type_token


def test_patches_and_other_types_are_ignored(run: Run) -> None:
    props = run.props(POD, "sidecar-logging")
    props["spec"]["hostNetwork"] = True
    assert rules.check_all("kubernetes:core/v1:PodPatch", props) == {}
    assert rules.check_all("multicontainer:patterns:Sidecar", props) == {}


# --- Unknown values (preview) -----------------------------------------------------------------


def test_unknown_values_are_not_reported(run: Run) -> None:
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    proxy = container(props, DEPLOYMENT, "proxy")
    proxy["image"] = rules.UNKNOWN
    proxy["resources"]["limits"]["memory"] = rules.UNKNOWN
    proxy["securityContext"]["allowPrivilegeEscalation"] = rules.UNKNOWN
    props["spec"]["template"]["metadata"]["labels"] = rules.UNKNOWN
    assert rules.check_all(DEPLOYMENT, props) == {}
    props["spec"]["template"]["spec"]["containers"] = rules.UNKNOWN
    assert rules.check_all(DEPLOYMENT, props) == {}


# --- The pulumi_policy adapter, driven as the engine drives it ---------------------------------


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


@pytest.fixture
def analyzer() -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(pack.PACK_NAME, "0.0.1", pack.POLICIES, EnforcementLevel.MANDATORY)


def _analyze(analyzer: _PolicyAnalyzerServicer, resource: harness.Registered, props: dict[str, Any]) -> list[Any]:
    request = proto.AnalyzeRequest(type=resource.type, properties=_struct(props), urn=resource.urn, name=resource.name)
    return list(analyzer.Analyze(request, None).diagnostics)


def test_pack_names_every_policy() -> None:
    names = [policy.name for policy in pack.POLICIES]
    assert names == [rule.name for rule in rules.RULES] + [rule.name for rule in rules.STACK_RULES]
    assert len(set(names)) == len(names)


def test_pack_passes_the_program(run: Run, analyzer: _PolicyAnalyzerServicer) -> None:
    for resource in run.program.resources:
        assert _analyze(analyzer, resource, resource.inputs) == [], resource.name


def test_pack_reports_with_unknowns_and_secrets(run: Run, analyzer: _PolicyAnalyzerServicer) -> None:
    """Unknown parts are skipped, known parts still judged, secrets read as their values."""
    resource = run.resource(DEPLOYMENT, "sidecar-proxy")
    props = run.props(DEPLOYMENT, "sidecar-proxy")
    spec = props["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = UNKNOWN_STRING_VALUE
    spec["containers"][0]["args"] = UNKNOWN_ARRAY_VALUE
    spec["initContainers"][0]["image"] = {SECRET_SIG_KEY: SECRET_SIG, "value": "nginx:latest"}
    spec["initContainers"][0]["securityContext"]["privileged"] = True
    diagnostics = _analyze(analyzer, resource, props)
    assert {(d.policyName, d.enforcementLevel) for d in diagnostics} == {
        (rules.IMAGE_PINNED, proto.MANDATORY),
        (rules.NO_PRIVILEGED, proto.MANDATORY),
    }
    assert all("native sidecar 'proxy'" in d.message for d in diagnostics)
    assert not any("can't run policy" in d.message for d in diagnostics)


def test_pack_passes_policy_config(run: Run, analyzer: _PolicyAnalyzerServicer) -> None:
    analyzer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={
                rules.NATIVE_SIDECAR_VERSION: proto.PolicyConfig(
                    enforcementLevel=proto.MANDATORY, properties=_struct({"targetKubernetesVersion": "1.28"})
                )
            }
        ),
        None,
    )
    resource = run.resource(DEPLOYMENT, "sidecar-proxy")
    (diagnostic,) = _analyze(analyzer, resource, resource.inputs)
    assert diagnostic.policyName == rules.NATIVE_SIDECAR_VERSION
    assert "but the stack targets Kubernetes 1.28" in diagnostic.message


def _stack_request(run: Run, literal_secret: bool) -> Any:
    resources = []
    for r in run.program.resources:
        dependencies = dict(run.dependencies.get(r.urn, {}))
        if literal_secret and r.type == SECRET:
            dependencies["stringData"] = []
        resources.append(
            proto.AnalyzerResource(
                type=r.type,
                urn=r.urn,
                name=r.name,
                properties=_struct(r.inputs),
                propertyDependencies={
                    key: proto.AnalyzerPropertyDependencies(urns=urns) for key, urns in dependencies.items()
                },
            )
        )
    return proto.AnalyzeStackRequest(resources=resources)


def test_pack_stack_policy(run: Run, analyzer: _PolicyAnalyzerServicer) -> None:
    assert list(analyzer.AnalyzeStack(_stack_request(run, literal_secret=False), None).diagnostics) == []
    (diagnostic,) = analyzer.AnalyzeStack(_stack_request(run, literal_secret=True), None).diagnostics
    assert diagnostic.policyName == rules.TLS_SECRET_SOURCES
    assert diagnostic.urn == run.resource(SECRET).urn
    assert "stringData holds the TLS certificate and key as literal values" in diagnostic.message


def test_pack_blocks_a_laxer_pod_security_level(analyzer: _PolicyAnalyzerServicer) -> None:
    namespace = Run({"podSecurity": "baseline"}).resource(NAMESPACE)
    (diagnostic,) = _analyze(analyzer, namespace, namespace.inputs)
    assert (diagnostic.policyName, diagnostic.enforcementLevel) == (rules.NAMESPACE_POD_SECURITY, proto.MANDATORY)


def test_pack_stack_policy_for_network_policies(analyzer: _PolicyAnalyzerServicer) -> None:
    run = Run({"networkPolicies": "false"})
    diagnostics = analyzer.AnalyzeStack(_stack_request(run, literal_secret=False), None).diagnostics
    assert {(d.policyName, d.urn) for d in diagnostics} == {(rules.NETWORK_POLICY_COVERAGE, u) for u in _workloads(run)}


@pytest.mark.parametrize(("level", "reported"), [("ADVISORY", True), ("DISABLED", False)])
def test_a_cluster_without_a_network_policy_engine_turns_the_coverage_policy_down(
    analyzer: _PolicyAnalyzerServicer, level: str, reported: bool
) -> None:
    """policy/README.md: with `networkPolicies=false`, `enforcementLevel` advisory reports the
    uncovered pods without failing the preview, and disabled stops the policy."""
    enforcement = getattr(proto, level)
    analyzer.Configure(
        proto.ConfigureAnalyzerRequest(
            policyConfig={rules.NETWORK_POLICY_COVERAGE: proto.PolicyConfig(enforcementLevel=enforcement)}
        ),
        None,
    )
    run = Run({"networkPolicies": "false"})
    diagnostics = analyzer.AnalyzeStack(_stack_request(run, literal_secret=False), None).diagnostics
    assert {(d.policyName, d.enforcementLevel) for d in diagnostics} == (
        {(rules.NETWORK_POLICY_COVERAGE, enforcement)} if reported else set()
    )


def test_to_plain_reads_through_the_unknown_checking_proxy() -> None:
    proxied = unknown_checking_proxy({"a": [{"b": UNKNOWN_STRING_VALUE}, "c"], "d": {"e": 1}})
    assert pack.to_plain(proxied) == {"a": [{"b": rules.UNKNOWN}, "c"], "d": {"e": 1}}


def test_the_pack_serves_as_a_plugin() -> None:
    """``policy/__main__.py`` started the way the Python analyzer starts it: a gRPC server whose
    port is the first line of its output, its modules imported from the pack's directory."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(harness.ROOT / "policy")],
        cwd=harness.ROOT / "tests",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
            assert info.name == pack.PACK_NAME
            assert [policy.name for policy in info.policies] == [policy.name for policy in pack.POLICIES]
            props = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
            request = proto.AnalyzeRequest(type=POD, properties=_struct(props), urn="urn:x", name="x")
            diagnostics = stub.Analyze(request, timeout=30).diagnostics
            assert {d.policyName for d in diagnostics} == {
                rules.RESOURCE_REQUIREMENTS,
                rules.IMAGE_PINNED,
                rules.NO_PRIVILEGE_ESCALATION,
                rules.RECOMMENDED_LABELS,
            }
    finally:
        process.terminate()
        process.wait(timeout=10)
