"""Fixed quadrature rules (NumPy, cached) used by the deterministic integrals of this area.

Nodes are computed once on the host in float64 and enter the JAX graphs as constants, so node
counts are static (jit-friendly) while the integration intervals may depend on traced values.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special


@functools.cache
def gauss_legendre_unit(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss–Legendre rule on [0, 1]: ∫₀¹ f ≈ Σ wⱼ f(τⱼ), weights summing to 1."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


@functools.cache
def composite_unit(panels: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss–Legendre rule on [0, 1]: ``panels`` equal panels of ``order`` nodes each."""
    tau, w = gauss_legendre_unit(order)
    edges = np.arange(panels)[:, None]
    nodes = ((edges + tau[None, :]) / panels).ravel()
    weights = np.broadcast_to(w[None, :] / panels, (panels, order)).ravel()
    return nodes, weights.copy()


@functools.cache
def gauss_hermite_normal(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss–Hermite rule for the standard normal: E f(Z) ≈ Σ wⱼ f(zⱼ), Z ~ N(0, 1)."""
    x, w = special.roots_hermitenorm(n)
    return x, w / np.sqrt(2.0 * np.pi)


@functools.cache
def gauss_gamma(n: int, shape: float) -> tuple[np.ndarray, np.ndarray]:
    """n-point generalised Gauss–Laguerre rule for G ~ Gamma(shape, 1): E f(G) ≈ Σ wⱼ f(gⱼ).

    For large ``shape`` (where Golub–Welsch on the Laguerre weight loses accuracy) the rule is the
    Gauss–Hermite rule of the Wilson–Hilferty cube-root normal approximation, which is accurate to
    O(shape^-1) in distribution and exact in the mean after renormalisation.
    """
    if n == 1:
        return np.array([shape]), np.array([1.0])
    if shape <= 200.0:
        x, w = special.roots_genlaguerre(n, shape - 1.0)
        return x, w / np.exp(special.gammaln(shape))
    z, w = gauss_hermite_normal(n)
    c = 1.0 / (9.0 * shape)
    x = shape * (1.0 - c + z * np.sqrt(c)) ** 3
    x = x * shape / np.sum(w * x)  # exact mean
    return x, w
