"""Deploys the Kubernetes Multi-Container Patterns lab: `pulumi up` builds it, `pulumi destroy` removes it."""

import pulumi
import pulumi_kubernetes as k8s

from multicontainer_patterns import MultiContainerLab, SettingError
from multicontainer_patterns._classroom import LearnerLab, LearnerLabArgs
from multicontainer_patterns._settings import kubeconfig_server, load_settings
from multicontainer_patterns._timeouts import await_timeouts

try:
    settings = load_settings(pulumi.Config())
    server = (settings.classroom_server or kubeconfig_server(settings.kube_context)) if settings.learner else ""
except SettingError as error:
    # A clean message, no traceback, and nothing registered.
    raise pulumi.RunError(f"configuration error: {error}") from None
if settings.learners:
    # A stack of its own per learner keeps each step's state write small, failures and resets
    # apart, and the class's `up` linear in its size; this stack holds the class's settings.
    raise pulumi.RunError(
        f"this stack is a classroom of {len(settings.learners)} learner(s), and each learner's lab is a stack of "
        f"its own: scripts/classroom.sh preview|up|destroy runs them (scripts/up.sh runs `up`)"
    )

# Every Kubernetes object of the stack: a bounded wait for it to become ready, or to be gone.
pulumi.runtime.register_stack_transformation(await_timeouts(settings.await_timeout_seconds))

# An explicit provider, so the kube context is a setting of the stack and not of the shell.
# Client-side apply: with server-side apply, pulumi-kubernetes 4.25 previews the replacement of a
# bare Pod as a dry-run patch of the Pod still running under that name, which the API server
# refuses (a Pod's spec is immutable), so every preview of a change that rolls a pod would fail.
provider = k8s.Provider("kubernetes", context=settings.kube_context, enable_server_side_apply=False)
options = pulumi.ResourceOptions(providers=[provider])

if settings.learner:
    # One learner's lab of a classroom, with the learner's own namespace, account and quota.
    learner = LearnerLab(
        "learner",
        LearnerLabArgs(
            lab=settings.lab, learner=settings.learner, namespace_template=settings.learner_namespace, server=server
        ),
        options,
    )
    lab = learner.lab
    pulumi.export("learner_kubeconfig", learner.kubeconfig)
else:
    lab = MultiContainerLab("lab", settings.lab, options)
pulumi.export("namespace", lab.namespace)
pulumi.export("workloads", lab.workloads)
pulumi.export("kubectl_commands", lab.kubectl_commands)
for key, value in lab.pattern_exports.items():
    pulumi.export(key, value)

for experiment in lab.experiments:
    pulumi.log.warn(experiment)
pulumi.export("experiments", lab.experiments)
