"""The README's "Add a pattern" example, as written there: its component and its declaration,
with the arguments step 1 describes and the `writer.sh` the component loads beside them, build a
pattern the lab's conventions hold (every object valid for Kubernetes, every pod Pod Security
`restricted`, a Service and the NetworkPolicy that opens it), whose pod serves the page its busybox
container writes (run as the pods run, `tests.pods`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest

from multicontainer_patterns._settings import LAB_DEFAULTS
from tests import k8s
from tests.harness import ProgramRun, run
from tests.pods import run_pod
from tests.test_lab import SCHEMA_VERSIONS

README = Path(__file__).resolve().parents[1] / "README.md"
# What step 1 describes and the example leaves out: its imports and its arguments (the names of
# its objects and its images, checked in __post_init__); and the script it ships.
PREAMBLE = """
from dataclasses import dataclass
from pathlib import Path

import pulumi

from multicontainer_patterns import _naming as naming
from multicontainer_patterns._commands import kubectl_commands
from multicontainer_patterns._nginx import HTML_DIR, nginx_app
from multicontainer_patterns._pattern import Pattern, PatternArgs, PatternScope, checksum_annotations
from multicontainer_patterns._pod import PodTemplate, Port, Volume


@dataclass(frozen=True, kw_only=True)
class WebContentArgs(PatternArgs):
    deployment_name: str = "web-content"
    image: str = "busybox:1.36"
    web_image: str = "nginx:1.25.3-alpine"

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_label("deployment_name", self.deployment_name)
        naming.image_reference("image", self.image)
        naming.image_reference("web_image", self.web_image)
"""
WRITER = """#!/bin/sh
# Writes the page nginx serves, then keeps it fresh.
set -eu
while :; do
  echo "<h1>written by the writer at $(date +%s)</h1>" >"$PAGE_FILE.new"
  mv "$PAGE_FILE.new" "$PAGE_FILE"
  sleep 1
done
"""


def readme_blocks() -> list[str]:
    section = README.read_text().split("## Add a pattern", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", section, re.MULTILINE | re.DOTALL)
    return ["\n".join(line.removeprefix(indent) for line in code.splitlines()) for indent, code in blocks]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The README's component and declaration as the module of a pattern package of their own."""
    folder = tmp_path_factory.mktemp("pattern") / "_web_content"
    folder.mkdir()
    (folder / "writer.sh").write_text(WRITER)
    component, declaration = readme_blocks()
    module = ModuleType("readme_web_content")
    module.__file__ = str(folder / "__init__.py")
    sys.modules[module.__name__] = module  # where dataclasses look its annotations up
    try:
        exec(compile(PREAMBLE + component + "\n" + declaration, "README.md", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


@pytest.fixture(scope="module")
def built(example: ModuleType) -> ProgramRun:
    def body() -> dict[str, Any]:
        common = {"namespace": "team", "instance": "team"}
        web = example.PATTERN.component("web", example.PATTERN.args(LAB_DEFAULTS, common), None)
        return {"commands": web.kubectl_commands}

    return run(body)


def test_the_readme_declares_its_pattern_with_the_lab_images(example: ModuleType) -> None:
    args = example.PATTERN.args(LAB_DEFAULTS, {"namespace": "team"})
    assert example.PATTERN.setting == "web-content"
    assert (args.image, args.web_image) == (LAB_DEFAULTS.busybox_image, LAB_DEFAULTS.nginx_image)


def test_the_readme_pattern_builds_valid_objects_a_service_and_the_policy_that_opens_it(built: ProgramRun) -> None:
    kinds = sorted(k8s.group_version_kind(r.type)[2] for r in built.kubernetes_objects())
    assert kinds == ["ConfigMap", "Deployment", "NetworkPolicy", "Service"]
    for resource in built.kubernetes_objects():
        for version in SCHEMA_VERSIONS:
            kubernetes_validate.validate(k8s.manifest(resource), version, strict=True)
    (service,) = built.of_type("kubernetes:core/v1:Service")
    deployment = k8s.workload(built, "web-content")
    labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
    assert service.inputs["spec"]["selector"].items() <= labels.items()
    (policy,) = built.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    ports = [p["port"] for rule in policy.inputs["spec"]["ingress"] for p in rule["ports"]]
    assert ports == [80]
    assert built.exports["commands"] == ["kubectl logs -n team deployment/web-content -c writer"]


@pytest.mark.pods
def test_the_readme_pattern_serves_the_page_its_writer_writes(built: ProgramRun) -> None:
    spec = k8s.pod_spec(k8s.workload(built, "web-content"))
    with run_pod(spec, k8s.config_map_data(built)) as pod:
        pod.wait_for("the web server answers", lambda: _page(pod) is not None)
        page = _page(pod)
    assert page is not None
    assert page.startswith("<h1>written by the writer at ")


def _page(pod: Any) -> str | None:
    try:
        answer = pod.http("http://127.0.0.1:80/")
    except AssertionError:
        return None
    return answer.body if answer.status == 200 else None
