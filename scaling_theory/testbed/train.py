"""Training: AdamW with linear warm-up and cosine decay, a jitted data-parallel step, periodic
evaluation, Orbax checkpoints with exact resume, a progress bar and a CSV training log.

Objective: mean next-token cross-entropy over the completion tokens (the written steps and the end
token), ``L = Σ_t m_t CE(logits_t, x_{t+1}) / Σ_t m_t``. The batch of step ``s`` is a pure function
of ``(key, s)`` (:func:`task.training_batch`), so a run resumed from a checkpoint at step ``s``
continues with exactly the batches, optimiser state and parameters of an uninterrupted run.
Batches are sharded over a 1-D device mesh, the parameters and optimiser state are replicated, and
XLA inserts the gradient all-reduce.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from scaling_theory.errors import InputError
from scaling_theory.io import read_table, write_csv_atomic, write_json_atomic
from scaling_theory.numerics import batch_mesh, shard_batch
from scaling_theory.results import Result, to_python
from scaling_theory.testbed import task as task_mod
from scaling_theory.testbed.model import ModelConfig, Transformer, count_params, forward
from scaling_theory.testbed.task import TaskConfig

LOG_COLUMNS = (
    "step",
    "tokens",
    "lr",
    "train_loss",
    "eval_loss",
    "eval_token_acc",
    "eval_greedy_acc",
    "seconds",
    "tokens_per_s",
)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``steps`` optimiser steps of ``batch_size`` sequences."""

    steps: int = 1000
    batch_size: int = 128
    lr: float = 3e-3
    warmup: int = 100
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    b1: float = 0.9
    b2: float = 0.98
    grad_clip: float = 1.0
    eval_every: int = 100
    eval_problems: int = 512
    ckpt_every: int = 200
    target_greedy_acc: float | None = None  # stop at the first evaluation reaching this exact-match rate

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "eval_problems", "ckpt_every"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InputError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.warmup < self.steps:
            raise InputError(f"warmup must be in [0, steps), got warmup={self.warmup}, steps={self.steps}")
        if self.target_greedy_acc is not None and not 0 < self.target_greedy_acc <= 1:
            raise InputError(f"target_greedy_acc must be in (0, 1], got {self.target_greedy_acc}")


def schedule(cfg: TrainConfig) -> optax.Schedule:
    """Learning rate: linear warm-up 0 → lr over ``warmup`` steps, cosine decay to ``min_lr_ratio·lr``."""
    return optax.warmup_cosine_decay_schedule(0.0, cfg.lr, max(cfg.warmup, 1), cfg.steps, cfg.lr * cfg.min_lr_ratio)


def make_optimizer(model: Transformer, cfg: TrainConfig) -> nnx.Optimizer:
    """AdamW (decoupled weight decay on matrices only) after global-norm clipping."""
    decay_mask = lambda params: jax.tree_util.tree_map(lambda p: p.ndim >= 2, params)  # noqa: E731
    tx = optax.chain(
        optax.clip_by_global_norm(cfg.grad_clip),
        optax.adamw(schedule(cfg), b1=cfg.b1, b2=cfg.b2, weight_decay=cfg.weight_decay, mask=decay_mask),
    )
    return nnx.Optimizer(model, tx, wrt=nnx.Param)


def loss_and_metrics(model: Transformer, tokens_BxT: jax.Array, mask_BxT: jax.Array) -> tuple[jax.Array, dict]:
    """Masked next-token cross-entropy and token accuracy / whole-completion (greedy) accuracy.

    A completion is greedily decoded exactly iff every teacher-forced argmax on it is right, so
    ``greedy_acc`` is the exact-match accuracy of greedy decoding, computed without decoding.
    """
    logits = forward(model, tokens_BxT)[:, :-1]
    targets, m = tokens_BxT[:, 1:], mask_BxT[:, :-1]
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    n = jnp.maximum(m.sum(), 1.0)
    hit = (jnp.argmax(logits, -1) == targets).astype(jnp.float32)
    seq_ok = jnp.all((hit > 0) | (m == 0), axis=1)
    has = m.sum(1) > 0
    metrics = {
        "token_acc": (hit * m).sum() / n,
        "greedy_acc": (seq_ok & has).sum() / jnp.maximum(has.sum(), 1),
    }
    return (ce * m).sum() / n, metrics


@functools.partial(jax.jit, static_argnames=("graphdef",), donate_argnames=("state",))
def train_step(graphdef: Any, state: Any, tokens: jax.Array, mask: jax.Array) -> tuple[Any, jax.Array]:
    """One AdamW step on a (sharded) batch; returns the new (model, optimiser) state and the loss."""
    model, opt = nnx.merge(graphdef, state)
    (loss, _), grads = nnx.value_and_grad(loss_and_metrics, has_aux=True)(model, tokens, mask)
    opt.update(model, grads)
    return nnx.state((model, opt)), loss


@functools.partial(jax.jit, static_argnames=("graphdef",))
def eval_step(graphdef: Any, state: Any, tokens: jax.Array, mask: jax.Array) -> dict:
    model, _ = nnx.merge(graphdef, state)
    loss, metrics = loss_and_metrics(model, tokens, mask)
    return {"loss": loss, **metrics}


def init_state(key: jax.Array, mcfg: ModelConfig, tcfg: TrainConfig, sharding: Any = None) -> tuple[Any, Any]:
    """Graph definition and state of a fresh (model, optimiser) pair, built in one compiled program."""

    def build():
        model = Transformer(mcfg, rngs=nnx.Rngs(params=key))
        return model, make_optimizer(model, tcfg)

    graphdef, _ = nnx.split(nnx.eval_shape(build))
    state = jax.jit(lambda: nnx.split(build())[1], out_shardings=sharding)()
    return graphdef, state


def _reached(tcfg: TrainConfig, log: list[dict], step: int) -> bool:
    """True when the evaluation logged at ``step`` reached the target greedy exact-match rate."""
    return (
        tcfg.target_greedy_acc is not None
        and bool(log)
        and int(log[-1]["step"]) == step
        and float(log[-1]["eval_greedy_acc"]) >= tcfg.target_greedy_acc
    )


@dataclass(frozen=True)
class TrainResult(Result):
    """A trained model with its parameter count, the optimiser steps reached, the final evaluation loss, the
    training log (one dict per logged step, the columns of ``train_log.csv``), the training throughput and the
    step it resumed from (0: a fresh run).

    Rows (an override of the :class:`~scaling_theory.results.Result` rule): the training log, one row per
    logged step.
    """

    model: Transformer
    params: int
    steps: int
    final_loss: float
    log: list[dict]
    tokens_per_s: float
    resumed_from: int

    def rows(self) -> list[dict]:
        """The training log: one row per logged step, plain Python values."""
        return [{k: to_python(v) for k, v in row.items()} for row in self.log]


def _fingerprint(task: TaskConfig, mcfg: ModelConfig, tcfg: TrainConfig, key: jax.Array) -> dict:
    return {
        "task": dataclasses.asdict(task),
        "model": dataclasses.asdict(mcfg),
        "train": dataclasses.asdict(tcfg),
        "seed": task_mod.run_identity(key),
    }


def train(
    key: jax.Array,
    task: TaskConfig,
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    *,
    workdir: Path | None = None,
    stop_after: int | None = None,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Train (or resume) a model; checkpoints and ``train_log.csv`` go to ``workdir`` when given.

    ``stop_after`` ends the call after that many steps (an "interruption"); calling again with the
    same ``workdir`` resumes from the latest checkpoint. With ``tcfg.target_greedy_acc`` training
    ends at the first periodic evaluation whose held-out greedy exact-match rate reaches it (a
    deliberately partly-trained model; a resumed run that had stopped there stays stopped).
    """
    import orbax.checkpoint as ocp
    from tqdm.auto import tqdm

    if tcfg.batch_size % jax.device_count():
        raise InputError(f"batch_size={tcfg.batch_size} is not a multiple of the {jax.device_count()} devices")
    mesh = batch_mesh()
    replicated = NamedSharding(mesh, PartitionSpec())
    graphdef, state = init_state(key, mcfg, tcfg, replicated)

    fp = _fingerprint(task, mcfg, tcfg, key)
    mngr, start, log = None, 0, []
    if workdir is not None:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        cfg_path = workdir / "train_config.json"
        if cfg_path.exists() and json.loads(cfg_path.read_text()) != json.loads(json.dumps(fp)):
            raise InputError(f"{workdir} holds a training run with a different configuration; use another folder")
        write_json_atomic(cfg_path, fp)
        mngr = ocp.CheckpointManager(
            (workdir / "checkpoints").resolve(),
            options=ocp.CheckpointManagerOptions(max_to_keep=2, create=True, enable_async_checkpointing=False),
        )
        latest = mngr.latest_step()
        if latest is not None:
            abstract = jax.tree_util.tree_map(
                lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated), state
            )
            state = mngr.restore(latest, args=ocp.args.StandardRestore(abstract))
            start = int(latest)
            log_path = workdir / "train_log.csv"
            if log_path.exists():
                log = [r for r in read_table(log_path).to_dict("records") if r["step"] <= start]

    eval_probs = task_mod.heldout_problems(key, task, tcfg.eval_problems)
    ev_tokens, ev_mask = shard_batch(task_mod.encode_training(task, eval_probs), mesh)
    lr_fn = schedule(tcfg)
    seq_tokens = tcfg.batch_size * task.seq_len
    end = tcfg.steps if stop_after is None else min(tcfg.steps, start + stop_after)
    if _reached(tcfg, log, start):  # a run that already stopped at its target accuracy
        end = start
    bar = tqdm(total=tcfg.steps, initial=start, desc=desc, unit="step", disable=not progress, leave=False)
    losses: list[jax.Array] = []
    offset = float(log[-1]["seconds"]) if log else 0.0
    t_call = time.perf_counter()
    t_timed0: float | None = None  # after the first (compiling) step of this call
    t_eval = 0.0  # time spent evaluating / checkpointing, excluded from the throughput
    for step in range(start, end):
        tokens, mask = task_mod.training_batch(key, task, step, tcfg.batch_size)
        tokens, mask = shard_batch((tokens, mask), mesh)
        state, loss = train_step(graphdef, state, tokens, mask)
        losses.append(loss)
        done = step + 1
        if t_timed0 is None:
            jax.block_until_ready(loss)
            t_timed0 = time.perf_counter()
        if done % tcfg.eval_every == 0 or done == end:
            jax.block_until_ready(loss)  # the steps dispatched so far count as training time, not eval time
            t0 = time.perf_counter()
            train_loss = float(np.mean(jax.device_get(losses)))  # syncs
            ev = {k: float(v) for k, v in eval_step(graphdef, state, ev_tokens, ev_mask).items()}
            n_timed, dt = done - start - 1, t0 - t_timed0 - t_eval
            log.append(
                {
                    "step": done,
                    "tokens": done * seq_tokens,
                    "lr": float(lr_fn(done)),
                    "train_loss": train_loss,
                    "eval_loss": ev["loss"],
                    "eval_token_acc": ev["token_acc"],
                    "eval_greedy_acc": ev["greedy_acc"],
                    "seconds": round(offset + time.perf_counter() - t_call, 3),
                    "tokens_per_s": n_timed * seq_tokens / dt if n_timed > 0 and dt > 0 else float("nan"),
                }
            )
            losses = []
            bar.set_postfix(loss=f"{train_loss:.3f}", eval=f"{ev['loss']:.3f}", acc=f"{ev['greedy_acc']:.2f}")
            if workdir is not None:
                write_csv_atomic(workdir / "train_log.csv", [{c: r.get(c) for c in LOG_COLUMNS} for r in log])
            t_eval += time.perf_counter() - t0
        stop = _reached(tcfg, log, done)
        if mngr is not None and (done % tcfg.ckpt_every == 0 or done == end or stop):
            jax.block_until_ready(loss)
            t0 = time.perf_counter()
            mngr.save(done, args=ocp.args.StandardSave(state))
            t_eval += time.perf_counter() - t0
        bar.update(1)
        if stop:
            end = done
            break
    bar.close()
    if mngr is not None:
        mngr.wait_until_finished()
        mngr.close()
    model, _ = nnx.merge(graphdef, state)
    final = log[-1]["eval_loss"] if log else float("nan")
    rates = [r["tokens_per_s"] for r in log if np.isfinite(r.get("tokens_per_s", np.nan))]
    tps = float(rates[-1]) if rates else float("nan")
    return TrainResult(model, count_params(model), end, final, log, tps, start)
