"""Per-problem marginal-gain tables: the value of the m-th extra attempt on problem i, for m = 1..M.

Every policy (``policies.py``) works on a :class:`GainTable` — ``gains[g, i, m−1]`` ≥ 0, non-increasing in m —
so the same greedy / Lagrangian / binned machinery serves every objective and every posterior form:

* ``coverage`` (problem solved at least once, pilot included): a problem solved in the pilot gains nothing;
  for an unsolved one the m-th attempt gains ``S_i(m−1) − S_i(m) = E[θ(1 − θ)^{m−1}]`` with
  ``S_i(m) = E[(1 − θ_i)^m | data]`` (spec §4). Beta: ``S(m) = Π_{j<m} (b + j)/(a + b + j)`` (a cumulative sum
  of ``log1p(−a/(a+b+j))``, no special function); grid: ``S(m) = Σ_j w_ij (1 − θ_j)^m`` (one matmul).
* ``pass`` (at least one success among the *new* attempts, e.g. deployment after a pilot): the same gains for
  every problem, base 0.
* ``estimate``: the expected reduction of the posterior variance of ``f_i = (1 − θ_i)^N`` (so of the pass@N
  estimate ``1 − mean_i f_i``) from one more attempt: ``V_i(m) = E_y[Var(f_i | data, y of m)]``
  (pre-posterior variance; y ~ the posterior predictive), gains ``V_i(m−1) − V_i(m)``. These need not be
  monotone; the table keeps their running minimum (a lower bound on later gains) so that the greedy
  and Lagrangian rules stay well defined.

Attempts beyond a problem's cap (e.g. the held-out attempts left in a back-test) get gain 0. Padded problems
(``mask`` 0) get gain 0 and are excluded from the mean values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory import beta as _beta
from scaling_theory.allocation.posteriors import BetaPosterior, Posterior
from scaling_theory.beta import log_survival as log_beta_ratio
from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result

OBJECTIVES = ("coverage", "pass", "estimate")


@dataclass(frozen=True)
class GainTable(Result):
    """Marginal gains ``gains`` (G, K, M) of extra attempts 1..M, the value ``base`` (G, K) at 0 extra, the
    ``mask`` (G, K) of real problems and the ``objective``. The value of ``m`` extra attempts on problem i is
    ``base + Σ_{j ≤ m} gains[..., j−1]``; the objective value of an allocation is its mean over live problems
    (for ``estimate``: minus the mean posterior variance of f_i, see :func:`estimate_sd`).

    Rows: one per (group, problem): the objective, the base value and the mask (the gains stay an array).
    """

    _row_fields = ("objective", "base", "mask")
    _index = ("group", "problem")

    gains: np.ndarray
    base: np.ndarray
    mask: np.ndarray
    objective: str

    @property
    def max_extra(self) -> int:
        return int(self.gains.shape[-1])


# ----------------------------------------------------------------------------- traceable cores


# ``log S(m)``, m = 0..M, and ``E[θ(1 − θ)^{m−1}]``, m = 1..M, for θ ~ Beta(a, b): the Beta law's tables.
beta_survival_log = _beta.log_survival_table
beta_coverage_gains = _beta.marginal_gain_table


def grid_coverage_gains(theta, log_post, max_extra: int):
    """``Σ_j w_ij θ_j (1 − θ_j)^{m−1}``, m = 1..M (M = ``max_extra``), for grid posteriors (one matmul over the grid)."""
    m = jnp.arange(max_extra, dtype=jnp.float64)
    powers = jnp.where(m[None, :] == 0, 1.0, (1.0 - theta[:, None]) ** m[None, :])  # (J, M); 0^0 = 1
    return jnp.exp(log_post) @ (theta[:, None] * powers)


def _monotone(g):
    """Running minimum along the attempt axis, clipped at 0 (non-increasing, non-negative gains)."""
    return jnp.maximum(jax.lax.cummin(g, axis=g.ndim - 1), 0.0)


def _apply_caps(g, cap, mask):
    m = jnp.arange(1, g.shape[-1] + 1)
    return jnp.where((m <= cap[..., None]) & (mask[..., None] > 0), g, 0.0)


@x64
def beta_preposterior_variance(alpha, beta, target_n: float, max_extra: int):
    """``V(m) = E_y[Var((1−θ)^N | α + y, β + m − y)]`` for m = 0..M, with N = ``target_n`` and M = ``max_extra``
    (see :func:`_beta_prepost`); compiled."""
    return _beta_prepost_jit(
        jnp.asarray(alpha, jnp.float64), jnp.asarray(beta, jnp.float64), jnp.asarray(float(target_n)), int(max_extra)
    )


@x64
def grid_preposterior_variance(theta, log_post, target_n: float, max_extra: int):
    """Grid version of :func:`beta_preposterior_variance` (see :func:`_grid_prepost`); compiled."""
    return _grid_prepost_jit(
        jnp.asarray(theta, jnp.float64),
        jnp.asarray(log_post, jnp.float64),
        jnp.asarray(float(target_n)),
        int(max_extra),
    )


def _beta_prepost(a, b, N, M: int):
    """``V(m) = E_y[Var((1−θ)^N | a + y, b + m − y)]`` for m = 0..M, θ ~ Beta(a, b), y ~ BetaBinomial(m, a, b).

    ``= E[f²] − Σ_y P(y) E[f | y]²`` with ``E[f²] = B(a, b + 2N)/B(a, b)`` and ``E[f | y] = B(a+y, b+m−y+N)/B(a+y, b+m−y)``.
    Shapes: a, b (...,) → (..., M+1).
    """
    m = jnp.arange(M + 1, dtype=jnp.float64)[:, None]
    y = jnp.arange(M + 1, dtype=jnp.float64)[None, :]
    ok = y <= m
    yy = jnp.where(ok, y, 0.0)
    a_, b_ = a[..., None, None], b[..., None, None]
    ap, bp = a_ + yy, b_ + jnp.where(ok, m - yy, 0.0)
    log_py = _beta.logpmf(yy, m, a_, b_)  # y ~ BetaBinomial(m, a, b)
    log_ef = log_beta_ratio(ap, bp, N)
    second = jnp.sum(jnp.where(ok, jnp.exp(log_py + 2.0 * log_ef), 0.0), axis=-1)
    ef2 = jnp.exp(log_beta_ratio(a, b, 2.0 * N))[..., None]
    return jnp.maximum(ef2 - second, 0.0)


def _grid_prepost(theta, log_post, N, M: int):
    """Grid version of :func:`_beta_prepost`: weights w_ij, f_j = (1 − θ_j)^N, likelihood
    ``L_j(y | m) = C(m, y) θ_j^y (1 − θ_j)^{m−y}``; ``V(m) = Σ_j w f² − Σ_y (Σ_j w L f)² / Σ_j w L``."""
    J = theta.shape[0]
    m = jnp.arange(M + 1, dtype=jnp.float64)[:, None, None]
    y = jnp.arange(M + 1, dtype=jnp.float64)[None, :, None]
    ok = y <= m
    yy = jnp.where(ok, y, 0.0)
    th = theta[None, None, :]
    fail = m - yy
    log_t = jnp.where(yy > 0, yy * jnp.log(th), 0.0)  # θ^y with 0^0 = 1
    log_f = jnp.where(fail > 0, fail * jnp.log1p(-th), 0.0)  # (1 − θ)^{m−y} with 0^0 = 1
    lik = jnp.where(ok, jnp.exp(_beta.log_binom(m, yy) + log_t + log_f), 0.0)  # (M+1, M+1, J)
    f = (1.0 - theta) ** N
    w = jnp.exp(log_post)  # (..., J)
    lik2 = lik.reshape(-1, J).T  # (J, (M+1)^2)
    den = (w @ lik2).reshape(w.shape[:-1] + (M + 1, M + 1))
    num = ((w * f) @ lik2).reshape(w.shape[:-1] + (M + 1, M + 1))
    second = jnp.sum(jnp.where(den > 0, num**2 / jnp.where(den > 0, den, 1.0), 0.0), axis=-1)
    ef2 = (w @ f**2)[..., None]
    return jnp.maximum(ef2 - second, 0.0)


_beta_prepost_jit = jax.jit(_beta_prepost, static_argnums=(3,))
_grid_prepost_jit = jax.jit(_grid_prepost, static_argnums=(3,))


@functools.partial(jax.jit, static_argnums=(5,))
def _beta_coverage_table(alpha, beta, gainless, cap, mask, max_extra: int):
    """Coverage / pass gains of Beta posteriors, zero for ``gainless`` problems, capped and monotone: one program."""
    g = beta_coverage_gains(alpha, beta, max_extra) * (1.0 - gainless)[..., None]
    return _monotone(_apply_caps(g, cap, mask))


@functools.partial(jax.jit, static_argnums=(5,))
def _grid_coverage_table(theta, log_post, gainless, cap, mask, max_extra: int):
    """Grid version of :func:`_beta_coverage_table`."""
    g = grid_coverage_gains(theta, log_post, max_extra) * (1.0 - gainless)[..., None]
    return _monotone(_apply_caps(g, cap, mask))


# ------------------------------------------------------------------------------------- public


def _prepare_counts(post: Posterior, k, mask, cap):
    shape = post.shape
    k = np.broadcast_to(np.asarray(0 if k is None else k, np.float64), shape)
    mask = np.ones(shape) if mask is None else np.broadcast_to(np.asarray(mask, np.float64), shape)
    cap = np.full(shape, np.inf) if cap is None else np.broadcast_to(np.asarray(cap, np.float64), shape)
    check(np.all(cap[mask > 0] >= 0), "cap (attempts available per problem) must be ≥ 0")
    return k, mask, cap


@x64
def gain_table(
    post: Posterior,
    objective: str = "coverage",
    *,
    max_extra: int,
    pilot_c=None,
    mask=None,
    cap=None,
    target_n: float | None = None,
) -> GainTable:
    """The marginal-gain table of ``objective`` for the posteriors ``post`` (Beta or grid).

    Args:
      post: :class:`BetaPosterior` or :class:`GridPosterior`, shape (G, K).
      objective: ``coverage`` | ``pass`` | ``estimate``.
      max_extra: M, the largest number of extra attempts considered per problem.
      pilot_c: pilot successes (G, K) (``coverage``: problems with k > 0 are solved and gain nothing).
      mask: 1 for real problems (G, K).
      cap: most extra attempts available per problem (G, K) (e.g. held-out attempts in a back-test).
      target_n: N of the pass@N whose estimate ``estimate`` sharpens (required there).
    Returns:
      A :class:`GainTable` with float64 NumPy arrays.
    References:
      spec difficulty_and_allocation.md §4 (coverage gains E[θ(1−θ)^{m−1}], estimation objective).
    """
    if objective not in OBJECTIVES:
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    M = int(max_extra)
    check(M >= 1, f"max_extra must be ≥ 1, got {max_extra}")
    k, mask, cap = _prepare_counts(post, pilot_c, mask, cap)
    if objective in ("coverage", "pass"):
        solved = (k > 0).astype(np.float64)
        gainless = solved if objective == "coverage" else np.zeros(post.shape)
        if isinstance(post, BetaPosterior):
            g = _beta_coverage_table(post.a, post.b, gainless, cap, mask, M)
        else:
            g = _grid_coverage_table(post.theta, post.log_post, gainless, cap, mask, M)
        base = gainless
        return GainTable(np.asarray(g), base * (mask > 0), np.asarray(mask, np.float64), objective)
    if target_n is None or not np.isfinite(target_n) or target_n < 1:
        raise InputError(f"the estimate objective needs a target budget N ≥ 1 (pass@N), got {target_n}")
    # the (K, M+1, M+1) pre-posterior sums are done a few groups at a time to bound the memory
    G = post.shape[0]
    step = max(
        1,
        int(
            2e7
            // max(
                1,
                post.shape[1] * (M + 1) ** 2 * (1 if isinstance(post, BetaPosterior) else post.theta.size // 8 + 1),
            )
        ),
    )
    parts = []
    for g0 in range(0, G, step):  # a handful of chunks, each one vectorised call
        sl = slice(g0, g0 + step)
        if isinstance(post, BetaPosterior):
            parts.append(
                np.asarray(
                    beta_preposterior_variance(jnp.asarray(post.a[sl]), jnp.asarray(post.b[sl]), float(target_n), M)
                )
            )
        else:
            parts.append(
                np.asarray(
                    grid_preposterior_variance(
                        jnp.asarray(post.theta), jnp.asarray(post.log_post[sl]), float(target_n), M
                    )
                )
            )
    v = np.concatenate(parts, axis=0)
    g = v[..., :-1] - v[..., 1:]
    base = -np.asarray(v[..., 0])
    g = _monotone(_apply_caps(jnp.asarray(g), jnp.asarray(cap), jnp.asarray(mask)))
    return GainTable(np.asarray(g), np.asarray(base, np.float64) * (mask > 0), np.asarray(mask, np.float64), objective)


def values(table: GainTable, extra) -> np.ndarray:
    """Mean value over live problems of allocations ``extra`` (G, ..., K) → (G, ...).

    ``coverage``/``pass``: the expected fraction of problems solved; ``estimate``: minus the mean pre-posterior
    variance of f_i (see :func:`estimate_sd`).
    """
    extra = np.asarray(extra)
    cum = np.concatenate([np.zeros(table.gains.shape[:-1] + (1,)), np.cumsum(table.gains, axis=-1)], axis=-1)
    G = cum.shape[0]
    mid = extra.shape[1:-1]
    cum_b = cum.reshape((G,) + (1,) * len(mid) + cum.shape[1:])
    idx = np.clip(extra, 0, table.max_extra).astype(np.int64)[..., None]
    per = np.take_along_axis(np.broadcast_to(cum_b, extra.shape + cum.shape[-1:]), idx, axis=-1)[..., 0]
    base = table.base.reshape((G,) + (1,) * len(mid) + table.base.shape[1:])
    m = table.mask.reshape(base.shape)
    return np.sum((base + per) * m, axis=-1) / np.sum(m, axis=-1)


def estimate_sd(table: GainTable, value) -> np.ndarray:
    """Posterior sd of the pass@N estimate ``1 − mean_i f_i`` from an ``estimate`` value: ``sqrt(−value / K)``."""
    K = table.mask.sum(axis=-1).reshape((-1,) + (1,) * (np.ndim(value) - 1))
    return np.sqrt(np.maximum(-np.asarray(value), 0.0) / K)
