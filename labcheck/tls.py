"""TLS handshakes with the ambassador's proxy from this machine (through a port-forward on
127.0.0.1), and what they say about it: which certificate it presents, which versions it speaks.

The proxy must refuse TLS 1.0 and 1.1. To find out, the client has to offer them, which a modern
OpenSSL only does at security level 0; when it still cannot, the client never asked, so the
answer is inconclusive rather than a refusal by the server.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from dataclasses import dataclass

from .results import Verdict, failed, passed

HANDSHAKE_TIMEOUT_SECONDS = 10.0
LEGACY_VERSIONS = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
MODERN_VERSIONS = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
# OpenSSL's reasons when the server answered a ClientHello with an alert: it refused.
SERVER_REFUSALS = frozenset({"TLSV1_ALERT_PROTOCOL_VERSION", "SSLV3_ALERT_HANDSHAKE_FAILURE"})
# OpenSSL's reasons when this client could not even offer the version: nothing was asked.
CLIENT_CANNOT_OFFER = frozenset({"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"})
PRESENTS_SECRET_CERTIFICATE = "the proxy presents the certificate of its TLS Secret"
_NAMES = {
    ssl.TLSVersion.TLSv1: "TLS 1.0",
    ssl.TLSVersion.TLSv1_1: "TLS 1.1",
    ssl.TLSVersion.TLSv1_2: "TLS 1.2",
    ssl.TLSVersion.TLSv1_3: "TLS 1.3",
}


def version_name(version: ssl.TLSVersion) -> str:
    return _NAMES.get(version, version.name)


@dataclass(frozen=True)
class Handshake:
    offered: ssl.TLSVersion
    """The only version the client offered."""
    negotiated: str | None
    """The version agreed on, as ``ssl`` names it ("TLSv1.3"); None when the handshake failed."""
    reason: str | None = None
    """OpenSSL's reason code when it failed (``TLSV1_ALERT_PROTOCOL_VERSION``)."""
    error: str | None = None
    """The whole error when it failed."""


def _client(lowest: ssl.TLSVersion, highest: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers the versions from ``lowest`` to ``highest`` and checks nothing: the
    proxy's certificate is compared with the Secret's instead."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # Offering TLS 1.0/1.1 is deprecated, and the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = lowest
        context.maximum_version = highest
    if lowest in LEGACY_VERSIONS:
        # Their cipher suites and signatures are below OpenSSL 3's default security level.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def handshake(port: int, version: ssl.TLSVersion, host: str = "127.0.0.1") -> Handshake:
    """Offer only ``version`` to the TLS server on ``host:port``."""
    context = _client(version, version)
    try:
        with (
            socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_SECONDS) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            return Handshake(version, tls.version())
    except ssl.SSLError as error:
        return Handshake(version, None, error.reason, str(error))
    except OSError as error:
        return Handshake(version, None, None, f"{type(error).__name__}: {error}")


def presented_certificate(port: int, host: str = "127.0.0.1") -> bytes:
    """The certificate the TLS server on ``host:port`` presents, DER-encoded."""
    context = _client(ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    with (
        socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_SECONDS) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        certificate = tls.getpeercert(binary_form=True)
    if not certificate:
        raise ssl.SSLError("the server presented no certificate")
    return certificate


def presents_secret_certificate(presented: bytes, secret_name: str, secret_pem: str) -> Verdict:
    expectation = PRESENTS_SECRET_CERTIFICATE
    try:
        expected = ssl.PEM_cert_to_DER_cert(secret_pem)
    except ValueError as error:
        return failed(expectation, f"Secret {secret_name}'s tls.crt is no PEM certificate: {error}")
    if presented != expected:
        return failed(expectation, f"the proxy presents another certificate than Secret {secret_name}'s tls.crt")
    return passed(expectation, f"the same certificate as Secret {secret_name}'s tls.crt ({len(expected)} bytes DER)")


def expectation_for(version: ssl.TLSVersion) -> str:
    """What the proxy must do when offered ``version``: speak it, or refuse the old ones."""
    verb = "refuses" if version in LEGACY_VERSIONS else "speaks"
    return f"the proxy {verb} {version_name(version)}"


def judge_handshake(result: Handshake) -> Verdict:
    if result.offered in LEGACY_VERSIONS:
        return _refused(result)
    return _spoken(result)


def _spoken(result: Handshake) -> Verdict:
    name = version_name(result.offered)
    expectation = expectation_for(result.offered)
    if result.negotiated is None:
        return failed(expectation, f"the {name} handshake failed: {result.error}")
    return passed(expectation, f"{name} handshake done ({result.negotiated})")


def _refused(result: Handshake) -> Verdict:
    name = version_name(result.offered)
    expectation = expectation_for(result.offered)
    if result.negotiated is not None:
        return failed(expectation, f"the proxy accepted {name} ({result.negotiated})")
    if result.reason in SERVER_REFUSALS:
        return passed(expectation, f"the server refused it: {result.reason}")
    if result.reason in CLIENT_CANNOT_OFFER:
        return failed(
            expectation,
            f"inconclusive: this machine's OpenSSL cannot offer {name} ({result.reason}), "
            "so the server was never asked",
        )
    return failed(expectation, f"inconclusive: the handshake ended without the server's refusal: {result.error}")
