"""Deterministic equivalents (DE) of the Bayesian-linear-regression posterior predictive.

Model (spec §1): x ~ N(0, Σ) in R^d, teacher y = w_T·x/√d + η, η ~ N(0, σ²), prior w ~ N(0, γ² I),
n training points, α = d/n. The DE of the posterior replaces the sample covariance by the
renormalised ridge R, solution of

    R = R̂ + (α/d) R Tr[Σ(Σ + R I)⁻¹],   R̂ = α σ²/γ²,

(isotropic Σ = S² I: the positive root of R = R̂ + α R S²/(S² + R), in closed form), and gives
A_R = Σ(Σ + R)⁻¹, B_R = R(Σ + R)⁻¹ = I − A_R, the predictive mean m(x) = (x/√d)ᵀ A_R w_T and
variance s²(x) = σ² + γ² (x/√d)ᵀ B_R (x/√d). Σ is given by its eigenvalues (``spectrum``) and is
diagonal in the coordinates used here.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from scaling_theory.numerics import check, x64
from scaling_theory.results import Result


@x64
def renormalized_ridge_isotropic(alpha: ArrayLike, r_hat: ArrayLike, S: ArrayLike = 1.0) -> jax.Array:
    """Closed-form R for Σ = S² I: R = (S²/2)[α + R̂/S² − 1 + √((α + R̂/S² − 1)² + 4R̂/S²)].

    Evaluated as the positive root of R² + pR − R̂S² = 0, p = S²(1 − α) − R̂, in the form without
    cancellation (2R̂S²/(p + √(p² + 4R̂S²)) when p > 0).
    """
    alpha, r_hat, S = (jnp.asarray(v, jnp.float64) for v in (alpha, r_hat, S))
    check((alpha > 0) & (r_hat > 0) & (S > 0), f"alpha={alpha}, r_hat={r_hat}, S={S}: must be > 0")
    s2 = S * S
    p = s2 * (1.0 - alpha) - r_hat
    root = jnp.sqrt(p * p + 4.0 * r_hat * s2)
    return jnp.where(p > 0, 2.0 * r_hat * s2 / (p + root), 0.5 * (root - p))


def ridge_fixed_point_residual(R: jax.Array, alpha: float, r_hat: float, spectrum: jax.Array) -> jax.Array:
    """R − R̂ − α R mean_i λ_i/(λ_i + R): zero at the renormalised ridge."""
    lam = jnp.asarray(spectrum, jnp.float64)
    return R - r_hat - alpha * R * jnp.mean(lam / (lam + R))


@x64
def renormalized_ridge(alpha: ArrayLike, r_hat: ArrayLike, spectrum: ArrayLike, iters: int = 60) -> jax.Array:
    """R for a general spectrum {λ_i}: the root of g(R) = R − α mean(λR/(λ + R)) = R̂.

    g is convex with g(0) = 0, so the positive root is unique; Newton from R₀ = R̂ + α mean(λ)
    (≥ the root, since λR/(λ + R) ≤ λ) decreases monotonically to it (quadratic convergence).
    """
    lam = jnp.asarray(spectrum, jnp.float64)
    check(jnp.all(lam > 0), "spectrum: eigenvalues must be > 0")
    alpha, r_hat = jnp.asarray(alpha, jnp.float64), jnp.asarray(r_hat, jnp.float64)

    def step(_: int, R: jax.Array) -> jax.Array:
        f = R - alpha * jnp.mean(lam * R / (lam + R)) - r_hat
        df = 1.0 - alpha * jnp.mean((lam / (lam + R)) ** 2)
        return jnp.maximum(R - f / df, 0.5 * R)

    return jax.lax.fori_loop(0, iters, step, r_hat + alpha * jnp.mean(lam))


def power_law_spectrum(d: int, exponent: float, scale: float = 1.0) -> np.ndarray:
    """Eigenvalues λ_i ∝ i^(−exponent), i = 1..d, normalised to mean ``scale`` (Tr Σ = d·scale)."""
    lam = np.arange(1, d + 1, dtype=np.float64) ** (-float(exponent))
    return lam * (scale / lam.mean())


@dataclass(frozen=True)
class DeterministicEquivalent(Result):
    """DE of the posterior for a spectrum {λ_i} (length d) and a teacher with wᵢ² = v in the
    eigenbasis (v = ``teacher_scale`` = |w_T|²/d). Arrays are NumPy float64. Rows: one per eigen-direction
    (``direction``) with its ``spectrum`` value and the scalars repeated."""

    _index = ("direction",)

    d: int
    n: int
    sigma: float
    gamma: float
    spectrum: np.ndarray
    teacher_scale: float
    R: float

    @property
    def alpha(self) -> float:
        """α = d/n."""
        return self.d / self.n

    @property
    def r_hat(self) -> float:
        """R̂ = α σ²/γ²."""
        return self.alpha * self.sigma**2 / self.gamma**2

    @property
    def a_diag(self) -> np.ndarray:
        """Eigenvalues of A_R = Σ(Σ + R)⁻¹."""
        return self.spectrum / (self.spectrum + self.R)

    @property
    def b_diag(self) -> np.ndarray:
        """Eigenvalues of B_R = R(Σ + R)⁻¹ = I − A_R."""
        return self.R / (self.spectrum + self.R)

    @property
    def mean_variance(self) -> float:
        """x-average of s²: s̄² = σ² + (γ²/d) Tr(B_R Σ)."""
        return self.sigma**2 + self.gamma**2 * float(np.mean(self.b_diag * self.spectrum))

    @property
    def bias_variance(self) -> float:
        """Var_x(Δ_T) = w_Tᵀ B_R Σ B_R w_T / d with wᵢ² = v: v·mean(λ b²) (Δ_T = m − μ_T)."""
        return self.teacher_scale * float(np.mean(self.spectrum * self.b_diag**2))

    def reward_weights(self, c: float) -> np.ndarray:
        """w_R/w_T componentwise for μ_R = μ_T − c(m − μ_T): w_R = (I + c B_R) w_T."""
        return 1.0 + c * self.b_diag


@x64
def deterministic_equivalent(
    d: int,
    n: int,
    sigma: float,
    gamma: float,
    S: float = 1.0,
    teacher_scale: float = 1.0,
    spectrum: np.ndarray | None = None,
) -> DeterministicEquivalent:
    """The DE for Σ = S² I (closed-form R) or Σ = diag(``spectrum``) (R from the implicit equation)."""
    alpha = d / n
    r_hat = alpha * sigma**2 / gamma**2
    if spectrum is None:
        lam = np.full(d, float(S) ** 2)
        R = float(renormalized_ridge_isotropic(alpha, r_hat, S))
    else:
        lam = np.asarray(spectrum, dtype=np.float64)
        R = float(renormalized_ridge(alpha, r_hat, lam))
    return DeterministicEquivalent(d, n, float(sigma), float(gamma), lam, float(teacher_scale), R)
