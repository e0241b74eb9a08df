"""The bounded waits: every Kubernetes object gets the stack's timeouts, nothing else does, and
an object's own timeouts win."""

from __future__ import annotations

import pulumi

from multicontainer_patterns._timeouts import await_timeouts

TRANSFORM = await_timeouts(42)


def _transform(type_token: str, custom: bool = True, opts: pulumi.ResourceOptions | None = None) -> object:
    args = pulumi.ResourceTransformArgs(custom, type_token, "name", {"metadata": {}}, opts or pulumi.ResourceOptions())
    return TRANSFORM(args)


def test_every_kubernetes_object_waits_at_most_the_stacks_timeout_to_create_update_and_delete() -> None:
    for type_token in ("kubernetes:core/v1:Pod", "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Namespace"):
        result = _transform(type_token, opts=pulumi.ResourceOptions(delete_before_replace=True))
        assert isinstance(result, pulumi.ResourceTransformResult)
        assert result.props == {"metadata": {}}
        timeouts = result.opts.custom_timeouts
        assert timeouts is not None
        assert (timeouts.create, timeouts.update, timeouts.delete) == ("42s", "42s", "42s")
        # The object's other options are kept.
        assert result.opts.delete_before_replace is True


def test_components_providers_and_other_providers_resources_are_left_alone() -> None:
    assert _transform("multicontainer:patterns:Lab", custom=False) is None
    assert _transform("pulumi:providers:kubernetes") is None
    assert _transform("tls:index/privateKey:PrivateKey") is None


def test_an_objects_own_timeouts_win() -> None:
    own = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="20m"))
    assert _transform("kubernetes:core/v1:Pod", opts=own) is None
