"""Kubernetes multi-container patterns as reusable Pulumi components.

One component per pattern (:class:`Sidecar`, :class:`Adapter`, :class:`Ambassador`,
:class:`InitContainers`, :class:`NativeSidecar`) and :class:`MultiContainerLab` composing them.
"""

from .adapter import Adapter, AdapterArgs
from .ambassador import Ambassador, AmbassadorArgs
from .defaults import Resources
from .init_containers import InitContainers, InitContainersArgs
from .lab import PATTERNS, LabArgs, MultiContainerLab
from .naming import SettingError
from .native_sidecar import NativeSidecar, NativeSidecarArgs
from .sidecar import Sidecar, SidecarArgs
from .tls import TlsSettings

__all__ = [
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
    "Resources",
    "SettingError",
    "Sidecar",
    "SidecarArgs",
    "TlsSettings",
]
