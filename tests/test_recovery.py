"""The repair after a killed `pulumi up`: which objects of its pending creates are deleted (as
kubectl names them), which pending creates are only cleared, and which locks may be removed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recovery import (
    Lock,
    checkpoint_files,
    file_backend_root,
    has_ended,
    interrupted_write_leftovers,
    interrupted_writes,
    kube_context,
    object_ref,
    pending_creates,
    process_stat,
    recorded_objects,
    stack_locks,
    sweep_namespaces,
    unrecorded,
)

STACK_URN = "urn:pulumi:dev::multi-container-patterns::"


def _operation(kind: str, typ: str, name: str, inputs: dict[str, object], custom: bool = True) -> dict[str, object]:
    return {
        "type": kind,
        "resource": {"urn": f"{STACK_URN}{typ}::{name}", "type": typ, "custom": custom, "inputs": inputs},
    }


def test_each_pending_kubernetes_object_is_named_as_kubectl_deletes_it_and_the_rest_only_cleared() -> None:
    deployment = {
        "pending_operations": [
            _operation("creating", "kubernetes:core/v1:Namespace", "lab-namespace", {"metadata": {"name": "demo"}}),
            _operation(
                "creating",
                "kubernetes:core/v1:Pod",
                "lab-sidecar-pod",
                {"metadata": {"name": "sidecar-logging", "namespace": "demo"}, "spec": {}},
            ),
            # An auto-named ConfigMap: the checked inputs carry the generated name.
            _operation(
                "creating",
                "kubernetes:core/v1:ConfigMap",
                "lab-sidecar-scripts",
                {"metadata": {"name": "lab-sidecar-scripts-1a2b3c4d", "namespace": "demo"}},
            ),
            _operation(
                "creating",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "lab-db",
                {"metadata": {"name": "db", "namespace": "demo"}},
            ),
            _operation("creating", "tls:index/privateKey:PrivateKey", "lab-ambassador-key", {"algorithm": "ECDSA"}),
            _operation("creating", "multicontainer:patterns:Sidecar", "lab-sidecar", {}, custom=False),
            # A component of the Kubernetes provider makes no object of its own.
            _operation("creating", "kubernetes:yaml/v2:ConfigGroup", "manifests", {}, custom=False),
            # Only a create can leave an object the state does not record; the others are not touched.
            _operation("updating", "kubernetes:core/v1:Service", "lab-db", {"metadata": {"name": "db"}}),
        ]
    }
    creates = pending_creates(deployment)
    assert [(c.urn.split("::")[-1], c.object and c.object.kubectl_args()) for c in creates] == [
        ("lab-namespace", ["Namespace", "demo"]),
        ("lab-sidecar-pod", ["Pod", "sidecar-logging", "--namespace", "demo"]),
        ("lab-sidecar-scripts", ["ConfigMap", "lab-sidecar-scripts-1a2b3c4d", "--namespace", "demo"]),
        ("lab-db", ["NetworkPolicy.v1.networking.k8s.io", "db", "--namespace", "demo"]),
        ("lab-ambassador-key", None),
        ("lab-sidecar", None),
        ("manifests", None),
    ]
    assert str(creates[1].object) == "Pod demo/sidecar-logging"


def test_without_pending_operations_there_is_nothing_to_delete() -> None:
    assert pending_creates({}) == []
    assert pending_creates({"pending_operations": None}) == []


def test_an_object_without_a_name_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"no metadata\.name"):
        object_ref("kubernetes:core/v1:Pod", {"metadata": {"namespace": "demo"}})


def test_the_kube_context_is_the_providers() -> None:
    provider = {"type": "pulumi:providers:kubernetes", "inputs": {"context": "kind-lab"}}
    assert kube_context({"resources": [{"type": "pulumi:pulumi:Stack"}, provider]}) == "kind-lab"
    assert kube_context({"resources": [{"type": "pulumi:providers:kubernetes", "inputs": {}}]}) is None
    assert kube_context({}) is None


def test_only_file_backends_have_a_root() -> None:
    assert file_backend_root("file:///var/state") == Path("/var/state")
    assert file_backend_root("file://~/state") == Path("~/state").expanduser()
    assert file_backend_root("https://api.pulumi.com") is None
    assert file_backend_root("s3://bucket") is None


def _write_lock(path: Path, pid: int, hostname: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"pid": pid, "username": "me", "hostname": hostname, "timestamp": "2026-01-01T00:00:00Z"})
    )


def test_a_lock_is_dead_only_when_its_process_on_this_machine_is_gone(tmp_path: Path) -> None:
    here = socket.gethostname()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    gone_pid = int(finished.stdout)
    locks_dir = tmp_path / ".pulumi" / "locks"
    _write_lock(locks_dir / "organization" / "proj" / "dev" / "a.json", gone_pid, here)
    _write_lock(locks_dir / "organization" / "proj" / "dev" / "b.json", os.getpid(), here)
    _write_lock(locks_dir / "organization" / "proj" / "dev" / "c.json", gone_pid, "another-machine")
    _write_lock(locks_dir / "organization" / "proj" / "other" / "d.json", gone_pid, here)
    _write_lock(locks_dir / "dev" / "e.json", gone_pid, here)
    locks = {lock.path.name: lock for lock in stack_locks(tmp_path, "proj", "dev")}
    assert sorted(locks) == ["a.json", "b.json", "c.json", "e.json"]
    assert {name: lock.holder_alive() for name, lock in locks.items()} == {
        "a.json": False,
        "b.json": True,
        "c.json": True,
        "e.json": False,
    }


def test_a_lock_of_a_process_that_ended_and_was_not_yet_collected_is_dead(tmp_path: Path) -> None:
    """A killed CLI stays a zombie until its parent (or init, when the parent was killed too)
    collects its exit status: it holds nothing any more."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(500):
            stat = process_stat(child.pid)
            if stat is not None and has_ended(stat):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the child did not end")
        path = tmp_path / ".pulumi" / "locks" / "organization" / "proj" / "dev" / "z.json"
        _write_lock(path, child.pid, socket.gethostname())
        [lock] = stack_locks(tmp_path, "proj", "dev")
        assert not lock.holder_alive()
    finally:
        child.wait()


def test_a_lock_describes_its_holder() -> None:
    lock = Lock(Path("/s/l.json"), 42, "host", "me", "2026-01-01T00:00:00Z")
    assert lock.describe() == "pid 42 of me@host since 2026-01-01T00:00:00Z (/s/l.json)"


def _recorded(typ: str, name: str, namespace: str | None = None) -> dict[str, object]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"type": typ, "custom": True, "outputs": {"metadata": metadata}}


STATE = {
    "resources": [
        {"type": "pulumi:providers:kubernetes", "custom": True, "outputs": {}},
        {"type": "multicontainer:patterns:Lab", "custom": False},
        _recorded("kubernetes:core/v1:Namespace", "demo"),
        _recorded("kubernetes:core/v1:Pod", "sidecar-logging", "demo"),
        _recorded("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny", "demo"),
    ],
    "pending_operations": [
        _operation("creating", "kubernetes:apps/v1:Deployment", "db", {"metadata": {"name": "db", "namespace": "demo"}})
    ],
}


def test_strays_are_looked_for_in_the_namespaces_the_state_records() -> None:
    assert sweep_namespaces(recorded_objects(STATE)) == ["demo"]
    assert sweep_namespaces(set()) == []


def _listed(
    api_version: str, kind: str, name: str, owned: bool = False, manager: str = "pulumi-kubernetes"
) -> dict[str, object]:
    metadata: dict[str, object] = {
        "name": name,
        "namespace": "demo",
        "managedFields": [{"manager": manager, "operation": "Update"}, {"manager": "kubelet", "operation": "Update"}],
    }
    if owned:
        metadata["ownerReferences"] = [{"kind": "ReplicaSet", "name": "db-1"}]
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


def test_a_stray_is_an_object_the_provider_wrote_that_the_state_does_not_record_and_no_controller_made() -> None:
    items = [
        _listed("v1", "Pod", "sidecar-logging"),
        _listed("v1", "Pod", "adapter-format"),
        _listed("v1", "Pod", "db-1-abcde", owned=True),
        _listed("networking.k8s.io/v1", "NetworkPolicy", "default-deny"),
        _listed("networking.k8s.io/v1", "NetworkPolicy", "db"),
        # A kind the state does not record at all, written with server-side apply's field manager.
        _listed("v1", "ConfigMap", "adapter-scripts-1a2b", manager="pulumi-kubernetes-5f3c2e1d"),
        # The lab's labels copied by a controller, and an object a learner made by hand.
        _listed("v1", "Endpoints", "db", manager="kube-controller-manager"),
        _listed("v1", "ConfigMap", "notes", manager="kubectl-create"),
    ]
    strays = unrecorded(items, recorded_objects(STATE))
    assert [str(ref) for ref in strays] == [
        "Pod demo/adapter-format",
        "NetworkPolicy.v1.networking.k8s.io demo/db",
        "ConfigMap demo/adapter-scripts-1a2b",
    ]


def test_what_a_state_write_cut_short_leaves_is_found_and_nothing_else(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "multi-container-patterns"
    stacks.mkdir(parents=True)
    checkpoint = stacks / "dev.json"
    checkpoint.write_text('{"version": 3, "checkpoint": {}}')
    (stacks / "dev.json.attrs").write_text("")  # cut short by the kill
    (stacks / "dev.json.18ede32d8d7571b1.tmp").write_text('{"version": 3')
    (stacks / "dev-b.json").write_text('{"version": 3, "checkpoint": {}}')
    (stacks / "dev-b.json.attrs").write_text('{"user.content_md5": "x"}')
    (stacks / "dev-b.json.5a.tmp").write_text("")
    assert checkpoint_files(tmp_path, "multi-container-patterns", "dev") == [checkpoint]
    assert [p.name for p in interrupted_write_leftovers(checkpoint)] == [
        "dev.json.18ede32d8d7571b1.tmp",
        "dev.json.attrs",
    ]
    # Another stack's whole attributes are kept; its temporary file is its own.
    assert [p.name for p in interrupted_write_leftovers(stacks / "dev-b.json")] == ["dev-b.json.5a.tmp"]
    # A stack's leftovers are those of its state files; a stack written whole has none.
    assert interrupted_writes(tmp_path, "multi-container-patterns", "dev") == interrupted_write_leftovers(checkpoint)
    (stacks / "dev-c.json").write_text('{"version": 3, "checkpoint": {}}')
    assert interrupted_writes(tmp_path, "multi-container-patterns", "dev-c") == []
