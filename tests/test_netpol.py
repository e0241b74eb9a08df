"""The reading of NetworkPolicies the flow matrix on the real nodes is judged against, on the cases
the Kubernetes documentation spells out: isolation per direction, peers by pod, namespace (alone or
both in one peer), IP block with exceptions, ports by number, range and name, and a pod's access to
itself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.netpol import Pod, Policies

WEB = Pod("shop", "web", {"app": "web"}, "10.244.0.10", {("http", "TCP"): 8080})
API = Pod("shop", "api", {"app": "api"}, "10.244.0.11")
ADMIN = Pod("ops", "admin", {"app": "admin"}, "10.244.1.20")
OTHER = Pod("ops", "other", {"app": "other"}, "10.244.1.21")
NAMESPACES = {"shop": {"team": "shop"}, "ops": {"team": "ops"}}


def policy(namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": "p"}, "spec": spec}


def policies(*items: dict[str, Any]) -> Policies:
    return Policies(list(items), NAMESPACES)


WEB_SELECTED = {"matchLabels": {"app": "web"}}


def test_without_policies_everything_is_allowed() -> None:
    assert policies().allows(ADMIN, WEB, 8080)


def test_an_ingress_policy_isolates_ingress_only() -> None:
    deny = policies(policy("shop", {"podSelector": WEB_SELECTED, "policyTypes": ["Ingress"]}))
    assert not deny.allows(API, WEB, 8080)
    assert deny.allows(WEB, API, 8080)


def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_exist() -> None:
    spec = {"podSelector": WEB_SELECTED, "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}]}
    rules = policies(policy("shop", spec))
    assert rules.allows(WEB, API, 9000)
    assert not rules.allows(WEB, ADMIN, 9000)
    assert not rules.allows(API, WEB, 8080)  # ingress isolated too, with no rule


def test_a_pod_selector_peer_means_pods_of_the_policys_namespace_only() -> None:
    spec = {"podSelector": WEB_SELECTED, "ingress": [{"from": [{"podSelector": {}}]}]}
    rules = policies(policy("shop", spec))
    assert rules.allows(API, WEB, 8080)
    assert not rules.allows(ADMIN, WEB, 8080)


@pytest.mark.parametrize(
    ("peers", "admin", "other"),
    [
        # One peer with both selectors: pods matching both (AND).
        (
            [{"namespaceSelector": {"matchLabels": {"team": "ops"}}, "podSelector": {"matchLabels": {"app": "admin"}}}],
            True,
            False,
        ),
        # Two peers: either (OR).
        (
            [
                {"namespaceSelector": {"matchLabels": {"team": "ops"}}},
                {"podSelector": {"matchLabels": {"app": "admin"}}},
            ],
            True,
            True,
        ),
    ],
    ids=["and", "or"],
)
def test_namespace_and_pod_selectors_in_one_peer_and_in_two(peers: list[Any], admin: bool, other: bool) -> None:
    rules = policies(policy("shop", {"podSelector": WEB_SELECTED, "ingress": [{"from": peers}]}))
    assert rules.allows(ADMIN, WEB, 8080) is admin
    assert rules.allows(OTHER, WEB, 8080) is other


def test_an_ip_block_with_an_exception() -> None:
    block = {"ipBlock": {"cidr": "10.244.1.0/24", "except": ["10.244.1.21/32"]}}
    rules = policies(policy("shop", {"podSelector": WEB_SELECTED, "ingress": [{"from": [block]}]}))
    assert rules.allows(ADMIN, WEB, 8080)
    assert not rules.allows(OTHER, WEB, 8080)
    assert not rules.allows(API, WEB, 8080)


@pytest.mark.parametrize(
    ("port", "allowed"),
    [
        ({"port": 8080}, {8080}),
        ({"port": 8000, "endPort": 8080}, {8000, 8080}),
        ({"port": "http"}, {8080}),
        ({}, {7999, 8000, 8080, 9000}),
    ],
    ids=["number", "range", "name", "any"],
)
def test_ports_by_number_range_and_name(port: dict[str, Any], allowed: set[int]) -> None:
    rules = policies(policy("shop", {"podSelector": WEB_SELECTED, "ingress": [{"ports": [port]}]}))
    assert {p for p in (7999, 8000, 8080, 9000) if rules.allows(API, WEB, p)} == allowed
    assert not rules.allows(API, WEB, 8080, "UDP")  # the protocol is TCP unless named


def test_a_pod_cannot_block_access_to_itself() -> None:
    deny_all = policy("shop", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert policies(deny_all).allows(WEB, WEB, 8080)
    assert not policies(deny_all).allows(API, WEB, 8080)
