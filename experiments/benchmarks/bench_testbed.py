"""Testbed throughput: training tokens/s (+ MFU), sampling tokens/s, KV cache vs full-prefix recompute.

Both sides of the sampling comparison decode the same prompts for the same number of steps with the
same model (freshly initialised, so completions rarely end early and both run every step):

* KV cache — ``sample.generate``: prefill once per prompt, then one token per step against the cache;
* recompute — ``sample.generate_recompute``: the whole prefix through the model at every step.

MFU is printed on any backend; on a CPU the peak is nominal (cores × clock × FLOP/cycle).
Run: ``python experiments/benchmarks/bench_testbed.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
from _machine import describe  # noqa: E402

from scaling_theory.numerics import shard_batch  # noqa: E402
from scaling_theory.tables import format_table  # noqa: E402
from scaling_theory.testbed import flops  # noqa: E402
from scaling_theory.testbed import task as T  # noqa: E402
from scaling_theory.testbed.config import profile_config  # noqa: E402
from scaling_theory.testbed.model import make_model  # noqa: E402
from scaling_theory.testbed.sample import generate, generate_recompute  # noqa: E402
from scaling_theory.testbed.train import init_state, train_step  # noqa: E402


def bench_train(cfg, steps: int) -> dict:
    tc = cfg.train
    graphdef, state = init_state(jax.random.key(0), cfg.model, tc)
    batches = [shard_batch(T.training_batch(jax.random.key(0), cfg.task, s, tc.batch_size)) for s in range(steps + 1)]
    state, loss = train_step(graphdef, state, *batches[0])  # compile
    jax.block_until_ready(loss)
    t0 = time.perf_counter()
    for b in batches[1:]:
        state, loss = train_step(graphdef, state, *b)
    jax.block_until_ready(loss)
    dt = time.perf_counter() - t0
    tps = steps * tc.batch_size * cfg.task.seq_len / dt
    fpt = flops.train_flops_per_token(cfg.model, cfg.task.seq_len)
    peak, source = flops.peak_flops(cfg.model.dtype)
    return {
        "tokens_per_s": tps,
        "flops_per_token": fpt,
        "achieved_flops": tps * fpt,
        "mfu": flops.mfu(tps, fpt, peak),
        "peak": peak,
        "peak_source": source,
    }


def bench_sampling(cfg, n_prompts: int, n_samples: int, repeats: int) -> list[dict]:
    model = make_model(jax.random.key(0), cfg.model)
    probs = T.eval_problems(jax.random.key(0), cfg.task, n_prompts)
    prompts, n_pad = T.encode_prompts(cfg.task, probs)
    G = cfg.task.completion_len
    slots = n_prompts * n_samples * G
    rows = []
    for name in ("kv_cache", "recompute"):
        times = []
        for r in range(repeats + 1):  # the first call compiles
            t0 = time.perf_counter()
            if name == "kv_cache":
                generate(
                    jax.random.key(r),
                    model,
                    prompts,
                    n_pad,
                    n_samples=n_samples,
                    max_new=G,
                    chunk=n_prompts * n_samples,
                )
            else:
                generate_recompute(jax.random.key(r), model, prompts, n_pad, n_samples=n_samples, max_new=G)
            times.append(time.perf_counter() - t0)
        best = min(times[1:])
        rows.append(
            {
                "sampler": name,
                "sequences": n_prompts * n_samples,
                "context": cfg.task.seq_len,
                "seconds": best,
                "tokens_per_s": slots / best,
            }
        )
    rows[0]["speedup"] = rows[1]["seconds"] / rows[0]["seconds"]
    rows[1]["speedup"] = 1.0
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and sequences")
    args = ap.parse_args(argv)
    cfg = profile_config("quick")
    print(describe())
    print(
        f"model {cfg.model_name}: d={cfg.model.d_model}, layers={cfg.model.n_layers}, "
        f"sequence {cfg.task.seq_len} tokens (prompt {cfg.task.prompt_len} + completion {cfg.task.completion_len})"
    )
    tr = bench_train(cfg, steps=10 if args.quick else 40)
    print(f"\ntraining (batch {cfg.train.batch_size}, float32)")
    print(
        format_table(
            [
                {
                    "tokens/s": tr["tokens_per_s"],
                    "FLOP/token": tr["flops_per_token"],
                    "achieved GFLOP/s": tr["achieved_flops"] / 1e9,
                    "MFU": tr["mfu"],
                    "peak": tr["peak_source"],
                }
            ]
        )
    )
    if jax.default_backend() == "cpu":
        print("MFU on a GPU: not measured here (no GPU in this run); run this script on one to get it.")
    rows = bench_sampling(cfg, n_prompts=8 if args.quick else 32, n_samples=128, repeats=1 if args.quick else 3)
    print(f"\nsampling {cfg.task.completion_len} tokens after a {cfg.task.prompt_len}-token prompt, temperature 1")
    print(format_table(rows, ["sampler", "sequences", "seconds", "tokens_per_s", "speedup"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
