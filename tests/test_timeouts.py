"""The bounded waits: every Kubernetes object gets the stack's timeouts, nothing else does, and
an object's own timeouts win."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from multicontainer_patterns._timeouts import await_timeouts

TRANSFORMATION = await_timeouts(42)
# What a transformation is given of the resource is the object under construction; its class is
# what tells a Kubernetes object from a component or a provider.
KINDS = {
    "kubernetes:core/v1:Pod": k8s.core.v1.Pod,
    "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "multicontainer:patterns:Lab": pulumi.ComponentResource,
    "kubernetes:yaml/v2:ConfigGroup": pulumi.ComponentResource,
    "pulumi:providers:kubernetes": k8s.Provider,
    "tls:index/privateKey:PrivateKey": pulumi.CustomResource,
}


def _transform(type_token: str, opts: pulumi.ResourceOptions | None = None) -> object:
    resource = object.__new__(KINDS[type_token])
    args = pulumi.ResourceTransformationArgs(
        resource, type_token, "name", {"metadata": {}}, opts or pulumi.ResourceOptions()
    )
    return TRANSFORMATION(args)


def test_every_kubernetes_object_waits_at_most_the_stacks_timeout_to_create_update_and_delete() -> None:
    for type_token in ("kubernetes:core/v1:Pod", "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Namespace"):
        result = _transform(type_token, opts=pulumi.ResourceOptions(delete_before_replace=True))
        assert isinstance(result, pulumi.ResourceTransformationResult)
        assert result.props == {"metadata": {}}
        timeouts = result.opts.custom_timeouts
        assert timeouts is not None
        assert (timeouts.create, timeouts.update, timeouts.delete) == ("42s", "42s", "42s")
        # The object's other options are kept.
        assert result.opts.delete_before_replace is True


def test_components_providers_and_other_providers_resources_are_left_alone() -> None:
    assert _transform("multicontainer:patterns:Lab") is None
    assert _transform("kubernetes:yaml/v2:ConfigGroup") is None
    assert _transform("pulumi:providers:kubernetes") is None
    assert _transform("tls:index/privateKey:PrivateKey") is None


def test_an_objects_own_timeouts_win() -> None:
    own = pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="20m"))
    assert _transform("kubernetes:core/v1:Pod", opts=own) is None
