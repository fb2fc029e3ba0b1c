"""Testbed experiment 5 (theory vs empirics): training-compute scaling of the transformer testbed — held-out
loss and greedy pass@1 over model sizes N and training tokens D, fitted with the Chinchilla law
L(N, D) = E + A N^(−α) + B D^(−β) (Hoffmann et al. 2022, approach 3; ``scaling_theory.fitting``).

One training run per width (2 layers, d_ff = 4d; quick profile: a smaller instance of the task, m = 7
and chains of 2–6 steps), constant learning rate after a linear warm-up,
evaluated every ``eval_every`` steps: the loss at step s is the loss after D = s × batch × sequence
tokens. (Separate cosine-decayed runs per budget, as Chinchilla does, cost one run per (N, D); with
a constant rate the learning-curve points are the usual cheaper approximation, Kaplan et al. 2020.)
N counts non-embedding parameters. pass@1 is the held-out greedy exact-match rate (greedy decoding
solves a problem iff every teacher-forced argmax on its answer is right).
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np

NAME = "testbed_scaling"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = (
    "four widths up to 512 × 16,000 steps at batch 256: days on 2 CPU cores, a few hours on one GPU (estimate)"
)
GPU = True  # the paper profile is meant for an accelerator
# The quick sweep uses a smaller instance of the task (m = 7, chains of 2–6 steps, 16-token
# sequences) so that on 2 CPU cores the runs get past the loss plateau within the budget.
SETTINGS = {
    "smoke": {"widths": (8, 16), "steps": 20, "eval_every": 5, "batch": 16, "task": (5, 1, 3), "starts": 64},
    "quick": {"widths": (16, 32, 64), "steps": 900, "eval_every": 100, "batch": 64, "task": (7, 2, 6)},
    "paper": {"widths": (64, 128, 256, 512), "steps": 16_000, "eval_every": 1000, "batch": 256, "task": (11, 2, 10)},
}


def _runs(cache: Path, profile: str, seed: int) -> list[dict]:
    """Train (or reuse from ``cache/runs.json``) one run per width; the learning-curve rows."""
    from scaling_theory.io import write_json_atomic
    from scaling_theory.testbed.flops import non_embedding_params
    from scaling_theory.testbed.model import ModelConfig
    from scaling_theory.testbed.run import enable_compilation_cache
    from scaling_theory.testbed.task import TaskConfig
    from scaling_theory.testbed.train import TrainConfig, train

    st = SETTINGS[profile]
    modulus, min_len, max_len = st["task"]
    task = TaskConfig(modulus=modulus, min_len=min_len, max_len=max_len, eval_every=4 if max_len <= 3 else 8)
    key = json.dumps({"settings": st, "seed": seed, "task": task.__dict__}, sort_keys=True)
    path = cache / "runs.json"
    done = json.loads(path.read_text()) if path.is_file() else {}
    if done.get("key") != key:
        done = {"key": key, "rows": {}}
    enable_compilation_cache()
    for d in st["widths"]:
        if str(d) in done["rows"]:
            continue
        mcfg = ModelConfig(task.vocab_size, d_model=d, n_layers=2, n_heads=max(1, d // 16), d_ff=4 * d)
        tcfg = TrainConfig(
            steps=st["steps"],
            batch_size=st["batch"],
            lr=1e-2 if d <= 64 else 3e-3,
            warmup=max(1, st["steps"] // 12),
            min_lr_ratio=1.0,
            eval_every=st["eval_every"],
            eval_problems=256 if profile != "smoke" else 16,
            ckpt_every=10**9,
        )
        res = train(jax.random.key(seed), task, mcfg, tcfg, progress=False, desc=f"d={d}")
        done["rows"][str(d)] = [
            {
                "width": d,
                "N": non_embedding_params(mcfg),
                "params": res.params,
                "step": r["step"],
                "D": r["tokens"],
                "loss": r["eval_loss"],
                "pass1_greedy": r["eval_greedy_acc"],
            }
            for r in res.log
        ]
        write_json_atomic(path, done)  # after each width: an interrupted experiment resumes
    return [r for d in st["widths"] for r in done["rows"][str(d)]]


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.io import write_csv_atomic
    from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_figure
    from scaling_theory.tables import format_table

    out = Path(out)
    st = SETTINGS[profile]
    rows = _runs(out.parent / f"_testbed_scaling_{profile}_{seed}", profile, seed)
    N = np.array([r["N"] for r in rows], float)
    D = np.array([r["D"] for r in rows], float)
    L = np.array([r["loss"] for r in rows], float)
    acc = np.array([r["pass1_greedy"] for r in rows], float)
    widths = sorted({r["width"] for r in rows})
    print(format_table([{k: r[k] for k in ("width", "N", "D", "loss", "pass1_greedy")} for r in rows]))

    fit_summary, note = None, None
    try:
        import jax

        from scaling_theory import fitting

        # Hoffmann et al.'s 4,500-start grid (smoke: 64 random starts, to stay within seconds)
        res = fitting.fit("chinchilla", {"N": N, "D": D}, L, starts=st.get("starts", "grid"), key=jax.random.key(seed))
        rms = float(np.sqrt(np.mean(res.residuals() ** 2)))  # log-space residuals of the best fit
        fit_summary = {**res.params, "objective": res.objective, "converged": res.converged, "rms_log_residual": rms}
        print("Chinchilla fit:", {k: float(f"{v:.4g}") for k, v in res.params.items()}, f"RMS log residual {rms:.3f}")
    except ImportError as exc:  # the fitting area is written concurrently
        note = f"scaling_theory.fitting is not available ({exc}); no L(N, D) fit"
        print(note)

    # ---- figure: (a) loss vs D per N with the fitted law; (b) greedy pass@1 vs training compute 6ND
    fig, ax = figure(1, 2, width=7.4, height=3.0)
    for i, d in enumerate(widths):
        sel = np.array([r["width"] == d for r in rows])
        n_d = N[sel][0]
        ax[0].plot(D[sel], L[sel], marker=MARKERS[i], ls="none", color=COLORS[i], label=f"N = {int(n_d):,}")
        if fit_summary is not None:
            dd = np.geomspace(D[sel].min(), D[sel].max(), 50)
            ax[0].plot(dd, res.predict({"N": np.full_like(dd, n_d), "D": dd}), color=COLORS[i], lw=1)
        ax[1].plot(6 * N[sel] * D[sel], acc[sel], marker=MARKERS[i], color=COLORS[i], label=f"N = {int(n_d):,}")
    title = (
        f"lines: Chinchilla fit (RMS log residual {fit_summary['rms_log_residual']:.2f})"
        if fit_summary
        else "held-out loss (no fit: fitting missing)"
    )
    ax[0].set(xscale="log", yscale="log", xlabel="training tokens D", ylabel="loss (nats / answer token)", title=title)
    ax[0].legend(loc="lower left")
    ax[1].set(
        xscale="log",
        xlabel="training compute 6ND (FLOP)",
        ylabel="greedy pass@1 (held-out)",
        title="pass@1 vs compute",
        ylim=(-0.02, 1.02),
    )
    ax[1].legend(loc="upper left")
    label_panels(ax)
    save_figure(fig, out, "scaling", data=rows)
    if fit_summary is not None:
        write_csv_atomic(out / "chinchilla_fit.csv", [fit_summary])
    return {
        "points": len(rows),
        "widths": widths,
        "chinchilla": fit_summary,
        "note": note,
        "final": [r for r in rows if r["step"] == max(x["step"] for x in rows)],
    }


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
