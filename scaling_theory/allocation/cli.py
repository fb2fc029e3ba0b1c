"""``scaling-theory allocate`` and ``scaling-theory frontier``: parse, call :mod:`scaling_theory.allocation`, print.

* ``allocate FILE --budget B [B ...] [--pilot n0] [--policy ...] [--objective coverage|estimate]
  [--cost-column COL] [--group-by COL] [--seed S] [--json]`` — ``--budget`` is the total extra spend of a group
  (attempts, or cost units with ``--cost-column``). ``--json``: one object per (group, budget) with ``group,
  budget, policy, expected_coverage, uniform_expected_coverage, allocation: [{problem, pilot_n, pilot_k, extra}]``
  (+ ``realised_coverage`` {policy: value} with ``--pilot``; + ``posterior_sd`` for ``--objective estimate``).
* ``frontier FILE --model-column COL (--cost-column COL | --cost-model dense|kinetics) [--budget C ...] [--json]``
  — ``--budget`` is the average spend per problem in cost units. ``--json``: one object per budget
  ``{budget, model, samples_per_problem, coverage, lower, upper}`` (+ ``p_best``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``allocate`` and ``frontier`` commands to the top-level parser."""
    from scaling_theory.allocation.names import POLICIES

    p = subparsers.add_parser(
        "allocate",
        help="split a budget of extra attempts (or FLOPs) across problems from pilot counts",
        description="Compute-optimal allocation of extra attempts across problems (spec difficulty_and_allocation §4).",
    )
    p.add_argument("file", type=Path, help="counts (problem, n, k) or attempts table")
    p.add_argument(
        "--budget",
        nargs="+",
        type=float,
        required=True,
        metavar="B",
        help="total extra spend per group (attempts, or cost units with --cost-column)",
    )
    p.add_argument(
        "--pilot",
        type=int,
        default=None,
        metavar="n0",
        help="back-test: sub-sample a pilot of n0 attempts per problem, score on the rest",
    )
    p.add_argument("--policy", choices=POLICIES, default="greedy")
    p.add_argument("--objective", choices=("coverage", "estimate"), default="coverage")
    p.add_argument(
        "--target",
        type=float,
        default=None,
        metavar="N",
        help="estimate objective: the N of pass@N (default: the median logged n)",
    )
    p.add_argument(
        "--cost-column", default=None, metavar="COL", help="per-attempt cost column (e.g. flops_per_attempt)"
    )
    p.add_argument("--group-by", nargs="+", default=[], metavar="COL")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_allocate)

    q = subparsers.add_parser(
        "frontier",
        help="coverage-vs-compute frontier across models: the optimal (model, samples) per budget",
        description="Compute-optimal model and samples per problem at each average spend per problem (spec §5).",
    )
    q.add_argument("file", type=Path, help="counts table with a model column")
    q.add_argument("--model-column", required=True, metavar="COL")
    q.add_argument("--cost-column", default=None, metavar="COL", help="per-attempt cost column")
    q.add_argument(
        "--cost-model",
        choices=("dense", "kinetics"),
        default=None,
        help="cost from Pythia shapes instead of a column (model names must contain the Pythia size)",
    )
    q.add_argument("--prompt-tokens", type=float, default=512.0, help="cost model: prompt tokens (default 512)")
    q.add_argument("--output-tokens", type=float, default=256.0, help="cost model: generated tokens (default 256)")
    q.add_argument(
        "--budget",
        nargs="+",
        type=float,
        default=None,
        metavar="C",
        help="average spend per problem (default: 16 log-spaced budgets over the models' range)",
    )
    q.add_argument("--bootstrap", type=int, default=200)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_frontier)


def _stack(df, group_by, cost_column):
    """(groups, problems, n, k, mask, cost) padded to (G, K)."""
    import numpy as np

    from scaling_theory.io import numeric_column, split_groups

    if cost_column is not None:
        numeric_column(df, cost_column, positive=True)  # one clear line for zeros, negatives, NaN
    parts = split_groups(df, list(group_by))
    size = max(len(s) for _, s in parts)
    G = len(parts)
    n, k, mask = np.ones((G, size)), np.zeros((G, size)), np.zeros((G, size))
    cost = np.ones((G, size))
    problems = []
    for i, (_, sub) in enumerate(parts):  # one row per group
        L = len(sub)
        n[i, :L], k[i, :L], mask[i, :L] = sub["n"].to_numpy(float), sub["k"].to_numpy(float), 1.0
        if cost_column is not None:
            cost[i, :L] = sub[cost_column].to_numpy(float)
        problems.append(sub["problem"].tolist())
    return [g for g, _ in parts], problems, n, k, mask, (cost if cost_column is not None else None)


def _allocate(args: argparse.Namespace) -> int:
    import numpy as np

    from scaling_theory.allocation.api import allocate
    from scaling_theory.cli import print_json
    from scaling_theory.errors import InputError
    from scaling_theory.io import read_counts
    from scaling_theory.tables import format_table

    for b in args.budget:
        if not np.isfinite(b) or b < 0:
            raise InputError(f"--budget must be finite and ≥ 0, got {b:g}")
    df = read_counts(args.file, args.group_by)
    groups, problems, n, k, mask, cost = _stack(df, args.group_by, args.cost_column)
    plan = allocate(
        n,
        k,
        args.budget,
        mask=mask,
        policy=args.policy,
        objective=args.objective,
        cost=cost,
        pilot=args.pilot,
        seed=args.seed,
        target_n=args.target,
    )
    out, rows = [], []
    for g, grp in enumerate(groups):
        for j, b in enumerate(plan.budgets):
            extra = plan.extra[g, j]
            alloc = [
                {
                    "problem": p,
                    "pilot_n": int(plan.pilot_n[g, i]),
                    "pilot_k": int(plan.pilot_k[g, i]),
                    "extra": int(extra[i]) if float(extra[i]).is_integer() else round(float(extra[i]), 3),
                }
                for i, p in enumerate(problems[g])
            ]
            obj = {
                "group": grp,
                "budget": float(b),
                "policy": plan.policy,
                "expected_coverage": float(plan.expected_coverage[g, j]),
                "uniform_expected_coverage": float(plan.uniform_expected_coverage[g, j]),
                "allocation": alloc,
            }
            row = {
                **grp,
                "budget": float(b),
                "policy": plan.policy,
                "expected": obj["expected_coverage"],
                "uniform_expected": obj["uniform_expected_coverage"],
                "problems_given_extra": int(np.sum(extra[: len(problems[g])] > 0)),
                "max_extra": float(np.max(extra[: len(problems[g])])),
            }
            if plan.posterior_sd is not None:
                obj["posterior_sd"] = float(plan.posterior_sd[g, j])
                row["posterior_sd"] = obj["posterior_sd"]
            if plan.realised is not None:
                obj["realised_coverage"] = {p: float(v[g, j]) for p, v in plan.realised.items()}
                row.update({f"realised_{p}": float(v[g, j]) for p, v in plan.realised.items()})
            out.append(obj)
            rows.append(row)
    if args.json:
        print_json(out)
    else:
        print(format_table(rows))
        if plan.realised is not None:
            print(
                f"back-test: pilot of {args.pilot} attempts per problem (seed {args.seed}); realised_* = exact expected "
                "coverage on the held-out attempts (sequential: mean of 32 random orders)"
            )
    return 0


def _frontier(args: argparse.Namespace) -> int:
    import numpy as np

    from scaling_theory.allocation import costs
    from scaling_theory.allocation.frontier import frontier
    from scaling_theory.cli import print_json
    from scaling_theory.errors import InputError
    from scaling_theory.io import read_counts
    from scaling_theory.tables import format_table

    if (args.cost_column is None) == (args.cost_model is None):
        raise InputError("frontier needs exactly one of --cost-column COL or --cost-model dense|kinetics")
    if args.budget is not None:
        for b in args.budget:
            if not np.isfinite(b) or b <= 0:
                raise InputError(f"--budget must be finite and > 0, got {b:g}")
    df = read_counts(args.file, [args.model_column])
    groups, _, n, k, mask, cost = _stack(df, [args.model_column], args.cost_column)
    models = [str(g[args.model_column]) for g in groups]
    if len(models) < 2:
        raise InputError(f"frontier needs at least two models in column '{args.model_column}', found {len(models)}")
    cm = None
    if args.cost_model is not None:
        cm = costs.model_costs(models, args.cost_model, args.prompt_tokens, args.output_tokens)
        one = np.array([cm[m](1) for m in models])
        top = np.array([cm[m](n[j][mask[j] > 0].max()) for j, m in enumerate(models)])
    else:
        mean_c = (cost * mask).sum(1) / mask.sum(1)
        one, top = mean_c, mean_c * np.array([n[j][mask[j] > 0].max() for j in range(len(models))])
    budgets = args.budget or np.geomspace(one.min(), top.max(), 16).tolist()
    fr = frontier(
        n, k, mask, models, budgets, cost_per_attempt=cost, cost_models=cm, bootstrap=args.bootstrap, seed=args.seed
    )
    rows = fr.rows()
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows))
        cross = fr.crossovers()
        if cross:
            print("crossovers (the optimal model changes at):")
            print(format_table(cross))
    return 0
