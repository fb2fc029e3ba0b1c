"""Tables around a fit that ``scaling-theory fit`` prints: compute-optimal allocation with intervals, IsoFLOP budgets.

* :func:`allocation_table` — N*, D*, L*, D*/N* at each compute budget (``allocation.compute_optimal``),
  with ``level`` intervals of N* and D* over the draws of a bootstrap or posterior;
* :func:`isoflop_budgets` — each run's compute budget C = 6·N·D rounded to 3 significant digits (the
  IsoFLOP groups of Approach 2 when the table has no budget column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["allocation_table", "isoflop_budgets"]


def allocation_table(
    params: Mapping[str, Any], draws: Any, budgets: Sequence[float], level: float = 0.95
) -> list[dict[str, Any]]:
    """Compute-optimal N*, D*, loss and D*/N* of a Chinchilla fit at each budget C (FLOPs).

    Args:
      params: the fit's parameters (``FitResult.params``).
      draws: ``Draws`` of the parameters (bootstrap or posterior), or ``None`` for no intervals.
      budgets: compute budgets C in FLOPs.
      level: coverage of the equal-tailed intervals of N* and D* over the draws.

    Returns:
      One row per budget: ``C, N*, D*, loss*, D*/N*`` [+ ``N* lo, N* hi, D* lo, D* hi``].
    """
    from scaling_theory.fitting.allocation import compute_optimal

    opt = compute_optimal(params, np.asarray(budgets))
    rows = []
    q = [(1 - level) / 2, (1 + level) / 2]
    band = compute_optimal(draws.params, np.asarray(budgets)[:, None]) if draws is not None else None
    for j, c in enumerate(budgets):
        row = {
            "C": c,
            "N*": float(opt.N[j]),
            "D*": float(opt.D[j]),
            "loss*": float(opt.loss[j]),
            "D*/N*": float(opt.tokens_per_param[j]),
        }
        if band is not None:
            row["N* lo"], row["N* hi"] = (float(v) for v in np.quantile(band.N[j], q))
            row["D* lo"], row["D* hi"] = (float(v) for v in np.quantile(band.D[j], q))
        rows.append(row)
    return rows


def isoflop_budgets(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    """C = 6·N·D per run, rounded to 3 significant digits so that runs of one IsoFLOP profile share it.

    Args:
      N: parameters per run; D: training tokens per run (same shape).

    Returns:
      The budgets, float64, same shape.
    """
    c = 6.0 * np.asarray(N, np.float64) * np.asarray(D, np.float64)
    return np.asarray([float(f"{v:.3g}") for v in c.ravel()]).reshape(c.shape)
