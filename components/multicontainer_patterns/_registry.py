"""The lab's patterns, in the order the lab lists them: the one place a pattern is registered.

Each pattern package declares itself (``PATTERN``, a :class:`~multicontainer_patterns._pattern.Pattern`); the
lab, its settings and outputs, and the tests take the list from here. Registering a pattern is
adding its package's name below.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._pattern import Pattern

PACKAGES = (
    "_sidecar",
    "_adapter",
    "_ambassador",
    "_init_containers",
    "_native_sidecar",
)

REGISTRY: tuple[Pattern[Any, Any], ...] = tuple(import_module(f"{__package__}.{name}").PATTERN for name in PACKAGES)
PATTERNS: tuple[str, ...] = tuple(pattern.setting for pattern in REGISTRY)
"""The lab's patterns by name, in its order, as `LabArgs.patterns` and the `patterns` setting take them."""
