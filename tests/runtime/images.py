"""The one place that says what stands in for each image the lab's pods name.

No image is pulled: each image is emulated by a layer of its own files laid over this machine's
root filesystem (Debian bookworm), with the binaries coming from Debian packages. Everything a
container runs beyond that, its command, arguments, environment, scripts, configs, volumes,
user and capabilities, comes unchanged from the pod spec the program sends to Kubernetes.

=====================  ==========================  ==============================================
image                  Debian package(s)           what the layer adds
=====================  ==========================  ==============================================
busybox:1.36           busybox                     /bin with every busybox applet; PATH=/bin
nginx:1.25.3-alpine    nginx, busybox              the official image's /etc/nginx/nginx.conf and
                                                   conf.d/default.conf (page server on 80), its
                                                   index.html and 50x.html, the `nginx` user,
                                                   /var/cache/nginx, logs linked to stdout/stderr,
                                                   Alpine's busybox applets in /bin, and
                                                   openssl for busybox wget's https helper
redis:7.2.4-alpine     redis-server, busybox       Alpine's busybox applets in /bin; WORKDIR /data
=====================  ==========================  ==============================================

Default commands: ``busybox`` runs ``sh``; ``nginx`` runs ``nginx -g 'daemon off;'`` (its
ENTRYPOINT /docker-entrypoint.sh is not emulated: with the pods' read-only root filesystem its
scripts change nothing: the IPv6 listener cannot be added to default.conf, there are no
templates, and worker tuning is off by default); ``redis`` runs ``redis-server`` (the pods
override it). Where Debian's build differs from the official image's, the main nginx.conf says
so explicitly: its temp paths are those the official image is built with (/var/cache/nginx/*).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BUSYBOX = "/usr/bin/busybox"

# The official image's /etc/nginx/nginx.conf (nginx:1.25.3-alpine), plus the temp paths the
# official build compiles in (Debian's nginx is built with /var/lib/nginx/* instead).
NGINX_CONF = """\
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    # Compiled into the official image; Debian's nginx needs them spelled out.
    client_body_temp_path /var/cache/nginx/client_temp;
    proxy_temp_path       /var/cache/nginx/proxy_temp;
    fastcgi_temp_path     /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path       /var/cache/nginx/uwsgi_temp;
    scgi_temp_path        /var/cache/nginx/scgi_temp;

    include /etc/nginx/conf.d/*.conf;
}
"""

# The official image's /etc/nginx/conf.d/default.conf, as shipped (the entrypoint would add
# `listen [::]:80;`, but cannot on a read-only root filesystem).
NGINX_DEFAULT_CONF = """\
server {
    listen       80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

NGINX_INDEX_HTML = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NGINX_50X_HTML = """\
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
"""


def _busybox_bin(layer: Path) -> None:
    """/bin holding every applet, as in the busybox image and Alpine's base."""
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    (layer / "bin").mkdir(parents=True)
    for applet in applets:
        (layer / "bin" / applet).symlink_to(BUSYBOX)
    # The busybox image's and Alpine's busybox are built with FEATURE_PREFER_IPV4_ADDRESS: of
    # the addresses a name has (`localhost`: 127.0.0.1 and ::1) wget and nc use the IPv4 one.
    # Debian's is not, and would follow glibc's order (::1 first); this makes glibc's order
    # the same as that preference.
    _write(layer / "etc/gai.conf", "precedence ::ffff:0:0/96  100\n")


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def _busybox_layer(layer: Path) -> None:
    _busybox_bin(layer)


def _nginx_layer(layer: Path) -> None:
    _busybox_bin(layer)
    # The lab runs `wget https://localhost:8443` in this image. Debian's busybox 1.35 built-in
    # TLS client fails the handshake with any OpenSSL 3 server (no shared cipher for ECDSA, no
    # suitable signature algorithm for RSA); busybox's wget then uses its `openssl s_client`
    # helper, which it runs when `openssl` is on PATH.
    (layer / "bin" / "openssl").symlink_to("/usr/bin/openssl")
    _write(layer / "etc/nginx/nginx.conf", NGINX_CONF)
    _write(layer / "etc/nginx/conf.d/default.conf", NGINX_DEFAULT_CONF)
    shutil.copy("/etc/nginx/mime.types", layer / "etc/nginx/mime.types")
    _write(layer / "usr/share/nginx/html/index.html", NGINX_INDEX_HTML)
    _write(layer / "usr/share/nginx/html/50x.html", NGINX_50X_HTML)
    # The image's `nginx` user (uid/gid 101) beside this machine's users.
    passwd = [line for line in Path("/etc/passwd").read_text().splitlines() if line.split(":")[2] != "101"]
    group = [line for line in Path("/etc/group").read_text().splitlines() if line.split(":")[2] != "101"]
    passwd.append("nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin")
    group.append("nginx:x:101:nginx")
    _write(layer / "etc/passwd", "\n".join(passwd) + "\n")
    _write(layer / "etc/group", "\n".join(group) + "\n")
    (layer / "var/cache/nginx").mkdir(parents=True)
    (layer / "var/log/nginx").mkdir(parents=True)
    (layer / "var/log/nginx/access.log").symlink_to("/dev/stdout")
    (layer / "var/log/nginx/error.log").symlink_to("/dev/stderr")


def _redis_layer(layer: Path) -> None:
    _busybox_bin(layer)
    (layer / "data").mkdir()


@dataclass(frozen=True)
class Image:
    reference: str
    packages: tuple[str, ...]
    """Debian packages whose binaries the image's commands run."""
    binaries: tuple[str, ...]
    """Paths that must exist for the stand-in to work."""
    default_command: tuple[str, ...]
    """ENTRYPOINT + CMD, used when the pod sets no command."""
    build_layer: Callable[[Path], None]
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"

    def layer(self, cache: Path) -> Path:
        """The image's own files, built once into ``cache``."""
        directory = cache / self.reference.replace("/", "_").replace(":", "_")
        if not directory.exists():
            staging = directory.with_suffix(".tmp")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            self.build_layer(staging)
            os.rename(staging, directory)
        return directory


IMAGES: dict[str, Image] = {
    "busybox:1.36": Image(
        reference="busybox:1.36",
        packages=("busybox",),
        binaries=(BUSYBOX,),
        default_command=("sh",),
        build_layer=_busybox_layer,
        # Only the applets: a command busybox lacks fails here as it would in the image.
        env={"PATH": "/bin"},
    ),
    "nginx:1.25.3-alpine": Image(
        reference="nginx:1.25.3-alpine",
        packages=("nginx", "busybox"),
        binaries=("/usr/sbin/nginx", BUSYBOX),
        default_command=("nginx", "-g", "daemon off;"),
        build_layer=_nginx_layer,
        env={"PATH": "/bin:/usr/sbin", "NGINX_VERSION": "1.25.3"},
    ),
    "redis:7.2.4-alpine": Image(
        reference="redis:7.2.4-alpine",
        packages=("redis-server", "busybox"),
        binaries=("/usr/bin/redis-server", BUSYBOX),
        default_command=("redis-server",),
        build_layer=_redis_layer,
        env={"PATH": "/bin:/usr/bin"},
        workdir="/data",
    ),
}

# Tools the tests themselves run, and the Debian packages that ship them.
TOOLS: dict[str, str] = {
    "/usr/bin/shellcheck": "shellcheck",
    "/usr/bin/promtool": "prometheus",
    "/usr/bin/setpriv": "util-linux",
    "/usr/bin/nsenter": "util-linux",
    "/usr/sbin/ip": "iproute2",
    "/usr/bin/openssl": "openssl",
}


def image(reference: str) -> Image:
    try:
        return IMAGES[reference]
    except KeyError:
        raise AssertionError(
            f"image {reference!r} has no stand-in: add it to tests/runtime/images.py ({sorted(IMAGES)})"
        ) from None
