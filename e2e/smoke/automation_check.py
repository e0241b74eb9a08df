"""Drives the smoke project through the Pulumi Automation API (LocalWorkspace):
up, a preview that must report no changes, destroy, and stack removal.

Usage: python automation_check.py PROJECT_DIR
Needs the toolchain environment (PATH with pulumi, PULUMI_HOME, offline
switches), PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE and KUBECONFIG.
"""

import sys

from pulumi import automation as auto


def main(work_dir: str) -> None:
    ws = auto.LocalWorkspace(work_dir=work_dir)
    print("pulumi CLI version seen by the Automation API:", ws.pulumi_command.version)
    stack = auto.create_or_select_stack(stack_name="automation", work_dir=work_dir)
    stack.set_config("replicas", auto.ConfigValue("2"))
    up = stack.up(on_output=lambda _: None)
    print("up:", up.summary.result, dict(up.summary.resource_changes or {}))
    assert up.summary.result == "succeeded", up.stderr
    assert up.outputs["ready_replicas"].value == 2, up.outputs
    preview = stack.preview(expect_no_changes=True, on_output=lambda _: None)
    print("preview:", dict(preview.change_summary))
    assert set(preview.change_summary) == {auto.OpType.SAME}, preview.change_summary
    destroy = stack.destroy(on_output=lambda _: None)
    print("destroy:", destroy.summary.result, dict(destroy.summary.resource_changes or {}))
    assert destroy.summary.result == "succeeded"
    stack.workspace.remove_stack("automation")
    print("automation API check passed")


if __name__ == "__main__":
    main(sys.argv[1])
