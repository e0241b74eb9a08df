"""A self-signed serving certificate from pulumi-tls, stored as a kubernetes.io/tls Secret."""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from . import _naming as naming

ALGORITHMS = ("ECDSA", "RSA")
ECDSA_CURVES = ("P256", "P384", "P521")
RSA_BITS = (2048, 3072, 4096)


@dataclass(frozen=True, kw_only=True)
class TlsSettings:
    """How the serving key and certificate are made."""

    algorithm: str = "ECDSA"
    """Key algorithm: ECDSA or RSA."""
    ecdsa_curve: str = "P256"
    """Curve of an ECDSA key (TLS 1.3 signs with P256, P384 or P521 only)."""
    rsa_bits: int = 2048
    """Size of an RSA key."""
    validity_hours: int = 720
    """How long the certificate is valid."""
    early_renewal_hours: int = 168
    """How long before expiry `pulumi up` replaces the certificate (needs a refresh to notice)."""

    def __post_init__(self) -> None:
        naming.one_of("algorithm", self.algorithm, ALGORITHMS)
        naming.one_of("ecdsa_curve", self.ecdsa_curve, ECDSA_CURVES)
        naming.one_of("rsa_bits", self.rsa_bits, RSA_BITS)
        naming.positive_int("validity_hours", self.validity_hours)
        naming.non_negative_int("early_renewal_hours", self.early_renewal_hours)
        if self.early_renewal_hours >= self.validity_hours:
            raise naming.SettingError(
                "early_renewal_hours",
                self.early_renewal_hours,
                f"fewer hours than validity_hours ({self.validity_hours})",
            )


def sha256_fingerprint(cert_pem: str) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as `openssl x509 -fingerprint -sha256` shows it."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class ServingCertificate:
    key: tls.PrivateKey
    cert: tls.SelfSignedCert
    secret: k8s.core.v1.Secret


def serving_certificate(
    resource_name: str,
    *,
    settings: TlsSettings,
    common_name: str,
    dns_names: pulumi.Input[Sequence[pulumi.Input[str]]],
    ip_addresses: Sequence[str],
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> ServingCertificate:
    """A private key, a self-signed certificate for it and the Secret holding both.

    The Secret is auto-named: a new certificate gives a new Secret, and the pod mounting it is
    replaced with it. pulumi-kubernetes keeps the Secret's data secret in state.
    """
    key = tls.PrivateKey(
        f"{resource_name}-key",
        algorithm=settings.algorithm,
        ecdsa_curve=settings.ecdsa_curve if settings.algorithm == "ECDSA" else None,
        rsa_bits=settings.rsa_bits if settings.algorithm == "RSA" else None,
        opts=opts,
    )
    cert = tls.SelfSignedCert(
        f"{resource_name}-cert",
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=common_name, organization="multi-container-patterns"),
        dns_names=dns_names,
        ip_addresses=list(ip_addresses),
        validity_period_hours=settings.validity_hours,
        early_renewal_hours=settings.early_renewal_hours,
        allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
        opts=opts,
    )
    secret = k8s.core.v1.Secret(
        f"{resource_name}-secret",
        metadata=k8s.meta.v1.ObjectMetaArgs(namespace=namespace, labels=dict(labels)),
        type="kubernetes.io/tls",
        string_data={"tls.crt": cert.cert_pem, "tls.key": pulumi.Output.secret(key.private_key_pem)},
        opts=opts,
    )
    return ServingCertificate(key, cert, secret)
