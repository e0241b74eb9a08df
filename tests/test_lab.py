"""The whole program under mocks: what `pulumi up` would send, and how it is wired together."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions

from multicontainer_patterns import PATTERNS
from tests import k8s
from tests.harness import ProgramRun, run_program

# The workloads of the lab's text, by their names there.
LAB_WORKLOADS = {
    "sidecar-logging": "kubernetes:core/v1:Pod",
    "adapter-format": "kubernetes:core/v1:Pod",
    "ambassador-proxy": "kubernetes:core/v1:Pod",
    "init-demo": "kubernetes:core/v1:Pod",
    "sidecar-proxy": "kubernetes:apps/v1:Deployment",
    "db": "kubernetes:apps/v1:Deployment",
}
# Kubernetes 1.29 turned native sidecars on by default; check every schema from there on.
SCHEMA_VERSIONS = sorted(
    {v for v in all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 29)},
    key=lambda v: tuple(map(int, v.split("."))),
)


def test_every_workload_of_the_lab_exists_with_its_lab_name(lab: ProgramRun) -> None:
    found = {k8s.name_of(r): r.type for r in lab.resources if r.type in k8s.WORKLOAD_TYPES}
    assert LAB_WORKLOADS.items() <= found.items()
    # Every workload, of the lab's patterns or of any other registered one, is in the outputs.
    assert set(found) == set(lab.exports["workloads"].values())


def test_the_namespace_is_the_labs_and_every_other_object_lives_in_it(lab: ProgramRun) -> None:
    namespace = lab.one("kubernetes:core/v1:Namespace")
    assert k8s.name_of(namespace) == "multi-container-demo"
    namespaced = [r for r in lab.kubernetes_objects() if r.type != "kubernetes:core/v1:Namespace"]
    assert len(namespaced) >= 15
    for resource in namespaced:
        assert resource.inputs["metadata"]["namespace"] == "multi-container-demo", resource.name
        # Taking the namespace from the Namespace's output makes each object depend on it.
        assert namespace.urn in resource.dependencies, resource.name


def test_destroy_deletes_the_workloads_then_the_namespace_and_nothing_else_one_by_one(lab: ProgramRun) -> None:
    namespace = lab.one("kubernetes:core/v1:Namespace")
    deleted_one_by_one = {r.urn for r in lab.resources if r.custom and not lab.deleted_with(r)}
    workloads = {r.urn for r in lab.resources if r.type in k8s.WORKLOAD_TYPES}
    providers = {r.urn for r in lab.resources if r.type.startswith("pulumi:providers:")}
    assert workloads
    assert deleted_one_by_one == {namespace.urn} | workloads | providers
    for resource in lab.resources:
        assert lab.deleted_with(resource) in ("", namespace.urn), resource.name


def test_a_configured_namespace_is_used_everywhere() -> None:
    run = run_program({"namespace": "patterns-test"})
    for resource in run.kubernetes_objects():
        metadata = resource.inputs["metadata"]
        assert "patterns-test" in (metadata.get("namespace"), metadata.get("name")), resource.name
    assert all("-n patterns-test" in c for cmds in run.exports["kubectl_commands"].values() for c in cmds)


def test_every_resource_is_a_child_of_a_component_of_the_lab(lab: ProgramRun) -> None:
    components = {r.urn: r for r in lab.resources if not r.custom}
    # The lab, and one component per registered pattern, named after its setting.
    assert {r.name for r in components.values()} == {"lab"} | {f"lab-{pattern}" for pattern in PATTERNS}
    assert all(r.type.startswith("multicontainer:patterns:") for r in components.values())
    for resource in lab.resources:
        if resource.type in ("multicontainer:patterns:Lab", "pulumi:providers:kubernetes"):
            continue
        assert resource.parent in components, f"{resource.type} {resource.name} is not parented to a component"
    lab_urn = lab.one("multicontainer:patterns:Lab").urn
    for component in components.values():
        if component.type != "multicontainer:patterns:Lab":
            assert component.parent == lab_urn


def test_every_kubernetes_object_goes_through_the_explicit_provider(lab: ProgramRun) -> None:
    provider = lab.one("pulumi:providers:kubernetes")
    for resource in lab.kubernetes_objects():
        assert resource.options["provider"].startswith(provider.urn), resource.name


def test_a_kube_context_setting_reaches_the_provider() -> None:
    assert "context" not in run_program().one("pulumi:providers:kubernetes").inputs
    provider = run_program({"kubeContext": "kind-lab"}).one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-lab"


def test_the_provider_applies_client_side_so_previews_of_pod_replacements_work(lab: ProgramRun) -> None:
    # Checked for real by the end-to-end suite: a preview that replaces a bare Pod.
    assert lab.one("pulumi:providers:kubernetes").inputs["enableServerSideApply"] == "false"


def test_objects_with_fixed_names_are_deleted_before_they_are_replaced(lab: ProgramRun) -> None:
    for resource in lab.kubernetes_objects():
        fixed = "name" in resource.inputs["metadata"] and resource.type not in (
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:core/v1:Secret",
        )
        assert resource.options["delete_before_replace"] == fixed, resource.name


def test_configmaps_and_secrets_are_auto_named_so_a_change_rolls_their_pods(lab: ProgramRun) -> None:
    for type_token in ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"):
        for resource in lab.of_type(type_token):
            assert "name" not in resource.inputs["metadata"], resource.name


VARIANTS = {
    "defaults": {},
    "experiments": {"nativeSidecar": "false", "failingInit": "true"},
    "rsa": {"tlsAlgorithm": "RSA", "tlsRsaBits": "4096"},
}


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> list[dict[str, object]]:
    objects = list(run_program(VARIANTS[request.param]).kubernetes_objects())
    manifests = [k8s.manifest(r) for r in objects]
    # Each object as the API server gets it, whatever its kind: a pattern may add kinds.
    assert [m["kind"] for m in manifests] == [k8s.group_version_kind(r.type)[2] for r in objects]
    return manifests


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_object_validates_strictly_against_the_kubernetes_schema(
    variant: list[dict[str, object]], version: str
) -> None:
    for manifest in variant:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_strict_validation_refuses_a_field_kubernetes_does_not_know(lab: ProgramRun) -> None:
    pod = copy.deepcopy(k8s.manifest(k8s.workload(lab, "sidecar-logging")))
    pod["spec"]["containers"][0]["restartPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, SCHEMA_VERSIONS[-1], strict=True)


def test_the_schema_versions_checked_run_from_1_29_to_the_newest_the_validator_ships() -> None:
    assert SCHEMA_VERSIONS[0].startswith("1.29.")
    newest = max(all_versions(), key=lambda v: tuple(map(int, v.split("."))))
    assert SCHEMA_VERSIONS[-1] == newest


def test_every_service_selects_exactly_the_pods_of_its_workload_and_targets_a_real_port(lab: ProgramRun) -> None:
    services = lab.of_type("kubernetes:core/v1:Service")
    assert {"ambassador-proxy", "sidecar-proxy", "db"} <= {k8s.name_of(s) for s in services}
    workloads = [r for r in lab.resources if r.type in k8s.WORKLOAD_TYPES]
    for service in services:
        selector = service.inputs["spec"]["selector"]
        selected = [w for w in workloads if selector.items() <= k8s.pod_labels(w).items()]
        assert [k8s.name_of(w) for w in selected] == [k8s.name_of(service)]
        workload = selected[0]
        # Created beside its workload, not after it (clients waiting for the name find it at
        # once); the provider's Service await (a fixed settling wait) is skipped.
        assert workload.urn not in service.dependencies
        assert service.inputs["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
        ports = {
            key: port
            for c in k8s.all_containers(k8s.pod_spec(workload))
            for port in c.get("ports", [])
            for key in (port["name"], port["containerPort"])
        }
        for service_port in service.inputs["spec"]["ports"]:
            assert service_port["targetPort"] in ports, (k8s.name_of(service), service_port)


def test_every_container_has_requests_limits_and_a_locked_down_security_context(lab: ProgramRun) -> None:
    workloads = [r for r in lab.resources if r.type in k8s.WORKLOAD_TYPES]
    assert workloads
    for workload in workloads:
        spec = k8s.pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in k8s.all_containers(spec):
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["privileged"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"]["drop"] == ["ALL"]
            assert ":" in container["image"]
            assert not container["image"].endswith(":latest")


def test_resource_settings_reach_every_container() -> None:
    run = run_program({"cpuRequest": "20m", "memoryRequest": "32Mi", "cpuLimit": "200m", "memoryLimit": "128Mi"})
    for workload in (r for r in run.resources if r.type in k8s.WORKLOAD_TYPES):
        for container in k8s.all_containers(k8s.pod_spec(workload)):
            assert container["resources"] == {
                "requests": {"cpu": "20m", "memory": "32Mi"},
                "limits": {"cpu": "200m", "memory": "128Mi"},
            }


def test_every_workload_and_pod_carries_the_recommended_labels(lab: ProgramRun) -> None:
    keys = {
        "app",
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
    }
    for workload in (r for r in lab.resources if r.type in k8s.WORKLOAD_TYPES):
        assert keys <= workload.inputs["metadata"]["labels"].keys()
        assert keys <= k8s.pod_labels(workload).keys()
        assert k8s.pod_labels(workload)["app"] == k8s.name_of(workload)


def test_multi_container_pods_point_kubectl_at_their_app_container(lab: ProgramRun) -> None:
    multi = [r for r in lab.resources if r.type in k8s.WORKLOAD_TYPES and len(k8s.all_containers(k8s.pod_spec(r))) > 1]
    assert multi
    for workload in multi:
        annotations = k8s.pod_annotations(workload)
        names = [c["name"] for c in k8s.all_containers(k8s.pod_spec(workload))]
        assert annotations["kubectl.kubernetes.io/default-container"] in names, k8s.name_of(workload)
    # In the lab's pods, that is the container named app.
    for workload in (w for w in multi if k8s.name_of(w) in LAB_WORKLOADS):
        assert k8s.pod_annotations(workload)["kubectl.kubernetes.io/default-container"] == "app"


def test_each_pod_using_mounted_files_carries_their_checksum(lab: ProgramRun) -> None:
    with_files = [
        r
        for r in lab.resources
        if r.type in k8s.WORKLOAD_TYPES
        and any("configMap" in v or "secret" in v for v in k8s.pod_spec(r).get("volumes", []))
    ]
    assert with_files
    for workload in with_files:
        checksums = k8s.pod_annotations(workload)["multicontainer.patterns/config-checksum"]
        assert all(len(checksum) == 64 for checksum in checksums.split(",")), k8s.name_of(workload)


def test_bare_pods_are_replaced_when_their_checksums_change(lab: ProgramRun) -> None:
    # A Pod cannot be rolled in place; its annotations changing must replace it.
    for pod in lab.of_type("kubernetes:core/v1:Pod"):
        assert pod.options["replace_on_changes"] == ["metadata.annotations"]


def test_the_stack_exports_names_certificate_facts_and_the_labs_commands(lab: ProgramRun) -> None:
    exports = lab.exports
    assert exports["namespace"] == "multi-container-demo"
    assert {
        "sidecar": "sidecar-logging",
        "adapter": "adapter-format",
        "ambassador": "ambassador-proxy",
        "init-containers": "init-demo",
        "init-containers-db": "db",
        "native-sidecar": "sidecar-proxy",
    }.items() <= exports["workloads"].items()
    assert set(PATTERNS) <= set(exports["workloads"])
    assert set(PATTERNS) == set(exports["kubectl_commands"])
    assert exports["ambassador_cert_expiry"].endswith("Z")
    assert len(exports["ambassador_cert_sha256_fingerprint"].split(":")) == 32
    assert exports["experiments"] == []
    commands = exports["kubectl_commands"]
    # Verbatim from the lab text.
    assert "kubectl logs sidecar-logging -c log-shipper -n multi-container-demo" in commands["sidecar"]
    assert "kubectl logs adapter-format -c adapter -n multi-container-demo | tail -5" in commands["adapter"]
    assert (
        "kubectl exec adapter-format -c app -n multi-container-demo -- tail -5 /var/log/app/metrics.raw"
        in commands["adapter"]
    )
    assert (
        "kubectl exec ambassador-proxy -c app -n multi-container-demo -- wget -qO- --no-check-certificate "
        "https://localhost:8443" in commands["ambassador"]
    )
    assert "kubectl logs init-demo -c init-wait-db -n multi-container-demo" in commands["init-containers"]
    assert (
        "kubectl exec -n multi-container-demo deployment/sidecar-proxy -c app -- wget -qO- http://localhost:8080/health"
        in commands["native-sidecar"]
    )
    assert (
        "kubectl exec -n multi-container-demo -c proxy deployment/sidecar-proxy -- kill 1" in commands["native-sidecar"]
    )


def test_the_private_key_is_never_exported_and_stays_secret(lab: ProgramRun) -> None:
    key = lab.one("tls:index/privateKey:PrivateKey")
    secret = lab.one("kubernetes:core/v1:Secret")
    assert "stringData" in secret.secret_inputs
    private_pem = secret.inputs["stringData"]["tls.key"]
    assert "PRIVATE KEY" in private_pem
    assert all(private_pem not in repr(value) for value in lab.exports.values())
    assert key.type == "tls:index/privateKey:PrivateKey"


def test_selected_patterns_only_deploy_those() -> None:
    run = run_program({"patterns": '["sidecar", "native-sidecar"]'})
    names = {k8s.name_of(r) for r in run.resources if r.type in k8s.WORKLOAD_TYPES}
    assert names == {"sidecar-logging", "sidecar-proxy"}
    assert run.of_type("tls:index/privateKey:PrivateKey") == []
    assert "ambassador_cert_expiry" not in run.exports
    assert set(run.exports["kubectl_commands"]) == {"sidecar", "native-sidecar"}


def test_every_pod_runs_under_the_labs_own_account_made_before_it(lab: ProgramRun) -> None:
    """Not the namespace's `default` account, which a controller makes a moment after the
    namespace (a pod created before it is refused): the lab's own, without a token to mount."""
    (account,) = lab.of_type("kubernetes:core/v1:ServiceAccount")
    assert account.inputs["automountServiceAccountToken"] is False
    assert account.inputs["metadata"]["namespace"] == lab.exports["namespace"]
    workloads = [r for r in lab.resources if r.type in k8s.WORKLOAD_TYPES]
    assert workloads
    for workload in workloads:
        spec = k8s.pod_spec(workload)
        assert spec["serviceAccountName"] == k8s.name_of(account), workload.name
        assert spec["automountServiceAccountToken"] is False, workload.name
        assert account.urn in workload.dependencies, f"{workload.name} may be created before its account"
