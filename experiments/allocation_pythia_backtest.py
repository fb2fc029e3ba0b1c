"""Allocation back-tests on Pythia × MATH (Brown et al., arXiv 2407.21787 logs; Snell et al., arXiv 2408.03314
Fig. 2-style comparison against uniform best-of-N): realised coverage of each policy vs uniform spending at equal
budget, and the compute multiplier (the uniform budget needed to match) with a 90% interval.

A pilot of n₀ ∈ {8, 32} attempts per problem is sub-sampled from the logs; posteriors are fitted on the pilot;
each policy spends b̄ extra attempts per problem on average; realised coverage is scored exactly on the held-out
attempts (hypergeometric counting, spec §4). Decided on the 7-model table (n = 10,000), confirmed on the Pythia
checkpoint table (unequal n per problem; quick profile: the final 300B-token checkpoint of each size).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "allocation_pythia_backtest"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 30–60 min on 2 CPU cores (estimate: 5× the repeats, 8× the draws, 8 budgets)"
SETTINGS = {
    "smoke": {
        "pilots": (8,),
        "budgets": (4.0,),
        "repeats": 1,
        "draws": 2,
        "boot": 20,
        "models": 2,
        "policies": ("uniform", "lagrangian"),
        "checkpoints": False,
    },
    "quick": {
        "pilots": (8, 32),
        "budgets": (1.0, 4.0, 16.0, 64.0, 96.0),
        "repeats": 2,
        "draws": 4,
        "boot": 200,
        "models": None,
        "policies": ("uniform", "binned", "lagrangian", "sequential"),
        "checkpoints": "final",
    },
    "paper": {
        "pilots": (8, 32),
        "budgets": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 96.0),
        "repeats": 10,
        "draws": 32,
        "boot": 500,
        "models": None,
        "policies": ("uniform", "binned", "lagrangian", "sequential"),
        "checkpoints": "all",
    },
}


def _tables(st):
    from scaling_theory.io import data_path, read_counts
    from scaling_theory.passk.grouping import stack_groups

    out = []
    d = stack_groups(read_counts(data_path("pythia_math_counts.csv"), ["model"]), ["model"])
    if st["models"]:
        keep = np.argsort([-np.sum(d.k[i] > 0) for i in range(len(d.groups))])[: st["models"]]
        d = type(d)([d.groups[i] for i in keep], d.n[keep], d.k[keep], d.mask[keep])
    out.append(("pythia_math (7 models, n=10,000)", d))
    if st["checkpoints"]:
        c = read_counts(data_path("pythia_math_checkpoints_counts.csv"), ["model"])
        if st["checkpoints"] == "final":
            c = c[c["train_tokens"] >= 3e11]
        out.append(("pythia checkpoints (unequal n)", stack_groups(c, ["model"])))
    return out


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.allocation.backtest import backtest
    from scaling_theory.io import write_csv_atomic
    from scaling_theory.plotting import COLORS, MARKERS, figure, save_figure
    from scaling_theory.tables import format_table

    out = Path(out)
    st = SETTINGS[profile]
    key = jax.random.key(seed)
    rows, summary = [], []
    curves = []
    for label, d in _tables(st):
        for n0 in st["pilots"]:
            nmin = float(np.min(np.where(d.mask > 0, d.n, np.inf)))
            budgets = [b for b in st["budgets"] if b <= nmin - n0]
            res = backtest(
                key,
                d.n,
                d.k,
                n0,
                budgets,
                mask=d.mask,
                policies_=st["policies"],
                repeats=st["repeats"],
                sequential_draws=st["draws"],
                bootstrap=st["boot"],
                groups=d.groups,
            )
            for r in res.rows():
                rows.append({"data": label, "pilot": n0, **r})
            for j, b in enumerate(res.budgets):
                uni = res.realised["uniform"][:, :, j].mean(0)  # per group
                for p in st["policies"]:
                    if p == "uniform":
                        continue
                    v = res.realised[p][:, :, j].mean(0)
                    tied = np.isclose(v, uni, rtol=0, atol=1e-12)  # e.g. checkpoints that solve nothing: both 0
                    summary.append(
                        {
                            "data": label,
                            "pilot": n0,
                            "budget": float(b),
                            "policy": p,
                            "uniform": float(uni.mean()),
                            "realised": float(v.mean()),
                            "gain_pp": 100 * float((v - uni).mean()),
                            "groups_beating_uniform": f"{int(np.sum((v > uni) & ~tied))}/{int(np.sum(~tied))}",
                            "multiplier_median": float(np.nanmedian(res.multiplier[p][:, j])),
                            "lower_median": float(np.nanmedian(res.multiplier_lower[p][:, j])),
                            "upper_median": float(np.nanmedian(res.multiplier_upper[p][:, j])),
                        }
                    )
                for p in st["policies"]:
                    curves.append(
                        {
                            "data": label,
                            "pilot": n0,
                            "budget": float(b),
                            "policy": p,
                            "realised": float(res.realised[p][:, :, j].mean()),
                        }
                    )
    print(
        "per group (realised coverage, mean over pilot draws; multiplier = uniform budget to match / budget, 90% interval):"
    )
    print(
        format_table(
            rows,
            [
                "data",
                "pilot",
                "model",
                "budget",
                "policy",
                "realised",
                "uniform",
                "gain_pp",
                "multiplier",
                "lower",
                "upper",
            ],
        )
    )
    print(
        "\nsummary over groups (mean realised coverage; multiplier: median over groups of the point estimate and "
        "of the 90% interval ends; inf/nan: uniform spending within the logs never matches):"
    )
    print(format_table(summary))
    write_csv_atomic(out / "allocation_backtest_rows.csv", rows)
    fig, axes = figure(1, 2, width=7.2, height=3.0)
    for ax, (label, _) in zip(np.atleast_1d(axes), _tables(st)):
        for i, p in enumerate(st["policies"]):
            for n0, ls in zip(st["pilots"], ("-", "--")):
                pts = [c for c in curves if c["data"] == label and c["policy"] == p and c["pilot"] == n0]
                if pts:
                    ax.plot(
                        [c["budget"] for c in pts],
                        [c["realised"] for c in pts],
                        ls=ls,
                        marker=MARKERS[i],
                        color=COLORS[i],
                        label=f"{p}, n₀={n0}",
                    )
        ax.set(
            xscale="log",
            xlabel="extra attempts per problem (mean)",
            ylabel="realised coverage (mean over models)",
            title=label,
        )
    np.atleast_1d(axes)[0].legend(fontsize=6)
    save_figure(fig, out, "allocation_backtest", data=curves)
    return {"summary": summary}


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
