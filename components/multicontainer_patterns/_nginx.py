"""nginx containers, as the ambassador and the native sidecar run them (app and proxy)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_kubernetes as k8s

from ._defaults import NGINX, Resources
from ._pod import Container, Mount, Port, Volume, http_probe

CONF_DIR = "/etc/nginx/conf.d"
# What the image's default server (its conf.d/default.conf) serves, and where.
HTML_DIR = "/usr/share/nginx/html"
DEFAULT_SERVER_PORT = 80


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


def nginx_app(
    *, image: str, port: Port, resources: Resources, name: str = "app", content: Mount | None = None
) -> Container:
    """A web server container through the image's default server on port 80: the image's own page,
    or with ``content`` (mounted at ``HTML_DIR``, e.g. an emptyDir another container writes) the
    files of that volume. Ready once it serves them and restarted when it stops serving. The lab's
    web apps are this container named `app`; ``port`` names the container's port 80."""
    if port.number != DEFAULT_SERVER_PORT:
        raise ValueError(
            f"nginx container '{name}' serves the image's default server on {DEFAULT_SERVER_PORT}, not "
            f"{port.number}: give nginx_container a config of its own for another port"
        )
    if content is not None and content.path != HTML_DIR:
        raise ValueError(f"nginx container '{name}' serves content from {HTML_DIR}, not {content.path}")
    return nginx_container(
        name,
        image=image,
        port=port,
        resources=resources,
        extra_mounts=[content] if content is not None else (),
        readiness_probe=http_probe(port),
        liveness_probe=http_probe(port, period=10),
    )
