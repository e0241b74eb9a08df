"""Pieces of the end-to-end suite that the benchmark uses too: kubectl against the test cluster,
a copy of the real project, and a stack of it on a throwaway local backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from tests import k8s
from tests.harness import run_program
from tests.tree import COMPONENTS, ROOT, copy_tree, e2e_versions

POLICY_PACK = "policy"
STACK = "e2e"


class Kubectl:
    """kubectl against the test cluster, returning parsed JSON."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig

    def run(
        self, *args: str, check: bool = True, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
            input=input,
        )

    def get(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json").stdout)

    def exists(self, *args: str) -> bool:
        result = self.run("get", *args, "--ignore-not-found", "-o", "name", check=False)
        assert result.returncode == 0, result.stderr
        return bool(result.stdout.strip())


def kubectl_resource(type_token: str) -> str:
    """How kubectl names the objects of a Kubernetes type token: `pod`, `deployment.apps`, ..."""
    group, _, kind = k8s.group_version_kind(type_token)
    return kind.lower() if group == "core" else f"{kind.lower()}.{group}"


def copy_project(work: Path) -> Path:
    """A copy of this tree, as a fresh clone has it (the program, its settings, the policy pack and
    the scripts the README gives), using the repository's .venv, so the stack files and state the
    runs write never land in the repository. The policy pack's virtualenv is that .venv too (it
    holds the pack's pinned requirements), so `--policy-pack` installs nothing from the network."""
    copy_tree(work)
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / POLICY_PACK / "venv").symlink_to(ROOT / ".venv")
    return work


def shell(cwd: Path, script: str, env: Mapping[str, str], timeout: float = 900) -> str:
    """``script`` in bash in ``cwd``, as a user types it; its output (stdout and stderr as one),
    printed; fails with the output unless the script succeeds."""
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    print(f"$ {script}\n{result.stdout}")
    assert result.returncode == 0, f"{script} failed ({result.returncode}):\n{result.stdout[-6000:]}"
    return result.stdout


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 180, interval: float = 0.2) -> None:
    """Polls ``condition`` every ``interval`` seconds; fails naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(interval)


def plugin_constraints(directory: Path) -> Path:
    """A pip constraints file, written in ``directory``, holding the Pulumi SDKs to the provider
    plugins the toolchain built (e2e/versions.env): a program whose requirements allow newer SDKs
    would otherwise ask for plugins this machine has no way to download."""
    built = e2e_versions()
    path = directory / "plugin-constraints.txt"
    path.write_text(
        f"pulumi=={built['PULUMI_PYTHON_SDK_VERSION']}\n"
        f"pulumi-kubernetes=={built['PULUMI_KUBERNETES_VERSION']}\n"
        f"pulumi-tls=={built['PULUMI_TLS_VERSION']}\n"
    )
    return path


def node_image_settings() -> dict[str, str]:
    """The image settings that point the lab at the images the toolchain built for the real node:
    ``<toolchain>/images/<name>.setting`` names the setting, ``<name>.ref`` the image."""
    images = Path(os.environ["E2E_TOOLCHAIN"]) / "images"
    settings = {
        path.read_text().strip(): path.with_suffix(".ref").read_text().strip() for path in images.glob("*.setting")
    }
    assert settings, f"no image settings in {images}: run e2e/install-toolchain.sh"
    return settings


def local_stack(project: Path, backend: Path, kubeconfig: str, name: str = STACK) -> auto.Stack:
    """The project's stack on a file backend in ``backend``, with a passphrase secrets provider and
    the local cluster's images."""
    # pulumi-kubernetes copies the kubeconfig to a new temporary file each time it starts (for
    # Helm) and never removes it: those go beside the backend, not into the machine's /tmp.
    scratch = backend.parent / f"{backend.name}-tmp"
    scratch.mkdir(exist_ok=True)
    env = {
        "PULUMI_BACKEND_URL": f"file://{backend}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-passphrase",
        "KUBECONFIG": kubeconfig,
        "TMPDIR": str(scratch),
        # The copy's own components, ahead of the checkout's that the shared .venv installs.
        "PYTHONPATH": str(project / COMPONENTS.relative_to(ROOT)),
    }
    options = auto.LocalWorkspaceOptions(work_dir=str(project), env_vars=env, secrets_provider="passphrase")
    stack = auto.create_or_select_stack(name, work_dir=str(project), opts=options)
    stack.set_all_config({setting: auto.ConfigValue(image) for setting, image in node_image_settings().items()})
    return stack


def run_cli(
    stack: auto.Stack, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The plain ``pulumi`` CLI on ``stack``, in its workspace and with its environment (plus
    ``env``), as a user types it; a failure raises with what the CLI printed, unless ``check``
    is false."""
    result = subprocess.run(
        ["pulumi", *args, "--stack", stack.name, "--non-interactive"],
        cwd=stack.workspace.work_dir,
        env={**os.environ, **stack.workspace.env_vars, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def run_classroom(class_stack: auto.Stack, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``python -m classroom`` (what scripts/classroom.sh runs) on the class's stack, in its
    workspace and with its environment; prints what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "classroom", "--stack", class_stack.name, *args],
        cwd=class_stack.workspace.work_dir,
        env={**os.environ, **class_stack.workspace.env_vars, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout, result.stderr)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"classroom {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


# `kubectl apply -f` order: each namespace first, then what its objects need (the classroom's
# accounts and quota, policies, mounted files), then workloads, then Services.
KIND_ORDER = (
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "Deployment",
    "Pod",
    "Service",
)


def write_manifests(path: Path, *configs: Mapping[str, str]) -> int:
    """The Kubernetes objects the program renders under mocks with each of ``configs`` (a stack's
    settings each), as `kubectl apply -f` takes them (a token Secret without the data its controller
    writes); returns their count."""
    objects = []
    for resource in (r for config in configs for r in run_program(config).kubernetes_objects()):
        manifest = dict(resource.state)
        if manifest.get("type") == "kubernetes.io/service-account-token":
            manifest.pop("data", None)
        objects.append(manifest)
    objects.sort(key=lambda o: KIND_ORDER.index(o["kind"]))
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return len(objects)


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
