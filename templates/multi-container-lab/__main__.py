"""The Kubernetes Multi-Container Patterns lab in a namespace of this stack's: the sidecar, adapter,
ambassador, init-containers and native-sidecar patterns, from the multi-container-patterns
components. `kubectl_commands` lists each pattern's commands to try it."""

import pulumi

from multicontainer_patterns import LabArgs, MultiContainerLab

config = pulumi.Config()
lab = MultiContainerLab(
    "lab",
    LabArgs(
        namespace=config.require("namespace"),
        busybox_image=config.require("busyboxImage"),
        nginx_image=config.require("nginxImage"),
        db_image=config.require("dbImage"),
    ),
)

pulumi.export("namespace", lab.namespace)
pulumi.export("workloads", lab.workloads)
pulumi.export("kubectl_commands", lab.kubectl_commands)
