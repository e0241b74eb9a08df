"""Times the Python side of a real `pulumi up`/`preview`, for bench/breakdown.py.

With this directory on PYTHONPATH and PULUMI_BENCH_PROBE naming a file, the interpreter that runs
the program (pulumi-language-python-exec) appends one JSON line to that file when it exits, with
wall-clock times in Unix nanoseconds (the clock of the engine's trace spans):
  started          the process started (from /proc, 10 ms resolution)
  site             site initialisation reached this module
  program_start    `runpy.run_path` of the program began: the SDK is imported and configured
  program_end      the program's body returned: every resource is registered, not yet created
  exited           the interpreter exits, after the engine answered every registration
  lazy_sdk_ns      time spent inside the program importing modules of the pulumi SDKs
  lazy_sdk_modules how many such modules the program imported
Other interpreters (the language host's probes) are left alone.
"""

from __future__ import annotations

import atexit
import importlib.abc
import importlib.machinery
import json
import os
import runpy
import sys
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

SITE = time.time_ns()
OUT = os.environ.get("PULUMI_BENCH_PROBE", "")
SDK_PREFIXES = ("pulumi_", "pulumi.")


def _process_start_ns() -> int:
    with open("/proc/self/stat") as stat:
        ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as machine:
        boot = next(int(line.split()[1]) for line in machine if line.startswith("btime "))
    return (boot * 1_000_000_000) + ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class _TimedSdkImports(importlib.abc.MetaPathFinder):
    """Wraps the loader of every SDK module the program imports, counting only the outermost
    import so nested ones are not counted twice."""

    def __init__(self) -> None:
        self.active = False
        self.depth = 0
        self.total_ns = 0
        self.modules = 0

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not self.active or not fullname.startswith(SDK_PREFIXES):
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _TimedLoader(spec.loader, self)
                return spec
            if spec is not None:
                return spec
        return None


class _TimedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, imports: _TimedSdkImports) -> None:
        self.loader = loader
        self.imports = imports

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        imports = self.imports
        imports.modules += 1
        imports.depth += 1
        start = time.perf_counter_ns()
        try:
            self.loader.exec_module(module)
        finally:
            imports.depth -= 1
            if imports.depth == 0:
                imports.total_ns += time.perf_counter_ns() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def _install() -> None:
    record: dict[str, int] = {"started": _process_start_ns(), "site": SITE}
    imports = _TimedSdkImports()
    sys.meta_path.insert(0, imports)
    run_path = runpy.run_path

    def timed_run_path(*args: Any, **kwargs: Any) -> dict[str, Any]:
        record["program_start"] = time.time_ns()
        imports.active = True
        try:
            return run_path(*args, **kwargs)
        finally:
            imports.active = False
            record["program_end"] = time.time_ns()

    runpy.run_path = timed_run_path

    def write() -> None:
        record["exited"] = time.time_ns()
        record["lazy_sdk_ns"] = imports.total_ns
        record["lazy_sdk_modules"] = imports.modules
        with open(OUT, "a") as out:
            out.write(json.dumps(record) + "\n")

    atexit.register(write)


if OUT and sys.argv and sys.argv[0].endswith("pulumi-language-python-exec"):
    _install()
