"""The components as an installable package: the wheel built from this checkout, installed into a
fresh virtualenv with its pinned dependencies and nothing of the repository, runs the example
program (examples/team-a) under Pulumi's mocks. `scripts/test.sh package`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

import multicontainer_patterns

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "team-a"
PACKAGE = ROOT / "multicontainer_patterns"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

pytestmark = pytest.mark.package


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    [built] = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel and its dependencies; returns its interpreter."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    return python


def test_the_wheel_holds_the_components_their_files_and_type_information_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if not n.startswith(f"multi_container_patterns-{PROJECT['version']}.dist-info/")}
    in_repository = {
        str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*") if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == in_repository
    assert "multicontainer_patterns/py.typed" in shipped
    metadata = zipfile.ZipFile(wheel).read(f"multi_container_patterns-{PROJECT['version']}.dist-info/METADATA").decode()
    assert {
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    } == set(PROJECT["dependencies"])


def test_the_lab_and_the_package_pin_the_same_dependencies() -> None:
    """requirements.txt (the lab's virtualenv) pins every dependency of the package the same way."""
    lab = {
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert set(PROJECT["dependencies"]) <= lab


def run_example(python: Path, cwd: Path) -> dict[str, Any]:
    config = ["namespace=team-a", "busyboxImage=busybox:1.36", "nginxImage=nginx:1.25.3-alpine"]
    result = subprocess.run(
        [str(python), str(Path(__file__).with_name("run_example.py")), str(EXAMPLE), *config],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_fresh_virtualenv_runs_the_example_with_the_installed_package(installed: Path, tmp_path: Path) -> None:
    run = run_example(installed, tmp_path)
    # The installed package, not the checkout.
    assert "site-packages" in run["module"]
    assert not run["module"].startswith(str(ROOT / "multicontainer_patterns"))
    assert run["version"] == PROJECT["version"]
    assert run["typed"]
    registered = run["registered"]
    components = {r["type"] for r in registered if r["type"].startswith("multicontainer:")}
    assert components == {"multicontainer:patterns:Sidecar", "multicontainer:patterns:NativeSidecar"}
    objects = [
        r for r in registered if r["type"].startswith("kubernetes:") and r["type"] != "kubernetes:core/v1:Namespace"
    ]
    assert objects
    assert {r["inputs"]["metadata"]["namespace"] for r in objects} == {"team-a"}
    names = {(r["type"], r["inputs"]["metadata"]["name"]) for r in objects}
    assert ("kubernetes:core/v1:Pod", "orders") in names
    assert ("kubernetes:apps/v1:Deployment", "edge-proxy") in names
    assert ("kubernetes:core/v1:Service", "edge-proxy") in names
    # The scripts the components mount come with the package.
    [scripts] = [
        r for r in registered if r["type"] == "kubernetes:core/v1:ConfigMap" and "app.sh" in r["inputs"]["data"]
    ]
    assert scripts["inputs"]["data"]["app.sh"] == (PACKAGE / "_sidecar" / "app.sh").read_text()


def test_the_installed_package_exposes_only_its_exports_every_one_fully_typed(installed: Path) -> None:
    """pyright's view of the installed package as a library, as its users' type checkers see it:
    the package is the only public module, its public symbols are what it exports (and their
    members), and every one of them has a known type and a docstring."""
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pyright")),
            "--verifytypes",
            "multicontainer_patterns",
            "--ignoreexternal",
            "--outputjson",
        ],
        # pyright takes the environment of the `python` it finds first.
        env={**os.environ, "PATH": f"{installed.parent}{os.pathsep}{os.environ['PATH']}"},
        cwd=installed.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)["typeCompleteness"]
    assert report["pyTypedPath"].startswith(str(installed.parent.parent))
    assert [module["name"] for module in report["modules"]] == ["multicontainer_patterns"]
    exported = {
        symbol["name"].removeprefix("multicontainer_patterns.").split(".")[0]
        for symbol in report["symbols"]
        if symbol["isExported"]
    }
    assert exported == set(multicontainer_patterns.__all__)
    problems = [
        (symbol["name"], diagnostic["message"])
        for symbol in report["symbols"]
        for diagnostic in symbol["diagnostics"]
        if diagnostic["severity"] == "error"
    ]
    assert problems == []
    assert report["completenessScore"] == 1
    assert report["missingFunctionDocStringCount"] == 0
    assert report["missingClassDocStringCount"] == 0
