"""Heterogeneous questions: per-question p ~ Beta(α, β), where the aggregate curve is not geometric.

Averaging the TTSPM curve over questions [derived here; aggregate law from spec beta_binomial §1]:

* F(N) = E[1 − (1 − p)^N] = 1 − B(α, β + N)/B(α, β)  (the law of ``passk.beta_law.asr_exact``);
* ΔF(N) = E[p (1 − p)^N] = B(α + 1, β + N)/B(α, β)  (from B(a, b) = B(a + 1, b) + B(a, b + 1));
* ΔF(N + 1)/ΔF(N) = (β + N)/(α + β + N + 1), which rises to 1: the gains decay as a power law,
  ΔF(N) ≈ Γ(α + 1)/B(α, β) · (N + β + α/2)^{−(α + 1)}, not geometrically;
* the aggregate saturation point N*_agg = min{N ≥ 0 : ΔF(N) < ε C} (exact integer search, ΔF is
  strictly decreasing) and its closed-form approximation from the power law.

The homogeneous formula evaluated at the pooled mean p̄ = α/(α + β) (what one gets by pooling all
attempts into one p) is compared by :func:`homogeneous_gap`: with a spread of difficulties it
saturates far too early, because the hard questions keep paying long after the easy ones stopped.

The Beta-function ratios and the exact searches are the one copy in :mod:`scaling_theory.beta` (log Γ
ratios without cancellation, rather than differences of ``jax.scipy.special.betaln``, which are accurate
only to ~1e-6 in the log and useless at the N ~ 10^15 probed by the saturation searches; integer
bisection of :func:`scaling_theory.stats.smallest_whole`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from scaling_theory import beta as _beta
from scaling_theory import stats
from scaling_theory.numerics import host, x64
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v
from scaling_theory.saturation.ttspm import hit_at_n, saturation_point

ArrayLike = Any


def _params(alpha: ArrayLike, beta: ArrayLike) -> tuple[jnp.ndarray, jnp.ndarray]:
    return v.positive("alpha", alpha), v.positive("beta", beta)


@x64
def beta_hit_at_n(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Aggregate Hit@N = 1 − B(α, β + N)/B(α, β) (= ``passk.beta_law.asr_exact``, computed without cancellation)."""
    a, b = _params(alpha, beta)
    return host(_beta.hit_at_n(a, b, v.count("n", n)))


@x64
def beta_marginal_gain(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Aggregate ΔF(N) = E[p(1 − p)^N] = B(α + 1, β + N)/B(α, β), in log space."""
    a, b = _params(alpha, beta)
    n = v.count("n", n)
    return host(_beta.marginal_gain(a, b, n))


@x64
def beta_gain_ratio(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike) -> np.ndarray:
    """ΔF(N + 1)/ΔF(N) = (β + N)/(α + β + N + 1) → 1 (homogeneous: the constant 1 − p)."""
    a, b = _params(alpha, beta)
    n = v.count("n", n)
    return host((b + n) / (a + b + n + 1.0))


def _log_gain_constant(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """log[Γ(α + 1)/B(α, β)] = log α + log Γ(α + β)/Γ(β)."""
    return jnp.log(a) + _beta.log_leading_constant(a, b)


@x64
def beta_marginal_gain_asymptotic(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Power-law form ΔF(N) ≈ Γ(α + 1)/B(α, β) · (N + β + α/2)^{−(α + 1)} (relative error O(N^{−2}))."""
    a, b = _params(alpha, beta)
    n = v.count("n", n)
    return host(jnp.exp(_log_gain_constant(a, b) - (a + 1.0) * jnp.log(n + b + a / 2.0)))


def _first_below(log_gain: Any, log_target: jnp.ndarray, strict: bool, upper: jnp.ndarray | None = None) -> jnp.ndarray:
    """Smallest whole N in [0, upper] with log_gain(N) < (≤) log_target, for log_gain non-increasing in N.

    ``upper`` defaults to 2^52 (every whole number exact in float64); ``inf`` where even N = upper fails.
    The integer bisection of :func:`scaling_theory.stats.smallest_whole` (vectorised; traceable).
    """

    def ok(n: jnp.ndarray) -> jnp.ndarray:
        g = log_gain(n)
        return g < log_target if strict else g <= log_target

    top = jnp.full_like(log_target, stats.WHOLE_MAX) if upper is None else jnp.broadcast_to(upper, log_target.shape)
    return stats.smallest_whole(ok, top)


@x64
def beta_saturation_point(
    alpha: ArrayLike, beta: ArrayLike, eps: ArrayLike, *, cost: ArrayLike = 1.0, threshold: str = "lt"
) -> np.ndarray:
    """Aggregate N*_agg = min{N ≥ 0 : B(α + 1, β + N)/B(α, β) < ε C} (exact, by integer bisection)."""
    strict = v.threshold(threshold) == "lt"
    a, b = _params(alpha, beta)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    a, b, e, c = jnp.broadcast_arrays(a, b, e, c)
    return host(_beta.saturation_point(a, b, jnp.log(e * c), strict))


@x64
def beta_saturation_point_approx(
    alpha: ArrayLike, beta: ArrayLike, eps: ArrayLike, *, cost: ArrayLike = 1.0
) -> np.ndarray:
    """Closed form from the power law: N*_agg ≈ (Γ(α + 1)/(B(α, β) ε C))^{1/(α + 1)} − β − α/2 (continuous, ≥ 0)."""
    a, b = _params(alpha, beta)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    x = jnp.exp((_log_gain_constant(a, b) - jnp.log(e * c)) / (a + 1.0)) - b - a / 2.0
    return host(jnp.maximum(x, 0.0))


@dataclass(frozen=True)
class HomogeneousGap(Result):
    """:func:`homogeneous_gap`: float64 arrays of the broadcast shape of (α, β, ε); one row per element.

    ``p_mean`` = p̄ = α/(α + β); ``n_star_homogeneous`` = N*(p̄, ε); ``n_star_aggregate`` = N*_agg; ``ratio``
    = aggregate / homogeneous; ``hit_homogeneous`` = 1 − (1 − p̄)^{N*_hom} (what the pooled formula claims)
    vs ``hit_aggregate`` = F_agg(N*_hom) (the truth); ``gain_left`` = ΔF_agg(N*_hom) (compare with ε).
    """

    p_mean: np.ndarray
    n_star_homogeneous: np.ndarray
    n_star_aggregate: np.ndarray
    ratio: np.ndarray
    hit_homogeneous: np.ndarray
    hit_aggregate: np.ndarray
    gain_left: np.ndarray


@x64
def homogeneous_gap(
    alpha: ArrayLike, beta: ArrayLike, eps: ArrayLike, *, cost: ArrayLike = 1.0, threshold: str = "lt"
) -> HomogeneousGap:
    """How far the homogeneous formula at the pooled p̄ = α/(α + β) is from the aggregate truth.

    Args:
      alpha, beta: the Beta law of per-question success probabilities (broadcast with ``eps``).
      eps: the saturation threshold ε on the marginal gain.
      cost: the cost per sample (the threshold is ε·cost).
      threshold: ``"lt"`` or ``"le"`` (as :func:`~scaling_theory.saturation.ttspm.saturation_point`).
    Returns:
      :class:`HomogeneousGap`: both saturation points, their ratio, the coverage each curve claims at the
      homogeneous point and the aggregate gain left there.
    """
    a, b = _params(alpha, beta)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    pbar = a / (a + b)
    n_hom = saturation_point(pbar, e, cost=c, threshold=threshold)
    n_agg = beta_saturation_point(a, b, e, cost=c, threshold=threshold)
    shape = jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b), jnp.shape(e))
    parts = (
        pbar,
        n_hom,
        n_agg,
        n_agg / jnp.maximum(n_hom, 1.0),
        hit_at_n(pbar, n_hom),
        beta_hit_at_n(a, b, n_hom),
        beta_marginal_gain(a, b, n_hom),
    )
    return HomogeneousGap(*(np.broadcast_to(np.asarray(x, np.float64), shape).copy() for x in parts))


@x64
def beta_samples_for_coverage(alpha: ArrayLike, beta: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Smallest N with aggregate Hit@N ≥ target, i.e. B(α, β + N)/B(α, β) ≤ 1 − target, for target in [0, 1)."""
    a, b = _params(alpha, beta)
    t = v.probability("target", target, high_open=True)
    a, b, t = jnp.broadcast_arrays(a, b, t)
    return host(_beta.whole_budget(a, b, t))
