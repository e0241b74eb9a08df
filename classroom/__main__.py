"""``python -m classroom [--stack NAME] [--parallel N] COMMAND``, in the project's directory
(scripts/classroom.sh): a classroom's labs, one stack per learner (see the package's docstring).

  preview              what `up` would change, learner by learner
  up [--yes]           brings every learner's stack up to date and takes away those of learners
                       no longer listed; without --yes it previews first and asks
  reset LEARNER        destroys and rebuilds one learner's lab; no one else's stack is touched
  destroy [--yes]      destroys every learner's lab and removes their stacks
  kubeconfigs DIR      writes DIR/<learner>.kubeconfig for each learner, readable by you only
  recover              repairs every learner's stack after a killed run (scripts/recover.sh each)

Learners run side by side, N at a time. One learner's failure does not stop the others: each line
says how a learner's run ended, and the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pulumi import automation as auto

from recovery import clear_interrupted_writes, file_backend_root, interrupted_writes, stacks_in

from . import (
    ClassError,
    learner_of,
    learner_settings,
    learner_stack,
    learners_of,
    plan,
    run_report,
    secret_settings,
    settings_update,
    transient_failure,
)

PROJECT = yaml.safe_load(Path("Pulumi.yaml").read_text())["name"] if Path("Pulumi.yaml").exists() else ""
# `up` and `preview` keep the cores busy (each learner starts the CLI, Python and the providers);
# `destroy` mostly waits for namespaces to go, so more learners go at once.
CORES = os.cpu_count() or 2
DEFAULT_PARALLEL = {"preview": 2 * CORES, "up": 2 * CORES, "destroy": 16 * CORES}
LAST_LINES = 12
# A learner's run that failed on the API server's load alone (classroom.TRANSIENT) runs again, this
# many times at most, after a pause that grows with each try.
RETRIES = 3
RETRY_PAUSE_SECONDS = 5.0
# A learner's destroy writes its state once, at the end, instead of after every deletion: a
# destroy killed midway then leaves the state as it was, every object still recorded, so
# `recover` (the lock) and the next destroy (deleting what is left; what is gone already counts as
# deleted) converge with nothing orphaned. For `up` the checkpoints stay: an object created but
# not yet recorded would be orphaned.
DESTROY_ENVIRONMENT = {"PULUMI_SKIP_CHECKPOINTS": "true"}


@dataclass
class Outcome:
    """How one learner's run ended."""

    learner: str
    action: str
    ok: bool
    seconds: float
    changes: dict[str, int] = field(default_factory=dict)
    message: str = ""

    def line(self) -> str:
        changes = " ".join(f"{op} {count}" for op, count in sorted(self.changes.items()) if count) or "no changes"
        status = "ok" if self.ok else "FAILED"
        text = f"  {self.learner:<20} {self.action:<8} {status:<7} {changes} ({self.seconds:.1f} s)"
        if not self.ok:
            text += "\n" + "\n".join(f"      {line}" for line in self.message.strip().splitlines()[-LAST_LINES:])
        return text


class Classroom:
    """The class's stack and its learners' stacks in one workspace (the project's directory)."""

    def __init__(self, class_stack: str, parallel: int | None) -> None:
        if not PROJECT:
            raise ClassError("run this in the project's directory (where Pulumi.yaml is)")
        self.workspace = auto.LocalWorkspace(work_dir=str(Path.cwd()))
        self.class_stack = class_stack
        self.parallel = parallel
        self.print_lock = threading.Lock()
        try:
            stacks = {summary.name for summary in self.workspace.list_stacks()}
        except auto.CommandError as error:
            cut_short = stacks_with_interrupted_writes(class_stack)
            cause = (
                f"a run killed while it wrote their state cut it short: {', '.join(cut_short)}"
                if cut_short
                else f"{error_line(error)}; a run killed while it wrote a stack's state leaves it so"
            )
            raise ClassError(
                f"the backend's stacks cannot be read ({cause}): scripts/recover.sh repairs the class's stacks"
            ) from None
        if class_stack not in stacks:
            raise ClassError(f"no stack '{class_stack}' in this backend: create it with scripts/up.sh first")
        self.existing = stacks
        self.config = self.workspace.get_all_config(class_stack)
        path = settings_file(class_stack)
        document = yaml.safe_load(path.read_text()) if path.exists() else None
        self.class_settings = (document or {}).get("config") or {}
        self.secrets = secret_settings(self.class_settings)
        self.learners = learners_of(PROJECT, self.config)

    def stack_of(self, learner: str) -> str:
        return learner_stack(self.class_stack, learner)

    def say(self, text: str) -> None:
        with self.print_lock:
            print(text, flush=True)

    # --- one learner ---------------------------------------------------------------------

    def prepare(self, learner: str) -> None:
        """Creates the learner's stack when missing and gives it the class's settings."""
        stack = self.stack_of(learner)
        if stack not in self.existing:
            # --no-select: the user's current stack stays what it was.
            pulumi("stack", "init", stack, "--no-select", check=True)
            self.existing.add(stack)
        # The settings file is written here, as `pulumi config set` would write it (a call of the
        # CLI per learner costs more than the learner's own state writes). Secrets go through the
        # CLI, which encrypts them for the learner's stack.
        path = settings_file(stack)
        document = yaml.safe_load(path.read_text()) if path.exists() else None
        document = document if isinstance(document, dict) else {}
        config = settings_update(
            document.get("config") or {}, learner_settings(PROJECT, self.class_settings, learner), self.secrets
        )
        if config is not None:
            path.write_text(yaml.safe_dump({**document, "config": config}, sort_keys=False))
        if self.secrets:
            self.workspace.set_all_config(stack, {key: self.config[key] for key in self.secrets})

    def operation(
        self, learner: str, action: str, *arguments: str, prepare: bool = True, env: Mapping[str, str] | None = None
    ) -> Outcome:
        """One learner's `pulumi` run, run again while it fails on the API server's load alone."""
        start = time.perf_counter()
        outcome, transient = self.run_once(learner, action, arguments, prepare=prepare, env=env, start=start)
        for attempt in range(1, RETRIES + 1):
            if transient is None:
                break
            self.say_retry(learner, action, attempt, transient)
            outcome, transient = self.run_once(learner, action, arguments, prepare=prepare, env=env, start=start)
        self.say(outcome.line())
        return outcome

    def run_once(
        self,
        learner: str,
        action: str,
        arguments: Sequence[str],
        *,
        prepare: bool,
        env: Mapping[str, str] | None,
        start: float,
    ) -> tuple[Outcome, str | None]:
        """How the run ended, and its transient failure when it failed on nothing else."""
        try:
            if prepare:
                self.prepare(learner)
            result = pulumi(*arguments, "--json", "--stack", self.stack_of(learner), env=env)
        except (subprocess.CalledProcessError, auto.CommandError) as error:
            outcome = Outcome(learner, action, False, time.perf_counter() - start, message=str(error))
            return outcome, transient_failure([str(error)])
        changes, errors = run_report(result.stdout)
        ok = result.returncode == 0
        outcome = Outcome(
            learner,
            action,
            ok,
            time.perf_counter() - start,
            changes=changes,
            message="" if ok else "\n".join(errors) or result.stderr or result.stdout[-2000:],
        )
        return outcome, None if ok else transient_failure(errors or [result.stderr])

    def say_retry(self, learner: str, action: str, attempt: int, failure: str) -> None:
        """Says a learner's run is tried again, and why, then waits a little longer each time."""
        self.say(f"  {learner:<20} {action:<8} retry {attempt} of {RETRIES}: {failure}")
        time.sleep(RETRY_PAUSE_SECONDS * attempt)

    def up_one(self, learner: str) -> Outcome:
        return self.operation(learner, "up", "up", "--yes", "--skip-preview")

    def preview_one(self, learner: str) -> Outcome:
        return self.operation(learner, "preview", "preview")

    def destroy_one(self, learner: str, *, remove: bool) -> Outcome:
        # --remove: the stack and its settings file go in the same run, once its resources are gone.
        arguments = ("destroy", "--yes", "--skip-preview", *(("--remove",) if remove else ()))
        outcome = self.operation(learner, "destroy", *arguments, prepare=False, env=DESTROY_ENVIRONMENT)
        if outcome.ok and remove:
            self.existing.discard(self.stack_of(learner))
        return outcome

    def preview_departure(self, learner: str) -> Outcome:
        return self.operation(learner, "destroy", "destroy", "--preview-only", prepare=False)

    # --- the class -----------------------------------------------------------------------

    def each(self, action: str, learners: Sequence[str], run: Callable[[str], Outcome]) -> list[Outcome]:
        if not learners:
            return []
        workers = self.parallel or DEFAULT_PARALLEL[action]
        with ThreadPoolExecutor(max_workers=min(workers, len(learners))) as pool:
            return list(pool.map(run, learners))

    def departed(self) -> tuple[str, ...]:
        return plan(self.class_stack, self.learners, self.existing).departed

    def each_departed(self, action: str, what: str, run: Callable[[str], Outcome]) -> list[Outcome]:
        """``run`` for each learner whose stack is there but who is no longer in the class."""
        departed = self.departed()
        if departed:
            self.say(f"no longer in the class, {what}: {', '.join(departed)}")
        return self.each(action, departed, run)

    def preview(self) -> list[Outcome]:
        self.say(f"class {self.class_stack}: previewing {len(self.learners)} learner(s)")
        outcomes = self.each("preview", self.learners, self.preview_one)
        return outcomes + self.each_departed("preview", "their labs would be destroyed", self.preview_departure)

    def up(self) -> list[Outcome]:
        self.say(f"class {self.class_stack}: {len(self.learners)} learner(s), {self.parallel_of('up')} at a time")
        outcomes = self.each("up", self.learners, self.up_one)
        return outcomes + self.each_departed(
            "destroy", "their labs are destroyed", lambda learner: self.destroy_one(learner, remove=True)
        )

    def reset(self, learner: str) -> list[Outcome]:
        if learner not in self.learners:
            raise ClassError(f"'{learner}' is not in the class ({', '.join(self.learners)})")
        self.say(f"class {self.class_stack}: resetting {learner}'s lab (destroy, then up)")
        outcome = self.destroy_one(learner, remove=False) if self.stack_of(learner) in self.existing else None
        if outcome is not None and not outcome.ok:
            return [outcome]
        return [outcome, self.up_one(learner)] if outcome else [self.up_one(learner)]

    def destroy(self) -> list[Outcome]:
        everyone = sorted({*self.learners, *self.departed()})
        present = [learner for learner in everyone if self.stack_of(learner) in self.existing]
        self.say(f"class {self.class_stack}: destroying {len(present)} learner(s)' labs")
        return self.each("destroy", present, lambda learner: self.destroy_one(learner, remove=True))

    def recover(self) -> list[Outcome]:
        everyone = sorted({*self.learners, *self.departed()})
        present = [learner for learner in everyone if self.stack_of(learner) in self.existing]
        outcomes = []
        for learner in present:
            start = time.perf_counter()
            self.say(f"==> {learner}")
            result = subprocess.run([sys.executable, "-m", "recovery", "--stack", self.stack_of(learner)], check=False)
            outcomes.append(Outcome(learner, "recover", result.returncode == 0, time.perf_counter() - start))
        return outcomes

    def kubeconfigs(self, directory: Path) -> list[Outcome]:
        os.umask(0o077)
        directory.mkdir(parents=True, exist_ok=True)
        outcomes = []
        for learner in self.learners:
            start = time.perf_counter()
            stack = self.stack_of(learner)
            outputs = self.workspace.stack_outputs(stack) if stack in self.existing else {}
            if "learner_kubeconfig" not in outputs:
                outcomes.append(
                    Outcome(learner, "kubeconfig", False, time.perf_counter() - start, message="no lab yet: run up")
                )
                continue
            path = directory / f"{learner}.kubeconfig"
            path.write_text(str(outputs["learner_kubeconfig"].value))
            print(path, flush=True)
            outcomes.append(Outcome(learner, "kubeconfig", True, time.perf_counter() - start))
        return outcomes

    def parallel_of(self, action: str) -> int:
        return self.parallel or DEFAULT_PARALLEL[action]


def error_line(error: auto.CommandError) -> str:
    """The last line the CLI printed to stderr (the error), from the Automation API's error text,
    which lists the command's code, stdout and stderr."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    last = lines[-1] if lines else "no output"
    return last.removeprefix("stderr:").strip()


def file_backend() -> Path | None:
    """The directory of the backend the CLI is logged in to, when it is a file backend."""
    whoami = pulumi("whoami", "--json")
    return file_backend_root(json.loads(whoami.stdout).get("url", "")) if whoami.returncode == 0 else None


def learner_stacks_in(root: Path, class_stack: str) -> list[str]:
    """The learners' stacks a file backend holds, read from its files: what a stack whose state a
    kill cut short leaves the CLI unable to list."""
    return [stack for stack in stacks_in(root, PROJECT) if learner_of(class_stack, stack) is not None]


def stacks_with_interrupted_writes(class_stack: str) -> list[str]:
    """The learners' stacks a run killed while it wrote their state left unreadable."""
    root = file_backend()
    if root is None:
        return []
    return [stack for stack in learner_stacks_in(root, class_stack) if interrupted_writes(root, PROJECT, stack)]


def clear_interrupted_writes_of_class(class_stack: str) -> None:
    """A learner's stack whose state write a kill cut short cannot be read, nor the backend's stacks
    listed: on a file backend, clears what such writes left behind first, for every learner's stack
    no running process holds (the rest of each learner's repair is scripts/recover.sh's)."""
    root = file_backend()
    if root is None:
        return
    for stack in learner_stacks_in(root, class_stack):
        for leftover in clear_interrupted_writes(root, PROJECT, stack):
            print(f"==> {stack}: removed {leftover.name}, left by a run killed while it wrote the stack's state")


def settings_file(stack: str) -> Path:
    """A stack's settings file in the project's directory (``Pulumi.dev.alice.yaml``)."""
    short = stack.rsplit("/", 1)[-1]
    return next(
        (path for ext in (".yaml", ".yml") if (path := Path(f"Pulumi.{short}{ext}")).exists()),
        Path(f"Pulumi.{short}.yaml"),
    )


def pulumi(
    *arguments: str, check: bool = False, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The plain CLI: each learner's `up` is one `pulumi up`, with nothing before or after it (the
    Automation API's `Stack.up()` reads the outputs and the history again, about a quarter more
    per learner)."""
    return subprocess.run(
        ["pulumi", *arguments, "--non-interactive"],
        env={**os.environ, **env} if env else None,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=check,
    )


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise ClassError("--yes must be given when the input is not a terminal")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/classroom.sh", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stack", default=os.environ.get("PULUMI_STACK", "dev"), help="the class's stack")
    parser.add_argument("--parallel", type=int, help="learners at once (default: by command, see --help)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("preview")
    for name in ("up", "destroy"):
        commands.add_parser(name).add_argument("--yes", action="store_true", help="do not ask first")
    reset = commands.add_parser("reset")
    reset.add_argument("learner")
    reset.add_argument("--yes", action="store_true")
    commands.add_parser("kubeconfigs").add_argument("directory", type=Path)
    commands.add_parser("recover")
    args = parser.parse_args(argv)
    if args.parallel is not None and args.parallel < 1:
        parser.error("--parallel must be at least 1")

    try:
        if args.command == "recover":
            clear_interrupted_writes_of_class(args.stack)
        classroom = Classroom(args.stack, args.parallel)
        if args.command == "preview":
            outcomes = classroom.preview()
        elif args.command == "up":
            if not args.yes:
                previewed = classroom.preview()
                if not all(o.ok for o in previewed) or not confirm("Do you want to perform this update?"):
                    return 1
            outcomes = classroom.up()
        elif args.command == "reset":
            if not args.yes and not confirm(f"Destroy and rebuild {args.learner}'s lab?"):
                return 1
            outcomes = classroom.reset(args.learner)
        elif args.command == "destroy":
            if not args.yes and not confirm(f"Destroy the labs of class {args.stack}?"):
                return 1
            outcomes = classroom.destroy()
        elif args.command == "kubeconfigs":
            outcomes = classroom.kubeconfigs(args.directory)
        else:
            outcomes = classroom.recover()
    except ClassError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = [o.learner for o in outcomes if not o.ok]
    if failed:
        print(f"failed for {len(failed)} learner(s): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
