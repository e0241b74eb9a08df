"""An upgrade of the components that renames and re-parents resources, with aliases for their old
URNs, changes nothing on a running lab: `pulumi preview` plans no create, replace or delete, and
after `pulumi up` every pod is the same pod (same uid). The edits are made to a copy of the
program after its first `up`, as the next version of the components would make them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.e2e.support import Kubectl, copy_project, local_stack

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
PATTERN_FILE = Path("multicontainer_patterns") / "_pattern.py"
LAB_FILE = Path("multicontainer_patterns") / "_lab.py"


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
            expect_ready=expect_ready,
            opts=self.child,""",
            """            f"{self.name}-workload",
            name=pod_name,
            namespace=self.args.namespace,
            labels=self.workload_labels(pod_name),
            template=template,
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
