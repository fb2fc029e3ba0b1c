"""Sequential allocation: sample in rounds, update the posteriors, stop a problem at its first success.

Round r of R spends ``remaining / (R − r)`` by the Lagrangian rule on the *current* posteriors (after the
failures seen so far: Beta(a, b + u) or grid weights × (1 − θ)^u) over the problems still unsolved; a problem
stops at its first success, so the attempts it would have used after it are refunded to later rounds
(spec §4, "Sequential"). Outcomes come from first-success times ``T`` (G, K) in extra attempts (inf: never):

* planning: :func:`posterior_first_success` draws θ from the posterior and T ~ Geometric(θ);
* back-test: ``backtest.heldout_first_success`` draws the position of the first success in a random order of
  the held-out logged attempts.

Attempts are counted one at a time within a round (the problem stops at its first success); the realised
value is the fraction of problems solved (pilot included), averaged over the draws of T.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from scaling_theory.allocation import policies
from scaling_theory.allocation.gains import gain_table
from scaling_theory.allocation.posteriors import BetaPosterior, Posterior, observe_failures
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result
from scaling_theory.stats import numpy_rng

DEFAULT_ROUNDS = 4
MAX_TABLE = 4096  # the longest per-round table (attempts per problem and round)


@dataclass(frozen=True)
class SequentialResult(Result):
    """Per draw (S), group (G) and budget (B): ``solved`` fraction, ``spend``; ``used`` and ``solved_problems``
    (S, G, B, K): attempts used and whether each problem ended solved (pilot included).

    Rows: one per (draw, group, budget, problem), with the group's solved fraction and spend repeated.
    """

    _index = ("draw", "group", "budgets", "problem")
    _axes = {
        "budgets": ("group", "budgets"),
        "solved": ("draw", "group", "budgets"),
        "spend": ("draw", "group", "budgets"),
    }
    _columns = {"budgets": "budget"}

    budgets: np.ndarray
    solved: np.ndarray
    spend: np.ndarray
    used: np.ndarray
    solved_problems: np.ndarray

    @property
    def value(self) -> np.ndarray:
        """Mean fraction solved over the draws, (G, B)."""
        return self.solved.mean(axis=0)


def posterior_first_success(key: jax.Array, post: Posterior, draws: int) -> np.ndarray:
    """First-success times (draws, G, K) in fresh attempts: θ from the posterior, T ~ Geometric(θ) (inf if θ = 0).

    Args:
      key: ``jax.random`` key (NumPy draws through ``stats.numpy_rng(key)``).
      post: posteriors (G, K), Beta or grid.
      draws: number of draws S ≥ 1.
    Returns:
      (S, G, K) float64 array of first-success times (1, 2, ...; inf where θ = 0).
    """
    check(int(draws) >= 1, f"draws must be ≥ 1, got {draws}")
    rng = numpy_rng(key)
    shape = (int(draws),) + post.shape
    if isinstance(post, BetaPosterior):
        theta = rng.beta(np.broadcast_to(post.a, shape), np.broadcast_to(post.b, shape))
    else:
        cdf = np.cumsum(np.exp(post.log_post), axis=-1)
        u = rng.random(shape)[..., None]
        idx = np.minimum(np.sum(cdf[None] < u * cdf[None][..., -1:], axis=-1), post.theta.size - 1)
        theta = post.theta[idx]
    u = rng.random(shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.ceil(np.log(u) / np.log1p(-theta))
    t = np.where(theta >= 1.0, 1.0, np.where(theta <= 0.0, np.inf, np.maximum(t, 1.0)))
    return t


@x64
def sequential(
    post: Posterior,
    budgets,
    first_success,
    *,
    pilot_c=None,
    mask=None,
    cost=None,
    cap=None,
    rounds: int = DEFAULT_ROUNDS,
    max_extra: int | None = None,
) -> SequentialResult:
    """Simulate the sequential coverage policy for every draw of first-success times.

    Args:
      post: posteriors (G, K) after the pilot.
      budgets: total extra spend per group, (B,) or (G, B), in cost units.
      first_success: T (S, G, K) — extra attempts until the first success (inf: never within the cap).
      pilot_c: pilot successes (problems with k > 0 are already solved); mask: real problems; cost: per attempt.
      cap: most extra attempts per problem; rounds: R ≥ 1; max_extra: table length of the rounds (default: enough
        for the whole budget spread over the unsolved problems); doubled in a round where it binds.
    Returns:
      :class:`SequentialResult`.
    References:
      spec difficulty_and_allocation.md §4 (sequential variant); Kazdan et al. arXiv 2510.05197 (dynamic sampling).
    """
    check(int(rounds) >= 1, f"rounds must be ≥ 1, got {rounds}")
    T = np.asarray(first_success, np.float64)
    S = T.shape[0]
    G, K = post.shape
    mask = np.ones((G, K)) if mask is None else np.asarray(mask, np.float64)
    cost = np.ones((G, K)) if cost is None else np.broadcast_to(np.asarray(cost, np.float64), (G, K))
    cost = np.where(mask > 0, cost, 1.0)
    solved0 = np.zeros((G, K), bool) if pilot_c is None else np.broadcast_to(np.asarray(pilot_c) > 0, (G, K))
    cap = np.full((G, K), np.inf) if cap is None else np.broadcast_to(np.asarray(cap, np.float64), (G, K))
    b = np.asarray(budgets, np.float64)
    b = np.broadcast_to(np.atleast_1d(b), (G, np.atleast_1d(b).shape[-1])) if b.ndim <= 1 else b
    check(b.shape[0] == G, f"budgets must be (B,) or (G={G}, B), got shape {b.shape}")
    check(np.all(np.isfinite(b) & (b >= 0)), "budget must be finite and ≥ 0")
    B = b.shape[1]
    # batch = (draw, group, budget) flattened into the group axis of the gain tables
    rep = lambda x: np.broadcast_to(x[None, :, None], (S, G, B, K)).reshape(S * G * B, K)  # noqa: E731
    mask_f, cost_f, cap_f = rep(mask), rep(cost), rep(cap)
    T_f = np.broadcast_to(T[:, :, None, :], (S, G, B, K)).reshape(-1, K)
    solved = rep(solved0).copy()
    used = np.zeros_like(T_f)
    remaining = np.broadcast_to(b[None], (S, G, B)).reshape(-1).copy()
    base_post: Posterior
    if isinstance(post, BetaPosterior):
        base_post = BetaPosterior(rep(post.a), rep(post.b))
    else:
        lp = np.broadcast_to(post.log_post[None, :, None], (S, G, B, K, post.theta.size)).reshape(
            -1, K, post.theta.size
        )
        base_post = type(post)(post.theta, lp)
    # one table length for every round (one compiled program), doubled in a round where it binds
    M = int(max_extra or policies.auto_max_extra(remaining, cost_f, mask_f, (mask_f > 0) & ~solved, cap=cap_f))
    for r in range(int(rounds)):
        spend_r = remaining / (int(rounds) - r)
        room = np.maximum(cap_f - used, 0.0)
        post_r = observe_failures(base_post, used)
        while True:
            if isinstance(post_r, BetaPosterior):  # the fused kernel: one table row per distinct posterior
                alloc = policies.lagrangian_beta_coverage(
                    post_r, spend_r[:, None], pilot_c=solved, mask=mask_f, cost=cost_f, cap=room, max_extra=M
                )[:, 0, :]
            else:
                table = gain_table(
                    post_r, "coverage", max_extra=M, pilot_c=solved.astype(np.float64), mask=mask_f, cap=room
                )
                alloc = policies.lagrangian(table, spend_r[:, None], cost_f).extra[:, 0, :]
            if M >= MAX_TABLE or not np.any((alloc >= M) & (room > M)):
                break
            M *= 2
        hit = (~solved) & (T_f <= used + alloc)
        att = np.where(hit, T_f - used, alloc)
        used = used + att
        solved = solved | hit
        remaining = np.maximum(remaining - np.sum(att * cost_f, axis=-1), 0.0)
    frac = np.sum(solved * mask_f, axis=-1) / np.sum(mask_f, axis=-1)
    spend = np.sum(used * cost_f, axis=-1)
    return SequentialResult(
        b,
        frac.reshape(S, G, B),
        spend.reshape(S, G, B),
        used.reshape(S, G, B, K),
        (solved & (mask_f > 0)).reshape(S, G, B, K),
    )
