"""This tree as a fresh clone of it has it: its tracked files and the untracked ones git does not
ignore (what a commit of it would hold), without the ignored ones (.venv, caches, state); and the
versions its end-to-end toolchain builds (e2e/versions.env)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The component library's source root, and its package.
COMPONENTS = ROOT / "components"
PACKAGE = COMPONENTS / "multicontainer_patterns"


def e2e_versions() -> dict[str, str]:
    """e2e/versions.env's settings (its `NAME=value` lines), by name, without their quotes."""
    lines = (ROOT / "e2e" / "versions.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if re.match(r"^\w+=", line))
    return {name: value.strip('"') for name, value in pairs}


def files() -> list[str]:
    """The tree's files, relative to it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    names = (os.fsdecode(name) for name in listed if name)
    return [name for name in names if (ROOT / name).is_file() or (ROOT / name).is_symlink()]


def copy_tree(destination: Path) -> Path:
    """The tree's files copied into ``destination`` (made when missing), modes kept."""
    for name in files():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name, follow_symlinks=False)
    return destination
