"""A griffe extension for docs/api.md: a component's outputs are set in its constructor, from
objects the reader never sees; the reference shows their type and docstring, not that expression."""

from __future__ import annotations

from typing import Any

import griffe


class HideInstanceAttributeValues(griffe.Extension):
    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        if "instance-attribute" in attr.labels:
            attr.value = None
