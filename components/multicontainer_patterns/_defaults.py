"""Container defaults shared by every pattern: images, resources and security contexts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pulumi_kubernetes as k8s

from . import _naming as naming

BUSYBOX_IMAGE = "busybox:1.36"
"""Default image of the script containers (sidecar, adapter, init containers)."""
NGINX_IMAGE = "nginx:1.25.3-alpine"
"""Default image of the web apps and proxies (ambassador, native sidecar)."""
DB_IMAGE = "redis:7.2.4-alpine"
"""Default image of the database the init-container pattern waits for (any Redis-protocol server)."""

# Every container runs as a user id of 10000 or more, a range Linux distributions allocate to no
# one: a process that escaped its container owns no user's files on the node.
FIRST_UNALLOCATED_UID = 10000
# The `nobody` user of busybox; the image runs anything as any user.
NOBODY_UID = 65534
# nginx and Redis read only world-readable files of their images and write only to emptyDirs (of
# the pod's fsGroup), so any user runs them: the images' `nginx` (101) and `redis` (999) users,
# moved above 10000, in the images' own groups.
NGINX_UID = FIRST_UNALLOCATED_UID + 101
NGINX_GID = 101
REDIS_UID = FIRST_UNALLOCATED_UID + 999
REDIS_GID = 1000


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests and limits given to every container (init and sidecar containers included)."""

    cpu_request: str = "10m"
    """CPU each container requests (a Kubernetes quantity: `10m`, `0.5`)."""
    memory_request: str = "16Mi"
    """Memory each container requests (a Kubernetes quantity: `16Mi`, `1G`)."""
    cpu_limit: str = "100m"
    """CPU each container may use, at least its request."""
    memory_limit: str = "64Mi"
    """Memory each container may use, at least its request."""

    def __post_init__(self) -> None:
        pairs = (
            ("cpuRequest", self.cpu_request, "cpuLimit", self.cpu_limit),
            ("memoryRequest", self.memory_request, "memoryLimit", self.memory_limit),
        )
        for request_setting, request, limit_setting, limit in pairs:
            if naming.quantity(request_setting, request) > naming.quantity(limit_setting, limit):
                raise naming.SettingError(request_setting, request, f"at most '{limit_setting}' ({limit})")

    def amounts(self) -> dict[str, Decimal]:
        """Each amount in base units (cores, bytes), keyed as a ResourceQuota keys them."""
        return {
            "requests.cpu": naming.parse_quantity(self.cpu_request),
            "requests.memory": naming.parse_quantity(self.memory_request),
            "limits.cpu": naming.parse_quantity(self.cpu_limit),
            "limits.memory": naming.parse_quantity(self.memory_limit),
        }

    def to_args(self) -> k8s.core.v1.ResourceRequirementsArgs:
        """As a container's `resources`."""
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )


@dataclass(frozen=True)
class Privileges:
    """What a container's image needs from the kernel; everything else is dropped."""

    run_as_user: int | None
    run_as_group: int | None = None
    add_capabilities: tuple[str, ...] = ()

    def to_args(self) -> k8s.core.v1.SecurityContextArgs:
        return k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=True,
            run_as_non_root=self.run_as_user is not None and self.run_as_user != 0,
            run_as_user=self.run_as_user,
            run_as_group=self.run_as_group,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"], add=list(self.add_capabilities) or None),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        )


# Shell scripts on busybox need nothing: any uid, no capabilities.
UNPRIVILEGED = Privileges(run_as_user=NOBODY_UID, run_as_group=NOBODY_UID)
# nginx as a non-root user from the start: the master does not switch users (the image's `user`
# directive is then ignored, with a warning), its pid and temp files go to emptyDirs, and it binds
# ports below 1024 through the pod's `net.ipv4.ip_unprivileged_port_start` (PodTemplate).
NGINX = Privileges(run_as_user=NGINX_UID, run_as_group=NGINX_GID)
REDIS = Privileges(run_as_user=REDIS_UID, run_as_group=REDIS_GID)
