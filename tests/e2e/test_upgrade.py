"""An upgrade of the components that renames and re-parents resources, with aliases for their old
URNs, changes nothing on a running lab: `pulumi preview` plans no create, replace or delete, and
after `pulumi up` every pod is the same pod (same uid). The edits are made to a copy of the
program after its first `up`, as the next version of the components would make them."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.support import Kubectl, copy_project, local_stack
from tests.tree import PACKAGE, ROOT

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
PATTERN_FILE = PACKAGE.relative_to(ROOT) / "_pattern.py"
LAB_FILE = PACKAGE.relative_to(ROOT) / "_lab.py"


def edit(project: Path, relative: Path, old: str, new: str) -> None:
    path = project / relative
    text = path.read_text()
    assert text.count(old) == 1, f"{relative}: {old!r} is not there once"
    path.write_text(text.replace(old, new))


def pod_uids(kubectl: Kubectl) -> dict[str, str]:
    pods = kubectl.get("pods", "-n", NAMESPACE)["items"]
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods}


def test_renamed_and_reparented_resources_with_aliases_keep_the_running_lab(
    tmp_path: Path, kubeconfig: str, kubectl: Kubectl
) -> None:
    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    state = tmp_path / "state"
    state.mkdir()
    stack = local_stack(project, state, kubeconfig, name="upgrade")
    # One bare Pod and the namespace's policy are all the edits below need.
    stack.set_config("patterns[0]", auto.ConfigValue("sidecar"), path=True)
    try:
        assert stack.up(on_output=print).summary.result == "succeeded"
        before = pod_uids(kubectl)
        assert before
        # The next version: every bare Pod's resource is renamed, and the default-deny policy moves
        # from the lab component to the stack itself; each keeps an alias for its old URN.
        edit(
            project,
            PATTERN_FILE,
            """            f"{self.name}-pod",
            name=pod_name,
            namespace=self.args.namespace,
            labels=self.workload_labels(pod_name),
            template=template,
            service_account_name=self.service_account_name,
            expect_ready=expect_ready,
            opts=self.child,""",
            """            f"{self.name}-workload",
            name=pod_name,
            namespace=self.args.namespace,
            labels=self.workload_labels(pod_name),
            template=template,
            service_account_name=self.service_account_name,
            expect_ready=expect_ready,
            opts=pulumi.ResourceOptions.merge(
                self.child, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{self.name}-pod")])
            ),""",
        )
        edit(
            project,
            LAB_FILE,
            "opts=pulumi.ResourceOptions(parent=self, deleted_with=self.namespace_resource),",
            "opts=pulumi.ResourceOptions(deleted_with=self.namespace_resource, aliases=[pulumi.Alias(parent=self)]),",
        )
        preview = stack.preview(on_output=print)
        assert set(preview.change_summary) == {"same"}, preview.change_summary
        assert stack.up(on_output=print).summary.result == "succeeded"
        assert pod_uids(kubectl) == before
    finally:
        stack.destroy(on_output=print)
        stack.workspace.remove_stack("upgrade")


def previous_release() -> tuple[str, str]:
    """The release before this tree's (the CHANGELOG's next heading) and its tree's commit: the
    parent of the commit that set pyproject.toml's version to this tree's."""
    current = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    headings = re.findall(r"^## (\d+\.\d+\.\d+)\s*$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == current, f"CHANGELOG.md's first release is {headings[0]}, pyproject.toml's {current}"
    previous = headings[1]

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"the previous release's tree comes from git history: {result.stderr}"
        return result.stdout

    for commit in git("log", "--reverse", "--format=%H", "--", "pyproject.toml").split():
        if tomllib.loads(git("show", f"{commit}:pyproject.toml"))["project"]["version"] == current:
            parent = git("rev-parse", f"{commit}^").strip()
            assert tomllib.loads(git("show", f"{parent}:pyproject.toml"))["project"]["version"] == previous
            return previous, parent
    raise AssertionError(f"no commit sets pyproject.toml's version to {current}")


def test_a_lab_deployed_by_the_previous_release_upgrades_in_place(
    tmp_path: Path, kubeconfig: str, kubectl: Kubectl
) -> None:
    """The previous release's tree, from the repository's history, deploys the lab; this tree's
    `pulumi up` on the same stack moves no object to another URN (deletes none), replaces only
    content-named ConfigMaps and the bare Pods that mount them, and the lab checker passes."""
    release, commit = previous_release()
    old = tmp_path / f"release-{release}"
    old.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    (old / ".venv").symlink_to(ROOT / ".venv")
    state = tmp_path / "state"
    state.mkdir()
    stack = local_stack(old, state, kubeconfig, name="release")
    try:
        assert stack.up(on_output=print).summary.result == "succeeded"
        before = pod_uids(kubectl)
        recorded = {r["urn"] for r in (stack.export_stack().deployment or {}).get("resources") or []}

        # This tree in place of the release's, the stack's settings file kept (as a `git pull` would).
        new = copy_project(tmp_path / "current")
        shutil.copy2(old / "Pulumi.release.yaml", new / "Pulumi.release.yaml")
        stack = local_stack(new, state, kubeconfig, name="release")
        steps: list[tuple[str, str, str]] = []

        def step(event: auto.EngineEvent) -> None:
            if event.resource_pre_event is not None:
                metadata = event.resource_pre_event.metadata
                steps.append((metadata.op.value, metadata.type, metadata.urn))

        stack.preview(on_output=print, on_event=step)
        operations = Counter((op, type_token.rsplit(":", 1)[-1]) for op, type_token, _ in steps if op != "same")
        print(f"upgrade from {release} ({commit[:12]}): {dict(operations)}")
        # An object that moved to another URN would be deleted at its old one (and created anew).
        assert not [s for s in steps if s[0] == "delete"], "an object would move to another URN"
        replaced = {type_token for op, type_token, _ in steps if op == "replace"}
        assert replaced <= {"kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Pod"}, replaced
        assert {urn for _, _, urn in steps} >= recorded - {u for u in recorded if u.endswith("::default")}

        assert stack.up(on_output=print).summary.result == "succeeded"
        after = pod_uids(kubectl)
        rolled = {name for name in before if after.get(name) != before[name]}
        print(f"pods rolled: {sorted(rolled)}")
        checked = subprocess.run(
            ["scripts/lab.sh", "check"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
        )
        print(checked.stdout)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        stack.destroy(on_output=print)
        stack.workspace.remove_stack("release")
    assert not kubectl.exists("namespace", NAMESPACE)
