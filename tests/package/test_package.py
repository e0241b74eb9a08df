"""The components as an installable package: the wheel and sdist built from this checkout pass
`twine check`; the wheel, installed into a fresh virtualenv with nothing of the repository, at each
end of its dependencies' ranges (`tests.ends`: every dependency at its lower bound, and at the
newest its range allows on PyPI), runs the example program (examples/team-a) under Pulumi's mocks
and reads as a fully typed library. `scripts/test.sh package`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import multicontainer_patterns
from tests.ends import ENDS, dependencies, pip_arguments
from tests.tree import COMPONENTS, PACKAGE, ROOT

EXAMPLE = ROOT / "examples" / "team-a"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

pytestmark = pytest.mark.package


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, as `python -m build` makes them (the wheel from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "-q", "--outdir", str(out), str(ROOT)], check=True, timeout=600)
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    [built] = dist.glob("*.whl")
    return built


@dataclass(frozen=True)
class Installed:
    python: Path
    end: str
    versions: dict[str, str]
    """Each dependency's installed version, by name."""


@pytest.fixture(scope="module", params=ENDS)
def installed(request: pytest.FixtureRequest, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtualenv with the wheel and its dependencies at one end of their ranges."""
    env = tmp_path_factory.mktemp(f"venv-{request.param}")
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel), *pip_arguments(request.param)], check=True, timeout=900)
    names = [d.requirement.name for d in dependencies()]
    listed = subprocess.run(
        [
            str(python),
            "-c",
            "import json, sys; from importlib import metadata; "
            "print(json.dumps({n: metadata.version(n) for n in sys.argv[1:]}))",
            *names,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    versions = json.loads(listed.stdout)
    print(f"{request.param}: {versions}")
    return Installed(python, request.param, versions)


def newest_served(name: str) -> list[str]:
    """Every version of ``name`` the package index serves, as pip lists them, newest first."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", name, "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    line = next(line for line in listed.splitlines() if line.strip().startswith("Available versions:"))
    return [version.strip() for version in line.split(":", 1)[1].split(",")]


def test_each_end_has_its_dependencies_at_the_bounds_it_names(installed: Installed) -> None:
    for dependency in dependencies():
        version = installed.versions[dependency.requirement.name]
        if installed.end == "lowest":
            assert version == dependency.lowest
        else:
            allowed = [
                v for v in newest_served(dependency.requirement.name) if dependency.requirement.specifier.contains(v)
            ]
            assert version == allowed[0], (
                f"{dependency.requirement.name}: {version}, the newest allowed is {allowed[0]}"
            )


def test_the_sdist_and_the_wheel_pass_twine_check(dist: Path) -> None:
    built = sorted(str(path) for path in dist.iterdir())
    assert sorted(Path(path).suffix for path in built) == [".gz", ".whl"]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("twine")), "check", "--strict", *built],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_holds_the_components_their_files_and_type_information_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if not n.startswith(f"multi_container_patterns-{PROJECT['version']}.dist-info/")}
    in_repository = {
        str(path.relative_to(COMPONENTS))
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped == in_repository
    assert "multicontainer_patterns/py.typed" in shipped
    metadata = zipfile.ZipFile(wheel).read(f"multi_container_patterns-{PROJECT['version']}.dist-info/METADATA").decode()
    assert {
        str(Requirement(line.removeprefix("Requires-Dist: ")))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    } == {str(d.requirement) for d in dependencies()}


def test_the_lab_pins_versions_the_package_allows() -> None:
    """requirements.txt (the lab, an application) pins each dependency of the package exactly, within
    the range the package declares."""
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for dependency in dependencies():
        assert dependency.requirement.specifier.contains(pins[dependency.requirement.name])


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


def test_a_fresh_virtualenv_runs_the_example_with_the_installed_package(installed: Installed, tmp_path: Path) -> None:
    run = run_example(installed.python, tmp_path)
    # The installed package, not the checkout.
    assert "site-packages" in run["module"]
    assert not run["module"].startswith(str(PACKAGE))
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


def test_the_installed_package_exposes_only_its_exports_every_one_fully_typed(installed: Installed) -> None:
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
        env={**os.environ, "PATH": f"{installed.python.parent}{os.pathsep}{os.environ['PATH']}"},
        cwd=installed.python.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)["typeCompleteness"]
    assert report["pyTypedPath"].startswith(str(installed.python.parent.parent))
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
