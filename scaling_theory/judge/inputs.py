"""Distribution over test inputs x ~ N(0, Σ) of (μ_T, m, s, μ_R) under the deterministic equivalent,
as a deterministic quadrature rule (nodes and weights), so that δ = E_x δ(x) is a weighted sum.

With the teacher wᵢ² = v in the eigenbasis of Σ and b_i, a_i the eigenvalues of B_R, A_R:
μ_T = Σ wᵢxᵢ/√d, the bias Δ = m − μ_T = −Σ bᵢwᵢxᵢ/√d, μ_R = μ_T − cΔ and s² = σ² + γ² q with
q = Σ bᵢxᵢ²/d. The pair (μ_T, Δ) is Gaussian; it is written with standardised coordinates
z = (z_b, z_⊥): Δ = σ_Δ z_b and μ_T = β σ_Δ z_b + σ_⊥ z_⊥ (z_⊥ is absent when σ_⊥ = 0, e.g. for
isotropic Σ, where everything is a multiple of μ_T). Given z, x has mean ΣGz and covariance Σ_c;
q = zᵀ(HᵀBH)z/d + q_res with H = ΣG, and the residual q_res (mean Tr(BΣ_c)/d, variance
2Tr((BΣ_c)²)/d²) is a moment-matched Gamma. For isotropic Σ this is exact (q_res ∝ χ²_{d−1});
otherwise it neglects the O(1/d) cross term 2μ_cᵀBe/d in q. Gauss–Hermite in z (using the symmetry
x → −x, under which δ(x) is invariant, to halve the nodes) and generalised Gauss–Laguerre in q_res.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling_theory.judge.deterministic import DeterministicEquivalent
from scaling_theory.judge.quadrature import gauss_gamma, gauss_hermite_normal
from scaling_theory.results import Result


@dataclass(frozen=True)
class InputQuadrature(Result):
    """Nodes of the test-input distribution: E_x f(μ_T, m, s, μ_R) ≈ Σ weight·f(node). Rows: one per node."""

    _index = ("node",)

    weight: np.ndarray
    teacher: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    reward: np.ndarray

    def __len__(self) -> int:
        return int(self.weight.shape[0])


def _symmetric_nodes(n: int, rank: int, scale0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite product nodes (N, rank) on the half-space z ≻ 0 with doubled weights.

    ``scale0`` stretches the first coordinate's rule (used for tilted integrands, see ``tilt``).
    """
    z, w = gauss_hermite_normal(n)
    if rank == 1:
        grid, wts = z[:, None] * scale0, w
    else:
        z1, z2 = np.meshgrid(z * scale0, z, indexing="ij")
        w12 = np.outer(w, w)
        grid, wts = np.stack([z1.ravel(), z2.ravel()], axis=1), w12.ravel()
    first = grid[:, 0]
    second = grid[:, 1] if rank == 2 else np.zeros_like(first)
    tol = 1e-12
    pos = (first > tol) | ((np.abs(first) <= tol) & (second > tol))
    origin = (np.abs(first) <= tol) & (np.abs(second) <= tol)
    keep = pos | origin
    return grid[keep], np.where(origin, 1.0, 2.0)[keep] * wts[keep]


def residual_nodes(rel_std: float, n_max: int = 8) -> int:
    """Residual (q_res) nodes: 1 when its relative std in s² is below 1e-3 (the Jensen gap is then
    ≲ 1e-7 relative in δ; 8.5e-9 measured at 4e-4 in the official finite-T setting), 2 (exact to
    cubic order) below 2e-2, else ``n_max``."""
    if rel_std < 1e-3:
        return 1
    if rel_std < 2e-2:
        return 2
    return n_max


def input_quadrature(
    de: DeterministicEquivalent, c: float = 0.0, n_gh: int = 32, n_res: int | None = None, tilt: float = 0.0
) -> InputQuadrature:
    """Quadrature over test inputs of (μ_T, m, s, μ_R) for reward misspecification ``c``.

    ``tilt`` ∈ [0, 1/2): the rule integrates φ(z_b)·e^{tilt z_b²}·f exactly-in-the-Gaussian-part
    by using nodes of N(0, 1/(1 − 2 tilt)) (for E_x e^{Δ²/s²}-type averages); weights include the
    factor, so the rule stays a rule for E_x f.
    """
    lam, bb = de.spectrum, de.b_diag
    d, v = de.d, de.teacher_scale
    w = np.full(d, np.sqrt(v))
    var_b = v * np.mean(lam * bb**2)
    cov_tb = -v * np.mean(lam * bb)
    var_t = v * np.mean(lam)
    sig_b = np.sqrt(var_b)
    beta = cov_tb / var_b
    var_perp = max(var_t - cov_tb**2 / var_b, 0.0)
    rank = 2 if var_perp > 1e-12 * var_t else 1
    sig_perp = np.sqrt(var_perp)
    # G: z = Gᵀ x (standardised coordinates), H = ΣG
    g_b = -(bb * w) / (np.sqrt(d) * sig_b)
    cols = [g_b]
    if rank == 2:
        cols.append((w + beta * bb * w) / (np.sqrt(d) * sig_perp))
    G = np.stack(cols, axis=1)
    H = lam[:, None] * G
    HBH = H.T @ (bb[:, None] * H)
    tr_bsc = float(np.sum(bb * lam) - np.trace(HBH))
    tr_bsc2 = float(np.sum((bb * lam) ** 2) - 2.0 * np.sum(bb**2 * lam * np.sum(H**2, axis=1)) + np.sum(HBH * HBH.T))
    res_mean, res_var = tr_bsc / d, max(2.0 * tr_bsc2 / d**2, 0.0)
    # nodes in z
    tau = 1.0 / np.sqrt(1.0 - 2.0 * tilt) if tilt > 0 else 1.0
    zs, wz = _symmetric_nodes(n_gh, rank, tau)
    if tilt > 0:  # φ(z)/φ_τ(z) = τ exp(−tilt z²) on the stretched coordinate
        wz = wz * tau * np.exp(-tilt * zs[:, 0] ** 2)
    shift = np.einsum("ni,ij,nj->n", zs, HBH, zs) / d
    # residual quadratic form
    s2_bar = de.sigma**2 + de.gamma**2 * (res_mean + float(np.mean(shift)))
    rel = de.gamma**2 * np.sqrt(res_var) / s2_bar
    n_r = n_res if n_res is not None else residual_nodes(rel)
    if res_var > 0 and res_mean > 0 and n_r > 1:
        shape = res_mean**2 / res_var
        g, wg = gauss_gamma(n_r, shape)
        q_res, w_res = g * (res_var / res_mean), wg
    else:
        q_res, w_res = np.array([res_mean]), np.array([1.0])
    # assemble the product rule
    delta = sig_b * zs[:, 0]
    teacher = beta * sig_b * zs[:, 0] + (sig_perp * zs[:, 1] if rank == 2 else 0.0)
    mean = teacher + delta
    reward = teacher - c * delta
    q = shift[:, None] + q_res[None, :]
    std = np.sqrt(de.sigma**2 + de.gamma**2 * q)
    weight = wz[:, None] * w_res[None, :]
    rep = lambda a: np.broadcast_to(a[:, None], q.shape).ravel()  # noqa: E731
    return InputQuadrature(weight.ravel(), rep(teacher), rep(mean), std.ravel(), rep(reward))
