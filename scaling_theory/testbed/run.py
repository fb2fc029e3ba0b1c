"""The testbed pipeline: train (or resume) → sample → verify and judge → attempts / counts tables.

``run_testbed(key, out, profile)`` writes

* ``train_log.csv`` (and ``checkpoints/``, ``train_config.json``) — from :mod:`train`;
* ``attempts.csv`` — one row per completion: ``problem, attempt, correct, score, temperature,
  model, params`` + ``length`` (chain length = difficulty), ``answer`` (-1: malformed),
  ``well_formed``, ``n_steps`` (values written), ``logprob`` (log-probability of the completion
  under the model), ``min_logprob`` (its least likely token), ``accepted`` (the imperfect verifier with false-positive rate ``fpr``);
  ``score`` is the learned judge's logit;
* ``counts.csv`` — ``problem, n, k`` per ``(model, params, temperature)`` (+ ``length``);
* ``metrics.json`` — accuracy, training and sampling tokens/s, the judge's AUC, timings, and the
  configuration. It is written last: a folder with a ``metrics.json`` matching the configuration
  is a complete run and is reused (:func:`load_or_run`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.io import aggregate_attempts, jsonable, read_table, write_csv_atomic, write_json_atomic
from scaling_theory.testbed import judge as judge_mod
from scaling_theory.testbed import task as task_mod
from scaling_theory.testbed.config import RunConfig, profile_config
from scaling_theory.testbed.sample import generate
from scaling_theory.testbed.train import train

GROUP_COLUMNS = ("model", "params", "temperature")
_COMPLETED: dict[tuple, Path] = {}  # (config, seed) → a completed run folder, for reuse within a process


def _sample_and_verify(
    model,
    cfg: RunConfig,
    problems: task_mod.Problems,
    key: jax.Array,
    n: int,
    temperature: float,
    progress: bool,
    desc: str,
) -> dict[str, Any]:
    """Sample ``n`` completions per problem at ``temperature``; parse and verify them."""
    from tqdm.auto import tqdm

    prompts, n_pad = task_mod.encode_prompts(cfg.task, problems)
    with tqdm(total=len(problems), desc=desc, unit="problem", disable=not progress, leave=False) as bar:
        s = generate(
            key,
            model,
            prompts,
            n_pad,
            n_samples=n,
            max_new=cfg.task.completion_len,
            temperature=temperature,
            top_p=cfg.top_p,
            chunk=cfg.chunk,
            sort_key=problems.length,
            progress=bar,
        )
    parsed = task_mod.parse_completions(cfg.task, s.tokens)
    truth = np.repeat(task_mod.answers(cfg.task, problems), n)
    return {
        "samples": s,
        "answer": parsed.answer,
        "n_steps": parsed.n_steps,
        "well_formed": parsed.well_formed,
        "correct": judge_mod.exact_verifier(parsed.answer, truth),
        "length": np.repeat(problems.length, n),
    }


def _features(r: dict) -> np.ndarray:
    s = r["samples"]
    return judge_mod.judge_features(s.features, s.logprob, s.min_logprob, r["n_steps"], r["length"])


def config_fingerprint(key: jax.Array, cfg: RunConfig) -> dict:
    """The identity of a run: its configuration and its key (:func:`task.run_identity`: the integer ``seed`` of
    ``jax.random.key(seed)``, as when runs took a seed).

    Args:
      key: the run's JAX PRNG key.
      cfg: the run's configuration.
    Returns:
      A JSON-able dict.
    """
    return json.loads(json.dumps(jsonable({"config": cfg.asdict(), "seed": task_mod.run_identity(key)})))


def is_complete(key: jax.Array, out: Path, cfg: RunConfig) -> bool:
    """True when ``out`` holds a finished run of exactly this configuration and key."""
    m = Path(out) / "metrics.json"
    if not (m.is_file() and (Path(out) / "attempts.csv").is_file() and (Path(out) / "counts.csv").is_file()):
        return False
    try:
        got = json.loads(m.read_text())
    except json.JSONDecodeError:
        return False
    return got.get("fingerprint") == config_fingerprint(key, cfg)


def enable_compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (unless configured already or disabled).

    ``scaling_theory.compilation_cache.enable`` with programs compiled in at least 0.5 s: repeated runs
    (tests, experiments, resumed runs) then skip recompiling the train step and the sampler, which on
    a 2-core CPU takes longer than the smoke run itself. Folder and opt-out: see that module.
    """
    from scaling_theory.compilation_cache import enable

    return enable(min_compile_time_secs=0.5, executables=False)


def run_testbed(
    key: jax.Array,
    out: str | Path,
    profile: str = "quick",
    *,
    progress: bool = True,
    config: RunConfig | None = None,
) -> dict:
    """Train (or resume), sample, verify and judge; write the tables into ``out``; return the metrics.

    Args:
      key: JAX PRNG key of the run (initialisation, batches, problems, sampling); ``jax.random.key(seed)``
        reproduces the run that took the integer ``seed``.
      out: the run's folder (a complete run of the same fingerprint there is reused).
      profile: ``smoke``, ``quick`` or ``paper`` (or ``config``).
      progress: progress bars.
      config: a configuration instead of the profile's.
    Returns:
      The metrics (``metrics.json``).
    """
    cfg = config or profile_config(profile)
    seed = task_mod.run_identity(key)
    enable_compilation_cache()
    out = Path(out)
    if is_complete(key, out, cfg):
        return json.loads((out / "metrics.json").read_text())
    t_start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    res = train(key, cfg.task, cfg.model, cfg.train, workdir=out, progress=progress, desc=f"train {cfg.model_name}")
    t_train = time.perf_counter() - t_start
    model = res.model

    problems = task_mod.eval_problems(key, cfg.task, cfg.n_eval)
    temps = [cfg.temperature] + [t for t in cfg.extra_temperatures if t != cfg.temperature]
    results, sampling = [], []
    for i, temp in enumerate(temps):
        n = cfg.n_samples if i == 0 else cfg.extra_samples
        r = _sample_and_verify(
            model, cfg, problems, jax.random.fold_in(key, 1 + i), n, temp, progress, f"sample T={temp:g}"
        )
        r["temperature"], r["n"] = temp, n
        results.append(r)
        s = r["samples"]
        sampling.append(
            {
                "temperature": temp,
                "samples_per_problem": n,
                "seconds": s.seconds,
                "generated_tokens": s.generated_tokens,
                "tokens_per_s": s.tokens_per_second,
            }
        )

    # learned judge: fitted on completions of training-split problems, applied to the evaluation ones
    jprobs = task_mod.training_problems(key, cfg.task, cfg.judge_problems)
    jr = _sample_and_verify(
        model, cfg, jprobs, jax.random.fold_in(key, 999), cfg.judge_samples, cfg.temperature, progress, "judge data"
    )
    judge = judge_mod.LearnedJudge.fit(_features(jr), jr["correct"])
    verifier = judge_mod.ImperfectVerifier(cfg.fpr, task_mod.key_seed(key))

    frames = []
    for r in results:
        n = r["n"]
        pid = np.repeat(np.arange(len(problems)), n)
        s = r["samples"]
        frames.append(
            pd.DataFrame(
                {
                    "problem": pid,
                    "attempt": np.tile(np.arange(n), len(problems)),
                    "correct": r["correct"],
                    "score": np.round(judge.score(_features(r)), 5),
                    "temperature": r["temperature"],
                    "model": cfg.model_name,
                    "params": res.params,
                    "length": r["length"],
                    "answer": r["answer"],
                    "well_formed": r["well_formed"].astype(np.int64),
                    "n_steps": r["n_steps"],
                    "logprob": np.round(s.logprob.astype(np.float64), 5),
                    "min_logprob": np.round(s.min_logprob.astype(np.float64), 5),
                    "accepted": verifier.accept(pid, r["answer"], r["correct"]),
                }
            )
        )
    attempts = pd.concat(frames, ignore_index=True)
    counts = aggregate_attempts(attempts, list(GROUP_COLUMNS))
    lengths = pd.Series(problems.length, name="length")
    counts = counts.merge(lengths.rename_axis("problem").reset_index(), on="problem", how="left")
    write_csv_atomic(out / "attempts.csv", attempts)
    write_csv_atomic(out / "counts.csv", counts)

    main = attempts[attempts["temperature"] == cfg.temperature]
    p1 = main.groupby("problem")["correct"].mean().to_numpy()
    metrics = {
        "profile": cfg.name or profile,
        "seed": seed,
        "model": cfg.model_name,
        "params": res.params,
        "devices": [str(d) for d in jax.devices()],
        "train": {
            "steps": res.steps,
            "resumed_from": res.resumed_from,
            "final_eval_loss": res.final_loss,
            "final_eval_greedy_acc": res.log[-1]["eval_greedy_acc"] if res.log else None,
            "tokens_per_s": res.tokens_per_s,
            "seconds": t_train,
        },
        "sampling": sampling,
        "accuracy": {
            "pass1_mean": float(p1.mean()),
            "pass1_quantiles": {str(q): float(np.quantile(p1, q)) for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)},
            "pass1_by_length": {str(int(L)): float(g["correct"].mean()) for L, g in main.groupby("length")},
            "pass1_by_temperature": {str(t): float(g["correct"].mean()) for t, g in attempts.groupby("temperature")},
            "well_formed": float(main["well_formed"].mean()),
        },
        "judge": {
            "train_completions": int(len(jr["correct"])),
            "train_accuracy": float(jr["correct"].mean()),
            "auc_eval": judge_mod.auc(main["score"], main["correct"]),
            "imperfect_verifier_fpr": cfg.fpr,
            "false_positive_rate_observed": float(
                main.loc[(main["correct"] == 0) & (main["well_formed"] == 1), "accepted"].mean()
            ),
        },
        "seconds": time.perf_counter() - t_start,
        "fingerprint": config_fingerprint(key, cfg),
    }
    write_json_atomic(out / "metrics.json", metrics)
    return json.loads(json.dumps(jsonable(metrics)))


def load_or_run(
    key: jax.Array, cache_dir: str | Path, profile: str, *, progress: bool = False, config: RunConfig | None = None
) -> tuple[Path, dict]:
    """Reuse a complete run in ``cache_dir`` (or one finished earlier in this process), else run it.

    Args:
      key: JAX PRNG key of the run (see :func:`run_testbed`).
      cache_dir: the run's folder.
      profile: the profile (or ``config``).
      progress: progress bars.
      config: a configuration instead of the profile's.
    Returns:
      (the folder holding the run, its metrics).
    """
    cfg = config or profile_config(profile)
    cache_dir = Path(cache_dir)
    ident = (json.dumps(config_fingerprint(key, cfg), sort_keys=True),)
    if not is_complete(key, cache_dir, cfg):
        prev = _COMPLETED.get(ident)
        if prev is not None and is_complete(key, prev, cfg):
            return prev, json.loads((prev / "metrics.json").read_text())
    metrics = run_testbed(key, cache_dir, profile, progress=progress, config=cfg)
    _COMPLETED[ident] = cache_dir
    return cache_dir, metrics


def read_run(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The attempts table, the counts table and the metrics of a finished run."""
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.json").is_file():
        raise InputError(f"{run_dir}: not a finished testbed run (no metrics.json)")
    return (
        read_table(run_dir / "attempts.csv"),
        read_table(run_dir / "counts.csv"),
        json.loads((run_dir / "metrics.json").read_text()),
    )
