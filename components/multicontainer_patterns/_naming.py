"""Validation of names and values a user can set, with errors that name the setting.

Every check raises :class:`SettingError` before any resource is registered, so a bad
stack config or component argument never leaves half a lab behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

# RFC 1123 label, as Kubernetes uses it for namespaces, container, port and volume names.
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# RFC 1123 subdomain, as Kubernetes uses it for most object names.
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# The reference grammar of the distribution project, reduced to what a Pod's image field takes:
# [registry[:port]/]path[:tag][@digest].
_IMAGE_REFERENCE = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
# Kubernetes resource quantities: a decimal number with an optional SI or binary suffix.
# Kubernetes' quantity grammar: a signed decimal with a decimal (m, k ... E) or binary (Ki ... Ei)
# suffix, or a decimal exponent (1e3).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)|[eE](?P<exponent>[+-]?[0-9]+))?$"
)
_QUANTITY_FACTORS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{suffix: Decimal(10) ** (3 * power) for power, suffix in enumerate("kMGTPE", start=1)},
    **{f"{suffix}i": Decimal(2) ** (10 * power) for power, suffix in enumerate("KMGTPE", start=1)},
}


def parse_quantity(text: str) -> Decimal:
    """A Kubernetes resource quantity (``100m``, ``64Mi``, ``1e3``) in base units; ValueError if it is none."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number = Decimal(match.group("number"))
    if match.group("exponent") is not None:
        return number.scaleb(int(match.group("exponent")))
    return number * _QUANTITY_FACTORS[match.group("suffix")]


class SettingError(ValueError):
    """A setting or argument has a value that cannot be deployed.

    Raised when the arguments are built, before any resource is registered."""

    setting: str
    """The setting or argument, as the user spells it (`podSecurity`, `pod_name`)."""
    value: object
    """The value given."""
    expected: str
    """What the setting accepts."""

    def __init__(self, setting: str, value: object, expected: str) -> None:
        self.setting = setting
        self.value = value
        self.expected = expected
        super().__init__(f"invalid value {value!r} for '{setting}': expected {expected}")


def dns1123_label(setting: str, value: str) -> str:
    """Return ``value`` if it is a DNS-1123 label (namespace, container, port or volume name)."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise SettingError(
            setting,
            value,
            "a DNS-1123 label: at most 63 lower-case letters, digits or '-', "
            "starting and ending with a letter or digit",
        )
    return value


def dns1123_subdomain(setting: str, value: str) -> str:
    """Return ``value`` if it is a DNS-1123 subdomain (the name of most Kubernetes objects)."""
    if not isinstance(value, str) or len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise SettingError(
            setting,
            value,
            "a DNS-1123 subdomain: at most 253 lower-case letters, digits, '-' or '.', "
            "starting and ending with a letter or digit",
        )
    return value


def port_name(setting: str, value: str) -> str:
    """Return ``value`` if it is a valid container port name (IANA service name)."""
    if (
        not isinstance(value, str)
        or len(value) > 15
        or not _DNS1123_LABEL.match(value)
        or "--" in value
        or not re.search(r"[a-z]", value)
    ):
        raise SettingError(
            setting,
            value,
            "a port name: at most 15 lower-case letters, digits or single '-', with at least one letter",
        )
    return value


def image_reference(setting: str, value: str) -> str:
    """Return ``value`` if it is an image reference pinned to a tag or digest other than ``latest``."""
    match = _IMAGE_REFERENCE.match(value) if isinstance(value, str) else None
    if match is None:
        raise SettingError(
            setting, value, "an image reference such as 'busybox:1.36' or 'registry:5000/app@sha256:<64 hex>'"
        )
    if match.group("tag") is None and match.group("digest") is None:
        raise SettingError(setting, value, "an image pinned to a tag or digest (for example 'busybox:1.36')")
    if match.group("tag") == "latest" and match.group("digest") is None:
        raise SettingError(setting, value, "an image pinned to a version: 'latest' changes under the lab")
    return value


def quantity(setting: str, value: str) -> Decimal:
    """Parse a Kubernetes resource quantity (``100m``, ``64Mi``) into a number of base units."""
    try:
        amount = parse_quantity(value) if isinstance(value, str) else None
    except ValueError:
        amount = None
    if amount is None:
        raise SettingError(setting, value, "a Kubernetes quantity such as '100m', '0.5', '64Mi' or '1Gi'")
    if amount <= 0:
        raise SettingError(setting, value, "a quantity greater than zero")
    return amount


def positive_int(setting: str, value: object) -> int:
    """Return ``value`` if it is an integer greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingError(setting, value, "a whole number greater than zero")
    return value


def non_negative_int(setting: str, value: object) -> int:
    """Return ``value`` if it is an integer of zero or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingError(setting, value, "a whole number of zero or more")
    return value


def one_of(setting: str, value: object, allowed: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``allowed``."""
    choices = list(allowed)
    if value not in choices:
        raise SettingError(setting, value, "one of " + ", ".join(repr(choice) for choice in choices))
    return value


def absolute_path(setting: str, value: str) -> str:
    """Return ``value`` if it is an absolute, normalised path inside a container."""
    if not isinstance(value, str) or not value.startswith("/") or "//" in value or "/../" in f"{value}/":
        raise SettingError(setting, value, "an absolute path such as '/var/log/app'")
    return value
