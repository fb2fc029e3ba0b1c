"""Coverage-vs-compute frontier over the 72 Pythia checkpoints (Brown et al., arXiv 2407.21787 Fig. 3 — coverage vs
inference FLOPs across Pythia sizes — here with the dense 2·params·tokens cost and Kinetics' memory-aware eFLOPs,
Sadhukhan et al., arXiv 2506.05333 Fig. 1): which checkpoint (size × training tokens), and how many samples per
problem, is compute-optimal at each budget, with a bootstrap interval over problems.

Costs per sample come from the public Pythia shapes (data/pythia_shapes.csv) with an assumed MATH prompt of
512 tokens and 256 generated tokens (the logs record no token counts); Kinetics uses I = 562.5 FLOPs per element
(B200, bf16) and counts the prompt's KV reads once per problem. Coverage beyond the logged n uses the Beta
posterior extrapolation (spec §5).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "allocation_frontier"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "9 s (measured, one process, load 4.5)"
SETTINGS = {
    "smoke": {"checkpoints": "final", "budgets": 8, "boot": 20},
    "quick": {"checkpoints": "all", "budgets": 16, "boot": 200},
    "paper": {"checkpoints": "all", "budgets": 32, "boot": 1000},
}
PROMPT, OUTPUT = 512.0, 256.0


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.allocation import costs
    from scaling_theory.allocation.frontier import frontier
    from scaling_theory.io import data_path, read_counts, write_csv_atomic
    from scaling_theory.passk.grouping import stack_groups
    from scaling_theory.plotting import COLORS, figure, save_figure
    from scaling_theory.tables import format_table

    out = Path(out)
    st = SETTINGS[profile]
    c = read_counts(data_path("pythia_math_checkpoints_counts.csv"), ["model"])
    c = c[c.groupby("model")["problem"].transform("size") >= 64]  # Pythia_12B_2M has 9 problems only
    if st["checkpoints"] == "final":
        c = c[c["train_tokens"] >= 3e11]
    d = stack_groups(c, ["model"])
    models = [g["model"] for g in d.groups]
    results, summary = {}, {}
    for cm in ("dense", "kinetics"):
        cmap = costs.model_costs(models, cm, PROMPT, OUTPUT)
        lo = min(v(1) for v in cmap.values())
        # up to the budget at which the most expensive checkpoint reaches its smallest logged n: beyond the logs
        # the Beta extrapolation decides alone (column `extrapolated` = fraction of the chosen model's problems)
        hi = max(cmap[m](float(np.min(d.n[j][d.mask[j] > 0]))) for j, m in enumerate(models))
        budgets = np.geomspace(lo, hi, st["budgets"])
        fr = frontier(jax.random.key(seed), d.n, d.k, d.mask, models, budgets, cost_models=cmap, bootstrap=st["boot"])
        results[cm] = fr
        rows = fr.rows()
        print(
            f"\n{cm} cost ({'2·P·L_out' if cm == 'dense' else 'Kinetics eFLOPs, I = 562.5'}), "
            f"L_in = {PROMPT:g}, L_out = {OUTPUT:g}: optimal checkpoint per budget (FLOPs per problem)"
        )
        print(format_table(rows))
        cross = fr.crossovers()
        if cross:
            print("crossovers:")
            print(format_table(cross))
        summary[cm] = {"rows": rows, "crossovers": cross}
        write_csv_atomic(out / f"frontier_{cm}.csv", rows)
    fig, axes = figure(1, 2, width=7.2, height=3.0)
    data = []
    for ax, cm in zip(axes, ("dense", "kinetics")):
        fr = results[cm]
        sizes = sorted(
            {costs.pythia_size(m) for m in models}, key=lambda s: float(s[:-1]) * (1e3 if s[-1] == "B" else 1)
        )
        for i, s in enumerate(sizes):
            idx = [j for j, m in enumerate(models) if costs.pythia_size(m) == s]
            env = np.max(np.where(np.isnan(fr.coverage[idx]), -np.inf, fr.coverage[idx]), axis=0)
            env = np.where(np.isfinite(env), env, np.nan)
            ax.plot(fr.budgets, env, color=COLORS[i % len(COLORS)], label=s, lw=1)
            data += [
                {"cost_model": cm, "size": s, "budget": float(b), "coverage": float(v)} for b, v in zip(fr.budgets, env)
            ]
        best = np.array([fr.coverage[j, c] if j >= 0 else np.nan for c, j in enumerate(fr.best)])
        ax.plot(fr.budgets, best, color="black", lw=2, ls="--", label="frontier")
        ax.fill_between(fr.budgets, fr.lower, fr.upper, color="grey", alpha=0.3)
        ax.set(
            xscale="log",
            xlabel=f"{'FLOPs' if cm == 'dense' else 'eFLOPs'} per problem",
            ylabel="coverage",
            title=f"{cm} cost",
        )
    axes[0].legend(fontsize=6, ncol=2)
    save_figure(fig, out, "allocation_frontier", data=data)
    return summary


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
