"""Policy pack guarding what the Multi-Container Patterns lab deploys.

Run it with the program's preview: `pulumi preview --policy-pack policy` (from the project root).
The checks live in rules.py (plain functions) and pack.py (their pulumi_policy adapters).
"""

from pack import PACK_NAME, POLICIES  # type: ignore[import-not-found]
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
    description="Resources, pinned images, no host access or privileges, TLS Secrets from resources, "
    "native sidecars only on Kubernetes that runs them, and the app.kubernetes.io labels.",
)
