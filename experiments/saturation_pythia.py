"""Scaling over Scaling (TTSPM, arXiv 2505.20522), predicted vs observed saturation points (its Pearson-r analysis) on Pythia × MATH (Large Language Monkeys data, 10,000 samples per problem).

Per problem, N* is predicted from a small observed budget of m samples (sub-sampled without
replacement from the 10,000) and compared with the N* observed on the full data's unbiased pass@N curve
(first N where pass@(N+1) − pass@N < ε). Predictions: the TTSPM plug-in p̂ = k_m/m, and an empirical-
Bayes rule that applies the heterogeneous formula to each problem's Beta posterior (Beta fitted per
model on the m-sample counts: ``saturation.estimation.predicted_vs_observed(..., prior="fit")``). Panels (a)–(c): predicted vs observed for three ε,
with Pearson r; (d) benchmark-level marginal gain: observed vs the homogeneous (pooled p̂) and the
Beta-aggregate predictions from the same m samples.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "saturation_pythia"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "17 s (measured, one process, load 9)"

PROFILES = {
    "smoke": {"models": 2, "budgets": [64], "eps": [1e-2, 1e-3, 1e-4], "bayes": False},
    "quick": {"models": 7, "budgets": [32, 128], "eps": [1e-2, 1e-3, 1e-4], "bayes": True},
    "paper": {"models": 7, "budgets": [16, 32, 64, 128, 256, 512], "eps": [1e-2, 1e-3, 1e-4], "bayes": True},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.io import data_path, read_counts
    from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_data, save_figure
    from scaling_theory.saturation import estimation as E
    from scaling_theory.saturation import heterogeneous as H
    from scaling_theory.saturation import ttspm
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    counts = read_counts(data_path("pythia_math_counts.csv"), ["model"])
    order = sorted(counts["model"].unique(), key=lambda s: float(s.split()[-1][:-1]) * (1e3 if s.endswith("B") else 1))
    models = order[::-1][: cfg["models"]]  # largest first
    wide_k = counts.pivot(index="model", columns="problem", values="k").loc[models]
    wide_n = counts.pivot(index="model", columns="problem", values="n").loc[models]
    c = wide_k.to_numpy(np.float64)
    n = wide_n.to_numpy(np.float64)
    key = jax.random.key(seed)
    # one key for every budget and method: each call sub-samples the same m attempts (hypergeometric from the key);
    # the posterior rule fits a Beta per model (row) on those m-sample counts (empirical Bayes, prior="fit")
    priors = {"plug-in": None, **({"Beta posterior": "fit"} if cfg["bayes"] else {})}
    pvo = {
        (m, name): E.predicted_vs_observed(key, n, c, cfg["eps"], m, prior=prior)
        for m in cfg["budgets"]
        for name, prior in priors.items()
    }
    m_show = max(cfg["budgets"])

    rows, results = [], []
    for i_e, e in enumerate(cfg["eps"]):
        for m in cfg["budgets"]:
            for name in priors:
                res = pvo[(m, name)]
                results.append(
                    {
                        "eps": e,
                        "m": m,
                        "method": name,
                        "problems": int(res.problems[i_e]),
                        "r": float(res.r[i_e]),
                        "r_log": float(res.r_log[i_e]),
                        "median_abs_error": float(res.median_abs_error[i_e]),
                    }
                )
                pred, obs = res.predicted[i_e], res.observed[i_e]
                for i, model in enumerate(models):
                    for j in range(c.shape[1]):
                        rows.append(
                            {
                                "model": model,
                                "problem": int(wide_k.columns[j]),
                                "eps": e,
                                "m": m,
                                "method": name,
                                "k_m": int(res.k_m[i, j]),
                                "c": int(c[i, j]),
                                "predicted": pred[i, j],
                                "observed": obs[i, j],
                            }
                        )

    fig, axes = figure(2, 2, width=7.0, height=6.2)
    show_method = "Beta posterior" if cfg["bayes"] else "plug-in"
    shown = pvo[(m_show, show_method)]
    for i_e, (ax, e) in enumerate(zip(np.ravel(axes)[:3], cfg["eps"])):
        obs, pred, use = shown.observed[i_e], shown.predicted[i_e], shown.used[i_e]
        for i, model in enumerate(models):
            u = use[i]
            ax.scatter(
                obs[i, u] + 1,
                pred[i, u] + 1,
                s=6,
                alpha=0.7,
                color=COLORS[i % len(COLORS)],
                marker=MARKERS[i % len(MARKERS)],
                label=model,
                linewidths=0,
            )
        lim = [1, max(np.nanmax(np.where(use, obs, np.nan)), np.nanmax(np.where(use, pred, np.nan))) * 1.5 + 1]
        ax.plot(lim, lim, "k--", lw=0.8)
        rs = {r["method"]: r["r"] for r in results if r["eps"] == e and r["m"] == m_show}
        txt = "\n".join(f"r ({k}) = {v:.3f}" for k, v in rs.items())
        ax.text(0.03, 0.97, txt, transform=ax.transAxes, va="top", fontsize=7)
        ax.set(
            xscale="log",
            yscale="log",
            xlim=lim,
            ylim=lim,
            xlabel="observed N* + 1 (10,000 samples)",
            ylabel=f"predicted N* + 1 ({show_method}, m = {m_show})",
            title=f"ε = {e:g}",
        )
    np.ravel(axes)[0].legend(fontsize=6, loc="lower right", markerscale=1.5)

    # (d) benchmark-level gain for two models: observed vs homogeneous and Beta-aggregate predictions
    ax = axes[1, 1]
    grid = np.unique(np.geomspace(1, 5000, 60).astype(int))
    gain_rows = []
    for i in range(min(2, len(models))):
        col = COLORS[i]
        obs_g = np.asarray(E.observed_aggregate_gain(n[i], c[i], grid))
        km = pvo[(m_show, "plug-in")].k_m[i]
        pbar = km.mean() / m_show
        hom = np.asarray(ttspm.marginal_gain(pbar, grid))
        ax.plot(grid, obs_g, color=col, label=f"{models[i]}: observed")
        ax.plot(grid, hom, "--", color=col, lw=1.0, label=f"homogeneous p̂ = {pbar:.3g}")
        agg = None
        if cfg["bayes"]:
            fit = pvo[(m_show, "Beta posterior")]
            agg = np.asarray(H.beta_marginal_gain(fit.alpha[i], fit.beta[i], grid))
            ax.plot(grid, agg, ":", color=col, lw=1.4, label="Beta aggregate (fit on m)")
        for j, x in enumerate(grid):
            gain_rows.append(
                {
                    "model": models[i],
                    "N": int(x),
                    "observed": obs_g[j],
                    "homogeneous": hom[j],
                    "beta_aggregate": None if agg is None else agg[j],
                }
            )
    for e in cfg["eps"]:
        ax.axhline(e, color="grey", lw=0.6, ls="-")
    ax.set(
        xscale="log",
        yscale="log",
        ylim=(1e-7, 0.2),
        xlabel="samples N",
        ylabel="benchmark ΔF(N)",
        title=f"aggregate gain, predictions from m = {m_show}",
    )
    ax.legend(fontsize=6)
    label_panels(axes)
    save_figure(fig, out, "pythia_saturation", data=rows)
    save_data(out, "pythia_correlations", results)
    save_data(out, "pythia_aggregate_gain", gain_rows)
    print(format_table(results))
    return {"models": models, "budgets": cfg["budgets"], "correlations": results}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
