"""A classroom's learner under mocks: each learner's stack holds the whole lab in the learner's
namespace, their rights exactly the lab's, a quota that holds their lab and no more, and a
kubeconfig; the class's own stack only holds the settings."""

from __future__ import annotations

import base64
import re
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from labcheck.commands import COMMANDS, OVERVIEW, readme_command_lines
from multicontainer_patterns import LabArgs
from multicontainer_patterns._naming import parse_quantity
from multicontainer_patterns._settings import kubeconfig_server
from tests import k8s
from tests.harness import ProgramRun, Registered, run_program

LEARNERS = ("alice", "bob")
SERVER = "https://10.250.0.1:6443"
ACCESS_TYPES = [
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:LimitRange",
]
TOKEN_TYPE = "kubernetes.io/service-account-token"


def learner_settings(learner: str, **settings: str) -> dict[str, str]:
    """A learner's stack settings, as scripts/classroom.sh gives them."""
    return {"learner": learner, "classroomServer": SERVER, **settings}


@pytest.fixture(scope="module", params=LEARNERS)
def learner_run(request: pytest.FixtureRequest) -> tuple[str, ProgramRun]:
    return request.param, run_program(learner_settings(request.param))


def _namespaced(run: ProgramRun, namespace: str) -> list[Registered]:
    return [r for r in run.kubernetes_objects() if r.inputs["metadata"].get("namespace") == namespace]


def test_each_learner_gets_the_whole_lab_in_a_namespace_of_their_own(learner_run: tuple[str, ProgramRun]) -> None:
    learner, run = learner_run
    single = run_program()
    lab_objects = sorted((r.type, k8s.name_of(r)) for r in _namespaced(single, "multi-container-demo"))
    namespace = f"multi-container-{learner}"
    assert run.exports["namespace"] == namespace
    assert [k8s.name_of(r) for r in run.of_type("kubernetes:core/v1:Namespace")] == [namespace]
    objects = _namespaced(run, namespace)
    # The lab's objects (its pods' own account among them), plus the learner's account, rights,
    # quota, limits and token.
    access = [
        r
        for r in objects
        if (r.type in ACCESS_TYPES and k8s.name_of(r) != LabArgs().service_account_name)
        or r.inputs.get("type") == TOKEN_TYPE
    ]
    assert sorted(r.type for r in objects if r not in access) == sorted(t for t, _ in lab_objects)
    assert sorted(r.type for r in access) == sorted([*ACCESS_TYPES, "kubernetes:core/v1:Secret"])
    # Every object of the learner carries the learner as its instance.
    for resource in objects:
        assert resource.inputs["metadata"]["labels"]["app.kubernetes.io/instance"] == learner, resource.name
    # Nothing of the learner's lives outside their namespace.
    assert [
        r.name for r in run.kubernetes_objects() if r not in objects and r.type != "kubernetes:core/v1:Namespace"
    ] == []


# What each kubectl subcommand of the lab asks the API server for, as kubectl does it: (API group,
# resource, verb) for the object the command names, and for what it then reads or creates.
def kubectl_permissions(line: str) -> set[tuple[str, str, str]]:
    """The permissions one lab command line needs (its first command of a pipe)."""
    argv = shlex.split(line.split("|", maxsplit=1)[0])
    assert argv[0] == "kubectl", line
    subcommand = argv[1]
    words = [a for a in argv[2 : argv.index("--") if "--" in argv else None] if not a.startswith("-")]
    flags = set(argv)
    # Drop the flags' values (-n NS, -c CONTAINER, -l SELECTOR, -o FORMAT): what is left names the object.
    for flag in ("-n", "-c", "-l", "-o"):
        if flag in argv:
            words.remove(argv[argv.index(flag) + 1])
    kind = words[0].partition("/")[0] if words and "/" in words[0] else "pod"
    if subcommand == "get":
        group, resource = RESOURCES[words[0].partition("/")[0]]
        listed = len(words) == 1 or "-l" in flags
        watched = {(group, resource, "watch")} if "-w" in flags else set()
        return {(group, resource, "list" if listed else "get")} | watched
    if subcommand == "describe":
        # Finds the objects (by name, or by selector), then lists their events.
        group, resource = RESOURCES[words[0]]
        return {(group, resource, "list"), (group, resource, "get"), ("", "events", "list")}
    if subcommand == "logs":
        return {("", "pods", "get"), ("", "pods/log", "get")}
    if subcommand in ("exec", "port-forward"):
        # A deployment/NAME is resolved to one of its pods: the Deployment, then its pods.
        resolve = {("apps", "deployments", "get"), ("", "pods", "list")} if kind == "deployment" else set()
        subresource = "pods/exec" if subcommand == "exec" else "pods/portforward"
        return resolve | {("", "pods", "get"), ("", subresource, "create")}
    raise AssertionError(f"teach kubectl_permissions what `kubectl {subcommand}` needs: {line}")


# kubectl's names of the kinds the lab's and the checker's commands name: (API group, resource).
RESOURCES = {
    **dict.fromkeys(("pod", "pods"), ("", "pods")),
    **dict.fromkeys(("node", "nodes"), ("", "nodes")),
    **dict.fromkeys(("secret", "secrets"), ("", "secrets")),
    **dict.fromkeys(("deployment", "deployments"), ("apps", "deployments")),
    **dict.fromkeys(("replicaset", "replicasets"), ("apps", "replicasets")),
}


def granted(role: Registered) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role.inputs["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_each_learner_may_run_every_command_of_the_lab(learner_run: tuple[str, ProgramRun]) -> None:
    _, run = learner_run
    (role,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    needed = set().union(*(kubectl_permissions(line) for line in readme_command_lines()))
    assert needed - granted(role) == set()


def test_each_learner_may_run_every_command_of_the_checker_but_the_reads_the_readme_says_are_refused(
    learner_run: tuple[str, ProgramRun],
) -> None:
    """README: a learner's kubeconfig walks the lab with the checker (`kubectl exec` and
    `port-forward` into the pods among what it runs), and only its reads of the node and of the TLS
    Secret are refused."""
    _, run = learner_run
    (role,) = run.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    refused_reads = re.search(r"the checker's own reads of the (\w+) and of the TLS (\w+) are refused", readme)
    assert refused_reads, "the README says which of the checker's reads a learner is refused"
    refused = {RESOURCES[kind.lower()] for kind in refused_reads.groups()}
    assert "`kubectl exec` and `port-forward` into them" in readme
    fields = {"secret": "tls", "pod": "sidecar-proxy-1", "node": "node-0"}
    lines = [OVERVIEW.render("lab", "", **fields)] + [
        command.render("lab", commands.workload, **fields)
        for commands in COMMANDS.values()
        for command in commands.commands
    ]
    assert any(line.startswith("kubectl port-forward") for line in lines)
    for line in lines:
        needed = kubectl_permissions(line)
        if any((group, resource) in refused for group, resource, _ in needed):
            assert needed - granted(role), f"a learner may {line}"
        else:
            assert needed - granted(role) == set(), f"a learner may not {line}"


def test_a_learner_may_not_read_secrets_change_workloads_or_escalate(learner_run: tuple[str, ProgramRun]) -> None:
    _, classroom = learner_run
    for role in classroom.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role"):
        rights = granted(role)
        assert not any(r in ("secrets", "serviceaccounts", "roles", "rolebindings") for _, r, _ in rights)
        assert not any(v in ("create", "update", "patch") for _, r, v in rights if r in ("pods", "deployments"))
        assert not any(v == "*" or r == "*" or g == "*" for g, r, v in rights)
    # No ClusterRole and no ClusterRoleBinding: nothing outside the learner's namespace.
    assert not [r for r in classroom.resources if "ClusterRole" in r.type]
    roles = {
        (r.inputs["metadata"]["namespace"], k8s.name_of(r))
        for r in classroom.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
    }
    bindings = classroom.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    assert len(bindings) == 1
    for binding in bindings:
        namespace = binding.inputs["metadata"]["namespace"]
        assert binding.inputs["roleRef"]["kind"] == "Role"
        assert (namespace, binding.inputs["roleRef"]["name"]) in roles
        [subject] = binding.inputs["subjects"]
        assert subject["kind"] == "ServiceAccount"
        assert subject["namespace"] == namespace


def _pod_amounts(spec: dict[str, Any], key: str) -> Decimal:
    """A pod's effective amount (Kubernetes' rule for init containers and native sidecars),
    from the rendered spec."""
    section, resource = key.split(".")

    def amount(container: dict[str, Any]) -> Decimal:
        return parse_quantity(str(container["resources"][section][resource]))

    inits = spec.get("initContainers") or []
    sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
    running = sum((amount(c) for c in [*spec["containers"], *sidecars]), Decimal(0))
    peak, started = Decimal(0), Decimal(0)
    for container in inits:
        peak = max(peak, started + amount(container))
        if container.get("restartPolicy") == "Always":
            started += amount(container)
    return max(running, peak)


@pytest.mark.parametrize("config", [{}, {"nativeSidecar": "false", "failingInit": "true"}, {"cpuLimit": "250m"}])
def test_the_quota_holds_the_lab_and_one_rolling_update_of_each_deployment(config: dict[str, str]) -> None:
    run = run_program(learner_settings("alice", **config))
    for namespace in [run.exports["namespace"]]:
        objects = _namespaced(run, namespace)
        (quota,) = [r for r in objects if r.type == "kubernetes:core/v1:ResourceQuota"]
        hard = quota.inputs["spec"]["hard"]
        workloads = [r for r in objects if r.type in k8s.WORKLOAD_TYPES]
        # Each Deployment may surge one pod while it rolls.
        counts = {w.urn: 2 if w.type == "kubernetes:apps/v1:Deployment" else 1 for w in workloads}
        assert int(hard["pods"]) == sum(counts.values())
        for key in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
            needed = sum(_pod_amounts(k8s.pod_spec(w), key) * counts[w.urn] for w in workloads)
            assert parse_quantity(hard[key]) == needed, (namespace, key)
        (limits,) = [r for r in objects if r.type == "kubernetes:core/v1:LimitRange"]
        (item,) = limits.inputs["spec"]["limits"]
        container = k8s.all_containers(k8s.pod_spec(workloads[0]))[0]["resources"]
        assert item["default"] == item["max"] == container["limits"]
        assert item["defaultRequest"] == container["requests"]


def test_each_learner_gets_a_kubeconfig_for_their_namespace_as_a_secret_output(
    learner_run: tuple[str, ProgramRun],
) -> None:
    learner, classroom = learner_run
    assert "learner_kubeconfig" in classroom.secret_exports
    (token_secret,) = [r for r in classroom.of_type("kubernetes:core/v1:Secret") if r.inputs.get("type") == TOKEN_TYPE]
    config = yaml.safe_load(classroom.exports["learner_kubeconfig"])
    (context,) = config["contexts"]
    assert config["current-context"] == context["name"] == learner
    assert context["context"]["namespace"] == classroom.exports["namespace"]
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == SERVER
    assert token_secret.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "learner",
        "pulumi.com/waitFor": "jsonpath={.data.token}",
    }
    state = token_secret.state["data"]
    assert cluster["cluster"]["certificate-authority-data"] == state["ca.crt"]
    (user,) = config["users"]
    assert user["user"]["token"] == base64.b64decode(state["token"]).decode()


def test_the_class_stack_holds_settings_only_and_points_to_the_classroom_driver() -> None:
    run = run_program({"learners": '["alice", "bob"]', "classroomServer": SERVER}, expect_error=True)
    assert "each learner's lab is a stack of its own: scripts/classroom.sh" in str(run.error)
    assert run.resources == []


def test_without_learners_the_single_lab_is_unchanged() -> None:
    run = run_program()
    assert run.exports["namespace"] == "multi-container-demo"
    # The pods' own account only: no learner's.
    accounts = [k8s.name_of(r) for r in run.of_type("kubernetes:core/v1:ServiceAccount")]
    assert accounts == [LabArgs().service_account_name]
    assert "learner_kubeconfig" not in run.exports


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"learners": '["alice", "alice"]'}, "each learner once (alice is there twice)"),
        ({"learners": '["Alice"]'}, "invalid value 'Alice' for 'learners'"),
        ({"learner": "Alice"}, "invalid value 'Alice' for 'learners'"),
        ({"learners": '["alice"]', "learner": "alice"}, "no value on a stack with learners"),
        ({"learner": "alice", "learnerNamespace": "lab"}, "a name with {learner} once"),
        ({"learner": "alice", "learnerNamespace": "{learner}-{index}"}, "a name with {learner} once"),
        ({"learner": "a" * 60}, "makes 'multi-container-aaaa"),
        ({"learner": "alice", "namespace": "x"}, "its default (multi-container-demo) with learners"),
        ({"learners": "alice"}, "a list of learner names"),
        ({"learner": "alice", "classroomServer": "http://10.0.0.1"}, "the API server's https:// URL"),
    ],
)
def test_bad_classroom_settings_fail_before_anything_is_registered(config: dict[str, str], message: str) -> None:
    run = run_program({"classroomServer": SERVER, **config}, expect_error=True)
    assert message in str(run.error)
    assert run.resources == []


def test_the_server_comes_from_the_kubeconfig_context(tmp_path: Path) -> None:
    config = {
        "current-context": "kind",
        "contexts": [{"name": "kind", "context": {"cluster": "c1"}}, {"name": "other", "context": {"cluster": "c2"}}],
        "clusters": [
            {"name": "c1", "cluster": {"server": "https://127.0.0.1:6443"}},
            {"name": "c2", "cluster": {"server": "https://10.0.0.2:6443"}},
        ],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    environ = {"KUBECONFIG": str(path)}
    assert kubeconfig_server(None, environ) == "https://127.0.0.1:6443"
    assert kubeconfig_server("other", environ) == "https://10.0.0.2:6443"
    with pytest.raises(Exception, match="context 'missing' has no cluster server"):
        kubeconfig_server("missing", environ)


def test_destroying_a_learner_deletes_their_namespace_and_nothing_else_one_by_one(
    learner_run: tuple[str, ProgramRun],
) -> None:
    """Workloads too go with their namespace: destroy then costs one deletion per learner, which
    the classroom runs side by side, instead of one per workload and its pods (the single lab's way)."""
    _, classroom = learner_run
    namespaces = {k8s.name_of(r): r.urn for r in classroom.of_type("kubernetes:core/v1:Namespace")}
    deleted_one_by_one = {
        r.urn
        for r in classroom.resources
        if r.custom and not r.type.startswith("tls:") and not classroom.deleted_with(r)
    }
    providers = {r.urn for r in classroom.resources if r.type.startswith("pulumi:providers:")}
    assert deleted_one_by_one == set(namespaces.values()) | providers
    for resource in classroom.kubernetes_objects():
        namespace = resource.inputs["metadata"].get("namespace")
        if namespace:
            assert classroom.deleted_with(resource) == namespaces[namespace], resource.name


def test_the_readme_gives_what_a_new_learners_preview_creates() -> None:
    """A new learner's stack creates every resource the program registers for them, and the stack."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    found = re.search(r"`create (\d+)` for a new learner", readme)
    assert found, "the README's classroom table gives a new learner's preview"
    assert int(found[1]) == len(run_program(learner_settings("alice")).resources) + 1
