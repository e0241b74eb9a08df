"""Each pattern's component on its own: how its containers are wired, and what they run."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from prometheus_client.parser import text_string_to_metric_families

from multicontainer_patterns import (
    Adapter,
    AdapterArgs,
    Ambassador,
    AmbassadorArgs,
    InitContainers,
    InitContainersArgs,
    NativeSidecar,
    NativeSidecarArgs,
    SettingError,
    Sidecar,
    SidecarArgs,
    TlsSettings,
)
from tests import k8s
from tests.harness import ProgramRun, run, run_program
from tests.tree import PACKAGE


def component_run(build: Any) -> ProgramRun:
    """Register one component alone in namespace `team-a`, as another program would."""

    def body() -> dict[str, Any]:
        component = build()
        return {"urn": component.urn}

    return run(body)


def nginx_directives(conf: str, directive: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^\s*{directive}\s+([^;]+);", conf, re.MULTILINE)]


# ─── Sidecar ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def sidecar() -> ProgramRun:
    return component_run(lambda: Sidecar("logs", SidecarArgs(namespace="team-a", pod_name="shipping-demo")))


def test_sidecar_app_and_shipper_share_one_emptydir_and_the_same_log_file(sidecar: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(sidecar, "shipping-demo"))
    app, shipper = k8s.container(spec, "app"), k8s.container(spec, "log-shipper")
    app_mount, app_volume = k8s.mount_of(spec, app, "/var/log/app")
    shipper_mount, shipper_volume = k8s.mount_of(spec, shipper, "/var/log/app")
    assert app_volume is shipper_volume
    assert app_volume["name"] == "log-volume"
    assert "emptyDir" in app_volume
    assert app_mount["readOnly"] is False
    assert shipper_mount["readOnly"] is True
    log_file = k8s.env_of(app)["LOG_FILE"]
    assert log_file == k8s.env_of(shipper)["LOG_FILE"] == "/var/log/app/app.log"


def test_sidecar_containers_run_the_scripts_shipped_beside_the_component(sidecar: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(sidecar, "shipping-demo"))
    for container, script in (("app", "app.sh"), ("log-shipper", "log-shipper.sh")):
        text = k8s.script_of(sidecar, spec, k8s.container(spec, container))
        assert text == (PACKAGE / "_sidecar" / script).read_text()


def test_a_component_alone_is_parented_typed_and_registers_its_outputs(sidecar: ProgramRun) -> None:
    component = sidecar.one("multicontainer:patterns:Sidecar")
    children = [r for r in sidecar.resources if r.parent == component.urn]
    assert {r.type for r in children} == {"kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Pod"}
    assert len(children) == len(sidecar.resources) - 1
    assert sidecar.component_outputs[component.urn]["pod_name"] == "shipping-demo"
    for child in children:
        assert child.inputs["metadata"]["namespace"] == "team-a"


def test_a_component_given_a_namespace_deletes_its_own_objects(sidecar: ProgramRun) -> None:
    # Only the lab, which creates its namespace, lets the namespace take its objects along: a
    # namespace a component is given may be shared.
    assert list(sidecar.kubernetes_objects())
    assert all(sidecar.deleted_with(r) == "" for r in sidecar.resources)


def test_component_args_are_checked_when_they_are_built() -> None:
    with pytest.raises(SettingError, match="'pod_name'"):
        SidecarArgs(namespace="a", pod_name="Bad_Name")
    with pytest.raises(SettingError, match="'image'"):
        AdapterArgs(namespace="a", image="busybox")
    with pytest.raises(SettingError, match="'early_renewal_hours'"):
        TlsSettings(validity_hours=24, early_renewal_hours=24)
    with pytest.raises(SettingError, match="'replicas'"):
        NativeSidecarArgs(namespace="a", replicas=0)


# ─── Adapter ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def adapter() -> ProgramRun:
    return component_run(lambda: Adapter("metrics", AdapterArgs(namespace="team-a")))


def test_the_adapter_reads_the_file_the_app_writes_on_their_shared_volume(adapter: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(adapter, "adapter-format"))
    app, converter = k8s.container(spec, "app"), k8s.container(spec, "adapter")
    raw_file = k8s.env_of(app)["METRICS_FILE"]
    assert raw_file == k8s.env_of(converter)["METRICS_FILE"] == "/var/log/app/metrics.raw"
    _, app_volume = k8s.mount_of(spec, app, "/var/log/app")
    adapter_mount, adapter_volume = k8s.mount_of(spec, converter, "/var/log/app")
    assert app_volume is adapter_volume
    assert "emptyDir" in app_volume
    assert adapter_mount["readOnly"] is True
    awk_path = k8s.env_of(converter)["CONVERTER"]
    _, scripts = k8s.mount_of(spec, converter, awk_path.rpartition("/")[0])
    data = k8s.config_map_named(adapter, scripts["configMap"]["name"]).inputs["data"]
    assert data[awk_path.rpartition("/")[2]] == (PACKAGE / "_adapter" / "to-prometheus.awk").read_text()


def test_the_converter_turns_raw_lines_into_prometheus_text_with_the_same_values() -> None:
    raw = (
        "1700000000|queue_depth|7|queue=orders\n"
        "1700000000|http_requests_total|42|method=GET,path=/api/orders\n"
        '1700000000|http_errors_total|3|method=GET,path=/a"b\n'
        "1700000000|request_latency_ms|51.5|\n"
        "garbage without pipes\n"
    )
    ordered = "".join(sorted(raw.splitlines(keepends=True), key=lambda line: line.split("|")[1] if "|" in line else ""))
    result = subprocess.run(
        ["awk", "-f", str(PACKAGE / "_adapter" / "to-prometheus.awk")],
        input=ordered,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "malformed" in result.stderr
    families = {family.name: family for family in text_string_to_metric_families(result.stdout)}
    assert families["http_requests"].type == "counter"
    assert families["queue_depth"].type == "gauge"
    samples = {(s.name, tuple(sorted(s.labels.items()))): s for f in families.values() for s in f.samples}
    assert samples[("http_requests_total", (("method", "GET"), ("path", "/api/orders")))].value == 42
    assert samples[("http_errors_total", (("method", "GET"), ("path", '/a"b')))].value == 3
    assert samples[("queue_depth", (("queue", "orders"),))].value == 7
    assert samples[("request_latency_ms", ())].value == 51.5
    assert samples[("queue_depth", (("queue", "orders"),))].timestamp == 1700000000


# ─── Ambassador ───────────────────────────────────────────────────────────────────────────


@pytest.fixture
def ambassador() -> ProgramRun:
    return component_run(
        lambda: Ambassador(
            "tls", AmbassadorArgs(namespace="team-a", tls=TlsSettings(validity_hours=48, early_renewal_hours=12))
        )
    )


def _proxy_conf(run_: ProgramRun) -> tuple[dict[str, Any], dict[str, Any], str]:
    spec = k8s.pod_spec(k8s.workload(run_, "ambassador-proxy"))
    proxy = k8s.container(spec, "proxy")
    _, volume = k8s.mount_of(spec, proxy, "/etc/nginx/conf.d")
    conf = k8s.config_map_named(run_, volume["configMap"]["name"]).inputs["data"]["proxy.conf"]
    return spec, proxy, conf


def test_the_ambassador_terminates_tls_on_its_port_and_forwards_to_the_app_on_localhost(
    ambassador: ProgramRun,
) -> None:
    spec, proxy, conf = _proxy_conf(ambassador)
    app = k8s.container(spec, "app")
    assert app["ports"] == [{"name": "app-port", "containerPort": 80, "protocol": "TCP"}]
    assert proxy["ports"] == [{"name": "proxy-port", "containerPort": 8443, "protocol": "TCP"}]
    assert nginx_directives(conf, "listen") == ["8443 ssl"]
    assert nginx_directives(conf, "proxy_pass") == ["http://127.0.0.1:80"]
    assert nginx_directives(conf, "ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    assert conf == (PACKAGE / "_ambassador" / "proxy.conf").read_text()


def test_the_proxy_mounts_the_tls_secret_at_the_paths_its_config_names(ambassador: ProgramRun) -> None:
    spec, proxy, conf = _proxy_conf(ambassador)
    mount, volume = k8s.mount_of(spec, proxy, "/etc/nginx/tls")
    assert mount["readOnly"] is True
    secret = ambassador.one("kubernetes:core/v1:Secret")
    assert volume["secret"]["secretName"] == k8s.name_of(secret)
    assert nginx_directives(conf, "ssl_certificate") == ["/etc/nginx/tls/tls.crt"]
    assert nginx_directives(conf, "ssl_certificate_key") == ["/etc/nginx/tls/tls.key"]
    # The app container never sees the key.
    assert all(m["mountPath"] != "/etc/nginx/tls" for m in k8s.container(spec, "app")["volumeMounts"])


def test_the_tls_secret_holds_the_key_and_certificate_of_the_tls_resources_as_secrets(ambassador: ProgramRun) -> None:
    secret = ambassador.one("kubernetes:core/v1:Secret")
    key = ambassador.one("tls:index/privateKey:PrivateKey")
    cert = ambassador.one("tls:index/selfSignedCert:SelfSignedCert")
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert "stringData" in secret.secret_inputs
    assert key.urn in secret.dependencies
    assert cert.urn in secret.dependencies
    assert key.inputs == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}
    # The certificate is signed with the key the Secret holds.
    assert cert.inputs["privateKeyPem"] == secret.inputs["stringData"]["tls.key"]
    assert "privateKeyPem" in cert.secret_inputs
    assert cert.inputs["validityPeriodHours"] == 48
    assert cert.inputs["allowedUses"] == ["digital_signature", "key_encipherment", "server_auth"]


def test_the_certificate_covers_localhost_and_the_services_dns_names(ambassador: ProgramRun) -> None:
    pem = ambassador.one("kubernetes:core/v1:Secret").inputs["stringData"]["tls.crt"]
    certificate = x509.load_pem_x509_certificate(pem.encode())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [
        "localhost",
        "ambassador-proxy",
        "ambassador-proxy.team-a",
        "ambassador-proxy.team-a.svc",
        "ambassador-proxy.team-a.svc.cluster.local",
    ]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_the_exported_fingerprint_is_the_one_of_the_certificate_the_proxy_serves() -> None:
    lab = run_program()
    pem = lab.one("kubernetes:core/v1:Secret").inputs["stringData"]["tls.crt"]
    fingerprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex(":").upper()
    assert lab.exports["ambassador_cert_sha256_fingerprint"] == fingerprint
    pod = k8s.workload(lab, "ambassador-proxy")
    assert k8s.pod_annotations(pod)["multicontainer.patterns/cert-sha256"] == fingerprint


def test_the_ambassador_service_exposes_the_tls_port_of_the_proxy(ambassador: ProgramRun) -> None:
    service = ambassador.one("kubernetes:core/v1:Service")
    assert service.inputs["spec"]["ports"] == [
        {"name": "proxy-port", "port": 8443, "protocol": "TCP", "targetPort": "proxy-port"}
    ]


# ─── Init containers ──────────────────────────────────────────────────────────────────────


@pytest.fixture
def init_demo() -> ProgramRun:
    return component_run(lambda: InitContainers("init", InitContainersArgs(namespace="team-a")))


def test_init_containers_run_config_then_wait_for_db_then_the_app(init_demo: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(init_demo, "init-demo"))
    assert [c["name"] for c in spec["initContainers"]] == ["init-config", "init-wait-db"]
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert all("restartPolicy" not in c for c in spec["initContainers"])
    config_file = k8s.env_of(spec["initContainers"][0])["CONFIG_FILE"]
    for container in k8s.all_containers(spec):
        assert k8s.env_of(container)["CONFIG_FILE"] == config_file
        mount, volume = k8s.mount_of(spec, container, "/config")
        assert volume["name"] == "config-volume"
        assert "emptyDir" in volume
        # Only init-config writes the configuration.
        assert mount["readOnly"] is (container["name"] != "init-config")


def test_init_config_names_the_database_service_that_is_part_of_the_stack(init_demo: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(init_demo, "init-demo"))
    env = k8s.env_of(k8s.container(spec, "init-config", init=True))
    service = init_demo.one("kubernetes:core/v1:Service")
    assert env["DB_HOST"] == k8s.name_of(service) == "db"
    assert int(env["DB_PORT"]) == service.inputs["spec"]["ports"][0]["port"] == 6379
    db = k8s.workload(init_demo, "db")
    redis = k8s.container(k8s.pod_spec(db), "redis")
    assert redis["ports"][0]["containerPort"] == 6379
    assert redis["readinessProbe"]["tcpSocket"]["port"] == "redis"


def test_the_failing_init_experiment_adds_a_first_init_container_and_waits_only_for_scheduling() -> None:
    lab = run_program({"failingInit": "true"})
    pod = k8s.workload(lab, "init-demo")
    spec = k8s.pod_spec(pod)
    failing = spec["initContainers"][0]
    assert failing["name"] == "failing-init"
    assert failing["command"][-1].endswith("exit 1")
    # Not skipAwait: that would skip awaiting the pod's deletion too, and its replacement (same
    # name) would fail while the old pod terminates.
    assert pod.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=PodScheduled"
    assert "pulumi.com/skipAwait" not in pod.inputs["metadata"]["annotations"]
    assert any("failingInit" in note for note in lab.exports["experiments"])
    assert "pulumi.com/waitFor" not in k8s.workload(run_program(), "init-demo").inputs["metadata"]["annotations"]


# ─── Native sidecar ───────────────────────────────────────────────────────────────────────


def _native(native: bool = True) -> ProgramRun:
    return component_run(lambda: NativeSidecar("proxy", NativeSidecarArgs(namespace="team-a", native=native)))


def test_the_native_sidecar_is_an_init_container_that_always_restarts_and_has_probes() -> None:
    deployment = k8s.workload(_native(), "sidecar-proxy")
    spec = k8s.pod_spec(deployment)
    proxy = k8s.container(spec, "proxy", init=True)
    assert proxy["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert proxy["startupProbe"]["httpGet"]["path"] == "/health"
    assert proxy["readinessProbe"]["httpGet"]["port"] == "proxy"
    assert deployment.inputs["spec"]["selector"]["matchLabels"]["app"] == "sidecar-proxy"


def test_the_sidecar_proxy_forwards_to_the_app_port_and_answers_health_itself() -> None:
    lab = _native()
    spec = k8s.pod_spec(k8s.workload(lab, "sidecar-proxy"))
    proxy = k8s.container(spec, "proxy", init=True)
    _, volume = k8s.mount_of(spec, proxy, "/etc/nginx/conf.d")
    conf = k8s.config_map_named(lab, volume["configMap"]["name"]).inputs["data"]["proxy.conf"]
    app_port = int(k8s.container(spec, "app")["ports"][0]["containerPort"])
    assert nginx_directives(conf, "proxy_pass") == [f"http://127.0.0.1:{app_port}"]
    assert nginx_directives(conf, "listen") == [str(int(proxy["ports"][0]["containerPort"]))]
    assert "location = /health" in conf
    assert 'return 200 "ok\\n"' in conf
    assert 'add_header X-Proxy "native-sidecar" always' in conf
    service = lab.one("kubernetes:core/v1:Service")
    # A sidecar's port is targeted by number.
    assert service.inputs["spec"]["ports"][0]["targetPort"] == 8080


def test_without_native_sidecars_the_proxy_is_a_classic_init_container_and_nothing_waits() -> None:
    lab = _native(native=False)
    deployment = k8s.workload(lab, "sidecar-proxy")
    proxy = k8s.container(k8s.pod_spec(deployment), "proxy", init=True)
    assert "restartPolicy" not in proxy
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & proxy.keys()
    assert deployment.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    service = lab.one("kubernetes:core/v1:Service")
    assert service.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_the_experiment_switch_reaches_the_program_and_says_so() -> None:
    lab = run_program({"nativeSidecar": "false"})
    assert any("nativeSidecar=false" in note for note in lab.exports["experiments"])


def test_every_web_server_is_restarted_when_it_stops_answering_itself() -> None:
    """Each nginx container has a liveness probe on its own port. A proxy's probe asks for a path
    its own config answers (``location = /health``), not one it forwards: a failing app must not
    restart the proxy in front of it."""
    run = run_program()
    probed = []
    for workload in run.resources:
        if workload.type not in k8s.WORKLOAD_TYPES:
            continue
        spec = k8s.pod_spec(workload)
        for container in k8s.all_containers(spec):
            if not container["image"].startswith("nginx:"):
                continue
            probe = container["livenessProbe"]["httpGet"]
            assert probe["port"] in {port["name"] for port in container["ports"]}, container["name"]
            if any(mount["mountPath"] == "/etc/nginx/conf.d" for mount in container["volumeMounts"]):
                _, volume = k8s.mount_of(spec, container, "/etc/nginx/conf.d")
                conf = "\n".join(k8s.config_map_named(run, volume["configMap"]["name"]).inputs["data"].values())
                assert f"location = {probe['path']} {{" in conf, (k8s.name_of(workload), container["name"])
                assert "return 200" in conf.split(f"location = {probe['path']} {{", 1)[1].split("}", 1)[0]
            probed.append((k8s.name_of(workload), container["name"]))
    assert {"ambassador-proxy", "sidecar-proxy"} <= {name for name, _ in probed}


def test_a_component_given_no_account_runs_its_pods_under_the_namespaces_default() -> None:
    standalone = run(lambda: {"pod": Sidecar("logging", SidecarArgs(namespace="team")).pod_name})
    (pod,) = standalone.of_type("kubernetes:core/v1:Pod")
    assert "serviceAccountName" not in k8s.pod_spec(pod)
    assert not standalone.of_type("kubernetes:core/v1:ServiceAccount")
