"""The pod building blocks refuse what Kubernetes would reject, or what would silently miswire."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest

from multicontainer_patterns._defaults import UNPRIVILEGED, Privileges, Resources
from multicontainer_patterns._labels import Labels
from multicontainer_patterns._naming import SettingError
from multicontainer_patterns._pod import Container, PodTemplate, Port, Volume, http_probe
from multicontainer_patterns._workloads import Workload, service
from tests.harness import run


def _container(name: str, **fields: object) -> Container:
    return Container(name=name, image="busybox:1.36", privileges=UNPRIVILEGED, resources=Resources(), **fields)  # type: ignore[arg-type]


def test_a_shared_volume_is_listed_once_in_the_pod() -> None:
    shared = Volume.empty_dir("shared")
    template = PodTemplate(
        containers=[_container("a", mounts=[shared.mount("/data")]), _container("b", mounts=[shared.mount("/in")])]
    )
    assert [volume.name for volume in template.volumes] == ["shared"]


def test_two_different_volumes_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="two different volumes are named 'data'"):
        PodTemplate(
            containers=[
                _container("a", mounts=[Volume.empty_dir("data").mount("/data")]),
                _container("b", mounts=[Volume.empty_dir("data").mount("/data")]),
            ]
        )


def test_a_plain_init_container_cannot_have_probes_but_a_native_sidecar_can() -> None:
    probed = _container("proxy", ports=[Port("http", 8080)], readiness_probe=http_probe(Port("http", 8080)))
    with pytest.raises(ValueError, match="init container 'proxy' cannot have probes"):
        PodTemplate(containers=[_container("app")], init_containers=[probed])
    spec = PodTemplate(containers=[_container("app")], sidecars=[probed]).spec_args()
    assert spec.init_containers is not None


def test_container_names_are_unique_and_valid() -> None:
    with pytest.raises(ValueError, match="unique"):
        PodTemplate(containers=[_container("app"), _container("app")])
    with pytest.raises(SettingError, match="'container name'"):
        _container("App")


def test_a_mount_only_names_files_its_volume_holds() -> None:
    volume = Volume("scripts", {"empty_dir": {}}, frozenset({"run.sh"}))
    assert volume.mount("/scripts").file("run.sh") == "/scripts/run.sh"
    with pytest.raises(ValueError, match=r"has no key 'missing\.sh'"):
        volume.mount("/scripts").file("missing.sh")


def test_two_volumes_at_one_path_are_refused() -> None:
    with pytest.raises(ValueError, match="same path"):
        _container("a", mounts=[Volume.empty_dir("x").mount("/data"), Volume.empty_dir("y").mount("/data")])


def test_ports_must_be_valid() -> None:
    with pytest.raises(SettingError, match="port name"):
        Port("a-very-long-port-name", 80)
    with pytest.raises(SettingError, match="1 to 65535"):
        Port("http", 70000)


def test_a_service_refuses_a_port_its_workload_does_not_have() -> None:
    def body() -> None:
        template = PodTemplate(containers=[_container("app", ports=[Port("http", 80)])])
        workload = Workload("web", Labels("web", "demo", "lab"), template, None)  # type: ignore[arg-type]
        service("svc", name="web", namespace="ns", workload=workload, ports=[(Port("other", 81), 81)], opts=None)  # type: ignore[arg-type]

    failed = run(body, expect_error=True)
    assert "port 'other' is not a container port of workload 'web'" in str(failed.error)
    assert failed.resources == []


def test_pod_level_fields_are_set_in_one_place() -> None:
    plain = PodTemplate(containers=[_container("app")]).spec_args()
    assert plain.share_process_namespace is None
    assert plain.termination_grace_period_seconds == 10
    assert isinstance(plain.security_context, k8s.core.v1.PodSecurityContextArgs)
    assert plain.security_context.supplemental_groups is None
    spec = PodTemplate(
        containers=[_container("app"), _container("debug")],
        share_process_namespace=True,
        termination_grace_period_seconds=30,
        supplemental_groups=[2000],
    ).spec_args()
    assert spec.share_process_namespace is True
    assert spec.termination_grace_period_seconds == 30
    assert isinstance(spec.security_context, k8s.core.v1.PodSecurityContextArgs)
    assert spec.security_context.supplemental_groups == [2000]
    with pytest.raises(ValueError, match="termination_grace_period_seconds must be 0 or more, not -1"):
        PodTemplate(containers=[_container("app")], termination_grace_period_seconds=-1)
    with pytest.raises(ValueError, match="supplemental_groups must be group ids"):
        PodTemplate(containers=[_container("app")], supplemental_groups=[-5])


def test_the_pods_group_is_its_containers_or_the_one_it_is_given() -> None:
    nginx = Privileges(run_as_user=10101, run_as_group=10101)
    shared = PodTemplate(containers=[_container("app"), _container("shipper")]).spec_args()
    assert isinstance(shared.security_context, k8s.core.v1.PodSecurityContextArgs)
    assert shared.security_context.fs_group == UNPRIVILEGED.run_as_group
    web = Container(name="web", image="nginx:1.25.3-alpine", privileges=nginx, resources=Resources())
    # Containers of two groups share their volumes through the pod's group, which must be named.
    with pytest.raises(ValueError, match=r"run as groups \[10101, 65534\]: set fs_group"):
        PodTemplate(containers=[_container("writer"), web])
    mixed = PodTemplate(containers=[_container("writer"), web], fs_group=2000).spec_args()
    assert isinstance(mixed.security_context, k8s.core.v1.PodSecurityContextArgs)
    assert mixed.security_context.fs_group == 2000
    with pytest.raises(ValueError, match="fs_group must be a group id"):
        PodTemplate(containers=[_container("app")], fs_group=-1)
