"""Halder & Pehlevan (arXiv 2512.19905), Remark 3: phase diagram of the optimal number of samples k*.

Official finite-T setting (d = 10, n = 10⁴, σ = 1e-4, γ = 1e-3, |w_T|²/d = 4). For each reward
misspecification c (μ_R = μ_T − c(m − μ_T)) and temperature t = T/(2σ²), k* = argmin_k δ(k) over
k ≤ K from the exact quadrature (colour; grey: no finite optimum up to K, δ still decreasing). The
line is the expansion's boundary t = 3Ĉ₂/Ĉ₁(c) below which a finite k* appears (spec §5.2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm

from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.plotting import figure, save_figure
from scaling_theory.tables import format_table

NAME = "judge_phase_k"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "2.6 min (measured, one process, load 6)"

PARAMS = dict(d=10, n=10_000, sigma=1e-4, gamma=1e-3, S=1.0, teacher_scale=4.0)
PROFILES = {
    "smoke": dict(cs=(0.0, 40.0, 4), ts=(0.3, 100.0, 4), k_max=16),
    "quick": dict(cs=(0.0, 40.0, 17), ts=(0.3, 100.0, 16), k_max=128),
    "paper": dict(cs=(0.0, 40.0, 41), ts=(0.1, 300.0, 40), k_max=512),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    cs, ts = np.linspace(*cfg["cs"]), np.geomspace(*cfg["ts"])
    ks = np.arange(1, cfg["k_max"] + 1)
    base = BLRJudge(**PARAMS)
    grid = analysis.error_grid(base, cs, ts, ks)  # (c, t, k)
    i_min = np.argmin(grid, axis=-1)
    finite = (i_min < len(ks) - 1) & (grid[..., -1] > grid.min(axis=-1) * (1 + 1e-9))
    k_star = np.where(finite, ks[i_min], np.inf)
    boundary = np.array([analysis.expansion_coefficients(BLRJudge(**PARAMS, c=c)).finite_k_threshold() for c in cs])
    rows = []
    for a, c in enumerate(cs):
        for b, t in enumerate(ts):
            rows.append(
                {
                    "c": float(c),
                    "t": float(t),
                    "k_star": None if not finite[a, b] else int(k_star[a, b]),
                    "delta_min_over_sigma2": float(grid[a, b].min() / base.sigma2),
                    "delta_kmax_over_sigma2": float(grid[a, b, -1] / base.sigma2),
                }
            )
    fig, ax = figure(width=4.6, height=3.4)
    levels = np.arange(0, int(np.log2(cfg["k_max"])) + 2)
    code = np.where(finite, np.log2(np.where(finite, k_star, 1)), np.nan)
    cmap = colormaps["viridis"].with_extremes(bad="0.82")
    mesh = ax.pcolormesh(cs, ts, code.T, cmap=cmap, norm=BoundaryNorm(levels - 0.5, cmap.N), shading="nearest")
    cb = fig.colorbar(mesh, ax=ax, ticks=levels[:-1])
    cb.ax.set_yticklabels([f"{2 ** int(v)}" for v in levels[:-1]])
    cb.set_label(r"optimal $k^*$ (grey: none $\leq$ " + f"{cfg['k_max']})")
    ax.plot(cs, boundary, color="#D55E00", lw=1.6, label=r"expansion: $t = 3\hat C_2/\hat C_1$")
    ax.set_yscale("log")
    ax.set_ylim(ts[0], ts[-1])
    ax.set_xlabel(r"reward misspecification $c$ ($\mu_R=\mu_T-c(m-\mu_T)$)")
    ax.set_ylabel(r"temperature $t=T/(2\sigma^2)$")
    ax.legend(loc="upper left")
    save_figure(fig, out, "phase_optimal_k", data=rows)
    print(format_table(rows, digits=5))
    bnd = [{"c": float(c), "t_boundary_expansion": float(b)} for c, b in zip(cs, boundary)]
    print(format_table(bnd, digits=5))
    return {
        "finite_fraction": float(finite.mean()),
        "boundary_expansion": bnd,
        "k_star_range": [int(k_star[finite].min()), int(k_star[finite].max())] if finite.any() else None,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
