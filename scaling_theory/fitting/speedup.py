"""Effective compute speed-up between two fitted pinned-asymptote curves L∞ + A·C^(−α).

Curve 2 is k× "more compute-efficient" than curve 1 at budget C if it reaches curve 1's loss
L₁(C) with C/k compute. With L_i(C) = L∞ + A_i C^(−α_i) and the same pinned L∞:

    C₂(L) = (A₂ / (L − L∞))^(1/α₂),   speed-up(C) = C / C₂(L₁(C))
          = C · (A₁ C^(−α₁) / A₂)^(1/α₂),

a constant (A₁/A₂)^(1/α) when α₁ = α₂ = α. Pinning L∞ (instead of fitting it per curve) is what
makes the two curves comparable: a free asymptote trades off against A and α.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scaling_theory.numerics import check


def compute_to_reach(params: Mapping[str, Any], l_inf: float, loss: Any) -> np.ndarray:
    """The compute C at which L∞ + A·C^(−α) equals ``loss`` (> L∞): (A/(loss − L∞))^(1/α)."""
    A, alpha = np.asarray(params["A"], float), np.asarray(params["alpha"], float)
    gap = np.asarray(loss, float) - l_inf
    check(gap > 0, "the loss level must lie above the pinned asymptote")
    check(alpha > 0, "alpha must be positive to invert the curve")
    return np.exp((np.log(A) - np.log(gap)) / alpha)


def effective_speedup(
    params_1: Mapping[str, Any], params_2: Mapping[str, Any], compute: Any, l_inf: float | None = None
) -> np.ndarray:
    """Speed-up of curve 2 over curve 1 at budgets ``compute``: C / C₂(L₁(C)) (> 1: curve 2 is cheaper).

    Args:
      params_1, params_2: ``{"A", "alpha"}`` of the two fitted pinned-asymptote laws (floats or
        arrays of draws, e.g. bootstrap, broadcasting against ``compute``).
      compute: budgets C (> 0).
      l_inf: the shared pinned asymptote (only its equality matters; the formula does not use it).
    Returns:
      The speed-up factor at each budget.
    """
    C = np.asarray(compute, float)
    check(C > 0, "compute must be positive")
    A1, a1 = np.asarray(params_1["A"], float), np.asarray(params_1["alpha"], float)
    A2, a2 = np.asarray(params_2["A"], float), np.asarray(params_2["alpha"], float)
    check(a2 > 0, "alpha of curve 2 must be positive")
    log_gap = np.log(A1) - a1 * np.log(C)  # log(L₁(C) − L∞)
    log_c2 = (np.log(A2) - log_gap) / a2
    return np.exp(np.log(C) - log_c2)
