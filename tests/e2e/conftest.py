"""Fixtures of the end-to-end suite: the real project, driven by the Automation API, against the
local control plane that `e2e/with-cluster.sh` starts (it exports KUBECONFIG, PATH with the
pulumi CLI, kubectl and PULUMI_HOME with the provider plugins)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.support import STACK, Kubectl, copy_project, local_stack


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
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file backend: what Pulumi stores at rest."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session")
def stack(project_dir: Path, kubeconfig: str, state_dir: Path) -> Iterator[auto.Stack]:
    created = local_stack(project_dir, state_dir, kubeconfig)
    yield created
    # Whatever a test left behind is removed, so a failed run does not leak objects.
    created.destroy(on_output=print)
    created.workspace.remove_stack(STACK)
