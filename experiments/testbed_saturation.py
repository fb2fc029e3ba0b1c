"""Testbed experiment 2 (theory vs empirics): TTSPM saturation points (Wang et al., arXiv 2505.20522,
Fig. 5 / the predicted-vs-observed N* correlation) on the transformer testbed, per problem and in aggregate.

Per problem, N* (the first N whose next sample gains less than ε) is *predicted* from m observed
attempts — by the TTSPM plug-in p̂ = k_m/m and by the Beta-posterior rule with (α, β) fitted across
problems — and *observed* on the unbiased pass@N curve of all logged attempts
(``saturation.predicted_vs_observed``). In aggregate, the benchmark's observed marginal gain is
compared with the heterogeneous Beta law fitted on the m attempts and with the homogeneous TTSPM
law at the pooled p̄ (which saturates far too early: the cross-paper note of the saturation spec).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NAME = "testbed_saturation"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "the paper testbed run: days on 2 CPU cores, about an hour on one GPU (estimate)"
GPU = True  # the paper profile is meant for an accelerator
SETTINGS = {
    "smoke": {"m": 8, "eps": (0.01,)},
    "quick": {"m": 32, "eps": (0.01, 0.001)},
    "paper": {"m": 64, "eps": (0.01, 0.001, 0.0001)},
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    import jax

    from scaling_theory.io import write_csv_atomic
    from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_figure
    from scaling_theory.saturation import estimation, heterogeneous, ttspm
    from scaling_theory.tables import format_table
    from scaling_theory.testbed.analysis import cached_run

    out = Path(out)
    st = SETTINGS[profile]
    _, att, counts, metrics = cached_run(jax.random.key(seed), out, profile)
    main_t = metrics["fingerprint"]["config"]["temperature"]
    c = counts[np.isclose(counts["temperature"], main_t)].sort_values("problem")
    n, k = c["n"].to_numpy(np.float64), c["k"].to_numpy(np.float64)
    N = int(n.min())
    m = st["m"]

    key = jax.random.key(seed)  # both calls sub-sample the same m attempts per problem
    plug = estimation.predicted_vs_observed(key, n, k, st["eps"], m)
    post = estimation.predicted_vs_observed(key, n, k, st["eps"], m, prior="fit")  # Beta fitted on the m attempts
    k_m = post.k_m
    alpha, beta = float(post.alpha), float(post.beta)
    p_bar = float(k_m.sum() / (m * len(k_m)))  # pooled pass@1 of the m observed attempts

    rows, agg_rows = [], []
    for i_e, e in enumerate(st["eps"]):
        for name, r in (("plug-in p̂", plug), ("Beta posterior", post)):
            rows.append(
                {
                    "eps": e,
                    "predictor": name,
                    "problems": int(r.problems[i_e]),
                    "pearson_r": float(r.r[i_e]),
                    "pearson_r_log1p": float(r.r_log[i_e]),
                    "median_abs_error": float(r.median_abs_error[i_e]),
                }
            )
        obs_agg = float(estimation.observed_aggregate_saturation_point(n, k, e))
        agg_rows.append(
            {
                "eps": e,
                "observed (all attempts)": obs_agg,
                "Beta law (m attempts)": float(heterogeneous.beta_saturation_point(alpha, beta, e)),
                "homogeneous p̄ (m attempts)": float(ttspm.saturation_point(p_bar, e)),
            }
        )
    print(
        f"{len(c)} problems, N = {N} attempts each; predictions from m = {m}; Beta fit α = {alpha:.3f}, β = {beta:.3f}"
    )
    print(format_table(rows))
    print("aggregate saturation point N*:")
    print(format_table(agg_rows))

    # ---- figure: (a) per-problem N* scatter for the first ε; (b) aggregate marginal gain vs N
    fig, ax = figure(1, 2, width=7.2, height=3.1)
    e0 = st["eps"][0]
    use = plug.used[0]
    obs = plug.observed[0][use]
    for i, (name, r) in enumerate((("plug-in p̂ = k/m", plug), ("Beta posterior", post))):
        pred = r.predicted[0][use]
        ax[0].scatter(
            obs + 1,
            pred + 1,
            s=9,
            alpha=0.6,
            color=COLORS[i],
            marker=MARKERS[i],
            label=f"{name} (r = {r.r[0]:.2f})",
        )
    lim = [1, max(2.0, float(np.nanmax(obs)) + 1) * 1.5]
    ax[0].plot(lim, lim, color="grey", ls="--", lw=1, label="predicted = observed")
    ax[0].set(
        xscale="log",
        yscale="log",
        xlabel="observed N* + 1 (all attempts)",
        ylabel=f"predicted N* + 1 (from m = {m})",
        title=f"per problem, ε = {e0:g}",
    )
    ax[0].legend(loc="upper left")
    grid = np.unique(np.round(np.geomspace(1, N - 1, 60)).astype(int))
    obs_gain = np.asarray(estimation.observed_aggregate_gain(n, k, grid))
    beta_gain = np.asarray(heterogeneous.beta_marginal_gain(alpha, beta, grid))
    hom_gain = np.asarray(ttspm.marginal_gain(p_bar, grid))
    ax[1].plot(grid, obs_gain, color="black", lw=2, label="observed ΔF̂(N) (all attempts)")
    ax[1].plot(grid, beta_gain, color=COLORS[0], label=f"Beta law from m = {m} (α = {alpha:.2f})")
    ax[1].plot(grid, hom_gain, color=COLORS[1], label=f"homogeneous p̄ = {p_bar:.2f}")
    for e in st["eps"]:
        ax[1].axhline(e, color="grey", ls=":", lw=1)
        ax[1].text(grid[0], e * 1.15, f"ε = {e:g}", fontsize=7, color="grey")
    ax[1].set(
        xscale="log",
        yscale="log",
        xlabel="samples N",
        ylabel="marginal gain ΔF(N) = F(N+1) − F(N)",
        title="aggregate saturation",
        ylim=(max(1e-7, float(np.min(obs_gain[obs_gain > 0])) / 3), 1),
    )
    ax[1].legend(loc="lower left")
    label_panels(ax)
    data = [
        {"N": int(g), "observed_gain": float(a), "beta_gain": float(b), "homogeneous_gain": float(h)}
        for g, a, b, h in zip(grid, obs_gain, beta_gain, hom_gain)
    ]
    save_figure(fig, out, "saturation", data=data)
    per_problem = [
        {"problem": int(p), "eps": e, "k_m": float(km), "observed": float(o), "plugin": float(a), "posterior": float(b)}
        for e, o_e, pl, po in zip(st["eps"], plug.observed, plug.predicted, post.predicted)
        for p, km, o, a, b in zip(c["problem"], k_m, o_e, pl, po)
    ]
    write_csv_atomic(out / "saturation_points.csv", per_problem)
    return {
        "problems": len(c),
        "N": N,
        "m": m,
        "alpha": alpha,
        "beta": beta,
        "per_problem": rows,
        "aggregate": agg_rows,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
