"""Starts one container, as a container runtime's shim would, from a JSON spec (argv[1]).

Run as root with ``python -I -S shim.py SPEC``. It joins the pod's network namespace, makes new
mount, PID and UTS namespaces, and forks: the child becomes PID 1 of the new PID namespace,
builds the container's root filesystem (the image's layer over the machine's root, in a
private overlay), mounts the pod's volumes at their mount paths, mounts /proc, makes the root
read-only if asked, chroots into it and execs the container's command through ``setpriv``
(user, group, capabilities, no_new_privs), so the command itself is PID 1. The shim writes
the host PID of that PID 1 to ``pid_file``, waits for it and exits with its status (128 + signal
when killed). If the shim dies, PID 1 gets SIGKILL, and with it every process of the container.

Standard library only: it must start fast and not depend on the test's virtualenv.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import sys
import traceback

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    _check(
        libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source} on {target} ({fstype}, {data})",
    )


def bind(source: str, target: str, *, read_only: bool) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    elif not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def in_root(root: str, path: str) -> str:
    """``path`` inside the container's root, its symlinks resolved there, as runc does for mount targets."""
    parts = [part for part in path.split("/") if part]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError(f"too many symlinks in {path}")
            link = os.readlink(candidate)
            if link.startswith("/"):
                resolved = []
            parts = [p for p in link.split("/") if p] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def build_root(spec: dict) -> str:
    """The container's root filesystem: the image layer over the machine's root, writable in a tmpfs."""
    state = spec["state_dir"]
    mount("tmpfs", state, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700")
    layer, upper, work, root = (os.path.join(state, name) for name in ("layer", "upper", "work", "root"))
    # overlayfs refuses a layer inside another layer of the same filesystem: the image layer is
    # copied into the tmpfs, next to the writable upper layer.
    shutil.copytree(spec["image_layer"], layer, symlinks=True)
    for directory in (upper, work, root):
        os.mkdir(directory)
    mount("overlay", root, "overlay", 0, f"lowerdir={layer}:/,upperdir={upper},workdir={work}")
    mount("proc", os.path.join(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    bind("/dev", os.path.join(root, "dev"), read_only=False)
    for volume in spec["mounts"]:
        bind(volume["source"], in_root(root, volume["target"]), read_only=volume["read_only"])
    for target, source in spec["files"].items():
        # Files the kubelet manages for every container, e.g. /etc/hosts.
        bind(source, in_root(root, target), read_only=False)
    if spec["read_only_root"]:
        mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    return root


def container_init(spec: dict) -> None:
    """PID 1 of the container: set it up, then exec its command."""
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    hostname = spec["hostname"].encode()
    _check(libc.sethostname(hostname, len(hostname)), "sethostname")
    root = build_root(spec)
    os.chroot(root)
    os.chdir(spec["workdir"])
    os.umask(0o022)
    for number in range(1, signal.NSIG):
        # Start the command with default signal dispositions, as a runtime does.
        try:
            if number not in (signal.SIGKILL, signal.SIGSTOP):
                signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.execve(spec["setpriv"][0], [*spec["setpriv"], "--", *spec["argv"]], spec["env"])


def main() -> int:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    netns = os.open(spec["netns"], os.O_RDONLY)
    _check(libc.setns(netns, CLONE_NEWNET), "setns")
    os.close(netns)
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS), "unshare")
    pid = os.fork()
    if pid == 0:
        try:
            container_init(spec)
        except BaseException:
            traceback.print_exc()
            sys.stderr.write("shim: the container could not be created\n")
            sys.stderr.flush()
        os._exit(128)
    # The shim ignores the signals a test may send to the container's PID 1 by mistake.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    temporary = spec["pid_file"] + ".tmp"
    with open(temporary, "w") as handle:
        handle.write(str(pid))
    os.rename(temporary, spec["pid_file"])
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
