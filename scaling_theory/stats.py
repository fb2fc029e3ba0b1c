"""Shared statistical building blocks used by every area (docs/CONTRIBUTING.md, "Shared building blocks").

One copy of each: keyed randomness helpers, root finding (bisection), weighted log–log least squares,
keyed sub-sampling and bootstrap, and convergence diagnostics (split R̂). Areas import these instead of
writing their own.

Randomness contract: every stochastic function takes ``key: jax.Array`` first, without a default.
Where a NumPy generator is needed (samplers JAX lacks, such as the hypergeometric, or host-side draws
that should not be compiled), it derives from the key through :func:`numpy_rng` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import is_concrete

# --- keyed randomness --------------------------------------------------------------------------------


def numpy_rng(key: jax.Array, *stream: int) -> np.random.Generator:
    """The NumPy generator of a JAX key (and optional sub-stream indices): the one bridge from keys to NumPy.

    The generator is ``np.random.default_rng([w₁, …, w_m, *stream])`` with ``w`` the key's data words
    (``jax.random.key_data``), most significant first, leading zero words dropped (one kept). For a key
    built from a seed below 2³², ``jax.random.key(seed)`` (data ``[0, seed]``), this is exactly
    ``np.random.default_rng([seed, *stream])`` (= ``default_rng(seed)`` without a stream), so seeded
    NumPy draws written before keys were threaded through are reproduced; a derived key (``split``,
    ``fold_in``) gives the generator of its full data.

    Args:
      key: a concrete JAX PRNG key (typed ``jax.random.key`` or raw ``PRNGKey``); not a tracer.
      stream: non-negative integers naming an independent sub-stream (e.g. a data-set index).

    Returns:
      A ``numpy.random.Generator`` (PCG64) that is a deterministic function of ``key`` and ``stream``.
    """
    if not is_concrete(key):
        raise InputError("numpy_rng needs a concrete key (it cannot be called inside jit/vmap)")
    try:
        data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
        words = [int(w) for w in np.asarray(data, dtype=np.uint64).ravel()]
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(f"key must be a JAX PRNG key, got {type(key).__name__}") from exc
    if any(int(s) < 0 for s in stream):
        raise InputError(f"stream indices must be non-negative integers, got {stream}")
    while len(words) > 1 and words[0] == 0:
        words = words[1:]
    return np.random.default_rng([*words, *(int(s) for s in stream)])


# --- root finding --------------------------------------------------------------------------------------


def bisect(
    predicate: Callable[[jax.Array], jax.Array],
    lo: Any,
    hi: Any,
    steps: Any,
    *,
    whole: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Batched bisection for the point where a monotone ``predicate`` turns from False to True.

    Each step evaluates ``predicate(mid)`` elementwise at ``mid = (lo + hi)/2`` (``floor`` of it when
    ``whole``) and keeps the half bracket whose ends still disagree: ``hi ← mid`` where it is True,
    ``lo ← mid`` where it is False (NaN comparisons count as False). With ``predicate(lo)`` False and
    ``predicate(hi)`` True at the start the invariant holds at the end, so ``hi`` is the first point
    found True (for ``whole``: the smallest whole number where it holds once ``hi − lo ≤ 1``). Callers
    check the ends themselves (e.g. ``inf`` where ``predicate(hi)`` is False at the start).

    Traceable (``jit``/``vmap``): a ``lax.fori_loop`` of ``steps`` steps (a Python int, or a traced
    integer, which becomes a while-loop); the batch shape is that of ``lo`` and ``hi`` broadcast.

    Args:
        predicate: maps an array of points (the batch shape) to booleans of the same shape;
            non-decreasing along each element's bracket (False … False True … True).
        lo: lower end(s) of the bracket.
        hi: upper end(s) of the bracket.
        steps: number of halvings; the bracket width becomes ``(hi − lo)·2^−steps`` (for ``whole``,
            ``ceil(log2(hi − lo))`` steps reach width 1).
        whole: bisect over whole numbers (``mid = floor((lo + hi)/2)``), e.g. a number of attempts.

    Returns:
        The final bracket ``(lo, hi)``, each of the broadcast batch shape.
    """
    lo, hi = jnp.broadcast_arrays(jnp.asarray(lo), jnp.asarray(hi))

    def step(_: Any, bracket: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        a, b = bracket
        mid = jnp.floor((a + b) / 2.0) if whole else 0.5 * (a + b)
        upper = predicate(mid)
        return jnp.where(upper, a, mid), jnp.where(upper, mid, b)

    return jax.lax.fori_loop(0, steps, step, (lo, hi))


# Whole numbers up to 2^52 are exact in float64; 53 halvings shrink [0, 2^52] to width 1.
WHOLE_MAX = 2.0**52
WHOLE_STEPS = 53


def smallest_whole(predicate: Callable[[jax.Array], jax.Array], upper: Any = WHOLE_MAX) -> jax.Array:
    """Smallest whole number N in ``[0, upper]`` with ``predicate(N)`` True, for a predicate monotone in N.

    ``0`` where ``predicate(0)`` holds, ``inf`` where even ``predicate(upper)`` fails; otherwise the
    :func:`bisect` with ``whole=True`` over ``[0, upper]`` (53 steps: exact for ``upper ≤ 2^52``).
    Traceable; the batch shape is that of ``upper`` (broadcast it to the shape you need).

    Args:
        predicate: maps whole numbers (float64 array of the batch shape) to booleans; False … False
            True … True in N.
        upper: largest N searched (float64 array, ≤ 2^52), e.g. ``jnp.full(shape, WHOLE_MAX)``.

    Returns:
        float64 array of the batch shape: the smallest N, 0, or ``inf``.
    """
    top = jnp.asarray(upper)
    zero = jnp.zeros_like(top)
    _, hi = bisect(predicate, zero, top, WHOLE_STEPS, whole=True)
    out = jnp.where(predicate(zero), 0.0, hi)
    return jnp.where(predicate(top), out, jnp.inf)


# --- weighted log-log least squares ----------------------------------------------------------------------


def weighted_loglog_fit(log_x: Any, log_y: Any, weights: Any = None, *, slope: Any = None) -> tuple[Any, Any]:
    """Weighted least squares of ``log_y ≈ intercept + slope·log_x`` over the last axis.

    Minimises Σᵢ wᵢ (log yᵢ − c − s log xᵢ)²: ``s = Σ w (x − x̄)(y − ȳ) / Σ w (x − x̄)²`` and
    ``c = ȳ − s x̄`` with weighted means x̄, ȳ. Points with weight 0 are ignored (their values must be
    finite). With ``slope`` given (broadcasting to the batch shape), only the intercept is fitted:
    ``c = Σ w (y − s x) / Σ w``. Leading axes are batch axes.

    NumPy inputs are computed with NumPy (float64 on the host); JAX arrays (and tracers, inside
    ``jit``/``vmap``) with ``jax.numpy`` in their own dtype, so the function is jittable.

    Args:
      log_x: abscissae, shape (..., M), already on the log scale.
      log_y: ordinates, shape (..., M), already on the log scale.
      weights: non-negative weights (..., M); ``None`` weighs every point equally.
      slope: a fixed slope (...,) or ``None`` to fit it.

    Returns:
      ``(slope, intercept)``, each with the batch shape (...).
    """
    xp = jnp if any(isinstance(a, jax.Array) for a in (log_x, log_y, weights, slope)) else np
    x = xp.asarray(log_x) if xp is jnp else np.asarray(log_x, np.float64)
    y = xp.asarray(log_y) if xp is jnp else np.asarray(log_y, np.float64)
    w = (
        xp.ones_like(x * y)
        if weights is None
        else (xp.asarray(weights) if xp is jnp else np.asarray(weights, np.float64))
    )
    sw = xp.sum(w, axis=-1)
    if slope is not None:
        s = xp.asarray(slope)
        return s, xp.sum(w * (y - s[..., None] * x), axis=-1) / sw
    xm = xp.sum(w * x, axis=-1) / sw
    ym = xp.sum(w * y, axis=-1) / sw
    dx = x - xm[..., None]
    s = xp.sum(w * dx * (y - ym[..., None]), axis=-1) / xp.sum(w * dx * dx, axis=-1)
    return s, ym - s * xm


# --- sub-sampling and bootstrap ------------------------------------------------------------------------


def _counts(name: str, v: Any) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a != np.round(a)):
        raise InputError(f"{name} must be non-negative integers, got {v!r}")
    return a.astype(np.int64)


def subsample(key: jax.Array, n: Any, c: Any, n_obs: Any, repeats: int | None = None) -> np.ndarray:
    """Successes among ``n_obs`` attempts drawn without replacement from each problem's ``n`` logged attempts.

    Problem i has ``c_i`` successes among ``n_i`` attempts; the successes among ``m_i = n_obs_i`` of them
    drawn without replacement are hypergeometric(N = n_i, K = c_i, n = m_i): mean m c/n and variance
    m (c/n)(1 − c/n)(n − m)/(n − 1). Drawn by NumPy's vectorised sampler from :func:`numpy_rng` (JAX has
    no hypergeometric sampler).

    Args:
      key: PRNG key.
      n: attempts per problem (non-negative integers), broadcasting to ``c``.
      c: successes per problem, 0 ≤ c ≤ n.
      n_obs: attempts kept per problem, 0 ≤ n_obs ≤ n (an int or an array broadcasting to ``c``).
      repeats: number of independent sub-samples; ``None`` for one without a leading axis.

    Returns:
      Float64 NumPy array of successes, shape ``c.shape`` or ``(repeats,) + c.shape``.
    """
    c_ = _counts("c", c)
    n_ = np.broadcast_to(_counts("n", n), c_.shape)
    m_ = np.broadcast_to(_counts("n_obs", n_obs), c_.shape)
    if np.any(c_ > n_):
        raise InputError("c must be <= n for every problem")
    if np.any(m_ > n_):
        raise InputError(f"n_obs must be <= every n, got n_obs={int(m_.max())} with n={int(n_.min())}")
    if repeats is not None and (isinstance(repeats, bool) or int(repeats) != repeats or repeats < 1):
        raise InputError(f"repeats must be an integer >= 1, got {repeats!r}")
    size = c_.shape if repeats is None else (int(repeats),) + c_.shape
    return numpy_rng(key).hypergeometric(c_, n_ - c_, m_, size=size).astype(np.float64)


def bootstrap_counts(key: jax.Array, sizes: Sequence[int] | int, replicates: int) -> np.ndarray:
    """Row multiplicities of the nonparametric bootstrap (resampling rows with replacement) on the host.

    Data set j with ``sizes[j]`` rows gets, per replicate, counts ~ Multinomial(n_j, 1/n_j) (Efron &
    Tibshirani 1993, ch. 6), drawn from ``numpy_rng(key, j)``; a resampled statistic is then a
    weighted one (counts as weights) — the form batched refits need.

    Args:
      key: PRNG key.
      sizes: rows per data set (positive integers), or one int for one data set.
      replicates: bootstrap replicates B ≥ 1.

    Returns:
      Float64 counts of shape (len(sizes), B, max size), zero-padded; each row sums to its data set's size.
    """
    n_used = [int(v) for v in np.atleast_1d(_counts("sizes", sizes))]
    if not n_used or min(n_used) < 1:
        raise InputError(f"sizes must be positive integers, got {sizes!r}")
    if isinstance(replicates, bool) or int(replicates) != replicates or replicates < 1:
        raise InputError(f"replicates must be an integer >= 1, got {replicates!r}")
    out = np.zeros((len(n_used), int(replicates), max(n_used)))
    for j, n in enumerate(n_used):  # one vectorised draw per data set
        out[j, :, :n] = numpy_rng(key, j).multinomial(n, np.full(n, 1.0 / n), size=int(replicates))
    return out


def bootstrap_means(key: jax.Array, values: jax.Array, mask: jax.Array, replicates: int) -> jax.Array:
    """Means of per-problem values over problems resampled with replacement (traceable: usable in ``jit``).

    Group g has ``Σ mask[g]`` live problems; each replicate draws that many of them uniformly with
    replacement (position ⌊u·count⌋ among the live ones, u ~ U(0, 1) from ``jax.random``) and averages
    their values. Replicates run in a ``lax.map`` over ``split(key, replicates)``, so memory stays
    O(G·K·X). Computes in the dtype of ``values`` (call under ``@x64`` for float64).

    Args:
      key: PRNG key.
      values: per-problem values (G, K, X).
      mask: 1 for a live problem, 0 for padding (G, K); every group needs one live problem.
      replicates: bootstrap replicates R (static).

    Returns:
      Resampled means (R, G, X).
    """
    g, kk = mask.shape
    live_first = jnp.argsort(mask <= 0, axis=-1, stable=True)  # live problem positions first
    cnt = jnp.sum(mask, axis=-1)
    valid = (jnp.arange(kk)[None, :] < cnt[:, None]).astype(values.dtype)

    def one(key_r: jax.Array) -> jax.Array:
        u = jax.random.uniform(key_r, (g, kk))
        pos = jnp.minimum(jnp.floor(u * cnt[:, None]).astype(jnp.int32), kk - 1)
        idx = jnp.take_along_axis(live_first, pos, axis=1)
        picked = jnp.take_along_axis(values, idx[..., None], axis=1)
        return jnp.sum(picked * valid[..., None], axis=1) / cnt[:, None]

    return jax.lax.map(one, jax.random.split(key, replicates))


# --- convergence diagnostics ---------------------------------------------------------------------------


def split_rhat(draws: Any) -> Any:
    """Split-R̂ (potential scale reduction) of chains of draws, over the last two axes.

    Each of the M chains (axis −2) of S draws (axis −1) is split into halves of s = ⌊S/2⌋ draws (a
    middle draw of an odd S is dropped), giving 2M sequences with means θ̄ⱼ and variances sⱼ² (ddof 1);
    W = mean sⱼ², B = s·Var(θ̄ⱼ) (ddof 1), var⁺ = (s − 1)/s·W + B/s and R̂ = √(var⁺/W)
    (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4; Vehtari et al. 2021, Eq. 3–4 before rank
    normalisation). Traceable; computes in the input's dtype.

    Args:
      draws: array (..., M, S) with S ≥ 4; a single chain per batch entry is shape (..., 1, S).

    Returns:
      R̂ with the batch shape (...).
    """
    x = jnp.asarray(draws)
    if x.ndim < 2 or x.shape[-1] < 4:
        raise InputError(f"split_rhat needs draws of shape (..., chains, draws ≥ 4), got {x.shape}")
    s = x.shape[-1] // 2
    halves = jnp.concatenate([x[..., :s], x[..., s : 2 * s]], axis=-2)  # (..., 2M, s)
    means = halves.mean(-1)
    w = halves.var(-1, ddof=1).mean(-1)
    b = s * means.var(-1, ddof=1)
    var_plus = (s - 1) / s * w + b / s
    return jnp.sqrt(var_plus / w)
