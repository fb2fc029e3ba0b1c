"""Chinchilla (Hoffmann et al. 2022, App. D.2) parameter recovery on synthetic IsoFLOP data: bias of the fitted law and coverage of bootstrap intervals.

R data sets of a Chinchilla-style IsoFLOP study (9 budgets 6e18–3e21 FLOPs × sizes around the
compute-optimal N*) are drawn from Besiroglu et al.'s (2024) fitted law with multiplicative
log-normal noise. Each is fitted with the standard recipe (Huber δ = 1e-3 on log loss, summed,
multi-start L-BFGS from the grid — a regular subset of the 4,500 starts at the quick profile) and
bootstrapped over runs. Panels: (a) θ̂/θ for A, B, E, α, β and the compute-optimal N*(10²⁴ FLOPs);
(b) coverage of the nominal 80 % and 95 % percentile intervals (± binomial SE); (c) the sampling
spread of N̂*(C) against the truth. The paper profile also compares the bootstrap's 95 % intervals
of one data set with the NumPyro posterior's.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "fitting_recovery"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "hours on 2 CPU cores (estimate: every start instead of every 100th, 5× the data sets, NUTS)"
GPU = True  # the paper profile is meant for an accelerator

PROFILES = {
    # smoke: 3 data sets × 9 starts = 3 × 9 replicates × 1 start, so both calls share one compiled loop
    "smoke": {"datasets": 3, "boot": 9, "boot_starts": 1, "per_budget": 9, "start_step": 500, "posterior": False},
    # quick: no posterior comparison (NUTS on 243 runs: ~35 s of compilation and sampling, ~45 % of the run)
    "quick": {"datasets": 40, "boot": 100, "boot_starts": 4, "per_budget": 27, "start_step": 100, "posterior": False},
    "paper": {"datasets": 200, "boot": 200, "boot_starts": 4, "per_budget": 27, "start_step": 1, "posterior": True},
}
SIGMA = 0.02  # log-normal noise on the loss (≈ 2 %)
C_STAR = 1e24  # budget of the derived quantity N*(C)
LEVELS = (0.8, 0.95)


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.fitting import bootstrap_many, chinchilla_grid, compute_optimal, fit_many
    from scaling_theory.fitting.synthetic import BESIROGLU, isoflop_design, simulate_losses
    from scaling_theory.plotting import COLORS, band, figure, label_panels, save_data, save_figure
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    truth = dict(BESIROGLU)
    design = isoflop_design(truth, per_budget=cfg["per_budget"])
    x = {"N": design["N"], "D": design["D"]}
    key = jax.random.key(seed)  # the run's one key: the data from it, the bootstrap and the posterior from fold_in
    losses = simulate_losses(truth, x["N"], x["D"], SIGMA, key, n_sets=cfg["datasets"])
    starts = chinchilla_grid()[:: cfg["start_step"]]
    fits = fit_many("chinchilla", [(x, y) for y in losses], starts=starts)
    draws = bootstrap_many(jax.random.fold_in(key, 1), fits, cfg["boot"], n_starts=cfg["boot_starts"])

    names = ["A", "B", "E", "alpha", "beta", "N*"]
    true_n = float(compute_optimal(truth, C_STAR).N)
    true_vals = {**truth, "N*": true_n}
    est = {k: np.array([f.params[k] for f in fits]) for k in truth}
    est["N*"] = np.array([float(compute_optimal(f.params, C_STAR).N) for f in fits])
    covered = {lev: {k: [] for k in names} for lev in LEVELS}
    for d in draws:
        p = d.params
        p["N*"] = compute_optimal(p, C_STAR).N
        for lev in LEVELS:
            q = [(1 - lev) / 2, (1 + lev) / 2]
            for k in names:
                lo, hi = np.quantile(p[k], q)
                covered[lev][k].append(lo <= true_vals[k] <= hi)

    R = cfg["datasets"]
    rows = []
    for k in names:
        ratio = est[k] / true_vals[k]
        row = {
            "param": k,
            "true": true_vals[k],
            "median_ratio": float(np.median(ratio)),
            "mean_log_ratio": float(np.mean(np.log(ratio))),
            "se_log_ratio": float(np.std(np.log(ratio)) / np.sqrt(R)),
            "iqr_ratio": float(np.subtract(*np.quantile(ratio, [0.75, 0.25]))),
        }
        for lev in LEVELS:
            row[f"coverage_{int(lev * 100)}"] = float(np.mean(covered[lev][k]))
        rows.append(row)
    print(format_table(rows))
    converged = float(np.mean([f.converged for f in fits]))
    boot_converged = float(np.mean([d.converged.mean() for d in draws]))

    # ---- figure
    fig, axes = figure(1, 3, width=10.0, height=3.0)
    ax = axes[0]
    ax.boxplot(
        [est[k] / true_vals[k] for k in names],
        widths=0.5,
        showfliers=True,
        flierprops={"markersize": 2},
        medianprops={"color": COLORS[1]},
    )
    ax.set_xticks(range(1, len(names) + 1), ["$A$", "$B$", "$E$", r"$\alpha$", r"$\beta$", r"$N^*(10^{24})$"])
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_ylabel(r"estimate / truth, $\hat\theta/\theta$")
    ax.set_title(f"{R} data sets × {design['N'].size} runs, {int(SIGMA * 100)} % noise")

    ax = axes[1]
    pos = np.arange(len(names))
    for j, lev in enumerate(LEVELS):
        cov = [np.mean(covered[lev][k]) for k in names]
        ax.errorbar(
            pos + (j - 0.5) * 0.25,
            cov,
            yerr=[np.sqrt(c * (1 - c) / R) for c in cov],
            fmt="o",
            color=COLORS[j],
            capsize=2,
            label=f"nominal {int(lev * 100)} %",
        )
        ax.axhline(lev, color=COLORS[j], lw=0.8, ls="--")
    ax.set_xticks(pos, ["$A$", "$B$", "$E$", r"$\alpha$", r"$\beta$", r"$N^*$"])
    ax.set_ylim(min(0.5, min(np.mean(covered[lev][k]) for lev in LEVELS for k in names) - 0.05), 1.02)
    ax.set_ylabel("coverage of the truth (± binomial SE)")
    ax.legend(loc="lower left")
    ax.set_title(f"percentile bootstrap, B = {cfg['boot']}")

    ax = axes[2]
    budgets = np.logspace(19, 25, 25)
    n_true = compute_optimal(truth, budgets).N
    ratio = np.array([compute_optimal(f.params, budgets).N for f in fits]) / n_true
    lo, med, hi = np.quantile(ratio, [0.05, 0.5, 0.95], axis=0)
    band(ax, budgets, lo, hi, COLORS[0], label="5–95 % of data sets")
    ax.plot(budgets, med, color=COLORS[0], label="median")
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="truth")
    ax.axvspan(min(design["C"]), max(design["C"]), color="0.5", alpha=0.15, lw=0, label="budgets fitted")
    ax.set_xscale("log")
    ax.set_xlabel("compute $C$ (FLOPs)")
    ax.set_ylabel(r"$\hat N^*(C)\,/\,N^*(C)$")
    ax.set_title("compute-optimal size, extrapolated")
    ax.legend(loc="lower left")
    label_panels(axes)
    save_figure(fig, out, "recovery", data=rows)
    save_data(
        out,
        "recovery_allocation",
        [
            {"C": c, "N_true": t, "ratio_q05": a, "ratio_median": m, "ratio_q95": b}
            for c, t, a, m, b in zip(budgets, n_true, lo, med, hi)
        ],
    )

    summary = {
        "datasets": R,
        "runs": int(design["N"].size),
        "starts": int(starts.shape[0]),
        "boot": cfg["boot"],
        "fraction_converged": converged,
        "bootstrap_fraction_converged": boot_converged,
        "params": {r["param"]: {k: v for k, v in r.items() if k != "param"} for r in rows},
    }
    if cfg["posterior"]:
        summary["posterior_vs_bootstrap"] = _posterior_comparison(jax.random.fold_in(key, 2), fits[0], draws[0])
    return summary


def _posterior_comparison(key: jax.Array, result, draws) -> dict:
    """95 % intervals of data set 0 from the bootstrap and from the NumPyro posterior (Student-t, ν = 4)."""
    from scaling_theory.fitting.bayes import posterior
    from scaling_theory.tables import format_table

    post = posterior(key, result, num_warmup=400, num_samples=800)
    b, p = draws.intervals(0.95), post.intervals(0.95)
    rows = [
        {
            "param": k,
            "fit": result.params[k],
            "boot_lo": b.bounds(k)[0],
            "boot_hi": b.bounds(k)[1],
            "post_lo": p.bounds(k)[0],
            "post_hi": p.bounds(k)[1],
        }
        for k in result.params
    ]
    print(format_table(rows))
    return {
        "intervals": rows,
        "divergences": post.diagnostics["divergences"],
        "min_n_eff": min(post.diagnostics["n_eff"].values()),
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
