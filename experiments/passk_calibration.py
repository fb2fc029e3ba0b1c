"""Calibration of the 90% intervals of every pass@N predictor (SABER, arXiv 2601.22636, Eq. 14 and beyond).

Synthetic replicates of the SABER setting: K = 159 problems with θ_i ~ Beta(α, β), n = 100 observed
attempts each, predict ASR@1000. Each replicate draws fresh θ_i. Two targets:

* the observed problems' ASR@N, mean_i [1 − (1−θ_i)^N] — what a back-test measures (primary);
* the population law 1 − B(α, β+N)/B(α, β) — what ``plugin`` estimates.

Coverage = fraction of replicates whose interval contains the target (binomial SE
sqrt(0.9·0.1/R) ≈ 2.1 points for R = 200). Two regimes: SABER's simulation truth (α, β) = (0.4, 4)
and a Pythia-like heavy-β law (0.2, 30). Figure: coverage per predictor with 95% binomial error bars.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from scaling_theory.passk.beta_law import asr_exact
from scaling_theory.passk.methods import DEFAULT_METHOD
from scaling_theory.passk.mle import fit
from scaling_theory.passk.predictors import predict
from scaling_theory.passk.simulate import finite_truth, simulate_counts
from scaling_theory.plotting import COLORS, figure, label_panels, save_figure
from scaling_theory.tables import format_table

NAME = "passk_calibration"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 20–30 min on 2 CPU cores (estimate: 10× the quick replicates, NUTS 500/500 on both configurations)"
CONFIGS = (("SABER sim", 0.4, 4.0), ("Pythia-like", 0.2, 30.0))
K, OBSERVE, BUDGET, LEVEL = 159, 100, 1000, 0.9
ALL = ("naive", "fit", "anchored", "plugin", "plugin_zi", "eb", "eb_zi")
PROFILES = {
    "smoke": dict(configs=1, replicates=32, methods=("anchored", "eb"), bayes=None),
    "quick": dict(  # binomial SE of a coverage ≈ 3 points at 100 replicates (paper: 1000, ≈ 1 point)
        configs=2, replicates=100, methods=ALL, bayes=dict(configs=1, num_warmup=150, num_samples=150, max_tree_depth=4)
    ),
    "paper": dict(
        configs=2,
        replicates=1000,
        methods=ALL,
        bayes=dict(configs=2, num_warmup=500, num_samples=500, max_tree_depth=5),
    ),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    r = cfg["replicates"]
    rows = []
    key = jax.random.key(seed)
    for ci, (label, alpha, beta) in enumerate(CONFIGS[: cfg["configs"]]):
        k_sim, k_pred = jax.random.split(jax.random.fold_in(key, ci))
        sim = simulate_counts(k_sim, np.full(r, alpha), np.full(r, beta), K, OBSERVE)
        target = finite_truth(sim.log1m_theta, [BUDGET])[:, 0]  # (R,)
        population = float(asr_exact(alpha, beta, BUDGET))
        methods = list(cfg["methods"])
        if cfg["bayes"] and ci < cfg["bayes"]["configs"]:
            methods.append("bayes")
        plain = fit(OBSERVE, sim.k)
        zi = fit(OBSERVE, sim.k, zero_inflated=True) if any(m in ("plugin_zi", "eb_zi") for m in methods) else None
        for meth in methods:
            opts = {k: v for k, v in (cfg["bayes"] or {}).items() if k != "configs"}
            res = zi if meth in ("plugin_zi", "eb_zi") else plain
            p = predict(
                k_pred,
                OBSERVE,
                sim.k,
                [BUDGET],
                meth,
                level=LEVEL,
                fit_result=None if meth in ("naive", "combinatorial", "fit", "bayes") else res,
                bayes_options=opts,
            )
            asr, lo, hi = p.asr[:, 0], p.lower[:, 0], p.upper[:, 0]
            cov = np.mean((lo <= target) & (target <= hi))
            cov_pop = np.mean((lo <= population) & (population <= hi))
            rows.append(
                {
                    "config": label,
                    "alpha": alpha,
                    "beta": beta,
                    "method": meth,
                    "replicates": r,
                    "coverage": cov,
                    "se": np.sqrt(cov * (1 - cov) / r),
                    "coverage_population": cov_pop,
                    "width": 100 * float(np.median(hi - lo)),
                    "mae": 100 * float(np.mean(np.abs(asr - target))),
                    "bias": 100 * float(np.mean(asr - target)),
                }
            )
    print(
        f"Coverage of the {LEVEL:.0%} intervals of ASR@{BUDGET} from n = {OBSERVE}, K = {K}; target = the observed "
        f"problems' ASR@N (coverage_population: the Beta law's); width (median), mae, bias in pp"
    )
    print(format_table(rows, digits=3))
    _figure(out, rows, cfg)
    return {"rows": rows, "profile": profile}


def _figure(out: Path, rows: list[dict], cfg: dict) -> None:
    configs = list(dict.fromkeys(r["config"] for r in rows))
    fig, axes = figure(1, len(configs), width=3.6 * len(configs), height=2.9, squeeze=False)
    for ax, conf in zip(axes[0], configs):
        sub = [r for r in rows if r["config"] == conf]
        y = np.arange(len(sub))
        cov = np.array([r["coverage"] for r in sub])
        se = np.array([r["se"] for r in sub])
        ax.errorbar(cov, y, xerr=1.96 * se, fmt="o", color=COLORS[0], capsize=2, lw=0.8, label="observed problems")
        ax.plot([r["coverage_population"] for r in sub], y, "x", color=COLORS[1], label="population law")
        ax.axvline(LEVEL, color="k", ls="--", lw=0.8)
        ax.set_yticks(
            y, [r["method"] + (" (default)" if r["method"] == DEFAULT_METHOD else "") for r in sub], fontsize=7
        )
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel(f"coverage of the {LEVEL:.0%} interval of ASR@{BUDGET}")
        a, b = sub[0]["alpha"], sub[0]["beta"]
        ax.set_title(f"{conf}: α = {a:g}, β = {b:g}; {sub[0]['replicates']} replicates", fontsize=8)
        ax.legend(loc="center left", fontsize=6)
    label_panels(axes[0])
    save_figure(fig, out, "calibration", data=rows)


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
