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


def allocation_section(n: np.ndarray, k: np.ndarray, mask: np.ndarray, groups: list[dict], extra: float) -> dict[str, Any] | None:
    """What ``extra`` more attempts per problem (on average) would buy, per group: best policy vs uniform.

    Args:
      n, k, mask: stacked counts ``(G, K)`` (``passk.grouping.stack_groups``).
      groups: the group labels.
      extra: extra attempts per problem, on average (the total extra budget is ``extra × problems``).
    Returns:
      None when the area is absent; otherwise ``{"rows": [{**group, "policy", "extra_per_problem",
      "expected_coverage", "gain_vs_uniform"}, ...], "note": str}``. The area's entry point is
      looked up by name (``report_rows``); an area without it gives ``{"rows": [], "note": ...}``.
    """
    if not available():
        return None
    module = importlib.import_module(AREA)
    entry = getattr(module, "report_rows", None)
    if entry is None:
        return {"rows": [], "note": f"{AREA} is installed but offers no report_rows(n, k, mask, groups, extra)."}
    return {"rows": list(entry(n, k, mask, groups, extra)), "note": f"computed by {AREA}.report_rows"}
