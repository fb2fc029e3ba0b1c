"""Best-of-Majority (arXiv 2510.03199) vs best-of-N and majority vote: selection accuracy as N grows with a noisy reward model, against the coverage (Hit@N) that TTSPM measures.

A synthetic task with a known answer distribution per question (π(correct) ~ Beta(2, 3), the wrong mass
spread over 39 wrong answers with a long tail, Dirichlet(0.3)) and a reward model with a fixed error per
answer (σ_a) plus per-sample noise (σ_s). Panels: (a) accuracy vs N of BoN (with its exact curve),
majority vote and BoM, and the coverage Hit@N (the oracle selector); (b) a noisier reward model;
(c) BoM's frequency threshold α; (d) submitting k = 4 answers (pass@k of the submitted set).
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

NAME = "saturation_selection"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "≈ 30 min on 2 CPU cores (estimate: 5× the trials, 4× the largest N, 1.7× the questions)"
GPU = True  # the paper profile is meant for an accelerator

PROFILES = {
    "smoke": {"questions": 40, "trials": 4, "n_max": 32},
    "quick": {"questions": 300, "trials": 40, "n_max": 1024},
    "paper": {"questions": 500, "trials": 200, "n_max": 4096},
}

RULE_STYLE = {"best_of_n": ("BoN", 0), "majority": ("majority vote", 1), "best_of_majority": ("BoM (α = 0.05)", 2)}


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    import jax.numpy as jnp
    import matplotlib

    from scaling_theory.plotting import COLORS, band, figure, label_panels, save_data, save_figure
    from scaling_theory.saturation import selection as S
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    key = jax.random.key(seed)
    grid = [int(x) for x in 2 ** np.arange(0, int(np.log2(cfg["n_max"])) + 1)]
    m = 40
    fig, axes = figure(2, 2, width=7.0, height=5.6)
    rows, summary = [], {}

    def coverage(task):  # Hit@N of the correct answer: 1 − (1 − π_correct)^N, averaged over questions
        pc = np.asarray(task.probs[:, 0])
        return np.array([np.mean(1 - (1 - pc) ** n) for n in grid])

    def panel(ax, task, curve, title, tag, exact_bon=True, labels=None):
        ax.plot(grid, coverage(task), "k:", lw=1.0, label="coverage Hit@N (oracle)")
        for rule, (name, ci) in (labels or RULE_STYLE).items():
            if rule not in curve.mean:
                continue
            mu, se = np.asarray(curve.mean[rule]), np.asarray(curve.se[rule])
            ax.plot(grid, mu, "o-", ms=2.5, color=COLORS[ci], label=name)
            band(ax, grid, mu - 2 * se, mu + 2 * se, COLORS[ci])
            for n_, a_, s_ in zip(grid, mu, se):
                rows.append({"panel": tag, "rule": rule, "N": n_, "accuracy": a_, "se": s_})
        if exact_bon and task.sample_noise == 0.0:
            ex = np.asarray(S.best_of_n_exact(task.probs, task.reward, task.correct, jnp.asarray(grid))).mean(-1)
            ax.plot(grid, ex, "--", color=COLORS[0], lw=0.9, label="BoN exact")
        ax.set(xscale="log", xlabel="samples N", ylabel="accuracy", title=title, ylim=(0, 1.02))
        ax.set_xscale("log", base=2)

    tasks = {}
    # (a) moderate reward noise, no per-sample noise (BoN has a closed form)
    tasks["a"] = S.make_answer_task(jax.random.fold_in(key, 1), cfg["questions"], m, reward_noise=0.5, sample_noise=0.0)
    ca = S.selection_accuracy(jax.random.fold_in(key, 2), tasks["a"], grid, cfg["trials"], min_freq=0.05)
    panel(axes[0, 0], tasks["a"], ca, "reward error σ_a = 0.5", "a")
    axes[0, 0].legend(fontsize=6, loc="lower right")
    # (b) noisier reward model and per-sample noise
    tasks["b"] = S.make_answer_task(jax.random.fold_in(key, 3), cfg["questions"], m, reward_noise=1.0, sample_noise=0.3)
    cb = S.selection_accuracy(jax.random.fold_in(key, 4), tasks["b"], grid, cfg["trials"], min_freq=0.05)
    panel(axes[0, 1], tasks["b"], cb, "σ_a = 1.0, per-sample σ_s = 0.3", "b")
    # (c) BoM threshold
    ax = axes[1, 0]
    ax.plot(grid, coverage(tasks["a"]), "k:", lw=1.0)
    alphas = [0.0, 0.02, 0.05, 0.1, 0.25]
    cmap = matplotlib.colormaps["viridis"]
    for i, alpha in enumerate(alphas):
        # all three rules share one compiled simulator (the same as panels a and b); BoM is read off
        cc = S.selection_accuracy(jax.random.fold_in(key, 2), tasks["a"], grid, cfg["trials"], min_freq=alpha)
        mu, se = np.asarray(cc.mean["best_of_majority"]), np.asarray(cc.se["best_of_majority"])
        col = cmap(0.9 * i / (len(alphas) - 1))
        ax.plot(grid, mu, "o-", ms=2.5, color=col, label=f"BoM α = {alpha:g}" + (" (= BoN)" if alpha == 0 else ""))
        band(ax, grid, mu - 2 * se, mu + 2 * se, col)
        for n_, a_, s_ in zip(grid, mu, se):
            rows.append({"panel": "c", "rule": f"best_of_majority_{alpha:g}", "N": n_, "accuracy": a_, "se": s_})
    ax.set(xlabel="samples N", ylabel="accuracy", title="BoM frequency threshold α (σ_a = 0.5)", ylim=(0, 1.02))
    ax.set_xscale("log", base=2)
    ax.legend(fontsize=6, loc="lower right")
    # (d) k = 4 submissions
    cd = S.selection_accuracy(jax.random.fold_in(key, 2), tasks["a"], grid, cfg["trials"], k=4, min_freq=0.05)
    panel(axes[1, 1], tasks["a"], cd, "submit k = 4 (σ_a = 0.5)", "d", exact_bon=False)
    label_panels(axes)
    save_figure(fig, out, "selection_rules", data=rows)

    table = []
    for tag, curve in (("a", ca), ("b", cb), ("d, k=4", cd)):
        for rule in curve.mean:
            mu = np.asarray(curve.mean[rule])
            table.append(
                {
                    "panel": tag,
                    "rule": rule,
                    "acc_N1": float(mu[0]),
                    "acc_best": float(mu.max()),
                    "N_best": grid[int(np.argmax(mu))],
                    "acc_Nmax": float(mu[-1]),
                }
            )
    print(format_table(table))
    ex = np.asarray(S.best_of_n_exact(tasks["a"].probs, tasks["a"].reward, tasks["a"].correct, jnp.asarray(grid))).mean(
        -1
    )
    mc = np.asarray(ca.mean["best_of_n"])
    summary["bon_exact_vs_mc_max_z"] = float(
        np.max(np.abs(mc - ex) / np.maximum(np.asarray(ca.se["best_of_n"]), 1e-12))
    )
    summary["table"] = table
    save_data(out, "selection_summary", table)
    print(f"BoN exact vs MC (panel a): max |z| = {summary['bon_exact_vs_mc_max_z']:.2f}")
    return summary


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
