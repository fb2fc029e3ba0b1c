"""Groups without a single success (or without a single failure): an honest answer instead of an error.

With k_i = 0 for every problem no mixture model has a finite maximum-likelihood fit, and no extrapolation
can be checked, but the data still bound the answer without any model:

* **no success** (flag ``no_success``): the chance of seeing no success at all is
  Π_i (1 − θ_i)^{n_i} ≤ exp(−n_min Σ_i θ_i) = exp(−n_min K θ̄), whatever the θ_i are, so
  θ̄ ≤ −log(1 − level)/(n_min K) with confidence ``level``; since 1 − (1 − θ)^N ≤ Nθ, pass@N ≤ N θ̄.
  Estimate 0 (nothing observed), one-sided interval [0, min(1, N·(−log(1 − level))/(n_min K))].
  For a stopped log the same bound holds for the N − n_min further attempts of the continued campaign.
* **every attempt a success** (flag ``all_success``): by the same argument on 1 − θ,
  1 − θ̄ ≤ −log(1 − level)/(n_min K), and pass@N ≥ pass@1 = θ̄: estimate 1, interval
  [max(0, 1 − (−log(1 − level))/(n_min K)), 1].

``passk fit`` reports the same bound on the mean success probability θ̄ (= α/(α + β) under a Beta law)
in its ``mean_bound`` column for such a group (upper bound for ``no_success``, lower bound for
``all_success``; :func:`mean_bound`), and no (α, β).

These are distribution-free (a "rule of three"-type bound, Hanley & Lippman-Hand 1983, applied to the
mean success probability); they do not assume a Beta or any other law.
"""

from __future__ import annotations

import numpy as np

NO_SUCCESS = "no_success"
ALL_SUCCESS = "all_success"


def degenerate_flags(n, c, mask) -> np.ndarray:
    """Per group: ``"no_success"``, ``"all_success"`` or ``""``: (G, K) → (G,) strings."""
    n, c, mask = (np.asarray(x, np.float64) for x in (n, c, mask))
    live = mask > 0
    none = np.all(~live | (c == 0), axis=-1)
    every = np.all(~live | (c == n), axis=-1)
    return np.where(none, NO_SUCCESS, np.where(every, ALL_SUCCESS, ""))


def mean_bound(n, c, mask, level: float = 0.9) -> np.ndarray:
    """One-sided ``level`` bound on the mean success probability θ̄ of degenerate groups.

    Args:
      n, c, mask: counts and mask (G, K).
      level: confidence of the bound.

    Returns:
      (G,) array: the upper bound −log(1 − level)/(n_min K) on θ̄ for ``no_success`` groups, the lower bound
      1 − −log(1 − level)/(n_min K) for ``all_success`` groups (clipped to [0, 1]), NaN for the others.
    """
    n, c, mask = (np.asarray(x, np.float64) for x in (n, c, mask))
    flags = degenerate_flags(n, c, mask)
    eps = _eps(n, mask, level)
    return np.where(
        flags == NO_SUCCESS, np.minimum(1.0, eps), np.where(flags == ALL_SUCCESS, np.maximum(0.0, 1.0 - eps), np.nan)
    )


def _eps(n, mask, level):
    """−log(1 − level)/(n_min K) per group: the bound on θ̄ (or 1 − θ̄) of a degenerate group."""
    live = mask > 0
    n_min = np.min(np.where(live, n, np.inf), axis=-1)
    return -np.log1p(-level) / (n_min * live.sum(axis=-1))


def bound_prediction(n, c, mask, budgets, level: float = 0.9, stopped: bool = False):
    """Estimate and one-sided ``level`` interval for degenerate groups (see the module docstring).

    Args:
      n, c, mask: counts and mask (G, K).
      budgets: budgets N (B,).
      level: confidence of the one-sided bound.
      stopped: the log stops at the first success (bound on the N − n_min further attempts).

    Returns:
      ``(asr, lower, upper)`` arrays (G, B); rows of non-degenerate groups are NaN.
    """
    n, c, mask = (np.asarray(x, np.float64) for x in (n, c, mask))
    b = np.asarray(budgets, np.float64)[None, :]
    flags = degenerate_flags(n, c, mask)
    live = mask > 0
    n_min = np.min(np.where(live, n, np.inf), axis=-1)[:, None]
    eps = _eps(n, mask, level)[:, None]  # bound on θ̄ (or 1 − θ̄)
    further = np.maximum(b - n_min, 0.0) if stopped else b
    nan = np.full((n.shape[0], b.shape[1]), np.nan)
    none = (flags == NO_SUCCESS)[:, None]
    every = (flags == ALL_SUCCESS)[:, None]
    asr = np.where(none, 0.0, np.where(every, 1.0, nan))
    lower = np.where(none, 0.0, np.where(every, np.maximum(0.0, 1.0 - eps), nan))
    upper = np.where(none, np.minimum(1.0, further * eps), np.where(every, 1.0, nan))
    return asr, lower, upper
