"""Two components of multi-container-patterns in a namespace this program owns: an app with a
log-shipping sidecar, and a Deployment behind a native-sidecar proxy with its Service."""

import pulumi
import pulumi_kubernetes as k8s

from multicontainer_patterns import NativeSidecar, NativeSidecarArgs, Sidecar, SidecarArgs

config = pulumi.Config()
namespace = k8s.core.v1.Namespace("team-a", metadata=k8s.meta.v1.ObjectMetaArgs(name=config.require("namespace")))
# The namespace is this program's: what goes with it (ConfigMaps, Services) is deleted with it.
common = {"namespace": namespace.metadata.name, "owned_namespace": namespace, "instance": "team-a"}

logging = Sidecar("logging", SidecarArgs(pod_name="orders", image=config.require("busyboxImage"), **common))
edge = NativeSidecar(
    "edge",
    NativeSidecarArgs(
        deployment_name="edge-proxy",
        app_image=config.require("nginxImage"),
        proxy_image=config.require("nginxImage"),
        **common,
    ),
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("pod", logging.pod_name)
pulumi.export("deployment", edge.deployment_name)
