"""The Pulumi template (templates/multi-container-lab) as a Pulumi user starts from it: `pulumi new
<folder> --generate-only --yes` in an empty directory, a virtualenv with the components installed
from this checkout as the template's requirements.txt says, the generated program's own unit test
under mocks, then `pulumi up` with the template's settings (the namespace, and the node's images)
on the real nodes: the whole lab runs and `scripts/lab.sh check` passes in that namespace; `pulumi
destroy` leaves nothing."""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest
import yaml

from tests.e2e.support import ROOT, Kubectl, node_image_settings, plugin_constraints

pytestmark = pytest.mark.e2e

TEMPLATE = ROOT / "templates" / "multi-container-lab"
NAMESPACE = "e2e-template"


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    result = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout, check=False
    )
    print(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory, kubeconfig: str) -> dict[str, str]:
    backend = tmp_path_factory.mktemp("template-state")
    return {"PULUMI_BACKEND_URL": f"file://{backend}", "PULUMI_CONFIG_PASSPHRASE": "e2e", "KUBECONFIG": kubeconfig}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, environment: dict[str, str]) -> Path:
    project = tmp_path_factory.mktemp("new") / "my-lab"
    project.mkdir()
    run(["pulumi", "new", str(TEMPLATE), "--generate-only", "--yes"], project, environment)
    settings = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert settings["name"] == "my-lab"
    assert "template" not in settings
    # The virtualenv Pulumi.yaml names, with the template's requirements and the components from
    # this checkout, as its requirements.txt tells (the SDKs held to the plugins built here).
    venv.create(project / "venv", with_pip=True)
    pip = [str(project / "venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    constraints = plugin_constraints(project.parent)
    run([*pip, "-r", "requirements.txt", str(ROOT), "--constraint", str(constraints)], project, environment)
    return project


def test_the_generated_program_passes_its_own_unit_test(generated: Path, environment: dict[str, str]) -> None:
    output = run(
        [str(generated / "venv" / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider"], generated, environment
    )
    assert "2 passed" in output


def test_the_generated_program_runs_the_lab_on_the_real_nodes_and_destroy_leaves_nothing(
    generated: Path, environment: dict[str, str], kubectl: Kubectl
) -> None:
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("the lab's behaviour needs the real node (E2E_NODE=real): kwok runs no containers")
    run(["pulumi", "stack", "init", "dev"], generated, environment)
    settings = {"namespace": NAMESPACE, **node_image_settings()}
    for key, value in settings.items():
        run(["pulumi", "config", "set", key, value], generated, environment)
    try:
        run(["pulumi", "up", "--yes", "--non-interactive"], generated, environment)
        pods = kubectl.get("pods", "-n", NAMESPACE)["items"]
        assert pods
        assert all(p["status"]["phase"] == "Running" for p in pods), [p["status"]["phase"] for p in pods]
        checked = run(["scripts/lab.sh", "check", "--namespace", NAMESPACE], ROOT, environment)
        assert "FAIL" not in checked
    finally:
        run(["pulumi", "destroy", "--yes", "--non-interactive"], generated, environment)
    assert not kubectl.exists("namespace", NAMESPACE)
    # And the stack records nothing: every object it made is gone.
    state = json.loads(run(["pulumi", "stack", "export"], generated, environment))
    assert not state["deployment"].get("resources")
