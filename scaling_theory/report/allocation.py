"""Adapter between the report and the allocation area (``scaling_theory.allocation``), which is optional.

The report shows "what an extra budget would buy" only when that area is installed. This module is
the single place that knows its API, so that wiring it is a one-function change.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import numpy as np

AREA = "scaling_theory.allocation"


def available() -> bool:
    """True when the allocation area is importable (``importlib.util.find_spec``)."""
    try:
        return importlib.util.find_spec(AREA) is not None
    except (ImportError, ValueError):
        return False


def _rows_from_area(
    key: Any, n: np.ndarray, k: np.ndarray, mask: np.ndarray, groups: list[dict], extra: float
) -> list[dict]:
    """Greedy allocation (exact for expected coverage) of ``extra`` attempts per problem vs uniform spending."""
    from scaling_theory.allocation import allocate

    mask = np.asarray(mask, np.float64)
    problems = mask.sum(axis=1)
    budgets = sorted({float(extra * p) for p in problems})
    plan = allocate(key, n, k, budgets, mask=mask, policy="greedy", objective="coverage")
    rows = []
    for g, label in enumerate(groups):
        if not np.any((np.asarray(k)[g] > 0) * mask[g]):  # no success: the Beta fit sits at its bound
            rows.append(
                {
                    **label,
                    "policy": "greedy",
                    "extra_per_problem": float(extra),
                    "coverage_now": 0.0,
                    "expected_coverage": None,
                    "uniform_expected_coverage": None,
                    "gain_vs_uniform": None,
                    "note": "no success in the logs: no posterior to allocate by",
                }
            )
            continue
        b = budgets.index(float(extra * problems[g]))
        best, uni = float(plan.expected_coverage[g, b]), float(plan.uniform_expected_coverage[g, b])
        solved = float(np.sum((np.asarray(k)[g] > 0) * mask[g]) / problems[g])
        rows.append(
            {
                **label,
                "policy": "greedy",
                "extra_per_problem": float(extra),
                "total_extra": budgets[b],
                "coverage_now": solved,
                "expected_coverage": best,
                "uniform_expected_coverage": uni,
                "gain_vs_uniform": best - uni,
            }
        )
    return rows


def allocation_section(
    key: Any, n: np.ndarray, c: np.ndarray, mask: np.ndarray, groups: list[dict], extra: float
) -> dict[str, Any] | None:
    """What ``extra`` more attempts per problem (on average) would buy, per group: best policy vs uniform.

    Args:
      key: ``jax.random`` key handed to ``allocation.allocate`` (its greedy plan without a pilot draws nothing).
      n, k, mask: stacked counts ``(G, K)`` (``passk.grouping.stack_groups``).
      groups: the group labels.
      extra: extra attempts per problem, on average (the total extra budget is ``extra × problems``).
    Returns:
      None when the area is absent; otherwise ``{"rows": [{**group, "policy", "extra_per_problem",
      "expected_coverage", "uniform_expected_coverage", "gain_vs_uniform", ...}, ...], "note": str}``. An area
      module that defines ``report_rows(n, c, mask, groups, extra)`` supplies the rows itself; otherwise
      ``scaling_theory.allocation.allocate`` (greedy under the Beta posteriors, expected coverage) does.
    """
    if not available():
        return None
    module = importlib.import_module(AREA)
    entry = getattr(module, "report_rows", None)
    if entry is not None:
        return {"rows": list(entry(n, c, mask, groups, extra)), "note": f"computed by {AREA}.report_rows"}
    rows = _rows_from_area(key, n, c, mask, groups, extra)
    note = (
        f"computed by {AREA}.allocate: {extra:g} more attempts per problem on average, spent greedily by marginal "
        "gain under each problem's Beta posterior (optimal for expected coverage), against the same budget "
        "spent uniformly. Expected coverage = expected fraction of problems solved at least once."
    )
    return {"rows": rows, "note": note}
