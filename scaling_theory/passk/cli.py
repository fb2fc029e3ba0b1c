"""``scaling-theory passk estimate|fit|predict|backtest``: parse, call :mod:`scaling_theory.passk`, print.

Input files are counts (``problem, n, k``) or attempts (``problem, attempt, correct``) tables in CSV,
JSONL or parquet (``io.read_counts``); ``--group-by COL [COL ...]`` runs every group separately.
Text tables by default, ``--json`` for machines. JSON shapes:

* ``estimate``: ``[{"group", "k", "pass_at_k", "plugin", "problems", "n_min"}, ...]`` (one per group and k);
* ``fit``: ``[{"group", "alpha", "beta", "se_alpha", "se_beta", "pi", "se_pi", "loglik", "problems",
  "mean_n", "asr_at_n", "converged", "at_bound"}, ...]`` (``pi``/``se_pi`` only with ``--zero-inflated``);
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
    from scaling_theory.io import (
        aggregate_attempts,
        detect_format,
        is_attempts_table,
        read_counts,
        read_table,
        validate_attempts,
    )
    from scaling_theory.passk.grouping import detect_stopped, stack_groups

    fmt = getattr(args, "format", "auto")
    if hasattr(args, "stopped") and (fmt if fmt != "auto" else detect_format(args.file)) == "attempts":
        df = read_table(args.file)
        if is_attempts_table(df):
            att = validate_attempts(df, args.group_by)
            if not args.stopped and detect_stopped(att, args.group_by):
                import sys

                print(
                    "note: every problem of this attempts table ends at its only success; treating it as a log "
                    "that stops at the first success (--stopped)",
                    file=sys.stderr,
                )
                args.stopped = True
            return stack_groups(aggregate_attempts(att, args.group_by), args.group_by)
    return stack_groups(read_counts(args.file, args.group_by, format=fmt, announce=True), args.group_by)


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
    import numpy as np

    from scaling_theory.errors import InputError
    from scaling_theory.passk.estimators import pass_at_k_curve

    data = _read(args)
    ks = np.asarray(args.k, dtype=np.float64)
    out = []
    for i, grp in enumerate(data.groups):
        live = data.mask[i] > 0
        n, k = data.n[i][live], data.k[i][live]
        bad = ks[(ks < 1) | (ks != np.round(ks)) | (ks > n.min())]
        if bad.size:
            raise InputError(
                f"--k {bad[0]:g}: k must be an integer between 1 and the smallest n ({n.min():g})"
                " for the unbiased estimator"
            )
        unbiased = np.asarray(pass_at_k_curve(n, k, ks))
        plugin = np.asarray(pass_at_k_curve(n, k, ks, estimator="plugin"))
        for j, kk in enumerate(ks):
            out.append(
                {
                    "group": grp,
                    "k": int(kk),
                    "pass_at_k": float(unbiased[j]),
                    "plugin": float(plugin[j]),
                    "problems": int(live.sum()),
                    "n_min": int(n.min()),
                }
            )
    _emit(args, out, [_flat(r["group"], r) for r in out])
    return 0


def _fit(args: argparse.Namespace) -> int:
    import numpy as np

    from scaling_theory.passk import mle
    from scaling_theory.passk.grouping import require_fittable

    data = _read(args)
    require_fittable(data)
    res = mle.fit(data.n, data.k, data.mask, zero_inflated=args.zero_inflated)
    out = []
    for i, grp in enumerate(data.groups):
        live = data.mask[i] > 0
        row = {
            "group": grp,
            "alpha": float(res.alpha[i]),
            "beta": float(res.beta[i]),
            "se_alpha": float(res.se_alpha[i]),
            "se_beta": float(res.se_beta[i]),
        }
        if args.zero_inflated:
            row.update(pi=float(res.pi[i]), se_pi=float(res.se_pi[i]))
        mean_n = float(data.n[i][live].mean())
        row.update(
            loglik=float(res.loglik[i]),
            problems=int(live.sum()),
            mean_n=int(mean_n) if mean_n.is_integer() else mean_n,
            asr_at_n=float(np.mean(data.k[i][live] > 0)),
            converged=bool(res.converged[i]),
            at_bound=bool(res.at_bound[i]),
        )
        out.append(row)
    _emit(args, out, [_flat(r["group"], r) for r in out])
    return 0


def _predict(args: argparse.Namespace) -> int:
    import sys

    import jax
    import numpy as np

    from scaling_theory.passk.degenerate import bound_prediction, degenerate_flags
    from scaling_theory.passk.grouping import describe_group
    from scaling_theory.passk.predictors import DEFAULT_METHOD, Prediction, check_stopped, predict

    data = _read(args)
    method = args.method or DEFAULT_METHOD
    if args.stopped:
        check_stopped(data.k, data.mask)
    flags = degenerate_flags(data.n, data.k, data.mask)
    key = jax.random.PRNGKey(args.seed)
    good = np.flatnonzero(flags == "")
    g, nb = len(data.groups), len(args.budget)
    asr, lower, upper = np.full((g, nb), np.nan), np.full((g, nb), np.nan), np.full((g, nb), np.nan)
    alpha, beta = np.full(g, np.nan), np.full(g, np.nan)
    used = np.full((g, nb), method, dtype=object)
    rmse = np.full((g, nb), np.nan)
    for i in np.flatnonzero(flags != "").tolist():
        what = "no success" if flags[i] == "no_success" else "every attempt a success"
        print(
            f"warning: group {describe_group(data.groups[i])}: {what}; reporting the distribution-free "
            f"{int(100 * LEVEL)}% bound (flag {flags[i]})",
            file=sys.stderr,
        )
    if (flags != "").any():
        da, dl, du = bound_prediction(data.n, data.k, data.mask, args.budget, LEVEL, args.stopped)
        bad = flags != ""
        asr[bad], lower[bad], upper[bad] = da[bad], dl[bad], du[bad]
        used[bad] = "bound"
    if good.size:
        pred = predict(
            key,
            data.n[good],
            data.k[good],
            args.budget,
            method,
            level=LEVEL,
            mask=data.mask[good],
            stopped=args.stopped,
            auto_options={"seed": args.seed} if method == "auto" else None,
        )
        asr[good], lower[good], upper[good] = pred.asr, pred.lower, pred.upper
        if pred.alpha is not None:
            alpha[good], beta[good] = pred.alpha, pred.beta
        if method == "auto":
            used[good] = np.array([[f"auto:{c}" for c in row] for row in pred.extra["chosen"]], dtype=object)
            rmse[good] = pred.extra["internal_rmse"]
    out = []
    for i, grp in enumerate(data.groups):
        one = Prediction(
            method=method,
            budgets=np.asarray(args.budget, np.float64),
            asr=asr[i],
            lower=lower[i],
            upper=upper[i],
            alpha=None if np.isnan(alpha[i]) else alpha[i],
            beta=None if np.isnan(beta[i]) else beta[i],
            level=LEVEL,
        )
        for j, row in enumerate(one.rows(grp)):
            row["method"] = used[i, j]
            row["flag"] = flags[i]
            if method == "auto":
                row["internal_rmse"] = None if np.isnan(rmse[i, j]) else float(rmse[i, j])
            out.append(row)
    _emit(args, out, [_flat(r["group"], r) for r in out])
    return 0


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
