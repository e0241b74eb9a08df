"""Helpers to read the Kubernetes objects a run registered, as the API server would see them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.harness import ProgramRun, Registered

WORKLOAD_TYPES = ("kubernetes:core/v1:Pod", "kubernetes:apps/v1:Deployment")


def group_version_kind(type_token: str) -> tuple[str, str, str]:
    """``kubernetes:<group>/<version>:<Kind>`` split up (the core group is ``core``)."""
    _, api, kind = type_token.split(":")
    group, version = api.split("/")
    return group, version, kind


def manifest(resource: Registered) -> dict[str, Any]:
    """The object as pulumi-kubernetes sends it: apiVersion, kind, metadata, spec/data."""
    return resource.inputs


def name_of(resource: Registered) -> str:
    """The object's name: set by the program, or given by (mocked) auto-naming."""
    return resource.state["metadata"]["name"]


def pod_spec(resource: Registered) -> dict[str, Any]:
    if resource.type == "kubernetes:core/v1:Pod":
        return resource.inputs["spec"]
    return resource.inputs["spec"]["template"]["spec"]


def pod_labels(resource: Registered) -> dict[str, str]:
    if resource.type == "kubernetes:core/v1:Pod":
        return resource.inputs["metadata"]["labels"]
    return resource.inputs["spec"]["template"]["metadata"]["labels"]


def pod_annotations(resource: Registered) -> dict[str, str]:
    if resource.type == "kubernetes:core/v1:Pod":
        return resource.inputs["metadata"].get("annotations", {})
    return resource.inputs["spec"]["template"]["metadata"].get("annotations", {})


def workload(run: ProgramRun, name: str) -> Registered:
    matches = [r for r in run.resources if r.type in WORKLOAD_TYPES and name_of(r) == name]
    assert len(matches) == 1, f"expected one workload named {name}, found {len(matches)}"
    return matches[0]


def container(spec: dict[str, Any], name: str, *, init: bool = False) -> dict[str, Any]:
    containers = spec.get("initContainers" if init else "containers") or []
    matches = [c for c in containers if c["name"] == name]
    assert len(matches) == 1, f"expected one {'init ' if init else ''}container {name}"
    return matches[0]


def all_containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *spec["containers"]]


def mount_of(spec: dict[str, Any], container_spec: dict[str, Any], path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The volumeMount of ``container_spec`` at ``path`` and the pod volume it names."""
    mounts = [m for m in container_spec.get("volumeMounts", []) if m["mountPath"] == path]
    assert len(mounts) == 1, f"container {container_spec['name']} mounts nothing at {path}"
    volumes = [v for v in spec.get("volumes", []) if v["name"] == mounts[0]["name"]]
    assert len(volumes) == 1, f"volume {mounts[0]['name']} is not a volume of the pod"
    return mounts[0], volumes[0]


def env_of(container_spec: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container_spec.get("env", [])}


def config_map_named(run: ProgramRun, name: str) -> Registered:
    matches = [r for r in run.of_type("kubernetes:core/v1:ConfigMap") if name_of(r) == name]
    assert len(matches) == 1, f"no ConfigMap named {name}"
    return matches[0]


def script_of(run: ProgramRun, spec: dict[str, Any], container_spec: dict[str, Any]) -> str:
    """The text of the script a container runs (`sh /path/file`), read from the ConfigMap it mounts."""
    command = container_spec["command"]
    assert command[0] == "sh", command
    script_path = command[1]
    directory, _, key = script_path.rpartition("/")
    _, volume = mount_of(spec, container_spec, directory)
    config_map = config_map_named(run, volume["configMap"]["name"])
    return config_map.inputs["data"][key]


def config_map_data(run: ProgramRun) -> dict[str, Mapping[str, str]]:
    """The data of every ConfigMap of the run, by name."""
    return {name_of(c): c.inputs["data"] for c in run.of_type("kubernetes:core/v1:ConfigMap")}


def secret_data(run: ProgramRun) -> dict[str, Mapping[str, str]]:
    """The string data of every Secret of the run, by name."""
    return {name_of(s): s.inputs["stringData"] for s in run.of_type("kubernetes:core/v1:Secret")}
