"""The check as text: each command as it runs with the first lines it showed, each verdict as it is
made, and a summary with one line per pattern ending in ``N passed, N failed``."""

from __future__ import annotations

from typing import TextIO

from .results import CommandRun, LabReport, Verdict

SHOWN_LINES = 8
WIDTH = 120


def _trim(line: str, width: int = WIDTH) -> str:
    line = line.rstrip()
    return line if len(line) <= width else line[: width - 3] + "..."


def output_lines(run: CommandRun, limit: int = SHOWN_LINES) -> list[str]:
    """What to show of a run: the lines the checker picked, else the first lines it printed (and
    its error when it failed), each trimmed."""
    output = run.output
    if output is None:
        return []
    if run.excerpt is not None:
        shown = list(run.excerpt)
        more = 0
    else:
        printed = [line for line in output.stdout.splitlines() if line.strip()]
        shown, more = printed[:limit], max(0, len(printed) - limit)
    lines = [f"  | {_trim(line)}" for line in shown]
    if more:
        lines.append(f"  | ... {more} more line{'s' if more > 1 else ''}")
    errors = [f"  ! {_trim(line)}" for line in output.stderr.splitlines() if line.strip()][:3]
    failed = output.exit_code is not None and output.exit_code != 0
    # A pipeline's exit code is its last command's: kubectl's error may be all there is to show.
    if failed or (errors and not shown and run.excerpt is None):
        lines += errors
    if failed:
        lines.append(f"  ! exit {output.exit_code}")
    elif output.exit_code is None and not run.note:
        lines.append(f"  ! stopped at its timeout after {output.seconds:.0f} s")
    return lines


class TextReporter:
    """Prints the walk as it goes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def _print(self, *lines: str) -> None:
        for line in lines:
            print(line, file=self.stream, flush=True)

    def start(self, namespace: str, context: str | None) -> None:
        where = f"kube context {context}" if context else "the current kube context"
        self._print(
            f"Checking the lab in namespace {namespace} through {where}.",
            "  $ a command of the lab, as the README writes it    + a command the checker adds to judge it",
        )

    def heading(self, title: str) -> None:
        self._print("", f"== {title} ==")

    def part(self, title: str) -> None:
        self._print(f"-- {title} --")

    def command(self, run: CommandRun) -> None:
        self._print(f"{'$' if run.readme else '+'} {run.command}", f"  # {_trim(run.shows, WIDTH - 4)}")
        if run.note:
            self._print(f"  ({_trim(run.note, WIDTH - 4)})")
        self._print(*output_lines(run))

    def verdict(self, verdict: Verdict) -> None:
        self._print(_trim(f"{'PASS' if verdict.passed else 'FAIL'}  {verdict.expectation}: {verdict.reason}", 400))

    def summary(self, report: LabReport) -> None:
        self._print("", "== summary ==", *summary_lines(report))


def summary_lines(report: LabReport) -> list[str]:
    """One line per pattern, then ``N passed, N failed`` (patterns)."""
    width = max((len(result.pattern) for result in report.patterns), default=0)
    lines: list[str] = []
    for result in report.patterns:
        held = sum(1 for verdict in result.verdicts if verdict.passed)
        outcome = "PASS" if result.passed else "FAIL"
        line = f"{result.pattern:<{width}}  {outcome}  {held}/{len(result.verdicts)} expectations"
        if result.failures:
            first = result.failures[0]
            line += f"; {first.expectation}: {first.reason}"
        lines.append(_trim(line, 200))
    lines.append(f"{report.passed_count} passed, {report.failed_count} failed")
    return lines
