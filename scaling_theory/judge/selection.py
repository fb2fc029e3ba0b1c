"""Pointwise error of reward-weighted (softmax) selection among k posterior-predictive samples.

    δ(k, T) = E[ Σᵢ wᵢ (yᵢ − μ_T)² / Σᵢ wᵢ ],  yᵢ ~ N(m, s²) i.i.d.,  wᵢ = exp(−(yᵢ − μ_R)²/T)

(Halder & Pehlevan, arXiv 2512.19905, "Result 1"), with m = ``mean``, s = ``std``, μ_T = ``teacher``,
μ_R = ``reward``. T = 0 is best-of-k by the reward (argmax), T = ∞ the uniform pick (δ = b² + s²).
Standardised variables used throughout: α = (m − μ_R)/s, ρ = (μ_R − μ_T)/s (so b/s = α + ρ), and the
paper's temperature t = T/(2s²).

Methods: ``exact`` (deterministic quadrature, relative error ≲ 1e-7, see ``_exact.py``), ``hte``
(high-temperature expansion, 2nd or 3rd order), ``limit`` (k → ∞ at fixed T; at T = 0 the
extreme-value asymptote) and ``mc`` (Monte Carlo with a PRNG key).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from scaling_theory.errors import InputError
from scaling_theory.judge import _exact
from scaling_theory.judge.expansion import _hte_series
from scaling_theory.judge.rng import fast_key
from scaling_theory.judge.sampling import prefix_selection_errors
from scaling_theory.numerics import check, host, is_concrete, x64

METHODS = ("exact", "hte", "limit", "mc")
K_MAX_EXACT = 1e6  # accuracy of `exact` is validated for 1 ≤ k ≤ 1e6 (it degrades gracefully beyond)


# ---------------------------------------------------------------------------------------------
# Standardised formulas (units of s²): all take t = T/(2s²), α, ρ and return δ/s².


@x64
def hte_standard(
    k: ArrayLike, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3, official: bool = False
) -> np.ndarray:
    """High-temperature expansion of δ/s² in 1/t (paper's Result 2 / Remark 4):

    δ₂ = D − (1 − 1/k) C₁/t + (1 − 1/k)(1 − 2/k) C₂/t²,  D = b² + s², C₁ = s² + 2ab, C₂ = C₁ + a²
    (a = m − μ_R, b = m − μ_T in units of s). Order 3 adds the exact finite-k t⁻³ term of
    ``expansion.py``; ``official=True`` uses the official code's −(1 − 1/k)(1 − 2/k)(1 − 3/k)
    (s² + 2ab + 2a²)/t³ instead (exact only as k → ∞).
    """
    return host(_hte_standard(k, t, alpha, rho, order, official))


def _hte_standard(
    k: ArrayLike, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3, official: bool = False
) -> jax.Array:
    """Traceable core of :func:`hte_standard`."""
    return _hte_jit(
        jnp.asarray(k, jnp.float64),
        jnp.asarray(t, jnp.float64),
        jnp.asarray(alpha, jnp.float64),
        jnp.asarray(rho, jnp.float64),
        order=order,
        official=official,
    )


_hte_jit = jax.jit(_hte_series, static_argnames=("order", "official"))


@x64
def hte_coefficients(alpha: ArrayLike, rho: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D, C₁, C₂)/s² of the expansion: b² + s², s² + 2ab, s² + 2ab + a² in units of s²."""
    a = jnp.asarray(alpha, jnp.float64)
    b = a + jnp.asarray(rho, jnp.float64)
    c1 = 1.0 + 2.0 * a * b
    return host((b * b + 1.0, c1, c1 + a * a))


@x64
def limit_standard(k: ArrayLike, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike) -> np.ndarray:
    """k → ∞ at fixed T, in units of s².

    T > 0: the selected sample follows the tilted law N(m, s²)·exp(−(y − μ_R)²/T) = N(m_t, s² t/(1+t)),
    m_t = (t m + μ_R)/(1 + t), so δ_∞ = (m_t − μ_T)² + s² t/(1 + t) (k-independent).
    T = 0: the nearest-to-μ_R distance D is asymptotically Exp(2k φ(α)/s) (extreme value of a
    minimum), E D² = π s² e^{α²}/k², E[y − μ_R | D] ≈ α D², so
    δ ≈ s²[ρ² + (1 + 2ρα) π e^{α²}/k²]; with reward = teacher this is π s² e^{Δ²/s²}/k².
    T = ∞: b² + s².
    """
    return host(_limit_standard(*(jnp.asarray(v, jnp.float64) for v in (k, t, alpha, rho))))


@jax.jit
def _limit_standard(k: jax.Array, t: jax.Array, alpha: jax.Array, rho: jax.Array) -> jax.Array:
    """Traceable core of :func:`limit_standard`."""
    b = alpha + rho
    t_pos = jnp.where(t > 0, t, 1.0)
    m_t_minus_teacher = (t_pos * b + rho) / (1.0 + t_pos)  # (m_t − μ_T)/s, since μ_R − μ_T = ρ s
    soft = m_t_minus_teacher**2 + t_pos / (1.0 + t_pos)
    soft = jnp.where(jnp.isinf(t), b * b + 1.0, soft)
    zero = rho * rho + (1.0 + 2.0 * rho * alpha) * math.pi * jnp.exp(alpha * alpha) / (k * k)
    return jnp.where(t == 0, zero, soft)


# ---------------------------------------------------------------------------------------------
# Exact method: dispatch to the quadrature with static node counts and padded shapes.


def _bucket(n: int) -> int:
    """Padded length for a batch of n (few distinct shapes → few compilations; multiples of the
    quadrature's chunk size beyond it)."""
    if n <= _exact.CHUNK:
        return max(8, 1 << (n - 1).bit_length())
    if n <= 1024:
        return 1 << (n - 1).bit_length()
    return -(-n // 1024) * 1024


def _mode(T: Any) -> str:
    if not is_concrete(T):
        return "both"
    T = np.asarray(T)
    if np.all(T == 0):
        return "zero"
    if np.all(T > 0):
        return "soft"
    return "both"


def _panels(k: Any) -> int:
    if not is_concrete(k):
        return _exact.bulk_panels(1.0, K_MAX_EXACT)
    k = np.asarray(k, dtype=float)
    return _exact.bulk_panels(float(k.min()), float(k.max()))


@x64
def exact_grid(k: Any, t: Any, alpha: Any, rho: Any) -> np.ndarray:
    """δ/s² for points (t, α, ρ) of shape (N,) and a shared vector k (K,): an (N, K) array.

    The pointwise quadrature is shared by all k of a point (only the final weighting depends on k).
    """
    return host(_exact_grid(k, t, alpha, rho))


def _exact_grid(k: Any, t: Any, alpha: Any, rho: Any) -> jax.Array:
    """Traceable core of :func:`exact_grid`."""
    k = jnp.atleast_1d(jnp.asarray(k, jnp.float64))
    t, alpha, rho = (jnp.atleast_1d(jnp.asarray(v, jnp.float64)) for v in (t, alpha, rho))
    n, kk = t.shape[0], k.shape[0]
    mode, panels = _mode(t), _panels(k)
    pn, pk = _bucket(n), _bucket(kk)
    pad = lambda v, m: jnp.concatenate([v, jnp.broadcast_to(v[-1:], (m - v.shape[0],))])  # noqa: E731
    out = _exact.exact_grid(pad(k, pk), pad(t, pn), pad(alpha, pn), pad(rho, pn), mode=mode, panels=panels)
    return out[:n, :kk]


@x64
def exact_elementwise(k: Any, t: Any, alpha: Any, rho: Any) -> np.ndarray:
    """δ/s² elementwise over flat arrays (N,) of k, t, α, ρ."""
    return host(_exact_elementwise(k, t, alpha, rho))


def _exact_elementwise(k: Any, t: Any, alpha: Any, rho: Any) -> jax.Array:
    """Traceable core of :func:`exact_elementwise`."""
    k, t, alpha, rho = (jnp.asarray(v, jnp.float64).ravel() for v in (k, t, alpha, rho))
    n = t.shape[0]
    mode, panels = _mode(t), _exact.bulk_panels(1.0, 1.0)
    pn = _bucket(n)
    pad = lambda v: jnp.concatenate([v, jnp.broadcast_to(v[-1:], (pn - n,))])  # noqa: E731
    return _exact.exact_pointwise(pad(k), pad(t), pad(alpha), pad(rho), mode=mode, panels=panels)[:n]


# ---------------------------------------------------------------------------------------------
# Monte Carlo.


@x64
def mc_standard(
    key: jax.Array, k: np.ndarray, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike, samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo δ/s² and its standard error for flat arrays (N,); ``k`` concrete integers.

    All k of a point come from prefixes of the same K = max k draws (see ``sampling.py``); the
    ``samples`` repetitions are processed in batches by a ``lax.scan``.
    """
    k = np.asarray(k, dtype=np.int64)
    t, alpha, rho = (jnp.asarray(v, jnp.float64) for v in (t, alpha, rho))
    n, kmax = k.shape[0], int(k.max())
    batch = int(max(1, min(samples, (1 << 22) // max(1, n * kmax))))
    n_batches = -(-samples // batch)
    mode = _mode(t)
    key = fast_key(key)
    T = 2.0 * t  # with s = 1
    b = alpha + rho
    idx = jnp.asarray(k - 1)
    ones = jnp.ones_like(b)

    def one(carry: tuple[jax.Array, jax.Array], i: jax.Array) -> tuple[tuple[jax.Array, jax.Array], None]:
        z = jax.random.normal(jax.random.fold_in(key, i), (batch, n, kmax), jnp.float64)
        errs = prefix_selection_errors(z, b, alpha, ones, T, mode)  # (batch, n, kmax)
        pick = jnp.take_along_axis(errs, jnp.broadcast_to(idx[None, :, None], (batch, n, 1)), axis=-1)[..., 0]
        valid = (i * batch + jnp.arange(batch)) < samples
        pick = jnp.where(valid[:, None], pick, 0.0)
        return (carry[0] + pick.sum(0), carry[1] + (pick**2).sum(0)), None

    zeros = jnp.zeros(n, jnp.float64)
    (s1, s2), _ = jax.lax.scan(one, (zeros, zeros), jnp.arange(n_batches))
    mean = s1 / samples
    var = jnp.maximum(s2 / samples - mean**2, 0.0) * samples / max(samples - 1, 1)
    return host((mean, jnp.sqrt(var / samples)))


# ---------------------------------------------------------------------------------------------
# Public API.


def _validate(k: Any, T: Any, mean: Any, std: Any, teacher: Any, reward: Any, method: str) -> None:
    if method not in METHODS:
        raise InputError(f"method={method!r}: choose one of {', '.join(METHODS)}")
    k_arr = jnp.asarray(k, jnp.float64)
    check((k_arr >= 1) & jnp.isfinite(k_arr) & (k_arr == jnp.round(k_arr)), f"k={_show(k)}: must be integers ≥ 1")
    T_arr = jnp.asarray(T, jnp.float64)
    check(T_arr >= 0, f"T={_show(T)}: must be ≥ 0 (0 = best-of-k, inf = uniform)")
    std_arr = jnp.asarray(std, jnp.float64)
    check((std_arr > 0) & jnp.isfinite(std_arr), f"std={_show(std)}: must be finite and > 0")
    for name, v in (("mean", mean), ("teacher", teacher), ("reward", reward)):
        check(jnp.isfinite(jnp.asarray(v, jnp.float64)), f"{name}={_show(v)}: must be finite")


def _show(v: Any) -> str:
    if not is_concrete(v):
        return "<traced>"
    a = np.asarray(v)
    if a.size == 1:
        return f"{a.item():g}" if np.issubdtype(a.dtype, np.number) else str(a.item())
    bad = a.ravel()[:3]
    return "[" + ", ".join(f"{x:g}" for x in bad) + (", ...]" if a.size > 3 else "]")


@x64
def standardize(T: Any, mean: Any, std: Any, teacher: Any, reward: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, α, ρ) = (T/(2s²), (m − μ_R)/s, (μ_R − μ_T)/s)."""
    return host(_standardize(T, mean, std, teacher, reward))


def _standardize(T: Any, mean: Any, std: Any, teacher: Any, reward: Any) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Traceable core of :func:`standardize`."""
    T, mean, std, teacher, reward = (jnp.asarray(v, jnp.float64) for v in (T, mean, std, teacher, reward))
    return T / (2.0 * std * std), (mean - reward) / std, (reward - teacher) / std


@x64
def selection_error(
    k: Any,
    T: Any,
    *,
    mean: Any,
    std: Any,
    teacher: Any,
    reward: Any,
    method: str = "exact",
    order: int = 3,
    official: bool = False,
    key: jax.Array | None = None,
    samples: int = 20_000,
) -> np.ndarray:
    """δ(k, T) = E[Σᵢ wᵢ (yᵢ − teacher)²/Σᵢ wᵢ], yᵢ ~ N(mean, std²), wᵢ = exp(−(yᵢ − reward)²/T).

    All array arguments broadcast together. ``method``: "exact" (quadrature, ≲1e-7 relative),
    "hte" (``order`` 2 or 3, needs T > 0; ``official`` for the official code's 3rd-order term), "limit" (k → ∞ at fixed T), "mc" (needs ``key``;
    ``samples`` repetitions; see :func:`selection_error_mc` for the standard error).
    """
    _validate(k, T, mean, std, teacher, reward, method)
    if method == "mc":
        return selection_error_mc(k, T, mean=mean, std=std, teacher=teacher, reward=reward, key=key, samples=samples)[0]
    return host(_selection_error(k, T, mean, std, teacher, reward, method, order, official))


def _selection_error(
    k: Any, T: Any, mean: Any, std: Any, teacher: Any, reward: Any, method: str, order: int, official: bool
) -> jax.Array:
    t, alpha, rho = _standardize(T, mean, std, teacher, reward)
    k = jnp.asarray(k, jnp.float64)
    s2 = jnp.asarray(std, jnp.float64) ** 2
    shape = jnp.broadcast_shapes(k.shape, t.shape, alpha.shape, rho.shape, s2.shape)
    if method == "hte":
        if order not in (2, 3):
            raise InputError(f"order={order}: the expansion is implemented to order 2 or 3")
        check(t > 0, f"T={_show(T)}: method='hte' is an expansion in 1/T and needs T > 0")
        return jnp.broadcast_to(s2 * _hte_standard(k, t, alpha, rho, order, official), shape)
    if method == "limit":
        return jnp.broadcast_to(s2 * _limit_standard(k, t, alpha, rho), shape)
    scalar_point = all(np.size(v) == 1 for v in (t, alpha, rho, s2))
    if scalar_point:
        curve = _exact_grid(k.ravel(), t.ravel()[:1], alpha.ravel()[:1], rho.ravel()[:1])[0]
        return jnp.broadcast_to(s2.ravel()[0] * curve.reshape(k.shape), shape)
    flat = [jnp.broadcast_to(v, shape).ravel() for v in (k, t, alpha, rho)]
    return (jnp.broadcast_to(s2, shape).ravel() * _exact_elementwise(*flat)).reshape(shape)


@x64
def selection_error_mc(
    k: Any,
    T: Any,
    *,
    mean: Any,
    std: Any,
    teacher: Any,
    reward: Any,
    key: jax.Array | None,
    samples: int = 20_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo estimate of :func:`selection_error` and its standard error (same broadcasting)."""
    _validate(k, T, mean, std, teacher, reward, "mc")
    if key is None:
        raise InputError("key=None: method='mc' needs a jax.random key")
    if not isinstance(samples, (int, np.integer)) or samples < 2:
        raise InputError(f"samples={samples}: need an integer ≥ 2")
    if not is_concrete(k):
        raise InputError("k: method='mc' needs concrete (non-traced) k")
    t, alpha, rho = standardize(T, mean, std, teacher, reward)
    s2 = jnp.asarray(std, jnp.float64) ** 2
    k_np = np.asarray(k)
    shape = jnp.broadcast_shapes(k_np.shape, t.shape, alpha.shape, rho.shape, s2.shape)
    flat = [jnp.broadcast_to(v, shape).ravel() for v in (t, alpha, rho)]
    k_flat = np.broadcast_to(k_np, shape).ravel().astype(np.int64)
    mean_, se = mc_standard(key, k_flat, flat[0], flat[1], flat[2], samples=int(samples))
    scale = jnp.broadcast_to(s2, shape).ravel()
    return host(((scale * mean_).reshape(shape), (scale * se).reshape(shape)))
