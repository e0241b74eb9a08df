"""A pod of the lab, as the program renders it, run on this machine: its containers' commands,
environment, volumes and users, with busybox (Debian's busybox-static, the binary of the busybox
image the end-to-end suite builds) in place of the image. It is how the unit tests run the lab's
shell scripts for what they do, in seconds.

The pod gets a network namespace of its own (its loopback only: nothing it sends leaves it) and
each container a mount namespace and a root directory of its own, holding busybox's applets, the
pod's volumes at the container's mount paths (emptyDirs shared between containers as in a pod,
ConfigMaps as their files) and, first on ``PATH``, any stub commands the test gives. Init containers
run one after the other to completion, then the containers together. As root each container runs as
its ``runAsUser``/``runAsGroup`` with the pod's ``fsGroup`` as a supplementary group; otherwise the
pod runs in a user namespace of its own, as its root."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
STUB_DIR = "/stubs"
PATH = f"{STUB_DIR}:/bin"
DEVICES = ("null", "zero", "full", "random", "urandom")


@cache
def _applets() -> tuple[str, ...]:
    listed = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True, timeout=10)
    return tuple(name for name in listed.stdout.split() if name != "busybox")


@dataclass(frozen=True)
class Image:
    """What a container's root holds for an image of the lab, besides busybox's applets."""

    command: tuple[str, ...] = ()
    """The image's command, for a container that names none."""
    path: str = PATH
    nginx: bool = False

    def prepare(self, root: Path) -> list[str]:
        """Fill ``root``; returns the mounts that complete it."""
        if not self.nginx:
            return []
        # Debian's nginx (the e2e image's package) from this machine's /usr, with the image's own
        # configuration, pages and user.
        for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/sbin")):
            (root / link).symlink_to(target)
        (root / "usr").mkdir()
        shutil.copytree(NGINX_IMAGE_ROOTFS / "etc", root / "etc")
        shutil.copy("/etc/nginx/mime.types", root / "etc" / "nginx" / "mime.types")
        (root / "var" / "log" / "nginx").mkdir(parents=True)
        (root / "var" / "log" / "nginx").chmod(0o777)  # the image sends its logs to the container's output
        (root / "var" / "lib" / "nginx").mkdir(parents=True)
        (root / "etc" / "passwd").write_text(
            "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/var/cache/nginx:/bin/false\n"
        )
        (root / "etc" / "group").write_text("root:x:0:\nnginx:x:101:\n")
        html = NGINX_IMAGE_ROOTFS / "usr" / "share" / "nginx" / "html"
        return [
            f"mount --rbind /usr {shlex.quote(str(root / 'usr'))}",
            f"mount --bind {shlex.quote(str(html))} {shlex.quote(str(root / 'usr/share/nginx/html'))}",
        ]


NGINX_IMAGE_ROOTFS = Path(__file__).resolve().parents[1] / "e2e" / "toolchain" / "images" / "nginx" / "rootfs"
IMAGES = {
    "busybox": Image(),
    "nginx": Image(command=("nginx", "-g", "daemon off;"), path=f"{PATH}:/usr/sbin:/usr/bin", nginx=True),
}


def _image(reference: str) -> Image:
    repository = reference.split("@", maxsplit=1)[0].rsplit(":", 1)[0].rsplit("/", 1)[-1]
    assert repository in IMAGES, f"image {reference}: tests.pods runs {sorted(IMAGES)} only"
    return IMAGES[repository]


class PodError(AssertionError):
    """The pod did not do what the test waited for."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    """Lower-case names."""
    body: str


# A GET with the standard library, printed as JSON; an HTTP error status is an answer too.
_HTTP_CLIENT = """
import json, ssl, sys, urllib.error, urllib.request
request = json.loads(sys.argv[1])
context = ssl.create_default_context(cafile=request["cafile"]) if request["cafile"] else None
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
try:
    response = opener.open(request["url"], timeout=10)
except urllib.error.HTTPError as error:
    response = error
print(json.dumps({"status": response.status, "headers": list(response.headers.items()),
                  "body": response.read().decode(errors="replace")}))
"""


@dataclass
class RunningPod:
    directory: Path
    process: subprocess.Popen[bytes]
    namespaced_pid: int
    """A process in the pod's namespaces."""

    def log(self, container: str) -> str:
        """What ``container`` wrote to stdout and stderr so far."""
        path = self.directory / "logs" / f"{container}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def exit_code(self, container: str) -> int | None:
        """The exit code of ``container``, or None while it runs (or before it started)."""
        path = self.directory / "logs" / f"{container}.exit"
        return int(path.read_text()) if path.exists() and path.read_text().strip() else None

    def http(self, url: str, *, cafile: str | None = None) -> Response:
        """A GET of ``url`` from inside the pod's network namespace (its loopback)."""
        enter = ["nsenter", "-t", str(self.namespaced_pid), "-n"]
        if os.geteuid() != 0:
            enter += ["-U", "--preserve-credentials"]
        request = json.dumps({"url": url, "cafile": cafile})
        result = subprocess.run(
            [*enter, sys.executable, "-c", _HTTP_CLIENT, request],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        return Response(answer["status"], {k.lower(): v for k, v in answer["headers"]}, answer["body"])

    def volume(self, name: str) -> Path:
        """The directory of an emptyDir volume, as the containers share it."""
        return self.directory / "volumes" / name

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Until ``condition`` holds; PodError naming ``what`` and every log after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {path.stem}\n{path.read_text(errors='replace')}"
                    for path in sorted((self.directory / "logs").glob("*.log"))
                )
                raise PodError(f"{what}: not within {timeout} s\n{logs}")
            time.sleep(0.05)


def _container_script(
    root: Path,
    *,
    container: Mapping[str, Any],
    volumes: Mapping[str, Path],
    pod_security: Mapping[str, Any],
    log: Path,
    as_root: bool,
) -> str:
    """The shell lines that start ``container`` in its own mount namespace and root."""
    image = _image(container["image"])
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for applet in _applets():
        (root / "bin" / applet).symlink_to("busybox")
    binds = image.prepare(root)
    # The devices a container runtime gives every container.
    (root / "dev").mkdir()
    for device in DEVICES:
        (root / "dev" / device).touch()
        binds.append(f"mount --bind /dev/{device} {shlex.quote(str(root / 'dev' / device))}")
    for mount in container.get("volumeMounts") or []:
        target = root / mount["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        source = volumes[mount["name"]]
        options = "bind,ro" if mount.get("readOnly") else "bind"
        binds.append(f"mount --bind {shlex.quote(str(source))} {shlex.quote(str(target))}")
        if mount.get("readOnly"):
            binds.append(f"mount -o remount,{options} {shlex.quote(str(target))}")
    stubs = root / STUB_DIR.lstrip("/")
    stubs.mkdir(exist_ok=True)
    env = {"PATH": image.path, "HOME": "/tmp"} | {e["name"]: str(e["value"]) for e in container.get("env") or []}
    command = [*(container.get("command") or image.command), *(container.get("args") or [])]
    security = container.get("securityContext") or {}
    user = security.get("runAsUser", pod_security.get("runAsUser"))
    group = security.get("runAsGroup", pod_security.get("runAsGroup", user))
    chroot = [shutil.which("chroot") or "/usr/sbin/chroot"]
    if as_root and user is not None:
        chroot.append(f"--userspec={int(user)}:{int(group)}")
        if pod_security.get("fsGroup") is not None:
            chroot.append(f"--groups={int(pod_security['fsGroup'])}")
    inner = " && ".join(
        [
            *binds,
            "exec env -i "
            + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
            + " "
            + shlex.join([*chroot, str(root), *command]),
        ]
    )
    return f"unshare --mount --fork sh -c {shlex.quote(inner)} >{shlex.quote(str(log))} 2>&1"


@contextmanager
def run_pod(
    spec: Mapping[str, Any],
    config_maps: Mapping[str, Mapping[str, str]],
    secrets: Mapping[str, Mapping[str, str]] | None = None,
    *,
    stubs: Mapping[str, str] | None = None,
    env: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[RunningPod]:
    """Run the pod ``spec`` until the block ends. ``config_maps`` and ``secrets``: the data of each
    ConfigMap and Secret its volumes name; ``stubs``: command name to a busybox shell script put
    first on every container's PATH; ``env``: per container, variables added to (or overriding) its own."""
    assert BUSYBOX.exists(), f"{BUSYBOX} is missing: scripts/test.sh installs Debian's busybox-static"
    as_root = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="pod-"))
    directory.chmod(0o755)
    (directory / "logs").mkdir()
    fs_group = (spec.get("securityContext") or {}).get("fsGroup")
    volumes: dict[str, Path] = {}
    for volume in spec.get("volumes") or []:
        path = directory / "volumes" / volume["name"]
        path.mkdir(parents=True)
        if "emptyDir" in volume:
            path.chmod(0o777)  # as the kubelet makes an emptyDir
        elif "configMap" in volume:
            for key, text in config_maps[volume["configMap"]["name"]].items():
                (path / key).write_text(text)
                (path / key).chmod(0o644)
        elif "secret" in volume:
            # Owned by root and the pod's fsGroup, with the volume's mode, as the kubelet makes them.
            mode = int(volume["secret"].get("defaultMode", 0o644))
            for key, text in (secrets or {})[volume["secret"]["secretName"]].items():
                (path / key).write_text(text)
                (path / key).chmod(mode)
                if os.geteuid() == 0 and fs_group is not None:
                    os.chown(path / key, 0, int(fs_group))
        else:
            raise AssertionError(f"volume {volume['name']}: only emptyDir, configMap and secret volumes are run here")
        volumes[volume["name"]] = path
    pod_security = spec.get("securityContext") or {}
    lines = ["set -u", "ip link set lo up"]
    for sysctl in pod_security.get("sysctls") or []:
        lines.append(f"sysctl -qw {shlex.quote(sysctl['name'] + '=' + str(sysctl['value']))}")

    def start(container: Mapping[str, Any]) -> str:
        name = container["name"]
        root = directory / "roots" / name
        added = dict((env or {}).get(name, {}))
        container = {
            **container,
            "env": [*(container.get("env") or []), *({"name": k, "value": v} for k, v in added.items())],
        }
        script = _container_script(
            root,
            container=container,
            volumes=volumes,
            pod_security=pod_security,
            log=directory / "logs" / f"{name}.log",
            as_root=as_root,
        )
        for stub, text in (stubs or {}).items():
            path = root / STUB_DIR.lstrip("/") / stub
            path.write_text(text)
            path.chmod(0o755)
        exit_file = shlex.quote(str(directory / "logs" / f"{name}.exit"))
        return f"{script}; echo $? >{exit_file}"

    for container in spec.get("initContainers") or []:
        if container.get("restartPolicy") == "Always":  # a native sidecar: started, not awaited
            lines.append(f"( {start(container)} ) &")
        else:
            lines.append(f'{start(container)}; [ "$(cat {directory}/logs/{container["name"]}.exit)" = 0 ] || exit 1')
    lines += [f"( {start(container)} ) &" for container in spec["containers"]]
    lines.append("wait")
    namespaces = ["unshare", "--net", "--mount", "--fork"]
    if not as_root:
        namespaces[1:1] = ["--user", "--map-root-user"]
    process = subprocess.Popen([*namespaces, "sh", "-c", "\n".join(lines)], start_new_session=True)
    try:
        # unshare's child is the first process in the namespaces.
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        deadline = time.monotonic() + 10
        while not children.read_text().split():
            assert process.poll() is None, "the pod's namespaces did not start"
            assert time.monotonic() < deadline, "the pod's namespaces did not start"
            time.sleep(0.01)
        yield RunningPod(directory, process, int(children.read_text().split()[0]))
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)
