"""Halder & Pehlevan (arXiv 2512.19905), task difficulty: where the best-of-k law δ ∝ k⁻² breaks down.

Best-of-k (T = 0, reward = teacher), d = 10, n = 10⁴, σ = 1e-4, γ = 1e-3; the difficulty ratio
r = 2 Var_x(Δ_T)/s̄² (squared predictive bias relative to the predictive variance) is set through
|w_T|²/d. The x-average of the extreme-value constant E_x e^{Δ²/s²} diverges at r = 1; beyond it a
crossover argument predicts δ ~ k^(−2/r) up to logarithms (spec §5.6, [derived]). (a) k²δ/σ²
against k (exact quadrature over the deterministic equivalent); (b) the decay exponent fitted over
k ∈ [10⁴, 10⁶] against r, with −min(2, 2/r).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.plotting import COLORS, figure, label_panels, save_figure
from scaling_theory.stats import weighted_loglog_fit
from scaling_theory.tables import format_table

NAME = "judge_task_difficulty"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "23 s (measured, one process, load 8)"

PARAMS = dict(d=10, n=10_000, sigma=1e-4, gamma=1e-3, S=1.0)
PROFILES = {
    "smoke": dict(ratios=(0.5, 2.0), k=(1.0, 1e6, 13), fit=(1e4, 1e6), n_gh=48),
    "quick": dict(ratios=(0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0), k=(1.0, 1e6, 25), fit=(1e4, 1e6), n_gh=96),
    "paper": dict(ratios=tuple(np.round(np.geomspace(0.2, 5.0, 25), 3)), k=(1.0, 1e6, 49), fit=(1e4, 1e6), n_gh=128),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    ks = np.unique(np.round(np.geomspace(*cfg["k"])))
    rows, fit_rows = [], []
    fig, (ax, axb) = figure(1, 2, width=7.6, height=3.2)
    for i, r in enumerate(cfg["ratios"]):
        judge = analysis.with_difficulty_ratio(BLRJudge(**PARAMS, teacher_scale=1.0, n_gh=cfg["n_gh"]), r)
        delta = judge.error(ks, 0.0) / judge.sigma2
        sel = (ks >= cfg["fit"][0]) & (ks <= cfg["fit"][1])
        slope = float(weighted_loglog_fit(np.log(ks[sel]), np.log(delta[sel]))[0])
        pred = float(analysis.predicted_decay_exponent(r))
        fit_rows.append(
            {
                "ratio": float(r),
                "teacher_scale": judge.teacher_scale,
                "fitted_exponent": slope,
                "predicted_exponent": pred,
            }
        )
        for k, d in zip(ks, delta):
            rows.append(
                {
                    "ratio": float(r),
                    "k": int(k),
                    "delta_over_sigma2": float(d),
                    "k2_delta_over_sigma2": float(k * k * d),
                }
            )
        ax.plot(ks, ks**2 * delta, color=colormaps["viridis"](i / max(1, len(cfg["ratios"]) - 1)), label=f"$r$ = {r:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of samples $k$")
    ax.set_ylabel(r"$k^2\,\delta/\sigma^2$")
    ax.set_title(r"flat: $\delta\propto k^{-2}$", loc="right")
    ax.legend(fontsize=6, ncol=2)
    rr = np.array([f["ratio"] for f in fit_rows])
    axb.plot(rr, [f["fitted_exponent"] for f in fit_rows], "o", color=COLORS[0], label=r"fit over $k\in[10^4,10^6]$")
    r_line = np.geomspace(min(rr.min(), 0.2), max(rr.max(), 1.5), 200)
    axb.plot(r_line, analysis.predicted_decay_exponent(r_line), color=COLORS[1], label=r"$-\min(2,\,2/r)$")
    axb.axvline(1.0, color="0.5", lw=0.7, ls=":")
    axb.set_xscale("log")
    axb.xaxis.set_major_locator(FixedLocator([0.25, 0.5, 1.0, 2.0, 4.0]))
    axb.xaxis.set_major_formatter(ScalarFormatter())
    axb.xaxis.set_minor_formatter(NullFormatter())
    axb.set_xlabel(r"difficulty ratio $r = 2\,\mathrm{Var}_x(\Delta_T)/\bar s^2$")
    axb.set_ylabel(r"decay exponent of $\delta(k)$")
    axb.legend()
    label_panels([ax, axb])
    save_figure(fig, out, "task_difficulty", data=rows)
    from scaling_theory.plotting import save_data

    save_data(out, "decay_exponents", fit_rows)
    print(format_table(rows, digits=5))
    print(format_table(fit_rows, digits=4))
    return {"exponents": fit_rows}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
