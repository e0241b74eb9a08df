"""NetworkPolicies under mocks: the namespace denies everything, and the flows the policies allow
are exactly the ones the lab's objects need (`tests.flows`: its Services, and which workload names
which Service), each to a real port of the pods its selector picks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from multicontainer_patterns._registry import PATTERNS
from tests import k8s
from tests.flows import ANYWHERE, NAME_LABEL, LabFlows, Workload
from tests.harness import ProgramRun, run_program
from tests.netpol import Pod, Policies

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE = "kubernetes:core/v1:Service"


def lab_flows(run: ProgramRun) -> LabFlows:
    """The flows the run's objects need."""
    workloads = [
        Workload.of_pod(k8s.pod_labels(r), k8s.pod_spec(r)) for r in run.resources if r.type in k8s.WORKLOAD_TYPES
    ]
    return LabFlows.read(workloads, [k8s.manifest(r) for r in run.of_type(SERVICE)])


def workloads(run: ProgramRun) -> dict[str, tuple[dict[str, str], set[tuple[int, str]]]]:
    """Each workload's pod labels and the (port, protocol) its containers listen on."""
    found = {}
    for resource in run.resources:
        if resource.type in k8s.WORKLOAD_TYPES:
            containers = k8s.all_containers(k8s.pod_spec(resource))
            ports = {
                (int(p["containerPort"]), p.get("protocol", "TCP")) for c in containers for p in c.get("ports") or []
            }
            labels = k8s.pod_labels(resource)
            found[labels[NAME_LABEL]] = (labels, ports)
    return found


def selected(selector: dict[str, Any], known: dict[str, tuple[dict[str, str], set[tuple[int, str]]]]) -> str:
    match_labels = selector.get("matchLabels") or {}
    names = [name for name, (labels, _) in known.items() if match_labels.items() <= labels.items()]
    assert len(names) == 1, (match_labels, names)
    return names[0]


def allowed_flows(run: ProgramRun) -> set[tuple[str, str, str, int, str]]:
    known = workloads(run)
    flows = set()
    for policy in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        spec = policy.inputs["spec"]
        if not spec["podSelector"]:
            continue  # the default deny
        assert spec["policyTypes"] == ["Ingress", "Egress"], k8s.name_of(policy)
        target = selected(spec["podSelector"], known)
        for rule in spec.get("ingress") or []:
            sources = [selected(peer["podSelector"], known) for peer in rule.get("from") or []] or [ANYWHERE]
            for port in rule["ports"]:
                number, protocol = int(port["port"]), port["protocol"]
                assert (number, protocol) in known[target][1], (target, number)
                flows |= {("ingress", source, target, number, protocol) for source in sources}
        for rule in spec.get("egress") or []:
            destinations = [selected(peer["podSelector"], known) for peer in rule.get("to") or []] or [ANYWHERE]
            for port in rule["ports"]:
                number, protocol = int(port["port"]), port["protocol"]
                for destination in destinations:
                    if destination != ANYWHERE:
                        assert (number, protocol) in known[destination][1], (destination, number)
                    flows.add(("egress", target, destination, number, protocol))
    return flows


@pytest.mark.parametrize("config", [{}, {"nativeSidecar": "false", "failingInit": "true"}], ids=["lab", "experiments"])
def test_the_policies_allow_exactly_the_flows_the_labs_objects_need_each_to_a_real_port(config: dict[str, str]) -> None:
    run = run_program(config)
    assert allowed_flows(run) == lab_flows(run).flows


@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_pattern_alone_allows_exactly_the_flows_its_objects_need(pattern: str) -> None:
    """A pattern whose Service no policy opens, or whose workload talks to another without an
    egress rule, fails here whatever the other patterns do."""
    run = run_program({"patterns": json.dumps([pattern])})
    assert allowed_flows(run) == lab_flows(run).flows


def test_the_namespace_denies_all_ingress_and_egress_that_no_policy_allows() -> None:
    policies = run_program().of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    deny = [p for p in policies if not p.inputs["spec"]["podSelector"]]
    assert len(deny) == 1
    assert deny[0].inputs["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny[0].inputs["spec"]
    assert "egress" not in deny[0].inputs["spec"]


def test_a_pattern_without_flows_gets_only_the_default_deny() -> None:
    run = run_program({"patterns": '["sidecar", "adapter"]'})
    assert [k8s.name_of(p) for p in run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")] == ["default-deny"]


def test_network_policies_can_be_turned_off_for_clusters_without_a_policy_engine() -> None:
    run = run_program({"networkPolicies": "false"})
    assert run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") == []
    assert {k8s.name_of(r) for r in run.resources if r.type in k8s.WORKLOAD_TYPES}


@pytest.mark.parametrize("config", [{}, {"nativeSidecar": "false", "failingInit": "true"}], ids=["lab", "experiments"])
def test_between_any_two_pods_the_policies_allow_exactly_what_the_labs_flows_allow(config: dict[str, str]) -> None:
    """The rendered policies read as the API defines them (`tests.netpol`, the flow matrix's reading on
    the real nodes) against the lab's flows, for every pod of the lab and one outside it, to every
    port a container of the lab declares."""
    run = run_program(config)
    namespace = k8s.name_of(run.of_type("kubernetes:core/v1:Namespace")[0])
    pods = {}
    for index, resource in enumerate(r for r in run.resources if r.type in k8s.WORKLOAD_TYPES):
        labels = k8s.pod_labels(resource)
        pods[labels[NAME_LABEL]] = Pod(namespace, labels[NAME_LABEL], labels, f"10.244.0.{index + 2}")
    outside = Pod("elsewhere", "client", {"app": "client"}, "10.244.1.2")
    ports = {name: set(workloads(run)[name][1]) for name in pods}
    policies = Policies(
        [
            {**p.inputs, "metadata": {**p.inputs["metadata"], "namespace": namespace}}
            for p in run.of_type(NETWORK_POLICY)
        ],
        {namespace: {}, "elsewhere": {}},
    )
    flows = lab_flows(run)
    checked = 0
    for source in [*pods.values(), outside]:
        for name, destination in pods.items():
            for number, protocol in ports[name]:
                expected = flows.connects(source.name if source is not outside else None, name, number, protocol)
                assert policies.allows(source, destination, number, protocol) == expected, (source.name, name, number)
                checked += 1
    assert checked
