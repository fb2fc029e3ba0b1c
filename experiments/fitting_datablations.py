"""Data-constrained scaling (Muennighoff et al. 2023, arXiv 2305.16264) training curves: loss-vs-tokens laws per model size and epoch count, with an extrapolation back-test.

Each training run (model size 2.8B / 4.2B / 8.7B × epochs over a fixed unique-data budget × C4 or
OSCAR) is one validation-loss curve L(D) over the tokens seen D. An offset power law
L(D) = E + a·D^(−b) is fitted (Huber δ = 1e-3 on log loss, summed, multi-start) to the checkpoints
with D in [10 %, 40 %] of the run, and the remaining 60 % are predicted, with 90 % bootstrap
prediction bands. Panels of the first figure: C4 curves of each size for several epoch counts —
checkpoints, fit (solid), extrapolation (dashed) and band. Second figure: (a) relative error of
the extrapolated final loss and (b) coverage of the 90 % bands over the held-out checkpoints,
against the number of epochs. Repeating data many times bends the curve up (overfitting), which no
monotone law extrapolates: the back-test makes the failure visible.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "fitting_datablations"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "29 s (measured, one process, load 4)"

PROFILES = {
    # smoke: 4 curves × 30 starts = 4 curves × 30 replicates × 1 start, so both calls share one compiled loop
    "smoke": {"data": ("c4",), "epochs": (1, 44), "sizes": ("4.2B", "8.7B"), "boot": 30, "boot_starts": 1},
    "quick": {"data": ("c4", "oscar"), "epochs": None, "sizes": None, "boot": 100, "boot_starts": 4},
    "paper": {"data": ("c4", "oscar"), "epochs": None, "sizes": None, "boot": 500, "boot_starts": 4},
}
TRAIN_FROM, TRAIN_TO = 0.10, 0.40  # fraction of the run's tokens used for the fit
LEVEL = 0.9
SHOW_EPOCHS = (1, 4, 14, 44)


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from scaling_theory.fitting import backtest_many
    from scaling_theory.fitting.data import parse_suffixed
    from scaling_theory.io import data_path, read_table
    from scaling_theory.plotting import COLORS, MARKERS, band, figure, label_panels, save_data, save_figure
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    df = read_table(data_path("datablations_losses.csv"))
    df["N"] = parse_suffixed(df["params"]).astype(float)
    df = df[df["data"].isin(cfg["data"])]
    if cfg["epochs"] is not None:
        df = df[df["epochs"].isin(cfg["epochs"])]
    if cfg["sizes"] is not None:
        df = df[df["params"].isin(cfg["sizes"])]
    curves, keys = [], []
    for (size, epochs, data), g in df.groupby(["params", "epochs", "data"], sort=True):
        g = g.sort_values("tokens")
        t = g["tokens"].to_numpy(float)
        keep = t >= TRAIN_FROM * t.max()
        curves.append(({"x": t[keep]}, g["loss"].to_numpy(float)[keep]))
        keys.append(
            {
                "params": size,
                "N": float(g["N"].iloc[0]),
                "epochs": int(epochs),
                "data": data,
                "tokens_total": float(t.max()),
            }
        )
    thresholds = [TRAIN_TO * k["tokens_total"] for k in keys]
    names = [f"{k['params']} {k['epochs']} ep {k['data']}" for k in keys]
    key = jax.random.key(seed)
    results = backtest_many(
        key,
        "offset_power_law",
        curves,
        scale="x",
        threshold=thresholds,
        n_boot=cfg["boot"],
        level=LEVEL,
        names=names,
        boot_starts=cfg["boot_starts"],
    )

    rows = []
    for k, bt in zip(keys, results):
        s = bt.summary
        rows.append(
            {
                **{c: k[c] for c in ("params", "epochs", "data")},
                "E": bt.fit.params["E"],
                "b": bt.fit.params["b"],
                "n_train": s["n_train"],
                "n_test": s["n_test"],
                "final_rel_error": s["last_rel_error"],
                "mean_abs_log_error": s["mean_abs_log_error"],
                "coverage": s["coverage"],
                "converged": bt.fit.converged,
            }
        )
    print(format_table(rows))

    # ---- figure 1: curves, fits and extrapolations (C4)
    sizes = sorted({k["params"] for k in keys}, key=lambda s: float(s[:-1]))
    fig, axes = figure(1, len(sizes), width=3.3 * len(sizes), height=2.9, squeeze=False)
    curve_rows = []
    for ax, size in zip(axes[0], sizes):
        shown = [
            i for i, k in enumerate(keys) if k["params"] == size and k["data"] == "c4" and k["epochs"] in SHOW_EPOCHS
        ]
        ys = []
        for j, i in enumerate(shown):
            (x, y), bt, k = curves[i], results[i], keys[i]
            color = COLORS[j % len(COLORS)]
            t = x["x"]
            ys.append(y)
            ax.plot(t / 1e9, y, ".", ms=1.5, color=color, alpha=0.5)
            fit_t = np.geomspace(t.min(), thresholds[i], 50)
            ext_t = np.geomspace(thresholds[i], t.max(), 80)
            ax.plot(
                fit_t / 1e9,
                bt.fit.predict({"x": fit_t}),
                color=color,
                lw=1.4,
                label=f"{k['epochs']} epoch{'s' * (k['epochs'] > 1)}",
            )
            ext_y = bt.fit.predict({"x": ext_t})
            ax.plot(ext_t / 1e9, ext_y, color=color, lw=1.4, ls="--")
            pb = bt.draws.prediction_interval(key, {"x": ext_t}, level=LEVEL)
            band(ax, ext_t / 1e9, pb.lo, pb.hi, color, alpha=0.18)
            curve_rows += [
                {"params": size, "epochs": k["epochs"], "tokens": a, "fit": f, "lo": lo, "hi": hi}
                for a, f, lo, hi in zip(ext_t, ext_y, pb.lo, pb.hi)
            ]
        if shown:
            ax.axvline(thresholds[shown[0]] / 1e9, color="0.4", lw=0.8, ls=":")
            lo, hi = min(map(np.min, ys)), max(map(np.max, ys))
            ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.25 * (hi - lo))  # extrapolations may leave the data range
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("tokens seen $D$ (billions)")
        ax.set_ylabel("validation loss (C4)")
        ax.set_title(f"{size} parameters")
        ax.legend(loc="upper right", title=f"fit: {TRAIN_FROM:.0%}–{TRAIN_TO:.0%} of run (solid)", title_fontsize=7)
    label_panels(axes[0])
    save_figure(fig, out, "datablations_curves", data=curve_rows)

    # ---- figure 2: back-test errors and band coverage vs epochs
    fig, axes = figure(1, 2, width=7.0, height=2.9)
    for j, size in enumerate(sizes):
        for m, data in enumerate(cfg["data"]):
            sel = [r for r in rows if r["params"] == size and r["data"] == data]
            ep = [r["epochs"] for r in sel]
            kw = {"color": COLORS[j], "marker": MARKERS[m], "ls": "-" if m == 0 else ":", "label": f"{size}, {data}"}
            axes[0].plot(ep, [100 * abs(r["final_rel_error"]) for r in sel], **kw)
            axes[1].plot(ep, [r["coverage"] for r in sel], **kw)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("|error| of extrapolated final loss (%)")
    axes[0].legend(loc="upper left", ncols=2, fontsize=6.5)
    axes[1].axhline(LEVEL, color="k", lw=0.8, ls="--", label="nominal")
    axes[1].set_ylabel(f"coverage of {LEVEL:.0%} prediction band")
    axes[1].set_ylim(-0.02, 1.02)
    ticks = sorted({r["epochs"] for r in rows})
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("epochs over the unique data")
    label_panels(axes)
    save_figure(fig, out, "datablations_backtest", data=rows)
    save_data(out, "datablations_fits", rows)

    one_epoch = [r for r in rows if r["epochs"] <= 4]
    many = [r for r in rows if r["epochs"] >= 14]
    return {
        "curves": len(rows),
        "train_fraction": [TRAIN_FROM, TRAIN_TO],
        "boot": cfg["boot"],
        "median_abs_final_error_epochs_le_4": float(np.median([abs(r["final_rel_error"]) for r in one_epoch]))
        if one_epoch
        else None,
        "median_abs_final_error_epochs_ge_14": float(np.median([abs(r["final_rel_error"]) for r in many]))
        if many
        else None,
        "mean_coverage_epochs_le_4": float(np.mean([r["coverage"] for r in one_epoch])) if one_epoch else None,
        "mean_coverage_epochs_ge_14": float(np.mean([r["coverage"] for r in many])) if many else None,
        "fits": rows,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
