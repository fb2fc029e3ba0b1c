"""Counts tables → padded arrays: one row of problems per group, for the batched fits and predictors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.io import split_groups
from scaling_theory.results import Result


@dataclass(frozen=True)
class StackedCounts(Result):
    """``n``, ``k``, ``mask`` of shape (G, K_max) (padding: n = 1, k = 0, mask = 0) and the group labels.

    Rows: one per (group, problem position), padding included (``mask`` 0).
    """

    _row_fields = ("n", "k", "mask")
    _index = ("group", "problem")

    groups: list[dict]
    n: np.ndarray
    k: np.ndarray
    mask: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        """Number of real problems per group (G,)."""
        return self.mask.sum(axis=1).astype(int)


def stack_groups(counts: pd.DataFrame, group_by: Sequence[str] = ()) -> StackedCounts:
    """Split a validated counts table (``problem, n, k`` + groups) and pad the groups to a common length."""
    parts = split_groups(counts, list(group_by))
    size = max(len(sub) for _, sub in parts)
    g = len(parts)
    n = np.ones((g, size))
    k = np.zeros((g, size))
    mask = np.zeros((g, size))
    for i, (_, sub) in enumerate(parts):  # one row per group (a handful of groups), not per element
        n[i, : len(sub)] = sub["n"].to_numpy(dtype=np.float64)
        k[i, : len(sub)] = sub["k"].to_numpy(dtype=np.float64)
        mask[i, : len(sub)] = 1.0
    return StackedCounts([grp for grp, _ in parts], n, k, mask)


def describe_group(group: dict) -> str:
    """'model=Pythia 70M' (or 'all problems' without grouping) for messages."""
    return ", ".join(f"{c}={v}" for c, v in group.items()) if group else "all problems"


def require_fittable(stacked: StackedCounts) -> None:
    """Raise InputError for a group whose Beta-binomial likelihood has no finite maximum.

    With no success at all (or every attempt a success) the likelihood increases towards α → 0
    (resp. β → 0): no (α, β) describes the data and extrapolation is meaningless.
    """
    for i, grp in enumerate(stacked.groups):
        live = stacked.mask[i] > 0
        k, n = stacked.k[i][live], stacked.n[i][live]
        if np.all(k == 0):
            raise InputError(
                f"group {describe_group(grp)}: no successes (k = 0 for all {live.sum()} problems); "
                "the Beta-binomial fit has no finite maximum"
            )
        if np.all(k == n):
            raise InputError(
                f"group {describe_group(grp)}: every attempt succeeded (k = n for all problems); "
                "the Beta-binomial fit has no finite maximum"
            )


def detect_stopped(attempts: pd.DataFrame, group_by: Sequence[str] = ()) -> bool:
    """True when an attempts table looks like a log that stops at the first success.

    Every problem has at most one success and, where it has one, it is its last attempt; and at least one
    problem was solved before the longest run ended (otherwise a fixed-n log is just as consistent).
    """
    keys = list(group_by) + ["problem"]
    g = attempts.groupby(keys, sort=False, dropna=False)
    wins = g["correct"].sum()
    if wins.max() > 1 or wins.max() < 1:
        return False
    last = g["attempt"].transform("max")
    solved_at_last = attempts.loc[attempts["correct"] == 1, "attempt"] == last[attempts["correct"] == 1]
    if not bool(solved_at_last.all()):
        return False
    runs = g["attempt"].count()
    return bool((runs[wins == 1] < runs.max()).any())
