"""Extrapolation back-test: fit on the rows up to a scale threshold, predict the rows above it.

For each data set, rows with ``x[scale] ≤ threshold`` train the law; the others are predicted and
scored: log error ``log ŷ − log y``, relative error ``ŷ/y − 1`` and, with a bootstrap, whether the
``level`` prediction interval (fitted-law uncertainty plus resampled residual noise, see
:mod:`uncertainty`) covers the observation. All data sets are fitted (and bootstrapped) in one
batched call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.fitting.fit import FitResult, fit_many
from scaling_theory.fitting.laws import Law, get_law
from scaling_theory.fitting.uncertainty import Draws, bootstrap_many
from scaling_theory.results import Result, to_python


@dataclass(frozen=True)
class Backtest(Result):
    """One data set's back-test: the training fit, the held-out rows scored, and a summary.

    Rows: those of ``table`` (one per held-out row: x, ``y``, ``yhat``, errors, interval with draws).
    """

    fit: FitResult
    draws: Draws | None
    table: pd.DataFrame
    summary: dict[str, Any]

    def rows(self) -> list[dict[str, Any]]:
        """The rows of ``table`` as dicts of plain Python values.

        Returns:
          A list of dicts, one per held-out row.
        """
        return [{c: to_python(v) for c, v in r.items()} for r in self.table.to_dict("records")]


def _split(x: Mapping[str, Any], y: Any, weights: Any, scale: str, threshold: float, where: str):
    if scale not in x:
        raise InputError(f"{where}: back-test scale {scale!r} is not an x variable (have {', '.join(x)})")
    s = np.asarray(x[scale], float).reshape(-1)
    train = s <= threshold
    if not (~train).any():
        raise InputError(f"{where}: no rows above the threshold {scale} = {threshold:g} to predict")
    w = None if weights is None else np.asarray(weights, float)
    xt = {k: np.asarray(v, float)[train] for k, v in x.items()}
    xh = {k: np.asarray(v, float)[~train] for k, v in x.items()}
    y = np.asarray(y, float).reshape(-1)
    return (xt, y[train], None if w is None else w[train]), (xh, y[~train])


def backtest_many(
    key: jax.Array,
    law: str | Law,
    datasets: Sequence[tuple[Mapping[str, Any], Any] | tuple[Mapping[str, Any], Any, Any]],
    *,
    scale: str,
    threshold: float | Sequence[float],
    n_boot: int = 0,
    level: float = 0.9,
    names: Sequence[str] | None = None,
    boot_starts: int = 4,
    **fit_kwargs: Any,
) -> list[Backtest]:
    """Back-test every data set (threshold: one value, or one per data set); ``boot_starts`` starts
    per bootstrap replicate (see :func:`~scaling_theory.fitting.uncertainty.bootstrap_many`). ``key``
    draws the bootstrap row counts, the observation noise of the prediction bands and random starts
    (``starts=N``)."""
    law = get_law(law)
    thresholds = np.broadcast_to(np.asarray(threshold, float), (len(datasets),))
    train, held = [], []
    for j, ds in enumerate(datasets):
        x, y, *rest = ds
        where = names[j] if names is not None else f"data set {j}"
        tr, ho = _split(x, y, rest[0] if rest else None, scale, float(thresholds[j]), where)
        train.append(tr)
        held.append(ho)
    fits = fit_many(law, train, names=names, key=key, **fit_kwargs)
    draws = bootstrap_many(key, fits, n_boot, n_starts=boot_starts) if n_boot else [None] * len(fits)
    out = []
    for f, d, (xh, yh), thr in zip(fits, draws, held, thresholds):
        yhat = f.predict(xh)
        table = pd.DataFrame({**xh, "y": yh, "yhat": yhat})
        table["log_error"] = np.log(yhat) - np.log(yh) if np.all(yhat > 0) and np.all(yh > 0) else np.nan
        table["rel_error"] = yhat / yh - 1.0
        summary = {
            "scale": scale,
            "threshold": float(thr),
            "n_train": f.n_points,
            "n_test": int(yh.size),
            "mean_abs_log_error": float(np.mean(np.abs(table["log_error"]))),
            "max_abs_log_error": float(np.max(np.abs(table["log_error"]))),
            "mean_abs_rel_error": float(np.mean(np.abs(table["rel_error"]))),
            "last_rel_error": float(table["rel_error"].iloc[int(np.argmax(xh[scale]))]),
        }
        if d is not None:
            band = d.prediction_interval(key, xh, level=level)
            table["lo"], table["hi"] = band.lo, band.hi
            table["covered"] = (yh >= band.lo) & (yh <= band.hi)
            summary["level"] = level
            summary["coverage"] = float(table["covered"].mean())
        out.append(Backtest(fit=f, draws=d, table=table, summary=summary))
    return out


def backtest(
    key: jax.Array,
    law: str | Law,
    x: Mapping[str, Any],
    y: Any,
    *,
    scale: str,
    threshold: float,
    weights: Any = None,
    n_boot: int = 0,
    level: float = 0.9,
    **fit_kwargs: Any,
) -> Backtest:
    """Fit on ``x[scale] ≤ threshold``, predict and score the rows above it (see the module docstring)."""
    data = (x, y) if weights is None else (x, y, weights)
    return backtest_many(key, law, [data], scale=scale, threshold=threshold, n_boot=n_boot, level=level, **fit_kwargs)[
        0
    ]
