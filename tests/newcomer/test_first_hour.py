"""A newcomer's first hour, as they live it: a freshly created user (no root, no sudo) clones this
tree and runs the README's test command; it passes, every test run. Where the machine keeps the
user from running the lab's pods, the command says why and what to do before anything else, skips
only those tests, each with the README's reason, and passes the rest. And the pull-request preview
job runs its steps as GitHub's runner does (a user with passwordless sudo, `CI=true`), in the
workflow's order, all but GitHub's own actions and the kind cluster.

Run as root, which makes the users: `scripts/test.sh newcomer`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import pods
from tests.newcomer.users import ROOT, User, new_user, tree_bundle
from tests.workflows import PREVIEW, expanded, interpolate, readme_commands, workflow

pytestmark = pytest.mark.newcomer

# GitHub's own actions, which only GitHub runs: each one's stand-in here.
GITHUB_ACTIONS = {
    "actions/checkout": "the user's clone of this tree",
    "actions/setup-python": "the machine's python3, of the version the step asks for",
    "helm/kind-action": "not run: the kind cluster",
    "pulumi/actions": "not run: the preview itself needs the kind cluster",
}


@dataclass(frozen=True)
class Results:
    """A pytest run's outcome per test, from its JUnit XML: test id to (outcome, message)."""

    outcomes: dict[str, tuple[str, str]]

    @classmethod
    def read(cls, path: Path) -> Results:
        outcomes = {}
        for case in ET.parse(path).getroot().iter("testcase"):
            test = f"{case.get('classname')}::{case.get('name')}"
            outcome, message = "passed", ""
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome, message = child.tag, child.get("message", "")
            outcomes[test] = (outcome, message)
        return cls(outcomes)

    def with_outcome(self, outcome: str) -> dict[str, str]:
        return {test: message for test, (found, message) in self.outcomes.items() if found == outcome}


def collected(*arguments: str) -> set[str]:
    """The unit suite's test ids in this tree (as JUnit names them: module.path::name)."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = set()
    for line in listed.splitlines():
        if "::" in line:
            path, _, name = line.partition("::")
            ids.add(f"{path.removesuffix('.py').replace('/', '.')}::{name}")
    return ids


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """Outside pytest's own temporary directories, which only root may enter."""
    directory = Path(tempfile.mkdtemp(prefix="tree-"))
    try:
        yield tree_bundle(directory)
    finally:
        shutil.rmtree(directory)


@pytest.fixture(scope="module")
def newcomer(bundle: Path) -> Iterator[User]:
    """A new user without sudo, given once by the machine's administrator what the README asks of
    the machine for the tests' pods."""
    with new_user(bundle) as user:
        subprocess.run([str(ROOT / "scripts" / "allow-pods.sh"), user.name], check=True)
        yield user


def run_the_test_command(user: User) -> tuple[subprocess.CompletedProcess[str], Results]:
    (command,) = readme_commands("Test")
    results = user.home / "results.xml"
    results.unlink(missing_ok=True)
    run = user.run(command, {"PYTEST_ADDOPTS": f"--junitxml={results}"})
    assert results.exists(), run.stdout[-5000:]
    return run, Results.read(results)


def test_the_test_command_passes_every_test_for_a_new_user_without_root_or_sudo(newcomer: User) -> None:
    run, results = run_the_test_command(newcomer)
    assert run.returncode == 0, run.stdout[-5000:]
    assert results.with_outcome("failure") == {}
    assert results.with_outcome("error") == {}
    assert results.with_outcome("skipped") == {}, "this machine gives the user all the tests need"
    assert set(results.outcomes) == collected(), "the user's run and this tree's suite differ"
    # The lab's pods ran as the user's own subordinate ids, said before anything else ran.
    said, _, _ = run.stdout.partition("==> ruff check")
    assert "pods: run in a user namespace of their own, with the user's subordinate ids" in said


def test_without_subordinate_ids_the_command_says_why_skips_only_the_pods_and_passes_the_rest(
    newcomer: User,
) -> None:
    subordinate = [
        line for line in Path("/etc/subuid").read_text().splitlines() if line.startswith(newcomer.name + ":")
    ]
    (entry,) = subordinate
    _, first, count = entry.split(":")
    ids = f"{first}-{int(first) + int(count) - 1}"
    subprocess.run(["usermod", "--del-subuids", ids, "--del-subgids", ids, newcomer.name], check=True)
    try:
        run, results = run_the_test_command(newcomer)
    finally:
        subprocess.run(["usermod", "--add-subuids", ids, "--add-subgids", ids, newcomer.name], check=True)
    assert run.returncode == 0, run.stdout[-5000:]
    said, _, _ = run.stdout.partition("==> ruff check")
    why = f"{pods.UNAVAILABLE}: /etc/subuid gives {newcomer.name} no range of {pods.POD_IDS - 1} subordinate ids"
    assert why in said
    assert "usermod --add-subuids" in said
    skipped = results.with_outcome("skipped")
    assert set(skipped) == collected("-m", "pods")
    assert all(message.startswith(why) for message in skipped.values()), skipped
    assert results.with_outcome("failure") == {}
    assert results.with_outcome("error") == {}


def test_the_preview_jobs_steps_run_as_githubs_runner_runs_them(bundle: Path) -> None:
    """Each step in the workflow's order: `run` steps as the runner's user with its variables and
    shell, GitHub's own actions by their stand-ins; for a pull request from a fork (no secrets, no
    repository variables), which gets the local backend."""
    job = workflow(PREVIEW)["jobs"]["preview"]
    contexts: dict[str, Any] = {"secrets": {}, "vars": {}, "github": {"repository": "fork/lab"}}
    with new_user(bundle, sudo=True) as runner:
        summary = runner.home / "step-summary.md"
        env = {name: interpolate(str(value), contexts) for name, value in job.get("env", {}).items()}
        env |= {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(runner.clone),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(runner.home),
        }
        ran = []
        for step in expanded(job["steps"]):
            if "uses" in step:
                action = str(step["uses"]).split("@")[0]
                assert action in GITHUB_ACTIONS, f"a step of the preview job this test does not know: {step}"
                if action == "actions/setup-python":
                    # As setup-python does: `python` and `python3` of the version asked for, first on PATH.
                    version = runner.run("python3 --version").stdout
                    assert version.startswith(f"Python {step['with']['python-version']}."), version
                    tool = runner.home / "hostedtoolcache" / "bin"
                    tool.mkdir(parents=True)
                    for name in ("python", "python3"):
                        (tool / name).symlink_to(str(shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")))
                    env["PATH"] = f"{tool}:/usr/local/bin:/usr/bin:/bin"
                continue
            step_env = {
                **env,
                **{k: interpolate(str(v), {**contexts, "env": env}) for k, v in step.get("env", {}).items()},
            }
            script = runner.home / "step.sh"
            script.write_text(interpolate(str(step["run"]), {**contexts, "env": env}))
            script.chmod(0o644)
            # GitHub's shells: `bash -e {0}` by default, `bash --noprofile --norc -eo pipefail {0}` when named.
            shell = "bash --noprofile --norc -eo pipefail" if step.get("shell") == "bash" else "bash -e"
            result = runner.run(f"{shell} {script}", step_env)
            name = step.get("name", step["run"])
            assert result.returncode == 0, f"step '{name}' failed:\n{result.stdout[-5000:]}"
            ran.append(name)
        names = [str(step.get("name", step.get("run"))) for step in expanded(job["steps"]) if "run" in step]
        assert ran == names
        assert "Local file backend, throwaway stack `dev`" in summary.read_text()
        pack = runner.run("policy/venv/bin/python -c 'import pulumi_policy'")
        assert pack.returncode == 0, pack.stdout
