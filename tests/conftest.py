"""Shared fixtures: the whole program run once per test under fresh mocks."""

from __future__ import annotations

import pytest

from tests.harness import ProgramRun, run_program


@pytest.fixture
def lab() -> ProgramRun:
    """The program with the default stack config."""
    return run_program()
