"""``scaling-theory allocate`` and ``scaling-theory frontier``: parse, call :mod:`scaling_theory.allocation`, print.

* ``allocate FILE --budget B [B ...] [--pilot n0] [--policy ...] [--objective coverage|estimate]
  [--difficulty beta|npmle|gmodel|...] [--cost-column COL] [--group-by COL] [--seed S] [--json]`` — ``--budget`` is the total extra spend of a group
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
    p.add_argument(
        "--difficulty",
        default="beta",
        metavar="MODEL",
        help="difficulty model of the posteriors: beta (closed form, default) or a passk.mixing family "
        "(beta_zi, scaled_beta, kumaraswamy, beta_mix2, beta_mix3, npmle, gmodel, ...: grid posteriors)",
    )
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


def _allocate(args: argparse.Namespace) -> int:
    import jax
    import numpy as np

    from scaling_theory.allocation.api import allocate
    from scaling_theory.allocation.tables import plan_records, stack_counts
    from scaling_theory.cli import print_json
    from scaling_theory.errors import InputError
    from scaling_theory.io import read_counts
    from scaling_theory.tables import format_table

    for b in args.budget:
        if not np.isfinite(b) or b < 0:
            raise InputError(f"--budget must be finite and ≥ 0, got {b:g}")
    df = read_counts(args.file, args.group_by)
    groups, problems, n, k, mask, cost = stack_counts(df, args.group_by, args.cost_column)
    plan = allocate(
        jax.random.key(args.seed),
        n,
        k,
        args.budget,
        mask=mask,
        policy=args.policy,
        objective=args.objective,
        cost=cost,
        pilot=args.pilot,
        target_n=args.target,
        difficulty=args.difficulty,
    )
    out, rows = plan_records(plan, groups, problems)
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
    import jax
    import numpy as np

    from scaling_theory.allocation import costs
    from scaling_theory.allocation.frontier import frontier
    from scaling_theory.allocation.tables import frontier_budgets, stack_counts
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
    groups, _, n, k, mask, cost = stack_counts(df, [args.model_column], args.cost_column)
    models = [str(g[args.model_column]) for g in groups]
    if len(models) < 2:
        raise InputError(f"frontier needs at least two models in column '{args.model_column}', found {len(models)}")
    cm = None
    if args.cost_model is not None:
        cm = costs.model_costs(models, args.cost_model, args.prompt_tokens, args.output_tokens)
    budgets = args.budget or frontier_budgets(n, mask, models, cost=cost, cost_models=cm)
    fr = frontier(
        jax.random.key(args.seed),
        n,
        k,
        mask,
        models,
        budgets,
        cost_per_attempt=cost,
        cost_models=cm,
        bootstrap=args.bootstrap,
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
