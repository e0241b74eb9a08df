"""`pulumi preview`, `up`, a config change and `destroy` of the whole lab against a real API
server. Tests run in file order on one stack: each step starts from the state the previous one
left. Checks read the cluster with kubectl, not Pulumi's own outputs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pulumi import automation as auto

from policy import rules
from tests.e2e.support import POLICY_PACK, STACK, Kubectl, kubectl_resource, run_cli
from tests.harness import run_program
from tests.tree import PACKAGE, ROOT

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
PODS = ("sidecar-logging", "adapter-format", "ambassador-proxy", "init-demo")
DEPLOYMENTS = ("sidecar-proxy", "db")
SERVICES = ("ambassador-proxy", "sidecar-proxy", "db")


def _expected_resource_count() -> int:
    """Resources the program registers (from the mocks), plus the stack itself."""
    return len(run_program().resources) + 1


# How the CLI reports a policy pack that passed, in `preview` and `up`.
POLICY_PACK_PASSED = f"✅ multi-container-patterns@v0.1.0 (local: {POLICY_PACK})"


def _containers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in [*spec.get("initContainers", []), *spec["containers"]]}


def test_preview_of_an_empty_stack_creates_every_resource(stack: auto.Stack) -> None:
    result = stack.preview(on_output=print)
    assert result.change_summary == {"create": _expected_resource_count()}


def test_the_policy_pack_passes_the_preview_of_the_shipped_program(stack: auto.Stack) -> None:
    preview = run_cli(stack, "preview", "--policy-pack", POLICY_PACK)
    print(preview.stdout)
    assert POLICY_PACK_PASSED in preview.stdout


def test_up_builds_the_lab_in_the_api_server(stack: auto.Stack, kubectl: Kubectl) -> None:
    # As the README and the pull-request workflow run it: the policy pack judges the update.
    up = run_cli(stack, "up", "--yes", "--policy-pack", POLICY_PACK)
    print(up.stdout)
    assert POLICY_PACK_PASSED in up.stdout
    assert kubectl.get("namespace", NAMESPACE)["status"]["phase"] == "Active"
    for name in PODS:
        pod = kubectl.get("pod", name, "-n", NAMESPACE)
        assert pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "app"
    sidecar = _containers(kubectl.get("pod", "sidecar-logging", "-n", NAMESPACE)["spec"])
    assert set(sidecar) == {"app", "log-shipper"}
    ambassador = _containers(kubectl.get("pod", "ambassador-proxy", "-n", NAMESPACE)["spec"])
    assert ambassador["proxy"]["ports"][0] == {"name": "proxy-port", "containerPort": 8443, "protocol": "TCP"}
    init_spec = kubectl.get("pod", "init-demo", "-n", NAMESPACE)["spec"]
    assert [c["name"] for c in init_spec["initContainers"]] == ["init-config", "init-wait-db"]
    deployment = kubectl.get("deployment", "sidecar-proxy", "-n", NAMESPACE)
    assert deployment["status"]["availableReplicas"] == 1
    proxy = deployment["spec"]["template"]["spec"]["initContainers"][0]
    assert (proxy["name"], proxy["restartPolicy"]) == ("proxy", "Always")
    for name in SERVICES:
        endpoints = kubectl.get("endpoints", name, "-n", NAMESPACE)
        assert endpoints.get("subsets"), f"service {name} has no endpoints"
    secrets = kubectl.get("secrets", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=ambassador")["items"]
    assert [s["type"] for s in secrets] == ["kubernetes.io/tls"]
    # The resource-accounting experiment of the lab reads requests from every container.
    described = kubectl.run("describe", "pod", "-l", "app=sidecar-proxy", "-n", NAMESPACE).stdout
    assert described.count("Requests:") == 2


def test_the_outputs_are_right_and_the_private_key_is_nowhere_in_plain_text(
    stack: auto.Stack, kubectl: Kubectl, state_dir: Path
) -> None:
    outputs = stack.outputs()
    assert outputs["namespace"].value == NAMESPACE
    assert outputs["workloads"].value["native-sidecar"] == "sidecar-proxy"
    assert (
        "kubectl logs sidecar-logging -c log-shipper -n multi-container-demo"
        in (outputs["kubectl_commands"].value["sidecar"])
    )
    assert not any("private" in name.lower() for name in outputs)
    secret = kubectl.get("secrets", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=ambassador")["items"][0]
    key_pem = base64.b64decode(secret["data"]["tls.key"]).decode()
    cert_pem = base64.b64decode(secret["data"]["tls.crt"]).decode()
    fingerprint = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA256()).hex(":").upper()
    assert outputs["ambassador_cert_sha256_fingerprint"].value == fingerprint
    # The state at rest (the file backend), and its export without --show-secrets.
    # The PEM body's first line holds the private scalar (its last lines, the public key, are public).
    private_line = next(line for line in key_pem.splitlines() if line and "-----" not in line)
    stored = "".join(path.read_text(errors="replace") for path in state_dir.rglob("*") if path.is_file())
    exported = subprocess.run(
        ["pulumi", "stack", "export", "--stack", STACK],
        cwd=stack.workspace.work_dir,
        env={**os.environ, **(stack.workspace.env_vars or {})},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for text in (stored, exported):
        assert "PRIVATE KEY" not in text
        assert private_line not in text
    # The key is there, encrypted: the Secret's data and the tls resources' outputs are secrets.
    assert exported.count('"ciphertext"') >= 4


def _cluster_objects(kubectl: Kubectl) -> dict[str, tuple[str, str]]:
    """kind/name -> (uid, resourceVersion of the spec's generation) of the lab's objects."""
    listed = kubectl.get("pods,deployments,services,configmaps,secrets,networkpolicies", "-n", NAMESPACE)["items"]
    namespace = kubectl.get("namespace", NAMESPACE)
    return {
        f"{item['kind']}/{item['metadata']['name']}": (
            item["metadata"]["uid"],
            str(item["metadata"].get("generation", "")),
        )
        for item in [*listed, namespace]
    }


def _state_resources(stack: auto.Stack) -> list[tuple[str, str]]:
    exported = (stack.export_stack().deployment or {})["resources"]
    return [(resource["urn"], json.dumps(resource.get("inputs"), sort_keys=True)) for resource in exported]


def test_a_change_the_policy_pack_forbids_fails_preview_and_up_and_changes_nothing(
    stack: auto.Stack, kubectl: Kubectl, tmp_path: Path
) -> None:
    """Changes the program allows (a laxer Pod Security level, no NetworkPolicies) on a cluster the
    pack's config says is Kubernetes 1.28: each breaks one policy, and the pack blocks them all."""
    objects, state = _cluster_objects(kubectl), _state_resources(stack)
    pack_config = tmp_path / "kubernetes-1.28.json"
    pack_config.write_text(json.dumps({rules.NATIVE_SIDECAR_VERSION: {rules.TARGET_KUBERNETES_VERSION: "1.28"}}))
    stack.set_all_config({"podSecurity": auto.ConfigValue("baseline"), "networkPolicies": auto.ConfigValue("false")})
    blocked = {
        rules.NAMESPACE_POD_SECURITY: "Namespace 'multi-container-demo' (Pulumi resource 'lab-namespace') enforces "
        "the Pod Security Standard 'baseline', less strict than 'restricted'.",
        rules.NETWORK_POLICY_COVERAGE: "Pod 'multi-container-demo/init-demo' (Pulumi resource "
        "'lab-init-containers-pod'): no NetworkPolicy of the stack selects its pods for Ingress and Egress",
        rules.NATIVE_SIDECAR_VERSION: "native sidecar 'proxy' is a native sidecar (an init container with "
        "restartPolicy: Always), which needs Kubernetes 1.29+, but the stack targets Kubernetes 1.28",
    }
    try:
        for command in (("preview",), ("up", "--yes")):
            run = run_cli(
                stack, *command, "--policy-pack", POLICY_PACK, "--policy-pack-config", str(pack_config), check=False
            )
            print(run.stdout, run.stderr)
            assert run.returncode != 0, command
            assert f"❌ multi-container-patterns@v0.1.0 (local: {POLICY_PACK})" in run.stdout
            for policy, message in blocked.items():
                assert f"[mandatory]  {policy}" in run.stdout, (command, policy)
                assert message in " ".join(run.stdout.split()), (command, policy)
    finally:
        stack.remove_all_config(["podSecurity", "networkPolicies"])
    assert _cluster_objects(kubectl) == objects
    assert _state_resources(stack) == state
    stack.preview(expect_no_changes=True, on_output=print)


def test_a_second_preview_reports_no_changes(stack: auto.Stack) -> None:
    stack.preview(expect_no_changes=True, on_output=print)


def test_drift_by_hand_is_shown_by_a_refreshing_preview_and_undone_by_up_refresh(
    stack: auto.Stack, kubectl: Kubectl
) -> None:
    """A pod deleted by hand: `pulumi preview --refresh` shows it coming back and `pulumi up
    --refresh` brings it back. The lab's ConfigMaps are immutable: editing one is refused."""
    others = {
        name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in PODS if name != "adapter-format"
    }
    kubectl.run("delete", "pod", "adapter-format", "-n", NAMESPACE, "--wait=true")
    config_map = kubectl.get("configmaps", "-n", NAMESPACE, "-l", "app.kubernetes.io/component=sidecar")["items"][0]
    edit = kubectl.run(
        "patch",
        "configmap",
        config_map["metadata"]["name"],
        "-n",
        NAMESPACE,
        "--type=merge",
        "-p",
        '{"data": {"app.sh": "echo edited"}}',
        check=False,
    )
    assert edit.returncode != 0
    assert "field is immutable when `immutable` is set" in edit.stderr, edit.stderr
    preview = stack.preview(refresh=True, on_output=print)
    changes = {getattr(op, "value", op): n for op, n in preview.change_summary.items()}
    assert changes.get("create") == 1, changes
    stack.up(refresh=True, on_output=print)
    assert kubectl.get("pod", "adapter-format", "-n", NAMESPACE)["status"]["phase"] == "Running"
    assert {name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in others} == others
    stack.preview(expect_no_changes=True, on_output=print)


def test_a_config_change_updates_only_what_must_change_and_rolls_the_pod(stack: auto.Stack, kubectl: Kubectl) -> None:
    before = kubectl.get("pod", "init-demo", "-n", NAMESPACE)["metadata"]["uid"]
    others = {name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in PODS[:3]}
    stack.set_config("failingInit", auto.ConfigValue("true"))
    # As `pulumi up` does by default: a preview first, which must cope with the Pod's replacement.
    preview = stack.preview(on_output=print)
    assert {getattr(op, "value", op): n for op, n in preview.change_summary.items()}.get("replace") == 1
    result = stack.up(on_output=print)
    changes = {getattr(op, "value", op): count for op, count in (result.summary.resource_changes or {}).items()}
    assert changes.get("replace") == 1, changes
    assert set(changes) <= {"replace", "same"}, changes
    pod = kubectl.get("pod", "init-demo", "-n", NAMESPACE)
    assert pod["metadata"]["uid"] != before
    assert pod["spec"]["initContainers"][0]["name"] == "failing-init"
    assert {name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in PODS[:3]} == others
    assert any("failingInit" in note for note in stack.outputs()["experiments"].value)
    stack.remove_config("failingInit")
    stack.up(on_output=print)
    stack.preview(expect_no_changes=True, on_output=print)


def test_a_changed_script_replaces_its_configmap_and_rolls_only_the_pod_that_mounts_it(
    stack: auto.Stack, kubectl: Kubectl, project_dir: Path
) -> None:
    uids = {name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in PODS}
    script = project_dir / PACKAGE.relative_to(ROOT) / "_sidecar" / "log-shipper.sh"
    original = script.read_text()
    script.write_text(original.replace('tag="${SHIP_TAG:-[shipped]}"', 'tag="${SHIP_TAG:-[forwarded]}"'))
    try:
        preview = stack.preview(on_output=print)
        changes = {getattr(op, "value", op): n for op, n in preview.change_summary.items()}
        assert changes.get("replace") == 2, changes  # the scripts' ConfigMap and sidecar-logging
        stack.up(on_output=print)
        after = {name: kubectl.get("pod", name, "-n", NAMESPACE)["metadata"]["uid"] for name in PODS}
        assert after["sidecar-logging"] != uids["sidecar-logging"]
        assert {k: v for k, v in after.items() if k != "sidecar-logging"} == {
            k: v for k, v in uids.items() if k != "sidecar-logging"
        }
    finally:
        script.write_text(original)
    stack.up(on_output=print)
    stack.preview(expect_no_changes=True, on_output=print)


def test_a_bad_config_value_fails_preview_with_the_clear_error_and_touches_nothing(
    stack: auto.Stack, kubectl: Kubectl
) -> None:
    before = kubectl.get("pod", "sidecar-logging", "-n", NAMESPACE)["metadata"]["uid"]
    stack.set_config("tlsValidityHours", auto.ConfigValue("0"))
    try:
        with pytest.raises(auto.CommandError) as failure:
            stack.preview(on_output=print)
        assert "invalid value 0 for 'tlsValidityHours': expected a whole number greater than zero" in str(failure.value)
    finally:
        stack.remove_config("tlsValidityHours")
    assert kubectl.get("pod", "sidecar-logging", "-n", NAMESPACE)["metadata"]["uid"] == before
    stack.preview(expect_no_changes=True, on_output=print)


def test_the_namespace_deleted_by_hand_comes_back_with_up_refresh(stack: auto.Stack, kubectl: Kubectl) -> None:
    """The lab's own clean-up, `kubectl delete namespace`, behind Pulumi's back: `pulumi up
    --refresh` finds every object gone and builds the lab again (the destroy test follows)."""
    before = kubectl.get("namespace", NAMESPACE)["metadata"]["uid"]
    kubectl.run("delete", "namespace", NAMESPACE, "--wait=true", timeout=180)
    result = stack.up(refresh=True, on_output=print)
    changes = {getattr(op, "value", op): n for op, n in (result.summary.resource_changes or {}).items()}
    kubernetes_objects = len(list(run_program().kubernetes_objects()))
    assert changes.get("create") == kubernetes_objects, changes
    assert kubectl.get("namespace", NAMESPACE)["metadata"]["uid"] != before
    for name in PODS:
        assert kubectl.get("pod", name, "-n", NAMESPACE)["status"]["phase"] == "Running", name
    stack.preview(expect_no_changes=True, on_output=print)


def test_destroy_removes_every_object_and_the_namespace(stack: auto.Stack, kubectl: Kubectl) -> None:
    result = stack.destroy(on_output=print)
    assert result.summary.result == "succeeded"
    assert not kubectl.exists("namespace", NAMESPACE)
    # Every namespaced kind the program registers, as kubectl names it (pod, deployment.apps, ...).
    kinds = {r.type for r in run_program().kubernetes_objects() if r.type != "kubernetes:core/v1:Namespace"}
    assert kinds
    for type_token in kinds:
        resource = kubectl_resource(type_token)
        assert not kubectl.exists(
            resource, "-n", NAMESPACE, "-l", "app.kubernetes.io/part-of=multi-container-patterns"
        ), resource
    deployment = stack.export_stack().deployment or {}
    assert deployment.get("resources") in (None, [])
