"""Self-consistency saturation: per-question exponential decay in the margin, dataset-level power law.

Blend-ASC (arXiv 2511.12309, spec §E; formulas [derived] here, the paper's constants unconfirmed):

* per question with answer probabilities p(1) ≥ p(2) ≥ … and margin Δ = p(1) − p(2), majority vote over n
  samples misses the mode with probability ≤ (m − 1) exp(−n Δ²/2) (Hoeffding on each pairwise count
  difference, m candidate answers) — :func:`majority_error_bound`;
* if the margin density near 0 behaves like g(Δ) ∝ Δ^β, then E_Δ[exp(−n Δ²/2)] ∝ n^{−(β+1)/2}, so the
  dataset error approaches its limit as a power law Err(n) − Err(∞) ≈ C n^{−a}, a = (β + 1)/2 —
  :func:`margin_exponent`;
* :func:`fit_error_power_law` fits (C, a) by least squares in log–log space, with Err(∞) given or
  profiled over a grid below min Err(n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import host, x64
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v

ArrayLike = Any


@x64
def majority_error_bound(margin: ArrayLike, n: ArrayLike, num_answers: int = 2) -> np.ndarray:
    """Hoeffding bound P(MV_n ≠ mode) ≤ min(1, (m − 1) exp(−n Δ²/2))."""
    d = v.probability("margin", margin)
    n = v.count("n", n)
    m = v.int_arg("num_answers", num_answers, minimum=2)
    return host(jnp.minimum(1.0, (m - 1) * jnp.exp(-n * d**2 / 2.0)))


def margin_exponent(beta: float) -> float:
    """Power-law exponent a = (β + 1)/2 of Err(n) − Err(∞) for a margin density ∝ Δ^β near 0 (β > −1)."""
    if not beta > -1:
        raise InputError(f"beta must be > -1 (an integrable margin density), got {beta:g}")
    return (beta + 1.0) / 2.0


@dataclass(frozen=True)
class PowerLawFit(Result):
    """Err(n) − Err(∞) ≈ c n^{−a}: ``c``, ``a``, ``err_inf`` and the RMS residual in log space ``rmse_log``
    (0-d float64 NumPy arrays). Rows: one."""

    c: np.ndarray
    a: np.ndarray
    err_inf: np.ndarray
    rmse_log: np.ndarray


@x64
def fit_error_power_law(n: ArrayLike, err: ArrayLike, err_inf: float | None = None, grid: int = 400) -> PowerLawFit:
    """Least-squares fit of log(Err(n) − Err(∞)) = log c − a log n.

    With ``err_inf=None`` Err(∞) is profiled over ``grid`` values in [0, min Err(n)) and the best log-space
    fit is kept (the excess must stay positive at every n).
    """
    n = v.count("n", n, minimum=1)
    e = v.real("err", err)
    if n.ndim != 1 or n.shape != e.shape or n.size < 3:
        raise InputError("n and err must be 1-D of the same length >= 3")
    if err_inf is None:
        lo = float(jnp.min(e))
        cand = jnp.linspace(0.0, lo, grid + 1)[:-1] if lo > 0 else jnp.zeros(1)
    else:
        cand = jnp.atleast_1d(v.real("err_inf", err_inf))
        if bool(jnp.any(e <= cand[0])):
            raise InputError("err must exceed err_inf at every n")
    x = jnp.log(n)

    def one(e_inf: jnp.ndarray) -> jnp.ndarray:
        y = jnp.log(e - e_inf)
        xm, ym = x.mean(), y.mean()
        slope = jnp.sum((x - xm) * (y - ym)) / jnp.sum((x - xm) ** 2)
        icpt = ym - slope * xm
        rmse = jnp.sqrt(jnp.mean((y - icpt - slope * x) ** 2))
        return jnp.stack([jnp.exp(icpt), -slope, rmse])

    res = jax.vmap(one)(cand)
    i = jnp.argmin(res[:, 2])
    return PowerLawFit(np.asarray(res[i, 0]), np.asarray(res[i, 1]), np.asarray(cand[i]), np.asarray(res[i, 2]))
