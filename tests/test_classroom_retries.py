"""A learner's run that fails on the API server's load alone (timeouts, refused or reset
connections, throttling, conflicts) is run again, each retry said on the learner's line; one that
fails for a reason of its own (a namespace taken, a quota exceeded) is not, and neither is one that
stays failing past the retries."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator

import pytest

import classroom.__main__ as driver
from classroom import transient_failure
from tests.tree import ROOT

TIMEOUT = (
    'kubernetes:core/v1:Pod resource "lab-sidecar-pod" was not successfully created by the Kubernetes API '
    'server: Post "https://127.0.0.1:6443/api/v1/namespaces/multi-container-alice/pods": context deadline exceeded'
)
BUSY = "the server was unable to return a response in the time allotted, but may still be processing the request"
TAKEN = 'namespaces "multi-container-alice" already exists'
QUOTA = 'pods "init-demo" is forbidden: exceeded quota: lab, requested: pods=1, used: pods=6, limited: pods=6'


def test_a_failure_of_transient_errors_only_is_worth_another_run() -> None:
    assert transient_failure([TIMEOUT]) == TIMEOUT
    assert transient_failure([BUSY, TIMEOUT]) == BUSY
    assert transient_failure(["etcdserver: request timed out"]) is not None
    assert (
        transient_failure(
            [
                "Operation cannot be fulfilled on pods: the object has been modified; "
                "please apply your changes to the latest version and try again"
            ]
        )
        is not None
    )


@pytest.mark.parametrize("errors", [[TAKEN], [QUOTA], [TIMEOUT, TAKEN], [], ["", " "]])
def test_a_failure_with_a_reason_of_its_own_is_not(errors: list[str]) -> None:
    assert transient_failure(errors) is None


def _run(errors: list[str]) -> subprocess.CompletedProcess[str]:
    """What `pulumi up --json` prints and exits with: a failed run's error events, or success."""
    events: list[dict[str, object]] = [{"diagnosticEvent": {"severity": "error", "message": error}} for error in errors]
    events.append({"summaryEvent": {"resourceChanges": {"create": 1} if not errors else {}}})
    stdout = "\n".join(json.dumps(event) for event in events)
    return subprocess.CompletedProcess(["pulumi"], 1 if errors else 0, stdout, "")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """The errors of each `pulumi` run the driver makes, in order (empty: it succeeds)."""
    planned: list[list[str]] = []
    monkeypatch.setattr(driver, "pulumi", lambda *arguments, **_: _run(planned.pop(0)))
    monkeypatch.setattr(driver, "RETRY_PAUSE_SECONDS", 0.0)
    yield planned
    assert planned == [], "the driver stopped before the runs planned"


def _class() -> driver.Classroom:
    """A class of the driver's, without a backend: only what one learner's run uses."""
    room = object.__new__(driver.Classroom)
    room.class_stack = "dev"
    room.print_lock = threading.Lock()
    return room


def test_a_run_that_failed_on_load_runs_again_saying_so_until_it_succeeds(
    runs: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    runs += [[TIMEOUT], [BUSY], []]
    outcome = _class().operation("alice", "up", "up", prepare=False)
    assert outcome.ok
    assert outcome.changes == {"create": 1}
    said = capsys.readouterr().out.splitlines()
    assert [line.split()[:5] for line in said[:2]] == [
        ["alice", "up", "retry", "1", "of"],
        ["alice", "up", "retry", "2", "of"],
    ]
    assert "context deadline exceeded" in said[0]
    assert said[2].split()[:3] == ["alice", "up", "ok"]


def test_a_run_that_failed_for_a_reason_of_its_own_is_not_run_again(runs: list[list[str]]) -> None:
    runs += [[TAKEN]]
    outcome = _class().operation("alice", "up", "up", prepare=False)
    assert not outcome.ok
    assert TAKEN in outcome.message


def test_a_run_that_keeps_failing_on_load_ends_failed_after_the_retries(runs: list[list[str]]) -> None:
    runs += [[TIMEOUT]] * (driver.RETRIES + 1)
    outcome = _class().operation("alice", "up", "up", prepare=False)
    assert not outcome.ok
    assert "context deadline exceeded" in outcome.message


def test_the_readme_gives_the_drivers_number_of_retries() -> None:
    numbers = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times"}
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"runs again, up to {numbers[driver.RETRIES]}, each retry said on the learner's line" in readme
