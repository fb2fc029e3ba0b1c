"""One call from counts (or a grid posterior) to allocations: what ``scaling-theory allocate`` runs.

:func:`allocate` takes pilot counts (G, K) — the logged counts themselves, or a pilot of n₀ attempts
sub-sampled from them (back-test mode, scored exactly on the held-out attempts) — fits the Beta posteriors
(``passk.mle``), builds the gain table of the objective and runs the policy for every group and budget.
:func:`allocate_grid` does the same from any per-problem grid posterior ``(theta_J, log_post_GxKxJ)`` (e.g.
``passk.mixing.posterior_grid``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from scaling_theory.allocation import policies as P
from scaling_theory.allocation.gains import estimate_sd, gain_table, values
from scaling_theory.allocation.posteriors import Posterior, difficulty_posteriors, grid_posterior
from scaling_theory.allocation.sequential import DEFAULT_ROUNDS, posterior_first_success, sequential
from scaling_theory.errors import InputError
from scaling_theory.numerics import check
from scaling_theory.results import Result
from scaling_theory.stats import subsample

SEQUENTIAL_DRAWS = 64


@dataclass(frozen=True)
class Plan(Result):
    """Allocations of one policy: ``extra`` (G, B, K) (sequential: mean attempts used, float), expected coverage
    (G, B) of the policy and of uniform spending, the pilot counts and, in back-test mode, realised coverage
    per policy {policy: (G, B)}; ``posterior_sd`` (G, B) for the estimate objective.

    Rows: one per (group, budget, problem): the pilot counts and extra attempts of the problem, the group's
    expected coverages (and ``realised_<policy>``, ``posterior_sd`` when computed) at that budget.
    """

    _index = ("group", "budgets", "problem")
    _axes = {
        name: ("group", "budgets")
        for name in ("expected_coverage", "uniform_expected_coverage", "realised", "posterior_sd")
    } | {"pilot_n": ("group", "problem"), "pilot_c": ("group", "problem")}
    _columns = {"budgets": "budget", "pilot_c": "pilot_k"}  # the frame keeps the counts table's column name

    policy: str
    objective: str
    budgets: np.ndarray
    extra: np.ndarray
    expected_coverage: np.ndarray
    uniform_expected_coverage: np.ndarray
    pilot_n: np.ndarray
    pilot_c: np.ndarray
    realised: dict | None = None
    posterior_sd: np.ndarray | None = None


def _run_policy(policy, table, budgets, cost, post, cap):
    if policy == "uniform":
        return P.uniform(table, budgets, cost, cap=cap).extra
    if policy == "greedy":
        return P.greedy(table, budgets, cost).extra
    if policy == "lagrangian":
        return P.lagrangian(table, budgets, cost).extra
    if policy == "binned":
        return P.binned(table, budgets, cost, score=post.mean()).extra
    raise InputError(f"policy must be one of {', '.join(P.POLICIES)}; got {policy!r}")


def _plan(
    key: jax.Array,
    post: Posterior,
    pilot_n,
    pilot_c,
    mask,
    budgets,
    policy,
    objective,
    cost,
    cap,
    target_n,
    rounds,
    heldout_T=None,
) -> Plan:
    if policy not in P.POLICIES:
        raise InputError(f"policy must be one of {', '.join(P.POLICIES)}; got {policy!r}")
    b = np.atleast_1d(np.asarray(budgets, np.float64))
    check(
        b.size >= 1 and np.all(np.isfinite(b)) and np.all(b >= 0),
        f"--budget must be ≥ 0, got {b[~(np.isfinite(b) & (b >= 0))][:1] if b.size else 'nothing'}",
    )
    unsolved = (np.asarray(pilot_c) == 0) & (mask > 0)
    M = P.auto_max_extra(b, cost, mask, unsolved if objective == "coverage" else mask, cap=cap)
    cov_table = gain_table(post, "coverage", max_extra=M, pilot_c=pilot_c, mask=mask, cap=cap)
    if objective == "coverage":
        table = cov_table
    else:
        Me = min(M, 256)
        table = gain_table(post, "estimate", max_extra=Me, pilot_c=pilot_c, mask=mask, cap=cap, target_n=target_n)
    uni = P.uniform(cov_table, b, cost, cap=cap)
    sd = None
    if policy == "sequential":
        if objective != "coverage":
            raise InputError("the sequential policy stops at the first success: it needs --objective coverage")
        T = heldout_T if heldout_T is not None else posterior_first_success(key, post, SEQUENTIAL_DRAWS)
        res = sequential(post, b, T, pilot_c=pilot_c, mask=mask, cost=cost, cap=cap, rounds=rounds)
        extra = res.used.mean(axis=0)
        expected = res.value
    else:
        extra = _run_policy(policy, table, b, cost, post, cap)
        expected = values(cov_table, extra)
        if objective == "estimate":
            sd = estimate_sd(table, values(table, np.minimum(extra, table.max_extra)))
    return Plan(policy, objective, b, extra, expected, uni.value, np.asarray(pilot_n), np.asarray(pilot_c), None, sd)


def allocate(
    key: jax.Array,
    n,
    c,
    budgets: Sequence[float],
    *,
    mask=None,
    policy: str = "greedy",
    objective: str = "coverage",
    cost=None,
    pilot: int | None = None,
    target_n: float | None = None,
    rounds: int = DEFAULT_ROUNDS,
    difficulty: str = "beta",
) -> Plan:
    """Allocate ``budgets`` (total extra spend per group, cost units) over the problems of every group.

    Args:
      key: ``jax.random`` key — of the pilot sub-sample (``--pilot``), of the random orders of the held-out
        attempts (``fold_in(key, 1)``) and of the sequential policy's posterior draws (``fold_in(key, 2)``);
        the other policies without ``pilot`` are deterministic.
      n, c: logged counts (G, K); ``mask`` marks real problems; ``cost`` per attempt (G, K) (default 1).
      policy: ``greedy | uniform | binned | lagrangian | sequential``; objective: ``coverage | estimate``.
      pilot: None — the logged counts are the pilot; n₀ — a pilot of n₀ attempts per problem is sub-sampled
        (keyed, without replacement), the rest held out and every policy's realised coverage is scored exactly.
      target_n: N of pass@N for the estimate objective (default: the median logged n).
      difficulty: the difficulty model of the posteriors: ``beta`` (closed-form Beta posteriors, the default) or
        any family of ``passk.mixing.FAMILIES`` (``npmle``, ``gmodel``, ``beta_mix2`` ...: grid posteriors
        from ``passk.mixing.posterior_grid``, the :func:`allocate_grid` path).
    Returns:
      :class:`Plan`.
    """
    from scaling_theory.allocation import backtest as bt
    from scaling_theory.passk.mixing import FAMILIES

    if difficulty not in FAMILIES:
        raise InputError(f"--difficulty must be one of {', '.join(FAMILIES)}; got {difficulty!r}")

    c = np.atleast_2d(np.asarray(c, np.float64))
    n = np.broadcast_to(np.asarray(n, np.float64), c.shape) if np.ndim(n) < 2 else np.asarray(n, np.float64)
    mask = np.ones(c.shape) if mask is None else np.asarray(mask, np.float64)
    live = mask > 0
    if cost is not None:
        c_ = np.broadcast_to(np.asarray(cost, np.float64), c.shape)
        if not (np.all(np.isfinite(c_[live])) and np.all(c_[live] > 0)):
            bad = c_[live][~(np.isfinite(c_[live]) & (c_[live] > 0))][0]
            raise InputError(f"cost per attempt must be finite and > 0, got {bad:g}")
    if target_n is None:
        target_n = float(np.median(n[live]))
    if pilot is None:
        post = difficulty_posteriors(n, c, mask, difficulty=difficulty)
        return _plan(
            jax.random.fold_in(key, 2), post, n, c, mask, budgets, policy, objective, cost, None, target_n, rounds
        )
    pilot = int(pilot)
    nmin = float(np.min(n[live]))
    if pilot < 1 or pilot >= nmin:
        raise InputError(
            f"--pilot must be at least 1 and smaller than every logged n (smallest n = {nmin:g}), got {pilot}"
        )
    n_live = np.where(live, n, 1)
    k0 = np.where(live, subsample(key, n_live, np.where(live, c, 0), np.minimum(pilot, n_live), 1)[0], 0.0)
    n0 = np.full(c.shape, float(pilot))
    post = difficulty_posteriors(n0, k0, mask, difficulty=difficulty)
    cap = np.where(live, n - pilot, 0.0)
    T = bt.heldout_first_success(jax.random.fold_in(key, 1), n, c, pilot, k0, draws=SEQUENTIAL_DRAWS // 2)
    realised = {}
    for p in P.POLICIES:
        if objective != "coverage" and p == "sequential":
            continue
        pl = _plan(
            jax.random.fold_in(key, 2),
            post,
            n0,
            k0,
            mask,
            budgets,
            p,
            objective,
            cost,
            cap,
            target_n,
            rounds,
            heldout_T=T if p == "sequential" else None,
        )
        if p == "sequential":
            realised[p] = pl.expected_coverage  # simulated on the held-out attempts
        else:
            c_ = bt.realised_contributions(
                n[:, None], c[:, None], pilot, k0[:, None], np.minimum(pl.extra, cap[:, None])
            )
            realised[p] = np.sum(c_ * mask[:, None], -1) / mask.sum(-1)[:, None]
        if p == policy:
            chosen = pl
    return Plan(**{**chosen.__dict__, "realised": realised})


def allocate_grid(
    key: jax.Array,
    theta_J,
    log_post_GxKxJ,
    budgets,
    *,
    pilot_c,
    mask=None,
    policy: str = "greedy",
    objective: str = "coverage",
    cost=None,
    target_n: float | None = None,
    rounds: int = DEFAULT_ROUNDS,
) -> Plan:
    """:func:`allocate` from a per-problem grid posterior (e.g. ``passk.mixing.posterior_grid(fit, n, k, mask)``).

    Args:
      key: ``jax.random`` key of the sequential policy's posterior draws (the other policies are deterministic).
      theta_J: grid (J,); log_post_GxKxJ: log posterior weights per problem (normalised per problem).
      pilot_c: pilot successes (G, K) (coverage: problems already solved gain nothing).
      Others as in :func:`allocate`.
    """
    post = grid_posterior(theta_J, log_post_GxKxJ)
    mask = np.ones(post.shape) if mask is None else np.asarray(mask, np.float64)
    if objective == "estimate" and target_n is None:
        raise InputError("the estimate objective needs target_n")
    return _plan(
        key,
        post,
        np.full(post.shape, np.nan),
        np.broadcast_to(np.asarray(pilot_c, np.float64), post.shape),
        mask,
        budgets,
        policy,
        objective,
        cost,
        None,
        target_n,
        rounds,
    )
