"""Fixtures of the end-to-end suite: the real project, driven by the Automation API, against the
local control plane that `e2e/with-cluster.sh` starts (it exports KUBECONFIG, PATH with the
pulumi CLI, kubectl and PULUMI_HOME with the provider plugins)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "components")
STACK = "e2e"


class Kubectl:
    """kubectl against the test cluster, returning parsed JSON."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def get(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json").stdout)

    def exists(self, *args: str) -> bool:
        result = self.run("get", *args, "--ignore-not-found", "-o", "name", check=False)
        assert result.returncode == 0, result.stderr
        return bool(result.stdout.strip())


@pytest.fixture(scope="session")
def kubeconfig() -> str:
    path = os.environ.get("KUBECONFIG", "")
    if not path or shutil.which("pulumi") is None or shutil.which("kubectl") is None:
        pytest.fail(
            "the end-to-end suite needs the toolchain and cluster: run it with "
            "`scripts/test.sh e2e` (e2e/with-cluster.sh sets PATH, PULUMI_HOME and KUBECONFIG)"
        )
    return path


@pytest.fixture(scope="session")
def kubectl(kubeconfig: str) -> Kubectl:
    return Kubectl(kubeconfig)


@pytest.fixture(scope="session")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the real project (program, components, settings), using the repository's .venv,
    so stack files the Automation API writes never land in the repository."""
    work = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, work / name)
    (work / ".venv").symlink_to(ROOT / ".venv")
    return work


@pytest.fixture(scope="session")
def stack(project_dir: Path, kubeconfig: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    backend = tmp_path_factory.mktemp("state")
    env = {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "KUBECONFIG": kubeconfig,
    }
    options = auto.LocalWorkspaceOptions(work_dir=str(project_dir), env_vars=env, secrets_provider="passphrase")
    created = auto.create_or_select_stack(STACK, work_dir=str(project_dir), opts=options)
    yield created
    # Whatever a test left behind is removed, so a failed run does not leak objects.
    created.destroy(on_output=print)
    created.workspace.remove_stack(STACK)
