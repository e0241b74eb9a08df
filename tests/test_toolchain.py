"""The end-to-end toolchain's cache, keyed per piece: a pin change, another Kubernetes release or a
kwok cluster changes exactly the pieces built from it, so the next build makes only those.
Reads `e2e/install-toolchain.sh --pieces`, which builds nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tree import ROOT, e2e_versions

E2E = ROOT / "e2e"


def pieces(e2e: Path = E2E, **env: str) -> dict[str, str]:
    """piece name -> its key, as install-toolchain.sh names their directories."""
    result = subprocess.run(
        [str(e2e / "install-toolchain.sh"), "--pieces"],
        env={**os.environ, "E2E_NODE": "real", "E2E_KUBERNETES_VERSION": "", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(line.rsplit("-", 1) for line in result.stdout.split())


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


RELEASES = e2e_versions()["KUBERNETES_VERSIONS"].split()


def test_every_kubernetes_release_has_its_wrapper_module() -> None:
    for release in RELEASES:
        minor = release.rsplit(".", 1)[0]
        module = E2E / "toolchain" / f"kubernetes-{minor}"
        assert f"require k8s.io/kubernetes v{release}" in (module / "go.mod").read_text(), module
        assert (module / "go.sum").is_file()


@pytest.mark.parametrize("release", RELEASES[1:])
def test_another_kubernetes_release_changes_only_the_kubernetes_piece(release: str) -> None:
    newest = pieces()
    older = pieces(E2E_KUBERNETES_VERSION=release.rsplit(".", 1)[0])
    assert changed(newest, older) == {
        f"kubernetes-{RELEASES[0].rsplit('.', 1)[0]}",
        f"kubernetes-{release.rsplit('.', 1)[0]}",
    }


def test_a_kwok_cluster_adds_only_the_kwok_piece() -> None:
    assert changed(pieces(), pieces(E2E_NODE="kwok")) == {"kwok"}


def test_a_pin_changes_only_the_pieces_built_from_it(tmp_path: Path) -> None:
    copy = tmp_path / "e2e"
    shutil.copytree(E2E, copy)
    before = pieces(copy)
    env_file = copy / "versions.env"
    env_file.write_text(re.sub(r"(?m)^RUNC_VERSION=.*$", "RUNC_VERSION=9.9.9", env_file.read_text()))
    assert changed(before, pieces(copy)) == {"runc"}
    # A file of a piece's wrapper module is an input of that piece alone.
    (copy / "toolchain" / "coredns" / "main.go").write_text("package main\n")
    assert changed(before, pieces(copy)) == {"runc", "coredns"}


def test_an_unknown_release_is_refused_with_the_releases_there_are() -> None:
    result = subprocess.run(
        [str(E2E / "install-toolchain.sh"), "--pieces"],
        env={**os.environ, "E2E_KUBERNETES_VERSION": "1.20"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "E2E_KUBERNETES_VERSION=1.20" in result.stderr
    assert " ".join(RELEASES) in result.stderr


def test_the_labs_sdk_pins_are_the_plugins_the_toolchain_builds() -> None:
    """Each Python SDK asks the engine for its own provider plugin version: the lab's pins must be
    the versions the toolchain builds and installs, or the end-to-end runs find no plugin."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==")
            pins[name.strip().lower()] = version.strip()
    built = e2e_versions()
    assert pins["pulumi"] == built["PULUMI_PYTHON_SDK_VERSION"]
    assert pins["pulumi-kubernetes"] == built["PULUMI_KUBERNETES_VERSION"]
    assert pins["pulumi-tls"] == built["PULUMI_TLS_VERSION"]


def test_the_oldest_release_run_is_the_oldest_the_readme_supports() -> None:
    """`scripts/up.sh` refuses clusters below the oldest release of KUBERNETES_VERSIONS; the README's
    prerequisites name the same."""
    oldest = ".".join(e2e_versions()["KUBERNETES_VERSIONS"].split()[-1].split(".")[:2])
    prerequisites = (ROOT / "README.md").read_text().split("## Prerequisites", 1)[1].split("\n## ", 1)[0]
    assert f"Kubernetes **{oldest}+**" in prerequisites


def test_the_readme_names_every_release_the_suite_runs() -> None:
    """The README's supported releases are the ones run: each of KUBERNETES_VERSIONS, no other."""
    prerequisites = " ".join(
        (ROOT / "README.md").read_text().split("## Prerequisites", 1)[1].split("\n## ", 1)[0].split()
    )
    named = set(re.findall(r"\b1\.\d+\.\d+\b(?!\+)", prerequisites))  # not a floor such as 1.29.7+
    assert named == set(e2e_versions()["KUBERNETES_VERSIONS"].split())
