"""Halder & Pehlevan (arXiv 2512.19905), Remark 4: optimal temperature of reward-weighted selection.

The official finite-T setting (d = 10, n = 10⁴, σ = 1e-4, γ = 1e-3, |w_T|²/d = 4) with reward
misspecification c = 10: (a) δ/σ² against t = T/(2σ²) at fixed k, exact quadrature, with the
numerical optimum t* (dots) and the expansion's closed form t* = 2(1 − 2/k)Ĉ₂/Ĉ₁ (crosses);
(b) t* against k, numerical vs expansion. Also the pointwise check of spec §7 (k = 10, Δ_T = 0,
Δ_R = 4 s: expansion 27.2, exact optimum between 24 and 32).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.plotting import COLORS, figure, label_panels, save_figure
from scaling_theory.tables import format_table

NAME = "judge_temperature"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "44 s (measured, one process, load 9)"

PARAMS = dict(d=10, n=10_000, sigma=1e-4, gamma=1e-3, S=1.0, teacher_scale=4.0, c=10.0)
PROFILES = {
    "smoke": dict(ts=(0.3, 300.0, 25), curve_ks=(4, 16), star_ks=(4, 16)),
    "quick": dict(ts=(0.3, 300.0, 61), curve_ks=(2, 4, 16, 64), star_ks=(3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)),
    "paper": dict(ts=(0.1, 1000.0, 241), curve_ks=(2, 4, 16, 64), star_ks=tuple(range(3, 129))),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    judge = BLRJudge(**PARAMS)
    s2 = judge.sigma2
    ts = np.geomspace(*cfg["ts"])
    ks = np.array(sorted(set(cfg["curve_ks"]) | set(cfg["star_ks"])))
    grid = analysis.error_grid(judge, [judge.c], ts, ks)[0] / s2  # (t, k)
    coeffs = analysis.expansion_coefficients(judge)
    rows, star_rows = [], []
    for j, k in enumerate(ks):
        best = analysis.refine_log_minimum(ts, grid[:, j])
        t_exp = float(coeffs.optimal_t(k)) if k > 2 else float("nan")
        star_rows.append(
            {
                "k": int(k),
                "t_star_exact": best.x,
                "delta_star": best.y,
                "interior": best.interior,
                "t_star_expansion": t_exp,
            }
        )
    for i, t in enumerate(ts):
        rows.append({"t": float(t), **{f"k={k}": float(grid[i, j]) for j, k in enumerate(ks) if k in cfg["curve_ks"]}})
    fig, (ax, axb) = figure(1, 2, width=7.6, height=3.2)
    stars = {r["k"]: r for r in star_rows}
    for i, k in enumerate(cfg["curve_ks"]):
        j = int(np.where(ks == k)[0][0])
        col = COLORS[i % len(COLORS)]
        ax.plot(ts, grid[:, j], color=col, label=f"$k$ = {k}")
        r = stars[k]
        if r["interior"]:
            ax.plot([r["t_star_exact"]], [r["delta_star"]], "o", color=col, ms=4)
        if np.isfinite(r["t_star_expansion"]):
            y_exp = np.interp(np.log(r["t_star_expansion"]), np.log(ts), grid[:, j])
            ax.plot([r["t_star_expansion"]], [y_exp], "x", color=col, ms=5)
    ax.set_xscale("log")
    ax.set_xlabel(r"temperature $t = T/(2\sigma^2)$")
    ax.set_ylabel(r"$\delta/\sigma^2$")
    ax.set_title(r"$c=10$; $\bullet$ exact $t^*$, $\times$ expansion", loc="right")
    ax.legend()
    kk = np.array([r["k"] for r in star_rows])
    inner = np.array([r["interior"] for r in star_rows])
    t_ex = np.array([r["t_star_exact"] for r in star_rows])
    axb.plot(kk[inner], t_ex[inner], "o-", color=COLORS[0], label="exact optimum")
    if (~inner).any():
        axb.plot(
            kk[~inner], t_ex[~inner], "o", mfc="none", color=COLORS[0], label=r"at $t_{\min}$ of the grid ($t^*\to 0$)"
        )
    axb.plot(
        kk, [r["t_star_expansion"] for r in star_rows], "x--", color=COLORS[1], label=r"$2(1-2/k)\hat C_2/\hat C_1$"
    )
    axb.set_xscale("log")
    axb.set_xlabel("number of samples $k$")
    axb.set_ylabel(r"optimal temperature $t^*$")
    axb.legend()
    label_panels([ax, axb])
    save_figure(fig, out, "delta_vs_temperature", data=rows)
    from scaling_theory.plotting import save_data

    save_data(out, "optimal_temperature", star_rows)
    print(format_table(rows, digits=5))
    print(format_table(star_rows, digits=5))
    pointwise = None
    if profile != "smoke":  # spec §7 check (its own quadrature shapes: skipped in the smoke run)
        point = analysis.optimal_temperature_pointwise(10, mean=0.0, std=1.0, teacher=0.0, reward=-4.0)
        pointwise = {"t_star_exact": point.t_star, "t_star_expansion": point.t_expansion}
        print(f"pointwise k=10, Δ_T=0, Δ_R=4: exact t* = {point.t_star:.3f}, expansion t* = {point.t_expansion:.3f}")
    return {
        "optimal_t": star_rows,
        "pointwise_k10_dR4": pointwise,
        "coefficients_over_sigma2": {"C0": coeffs.c0 / s2, "C1": coeffs.c1 / s2, "C2": coeffs.c2 / s2},
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
