"""Tables around a fit that ``scaling-theory fit`` prints: compute-optimal allocation with intervals, IsoFLOP budgets.

* :func:`allocation_table` — N*, D*, L*, D*/N* at each compute budget (``allocation.compute_optimal``),
  with ``level`` intervals of N* and D* over the draws of a bootstrap or posterior;
* :func:`isoflop_budgets` — each run's compute budget C = 6·N·D rounded to 3 significant digits (the
  IsoFLOP groups of Approach 2 when the table has no budget column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.results import Result

__all__ = ["AllocationTable", "allocation_table", "isoflop_budgets"]


@dataclass(frozen=True)
class AllocationTable(Result):
    """Compute-optimal allocation of a Chinchilla fit at budgets ``compute`` (FLOPs, (B,)): ``N`` (N*), ``D`` (D*),
    ``loss`` (L*) and ``tokens_per_param`` (D*/N*) at the fit, and the equal-tailed ``level`` intervals
    ``N_lo, N_hi, D_lo, D_hi`` of N* and D* over parameter draws (``None`` without draws).

    Rows: one per budget, columns ``C, N*, D*, loss*, D*/N*, N* lo, N* hi, D* lo, D* hi`` (the interval columns
    are ``None`` without draws).
    """

    _row_fields = ("compute", "N", "D", "loss", "tokens_per_param", "N_lo", "N_hi", "D_lo", "D_hi")
    _columns = {
        "compute": "C",
        "N": "N*",
        "D": "D*",
        "loss": "loss*",
        "tokens_per_param": "D*/N*",
        "N_lo": "N* lo",
        "N_hi": "N* hi",
        "D_lo": "D* lo",
        "D_hi": "D* hi",
    }

    compute: np.ndarray
    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    tokens_per_param: np.ndarray
    N_lo: np.ndarray | None = None
    N_hi: np.ndarray | None = None
    D_lo: np.ndarray | None = None
    D_hi: np.ndarray | None = None
    level: float | None = None


def allocation_table(
    params: Mapping[str, Any], draws: Any, budgets: Sequence[float], level: float = 0.95
) -> AllocationTable:
    """Compute-optimal N*, D*, loss and D*/N* of a Chinchilla fit at each budget C (FLOPs).

    Args:
      params: the fit's parameters (``FitResult.params``).
      draws: ``Draws`` of the parameters (bootstrap or posterior), or ``None`` for no intervals.
      budgets: compute budgets C in FLOPs.
      level: coverage of the equal-tailed intervals of N* and D* over the draws.

    Returns:
      :class:`AllocationTable`: one row per budget, ``C, N*, D*, loss*, D*/N*, N* lo, N* hi, D* lo, D* hi``.
    """
    from scaling_theory.fitting.allocation import compute_optimal

    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    compute = np.asarray(budgets, np.float64).reshape(-1)
    opt = compute_optimal(params, compute)
    if draws is None:
        return AllocationTable(compute, opt.N, opt.D, opt.loss, opt.tokens_per_param)
    band = compute_optimal(draws.params, compute[:, None])  # (B, draws)
    q = [(1 - level) / 2, (1 + level) / 2]
    (n_lo, n_hi), (d_lo, d_hi) = np.quantile(band.N, q, axis=-1), np.quantile(band.D, q, axis=-1)
    return AllocationTable(compute, opt.N, opt.D, opt.loss, opt.tokens_per_param, n_lo, n_hi, d_lo, d_hi, level)


def isoflop_budgets(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """C = 6·N·D per run, rounded to 3 significant digits so that runs of one IsoFLOP profile share it.

    Args:
      N: parameters per run; D: training tokens per run (same shape).

    Returns:
      The budgets, float64, same shape.
    """
    c = 6.0 * np.asarray(N, np.float64) * np.asarray(D, np.float64)
    return np.asarray([float(f"{v:.3g}") for v in c.ravel()]).reshape(c.shape)
