"""Batched sampling of k completions per prompt with a KV cache, in one compiled loop.

``generate`` prefills each (left-padded) prompt once, copies its cache to its ``k`` samples and runs
up to ``max_new`` cached decoding steps in one ``lax.while_loop`` (which stops as soon as every
completion has ended; prompts are processed sorted by length so a chunk ends together). Each step draws the next token from
``softmax(logits / T)`` restricted to the top-p nucleus (``T = 0``: greedy), forces ``<pad>`` after
the end token, and accumulates the completion's log-probability under the model (``T = 1``) and
its smallest token log-probability. The
hidden state at which the model emitted its end token is kept as the completion's feature for the
learned judge. The batch of prompts is sharded over the device mesh.

``generate_recompute`` is the reference without a cache (the full prefix is recomputed at every
step); tests check both agree, the benchmark compares their speed.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from scaling_theory.errors import InputError
from scaling_theory.numerics import batch_mesh, shard_batch
from scaling_theory.results import Result
from scaling_theory.testbed.model import (
    Cache,
    Transformer,
    cache_mask,
    causal_mask,
    init_cache,
    positions_from_valid,
)
from scaling_theory.testbed.task import EOS, PAD


def sample_token(key: jax.Array, logits_BxV: jax.Array, temperature: Any, top_p: Any) -> jax.Array:
    """Draw from ``softmax(logits/T)`` restricted to the smallest set of tokens with mass ≥ top_p.

    ``T = 0`` gives the argmax. The nucleus keeps token ``i`` of the descending order when the mass
    before it is < top_p, so the most likely token is always kept.
    """
    temperature = jnp.asarray(temperature, jnp.float32)
    scaled = logits_BxV / jnp.maximum(temperature, 1e-6)
    probs = jax.nn.softmax(scaled, axis=-1)
    sorted_p = -jnp.sort(-probs, axis=-1)
    before = jnp.cumsum(sorted_p, axis=-1) - sorted_p
    kept = before < top_p
    threshold = jnp.min(jnp.where(kept, sorted_p, jnp.inf), axis=-1, keepdims=True)
    nucleus = jnp.where(probs >= threshold, scaled, -jnp.inf)
    drawn = jax.random.categorical(key, nucleus, axis=-1)
    return jnp.where(temperature > 0, drawn, jnp.argmax(logits_BxV, axis=-1)).astype(jnp.int32)


def _prefill(model: Transformer, prompts_PxT: jax.Array, n_pad_P: jax.Array, max_new: int):
    P, T = prompts_PxT.shape
    valid = jnp.arange(T)[None, :] >= n_pad_P[:, None]
    pos = positions_from_valid(valid)
    valid_S = jnp.concatenate([valid, jnp.ones((P, max_new), bool)], axis=1)
    cache: Cache | None = init_cache(model.cfg, P, T + max_new)
    logits, h, cache = model(prompts_PxT, pos, cache_mask(valid_S, 0, T), cache, 0)
    return logits[:, -1], h[:, -1], cache, valid_S, pos[:, -1]


@functools.partial(jax.jit, static_argnames=("graphdef", "n_samples", "max_new"))
def _generate(graphdef, params, prompts_PxT, n_pad_P, key, temperature, top_p, *, n_samples: int, max_new: int):
    model = nnx.merge(graphdef, params)
    T = prompts_PxT.shape[1]
    logits, h, cache, valid_S, last_pos = _prefill(model, prompts_PxT, n_pad_P, max_new)
    rep = functools.partial(jnp.repeat, repeats=n_samples, axis=0)
    logits, h, valid_S, last_pos = rep(logits), rep(h), rep(valid_S), rep(last_pos)
    cache = [(rep(k), rep(v)) for k, v in cache]
    B = logits.shape[0]

    def cond(carry):
        j, done = carry[0], carry[5]
        return (j < max_new) & ~jnp.all(done)  # stop early once every completion has ended

    def step(carry):
        j, toks, logits, h, cache, done, logp, feat, minlp = carry
        tok = sample_token(jax.random.fold_in(key, j), logits, temperature, top_p)
        tok = jnp.where(done, PAD, tok)
        lp = jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), tok[:, None], axis=1)[:, 0]
        logp = logp + jnp.where(done, 0.0, lp)
        minlp = jnp.where(done, minlp, jnp.minimum(minlp, lp))
        ends = (tok == EOS) & ~done
        feat = jnp.where(ends[:, None], h, feat)  # the state that emitted the end token
        done = done | ends
        toks = jax.lax.dynamic_update_slice(toks, tok[:, None], (0, j))
        logits, h, cache = model(tok[:, None], (last_pos + 1 + j)[:, None], cache_mask(valid_S, T + j, 1), cache, T + j)
        return j + 1, toks, logits[:, 0], h[:, 0], cache, done, logp, feat, minlp

    init = (
        jnp.int32(0),
        jnp.full((B, max_new), PAD, jnp.int32),
        logits,
        h,
        cache,
        jnp.zeros(B, bool),
        jnp.zeros(B, jnp.float32),
        h,
        jnp.zeros(B, jnp.float32),
    )
    _, toks, _, h_last, _, done, logp, feat, minlp = jax.lax.while_loop(cond, step, init)
    feat = jnp.where(done[:, None], feat, h_last)  # never ended: the last state
    return toks, logp, feat.astype(jnp.float32), minlp


@dataclass(frozen=True)
class Samples(Result):
    """``P·k`` completions, problem-major: row ``i·k + a`` is attempt ``a`` of prompt ``i`` (NumPy arrays).

    Rows: one per completion (``completion`` = i·k + a) with ``logprob`` and ``min_logprob`` (tokens and
    features stay arrays).
    """

    _row_fields = ("logprob", "min_logprob")
    _index = ("completion",)

    tokens: np.ndarray  # (P·k, max_new) int32, <pad> after the end token
    logprob: np.ndarray  # (P·k,) log-probability of the completion under the model (T = 1)
    features: np.ndarray  # (P·k, D) hidden state where the end token was emitted
    min_logprob: np.ndarray  # (P·k,) smallest log-probability of one completion token (least sure step)
    seconds: float  # wall time of the sampling calls (after compilation)
    generated_tokens: int  # tokens up to and including the end token, summed over completions

    @property
    def tokens_per_second(self) -> float:
        return self.generated_tokens / max(self.seconds, 1e-9)


def generate(
    key: jax.Array,
    model: Transformer,
    prompts_PxT: Any,
    n_pad_P: Any,
    *,
    n_samples: int,
    max_new: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    chunk: int = 8192,
    sort_key: Any = None,
    progress: Any = None,
) -> Samples:
    """Sample ``n_samples`` completions of up to ``max_new`` tokens for every prompt (KV cache).

    Prompts are processed in chunks of about ``chunk`` completions (memory), each chunk sharded
    over all devices; chunk ``c`` uses the key ``fold_in(key, c)``. With ``sort_key`` (e.g. the
    expected completion length) prompts are processed in that order, so that the completions of a
    chunk end at about the same step and the loop exits early; outputs keep the input order.
    """
    prompts = np.asarray(prompts_PxT, np.int32)
    n_pad = np.asarray(n_pad_P, np.int32)
    _check_args(prompts, n_samples, max_new, temperature, top_p)
    if sort_key is not None:
        order = np.argsort(np.asarray(sort_key), kind="stable")
        out = generate(
            key,
            model,
            prompts[order],
            n_pad[order],
            n_samples=n_samples,
            max_new=max_new,
            temperature=temperature,
            top_p=top_p,
            chunk=chunk,
            progress=progress,
        )
        inv = np.argsort(order)
        rows = (inv[:, None] * n_samples + np.arange(n_samples)[None, :]).ravel()
        return Samples(
            out.tokens[rows],
            out.logprob[rows],
            out.features[rows],
            out.min_logprob[rows],
            out.seconds,
            out.generated_tokens,
        )
    P = prompts.shape[0]
    mesh = batch_mesh()
    n_dev = mesh.devices.size
    per = max(n_dev, (max(1, chunk // n_samples) // n_dev) * n_dev)  # prompts per chunk, a multiple of n_dev
    graphdef, params = nnx.split(model)
    toks, logps, feats, mins = [], [], [], []
    seconds = 0.0
    compiled = None
    for c, lo in enumerate(range(0, P, per)):
        pr, npd = prompts[lo : lo + per], n_pad[lo : lo + per]
        n_real = pr.shape[0]
        if n_real < per:  # pad the last chunk (same compiled shape); drop the padding rows after
            pr = np.concatenate([pr, np.repeat(pr[-1:], per - n_real, 0)])
            npd = np.concatenate([npd, np.repeat(npd[-1:], per - n_real, 0)])
        pr_d, npd_d = shard_batch((pr, npd), mesh)
        args = (graphdef, params, pr_d, npd_d, jax.random.fold_in(key, c), jnp.float32(temperature), jnp.float32(top_p))
        if compiled is None:  # compile ahead of time, so that the timing below is sampling only
            compiled = _generate.lower(*args, n_samples=n_samples, max_new=max_new).compile()
        t0 = time.perf_counter()
        out = jax.block_until_ready(compiled(*args[1:]))
        seconds += time.perf_counter() - t0
        t_np, lp, ft, mn = (np.asarray(x)[: n_real * n_samples] for x in out)
        toks.append(t_np)
        logps.append(lp)
        feats.append(ft)
        mins.append(mn)
        if progress is not None:
            progress.update(n_real)
    tokens = np.concatenate(toks)
    return Samples(
        tokens, np.concatenate(logps), np.concatenate(feats), np.concatenate(mins), seconds, int(np.sum(tokens != PAD))
    )


def _check_args(prompts: np.ndarray, n_samples: int, max_new: int, temperature: float, top_p: float) -> None:
    if prompts.ndim != 2 or prompts.shape[0] == 0:
        raise InputError(f"prompts must be a non-empty (P, T) array, got shape {prompts.shape}")
    if n_samples < 1:
        raise InputError(f"n_samples must be ≥ 1, got {n_samples}")
    if max_new < 1:
        raise InputError(f"max_new must be ≥ 1, got {max_new}")
    if not (np.isfinite(temperature) and temperature >= 0):
        raise InputError(f"temperature must be ≥ 0, got {temperature}")
    if not (0 < top_p <= 1):
        raise InputError(f"top_p must be in (0, 1], got {top_p}")


# ------------------------------------------------------------------------ reference: no KV cache


@functools.partial(jax.jit, static_argnames=("graphdef", "n_samples", "max_new"))
def _generate_recompute(graphdef, params, prompts_PxT, n_pad_P, key, temperature, top_p, *, n_samples, max_new):
    model = nnx.merge(graphdef, params)
    prompts = jnp.repeat(prompts_PxT, n_samples, axis=0)
    n_pad = jnp.repeat(n_pad_P, n_samples, axis=0)
    B, T = prompts.shape
    S = T + max_new
    seq = jnp.concatenate([prompts, jnp.full((B, max_new), PAD, prompts.dtype)], axis=1)
    valid = jnp.arange(S)[None, :] >= n_pad[:, None]
    pos, mask = positions_from_valid(valid), causal_mask(valid)

    def step(carry, j):
        seq, done = carry
        logits, _, _ = model(seq, pos, mask)  # the whole prefix, every step
        cur = jax.lax.dynamic_index_in_dim(logits, T - 1 + j, axis=1, keepdims=False)
        tok = jnp.where(done, PAD, sample_token(jax.random.fold_in(key, j), cur, temperature, top_p))
        seq = jax.lax.dynamic_update_slice(seq, tok[:, None].astype(seq.dtype), (0, T + j))
        return (seq, done | (tok == EOS)), (tok, cur)

    (_, _), (toks, logits) = jax.lax.scan(step, (seq, jnp.zeros(B, bool)), jnp.arange(max_new))
    return toks.T, jnp.swapaxes(logits, 0, 1)


def generate_recompute(
    key: jax.Array,
    model: Transformer,
    prompts_PxT: Any,
    n_pad_P: Any,
    *,
    n_samples: int,
    max_new: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference sampler without a cache: tokens ``(P·k, max_new)`` and step logits ``(P·k, max_new, V)``."""
    prompts = np.asarray(prompts_PxT, np.int32)
    _check_args(prompts, n_samples, max_new, temperature, top_p)
    graphdef, params = nnx.split(model)
    toks, logits = _generate_recompute(
        graphdef,
        params,
        jnp.asarray(prompts),
        jnp.asarray(n_pad_P, jnp.int32),
        key,
        jnp.float32(temperature),
        jnp.float32(top_p),
        n_samples=n_samples,
        max_new=max_new,
    )
    return np.asarray(toks), np.asarray(logits)


@functools.partial(jax.jit, static_argnames=("graphdef", "max_new"))
def _greedy_cached_logits(graphdef, params, prompts_PxT, n_pad_P, *, max_new):
    """Greedy cached decoding returning the logits of every step (for the cache-vs-recompute test)."""
    model = nnx.merge(graphdef, params)
    T = prompts_PxT.shape[1]
    logits, _, cache, valid_S, last_pos = _prefill(model, prompts_PxT, n_pad_P, max_new)

    def step(carry, j):
        logits, cache, done = carry
        tok = jnp.where(done, PAD, jnp.argmax(logits, axis=-1).astype(jnp.int32))
        new_logits, _, cache = model(
            tok[:, None], (last_pos + 1 + j)[:, None], cache_mask(valid_S, T + j, 1), cache, T + j
        )
        return (new_logits[:, 0], cache, done | (tok == EOS)), (tok, logits)

    B = prompts_PxT.shape[0]
    _, (toks, step_logits) = jax.lax.scan(step, (logits, cache, jnp.zeros(B, bool)), jnp.arange(max_new))
    return toks.T, jnp.swapaxes(step_logits, 0, 1)


def greedy_cached(model: Transformer, prompts_PxT: Any, n_pad_P: Any, max_new: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding with the KV cache: tokens ``(P, max_new)`` and step logits ``(P, max_new, V)``."""
    graphdef, params = nnx.split(model)
    toks, logits = _greedy_cached_logits(
        graphdef, params, jnp.asarray(prompts_PxT, jnp.int32), jnp.asarray(n_pad_P, jnp.int32), max_new=max_new
    )
    return np.asarray(toks), np.asarray(logits)
