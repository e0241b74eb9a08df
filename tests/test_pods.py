"""Where the lab's pods cannot run (`tests.pods`), the test command says why and what to do: each
thing a user who is not root may lack is named with the command that gives it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests import pods

ENOUGH = f"{pods.POD_IDS - 1}"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A machine that gives the user `learner` everything; the test takes things away. Returns its
    settings, by name."""
    settings: dict[str, str] = {"user.max_user_namespaces": "15000", "kernel.unprivileged_userns_clone": "1"}
    for name in ("subuid", "subgid"):
        (tmp_path / name).write_text(f"someone:100000:65536\nlearner:165536:{ENOUGH}\n")
    monkeypatch.setattr(pods, "SUBUID", tmp_path / "subuid")
    monkeypatch.setattr(pods, "SUBGID", tmp_path / "subgid")
    monkeypatch.setattr(pods, "_user", lambda: "learner")
    monkeypatch.setattr(pods, "_sysctl", settings.get)
    monkeypatch.setattr(shutil, "which", lambda tool: f"/usr/bin/{tool}")
    return settings


def test_a_machine_that_gives_the_user_ids_and_namespaces_lacks_nothing(machine: dict[str, str]) -> None:
    assert pods._what_the_user_lacks() is None


@pytest.mark.parametrize("file", ["subuid", "subgid"])
def test_a_user_without_enough_subordinate_ids_is_given_a_free_range(
    machine: dict[str, str], file: str, tmp_path: Path
) -> None:
    (tmp_path / file).write_text("someone:100000:65536\nlearner:165536:1000\nother:300000:65536\n")
    lacking = pods._what_the_user_lacks()
    assert lacking is not None
    assert f"{tmp_path / file} gives learner no range of {ENOUGH} subordinate ids" in lacking
    # Past every range of both files: no other user's ids.
    assert "usermod --add-subuids 365536-431071 --add-subgids 365536-431071 learner" in lacking


def test_a_machine_without_newuidmap_names_the_package(
    machine: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "newuidmap" else f"/usr/bin/{tool}")
    lacking = pods._what_the_user_lacks()
    assert lacking is not None
    assert lacking.startswith("newuidmap missing")
    assert "apt-get install uidmap" in lacking


@pytest.mark.parametrize(("setting", "forbidding", "meaning", "allowing"), pods._USER_NAMESPACE_SETTINGS)
def test_each_setting_that_forbids_user_namespaces_is_named_with_the_value_that_allows_them(
    machine: dict[str, str], setting: str, forbidding: str, meaning: str, allowing: str
) -> None:
    machine[setting] = forbidding
    assert (
        pods._what_the_user_lacks() == f"{meaning} ({setting} = {forbidding}); as root: sysctl -w {setting}={allowing}"
    )
    machine[setting] = allowing
    assert pods._what_the_user_lacks() is None


def test_every_reason_begins_as_the_readme_says_skipped_tests_begin() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"`{pods.UNAVAILABLE}: ...`" in readme
