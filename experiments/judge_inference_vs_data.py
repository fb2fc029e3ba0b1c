"""Halder & Pehlevan (arXiv 2512.19905), Remark 6: inference-time compute vs training data.

Best-of-k (T = 0, reward = teacher) in the official setting d = 10, σ = 1e-4, γ = 1e-3, |w_T|²/d = 4,
for n from 20 to 10⁵ and k from 1 to 10³ (exact quadrature over the deterministic equivalent).
(a) Iso-error contours of δ/σ² in the (n, k) plane; shaded: one more sample beats doubling the
data, δ(n, k + 1) < δ(2n, k). (b) Elasticities −∂log δ/∂log k and −∂log δ/∂log n along k for a
few n: −2 against a tiny data elasticity once k is large (Remark 6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.plotting import COLORS, figure, label_panels, save_figure
from scaling_theory.tables import format_table

NAME = "judge_inference_vs_data"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "27 s (measured, one process, load 7)"

PARAMS = dict(d=10, sigma=1e-4, gamma=1e-3, S=1.0, teacher_scale=4.0)
PROFILES = {
    "smoke": dict(n_half_octaves=(20, 8), k_max=100, k_points=8, slope_points=((1_000, 100.0),)),
    "quick": dict(
        n_half_octaves=(20, 24),
        k_max=1000,
        k_points=40,
        slope_points=((100, 10.0), (1_000, 100.0), (10_000, 100.0), (10_000, 1000.0)),
    ),
    "paper": dict(
        n_half_octaves=(20, 24),
        k_max=1000,
        k_points=80,
        slope_points=((100, 10.0), (1_000, 100.0), (10_000, 100.0), (10_000, 1000.0)),
    ),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    n0, steps = cfg["n_half_octaves"]
    ns = np.round(n0 * 2.0 ** (np.arange(steps + 1) / 2.0)).astype(int)  # 2n is two steps further
    ks = np.unique(np.round(np.geomspace(1, cfg["k_max"], cfg["k_points"])).astype(int))
    k_all = np.unique(np.concatenate([ks, ks + 1]))
    s2 = PARAMS["sigma"] ** 2
    delta = np.array([BLRJudge(n=int(n), **PARAMS).error(k_all, 0.0) for n in ns]) / s2  # (n, k_all)
    pos = {int(k): i for i, k in enumerate(k_all)}
    d_k = delta[:, [pos[int(k)] for k in ks]]
    d_k1 = delta[:, [pos[int(k) + 1] for k in ks]]
    rows = []
    for i, n in enumerate(ns):
        j2 = i + 2  # the grid steps by √2, so index i + 2 is 2n (up to rounding of n)
        for j, k in enumerate(ks):
            beats = bool(j2 < len(ns) and d_k1[i, j] < delta[j2, pos[int(k)]])
            rows.append(
                {
                    "n": int(n),
                    "k": int(k),
                    "delta_over_sigma2": float(d_k[i, j]),
                    "delta_k_plus_1": float(d_k1[i, j]),
                    "delta_2n": float(delta[j2, pos[int(k)]]) if j2 < len(ns) else None,
                    "one_more_sample_beats_2n": beats,
                }
            )
    # elasticities on the grid (central differences in log k and log n)
    el_k, el_n = analysis.log_elasticities(d_k, ks, ns)
    fig, (ax, axb) = figure(1, 2, width=7.8, height=3.3)
    N, K = np.meshgrid(ns, ks, indexing="ij")
    levels = np.arange(np.floor(np.log10(d_k.min())), np.ceil(np.log10(d_k.max())) + 1.0, 1.0)
    cs = ax.contour(N, K, np.log10(d_k), levels=levels, colors="0.25", linewidths=0.7)
    ax.clabel(cs, fmt=lambda v: f"1e{v:+.0f}", fontsize=6)
    beats = np.array(
        [[r["one_more_sample_beats_2n"] for r in rows[i * len(ks) : (i + 1) * len(ks)]] for i in range(len(ns))]
    )
    valid = np.arange(len(ns)) + 2 < len(ns)
    ax.contourf(N[valid], K[valid], beats[valid].astype(float), levels=[0.5, 1.5], colors=[COLORS[2]], alpha=0.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training samples $n$")
    ax.set_ylabel("inference samples $k$")
    ax.set_title(r"$\delta/\sigma^2$; shaded: $\delta(n,k{+}1)<\delta(2n,k)$", loc="right")
    for i, n in enumerate(ns[:: max(1, len(ns) // 4)][:4]):
        ii = int(np.where(ns == n)[0][0])
        col = COLORS[i % len(COLORS)]
        axb.plot(ks, -el_k[ii], color=col, label=f"$n$ = {n:,}: $-\\partial_{{\\log k}}$")
        axb.plot(ks, -el_n[ii], color=col, ls="--", label=r"$-\partial_{\log n}$")
    axb.axhline(2.0, color="0.4", lw=0.7, ls=":")
    axb.set_xscale("log")
    axb.set_yscale("log")
    axb.set_xlabel("inference samples $k$")
    axb.set_ylabel(r"elasticity of $\delta$")
    axb.legend(fontsize=6, ncol=2)
    label_panels([ax, axb])
    save_figure(fig, out, "inference_vs_data", data=rows)
    slope_rows = []
    for n, k in cfg["slope_points"]:
        sl = analysis.inference_vs_data_slopes(BLRJudge(n=n, **PARAMS), k)
        slope_rows.append(
            {
                "n": n,
                "k": k,
                "dlogdelta_dlogk": sl.dlog_k,
                "dlogdelta_dlogn": sl.dlog_n,
                "predicted_dlogn": sl.predicted_dlog_n,
                "remark6_dlogn": sl.remark6_dlog_n,
            }
        )
    print(format_table(rows, digits=5))
    print(format_table(slope_rows, digits=4))
    # only rows whose 2n is on the n grid can be compared
    return {"slopes": slope_rows, "fraction_one_more_sample_beats_2n": float(beats[valid].mean())}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
