"""The Beta-binomial likelihood of per-problem counts and its derivatives (SABER Eq. 9–10, spec §2.2).

With θ_i ~ Beta(α, β) and k_i | θ_i ~ Binomial(n_i, θ_i), the marginal is
``P(k | n, α, β) = C(n, k) B(k+α, n−k+β)/B(α, β)``. This module gives

* :func:`logpmf` (with the binomial coefficient, = ``scipy.stats.betabinom.logpmf``) and
  :func:`logpmf_zero_inflated` (an extra mass π of problems with θ = 0);
* :func:`loglik` — SABER Eq. 9, ``Σ_i [log B(k_i+α, n_i−k_i+β) − log B(α, β)]`` (coefficients dropped),
  with an optional 0/1 ``mask`` for padded arrays;
* :func:`score`, :func:`hessian` — the analytic digamma / trigamma forms of spec §2.2;
* :func:`fisher_information` — the expected information per problem at fixed n, the expectations
  over k ~ BetaBinomial(n, α, β) taken exactly (a sum over k = 0..n; SABER's code uses Monte Carlo).

These are the float64 entry points of the one copy in :mod:`scaling_theory.beta` (the ``*_core`` names
are its traceable functions). All are traceable and broadcast over leading axes; the problem axis is the
last one.
"""

from __future__ import annotations

import jax.numpy as jnp

from scaling_theory import beta as _beta
from scaling_theory.beta import log_binom
from scaling_theory.numerics import x64

__all__ = [
    "fisher_information",
    "hessian",
    "log_binom",
    "loglik",
    "loglik_core",
    "logpmf",
    "logpmf_core",
    "logpmf_zero_inflated",
    "logpmf_zero_inflated_core",
    "score",
]


def _f64(*xs):
    return tuple(jnp.asarray(v, jnp.float64) for v in xs)


logpmf_core = _beta.logpmf
logpmf_zero_inflated_core = _beta.logpmf_zero_inflated
loglik_core = _beta.loglik


@x64
def logpmf(c, n, alpha, beta):
    """Beta-binomial log-pmf ``log C(n,k) + log B(k+α, n−k+β) − log B(α, β)`` (broadcasts)."""
    return _beta.logpmf(*_f64(c, n, alpha, beta))


@x64
def logpmf_zero_inflated(c, n, alpha, beta, pi):
    """Zero-inflated Beta-binomial log-pmf: a fraction π of problems never succeed (θ = 0)."""
    return _beta.logpmf_zero_inflated(*_f64(c, n, alpha, beta, pi))


@x64
def loglik(alpha, beta, n, c, mask=None):
    """SABER Eq. 9: ``ℓ(α, β) = Σ_i log B(k_i+α, n_i−k_i+β) − K log B(α, β)`` (binomial coefficients dropped)."""
    alpha, beta, n, c = _f64(alpha, beta, n, c)
    return _beta.loglik(alpha, beta, n, c, mask)


@x64
def score(alpha, beta, n, c, mask=None):
    """Spec §2.2: ``∂ℓ/∂α = Σ[ψ(k+α) − ψ(n+α+β)] − K[ψ(α) − ψ(α+β)]`` and the β analogue; shape (..., 2)."""
    alpha, beta, n, c = _f64(alpha, beta, n, c)
    return _beta.score(alpha, beta, n, c, mask)


@x64
def hessian(alpha, beta, n, c, mask=None):
    """Spec §2.2: the 2×2 Hessian of ℓ in (α, β) from trigamma ψ'; shape (..., 2, 2)."""
    alpha, beta, n, c = _f64(alpha, beta, n, c)
    return _beta.hessian(alpha, beta, n, c, mask)


@x64
def fisher_information(alpha, beta, n: int):
    """Expected information of one problem with ``n`` attempts (spec §2.2), expectations summed exactly.

    ``I11 = ψ'(α) − ψ'(α+β) + ψ'(n+α+β) − E[ψ'(k+α)]``, ``I22`` likewise with ``n−k+β``,
    ``I12 = ψ'(n+α+β) − ψ'(α+β)``; k ~ BetaBinomial(n, α, β). Scalar α, β; returns a 2×2 array.
    Over K problems the information is K times this; ``Var(α̂) ≈ [I⁻¹]₁₁ / K``.
    """
    alpha, beta = _f64(alpha, beta)
    return _beta.fisher_information(alpha, beta, n)
