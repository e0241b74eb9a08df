"""Pod Security "restricted" under mocks: the namespace asks the API server to enforce it, and
every pod of every config meets it field by field. The end-to-end suite has the real API server
admit the lab and refuse a pod that breaks the standard."""

from __future__ import annotations

from typing import Any

import pytest

from multicontainer_patterns._defaults import FIRST_UNALLOCATED_UID
from multicontainer_patterns._lab import POD_SECURITY_VERSION
from tests import k8s
from tests.harness import ProgramRun, run_program

# The lab as deployed, and both experiments (they change the pods).
CONFIGS = ({}, {"nativeSidecar": "false"}, {"failingInit": "true"})
# Pod Security Standards, Kubernetes 1.29 (kubernetes.io/docs/concepts/security/pod-security-standards).
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def pod_specs(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {k8s.name_of(r): k8s.pod_spec(r) for r in run.resources if r.type in k8s.WORKLOAD_TYPES}


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """What in ``spec`` the "restricted" standard forbids (its baseline rules included)."""
    found = []
    pod_context = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(field)
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            found.append(f"volume {volume['name']}: {sorted(kinds)}")
    for sysctl in pod_context.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl['name']}")
    for container in k8s.all_containers(spec):
        context = container.get("securityContext") or {}
        name = container["name"]
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile {seccomp}")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: does not drop ALL capabilities")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds {capabilities['add']}")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            found.append(f"{name}: hostPort")
        if context.get("procMount", "Default") != "Default":
            found.append(f"{name}: procMount")
    return found


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "lab")
def test_every_pod_meets_pod_security_restricted(config: dict[str, str]) -> None:
    specs = pod_specs(run_program(config))
    assert specs
    for name, spec in specs.items():
        assert restricted_violations(spec) == [], name


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "lab")
def test_every_container_runs_as_an_unallocated_user_on_a_read_only_root_filesystem(config: dict[str, str]) -> None:
    for name, spec in pod_specs(run_program(config)).items():
        for container in k8s.all_containers(spec):
            context = container["securityContext"]
            assert context["runAsUser"] >= FIRST_UNALLOCATED_UID, (name, container["name"])
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])


def test_pods_listening_below_1024_may_bind_their_lowest_port_and_no_lower() -> None:
    for name, spec in pod_specs(run_program()).items():
        ports = [p["containerPort"] for c in k8s.all_containers(spec) for p in c.get("ports") or []]
        sysctls = {s["name"]: s["value"] for s in spec["securityContext"].get("sysctls") or []}
        if ports and min(ports) < 1024:
            assert sysctls == {"net.ipv4.ip_unprivileged_port_start": str(int(min(ports)))}, name
        else:
            assert sysctls == {}, name


def test_the_restricted_check_catches_what_the_standard_forbids() -> None:
    spec = pod_specs(run_program())["ambassador-proxy"]
    assert restricted_violations(spec) == []
    container = spec["containers"][0]
    container["securityContext"] = {**container["securityContext"], "runAsUser": 0, "allowPrivilegeEscalation": True}
    spec["securityContext"]["sysctls"] = [{"name": "net.ipv4.ip_forward", "value": "1"}]
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    assert len(restricted_violations(spec)) == 4


@pytest.mark.parametrize("level", ["restricted", "baseline", "privileged"])
def test_the_namespace_asks_the_api_server_to_enforce_audit_and_warn_on_the_level(level: str) -> None:
    labels = run_program({"podSecurity": level}).one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == level
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == POD_SECURITY_VERSION


def test_the_lab_enforces_restricted_by_default() -> None:
    labels = run_program().one("kubernetes:core/v1:Namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_pod_has_a_group_its_volumes_belong_to() -> None:
    """Containers share a pod's volumes through its fsGroup, which each of them runs with."""
    for name, spec in pod_specs(run_program()).items():
        assert isinstance(spec["securityContext"].get("fsGroup"), (int, float)), name


def test_the_tls_secret_is_readable_by_the_proxys_group_and_no_other_user() -> None:
    spec = pod_specs(run_program())["ambassador-proxy"]
    proxy = next(c for c in spec["containers"] if c["name"] == "proxy")
    tls = next(v for v in spec["volumes"] if "secret" in v)
    assert spec["securityContext"]["fsGroup"] == proxy["securityContext"]["runAsGroup"]
    assert int(tls["secret"]["defaultMode"]) == 0o440
