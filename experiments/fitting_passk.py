"""How Do Large Language Monkeys Get Their Power (Laws)? (Schaeffer et al. 2025), Table 1: −log pass@k power laws of Pythia on MATH, fitted with scaling_theory.fitting and compared with the passk exponent estimators.

Per Pythia model (7 sizes × 128 MATH problems × 10,000 samples, Large Language Monkeys data),
pass_D@k is the mean over problems of Chen's unbiased pass@k on Schaeffer et al.'s k grid, and
−log pass_D@k ≈ a·k^(−b) is fitted (i) by least squares of log(−log pass_D@k) on log k — Schaeffer's
Table 1 recipe — as the ``power_law`` with squared log residuals, with a 95 % interval from a
bootstrap over *problems* (the k points of one curve are not independent), and (ii) with the
robust Huber loss. Compared with ``passk.exponent.least_squares_exponent`` (same recipe, separate
code), ``passk.exponent.distributional_exponent`` (discretised Beta fit of the pass@1 distribution)
and the values printed in Schaeffer et al.'s Table 1. Panels: (a) the curves and least-squares fits,
(b) the exponent b and (c) the prefactor a per model.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "fitting_passk"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "55 s (measured, one process, load 9–10)"

PROFILES = {
    "smoke": {"models": 2, "boot": 10},
    "quick": {"models": 7, "boot": 200},
    "paper": {"models": 7, "boot": 1000},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    import pandas as pd
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from scaling_theory.fitting import fit_many
    from scaling_theory.fitting.data import parse_suffixed
    from scaling_theory.io import data_path, read_counts
    from scaling_theory.passk.exponent import (
        SCHAEFFER_KS,
        SCHAEFFER_TABLE1,
        bootstrap_pass_curves,
        distributional_exponent,
        least_squares_exponent,
    )
    from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_data, save_figure
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    counts = read_counts(data_path("pythia_math_counts.csv"), ["model"])
    sizes = {m: float(parse_suffixed(pd.Series([m.split()[-1]])).iloc[0]) for m in counts["model"].unique()}
    models = sorted(sizes, key=sizes.get)
    models = models[:: max(1, len(models) // cfg["models"])][: cfg["models"]] if cfg["models"] < len(models) else models
    wide = counts.pivot(index="model", columns="problem", values="k").loc[models].to_numpy(np.float64)
    n = float(counts["n"].max())
    ks = np.array([k for k in SCHAEFFER_KS if k <= n], np.float64)

    # pass_D@k per model (replicate 0) and per problem-bootstrap replicate (problems resampled with
    # replacement), all in one call
    all_curves = bootstrap_pass_curves(jax.random.key(seed), n, wide, ks, cfg["boot"])  # models × (B + 1) × K
    curves = all_curves[:, 0]  # models × K

    def datasets(curve_rows):
        sets = []
        for c in curve_rows:
            ok = (c > 0) & (c < 1)  # log(−log pass@k) is finite
            sets.append(({"x": ks[ok]}, -np.log(c[ok])))
        return sets

    # one batched call per loss for every model and replicate (the loss is not compiled in)
    sets = datasets(all_curves.reshape(-1, ks.size))
    ls_all = fit_many("power_law", sets, loss="mse")
    hub_all = fit_many("power_law", sets, loss="huber", delta=1e-3)
    B1 = cfg["boot"] + 1
    ls = [ls_all[i * B1] for i in range(len(models))]
    hub = [hub_all[i * B1] for i in range(len(models))]
    boot_b = np.array([[ls_all[i * B1 + r].params["b"] for r in range(1, B1)] for i in range(len(models))])
    boot_a = np.array([[ls_all[i * B1 + r].params["a"] for r in range(1, B1)] for i in range(len(models))])

    # the passk estimators, batched over the models
    pk_ls = least_squares_exponent(np.full_like(wide, n), wide, ks=ks)
    pk_dist = distributional_exponent(np.full_like(wide, n), wide)
    rows = []
    for i, m in enumerate(models):
        t1 = SCHAEFFER_TABLE1.get(m, (np.nan, np.nan))
        b_lo, b_hi = np.quantile(boot_b[i], [0.025, 0.975])
        a_lo, a_hi = np.quantile(boot_a[i], [0.025, 0.975])
        rows.append(
            {
                "model": m,
                "params": sizes[m],
                "a_ls": ls[i].params["a"],
                "b_ls": ls[i].params["b"],
                "b_lo": b_lo,
                "b_hi": b_hi,
                "a_lo": a_lo,
                "a_hi": a_hi,
                "a_huber": hub[i].params["a"],
                "b_huber": hub[i].params["b"],
                "a_passk_ls": float(np.atleast_1d(pk_ls["a"])[i]),
                "b_passk_ls": float(np.atleast_1d(pk_ls["b"])[i]),
                "a_passk_dist": float(np.atleast_1d(pk_dist["a"])[i]),
                "b_passk_dist": float(np.atleast_1d(pk_dist["b"])[i]),
                "a_table1": t1[0],
                "b_table1": t1[1],
            }
        )
    print(
        format_table(
            rows,
            columns=[
                "model",
                "a_ls",
                "b_ls",
                "b_lo",
                "b_hi",
                "b_huber",
                "b_passk_ls",
                "b_passk_dist",
                "a_table1",
                "b_table1",
            ],
        )
    )

    # ---- figure
    fig, axes = figure(1, 3, width=10.0, height=3.0)
    ax = axes[0]
    curve_rows = []
    for i, m in enumerate(models):
        color = COLORS[i % len(COLORS)]
        fitted = ls[i].predict({"x": ks})
        ax.plot(ks, -np.log(curves[i]), MARKERS[i % len(MARKERS)], ms=2, color=color, alpha=0.6)
        ax.plot(ks, fitted, color=color, lw=1.1, label=m.replace("Pythia ", ""))
        curve_rows += [
            {"model": m, "k": k, "neg_log_pass": v, "fit": f} for k, v, f in zip(ks, -np.log(curves[i]), fitted)
        ]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per problem $k$")
    ax.set_ylabel(r"$-\log \mathrm{pass}_D@k$")
    ax.legend(title="Pythia", ncols=2, loc="lower left")
    ax.set_title("MATH, 128 problems: least-squares fits")

    params = np.array([r["params"] for r in rows])
    methods = [
        ("ls", "this module, least squares (95 % CI)"),
        ("huber", "this module, Huber δ=1e-3"),
        ("passk_ls", "passk least squares"),
        ("passk_dist", "passk distributional"),
        ("table1", "Schaeffer et al., Table 1"),
    ]
    for ax, par in ((axes[1], "b"), (axes[2], "a")):
        for j, (key, label) in enumerate(methods):
            shift = 1.0 + 0.06 * (j - 2)
            y = np.array([r[f"{par}_{key}"] for r in rows])
            style = {
                "color": "k" if key == "table1" else COLORS[j],
                "marker": "x" if key == "table1" else MARKERS[j],
                "ls": "none",
                "label": label,
                "ms": 4,
            }
            if key == "ls":
                lo = y - np.array([r[f"{par}_lo"] for r in rows])
                hi = np.array([r[f"{par}_hi"] for r in rows]) - y
                ax.errorbar(params * shift, y, yerr=[lo, hi], capsize=2, **style)
            else:
                ax.plot(params * shift, y, **style)
        ax.set_xscale("log")
        ax.set_xlabel("model parameters")
    axes[1].set_ylabel("exponent $b$")
    axes[2].set_ylabel("prefactor $a$")
    axes[2].set_yscale("log")
    for ax in (axes[0], axes[2]):
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    axes[1].legend(loc="upper left", fontsize=6.5)
    label_panels(axes)
    save_figure(fig, out, "passk_power_laws", data=rows)
    save_data(out, "passk_curves", curve_rows)

    matched = [r for r in rows if np.isfinite(r["b_table1"])]
    return {
        "models": models,
        "boot": cfg["boot"],
        "max_abs_b_diff_vs_passk_least_squares": float(max(abs(r["b_ls"] - r["b_passk_ls"]) for r in rows)),
        "max_abs_b_diff_vs_table1": float(max(abs(r["b_ls"] - r["b_table1"]) for r in matched)) if matched else None,
        "max_rel_a_diff_vs_table1": float(max(abs(r["a_ls"] / r["a_table1"] - 1) for r in matched))
        if matched
        else None,
        "table": rows,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
