"""``scaling-theory passk estimate|fit|predict|backtest``: parse, call :mod:`scaling_theory.passk`, print.

Input files are counts (``problem, n, k``) or attempts (``problem, attempt, correct``) tables in CSV,
JSONL or parquet (``io.read_counts``); ``--group-by COL [COL ...]`` runs every group separately.
Text tables by default, ``--json`` for machines. JSON shapes:

* ``estimate``: ``[{"group", "k", "pass_at_k", "plugin", "problems", "n_min"}, ...]`` (one per group and k);
* ``fit``: ``[{"group", "alpha", "beta", "se_alpha", "se_beta", "pi", "se_pi", "loglik", "problems",
  "mean_n", "asr_at_n", "converged", "at_bound", "flag", "mean_bound"}, ...]`` (``pi``/``se_pi`` only with
  ``--zero-inflated``; a group with no success or only successes has ``flag`` ``no_success``/``all_success``,
  null fitted fields and in ``mean_bound`` the distribution-free one-sided 90% bound on its mean success
  probability, see ``passk.degenerate``, with a warning on stderr; other groups: ``flag`` ``""``,
  ``mean_bound`` null);
* ``predict``: ``[{"group", "method", "budget", "asr", "lower", "upper", "alpha", "beta", "flag"
  [, "internal_rmse"]}, ...]`` (issue 2, §3; rates in [0, 1]; ``alpha``/``beta`` null for methods without a
  Beta law; ``method`` names what was used — ``auto:<candidate>`` for the default, ``bound`` for a degenerate
  group; ``flag`` is ``no_success``/``all_success`` for such a group (estimate with a one-sided
  distribution-free bound, see ``passk.degenerate``; a warning goes to stderr) and ``""`` otherwise;
  ``internal_rmse``: auto's internal back-test error in percentage points);
* ``backtest``: ``{"observe", "budgets", "repeats", "seed", "rows": [...], "mae": [...]}``; errors in
  percentage points.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

LEVEL = 0.9


def register(subparsers: Any) -> None:
    """Add the ``passk`` command group to the top-level parser."""
    p = subparsers.add_parser(
        "passk",
        help="pass@k / ASR@N estimation and Beta-binomial extrapolation (SABER and beyond)",
        description="Estimate pass@k from per-problem counts, fit the Beta-binomial law, extrapolate to "
        "large budgets and back-test the extrapolation.",
    )
    sub = p.add_subparsers(dest="passk_command", metavar="VERB")
    sub.required = True
    from scaling_theory.cli import add_format_option

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("file", type=Path, help="counts (problem, n, k) or attempts (problem, attempt, correct) table")
        q.add_argument("--group-by", nargs="+", default=[], metavar="COL", help="grouping column(s), e.g. model")
        q.add_argument("--json", action="store_true", help="print JSON instead of a table")
        add_format_option(q)

    q = sub.add_parser("estimate", help="unbiased (Chen) and plug-in pass@k at budgets k ≤ n")
    common(q)
    q.add_argument("--k", nargs="+", type=float, required=True, metavar="K", help="budgets k (each ≤ every n)")
    q.set_defaults(func=_estimate)

    q = sub.add_parser("fit", help="Beta-binomial MLE of (alpha, beta) with observed-information SEs")
    common(q)
    q.add_argument("--zero-inflated", action="store_true", help="also fit a mass pi of never-solved problems")
    q.set_defaults(func=_fit)

    from scaling_theory.passk.methods import DEFAULT_METHOD, METHODS

    q = sub.add_parser("predict", help="extrapolate pass@N / ASR@N to budgets N with a 90%% interval")
    common(q)
    q.add_argument("--budget", nargs="+", type=float, required=True, metavar="N", help="target budgets N")
    q.add_argument("--method", choices=METHODS, default=None, help=f"predictor (default: {DEFAULT_METHOD})")
    q.add_argument("--seed", type=int, default=0, help="seed of the bootstrap / NUTS / auto's sub-samples (default 0)")
    q.add_argument(
        "--stopped",
        action="store_true",
        help="the log stops at each problem's first success (n = attempts made, k ≤ 1); detected "
        "automatically from attempts tables",
    )
    q.set_defaults(func=_predict)

    q = sub.add_parser("backtest", help="observe n attempts per problem, predict pass@N, compare with all attempts")
    common(q)
    q.add_argument("--observe", type=int, required=True, metavar="n", help="attempts kept per problem")
    q.add_argument("--budget", nargs="+", type=float, required=True, metavar="N", help="target budgets N ≤ logged n")
    q.add_argument("--repeats", type=int, default=5, metavar="R", help="sub-samples per group (default 5)")
    q.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the sub-sampling (default 0)")
    q.add_argument(
        "--method",
        nargs="+",
        choices=METHODS,
        default=None,
        metavar="M",
        help="predictors to compare (default: naive fit anchored plugin plugin_zi eb eb_zi tail_power "
        "tail_hughes and the default)",
    )
    q.add_argument(
        "--stopped",
        action="store_true",
        help="the log stops at each problem's first success: observe the first n attempts (a prefix) "
        "and score against the exact stopped curve; detected automatically from attempts tables",
    )
    q.set_defaults(func=_backtest)


def _read(args: argparse.Namespace):
    from scaling_theory.passk.summaries import read_grouped

    asked = getattr(args, "stopped", None)
    data, stopped = read_grouped(args.file, args.group_by, format=getattr(args, "format", "auto"), stopped=asked)
    if asked is False and stopped:
        import sys

        print(
            "note: every problem of this attempts table ends at its only success; treating it as a log "
            "that stops at the first success (--stopped)",
            file=sys.stderr,
        )
        args.stopped = True
    return data


def _emit(args: argparse.Namespace, obj: Any, rows: list[dict], columns: list[str] | None = None) -> None:
    from scaling_theory.cli import print_json
    from scaling_theory.tables import format_table

    if args.json:
        print_json(obj)
    else:
        print(format_table(rows, columns))


def _flat(group: dict, row: dict) -> dict:
    return {**group, **{k: v for k, v in row.items() if k != "group"}}


def _estimate(args: argparse.Namespace) -> int:
    from scaling_theory.passk.summaries import estimate_table

    out = estimate_table(_read(args), args.k)
    _emit(args, out, [_flat(r["group"], r) for r in out])
    return 0


def _warn_degenerate(data: Any, reported: str) -> None:
    """One stderr line per group with no success (or only successes): what is reported instead."""
    import sys

    from scaling_theory.passk.degenerate import degenerate_flags
    from scaling_theory.passk.grouping import describe_group

    for grp, flag in zip(data.groups, degenerate_flags(data.n, data.k, data.mask)):
        if flag:
            what = "no success" if flag == "no_success" else "every attempt a success"
            print(f"warning: group {describe_group(grp)}: {what}; {reported} (flag {flag})", file=sys.stderr)


def _fit(args: argparse.Namespace) -> int:
    from scaling_theory.passk.summaries import fit_table

    data = _read(args)
    _warn_degenerate(
        data,
        f"no finite Beta-binomial fit; reporting the distribution-free {int(100 * LEVEL)}% bound on the "
        "mean success probability (mean_bound)",
    )
    out = fit_table(data, zero_inflated=args.zero_inflated, level=LEVEL)
    _emit(args, out, [_flat(r["group"], r) for r in out])
    return 0


def _predict(args: argparse.Namespace) -> int:
    import jax

    from scaling_theory.passk.summaries import predict_groups

    data = _read(args)
    _warn_degenerate(data, f"reporting the distribution-free {int(100 * LEVEL)}% bound")
    res = predict_groups(
        jax.random.key(args.seed),
        data,
        args.budget,
        args.method,
        stopped=args.stopped,
        level=LEVEL,
    )
    _emit(args, res.rows, [_table_row(r) for r in res.rows])
    return 0


def _table_row(row: dict) -> dict:
    """A prediction row for the text table: auto's weights as one short column (``--json`` has them all,
    with each candidate's internal MAE)."""
    out = _flat(row["group"], row)
    out.pop("internal_mae", None)
    if "weights" in out:
        w = out["weights"] or {}
        out["weights"] = " ".join(f"{c} {v:.2f}" for c, v in w.items() if v) or "-"
        if "+" in str(out["method"]):  # a stack: its candidates are in the weights column
            out["method"] = "auto"
    return out


def _backtest(args: argparse.Namespace) -> int:
    import jax

    from scaling_theory.passk.backtesting import backtest

    data = _read(args)
    res = backtest(
        jax.random.key(args.seed),
        data.n,
        data.k,
        args.observe,
        args.budget,
        args.method,
        repeats=args.repeats,
        mask=data.mask,
        groups=data.groups,
        level=LEVEL,
        stopped=args.stopped,
    )
    group_cols = list(args.group_by)
    rows = res.table.to_dict(orient="records")
    mae = res.mae.to_dict(orient="records")
    if args.json:
        json_rows = [
            {"group": {c: r[c] for c in group_cols}, **{k: v for k, v in r.items() if k not in group_cols}}
            for r in rows
        ]
        _emit(
            args,
            {
                "observe": res.observe,
                "budgets": [int(b) for b in res.budgets],
                "repeats": res.repeats,
                "seed": args.seed,
                "rows": json_rows,
                "mae": mae,
            },
            [],
        )
        return 0
    cols = group_cols + ["method", "budget", "truth", "prediction", "std", "error", "coverage", "width"]
    from scaling_theory.tables import format_table

    print(format_table(rows, cols))
    print()
    print(f"MAE over groups (percentage points), observe n = {res.observe}, {res.repeats} repeats, seed {args.seed}:")
    print(format_table(mae, ["method", "budget", "mae", "mean_abs_error", "coverage", "width"]))
    print(
        "mae: mean over groups of |truth - mean prediction over repeats| (SABER Table 1); "
        "mean_abs_error: mean over groups and repeats of |truth - prediction|; "
        "coverage, width: of the 90% intervals."
    )
    return 0
