"""Kubernetes multi-container patterns as reusable Pulumi components.

One component per pattern, each with its arguments: `Sidecar`, `Adapter`, `Ambassador`,
`InitContainers` and `NativeSidecar`; and `MultiContainerLab`, a namespace with the patterns
`PATTERNS` names. Every pattern's component takes its object names, namespace, images, resources
and labels as arguments; `MultiContainerLab` takes the lab's settings (`LabArgs`) and gives each
pattern the lab's names. Arguments are checked when they are built (`SettingError`).

This module is the public API: every other module of the package is private (its name starts with
an underscore) and may change in any version.
"""

from importlib import metadata as _metadata

from ._adapter import Adapter, AdapterArgs
from ._ambassador import Ambassador, AmbassadorArgs
from ._defaults import BUSYBOX_IMAGE, DB_IMAGE, NGINX_IMAGE, Resources
from ._init_containers import InitContainers, InitContainersArgs
from ._lab import LabArgs, MultiContainerLab
from ._naming import SettingError
from ._native_sidecar import NativeSidecar, NativeSidecarArgs
from ._pattern import PatternArgs
from ._registry import PATTERNS
from ._sidecar import Sidecar, SidecarArgs
from ._tls import TlsSettings

__version__: str = _metadata.version("multi-container-patterns")
"""The installed package's version (pyproject.toml's; its changes are in CHANGELOG.md)."""

__all__ = [
    "BUSYBOX_IMAGE",
    "DB_IMAGE",
    "NGINX_IMAGE",
    "PATTERNS",
    "Adapter",
    "AdapterArgs",
    "Ambassador",
    "AmbassadorArgs",
    "InitContainers",
    "InitContainersArgs",
    "LabArgs",
    "MultiContainerLab",
    "NativeSidecar",
    "NativeSidecarArgs",
    "PatternArgs",
    "Resources",
    "SettingError",
    "Sidecar",
    "SidecarArgs",
    "TlsSettings",
]
