"""Scaling over Scaling (TTSPM, arXiv 2505.20522) with heterogeneous questions p ~ Beta(α, β): aggregate Hit@N and saturation point vs the homogeneous formula.

Panels: (a) aggregate Hit@N = 1 − B(α, β + N)/B(α, β) for Beta laws sharing the mean p̄ = 0.1 (spread set
by κ = α + β) vs the homogeneous 1 − (1 − p̄)^N, with Monte Carlo of sampled questions; (b) the marginal
gains: geometric for one p, power law ∝ N^{−(α+1)} for the mixture; (c) N*_agg / N*_hom over a grid of
(α, β) at ε = 10⁻³; (d) the coverage the homogeneous formula promises at its own N* vs the true aggregate.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "saturation_heterogeneous"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "5.8 min (measured, one process, load 5)"

PROFILES = {
    "smoke": {"questions": 2_000, "n_max": 100, "grid": 12},
    "quick": {"questions": 40_000, "n_max": 1000, "grid": 40},
    "paper": {"questions": 400_000, "n_max": 3000, "grid": 80},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from matplotlib.colors import LogNorm

    from scaling_theory.plotting import COLORS, figure, label_panels, save_data, save_figure
    from scaling_theory.saturation import heterogeneous as H
    from scaling_theory.saturation import simulate, ttspm
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    key = jax.random.key(seed)
    pbar, eps = 0.1, 1e-3
    n = np.unique(np.geomspace(1, cfg["n_max"], 60).astype(int))

    fig, axes = figure(2, 2, width=7.0, height=5.6)
    ax, axg = axes[0, 0], axes[0, 1]
    hit_hom = np.asarray(ttspm.hit_at_n(pbar, n))
    ax.plot(n, hit_hom, "k--", label=f"homogeneous, p = {pbar:g}")
    axg.plot(n, np.asarray(ttspm.marginal_gain(pbar, n)), "k--", label="homogeneous (geometric)")
    curve_rows, z_max = [], 0.0
    for i, kappa in enumerate([0.5, 2.0, 10.0, 100.0]):
        a, b = pbar * kappa, (1 - pbar) * kappa
        f = np.asarray(H.beta_hit_at_n(a, b, n))
        g = np.asarray(H.beta_marginal_gain(a, b, n))
        mc = simulate.simulate_beta_parallel(jax.random.fold_in(key, i), a, b, cfg["n_max"], cfg["questions"])
        mean, se = np.asarray(mc.mean)[n], np.asarray(mc.se)[n]
        z_max = max(z_max, float(np.max(np.abs(mean - f) / np.maximum(se, 1.0 / cfg["questions"]))))
        c = COLORS[i]
        ax.plot(n, f, color=c, label=f"κ = {kappa:g}: Beta({a:g}, {b:g})")
        sel = slice(None, None, 5)
        ax.errorbar(
            n[sel], mean[sel], yerr=2 * se[sel], fmt="o", ms=2.5, mfc="none", color=c, elinewidth=0.7, capsize=0
        )
        axg.plot(n, g, color=c, label=f"κ = {kappa:g}: ∝ N^−{a + 1:.2g}")
        axg.plot(n, np.asarray(H.beta_marginal_gain_asymptotic(a, b, n)), ":", color=c, lw=0.9)
        for j, x in enumerate(n):
            curve_rows.append(
                {
                    "alpha": a,
                    "beta": b,
                    "N": int(x),
                    "hit_aggregate": f[j],
                    "gain_aggregate": g[j],
                    "mc": mean[j],
                    "mc_se": se[j],
                    "hit_homogeneous": float(hit_hom[j]),
                }
            )
    ax.plot([], [], "ko", mfc="none", ms=3, label="MC (±2 SE)")
    ax.set(
        xscale="log", xlabel="samples N", ylabel="aggregate Hit@N", title=f"Hit@N, mean p̄ = {pbar:g}", ylim=(0, 1.45)
    )
    ax.legend(fontsize=6.2, loc="upper left", ncol=2)
    axg.axhline(eps, color="grey", lw=0.8)
    axg.text(n[0], eps * 1.3, f"ε = {eps:g}", color="grey", fontsize=7)
    axg.set(
        xscale="log",
        yscale="log",
        ylim=(1e-7, 0.2),
        xlabel="samples N",
        ylabel="marginal gain ΔF(N)",
        title="ΔF(N) (dotted: power law)",
    )
    axg.legend(fontsize=6.5, loc="lower left")

    # (c), (d): grid over (α, β)
    m = cfg["grid"]
    alphas = np.geomspace(0.05, 20, m)
    betas = np.geomspace(0.3, 300, m)
    A, B = np.meshgrid(alphas, betas, indexing="ij")
    gap = H.homogeneous_gap(A, B, eps)
    n_hom, n_agg = np.asarray(gap.n_star_homogeneous), np.asarray(gap.n_star_aggregate)
    ratio = np.where(n_hom == 0, np.nan, np.asarray(gap.ratio))
    ax = axes[1, 0]
    im = ax.pcolormesh(
        betas, alphas, ratio, norm=LogNorm(vmin=0.3, vmax=max(np.nanmax(ratio), 10)), cmap="RdBu_r", shading="auto"
    )
    cs = ax.contour(betas, alphas, A / (A + B), levels=[0.01, 0.05, 0.2, 0.5], colors="k", linewidths=0.5)
    ax.clabel(cs, fmt=lambda x: f"p̄={x:g}", fontsize=6)
    fig.colorbar(im, ax=ax, label="N*_agg / N*_hom")
    ax.set(xscale="log", yscale="log", xlabel="β", ylabel="α", title=f"N*_agg / N*_hom, ε = {eps:g}")
    ax = axes[1, 1]
    claimed = np.asarray(gap.hit_homogeneous)
    actual = np.asarray(gap.hit_aggregate)
    ok = n_hom > 0
    sc = ax.scatter(claimed[ok], actual[ok], c=np.log10(A[ok]), s=5, cmap="viridis")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    fig.colorbar(sc, ax=ax, label="log₁₀ α")
    ax.set(
        xlabel="Hit@N*_hom claimed by the homogeneous formula",
        ylabel="true aggregate Hit@N*_hom",
        title="coverage at N*_hom",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    label_panels(axes)
    grid_rows = [
        {
            "alpha": a,
            "beta": b,
            "p_mean": a / (a + b),
            "n_star_homogeneous": h,
            "n_star_aggregate": g_,
            "hit_claimed": c_,
            "hit_actual": d_,
        }
        for a, b, h, g_, c_, d_ in zip(
            A.ravel(), B.ravel(), n_hom.ravel(), n_agg.ravel(), claimed.ravel(), actual.ravel()
        )
    ]
    save_figure(fig, out, "heterogeneous_saturation", data=curve_rows)
    save_data(out, "heterogeneous_grid", grid_rows)

    table = []
    for kappa in (0.5, 2.0, 10.0, 100.0, 1e4):
        a, b = pbar * kappa, (1 - pbar) * kappa
        g = H.homogeneous_gap(a, b, eps)
        table.append(
            {
                "alpha": a,
                "beta": b,
                "n_star_hom": int(g.n_star_homogeneous),
                "n_star_agg": int(g.n_star_aggregate),
                "n_star_agg_approx": float(H.beta_saturation_point_approx(a, b, eps)),
                "hit_claimed": float(g.hit_homogeneous),
                "hit_actual": float(g.hit_aggregate),
                "gain_left": float(g.gain_left),
            }
        )
    print(format_table(table))
    fin = np.isfinite(ratio)
    summary = {
        "eps": eps,
        "table": table,
        "mc_max_z": z_max,
        "ratio_median": float(np.nanmedian(ratio)),
        "ratio_max": float(np.nanmax(ratio)),
        "fraction_aggregate_later": float(np.mean(ratio[fin] > 1)),
        "max_coverage_shortfall": float(np.max((claimed - actual)[ok])),
    }
    print(
        f"N*_agg/N*_hom over the grid: median {summary['ratio_median']:.2f}, max {summary['ratio_max']:.1f}; "
        f"coverage shortfall up to {summary['max_coverage_shortfall']:.2f}; MC max |z| = {z_max:.2f}"
    )
    return summary


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
