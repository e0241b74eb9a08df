"""A pod of the lab, as the program renders it, run on this machine: its containers' commands,
environment, volumes, users, groups and ports, with busybox and nginx (the distribution's packages
the end-to-end suite's images are built from, unpacked by ``tests.packages``) in place of the
images. It is how the unit tests run the lab's shell scripts and nginx configs for what they do, in
seconds, as any user.

The pod gets a network namespace of its own (its loopback only: nothing it sends leaves it) and
each container a mount namespace and a root directory of its own, holding busybox's applets, the
pod's volumes at the container's mount paths (emptyDirs shared between containers as in a pod,
ConfigMaps and Secrets as their files) and, first on ``PATH``, any stub commands the test gives.
Init containers run one after the other to completion, then the containers together. Each container
runs as its ``runAsUser``/``runAsGroup`` with the pod's ``fsGroup`` as a supplementary group. As
root that is the machine's ids; any other user runs the pod in a user namespace of its own whose ids
0 to 65535 are the user (0) and the user's subordinate ids (``/etc/subuid``, ``/etc/subgid``, mapped
by ``newuidmap`` and ``newgidmap``), as rootless container engines do. ``unavailable()`` says why a
pod cannot run on this machine, and what to do."""

from __future__ import annotations

import getpass
import json
import os
import pwd
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

from tests import packages

STUB_DIR = "/stubs"
PATH = f"{STUB_DIR}:/bin"
DEVICES = ("null", "zero", "full", "random", "urandom")


# The ids a pod may use: 0 to 65535 (the lab's highest is nobody's, 65534).
POD_IDS = 65536
# Where the machine gives each user their subordinate user and group ids (shadow's files).
SUBUID = Path("/etc/subuid")
SUBGID = Path("/etc/subgid")
# How a skipped behaviour test's reason begins (README: Test it).
UNAVAILABLE = "the lab's pods cannot run on this machine"


def _rootfs() -> Path:
    return packages.rootfs()


def _busybox() -> Path:
    root = _rootfs()
    return next(p for p in (root / "bin" / "busybox", root / "usr" / "bin" / "busybox") if p.exists())


@cache
def _applets() -> tuple[str, ...]:
    listed = subprocess.run([str(_busybox()), "--list"], capture_output=True, text=True, check=True, timeout=10)
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
        # The distribution's nginx (the e2e image's package) with its libraries, unpacked, with the
        # image's own configuration, pages and user.
        packaged = _rootfs()
        mounts = []
        for top in ("usr", "lib", "lib64", "sbin"):
            if (packaged / top).is_dir() and not (packaged / top).is_symlink():
                (root / top).mkdir()
                mounts.append(f"mount --bind {shlex.quote(str(packaged / top))} {shlex.quote(str(root / top))}")
            else:  # a merged /usr
                (root / top).symlink_to(f"usr/{top}")
        shutil.copytree(NGINX_IMAGE_ROOTFS / "etc", root / "etc")
        shutil.copy(packaged / "etc" / "nginx" / "mime.types", root / "etc" / "nginx" / "mime.types")
        (root / "var" / "log" / "nginx").mkdir(parents=True)
        (root / "var" / "log" / "nginx").chmod(0o777)  # the image sends its logs to the container's output
        (root / "var" / "lib" / "nginx").mkdir(parents=True)
        (root / "etc" / "passwd").write_text(
            "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/var/cache/nginx:/bin/false\n"
        )
        (root / "etc" / "group").write_text("root:x:0:\nnginx:x:101:\n")
        html = NGINX_IMAGE_ROOTFS / "usr" / "share" / "nginx" / "html"
        return [
            *mounts,
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
    id_map: _IdMap | None = None
    """How the pod's ids are the machine's; None: they are the same."""

    def ids(self, container: str) -> tuple[int, int, frozenset[int]]:
        """The effective user, group and supplementary groups of a process of ``container`` (one
        whose root is the container's), as the pod sees them. PodError when none runs."""
        root = str(self.directory / "roots" / container)
        for process in Path("/proc").iterdir():
            try:
                if not process.name.isdigit() or os.readlink(process / "root") != root:
                    continue
                status = dict(line.split(":", 1) for line in (process / "status").read_text().splitlines())
            except OSError:  # gone meanwhile
                continue
            to_pod = self.id_map.to_pod if self.id_map is not None else lambda machine, _: machine
            uid = to_pod(int(status["Uid"].split()[1]), "uid")
            gid = to_pod(int(status["Gid"].split()[1]), "gid")
            return uid, gid, frozenset(to_pod(int(group), "gid") for group in status["Groups"].split())
        raise PodError(f"no process of {container} runs")

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
) -> str:
    """The shell lines that start ``container`` in its own mount namespace and root, as its user."""
    image = _image(container["image"])
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir(mode=0o1777)
    (root / "tmp").chmod(0o1777)
    shutil.copy(_busybox(), root / "bin" / "busybox")
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
        binds.append(f"mount --bind {shlex.quote(str(source))} {shlex.quote(str(target))}")
        if mount.get("readOnly"):
            binds.append(f"mount -o remount,bind,ro {shlex.quote(str(target))}")
    stubs = root / STUB_DIR.lstrip("/")
    stubs.mkdir(exist_ok=True)
    env = {"PATH": image.path, "HOME": "/tmp"} | {e["name"]: str(e["value"]) for e in container.get("env") or []}
    command = [*(container.get("command") or image.command), *(container.get("args") or [])]
    security = container.get("securityContext") or {}
    user = security.get("runAsUser", pod_security.get("runAsUser"))
    group = security.get("runAsGroup", pod_security.get("runAsGroup", user))
    chroot = [shutil.which("chroot") or "/usr/sbin/chroot"]
    if user is not None:
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


@dataclass(frozen=True)
class _IdMap:
    """The pod's ids 0 to POD_IDS - 1 as the machine sees them: 0 is the user, the rest their
    subordinate ids."""

    uid: int
    gid: int
    subuid: int
    subgid: int

    def to_pod(self, machine: int, kind: str) -> int:
        """The pod's id for the machine's id ``machine`` of ``kind`` ("uid" or "gid")."""
        own, first = (self.uid, self.subuid) if kind == "uid" else (self.gid, self.subgid)
        if machine == own:
            return 0
        assert first <= machine < first + POD_IDS - 1, f"{kind} {machine} is not one of the pod's"
        return machine - first + 1

    def apply(self, pid: int) -> None:
        """Maps the ids of ``pid``'s user namespace (newuidmap and newgidmap check the ranges)."""
        for tool, own, first in (("newuidmap", self.uid, self.subuid), ("newgidmap", self.gid, self.subgid)):
            subprocess.run(
                [tool, str(pid), "0", str(own), "1", "1", str(first), str(POD_IDS - 1)],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            )


def _subordinate(path: Path, user: str, uid: int) -> int | None:
    """The first id of a range of ``path`` (/etc/subuid or /etc/subgid) of the user's with room for
    the pod's ids."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[0] in (user, str(uid)) and int(fields[2]) >= POD_IDS - 1:
            return int(fields[1])
    return None


def _free_subordinate_ids() -> int:
    """The first id past every range of /etc/subuid and /etc/subgid (100000 at least)."""
    ends = [100000]
    for path in (SUBUID, SUBGID):
        for line in path.read_text().splitlines() if path.exists() else []:
            fields = line.strip().split(":")
            if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                ends.append(int(fields[1]) + int(fields[2]))
    return max(ends)


def _sysctl(name: str) -> str | None:
    path = Path("/proc/sys") / name.replace(".", "/")
    return path.read_text().strip() if path.exists() else None


def _start(script: str, id_map: _IdMap | None, output: Any = None) -> subprocess.Popen[bytes]:
    """``sh -c script`` in a network and mount namespace of its own (as root), or in a user
    namespace of its own with ``id_map`` whose root makes them (any other user)."""
    namespaces = ["unshare", "--net", "--mount", "--fork", "sh", "-c", script]
    if id_map is None:
        return subprocess.Popen(namespaces, stdout=output, stderr=output, start_new_session=True)
    # The new user namespace's process waits for its ids to be mapped before it goes on: only then
    # is it root there, with the capabilities that make the other namespaces and mounts.
    process = subprocess.Popen(
        ["unshare", "--user", "sh", "-c", 'read -r _ && exec "$@" </dev/null', "sh", *namespaces],
        stdin=subprocess.PIPE,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    assert process.stdin is not None
    own = os.readlink("/proc/self/ns/user")
    deadline = time.monotonic() + 10
    try:
        while os.readlink(f"/proc/{process.pid}/ns/user") == own:
            assert process.poll() is None, "unshare --user failed"
            assert time.monotonic() < deadline, "unshare --user did not make a user namespace"
            time.sleep(0.005)
        id_map.apply(process.pid)
        process.stdin.write(b"go\n")
        process.stdin.close()
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return process


def _run(script: str, id_map: _IdMap | None) -> tuple[int, str]:
    """``_start`` waited for: its exit status and what it wrote."""
    with tempfile.TemporaryFile() as output:
        process = _start(script, id_map, output)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output.seek(0)
        return process.returncode, output.read().decode(errors="replace")


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return getpass.getuser()


def _id_map() -> _IdMap | None:
    """None as root; the user's ids otherwise (unavailable() says when they are lacking)."""
    if os.geteuid() == 0:
        return None
    uid, gid, user = os.getuid(), os.getgid(), _user()
    subuid = _subordinate(SUBUID, user, uid)
    subgid = _subordinate(SUBGID, user, uid)
    assert subuid is not None, unavailable()
    assert subgid is not None, unavailable()
    return _IdMap(uid, gid, subuid, subgid)


# The settings that keep a user who is not root from making a pod's namespaces: (setting, the value
# that forbids it, what that means, the value that allows it).
_USER_NAMESPACE_SETTINGS = (
    ("user.max_user_namespaces", "0", "user namespaces are off", "15000"),
    ("kernel.unprivileged_userns_clone", "0", "unprivileged user namespaces are off", "1"),
    (
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
        "AppArmor keeps unprivileged user namespaces from mounting",
        "0",
    ),
)


def _what_the_user_lacks() -> str | None:
    """What keeps a user who is not root from mapping a pod's ids, and what to do."""
    user = _user()
    missing = [tool for tool in ("newuidmap", "newgidmap", "unshare", "nsenter") if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} missing; install them as root: apt-get install uidmap util-linux "
            "(rootless container engines need them too)"
        )
    for path in (SUBUID, SUBGID):
        if _subordinate(path, user, os.getuid()) is None:
            first = _free_subordinate_ids()
            last = first + POD_IDS - 1
            return (
                f"{path} gives {user} no range of {POD_IDS - 1} subordinate ids; as root: "
                f"usermod --add-subuids {first}-{last} --add-subgids {first}-{last} {user}"
            )
    for setting, forbidding, meaning, allowing in _USER_NAMESPACE_SETTINGS:
        if _sysctl(setting) == forbidding:
            return f"{meaning} ({setting} = {forbidding}); as root: sysctl -w {setting}={allowing}"
    return None


def _why_not() -> str | None:
    """What keeps pods from running here, and what to do about it; None when nothing does."""
    if sys.platform != "linux":
        return "pods run in Linux namespaces; run the tests on Linux"
    try:
        busybox = _busybox()
    except packages.FetchError as error:
        return f"the packages the pods run could not be fetched ({error})"
    if os.geteuid() != 0 and (lacking := _what_the_user_lacks()) is not None:
        return lacking
    # What a pod does: its loopback, a port below 1024, mounts, and a container's own ids.
    with tempfile.TemporaryDirectory() as scratch:
        status, output = _run(
            f"{busybox} ip link set lo up && {busybox} sysctl -qw net.ipv4.ip_unprivileged_port_start=80"
            f" && mount -t tmpfs probe {shlex.quote(scratch)}"
            f" && {shutil.which('chroot') or '/usr/sbin/chroot'} --userspec=65534:65534 --groups=10101 / true",
            _id_map(),
        )
    return None if status == 0 else f"a pod's namespaces could not be made: {output.strip()}"


@cache
def unavailable() -> str | None:
    """Why the lab's pods cannot run on this machine and what to do (a sentence beginning with
    UNAVAILABLE), or None when they can."""
    why = _why_not()
    return None if why is None else f"{UNAVAILABLE}: {why}"


def _remove(directory: Path, id_map: _IdMap | None) -> None:
    """The pod's directory, with the files its containers made under their own ids."""
    if id_map is not None:  # those are not the user's: the pod's root removes them
        _run(f"rm -rf {shlex.quote(str(directory))}", id_map)
    shutil.rmtree(directory, ignore_errors=True)


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
    assert unavailable() is None, unavailable()
    id_map = _id_map()
    busybox = shlex.quote(str(_busybox()))
    directory = Path(tempfile.mkdtemp(prefix="pod-"))
    directory.chmod(0o755)
    (directory / "logs").mkdir()
    pod_security = spec.get("securityContext") or {}
    fs_group = pod_security.get("fsGroup")
    lines = ["set -u"]
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
                if fs_group is not None:
                    lines.append(f"chown 0:{int(fs_group)} {shlex.quote(str(path / key))}")
        else:
            raise AssertionError(f"volume {volume['name']}: only emptyDir, configMap and secret volumes are run here")
        volumes[volume["name"]] = path
    lines.append(f"{busybox} ip link set lo up")
    for sysctl in pod_security.get("sysctls") or []:
        lines.append(f"{busybox} sysctl -qw {shlex.quote(sysctl['name'] + '=' + str(sysctl['value']))}")

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
    process = _start("\n".join(lines), id_map)
    try:
        # The first process in the pod's namespaces: the child of the unshare that made them.
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        deadline = time.monotonic() + 10
        while not children.read_text().split():
            assert process.poll() is None, "the pod's namespaces did not start"
            assert time.monotonic() < deadline, "the pod's namespaces did not start"
            time.sleep(0.01)
        yield RunningPod(directory, process, int(children.read_text().split()[0]), id_map)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        _remove(directory, id_map)


def main(arguments: list[str]) -> int:
    """Says how the pods run here, or why they cannot and what to do. ``--forbidding``: each kernel
    setting that now keeps users from making user namespaces, as ``setting=allowing value``."""
    if arguments == ["--forbidding"]:
        for setting, forbidding, _, allowing in _USER_NAMESPACE_SETTINGS:
            if _sysctl(setting) == forbidding:
                print(f"{setting}={allowing}")
        return 0
    why = unavailable()
    if why is not None:
        print(f"pods: {why}. The tests that run them are skipped.", file=sys.stderr)
        return 1
    how = "as root" if os.geteuid() == 0 else "in a user namespace of their own, with the user's subordinate ids"
    print(f"pods: run {how}, with {', '.join(packages.names())} from {packages.directory()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
