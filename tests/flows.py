"""The network flows the lab needs, read from its own objects: what both the unit tests (the
NetworkPolicies the program renders) and the flow matrix on the real nodes (what gets through) are
judged against. Nothing here lists the lab's flows: a new pattern's Services and clients bring
theirs.

The reading, the same for every pattern:

- A workload talks to a Service of the lab when a container of its pods (init containers too)
  names that Service in its environment, by name or by a DNS name under it (``db``,
  ``db.<namespace>.svc``): it then sends to every port the Service routes to, and it resolves the
  name, so it sends DNS queries (port 53, UDP and TCP) to whatever serves them.
- A Service that no workload of the lab talks to is for clients outside the lab (the lab's
  `kubectl` commands, a port-forward, another namespace): its pods accept those ports from anyone.
- A workload reaches its own pods. Nothing else is needed.

A flow is (direction, from, to, port, protocol), as a NetworkPolicy of the ``to`` side (ingress)
or the ``from`` side (egress) states it, with workloads named by their ``app.kubernetes.io/name``
and ports by the number the container listens on; ``ANYWHERE`` is any peer, in the lab or not."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ANYWHERE = "anywhere"
DNS = ((53, "UDP"), (53, "TCP"))
NAME_LABEL = "app.kubernetes.io/name"

Flow = tuple[str, str, str, int, str]


@dataclass(frozen=True)
class Workload:
    """A workload as the flows see it: its name, its pods' labels and their pod spec."""

    name: str
    labels: Mapping[str, str]
    spec: Mapping[str, Any]

    @classmethod
    def of_pod(cls, labels: Mapping[str, str], spec: Mapping[str, Any]) -> Workload:
        return cls(labels[NAME_LABEL], labels, spec)

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        return [*(self.spec.get("initContainers") or []), *self.spec["containers"]]

    def container_port(self, target: float | str, protocol: str) -> int:
        """The number a Service's target port (a number, or a container port's name) stands for."""
        if not isinstance(target, str):  # a number (the mocks' numbers are floats)
            return int(target)
        numbers = [
            int(port["containerPort"])
            for container in self.containers
            for port in container.get("ports") or []
            if port.get("name") == target and port.get("protocol", "TCP") == protocol
        ]
        assert len(numbers) == 1, f"workload {self.name}: target port {target!r} names {numbers}"
        return numbers[0]

    def names(self, service: str, namespace: str) -> bool:
        """Whether a container of the workload names ``service`` in its environment."""
        values = {str(env.get("value", "")) for c in self.containers for env in c.get("env") or []}
        local = f"{service}.{namespace}"
        return any(value in (service, local) or value.startswith(f"{local}.svc") for value in values)


@dataclass(frozen=True)
class LabFlows:
    flows: frozenset[Flow]

    @classmethod
    def read(cls, workloads: Iterable[Workload], services: Iterable[Mapping[str, Any]]) -> LabFlows:
        """The flows the lab's ``workloads`` need, given its ``services`` (as the API has them)."""
        workloads = list(workloads)
        flows: set[Flow] = set()
        for service in services:
            metadata, spec = service["metadata"], service["spec"]
            selector = spec.get("selector") or {}
            backends = [w for w in workloads if selector and selector.items() <= w.labels.items()]
            assert len(backends) == 1, f"service {metadata['name']} selects {[w.name for w in backends]}"
            backend = backends[0]
            ports = set()
            for port in spec["ports"]:
                protocol = port.get("protocol", "TCP")
                ports.add((backend.container_port(port.get("targetPort", port["port"]), protocol), protocol))
            clients = [
                w.name for w in workloads if w.name != backend.name and w.names(metadata["name"], metadata["namespace"])
            ]
            for number, protocol in ports:
                for client in clients:
                    flows.add(("ingress", client, backend.name, number, protocol))
                    flows.add(("egress", client, backend.name, number, protocol))
                if not clients:
                    flows.add(("ingress", ANYWHERE, backend.name, number, protocol))
            flows |= {("egress", client, ANYWHERE, number, protocol) for client in clients for number, protocol in DNS}
        return cls(frozenset(flows))

    def connects(self, source: str | None, destination: str, port: int, protocol: str = "TCP") -> bool:
        """Whether a new connection from workload ``source`` of the lab (None: a pod outside the
        lab) to ``port`` of workload ``destination`` of the lab is one the flows allow: the
        destination accepts it, and a source in the lab may send it."""
        if source == destination:
            return True
        accepted = {("ingress", peer, destination, port, protocol) for peer in (ANYWHERE, source)}
        sent = {("egress", source, peer, port, protocol) for peer in (destination, ANYWHERE)}
        return bool(accepted & self.flows) and (source is None or bool(sent & self.flows))
