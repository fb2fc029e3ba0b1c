"""Decoder-only transformer in Flax NNX: pre-norm (RMSNorm), causal multi-head attention with
rotary positions, GELU MLP, tied input/output embeddings.

One forward serves training, prefill and cached decoding:

    logits_BxTxV, hidden_BxTxD, cache = model(tokens_BxT, positions_BxT, mask_BxTxS, cache, index)

* without a cache, ``S = T`` and ``mask`` is the causal mask of :func:`causal_mask`;
* with a cache (one ``(k, v)`` pair of shape ``(B, H, S, K)`` per layer), the new keys/values are
  written at columns ``index … index+T-1`` and the queries attend over all ``S`` cache columns
  allowed by ``mask`` (:func:`cache_mask`).

Attention: ``softmax(q kᵀ/√Dh + mask) v`` with rotary embeddings
``rope(x, p)_{2i,2i+1} = R(p θ_i) x_{2i,2i+1}``, ``θ_i = base^{-2i/Dh}`` (Su et al. 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from scaling_theory.errors import InputError

Cache = list  # [(k_BxHxSxK, v_BxHxSxK)] per layer


@dataclass(frozen=True)
class ModelConfig:
    """Transformer sizes. ``dtype`` is the activation dtype (``float32`` or ``bfloat16``); parameters are float32."""

    vocab_size: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    d_ff: int = 256
    rope_base: float = 10_000.0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "d_ff"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads or (self.d_model // self.n_heads) % 2:
            raise InputError(
                f"d_model={self.d_model} must split into n_heads={self.n_heads} heads of even size (rotary)"
            )
        if self.dtype not in ("float32", "bfloat16"):
            raise InputError(f"dtype must be 'float32' or 'bfloat16', got {self.dtype!r}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    @property
    def jdtype(self) -> Any:
        return jnp.dtype(self.dtype)


def rope(x_BxHxTxK: jax.Array, positions_BxT: jax.Array, base: float) -> jax.Array:
    """Rotary embedding: rotate feature pairs (i, i + K/2) by angle ``p · base^{-2i/K}``."""
    K = x_BxHxTxK.shape[-1]
    inv_freq = base ** (-jnp.arange(0, K // 2, dtype=jnp.float32) * 2.0 / K)
    ang = positions_BxT.astype(jnp.float32)[:, None, :, None] * inv_freq  # B,1,T,K/2
    cos, sin = jnp.cos(ang), jnp.sin(ang)
    x1, x2 = jnp.split(x_BxHxTxK.astype(jnp.float32), 2, axis=-1)
    out = jnp.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    return out.astype(x_BxHxTxK.dtype)


def causal_mask(valid_BxT: jax.Array) -> jax.Array:
    """``mask[b, t, s] = s ≤ t ∧ valid[b, s]`` (no attention to the future or to padding)."""
    T = valid_BxT.shape[1]
    tri = jnp.tril(jnp.ones((T, T), bool))
    return tri[None] & valid_BxT[:, None, :]


def cache_mask(valid_BxS: jax.Array, index: Any, T: int) -> jax.Array:
    """Mask for ``T`` queries written at cache columns ``index … index+T-1``: ``s ≤ index + t ∧ valid[b, s]``."""
    S = valid_BxS.shape[1]
    q = index + jnp.arange(T)
    return (jnp.arange(S)[None, :] <= q[:, None])[None] & valid_BxS[:, None, :]


def positions_from_valid(valid_BxT: jax.Array) -> jax.Array:
    """Position of each token counted over valid tokens only (left padding does not shift positions)."""
    return jnp.maximum(jnp.cumsum(valid_BxT.astype(jnp.int32), axis=1) - 1, 0)


class Attention(nnx.Module):
    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        init = nnx.initializers.normal(0.02)
        out_init = nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.n_layers))
        dt = cfg.jdtype
        self.qkv = nnx.Linear(cfg.d_model, 3 * cfg.d_model, use_bias=False, kernel_init=init, dtype=dt, rngs=rngs)
        self.out = nnx.Linear(cfg.d_model, cfg.d_model, use_bias=False, kernel_init=out_init, dtype=dt, rngs=rngs)
        self.n_heads, self.head_dim, self.base = cfg.n_heads, cfg.head_dim, cfg.rope_base

    def __call__(
        self,
        x_BxTxD: jax.Array,
        pos_BxT: jax.Array,
        mask_BxTxS: jax.Array,
        cache: tuple[jax.Array, jax.Array] | None,
        index: Any,
    ) -> tuple[jax.Array, tuple[jax.Array, jax.Array] | None]:
        B, T, D = x_BxTxD.shape
        qkv = self.qkv(x_BxTxD).reshape(B, T, 3, self.n_heads, self.head_dim)
        # heads before time (B, H, T, K): attention is then a batched matmul without transposes,
        # which is what makes cached decoding fast on CPU
        q, k, v = (jnp.swapaxes(qkv[:, :, i], 1, 2) for i in range(3))
        q, k = rope(q, pos_BxT, self.base), rope(k, pos_BxT, self.base)
        if cache is not None:
            k = jax.lax.dynamic_update_slice(cache[0], k.astype(cache[0].dtype), (0, 0, index, 0))
            v = jax.lax.dynamic_update_slice(cache[1], v.astype(cache[1].dtype), (0, 0, index, 0))
            cache = (k, v)
        scores = jnp.einsum("bhtk,bhsk->bhts", q, k).astype(jnp.float32) / math.sqrt(self.head_dim)
        scores = jnp.where(mask_BxTxS[:, None], scores, jnp.finfo(jnp.float32).min)
        weights = jax.nn.softmax(scores, axis=-1).astype(v.dtype)
        o = jnp.swapaxes(jnp.einsum("bhts,bhsk->bhtk", weights, v), 1, 2).reshape(B, T, D)
        return self.out(o), cache


class MLP(nnx.Module):
    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        init = nnx.initializers.normal(0.02)
        out_init = nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.n_layers))
        dt = cfg.jdtype
        self.up = nnx.Linear(cfg.d_model, cfg.d_ff, kernel_init=init, dtype=dt, rngs=rngs)
        self.down = nnx.Linear(cfg.d_ff, cfg.d_model, kernel_init=out_init, dtype=dt, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.down(jax.nn.gelu(self.up(x)))


class Block(nnx.Module):
    """Pre-norm residual block: ``x + Attn(norm(x))``, then ``x + MLP(norm(x))``."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.norm1 = nnx.RMSNorm(cfg.d_model, dtype=cfg.jdtype, rngs=rngs)
        self.attn = Attention(cfg, rngs=rngs)
        self.norm2 = nnx.RMSNorm(cfg.d_model, dtype=cfg.jdtype, rngs=rngs)
        self.mlp = MLP(cfg, rngs=rngs)

    def __call__(self, x, pos, mask, cache, index):
        a, cache = self.attn(self.norm1(x), pos, mask, cache, index)
        x = x + a
        return x + self.mlp(self.norm2(x)), cache


class Transformer(nnx.Module):
    """Decoder-only language model; returns logits, the final (normed) hidden states and the cache."""

    def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
        self.cfg = cfg
        self.embed = nnx.Embed(
            cfg.vocab_size, cfg.d_model, embedding_init=nnx.initializers.normal(0.02), dtype=cfg.jdtype, rngs=rngs
        )
        self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.n_layers)])
        self.norm = nnx.RMSNorm(cfg.d_model, dtype=cfg.jdtype, rngs=rngs)

    def __call__(
        self,
        tokens_BxT: jax.Array,
        positions_BxT: jax.Array,
        mask_BxTxS: jax.Array,
        cache: Cache | None = None,
        index: Any = 0,
    ) -> tuple[jax.Array, jax.Array, Cache | None]:
        x = self.embed(tokens_BxT)
        new_cache: list | None = [] if cache is not None else None
        for i, block in enumerate(self.blocks):
            x, c = block(x, positions_BxT, mask_BxTxS, None if cache is None else cache[i], index)
            if new_cache is not None:
                new_cache.append(c)
        h = self.norm(x)
        logits = self.embed.attend(h).astype(jnp.float32)
        return logits, h, new_cache


def init_cache(cfg: ModelConfig, batch: int, length: int) -> Cache:
    """Zero key/value cache: one ``(k, v)`` pair of shape ``(B, H, S, K)`` per layer."""
    shape = (batch, cfg.n_heads, length, cfg.head_dim)
    return [(jnp.zeros(shape, cfg.jdtype), jnp.zeros(shape, cfg.jdtype)) for _ in range(cfg.n_layers)]


def forward(model: Transformer, tokens_BxT: jax.Array, valid_BxT: jax.Array | None = None) -> jax.Array:
    """Full forward with a causal mask (padding excluded, positions counted over valid tokens); logits."""
    if valid_BxT is None:
        valid_BxT = jnp.ones(tokens_BxT.shape, bool)
    logits, _, _ = model(tokens_BxT, positions_from_valid(valid_BxT), causal_mask(valid_BxT))
    return logits


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters."""
    return int(sum(x.size for x in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))))


def make_model(key: jax.Array, cfg: ModelConfig) -> Transformer:
    """A freshly initialised model (initialisation compiled as one program, not op by op).

    Args:
      key: JAX PRNG key of the parameters (``jax.random.key(seed)`` initialises as ``nnx.Rngs(params=seed)``).
      cfg: the model's configuration.
    Returns:
      The :class:`Transformer`.
    """
    build = lambda: Transformer(cfg, rngs=nnx.Rngs(params=key))  # noqa: E731
    graphdef, _ = nnx.split(nnx.eval_shape(build))
    return nnx.merge(graphdef, jax.jit(lambda: nnx.split(build())[1])())
