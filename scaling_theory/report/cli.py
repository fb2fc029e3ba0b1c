"""``scaling-theory report FILE [FILE ...] --out DIR``: evaluation logs → a static HTML report + report.json."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``report`` command to the top-level parser."""
    from scaling_theory.cli import add_format_option

    p = subparsers.add_parser(
        "report",
        help="evaluation logs -> one static HTML report (pass@k, extrapolation, saturation, comparison)",
        description="Read evaluation logs (counts, attempts, lm-eval samples, human-eval results, inspect-ai logs, "
        "or a question x attempt matrix) and write DIR/index.html (HTML + PNG + CSV, no server) and DIR/report.json.",
    )
    p.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="log files; several are stacked with a 'file' column"
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="report folder (replaced atomically)")
    p.add_argument("--group-by", nargs="+", default=[], metavar="COL", help="grouping column(s), e.g. model")
    p.add_argument(
        "--budget",
        nargs="+",
        type=float,
        default=None,
        metavar="N",
        help="budgets N of the extrapolation (default: 10x and 100x the largest logged n)",
    )
    add_format_option(p)
    p.add_argument(
        "--eps", type=float, default=1e-4, help="saturation threshold: gain of one more attempt (default 1e-4)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstraps and back-test (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from scaling_theory.report.build import write_report

    command = (
        "scaling-theory " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["report"] else None
    )
    report = write_report(
        args.files,
        args.out,
        group_by=args.group_by,
        budgets=args.budget,
        format=args.format,
        eps=args.eps,
        seed=args.seed,
        progress=not args.no_progress,
        command=command,
    )
    for line in report["inputs"]:
        print(line["read"], file=sys.stderr)
    g = len(report["groups"])
    print(
        f"report: {args.out / 'index.html'} ({g} group{'s' if g != 1 else ''}, extrapolation method "
        f"{report['extrapolation']['method']})"
    )
    return 0
