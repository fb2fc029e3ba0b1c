"""Coverage-vs-compute frontier across models: at each budget, which model to sample and how often.

Model j with per-problem logs (n_ij, k_ij) reaches coverage ``cov_j(m) = mean_i pass@m_i`` with m samples per
problem: Chen's unbiased pass@m when m ≤ n_ij, else the Beta posterior extrapolation
``1 − B(a, b + m)/B(a, b)`` with ``a = α̂_j + k``, ``b = β̂_j + n − k`` (α̂_j, β̂_j by ``passk.mle.fit``; spec §5).
A budget C is the *average spend per problem*; model j affords ``m_j(C)`` samples (per-attempt cost column:
``⌊C / mean_i c_ij⌋``; cost model: the largest m with ``m·per_sample + shared ≤ C``), so models with different
problem sets compare fairly. The compute-optimal choice maximises ``cov_j(m_j(C))``; its interval and the
probability that each model is optimal come from a bootstrap over problems (each model's problems resampled).
Crossovers are the budgets at which the optimal model changes.

References: Brown et al. arXiv 2407.21787 (coverage vs FLOPs across Pythia sizes); Wu et al. arXiv 2408.00724
(smaller models sampled more); Sadhukhan et al. arXiv 2506.05333 (memory-aware costs shift the optimum).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.beta import hit_at_n as beta_hit_at_n
from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result
from scaling_theory.stats import numpy_rng


@dataclass(frozen=True)
class Frontier(Result):
    """``coverage`` (J, C) of every model at every budget with ``samples`` (J, C); per budget the optimal model
    index ``best`` (C,), its bootstrap interval ``lower/upper`` (C,) and ``p_best`` (J, C).

    Rows (an override of the :class:`~scaling_theory.results.Result` rule): one per budget, describing the
    optimal model there (``None`` entries where no model affords a sample).
    """

    models: list
    budgets: np.ndarray
    samples: np.ndarray
    coverage: np.ndarray
    best: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    p_best: np.ndarray
    extrapolated: np.ndarray

    def rows(self) -> list[dict]:
        """One row per budget: the optimal model, its samples per problem, coverage, interval and p_best."""
        out: list[dict] = []
        for c, C in enumerate(self.budgets):
            j = int(self.best[c])
            if j < 0:
                out.append(
                    {
                        "budget": float(C),
                        "model": None,
                        "samples_per_problem": 0,
                        "coverage": None,
                        "lower": None,
                        "upper": None,
                        "p_best": None,
                        "extrapolated": None,
                    }
                )
                continue
            out.append(
                {
                    "budget": float(C),
                    "model": self.models[j],
                    "samples_per_problem": int(self.samples[j, c]),
                    "coverage": float(self.coverage[j, c]),
                    "lower": float(self.lower[c]),
                    "upper": float(self.upper[c]),
                    "p_best": float(self.p_best[j, c]),
                    "extrapolated": float(self.extrapolated[j, c]),
                }
            )
        return out

    def crossovers(self) -> list[dict]:
        """Budgets at which the optimal model changes: ``{"budget", "from", "to"}`` (budget = first one of ``to``)."""
        out = []
        for c in range(1, self.budgets.size):
            a, b = int(self.best[c - 1]), int(self.best[c])
            if a != b and a >= 0 and b >= 0:
                out.append({"budget": float(self.budgets[c]), "from": self.models[a], "to": self.models[b]})
        return out


@x64
def _pass_at_m(n, k, alpha, beta, m):
    """pass@m per problem: Chen for m ≤ n, else the Beta-posterior extrapolation (float64 arrays, broadcast)."""
    from scaling_theory.passk.estimators import log_no_success

    n, k, m = jnp.asarray(n), jnp.asarray(k), jnp.asarray(m)
    chen = -jnp.expm1(log_no_success(n, k, jnp.minimum(m, n)))
    a, b = alpha + k, beta + n - k
    post = beta_hit_at_n(a, b, m)
    return np.asarray(jnp.where(m <= n, chen, post))


def frontier(
    key: jax.Array,
    n,
    c,
    mask,
    models,
    budgets,
    *,
    cost_per_attempt=None,
    cost_models: dict | None = None,
    bootstrap: int = 200,
    level: float = 0.9,
) -> Frontier:
    """The compute-optimal (model, samples per problem) at each budget with a bootstrap interval.

    Args:
      key: ``jax.random`` key of the bootstrap over problems (``stats.numpy_rng(key)``).
      n, c, mask: counts (J, K) per model (padded; mask 1 for real problems).
      models: J model names.
      budgets: average spend per problem (C,), in the units of the costs.
      cost_per_attempt: (J, K) cost of one attempt at each problem (e.g. a ``flops_per_attempt`` column), or
      cost_models: {model: AttemptCost} (``costs.dense_flops`` / ``costs.kinetics_eflops``).
      bootstrap, level: problem resamples for the intervals and their central coverage.
    Returns:
      :class:`Frontier`.
    """
    from scaling_theory.passk import mle

    c = np.asarray(c, np.float64)
    n = np.broadcast_to(np.asarray(n, np.float64), c.shape)
    mask = np.ones(c.shape) if mask is None else np.asarray(mask, np.float64)
    J, K = c.shape
    if J < 2:
        raise InputError(f"frontier needs at least two models to compare, got {J}")
    b = np.atleast_1d(np.asarray(budgets, np.float64))
    check(
        np.all(np.isfinite(b)) and np.all(b > 0),
        f"budget must be finite and > 0, got {b[~(np.isfinite(b) & (b > 0))][:1]}",
    )
    live = mask > 0
    if cost_models is not None:
        missing = [m for m in models if m not in cost_models]
        if missing:
            raise InputError(f"no cost model for {missing[0]!r}")
        samples = np.stack([cost_models[m].samples_within(b) for m in models])
    else:
        if cost_per_attempt is None:
            raise InputError("frontier needs a per-attempt cost (a cost column) or a cost model")
        cost_ = np.asarray(cost_per_attempt, np.float64)
        check(np.all(np.isfinite(cost_[live])) and np.all(cost_[live] > 0), "cost per attempt must be finite and > 0")
        mean_c = np.sum(np.where(live, cost_, 0.0), axis=1) / live.sum(axis=1)
        samples = np.floor(b[None, :] / mean_c[:, None] + 1e-12)
    fit = mle.fit(n, c, mask)
    al, be = np.asarray(fit.alpha)[:, None, None], np.asarray(fit.beta)[:, None, None]
    m = np.maximum(samples, 1.0)[:, :, None]  # (J, C, 1)
    per = _pass_at_m(n[:, None, :], c[:, None, :], al, be, m) * live[:, None, :]  # (J, C, K)
    feasible = samples >= 1
    cov = np.where(feasible, per.sum(-1) / live.sum(-1)[:, None], np.nan)
    # bootstrap over problems, each model's problems resampled independently
    rng = numpy_rng(key)
    W = np.zeros((J, int(bootstrap), K))
    for j in range(J):  # one multinomial per model (a handful of models)
        idx = np.flatnonzero(live[j])
        W[j][:, idx] = rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size), size=int(bootstrap))
    cov_b = np.einsum("jck,jtk->jct", per, W / W.sum(-1, keepdims=True))
    cov_b = np.where(feasible[..., None], cov_b, -np.inf)
    any_feasible = feasible.any(axis=0)
    best = np.where(any_feasible, np.argmax(np.where(feasible, cov, -np.inf), axis=0), -1)
    win = np.argmax(cov_b, axis=0)  # (C, T)
    p_best = np.stack([(win == j).mean(axis=-1) for j in range(J)]) * any_feasible
    a = (1 - level) / 2
    pick = cov_b[np.maximum(best, 0), np.arange(b.size)]  # (C, T)
    lower = np.where(any_feasible, np.quantile(pick, a, axis=-1), np.nan)
    upper = np.where(any_feasible, np.quantile(pick, 1 - a, axis=-1), np.nan)
    extrap = np.sum((m > n[:, None, :]) & live[:, None, :], axis=-1) / live.sum(-1)[:, None]
    return Frontier(list(models), b, samples.astype(np.int64), cov, best, lower, upper, p_best, extrap)
