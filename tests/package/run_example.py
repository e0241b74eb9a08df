"""Runs an example program under Pulumi's mocks with whatever `multicontainer_patterns` the running
interpreter has installed, and prints what it registered as JSON. Run by test_package.py in a
fresh virtualenv, so it imports nothing of the repository.

    python run_example.py EXAMPLE_DIR KEY=VALUE...   (the example's config)"""

from __future__ import annotations

import json
import runpy
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pulumi

import multicontainer_patterns


class Recorder(pulumi.runtime.Mocks):
    """Records every resource; a Kubernetes object gets the name it asked for."""

    def __init__(self) -> None:
        self.registered: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        metadata_ = dict(state.get("metadata") or {})
        metadata_.setdefault("name", args.name)
        if args.typ.startswith("kubernetes:"):
            state["metadata"] = metadata_
        self.registered.append({"type": args.typ, "name": args.name, "inputs": state})
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def main() -> None:
    example = Path(sys.argv[1]).resolve()
    project = "example"
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=project, stack="test", preview=False)
    pulumi.runtime.set_all_config(dict(f"{project}:{item}".split("=", 1) for item in sys.argv[2:]))

    @pulumi.runtime.test
    def execute() -> None:
        runpy.run_path(str(example / "__main__.py"), run_name="__main__")

    execute()
    package = resources.files(multicontainer_patterns)
    print(
        json.dumps(
            {
                "module": multicontainer_patterns.__file__,
                "version": metadata.version("multi-container-patterns"),
                "typed": package.joinpath("py.typed").is_file(),
                "registered": recorder.registered,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
