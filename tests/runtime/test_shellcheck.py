"""Every container script passes shellcheck for the shell the images have (busybox ash: POSIX
sh; Debian's shellcheck 0.9 has no busybox dialect) and parses with that very shell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .images import BUSYBOX

pytestmark = pytest.mark.runtime

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
SCRIPTS = sorted(COMPONENTS.rglob("*.sh"))


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 7, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(s.relative_to(COMPONENTS)) for s in SCRIPTS])
def test_script_passes_shellcheck(script: Path) -> None:
    lint = subprocess.run(
        ["/usr/bin/shellcheck", "--shell=sh", "--norc", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    syntax = subprocess.run([BUSYBOX, "sh", "-n", str(script)], capture_output=True, text=True, timeout=10, check=False)
    assert syntax.returncode == 0, syntax.stderr
