"""What NetworkPolicies allow, read as the Kubernetes API defines them: the oracle the flow matrix on
the real node is judged against, independent of the engine that enforces them.

A connection from one pod to another pod's port is allowed when the source's egress and the
destination's ingress both allow it. A pod is isolated in a direction when a policy of its
namespace selects it for that direction; an isolated pod accepts (or sends) only what a rule of
one of those policies allows: a peer (pods, namespaces or an IP block) and a port. A pod cannot
block access to itself. Label selectors and policy types are read by the policy pack's own
functions, so the repository has one reading of them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policy import rules

INGRESS = "Ingress"
EGRESS = "Egress"


@dataclass(frozen=True)
class Pod:
    """A pod as the policies see it: where it is, its labels, its address and its named ports."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    ip: str
    named_ports: Mapping[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def from_object(cls, pod: Mapping[str, Any]) -> Pod:
        """From a Pod as the API server returns it."""
        spec = pod["spec"]
        named = {
            (port["name"], port.get("protocol", "TCP")): int(port["containerPort"])
            for container in (*spec.get("initContainers", []), *spec["containers"])
            for port in container.get("ports") or []
            if port.get("name")
        }
        metadata = pod["metadata"]
        return cls(metadata["namespace"], metadata["name"], metadata.get("labels") or {}, pod["status"]["podIP"], named)


@dataclass(frozen=True)
class Connection:
    """A new connection from one pod to a port of another."""

    source: Pod
    destination: Pod
    port: int
    protocol: str


@dataclass(frozen=True)
class Policies:
    """The cluster's NetworkPolicies and the labels of its namespaces."""

    policies: Sequence[Mapping[str, Any]]
    namespace_labels: Mapping[str, Mapping[str, str]]

    def allows(self, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> bool:
        """Whether a new connection from ``source`` to ``destination``'s ``port`` gets through."""
        if source == destination:
            return True
        connection = Connection(source, destination, port, protocol)
        return self._admits(connection, EGRESS) and self._admits(connection, INGRESS)

    def isolating(self, pod: Pod, direction: str) -> list[Mapping[str, Any]]:
        """The policies that select ``pod`` for ``direction``."""
        return [
            policy
            for policy in self.policies
            if policy["metadata"]["namespace"] == pod.namespace
            and rules.selects(policy["spec"].get("podSelector") or {}, pod.labels)
            and direction in (rules.policy_directions(policy) or set())
        ]

    def _admits(self, connection: Connection, direction: str) -> bool:
        """Whether the policies of the connection's end in ``direction`` (its source for egress,
        its destination for ingress) let it through."""
        pod, peer = (connection.source, connection.destination)
        rules_key, peers_key = "egress", "to"
        if direction == INGRESS:
            pod, peer = peer, pod
            rules_key, peers_key = "ingress", "from"
        isolating = self.isolating(pod, direction)
        if not isolating:
            return True
        return any(
            self._peer_matches(rule.get(peers_key), policy["metadata"]["namespace"], peer)
            and _port_matches(rule.get("ports"), connection)
            for policy in isolating
            for rule in policy["spec"].get(rules_key) or []
        )

    def _peer_matches(self, peers: Sequence[Mapping[str, Any]] | None, namespace: str, pod: Pod) -> bool:
        if not peers:
            return True
        return any(self._one_peer_matches(peer, namespace, pod) for peer in peers)

    def _one_peer_matches(self, peer: Mapping[str, Any], namespace: str, pod: Pod) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            address = ipaddress.ip_address(pod.ip)
            return address in ipaddress.ip_network(block["cidr"]) and not any(
                address in ipaddress.ip_network(excepted) for excepted in block.get("except") or []
            )
        namespace_selector = peer.get("namespaceSelector")
        if namespace_selector is None:
            in_namespace = pod.namespace == namespace
        else:
            in_namespace = bool(rules.selects(namespace_selector, self.namespace_labels.get(pod.namespace, {})))
        pod_selector = peer.get("podSelector")
        return in_namespace and (pod_selector is None or bool(rules.selects(pod_selector, pod.labels)))


def _port_matches(ports: Iterable[Mapping[str, Any]] | None, connection: Connection) -> bool:
    ports = list(ports or [])
    port, protocol = connection.port, connection.protocol
    if not ports:
        return True
    for allowed in ports:
        if allowed.get("protocol", "TCP") != protocol:
            continue
        number = allowed.get("port")
        if number is None:
            return True
        if isinstance(number, str):
            number = connection.destination.named_ports.get((number, protocol))
            if number == port:
                return True
            continue
        if int(number) <= port <= int(allowed.get("endPort", number)):
            return True
    return False
