"""SABER (Feng et al., arXiv 2601.22636) Table 1 protocol on synthetic data from the Table 5 (α, β) pairs.

For each of the 12 attacker/victim/judge triplets of SABER's Table 5 we draw K = 159 prompts with
θ_i ~ Beta(α̂, β̂), log 10,000 attempts per prompt, and run the paper's protocol: observe n = 100
attempts per prompt (sub-sampled without replacement), predict ASR@1000, compare with the unbiased
estimate from all 10,000 attempts; 5 repeats; MAE over the 12 triplets of |truth − mean prediction|
in percentage points (the paper reports anchored 1.66 vs naive 12.04 on its real data). The whole
study is repeated over several seeds (fresh prompts) so that predictors can be compared with an
uncertainty. Figures: (a) per-triplet truth and predictions (seed 0), (b) MAE per predictor
(mean ± SE over seeds).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pandas as pd

from scaling_theory.passk.backtesting import backtest
from scaling_theory.passk.beta_law import asr_exact
from scaling_theory.passk.methods import DEFAULT_METHOD
from scaling_theory.passk.simulate import SABER_TABLE5, simulate_counts
from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_data, save_figure
from scaling_theory.tables import format_table

NAME = "passk_saber_synthetic"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 1–2 h on 2 CPU cores (estimate: 12× the quick seeds, NUTS 500/500 on 50 seeds)"
GPU = True  # the paper profile is meant for an accelerator

PROFILES = {
    # pairs, seeds, repeats, logged attempts, predictors, NUTS settings (None: no bayes)
    "smoke": dict(pairs=4, seeds=1, repeats=2, logged=2000, methods=("anchored", "eb"), bayes=None),
    "quick": dict(
        pairs=12,
        seeds=4,  # paper: 50
        repeats=5,
        logged=10_000,
        methods=("naive", "fit", "anchored", "plugin", "plugin_zi", "eb", "eb_zi"),
        bayes=dict(seeds=1, num_warmup=150, num_samples=150, max_tree_depth=4),
    ),
    "paper": dict(
        pairs=12,
        seeds=50,
        repeats=5,
        logged=10_000,
        methods=("naive", "fit", "anchored", "plugin", "plugin_zi", "eb", "eb_zi"),
        bayes=dict(seeds=50, num_warmup=500, num_samples=500, max_tree_depth=5),
    ),
}
K, OBSERVE, BUDGET = 159, 100, 1000


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    pairs = SABER_TABLE5[: cfg["pairs"]]
    p = len(pairs)
    alpha = np.array([r[3] for r in pairs])
    beta = np.array([r[4] for r in pairs])
    seeds = cfg["seeds"]
    labels = [f"{a}/{v.split('-')[0]}/{j}" for a, v, j, _, _ in pairs]
    # Fresh prompts per seed: (seeds · pairs) groups of K prompts with `logged` attempts each.
    k_sim, k_bt = jax.random.split(jax.random.key(seed))
    sim = simulate_counts(k_sim, np.tile(alpha, seeds), np.tile(beta, seeds), K, cfg["logged"])
    groups = [{"seed": s, "pair": labels[i]} for s in range(seeds) for i in range(p)]
    res = backtest(
        k_bt,
        cfg["logged"],
        sim.k,
        OBSERVE,
        [BUDGET],
        cfg["methods"],
        repeats=cfg["repeats"],
        groups=groups,
    )
    table = res.table
    if cfg["bayes"]:
        b = cfg["bayes"]
        nb = b["seeds"] * p
        bayes_res = backtest(
            k_bt,  # the same sub-samples as the other predictors
            cfg["logged"],
            sim.k[:nb],
            OBSERVE,
            [BUDGET],
            ["bayes"],
            repeats=cfg["repeats"],
            groups=groups[:nb],
            bayes_options={k: v for k, v in b.items() if k != "seeds"},
        )
        table = pd.concat([table, bayes_res.table], ignore_index=True)

    # MAE per seed (over the pairs), then mean ± SE over seeds; paired differences to anchored.
    per_seed = table.groupby(["method", "seed"], sort=False)["error"].mean().unstack("seed")
    summary = []
    for meth, row in per_seed.iterrows():
        vals = row.dropna().to_numpy()
        diff = (row - per_seed.loc["anchored"]).dropna().to_numpy() if "anchored" in per_seed.index else np.array([])
        summary.append(
            {
                "method": meth + (" (default)" if meth == DEFAULT_METHOD else ""),
                "seeds": len(vals),
                "mae": vals.mean(),
                "se": vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else float("nan"),
                "mae_seed0": row.get(0, np.nan),
                "minus_anchored": diff.mean() if diff.size else float("nan"),
                "se_diff": diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan"),
                "coverage": table[table.method == meth]["coverage"].mean(),
            }
        )
    seed0 = table[table.seed == 0].pivot_table(index="pair", columns="method", values="prediction", sort=False)
    truth0 = table[table.seed == 0].groupby("pair", sort=False)["truth"].first()
    pop = dict(zip(labels, np.asarray(asr_exact(alpha, beta, BUDGET))))
    rows0 = [
        {
            "pair": lab,
            "exact_beta": 100 * pop[lab],
            "truth": 100 * truth0[lab],
            **{m: 100 * seed0.loc[lab, m] for m in seed0.columns},
        }
        for lab in labels
    ]

    print(
        f"Seed 0: ASR@{BUDGET} (%) per triplet, truth = Chen estimate from {cfg['logged']} attempts, "
        f"predictions from n = {OBSERVE} (mean of {cfg['repeats']} repeats); exact_beta = population law"
    )
    print(format_table(rows0, digits=4))
    print(f"\nMAE (pp) over {p} triplets: mean ± SE over seeds; minus_anchored = paired difference to anchored")
    print(format_table(summary, digits=3))

    _figure(out, rows0, summary, labels, cfg)
    save_data(out, "saber_synthetic_rows", table.to_dict(orient="records"))
    return {
        "mae": {r["method"]: r["mae"] for r in summary},
        "se": {r["method"]: r["se"] for r in summary},
        "minus_anchored": {r["method"]: r["minus_anchored"] for r in summary},
        "seed0": rows0,
        "profile": profile,
    }


def _figure(out: Path, rows0: list[dict], summary: list[dict], labels: list[str], cfg: dict) -> None:
    fig, (ax0, ax1) = figure(1, 2, width=7.2, height=3.2)
    x = np.arange(len(labels))
    shown = [m for m in ("naive", "fit", "anchored", "plugin", DEFAULT_METHOD, "bayes") if m in rows0[0]]
    shown = list(dict.fromkeys(shown))
    ax0.axhline(0.0, color="k", lw=0.8)
    for i, m in enumerate(shown):
        off = (i - (len(shown) - 1) / 2) * 0.11
        err = [r[m] - r["truth"] for r in rows0]
        ax0.plot(x + off, err, MARKERS[i], color=COLORS[i], label=m + (" (default)" if m == DEFAULT_METHOD else ""))
    ax0.set_xticks(x, labels, rotation=70, fontsize=6)
    ax0.set_ylabel(f"prediction − truth of ASR@{BUDGET} (pp)")
    ax0.set_title(f"seed 0: K = {K} prompts, observe n = {OBSERVE}", fontsize=8, pad=2)
    if "naive" in shown:
        ax0.set_yscale("symlog", linthresh=2.0)
    ax0.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.08),
        fontsize=6,
        ncol=min(len(shown), 6),
        handletextpad=0.2,
        columnspacing=0.8,
    )
    names = [r["method"] for r in summary]
    mae = np.array([r["mae"] for r in summary])
    se = np.nan_to_num(np.array([r["se"] for r in summary]))
    order = np.argsort(mae)[::-1]
    y = np.arange(len(names))
    ax1.errorbar(mae[order], y, xerr=se[order], fmt="o", color=COLORS[0], capsize=2, lw=0.8)
    ax1.set_yticks(y, [names[i] for i in order], fontsize=7)
    ax1.set_xscale("log")
    lo, hi = max(mae.min() - se.max(), mae.min() / 2), mae.max() + se.max()
    ax1.set_xlim(lo / 1.3, hi * 1.3)
    ax1.set_xlabel(f"MAE of ASR@{BUDGET} over triplets (pp, log scale)")
    ax1.set_title(f"mean ± SE over {cfg['seeds']} seed(s)", fontsize=8)
    ax1.grid(True, axis="x", which="both")
    label_panels([ax0, ax1])
    save_figure(fig, out, "saber_synthetic", data=rows0)


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
