"""The classroom's plan: one stack per learner, named after the class's, with the class's settings
but the one learner; learners taken off the list are the only stacks taken away."""

from __future__ import annotations

import json

import pytest
from pulumi import automation as auto

from classroom import (
    ClassError,
    learner_of,
    learner_settings,
    learner_stack,
    learners_of,
    plan,
    run_report,
    secret_settings,
    settings_update,
)

PROJECT = "multi-container-patterns"


def _config(**values: str) -> dict[str, auto.ConfigValue]:
    return {f"{PROJECT}:{key}": auto.ConfigValue(value) for key, value in values.items()}


@pytest.mark.parametrize("class_stack", ["dev", "org/multi-container-patterns/dev"])
def test_each_learner_stack_is_named_after_the_class_and_read_back(class_stack: str) -> None:
    stack = learner_stack(class_stack, "alice")
    assert stack.endswith("dev.alice")
    assert learner_of(class_stack, stack) == "alice"
    assert learner_of(class_stack, "dev") is None
    assert learner_of(class_stack, "devx.alice") is None
    assert learner_of(class_stack, "dev.alice.extra") is None
    assert learner_of("dev.alice", "dev.alice.x") == "x"


def test_a_learner_stack_has_the_class_settings_as_typed_with_its_learner_and_no_secret_ciphertext() -> None:
    class_settings: dict[str, object] = {
        f"{PROJECT}:learners": ["alice", "bob"],
        f"{PROJECT}:patterns": ["sidecar"],
        f"{PROJECT}:tlsRsaBits": 3072,
        f"{PROJECT}:cpuLimit": "200m",
        f"{PROJECT}:token": {"secure": "v1:class-ciphertext"},
    }
    settings = learner_settings(PROJECT, class_settings, "bob")
    assert settings == {
        f"{PROJECT}:patterns": ["sidecar"],
        f"{PROJECT}:tlsRsaBits": 3072,
        f"{PROJECT}:cpuLimit": "200m",
        f"{PROJECT}:learner": "bob",
    }
    assert secret_settings(class_settings) == [f"{PROJECT}:token"]


def test_a_learner_settings_file_is_written_only_when_it_differs_and_keeps_its_own_secrets() -> None:
    wanted: dict[str, object] = {f"{PROJECT}:learner": "bob", f"{PROJECT}:cpuLimit": "200m"}
    token = f"{PROJECT}:token"
    own_secret = {"secure": "v1:bob-ciphertext"}
    stored = {**wanted, token: own_secret}
    assert settings_update(stored, wanted, [token]) is None
    changed = {**wanted, f"{PROJECT}:cpuLimit": "300m"}
    assert settings_update(stored, changed, [token]) == {**changed, token: own_secret}
    # Dropped by the class: a plain setting, and a secret that is no longer one.
    assert settings_update({**stored, f"{PROJECT}:old": "x"}, wanted, []) == wanted
    assert settings_update({}, wanted, [token]) == wanted


def test_learners_come_from_the_class_settings_in_their_order() -> None:
    assert learners_of(PROJECT, _config(learners='["bob", "alice"]')) == ["bob", "alice"]
    with pytest.raises(ClassError, match="has no learners"):
        learners_of(PROJECT, _config(learners="[]"))
    with pytest.raises(ClassError, match="has no learners"):
        learners_of(PROJECT, {})
    with pytest.raises(ClassError, match="must be a list of learner names"):
        learners_of(PROJECT, _config(learners='{"a": 1}'))


def test_a_run_takes_away_only_the_stacks_of_learners_no_longer_listed() -> None:
    existing = ["dev", "dev.alice", "dev.bob", "dev.carol", "other", "other.dave", "dev.bob.x"]
    result = plan("dev", ["alice", "bob", "erin"], existing)
    assert result.learners == ("alice", "bob", "erin")
    assert result.departed == ("carol",)
    assert plan("dev", ["alice"], ["dev"]).departed == ()


def test_a_runs_changes_and_errors_are_read_from_the_digest_or_the_event_stream() -> None:
    """`preview --json` prints one digest; `up --json` and `destroy --json` print engine events."""
    digest = json.dumps(
        {
            "steps": [],
            "changeSummary": {"create": 41, "same": 2},
            "diagnostics": [{"severity": "warning", "message": "careful"}],
        }
    )
    assert run_report(digest) == ({"create": 41}, [])
    events = [
        {"sequence": 1, "diagnosticEvent": {"severity": "debug", "message": "registering\n"}},
        {
            "sequence": 2,
            "diagnosticEvent": {"severity": "error", "message": 'namespaces "multi-container-carol" already exists\n'},
        },
        {"sequence": 3, "diagnosticEvent": {"severity": "error", "message": "update failed\n"}},
        {"sequence": 4, "summaryEvent": {"resourceChanges": {"create": 9, "same": 0}, "result": "failed"}},
    ]
    stream = "\n".join(json.dumps(event) for event in events) + "\nnot json\n"
    assert run_report(stream) == ({"create": 9}, ['namespaces "multi-container-carol" already exists'])
    assert run_report("") == ({}, [])
