"""Brings a stack back after a `pulumi up` or `pulumi destroy` that was killed (SIGKILL, a closed
laptop, a CI runner that timed out) instead of stopped with Ctrl-C.

Such a run leaves two things behind:
  * its lock: the next run is refused with "the stack is currently locked";
  * pending creates: objects whose create request was sent but whose result was never recorded.
    The object may exist in the cluster, with a fixed name the next `up` cannot create again
    ("already exists") or with a generated name the next `up` does not know and would leave
    behind, or the request may never have arrived.

A run stopped with Ctrl-C can leave such an object too, without even a pending create: a create
cancelled after its request reached the API server.

`python -m recovery` (scripts/recover.sh) removes the lock only when the process that holds it is
gone, deletes each pending create's object from the cluster when it is there, and each object of
any kind that the provider wrote with the lab's labels in the stack's namespaces and the state
does not record (nothing the state records can depend on either: the engine creates a dependent
only after recording what it depends on), and clears the pending creates. The next `up` then
creates them again, each once.
"""

from __future__ import annotations

import glob
import json
import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

KUBERNETES_TYPE_PREFIX = "kubernetes:"


@dataclass(frozen=True)
class ObjectRef:
    """A Kubernetes object as kubectl names it."""

    resource: str
    """`Kind.version.group`, or `Kind` for the core group."""
    name: str
    namespace: str | None

    def kubectl_args(self) -> list[str]:
        return [self.resource, self.name, *(["--namespace", self.namespace] if self.namespace else [])]

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True)
class PendingCreate:
    urn: str
    type: str
    object: ObjectRef | None
    """The object it may have left in the cluster; None for what exists only in the state."""


def object_ref(type_token: str, inputs: Mapping[str, Any]) -> ObjectRef:
    """The object a `kubernetes:<group>/<version>:<Kind>` resource with ``inputs`` creates."""
    module, kind = type_token.split(":")[1:3]
    group, version = module.split("/")
    metadata = inputs.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"no metadata.name in {json.dumps(metadata)}")
    namespace = metadata.get("namespace")
    resource = kind if group == "core" else f"{kind}.{version}.{group}"
    return ObjectRef(resource, name, namespace if isinstance(namespace, str) and namespace else None)


def _is_object(resource: Mapping[str, Any]) -> bool:
    """Whether a resource of the state is a Kubernetes object (not a component of the provider)."""
    return resource["type"].startswith(KUBERNETES_TYPE_PREFIX) and resource.get("custom", True)


def pending_creates(deployment: Mapping[str, Any]) -> list[PendingCreate]:
    """The pending creates of an exported deployment (`pulumi stack export`)."""
    found = []
    for operation in deployment.get("pending_operations") or []:
        if operation.get("type") != "creating":
            continue
        resource = operation["resource"]
        typ = resource["type"]
        ref = object_ref(typ, resource.get("inputs") or {}) if _is_object(resource) else None
        found.append(PendingCreate(resource["urn"], typ, ref))
    return found


def recorded_objects(deployment: Mapping[str, Any]) -> set[ObjectRef]:
    """The Kubernetes objects the state records, as they were created."""
    return {
        object_ref(r["type"], r["outputs"])
        for r in deployment.get("resources") or []
        if _is_object(r) and r.get("outputs")
    }


def sweep_namespaces(recorded: set[ObjectRef]) -> list[str]:
    """Where objects the state does not record may be: the namespaces the state records. Every
    namespaced kind is looked at there, not only the kinds the state records: a run stopped right
    after its namespace may have sent the create of an object of any kind."""
    return sorted(o.name for o in recorded if o.resource == "Namespace")


# The provider's field manager: `pulumi-kubernetes` with client-side apply, `pulumi-kubernetes-<id>`
# with server-side apply.
PROVIDER_FIELD_MANAGER = "pulumi-kubernetes"


def written_by_the_provider(metadata: Mapping[str, Any]) -> bool:
    """Whether Pulumi's Kubernetes provider wrote the object (`managedFields`, as `kubectl get
    --show-managed-fields` lists them): not a controller's object that copies the labels of its
    source (a Service's Endpoints), nor one a learner made during the lab."""
    return any(
        str(entry.get("manager", "")).startswith(PROVIDER_FIELD_MANAGER)
        for entry in metadata.get("managedFields") or []
    )


def unrecorded(items: Iterable[Mapping[str, Any]], recorded: set[ObjectRef]) -> list[ObjectRef]:
    """Of the listed objects (`kubectl get --show-managed-fields -o json` items), those the provider
    wrote and the state does not record, leaving out what controllers made (a Deployment's
    ReplicaSets and pods)."""
    found = []
    for item in items:
        metadata = item["metadata"]
        if metadata.get("ownerReferences") or not written_by_the_provider(metadata):
            continue
        api_version = item["apiVersion"]
        group, _, version = api_version.rpartition("/")
        token = f"kubernetes:{group or 'core'}/{version}:{item['kind']}"
        ref = object_ref(token, item)
        if ref not in recorded:
            found.append(ref)
    return found


def kube_context(deployment: Mapping[str, Any]) -> str | None:
    """The kube context of the stack's Kubernetes provider, when it names one."""
    for resource in deployment.get("resources") or []:
        if resource["type"] == "pulumi:providers:kubernetes":
            context = (resource.get("inputs") or {}).get("context")
            if isinstance(context, str) and context:
                return context
    return None


@dataclass(frozen=True)
class Lock:
    path: Path
    pid: int
    hostname: str
    username: str
    timestamp: str

    def holder_alive(self, this_host: str | None = None) -> bool:
        """Whether the process that took the lock may still run. A lock from another machine
        counts as alive: nothing here can tell."""
        if self.hostname != (this_host or socket.gethostname()):
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        stat = process_stat(self.pid)
        # Without /proc (macOS), a process kill(0) finds counts as running.
        return stat is None or not has_ended(stat)

    def describe(self) -> str:
        return f"pid {self.pid} of {self.username}@{self.hostname} since {self.timestamp} ({self.path})"


def process_stat(pid: int) -> list[str] | None:
    """The fields of `/proc/<pid>/stat` after the command's name (state, ppid, pgrp, session, ...);
    None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ...: comm may hold spaces and parentheses.
    return stat.rsplit(")", 1)[1].split()


def has_ended(stat: list[str]) -> bool:
    """Whether a process (its `process_stat`) has ended and only waits for its parent to collect its
    exit status (a killed CLI whose parent was killed too, until init collects it): a zombie holds
    nothing any more."""
    return stat[0] in ("Z", "X")


def file_backend_root(backend_url: str) -> Path | None:
    """The directory of a `file://` backend; None for any other backend."""
    parsed = urlparse(backend_url)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.netloc + parsed.path)).expanduser()


def stack_locks(root: Path, project: str, stack: str) -> list[Lock]:
    """The lock files of ``stack`` in a file backend: the project-scoped layout
    (`.pulumi/locks/<org>/<project>/<stack>/`) and the older one (`.pulumi/locks/<stack>/`)."""
    locks_dir = root / ".pulumi" / "locks"
    paths = [*locks_dir.glob(f"*/{project}/{stack}/*.json"), *locks_dir.glob(f"{stack}/*.json")]
    locks = []
    for path in sorted(paths):
        content = json.loads(path.read_text())
        locks.append(
            Lock(
                path=path,
                pid=int(content["pid"]),
                hostname=str(content["hostname"]),
                username=str(content.get("username", "")),
                timestamp=str(content.get("timestamp", "")),
            )
        )
    return locks


def checkpoint_files(root: Path, project: str, stack: str) -> list[Path]:
    """The stack's state files in a file backend (plain, gzip or zstd; project-scoped layout
    `.pulumi/stacks/<project>/` or the older `.pulumi/stacks/`)."""
    stacks_dir = root / ".pulumi" / "stacks"
    names = [f"{stack}.json", f"{stack}.json.gz", f"{stack}.json.zst"]
    return [path for folder in (stacks_dir / project, stacks_dir) for name in names if (path := folder / name).exists()]


def interrupted_write_leftovers(checkpoint: Path) -> list[Path]:
    """What a run killed while it wrote ``checkpoint`` leaves beside it: the file backend writes the
    new state to a temporary file and renames it over the old one (which stays whole), but writes
    the state's attributes file (`<file>.attrs`, its checksum) in place, so a kill can leave that
    file empty or cut, and every later read of the stack fails ("failed to load checkpoint: EOF").
    Returns the temporary files and an attributes file that does not parse; without them the stack
    reads as its last whole state."""
    leftovers = sorted(checkpoint.parent.glob(f"{glob.escape(checkpoint.name)}.*.tmp"))
    attributes = checkpoint.with_name(checkpoint.name + ".attrs")
    if attributes.exists() and not _is_json_object(attributes):
        leftovers.append(attributes)
    return leftovers


def _is_json_object(path: Path) -> bool:
    try:
        return isinstance(json.loads(path.read_text()), dict)
    except ValueError:
        return False


def interrupted_writes(root: Path, project: str, stack: str) -> list[Path]:
    """What writes of ``stack``'s state cut short left behind, beside each of its state files (see
    `interrupted_write_leftovers`); empty when the stack reads as its last whole state."""
    return [
        leftover
        for checkpoint in checkpoint_files(root, project, stack)
        for leftover in interrupted_write_leftovers(checkpoint)
    ]


def clear_interrupted_writes(root: Path, project: str, stack: str) -> list[Path]:
    """Removes what writes of ``stack``'s state cut short left behind (`interrupted_writes`), unless
    a process that may still run holds one of its locks. Returns what it removed."""
    if any(lock.holder_alive() for lock in stack_locks(root, project, stack)):
        return []
    removed = interrupted_writes(root, project, stack)
    for leftover in removed:
        leftover.unlink()
    return removed


def stacks_in(root: Path, project: str) -> list[str]:
    """The names of the stacks whose state files a file backend holds for ``project``."""
    stacks_dir = root / ".pulumi" / "stacks"
    names = {
        path.name.split(".json")[0]
        for folder in (stacks_dir / project, stacks_dir)
        for pattern in ("*.json", "*.json.gz", "*.json.zst")
        for path in folder.glob(pattern)
    }
    return sorted(names)
