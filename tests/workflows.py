"""The GitHub workflows and the README's commands as the tests read them: a workflow's jobs and
steps as the runner runs them (a local composite action's steps in place of the step that uses it),
and GitHub's expressions (``${{ ... }}``) evaluated for given contexts.

README convention: a command is the content of the first fenced code block (``` or ~~~) of the
first Markdown heading whose text contains the word "Test" (the test command) or "Preview" (the
preview command), looked for up to the next heading of the same or a higher level. Each
non-empty line of that block that is not a comment is one command; a leading `$ ` prompt and a
leading `./` on the program are ignored.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PREVIEW = WORKFLOWS / "preview.yml"
TEST = WORKFLOWS / "test.yml"
README = ROOT / "README.md"
SETUP = ROOT / ".github" / "actions" / "setup" / "action.yml"


@cache
def workflow(path: Path) -> dict[str, Any]:
    # YAML 1.2 (as GitHub reads workflows): `on` stays a string key, not the boolean PyYAML makes of it.
    loaded = YAML(typ="safe", pure=True).load(path.read_text())
    assert isinstance(loaded, dict), path
    return json.loads(json.dumps(loaded))


def local_action(step: dict[str, Any]) -> Path | None:
    """The action.yml of a step that uses an action of this repository (``./path``)."""
    uses = str(step.get("uses", ""))
    return ROOT / uses / "action.yml" if uses.startswith("./") else None


def expanded(job_steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps as the runner runs them: a local composite action's steps in place of its step."""
    result = []
    for step in job_steps:
        action = local_action(step)
        if action is None:
            result.append(step)
            continue
        definition = workflow(action)
        assert definition["runs"]["using"] == "composite", action
        result.extend(expanded(definition["runs"]["steps"]))
    return result


def jobs(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Each job's steps, expanded."""
    return {name: expanded(job["steps"]) for name, job in workflow(path)["jobs"].items()}


def steps(path: Path) -> list[dict[str, Any]]:
    return [step for job_steps in jobs(path).values() for step in job_steps]


def run_lines(path: Path) -> list[str]:
    return [line.strip() for step in steps(path) for line in str(step.get("run", "")).splitlines() if line.strip()]


def action_step(path: Path, action: str) -> dict[str, Any]:
    (step,) = [step for step in steps(path) if str(step.get("uses", "")).startswith(action + "@")]
    return step


# --- README commands --------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Section:
    heading: str
    commands: list[str]
    lines: list[str] = field(default_factory=list, compare=False)
    """The block's lines as written (comments kept out), to run in a shell as they are."""


def readme_section(text: str, word: str) -> Section | None:
    """The commands of the first fenced block under the first heading mentioning ``word``."""
    lines = text.splitlines()
    in_fence: str | None = None
    for index, line in enumerate(lines):
        fence = _FENCE.match(line)
        if fence:
            in_fence = None if in_fence == fence[1] else in_fence or fence[1]
            continue
        heading = None if in_fence else _HEADING.match(line)
        if not heading or not re.search(rf"\b{word}", heading[2], re.IGNORECASE):
            continue
        level = len(heading[1])
        block = _first_block(lines[index + 1 :], level)
        if block is not None:
            return Section(heading[2], _commands(block), _lines(block))
    return None


def _first_block(lines: list[str], level: int) -> list[str] | None:
    for start, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and len(heading[1]) <= level:
            return None
        fence = _FENCE.match(line)
        if fence:
            block = []
            for inner in lines[start + 1 :]:
                if inner.strip().startswith(fence[1]):
                    return block
                block.append(inner)
            return block
    return None


def _lines(block: list[str]) -> list[str]:
    return [line.strip() for line in block if line.strip() and not line.strip().startswith("#")]


def _commands(block: list[str]) -> list[str]:
    commands = []
    for line in block:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        commands.append(normalize(stripped.removeprefix("$ ")))
    return commands


def normalize(command: str) -> str:
    """``./scripts/test.sh`` and ``scripts/test.sh`` are the same command."""
    try:
        words = shlex.split(command)
    except ValueError:  # not a complete shell line (e.g. part of a multi-line script)
        return command
    if words:
        words[0] = words[0].removeprefix("./")
    return shlex.join(words)


def readme_commands(word: str) -> list[str]:
    assert README.exists(), "README.md is missing"
    section = readme_section(README.read_text(), word)
    missing = f"README.md needs a heading mentioning '{word}' followed by a fenced block with its command"
    assert section is not None, missing
    assert section.commands, missing
    return section.commands


# --- GitHub's expressions -----------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<name>[A-Za-z_][\w.-]*))"
)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def evaluate(expression: str, contexts: dict[str, Any]) -> Any:
    """The value of an expression of GitHub's (literals, context properties, ``== != ! && ||`` and
    parentheses, the operators the workflows use) for ``contexts``, such as ``{"secrets": {}}``. As
    GitHub does, ``&&`` and ``||`` give one of their operands, a missing property is null, and
    strings compare without case."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        assert match, f"not an expression tests/workflows.py reads: {expression!r} at {position}"
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match[kind]))
        position = match.end()

    def peek() -> str | None:
        return tokens[0][1] if tokens and tokens[0][0] == "op" else None

    def primary() -> Any:
        kind, text = tokens.pop(0)
        if kind == "op" and text == "!":
            return not truthy(primary())
        if kind == "op" and text == "(":
            value = either()
            assert tokens.pop(0) == ("op", ")"), expression
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        assert kind == "name", expression
        literals = {"true": True, "false": False, "null": None}
        if text in literals:
            return literals[text]
        value: Any = contexts
        for part in text.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def comparison() -> Any:
        left = primary()
        while peek() in ("==", "!="):
            operator = tokens.pop(0)[1]
            equal = _loose(left) == _loose(primary())
            left = equal if operator == "==" else not equal
        return left

    def both() -> Any:
        left = comparison()
        while peek() == "&&":
            tokens.pop(0)
            right = comparison()
            left = right if truthy(left) else left
        return left

    def either() -> Any:
        left = both()
        while peek() == "||":
            tokens.pop(0)
            right = both()
            left = left if truthy(left) else right
        return left

    value = either()
    assert not tokens, f"left over in {expression!r}: {tokens}"
    return value


def truthy(value: Any) -> bool:
    return value not in (None, False, "", 0.0)


def _loose(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else "" if value is None else value


def interpolate(text: str, contexts: dict[str, Any]) -> str:
    """``text`` with each ``${{ ... }}`` replaced by its value as GitHub writes it."""

    def written(match: re.Match[str]) -> str:
        value = evaluate(match[1], contexts)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else str(value)
        return "" if value is None else str(value)

    return _EXPRESSION.sub(written, text)
