"""Per-group tables of a counts log: what ``scaling-theory passk estimate|fit|predict`` print, one call each.

* :func:`read_grouped` — a log file (counts, attempts or another format of ``io.read_counts``) → padded
  per-group arrays (:class:`~scaling_theory.passk.grouping.StackedCounts`), recognising logs that stop
  at each problem's first success;
* :func:`estimate_table` — unbiased (Chen) and plug-in pass@k per group and k;
* :func:`fit_table` — the batched Beta-binomial MLE per group with standard errors (degenerate groups
  flagged with a distribution-free bound on their mean success probability);
* :func:`predict_groups` — pass@N / ASR@N per group and budget: degenerate groups (no success, or every
  attempt a success) get the distribution-free bound, the others one batched :func:`predictors.predict`.

Rows are JSON-able dicts with a leading ``"group"`` (the group's column values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.passk.grouping import StackedCounts

__all__ = ["GroupPredictions", "estimate_table", "fit_table", "predict_groups", "read_grouped"]


def read_grouped(
    path: str | Path,
    group_by: Sequence[str] = (),
    *,
    format: str = "auto",
    stopped: bool | None = None,
) -> tuple[StackedCounts, bool]:
    """Read a log and stack its groups; decide whether it stops at each problem's first success.

    Args:
      path: counts (``problem, n, k``) or attempts (``problem, attempt, correct``) table, or another log
        format of ``io.read_counts``.
      group_by: grouping columns.
      format: ``auto`` or one of ``io.LOG_FORMATS``.
      stopped: ``None``: not a question (estimators); ``True``: the log stops at the first success;
        ``False``: detect it from an attempts table (every problem ends at its only success).

    Returns:
      ``(stacked, stopped)``: the padded counts and whether the log is treated as stopped (``True``
      where ``stopped`` was ``False`` means it was detected).
    """
    from scaling_theory.io import (
        aggregate_attempts,
        detect_format,
        is_attempts_table,
        read_counts,
        read_table,
        validate_attempts,
    )
    from scaling_theory.passk.grouping import detect_stopped, stack_groups

    if stopped is not None and (format if format != "auto" else detect_format(path)) == "attempts":
        df = read_table(path)
        if is_attempts_table(df):
            att = validate_attempts(df, group_by)
            stopped = bool(stopped or detect_stopped(att, group_by))
            return stack_groups(aggregate_attempts(att, group_by), group_by), stopped
    stacked = stack_groups(read_counts(path, group_by, format=format, announce=True), group_by)
    return stacked, bool(stopped)


def estimate_table(data: StackedCounts, k: Sequence[float]) -> list[dict[str, Any]]:
    """Unbiased (Chen et al.) and plug-in pass@k of every group at every k.

    Args:
      data: stacked counts.
      k: budgets, integers in [1, min n] of every group.

    Returns:
      One row per group and k: ``group, k, pass_at_k, plugin, problems, n_min``.
    """
    from scaling_theory.passk.estimators import pass_at_k_curve

    ks = np.asarray(k, dtype=np.float64)
    out = []
    for i, grp in enumerate(data.groups):
        live = data.mask[i] > 0
        n, c = data.n[i][live], data.k[i][live]
        bad = ks[(ks < 1) | (ks != np.round(ks)) | (ks > n.min())]
        if bad.size:
            raise InputError(
                f"k={bad[0]:g}: must be an integer between 1 and the smallest n ({n.min():g})"
                " for the unbiased estimator"
            )
        unbiased = np.asarray(pass_at_k_curve(n, c, ks))
        plugin = np.asarray(pass_at_k_curve(n, c, ks, estimator="plugin"))
        for j, kk in enumerate(ks):
            out.append(
                {
                    "group": grp,
                    "k": int(kk),
                    "pass_at_k": float(unbiased[j]),
                    "plugin": float(plugin[j]),
                    "problems": int(live.sum()),
                    "n_min": int(n.min()),
                }
            )
    return out


def fit_table(data: StackedCounts, zero_inflated: bool = False, *, level: float = 0.9) -> list[dict[str, Any]]:
    """Beta-binomial MLE of every group (one batched fit) with observed-information standard errors.

    A group with no success (or every attempt a success) has no finite MLE: it is flagged and gets the
    distribution-free one-sided ``level`` bound on its mean success probability (``passk.degenerate``)
    instead of (α, β); the other groups are fitted together as if it were absent.

    Args:
      data: stacked counts.
      zero_inflated: also fit a mass π of never-solved problems.
      level: confidence of a degenerate group's bound.

    Returns:
      One row per group: ``group, alpha, beta, se_alpha, se_beta, [pi, se_pi,] loglik, problems, mean_n,
      asr_at_n`` (the observed fraction of problems solved at least once), ``converged, at_bound, flag,
      mean_bound``. ``flag`` is ``"no_success"``/``"all_success"`` for a degenerate group (its fitted
      fields are ``None`` and ``mean_bound`` bounds θ̄ from above/below) and ``""`` otherwise (``mean_bound``
      ``None``).
    """
    from scaling_theory.passk import mle
    from scaling_theory.passk.degenerate import degenerate_flags, mean_bound

    flags = degenerate_flags(data.n, data.k, data.mask)
    good = np.flatnonzero(flags == "")
    bound = mean_bound(data.n, data.k, data.mask, level)
    res = mle.fit(data.n[good], data.k[good], data.mask[good], zero_inflated=zero_inflated) if good.size else None
    at = {int(g): j for j, g in enumerate(good)}
    names = ["alpha", "beta", "se_alpha", "se_beta"] + (["pi", "se_pi"] if zero_inflated else [])
    out = []
    for i, grp in enumerate(data.groups):
        live = data.mask[i] > 0
        j = at.get(i)
        row: dict[str, Any] = {"group": grp}
        if res is None or j is None:
            row.update(dict.fromkeys(names + ["loglik"]))
        else:
            row.update({f: float(getattr(res, f)[j]) for f in names + ["loglik"]})
        mean_n = float(data.n[i][live].mean())
        row.update(
            problems=int(live.sum()),
            mean_n=int(mean_n) if mean_n.is_integer() else mean_n,
            asr_at_n=float(np.mean(data.k[i][live] > 0)),
            converged=None if res is None or j is None else bool(res.converged[j]),
            at_bound=None if res is None or j is None else bool(res.at_bound[j]),
            flag=str(flags[i]),
            mean_bound=None if j is not None else float(bound[i]),
        )
        out.append(row)
    return out


@dataclass(frozen=True)
class GroupPredictions:
    """pass@N / ASR@N per group and budget (:func:`predict_groups`).

    Attributes:
      rows: one JSON-able dict per group and budget: ``group, method, budget, asr, lower, upper, alpha, beta,
        flag[, internal_rmse, weights, internal_mae]`` (``method`` is what was used: ``auto:<candidate>`` for the
        default, ``bound`` for a degenerate group). With ``auto`` only: ``internal_rmse`` of the result and, per
        candidate, its stacking ``weights`` (summing to 1) and ``internal_mae`` (the internal back-test's mean
        absolute error), in percentage points; ``None`` for a degenerate group.
      flags: per group ``"no_success"``, ``"all_success"`` or ``""`` (``passk.degenerate``).
      method: the method asked for.
      level: coverage of the intervals.
    """

    rows: list[dict[str, Any]]
    flags: np.ndarray
    method: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame, the group's columns first."""
        return pd.DataFrame([{**r["group"], **{k: v for k, v in r.items() if k != "group"}} for r in self.rows])


def predict_groups(
    key: Any,
    data: StackedCounts,
    budgets: Sequence[float],
    method: str | None = None,
    *,
    stopped: bool = False,
    level: float = 0.9,
) -> GroupPredictions:
    """Extrapolate pass@N / ASR@N of every group to the budgets, with ``level`` intervals.

    Groups with no success (or only successes) get the one-sided distribution-free bound of
    ``passk.degenerate``; the others are predicted together by one call of ``predictors.predict``.

    Args:
      key: ``jax.random`` key of the bootstrap / NUTS / ``auto``'s internal sub-samples.
      data: stacked counts.
      budgets: target budgets N.
      method: a predictor of ``passk.METHODS`` (default ``passk.DEFAULT_METHOD``).
      stopped: the log stops at each problem's first success (n = attempts made, k ≤ 1).
      level: interval coverage.

    Returns:
      A :class:`GroupPredictions`.
    """
    from scaling_theory.passk.degenerate import bound_prediction, degenerate_flags
    from scaling_theory.passk.predictors import DEFAULT_METHOD, Prediction, check_stopped, predict

    method = method or DEFAULT_METHOD
    if stopped:
        check_stopped(data.k, data.mask)
    flags = degenerate_flags(data.n, data.k, data.mask)
    good = np.flatnonzero(flags == "")
    g, nb = len(data.groups), len(budgets)
    asr, lower, upper = np.full((g, nb), np.nan), np.full((g, nb), np.nan), np.full((g, nb), np.nan)
    alpha, beta = np.full(g, np.nan), np.full(g, np.nan)
    used = np.full((g, nb), method, dtype=object)
    rmse = np.full((g, nb), np.nan)
    cands: tuple[str, ...] = ()
    weights = mae = np.full((g, 0, nb), np.nan)
    if (flags != "").any():
        da, dl, du = bound_prediction(data.n, data.k, data.mask, budgets, level, stopped)
        bad = flags != ""
        asr[bad], lower[bad], upper[bad] = da[bad], dl[bad], du[bad]
        used[bad] = "bound"
    if good.size:
        pred = predict(
            key,
            data.n[good],
            data.k[good],
            budgets,
            method,
            level=level,
            mask=data.mask[good],
            stopped=stopped,
        )
        asr[good], lower[good], upper[good] = pred.asr, pred.lower, pred.upper
        if pred.alpha is not None:
            alpha[good], beta[good] = pred.alpha, pred.beta
        if method == "auto":
            used[good] = np.array([[f"auto:{c}" for c in row] for row in pred.extra["chosen"]], dtype=object)
            rmse[good] = pred.extra["internal_rmse"]
            cands = tuple(pred.extra["candidates"])
            weights, mae = np.full((g, len(cands), nb), np.nan), np.full((g, len(cands), nb), np.nan)
            weights[good], mae[good] = pred.extra["weights"], pred.extra["internal_mae"]
    out = []
    for i, grp in enumerate(data.groups):
        one = Prediction(
            method=method,
            budgets=np.asarray(budgets, np.float64),
            asr=asr[i],
            lower=lower[i],
            upper=upper[i],
            alpha=None if np.isnan(alpha[i]) else alpha[i],
            beta=None if np.isnan(beta[i]) else beta[i],
            level=level,
        )
        for j, row in enumerate(one.rows(grp)):
            row["method"] = used[i, j]
            row["flag"] = flags[i]
            if method == "auto":
                row["internal_rmse"] = None if np.isnan(rmse[i, j]) else float(rmse[i, j])
                row["weights"] = {c: _num(weights[i, ci, j]) for ci, c in enumerate(cands)} if cands else None
                row["internal_mae"] = {c: _num(mae[i, ci, j]) for ci, c in enumerate(cands)} if cands else None
            out.append(row)
    return GroupPredictions(out, flags, method, level)


def _num(x: float) -> float | None:
    """A JSON number, or ``None`` for NaN/inf (a group that was not back-tested)."""
    return float(x) if np.isfinite(x) else None
