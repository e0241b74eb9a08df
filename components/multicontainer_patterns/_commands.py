"""The lab's kubectl commands, built from the objects a component created."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi


def kubectl_commands(
    namespace: pulumi.Input[str], name: pulumi.Input[str], render: Callable[[str, str], Sequence[str]]
) -> pulumi.Output[list[str]]:
    """``render(namespace, name)`` once both are known: the commands a user types to try a pattern."""
    return pulumi.Output.all(namespace, name).apply(lambda values: list(render(str(values[0]), str(values[1]))))
