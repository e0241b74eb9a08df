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


def await_timeouts(seconds: int) -> pulumi.ResourceTransformation:
    """A stack transformation giving every Kubernetes object without timeouts of its own a create,
    update and delete timeout of ``seconds``.

    A transformation runs in the program as each resource is constructed. The engine's resource
    transforms (``register_resource_transform``) would do the same through a call from the engine
    back into the program for every resource, which holds up each registration (measured on a real
    node: about half a second of a lab's `pulumi up`). Every component of this package is a Python
    one, which transformations reach."""
    timeouts = pulumi.CustomTimeouts(create=f"{seconds}s", update=f"{seconds}s", delete=f"{seconds}s")

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if (
            not isinstance(args.resource, pulumi.CustomResource)
            or not args.type_.startswith("kubernetes:")
            or args.opts.custom_timeouts is not None
        ):
            return None
        return pulumi.ResourceTransformationResult(
            props=args.props,
            opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(custom_timeouts=timeouts)),
        )

    return transformation
