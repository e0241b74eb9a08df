"""Shared fixtures: the whole program run once per test under fresh mocks."""

from __future__ import annotations

import pytest

from tests import pods
from tests.harness import ProgramRun, run_program


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that runs the lab's pods is skipped, saying why and what to do, where they cannot run."""
    if item.get_closest_marker("pods") is not None and (why := pods.unavailable()) is not None:
        pytest.skip(why)


@pytest.fixture
def lab() -> ProgramRun:
    """The program with the default stack config."""
    return run_program()
