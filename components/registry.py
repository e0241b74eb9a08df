"""The lab's patterns, in the order the lab lists them: the one place a pattern is registered.

Each pattern package declares itself (``PATTERN``, a :class:`~components.pattern.Pattern`); the
lab, its settings and outputs, and the tests take the list from here.
"""

from __future__ import annotations

from typing import Any

from . import adapter, ambassador, init_containers, native_sidecar, sidecar
from .pattern import Pattern

REGISTRY: tuple[Pattern[Any, Any], ...] = (
    sidecar.PATTERN,
    adapter.PATTERN,
    ambassador.PATTERN,
    init_containers.PATTERN,
    native_sidecar.PATTERN,
)
# Their names, as the `patterns` setting takes them.
PATTERNS = tuple(pattern.setting for pattern in REGISTRY)
