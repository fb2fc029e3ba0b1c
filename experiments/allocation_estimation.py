"""Estimation efficiency of adaptive sampling (Kazdan et al., arXiv 2510.05197 — dynamic sampling for pass@N
estimation): error of the pass@N estimate under adaptive vs uniform sampling at equal budget, on Pythia × MATH.

Protocol (the passk back-test protocol with known truth): each problem's success probability is taken as
θ_i = k_i/n_i from the 10,000 logged attempts; the truth is pass@N = 1 − mean_i (1 − θ_i)^N. A pilot of n₀
attempts per problem is drawn (binomial), then b̄ extra attempts per problem on average are spent either uniformly
or by the ``estimate`` objective (greedy on the expected reduction of the posterior variance of (1 − θ_i)^N,
spec §4); the estimate is the empirical-Bayes posterior mean 1 − mean_i E[(1 − θ_i)^N | all data] with (α̂, β̂)
refitted on all data. Repeated R times; RMSE and its ratio (uniform / adaptive) are printed.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from scaling_theory.stats import numpy_rng

NAME = "allocation_estimation"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 40 min on 2 CPU cores (estimate: 25× the quick repeats, one more budget)"
SETTINGS = {
    "smoke": {"models": 1, "repeats": 2, "budgets": (2.0,), "N": 64},
    "quick": {"models": 7, "repeats": 8, "budgets": (2.0, 8.0), "N": 64},
    "paper": {"models": 7, "repeats": 200, "budgets": (2.0, 8.0, 32.0), "N": 64},
}
PILOT = 8


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.allocation import gains as G
    from scaling_theory.allocation import policies as P
    from scaling_theory.allocation.posteriors import beta_posteriors
    from scaling_theory.beta import survival as beta_survival
    from scaling_theory.io import data_path, read_counts
    from scaling_theory.numerics import x64
    from scaling_theory.passk.grouping import stack_groups
    from scaling_theory.plotting import COLORS, figure, save_figure
    from scaling_theory.tables import format_table

    st = SETTINGS[profile]
    d = stack_groups(read_counts(data_path("pythia_math_counts.csv"), ["model"]), ["model"])
    sel = np.argsort([-d.k[i].sum() for i in range(len(d.groups))])[: st["models"]]
    theta = d.k[sel] / d.n[sel]
    Gm, K = theta.shape
    N = float(st["N"])
    truth = 1 - np.mean((1 - theta) ** N, axis=-1)
    R = st["repeats"]
    rng = numpy_rng(jax.random.key(seed))  # = np.random.default_rng(seed)

    @x64
    def estimate(n, k):
        post = beta_posteriors(n, k)
        return 1 - np.mean(np.asarray(beta_survival(post.a, post.b, N)), axis=-1)

    rows = []
    for bbar in st["budgets"]:
        th = np.broadcast_to(theta, (R, Gm, K)).reshape(R * Gm, K)
        k0 = rng.binomial(PILOT, th).astype(float)
        post = beta_posteriors(np.full(k0.shape, float(PILOT)), k0)
        table = G.gain_table(post, "estimate", max_extra=min(128, int(4 * bbar) + 16), target_n=N)
        total = [bbar * K]
        adaptive = P.lagrangian(table, total).extra[:, 0]
        uniform = P.uniform(table, total).extra[:, 0]
        errs = {}
        for name, extra in (("uniform", uniform), ("adaptive", adaptive)):
            k1 = k0 + rng.binomial(extra, th)
            est = estimate(PILOT + extra, k1).reshape(R, Gm)
            errs[name] = est - truth[None]
        for g in range(Gm):
            ru = float(np.sqrt(np.mean(errs["uniform"][:, g] ** 2)))
            ra = float(np.sqrt(np.mean(errs["adaptive"][:, g] ** 2)))
            rows.append(
                {
                    "model": d.groups[sel[g]]["model"],
                    "extra_per_problem": bbar,
                    "truth": float(truth[g]),
                    "rmse_uniform": ru,
                    "rmse_adaptive": ra,
                    "ratio": ru / ra,
                    "bias_uniform": float(errs["uniform"][:, g].mean()),
                    "bias_adaptive": float(errs["adaptive"][:, g].mean()),
                }
            )
    print(f"pass@{int(N)} estimation, pilot {PILOT} per problem, {R} repeats (RMSE in absolute pass@N):")
    print(format_table(rows))
    fig, ax = figure(1, 1, width=3.6, height=3.0)
    for i, b in enumerate(st["budgets"]):
        r = [x for x in rows if x["extra_per_problem"] == b]
        ax.scatter([x["rmse_uniform"] for x in r], [x["rmse_adaptive"] for x in r], color=COLORS[i], label=f"b̄ = {b:g}")
    lim = max(max(x["rmse_uniform"] for x in rows), max(x["rmse_adaptive"] for x in rows)) * 1.1
    ax.plot([0, lim], [0, lim], color="grey", ls="--", lw=1)
    ax.set(xlabel="RMSE, uniform", ylabel="RMSE, adaptive (estimate objective)", title=f"pass@{int(N)} estimate")
    ax.legend()
    save_figure(fig, out, "allocation_estimation", data=rows)
    return {"rows": rows}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
