"""Testbed experiment 1 (theory vs empirics): pass@k for k = 1…1024 on the transformer testbed vs the
passk extrapolations (SABER anchored, Beta-binomial plug-in, empirical Bayes, Hughes fit, naive) from
n ∈ {8, 32, 128} observed attempts; the error of each estimator at k = 1024.

The truth is Chen's unbiased pass@k from all logged attempts of every evaluation problem. Each
back-test repeat draws ``n`` of a problem's attempts without replacement and predicts pass@k from
them (``passk.backtest``); errors are |truth − mean prediction| in percentage points, bands the
5–95 % range of the predictions over the repeats.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "testbed_passk_extrapolation"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "the paper testbed run: days on 2 CPU cores, about an hour on one GPU (estimate; 5× the repeats, n up to 512 after it)"
GPU = True  # the paper profile is meant for an accelerator
METHODS = ("naive", "fit", "anchored", "plugin", "eb", "eb_zi")
SETTINGS = {  # observed n, back-test repeats (smoke: fewer methods, each compiles its own program)
    "smoke": {"observe": (8,), "repeats": 3, "methods": ("anchored", "eb")},
    "quick": {"observe": (8, 32, 128), "repeats": 10},
    "paper": {"observe": (8, 32, 128, 512), "repeats": 50},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from matplotlib.ticker import NullFormatter

    from scaling_theory import passk
    from scaling_theory.plotting import COLORS, MARKERS, band, figure, label_panels, save_figure
    from scaling_theory.tables import format_table
    from scaling_theory.testbed.analysis import cached_run

    out = Path(out)
    st = SETTINGS[profile]
    methods = st.get("methods", METHODS)
    _, att, counts, metrics = cached_run(jax.random.key(seed), out, profile)
    main_t = metrics["fingerprint"]["config"]["temperature"]
    c = counts[np.isclose(counts["temperature"], main_t)].sort_values("problem")
    n_all, k_all = c["n"].to_numpy(np.float64), c["k"].to_numpy(np.float64)
    N = int(n_all.min())
    ks = np.unique(np.round(np.geomspace(1, N, 40)).astype(int))
    truth = np.asarray(passk.pass_at_k_curve(n_all, k_all, ks))
    observe = [n for n in st["observe"] if n < N]
    # 16 log-spaced extrapolation budgets from the smallest n to N (the bootstrap cost grows with them)
    budgets = sorted({int(b) for b in np.round(np.geomspace(min(observe), N, 16))} | {N})

    rows, curves = [], {}
    for n_obs in observe:
        bt = passk.backtest(
            jax.random.key(seed),
            n_all,
            k_all,
            n_obs,
            [b for b in budgets if b >= n_obs],
            methods,
            repeats=st["repeats"],
        )
        tab = bt.table
        for m in methods:
            sub = tab[tab["method"] == m].sort_values("budget").reset_index(drop=True)
            reps = bt.predictions[m][0]  # (repeats, budgets): spread over the sub-samples
            sub["lower"], sub["upper"] = np.quantile(reps, 0.05, axis=0), np.quantile(reps, 0.95, axis=0)
            at_n = sub[sub["budget"] == N].iloc[0]
            rows.append(
                {
                    "observed_n": n_obs,
                    "method": m,
                    "truth_at_N": float(at_n["truth"]),
                    "prediction_at_N": float(at_n["prediction"]),
                    "error_pp_at_N": float(at_n["error"]),
                    "coverage_90": float(at_n["coverage"]),
                }
            )
            curves[(n_obs, m)] = sub
    print(f"pass@{N} on {len(c)} problems: truth {100 * truth[-1]:.2f}%  (pass@1 {100 * truth[0]:.2f}%)")
    print(format_table(rows, digits=4))

    # ---- figure: (a) the empirical curve and the extrapolations from the middle n; (b) error at N vs n;
    #      (c) the per-problem pass@1 spread that makes the extrapolation non-trivial
    fig, ax = figure(1, 3, width=10.0, height=3.0)
    n_show = observe[len(observe) // 2]
    # failure rate 1 − pass@k on log–log axes, where the power-law tail of the extrapolations shows
    floor = 0.5 / len(c)  # below one problem's worth of failures
    ax[0].plot(ks, np.maximum(1 - truth, floor), color="black", lw=2.0, label="empirical (all attempts)")
    for i, m in enumerate(methods):
        sub = curves[(n_show, m)]
        ax[0].plot(sub["budget"], np.maximum(1 - sub["prediction"], floor), color=COLORS[i], lw=1.1, label=m)
        band(
            ax[0],
            sub["budget"],
            np.maximum(1 - sub["upper"], floor),
            np.maximum(1 - sub["lower"], floor),
            COLORS[i],
            alpha=0.12,
        )
    ax[0].axvline(n_show, color="grey", ls=":", lw=1)
    ax[0].set(
        xscale="log",
        yscale="log",
        xlabel="k (samples per problem)",
        ylabel="1 − pass@k",
        title=f"from n = {n_show} (bands: 5–95 % of repeats)",
    )
    ax[0].legend(loc="lower left", ncol=1)
    for i, m in enumerate(methods):
        e = [r["error_pp_at_N"] for r in rows if r["method"] == m]
        ax[1].plot(observe, e, marker=MARKERS[i], color=COLORS[i], label=m)
    ax[1].set(
        xscale="log",
        yscale="log",
        xlabel="observed attempts n",
        ylabel=f"|error| at k = {N} (pp)",
        title=f"error of pass@{N}",
    )
    ax[1].set_xticks(observe, [str(o) for o in observe])
    ax[1].xaxis.set_minor_formatter(NullFormatter())
    ax[1].legend(loc="best")
    p1 = k_all / n_all
    ax[2].hist(p1, bins=np.linspace(0, 1, 26), color=COLORS[0])
    ax[2].set(xlabel=f"per-problem pass@1 (T = {main_t:g})", ylabel="problems", title=f"{len(p1)} evaluation problems")
    label_panels(ax)
    curve_rows = [{"k": int(k), "truth": float(t)} for k, t in zip(ks, truth)]
    for (n_obs, m), sub in curves.items():
        curve_rows += [
            {"k": int(b), "observed_n": n_obs, "method": m, "prediction": p, "lower_5": lo, "upper_95": hi}
            for b, p, lo, hi in zip(sub["budget"], sub["prediction"], sub["lower"], sub["upper"])
        ]
    save_figure(fig, out, "passk_extrapolation", data=curve_rows)
    from scaling_theory.io import write_csv_atomic

    write_csv_atomic(out / "errors_at_N.csv", rows)
    best = {
        n: min((r for r in rows if r["observed_n"] == n), key=lambda r: r["error_pp_at_N"])["method"] for n in observe
    }
    return {
        "N": N,
        "problems": len(c),
        "truth_pass_at_N": float(truth[-1]),
        "pass_at_1": float(truth[0]),
        "errors_pp": rows,
        "best_method_by_n": best,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
