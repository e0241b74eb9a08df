"""The GitHub workflows, checked offline: valid against GitHub's workflow schema (as vendored by
check-jsonschema), running the README's commands after the one setup they share (a local composite
action, whose steps count as the job's), with least privileges and fork-safe comments.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from ruamel.yaml import YAML

from policy import rules
from tests.tree import e2e_versions
from tests.workflows import (
    PREVIEW,
    ROOT,
    SETUP,
    TEST,
    WORKFLOWS,
    Section,
    action_step,
    evaluate,
    expanded,
    interpolate,
    jobs,
    local_action,
    normalize,
    readme_commands,
    readme_section,
    run_lines,
    steps,
    workflow,
)

PULUMI_ACTION = "pulumi/actions"


# Flags of `pulumi preview` and the pulumi/actions input each one becomes.
PREVIEW_FLAGS = {
    "--policy-pack": "policyPacks",
    "--policy-pack-config": "policyPackConfigs",
    "--diff": "diff",
    "--refresh": "refresh",
    "--expect-no-changes": "expect-no-changes",
    "--suppress-outputs": "suppress-outputs",
    "--stack": "stack-name",
    "-s": "stack-name",
    "--cwd": "work-dir",
    "-C": "work-dir",
}
VALUELESS_FLAGS = {"--diff", "--refresh", "--expect-no-changes", "--suppress-outputs"}


def preview_inputs(command: str) -> dict[str, list[str] | bool]:
    """The pulumi/actions inputs that run ``pulumi preview ...`` (fails on unknown flags)."""
    words = shlex.split(command)
    assert words[:2] == ["pulumi", "preview"], f"not a preview command: {command}"
    inputs: dict[str, list[str] | bool] = {}
    rest = words[2:]
    while rest:
        word = rest.pop(0)
        flag, _, value = word.partition("=")
        assert flag in PREVIEW_FLAGS, f"teach tests/test_workflows.py the pulumi/actions input of '{flag}'"
        name = PREVIEW_FLAGS[flag]
        if flag in VALUELESS_FLAGS:
            inputs[name] = True
            continue
        values = inputs.setdefault(name, [])
        assert isinstance(values, list)
        values.append(value or rest.pop(0))
    return inputs


def test_readme_section_extraction() -> None:
    text = (
        "# Project\n\n```sh\nnot this\n```\n\n## Contest\n\n```sh\nnor this\n```\n\n"
        "## Test it\n\nSome text.\n\n~~~console\n# a comment\n$ ./scripts/test.sh\n~~~\n\n"
        "```sh\nsecond block\n```\n\n## Preview\n\n### In pull requests\n\n"
        "```\npulumi preview --policy-pack policy\n```\n\n## Empty\n\n## Later\n\n```\nx\n```\n"
    )
    test = readme_section(text, "Test")
    assert test == Section("Test it", ["scripts/test.sh"])
    preview = readme_section(text, "Preview")
    assert preview == Section("Preview", ["pulumi preview --policy-pack policy"])
    assert readme_section(text, "Empty") is None
    assert readme_section("```\n## Test\n```\n", "Test") is None


def test_preview_inputs() -> None:
    assert preview_inputs("pulumi preview --policy-pack policy --diff -s dev") == {
        "policyPacks": ["policy"],
        "diff": True,
        "stack-name": ["dev"],
    }
    with pytest.raises(AssertionError, match="--json"):
        preview_inputs("pulumi preview --json")


# --- Schema -----------------------------------------------------------------------------------


def github_schema(path: Path) -> dict[str, Any]:
    name = "github-actions.json" if path.name == "action.yml" else "github-workflows.json"
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / name
    return json.loads(vendored.read_text())


@pytest.mark.parametrize("path", [PREVIEW, TEST, SETUP], ids=lambda p: p.name)
def test_workflow_matches_github_schema(path: Path) -> None:
    schema = github_schema(path)
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(workflow(path)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_workflows_pass_check_jsonschema() -> None:
    """The same schema through check-jsonschema's own CLI (its YAML reader and format checks)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(PREVIEW),
            str(TEST),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    action = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions", str(SETUP)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert action.returncode == 0, action.stdout + action.stderr


# --- Commands ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PREVIEW, TEST], ids=lambda p: p.name)
def test_workflows_run_the_readme_test_command(path: Path) -> None:
    runs = [normalize(line) for line in run_lines(path)]
    for command in readme_commands("Test"):
        assert command in runs, f"{path.name} does not run the README's test command '{command}'"


def test_every_job_that_runs_the_test_command_runs_the_shared_setup_first() -> None:
    """One setup for every job: the composite action, whose steps come before the test command."""
    setup = expanded([{"uses": "./" + str(SETUP.parent.relative_to(ROOT))}])
    test_commands = readme_commands("Test")
    found = 0
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job_steps in jobs(path).items():
            runs = [
                index
                for index, step in enumerate(job_steps)
                if any(normalize(line.strip()) in test_commands for line in str(step.get("run", "")).splitlines())
            ]
            if not runs:
                continue
            found += 1
            before = job_steps[: runs[0]]
            assert all(step in before for step in setup), f"{path.name} job {name}: the test command before the setup"
            # Nothing of its own that the setup already does: one copy of the setup.
            own = [step for step in workflow(path)["jobs"][name]["steps"] if local_action(step) is None]
            assert not [s for s in own if s in setup or "setup-python" in str(s.get("uses", ""))], path.name
    assert found >= 2, "the test and preview workflows both run the README's test command"


def test_the_setup_gives_the_runner_what_the_pods_need() -> None:
    runs = [
        line.strip()
        for step in expanded(workflow(SETUP)["runs"]["steps"])
        for line in str(step.get("run", "")).splitlines()
    ]
    assert "scripts/allow-pods.sh" in runs


def test_preview_runs_the_readme_preview_command() -> None:
    (command,) = readme_commands("Preview")
    step = action_step(PREVIEW, PULUMI_ACTION)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    for name, expected in preview_inputs(command).items():
        if expected is True:
            assert inputs.get(name) is True, f"the README's '{command}' needs {name}: true"
        else:
            assert isinstance(expected, list)
            given = str(inputs.get(name, "")).split()
            assert all(value in given for value in expected), f"the README's '{command}' needs {name}: {expected}"


def test_preview_runs_the_unit_tests_before_the_preview() -> None:
    order = [step.get("name") or step.get("uses", "") for step in steps(PREVIEW)]
    tests = next(i for i, step in enumerate(steps(PREVIEW)) if "scripts/test.sh" in str(step.get("run", "")))
    kind = next(i for i, name in enumerate(order) if name.startswith("helm/kind-action@"))
    preview = next(i for i, step in enumerate(steps(PREVIEW)) if str(step.get("uses", "")).startswith(PULUMI_ACTION))
    assert tests < kind < preview, order


# --- Triggers, privileges, pins ---------------------------------------------------------------


def test_triggers() -> None:
    assert set(workflow(PREVIEW)["on"]) == {"pull_request"}  # never pull_request_target
    assert workflow(TEST)["on"]["push"]["branches"] == ["main"]


def test_least_privilege() -> None:
    assert workflow(PREVIEW)["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert workflow(TEST)["permissions"] == {"contents": "read"}
    for path in (PREVIEW, TEST):
        for job in workflow(path)["jobs"].values():
            assert "permissions" not in job, f"{path.name}: a job widens the workflow's permissions"


@pytest.mark.parametrize("path", [PREVIEW, TEST], ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major(path: Path) -> None:
    for step in steps(path):
        if "uses" in step and local_action(step) is None:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|[0-9a-f]{40})", step["uses"]), step["uses"]


@pytest.mark.parametrize("path", [PREVIEW, TEST], ids=lambda p: p.name)
def test_python_311(path: Path) -> None:
    assert action_step(path, "actions/setup-python")["with"]["python-version"] == "3.11"


def test_preview_action_inputs() -> None:
    inputs = action_step(PREVIEW, PULUMI_ACTION)["with"]
    assert inputs["work-dir"] == "."
    assert inputs["upsert"] is True
    assert inputs["diff"] is True
    assert inputs["edit-pr-comment"] is True
    # Forks get a read-only token: comment only on pull requests from this repository, and
    # always write the job summary.
    assert inputs["comment-on-pr"] == "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    assert inputs["comment-on-summary"] is True


def test_preview_backend() -> None:
    job = workflow(PREVIEW)["jobs"]["preview"]
    env = job["env"]
    assert env["PULUMI_CLOUD"] == "${{ secrets.PULUMI_ACCESS_TOKEN != '' && vars.PULUMI_STACK != '' }}"
    assert env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    # Empty when the secret is not set, which the passphrase provider accepts.
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    inputs = action_step(PREVIEW, PULUMI_ACTION)["with"]
    assert inputs["stack-name"] == "${{ env.PULUMI_CLOUD == 'true' && vars.PULUMI_STACK || 'dev' }}"
    assert inputs["cloud-url"] == "${{ env.PULUMI_CLOUD != 'true' && 'file://~' || '' }}"
    assert (ROOT / "Pulumi.dev.yaml").exists()


@pytest.mark.parametrize(
    ("secrets", "variables", "cloud"),
    [
        ({}, {}, False),
        ({"PULUMI_ACCESS_TOKEN": "pul-x"}, {}, False),
        ({}, {"PULUMI_STACK": "org/lab/pr"}, False),
        ({"PULUMI_ACCESS_TOKEN": "pul-x"}, {"PULUMI_STACK": "org/lab/pr"}, True),
    ],
)
def test_the_preview_uses_pulumi_cloud_only_with_both_the_token_and_the_stack(
    secrets: dict[str, str], variables: dict[str, str], cloud: bool
) -> None:
    contexts: dict[str, Any] = {"secrets": secrets, "vars": variables}
    env = {
        name: interpolate(str(value), contexts) for name, value in workflow(PREVIEW)["jobs"]["preview"]["env"].items()
    }
    assert env["PULUMI_CLOUD"] == ("true" if cloud else "false")
    contexts["env"] = env
    inputs = {
        name: interpolate(str(value), contexts) for name, value in action_step(PREVIEW, PULUMI_ACTION)["with"].items()
    }
    assert inputs["stack-name"] == ("org/lab/pr" if cloud else "dev")
    assert inputs["cloud-url"] == ("" if cloud else "file://~")


def test_expressions_are_read_as_github_reads_them() -> None:
    contexts = {"github": {"repository": "Org/Lab", "event": {"number": 7}}, "vars": {"NAME": "x"}}
    assert evaluate("github.repository == 'org/lab'", contexts) is True
    assert evaluate("vars.MISSING || 'fallback'", contexts) == "fallback"
    assert evaluate("vars.NAME && 'set'", contexts) == "set"
    assert evaluate("!(vars.NAME != 'x') && github.event.number == 7", contexts) is True
    assert interpolate("n=${{ github.event.number }} ${{ vars.MISSING }}!", contexts) == "n=7 !"


def test_preview_cluster_matches_the_policy_config() -> None:
    node_image = action_step(PREVIEW, "helm/kind-action")["with"]["node_image"]
    match = re.fullmatch(r"kindest/node:v(\d+\.\d+)\.\d+(@sha256:[0-9a-f]{64})?", node_image)
    assert match, node_image
    inputs = action_step(PREVIEW, PULUMI_ACTION)["with"]
    (config_path,) = str(inputs["policyPackConfigs"]).split()
    config = json.loads((ROOT / config_path).read_text())
    policy_names = {rule.name for rule in [*rules.RULES, *rules.STACK_RULES]}
    assert set(config) <= policy_names
    assert config[rules.NATIVE_SIDECAR_VERSION] == {rules.TARGET_KUBERNETES_VERSION: match[1]}
    assert (
        rules.check_native_sidecar_version(
            "kubernetes:apps/v1:Deployment",
            {"spec": {"template": {"spec": {"initContainers": [{"name": "p", "restartPolicy": "Always"}]}}}},
            config[rules.NATIVE_SIDECAR_VERSION],
        )
        == []
    )


# --- Pins the preview depends on ----------------------------------------------------------------


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_policy_pack_requirements_match_the_project() -> None:
    pack = _pins(ROOT / "policy" / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy"}
    assert pack["pulumi"] == _pins(ROOT / "requirements.txt")["pulumi"]
    assert pack["pulumi-policy"] == importlib.metadata.version("pulumi-policy")


def test_pulumi_cli_matches_the_e2e_toolchain() -> None:
    assert action_step(PREVIEW, PULUMI_ACTION)["with"]["pulumi-version"] == e2e_versions()["PULUMI_VERSION"]


def test_policy_pack_declares_its_virtualenv() -> None:
    project = YAML(typ="safe", pure=True).load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    assert "venv/" in (ROOT / "policy" / ".gitignore").read_text().split()
    install = [line for line in run_lines(PREVIEW) if "policy/requirements.txt" in line]
    assert install, "the preview workflow installs the policy pack's requirements into policy/venv"
