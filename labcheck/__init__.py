"""Checks the deployed lab the way a learner walks it: runs each pattern's kubectl commands from the
README against the cluster and judges what they show.

    from labcheck import check
    report = check(["sidecar"], context="kind-lab")
    report.passed, [(r.pattern, r.passed, r.verdicts) for r in report.patterns]

From a shell: ``scripts/lab.sh check`` (see ``python -m labcheck check --help``).
"""

from .checks import Reporter, SilentReporter, Timing, check
from .commands import COMMANDS, DEFAULT_NAMESPACE, EXPERIMENTS, LAB_PATTERNS
from .kubectl import Cluster, Output
from .results import CommandRun, LabReport, PatternResult, Verdict

__all__ = [
    "COMMANDS",
    "DEFAULT_NAMESPACE",
    "EXPERIMENTS",
    "LAB_PATTERNS",
    "Cluster",
    "CommandRun",
    "LabReport",
    "Output",
    "PatternResult",
    "Reporter",
    "SilentReporter",
    "Timing",
    "Verdict",
    "check",
]
