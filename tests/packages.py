"""The distribution's packages the behaviour tests run (busybox and nginx, listed in
``tests/debian-packages.txt``), downloaded with apt and unpacked into a cache, by any user: no
installation, no root. It is how the end-to-end suite's images are made too (the packages and
their dependencies, unpacked), so the tests run the binaries those images hold.

The cache, ``${XDG_CACHE_HOME:-~/.cache}/multi-container-patterns/test-packages/<key>/``, holds
``rootfs/`` (every package unpacked) and ``packages.txt`` (name and version of each, written
last); the key hashes the package list and the distribution's release, so a change of either
fetches again. ``python -m tests.packages`` fetches what is missing and prints where it is."""

from __future__ import annotations

import getpass
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

LIST = Path(__file__).with_name("debian-packages.txt")


class FetchError(RuntimeError):
    """The packages could not be downloaded or unpacked; the message says what apt said."""


def names() -> list[str]:
    """The packages of ``tests/debian-packages.txt``, one per line, comments left out."""
    lines = (line.split("#", 1)[0].strip() for line in LIST.read_text().splitlines())
    return [line for line in lines if line]


def _release() -> str:
    fields = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return f"{fields.get('ID', '')}-{fields.get('VERSION_CODENAME', fields.get('VERSION_ID', ''))}".replace('"', "")


def directory() -> Path:
    """Where the unpacked packages of this list, release and architecture live."""
    key = hashlib.sha256(f"{names()}|{_release()}|{platform.machine()}".encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "multi-container-patterns" / "test-packages" / key


def _apt(*arguments: str, lists: Path | None) -> subprocess.CompletedProcess[str]:
    """apt-get as the current user: no lock on the machine's apt state, no sandbox user, and
    the package lists of ``lists`` instead of the machine's when given."""
    options = ["-o", "Debug::NoLocking=1", "-o", f"APT::Sandbox::User={getpass.getuser()}"]
    if lists is not None:
        (lists / "partial").mkdir(parents=True, exist_ok=True)
        options += ["-o", f"Dir::State::Lists={lists}"]
    return subprocess.run(
        ["apt-get", "-q", *options, *arguments], capture_output=True, text=True, check=False, timeout=600
    )


def _download(into: Path, lists: Path | None) -> subprocess.CompletedProcess[str]:
    """Every listed package and what it depends on, as apt resolves them for an empty system."""
    (into / "partial").mkdir(parents=True, exist_ok=True)
    status = into / "status"
    status.write_text("")
    return _apt(
        "-o",
        f"Dir::State::status={status}",
        "-o",
        f"Dir::Cache::Archives={into}",
        "install",
        "--download-only",
        "--no-install-recommends",
        "--yes",
        *names(),
        lists=lists,
    )


@cache
def rootfs() -> Path:
    """The unpacked packages, fetched first when the cache lacks them. Raises FetchError."""
    final = directory()
    if (final / "packages.txt").exists():
        return final / "rootfs"
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise FetchError(f"`{tool}` is missing: the packages come from a Debian or Ubuntu package archive")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=final.parent))
    try:
        debs = work / "debs"
        fetched = _download(debs, lists=None)
        if fetched.returncode != 0:
            # The machine's package lists are missing or stale: read the archive's own, privately.
            lists = final.parent / "lists"
            updated = _apt("update", lists=lists)
            if updated.returncode != 0:
                raise FetchError(f"apt-get update failed:\n{updated.stdout}{updated.stderr}")
            fetched = _download(debs, lists=lists)
            if fetched.returncode != 0:
                raise FetchError(f"apt-get could not download {' '.join(names())}:\n{fetched.stderr}")
        versions = []
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "rootfs")], check=True, timeout=120)
            fields = subprocess.run(
                ["dpkg-deb", "-f", str(deb), "Package", "Version"], capture_output=True, text=True, check=True
            )
            versions.append(" ".join(line.split(": ", 1)[1] for line in fields.stdout.splitlines()))
        shutil.rmtree(debs)
        (work / "packages.txt").write_text("\n".join(versions) + "\n")
        try:
            work.rename(final)
        except OSError:  # another process fetched them first
            if not (final / "packages.txt").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final / "rootfs"


def main() -> int:
    try:
        root = rootfs()
    except FetchError as error:
        print(f"test packages: {error}", file=sys.stderr)
        return 1
    versions = (root.parent / "packages.txt").read_text().split("\n")
    listed = [line for line in versions if line.split(" ")[0] in names()]
    print(f"test packages: {', '.join(listed)} unpacked in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
