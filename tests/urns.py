"""The stack's URNs, kept in a reviewed snapshot (tests/urns.txt): a resource whose URN changes (its
type token, name or parent chain) is deleted and created again by the next `pulumi up` on a stack
made with the earlier version, unless it declares an alias for its old URN. `tests/test_urns.py`
holds the program to the snapshot.

A URN is written without its stack and project: ``<parent types>$<type>::<name>``. A resource
answers to its own URN, to each of its aliases (an old URN, or a spec whose missing parts are the
resource's own), and, as the engine does, to its URN under each URN its parent answers to.

    .venv/bin/python -m tests.urns --update   adds the program's new URNs to the snapshot (it never
                                              drops one: a resource removed on purpose is deleted
                                              from the file by hand, in review)"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from tests.harness import PROJECT, STACK, ProgramRun, Registered, run_program

SNAPSHOT = Path(__file__).with_name("urns.txt")
PREFIX = f"urn:pulumi:{STACK}::{PROJECT}::"
# The settings the snapshot is taken with: the lab (every pattern, both experiments' objects
# come and go with settings, not URNs) and a learner's stack of a classroom.
CONFIGS = ({}, {"learner": "alice", "classroomServer": "https://10.250.0.1:6443"})


def tail(urn: str) -> str:
    assert urn.startswith(PREFIX), urn
    return urn.removeprefix(PREFIX)


def _qualified_type(parent_tail: str | None, type_token: str) -> str:
    """The type part of a child's URN: its parent's type chain, then its own type."""
    if parent_tail is None:
        return type_token
    return f"{parent_tail.split('::', 1)[0]}${type_token}"


def _engine_urns(run: ProgramRun) -> tuple[dict[str, str], dict[str, set[str]]]:
    """For each resource (by the mocks' URN): its URN as the engine makes it (the mocks keep only
    the parent's own type, the engine the whole chain), and every URN it answers to."""
    by_urn = {r.urn: r for r in run.resources}
    canonical: dict[str, str] = {}
    names: dict[str, set[str]] = {}

    def parent_of(resource: Registered) -> Registered | None:
        return by_urn.get(resource.parent)

    def own(resource: Registered) -> str:
        if resource.urn not in canonical:
            parent = parent_of(resource)
            parent_tail = own(parent) if parent is not None else None
            canonical[resource.urn] = f"{_qualified_type(parent_tail, resource.type)}::{resource.name}"
        return canonical[resource.urn]

    def alias_parent(urn: str) -> str | None:
        if urn in by_urn:
            return own(by_urn[urn])
        return None if urn.split("::")[2].endswith("pulumi:pulumi:Stack") else tail(urn)

    def answers(resource: Registered) -> set[str]:
        if resource.urn in names:
            return names[resource.urn]
        parent = parent_of(resource)
        parent_tails: list[str | None] = [*sorted(answers(parent))] if parent is not None else [None]
        found = {own(resource)}
        found |= {f"{_qualified_type(p, resource.type)}::{resource.name}" for p in parent_tails}
        for alias in resource.aliases:
            if isinstance(alias, str):
                found.add(tail(alias))
                continue
            assert alias.get("stack", STACK) == STACK, alias
            assert alias.get("project", PROJECT) == PROJECT, alias
            # An empty parentUrn, like none, is the resource's own parent (as the engine reads it).
            if alias.get("noParent"):
                parents: list[str | None] = [None]
            elif alias.get("parentUrn"):
                parents = [alias_parent(alias["parentUrn"])]
            else:
                parents = parent_tails
            type_token = alias.get("type", resource.type)
            found |= {f"{_qualified_type(p, type_token)}::{alias.get('name', resource.name)}" for p in parents}
        names[resource.urn] = found
        return found

    for resource in run.resources:
        answers(resource)
    return canonical, names


def answered(run: ProgramRun) -> set[str]:
    """Every URN (tail) some resource of ``run`` answers to."""
    return set().union(*_engine_urns(run)[1].values())


def current(runs: Iterable[ProgramRun]) -> set[str]:
    """The URNs (tails) of the runs' resources, as the engine makes them."""
    return {urn for run in runs for urn in _engine_urns(run)[0].values()}


def snapshot() -> set[str]:
    return {line for line in SNAPSHOT.read_text().splitlines() if line and not line.startswith("#")}


def program_runs() -> list[ProgramRun]:
    return [run_program(config) for config in CONFIGS]


HEADER = (
    "# The stack's URNs (without stack and project), for the lab and a learner's stack of a classroom: reviewed.\n"
    "# `.venv/bin/python -m tests.urns --update` adds new ones; see tests/urns.py.\n"
)


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(__doc__)
        return 2
    known = snapshot() if SNAPSHOT.exists() else set()
    SNAPSHOT.write_text(HEADER + "".join(f"{urn}\n" for urn in sorted(known | current(program_runs()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
