"""``scaling-theory testbed run --profile quick|paper [--out DIR] [--seed S]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "testbed",
        help="transformer testbed: train, sample, verify and judge; write attempts/counts tables",
        description="A small Flax NNX transformer on a synthetic modular-arithmetic task, sampled many "
        "times per problem: empirical inference-time scaling curves in the attempts/counts tables.",
    )
    sub = p.add_subparsers(dest="testbed_command", metavar="VERB")
    run = sub.add_parser(
        "run",
        help="train (or resume), sample and evaluate; write attempts.csv, counts.csv, train_log.csv, metrics.json",
        description="Train (or resume from DIR/checkpoints), sample completions of the evaluation problems, "
        "verify and judge them, and write DIR/attempts.csv, DIR/counts.csv, DIR/train_log.csv and "
        "DIR/metrics.json. A finished run with the same configuration is reused.",
    )
    run.add_argument(
        "--profile",
        choices=("smoke", "quick", "paper"),
        default="quick",
        help="smoke: seconds (tests); quick: ≤ 10 min on 2 CPU cores; paper: a GPU",
    )
    run.add_argument("--out", type=Path, default=None, help="output folder (default: testbed_<profile>_<seed>)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--json", action="store_true", help="print metrics.json instead of a summary table")
    run.set_defaults(func=_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _run(args: argparse.Namespace) -> int:
    import jax

    from scaling_theory.cli import print_json
    from scaling_theory.errors import InputError
    from scaling_theory.tables import format_table
    from scaling_theory.testbed.run import run_testbed

    if not 0 <= args.seed < 2**32:  # jax.random.key keeps 32 bits of a seed (outside x64): no two seeds share a run
        raise InputError(f"--seed must be in [0, 2**32), got {args.seed}")
    out = args.out or Path(f"testbed_{args.profile}_{args.seed}")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    m = run_testbed(jax.random.key(args.seed), out, args.profile, progress=not args.no_progress)
    if args.json:
        print_json({k: v for k, v in m.items() if k != "fingerprint"})
        return 0
    rows = [
        {"quantity": "model", "value": f"{m['model']} ({m['params']} parameters)"},
        {"quantity": "final eval loss", "value": m["train"]["final_eval_loss"]},
        {"quantity": "greedy exact match (held-out)", "value": m["train"]["final_eval_greedy_acc"]},
        {"quantity": "training tokens/s", "value": m["train"]["tokens_per_s"]},
    ]
    for s in m["sampling"]:
        rows.append(
            {
                "quantity": f"sampling tokens/s (T={s['temperature']:g}, {s['samples_per_problem']}/problem)",
                "value": s["tokens_per_s"],
            }
        )
    acc = m["accuracy"]
    rows += [
        {"quantity": "mean pass@1 (main temperature)", "value": acc["pass1_mean"]},
        {
            "quantity": "pass@1 quantiles 0/10/50/90/100 %",
            "value": " / ".join(f"{acc['pass1_quantiles'][q]:.3f}" for q in ("0.0", "0.1", "0.5", "0.9", "1.0")),
        },
        {"quantity": "judge AUC (eval problems)", "value": m["judge"]["auc_eval"]},
        {"quantity": "wall seconds", "value": m["seconds"]},
    ]
    print(format_table(rows))
    print(f"wrote {out}/attempts.csv, counts.csv, train_log.csv, metrics.json")
    return 0
