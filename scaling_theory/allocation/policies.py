"""Allocation policies on a gain table: per-problem extra attempts for each total budget.

Every policy takes a :class:`~scaling_theory.allocation.gains.GainTable` (gains (G, K, M), non-increasing in
m), per-attempt costs (G, K) and budgets (B,) — the total extra spend of each group in cost units — and
returns integer extra attempts (G, B, K) whose cost never exceeds the budget:

* ``uniform`` — the same number of attempts for every problem (``⌊B / Σ_i c_i⌋``), the remainder one attempt
  each to the first problems that fit;
* ``greedy`` — repeatedly buy the unit with the largest gain per cost (a stable sort of all K·M units, ties by
  problem index; stop at the first unit that does not fit). For separable objectives with non-increasing
  gains and equal costs this is the exact optimum of ``max Σ_i value_i(m_i) s.t. Σ m_i ≤ B`` (spec §4; pinned
  against exhaustive search in the tests); with unequal costs it is optimal for the budgets it exhausts;
* ``lagrangian`` — ``m_i(λ) = #{m : gain_i(m) ≥ λ c_i}`` with a bisection on log λ that meets the budget
  (arXiv 2604.14853), the units tied at the final λ filled in problem order: the greedy allocation without a
  sort, O(K log M) per bisection step, vectorised over groups and budgets in one compiled call;
* ``binned`` — Snell et al. (arXiv 2408.03314): problems are binned into ``bins`` quantiles of estimated
  difficulty (posterior mean of θ) and every problem of a bin gets the same number of attempts, the bins'
  levels chosen by the same Lagrangian on the bins' summed gains.

Sequential policies (rounds, stop at the first success) live in ``sequential.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.allocation.gains import GainTable, values
from scaling_theory.allocation.names import POLICIES as POLICIES  # re-exported: policies.POLICIES
from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result

BISECTION_STEPS = 56
DEFAULT_BINS = 5


@dataclass(frozen=True)
class Allocation(Result):
    """Extra attempts ``extra`` (G, B, K) of one policy at the ``budgets`` (G, B), their ``spend`` (G, B) and
    expected ``value`` (G, B).

    Rows (``rows()``/``to_frame()``): one per (group, budget, problem) with the policy, the budget, the extra
    attempts given to the problem and the group's spend and value at that budget (repeated over its problems).
    """

    _index = ("group", "budgets", "problem")
    _axes = {"budgets": ("group", "budgets"), "spend": ("group", "budgets"), "value": ("group", "budgets")}
    _columns = {"budgets": "budget"}

    policy: str
    budgets: np.ndarray
    extra: np.ndarray
    spend: np.ndarray
    value: np.ndarray


# ----------------------------------------------------------------------------- traceable cores


def _count_between(log_r, t, lo, hi):
    """Per row of ``log_r`` (K, M, non-increasing), the number of entries ≥ t, known to lie in [lo, hi] (K,):
    a vectorised binary search that runs only as long as the widest bracket (brackets shrink with the bisection)."""
    M = log_r.shape[1]

    def cond(s):
        return jnp.any(s[0] < s[1])

    def body(s):
        lo, hi = s
        mid = (lo + hi) // 2
        val = jnp.take_along_axis(log_r, jnp.minimum(mid, M - 1)[:, None], axis=1)[:, 0]
        active = lo < hi
        ge = val >= t
        return jnp.where(active & ge, mid + 1, lo), jnp.where(active & ~ge, mid, hi)

    lo, _ = jax.lax.while_loop(cond, body, (lo, hi))
    return lo


def _bisect_counts(log_r, weight_cost, budget):
    """The dual bisection on log λ for one budget: per row of ``log_r`` (U, M) (log(gain/cost), non-increasing
    along M, −inf for zero gains) the counts ``c_lo ≥ c_hi`` at the two ends of the final λ bracket and the count
    ``c_all`` of every positive unit; a row's units cost ``weight_cost`` (U,) in all (a row may stand for several
    identical problems: its cost times their number). ``Σ c_hi·weight_cost ≤ budget`` unless nothing fits.

    The counts at the two ends of the bracket bound the count at its midpoint, so each step's binary searches
    only scan the remaining bracket.
    """
    U, M = log_r.shape
    finite = jnp.isfinite(log_r)
    top = jnp.max(jnp.where(finite, log_r, -jnp.inf))
    bottom = jnp.min(jnp.where(finite, log_r, jnp.inf))
    any_gain = jnp.isfinite(top)
    hi0 = jnp.where(any_gain, top + 1.0, 0.0)  # spend(hi) = 0 ≤ budget
    lo0 = jnp.where(any_gain, bottom - 1.0, -1.0)  # every positive unit counted
    c_hi0 = jnp.zeros(U, jnp.int32)
    c_all = jnp.sum(finite, axis=1).astype(jnp.int32)

    def body(_, s):
        lo, hi, c_lo, c_hi = s
        mid = 0.5 * (lo + hi)
        c_mid = _count_between(log_r, mid, c_hi, c_lo)
        fits = jnp.sum(c_mid * weight_cost) <= budget
        return (
            jnp.where(fits, lo, mid),
            jnp.where(fits, mid, hi),
            jnp.where(fits, c_lo, c_mid),
            jnp.where(fits, c_mid, c_hi),
        )

    _, _, c_lo, c_hi = jax.lax.fori_loop(0, BISECTION_STEPS, body, (lo0, hi0, c_all, c_hi0))
    return c_lo, c_hi, c_all


def _fill_ties(c_lo, c_hi, c_all, cost, budget):
    """Per-problem counts (K,) from the bracket's counts (K,): everything if every positive unit fits, else the
    counts at the upper end plus the units tied at the final λ, whole problems in problem order while they fit."""
    s_hi = jnp.sum(c_hi * cost)
    extra = c_lo - c_hi  # units tied at the final λ
    cum = jnp.cumsum(extra * cost)
    take = jnp.where(cum <= budget - s_hi, extra, 0)
    return jnp.where(jnp.sum(c_all * cost) <= budget, c_all, c_hi + take)


def _lagrangian_one(log_r, cost, budget):
    """Greedy-equivalent allocation of one group at one budget by bisection on log λ (see module doc).

    ``log_r`` (K, M): log(gain/cost), non-increasing along M, −inf for zero gains; ``cost`` (K,) > 0.
    """
    c_lo, c_hi, c_all = _bisect_counts(log_r, cost, budget)
    return _fill_ties(c_lo, c_hi, c_all, cost, budget)


@functools.partial(jax.jit, static_argnames=())
def _lagrangian_batch(log_r_GxKxM, cost_GxK, budgets_GxB):
    per_budget = jax.vmap(_lagrangian_one, in_axes=(None, None, 0))
    return jax.vmap(per_budget)(log_r_GxKxM, cost_GxK, budgets_GxB)


def _greedy_one(log_r, cost, budgets):
    """Sort-based greedy for one group at budgets (B,): a stable sort of all units by gain per cost."""
    K, M = log_r.shape
    flat = log_r.reshape(-1)
    order = jnp.argsort(-flat, stable=True)
    unit_cost = jnp.repeat(cost, M)[order]
    positive = jnp.isfinite(flat[order])
    cum = jnp.cumsum(jnp.where(positive, unit_cost, 0.0))
    n_pos = jnp.sum(positive)
    # number of leading units whose cumulative cost fits; the greedy stops at the first unit that does not fit
    taken = jnp.minimum(jnp.searchsorted(cum, budgets, side="right"), n_pos)
    rank = jnp.zeros(K * M, jnp.int32).at[order].set(jnp.arange(K * M, dtype=jnp.int32))
    inc = rank[None, :] < taken[:, None]
    return jnp.sum(inc.reshape(-1, K, M), axis=-1)


_greedy_batch = jax.jit(jax.vmap(_greedy_one))


# ------------------------------------------------------------------------------------- public


def _prepare(table: GainTable, cost, budgets):
    G, K, _ = table.gains.shape
    mask = table.mask
    cost = np.ones((G, K)) if cost is None else np.broadcast_to(np.asarray(cost, np.float64), (G, K)).copy()
    live = mask > 0
    check(
        np.all(np.isfinite(cost[live])) and np.all(cost[live] > 0),
        "costs per attempt must be finite and > 0 (got a zero, negative or NaN cost)",
    )
    cost = np.where(live, cost, 1.0)
    b = np.asarray(budgets, np.float64)
    if b.ndim <= 1:
        b = np.broadcast_to(np.atleast_1d(b), (G, np.atleast_1d(b).size))
    check(b.shape[0] == G, f"budgets must be (B,) or (G={G}, B), got shape {b.shape}")
    check(
        np.all(np.isfinite(b)) and np.all(b >= 0),
        f"budget must be finite and ≥ 0, got {b[~(np.isfinite(b) & (b >= 0))][:1]}",
    )
    return cost, np.array(b)


def _log_ratio(table: GainTable, cost):
    with np.errstate(divide="ignore"):
        lr = np.log(table.gains) - np.log(cost)[..., None]
    return np.where(table.gains > 0, lr, -np.inf)


def _finish(policy, table, cost, budgets, extra) -> Allocation:
    extra = np.asarray(extra, np.int64) * (table.mask[:, None, :] > 0)
    spend = np.sum(extra * cost[:, None, :], axis=-1)
    return Allocation(policy, budgets, extra, spend, values(table, extra))


@x64
def lagrangian(table: GainTable, budgets, cost=None) -> Allocation:
    """Lagrangian allocation (dual bisection on λ), for every group and budget in one compiled call.

    Args:
      table: gains (G, K, M).
      budgets: total extra spend per group, (B,) or (G, B), in cost units.
      cost: cost per attempt (G, K) (default 1: budgets in attempts).
    Returns:
      :class:`Allocation` with ``extra`` (G, B, K).
    References:
      spec difficulty_and_allocation.md §4 (Lagrangian form); arXiv 2604.14853 (per-instance dual bisection).
    """
    cost, b = _prepare(table, cost, budgets)
    extra = _lagrangian_batch(jnp.asarray(_log_ratio(table, cost)), jnp.asarray(cost), jnp.asarray(b))
    return _finish("lagrangian", table, cost, b, np.asarray(extra))


@x64
def greedy(table: GainTable, budgets, cost=None) -> Allocation:
    """Greedy allocation by marginal gain per unit cost (stable sort of all units; see the module doc)."""
    cost, b = _prepare(table, cost, budgets)
    extra = _greedy_batch(jnp.asarray(_log_ratio(table, cost)), jnp.asarray(cost), jnp.asarray(b))
    return _finish("greedy", table, cost, b, np.asarray(extra))


def uniform(table: GainTable, budgets, cost=None, cap=None) -> Allocation:
    """Equal attempts per live problem ``⌊B/Σc⌋`` (at most ``cap``), the remainder one attempt each in problem order."""
    cost, b = _prepare(table, cost, budgets)
    live = table.mask > 0
    c = np.where(live, cost, 0.0)
    total = c.sum(axis=-1)  # (G,)
    per = np.floor(b / total[:, None])  # (G, B)
    extra = np.broadcast_to(per[..., None], b.shape + (c.shape[-1],)).copy()
    if cap is not None:
        extra = np.minimum(extra, np.broadcast_to(np.asarray(cap, np.float64), c.shape)[:, None, :])
    extra = np.minimum(extra, table.max_extra)
    left = b - np.sum(extra * c[:, None, :], axis=-1)
    room = np.ones_like(extra)
    if cap is not None:
        room = (extra < np.broadcast_to(np.asarray(cap, np.float64), c.shape)[:, None, :]).astype(np.float64)
    room = room * (extra < table.max_extra) * live[:, None, :]
    cum = np.cumsum(room * c[:, None, :], axis=-1)
    extra = extra + room * (cum <= left[..., None])
    return _finish("uniform", table, cost, b, extra)


def difficulty_bins(score, mask, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Quantile bins (0 = hardest) of a difficulty ``score`` (e.g. posterior mean of θ) among live problems, (G, K)."""
    score = np.where(mask > 0, score, np.inf)
    rank = np.argsort(np.argsort(score, axis=-1, kind="stable"), axis=-1, kind="stable")
    live = mask.sum(axis=-1, keepdims=True)
    return np.minimum((rank * bins) // np.maximum(live, 1), bins - 1).astype(np.int64)


@x64
def binned(table: GainTable, budgets, cost=None, *, score=None, bins: int = DEFAULT_BINS) -> Allocation:
    """Snell et al.'s difficulty-binned rule: one attempt count per difficulty bin, the bins' counts optimal.

    Args:
      table: gains (G, K, M); ``score`` (G, K): estimated ease (posterior mean of θ) used to form ``bins`` quantile bins.
      budgets, cost: as in :func:`lagrangian`.
    Returns:
      :class:`Allocation`; every problem of a bin gets the bin's count.
    References:
      Snell et al., arXiv 2408.03314 §3–5 (compute-optimal scaling by difficulty bin, 5 quantile bins).
    """
    check(int(bins) >= 1, f"bins must be ≥ 1, got {bins}")
    cost, b = _prepare(table, cost, budgets)
    G, K, M = table.gains.shape
    if score is None:
        raise InputError("the binned policy needs a difficulty score per problem (e.g. the posterior mean)")
    which = difficulty_bins(np.asarray(score, np.float64), table.mask, int(bins))
    onehot = (which[..., None] == np.arange(bins)) * (table.mask[..., None] > 0)  # (G, K, L)
    gains_bin = np.einsum("gkl,gkm->glm", onehot, table.gains)
    cost_bin = np.einsum("gkl,gk->gl", onehot, cost)
    empty = cost_bin <= 0
    gains_bin = np.where(empty[..., None], 0.0, np.maximum(np.minimum.accumulate(gains_bin, axis=-1), 0.0))
    with np.errstate(divide="ignore"):
        lr = np.where(gains_bin > 0, np.log(gains_bin) - np.log(np.where(empty, 1.0, cost_bin))[..., None], -np.inf)
    m_bin = np.asarray(_lagrangian_batch(jnp.asarray(lr), jnp.asarray(np.where(empty, 1.0, cost_bin)), jnp.asarray(b)))
    extra = np.take_along_axis(m_bin, np.broadcast_to(which[:, None, :], (G, b.shape[1], K)), axis=-1)
    return _finish("binned", table, cost, b, extra)


def auto_max_extra(budgets, cost, mask, positive, cap=None, limit: int = 4096) -> int:
    """A table length M for the budgets: a power of two ≥ 2 × the largest budget spread over the problems that
    can gain (``positive``), at least 16, at most ``limit`` and the largest cap."""
    b = float(np.max(budgets)) if np.size(budgets) else 0.0
    c = np.broadcast_to(np.asarray(1.0 if cost is None else cost, np.float64), mask.shape)
    cmin = float(np.min(c[mask > 0]))
    npos = max(1, int(np.min(np.sum((positive > 0) & (mask > 0), axis=-1))))
    need = 2.0 * b / (cmin * npos) + 16
    if cap is not None:
        need = min(need, float(np.max(np.where(mask > 0, cap, 0))) + 1)
    return int(2 ** int(np.ceil(np.log2(max(16.0, min(need, limit))))))


# ------------------------------------------------------------- fused Beta-coverage fast path


@functools.partial(jax.jit, static_argnames=("M", "chunk"))
def _beta_coverage_kernel(a, b, gainful, cost, cap, count, inverse, cost_k, budgets, M: int, chunk: int):
    """Gain table and Lagrangian fused per group (``lax.map`` over groups in chunks), on the group's *distinct*
    rows: ``a, b, gainful, cost, cap, count`` (G, U) — the posterior, cost and cap shared by ``count`` problems —
    and ``inverse`` (G, K), each problem's row. The (U, M) table of one chunk lives only inside the compiled
    program; the bisection counts whole rows (a row's spend is its count × its cost), the final ties are filled
    per problem, in problem order, with the problems' costs ``cost_k`` (G, K)."""
    from scaling_theory.allocation.gains import beta_survival_log

    j = jnp.arange(M, dtype=jnp.float64)

    def one(args):
        a_, b_, ok_, c_, cap_, n_, inv_, ck_, bud_ = args
        log_s = beta_survival_log(a_, b_, M)[:, :-1]
        log_r = log_s + jnp.log(a_)[:, None] - jnp.log(a_[:, None] + b_[:, None] + j) - jnp.log(c_)[:, None]
        log_r = jnp.where(ok_[:, None] & (j[None, :] + 1 <= cap_[:, None]), log_r, -jnp.inf)

        def per_budget(budget):
            c_lo, c_hi, c_all = _bisect_counts(log_r, n_ * c_, budget)
            return _fill_ties(c_lo[inv_], c_hi[inv_], c_all[inv_], ck_, budget)

        return jax.vmap(per_budget)(bud_)

    return jax.lax.map(one, (a, b, gainful, cost, cap, count, inverse, cost_k, budgets), batch_size=chunk)


def _distinct_rows(a, b, cost, cap, gainful, M: int):
    """Per group, the distinct (a, b, cost, min(cap, M)) rows of the problems that can gain, and each problem's
    row (problems that cannot gain share one dead row). Padded to a common power-of-two width U (dead rows)."""
    G, K = a.shape
    keys = np.stack([a, b, cost, np.minimum(cap, M)], axis=-1)
    parts, inverse = [], np.zeros((G, K), np.int64)
    for g in range(G):  # one np.unique per group (host side, O(K log K))
        live = gainful[g]
        rows, inv = np.unique(keys[g][live], axis=0, return_inverse=True)
        inverse[g, live] = inv.ravel()
        inverse[g, ~live] = rows.shape[0]  # the dead row
        parts.append((rows, np.bincount(inv.ravel(), minlength=rows.shape[0])))
    U = int(2 ** int(np.ceil(np.log2(max(p[0].shape[0] for p in parts) + 1))))
    out = np.zeros((G, U, 4))
    out[..., :] = (1.0, 1.0, 1.0, 0.0)  # dead rows: any valid posterior, no gain
    ok = np.zeros((G, U), bool)
    count = np.zeros((G, U))
    for g, (rows, n) in enumerate(parts):
        out[g, : rows.shape[0]] = rows
        ok[g, : rows.shape[0]] = True
        count[g, : rows.shape[0]] = n
    return out[..., 0], out[..., 1], out[..., 2], out[..., 3], ok, count, inverse


@x64
def lagrangian_beta_coverage(
    post, budgets, *, pilot_c=None, mask=None, cost=None, cap=None, max_extra: int | None = None, chunk: int = 8
) -> np.ndarray:
    """The Lagrangian coverage allocation for Beta posteriors in one compiled call, without a host-side table.

    Equal to ``lagrangian(gain_table(post, "coverage", ...), budgets, cost)`` (tested). Problems with the same
    posterior, cost and cap (e.g. every problem a pilot of equal size left unsolved) share one row of the table
    and one count in the bisection, so the work grows with the number of *distinct* rows; memory O(chunk·U·M).

    Args:
      post: :class:`BetaPosterior` (G, K); budgets (B,) or (G, B); pilot_c, mask, cost, cap as in ``gain_table``.
      max_extra: table length M (default :func:`auto_max_extra`); chunk: groups per step of the compiled map.
    Returns:
      extra attempts (G, B, K), int64.
    """
    G, K = post.shape
    mask = np.ones((G, K)) if mask is None else np.asarray(mask, np.float64)
    k = np.zeros((G, K)) if pilot_c is None else np.broadcast_to(np.asarray(pilot_c, np.float64), (G, K))
    cap_ = np.full((G, K), np.inf) if cap is None else np.broadcast_to(np.asarray(cap, np.float64), (G, K))
    dummy = GainTable(np.zeros((G, K, 1)), np.zeros((G, K)), mask, "coverage")
    cost_, b = _prepare(dummy, cost, budgets)
    gainful = (k == 0) & (mask > 0)
    M = int(max_extra or auto_max_extra(b, cost_, mask, gainful, cap=cap_ if cap is not None else None))
    a_u, b_u, c_u, cap_u, ok_u, count_u, inverse = _distinct_rows(post.a, post.b, cost_, cap_, gainful, M)
    out = _beta_coverage_kernel(
        jnp.asarray(a_u),
        jnp.asarray(b_u),
        jnp.asarray(ok_u),
        jnp.asarray(c_u),
        jnp.asarray(cap_u),
        jnp.asarray(count_u),
        jnp.asarray(inverse),
        jnp.asarray(cost_),
        jnp.asarray(b),
        M,
        int(chunk),
    )
    return np.asarray(out, np.int64) * (mask[:, None, :] > 0)
