"""Pythia × MATH back-test of pass@N extrapolation (data of Brown et al. / Schaeffer et al., arXiv 2502.17578).

Seven Pythia models × 128 MATH problems, 10,000 logged samples each. Protocol (spec §7(d)): observe
n ∈ {32, 100, 1000} samples per problem (hypergeometric sub-sampling without replacement, 5 repeats
per seed), predict pass@N for N ∈ {1000, 10000}, compare with Chen's unbiased pass@N from all
10,000 samples; MAE over the 7 models in percentage points, mean ± SE over seeds. Also the
least-squares exponents of −log pass@k (Schaeffer et al. Table 1) and the distributional estimator.
Figure: pass@k curves per model (truth from all samples, one n = 100 sub-sample, extrapolations with
90% bands) and MAE against n.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from scaling_theory.io import data_path, read_counts
from scaling_theory.passk.backtesting import backtest, truth_pass_at_n
from scaling_theory.passk.exponent import SCHAEFFER_TABLE1, distributional_exponent, least_squares_exponent
from scaling_theory.passk.grouping import stack_groups
from scaling_theory.passk.methods import DEFAULT_METHOD
from scaling_theory.passk.predictors import predict
from scaling_theory.plotting import COLORS, MARKERS, band, figure, save_data, save_figure
from scaling_theory.stats import subsample
from scaling_theory.tables import format_table

NAME = "passk_pythia_backtest"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 30–60 min on 2 CPU cores (estimate: 10× the quick seeds, NUTS on all 20)"
MODELS = ("Pythia 70M", "Pythia 160M", "Pythia 410M", "Pythia 1B", "Pythia 2.8B", "Pythia 6.9B", "Pythia 12B")
ALL = ("naive", "fit", "anchored", "plugin", "plugin_zi", "eb", "eb_zi")
PROFILES = {
    "smoke": dict(
        models=("Pythia 70M", "Pythia 12B"),
        observe=(100,),
        budgets=(1000,),
        seeds=(0,),
        repeats=2,
        methods=("anchored", "eb"),
        bayes=None,
        curve=("anchored", "eb"),
        grid=8,
        exponents=False,
    ),
    "quick": dict(
        models=MODELS,
        observe=(32, 100, 1000),
        budgets=(1000, 10000),
        seeds=(0, 1),  # paper: 20 seeds
        repeats=5,
        methods=ALL,
        bayes=dict(seeds=(0,), num_warmup=150, num_samples=150, max_tree_depth=4),
        curve=("fit", "anchored", DEFAULT_METHOD),
        grid=25,
        exponents=True,
    ),
    "paper": dict(
        models=MODELS,
        observe=(32, 100, 1000),
        budgets=(1000, 10000),
        seeds=tuple(range(20)),
        repeats=5,
        methods=ALL,
        bayes=dict(seeds=tuple(range(20)), num_warmup=500, num_samples=500, max_tree_depth=5),
        curve=("fit", "anchored", DEFAULT_METHOD),
        grid=40,
        exponents=True,
    ),
}


def load(models) -> tuple[list[dict], np.ndarray, np.ndarray, np.ndarray]:
    counts = read_counts(data_path("pythia_math_counts.csv"), ["model"])
    counts = counts[counts["model"].isin(models)].copy()
    counts["order"] = counts["model"].map({m: i for i, m in enumerate(MODELS)})
    counts = counts.sort_values(["order", "problem"], kind="stable").drop(columns="order")
    st = stack_groups(counts, ["model"])
    return st.groups, st.n, st.k, st.mask


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    groups, n, k, mask = load(cfg["models"])
    names = [g["model"] for g in groups]
    tables = []
    key, key_curves = jax.random.split(jax.random.key(seed))  # per-seed back-test keys: fold_in(key, s)
    for obs in cfg["observe"]:
        for s in cfg["seeds"]:
            res = backtest(
                jax.random.fold_in(key, s),
                n,
                k,
                obs,
                cfg["budgets"],
                cfg["methods"],
                repeats=cfg["repeats"],
                mask=mask,
                groups=groups,
            )
            tables.append(res.table.assign(seed=s))
            if cfg["bayes"] and s in cfg["bayes"]["seeds"]:
                opts = {kk: v for kk, v in cfg["bayes"].items() if kk != "seeds"}
                rb = backtest(
                    jax.random.fold_in(key, s),  # the same sub-samples as the other predictors
                    n,
                    k,
                    obs,
                    cfg["budgets"],
                    ["bayes"],
                    repeats=cfg["repeats"],
                    mask=mask,
                    groups=groups,
                    bayes_options=opts,
                )
                tables.append(rb.table.assign(seed=s))
    table = pd.concat(tables, ignore_index=True)
    per_seed = table.groupby(["observe", "budget", "method", "seed"], sort=False)["error"].mean().reset_index()
    summary = (
        per_seed.groupby(["observe", "budget", "method"], sort=False)["error"]
        .agg(mae="mean", se=lambda x: x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.nan, seeds="size")
        .reset_index()
    )
    cov = table.groupby(["observe", "budget", "method"], sort=False)["coverage"].mean().reset_index()
    summary = summary.merge(cov, on=["observe", "budget", "method"])
    print(
        f"MAE (pp) over {len(names)} models; mean ± SE over seeds {list(cfg['seeds'])}; "
        f"coverage = fraction of repeats whose 90% interval holds the truth"
    )
    print(format_table(summary.to_dict(orient="records"), digits=3))

    seed0 = table[
        (table.seed == cfg["seeds"][0])
        & (table.observe == (100 if 100 in cfg["observe"] else cfg["observe"][0]))
        & (table.budget == cfg["budgets"][0])
    ]
    wide = seed0.pivot_table(index="model", columns="method", values="prediction", sort=False)
    truth = seed0.groupby("model", sort=False)["truth"].first()
    rows0 = [{"model": m, "truth": truth[m], **{c: wide.loc[m, c] for c in wide.columns}} for m in names]
    print(f"\nSeed {cfg['seeds'][0]}: pass@{cfg['budgets'][0]} predictions (mean over repeats) vs truth")
    print(format_table(rows0, digits=4))

    exps = _exponents(names, n, k, mask) if cfg["exponents"] else []
    if exps:
        print("\nExponent of −log pass@k = a·k^(−b): least squares (Schaeffer Table 1 in brackets), distributional")
        print(format_table(exps, digits=4))

    curves = _curves(n, k, mask, cfg, key_curves)
    _figure(out, names, curves, summary, cfg)
    save_data(out, "pythia_backtest_rows", table.to_dict(orient="records"))
    save_data(out, "pythia_backtest_mae", summary.to_dict(orient="records"))
    return {"mae": summary.to_dict(orient="records"), "seed0": rows0, "exponents": exps, "profile": profile}


def _exponents(names, n, k, mask) -> list[dict]:
    rows = []
    for i, name in enumerate(names):  # 7 models: one fit each
        live = mask[i] > 0
        ls = least_squares_exponent(n[i][live], k[i][live])
        dist = distributional_exponent(n[i][live], k[i][live])
        pa, pb = SCHAEFFER_TABLE1[name]
        rows.append(
            {
                "model": name,
                "ls_a": ls["a"],
                "paper_a": pa,
                "ls_b": ls["b"],
                "paper_b": pb,
                "dist_b": dist["b"],
                "dist_a": dist["a"],
            }
        )
    return rows


def _curves(n, k, mask, cfg, key) -> dict:
    """pass@k truth on a log grid, one n = 100 sub-sample and the extrapolations with their intervals."""
    obs = 100 if 100 in cfg["observe"] else cfg["observe"][0]
    grid = np.unique(np.round(np.logspace(0, 4, cfg["grid"])))
    truth = truth_pass_at_n(n, k, mask, grid)
    n_sub = np.where(mask > 0, n, 1)
    k_sub_key, k_pred = jax.random.split(key)
    k_sub = subsample(k_sub_key, n_sub, np.where(mask > 0, k, 0), np.minimum(obs, n_sub), 1)[0]
    observed_grid = np.append(grid[grid < obs], obs)
    observed = truth_pass_at_n(np.full_like(n, obs), k_sub, mask, observed_grid)
    ext_grid = np.insert(grid[grid > obs], 0, obs)
    preds = {}
    for meth in cfg["curve"]:
        p = predict(k_pred, obs, k_sub, ext_grid, meth, mask=mask)
        preds[meth] = (p.asr, p.lower, p.upper)
    return dict(
        grid=grid,
        truth=truth,
        observed_grid=observed_grid,
        observed=observed,
        ext_grid=ext_grid,
        preds=preds,
        observe=obs,
    )


def _figure(out: Path, names, curves, summary, cfg) -> None:
    ncol = 4
    nrow = int(np.ceil((len(names) + 1) / ncol))
    fig, axes = figure(nrow, ncol, width=9.0, height=2.2 * nrow, squeeze=False)
    axes = axes.ravel()
    data = []
    for i, name in enumerate(names):
        ax = axes[i]
        ax.plot(curves["grid"], curves["truth"][i], color="k", lw=1.6, label="truth (10,000 samples)")
        ax.plot(
            curves["observed_grid"],
            curves["observed"][i],
            "o",
            color="0.5",
            ms=2.5,
            label=f"observed (n = {curves['observe']})",
        )
        for j, (meth, (asr, lo, hi)) in enumerate(curves["preds"].items()):
            c = COLORS[j]
            ax.plot(
                curves["ext_grid"],
                asr[i],
                color=c,
                lw=1.1,
                label=meth + (" (default)" if meth == DEFAULT_METHOD else ""),
            )
            band(ax, curves["ext_grid"], lo[i], hi[i], c, alpha=0.15)
            data += [
                {"model": name, "method": meth, "N": float(g), "asr": float(a), "lower": float(lo_), "upper": float(h)}
                for g, a, lo_, h in zip(curves["ext_grid"], asr[i], lo[i], hi[i])
            ]
        data += [
            {"model": name, "method": "truth", "N": float(g), "asr": float(t), "lower": None, "upper": None}
            for g, t in zip(curves["grid"], curves["truth"][i])
        ]
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_title(name, fontsize=8)
        if i % ncol == 0:
            ax.set_ylabel("pass@k")
        ax.set_xlabel("k (samples per problem)")
    axes[0].legend(loc="upper left", fontsize=5.5)
    ax = axes[len(names)]
    shown = [m for m in ("naive", "fit", "anchored", "plugin", DEFAULT_METHOD, "bayes") if m in set(summary["method"])]
    for j, meth in enumerate(dict.fromkeys(shown)):
        for bi, budget in enumerate(cfg["budgets"]):
            sub = summary[(summary.method == meth) & (summary.budget == budget)].sort_values("observe")
            ax.errorbar(
                sub["observe"],
                sub["mae"],
                yerr=np.nan_to_num(sub["se"]),
                marker=MARKERS[j % 8],
                color=COLORS[j % 8],
                ls="-" if bi == 0 else "--",
                lw=0.9,
                ms=3,
                capsize=1.5,
                label=meth if bi == 0 else None,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("observed samples per problem n")
    ax.set_ylabel("MAE of pass@N (pp)")
    ax.yaxis.set_minor_formatter(NullFormatter())
    if len(cfg["budgets"]) > 1:
        ax.set_title(f"MAE over models (— N={cfg['budgets'][0]}, -- N={cfg['budgets'][-1]})", fontsize=7)
    else:
        ax.set_title(f"MAE over models (N = {cfg['budgets'][0]})", fontsize=7)
    ax.legend(fontsize=5, ncol=2)
    for ax in axes[len(names) + 1 :]:
        ax.set_visible(False)
    save_figure(fig, out, "pythia_backtest", data=data)


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
