"""This program under Pulumi's mocks, with its stack's settings: every object of the lab lands in
the namespace set, and every container runs one of the images set. `venv/bin/python -m pytest`."""

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

HERE = Path(__file__).parent
PROJECT = yaml.safe_load((HERE / "Pulumi.yaml").read_text())["name"]
SETTINGS = {
    "namespace": "lab-under-test",
    "busyboxImage": "busybox:1.36.1",
    "nginxImage": "nginx:1.27.0-alpine",
    "dbImage": "redis:7.4.0-alpine",
}
# What pulumi-tls would compute: any PEM does under the mocks.
PEM = "-----BEGIN CERTIFICATE-----\nbW9jaw==\n-----END CERTIFICATE-----\n"


class Mocks(pulumi.runtime.Mocks):
    """Records every resource and echoes its inputs as its outputs."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = dict(args.inputs)
        if args.typ == "tls:index/selfSignedCert:SelfSignedCert":
            outputs.update(certPem=PEM, validityEndTime="2030-01-01T00:00:00Z")
        if args.typ == "tls:index/privateKey:PrivateKey":
            outputs.update(privateKeyPem="key")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def registered() -> list[pulumi.runtime.MockResourceArgs]:
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="test", preview=False)
    pulumi.runtime.set_all_config({f"{PROJECT}:{key}": value for key, value in SETTINGS.items()})

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path(str(HERE / "__main__.py"))

    program()
    return mocks.resources


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_every_object_is_in_the_namespace_set(registered: list[pulumi.runtime.MockResourceArgs]) -> None:
    objects = [r for r in registered if r.typ.startswith("kubernetes:")]
    (namespace,) = [r for r in objects if r.typ == "kubernetes:core/v1:Namespace"]
    assert namespace.inputs["metadata"]["name"] == SETTINGS["namespace"]
    assert all(r.inputs["metadata"]["namespace"] == SETTINGS["namespace"] for r in objects if r is not namespace)


def test_every_container_runs_an_image_set(registered: list[pulumi.runtime.MockResourceArgs]) -> None:
    images = {SETTINGS[key] for key in ("busyboxImage", "nginxImage", "dbImage")}
    pods = [r.inputs["spec"] for r in registered if r.typ == "kubernetes:core/v1:Pod"]
    pods += [r.inputs["spec"]["template"]["spec"] for r in registered if r.typ == "kubernetes:apps/v1:Deployment"]
    used = {container["image"] for spec in pods for container in containers(spec)}
    assert used == images
