"""The Beta law of pass@N / ASR@N: per-problem θ ~ Beta(α, β), attempts i.i.d. Bernoulli(θ) (spec §1, §2.1).

* :func:`asr_exact` — ``ASR@N = 1 − B(α, β+N)/B(α, β)`` (exact for every real N ≥ 0);
* :func:`asr_leading` — SABER Eq. 8, ``1 − L·N^{−α}`` with ``L = Γ(α+β)/Γ(β)`` (not clipped: it is
  negative for small N, spec §7(b));
* :func:`asr_corrected` — SABER Eq. 56, N replaced by ``N + β + (α−1)/2``;
* :func:`corrected_error_bound`, :func:`leading_error_bound` — the bounds of SABER App. B.1.5;
* :func:`asr_zero_inflated` — mass π of never-succeeding problems: ``(1−π)·ASR_exact@N``;
* :func:`budget_exact`, :func:`budget_leading`, :func:`budget_anchored` — the budget ``N_τ`` at which
  ASR reaches τ (exact by bisection in log N; SABER's closed forms of Eq. 16);
* :func:`hughes_params` — the Hughes form ``−log ASR@N ≈ a N^{−b}``: ``a = L``, ``b = α``.

All functions broadcast, run in float64 and are traceable (``jit``/``vmap``). They validate their
input and call the one copy of the Beta law in :mod:`scaling_theory.beta` (survival as a difference of
log-gamma *ratios*: relative error ~1e-15, where differences of ``jax.scipy.special.betaln`` values err
by up to 4e-7).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from scaling_theory import beta as _beta
from scaling_theory.beta import LOG_BUDGET_RANGE, log_leading_constant, log_survival
from scaling_theory.numerics import check, x64
from scaling_theory.passk.estimators import _as_f64 as _f64

__all__ = [
    "LOG_BUDGET_RANGE",
    "asr_corrected",
    "asr_exact",
    "asr_leading",
    "asr_zero_inflated",
    "budget_anchored",
    "budget_exact",
    "budget_leading",
    "corrected_error_bound",
    "hughes_params",
    "leading_error_bound",
    "log_leading_constant",
    "log_survival",
]


def _check_ab(alpha, beta) -> None:
    check(alpha > 0, "alpha must be > 0")
    check(beta > 0, "beta must be > 0")


@jax.jit
def _asr_power(alpha, beta, shift):
    return -jnp.expm1(log_leading_constant(alpha, beta) - alpha * jnp.log(shift))


@x64
def asr_exact(alpha, beta, budget):
    """ASR@N = 1 − B(α, β+N)/B(α, β), exact for every N ≥ 0 (spec §1), computed in log space."""
    alpha, beta, budget = _f64(alpha, beta, budget)
    return _beta.hit_at_n(alpha, beta, budget)


@x64
def asr_leading(alpha, beta, budget):
    """SABER Eq. 8: ``1 − Γ(α+β)/Γ(β) · N^{−α}`` (leading order in 1/N; unclipped)."""
    alpha, beta, budget = _f64(alpha, beta, budget)
    _check_ab(alpha, beta)
    check(budget > 0, "budget must be > 0 for the leading-order law")
    return _asr_power(alpha, beta, budget)


@x64
def asr_corrected(alpha, beta, budget):
    """SABER Eq. 56: ``1 − L·(N + β + (α−1)/2)^{−α}`` (the O(1/N) term cancelled; unclipped)."""
    alpha, beta, budget = _f64(alpha, beta, budget)
    _check_ab(alpha, beta)
    shift = budget + beta + (alpha - 1.0) / 2.0
    check(shift > 0, "budget + beta + (alpha-1)/2 must be > 0 for the corrected law")
    return _asr_power(alpha, beta, shift)


@x64
def corrected_error_bound(alpha, beta, budget):
    """SABER App. B.1.5: ``|ε_corr| ≤ |α(α+1)(α−1)|/24 · L · (N+d)^{−α−2}``, ``d = β + (α−1)/2``.

    This is the leading term of the error of :func:`asr_corrected`, not a strict bound (exceeded by up
    to ~23% for α ≈ 3, β = 0.3, N = 1; see the tests)."""
    return _corr_bound(*_f64(alpha, beta, budget))


@jax.jit
def _corr_bound(alpha, beta, budget):
    d = beta + (alpha - 1.0) / 2.0
    lead = jnp.exp(log_leading_constant(alpha, beta))
    return jnp.abs(alpha * (alpha + 1.0) * (alpha - 1.0)) / 24.0 * lead * (budget + d) ** (-alpha - 2.0)


@x64
def leading_error_bound(alpha, beta, budget):
    """SABER App. B.1.5: ``|ε_std| ≤ L·α·d·N^{−α−1} + |α(α+1)(α−1)|/24 · L · (N+d)^{−α−2}`` (d > 0)."""
    return _lead_bound(*_f64(alpha, beta, budget))


@jax.jit
def _lead_bound(alpha, beta, budget):
    d = beta + (alpha - 1.0) / 2.0
    lead = jnp.exp(log_leading_constant(alpha, beta))
    return lead * alpha * d * budget ** (-alpha - 1.0) + _corr_bound(alpha, beta, budget)


@x64
def asr_zero_inflated(alpha, beta, pi, budget):
    """Spike-and-slab law (SABER App. B.1.2, exact form): ``(1 − π)·(1 − B(α, β+N)/B(α, β))`` → 1 − π."""
    alpha, beta, pi, budget = _f64(alpha, beta, pi, budget)
    check((pi >= 0) & (pi <= 1), "pi must be in [0, 1]")
    return (1.0 - pi) * _beta.hit_at_n(alpha, beta, budget)


@x64
def hughes_params(alpha, beta):
    """The Hughes form ``−log ASR@N ≈ a·N^{−b}`` implied by the Beta law: ``a = Γ(α+β)/Γ(β)``, ``b = α``."""
    alpha, beta = _f64(alpha, beta)
    return jnp.exp(log_leading_constant(alpha, beta)), alpha


# ------------------------------------------------------------------------------------- budgets


@x64
def budget_exact(alpha, beta, tau, pi=0.0):
    """Smallest real N with ``(1−π)·ASR_exact@N ≥ τ`` (bisection in log N); ∞ when τ ≥ 1 − π."""
    alpha, beta, tau, pi = _f64(alpha, beta, tau, pi)
    _check_ab(alpha, beta)
    check((tau >= 0) & (tau <= 1), "tau must be in [0, 1]")
    check((pi >= 0) & (pi < 1), "pi must be in [0, 1)")
    return _beta.budget(alpha, beta, tau, pi)


@x64
def budget_leading(alpha, beta, tau):
    """Plug-in inverse of SABER Eq. 8: ``N_τ = (Γ(α+β) / ((1−τ)Γ(β)))^{1/α}`` (∞ for τ ≥ 1)."""
    alpha, beta, tau = _f64(alpha, beta, tau)
    _check_ab(alpha, beta)
    check((tau >= 0) & (tau <= 1), "tau must be in [0, 1]")
    n_tau = jnp.exp((log_leading_constant(alpha, beta) - jnp.log1p(-jnp.minimum(tau, 1.0 - 1e-300))) / alpha)
    return jnp.where(tau >= 1.0, jnp.inf, n_tau)


@x64
def budget_anchored(alpha, n, asr_n, tau):
    """SABER Eq. 16: ``N_τ = n·((1 − ASR@n)/(1 − τ))^{1/α}``; n if ASR@n ≥ τ; ∞ if τ ≥ 1 (as the code)."""
    alpha, n, asr_n, tau = _f64(alpha, n, asr_n, tau)
    check(alpha > 0, "alpha must be > 0")
    check(n > 0, "n must be > 0")
    check((asr_n >= 0) & (asr_n <= 1), "asr_n must be in [0, 1]")
    check((tau >= 0) & (tau <= 1), "tau must be in [0, 1]")
    safe_tau = jnp.minimum(tau, 0.5)
    safe_tau = jnp.where(tau >= 1.0, safe_tau, tau)
    n_tau = n * jnp.exp((jnp.log1p(-asr_n) - jnp.log1p(-safe_tau)) / alpha)
    return jnp.where(tau >= 1.0, jnp.inf, jnp.where(asr_n >= tau, n, n_tau))
