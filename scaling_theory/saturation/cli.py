"""``scaling-theory saturation point|fit|verifier|budget``: parse, call the library, print."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    sat = subparsers.add_parser(
        "saturation",
        help="saturation of test-time scaling: N*, verifier ceilings, budgets",
        description="Where more test-time compute stops paying: TTSPM saturation points, fits to logged "
        "attempts, imperfect-verifier ceilings and optimal sample counts, and coverage budgets.",
    )
    sub = sat.add_subparsers(dest="saturation_command", metavar="VERB", parser_class=type(sat))
    sat.set_defaults(func=lambda args: _usage(sat))

    p = sub.add_parser(
        "point",
        help="saturation point N* = first N with p(1-p)^N < eps (parallel and sequential)",
        description="N* = min{N >= 0 : (1-p0) p (1-p)^N < eps*cost}: the number of samples (parallel) or "
        "rethinking rounds (sequential) whose marginal gain is still at least eps per unit cost.",
    )
    p.add_argument(
        "--p",
        type=float,
        nargs="+",
        required=True,
        metavar="P",
        help="per-attempt success probability p_sample or p_rethink",
    )
    p.add_argument("--eps", type=float, required=True, help="threshold on the marginal gain per unit of budget (> 0)")
    p.add_argument("--cost", type=float, default=1.0, help="cost of one unit of budget (default 1)")
    p.add_argument("--p0", type=float, default=0.0, help="round-0 accuracy of the sequential model (default 0)")
    p.add_argument(
        "--threshold",
        choices=("lt", "le"),
        default="lt",
        help="gain < eps (lt, default) or <= eps (le; the ceil formula)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_point)

    f = sub.add_parser(
        "fit",
        help="saturation summary of logged counts / attempts (sequential if a 'round' column is present)",
        description="Per group: per-question p-hat, homogeneous N*, Beta-binomial fit and aggregate N*, the "
        "saturation point observed on the data's own pass@N curve; for sequential logs (column 'round') "
        "p0, p_rethink, p_flip and the chain's N*.",
    )
    f.add_argument(
        "file", help="counts (problem, n, k) or attempts (problem, attempt, correct[, round]) as CSV / JSONL / parquet"
    )
    f.add_argument("--eps", type=float, required=True, help="threshold on the marginal gain per unit of budget (> 0)")
    f.add_argument("--group-by", nargs="+", default=[], metavar="COL", help="grouping columns (e.g. model)")
    f.add_argument("--cost", type=float, default=1.0, help="cost of one unit of budget (default 1)")
    f.add_argument("--threshold", choices=("lt", "le"), default="lt")
    f.add_argument("--json", action="store_true", help="print JSON")
    from scaling_theory.cli import add_format_option

    add_format_option(f)
    f.set_defaults(func=_fit)

    ver = sub.add_parser(
        "verifier",
        help="imperfect verifier: accuracy ceiling and optimal number of resamples",
        description="Resample until the verifier accepts, up to K attempts. Per task type: ceiling "
        "P(correct | accepted) = c r / (c r + (1-s)(1-r)); U(K) with a false-positive cost; K_opt (0 = abstain).",
    )
    ver.add_argument("--r", type=float, nargs="+", required=True, metavar="R", help="P(correct sample) per task type")
    ver.add_argument("--soundness", type=float, required=True, help="P(verifier rejects | incorrect)")
    ver.add_argument("--completeness", type=float, default=1.0, help="P(verifier accepts | correct) (default 1)")
    ver.add_argument(
        "--weights", type=float, nargs="+", metavar="W", help="fraction of tasks of each type (default uniform)"
    )
    ver.add_argument(
        "--fp-cost",
        type=float,
        default=1.0,
        help="cost of a false positive, in units of a correct answer's value (default 1)",
    )
    ver.add_argument("--kmax", type=int, default=800, help="largest K considered (default 800)")
    ver.add_argument("--json", action="store_true", help="print JSON")
    ver.set_defaults(func=_verifier)

    b = sub.add_parser(
        "budget",
        help="samples needed for a coverage target (optionally with confidence) and the gain from doubling",
        description="Smallest N with Hit@N >= target for a known p, a Beta(alpha, beta) population, or with "
        "confidence from observed counts k of n (posterior lower bound on p).",
    )
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--p", type=float, nargs="+", metavar="P", help="per-attempt success probability")
    src.add_argument(
        "--beta-params", type=float, nargs=2, metavar=("ALPHA", "BETA"), help="p ~ Beta(alpha, beta) across questions"
    )
    src.add_argument("--counts", type=int, nargs=2, metavar=("K", "N"), help="k successes observed in n attempts")
    b.add_argument("--target", type=float, required=True, help="coverage target in [0, 1)")
    b.add_argument("--confidence", type=float, default=0.9, help="posterior confidence for --counts (default 0.9)")
    b.add_argument("--json", action="store_true", help="print JSON")
    b.set_defaults(func=_budget)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _print(rows: list[dict], obj: dict, as_json: bool, header: str | None = None) -> None:
    from scaling_theory.cli import print_json
    from scaling_theory.tables import format_table

    if as_json:
        print_json(obj)
        return
    if header:
        print(header)
    print(format_table(rows))


def _point(args: argparse.Namespace) -> int:
    from scaling_theory.saturation.tables import saturation_points

    res = saturation_points(args.p, args.eps, cost=args.cost, p0=args.p0, threshold=args.threshold)
    rows = res.rows()
    obj = {"eps": args.eps, "cost": args.cost, "p0": args.p0, "threshold": args.threshold, "rows": rows}
    rel = "<" if args.threshold == "lt" else "<="
    _print(
        rows,
        obj,
        args.json,
        f"eps={args.eps:g} cost={args.cost:g} p0={args.p0:g} (N* = first N with gain {rel} eps*cost)",
    )
    return 0


def _fit(args: argparse.Namespace) -> int:
    from scaling_theory.saturation.report import summarise_file
    from scaling_theory.saturation.tables import as_count

    out = summarise_file(args.file, args.eps, args.group_by, args.cost, args.threshold, format=args.format)
    groups = [
        {k: (as_count(v) if k.startswith("n_star") and v is not None else v) for k, v in g.items()}
        for g in out["groups"]
    ]
    obj = {
        "file": args.file,
        "eps": args.eps,
        "cost": args.cost,
        "threshold": args.threshold,
        "mode": out["mode"],
        "groups": groups,
    }
    if args.json:
        _print([], obj, True)
        return 0
    keys = list(args.group_by)
    if out["mode"] == "counts":
        cols = keys + [
            "problems",
            "pass_at_1",
            "n_star_homogeneous",
            "n_star_aggregate",
            "n_star_observed",
            "n_star_per_question_median",
            "alpha",
            "beta",
        ]
    else:
        cols = keys + ["chains", "p0", "p_rethink", "p_flip", "limit", "improves", "n_star"]
    from scaling_theory.tables import format_table

    print(f"{args.file}: {out['mode']} log, eps={args.eps:g} (all fields: --json)")
    print(format_table(groups, columns=cols))
    return 0


def _verifier(args: argparse.Namespace) -> int:
    from scaling_theory.saturation.tables import verifier_summary

    res = verifier_summary(
        args.r,
        args.soundness,
        completeness=args.completeness,
        weights=args.weights,
        fp_cost=args.fp_cost,
        kmax=args.kmax,
    )
    types, summary = res.type_rows(), res.summary()
    obj = {**summary, "types": types}
    if args.json:
        _print([], obj, True)
        return 0
    from scaling_theory.tables import format_table

    print(format_table(types))
    print()
    print(format_table([{"quantity": k, "value": v} for k, v in summary.items()]))
    return 0


def _budget(args: argparse.Namespace) -> int:
    from scaling_theory.saturation.tables import coverage_budget

    res = coverage_budget(
        args.target,
        p=args.p,
        beta_params=tuple(args.beta_params) if args.beta_params is not None else None,
        counts=tuple(args.counts) if args.counts is not None else None,
        confidence=args.confidence,
    )
    rows = res.rows()
    _print(rows, {"source": res.source, "rows": rows}, args.json)
    return 0
