"""High-temperature expansion (H.T.E.) of the selection error, with exact finite-k coefficients.

With ε = 1/(2t) = s²/T, u = (y − μ_R)/s ~ N(α, 1), v = u², loss e = (u + ρ)² and weights
w = e^{−εv}, the softmax average A = ⟨w e⟩/⟨w⟩ over the k draws (⟨·⟩ = empirical mean) expands as

    A = E₀ + ε(E₀V₁ − E₁) + ε²(E₀V₁² − E₀V₂/2 − E₁V₁ + E₂/2)
          + ε³(E₀V₃/6 − E₀V₁V₂ + E₀V₁³ − E₁V₁² + E₁V₂/2 + E₂V₁/2 − E₃/6) + O(ε⁴),

E_j = ⟨v^j e⟩, V_j = ⟨v^j⟩. Expectations of products of empirical means of i.i.d. draws follow from
set partitions: E[⟨f₁⟩…⟨f_m⟩] = Σ_π (k)_{|π|} k^{−m} Π_{B∈π} E[Π_{j∈B} f_j] (falling factorial),
and the population moments are Gaussian moments of u. Orders 1 and 2 reproduce the paper's
coefficients, δ₂ = D − (1 − 1/k)C₁/t + (1 − 1/k)(1 − 2/k)C₂/t² (checked in the tests); the exact
third-order coefficient differs from the official code's (1 − 1/k)(1 − 2/k)(1 − 3/k)(s² + 2ab + 2a²)
at finite k (it agrees as k → ∞), which is kept as ``official_third_order`` for reproduction.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from scaling_theory.numerics import host, x64

# A term is (coefficient, factors); a factor (j, h) is the empirical mean ⟨v^j e^h⟩.
_ORDERS: tuple[tuple[tuple[float, tuple[tuple[int, int], ...]], ...], ...] = (
    ((1.0, ((0, 1),)),),
    ((1.0, ((0, 1), (1, 0))), (-1.0, ((1, 1),))),
    ((1.0, ((0, 1), (1, 0), (1, 0))), (-0.5, ((0, 1), (2, 0))), (-1.0, ((1, 1), (1, 0))), (0.5, ((2, 1),))),
    (
        (1.0 / 6.0, ((0, 1), (3, 0))),
        (-1.0, ((0, 1), (1, 0), (2, 0))),
        (1.0, ((0, 1), (1, 0), (1, 0), (1, 0))),
        (-1.0, ((1, 1), (1, 0), (1, 0))),
        (0.5, ((1, 1), (2, 0))),
        (0.5, ((2, 1), (1, 0))),
        (-1.0 / 6.0, ((3, 1),)),
    ),
)


@functools.cache
def _partitions(m: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """All set partitions of {0, …, m−1}."""
    if m == 0:
        return ((),)
    out = []
    for part in _partitions(m - 1):
        out.append(part + ((m - 1,),))
        for i in range(len(part)):
            out.append(part[:i] + (part[i] + (m - 1,),) + part[i + 1 :])
    return tuple(out)


def _poly_mul(p: Sequence[jax.Array], q: Sequence[jax.Array]) -> list[jax.Array]:
    out = [0.0 * p[0]] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] = out[i + j] + a * b
    return out


def _factor_poly(j: int, h: int, rho: jax.Array) -> list[jax.Array]:
    """Coefficients in u of v^j e^h = u^{2j} (u + ρ)^{2h}."""
    one, zero = jnp.ones_like(rho), jnp.zeros_like(rho)
    poly = [zero] * (2 * j) + [one]
    for _ in range(h):
        poly = _poly_mul(poly, [rho * rho, 2.0 * rho, one])
    return poly


def _gaussian_moments(alpha: jax.Array, n: int) -> list[jax.Array]:
    """E u^i for u ~ N(α, 1), i = 0..n (m_i = α m_{i−1} + (i−1) m_{i−2})."""
    m = [jnp.ones_like(alpha), alpha]
    for i in range(2, n + 1):
        m.append(alpha * m[i - 1] + (i - 1) * m[i - 2])
    return m[: n + 1]


def _falling(k: jax.Array, n: int) -> jax.Array:
    out = jnp.ones_like(k)
    for i in range(n):
        out = out * (k - i)
    return out


@x64
def expansion_coefficients(k: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3) -> list[np.ndarray]:
    """[c₀, …, c_order] with δ/s² = Σ_n c_n εⁿ + O(ε^{order+1}), ε = 1/(2t) (exact in k)."""
    return host(_expansion_coefficients(k, alpha, rho, order))


def _expansion_coefficients(k: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3) -> list[jax.Array]:
    """Traceable core of :func:`expansion_coefficients`."""
    k, alpha, rho = jnp.broadcast_arrays(*(jnp.asarray(v, jnp.float64) for v in (k, alpha, rho)))
    moments = _gaussian_moments(alpha, 2 * 3 + 2 + 2)
    cache: dict[tuple[tuple[int, int], ...], jax.Array] = {}

    def block_mean(factors: tuple[tuple[int, int], ...]) -> jax.Array:
        key = tuple(sorted(factors))
        if key not in cache:
            poly = [jnp.ones_like(alpha)]
            for j, h in key:
                poly = _poly_mul(poly, _factor_poly(j, h, rho))
            cache[key] = sum((c * moments[i] for i, c in enumerate(poly)), jnp.zeros_like(alpha))
        return cache[key]

    coeffs = []
    for terms in _ORDERS[: order + 1]:
        total = jnp.zeros_like(k)
        for coef, factors in terms:
            m = len(factors)
            expect = jnp.zeros_like(k)
            for part in _partitions(m):
                prod = _falling(k, len(part)) / k**m
                for block in part:
                    prod = prod * block_mean(tuple(factors[i] for i in block))
                expect = expect + prod
            total = total + coef * expect
        coeffs.append(total)
    return coeffs


@x64
def official_third_order(k: ArrayLike, alpha: ArrayLike, rho: ArrayLike) -> np.ndarray:
    """The official code's t⁻³ coefficient: −(1 − 1/k)(1 − 2/k)(1 − 3/k)(s² + 2ab + 2a²)/s²."""
    return host(_official_third_order(k, alpha, rho))


def _official_third_order(k: ArrayLike, alpha: ArrayLike, rho: ArrayLike) -> jax.Array:
    """Traceable core of :func:`official_third_order`."""
    k, alpha, rho = (jnp.asarray(v, jnp.float64) for v in (k, alpha, rho))
    a, b = alpha, alpha + rho
    return -(1.0 - 1.0 / k) * (1.0 - 2.0 / k) * (1.0 - 3.0 / k) * (1.0 + 2.0 * a * b + 2.0 * a * a)


@x64
def hte_series(
    k: ArrayLike, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3, official: bool = False
) -> np.ndarray:
    """δ/s² to ``order`` (1–3) in 1/t; ``official`` swaps in the official third-order term."""
    return host(_hte_series(k, t, alpha, rho, order, official))


def _hte_series(
    k: ArrayLike, t: ArrayLike, alpha: ArrayLike, rho: ArrayLike, order: int = 3, official: bool = False
) -> jax.Array:
    """Traceable core of :func:`hte_series`."""
    coeffs = _expansion_coefficients(k, alpha, rho, min(order, 2) if official else order)
    eps = 1.0 / (2.0 * jnp.asarray(t, jnp.float64))
    out = sum((c * eps**n for n, c in enumerate(coeffs)), jnp.zeros_like(eps))
    if official and order >= 3:
        out = out + _official_third_order(k, alpha, rho) / jnp.asarray(t, jnp.float64) ** 3
    return out
