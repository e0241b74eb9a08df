"""Conventions every component keeps, checked over the source tree."""

from __future__ import annotations

import ast
import inspect
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from multicontainer_patterns._registry import PACKAGES, REGISTRY
from tests import k8s
from tests.harness import ProgramRun, run
from tests.tree import PACKAGE, ROOT

# Each registered pattern's package directory, by its setting.
PATTERN_DIRS = {pattern.setting: Path(inspect.getfile(pattern.component)).parent for pattern in REGISTRY}


def _component_classes() -> list[tuple[Path, ast.ClassDef]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Attribute) and base.attr == "ComponentResource" for base in node.bases
            ):
                found.append((path, node))
    return found


def test_there_is_one_component_per_pattern_plus_the_lab_and_a_learners_lab() -> None:
    found = {(path.parent, cls.name) for path, cls in _component_classes()}
    registered = {(PATTERN_DIRS[p.setting], p.component.__name__) for p in REGISTRY}
    assert found == registered | {(PACKAGE, "MultiContainerLab"), (PACKAGE, "LearnerLab")}


def test_each_pattern_lives_in_its_own_package_named_after_its_setting() -> None:
    for setting, directory in PATTERN_DIRS.items():
        assert directory.parent == PACKAGE, setting
        assert directory.name == "_" + setting.replace("-", "_"), setting
    assert len(set(PATTERN_DIRS.values())) == len(REGISTRY)


@pytest.mark.parametrize(("path", "cls"), _component_classes(), ids=lambda v: getattr(v, "name", ""))
def test_each_component_uses_a_patterns_type_token_and_registers_outputs_last(path: Path, cls: ast.ClassDef) -> None:
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    super_call = init.body[0]
    assert isinstance(super_call, ast.Expr)
    assert isinstance(super_call.value, ast.Call)
    token = super_call.value.args[0]
    assert isinstance(token, ast.Constant)
    assert str(token.value).startswith("multicontainer:patterns:")
    last = init.body[-1]
    assert isinstance(last, ast.Expr)
    assert isinstance(last.value, ast.Call)
    assert isinstance(last.value.func, ast.Attribute)
    assert last.value.func.attr == "register_outputs"


def test_every_script_and_config_beside_a_component_is_shipped_verbatim(lab: ProgramRun) -> None:
    on_disk = {
        (setting, path.name): path.read_text()
        for setting, directory in PATTERN_DIRS.items()
        for path in directory.iterdir()
        if path.suffix in (".sh", ".awk", ".conf")
    }
    assert on_disk
    shipped = {}
    for config_map in lab.of_type("kubernetes:core/v1:ConfigMap"):
        # The lab names each pattern's component lab-<setting>.
        setting = lab.by_urn(config_map.parent).name.removeprefix("lab-")
        for key, text in config_map.inputs["data"].items():
            shipped[(setting, key)] = text
        assert config_map.inputs["immutable"] is True
        assert k8s.name_of(config_map).startswith(config_map.name)
    assert shipped == on_disk


def test_the_readme_example_of_using_a_component_runs_as_written() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use the components in your own program", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]

    def body() -> None:
        exec(compile(code, "README.md", "exec"), {})

    example = run(body)
    deployment = next(r for r in example.resources if r.type == "kubernetes:apps/v1:Deployment")
    assert deployment.inputs["metadata"] == {
        **deployment.inputs["metadata"],
        "name": "edge-proxy",
        "namespace": "team-a",
    }


def test_every_file_the_toolchain_builds_from_is_in_git_and_a_regular_file() -> None:
    # CI builds from a clean clone: an ignored or untracked file (say a `*.log` link in an image's
    # rootfs/) would be in a local build and missing from CI's; the cache key hashes regular files.
    toolchain = ROOT / "e2e" / "toolchain"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    untracked = subprocess.run(
        ["git", "ls-files", "--others", "--", str(toolchain)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert untracked == []
    assert [path for path in toolchain.rglob("*") if path.is_symlink()] == []


def test_every_pattern_package_is_registered() -> None:
    declaring = {
        path.parent.name
        for path in PACKAGE.glob("*/__init__.py")
        if any(
            isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PATTERN" for t in node.targets)
            for node in ast.parse(path.read_text()).body
        )
    }
    assert declaring == set(PACKAGES)


def test_the_readme_names_the_pythons_the_unit_suite_runs_on() -> None:
    """`scripts/test.sh pythons` runs the unit suite on each Python of pyproject.toml's classifiers;
    the README's prerequisites name those, and the oldest is what the package requires."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: 3."
    pythons = [f"3.{c.removeprefix(prefix)}" for c in project["classifiers"] if c.startswith(prefix)]
    assert pythons
    assert project["requires-python"] == f">={pythons[0]}"
    readme = (ROOT / "README.md").read_text()
    prerequisites = " ".join(readme.split("## Prerequisites", 1)[1].split("\n## ", 1)[0].split())
    named = ", ".join(pythons[:-1]) + f" and {pythons[-1]}"
    assert f"the unit suite runs on {named} (`scripts/test.sh pythons`)" in prerequisites
