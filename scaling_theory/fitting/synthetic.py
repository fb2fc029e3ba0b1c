"""Synthetic Chinchilla-style training runs with known parameters (for recovery studies and benchmarks).

Design (an IsoFLOP study in the manner of Hoffmann et al. 2022, Approach 2): for each compute
budget C, model sizes N log-spaced over [N*(C)/spread, N*(C)·spread] around the compute-optimal size
of the true law, D = C/(6N). Losses are L(N, D)·exp(ε) with ε ~ Normal(0, σ²) (multiplicative,
i.e. additive on the log scale where the fit's residuals live).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.fitting.allocation import FLOPS_PER_PARAM_TOKEN, compute_optimal
from scaling_theory.fitting.laws import CHINCHILLA
from scaling_theory.numerics import check, x64

# Hoffmann et al. (2022), Eq. 10 / App. D.2 (their rounded values).
HOFFMANN = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28}
# Besiroglu et al. (2024), "Chinchilla Scaling: A replication attempt", Table 1 (their refit).
BESIROGLU = {"A": 482.01, "B": 2085.43, "E": 1.8172, "alpha": 0.3478, "beta": 0.3658}
BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)


def isoflop_design(
    params: Mapping[str, float] = BESIROGLU,
    budgets: Any = BUDGETS,
    per_budget: int = 27,
    spread: float = 8.0,
) -> dict[str, np.ndarray]:
    """``{"N", "D", "C"}`` for ``per_budget`` model sizes at each compute budget (C = 6 N D)."""
    check(per_budget >= 1, f"per_budget must be >= 1, got {per_budget}")
    check(spread >= 1, f"spread must be >= 1, got {spread}")
    C = np.repeat(np.asarray(budgets, np.float64), per_budget)
    n_opt = compute_optimal(params, np.asarray(budgets, np.float64)).N
    u = np.linspace(-1.0, 1.0, per_budget) if per_budget > 1 else np.zeros(1)
    N = (n_opt[:, None] * spread ** u[None, :]).reshape(-1)
    return {"N": N, "D": C / (FLOPS_PER_PARAM_TOKEN * N), "C": C}


@x64
def simulate_losses(
    params: Mapping[str, float], N: Any, D: Any, sigma: float, key: Any, n_sets: int | None = None
) -> np.ndarray:
    """L(N, D)·exp(ε), ε ~ Normal(0, σ²) i.i.d.; ``n_sets`` independent data sets → n_sets × n."""
    check(sigma >= 0, f"sigma must be >= 0, got {sigma}")
    x = {"N": np.asarray(N, np.float64), "D": np.asarray(D, np.float64)}
    log_l = np.log(CHINCHILLA.predict(params, x))
    shape = (x["N"].size,) if n_sets is None else (n_sets, x["N"].size)
    eps = sigma * jax.random.normal(key, shape, jnp.float64)
    return np.exp(log_l + np.asarray(eps))
