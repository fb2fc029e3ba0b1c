"""Synthetic counts from the (zero-inflated) Beta-binomial model, for back-tests and calibration.

θ_i ~ Beta(α, β) (or θ_i = 0 with probability π), k_i | θ_i ~ Binomial(n, θ_i), for K problems and
any batch of (α, β) pairs. θ is drawn from two gamma variates, θ = G_α/(G_α + G_β), and
``log1m_theta = log G_β − log(G_α + G_β)`` keeps log(1 − θ) exact for tiny θ, so the per-problem truth
``1 − (1−θ_i)^N`` needs no cancellation.

Sampling uses the NumPy generator of a JAX key, ``stats.numpy_rng(key)`` (vectorised, deterministic for a
given key; ``jax.random.key(s)`` gives ``numpy.random.default_rng(s)``):
``jax.random.binomial`` is a rejection sampler that takes 5–15 s to compile on a CPU, far more than
the simulations here take to run, and simulation is not on any hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from scaling_theory.numerics import check
from scaling_theory.results import Result


@dataclass(frozen=True)
class SyntheticCounts(Result):
    """``theta``, ``log1m_theta`` (log(1−θ_i)) and ``k`` (successes of ``n``), shape batch + (K,)."""

    theta: np.ndarray
    log1m_theta: np.ndarray
    k: np.ndarray
    n: int

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (group, problem): ``group`` (flat position over the batch axes; absent without a batch),
        ``problem``, then ``theta, log1m_theta, k, n``.

        Returns:
          A list of dicts of plain Python values.
        """
        size = np.shape(self.k)[-1]
        rows = super().rows()
        if np.ndim(self.k) == 1:
            return [{"problem": i, **r} for i, r in enumerate(rows)]
        return [{"group": i // size, "problem": i % size, **r} for i, r in enumerate(rows)]


# SABER (Feng et al., arXiv 2601.22636) Table 5: (attacker, victim, judge, α̂, β̂), the synthetic protocol's pairs.
SABER_TABLE5 = (
    ("ADV-LLM", "GPT-4.1-mini", "HB", 0.16, 0.44),
    ("ADV-LLM", "GPT-4.1-mini", "LLM", 0.15, 0.50),
    ("ADV-LLM", "Llama-3.1-8B", "HB", 1.44, 0.67),
    ("ADV-LLM", "Llama-3.1-8B", "LLM", 1.01, 0.77),
    ("TextAug", "GPT-4.1-mini", "HB", 0.37, 2.14),
    ("TextAug", "GPT-4.1-mini", "LLM", 0.31, 2.10),
    ("TextAug", "Llama-3.1-8B", "HB", 0.81, 14.31),
    ("TextAug", "Llama-3.1-8B", "LLM", 0.54, 16.16),
    ("JR1", "GPT-4.1-mini", "HB", 0.99, 3.94),
    ("JR1", "GPT-4.1-mini", "LLM", 0.72, 4.04),
    ("JR1", "Llama-3.1-8B", "HB", 0.64, 5.55),
    ("JR1", "Llama-3.1-8B", "LLM", 0.51, 7.76),
)


def simulate_counts(key: jax.Array, alpha, beta, problems: int, attempts: int, pi=0.0) -> SyntheticCounts:
    """Draw K = ``problems`` θ_i per (α, β[, π]) (broadcast batch) and k_i ~ Binomial(``attempts``, θ_i).

    Args:
      key: PRNG key (NumPy draws from ``stats.numpy_rng(key)``).
      alpha, beta: Beta parameters, broadcasting to a batch shape.
      problems: problems K per batch element.
      attempts: attempts n per problem.
      pi: mass of never-solved problems (θ_i = 0), in [0, 1).

    Returns:
      :class:`SyntheticCounts` with arrays of shape batch + (K,).
    """
    from scaling_theory.stats import numpy_rng

    alpha, beta, pi = (np.asarray(x, dtype=np.float64) for x in (alpha, beta, pi))
    check(np.all(alpha > 0), "alpha must be > 0")
    check(np.all(beta > 0), "beta must be > 0")
    check(np.all((pi >= 0) & (pi < 1)), "pi must be in [0, 1)")
    check(int(problems) >= 1 and int(attempts) >= 1, "problems and attempts must be ≥ 1")
    rng = numpy_rng(key)
    batch = np.broadcast_shapes(alpha.shape, beta.shape, pi.shape)
    shape = batch + (int(problems),)
    ga = rng.standard_gamma(np.broadcast_to(alpha[..., None], shape))
    gb = rng.standard_gamma(np.broadcast_to(beta[..., None], shape))
    total = ga + gb
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(total > 0, ga / total, 0.5)
        log1m = np.where(total > 0, np.log(gb) - np.log(total), np.log(0.5))
    never = rng.random(shape) < pi[..., None]
    theta = np.where(never, 0.0, theta)
    log1m = np.where(never, 0.0, log1m)
    k = rng.binomial(int(attempts), theta).astype(np.float64)
    return SyntheticCounts(theta, log1m, k, int(attempts))


def finite_truth(log1m_theta, budgets, mask=None) -> np.ndarray:
    """The observed problems' ASR@N = mean_i [1 − (1−θ_i)^N]: batch + (K,) → batch + (len(budgets),)."""
    l1 = np.asarray(log1m_theta)[..., None]
    b = np.asarray(budgets, dtype=np.float64)
    surv = np.exp(b * l1)
    m = np.ones(l1.shape[:-2] + l1.shape[-2:-1]) if mask is None else np.asarray(mask, dtype=np.float64)
    return 1.0 - (surv * m[..., None]).sum(axis=-2) / m.sum(axis=-1)[..., None]
