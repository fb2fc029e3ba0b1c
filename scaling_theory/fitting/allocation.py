"""Compute-optimal allocation for the Chinchilla law L(N, D) = E + A N^−α + B D^−β under C = 6 N D.

Minimising L(N, C/(6N)) over N (Hoffmann et al. 2022, App. D.2, Eq. 4):

    N*(C) = G (C/6)^(β/(α+β)),   D*(C) = G⁻¹ (C/6)^(α/(α+β)),   G = (α A / (β B))^(1/(α+β)),

so N* ∝ C^a and D* ∝ C^b with a = β/(α+β), b = α/(α+β), a + b = 1. Evaluated in log space and
vectorised over budgets and over parameter draws (e.g. bootstrap), for intervals on N*, D*, L*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

from scaling_theory.numerics import check, x64
from scaling_theory.results import Result

FLOPS_PER_PARAM_TOKEN = 6.0


@dataclass(frozen=True)
class ComputeOptimal(Result):
    """Compute-optimal allocation at budgets ``compute`` (FLOPs): ``N`` (parameters), ``D`` (tokens),
    ``loss`` L(N*, D*), ``tokens_per_param`` D*/N*, and the exponents ``a = β/(α+β)``, ``b = α/(α+β)``
    of N* ∝ C^a, D* ∝ C^b. Arrays broadcast the parameters' shape (e.g. draws) against the budgets'.

    Rows: one per element of the broadcast shape, columns ``compute, N, D, loss, tokens_per_param, a, b``.
    """

    compute: np.ndarray
    N: np.ndarray
    D: np.ndarray
    loss: np.ndarray
    tokens_per_param: np.ndarray
    a: np.ndarray
    b: np.ndarray


@x64
def compute_optimal(
    params: Mapping[str, Any], compute: Any, flops_per_param_token: float = FLOPS_PER_PARAM_TOKEN
) -> ComputeOptimal:
    """N*, D*, the loss L(N*, D*) and tokens per parameter D*/N* for budgets ``compute`` (FLOPs).

    ``params`` holds A, B, E, alpha, beta (floats, or arrays of draws broadcasting against
    ``compute``). Requires A, B, α, β > 0.
    """
    A, B, E, alpha, beta = (jnp.asarray(params[k], jnp.float64) for k in ("A", "B", "E", "alpha", "beta"))
    C = jnp.asarray(compute, jnp.float64)
    check(C > 0, f"compute must be positive, got {np.min(np.asarray(C))}")
    check(flops_per_param_token > 0, f"flops_per_param_token must be positive, got {flops_per_param_token}")
    for name, v in (("A", A), ("B", B), ("alpha", alpha), ("beta", beta)):
        check(v > 0, f"{name} must be positive for a compute-optimal allocation, got {np.min(np.asarray(v))}")
    s = alpha + beta
    log_g = (jnp.log(alpha) + jnp.log(A) - jnp.log(beta) - jnp.log(B)) / s
    log_c = jnp.log(C) - jnp.log(flops_per_param_token)
    log_n = log_g + beta / s * log_c
    log_d = -log_g + alpha / s * log_c
    loss = E + jnp.exp(jnp.log(A) - alpha * log_n) + jnp.exp(jnp.log(B) - beta * log_d)
    return ComputeOptimal(
        compute=np.asarray(C),
        N=np.asarray(jnp.exp(log_n)),
        D=np.asarray(jnp.exp(log_d)),
        loss=np.asarray(loss),
        tokens_per_param=np.asarray(jnp.exp(log_d - log_n)),
        a=np.asarray(beta / s),
        b=np.asarray(alpha / s),
    )
