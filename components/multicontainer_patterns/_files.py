"""Scripts and configs that live as real files beside the component that ships them.

They are loaded byte for byte into a ConfigMap (no templating: parameters go in through
environment variables), so the file in the repository is exactly what the container runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from ._pod import Volume

CHECKSUM_ANNOTATION = "multicontainer.patterns/config-checksum"


def read_files(directory: Path, names: Sequence[str]) -> dict[str, str]:
    """The named files of ``directory``, keyed by file name."""
    return {name: (directory / name).read_text(encoding="utf-8") for name in names}


def checksum(data: Mapping[str, str]) -> str:
    """A digest of every key and value, so any change to a mounted file changes it."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode())
        digest.update(b"\0")
        digest.update(data[key].encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class FileBundle:
    """A ConfigMap made from files, and the volume that mounts it."""

    config_map: k8s.core.v1.ConfigMap
    volume: Volume
    checksum: str


def file_bundle(
    resource_name: str,
    *,
    volume_name: str,
    directory: Path,
    names: Sequence[str],
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> FileBundle:
    """Create a ConfigMap holding ``names`` from ``directory`` and a volume for it.

    The ConfigMap is auto-named from ``resource_name``: a changed file gives a new ConfigMap,
    created before the old one is deleted, and the pod that mounts it is rolled.
    """
    data = read_files(directory, names)
    config_map = k8s.core.v1.ConfigMap(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace=namespace, labels=dict(labels)),
        data=data,
        immutable=True,
        opts=opts,
    )
    return FileBundle(config_map, Volume.from_config_map(volume_name, config_map, names), checksum(data))
