"""IsoFLOP Approach 2 (Hoffmann et al. 2022, §3.2): a parabola per compute budget, then power laws.

For each compute budget C (runs with C = 6ND on one IsoFLOP profile) the loss is fitted by least
squares with a parabola in u = log N, ``L ≈ p₀ + p₁u + p₂u²``; its vertex u* = −p₁/(2p₂) gives
N*(C) = e^{u*} and D*(C) = C/(6N*). Least squares of log N* and log D* on log C over the budgets
then give N*(C) = G_N C^a and D*(C) = G_D C^b (a + b = 1 under C = 6ND).

The parabola is only a local approximation of the IsoFLOP profile. Under the Chinchilla law the
profile is ``E + A e^(−αu) + B (C/6)^(−β) e^(βu)``: symmetric in u about its minimum only when
α = β. With α ≠ β the fitted vertex is off the true minimum even **without noise** (Open-Athena,
*scaling-law-analysis*, "Problems with Chinchilla Approach 2"), and the error grows with the width of
the sampled range and compounds when N*(C) is extrapolated to large budgets (see
``experiments/fitting_methods.py``, docs/fitting.md).

Budgets whose parabola opens downwards (p₂ ≤ 0, noise) or that have fewer than 3 distinct sizes are
skipped and listed in ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.fitting.allocation import FLOPS_PER_PARAM_TOKEN
from scaling_theory.results import Result
from scaling_theory.stats import weighted_loglog_fit


@dataclass(frozen=True)
class Approach2Result(Result):
    """Per-budget optima and the fitted power laws N*(C) = exp(log_g_n)·C^a, D*(C) = exp(log_g_d)·C^b.

    ``curvature`` is p₂ of each budget's parabola (in L per (log N)²); ``skipped`` the budgets left out.
    Rows: one per kept budget, ``budget, n_opt, d_opt, loss_opt, curvature`` and the power laws' ``a, b,
    log_g_n, log_g_d``.
    """

    _row_fields = ("budgets", "n_opt", "d_opt", "loss_opt", "curvature", "a", "b", "log_g_n", "log_g_d")
    _index = ("budgets",)
    _columns = {"budgets": "budget"}

    budgets: np.ndarray
    n_opt: np.ndarray
    d_opt: np.ndarray
    loss_opt: np.ndarray
    curvature: np.ndarray
    a: float
    b: float
    log_g_n: float
    log_g_d: float
    skipped: tuple[float, ...]

    def n_star(self, compute: Any) -> np.ndarray:
        """N*(C) from the fitted power law."""
        return np.exp(self.log_g_n + self.a * np.log(np.asarray(compute, np.float64)))

    def d_star(self, compute: Any) -> np.ndarray:
        """D*(C) from the fitted power law."""
        return np.exp(self.log_g_d + self.b * np.log(np.asarray(compute, np.float64)))

    def summary(self) -> dict[str, Any]:
        """JSON view for printing: the exponents, the prefactors G_N, G_D, the budgets used and skipped."""
        return {
            "method": "approach2",
            "a": self.a,
            "b": self.b,
            "G_N": float(np.exp(self.log_g_n)),
            "G_D": float(np.exp(self.log_g_d)),
            "n_budgets": int(self.budgets.size),
            "skipped_budgets": list(self.skipped),
        }


def parabola_vertices(
    u: np.ndarray, y: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares parabola y ≈ p₀ + p₁u + p₂u² per group (vectorised normal equations, centred u).

    Returns:
      (groups, vertex u*, value at the vertex, p₂); u* is NaN where p₂ ≤ 0 or a group has < 3 distinct u.
    """
    keys, inv = np.unique(group, return_inverse=True)
    G = keys.size
    counts = np.bincount(inv, minlength=G).astype(float)
    centre = np.bincount(inv, u, G) / counts
    v = u - centre[inv]  # centred for conditioning
    moments = np.stack([np.bincount(inv, v**k, G) for k in range(5)], axis=1)  # Σ v^k, k = 0..4
    rhs = np.stack([np.bincount(inv, y * v**k, G) for k in range(3)], axis=1)
    M = np.stack([moments[:, i : i + 3] for i in range(3)], axis=1)  # G × 3 × 3 Hankel
    distinct = np.array([np.unique(u[inv == g]).size for g in range(G)])
    ok = distinct >= 3
    p = np.full((G, 3), np.nan)
    p[ok] = np.linalg.solve(M[ok], rhs[ok][..., None])[..., 0]
    curv = p[:, 2]
    good = ok & (curv > 0)
    vertex = np.where(good, -p[:, 1] / (2 * np.where(good, curv, 1.0)), np.nan)
    value = np.where(good, p[:, 0] + p[:, 1] * vertex + curv * vertex**2, np.nan)
    return keys, vertex + centre, value, curv


def approach2(N: Any, C: Any, L: Any, *, flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN) -> Approach2Result:
    """Chinchilla Approach 2 on IsoFLOP runs: per-budget parabola vertex, then N*, D* power laws.

    Args:
      N: parameters of each run; C: its compute budget (runs of one budget share the same value);
      L: its final loss.
      flops_per_param_token: the 6 of C = 6ND (D* = C/(6 N*)).
    Returns:
      :class:`Approach2Result`.
    References:
      Hoffmann et al. (2022), *Training compute-optimal large language models*, §3.2 and Fig. 3.
    """
    N, C, L = (np.asarray(v, np.float64).reshape(-1) for v in (N, C, L))
    if not (N.size == C.size == L.size):
        raise InputError(f"approach2: N, C and L must have the same length, got {N.size}, {C.size}, {L.size}")
    for name, v in (("N", N), ("C", C), ("L", L)):
        if not np.all(np.isfinite(v)):
            raise InputError(f"approach2: {name} has a value that is not finite")
        if name != "L" and np.any(v <= 0):
            raise InputError(f"approach2: {name} must be positive")
    budgets, vertex, value, curv = parabola_vertices(np.log(N), L, C)
    good = np.isfinite(vertex)
    skipped = tuple(float(c) for c in budgets[~good])
    if good.sum() < 2:
        raise InputError(
            f"approach2: need at least 2 budgets with an upward parabola (3+ sizes each), got {int(good.sum())}"
        )
    lc = np.log(budgets[good])
    log_n = vertex[good]
    log_d = lc - np.log(flops_per_param_token) - log_n
    a, log_g_n = weighted_loglog_fit(lc, log_n)
    b, log_g_d = weighted_loglog_fit(lc, log_d)
    return Approach2Result(
        budgets=budgets[good],
        n_opt=np.exp(log_n),
        d_opt=np.exp(log_d),
        loss_opt=value[good],
        curvature=curv[good],
        a=float(a),
        b=float(b),
        log_g_n=float(log_g_n),
        log_g_d=float(log_g_d),
        skipped=skipped,
    )
