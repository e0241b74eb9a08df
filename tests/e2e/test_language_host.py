"""The Python language host the toolchain builds (e2e/toolchain/pulumi-language-python), on its
own: what the engine needs of it on every run, beyond running the program."""

from __future__ import annotations

import shutil
import signal
import subprocess

import pytest

pytestmark = pytest.mark.e2e


def test_the_language_host_stops_on_sigint_also_when_started_with_sigint_ignored() -> None:
    # The engine stops a language host with SIGINT and kills it only 5 s later; a shell starts
    # its background commands with SIGINT ignored, and exec keeps it ignored.
    host = shutil.which("pulumi-language-python")
    assert host, "run with scripts/test.sh e2e: the toolchain's bin is not on PATH"
    ignoring_sigint = ["sh", "-c", "trap '' INT; exec \"$0\"", host]
    process = subprocess.Popen(ignoring_sigint, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert int(process.stdout.readline()) > 0  # serving: it printed its port
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
