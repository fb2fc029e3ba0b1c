"""Testbed experiment 4 (theory vs empirics): pass@k curves of the transformer testbed at several sampling
temperatures, with the Beta-binomial tail exponent α of each (SABER's law 1 − pass@k ≈ C k^(−α)), and
which problems each temperature solves (low temperature wins at small k, high temperature at large k).

pass@k is Chen's unbiased estimator from the attempts logged at each temperature (k up to the
smallest number of attempts, 128 in the quick profile; the main temperature has 1024). A problem
counts as solved at T when at least one of its first 128 attempts at T is correct.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "testbed_temperature"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "the paper testbed run: days on 2 CPU cores, about an hour on one GPU (estimate)"
GPU = True  # the paper profile is meant for an accelerator


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory import passk
    from scaling_theory.io import write_csv_atomic
    from scaling_theory.plotting import COLORS, figure, label_panels, save_figure
    from scaling_theory.tables import format_table
    from scaling_theory.testbed.analysis import attempt_matrix, cached_run

    out = Path(out)
    _, att, counts, metrics = cached_run(jax.random.key(seed), out, profile)
    main_t = metrics["fingerprint"]["config"]["temperature"]
    temps = sorted(counts["temperature"].unique())
    n_common = int(counts.groupby("temperature")["n"].min().min())
    # every temperature judged on its first n_common attempts (attempts are exchangeable)
    solved, p1, curves, rows = {}, {}, {}, []
    for t in temps:
        corr = attempt_matrix(att, "correct", t)
        n_t = corr.shape[1]
        k_t = corr.sum(1)
        ks = np.unique(np.round(np.geomspace(1, n_t, 30)).astype(int))
        curves[t] = (ks, np.asarray(passk.pass_at_k_curve(np.full_like(k_t, n_t, dtype=float), k_t, ks)))
        c_common = corr[:, :n_common]
        solved[t] = c_common.any(1)
        p1[t] = corr.mean(1)
        bf = passk.fit(float(n_common), c_common.sum(1).astype(float))
        rows.append(
            {
                "temperature": t,
                "attempts": n_t,
                "pass@1": float(p1[t].mean()),
                f"pass@{n_common}": float(solved[t].mean()),  # pass@n from n attempts: the solved share
                "alpha": float(bf.alpha),
                "beta": float(bf.beta),
            }
        )
    for r in rows:
        t = r["temperature"]
        others = np.any([solved[u] for u in temps if u != t], axis=0)
        r[f"solved (of {len(solved[t])})"] = int(solved[t].sum())
        r["solved only at this T"] = int((solved[t] & ~others).sum())
    union = np.any([solved[t] for t in temps], axis=0)
    print(f"{len(union)} problems; solved within {n_common} samples by some temperature: {int(union.sum())}")
    print(format_table(rows))
    best_k = {}
    grid = np.unique(np.round(np.geomspace(1, n_common, 12)).astype(int))
    for kk in grid:
        vals = {t: float(np.interp(np.log(kk), np.log(curves[t][0]), curves[t][1])) for t in temps}
        best_k[int(kk)] = float(max(vals, key=vals.get))
    print("best temperature by k:", best_k)

    # ---- figure: (a) pass@k per T; (b) per-problem pass@1, lowest vs highest T; (c) 1 − pass@k log–log
    fig, ax = figure(1, 3, width=10.0, height=3.1)
    cols = {t: COLORS[i] for i, t in enumerate(temps)}
    for t in temps:
        ks, pk = curves[t]
        lab = f"T = {t:g} (α = {next(r['alpha'] for r in rows if r['temperature'] == t):.2f})"
        ax[0].plot(ks, pk, color=cols[t], lw=2 if t == main_t else 1.3, label=lab)
        ax[2].plot(ks, np.maximum(1 - pk, 1e-4), color=cols[t], lw=2 if t == main_t else 1.3, label=f"T = {t:g}")
    ax[0].set(xscale="log", xlabel="k (samples per problem)", ylabel="pass@k", title="pass@k by sampling temperature")
    ax[0].legend(loc="lower right")
    lo, hi = temps[0], temps[-1]
    only_hi = solved[hi] & ~solved[lo]
    only_lo = solved[lo] & ~solved[hi]
    ax[1].scatter(p1[lo], p1[hi], s=10, color="grey", alpha=0.6, label="both / neither")
    ax[1].scatter(p1[lo][only_hi], p1[hi][only_hi], s=18, color=cols[hi], label=f"solved only at T = {hi:g}")
    ax[1].scatter(
        p1[lo][only_lo], p1[hi][only_lo], s=18, color=cols[lo], marker="s", label=f"solved only at T = {lo:g}"
    )
    ax[1].plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax[1].set(
        xlabel=f"pass@1 at T = {lo:g}",
        ylabel=f"pass@1 at T = {hi:g}",
        title="per problem",
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
    )
    ax[1].legend(loc="upper left")
    ax[2].set(
        xscale="log",
        yscale="log",
        xlabel="k (samples per problem)",
        ylabel="1 − pass@k",
        title="failure rate (power-law tail)",
    )
    ax[2].legend(loc="lower left")
    label_panels(ax)
    data = [{"temperature": t, "k": int(k), "pass_at_k": float(v)} for t in temps for k, v in zip(*curves[t])]
    save_figure(fig, out, "temperature", data=data)
    write_csv_atomic(
        out / "per_problem.csv",
        [
            {
                "problem": i,
                **{f"pass1_T{t:g}": float(p1[t][i]) for t in temps},
                **{f"solved_T{t:g}": int(solved[t][i]) for t in temps},
            }
            for i in range(len(union))
        ],
    )
    return {
        "temperatures": temps,
        "n_common": n_common,
        "by_temperature": rows,
        "solved_by_some_temperature": int(union.sum()),
        "best_temperature_by_k": best_k,
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
