"""Scaling over Scaling (TTSPM, arXiv 2505.20522): Hit@N, saturation points N* and the unified form of parallel and sequential scaling.

Panels: (a) Hit@N = 1 − (1 − p)^N for several p, closed form vs Monte Carlo of parallel sampling and of
the absorbing rethinking chain, with N*(p, ε = 0.01) marked; (b) N* vs p for several ε with the small-p
form ln(p/ε)/p; (c) the unified form: marginal gains of both paradigms (with and without an initial
attempt p₀) collapse onto e^{−x} against x = −N ln(1 − p); (d) a non-absorbing chain (correct answers
can be revised into wrong ones): accuracy vs rounds and its limit a/(a + b).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "saturation_ttspm"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "2.0 min (measured, one process, load 10)"

PROFILES = {
    "smoke": {"trials": 400, "n_max": 60},
    "quick": {"trials": 20_000, "n_max": 200},
    "paper": {"trials": 200_000, "n_max": 400},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.plotting import COLORS, band, figure, label_panels, save_figure
    from scaling_theory.saturation import simulate, ttspm
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    trials, n_max = cfg["trials"], cfg["n_max"]
    key = jax.random.key(seed)
    ps = [0.02, 0.05, 0.1, 0.3]
    eps_mark = 0.01
    n = np.arange(n_max + 1)

    fig, axes = figure(2, 2, width=7.0, height=5.4)
    ax = axes[0, 0]
    curve_rows, z_max = [], 0.0
    for i, p in enumerate(ps):
        exact = np.asarray(ttspm.hit_at_n(p, n))
        par = simulate.simulate_parallel(jax.random.fold_in(key, 10 + i), p, n_max, trials)
        seq = simulate.simulate_chain(jax.random.fold_in(key, 20 + i), 0.0, p, 0.0, n_max, trials)
        for mc in (par, seq):
            se = np.maximum(np.asarray(mc.se), 1.0 / trials)
            z_max = max(z_max, float(np.max(np.abs(np.asarray(mc.mean) - exact) / se)))
        c = COLORS[i]
        ax.plot(n[1:], exact[1:], color=c, label=f"p = {p:g}")
        idx = np.unique(np.geomspace(1, n_max, 14).astype(int))
        ax.plot(idx, np.asarray(par.mean)[idx], "o", ms=3, mfc="none", color=c)
        ax.plot(idx, np.asarray(seq.mean)[idx], "x", ms=3, color=c)
        n_star = float(ttspm.saturation_point(p, eps_mark))
        if n_star <= n_max:
            ax.plot([n_star], [float(ttspm.hit_at_n(p, n_star))], "v", color=c, ms=6, mec="k", mew=0.5)
        for j in idx:
            curve_rows.append(
                {
                    "p": p,
                    "N": int(j),
                    "hit_exact": exact[j],
                    "parallel_mc": float(par.mean[j]),
                    "parallel_se": float(par.se[j]),
                    "sequential_mc": float(seq.mean[j]),
                    "sequential_se": float(seq.se[j]),
                }
            )
    ax.plot([], [], "ko", mfc="none", ms=3, label="MC parallel")
    ax.plot([], [], "kx", ms=3, label="MC sequential")
    ax.plot([], [], "kv", ms=5, label=f"N* (ε = {eps_mark:g})")
    ax.set_xscale("log")
    ax.set(
        xlabel="budget N (samples or rethinking rounds)", ylabel="Hit@N", title="F(N) = 1 − (1 − p)^N", ylim=(0, 1.32)
    )
    ax.legend(ncol=2, loc="upper left", fontsize=6.5)

    # (b) N* vs p
    ax = axes[0, 1]
    pg = np.geomspace(1e-3, 0.9, 200)
    point_rows = []
    for i, eps in enumerate([1e-2, 1e-3, 1e-4]):
        ns = np.asarray(ttspm.saturation_point(pg, eps))
        ax.step(pg, np.where(ns > 0, ns, np.nan), where="post", color=COLORS[i], label=f"ε = {eps:g}")
        ok = pg > np.e * eps
        ax.plot(pg[ok], np.log(pg[ok] / eps) / pg[ok], "--", color=COLORS[i], lw=0.8)
        for p in (0.01, 0.1, 0.3, 0.5):
            point_rows.append({"eps": eps, "p": p, "n_star": int(ttspm.saturation_point(p, eps))})
    ax.plot([], [], "k--", lw=0.8, label="ln(p/ε)/p")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="per-attempt success p",
        ylabel="saturation point N*",
        title="N* = min{N : p(1 − p)^N < ε}",
        ylim=(0.8, None),
    )
    ax.legend()

    # (c) unified collapse of the marginal gains
    ax = axes[1, 0]
    collapse_rows = []
    combos = [("parallel", 0.05, 0.0), ("parallel", 0.3, 0.0), ("sequential", 0.1, 0.4), ("sequential", 0.04, 0.7)]
    for i, (kind, p, p0) in enumerate(combos):
        nn = np.arange(0, min(int(np.ceil(6 / -np.log1p(-p))), n_max - 1) + 1)
        x = -nn * np.log1p(-p)
        g = np.asarray(ttspm.marginal_gain(p, nn, p0=p0)) / ((1 - p0) * p)
        # one compiled simulator for every panel: same n_max and trials, sliced afterwards
        if kind == "parallel":
            mc = simulate.simulate_parallel(jax.random.fold_in(key, 30 + i), p, n_max, trials)
        else:
            mc = simulate.simulate_chain(jax.random.fold_in(key, 30 + i), p0, p, 0.0, n_max, trials)
        d, dse = simulate.marginal_from_curve(mc)
        d, dse = np.asarray(d) / ((1 - p0) * p), np.asarray(dse) / ((1 - p0) * p)
        step = max(1, len(nn) // 12)
        ax.errorbar(
            x[::step],
            d[: len(nn)][::step],
            yerr=dse[: len(nn)][::step],
            fmt="o",
            ms=2.5,
            color=COLORS[i],
            capsize=0,
            elinewidth=0.7,
            label=f"{kind}, p = {p:g}, p₀ = {p0:g}",
        )
        for xx, gg, dd, ss in zip(x, g, d, dse):
            collapse_rows.append(
                {"paradigm": kind, "p": p, "p0": p0, "x": xx, "gain_scaled": gg, "mc": dd, "mc_se": ss}
            )
    xs = np.linspace(0, 6, 100)
    ax.plot(xs, np.exp(-xs), "k-", lw=1.0, label="exp(−x): every closed form")
    ax.set(
        yscale="log",
        ylim=(2e-3, 2.0),
        xlabel="x = −N ln(1 − p)",
        ylabel="ΔF(N) / ((1 − p₀) p)",
        title="unified form (MC ± 1 SE)",
    )
    ax.legend(fontsize=6.5, loc="lower left")

    # (d) non-absorbing chain
    ax = axes[1, 1]
    chain_rows = []
    p0, a = 0.5, 0.15
    rounds = min(40, n_max)
    nr = np.arange(rounds + 1)
    for i, b in enumerate([0.0, 0.03, 0.1, 0.3]):
        exact = np.asarray(ttspm.markov_accuracy(nr, p0, a, b))
        full = simulate.simulate_chain(jax.random.fold_in(key, 40 + i), p0, a, b, n_max, trials)
        mc = simulate.MCCurve(full.mean[: rounds + 1], full.se[: rounds + 1], full.trials)
        lim = float(ttspm.markov_limit(p0, a, b))
        c = COLORS[i]
        ax.plot(nr, exact, color=c, label=f"p_flip = {b:g} (limit {lim:.2f})")
        band(
            ax,
            nr,
            np.asarray(mc.mean) - 2 * np.asarray(mc.se),
            np.asarray(mc.mean) + 2 * np.asarray(mc.se),
            c,
            alpha=0.25,
        )
        ax.axhline(lim, color=c, ls=":", lw=0.8)
        nstar = float(ttspm.markov_saturation_point(p0, a, b, 1e-3))
        if nstar <= rounds:
            ax.plot([nstar], [float(ttspm.markov_accuracy(nstar, p0, a, b))], "v", color=c, mec="k", mew=0.5, ms=5)
        for j in nr:
            chain_rows.append(
                {
                    "p0": p0,
                    "p_rethink": a,
                    "p_flip": b,
                    "round": int(j),
                    "exact": exact[j],
                    "mc": float(mc.mean[j]),
                    "mc_se": float(mc.se[j]),
                    "limit": lim,
                }
            )
    band(ax, [], [], [], "grey", alpha=0.25, label="MC ± 2 SE")
    ax.plot([], [], "kv", ms=4, label="N* (ε = 0.001)")
    ax.set(xlabel="rethinking rounds N", ylabel="accuracy π_N", title=f"non-absorbing chain, p₀ = {p0:g}, a = {a:g}")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.08), fontsize=6.2, ncol=2)
    label_panels(axes)
    save_figure(fig, out, "ttspm_saturation", data=curve_rows)
    from scaling_theory.plotting import save_data

    save_data(out, "ttspm_points", point_rows)
    save_data(out, "ttspm_collapse", collapse_rows)
    save_data(out, "ttspm_chain", chain_rows)

    spec = [(0.1, 0.01), (0.3, 0.01), (0.5, 0.01), (0.1, 0.001), (0.3, 0.001), (0.5, 0.001)]
    table = []
    for p, eps in spec:
        ns = float(ttspm.saturation_point(p, eps))
        table.append(
            {
                "p": p,
                "eps": eps,
                "n_star": int(ns),
                "gain_at_n_star": float(ttspm.marginal_gain(p, ns)),
                "gain_before": float(ttspm.marginal_gain(p, ns - 1)),
            }
        )
    print(format_table(table, digits=5))
    print(f"max |MC − closed form| / SE over Hit@N curves: {z_max:.2f} ({trials} trials)")
    return {"spec_table": table, "mc_max_z": z_max, "trials": trials}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
