"""The package's public API: what `multicontainer_patterns` exports, documented by its docstrings,
and the API reference (docs/api.md) generated from them."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import griffe
import pytest

import multicontainer_patterns
from tests.ends import dependencies
from tests.tree import COMPONENTS, PACKAGE, ROOT

REFERENCE = ROOT / "docs" / "api.md"


def _package() -> griffe.Module:
    package = griffe.load("multicontainer_patterns", search_paths=[str(COMPONENTS)])
    assert isinstance(package, griffe.Module)
    return package


def _documented_objects() -> list[tuple[str, griffe.Object | griffe.Alias]]:
    """Every exported name, and every public member each exported class declares itself."""
    package = _package()
    found: list[tuple[str, griffe.Object | griffe.Alias]] = []
    for name in multicontainer_patterns.__all__:
        exported = package[name]
        found.append((name, exported))
        if exported.is_class:
            found += [
                (f"{name}.{member_name}", member)
                for member_name, member in exported.members.items()
                if not member_name.startswith("_")
            ]
    return found


def test_every_module_but_the_package_itself_is_private_by_name() -> None:
    modules = {path.relative_to(PACKAGE).with_suffix("").parts for path in PACKAGE.rglob("*.py")}
    names = {parts[:-1] if parts[-1] == "__init__" else parts for parts in modules}
    public = {name for name in names if not any(part.startswith("_") for part in name)}
    assert public == {()}, "modules other than the package itself without a leading underscore"


def test_the_api_is_what_the_package_exports() -> None:
    assert sorted(multicontainer_patterns.__all__) == sorted(
        name for name in vars(multicontainer_patterns) if not name.startswith("_")
    ), "a public name the package does not list in __all__ (or lists but does not define)"


@pytest.mark.parametrize(("name", "documented"), _documented_objects(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_name_has_a_docstring_whose_first_line_is_a_sentence(
    name: str, documented: griffe.Object | griffe.Alias
) -> None:
    # The reference lists each name with the first line of its docstring.
    docstring = documented.docstring
    assert docstring is not None, f"{name} has no docstring"
    first_line = docstring.value.splitlines()[0]
    assert first_line.endswith("."), f"{name}: the first line is not a whole sentence: {first_line!r}"


def test_the_api_reference_is_generated_from_the_current_docstrings() -> None:
    generated = subprocess.run(
        [Path(sys.executable).with_name("griffe2md"), "multicontainer_patterns"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert REFERENCE.read_text() == generated, "docs/api.md is stale: regenerate it with scripts/api-docs.sh"


def test_the_version_is_the_same_in_pyproject_the_changelog_and_the_package() -> None:
    """The release a user finds: pyproject.toml's version, the CHANGELOG's newest heading and the
    installed package's `__version__`."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    headings = re.findall(r"^## (\S+)\s*$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == version
    assert multicontainer_patterns.__version__ == version


def test_each_dependency_is_a_range_from_a_release_to_its_next_major() -> None:
    """A library that pins exactly cannot join a project on another version: each Requires-Dist is
    a lower bound (a release the suites run) and the next major as its upper bound."""
    for dependency in dependencies():
        requirement = dependency.requirement
        operators = sorted(s.operator for s in requirement.specifier)
        assert operators == ["<", ">="], f"{requirement}: want >=LOW,<NEXT-MAJOR"
        (upper,) = [s.version for s in requirement.specifier if s.operator == "<"]
        assert upper == str(int(dependency.lowest.split(".")[0]) + 1), f"{requirement}: its upper bound"
