"""The two ends of the ranges the components declare (pyproject.toml's dependencies): the lowest,
each dependency at its lower bound, and the newest, each at the newest release its range allows
that the package index serves. The package suite installs the wheel at each end; `scripts/test.sh
ends` runs the unit suite at each.

    python -m tests.ends lowest|newest      the pip arguments that install that end
    python -m tests.ends installed          the running interpreter's versions of them"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import Requirement

from tests.tree import ROOT

ENDS = ("lowest", "newest")


@dataclass(frozen=True)
class Dependency:
    requirement: Requirement

    @property
    def lowest(self) -> str:
        """The lower bound: the version of its `>=` clause."""
        (bound,) = [s.version for s in self.requirement.specifier if s.operator == ">="]
        return bound


def dependencies() -> Iterator[Dependency]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        yield Dependency(Requirement(line))


def pip_arguments(end: str) -> list[str]:
    """What `pip install` takes to install the dependencies at ``end``: pinned to their lower
    bounds, or their ranges with `--upgrade` (pip then takes the newest each range allows)."""
    if end == "lowest":
        return [f"{d.requirement.name}=={d.lowest}" for d in dependencies()]
    assert end == "newest", end
    return ["--upgrade", *(str(d.requirement) for d in dependencies())]


def main(arguments: list[str]) -> int:
    if arguments == ["installed"]:
        names = [d.requirement.name for d in dependencies()]
        print(", ".join(f"{name} {metadata.version(name)}" for name in names))
        return 0
    if len(arguments) != 1 or arguments[0] not in ENDS:
        print(f"usage: python -m tests.ends {'|'.join(ENDS)}|installed", file=sys.stderr)
        return 2
    print("\n".join(pip_arguments(arguments[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
