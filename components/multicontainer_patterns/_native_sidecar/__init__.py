"""Native sidecar pattern (Kubernetes 1.28+, on by default from 1.29): the proxy is an init
container with ``restartPolicy: Always``, so it starts before the app and keeps running beside it.

Creates a ConfigMap with the proxy's nginx config, the Deployment (``sidecar-proxy`` in the lab,
label ``app=sidecar-proxy``) with ``app`` (nginx on 80) and the ``proxy`` sidecar (8080, adds
response headers, answers ``/health`` itself), and a Service for the proxy port.

With ``native=False`` the proxy is a classic init container (the lab's experiment): it never
completes, so the app never starts and the Deployment never becomes available.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from .. import _naming as naming
from .._commands import kubectl_commands
from .._defaults import NGINX_IMAGE
from .._nginx import CONF_DIR, nginx_app, nginx_container
from .._pattern import Experiment, Pattern, PatternArgs, PatternScope, checksum_annotations
from .._pod import PodTemplate, Port, http_probe

_CONFIGS = ("proxy.conf",)
_APP_PORT = Port("http", 80)
_PROXY_PORT = Port("proxy", 8080)


@dataclass(frozen=True, kw_only=True)
class NativeSidecarArgs(PatternArgs):
    """Arguments of `NativeSidecar`: the Deployment's name, the images, replicas and the experiment."""

    deployment_name: str = "sidecar-proxy"
    """Name of the Deployment, of its `app` label and of the Service."""
    app_image: str = NGINX_IMAGE
    """Image of the app (an nginx image: its default server on port 80)."""
    proxy_image: str = NGINX_IMAGE
    """Image of the proxy (an nginx image; it runs the pattern's `proxy.conf`)."""
    native: bool = True
    """Declare the proxy with restartPolicy: Always (False reproduces the broken classic init container)."""
    replicas: int = 1
    """Pods of the Deployment."""

    def __post_init__(self) -> None:
        super().__post_init__()
        naming.dns1123_label("deployment_name", self.deployment_name)
        naming.image_reference("app_image", self.app_image)
        naming.image_reference("proxy_image", self.proxy_image)
        naming.positive_int("replicas", self.replicas)


class NativeSidecar(pulumi.ComponentResource):
    """An nginx app behind a proxy that runs as a native sidecar container."""

    deployment_name: pulumi.Output[str]
    """Name of the Deployment."""
    service: k8s.core.v1.Service
    """The Service of the proxy's port (8080)."""
    service_name: pulumi.Output[str]
    """Name of the Service."""
    kubectl_commands: pulumi.Output[list[str]]
    """The lab's commands for this pattern, with the Deployment's namespace and name.

    The app directly and through the proxy, the proxy's health, a proxy restart, the pods."""

    def __init__(self, name: str, args: NativeSidecarArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("multicontainer:patterns:NativeSidecar", name, None, opts)
        scope = PatternScope(self, name, "native-sidecar", args, Path(__file__).parent)
        config, config_mount = scope.files("proxy-config", _CONFIGS, mount_path=CONF_DIR)
        app = nginx_app(image=args.app_image, port=_APP_PORT, resources=args.resources)
        proxy = nginx_container(
            "proxy",
            image=args.proxy_image,
            port=_PROXY_PORT,
            resources=args.resources,
            conf=config_mount,
            # Sidecars may have probes: the app starts once the proxy's startup probe passes.
            startup_probe=http_probe(_PROXY_PORT, "/health", period=1),
            readiness_probe=http_probe(_PROXY_PORT, "/health"),
            liveness_probe=http_probe(_PROXY_PORT, "/health", period=10),
        )
        template = PodTemplate(
            containers=[app],
            sidecars=[proxy],
            native_sidecars=args.native,
            default_container=app.name,
            annotations=checksum_annotations(config),
        )
        self._workload = scope.deployment(
            "deployment", args.deployment_name, template, replicas=args.replicas, expect_ready=args.native
        )
        self.service = scope.service("service", args.deployment_name, self._workload, _PROXY_PORT)
        scope.network_policy("network-policy", self._workload, public=[_PROXY_PORT])
        self.deployment_name = self._workload.resource.metadata.name
        self.service_name = self.service.metadata.name
        self.kubectl_commands = kubectl_commands(
            args.namespace,
            self.deployment_name,
            lambda namespace, name: [
                f"kubectl exec -n {namespace} deployment/{name} -c {app.name} -- wget -qO- http://localhost:{_APP_PORT.number}",
                f"kubectl exec -n {namespace} deployment/{name} -c {app.name} -- wget -qO- http://localhost:{_PROXY_PORT.number}",
                f"kubectl exec -n {namespace} deployment/{name} -c {app.name} -- "
                f"wget -qO- http://localhost:{_PROXY_PORT.number}/health",
                f"kubectl exec -n {namespace} -c {proxy.name} deployment/{name} -- kill 1",
                f"kubectl get pods -n {namespace} -w",
                f"kubectl describe pod -l app={name} -n {namespace} | grep -A5 Requests",
            ],
        )
        self.register_outputs(
            {
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
                "kubectl_commands": self.kubectl_commands,
            }
        )


PATTERN = Pattern(
    setting="native-sidecar",
    component=NativeSidecar,
    args=lambda lab, common: NativeSidecarArgs(
        app_image=lab.nginx_image, proxy_image=lab.nginx_image, native=lab.native_sidecar, **common
    ),
    workloads=lambda sidecar: {"": sidecar._workload},
    experiments=[
        Experiment(
            setting="nativeSidecar",
            active=lambda lab: not lab.native_sidecar,
            warning="nativeSidecar=false: the proxy of deployment/sidecar-proxy is a classic init container, so the "
            "app never starts; Pulumi does not wait for it. Watch: kubectl get pods -n {namespace} -w",
        )
    ],
)
