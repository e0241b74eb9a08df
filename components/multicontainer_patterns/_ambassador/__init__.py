"""Ambassador pattern: a proxy container terminates TLS and forwards to the app on localhost.

Creates a private key and a self-signed certificate (pulumi-tls), a kubernetes.io/tls Secret
with them, a ConfigMap with the proxy's nginx config, the Pod (``ambassador-proxy`` in the lab)
with containers ``app`` (plain HTTP on 80) and ``proxy`` (TLS on 8443), and a Service for the
TLS port. The certificate covers ``localhost``, ``127.0.0.1`` and the Service's DNS names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from .. import _naming as naming
from .._commands import kubectl_commands
from .._defaults import NGINX_IMAGE
from .._nginx import CONF_DIR, nginx_app, nginx_container
from .._pattern import Pattern, PatternArgs, PatternScope, checksum_annotations
from .._pod import PodTemplate, Port, Volume, http_probe
from .._tls import TlsSettings, serving_certificate, sha256_fingerprint

_CONFIGS = ("proxy.conf",)
_TLS_KEYS = ("tls.crt", "tls.key")
_APP_PORT = Port("app-port", 80)
_PROXY_PORT = Port("proxy-port", 8443)


@dataclass(frozen=True, kw_only=True)
class AmbassadorArgs(PatternArgs):
    """Arguments of `Ambassador`: the Pod's and the Service's names, the images and the certificate."""

    pod_name: str = "ambassador-proxy"
    """Name of the Pod."""
    service_name: str = "ambassador-proxy"
    """Name of the Service exposing the TLS port."""
    app_image: str = NGINX_IMAGE
    """Image of the app (an nginx image: its default server on port 80)."""
    proxy_image: str = NGINX_IMAGE
    """Image of the proxy (an nginx image; it runs the pattern's `proxy.conf`)."""
    tls: TlsSettings = field(default_factory=TlsSettings)
    """How the proxy's key and self-signed certificate are made."""
    extra_dns_names: Sequence[str] = ()
    """More DNS names for the certificate."""

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_subdomain("pod_name", self.pod_name)
        naming.dns1123_label("service_name", self.service_name)
        naming.image_reference("app_image", self.app_image)
        naming.image_reference("proxy_image", self.proxy_image)
        for dns_name in self.extra_dns_names:
            naming.dns1123_subdomain("extra_dns_names", dns_name)


def _service_dns_names(service_name: str, namespace: str) -> list[str]:
    """Every name a client in the cluster may use for a Service."""
    return [
        service_name,
        f"{service_name}.{namespace}",
        f"{service_name}.{namespace}.svc",
        f"{service_name}.{namespace}.svc.cluster.local",
    ]


class Ambassador(pulumi.ComponentResource):
    """An app and a TLS-terminating ambassador proxy sharing the pod's network namespace."""

    pod_name: pulumi.Output[str]
    """Name of the Pod."""
    service: k8s.core.v1.Service
    """The Service of the proxy's TLS port (8443)."""
    service_name: pulumi.Output[str]
    """Name of the Service."""
    cert_pem: pulumi.Output[str]
    """The proxy's certificate (PEM), for clients to trust."""
    cert_expiry: pulumi.Output[str]
    """When the certificate expires (RFC 3339)."""
    cert_sha256_fingerprint: pulumi.Output[str]
    """SHA-256 fingerprint of the certificate (hex, colon-separated).

    It is also an annotation of the pod: a renewed certificate rolls the pod."""
    kubectl_commands: pulumi.Output[list[str]]
    """The lab's commands for this pattern, with the pod's namespace and name.

    The app over plain HTTP, and the proxy over TLS."""

    def __init__(self, name: str, args: AmbassadorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:Ambassador", name, None, opts)
        scope = PatternScope(self, name, "ambassador", args, Path(__file__).parent)

        dns_names = pulumi.Output.from_input(args.namespace).apply(
            lambda namespace: ["localhost", *_service_dns_names(args.service_name, namespace), *args.extra_dns_names]
        )
        certificate = serving_certificate(
            f"{name}-tls",
            settings=args.tls,
            common_name=args.service_name,
            dns_names=dns_names,
            ip_addresses=["127.0.0.1"],
            namespace=args.namespace,
            labels=scope.object_labels,
            opts=scope.deleted_with_namespace,
        )
        config, config_mount = scope.files("proxy-config", _CONFIGS, mount_path=CONF_DIR)
        tls_mount = Volume.from_secret("tls", certificate.secret, _TLS_KEYS).mount("/etc/nginx/tls", read_only=True)
        app = nginx_app(image=args.app_image, port=_APP_PORT, resources=args.resources)
        proxy = nginx_container(
            "proxy",
            image=args.proxy_image,
            port=_PROXY_PORT,
            resources=args.resources,
            conf=config_mount,
            extra_mounts=[tls_mount],
            # Ready when it reaches the app; alive when it answers itself.
            readiness_probe=http_probe(_PROXY_PORT, scheme="HTTPS"),
            liveness_probe=http_probe(_PROXY_PORT, "/health", scheme="HTTPS", period=10),
        )
        self.cert_sha256_fingerprint = certificate.cert.cert_pem.apply(sha256_fingerprint)
        template = PodTemplate(
            containers=[app, proxy],
            default_container=app.name,
            annotations={
                **checksum_annotations(config),
                # A renewed certificate must reach the proxy: its fingerprint is part of the pod.
                "multicontainer.patterns/cert-sha256": self.cert_sha256_fingerprint,
            },
        )
        self._workload = scope.pod(args.pod_name, template)
        self.service = scope.service("service", args.service_name, self._workload, _PROXY_PORT)
        # Clients reach the proxy (its Service, a port-forward); the proxy reaches the app on localhost.
        scope.network_policy("network-policy", self._workload, public=[_PROXY_PORT])
        self.pod_name = self._workload.resource.metadata.name
        self.service_name = self.service.metadata.name
        self.cert_pem = certificate.cert.cert_pem
        self.cert_expiry = certificate.cert.validity_end_time
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.pod_name,
            lambda namespace, pod_name: [
                f"kubectl exec {pod_name} -c {app.name} -n {namespace} -- wget -qO- http://localhost:{_APP_PORT.number}",
                f"kubectl exec {pod_name} -c {app.name} -n {namespace} -- "
                f"wget -qO- --no-check-certificate https://localhost:{_PROXY_PORT.number}",
            ],
        )
        self.register_outputs(
            {
                "kubectl_commands": self.kubectl_commands,
                "pod_name": self.pod_name,
                "service_name": self.service_name,
                "cert_pem": self.cert_pem,
                "cert_expiry": self.cert_expiry,
                "cert_sha256_fingerprint": self.cert_sha256_fingerprint,
            }
        )


PATTERN = Pattern(
    setting="ambassador",
    component=Ambassador,
    args=lambda lab, common: AmbassadorArgs(
        app_image=lab.nginx_image, proxy_image=lab.nginx_image, tls=lab.tls, **common
    ),
    workloads=lambda ambassador: {"": ambassador._workload},
    exports=lambda ambassador: {
        "ambassador_cert_expiry": ambassador.cert_expiry,
        "ambassador_cert_sha256_fingerprint": ambassador.cert_sha256_fingerprint,
    },
)
