"""Power-law exponents of −log pass@k: ``−log pass_D@k ≈ a·k^{−b}`` (Schaeffer et al. 2025; spec §3).

Two estimators from per-problem counts (k_i successes of n_i attempts):

* :func:`least_squares_exponent` — the least-squares fit of Hughes et al. / Schaeffer et al.:
  ordinary least squares of ``log(−log pass_D@k)`` on ``log k`` over a grid of k, with pass_D@k the
  mean over problems of Chen's unbiased pass@k (Schaeffer Table 1 uses the grid
  :data:`SCHAEFFER_KS`). Returns ``a = exp(intercept)`` and ``b = −slope``.
* :func:`distributional_exponent` — Schaeffer §5: fit a (scaled) Beta law to the per-problem pass@1
  estimates k_i/n_i *discretised at resolution 1/n* (problems with no success only tell p < 1/n),
  by maximum likelihood of the binned masses, then read the exponent off the fitted law:
  ``b = α̂`` and ``a = c^{−α̂} Γ(α̂+β̂)/Γ(β̂)`` for a Beta scaled to (0, c) (Theorem 3.1; spec §3 [derived]).
  Bins follow the official code: [0, r/2), [r/2, r), then log-spaced edges from r to 1, ten per
  decade; c = max_i k_i/n_i by default. JAX's regularised incomplete beta has no derivative in
  (α, β), so the 2-parameter MLE is a vectorised grid search refined by successive zooms.

Both accept leading batch axes (independent groups) and return plain dicts of floats/arrays.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc

from scaling_theory.numerics import check, x64
from scaling_theory.passk.beta_law import log_leading_constant
from scaling_theory.passk.estimators import _check_counts, _curve, _pass_at_k
from scaling_theory.stats import bootstrap_counts, weighted_loglog_fit

# The k grid of Schaeffer et al.'s Pythia analysis (LARGE_LANGUAGE_MONKEYS_ORIGINAL_Ks_LIST).
SCHAEFFER_KS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 64, 68, 72, 76, 80,
    84, 88, 92, 96, 100, 105, 110, 115, 120, 125, 130, 135, 140, 145, 150, 156, 162, 168, 175, 182, 189, 193,
    200, 216, 233, 267, 300, 333, 367, 400, 433, 467, 500, 550, 600, 650, 700, 750, 800, 850, 900, 950, 1000,
    1067, 1133, 1200, 1367, 1500, 1750, 2000, 2333, 2667, 3000, 3333, 3667, 4000, 4333, 4667, 5000, 5333,
    5667, 6000, 6333, 6667, 7000, 7333, 7667, 8000, 8500, 9000, 9500, 10000,
)  # fmt: skip
# Schaeffer et al. (arXiv 2502.17578) Table 1: least-squares (a, b) of −log pass_D@k = a·k^(−b), Pythia × MATH.
SCHAEFFER_TABLE1 = {
    "Pythia 70M": (8.026, 0.194),
    "Pythia 160M": (6.591, 0.280),
    "Pythia 410M": (5.524, 0.286),
    "Pythia 1B": (5.452, 0.315),
    "Pythia 2.8B": (4.104, 0.336),
    "Pythia 6.9B": (4.255, 0.348),
    "Pythia 12B": (4.113, 0.370),
}


def _counts(n, k):
    k = jnp.asarray(k, jnp.float64)
    n = jnp.broadcast_to(jnp.asarray(n, jnp.float64), k.shape)
    _check_counts(n, k, "k")
    check(k.ndim >= 1 and k.shape[-1] >= 1, "c needs a problem axis with at least one problem")
    return n, k


@x64
def least_squares_exponent(n, c, ks=None) -> dict:
    """OLS of ``log(−log pass_D@k)`` on ``log k``: returns ``dict(a, b, ks, pass_at_k, points)``.

    ``ks`` defaults to :data:`SCHAEFFER_KS` up to the smallest n. Points with pass_D@k ∈ {0, 1} (where
    ``log(−log ·)`` is infinite) are dropped, as in the official code; at least two must remain.
    """
    n, c = _counts(n, c)
    nmin = float(jnp.min(n))
    if ks is None:
        ks = np.array([x for x in SCHAEFFER_KS if x <= nmin], dtype=np.float64)
    ks = jnp.asarray(np.atleast_1d(np.asarray(ks, dtype=np.float64)))
    check(ks.ndim == 1 and ks.size >= 2, "ks must list at least two budgets")
    check(ks >= 1, "ks must be ≥ 1")
    check(ks == jnp.round(ks), "ks must be integers")
    check(ks <= nmin, f"ks must be ≤ the smallest n ({nmin:g}) for the unbiased estimator")
    curve = _curve(_pass_at_k, n, c, ks)
    y = jnp.log(-jnp.log(curve))
    ok = jnp.isfinite(y)
    check(jnp.sum(ok, axis=-1) >= 2, "need at least two budgets with 0 < pass@k < 1 to fit the exponent")
    slope, intercept = weighted_loglog_fit(jnp.log(ks), jnp.where(ok, y, 0.0), ok.astype(jnp.float64))
    b = -slope
    return {
        "a": _out(jnp.exp(intercept)),
        "b": _out(b),
        "ks": np.asarray(ks),
        "pass_at_k": np.asarray(curve),
        "points": _out(jnp.sum(ok, axis=-1)),
    }


@x64
def bootstrap_pass_curves(key: jax.Array, n: Any, c: Any, ks: Any, replicates: int) -> np.ndarray:
    """pass_D@k curves (mean over problems of Chen's unbiased pass@k) and their bootstrap over problems.

    The problems (last axis of ``k``) are resampled with replacement, the same resample for every group
    (paired, e.g. across models on one benchmark), with multiplicities from
    :func:`scaling_theory.stats.bootstrap_counts`.

    Args:
      key: PRNG key of the resampling.
      n: attempts per problem (broadcasting to ``k``).
      k: successes, shape (G, P) (or (P,) for one group).
      ks: budgets k ≤ min n at which the curve is evaluated (K,).
      replicates: bootstrap replicates B ≥ 1.

    Returns:
      Curves (G, B + 1, K): replicate 0 is the data itself, 1..B the resampled curves.
    """
    n, c = _counts(n, c)
    k2 = jnp.atleast_2d(c)
    n2 = jnp.broadcast_to(jnp.atleast_2d(n), k2.shape)
    ks = np.atleast_1d(np.asarray(ks, dtype=np.float64))
    check(np.all(ks >= 1) and np.all(ks <= float(jnp.min(n2))), "ks must lie in [1, min n]")
    per_problem = np.asarray(_pass_at_k(n2[..., None], k2[..., None], jnp.asarray(ks)))  # (G, P, K)
    P = k2.shape[-1]
    counts = bootstrap_counts(key, [P], int(replicates))[0]  # (B, P)
    times = np.concatenate([np.ones((1, P)), counts])  # (B + 1, P)
    return np.einsum("bp,gpk->gbk", times, per_problem) / P


def _out(x):
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def schaeffer_bins(resolution: float) -> np.ndarray:
    """Bin edges of the official discretised fit: 0, r/2, then ``logspace(log10 r, 0, −int(log10 r)·10 + 1)``."""
    lr = np.log10(resolution)
    log_bins = np.logspace(lr, 0.0, -int(lr) * 10 + 1)
    return np.concatenate([[0.0, resolution / 2.0], log_bins])


def _histogram(p_hat: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin along the last axis with numpy.histogram semantics (half-open bins, last one closed)."""
    idx = np.clip(np.searchsorted(edges, p_hat, side="right") - 1, 0, edges.size - 2)
    return (idx[..., None] == np.arange(edges.size - 1)).sum(axis=-2).astype(np.float64)


def _binned_nll(log_a, log_b, counts, edges, scale):
    """−Σ_bins count · log(F(e_{j+1}/c) − F(e_j/c) + 1e-16), F the Beta(α, β) CDF (official code's floor)."""
    a, b = jnp.exp(log_a), jnp.exp(log_b)
    cdf = betainc(a[..., None], b[..., None], jnp.clip(edges / scale[..., None], 0.0, 1.0))
    mass = jnp.diff(cdf, axis=-1) + 1e-16
    return -jnp.sum(counts * jnp.log(mass), axis=-1)


@functools.partial(jax.jit, static_argnames=("points", "zooms"))
def _grid_mle(counts, edges, scale, lo, hi, points: int = 17, zooms: int = 9):
    """Minimise the binned NLL over (log α, log β) ∈ [lo, hi]² by grid search with successive zooms (per group)."""
    t = jnp.linspace(-1.0, 1.0, points)
    center = (lo + hi) / 2.0 * jnp.ones(counts.shape[:-1] + (2,))
    half = (hi - lo) / 2.0 * jnp.ones(counts.shape[:-1])

    def body(_, state):
        center, half = state
        ga = jnp.clip(center[..., 0, None] + half[..., None] * t, lo, hi)  # (..., P)
        gb = jnp.clip(center[..., 1, None] + half[..., None] * t, lo, hi)
        la = jnp.broadcast_to(ga[..., :, None], ga.shape + (points,))
        lb = jnp.broadcast_to(gb[..., None, :], ga.shape + (points,))
        nll = _binned_nll(la, lb, counts[..., None, None, :], edges, scale[..., None, None])
        nll = jnp.where(jnp.isfinite(nll), nll, jnp.inf).reshape(nll.shape[:-2] + (-1,))
        best = jnp.argmin(nll, axis=-1)
        new = jnp.stack(
            [
                jnp.take_along_axis(la.reshape(nll.shape), best[..., None], -1)[..., 0],
                jnp.take_along_axis(lb.reshape(nll.shape), best[..., None], -1)[..., 0],
            ],
            -1,
        )
        return new, half * 4.0 / (points - 1)

    center, half = jax.lax.fori_loop(0, zooms, body, (center, half))
    nll = _binned_nll(center[..., 0], center[..., 1], counts, edges, scale)
    return center, nll


@x64
def distributional_exponent(
    n, c, *, resolution: float | None = None, scale: str | float = "max", bounds: tuple[float, float] = (0.01, 100.0)
) -> dict:
    """Schaeffer's distributional estimator: discretised (scaled) Beta MLE of the pass@1 estimates.

    ``resolution`` defaults to 1/max(n) (1/n for equal budgets, as the official code); ``scale`` is
    ``"max"`` (c = max_i k_i/n_i, the official choice) or a number in (0, 1] (1 = unscaled Beta).
    ``bounds`` box α and β (the official L-BFGS-B bounds). Returns ``dict(a, b, alpha, beta, scale,
    resolution, nll, at_bound)`` with ``b = α̂`` and ``a = c^{−α̂} Γ(α̂+β̂)/Γ(β̂)``.
    """
    n, c = _counts(n, c)
    p_hat = np.asarray(c / n)
    res = float(1.0 / np.max(np.asarray(n))) if resolution is None else float(resolution)
    check(0 < res < 1, f"resolution must be in (0, 1), got {res}")
    if scale == "max":
        cap = p_hat.max(axis=-1)
        check(cap > 0, "every group needs at least one success for the distributional fit (scale = max k/n)")
    else:
        try:
            cap = np.full(p_hat.shape[:-1], float(scale))
        except (TypeError, ValueError):
            from scaling_theory.errors import InputError

            raise InputError(f"scale must be 'max' or a number in (0, 1], got {scale!r}") from None
        check((cap > 0) & (cap <= 1), f"scale must be in (0, 1], got {scale}")
    edges = schaeffer_bins(res)
    counts = _histogram(p_hat, edges)
    lo, hi = float(np.log(bounds[0])), float(np.log(bounds[1]))
    center, nll = _grid_mle(jnp.asarray(counts), jnp.asarray(edges), jnp.asarray(cap), lo, hi)
    alpha, beta = jnp.exp(center[..., 0]), jnp.exp(center[..., 1])
    a = jnp.exp(-alpha * jnp.log(jnp.asarray(cap)) + log_leading_constant(alpha, beta))
    at_bound = jnp.any((center <= lo + 1e-6) | (center >= hi - 1e-6), axis=-1)
    return {
        "a": _out(a),
        "b": _out(alpha),
        "alpha": _out(alpha),
        "beta": _out(beta),
        "scale": _out(cap),
        "resolution": res,
        "nll": _out(nll),
        "at_bound": _out(at_bound),
    }
