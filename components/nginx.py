"""nginx containers, as the ambassador and the native sidecar run them (app and proxy)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_kubernetes as k8s

from .defaults import NGINX, Resources
from .pod import Container, Mount, Port, Volume, http_probe

CONF_DIR = "/etc/nginx/conf.d"


def nginx_container(
    name: str,
    *,
    image: str,
    port: Port,
    resources: Resources,
    conf: Mount | None = None,
    extra_mounts: Sequence[Mount] = (),
    readiness_probe: k8s.core.v1.ProbeArgs | None = None,
    liveness_probe: k8s.core.v1.ProbeArgs | None = None,
    startup_probe: k8s.core.v1.ProbeArgs | None = None,
) -> Container:
    """An nginx container with a read-only root filesystem.

    ``conf`` replaces ``/etc/nginx/conf.d``: a proxy must not also load the image's default
    server on port 80, which the app container of the same pod (same network namespace) owns.
    Without ``conf`` the image's default page is served on 80. nginx writes its pid file and
    temp files, so each container gets its own emptyDirs for them.
    """
    if conf is not None and conf.path != CONF_DIR:
        raise ValueError(f"nginx container '{name}' must mount its config at {CONF_DIR}, not {conf.path}")
    writable = [
        Volume.empty_dir(f"{name}-cache").mount("/var/cache/nginx"),
        Volume.empty_dir(f"{name}-run", size_limit="1Mi").mount("/var/run"),
    ]
    return Container(
        name=name,
        image=image,
        ports=[port],
        mounts=[*([conf] if conf is not None else []), *extra_mounts, *writable],
        privileges=NGINX,
        resources=resources,
        readiness_probe=readiness_probe,
        liveness_probe=liveness_probe,
        startup_probe=startup_probe,
    )


def nginx_app(*, image: str, port: Port, resources: Resources) -> Container:
    """The lab's web app: container `app`, the image's default page on ``port``, ready once it
    serves it and restarted when it stops serving it."""
    return nginx_container(
        "app",
        image=image,
        port=port,
        resources=resources,
        readiness_probe=http_probe(port),
        liveness_probe=http_probe(port, period=10),
    )
