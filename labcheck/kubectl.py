"""Running kubectl: the lab's command lines as a learner types them, each bounded by a timeout.

A command line is run as written: through ``sh -c`` when it has a pipe (``| tail -5``),
otherwise split like a shell would and run directly. Every process is started in its own
process group, so a timeout or the end of a port-forward stops kubectl and whatever the line
started with it.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

DEFAULT_TIMEOUT_SECONDS = 30.0
# A port-forward prints where it listens within a second or two; a slow API server gets more.
PORT_FORWARD_READY_SECONDS = 15.0
_STOP_GRACE_SECONDS = 5.0
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


@dataclass(frozen=True)
class Output:
    """What one command printed, and how it ended."""

    stdout: str
    stderr: str
    exit_code: int | None
    """None when the command was stopped at its timeout."""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def failure(self) -> str:
        """Why the command did not succeed, in one line."""
        if self.exit_code is None:
            return f"timed out after {self.seconds:.0f} s"
        first_error = next((line.strip() for line in self.stderr.splitlines() if line.strip()), "no error output")
        return f"exit {self.exit_code}: {first_error}"


class PortForwardError(RuntimeError):
    """kubectl port-forward ended or said nothing usable before it listened."""


class Followed(Protocol):
    """The lines a long-running command (a watch) has printed so far."""

    def lines(self) -> list[str]: ...


class Cluster(Protocol):
    """How the checker reaches the cluster: kubectl command lines, run, forwarded or followed."""

    def run(self, line: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Output: ...

    def port_forward(self, line: str) -> AbstractContextManager[int]:
        """Run a ``kubectl port-forward`` line while the block runs; yields the local port."""
        ...

    def follow(self, line: str) -> AbstractContextManager[Followed]:
        """Run a line that never ends by itself (a watch) while the block runs."""
        ...


def with_global_flags(line: str, *, context: str | None = None, kubeconfig: str | None = None) -> str:
    """``line`` with ``--context`` and ``--kubeconfig`` right after its leading ``kubectl``."""
    program, _, rest = line.partition(" ")
    if program != "kubectl":
        raise ValueError(f"not a kubectl command line: {line!r}")
    flags: list[str] = []
    if context:
        flags += ["--context", shlex.quote(context)]
    if kubeconfig:
        flags += ["--kubeconfig", shlex.quote(kubeconfig)]
    return " ".join(["kubectl", *flags, rest])


def argv_of(line: str) -> list[str]:
    """How a command line is run: a pipeline through ``sh -c`` exactly as written, else its words."""
    return ["sh", "-c", line] if "|" in line else shlex.split(line)


def _start(line: str, *, stderr: int) -> subprocess.Popen[str]:
    """Start a command line with no input, its output piped, as the leader of its own process
    group so that :func:`_stop` reaches everything it starts."""
    return subprocess.Popen(
        argv_of(line),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the process group ``process`` leads: politely, then for good."""
    for stop_signal in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, stop_signal)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue


class _Background:
    """A long-running command whose output lines are collected as they come."""

    def __init__(self, line: str) -> None:
        self.started = time.monotonic()
        self._collected: list[str] = []
        self._fresh: queue.Queue[str] = queue.Queue()
        self.process = _start(line, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.rstrip("\n")
            self._collected.append(line)
            self._fresh.put(line)

    def lines(self) -> list[str]:
        return list(self._collected)

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str] | None:
        """The first new line matching ``pattern``; None when the command ended or time ran out."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._fresh.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.process.poll() is not None and self._fresh.empty() and not self._reader.is_alive():
                    return None
                continue
            if match := pattern.search(line):
                return match
        return None

    def stop(self) -> None:
        _stop(self.process)
        self._reader.join(timeout=_STOP_GRACE_SECONDS)


@dataclass(frozen=True)
class KubectlCluster:
    """The real cluster, through the kubectl on PATH."""

    def run(self, line: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Output:
        started = time.monotonic()
        try:
            process = _start(line, stderr=subprocess.PIPE)
        except FileNotFoundError as error:
            return Output("", f"{error.filename}: not found on PATH", 127)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            stdout, stderr = process.communicate(timeout=_STOP_GRACE_SECONDS)
            return Output(stdout, stderr, None, time.monotonic() - started)
        return Output(stdout, stderr, process.returncode, time.monotonic() - started)

    @contextmanager
    def port_forward(self, line: str) -> Generator[int, None, None]:
        """Run a ``kubectl port-forward ... :PORT --address 127.0.0.1`` line; yields the local port."""
        forward = _Background(line)
        try:
            listening = forward.wait_for(_FORWARDING, PORT_FORWARD_READY_SECONDS)
            if listening is None:
                said = " / ".join(forward.lines()[-3:]) or "nothing"
                raise PortForwardError(f"port-forward did not listen on 127.0.0.1 (it said: {said})")
            yield int(listening.group(1))
        finally:
            forward.stop()

    @contextmanager
    def follow(self, line: str) -> Generator[Followed, None, None]:
        """Run a command that never ends by itself (a watch) while the block runs, then stop it."""
        watch = _Background(line)
        try:
            yield watch
        finally:
            watch.stop()
