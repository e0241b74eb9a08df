"""Guards for what bench/ measures, by count instead of by clock: the SDK modules a run of the
program loads. (What `pulumi destroy` deletes one by one is held in test_lab.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

from tests import k8s
from tests.harness import ROOT

# A fresh interpreter, so modules other tests loaded do not count. lazy_import leaves a stub in
# sys.modules for every API group a package names; only the modules really executed are loaded.
LOADED_MODULES = """
import json, sys
from tests.harness import run_program
run = run_program()
loaded = [n for n, m in list(sys.modules.items()) if type(m).__name__ != "_LazyModule"]
print(json.dumps({"loaded": loaded, "types": sorted({r.type for r in run.resources})}))
"""
# ObjectMeta, which every object of every API group has, lives in meta/v1.
SHARED_API_PACKAGES = {"pulumi_kubernetes.meta.v1"}


def api_package(type_token: str) -> str:
    """The SDK package of ``kubernetes:<group>/<version>:<Kind>``, named after the group's first label."""
    group, version, _ = k8s.group_version_kind(type_token)
    return f"pulumi_kubernetes.{group.split('.')[0]}.{version}"


def test_the_program_loads_the_kubernetes_api_packages_of_the_objects_it_creates_and_no_other() -> None:
    # Each API package of pulumi_kubernetes (core.v1 alone is hundreds of typed classes) costs
    # about as much to import as the rest of the program's run: bench/breakdown.py.
    result = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES], cwd=ROOT, capture_output=True, text=True, check=True
    )
    run = json.loads(result.stdout.splitlines()[-1])
    loaded = {".".join(name.split(".")[:3]) for name in run["loaded"] if name.startswith("pulumi_kubernetes.")}
    api_packages = {name for name in loaded if name.count(".") == 2}
    created = {api_package(type_token) for type_token in run["types"] if type_token.startswith("kubernetes:")}
    assert created, run["types"]
    assert api_packages - SHARED_API_PACKAGES == created
