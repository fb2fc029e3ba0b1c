"""Testbed (theory vs empirics): the allocation theory's predicted coverage against the testbed's own empirical
curves (spec difficulty_and_allocation.md §4; Snell et al., arXiv 2408.03314 — adaptive vs uniform best-of-N).

On the shared testbed run (the one the other testbed experiments use, ``testbed.analysis.cached_run``), a pilot of
n₀ attempts per problem is sub-sampled from the logged attempts at the main temperature; each policy's *expected*
coverage under the Beta posteriors fitted on the pilot is compared with its *realised* coverage, scored exactly
on the held-out attempts (hypergeometric counting), and with uniform spending.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "allocation_testbed"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "the paper testbed run (≈ 3.2 M parameters, 20,000 steps): days on 2 CPU cores, about an hour on one GPU (estimate from the quick run's ≈ 550× fewer training FLOPs)"
GPU = True  # the paper profile is meant for an accelerator
SETTINGS = {
    "smoke": {"pilot": 4, "budgets": (2.0, 8.0), "repeats": 2, "policies": ("uniform", "lagrangian")},
    "quick": {
        "pilot": 8,
        "budgets": (2.0, 8.0, 32.0),
        "repeats": 5,
        "policies": ("uniform", "binned", "lagrangian", "sequential"),
    },
    "paper": {
        "pilot": 8,
        "budgets": (2.0, 8.0, 32.0, 128.0),
        "repeats": 20,
        "policies": ("uniform", "binned", "lagrangian", "sequential"),
    },
}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.allocation.backtest import backtest
    from scaling_theory.plotting import COLORS, MARKERS, figure, save_figure
    from scaling_theory.tables import format_table
    from scaling_theory.testbed.analysis import cached_run

    out = Path(out)
    st = SETTINGS[profile]
    _, _, counts, metrics = cached_run(jax.random.key(seed), out, profile)
    main_t = metrics["fingerprint"]["config"]["temperature"]
    c = counts[np.isclose(counts["temperature"], main_t)].sort_values("problem")
    n, k = c["n"].to_numpy(np.float64), c["k"].to_numpy(np.float64)
    budgets = [b for b in st["budgets"] if b <= n.min() - st["pilot"]]
    res = backtest(
        jax.random.key(seed),
        n,
        k,
        st["pilot"],
        budgets,
        policies_=st["policies"],
        repeats=st["repeats"],
        sequential_draws=8,
        bootstrap=100,
    )
    rows = []
    for j, b in enumerate(res.budgets):
        for p in st["policies"]:
            rows.append(
                {
                    "budget": float(b),
                    "policy": p,
                    "expected (theory)": float(np.nanmean(res.expected[p][:, 0, j])),
                    "realised (held-out)": float(res.realised[p][:, 0, j].mean()),
                    "uniform realised": float(res.realised["uniform"][:, 0, j].mean()),
                    "multiplier": float(res.multiplier[p][0, j]),
                    "lower": float(res.multiplier_lower[p][0, j]),
                    "upper": float(res.multiplier_upper[p][0, j]),
                }
            )
    print(
        f"testbed: {len(n)} problems, n = {int(n.min())} attempts each at T = {main_t}; pilot {st['pilot']}, "
        f"{st['repeats']} pilot draws"
    )
    print(format_table(rows))
    fig, ax = figure(1, 1, width=3.6, height=3.0)
    for i, p in enumerate(st["policies"]):
        r = [x for x in rows if x["policy"] == p]
        ax.plot(
            [x["budget"] for x in r],
            [x["realised (held-out)"] for x in r],
            marker=MARKERS[i],
            color=COLORS[i],
            label=f"{p} (realised)",
        )
        if p != "sequential":
            ax.plot([x["budget"] for x in r], [x["expected (theory)"] for x in r], ls=":", color=COLORS[i])
    ax.set(
        xscale="log",
        xlabel="extra attempts per problem (mean)",
        ylabel="coverage",
        title="testbed: theory (dotted) vs held-out",
    )
    ax.legend(fontsize=6)
    save_figure(fig, out, "allocation_testbed", data=rows)
    return {"rows": rows}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
