"""Benchmark: allocation of 100 groups × 1,000 problems × 20 budgets (goal: < 5 s in one compiled call on 2 cores).

Side by side in one run, on the same Beta posteriors (θ ~ Beta with per-group (α, β)), in two scenarios:

* ``equal pilots`` (the issue's workload): a pilot of 32 attempts per problem, so every problem the pilot left
  unsolved has the same posterior — the fused kernel keeps one table row per *distinct* posterior;
* ``unequal pilots``: pilots of 8–64 attempts per problem (≈ 55 distinct posteriors among the unsolved);
* ``all distinct`` (the worst case): every problem its own prior (α_i, β_i), so every row of the table differs.

The two sides:

* ours — ``policies.lagrangian_beta_coverage``: gain table and dual bisection fused in one jitted call
  (vectorised binary searches, groups mapped in chunks);
* the greedy as usually written — NumPy: build each group's (K, M) table of gains, sort all K·M units, take the
  prefix that fits each budget (run on ``--numpy-groups`` groups and scaled up; no public package implements
  this allocation, so this is the peer). Both must give the same allocations.

Prints the machine and the load average before and after (the machine is shared: timings are under load).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe  # noqa: E402


def numpy_greedy(a, b, solved, budgets, M):
    """Sort-based greedy per group (unit costs), NumPy."""
    G, K = a.shape
    out = np.zeros((G, budgets.size, K), np.int64)
    j = np.arange(M)
    for g in range(G):  # the usual way: one table and one sort per group
        log_s = np.concatenate(
            [np.zeros((K, 1)), np.cumsum(np.log1p(-a[g][:, None] / (a[g][:, None] + b[g][:, None] + j)), 1)[:, :-1]], 1
        )
        gain = np.exp(log_s) * a[g][:, None] / (a[g][:, None] + b[g][:, None] + j)
        gain[solved[g]] = 0.0
        flat = gain.ravel()
        order = np.argsort(-flat, kind="stable")
        pos = int(np.sum(flat > 0))
        for i, bud in enumerate(budgets):
            take = min(int(bud), pos)
            out[g, i] = np.bincount(order[:take] // M, minlength=K)
    return out


def _scenario(rng, groups, problems, kind: str):
    from scaling_theory.allocation.posteriors import beta_posterior

    size = (groups, problems) if kind == "distinct" else (groups, 1)
    alpha, beta = rng.uniform(0.2, 1.0, size), rng.uniform(2.0, 10.0, size)
    theta = rng.beta(alpha, beta, (groups, problems))
    n0 = rng.integers(8, 65, (groups, problems)) if kind == "unequal" else np.full((groups, problems), 32)
    k = rng.binomial(n0, theta).astype(float)
    return beta_posterior(alpha + k, beta + n0 - k), k


def main() -> None:
    from scaling_theory.allocation.policies import auto_max_extra, lagrangian_beta_coverage

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer NumPy groups")
    ap.add_argument("--numpy-groups", type=int, default=10)
    args = ap.parse_args()
    print(describe())
    print(f"load average before (1, 5, 15 min): {os.getloadavg()}")
    rng = np.random.default_rng(0)
    groups, problems = 100, 1000
    budgets = np.round(np.geomspace(1, 32, 20) * problems)  # mean 1 … 32 extra attempts per problem
    scenarios = (
        ("equal pilots (32 each)", "equal"),
        ("unequal pilots (8–64)", "unequal"),
        ("all distinct posteriors", "distinct"),
    )
    for label, kind in scenarios:
        post, k = _scenario(rng, groups, problems, kind)
        M = auto_max_extra(budgets, None, np.ones_like(k), k == 0)
        distinct = np.mean(
            [np.unique(np.stack([post.a[g], post.b[g]])[:, k[g] == 0], axis=1).shape[1] for g in range(groups)]
        )
        print(
            f"\n{label}: {groups} groups × {problems} problems × {budgets.size} budgets; table length M = {M}; "
            f"unsolved after the pilot: {np.mean(k == 0):.1%}; distinct unsolved posteriors per group: {distinct:.0f}"
        )
        t0 = time.perf_counter()
        extra = lagrangian_beta_coverage(post, budgets, pilot_c=k, max_extra=M)
        first = time.perf_counter() - t0
        best = np.inf
        for _ in range(2):
            t0 = time.perf_counter()
            extra = lagrangian_beta_coverage(post, budgets, pilot_c=k, max_extra=M)
            best = min(best, time.perf_counter() - t0)
        g_np = min(args.numpy_groups if not args.quick else 3, groups)
        t0 = time.perf_counter()
        ref = numpy_greedy(post.a[:g_np], post.b[:g_np], k[:g_np] > 0, budgets, M)
        t_np = (time.perf_counter() - t0) * groups / g_np
        same = np.mean(np.all(ref == extra[:g_np], axis=-1))
        print(
            f"ours, one compiled call (all groups and budgets): {best:.2f} s  (first call incl. compile: {first:.2f} s)"
        )
        print(f"NumPy sort-based greedy: {t_np:.2f} s for all groups (timed on {g_np} groups, scaled)")
        print(
            f"identical allocations on the compared groups: {100 * same:.1f}% of (group, budget) pairs; "
            f"speed-up {t_np / best:.1f}×"
        )
        print(
            f"largest allocation to one problem: {int(extra.max())} < M = {M} (the table length did not bind)"
            if extra.max() < M
            else f"warning: the table length M = {M} bound some allocations"
        )
        print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
