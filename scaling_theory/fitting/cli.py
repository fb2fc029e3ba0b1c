"""``scaling-theory fit FILE --law LAW --x NAME=COLUMN ... --y COLUMN``: fit a scaling law to a table.

Thin: parses, calls :mod:`scaling_theory.fitting`, prints a table (or ``--json``). ``--json``
prints ``{"law", "params", "intervals" (with --bootstrap or --interval), "loss", "n_points", "n_starts"}``
(plus ``"method"`` and ``"interval"`` when they are not the defaults, and ``"allocation"`` with
``--compute``); with ``--group-by`` a list of such objects, each with a leading ``"group"``.
``--method approach2`` prints ``{"method", "a", "b", "G_N", "G_D", "budgets", "N_opt", "D_opt"}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from scaling_theory.errors import InputError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit a scaling law (power law, Chinchilla, ...) to a table of runs",
        description="Fit a named scaling law to a curve table by batched multi-start L-BFGS in float64 "
        "(Huber loss on log residuals, summed, by default), with optional bootstrap intervals.",
    )
    p.add_argument("file", type=Path, metavar="FILE", help="CSV / JSONL / parquet table (optionally .gz)")
    p.add_argument("--law", required=True, help="power_law, offset_power_law, chinchilla, exp_power_law or monkeys")
    p.add_argument(
        "--x",
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="map a law variable to a column (repeat; e.g. --x N=params --x D=tokens)",
    )
    p.add_argument("--y", required=True, metavar="COLUMN", help="the column to fit (e.g. loss)")
    p.add_argument(
        "--method",
        choices=("multistart", "vpnls", "approach2"),
        default="multistart",
        help="multistart L-BFGS (default); vpnls: variable projection (chinchilla, offset_power_law, "
        "power_law); approach2: IsoFLOP parabolas (chinchilla columns N, D)",
    )
    p.add_argument("--loss", choices=("huber", "mse", "mae", "asymmetric"), default="huber")
    p.add_argument("--delta", type=float, default=1e-3, help="Huber delta (default 1e-3)")
    p.add_argument(
        "--penalty",
        type=float,
        default=10.0,
        help="asymmetric loss: factor on over-estimates (default 10, as OLMo-core suggests)",
    )
    p.add_argument("--weights", metavar="COL", default=None, help="column of non-negative row weights")
    p.add_argument("--space", choices=("log", "linear"), default="log", help="residuals log y or y (default log)")
    p.add_argument("--starts", default="grid", help="'grid' (the law's default grid) or a number of random starts")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B", help="bootstrap replicates for intervals")
    p.add_argument(
        "--interval",
        choices=("row", "residual", "block", "t", "bayes"),
        default=None,
        help="interval method (default row when --bootstrap is given; B = 200 otherwise)",
    )
    p.add_argument("--runs", metavar="COL", default=None, help="--interval block: the column naming each row's run")
    p.add_argument("--samples", type=int, default=1000, help="--interval bayes: posterior draws per chain")
    p.add_argument("--warmup", type=int, default=500, help="--interval bayes: warm-up steps")
    p.add_argument("--chains", type=int, default=1, help="--interval bayes: chains")
    p.add_argument(
        "--likelihood",
        choices=("student_t", "normal"),
        default="student_t",
        help="--interval bayes: noise model (default Student-t, df 4)",
    )
    p.add_argument("--df", type=float, default=4.0, help="--interval bayes: Student-t degrees of freedom")
    p.add_argument(
        "--compute",
        type=float,
        action="append",
        default=[],
        metavar="C",
        help="chinchilla / approach2: compute-optimal N*, D* at budget C in FLOPs (repeat)",
    )
    p.add_argument(
        "--budget",
        metavar="COL",
        default=None,
        help="approach2: column of each run's compute budget (default 6·N·D to 3 digits)",
    )
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--group-by", action="append", default=[], metavar="COL", help="fit each group separately")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_fit)


def _parse_starts(value: str) -> str | int:
    if value == "grid":
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"--starts must be 'grid' or a positive integer, got {value!r}")
    return n


def _fit(args: argparse.Namespace) -> int:
    import jax

    from scaling_theory.cli import print_json
    from scaling_theory.fitting.data import load_curve, parse_x_specs
    from scaling_theory.fitting.fit import fit, fit_many, make_loss
    from scaling_theory.fitting.laws import get_law
    from scaling_theory.fitting.summaries import allocation_table
    from scaling_theory.tables import format_table

    law = get_law(args.law)
    if not args.penalty > 0:
        raise InputError(f"--penalty must be positive, got {args.penalty}")
    loss = make_loss(args.loss, args.delta, args.space, penalty=args.penalty)
    starts = _parse_starts(args.starts)
    key = jax.random.key(args.seed)  # the one key of this command
    if args.bootstrap and args.bootstrap < 2:
        raise InputError(f"--bootstrap must be at least 2 replicates, got {args.bootstrap}")
    if not 0 < args.level < 1:
        raise InputError(f"--level must be in (0, 1), got {args.level}")
    interval = args.interval or ("row" if args.bootstrap else None)
    if interval == "block" and not args.runs:
        raise InputError("--interval block needs --runs COL (the run of each row)")
    if args.compute and (law.name != "chinchilla" or any(not c > 0 for c in args.compute)):
        raise InputError("--compute needs --law chinchilla and positive budgets")
    if args.method == "vpnls":
        from scaling_theory.fitting.vpnls import separable

        separable(law)  # the law must be linear in its scales
    x_columns = parse_x_specs(args.x, law)
    if args.method == "approach2":
        return _approach2(args, law, x_columns)
    extra = [args.runs] if args.runs else []
    groups = load_curve(
        args.file, law, x_columns, args.y, space=args.space, group_by=args.group_by, weights=args.weights, extra=extra
    )
    names = [_group_name(args.file, g[0]) for g in groups]
    info = [g[3] if len(g) > 3 else {"w": None} for g in groups]
    data = [(g[1], g[2]) if i["w"] is None else (g[1], g[2], i["w"]) for g, i in zip(groups, info)]
    if args.method == "vpnls":
        from scaling_theory.fitting.vpnls import vpnls_many

        fits = vpnls_many(law, data, loss=loss, names=names)
    elif len(groups) == 1:  # one data set: the data stay shared by all starts
        fits = [
            fit(
                law,
                data[0][0],
                data[0][1],
                loss=loss,
                weights=info[0]["w"],
                starts=starts,
                key=key,
                name=names[0],
            )
        ]
    else:
        fits = fit_many(law, data, loss=loss, starts=starts, key=key, names=names)
    draws = _intervals(key, args, interval, fits, info)
    records = []
    for (group, *_), f, d in zip(groups, fits, draws):
        rec: dict[str, Any] = {"group": group} if args.group_by else {}
        if args.method != "multistart":
            rec["method"] = args.method
        for field, value in f.summary().items():  # law, params, [intervals,] loss, n_points, n_starts
            rec[field] = value
            if field == "params" and d is not None:
                rec["intervals"] = d.intervals(args.level).as_dict()
                if interval != "row":
                    rec["interval"] = interval
        if args.compute:
            table = allocation_table(f.params, d, args.compute, args.level).rows()
            rec["allocation"] = [{k: v for k, v in r.items() if v is not None} for r in table]  # no draws: no lo/hi
        records.append((rec, f, d))
    if args.json:
        out = [r for r, _, _ in records]
        print_json(out if args.group_by else out[0])
        return 0
    for rec, f, d in records:
        head = f"law {law.name}: {law.formula}" + (f"  [method {args.method}]" if args.method != "multistart" else "")
        if args.group_by:
            head = f"[{', '.join(f'{k}={v}' for k, v in rec['group'].items())}] " + head
        print(head)
        rows, spread = [], f.spread()
        for k, v in f.params.items():
            row = {"param": k, "value": v}
            if d is not None:
                lo, hi = rec["intervals"][k]
                row[f"{args.level:.0%} lo"], row[f"{args.level:.0%} hi"] = lo, hi
            lo_s, hi_s = spread[k]
            row["near-best spread"] = f"[{lo_s:.4g}, {hi_s:.4g}]"
            rows.append(row)
        print(format_table(rows, digits=6))
        diag = f.diagnostics()
        kind = f"{loss.kind}{f' delta={loss.delta:g}' if loss.kind in ('huber', 'asymmetric') else ''}"
        kind += f" penalty={loss.penalty:g}" if loss.kind == "asymmetric" else ""
        print(
            f"objective {f.objective:.6g} ({kind}, {loss.space} residuals, summed"
            f"{', weighted by ' + args.weights if args.weights else ''}) on {f.n_points} points; "
            f"best start: {diag['best_status']}; {diag['n_at_best']}/{f.n_starts} starts reached it, "
            f"{diag['n_converged']} converged"
        )
        if d is not None:
            print(f"{interval} intervals: {d.n_draws} draws, {d.converged.mean():.0%} converged")
        if args.compute:
            print(format_table(rec["allocation"], digits=4))
        print()
    return 0


def _intervals(key: Any, args: argparse.Namespace, interval: str | None, fits: list, info: list) -> list:
    """Draws for each fit by the chosen interval method (None without one)."""
    if interval is None:
        return [None] * len(fits)
    B = args.bootstrap or 200
    if interval == "row":
        from scaling_theory.fitting.uncertainty import bootstrap_many

        return bootstrap_many(key, fits, B)
    from scaling_theory.fitting import intervals as iv

    if interval == "residual":
        return [iv.residual_bootstrap(key, f, B) for f in fits]
    if interval == "block":
        return [iv.block_bootstrap(key, f, i[args.runs], B) for f, i in zip(fits, info)]
    if interval == "t":
        return [iv.t_draws(key, f, 4000) for f in fits]
    from scaling_theory.fitting.bayes import posterior

    return [
        posterior(
            key,
            f,
            num_warmup=args.warmup,
            num_samples=args.samples,
            num_chains=args.chains,
            likelihood=args.likelihood,
            df=args.df,
        )
        for f in fits
    ]


def _approach2(args: argparse.Namespace, law: Any, x_columns: dict[str, str]) -> int:
    """``--method approach2``: IsoFLOP parabolas per budget on columns N, D (and --budget)."""
    import numpy as np

    from scaling_theory.cli import print_json
    from scaling_theory.fitting.approach2 import approach2
    from scaling_theory.fitting.data import load_curve
    from scaling_theory.fitting.summaries import isoflop_budgets
    from scaling_theory.tables import format_table

    if law.name != "chinchilla":
        raise InputError("--method approach2 needs --law chinchilla (columns --x N=... --x D=...)")
    if args.group_by:
        raise InputError("--method approach2 does not take --group-by")
    extra = [args.budget] if args.budget else []
    ((_, x, y, *rest),) = load_curve(args.file, law, x_columns, args.y, space="linear", extra=extra)
    C = np.asarray(rest[0][args.budget], np.float64) if args.budget else isoflop_budgets(x["N"], x["D"])
    res = approach2(x["N"], C, y)
    rec = {**res.summary(), "budgets": res.budgets.tolist(), "N_opt": res.n_opt.tolist(), "D_opt": res.d_opt.tolist()}
    if args.compute:
        rec["allocation"] = [{"C": c, "N*": float(res.n_star(c)), "D*": float(res.d_star(c))} for c in args.compute]
    if args.json:
        print_json(rec)
        return 0
    print(
        f"Approach 2 (IsoFLOP parabolas): N* = {rec['G_N']:.4g} C^{res.a:.4f}, D* = {rec['G_D']:.4g} C^{res.b:.4f} "
        f"from {res.budgets.size} budgets" + (f"; skipped {list(res.skipped)}" if res.skipped else "")
    )
    print(
        format_table(
            [
                {"C": c, "N*": n, "D*": d, "loss at N*": l_}
                for c, n, d, l_ in zip(res.budgets, res.n_opt, res.d_opt, res.loss_opt)
            ],
            digits=4,
        )
    )
    if args.compute:
        print(format_table(rec["allocation"], digits=4))
    return 0


def _group_name(path: Path, group: dict[str, Any]) -> str:
    if not group:
        return str(path)
    return f"{path} [{', '.join(f'{k}={v}' for k, v in group.items())}]"
