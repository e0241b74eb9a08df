"""The network flows the lab needs, and no others: the one list that both the unit tests (the
NetworkPolicies the program renders) and the flow matrix on the real nodes (what gets through)
are judged against.

A flow is (direction, from, to, port, protocol), as a NetworkPolicy of the ``to`` side (ingress)
or the ``from`` side (egress) states it; ``ANYWHERE`` is any peer, in the lab or outside it."""

from __future__ import annotations

ANYWHERE = "anywhere"
LAB_FLOWS = {
    ("ingress", ANYWHERE, "ambassador-proxy", 8443, "TCP"),
    ("ingress", ANYWHERE, "sidecar-proxy", 8080, "TCP"),
    ("ingress", "init-demo", "db", 6379, "TCP"),
    ("egress", "init-demo", "db", 6379, "TCP"),
    ("egress", "init-demo", ANYWHERE, 53, "UDP"),
    ("egress", "init-demo", ANYWHERE, 53, "TCP"),
}


def connects(source: str | None, destination: str, port: int, protocol: str = "TCP") -> bool:
    """Whether a new connection from workload ``source`` of the lab (None: a pod outside the lab)
    to ``port`` of workload ``destination`` of the lab is one the lab's flows allow: the
    destination accepts it, and a source in the lab may send it. A workload reaches its own pods."""
    if source == destination:
        return True
    accepted = {("ingress", ANYWHERE, destination, port, protocol), ("ingress", source, destination, port, protocol)}
    sent = {("egress", source, destination, port, protocol), ("egress", source, ANYWHERE, port, protocol)}
    return bool(accepted & LAB_FLOWS) and (source is None or bool(sent & LAB_FLOWS))
