"""Counts tables → the padded arrays of the allocation API, and an allocation plan → printable records.

What ``scaling-theory allocate`` and ``scaling-theory frontier`` need around :func:`api.allocate` and
:func:`frontier.frontier`: :func:`stack_counts` (groups padded to a common number of problems, with an
optional per-attempt cost column), :func:`plan_records` (one JSON object and one table row per group and
budget) and :func:`frontier_budgets` (the frontier's log-spaced average spends).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["frontier_budgets", "plan_records", "stack_counts"]


def stack_counts(
    df: pd.DataFrame, group_by: Sequence[str], cost_column: str | None = None
) -> tuple[list[dict], list[list], np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Split a counts table into groups padded to (G, K): padding n = 1, k = 0, mask = 0, cost = 1.

    Args:
      df: validated counts table (``problem, n, k`` + grouping columns [+ ``cost_column``]).
      group_by: grouping columns.
      cost_column: per-attempt cost column (positive), or ``None``.

    Returns:
      ``(groups, problems, n, k, mask, cost)``: the group labels, each group's problem ids, arrays of
      shape (G, K), and ``cost`` (G, K) or ``None`` without a cost column.
    """
    from scaling_theory.io import numeric_column, split_groups

    if cost_column is not None:
        numeric_column(df, cost_column, positive=True)  # one clear line for zeros, negatives, NaN
    parts = split_groups(df, list(group_by))
    size = max(len(s) for _, s in parts)
    G = len(parts)
    n, k, mask = np.ones((G, size)), np.zeros((G, size)), np.zeros((G, size))
    cost = np.ones((G, size))
    problems = []
    for i, (_, sub) in enumerate(parts):  # one row per group
        L = len(sub)
        n[i, :L], k[i, :L], mask[i, :L] = sub["n"].to_numpy(float), sub["k"].to_numpy(float), 1.0
        if cost_column is not None:
            cost[i, :L] = sub[cost_column].to_numpy(float)
        problems.append(sub["problem"].tolist())
    return [g for g, _ in parts], problems, n, k, mask, (cost if cost_column is not None else None)


def plan_records(plan: Any, groups: Sequence[dict], problems: Sequence[Sequence]) -> tuple[list[dict], list[dict]]:
    """One JSON object and one table row per (group, budget) of an allocation plan (``api.allocate``).

    Args:
      plan: the result of :func:`scaling_theory.allocation.api.allocate`.
      groups: group labels; problems: each group's problem ids (as from :func:`stack_counts`).

    Returns:
      ``(objects, rows)``: objects ``group, budget, policy, expected_coverage, uniform_expected_coverage,
      allocation: [{problem, pilot_n, pilot_k, extra}] [, posterior_sd] [, realised_coverage]``; rows with the
      group's columns, ``budget, policy, expected, uniform_expected, problems_given_extra, max_extra
      [, posterior_sd] [, realised_<policy> ...]``.
    """
    out, rows = [], []
    for g, grp in enumerate(groups):
        for j, b in enumerate(plan.budgets):
            extra = plan.extra[g, j]
            alloc = [
                {
                    "problem": p,
                    "pilot_n": int(plan.pilot_n[g, i]),
                    "pilot_k": int(plan.pilot_c[g, i]),
                    "extra": int(extra[i]) if float(extra[i]).is_integer() else round(float(extra[i]), 3),
                }
                for i, p in enumerate(problems[g])
            ]
            obj = {
                "group": grp,
                "budget": float(b),
                "policy": plan.policy,
                "expected_coverage": float(plan.expected_coverage[g, j]),
                "uniform_expected_coverage": float(plan.uniform_expected_coverage[g, j]),
                "allocation": alloc,
            }
            row = {
                **grp,
                "budget": float(b),
                "policy": plan.policy,
                "expected": obj["expected_coverage"],
                "uniform_expected": obj["uniform_expected_coverage"],
                "problems_given_extra": int(np.sum(extra[: len(problems[g])] > 0)),
                "max_extra": float(np.max(extra[: len(problems[g])])),
            }
            if plan.posterior_sd is not None:
                obj["posterior_sd"] = float(plan.posterior_sd[g, j])
                row["posterior_sd"] = obj["posterior_sd"]
            if plan.realised is not None:
                obj["realised_coverage"] = {p: float(v[g, j]) for p, v in plan.realised.items()}
                row.update({f"realised_{p}": float(v[g, j]) for p, v in plan.realised.items()})
            out.append(obj)
            rows.append(row)
    return out, rows


def frontier_budgets(
    n: np.ndarray,
    mask: np.ndarray,
    models: Sequence[str],
    *,
    cost: np.ndarray | None = None,
    cost_models: Mapping[str, Callable[[float], float]] | None = None,
    count: int = 16,
) -> list[float]:
    """Log-spaced average spends per problem from the cheapest single attempt to the dearest full log.

    Args:
      n, mask: attempts per problem and mask, (M, K) (one row per model).
      models: model names (keys of ``cost_models``).
      cost: per-attempt cost (M, K) when costs come from a column.
      cost_models: per model, the cost of s attempts (``costs.model_costs``), when not from a column.
      count: number of budgets.

    Returns:
      ``count`` budgets from min over models of one attempt's cost to max over models of the cost of
      the largest logged n.
    """
    if cost_models is not None:
        one = np.array([cost_models[m](1) for m in models])
        top = np.array([cost_models[m](n[j][mask[j] > 0].max()) for j, m in enumerate(models)])
    else:
        assert cost is not None
        mean_c = (cost * mask).sum(1) / mask.sum(1)
        one, top = mean_c, mean_c * np.array([n[j][mask[j] > 0].max() for j in range(len(models))])
    return np.geomspace(one.min(), top.max(), count).tolist()
