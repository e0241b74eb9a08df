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

experiments = []
if not settings.lab.native_sidecar and "native-sidecar" in settings.lab.patterns:
    experiments.append(
        "nativeSidecar=false: the proxy of deployment/sidecar-proxy is a classic init container, "
        "so the app never starts; Pulumi does not wait for it. Watch: kubectl get pods -n "
        f"{settings.lab.namespace} -w"
    )
if settings.lab.failing_init and "init-containers" in settings.lab.patterns:
    experiments.append(
        "failingInit=true: pod init-demo stays in Init:Error/Init:CrashLoopBackOff; Pulumi does not wait for it. "
        f"Watch: kubectl get pods -n {settings.lab.namespace} -w"
    )
for experiment in experiments:
    pulumi.log.warn(experiment)

pulumi.export("namespace", lab.namespace)
pulumi.export("workloads", lab.workloads)
pulumi.export("kubectl_commands", lab.kubectl_commands)
pulumi.export("experiments", experiments)
if lab.ambassador is not None:
    pulumi.export("ambassador_cert_expiry", lab.ambassador.cert_expiry)
    pulumi.export("ambassador_cert_sha256_fingerprint", lab.ambassador.cert_sha256_fingerprint)
