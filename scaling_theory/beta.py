"""The Beta law and the Beta-binomial likelihood: one copy, shared by every area.

Per-problem success probability θ ~ Beta(α, β); attempts i.i.d. Bernoulli(θ). This module holds the
traceable float64 cores (no input checks: the areas' public functions validate and call these):

* the Beta law of hit@N / pass@N / ASR@N — :func:`log_survival` ``log E[(1−θ)^N] = log B(α, β+N) − log B(α, β)``,
  :func:`survival`, :func:`hit_at_n` ``= 1 − B(α, β+N)/B(α, β)``, the marginal gain
  :func:`log_marginal_gain` ``log E[θ(1−θ)^N] = log B(α+1, β+N) − log B(α, β)``, the power-law constant
  :func:`log_leading_constant` ``log Γ(α+β)/Γ(β)``, and the whole-number tables
  :func:`log_survival_table` / :func:`marginal_gain_table` for N = 0..M by the product recurrence;
* budgets — :func:`budget` (smallest real N with ``(1−π)·hit@N ≥ τ``, bisection in log N),
  :func:`whole_budget` (smallest whole N with ``hit@N ≥ τ``) and :func:`saturation_point` (smallest whole
  N with marginal gain below a threshold), all on :func:`scaling_theory.stats.bisect`;
* the Beta-binomial likelihood of counts c of n — :func:`log_binom`, :func:`log_kernel`
  ``log B(c+α, n−c+β) − log B(α, β)``, :func:`logpmf`, :func:`logpmf_zero_inflated`, :func:`loglik`, and its
  derivatives in (α, β) from one fused evaluation of log Γ, ψ, ψ' (:func:`pointwise_derivatives`, used by
  the batched MLE), summed by :func:`score` and :func:`hessian`; :func:`fisher_information`; the
  method-of-moments start :func:`log_moment_estimate`.

Ratios of Beta functions are differences of log-gamma *ratios*
(:func:`scaling_theory.special.log_gamma_ratio`, no cancellation between large log Γ values): relative
error ~1e-15 even at N ~ 1e15. Everything broadcasts and runs under ``jit``/``vmap``; call it in float64
(``@x64``).

References:
    ../shared/specs/beta_binomial.md §1 (core identities), §2.1 (the Beta law), §2.2 (likelihood, score,
    Hessian, Fisher information); ../shared/specs/saturation_and_selection.md §A.2 (saturation point),
    SABER (arXiv 2601.22636) Eq. 8–10.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from scaling_theory import stats
from scaling_theory.numerics import eager_jit
from scaling_theory.special import digamma, lgamma, log_gamma_ratio, log_gamma_ratio_diff, trigamma

ArrayLike = Any

# --- the Beta law of hit@N ---------------------------------------------------------------------------------


@eager_jit
def log_survival(alpha: ArrayLike, beta: ArrayLike, budget: ArrayLike) -> jax.Array:
    """Log of the probability that N attempts all fail: ``log B(α, β+N) − log B(α, β)``.

    Computed as ``D(β, α) − D(β+N, α)`` with ``D(x, h) = log Γ(x+h) − log Γ(x)``
    (:func:`scaling_theory.special.log_gamma_ratio_diff`), so there is no cancellation at large N.

    Args:
        alpha: α > 0 of the Beta law.
        beta: β > 0 of the Beta law.
        budget: number of attempts N ≥ 0 (real N allowed).

    Returns:
        ``log E[(1−θ)^N]``, θ ~ Beta(α, β) (broadcast shape).

    References:
        ../shared/specs/beta_binomial.md §1.
    """
    alpha, beta, budget = jnp.asarray(alpha), jnp.asarray(beta), jnp.asarray(budget)
    return log_gamma_ratio_diff(beta, budget, alpha)


@eager_jit
def survival(alpha: ArrayLike, beta: ArrayLike, budget: ArrayLike) -> jax.Array:
    """``B(α, β+N)/B(α, β) = E[(1−θ)^N]``: the expected fraction of problems still unsolved after N attempts.

    Args:
        alpha: α > 0.
        beta: β > 0.
        budget: N ≥ 0.

    Returns:
        ``exp(log_survival(α, β, N))``.
    """
    return jnp.exp(log_survival(alpha, beta, budget))


@eager_jit
def hit_at_n(alpha: ArrayLike, beta: ArrayLike, budget: ArrayLike) -> jax.Array:
    """The Beta law of hit@N (= pass@N = ASR@N): ``1 − B(α, β+N)/B(α, β)``, exact for every real N ≥ 0.

    Args:
        alpha: α > 0.
        beta: β > 0.
        budget: N ≥ 0.

    Returns:
        ``−expm1(log_survival(α, β, N))``.

    References:
        ../shared/specs/beta_binomial.md §1, §2.1; SABER Eq. 7.
    """
    return -jnp.expm1(log_survival(alpha, beta, budget))


@eager_jit
def log_marginal_gain(alpha: ArrayLike, beta: ArrayLike, budget: ArrayLike) -> jax.Array:
    """``log[hit@(N+1) − hit@N] = log E[θ(1−θ)^N] = log B(α+1, β+N) − log B(α, β)``.

    ``= log α + D(β, α) − D(β+N, α+1)`` with D the log-gamma ratio.

    Args:
        alpha: α > 0.
        beta: β > 0.
        budget: N ≥ 0.

    Returns:
        The log marginal gain of the (N+1)-th attempt (broadcast shape).

    References:
        ../shared/specs/saturation_and_selection.md §A.2 (ΔF(N)), averaged over θ ~ Beta(α, β).
    """
    alpha, beta, budget = jnp.asarray(alpha), jnp.asarray(beta), jnp.asarray(budget)
    return jnp.log(alpha) + log_gamma_ratio(beta, alpha) - log_gamma_ratio(beta + budget, alpha + 1.0)


@eager_jit
def marginal_gain(alpha: ArrayLike, beta: ArrayLike, budget: ArrayLike) -> jax.Array:
    """``E[θ(1−θ)^N] = B(α+1, β+N)/B(α, β)``, the gain of the (N+1)-th attempt (see :func:`log_marginal_gain`).

    Args:
        alpha: α > 0.
        beta: β > 0.
        budget: N ≥ 0.

    Returns:
        ``exp(log_marginal_gain(α, β, N))``.
    """
    return jnp.exp(log_marginal_gain(alpha, beta, budget))


@eager_jit
def log_leading_constant(alpha: ArrayLike, beta: ArrayLike) -> jax.Array:
    """``log L = log Γ(α+β) − log Γ(β)``, the constant of the power law ``1 − hit@N ≈ L·N^{−α}``.

    Args:
        alpha: α > 0.
        beta: β > 0.

    Returns:
        ``log L`` (broadcast shape).

    References:
        SABER Eq. 8; ../shared/specs/beta_binomial.md §2.1.
    """
    alpha, beta = jnp.asarray(alpha), jnp.asarray(beta)
    return lgamma(alpha + beta) - lgamma(beta)


@eager_jit(static_argnames="max_budget")
def log_survival_table(alpha: ArrayLike, beta: ArrayLike, max_budget: int) -> jax.Array:
    """``log E[(1−θ)^m]`` for the whole numbers m = 0..M on a new last axis, by the product recurrence.

    ``E[(1−θ)^{m+1}]/E[(1−θ)^m] = (β+m)/(α+β+m)``, so the table is a cumulative sum of
    ``log1p(−α/(α+β+j))`` (one pass for every m; equals :func:`log_survival` at whole N).

    Args:
        alpha: α > 0 (any batch shape, broadcast with β).
        beta: β > 0.
        max_budget: M, a Python int (the table length is M + 1).

    Returns:
        Array of shape ``batch + (M + 1,)``.
    """
    a, b = jnp.asarray(alpha), jnp.asarray(beta)
    j = jnp.arange(max_budget, dtype=jnp.float64)
    terms = jnp.log1p(-a[..., None] / (a[..., None] + b[..., None] + j))
    return jnp.concatenate([jnp.zeros(a.shape + (1,)), jnp.cumsum(terms, axis=-1)], axis=-1)


@eager_jit(static_argnames="max_budget")
def marginal_gain_table(alpha: ArrayLike, beta: ArrayLike, max_budget: int) -> jax.Array:
    """``E[θ(1−θ)^{m−1}]`` for m = 1..M on a new last axis: ``E[(1−θ)^{m−1}]·α/(α+β+m−1)``.

    Args:
        alpha: α > 0 (any batch shape, broadcast with β).
        beta: β > 0.
        max_budget: M, a Python int.

    Returns:
        Array of shape ``batch + (M,)``: the gain of the m-th attempt (= :func:`marginal_gain` at N = m − 1).
    """
    a, b = jnp.asarray(alpha), jnp.asarray(beta)
    log_s = log_survival_table(a, b, max_budget)[..., :-1]
    j = jnp.arange(max_budget, dtype=jnp.float64)
    return jnp.exp(log_s + jnp.log(a)[..., None] - jnp.log(a[..., None] + b[..., None] + j))


# --- budgets -----------------------------------------------------------------------------------------------

LOG_BUDGET_RANGE = (-30.0, 700.0)  # bisection bracket for log N (N up to ~1e304; beyond → inf)
LOG_BUDGET_STEPS = 80  # bracket width 730·2^-80: exact to rounding


@eager_jit
def budget(alpha: ArrayLike, beta: ArrayLike, tau: ArrayLike, pi: ArrayLike = 0.0) -> jax.Array:
    """Smallest real N with ``(1−π)·hit@N ≥ τ`` (bisection in log N); 0 for τ ≤ 0, ∞ when unreachable.

    ``(1−π)(1 − S(N)) ≥ τ ⟺ log S(N) ≤ log(1 − π − τ) − log(1 − π)``, S the Beta survival; bisection of
    ``log N`` over :data:`LOG_BUDGET_RANGE` (N beyond ~1e304, or τ ≥ 1 − π, give ∞).

    Args:
        alpha: α > 0.
        beta: β > 0.
        tau: target coverage τ in [0, 1].
        pi: zero-inflation mass π in [0, 1) of problems that never succeed (0: the plain Beta law).

    Returns:
        The budget N_τ (broadcast shape of the arguments).

    References:
        ../shared/specs/beta_binomial.md §2.1 (N_τ); SABER Eq. 16 (its closed-form approximations).
    """
    alpha, beta, tau, pi = (jnp.asarray(x) for x in (alpha, beta, tau, pi))
    target = jnp.log(jnp.maximum(1.0 - tau - pi, 0.0)) - jnp.log1p(-pi)
    lo0, hi0 = LOG_BUDGET_RANGE
    shape = jnp.broadcast_shapes(jnp.shape(alpha), jnp.shape(beta), jnp.shape(tau), jnp.shape(pi))

    def reached(log_n: jax.Array) -> jax.Array:
        return ~(log_survival(alpha, beta, jnp.exp(log_n)) > target)

    lo, hi = stats.bisect(reached, jnp.full(shape, lo0), jnp.full(shape, hi0), LOG_BUDGET_STEPS)
    n_tau = jnp.exp(0.5 * (lo + hi))
    unreachable = (tau >= 1.0 - pi) | (log_survival(alpha, beta, jnp.exp(hi0)) > target)
    return jnp.where(tau <= 0.0, 0.0, jnp.where(unreachable, jnp.inf, n_tau))


@eager_jit
def whole_budget(alpha: ArrayLike, beta: ArrayLike, tau: ArrayLike) -> jax.Array:
    """Smallest whole N with ``hit@N ≥ τ``, i.e. ``B(α, β+N)/B(α, β) ≤ 1 − τ`` (= ⌈:func:`budget`⌉ up to rounding).

    Integer bisection over [0, 2^52] (:func:`scaling_theory.stats.smallest_whole`).

    Args:
        alpha: α > 0.
        beta: β > 0.
        tau: target coverage τ in [0, 1).

    Returns:
        float64 whole numbers of the broadcast shape (0 for τ = 0, ∞ beyond 2^52).
    """
    alpha, beta, tau = jnp.broadcast_arrays(jnp.asarray(alpha), jnp.asarray(beta), jnp.asarray(tau))
    log_target = jnp.log1p(-tau)
    return stats.smallest_whole(
        lambda n: log_survival(alpha, beta, n) <= log_target, jnp.full_like(log_target, stats.WHOLE_MAX)
    )


@eager_jit(static_argnames="strict")
def saturation_point(alpha: ArrayLike, beta: ArrayLike, log_threshold: ArrayLike, strict: bool = True) -> jax.Array:
    """Smallest whole N with ``log E[θ(1−θ)^N] < log_threshold`` (``≤`` when not ``strict``).

    The marginal gain is strictly decreasing in N, so integer bisection over [0, 2^52] finds it exactly.

    Args:
        alpha: α > 0.
        beta: β > 0.
        log_threshold: ``log(ε·C)``, the log of the gain threshold.
        strict: ``<`` (True) or ``≤`` (False); a Python bool.

    Returns:
        float64 whole numbers of the broadcast shape (∞ beyond 2^52).

    References:
        ../shared/specs/saturation_and_selection.md §A.2, averaged over θ ~ Beta(α, β).
    """
    alpha, beta, log_threshold = jnp.broadcast_arrays(jnp.asarray(alpha), jnp.asarray(beta), jnp.asarray(log_threshold))

    def below(n: jax.Array) -> jax.Array:
        g = log_marginal_gain(alpha, beta, n)
        return g < log_threshold if strict else g <= log_threshold

    return stats.smallest_whole(below, jnp.full_like(log_threshold, stats.WHOLE_MAX))


# --- the Beta-binomial likelihood --------------------------------------------------------------------------


@eager_jit
def log_binom(n: ArrayLike, c: ArrayLike) -> jax.Array:
    """``log C(n, c)`` via log-gamma.

    Args:
        n: attempts.
        c: successes, 0 ≤ c ≤ n.

    Returns:
        The log binomial coefficient (broadcast shape).
    """
    n, c = jnp.asarray(n), jnp.asarray(c)
    return lgamma(n + 1.0) - lgamma(c + 1.0) - lgamma(n - c + 1.0)


@eager_jit
def log_kernel(c: ArrayLike, n: ArrayLike, alpha: ArrayLike, beta: ArrayLike) -> jax.Array:
    """The Beta-binomial likelihood without its binomial coefficient: ``log B(c+α, n−c+β) − log B(α, β)``.

    Args:
        c: successes.
        n: attempts.
        alpha: α > 0.
        beta: β > 0.

    Returns:
        The log kernel (broadcast shape) = log ∫ θ^c (1−θ)^(n−c) dBeta(α, β).

    Computed as ``[D(α, c) − D(α+β, c)] + log_survival(α+c, β, n−c)`` with ``D(x, h) = log Γ(x+h) − log Γ(x)``
    (:func:`scaling_theory.special.log_gamma_ratio_diff`): B(α+c, β)/B(α, β) times B(α+c, β+n−c)/B(α+c, β), no
    cancellation between large log-gammas (absolute error ~ machine epsilon × the result, not × log Γ(n)).

    References:
        SABER Eq. 9; ../shared/specs/beta_binomial.md §2.2.
    """
    c, n, alpha, beta = (jnp.asarray(x) for x in (c, n, alpha, beta))
    return log_gamma_ratio_diff(alpha, beta, c) + log_survival(alpha + c, beta, n - c)


@eager_jit
def logpmf(c: ArrayLike, n: ArrayLike, alpha: ArrayLike, beta: ArrayLike) -> jax.Array:
    """Beta-binomial ``log P(c | n, α, β) = log C(n, c) + log B(c+α, n−c+β) − log B(α, β)`` (= SciPy's betabinom).

    Args:
        c: successes.
        n: attempts.
        alpha: α > 0.
        beta: β > 0.

    Returns:
        The log-pmf (broadcast shape).

    References:
        ../shared/specs/beta_binomial.md §1.
    """
    return log_binom(n, c) + log_kernel(c, n, alpha, beta)


@eager_jit
def logpmf_zero_inflated(c: ArrayLike, n: ArrayLike, alpha: ArrayLike, beta: ArrayLike, pi: ArrayLike) -> jax.Array:
    """``log[π·1(c = 0) + (1−π)·BB(c | n, α, β)]``: a mass π of problems that never succeed (θ = 0).

    Args:
        c: successes.
        n: attempts.
        alpha: α > 0.
        beta: β > 0.
        pi: π in [0, 1).

    Returns:
        The zero-inflated log-pmf (broadcast shape).

    References:
        ../shared/specs/beta_binomial.md §2.1 (zero-inflated extension).
    """
    c, pi = jnp.asarray(c), jnp.asarray(pi)
    slab = jnp.log1p(-pi) + logpmf(c, n, alpha, beta)
    spike = jnp.where(c == 0, jnp.log(pi), -jnp.inf)
    return jnp.logaddexp(spike, slab)


def _mask(c: jax.Array, mask: ArrayLike | None) -> jax.Array:
    return jnp.ones_like(c) if mask is None else jnp.asarray(mask, jnp.float64)


@eager_jit
def loglik(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike, c: ArrayLike, mask: ArrayLike | None = None) -> jax.Array:
    """SABER Eq. 9: ``Σ_i m_i [log B(c_i+α, n_i−c_i+β) − log B(α, β)]`` over the last (problem) axis.

    Args:
        alpha: α > 0, shape = the batch shape ``n.shape[:-1]`` (or broadcastable to it).
        beta: β > 0, same.
        n: attempts, shape ``batch + (K,)``.
        c: successes, same shape.
        mask: optional 0/1 weights of real problems (padded arrays).

    Returns:
        The log-likelihood without binomial coefficients, batch shape.

    References:
        SABER Eq. 9; ../shared/specs/beta_binomial.md §2.2.
    """
    c = jnp.asarray(c)
    m = _mask(c, mask)
    a, b = jnp.asarray(alpha)[..., None], jnp.asarray(beta)[..., None]
    return jnp.sum(m * log_kernel(c, n, a, b), axis=-1)


@eager_jit
def log_moment_estimate(n: ArrayLike, c: ArrayLike, mask: ArrayLike | None = None) -> tuple[jax.Array, jax.Array]:
    """Method-of-moments (log α, log β) of one group's Beta law, from the overdispersion of c/n.

    Var(c/n) = μ(1−μ)[1/n + (1−1/n)ρ] with ρ = 1/(α+β+1) and μ = α/(α+β), solved for ρ with 1/n the mean of
    1/n_i over problems; the rates (c+½)/(n+1) keep μ inside (0, 1). ρ is clipped to [1e-4, 0.999] and α, β to
    a box, so the result is a finite start for the MLE even on degenerate data.

    Args:
        n: attempts, shape (K,) (one group: sums run over every axis).
        c: successes, same shape.
        mask: optional 0/1 weights of real problems.

    Returns:
        ``(log α, log β)`` scalars.

    References:
        ../shared/specs/beta_binomial.md §2.2 (starting values).
    """
    n, c = jnp.asarray(n), jnp.asarray(c)
    m = _mask(c, mask)
    w = m / jnp.maximum(jnp.sum(m), 1.0)
    p = (c + 0.5) / (n + 1.0)
    mu = jnp.clip(jnp.sum(w * p), 1e-6, 1 - 1e-6)
    var = jnp.sum(w * (p - mu) ** 2)
    inv_n = jnp.sum(w / n)
    rho = (var / (mu * (1 - mu)) - inv_n) / jnp.maximum(1.0 - inv_n, 1e-12)
    rho = jnp.clip(rho, 1e-4, 0.999)
    conc = 1.0 / rho - 1.0
    return jnp.log(jnp.clip(mu * conc, 1e-5, 1e5)), jnp.log(jnp.clip((1 - mu) * conc, 1e-5, 1e7))


class Pointwise(NamedTuple):
    """Per-problem Beta-binomial log-pmf and its first and second derivatives in (α, β)."""

    value: jax.Array  # log P(c | n, α, β) including log C(n, c)
    d_alpha: jax.Array  # ψ(c+α) − ψ(n+α+β) − ψ(α) + ψ(α+β)
    d_beta: jax.Array  # ψ(n−c+β) − ψ(n+α+β) − ψ(β) + ψ(α+β)
    d_alpha2: jax.Array  # ψ'(c+α) − ψ'(n+α+β) − ψ'(α) + ψ'(α+β)
    d_alpha_beta: jax.Array  # ψ'(α+β) − ψ'(n+α+β)
    d_beta2: jax.Array  # ψ'(n−c+β) − ψ'(n+α+β) − ψ'(β) + ψ'(α+β)


@eager_jit
def pointwise_derivatives(
    n: ArrayLike, c: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lbinom: ArrayLike | None = None
) -> Pointwise:
    """The log-pmf of each problem with its gradient and Hessian in (α, β), from one fused evaluation.

    log Γ, ψ and ψ' are each evaluated once on the concatenation of ``(c+α, n−c+β, n+α+β, α, β, α+β)``
    (a small compiled graph: the batched Newton MLE calls this inside a vmapped while-loop).

    Args:
        n: attempts, shape ``batch + (K,)`` (K problems on the last axis).
        c: successes, same shape.
        alpha: α > 0, the batch shape (scalar for one group).
        beta: β > 0, the batch shape.
        lbinom: ``log C(n, c)`` if already computed (else computed here).

    Returns:
        :class:`Pointwise` arrays of shape ``batch + (K,)``.

    References:
        ../shared/specs/beta_binomial.md §2.2 (digamma score, trigamma Hessian).
    """
    n, c, alpha, beta = (jnp.asarray(x) for x in (n, c, alpha, beta))
    lb = log_binom(n, c) if lbinom is None else jnp.asarray(lbinom)
    ab = alpha + beta
    a, b = alpha[..., None], beta[..., None]
    per = jnp.broadcast_arrays(c + a, n - c + b, n + ab[..., None])
    kk = per[0].shape[-1]
    const = jnp.stack(jnp.broadcast_arrays(alpha, beta, ab), -1)
    const = jnp.broadcast_to(const, per[0].shape[:-1] + (3,))
    args = jnp.concatenate([*per, const], axis=-1)
    lg, dg, tg = lgamma(args), digamma(args), trigamma(args)

    def split(x: jax.Array) -> tuple[jax.Array, ...]:
        s = x[..., 3 * kk :]
        return x[..., :kk], x[..., kk : 2 * kk], x[..., 2 * kk : 3 * kk], s[..., 0:1], s[..., 1:2], s[..., 2:3]

    lg_c, lg_nc, lg_n, lg_a, lg_b, lg_ab = split(lg)
    dg_c, dg_nc, dg_n, dg_a, dg_b, dg_ab = split(dg)
    tg_c, tg_nc, tg_n, tg_a, tg_b, tg_ab = split(tg)
    return Pointwise(
        value=lb + lg_c + lg_nc - lg_n - (lg_a + lg_b - lg_ab),
        d_alpha=dg_c - dg_n - dg_a + dg_ab,
        d_beta=dg_nc - dg_n - dg_b + dg_ab,
        d_alpha2=tg_c - tg_n - tg_a + tg_ab,
        d_alpha_beta=tg_ab - tg_n,
        d_beta2=tg_nc - tg_n - tg_b + tg_ab,
    )


@eager_jit
def score(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike, c: ArrayLike, mask: ArrayLike | None = None) -> jax.Array:
    """Gradient of :func:`loglik` in (α, β): ``Σ_i m_i [ψ(c_i+α) − ψ(n_i+α+β) − ψ(α) + ψ(α+β)]`` and the β analogue.

    Args:
        alpha: α > 0, batch shape.
        beta: β > 0, batch shape.
        n: attempts, ``batch + (K,)``.
        c: successes, same shape.
        mask: optional 0/1 weights of real problems.

    Returns:
        Array of shape ``batch + (2,)``.

    References:
        ../shared/specs/beta_binomial.md §2.2; SABER Eq. 10.
    """
    p = pointwise_derivatives(n, c, alpha, beta)
    m = _mask(p.value, mask)
    return jnp.stack([jnp.sum(m * p.d_alpha, axis=-1), jnp.sum(m * p.d_beta, axis=-1)], axis=-1)


@eager_jit
def hessian(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike, c: ArrayLike, mask: ArrayLike | None = None) -> jax.Array:
    """Hessian of :func:`loglik` in (α, β), from trigamma ψ' (see :class:`Pointwise`).

    Args:
        alpha: α > 0, batch shape.
        beta: β > 0, batch shape.
        n: attempts, ``batch + (K,)``.
        c: successes, same shape.
        mask: optional 0/1 weights of real problems.

    Returns:
        Array of shape ``batch + (2, 2)``.

    References:
        ../shared/specs/beta_binomial.md §2.2.
    """
    p = pointwise_derivatives(n, c, alpha, beta)
    m = _mask(p.value, mask)
    haa = jnp.sum(m * p.d_alpha2, axis=-1)
    hab = jnp.sum(m * p.d_alpha_beta, axis=-1)
    hbb = jnp.sum(m * p.d_beta2, axis=-1)
    return jnp.stack([jnp.stack([haa, hab], -1), jnp.stack([hab, hbb], -1)], -2)


@eager_jit(static_argnames="n")
def fisher_information(alpha: ArrayLike, beta: ArrayLike, n: int) -> jax.Array:
    """Expected information of one problem with ``n`` attempts: ``−Σ_c P(c)·H(c)``, summed exactly over c = 0..n.

    ``I11 = ψ'(α) − ψ'(α+β) + ψ'(n+α+β) − E[ψ'(c+α)]``, ``I22`` likewise with ``n−c+β``,
    ``I12 = ψ'(n+α+β) − ψ'(α+β)``, c ~ BetaBinomial(n, α, β). Over K problems the information is K times this.

    Args:
        alpha: scalar α > 0.
        beta: scalar β > 0.
        n: attempts per problem (a Python int).

    Returns:
        The 2×2 information matrix.

    References:
        ../shared/specs/beta_binomial.md §2.2.
    """
    cs = jnp.arange(int(n) + 1, dtype=jnp.float64)
    nn = jnp.full_like(cs, float(int(n)))
    p = pointwise_derivatives(nn, cs, alpha, beta)
    w = jnp.exp(p.value)
    i11 = -jnp.sum(w * p.d_alpha2)
    i12 = -jnp.sum(w * p.d_alpha_beta)
    i22 = -jnp.sum(w * p.d_beta2)
    return jnp.stack([jnp.stack([i11, i12]), jnp.stack([i12, i22])])
