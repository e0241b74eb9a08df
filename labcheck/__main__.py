"""``python -m labcheck check``: walk the deployed lab and judge every pattern (scripts/lab.sh)."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence

from .checks import Timing, check
from .commands import DEFAULT_NAMESPACE, EXPERIMENTS, LAB_PATTERNS
from .kubectl import Cluster
from .report import TextReporter

EXIT_USAGE = 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="scripts/lab.sh", description="Check the deployed Multi-Container Patterns lab against your cluster."
    )
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "check",
        help="run each pattern's commands of the README and judge what they show",
        description="Run each pattern's commands of the README against the cluster and judge what they show. "
        "Exit 0 when every selected pattern behaves, 1 otherwise.",
    )
    run.add_argument("--context", metavar="NAME", help="kube context (default: the current one)")
    run.add_argument(
        "--namespace", metavar="NS", default=DEFAULT_NAMESPACE, help="the lab's namespace (default: %(default)s)"
    )
    run.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: kubectl's)")
    run.add_argument(
        "--pattern",
        dest="patterns",
        action="append",
        choices=LAB_PATTERNS,
        metavar="NAME",
        help=f"check only this pattern; repeatable (one of {', '.join(LAB_PATTERNS)}; default: all)",
    )
    run.add_argument(
        "--experiment",
        dest="experiments",
        action="append",
        choices=EXPERIMENTS,
        default=[],
        help="also run this experiment, which changes the cluster: sidecar-restart kills the native sidecar "
        "(experiment 1) and checks it comes back",
    )
    run.add_argument(
        "--wait",
        metavar="SECONDS",
        type=float,
        default=Timing().settle_seconds,
        help="how long a pod may take to settle (default: %(default).0f)",
    )
    return top


def main(argv: Sequence[str] | None = None, cluster: Cluster | None = None) -> int:
    arguments = parser().parse_args(argv)
    patterns: list[str] = arguments.patterns or list(LAB_PATTERNS)
    experiments: list[str] = arguments.experiments
    if experiments and "native-sidecar" not in patterns:
        print("error: --experiment uses the native-sidecar pattern: add --pattern native-sidecar", file=sys.stderr)
        return EXIT_USAGE
    if cluster is None and shutil.which("kubectl") is None:
        print("error: kubectl is not installed; get it at https://kubernetes.io/docs/tasks/tools/", file=sys.stderr)
        return EXIT_USAGE
    reporter = TextReporter(sys.stdout)
    reporter.start(arguments.namespace, arguments.context)
    report = check(
        patterns,
        namespace=arguments.namespace,
        context=arguments.context,
        kubeconfig=arguments.kubeconfig,
        experiments=experiments,
        timing=Timing(settle_seconds=arguments.wait),
        reporter=reporter,
        cluster=cluster,
    )
    reporter.summary(report)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
