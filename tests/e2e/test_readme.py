"""The README walked as a user walks it, on a fresh copy of the tree, its commands run verbatim (read
from the README, with `--yes` where the README says it answers the question): `scripts/up.sh`,
`scripts/lab.sh check`, `. scripts/backend.sh` then `pulumi preview --policy-pack policy` (which
makes the pack's virtualenv on first use), the clean-up, and a class of two learners: its settings,
`scripts/up.sh` handing it to `scripts/classroom.sh`, `scripts/kubeconfigs.sh`, a learner's
kubeconfig, `scripts/recover.sh`, `scripts/classroom.sh reset` and `destroy`. The state is where
`scripts/backend.sh` keeps it for a user logged in to no backend. And `scripts/up.sh` refuses a
cluster older than the oldest release the suite runs, creating nothing."""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.e2e.support import ROOT, Kubectl, node_image_settings, shell
from tests.tree import copy_tree, e2e_versions
from tests.workflows import README, readme_commands, readme_section

pytestmark = pytest.mark.e2e

NAMESPACE = "multi-container-demo"
LEARNERS = ("alice", "bob")


def versions() -> list[str]:
    return e2e_versions()["KUBERNETES_VERSIONS"].split()


def answered(command: str) -> str:
    """The command with `--yes`, as the README says `scripts/up.sh --yes` runs without asking; a
    trailing comment dropped."""
    words = shlex.split(command, comments=True)
    return shlex.join([*words, "--yes"])


def block(word: str) -> list[str]:
    """The lines of the README's first block under the heading mentioning ``word``, as written."""
    section = readme_section(README.read_text(), word)
    assert section is not None, word
    return section.lines


def table_commands(word: str) -> list[str]:
    """The commands of the first column of the table under the heading mentioning ``word``, with
    their optional `[--yes]` given."""
    text = README.read_text()
    start = next(m.end() for m in re.finditer(r"^#+ .*$", text, re.MULTILINE) if word in m[0])
    section = text[start : text.index("\n## ", start)]
    return [m[1].replace("[--yes]", "--yes") for m in re.finditer(r"^\| `(scripts/[^`]+)` \|", section, re.MULTILINE)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory, kubectl: Kubectl) -> Path:
    """A fresh copy of the tree with the repository's .venv, its stack `dev` set to the node's
    images (what a user would set with `pulumi config set` for a registry of their own)."""
    nodes = kubectl.get("nodes")["items"]
    if any(node["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") for node in nodes):
        pytest.skip("the lab's behaviour needs the real node (E2E_NODE=real): kwok runs no containers")
    work = copy_tree(tmp_path_factory.mktemp("readme") / "multi-container-patterns")
    (work / ".venv").symlink_to(ROOT / ".venv")
    project = yaml.safe_load((work / "Pulumi.yaml").read_text())["name"]
    settings = yaml.safe_load((work / "Pulumi.dev.yaml").read_text())
    settings["config"] = {f"{project}:{name}": image for name, image in node_image_settings().items()}
    (work / "Pulumi.dev.yaml").write_text(yaml.safe_dump(settings))
    return work


def environment(**extra: str) -> dict[str, str]:
    """The user's shell: the toolchain on PATH and the cluster in KUBECONFIG, no backend chosen."""
    chosen = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_STACK")
    return {**{k: v for k, v in os.environ.items() if k not in chosen}, **extra}


def sh(clone: Path, script: str, *, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """``script`` in bash in the clone, as typed, in the user's shell unless ``env`` is given."""
    return shell(clone, script, env or environment(), timeout)


def uids(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in kubectl.get("pods", "-n", namespace)["items"]}


class OldServer(BaseHTTPRequestHandler):
    """An API server that says it runs Kubernetes 1.(oldest - 1) and records what it is asked."""

    requests: list[str] = []  # noqa: RUF012 (one server per test)
    version: dict[str, str] = {}  # noqa: RUF012

    def do_GET(self) -> None:
        OldServer.requests.append(f"GET {self.path}")
        body = json.dumps(OldServer.version if self.path.startswith("/version") else {}).encode()
        self.send_response(200 if self.path.startswith("/version") else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        OldServer.requests.append(f"POST {self.path}")
        self.send_response(500)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def old_cluster(tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig whose cluster, on loopback, reports the release before the oldest supported."""
    major, minor = versions()[-1].split(".")[:2]
    OldServer.requests = []
    OldServer.version = {"major": major, "minor": str(int(minor) - 1), "gitVersion": f"v{major}.{int(minor) - 1}.9"}
    server = ThreadingHTTPServer(("127.0.0.1", 0), OldServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "old.kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "old", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
                "users": [{"name": "old", "user": {}}],
                "contexts": [{"name": "old", "context": {"cluster": "old", "user": "old"}}],
                "current-context": "old",
            }
        )
    )
    yield kubeconfig
    server.shutdown()


def test_up_refuses_a_cluster_older_than_the_oldest_release_run_and_creates_nothing(
    clone: Path, old_cluster: Path
) -> None:
    (run,) = readme_commands("Run")
    result = subprocess.run(
        ["bash", "-c", answered(run)],
        cwd=clone,
        env=environment(KUBECONFIG=str(old_cluster)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    oldest = ".".join(versions()[-1].split(".")[:2])
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"runs Kubernetes {OldServer.version['gitVersion']}" in result.stderr
    assert f"needs {oldest} or later" in result.stderr
    assert ", ".join(versions()) in result.stderr
    assert all(request.startswith("GET /version") for request in OldServer.requests), OldServer.requests
    # Not even the stack: nothing in the local backend.
    assert not list((clone / ".pulumi-state").rglob("*.json")), "a refused run created a stack"


def test_the_readme_runs_one_lab_checks_it_previews_it_with_the_policy_pack_and_cleans_up(
    clone: Path, kubectl: Kubectl
) -> None:
    (run,) = readme_commands("Run")
    output = sh(clone, answered(run))
    assert "not logged in to a Pulumi backend" in output  # the state in .pulumi-state, as the README says
    assert (clone / ".pulumi-state").is_dir()
    pods = kubectl.get("pods", "-n", NAMESPACE)["items"]
    assert pods
    assert all(p["status"]["phase"] == "Running" for p in pods), [p["status"]["phase"] for p in pods]

    (check,) = readme_commands("lab")
    checked = sh(clone, check)
    assert "FAIL" not in checked

    # The preview as the README gives it, after what its text says to run first; Pulumi makes the
    # pack's virtualenv (policy/venv) from policy/requirements.txt on first use.
    (preview,) = readme_commands("Preview")
    previewed = sh(clone, f". scripts/backend.sh && pulumi stack select dev && {preview}")
    assert (clone / "policy" / "venv" / "bin" / "python").exists()
    assert re.search(r"\b\d+ unchanged\b", previewed), previewed
    assert not re.search(r"\b\d+ to (create|update|delete|replace)\b", previewed), previewed

    (clean_up,) = block("Clean")
    sh(clone, f"{clean_up} --yes")
    assert not kubectl.exists("namespace", NAMESPACE)


def test_the_readme_runs_a_class_hands_out_kubeconfigs_resets_a_learner_and_destroys_it(
    clone: Path, kubectl: Kubectl
) -> None:
    # The class's block, in one shell after `. scripts/backend.sh` (the README's Preview and Clean up).
    lines = [answered(line) if line.startswith("scripts/up.sh") else line for line in block("Classroom")]
    output = sh(clone, "\n".join(["set -e", ". scripts/backend.sh", *lines]))
    assert "classroom" in output or "alice" in output, output
    for learner in LEARNERS:
        pods = kubectl.get("pods", "-n", f"multi-container-{learner}")["items"]
        assert pods
        assert all(p["status"]["phase"] == "Running" for p in pods), learner
        handout = clone / "handout" / f"{learner}.kubeconfig"
        assert stat.S_IMODE(handout.stat().st_mode) == 0o600
    # "Hand each learner theirs: `KUBECONFIG=alice.kubeconfig kubectl get pods`".
    alice = sh(clone, "kubectl get pods", env=environment(KUBECONFIG=str(clone / "handout" / "alice.kubeconfig")))
    assert "sidecar-logging" in alice

    # Nothing to repair after a run that ended: recover says so and changes nothing.
    before = {learner: uids(kubectl, f"multi-container-{learner}") for learner in LEARNERS}
    sh(clone, "scripts/recover.sh")
    assert {learner: uids(kubectl, f"multi-container-{learner}") for learner in LEARNERS} == before

    commands = {command.split()[1]: command for command in table_commands("Classroom")}
    sh(clone, commands["reset"])
    after = {learner: uids(kubectl, f"multi-container-{learner}") for learner in LEARNERS}
    assert after["bob"] == before["bob"]
    assert set(after["alice"].values()).isdisjoint(before["alice"].values())

    sh(clone, commands["destroy"])
    for learner in LEARNERS:
        assert not kubectl.exists("namespace", f"multi-container-{learner}")
    stacks = sh(clone, ". scripts/backend.sh && pulumi stack ls --json")
    assert [s["name"] for s in json.loads(stacks[stacks.index("[") :])] == ["dev"]
