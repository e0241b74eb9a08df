"""Stack configuration: read, validated and turned into :class:`LabArgs`.

Every setting is declared in ``Pulumi.yaml``; a test keeps those declarations and the defaults
here in step. Any invalid value raises :class:`SettingError` naming the setting and what it
accepts, before a single resource is registered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from . import _naming as naming
from ._classroom import DEFAULT_NAMESPACE_TEMPLATE, learner_namespaces
from ._defaults import Resources
from ._lab import LabArgs
from ._naming import SettingError
from ._registry import PATTERNS
from ._timeouts import DEFAULT_AWAIT_TIMEOUT_SECONDS
from ._tls import ALGORITHMS, ECDSA_CURVES, RSA_BITS, TlsSettings

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
    "learners": [],
    "learner": "",
    "learnerNamespace": DEFAULT_NAMESPACE_TEMPLATE,
    "classroomServer": "",
    "awaitTimeoutSeconds": DEFAULT_AWAIT_TIMEOUT_SECONDS,
}


class ConfigSource(Protocol):
    """The part of ``pulumi.Config`` that is read: raw string values by key."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class Settings:
    kube_context: str | None
    lab: LabArgs
    learners: tuple[str, ...] = ()
    """With learners, a classroom: one stack per learner, each holding that learner's lab in the
    namespace ``learner_namespace`` names. This stack then holds the class's settings only."""
    learner: str = ""
    """The learner whose lab this stack holds (a learner's stack of a classroom)."""
    learner_namespace: str = DEFAULT_NAMESPACE_TEMPLATE
    classroom_server: str = ""
    """The API server's URL for the learners' kubeconfigs; empty: the kubeconfig context's."""
    await_timeout_seconds: int = DEFAULT_AWAIT_TIMEOUT_SECONDS
    """How long the provider waits for each object to become ready, or to be gone (timeouts.py)."""


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


def _names(config: ConfigSource, key: str, expected: str) -> list[str] | None:
    """A list of names (Pulumi.yaml declares an array: the engine hands it over as JSON)."""
    raw = config.get(key)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingError(key, raw, expected) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SettingError(key, raw, expected)
    return value


def _patterns(config: ConfigSource) -> list[str]:
    value = _names(config, "patterns", "a list of pattern names: " + ", ".join(PATTERNS))
    if value is None:
        return list(PATTERNS)
    if not value:
        raise SettingError("patterns", config.get("patterns"), "at least one of " + ", ".join(PATTERNS))
    for item in value:
        naming.one_of("patterns", item, PATTERNS)
    return value


def _classroom(config: ConfigSource) -> tuple[tuple[str, ...], str, str, str]:
    learners = _names(config, "learners", "a list of learner names (DNS-1123 labels)") or []
    learner = config.get("learner") or ""
    template = _text(config, "learnerNamespace")
    server = config.get("classroomServer") or ""
    if learner and learners:
        raise SettingError(
            "learner", learner, "no value on a stack with learners: a learner's stack holds one learner's lab"
        )
    if learners or learner:
        learner_namespaces(learners or [learner], template)
        # The engine hands the program Pulumi.yaml's defaults as set values: only a changed
        # namespace is one the classroom would silently ignore.
        if config.get("namespace") not in (None, DEFAULTS["namespace"]):
            raise SettingError(
                "namespace",
                config.get("namespace"),
                f"its default ({DEFAULTS['namespace']}) with learners: learnerNamespace names each learner's",
            )
    if server and not server.startswith("https://"):
        raise SettingError("classroomServer", server, "the API server's https:// URL, or empty for the kubeconfig's")
    return tuple(learners), learner, template, server


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
    learners, learner, learner_namespace, classroom_server = _classroom(config)
    await_timeout = naming.positive_int("awaitTimeoutSeconds", _int(config, "awaitTimeoutSeconds"))
    return Settings(
        kube_context=kube_context,
        lab=lab,
        learners=learners,
        learner=learner,
        learner_namespace=learner_namespace,
        classroom_server=classroom_server,
        await_timeout_seconds=await_timeout,
    )


def kubeconfig_server(context: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The API server URL of ``context`` (or the current context) in the user's kubeconfig, as
    kubectl finds it: the files of KUBECONFIG, else ~/.kube/config."""
    paths = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p] or [
        str(Path(environ.get("HOME", "~")).expanduser() / ".kube" / "config")
    ]
    configs = []
    for path in paths:
        try:
            configs.append(yaml.safe_load(Path(path).read_text()) or {})
        except (OSError, yaml.YAMLError):
            continue
    current = context or next((c["current-context"] for c in configs if c.get("current-context")), None)
    contexts = {c["name"]: c.get("context", {}) for config in configs for c in config.get("contexts") or []}
    clusters = {c["name"]: c.get("cluster", {}) for config in configs for c in config.get("clusters") or []}
    server = clusters.get(contexts.get(current or "", {}).get("cluster", ""), {}).get("server", "")
    if not server:
        raise SettingError(
            "classroomServer",
            "",
            f"the API server's https:// URL: context '{current}' has no cluster server in {os.pathsep.join(paths)}",
        )
    return str(server)
