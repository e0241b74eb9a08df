"""Runs the pods the program declares on this machine, as a kubelet and a container runtime would.

A pod is one network namespace (its own loopback and an eth0 on a bridge in a "node" network
namespace), each container PID 1 of its own PID namespace, in its own mount namespace with the
pod's volumes at their mount paths (see shim.py). Pod specs come from the program run under
Pulumi's mocks (tests/harness.py), unchanged; images are emulated as images.py says.

What a kubelet does and this runner does too: init containers in order, each to completion
(a native sidecar, restartPolicy Always, is started and its startup probe awaited, and it keeps
running), then the app containers; httpGet and tcpSocket probes from the node to the pod's IP;
a Kubernetes-managed /etc/hosts; emptyDir, configMap and secret volumes (the latter two in the
kubelet's atomic-writer layout, always read-only); Services as a ClusterIP the node routes to
the selected pod, named in /etc/hosts as cluster DNS would answer; and graceful termination:
SIGTERM to PID 1 of the app containers, then the sidecars in reverse order, SIGKILL after the
pod's grace period. Not emulated: resource limits, seccomp profiles, restarts.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import datetime
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness import ProgramRun, Registered

from . import images

SHIM = Path(__file__).with_name("shim.py")
CLONE_NEWNET = 0x40000000
NETNS_PREFIX = "mcp-rt-"
POD_SUBNET = "10.244.0"
SERVICE_SUBNET = "10.96.0"
SETPRIV = "/usr/bin/setpriv"
NSENTER = "/usr/bin/nsenter"
IP = "/usr/sbin/ip"
# The capabilities containerd gives a container unless its securityContext drops them.
RUNTIME_DEFAULT_CAPS = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
)

_libc = ctypes.CDLL(None, use_errno=True)


# -- network namespaces ---------------------------------------------------------------------


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([IP, *args], capture_output=True, text=True, timeout=10, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def netns_path(name: str) -> str:
    return f"/run/netns/{name}"


def socket_in(netns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket in network namespace ``netns``. Namespaces are per thread: a short-lived thread
    enters it and makes the socket, which keeps its namespace wherever it is used."""
    made: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {netns}")
            finally:
                os.close(fd)
            made.append(socket.socket(family, kind))
        except BaseException as error:
            made.append(error)

    thread = threading.Thread(target=make, name="setns")
    thread.start()
    thread.join()
    result = made[0]
    if isinstance(result, BaseException):
        raise result
    return result


def connect(netns: str, host: str, port: int, timeout: float = 3.0) -> socket.socket:
    sock = socket_in(netns, socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def http_get(
    netns: str,
    host: str,
    port: int,
    path: str = "/",
    *,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    timeout: float = 3.0,
) -> tuple[int, dict[str, str], bytes, bytes | None]:
    """GET over a socket in ``netns``: status, headers, body and the peer's DER certificate (TLS)."""
    sock: socket.socket = connect(netns, host, port, timeout)
    cert = None
    try:
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_hostname)
            cert = sock.getpeercert(binary_form=True)
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock
        connection.request("GET", path, headers={"Host": f"localhost:{port}", "User-Agent": "runtime-test"})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body, cert
    finally:
        sock.close()


class ClusterNetwork:
    """A "node" network namespace with a bridge every pod's eth0 hangs on, routing ClusterIPs."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.node = f"{NETNS_PREFIX}{run_id}-node"
        self.gateway = f"{POD_SUBNET}.1"
        self._pod_ips = itertools.count(2)
        self._service_ips = itertools.count(10)
        self._links = itertools.count(0)
        self.services: dict[str, str] = {}
        ip("netns", "add", self.node)
        self._batch(
            self.node,
            "link set lo up",
            "link add br0 type bridge",
            f"addr add {self.gateway}/24 dev br0",
            "link set br0 up",
        )
        subprocess.run(
            [IP, "netns", "exec", self.node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
            check=True,
            capture_output=True,
            timeout=10,
        )

    @staticmethod
    def _batch(netns: str, *commands: str) -> None:
        result = subprocess.run(
            [IP, "-n", netns, "-batch", "-"],
            input="\n".join(commands) + "\n",
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ip -n {netns} -batch: {result.stderr.strip()}")

    def service_ip(self, name: str) -> str:
        if name not in self.services:
            self.services[name] = f"{SERVICE_SUBNET}.{next(self._service_ips)}"
        return self.services[name]

    def add_pod(self) -> tuple[str, str]:
        """A new pod network namespace on the bridge: its name and IP."""
        number = next(self._pod_ips)
        pod_ip = f"{POD_SUBNET}.{number}"
        netns = f"{NETNS_PREFIX}{self.run_id}-pod{number}"
        host_side = f"veth{self.run_id[:6]}{next(self._links)}"
        ip("netns", "add", netns)
        self._batch(
            self.node,
            f"link add {host_side} type veth peer name eth0 netns {netns}",
            f"link set {host_side} master br0 up",
        )
        self._batch(
            netns,
            "link set lo up",
            f"addr add {pod_ip}/24 dev eth0",
            "link set eth0 up",
            f"route add default via {self.gateway}",
        )
        return netns, pod_ip

    def add_endpoint(self, service_ip: str, pod_netns: str, pod_ip: str) -> None:
        """The Service's address reaches ``pod_ip``: what kube-proxy does for its one endpoint."""
        self._batch(pod_netns, f"addr add {service_ip}/32 dev lo")
        self._batch(self.node, f"route replace {service_ip}/32 via {pod_ip}")

    def remove_endpoint(self, service_ip: str) -> None:
        ip("-n", self.node, "route", "del", f"{service_ip}/32", check=False)

    def close(self) -> None:
        ip("netns", "del", self.node, check=False)


def remove_stale_namespaces() -> None:
    """Network namespaces a killed earlier run of this suite left behind."""
    for line in ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(NETNS_PREFIX):
            ip("netns", "del", name, check=False)


# -- what the program declares --------------------------------------------------------------


def k8s_name(resource: Registered) -> str:
    """metadata.name as the provider set it (auto-named objects get theirs from the mocks)."""
    return resource.state["metadata"]["name"]


def object_named(program: ProgramRun, type_token: str, name: str) -> Registered:
    matches = [r for r in program.of_type(type_token) if k8s_name(r) == name]
    assert len(matches) == 1, f"the program declares no single {type_token} named {name!r}"
    return matches[0]


def object_files(resource: Registered) -> dict[str, bytes]:
    """The files a ConfigMap or Secret volume holds, by key."""
    inputs = resource.inputs
    files: dict[str, bytes] = {}
    for key, value in (inputs.get("data") or {}).items():
        files[key] = base64.b64decode(value) if resource.type.endswith(":Secret") else value.encode()
    for key, value in (inputs.get("binaryData") or {}).items():
        files[key] = base64.b64decode(value)
    for key, value in (inputs.get("stringData") or {}).items():
        files[key] = value.encode()
    return files


@dataclass(frozen=True)
class PodSpec:
    name: str
    labels: dict[str, str]
    spec: dict[str, Any]

    @classmethod
    def of_pod(cls, program: ProgramRun, name: str) -> PodSpec:
        pod = program.one("kubernetes:core/v1:Pod", name)
        return cls(name, dict(pod.inputs["metadata"].get("labels") or {}), pod.inputs["spec"])

    @classmethod
    def of_deployment(cls, program: ProgramRun, name: str) -> PodSpec:
        deployment = program.one("kubernetes:apps/v1:Deployment", name)
        template = deployment.inputs["spec"]["template"]
        # The name a ReplicaSet gives its pod: deployment, template hash, random suffix.
        return cls(f"{name}-5d8f7c9b4-rt0x1", dict(template["metadata"].get("labels") or {}), template["spec"])


# -- containers -----------------------------------------------------------------------------


@dataclass
class ContainerSpec:
    name: str
    kind: str  # "init", "sidecar" (native) or "app"
    raw: dict[str, Any]
    image: images.Image
    argv: list[str]
    env: dict[str, str]
    setpriv: list[str]
    read_only_root: bool

    @classmethod
    def parse(cls, raw: dict[str, Any], kind: str) -> ContainerSpec:
        image = images.image(raw["image"])
        command, args = raw.get("command"), raw.get("args")
        assert args is None or command is not None, "args without command (image ENTRYPOINT) are not emulated"
        argv = list(command) + list(args or []) if command is not None else list(image.default_command)
        env = dict(image.env)
        for variable in raw.get("env") or []:
            assert "valueFrom" not in variable, f"env valueFrom is not emulated ({variable['name']})"
            env[variable["name"]] = str(variable.get("value", ""))
        env.setdefault("HOSTNAME", "")  # set per pod below
        security = raw.get("securityContext") or {}
        assert not security.get("privileged"), "privileged containers are not emulated"
        uid = int(security.get("runAsUser", 0))
        gid = int(security.get("runAsGroup", 0))
        if security.get("runAsNonRoot") and uid == 0:
            raise AssertionError(f"container {raw['name']}: runAsNonRoot, but it would run as root")
        capabilities = security.get("capabilities") or {}
        dropped = {cap.upper() for cap in capabilities.get("drop") or []}
        kept = [] if "ALL" in dropped else [cap for cap in RUNTIME_DEFAULT_CAPS if cap not in dropped]
        kept += [cap.upper() for cap in capabilities.get("add") or [] if cap.upper() not in kept]
        bounding = ",".join(["-all", *(f"+{cap.lower()}" for cap in kept)])
        setpriv = [
            SETPRIV,
            f"--reuid={uid}",
            f"--regid={gid}",
            "--clear-groups",
            "--inh-caps=-all",
            f"--bounding-set={bounding}",
        ]
        if security.get("allowPrivilegeEscalation") is False:
            setpriv.append("--no-new-privs")
        return cls(raw["name"], kind, raw, image, argv, env, setpriv, bool(security.get("readOnlyRootFilesystem")))

    def port(self, name_or_number: str | int) -> int:
        if isinstance(name_or_number, (int, float)):
            return int(name_or_number)
        for port in self.raw.get("ports") or []:
            if port.get("name") == name_or_number:
                return int(port["containerPort"])
        raise AssertionError(f"container {self.name} has no port named {name_or_number!r}")


@dataclass
class Container:
    spec: ContainerSpec
    shim: subprocess.Popen[bytes]
    pid: int
    """Host PID of the container's PID 1."""
    stdout: Path
    stderr: Path
    started: float
    exit_code: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def poll(self) -> int | None:
        if self.exit_code is None:
            self.exit_code = self.shim.poll()
        return self.exit_code

    @property
    def running(self) -> bool:
        return self.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            self.exit_code = self.shim.wait(timeout=max(timeout, 0))
        except subprocess.TimeoutExpired:
            return None
        return self.exit_code

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.running:
                os.kill(self.pid, number)


# -- pods -----------------------------------------------------------------------------------


@dataclass
class Pod:
    """One pod: start it with :meth:`start`, always :meth:`destroy` it (the fixtures do)."""

    spec: PodSpec
    program: ProgramRun
    network: ClusterNetwork
    directory: Path
    image_cache: Path
    ip: str = ""
    netns: str = ""
    phase: str = "Pending"
    containers: dict[str, Container] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _kubelet: threading.Thread | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _service_ips: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    def event(self, text: str) -> None:
        self.events.append(f"{time.monotonic():.3f} {text}")

    # -- setup --

    def _container_specs(self) -> list[ContainerSpec]:
        specs = []
        for raw in self.spec.spec.get("initContainers") or []:
            specs.append(ContainerSpec.parse(raw, "sidecar" if raw.get("restartPolicy") == "Always" else "init"))
        specs += [ContainerSpec.parse(raw, "app") for raw in self.spec.spec["containers"]]
        return specs

    def _volumes(self) -> dict[str, tuple[Path, bool]]:
        """Each volume's directory, and whether the kubelet always mounts it read-only."""
        volumes: dict[str, tuple[Path, bool]] = {}
        for volume in self.spec.spec.get("volumes") or []:
            path = self.directory / "volumes" / volume["name"]
            path.mkdir(parents=True)
            if "emptyDir" in volume:
                path.chmod(0o777)
                volumes[volume["name"]] = (path, False)
            elif "configMap" in volume or "secret" in volume:
                if "configMap" in volume:
                    source = volume["configMap"]
                    resource = object_named(self.program, "kubernetes:core/v1:ConfigMap", source["name"])
                else:
                    source = volume["secret"]
                    resource = object_named(self.program, "kubernetes:core/v1:Secret", source["secretName"])
                assert not source.get("items"), "configMap/secret items are not emulated"
                mode = int(source.get("defaultMode", 0o644))
                _atomic_writer(path, object_files(resource), mode)
                volumes[volume["name"]] = (path, True)
            else:
                raise AssertionError(f"volume {volume['name']}: only emptyDir, configMap and secret are emulated")
        return volumes

    def _hosts_file(self) -> Path:
        lines = [
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
            f"{self.ip}\t{self.name}",
            "# Services of the namespace, as cluster DNS would answer for them:",
        ]
        for service in self.program.of_type("kubernetes:core/v1:Service"):
            metadata = service.inputs["metadata"]
            name, namespace = k8s_name(service), metadata.get("namespace", "default")
            lines.append(f"{self.network.service_ip(name)}\t{name} {name}.{namespace}.svc.cluster.local")
        path = self.directory / "hosts"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o644)
        return path

    def _join_services(self, specs: list[ContainerSpec]) -> None:
        """Become the endpoint of every Service whose selector matches this pod's labels."""
        for service in self.program.of_type("kubernetes:core/v1:Service"):
            selector = service.inputs["spec"].get("selector") or {}
            if not selector or any(self.spec.labels.get(k) != v for k, v in selector.items()):
                continue
            for port in service.inputs["spec"].get("ports") or []:
                target = port.get("targetPort", port["port"])
                numbers = {spec.port(target) for spec in specs if _has_port(spec, target)}
                assert numbers == {int(port["port"])}, (
                    f"Service {k8s_name(service)} maps port {port['port']} to {target} ({numbers}): "
                    "port translation by kube-proxy is not emulated"
                )
            service_ip = self.network.service_ip(k8s_name(service))
            self.network.add_endpoint(service_ip, Path(self.netns).name, self.ip)
            self._service_ips.append(service_ip)
            self.event(f"endpoint of Service {k8s_name(service)} ({service_ip})")

    def _launch(self, spec: ContainerSpec, volumes: Mapping[str, tuple[Path, bool]], hosts: Path) -> Container:
        state = self.directory / "containers" / spec.name
        state.mkdir(parents=True)
        mounts = []
        for mount in spec.raw.get("volumeMounts") or []:
            assert not mount.get("subPath"), "subPath mounts are not emulated"
            source, always_read_only = volumes[mount["name"]]
            mounts.append(
                {
                    "source": str(source),
                    "target": mount["mountPath"],
                    "read_only": always_read_only or bool(mount.get("readOnly")),
                }
            )
        env = {**spec.env, "HOSTNAME": self.name}
        pid_file = state / "pid"
        shim_spec = {
            "netns": self.netns,
            "hostname": self.name,
            "state_dir": str(state / "rootfs"),
            "image_layer": str(spec.image.layer(self.image_cache)),
            "mounts": mounts,
            "files": {"/etc/hosts": str(hosts)},
            "read_only_root": spec.read_only_root,
            "workdir": spec.raw.get("workingDir") or spec.image.workdir,
            "setpriv": spec.setpriv,
            "argv": spec.argv,
            "env": env,
            "pid_file": str(pid_file),
        }
        (state / "rootfs").mkdir()
        spec_file = state / "spec.json"
        spec_file.write_text(json.dumps(shim_spec, indent=1))
        stdout, stderr = state / "stdout", state / "stderr"
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        out_fd, err_fd = os.open(stdout, flags, 0o644), os.open(stderr, flags, 0o644)
        try:
            shim = subprocess.Popen(
                [sys.executable, "-I", "-S", str(SHIM), str(spec_file)],
                stdin=subprocess.DEVNULL,
                stdout=out_fd,
                stderr=err_fd,
                start_new_session=True,
            )
        finally:
            os.close(out_fd)
            os.close(err_fd)
        deadline = time.monotonic() + 10
        while not pid_file.exists():
            if shim.poll() is not None or time.monotonic() > deadline:
                shim.kill()
                shim.wait(5)
                raise RuntimeError(f"container {spec.name} did not start: {stderr.read_text()[-2000:]}")
            time.sleep(0.005)
        container = Container(spec, shim, int(pid_file.read_text()), stdout, stderr, time.monotonic())
        with self._lock:
            self.containers[spec.name] = container
        self.event(f"started {spec.kind} container {spec.name} (pid {container.pid})")
        return container

    # -- lifecycle --

    def start(self) -> Pod:
        """Create the pod's sandbox and start its kubelet; returns at once (see wait_for)."""
        self.directory.mkdir(parents=True)
        netns, self.ip = self.network.add_pod()
        self.netns = netns_path(netns)
        specs = self._container_specs()
        volumes = self._volumes()
        hosts = self._hosts_file()
        self._join_services(specs)
        self._kubelet = threading.Thread(
            target=self._run, args=(specs, volumes, hosts), name=f"kubelet-{self.name}", daemon=True
        )
        self._kubelet.start()
        return self

    def _run(self, specs: list[ContainerSpec], volumes: Mapping[str, tuple[Path, bool]], hosts: Path) -> None:
        try:
            for spec in specs:
                if self._stop.is_set():
                    return
                if spec.kind == "app":
                    continue
                self.phase = f"Init:{spec.name}"
                container = self._launch(spec, volumes, hosts)
                if spec.kind == "sidecar":
                    probe = spec.raw.get("startupProbe")
                    if probe and not self._await_probe(spec, container, probe, "startup"):
                        self.phase = f"Init:StartupProbeFailed:{spec.name}"
                        return
                    continue
                while not self._stop.is_set():
                    code = container.wait(0.05)
                    if code is not None:
                        self.event(f"init container {spec.name} exited {code}")
                        if code != 0:
                            self.phase = f"Init:Error:{spec.name}"
                            return
                        break
                else:
                    return
            for spec in specs:
                if spec.kind == "app" and not self._stop.is_set():
                    self._launch(spec, volumes, hosts)
            self.phase = "Running"
        except BaseException as error:
            self.phase = f"Failed: {error}"
            self.event(f"kubelet error: {error!r}")

    def _await_probe(self, spec: ContainerSpec, container: Container, probe: dict[str, Any], kind: str) -> bool:
        period = float(probe.get("periodSeconds", 10))
        threshold = int(probe.get("failureThreshold", 3))
        delay = float(probe.get("initialDelaySeconds", 0))
        deadline = time.monotonic() + delay + period * threshold + 1
        time.sleep(min(delay, 0.1))
        while time.monotonic() < deadline and not self._stop.is_set():
            if not container.running:
                return False
            if self.probe(spec.name, probe):
                self.event(f"{kind} probe of {spec.name} passed")
                return True
            time.sleep(0.1)
        return False

    def probe(self, container: str, probe: Mapping[str, Any]) -> bool:
        """One run of a probe, from the node to the pod's IP, as the kubelet sends it."""
        spec = self.containers[container].spec
        timeout = float(probe.get("timeoutSeconds", 1))
        try:
            if "httpGet" in probe:
                action = probe["httpGet"]
                context = None
                if action.get("scheme") == "HTTPS":
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                status, _, _, _ = http_get(
                    self.network_node,
                    self.ip,
                    spec.port(action["port"]),
                    action.get("path", "/"),
                    tls=context,
                    timeout=timeout,
                )
                return 200 <= status < 400
            if "tcpSocket" in probe:
                connect(self.network_node, self.ip, spec.port(probe["tcpSocket"]["port"]), timeout).close()
                return True
        except (OSError, http.client.HTTPException):
            return False
        raise AssertionError(f"probe {probe} is not emulated")

    @property
    def network_node(self) -> str:
        return netns_path(self.network.node)

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"pod {self.name}: {what} not within {timeout} s\n{self.describe()}")
            time.sleep(0.05)

    def wait_running(self, timeout: float = 10) -> None:
        self.wait_for(
            lambda: self.phase == "Running" or self.phase.startswith(("Init:Error", "Failed")),
            timeout,
            "all containers started",
        )
        assert self.phase == "Running", f"pod {self.name} is {self.phase}\n{self.describe()}"

    def wait_ready(self, timeout: float = 10) -> None:
        """Every container with a readiness probe passes it (the pod's Ready condition)."""
        self.wait_running(timeout)

        def ready() -> bool:
            return all(
                self.probe(name, container.spec.raw["readinessProbe"])
                for name, container in list(self.containers.items())
                if container.spec.raw.get("readinessProbe") and container.spec.kind != "init"
            )

        self.wait_for(ready, timeout, "readiness probes passing")

    def container(self, name: str) -> Container:
        with self._lock:
            assert name in self.containers, f"container {name} never started\n{self.describe()}"
            return self.containers[name]

    def logs(self, name: str, stream: str = "stdout") -> str:
        container = self.container(name)
        path = container.stdout if stream == "stdout" else container.stderr
        return path.read_text(errors="replace")

    def wait_for_log(self, name: str, predicate: Callable[[str], Any], timeout: float, what: str) -> Any:
        return self.wait_for(lambda: name in self.containers and predicate(self.logs(name)), timeout, f"{name}: {what}")

    def exec(self, name: str, argv: list[str], timeout: float = 10) -> subprocess.CompletedProcess[str]:
        """Like `kubectl exec -c NAME -- ARGV`: in the container's namespaces, root and user."""
        container = self.container(name)
        assert container.running, f"container {name} is not running\n{self.describe()}"
        env = {**container.spec.env, "HOSTNAME": self.name}
        command = [NSENTER, f"--target={container.pid}", "--mount", "--uts", "--net", "--pid", "--root", "--wd"]
        return subprocess.run(
            [*command, "--", *container.spec.setpriv, "--", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> dict[str, float | None]:
        """Graceful termination as the kubelet does it: SIGTERM to PID 1 of every app (and running
        init) container at once, then to the native sidecars in reverse order; SIGKILL whatever
        still runs when the pod's grace period is over. Returns the seconds each took to exit
        (None: killed)."""
        self._stop.set()
        if self._kubelet is not None:
            self._kubelet.join(15)
        grace = float(self.spec.spec.get("terminationGracePeriodSeconds", 30))
        deadline = time.monotonic() + grace
        with self._lock:
            containers = list(self.containers.values())
        first = [c for c in containers if c.spec.kind != "sidecar" and c.running]
        sidecars = [c for c in reversed(containers) if c.spec.kind == "sidecar" and c.running]
        times: dict[str, float | None] = {}
        for group in [first, *([c] for c in sidecars)]:
            sent = {}
            for container in group:
                sent[container.name] = time.monotonic()
                container.signal(signal.SIGTERM)
                self.event(f"SIGTERM to {container.name}")
            waiting = list(group)
            while waiting:
                for container in list(waiting):
                    code = container.poll()
                    if code is not None:
                        times[container.name] = time.monotonic() - sent[container.name]
                        self.event(f"{container.name} exited {code} after {times[container.name]:.3f} s")
                        waiting.remove(container)
                if waiting and time.monotonic() >= deadline:
                    for container in waiting:
                        container.signal(signal.SIGKILL)
                        container.wait(5)
                        times[container.name] = None
                        self.event(f"SIGKILL to {container.name} after the grace period")
                    waiting = []
                time.sleep(0.002)
        self.phase = "Terminated"
        return times

    def destroy(self) -> None:
        """Kill everything of the pod and remove its namespaces and files; safe to call twice."""
        self._stop.set()
        if self._kubelet is not None:
            self._kubelet.join(15)
        with self._lock:
            containers = list(self.containers.values())
        for container in containers:
            container.signal(signal.SIGKILL)
        for container in containers:
            if container.shim.poll() is None:
                container.shim.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                container.shim.wait(10)
        for service_ip in self._service_ips:
            self.network.remove_endpoint(service_ip)
        self._service_ips.clear()
        if self.netns:
            ip("netns", "del", Path(self.netns).name, check=False)
        if self.phase != "Terminated":
            self.phase = "Deleted"

    def describe(self) -> str:
        lines = [f"pod {self.name} ({self.ip}) phase {self.phase}", "events:", *self.events]
        with self._lock:
            containers = list(self.containers.values())
        for container in containers:
            lines.append(f"--- {container.name} (exit {container.poll()}) stdout:")
            lines.append(container.stdout.read_text(errors="replace")[-1500:])
            lines.append(f"--- {container.name} stderr:")
            lines.append(container.stderr.read_text(errors="replace")[-1500:])
        return "\n".join(lines)


def _has_port(spec: ContainerSpec, target: str | int) -> bool:
    try:
        spec.port(target)
    except AssertionError:
        return False
    return isinstance(target, str) or any(int(p["containerPort"]) == int(target) for p in spec.raw.get("ports") or [])


def _atomic_writer(path: Path, files: Mapping[str, bytes], mode: int) -> None:
    """The kubelet's layout: keys link to ..data/KEY, ..data links to a timestamped directory."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("..%Y_%m_%d_%H_%M_%S.%f")
    data = path / stamp
    data.mkdir()
    data.chmod(0o755)
    for key, content in files.items():
        (data / key).write_bytes(content)
        (data / key).chmod(mode)
    (path / "..data").symlink_to(stamp)
    for key in files:
        (path / key).symlink_to(f"..data/{key}")


@contextlib.contextmanager
def cleanup_dir(path: Path) -> Iterator[Path]:
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
