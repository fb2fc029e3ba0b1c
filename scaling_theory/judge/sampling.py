"""Monte Carlo kernel of the reward-weighted sampler, vectorised over k with prefix (running) sums.

For draws y_1..y_K at one test point, the prefix k uses y_1..y_k, so one set of K draws gives an
unbiased sample of the selection error for every k ≤ K at once:

    δ̂_k = Σ_{i≤k} w_i e_i / Σ_{i≤k} w_i,   e_i = (y_i − μ_T)²,   w_i = exp(−(y_i − μ_R)²/T).

The prefix sums run as an online softmax (a ``lax.scan`` over k carrying the running maximum of
log w, Σw and Σwe rescaled to it): O(K) work, no underflow at small T, T = ∞ gives the prefix mean.
T = 0 keeps the prefix argmax of the reward (running minimum of |y − μ_R|). Draws are passed as
standard normals z, with y − μ_T = b + s z and y − μ_R = a + s z (b = m − μ_T, a = m − μ_R), so the
offsets never suffer cancellation against large means.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def prefix_selection_errors(
    z: jax.Array, b: jax.Array, a: jax.Array, s: jax.Array, T: jax.Array, mode: str = "soft"
) -> jax.Array:
    """Selected squared teacher error for every prefix k = 1..K of the draws ``z`` (…, K).

    ``b``, ``a``, ``s``, ``T`` broadcast against ``z[..., 0]``. ``mode`` (static): "zero" when all
    T = 0, "soft" when all T > 0 (T = ∞ allowed), "both" to decide per element.
    """
    zk = jnp.moveaxis(z, -1, 0)  # (K, ...)
    shape = zk.shape[1:]
    b, a, s, T = (jnp.broadcast_to(jnp.asarray(v, z.dtype), shape) for v in (b, a, s, T))
    t_safe = jnp.where(T > 0, T, 1.0)
    hard = T == 0

    def step(carry: Any, zi: jax.Array) -> tuple[Any, jax.Array]:
        m, sw, swe, best, best_e = carry
        e = (b + s * zi) ** 2
        dev = a + s * zi
        out = []
        if mode != "zero":
            lw = -(dev * dev) / t_safe
            m_new = jnp.maximum(m, lw)
            scale, w = jnp.exp(m - m_new), jnp.exp(lw - m_new)
            sw, swe, m = sw * scale + w, swe * scale + w * e, m_new
            out.append(swe / sw)
        if mode != "soft":
            closer = jnp.abs(dev) < best
            best, best_e = jnp.where(closer, jnp.abs(dev), best), jnp.where(closer, e, best_e)
            out.append(best_e)
        sel = out[0] if len(out) == 1 else jnp.where(hard, out[1], out[0])
        return (m, sw, swe, best, best_e), sel

    zeros = jnp.zeros(shape, z.dtype)
    init = (jnp.full(shape, -jnp.inf, z.dtype), zeros, zeros, jnp.full(shape, jnp.inf, z.dtype), zeros)
    return jnp.moveaxis(jax.lax.scan(step, init, zk)[1], 0, -1)
