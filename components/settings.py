"""Stack configuration: read, validated and turned into :class:`LabArgs`.

Every setting is declared in ``Pulumi.yaml``; a test keeps those declarations and the defaults
here in step. Any invalid value raises :class:`SettingError` naming the setting and what it
accepts, before a single resource is registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from . import naming
from .defaults import Resources
from .lab import LabArgs
from .naming import SettingError
from .registry import PATTERNS
from .tls import ALGORITHMS, ECDSA_CURVES, RSA_BITS, TlsSettings

LAB_DEFAULTS = LabArgs()
TLS_DEFAULTS = TlsSettings()
RESOURCE_DEFAULTS = Resources()

# Every setting, with its default as a Pulumi.yaml declaration would hold it.
DEFAULTS: dict[str, object] = {
    "kubeContext": "",
    "namespace": LAB_DEFAULTS.namespace,
    "patterns": list(PATTERNS),
    "busyboxImage": LAB_DEFAULTS.busybox_image,
    "nginxImage": LAB_DEFAULTS.nginx_image,
    "dbImage": LAB_DEFAULTS.db_image,
    "tlsAlgorithm": TLS_DEFAULTS.algorithm,
    "tlsEcdsaCurve": TLS_DEFAULTS.ecdsa_curve,
    "tlsRsaBits": TLS_DEFAULTS.rsa_bits,
    "tlsValidityHours": TLS_DEFAULTS.validity_hours,
    "tlsEarlyRenewalHours": TLS_DEFAULTS.early_renewal_hours,
    "cpuRequest": RESOURCE_DEFAULTS.cpu_request,
    "memoryRequest": RESOURCE_DEFAULTS.memory_request,
    "cpuLimit": RESOURCE_DEFAULTS.cpu_limit,
    "memoryLimit": RESOURCE_DEFAULTS.memory_limit,
    "nativeSidecar": LAB_DEFAULTS.native_sidecar,
    "failingInit": LAB_DEFAULTS.failing_init,
    "podSecurity": LAB_DEFAULTS.pod_security,
    "networkPolicies": LAB_DEFAULTS.network_policies,
}


class ConfigSource(Protocol):
    """The part of ``pulumi.Config`` that is read: raw string values by key."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class Settings:
    kube_context: str | None
    lab: LabArgs


def _text(config: ConfigSource, key: str) -> str:
    value = config.get(key)
    return str(DEFAULTS[key]) if value is None else value


def _int(config: ConfigSource, key: str) -> int:
    raw = _text(config, key)
    try:
        return int(raw)
    except ValueError:
        raise SettingError(key, raw, "a whole number") from None


def _bool(config: ConfigSource, key: str) -> bool:
    raw = _text(config, key)
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise SettingError(key, raw, "true or false")


def _patterns(config: ConfigSource) -> list[str]:
    raw = config.get("patterns")
    if raw is None:
        return list(PATTERNS)
    # Pulumi.yaml declares an array: the engine hands it over as JSON.
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingError("patterns", raw, "a list of pattern names: " + ", ".join(PATTERNS)) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SettingError("patterns", raw, "a list of pattern names: " + ", ".join(PATTERNS))
    if not value:
        raise SettingError("patterns", raw, "at least one of " + ", ".join(PATTERNS))
    for item in value:
        naming.one_of("patterns", item, PATTERNS)
    return value


def load_settings(config: ConfigSource) -> Settings:
    """Read and validate every setting; raises :class:`SettingError` naming the first bad one."""
    kube_context = config.get("kubeContext") or None
    namespace = naming.dns1123_label("namespace", _text(config, "namespace"))
    images = {key: naming.image_reference(key, _text(config, key)) for key in ("busyboxImage", "nginxImage", "dbImage")}
    tls_algorithm = str(naming.one_of("tlsAlgorithm", _text(config, "tlsAlgorithm"), ALGORITHMS))
    tls_curve = str(naming.one_of("tlsEcdsaCurve", _text(config, "tlsEcdsaCurve"), ECDSA_CURVES))
    rsa_bits = int(str(naming.one_of("tlsRsaBits", _int(config, "tlsRsaBits"), RSA_BITS)))
    validity = naming.positive_int("tlsValidityHours", _int(config, "tlsValidityHours"))
    renewal = naming.non_negative_int("tlsEarlyRenewalHours", _int(config, "tlsEarlyRenewalHours"))
    if renewal >= validity:
        raise SettingError("tlsEarlyRenewalHours", renewal, f"fewer hours than tlsValidityHours ({validity})")
    quantities = {key: _text(config, key) for key in ("cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit")}
    for key, value in quantities.items():
        naming.quantity(key, value)
    resources = Resources(
        cpu_request=quantities["cpuRequest"],
        memory_request=quantities["memoryRequest"],
        cpu_limit=quantities["cpuLimit"],
        memory_limit=quantities["memoryLimit"],
    )
    lab = LabArgs(
        namespace=namespace,
        patterns=_patterns(config),
        busybox_image=images["busyboxImage"],
        nginx_image=images["nginxImage"],
        db_image=images["dbImage"],
        tls=TlsSettings(
            algorithm=tls_algorithm,
            ecdsa_curve=tls_curve,
            rsa_bits=rsa_bits,
            validity_hours=validity,
            early_renewal_hours=renewal,
        ),
        resources=resources,
        native_sidecar=_bool(config, "nativeSidecar"),
        failing_init=_bool(config, "failingInit"),
        pod_security=_text(config, "podSecurity"),
        network_policies=_bool(config, "networkPolicies"),
    )
    return Settings(kube_context=kube_context, lab=lab)
