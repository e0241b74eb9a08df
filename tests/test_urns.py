"""The stack's URNs stay those of the reviewed snapshot (tests/urns.txt, see tests/urns.py): a
renamed, retyped or re-parented resource fails here unless it declares an alias for its old URN,
so an upgrade of the components never replaces a running lab's objects."""

from __future__ import annotations

import pulumi
import pytest

from tests import urns
from tests.harness import ProgramRun, run


@pytest.fixture(scope="module")
def runs() -> list[ProgramRun]:
    return urns.program_runs()


def test_every_urn_of_the_snapshot_is_still_answered_to(runs: list[ProgramRun]) -> None:
    answered = set().union(*(urns.answered(r) for r in runs))
    lost = sorted(urns.snapshot() - answered)
    assert not lost, (
        "these URNs are gone, so `pulumi up` would delete and recreate them: give the resource an alias "
        "(pulumi.Alias) for its old URN\n" + "\n".join(lost)
    )


def test_every_urn_of_the_program_is_in_the_reviewed_snapshot(runs: list[ProgramRun]) -> None:
    new = sorted(urns.current(runs) - urns.snapshot())
    assert not new, "new URNs: review them and run `.venv/bin/python -m tests.urns --update`\n" + "\n".join(new)


def test_an_alias_makes_a_resource_answer_to_its_old_urn_and_its_children_too() -> None:
    """The reading of aliases the snapshot test relies on, on a renamed and re-parented component."""

    def body() -> None:
        old_parent = pulumi.ComponentResource("test:index:Old", "holder")
        moved = pulumi.ComponentResource(
            "test:index:Thing",
            "new-name",
            opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-name", parent=old_parent)]),
        )
        pulumi.ComponentResource("test:index:Child", "child", opts=pulumi.ResourceOptions(parent=moved))
        pulumi.ComponentResource("test:index:Plain", "plain")

    answered = urns.answered(run(body))
    assert {
        "test:index:Thing::new-name",
        "test:index:Old$test:index:Thing::old-name",
        "test:index:Thing$test:index:Child::child",
        "test:index:Old$test:index:Thing$test:index:Child::child",
        "test:index:Plain::plain",
    } <= answered
    assert "test:index:Thing::old-name" not in answered
