"""Per-problem posteriors of the success probability θ_i, in the two forms the allocation machinery takes.

* :class:`BetaPosterior` — ``Beta(a_i, b_i)`` with ``a_i = α̂ + k_i``, ``b_i = β̂ + n_i − k_i`` (spec §4);
  :func:`beta_posteriors` fits (α̂, β̂) per group with the batched Beta-binomial MLE of ``passk.mle``.
* :class:`GridPosterior` — ``(theta_J, log_post_GxKxJ)``: the posterior of every problem on a common grid
  of θ values, normalised per problem (the output of ``passk.mixing.posterior_grid`` for the richer
  difficulty models of spec §1: scaled Beta, Kumaraswamy, Beta mixtures, NPMLE, g-model).

Both support :func:`observe_failures` (the update after u more failures, used by the sequential policy) and
give the same gain tables (``gains.py``). Arrays are NumPy at the boundary, float64.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import check
from scaling_theory.results import Result

if TYPE_CHECKING:
    from scaling_theory.passk.mixing import MixingFit
    from scaling_theory.passk.mle import BetaBinomialFit


@dataclass(frozen=True)
class BetaPosterior(Result):
    """``θ_i | data ~ Beta(a_i, b_i)``; ``a``, ``b`` of shape (G, K) (padded problems: any positive values).
    ``fit``: the per-group Beta-binomial fit of the prior when made by :func:`beta_posteriors` (else ``None``).

    Rows: one per (group, problem) with ``a`` and ``b`` (the fit's own rows: ``fit.rows()``).
    """

    _index = ("group", "problem")
    _row_fields = ("a", "b")

    a: np.ndarray
    b: np.ndarray
    fit: BetaBinomialFit | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.a.shape

    def mean(self) -> np.ndarray:
        return self.a / (self.a + self.b)


@dataclass(frozen=True)
class GridPosterior(Result):
    """``P(θ_i = theta[j] | data) = exp(log_post[g, i, j])`` on a common grid ``theta`` (J,) in [0, 1].
    ``fit``: the per-group difficulty model's fit when made by :func:`mixing_posteriors` (else ``None``).

    Rows: one per (group, problem, grid point) with ``theta`` and ``log_post`` (the fit's own rows: ``fit.rows()``).
    """

    _index = ("group", "problem", "theta")
    _row_fields = ("theta", "log_post")

    theta: np.ndarray
    log_post: np.ndarray
    fit: MixingFit | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.log_post.shape[:-1]

    def mean(self) -> np.ndarray:
        return np.exp(self.log_post) @ self.theta


Posterior = BetaPosterior | GridPosterior


def beta_posterior(a, b) -> BetaPosterior:
    """Validated :class:`BetaPosterior` from arrays ``a``, ``b`` (broadcast to a common (G, K) shape).

    Args:
      a, b: positive Beta parameters per problem; 1-D inputs are one group.
    Returns:
      A :class:`BetaPosterior` with float64 arrays of shape (G, K).
    """
    a, b = np.broadcast_arrays(np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64)))
    check(np.all(np.isfinite(a) & (a > 0)), "posterior parameter a must be finite and > 0")
    check(np.all(np.isfinite(b) & (b > 0)), "posterior parameter b must be finite and > 0")
    return BetaPosterior(np.array(a), np.array(b))


def grid_posterior(theta_J, log_post_GxKxJ) -> GridPosterior:
    """Validated :class:`GridPosterior` (the interface of ``passk.mixing.posterior_grid``).

    Args:
      theta_J: grid of θ values in [0, 1], shape (J,).
      log_post_GxKxJ: log posterior weights per problem (normalised per problem: logsumexp over J is 0;
        renormalised here to absorb rounding), shape (G, K, J) or (K, J).
    Returns:
      A :class:`GridPosterior`.
    """
    theta = np.asarray(theta_J, np.float64)
    lp = np.asarray(log_post_GxKxJ, np.float64)
    if lp.ndim == 2:
        lp = lp[None]
    check(theta.ndim == 1 and theta.size >= 1, f"theta must be a 1-D grid, got shape {theta.shape}")
    check(np.all((theta >= 0) & (theta <= 1)), "theta grid values must lie in [0, 1]")
    if lp.ndim != 3 or lp.shape[-1] != theta.size:
        raise InputError(f"log_post must have shape (G, K, J={theta.size}), got {lp.shape}")
    check(not np.any(np.isnan(lp)) and not np.any(lp == np.inf), "log_post must not contain NaN or +inf")
    top = np.max(lp, axis=-1, keepdims=True)
    check(np.all(np.isfinite(top)), "every problem needs a posterior weight > 0 somewhere on the grid")
    norm = top + np.log(np.sum(np.exp(lp - top), axis=-1, keepdims=True))
    return GridPosterior(theta, lp - norm)


def beta_posteriors(n, c, mask=None) -> BetaPosterior:
    """Empirical-Bayes Beta posteriors: (α̂, β̂) per group by ``passk.mle.fit``, then ``Beta(α̂ + k, β̂ + n − k)``.

    Args:
      n, c: pilot counts of shape (G, K) (or (K,)); ``mask`` marks real problems.
    Returns:
      The :class:`BetaPosterior` (G, K), carrying the ``passk`` ``BetaBinomialFit`` of the prior as ``fit``.
    References:
      the Beta-binomial MLE of ``scaling_theory.passk.mle`` (spec beta_binomial.md §2.2); posterior as in
      spec difficulty_and_allocation.md §4.
    """
    from scaling_theory.passk import mle

    c = np.atleast_2d(np.asarray(c, np.float64))
    n = np.broadcast_to(np.asarray(n, np.float64), c.shape) if np.ndim(n) < 2 else np.asarray(n, np.float64)
    fit = mle.fit(n, c, mask)
    alpha = np.asarray(fit.alpha, np.float64)[..., None]
    beta = np.asarray(fit.beta, np.float64)[..., None]
    return dataclasses.replace(beta_posterior(alpha + c, beta + n - c), fit=fit)


def mixing_posteriors(n, c, mask=None, *, family: str, **options) -> GridPosterior:
    """Grid posteriors under a difficulty model of ``passk.mixing``: fit G per group, then the posterior of θ_i.

    Args:
      n, c: pilot counts of shape (G, K) (or (K,)); ``mask`` marks real problems.
      family: one of ``passk.mixing.FAMILIES`` (``beta``, ``beta_zi``, ``scaled_beta``, ``kumaraswamy``,
        ``beta_mix2/3``, ``npmle``, ``gmodel`` ...).
      **options: passed to ``passk.mixing.fit_mixing`` (e.g. ``max_iter``).
    Returns:
      The :class:`GridPosterior` (G, K, J) on the fit's θ grid, carrying the ``MixingFit`` as ``fit``.
    References:
      spec difficulty_and_allocation.md §1 (mixing laws) and §4 (allocation under any difficulty model).
    """
    from scaling_theory.passk import mixing

    if family not in mixing.FAMILIES:
        raise InputError(f"difficulty model must be one of {', '.join(mixing.FAMILIES)}; got {family!r}")
    c = np.atleast_2d(np.asarray(c, np.float64))
    n = np.broadcast_to(np.asarray(n, np.float64), c.shape) if np.ndim(n) < 2 else np.asarray(n, np.float64)
    fit = mixing.fit_mixing(n, c, mask, family=family, **options)
    theta, log_post = mixing.posterior_grid(fit, n, c, mask)
    return dataclasses.replace(grid_posterior(theta, log_post), fit=fit)


def difficulty_posteriors(n, c, mask=None, *, difficulty: str = "beta") -> Posterior:
    """Per-problem posteriors from pilot counts under the difficulty model ``difficulty``.

    Args:
      n, c: pilot counts (G, K); ``mask`` marks real problems.
      difficulty: ``beta`` — the closed-form Beta path (:func:`beta_posteriors`); any other family of
        ``passk.mixing.FAMILIES`` — its grid posterior (:func:`mixing_posteriors`).
    Returns:
      A :class:`BetaPosterior` or a :class:`GridPosterior` of shape (G, K).
    """
    if difficulty == "beta":
        return beta_posteriors(n, c, mask)
    return mixing_posteriors(n, c, mask, family=difficulty)


def observe_failures(post: Posterior, failures) -> Posterior:
    """The posterior after ``failures`` (G, K) more failed attempts: Beta(a, b + u), or grid weights × (1 − θ)^u."""
    u = np.asarray(failures, np.float64)
    if isinstance(post, BetaPosterior):
        return BetaPosterior(post.a, post.b + u)
    with np.errstate(divide="ignore"):
        log1m = np.log1p(-post.theta)
    shift = np.where(u[..., None] > 0, u[..., None] * log1m, 0.0)
    return grid_posterior(post.theta, post.log_post + shift)


def discretise_beta(a, b, theta_J) -> GridPosterior:
    """A Beta(a, b) posterior discretised on a grid (cell weights ∝ Beta CDF increments between midpoints).

    Used to check the grid path against the closed forms and to feed Beta posteriors to grid-only code.
    """
    from scipy.special import betainc

    theta = np.asarray(theta_J, np.float64)
    edges = np.concatenate([[0.0], (theta[1:] + theta[:-1]) / 2, [1.0]])
    a = np.atleast_2d(np.asarray(a, np.float64))[..., None]
    b = np.atleast_2d(np.asarray(b, np.float64))[..., None]
    cdf = betainc(a, b, edges)
    w = np.clip(np.diff(cdf, axis=-1), 0.0, None)
    with np.errstate(divide="ignore"):
        return grid_posterior(theta, np.log(w))
