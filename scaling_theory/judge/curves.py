"""Error curves δ(k) of the BLR judge in the paper's temperature units t = T/(2σ²), with their checks.

One call from model parameters to the curve that ``scaling-theory judge curve`` / ``judge simulate``
print: :func:`error_curve` (deterministic equivalent: ``exact``, ``hte``, ``limit`` or ``mc``) and
:func:`simulated_error_curve` (the paper's finite-d experiment). Both return an :class:`ErrorCurve`.

References:
  Halder & Pehlevan, "Demystifying LLM-as-a-Judge: Analytically Tractable Model for Inference-Time
  Scaling", arXiv 2512.19905 (t = T/(2σ²) in the figures).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.judge.model import BLRJudge

__all__ = ["ErrorCurve", "error_curve", "simulated_error_curve"]


@dataclass(frozen=True)
class ErrorCurve:
    """δ(k) of a BLR judge at one temperature.

    Attributes:
      k: numbers of samples, shape (K,).
      delta: δ(k) in absolute units, shape (K,).
      stderr: standard error of δ(k) over sampled test inputs (simulations), else ``None``.
      sigma2: σ², the unit of the paper's plots (δ/σ²).
      R: the renormalised ridge of the deterministic equivalent.
      t: temperature in the paper's units t = T/(2σ²).
      method: how δ was computed (``exact``, ``hte``, ``limit``, ``mc``; ``simulation:<estimator>``).
    """

    k: np.ndarray
    delta: np.ndarray
    stderr: np.ndarray | None
    sigma2: float
    R: float
    t: float
    method: str

    def rows(self) -> list[dict[str, Any]]:
        """One row per k: ``k, delta, [stderr,] delta_over_sigma2`` (JSON-able floats)."""
        out: list[dict[str, Any]] = []
        for i, (k, d) in enumerate(zip(self.k, self.delta)):
            row: dict[str, Any] = {"k": int(k), "delta": float(d)}
            if self.stderr is not None:
                row["stderr"] = float(self.stderr[i])
            row["delta_over_sigma2"] = float(d) / self.sigma2
            out.append(row)
        return out

    def to_frame(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (tidy: one row per k)."""
        import pandas as pd

        return pd.DataFrame(self.rows())


def _check_t_and_k(t: float, k: Sequence[int]) -> tuple[float, np.ndarray]:
    t = float(t)
    if not (t >= 0):
        raise InputError(f"t={t}: must be ≥ 0 (0 = best-of-k, inf = uniform)")
    ks = np.atleast_1d(np.asarray(k))
    if ks.size == 0:
        raise InputError("k=[]: give at least one number of samples")
    bad = [x for x in ks.tolist() if not (x >= 1)]
    if bad:
        raise InputError(f"k={bad[0]}: must be ≥ 1")
    return t, ks


def error_curve(
    d: int,
    n: int,
    sigma: float,
    gamma: float,
    t: float,
    k: Sequence[int],
    *,
    S: float = 1.0,
    teacher_scale: float = 1.0,
    c: float = 0.0,
    method: str = "exact",
    samples: int = 2000,
    key: jax.Array | None = None,
) -> ErrorCurve:
    """δ(k, T) of the BLR judge averaged over test inputs (deterministic equivalent), T = 2σ² t.

    Args:
      d, n: input dimension and number of training samples.
      sigma, gamma: teacher (and likelihood) noise std σ and prior std γ of the weights.
      t: temperature in the paper's units t = T/(2σ²) (0 = best-of-k, inf = uniform), t ≥ 0.
      k: numbers of samples (each ≥ 1).
      S: input scale (Σ = S² I); teacher_scale: |w_T|²/d; c: reward misspecification μ_R = μ_T − c(m − μ_T).
      method: ``exact``, ``hte`` (expansion in 1/t: needs t > 0), ``limit`` (k → ∞) or ``mc``.
      samples: Monte Carlo samples per quadrature node (``mc``).
      key: PRNG key, required by ``mc`` only.

    Returns:
      An :class:`ErrorCurve` (``stderr`` None).
    """
    t, ks = _check_t_and_k(t, k)
    if method == "hte" and t == 0:
        raise InputError("t=0: method 'hte' is an expansion in 1/t and needs t > 0")
    judge = BLRJudge(d, n, sigma, gamma, S=S, teacher_scale=teacher_scale, c=c)
    T = float(judge.temperature(t))
    delta = judge.error(ks, T, method=method, key=key, samples=samples)
    return ErrorCurve(ks, np.asarray(delta), None, judge.sigma2, float(judge.R), t, method)


def simulated_error_curve(
    key: jax.Array,
    d: int,
    n: int,
    sigma: float,
    gamma: float,
    t: float,
    k: Sequence[int],
    *,
    n_test: int,
    trials: int = 100,
    teacher_scale: float = 1.0,
    c: float = 0.0,
    posterior: str = "finite",
    estimator: str = "mc",
) -> ErrorCurve:
    """δ(k) from the paper's finite-d simulation (``BLRJudge.simulate``) at t = T/(2σ²).

    Args:
      key: PRNG key of the training set, test inputs and draws.
      d, n, sigma, gamma, teacher_scale, c: the model, as for :func:`error_curve`.
      t: temperature t = T/(2σ²) ≥ 0; k: numbers of samples (each ≥ 1).
      n_test: sampled test inputs (≥ 2); trials: k-sample draws per input (≥ 2; estimator ``mc``).
      posterior: ``finite`` (posterior of the sampled training set) or ``de`` (deterministic equivalent).
      estimator: ``mc`` (the paper's Monte Carlo) or ``conditional`` (quadrature per input, control variate).

    Returns:
      An :class:`ErrorCurve` with the standard error over test inputs.
    """
    t, ks = _check_t_and_k(t, k)
    for name, v in (("n_test", n_test), ("trials", trials)):
        if not (v >= 2):
            raise InputError(f"{name}={v}: must be ≥ 2")
    judge = BLRJudge(d, n, sigma, gamma, teacher_scale=teacher_scale, c=c)
    T = float(judge.temperature(t))
    res = judge.simulate(ks, T, key, trials=trials, n_test=n_test, posterior=posterior, estimator=estimator)
    return ErrorCurve(
        np.asarray(res.k),
        np.asarray(res.delta),
        np.asarray(res.stderr),
        judge.sigma2,
        float(judge.R),
        t,
        f"simulation:{estimator}",
    )
