"""Back-testing allocations on logs: pilot sub-sampled from the logged attempts, the rest held out for scoring.

Protocol (spec §4, last bullet). Problem i has c_i successes in n_i logged attempts. A pilot of n₀ attempts per
problem is drawn without replacement (k₀ ~ Hypergeometric(n_i, c_i, n₀), seeded); posteriors and allocations
are computed from the pilot only; an allocation of m_i extra attempts is scored *exactly* against the
n_i − n₀ held-out attempts: the chance that m_i of them, drawn without replacement, contain a success is

    1 − C(n_i − n₀ − (c_i − k₀), m_i) / C(n_i − n₀, m_i)

(no sampling; ``passk.estimators.log_no_success``). The realised coverage of a policy is the mean over
problems of ``1(k₀ > 0) + 1(k₀ = 0)·(that chance)``. Sequential policies draw the order of the held-out
attempts (:func:`heldout_first_success`). The *compute multiplier* of a policy at budget b̄ (mean extra
attempts per problem) is u*/b̄ where uniform spending of u* extra attempts per problem reaches the same
realised coverage (interpolated in log u); its interval comes from a bootstrap over problems and the pilot
repeats (sequential: per-problem chances averaged over random orders of the held-out attempts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory import stats
from scaling_theory.allocation import policies
from scaling_theory.allocation.gains import gain_table
from scaling_theory.allocation.posteriors import beta_posteriors
from scaling_theory.allocation.sequential import DEFAULT_ROUNDS, sequential
from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.passk.estimators import log_no_success
from scaling_theory.results import Result
from scaling_theory.stats import numpy_rng, subsample

BACKTEST_POLICIES = ("uniform", "binned", "lagrangian", "sequential")


@jax.jit
def _p_hit(held, succ, m):
    return -jnp.expm1(log_no_success(held, succ, m))


@x64
def heldout_hit_probability(n, c, pilot: int, k0, extra) -> np.ndarray:
    """Exact chance that ``extra`` attempts drawn from the held-out ``n − pilot`` (with ``k − k0`` successes) hit one.

    Shapes broadcast; ``extra`` ≤ n − pilot. Returns float64 NumPy.
    """
    held = np.asarray(n, np.float64) - float(pilot)
    succ = np.asarray(c, np.float64) - np.asarray(k0, np.float64)
    held, succ, m = np.broadcast_arrays(held, succ, np.asarray(extra, np.float64))
    check(np.all(m <= held), "extra attempts exceed the held-out attempts")
    return np.asarray(_p_hit(jnp.asarray(held), jnp.asarray(succ), jnp.asarray(m)))


def realised_contributions(n, c, pilot: int, k0, extra) -> np.ndarray:
    """Per-problem realised coverage ``1(k₀ > 0) + 1(k₀ = 0)·P(hit)`` (broadcast shapes)."""
    hit = heldout_hit_probability(n, c, pilot, k0, extra)
    return np.where(np.asarray(k0) > 0, 1.0, hit)


@jax.jit
def _first_success_bracket(held, succ, log_u, lo, hi, steps):
    """Lower end of the whole-number bisection bracket for the first success: ``log P(T > t) ≥ log u`` below it."""
    lo, _ = stats.bisect(lambda t: ~(log_no_success(held, succ, t) >= log_u), lo, hi, steps, whole=True)
    return lo


@x64
def heldout_first_success(key: jax.Array, n, c, pilot: int, k0, *, draws: int | None = None) -> np.ndarray:
    """Position (1-based) of the first success in a uniformly random order of the held-out attempts; inf if none.

    Inverse-CDF sampling with ``P(T > t) = C(N − s, t)/C(N, t)`` (N = n − pilot held out, s = k − k0 successes),
    by a vectorised bisection on t.

    Args:
      key: ``jax.random`` key (the uniforms come from ``stats.numpy_rng(key)``).
      n, c: logged attempts and successes per problem; pilot: n₀; k0: pilot successes (shapes broadcast to k0's).
      draws: None — one order per problem, shape of ``k0``; S — S independent orders, shape (S,) + k0's.
    Returns:
      float64 array of first-success positions among the held-out attempts (inf: no held-out success).
    """
    k0 = np.asarray(k0, np.float64)
    shape = k0.shape if draws is None else (int(draws),) + k0.shape
    check(draws is None or int(draws) >= 1, f"draws must be ≥ 1, got {draws}")
    held = np.broadcast_to(np.asarray(n, np.float64) - float(pilot), shape)
    succ = np.broadcast_to(np.broadcast_to(np.asarray(c, np.float64), k0.shape) - k0, shape)
    u = numpy_rng(key).random(shape)
    lo = np.zeros(shape)  # P(T > lo) ≥ u
    hi = np.maximum(held - succ + 1.0, 1.0)  # P(T > hi) = 0 < u
    log_u = np.log(u)
    steps = int(np.ceil(np.log2(max(float(np.max(hi)), 2.0)))) + 1
    lo = np.asarray(_first_success_bracket(jnp.asarray(held), jnp.asarray(succ), jnp.asarray(log_u), lo, hi, steps))
    t = lo + 1.0
    return np.where(succ > 0, t, np.inf)


@dataclass(frozen=True)
class AllocationBacktest(Result):
    """Realised coverage per (repeat, group, policy, budget) and compute multipliers.

    Rows (an override of the :class:`~scaling_theory.results.Result` rule): one per (group, budget, policy) with
    the group's labels, the realised coverage over the repeats and its standard error, and the multiplier.

    ``realised[policy]`` (R, G, B); ``expected[policy]`` (R, G, B) (the policy's own prediction; sequential: the
    mean over its posterior simulation is not computed, NaN); ``multiplier[policy]`` (G, B) point estimates with
    ``multiplier_lower/upper`` (G, B); ``uniform_grid`` (U,) and ``uniform_curve`` (R, G, U).
    """

    budgets: np.ndarray
    pilot: int
    policies: tuple
    realised: dict
    expected: dict
    multiplier: dict
    multiplier_lower: dict
    multiplier_upper: dict
    uniform_grid: np.ndarray
    uniform_curve: np.ndarray
    groups: list = field(default_factory=list)

    def rows(self) -> list[dict]:
        """One row per (group, budget, policy): realised coverage (mean, SE over repeats), gain, multiplier."""
        out: list[dict] = []
        for g, grp in enumerate(self.groups):
            for j, b in enumerate(self.budgets):
                uni = float(self.realised["uniform"][:, g, j].mean())
                for p in self.policies:
                    r = self.realised[p][:, g, j]
                    out.append(
                        {
                            **grp,
                            "budget": float(b),
                            "policy": p,
                            "realised": float(r.mean()),
                            "realised_se": float(r.std(ddof=1) / np.sqrt(r.size)) if r.size > 1 else float("nan"),
                            "uniform": uni,
                            "gain_pp": 100.0 * (float(r.mean()) - uni),
                            "multiplier": float(self.multiplier[p][g, j]),
                            "lower": float(self.multiplier_lower[p][g, j]),
                            "upper": float(self.multiplier_upper[p][g, j]),
                        }
                    )
        return out


def _uniform_grid(u_max: int, budgets, points: int = 48) -> np.ndarray:
    """Integer per-problem budgets 0..u_max: a geometric grid plus the back-tested budgets themselves."""
    b = np.asarray(budgets, np.float64)
    extra = np.concatenate([np.floor(b), np.ceil(b)])
    pts = np.concatenate([[0], np.round(np.geomspace(1, max(u_max, 1), points)), extra[extra <= u_max]])
    return np.unique(pts.astype(np.int64))


def _invert(curve_U, grid, target):
    """u with curve(u) = target by linear interpolation in log(1 + u) (curve non-decreasing); inf beyond the grid,
    NaN when the target is reached with no extra attempt (e.g. a bootstrap sample of problems all solved)."""
    x = np.log1p(grid.astype(np.float64))
    c = np.maximum.accumulate(curve_U, axis=-1)[..., None, :]  # (..., 1, U) against targets (..., B)
    idx = np.sum(c < target[..., None], axis=-1)  # first grid point with c ≥ target
    idx_c = np.clip(idx, 1, grid.size - 1)
    c0 = np.take_along_axis(c, (idx_c - 1)[..., None], -1)[..., 0]
    c1 = np.take_along_axis(c, idx_c[..., None], -1)[..., 0]
    w = np.where(c1 > c0, (target - c0) / np.where(c1 > c0, c1 - c0, 1.0), 1.0)
    u = np.expm1(x[idx_c - 1] + np.clip(w, 0, 1) * (x[idx_c] - x[idx_c - 1]))
    u = np.where(idx == 0, np.nan, u)  # reached without extra attempts (flat curve): multiplier undefined
    return np.where(idx >= grid.size, np.inf, u)


def backtest(
    key: jax.Array,
    n,
    c,
    pilot: int,
    budgets: Sequence[float],
    *,
    mask=None,
    policies_: Sequence[str] = BACKTEST_POLICIES,
    repeats: int = 4,
    rounds: int = DEFAULT_ROUNDS,
    sequential_draws: int = 4,
    bootstrap: int = 200,
    level: float = 0.9,
    groups: Sequence[dict] | None = None,
    bins: int = policies.DEFAULT_BINS,
) -> AllocationBacktest:
    """Back-test allocation policies on logged counts (G, K): pilot n₀, extra budgets b̄ (mean attempts per problem).

    Args:
      key: ``jax.random`` key: the pilot sub-samples use it, the held-out orders of the sequential policy
        ``fold_in(key, 1)``, the bootstrap over problems ``stats.numpy_rng(key, 2)``.
      n, c: logged attempts and successes per problem (G, K) (or (K,)); ``mask`` marks real problems.
      pilot: n₀ attempts per problem sub-sampled (without replacement) as the pilot; must be < every n_i.
      budgets: mean extra attempts per problem (the group's total is b̄ × its number of problems); each must fit
        the held-out attempts for uniform spending (b̄ ≤ min n_i − n₀).
      policies_: subset of ``uniform, binned, greedy, lagrangian, sequential``.
      repeats: pilot draws; rounds, sequential_draws: of the sequential policy;
      bootstrap: problem resamples for the multiplier interval (level: its central coverage).
    Returns:
      :class:`AllocationBacktest`.
    References:
      spec difficulty_and_allocation.md §4 (exact hypergeometric scoring); Snell et al. arXiv 2408.03314 (compute
      multiplier relative to uniform best-of-N).
    """
    c = np.asarray(c, np.float64)
    if c.ndim == 1:
        c, n = c[None], np.asarray(n, np.float64)[None] if np.ndim(n) == 1 else n
        mask = None if mask is None else np.asarray(mask)[None]
    n = np.broadcast_to(np.asarray(n, np.float64), c.shape)
    G, K = c.shape
    mask = np.ones((G, K)) if mask is None else np.asarray(mask, np.float64)
    live = mask > 0
    pilot = int(pilot)
    nmin = float(np.min(np.where(live, n, np.inf)))
    if pilot < 1 or pilot >= nmin:
        raise InputError(f"--pilot must be between 1 and the smallest logged n minus 1 ({nmin - 1:g}), got {pilot}")
    for p in policies_:
        if p not in policies.POLICIES:
            raise InputError(f"policy must be one of {', '.join(policies.POLICIES)}; got {p!r}")
    b = np.atleast_1d(np.asarray(budgets, np.float64))
    cap = np.where(live, n - pilot, 0.0)
    capmin = float(np.min(cap[live]))
    if np.any(b < 0) or np.any(b > capmin) or not np.all(np.isfinite(b)):
        bad = b[(b < 0) | (b > capmin) | ~np.isfinite(b)][0]
        raise InputError(
            f"budget (mean extra attempts per problem) must be between 0 and the held-out attempts "
            f"of every problem ({capmin:g}), got {bad:g}"
        )
    R = int(repeats)
    check(R >= 1, f"repeats must be ≥ 1, got {repeats}")
    n_live = np.where(live, n, 1)
    k0 = subsample(key, n_live, np.where(live, c, 0), np.minimum(pilot, n_live), R)  # (R, G, K)
    k0 = np.where(live[None], k0, 0.0)
    nn = np.full((R * G, K), float(pilot))
    post = beta_posteriors(nn, k0.reshape(R * G, K), np.broadcast_to(mask, (R, G, K)).reshape(R * G, K))
    mask_f = np.broadcast_to(mask, (R, G, K)).reshape(R * G, K)
    cap_f = np.broadcast_to(cap, (R, G, K)).reshape(R * G, K)
    k_f = k0.reshape(R * G, K)
    totals = b[None, :] * mask_f.sum(axis=-1)[:, None]  # (RG, B) total extra attempts per group
    unsolved = (k_f == 0) & (mask_f > 0)
    M = policies.auto_max_extra(totals, None, mask_f, unsolved, cap=cap_f)
    table = gain_table(post, "coverage", max_extra=M, pilot_c=k_f, mask=mask_f, cap=cap_f)
    n_f = np.broadcast_to(n, (R, G, K)).reshape(R * G, K)
    kk_f = np.broadcast_to(c, (R, G, K)).reshape(R * G, K)

    def score(extra_RGxBxK):
        contrib_c = realised_contributions(
            n_f[:, None, :], kk_f[:, None, :], pilot, k_f[:, None, :], np.minimum(extra_RGxBxK, cap_f[:, None, :])
        )
        return contrib_c * mask_f[:, None, :]

    contrib, realised, expected = {}, {}, {}
    for p in policies_:
        if p == "sequential":
            T = heldout_first_success(jax.random.fold_in(key, 1), n_f, kk_f, pilot, k_f, draws=int(sequential_draws))
            contrib_c = np.zeros((R * G, b.size, K))
            for j in range(b.size):  # one budget column at a time bounds the memory of the per-round tables
                res = sequential(
                    post, totals[:, j : j + 1], T, pilot_c=k_f, mask=mask_f, cap=cap_f, rounds=rounds, max_extra=M
                )  # the table length of the largest budget: one compiled program for every budget and round
                contrib_c[:, j] = res.solved_problems[:, :, 0].mean(axis=0)  # per-problem chance over the draws
            contrib[p] = contrib_c
            realised[p] = (contrib_c.sum(-1) / mask_f.sum(-1)[:, None]).reshape(R, G, b.size)
            expected[p] = np.full((R, G, b.size), np.nan)
            continue
        if p == "uniform":
            alloc = policies.uniform(table, totals, cap=cap_f)
        elif p == "binned":
            alloc = policies.binned(table, totals, score=post.mean(), bins=bins)
        elif p == "greedy":
            alloc = policies.greedy(table, totals)
        else:
            alloc = policies.lagrangian(table, totals)
        contrib_c = score(alloc.extra)
        contrib[p] = contrib_c
        realised[p] = (contrib_c.sum(-1) / mask_f.sum(-1)[:, None]).reshape(R, G, b.size)
        expected[p] = alloc.value.reshape(R, G, b.size)
    # uniform curve on a grid of per-problem extra attempts, exact
    grid = _uniform_grid(int(capmin), b)
    ucontrib = score(np.broadcast_to(grid[None, :, None], (R * G, grid.size, K)))
    ucurve = (ucontrib.sum(-1) / mask_f.sum(-1)[:, None]).reshape(R, G, grid.size)
    # multipliers: point from the mean curves; interval from bootstrap over problems × repeats
    rng = numpy_rng(key, 2)
    W = np.zeros((G, int(bootstrap), K))
    for g in range(G):  # one multinomial draw per group (a handful of groups)
        idx = np.flatnonzero(live[g])
        W[g][:, idx] = rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size), size=int(bootstrap))
    Wn = W / W.sum(-1, keepdims=True)
    u_boot = np.einsum("rguk,gtk->rgut", ucontrib.reshape(R, G, grid.size, K), Wn)
    mult, lo, hi = {}, {}, {}
    alpha = (1.0 - level) / 2
    for p in policies_:
        point = _invert(ucurve.mean(0), grid, realised[p].mean(0)) / np.where(b > 0, b, np.nan)
        mult[p] = point
        pb = np.einsum("rgbk,gtk->rtgb", contrib[p].reshape(R, G, b.size, K), Wn)
        ub = np.moveaxis(u_boot, -1, 1)
        m_b = _invert(ub, grid, pb) / np.where(b > 0, b, np.nan)
        m_b = m_b.reshape(-1, G, b.size)
        with np.errstate(invalid="ignore"):
            lo[p] = np.nanquantile(m_b, alpha, axis=0)
            hi[p] = np.nanquantile(m_b, 1 - alpha, axis=0)
    groups = list(groups) if groups is not None else [{} if G == 1 else {"group": g} for g in range(G)]
    return AllocationBacktest(b, pilot, tuple(policies_), realised, expected, mult, lo, hi, grid, ucurve, groups)
