"""Halder & Pehlevan (arXiv 2512.19905), the finite-T and best-of-k figures with a power-law covariance.

Σ = diag(λ_i), λ_i ∝ i^(−1.5) with mean 1 (Tr Σ = d), d = 10, σ = 1e-4, γ = 1e-3, |w_T|²/d = 4 (teacher
with equal weight on every eigendirection), R from the implicit equation R = R̂ + (α/d)R Tr[Σ(Σ + R)⁻¹].
(a) n = 10⁴, t = T/(2σ²) = 10, c = 10: finite-d simulation, DE simulation, H.T.E. (3rd order) and
exact; (b) T = 0, reward = teacher, n ∈ {10⁴, 3·10⁴}: simulation vs π E_x[s² e^{Δ²/s²}]/k² and exact.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from scaling_theory.judge.deterministic import power_law_spectrum, ridge_fixed_point_residual
from scaling_theory.judge.model import BLRJudge
from scaling_theory.numerics import x64
from scaling_theory.plotting import COLORS, band, figure, label_panels, save_figure
from scaling_theory.tables import format_table

NAME = "judge_general_spectrum"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 1–2 h on 2 CPU cores (estimate: 244× the quick Monte Carlo test set, 5× the best-of-k points; not finished in 10 min here); minutes on one GPU"
GPU = True  # the paper profile is meant for an accelerator

D, EXPONENT = 10, 1.5
PARAMS = dict(d=D, sigma=1e-4, gamma=1e-3, teacher_scale=4.0)
PROFILES = {
    "smoke": dict(k_max=12, ks_b=np.arange(50, 200, 30), ns_b=(10_000,), n_test=256, trials=16),
    "quick": dict(k_max=99, ks_b=np.arange(50, 200, 5), ns_b=(10_000, 30_000), n_test=4096, trials=100),
    "paper": dict(k_max=99, ks_b=np.arange(50, 200), ns_b=(10_000, 30_000), n_test=1_000_000, trials=100),
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    cfg = PROFILES[profile]
    spec = power_law_spectrum(D, EXPONENT, 1.0)
    key = jax.random.key(seed)
    judge = BLRJudge(n=10_000, c=10.0, spectrum=spec, **PARAMS)
    iso = BLRJudge(n=10_000, c=10.0, **PARAMS)
    s2 = judge.sigma2
    resid = float(x64(ridge_fixed_point_residual)(judge.R, D / judge.n, judge.de.r_hat, spec))
    ks = np.arange(1, cfg["k_max"] + 1)
    T = float(judge.temperature(10.0))
    exact = judge.error(ks, T) / s2
    hte = judge.error(ks, T, method="hte") / s2
    fin = judge.simulate(ks, T, jax.random.fold_in(key, 0), trials=cfg["trials"], n_test=cfg["n_test"])
    de = judge.simulate(ks, T, jax.random.fold_in(key, 1), trials=cfg["trials"], n_test=cfg["n_test"], posterior="de")
    rows_a = [
        {
            "k": int(k),
            "expt": fin.delta[j] / s2,
            "expt_se": fin.stderr[j] / s2,
            "de_sim": de.delta[j] / s2,
            "de_sim_se": de.stderr[j] / s2,
            "hte3": float(hte[j]),
            "exact": float(exact[j]),
        }
        for j, k in enumerate(ks)
    ]
    fig, (ax, axb) = figure(1, 2, width=7.6, height=3.2)
    ax.plot(ks, exact, color=COLORS[0], label="exact")
    ax.plot(ks, de.delta / s2, color=COLORS[0], ls="--", lw=1.0, label="D.E. simulation")
    ax.plot(ks, hte, color=COLORS[1], ls=":", lw=1.4, label="H.T.E. (3rd order)")
    ax.plot(ks, fin.delta / s2, "o", ms=2.2, color=COLORS[2], label="Expt. (finite $d$)")
    band(ax, ks, (fin.delta - 2 * fin.stderr) / s2, (fin.delta + 2 * fin.stderr) / s2, COLORS[2], alpha=0.2)
    ax.plot(ks, iso.error(ks, T) / s2, color="0.5", lw=0.8, label=r"isotropic $\Sigma$ (exact)")
    ax.set_xscale("log")
    ax.set_xlabel("number of samples $k$")
    ax.set_ylabel(r"$\delta/\sigma^2$")
    ax.set_title(r"$\lambda_i\propto i^{-1.5}$, $t=10$, $c=10$", loc="right")
    ax.legend(fontsize=6.5)
    rows_b = []
    ks_b = np.asarray(cfg["ks_b"])
    for i, n in enumerate(cfg["ns_b"]):
        jb = BLRJudge(n=n, spectrum=spec, **PARAMS)
        sim = jb.simulate(ks_b, 0.0, jax.random.fold_in(key, 10 + i), trials=cfg["trials"], n_test=cfg["n_test"])
        law = jb.error(ks_b, 0.0, method="limit") / s2
        ex = jb.error(ks_b, 0.0) / s2
        col = COLORS[i % len(COLORS)]
        axb.plot(ks_b, sim.delta / s2, "o", ms=2.2, color=col, label=f"sim., $n$ = {n:,}")
        band(axb, ks_b, (sim.delta - 2 * sim.stderr) / s2, (sim.delta + 2 * sim.stderr) / s2, col, alpha=0.2)
        axb.plot(ks_b, law, color=col, lw=1.1)
        axb.plot(ks_b, ex, color=col, lw=0.8, ls=":")
        rows_b += [
            {
                "n": n,
                "k": int(k),
                "expt": sim.delta[j] / s2,
                "expt_se": sim.stderr[j] / s2,
                "evt_law": float(law[j]),
                "exact": float(ex[j]),
            }
            for j, k in enumerate(ks_b)
        ]
    axb.set_xscale("log")
    axb.set_yscale("log")
    axb.set_xlabel("number of samples $k$")
    axb.set_ylabel(r"$\delta/\sigma^2$ (best-of-$k$)")
    axb.set_title(r"lines: $\pi E_x[s^2e^{\Delta^2/s^2}]/k^2$; dotted: exact", loc="right")
    axb.legend(fontsize=6.5)
    label_panels([ax, axb])
    save_figure(fig, out, "general_spectrum", data=rows_a)
    from scaling_theory.plotting import save_data

    save_data(out, "general_spectrum_best_of_k", rows_b)
    print(
        f"power-law spectrum λ_i ∝ i^-{EXPONENT}: R = {judge.R:.6g} (isotropic {iso.R:.6g}), fixed-point residual {resid:.2e}"
    )
    print(format_table(rows_a, digits=5))
    print(format_table(rows_b, digits=5))
    return {
        "R": judge.R,
        "R_isotropic": iso.R,
        "fixed_point_residual": resid,
        "exact_kmax": float(exact[-1]),
        "expt_kmax": float(fin.delta[-1] / s2),
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
