"""Deploys the Kubernetes Multi-Container Patterns lab: `pulumi up` builds it, `pulumi destroy` removes it."""

import pulumi
import pulumi_kubernetes as k8s

from multicontainer_patterns import MultiContainerLab, SettingError
from multicontainer_patterns._classroom import Classroom, ClassroomArgs
from multicontainer_patterns._settings import kubeconfig_server, load_settings
from multicontainer_patterns._timeouts import await_timeouts

try:
    settings = load_settings(pulumi.Config())
    server = (settings.classroom_server or kubeconfig_server(settings.kube_context)) if settings.learners else ""
except SettingError as error:
    # A clean message, no traceback, and nothing registered.
    raise pulumi.RunError(f"configuration error: {error}") from None

# Every Kubernetes object of the stack: a bounded wait for it to become ready, or to be gone.
pulumi.runtime.register_resource_transform(await_timeouts(settings.await_timeout_seconds))

# An explicit provider, so the kube context is a setting of the stack and not of the shell.
# Client-side apply: with server-side apply, pulumi-kubernetes 4.25 previews the replacement of a
# bare Pod as a dry-run patch of the Pod still running under that name, which the API server
# refuses (a Pod's spec is immutable), so every preview of a change that rolls a pod would fail.
provider = k8s.Provider("kubernetes", context=settings.kube_context, enable_server_side_apply=False)
options = pulumi.ResourceOptions(providers=[provider])

if settings.learners:
    # A classroom: one lab per learner, each with its own namespace, account and quota.
    classroom = Classroom(
        "classroom",
        ClassroomArgs(
            lab=settings.lab, learners=settings.learners, namespace_template=settings.learner_namespace, server=server
        ),
        options,
    )
    labs = list(classroom.labs.values())
    pulumi.export("namespaces", classroom.namespaces)
    pulumi.export("learner_kubeconfigs", classroom.kubeconfigs)
else:
    lab = MultiContainerLab("lab", settings.lab, options)
    labs = [lab]
    pulumi.export("namespace", lab.namespace)
    pulumi.export("workloads", lab.workloads)
    pulumi.export("kubectl_commands", lab.kubectl_commands)
    for key, value in lab.pattern_exports.items():
        pulumi.export(key, value)

# The experiments are the same in every lab.
for experiment in labs[0].experiments:
    pulumi.log.warn(experiment)
pulumi.export("experiments", labs[0].experiments)
