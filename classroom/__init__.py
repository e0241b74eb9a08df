"""A classroom as one Pulumi stack per learner, driven from the class's own stack.

The class's stack (``dev``) holds the class's settings: ``learners`` and everything each lab
takes. Each learner's lab is a stack of its own (``dev.alice``) with the same settings, but
``learner`` in place of ``learners``; the program then builds that learner's lab only. Small states
keep every step's state write cheap, so the class's `up` grows linearly with its size while each
step is still recorded before the next (what a killed run needs to be repaired); and a learner's
failure, reset or removal touches no one else's stack.

This module plans (which stacks, with which settings); ``python -m classroom`` runs the plan.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pulumi import automation as auto

# The stack settings the class keeps to itself, and the one each learner's stack gets instead.
CLASS_ONLY = "learners"
LEARNER = "learner"
STACK_SEPARATOR = "."


class ClassError(Exception):
    """The class's stack or settings do not make a classroom; the message says what to do."""


def learner_stack(class_stack: str, learner: str) -> str:
    """The name of a learner's stack: the class's, a dot, the learner (``dev.alice``; with an
    organization and project, ``org/project/dev.alice``)."""
    return f"{class_stack}{STACK_SEPARATOR}{learner}"


def learner_of(class_stack: str, stack: str) -> str | None:
    """The learner whose stack ``stack`` is, when it is one of the class's; else None."""
    short_class = class_stack.rsplit("/", 1)[-1]
    short = stack.rsplit("/", 1)[-1]
    prefix = short_class + STACK_SEPARATOR
    if short.startswith(prefix) and STACK_SEPARATOR not in short[len(prefix) :]:
        return short[len(prefix) :]
    return None


def learners_of(project: str, config: Mapping[str, auto.ConfigValue]) -> list[str]:
    """The class's learners, in the order its settings list them."""
    raw = config.get(f"{project}:{CLASS_ONLY}")
    learners = json.loads(raw.value) if raw is not None and raw.value else []
    if not isinstance(learners, list) or not all(isinstance(name, str) for name in learners):
        raise ClassError(f"'{CLASS_ONLY}' must be a list of learner names, not {raw.value if raw else None!r}")
    if not learners:
        raise ClassError(
            f"the stack has no learners: set them (`pulumi config set --path '{CLASS_ONLY}[0]' alice`), or use "
            "scripts/up.sh for a single lab"
        )
    return learners


def is_secret(value: object) -> bool:
    """Whether a value of a stack's settings file is a secret (``{secure: <ciphertext>}``)."""
    return isinstance(value, dict) and set(value) == {"secure"}


def learner_settings(project: str, class_settings: Mapping[str, object], learner: str) -> dict[str, object]:
    """The ``config`` of a learner's stack settings file: the class's as its file holds them (typed:
    a list stays a list), ``learner`` for ``learners``. Secrets are left out: their ciphertext is
    the class's stack's own, so the driver sets them on the learner's stack through the CLI."""
    settings = {
        key: value for key, value in class_settings.items() if key != f"{project}:{CLASS_ONLY}" and not is_secret(value)
    }
    settings[f"{project}:{LEARNER}"] = learner
    return settings


def secret_settings(class_settings: Mapping[str, object]) -> list[str]:
    """The class's settings that are secrets."""
    return sorted(key for key, value in class_settings.items() if is_secret(value))


def settings_update(
    stored: Mapping[str, object], wanted: Mapping[str, object], secrets: Iterable[str]
) -> dict[str, object] | None:
    """The ``config`` a learner's settings file should hold (``wanted``, and the secrets it already
    has, encrypted for it), or None when it holds exactly that already. Settings the class dropped
    are dropped."""
    kept = {key: stored[key] for key in secrets if key in stored and is_secret(stored[key])}
    config = {**wanted, **kept}
    return None if config == dict(stored) else config


@dataclass(frozen=True)
class Plan:
    """Which learners' stacks a class's run brings up to date and which it takes away."""

    learners: tuple[str, ...]
    """The class's learners: their stacks are created when missing and updated."""
    departed: tuple[str, ...]
    """Learners whose stacks are there but who are no longer in the class: destroyed and removed."""


def plan(class_stack: str, learners: Iterable[str], existing_stacks: Iterable[str]) -> Plan:
    listed = tuple(learners)
    present = [learner for stack in existing_stacks if (learner := learner_of(class_stack, stack)) is not None]
    return Plan(learners=listed, departed=tuple(sorted(set(present) - set(listed))))


# What an API server or its client says when it was busy or out of reach for a moment, not that
# the request was wrong: a run that failed with only these may succeed as it is run again (its
# state records what it did; `up` and `destroy` converge). Pulumi's Kubernetes provider and
# client-go's words.
TRANSIENT = (
    "context deadline exceeded",
    "Client.Timeout exceeded",
    "the server was unable to return a response in the time allotted",
    "the server is currently unable to handle the request",
    "etcdserver: request timed out",
    "etcdserver: leader changed",
    "TLS handshake timeout",
    "i/o timeout",
    "connection refused",
    "connection reset by peer",
    "http2: client connection lost",
    "Too Many Requests",
    "the object has been modified; please apply your changes to the latest version",
    "would exceed context deadline",
    "unable to retrieve the complete list of server APIs",
)


def transient_failure(errors: Iterable[str]) -> str | None:
    """The first error of a failed run when every one of them is transient (see TRANSIENT), else
    None: such a run is worth running again."""
    listed = [error for error in errors if error.strip()]
    if listed and all(any(words in error for words in TRANSIENT) for error in listed):
        return listed[0].strip().splitlines()[0]
    return None


def run_report(stdout: str) -> tuple[dict[str, int], list[str]]:
    """The changes and the errors of a run from what `--json` printed: `preview` prints one digest,
    `up` and `destroy` print their engine events, one JSON object a line."""
    try:
        documents = [json.loads(stdout)]
    except json.JSONDecodeError:
        documents = []
        for line in stdout.splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                documents.append(json.loads(line))
    changes: dict[str, int] = {}
    errors: list[str] = []
    for document in (d for d in documents if isinstance(d, dict)):
        summary = document.get("changeSummary") or (document.get("summaryEvent") or {}).get("resourceChanges")
        if isinstance(summary, dict):
            changes = {op: int(count) for op, count in summary.items() if op != "same"}
        diagnostics = document.get("diagnostics") or [document.get("diagnosticEvent") or {}]
        for diagnostic in diagnostics:
            message = str(diagnostic.get("message", "")).strip()
            if diagnostic.get("severity") == "error" and message and message != "update failed":
                errors.append(message)
    return changes, errors
