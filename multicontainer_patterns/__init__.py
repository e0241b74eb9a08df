"""Kubernetes multi-container patterns as reusable Pulumi components.

One component per pattern (:class:`Sidecar`, :class:`Adapter`, :class:`Ambassador`,
:class:`InitContainers`, :class:`NativeSidecar`) and :class:`MultiContainerLab` composing the
patterns of :data:`REGISTRY`. A pattern registered later is imported from its own package.
"""

from .adapter import Adapter, AdapterArgs
from .ambassador import Ambassador, AmbassadorArgs
from .defaults import Resources
from .init_containers import InitContainers, InitContainersArgs
from .lab import LabArgs, MultiContainerLab
from .naming import SettingError
from .native_sidecar import NativeSidecar, NativeSidecarArgs
from .pattern import Experiment, Pattern, PatternArgs
from .registry import PATTERNS, REGISTRY
from .sidecar import Sidecar, SidecarArgs
from .tls import TlsSettings

__all__ = [
    "PATTERNS",
    "REGISTRY",
    "Adapter",
    "AdapterArgs",
    "Ambassador",
    "AmbassadorArgs",
    "Experiment",
    "InitContainers",
    "InitContainersArgs",
    "LabArgs",
    "MultiContainerLab",
    "NativeSidecar",
    "NativeSidecarArgs",
    "Pattern",
    "PatternArgs",
    "Resources",
    "SettingError",
    "Sidecar",
    "SidecarArgs",
    "TlsSettings",
]
