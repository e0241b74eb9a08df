"""Deploys the Kubernetes Multi-Container Patterns lab: `pulumi up` builds it, `pulumi destroy` removes it."""

import pulumi
import pulumi_kubernetes as k8s

from components import MultiContainerLab, SettingError
from components.settings import load_settings

try:
    settings = load_settings(pulumi.Config())
except SettingError as error:
    # A clean message, no traceback, and nothing registered.
    raise pulumi.RunError(f"configuration error: {error}") from None

# An explicit provider, so the kube context is a setting of the stack and not of the shell.
# Client-side apply: with server-side apply, pulumi-kubernetes 4.25 previews the replacement of a
# bare Pod as a dry-run patch of the Pod still running under that name, which the API server
# refuses (a Pod's spec is immutable), so every preview of a change that rolls a pod would fail.
provider = k8s.Provider("kubernetes", context=settings.kube_context, enable_server_side_apply=False)
lab = MultiContainerLab("lab", settings.lab, pulumi.ResourceOptions(providers=[provider]))

for experiment in lab.experiments:
    pulumi.log.warn(experiment)

pulumi.export("namespace", lab.namespace)
pulumi.export("workloads", lab.workloads)
pulumi.export("kubectl_commands", lab.kubectl_commands)
pulumi.export("experiments", lab.experiments)
for key, value in lab.pattern_exports.items():
    pulumi.export(key, value)
