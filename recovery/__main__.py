"""``python -m recovery [--stack NAME]``, in the project's directory: repair a stack after a killed
`pulumi up`/`destroy` (scripts/recover.sh). Exits 0 when the stack is ready for the next `pulumi
up`, 1 when it cannot be repaired safely (another run may hold the lock) or a step failed, 2 on a
usage error."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from multicontainer_patterns._labels import MANAGED_BY, PART_OF

from . import (
    ObjectRef,
    clear_interrupted_writes,
    file_backend_root,
    kube_context,
    pending_creates,
    recorded_objects,
    stack_locks,
    sweep_namespaces,
    unrecorded,
)

# How long a deleted object may take to go (a namespace waits for its pods to stop).
DELETE_TIMEOUT = 180


class RecoveryError(Exception):
    """A step failed, or the stack must not be touched; the message says which and what to do."""


def run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


def pulumi(*args: str, stack: str | None, what: str) -> str:
    """The output of a `pulumi` command that must succeed."""
    result = run(["pulumi", *args, *(["--stack", stack] if stack else []), "--non-interactive"])
    if result.returncode != 0:
        raise RecoveryError(f"{what} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def release_dead_locks(stack: str) -> None:
    """On a file backend, when every process that took one of the stack's locks is gone: removes
    what a write of its state cut short left behind, and the locks."""
    root = file_backend_root(json.loads(pulumi("whoami", "--json", stack=None, what="pulumi whoami")).get("url", ""))
    if root is None:
        # Another backend keeps its locks to itself: a run it still counts as going makes the
        # refresh below fail with its own message.
        return
    project = yaml.safe_load(Path("Pulumi.yaml").read_text())["name"]
    locks = stack_locks(root, project, stack)
    alive = [lock for lock in locks if lock.holder_alive()]
    if alive:
        held = "\n  ".join(lock.describe() for lock in alive)
        raise RecoveryError(
            f"stack {stack} is locked by a run that may still be going:\n  {held}\n"
            "Wait for it to end. If it ran on another machine and you know it is dead, "
            f"`pulumi cancel --stack {stack}` removes its lock; then run this again."
        )
    for leftover in clear_interrupted_writes(root, project, stack):
        say(f"removed {leftover.name}, left by a run killed while it wrote the stack's state")
    if locks:
        pulumi("cancel", "--yes", stack=stack, what="pulumi cancel")
        say(f"removed {len(locks)} lock(s) of a run that is gone: " + "; ".join(lock.describe() for lock in locks))


# The labels of every object the lab makes (multicontainer_patterns/_labels.py).
LAB_SELECTOR = f"app.kubernetes.io/part-of={PART_OF},app.kubernetes.io/managed-by={MANAGED_BY}"


def kubectl_command(context: str | None) -> list[str]:
    return ["kubectl", *(["--context", context] if context else [])]


def stray_objects(recorded: set[ObjectRef], context: str | None) -> list[ObjectRef]:
    """The lab's objects in the stack's namespaces, of any kind, that its state does not record."""
    namespaces = sweep_namespaces(recorded)
    if not namespaces:
        return []
    kubectl = kubectl_command(context)
    resources = run([*kubectl, "api-resources", "--namespaced", "--verbs=list,delete", "-o", "name"])
    if resources.returncode != 0:
        raise RecoveryError(f"kubectl could not list the cluster's kinds:\n{resources.stderr}")
    kinds = ",".join(resources.stdout.split())
    found: list[ObjectRef] = []
    for namespace in namespaces:
        listed = run(
            [*kubectl, "get", kinds, "-n", namespace, "-l", LAB_SELECTOR, "--show-managed-fields", "-o", "json"]
        )
        if listed.returncode != 0:
            raise RecoveryError(f"kubectl could not list namespace {namespace}:\n{listed.stderr}")
        found += unrecorded(json.loads(listed.stdout)["items"], recorded)
    return found


def delete_objects(objects: Sequence[ObjectRef], context: str | None) -> None:
    """Deletes ``objects`` that exist, namespaces last, and waits until they are gone."""
    kubectl = kubectl_command(context)
    for batch in (
        [o for o in objects if o.resource != "Namespace"],
        [o for o in objects if o.resource == "Namespace"],
    ):
        for ref in batch:
            deleted = run([*kubectl, "delete", *ref.kubectl_args(), "--ignore-not-found", "--wait=false"])
            if deleted.returncode != 0:
                raise RecoveryError(f"kubectl could not delete {ref}:\n{deleted.stderr}")
        for ref in batch:
            gone = run([*kubectl, "wait", "--for=delete", *ref.kubectl_args(), f"--timeout={DELETE_TIMEOUT}s"])
            if gone.returncode != 0 and "not found" not in gone.stderr.lower():
                raise RecoveryError(f"{ref} is still there after {DELETE_TIMEOUT} s:\n{gone.stderr}")


def recover(stack: str) -> None:
    release_dead_locks(stack)
    exported: dict[str, Any] = json.loads(pulumi("stack", "export", stack=stack, what="pulumi stack export"))
    deployment = exported.get("deployment") or {}
    creates = pending_creates(deployment)
    for create in creates:
        say(f"pending create of {create.urn}" + (f": deleting {create.object} if it exists" if create.object else ""))
    context = kube_context(deployment)
    pending = [c.object for c in creates if c.object is not None]
    strays = [ref for ref in stray_objects(recorded_objects(deployment), context) if ref not in pending]
    for ref in strays:
        say(f"{ref} is in the cluster but not in the state: deleting it")
    delete_objects([*pending, *strays], context)
    refreshed = pulumi(
        "refresh", "--yes", "--skip-preview", "--clear-pending-creates", stack=stack, what="pulumi refresh"
    )
    print(refreshed, end="", flush=True)
    say(f"stack {stack} is ready: `scripts/up.sh` (or `pulumi up`) converges it")


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(
        prog="scripts/recover.sh",
        description="Repair a stack after a `pulumi up` or `pulumi destroy` that was killed: remove its lock when "
        "the process that held it is gone, and delete the objects it created without recording them, so that the "
        "next `pulumi up` creates each once.",
    )
    options.add_argument(
        "--stack", default=os.environ.get("PULUMI_STACK", "dev"), help="the stack (default: $PULUMI_STACK or dev)"
    )
    stack = options.parse_args(argv).stack
    try:
        recover(stack)
    except RecoveryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
