"""The labels every object of the lab carries, and the subset that selects a workload's pods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PART_OF = "multi-container-patterns"
MANAGED_BY = "pulumi"


@dataclass(frozen=True)
class Labels:
    """Labels of one workload.

    ``selector`` is what a Deployment's ``matchLabels`` and a Service's ``selector`` use; ``all``
    adds the descriptive ``app.kubernetes.io/*`` labels. Both come from this one object, so a
    Service built from a workload cannot select other labels than its pods carry.
    """

    name: str
    component: str
    instance: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def selector(self) -> dict[str, str]:
        # `app` is what the lab's own commands select on (`kubectl describe pod -l app=...`).
        return {
            "app": self.name,
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/instance": self.instance,
        }

    @property
    def all(self) -> dict[str, str]:
        return {
            **self.extra,
            **self.selector,
            "app.kubernetes.io/component": self.component,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }


def object_labels(component: str, instance: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels for objects that are not workloads (namespace, ConfigMaps, Secrets)."""
    return {
        **(extra or {}),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
