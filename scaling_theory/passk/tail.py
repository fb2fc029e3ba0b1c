"""Tail-aware extrapolation: the local behaviour of the empirical pass@m curve just below n, carried to N ≫ n.

Spec ``difficulty_and_allocation.md`` §2. With S(m) = 1 − pass@m of the observed problems (Chen's unbiased
curve for fixed-n logs, the exact 1(t_i ≤ m) curve for logs that stop at the first success, see
:func:`per_problem_curve`) and n_ref the largest m at which the curve is known for every problem (the
smallest n_i; the cap for stopped logs):

=================  ===============================================================================
method             point estimate
=================  ===============================================================================
``tail_power``     survival power law 1 − pass@N = S(n_ref)·(N/n_ref)^{−a}, a the weighted least-squares
                   slope of −log S(m) against log m on the window m ∈ [n_ref/W, n_ref]
``tail_hughes``    Hughes / SABER-Fit form −log pass@N = L(n_ref)·(N/n_ref)^{−b}, L(m) = −log pass@m,
                   b the slope of −log L(m) against log m on the same window
``tail_eb``        hybrid: the observed S(n_ref) times the empirical-Bayes (Beta-law) decay
                   S_eb(N)/S_eb(n_ref) — the mixture model's shape, anchored at the exact observed level
=================  ===============================================================================

The window W (``window``; default :data:`DEFAULT_WINDOW`, one decade) is a tuning choice (spec §2): the
``auto`` predictor back-tests it on the user's data. Both curve fits are anchored at m = n_ref, where the
curve is exact, so only the local slope is extrapolated. Points are log-spaced in the window
(:data:`GRID_POINTS`), weighted equally. Intervals: bootstrap over problems (resample problems with
replacement, recompute the curve, refit), equal-tailed quantiles; ``tail_eb`` bootstraps the anchor
S(n_ref) with the model's decay held fixed.

Degenerate curves: if every problem is solved at n_ref the prediction is 1; if no problem was ever
solved the prediction is 0 (the slope is undefined); a flat curve (a = 0) predicts no growth.

References: Hughes et al., "Best-of-N Jailbreaking" (arXiv 2412.03556) for −log ASR ∝ N^{−b};
Schaeffer et al., arXiv 2502.17578, for the survival power law and its exponent; Chen et al. 2021 for the
unbiased curve.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from scaling_theory.compilation_cache import persistent_jit
from scaling_theory.passk.estimators import _pass_at_k
from scaling_theory.stats import bootstrap_means, weighted_loglog_fit

DEFAULT_WINDOW = 10.0
GRID_POINTS = 12
TAIL_METHODS = ("tail_power", "tail_hughes", "tail_eb")
_TINY = 1e-300


def reference_n(n, c, mask, stopped: bool) -> np.ndarray:
    """n_ref per group: the smallest live n_i (fixed-n logs) or the largest n_i (the cap of a stopped log)."""
    n, mask = np.asarray(n, np.float64), np.asarray(mask, np.float64)
    if stopped:
        return np.max(np.where(mask > 0, n, 0.0), axis=-1)
    return np.min(np.where(mask > 0, n, np.inf), axis=-1)


def window_grid(n_ref, window: float, points: int = GRID_POINTS) -> np.ndarray:
    """Integer budgets m_j log-spaced over [max(1, n_ref/W), n_ref] per group: (G,) → (G, points); last = n_ref."""
    n_ref = np.asarray(n_ref, np.float64)
    lo = np.maximum(1.0, n_ref / float(window))
    x = np.linspace(0.0, 1.0, int(points))
    grid = np.exp(np.log(lo)[..., None] + x * (np.log(n_ref) - np.log(lo))[..., None])
    return np.clip(np.round(grid), 1.0, n_ref[..., None])


def per_problem_curve(n, c, grid, stopped: bool):
    """pass@m per problem on per-group budgets ``grid`` (G, M): (G, K) → (G, K, M).

    Fixed-n logs: Chen's unbiased 1 − C(n_i − k_i, m)/C(n_i, m) (needs m ≤ n_i). Stopped logs (a solved
    problem is stored as n_i = t_i attempts with k_i = 1): the exact indicator 1(k_i > 0 and n_i ≤ m) —
    Chen's formula would give m/t_i there, biased (spec §3).
    """
    g = grid[..., None, :]
    if stopped:
        return ((c[..., None] > 0) & (n[..., None] <= g)).astype(jnp.float64)
    return _pass_at_k(n[..., None], c[..., None], jnp.minimum(g, n[..., None]))


def _slope(x, y, ok):
    """Equal-weight least-squares slope of y on x over the last axis, points with ok = False ignored (0 when
    fewer than two distinct x remain)."""
    slope, _ = weighted_loglog_fit(x, y, ok.astype(x.dtype))
    return jnp.where(jnp.isfinite(slope), slope, 0.0)


def curve_extrapolate(curve, grid, budgets, kind: str):
    """Anchored local power law from a pass@m curve (..., M) on ``grid`` (..., M) to budgets (B,) → (..., B).

    ``kind`` ``"power"``: log S(N) = log S(n_ref) − a log(N/n_ref) with a = −slope of log S on log m;
    ``"hughes"``: log L(N) = log L(n_ref) − b log(N/n_ref), L = −log pass@m. The slope is clipped at ≥ 0
    (extrapolated pass@N never decreases in N).
    """
    x = jnp.log(grid)
    n_ref = grid[..., -1]
    ratio = jnp.log(budgets) - x[..., -1:]  # (..., B)
    if kind == "power":
        y = jnp.log(jnp.clip(1.0 - curve, _TINY, 1.0))
        ok = curve < 1.0
    else:
        y = jnp.log(-jnp.log(jnp.clip(curve, _TINY, 1.0 - 1e-16)))
        ok = (curve > 0.0) & (curve < 1.0)
    rate = jnp.maximum(-_slope(x, y, ok), 0.0)
    anchor = y[..., -1:]
    log_y = anchor - rate[..., None] * ratio
    if kind == "power":
        pred = -jnp.expm1(log_y)
        pred = jnp.where((curve[..., -1:] >= 1.0), 1.0, pred)
    else:
        pred = jnp.exp(-jnp.exp(log_y))
        pred = jnp.where(curve[..., -1:] >= 1.0, 1.0, jnp.where(curve[..., -1:] <= 0.0, 0.0, pred))
    del n_ref
    return jnp.clip(pred, 0.0, 1.0), rate


@persistent_jit(static_argnames=("kind", "replicates", "stopped"))
def _tail_core(n, k, m, grid, budgets, key, level, kind, replicates, stopped):
    per = per_problem_curve(n, k, grid, stopped)  # (G, K, M)
    cnt = jnp.sum(m, axis=-1)
    curve = jnp.sum(per * m[..., None], axis=-2) / cnt[:, None]
    asr, rate = curve_extrapolate(curve, grid, budgets, kind)
    boot = bootstrap_means(key, per, m, replicates)  # (R, G, M)
    bpred, _ = curve_extrapolate(boot, jnp.broadcast_to(grid, boot.shape), budgets, kind)
    q = jnp.quantile(bpred, jnp.array([(1 - level) / 2, (1 + level) / 2]), axis=0)
    return asr, jnp.minimum(q[0], asr), jnp.maximum(q[1], asr), rate


def predict_tail(
    n,
    c,
    mask,
    budgets,
    *,
    kind: str,
    key,
    level: float = 0.9,
    replicates: int = 200,
    window: float = DEFAULT_WINDOW,
    stopped: bool = False,
    points: int = GRID_POINTS,
):
    """Tail power-law (``kind="power"``) or Hughes (``"hughes"``) prediction with a bootstrap interval.

    Args:
      n, k, m: counts and mask, float64 arrays (G, K) (already validated).
      budgets: target budgets N (B,).
      kind: ``"power"`` or ``"hughes"``.
      key: PRNG key of the bootstrap over problems.
      level: interval coverage.
      replicates: bootstrap replicates.
      window: W, the fit window [n_ref/W, n_ref].
      stopped: the log stops at the first success (exact stopped-log curve).
      points: grid points in the window.

    Returns:
      ``(asr, lower, upper, rate)``: arrays (G, B) and the fitted local exponent (G,).
    """
    n_ref = reference_n(n, c, mask, stopped)
    grid = window_grid(n_ref, window, points)
    out = _tail_core(
        np.asarray(n),
        np.asarray(c),
        np.asarray(mask),
        grid,
        np.asarray(budgets),
        key,
        float(level),
        kind,
        int(replicates),
        bool(stopped),
    )
    return tuple(np.asarray(x) for x in out)


@persistent_jit(static_argnames=("replicates", "stopped"))
def _anchor_core(n, k, m, n_ref, key, replicates, stopped):
    per = per_problem_curve(n, k, n_ref[:, None], stopped)[..., 0]  # (G, K) pass@n_ref per problem
    cnt = jnp.sum(m, axis=-1)
    anchor = jnp.sum(per * m, axis=-1) / cnt
    boot = bootstrap_means(key, per[..., None], m, replicates)[..., 0]  # (R, G)
    return anchor, boot


def predict_tail_model(
    n,
    c,
    mask,
    budgets,
    log_s_model_n,
    log_s_model_b,
    *,
    key,
    level: float = 0.9,
    replicates: int = 200,
    stopped: bool = False,
):
    """Hybrid: observed S(n_ref) times a model's decay S_model(N)/S_model(n_ref).

    Args:
      n, k, m: counts and mask (G, K).
      budgets: target budgets (B,).
      log_s_model_n: the model's log S(n_ref) per group (G,).
      log_s_model_b: the model's log S(N) per group and budget (G, B).
      key, level, replicates: bootstrap of the anchor over problems.
      stopped: exact stopped-log anchor.

    Returns:
      ``(asr, lower, upper)`` arrays (G, B).
    """
    n_ref = reference_n(n, c, mask, stopped)
    anchor, boot = _anchor_core(
        np.asarray(n), np.asarray(c), np.asarray(mask), n_ref, key, int(replicates), bool(stopped)
    )
    decay = np.minimum(np.asarray(log_s_model_b) - np.asarray(log_s_model_n)[:, None], 0.0)  # ≤ 0 for N ≥ n_ref
    budgets = np.asarray(budgets, np.float64)
    decay = np.where(budgets[None, :] >= np.asarray(n_ref)[:, None], decay, 0.0)

    def pred(a):
        s = np.clip(1.0 - np.asarray(a), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            return 1.0 - np.exp(np.log(s)[..., None] + decay)

    asr = pred(anchor)
    bp = pred(boot)  # (R, G, B)
    lo, hi = np.quantile(bp, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return asr, np.minimum(lo, asr), np.maximum(hi, asr)
