"""What a check found: per pattern, the commands it ran with what they showed, and a verdict per
expectation."""

from __future__ import annotations

from dataclasses import dataclass, field

from .kubectl import Output


@dataclass(frozen=True)
class Verdict:
    expectation: str
    """What should hold, e.g. "log-shipper ships the app's lines"."""
    passed: bool
    reason: str
    """What was seen: why it holds, or why not."""


def passed(expectation: str, reason: str) -> Verdict:
    return Verdict(expectation, True, reason)


def failed(expectation: str, reason: str) -> Verdict:
    return Verdict(expectation, False, reason)


@dataclass(frozen=True)
class CommandRun:
    command: str
    """The command line as run (and printed), the kube context flags included."""
    shows: str
    """What it should show; for the checker's own commands, why it runs."""
    readme: bool
    """True for the lab's own commands, False for those the checker adds."""
    output: Output | None
    """None when it was not run (see ``note``)."""
    note: str = ""
    """How it was run when not as written (a bounded watch), or why it was skipped."""
    excerpt: tuple[str, ...] | None = None
    """The lines worth showing, when the checker picked them (a JSON object is never shown whole)."""


@dataclass
class PatternResult:
    pattern: str
    title: str
    commands: list[CommandRun] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every expectation held, and there was at least one."""
        return bool(self.verdicts) and all(verdict.passed for verdict in self.verdicts)

    @property
    def failures(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if not verdict.passed]


@dataclass
class LabReport:
    namespace: str
    context: str | None
    overview: CommandRun | None = None
    patterns: list[PatternResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.patterns) and all(result.passed for result in self.patterns)

    @property
    def passed_count(self) -> int:
        return sum(1 for result in self.patterns if result.passed)

    @property
    def failed_count(self) -> int:
        return len(self.patterns) - self.passed_count
