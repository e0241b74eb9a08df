"""How long `pulumi up` and `pulumi destroy` wait for a Kubernetes object.

pulumi-kubernetes waits for what it creates to become ready (a Pod running and ready, a
Deployment's rollout, a Service's endpoints, a token the controller fills in) and for what it
deletes to be gone, for 10 minutes by default, retrying quietly while the API server does not
answer. Set for every object of the stack, a shorter bound makes a run whose cluster went away
fail with the provider's message instead of seeming to hang.
"""

from __future__ import annotations

import pulumi

DEFAULT_AWAIT_TIMEOUT_SECONDS = 300
"""Long enough for a node to pull the lab's images over a slow line; far below the provider's 10 minutes."""


def await_timeouts(seconds: int) -> pulumi.ResourceTransform:
    """A resource transform giving every Kubernetes object without timeouts of its own a create,
    update and delete timeout of ``seconds``."""
    timeouts = pulumi.CustomTimeouts(create=f"{seconds}s", update=f"{seconds}s", delete=f"{seconds}s")

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not args.type_.startswith("kubernetes:") or args.opts.custom_timeouts is not None:
            return None
        return pulumi.ResourceTransformResult(
            props=args.props,
            opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(custom_timeouts=timeouts)),
        )

    return transform
