"""Reading Kubernetes objects as ``kubectl get -o json`` prints them: container statuses, times,
resource quantities, a pod's effective requests and a Deployment's current pods."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

# One reading of Kubernetes quantities for the program's settings and for what the cluster shows.
from multicontainer_patterns._naming import parse_quantity as quantity

Json = dict[str, Any]

RESOURCES = ("cpu", "memory")


def parse_object(text: str) -> Json:
    """A JSON object as kubectl printed it; ValueError when it is not one."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return cast(Json, value)


def items(listing: Json) -> list[Json]:
    return list(listing.get("items") or [])


def name_of(obj: Json) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def pod_spec(pod: Json) -> Json:
    return pod.get("spec") or {}


def init_containers(spec: Json) -> list[Json]:
    return list(spec.get("initContainers") or [])


def containers(spec: Json) -> list[Json]:
    return list(spec.get("containers") or [])


def is_sidecar(init_container: Json) -> bool:
    """A native sidecar: an init container that keeps running (restartPolicy: Always)."""
    return init_container.get("restartPolicy") == "Always"


def container_status(pod: Json, name: str) -> Json | None:
    """The status of container ``name``, init or not; None when the kubelet reported none yet."""
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for entry in status.get(key) or []:
            if entry.get("name") == name:
                return cast(Json, entry)
    return None


def running_since(status: Json | None) -> datetime | None:
    running = ((status or {}).get("state") or {}).get("running")
    return parse_time(running["startedAt"]) if running and running.get("startedAt") else None


def terminated(status: Json | None) -> Json | None:
    return ((status or {}).get("state") or {}).get("terminated")


def waiting_reason(status: Json | None) -> str | None:
    waiting = ((status or {}).get("state") or {}).get("waiting")
    return str(waiting.get("reason", "")) if waiting is not None else None


def ever_started(status: Json | None) -> bool:
    """Whether the container ran at all: running now, ended, or ended before a restart."""
    if status is None:
        return False
    state = status.get("state") or {}
    last = status.get("lastState") or {}
    return bool(state.get("running") or state.get("terminated") or last.get("terminated") or status.get("restartCount"))


def condition_time(pod: Json, condition: str) -> datetime | None:
    """When the pod's condition ``condition`` last became true."""
    for entry in (pod.get("status") or {}).get("conditions") or []:
        if entry.get("type") == condition and entry.get("status") == "True" and entry.get("lastTransitionTime"):
            return parse_time(entry["lastTransitionTime"])
    return None


def pod_state(pod: Json) -> str:
    """The pod's STATUS as ``kubectl get pods`` shows it, for the cases the lab meets."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    return _init_state(pod) or _containers_state(pod) or str((pod.get("status") or {}).get("phase", "Unknown"))


def _init_state(pod: Json) -> str | None:
    """``Init:...`` while the pod is not initialized and an init container has not done its part
    (finished, or started as a sidecar)."""
    if condition_time(pod, "Initialized") is not None:
        return None
    declared = init_containers(pod_spec(pod))
    for index, container in enumerate(declared):
        entry = container_status(pod, container["name"])
        ended = terminated(entry)
        if ended is not None and ended.get("exitCode") == 0:
            continue
        if is_sidecar(container) and entry is not None and entry.get("started"):
            continue
        reason = waiting_reason(entry)
        if ended is not None:
            return f"Init:{ended.get('reason') or 'ExitCode:' + str(ended.get('exitCode'))}"
        if reason and reason != "PodInitializing":
            return f"Init:{reason}"
        return f"Init:{index}/{len(declared)}"
    return None


def _containers_state(pod: Json) -> str | None:
    """Why a container is not running, if one is not."""
    for container in containers(pod_spec(pod)):
        entry = container_status(pod, container["name"])
        reason = waiting_reason(entry)
        ended = terminated(entry)
        if reason:
            return reason
        if ended is not None:
            return str(ended.get("reason") or "Terminated")
    return None


def ready_count(pod: Json) -> str:
    """READY as ``kubectl get pods`` shows it: ready containers, sidecars included, of all."""
    spec = pod_spec(pod)
    watched = [c["name"] for c in init_containers(spec) if is_sidecar(c)] + [c["name"] for c in containers(spec)]
    ready = sum(1 for name in watched if (container_status(pod, name) or {}).get("ready"))
    return f"{ready}/{len(watched)}"


def is_ready(pod: Json) -> bool:
    for entry in (pod.get("status") or {}).get("conditions") or []:
        if entry.get("type") == "Ready":
            return entry.get("status") == "True"
    return False


def requests_of(container: Json) -> dict[str, Decimal]:
    declared = (container.get("resources") or {}).get("requests") or {}
    return {resource: quantity(str(declared[resource])) for resource in RESOURCES if resource in declared}


def pod_requests(spec: Json) -> dict[str, Decimal]:
    """What the scheduler counts for a pod: its containers plus its native sidecars, or the largest
    classic init container (with the sidecars started before it) when that is more, plus overhead.
    Kubernetes' own rule, from k8s.io/component-helpers resource.PodRequests."""
    total = {resource: Decimal(0) for resource in RESOURCES}
    for container in containers(spec):
        for resource, amount in requests_of(container).items():
            total[resource] += amount
    sidecars = {resource: Decimal(0) for resource in RESOURCES}
    largest_init = {resource: Decimal(0) for resource in RESOURCES}
    for container in init_containers(spec):
        own = requests_of(container)
        for resource in RESOURCES:
            if is_sidecar(container):
                total[resource] += own.get(resource, Decimal(0))
                sidecars[resource] += own.get(resource, Decimal(0))
                effective = sidecars[resource]
            else:
                effective = own.get(resource, Decimal(0)) + sidecars[resource]
            largest_init[resource] = max(largest_init[resource], effective)
    overhead = spec.get("overhead") or {}
    return {
        resource: max(total[resource], largest_init[resource])
        + (quantity(str(overhead[resource])) if resource in overhead else Decimal(0))
        for resource in RESOURCES
    }


def current_pods(deployment: Json, replicasets: Json, pods: Json) -> list[Json]:
    """The pods of the Deployment's current ReplicaSet: the one of its current revision. During a
    rollout that cannot finish (experiment 2) the pods of the previous one keep running too."""
    revision = (deployment.get("metadata", {}).get("annotations") or {}).get("deployment.kubernetes.io/revision")
    owned = [
        rs
        for rs in items(replicasets)
        if any(ref.get("uid") == deployment["metadata"].get("uid") for ref in rs["metadata"].get("ownerReferences", []))
    ]
    current = [
        rs
        for rs in owned
        if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision
    ]
    if not current:
        return []
    uid = current[0]["metadata"].get("uid")
    return [
        pod
        for pod in items(pods)
        if any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences", []))
        and not pod["metadata"].get("deletionTimestamp")
    ]
