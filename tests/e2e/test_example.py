"""The example program (examples/team-a) for real: its own virtualenv with the components installed
from this checkout as `pip install` installs them (not the repository's `.venv`), `pulumi up` on
the real nodes until its pods are ready, then `pulumi destroy` leaves nothing."""

from __future__ import annotations

import shutil
import subprocess
import venv

import pytest
from pulumi import automation as auto

from tests.e2e.support import ROOT, Kubectl, node_image_settings, plugin_constraints

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "examples" / "team-a"
NAMESPACE = "e2e-team-a"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, kubeconfig: str) -> auto.Stack:
    work = tmp_path_factory.mktemp("example")
    project = work / "team-a"
    shutil.copytree(EXAMPLE, project)
    # The virtualenv Pulumi.yaml names, made here so its requirement (this checkout) resolves; the
    # SDKs held to the plugins built here.
    venv.create(project / "venv", with_pip=True)
    constraints = plugin_constraints(work)
    subprocess.run(
        [str(project / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT), "-c", str(constraints)],
        check=True,
        timeout=600,
    )
    assert not (project / "multicontainer_patterns").exists()
    backend = work / "state"
    backend.mkdir()
    env = {"PULUMI_BACKEND_URL": f"file://{backend}", "PULUMI_CONFIG_PASSPHRASE": "e2e", "KUBECONFIG": kubeconfig}
    options = auto.LocalWorkspaceOptions(work_dir=str(project), env_vars=env, secrets_provider="passphrase")
    stack = auto.create_or_select_stack("e2e", work_dir=str(project), opts=options)
    images = node_image_settings()
    stack.set_all_config(
        {
            "namespace": auto.ConfigValue(NAMESPACE),
            "busyboxImage": auto.ConfigValue(images["busyboxImage"]),
            "nginxImage": auto.ConfigValue(images["nginxImage"]),
        }
    )
    return stack


def test_the_example_comes_up_with_the_installed_package_and_goes_away(example: auto.Stack, kubectl: Kubectl) -> None:
    try:
        result = example.up(on_output=print)
        assert result.summary.result == "succeeded"
        assert result.outputs["namespace"].value == NAMESPACE
        pod = kubectl.get("pod", result.outputs["pod"].value, "-n", NAMESPACE)
        assert {c["name"]: c["ready"] for c in pod["status"]["containerStatuses"]} == {"app": True, "log-shipper": True}
        deployment = kubectl.get("deployment", result.outputs["deployment"].value, "-n", NAMESPACE)
        assert deployment["status"].get("readyReplicas") == 1
    finally:
        example.destroy(on_output=print)
    assert not kubectl.exists("namespace", NAMESPACE)
