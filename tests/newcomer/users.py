"""Users made for a test, as a newcomer's machine has them: a fresh account with a home of its own
(and, like GitHub's runner, passwordless sudo when asked for), and a fresh clone of this tree in it.
Made and removed as root."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.tree import ROOT, copy_tree

CLONE = "multi-container-patterns"


@dataclass(frozen=True)
class User:
    name: str
    home: Path

    @property
    def clone(self) -> Path:
        return self.home / CLONE

    def run(
        self, script: str, env: Mapping[str, str] | None = None, *, cwd: Path | None = None, timeout: float = 1800
    ) -> subprocess.CompletedProcess[str]:
        """``script`` in a login shell of the user's (their environment, not ours), with ``env``
        added, in ``cwd`` (the clone by default); its output and errors together."""
        exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in (env or {}).items())
        where = f"cd {shlex.quote(str(cwd or self.clone))}\n"
        return subprocess.run(
            ["su", "--login", self.name, "--shell", "/bin/bash", "--command", exports + where + script],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )


def tree_bundle(directory: Path) -> Path:
    """This tree as it is now (its tracked and untracked files, not the ignored ones) committed to a
    git bundle anyone can clone."""
    source = copy_tree(directory / "source")
    identity = {"GIT_AUTHOR_NAME": "tree", "GIT_AUTHOR_EMAIL": "tree@localhost"}
    identity |= {"GIT_COMMITTER_NAME": "tree", "GIT_COMMITTER_EMAIL": "tree@localhost"}
    environment = {**os.environ, **identity}
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "tree"]):
        subprocess.run(["git", *command], cwd=source, env=environment, check=True, capture_output=True)
    bundle = directory / "tree.bundle"
    subprocess.run(
        ["git", "bundle", "create", str(bundle), "HEAD", "main"], cwd=source, check=True, capture_output=True
    )
    directory.chmod(0o755)
    bundle.chmod(0o644)
    return bundle


def _install(*packages: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "install-debian-packages.sh"), *packages], check=True)


@contextmanager
def new_user(bundle: Path, *, sudo: bool = False) -> Iterator[User]:
    """A fresh account with a clone of ``bundle`` in its home; removed after, with what it left."""
    assert os.geteuid() == 0, "making users needs root"
    name = f"newcomer-{secrets.token_hex(3)}"
    sudoers = Path("/etc/sudoers.d") / name
    if sudo:
        _install("sudo")
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    try:
        if sudo:
            sudoers.write_text(f"{name} ALL=(ALL) NOPASSWD: ALL\n")
            sudoers.chmod(0o440)
        user = User(name, Path(os.path.expanduser(f"~{name}")))
        cloned = user.run(f"git clone -q {shlex.quote(str(bundle))} {CLONE}", cwd=user.home)
        assert cloned.returncode == 0, cloned.stdout
        yield user
    finally:
        sudoers.unlink(missing_ok=True)
        subprocess.run(["pkill", "--signal", "KILL", "--uid", name], check=False)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
        for leftover in Path(tempfile.gettempdir()).glob(f"pytest-of-{name}"):
            shutil.rmtree(leftover, ignore_errors=True)
