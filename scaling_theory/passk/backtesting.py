"""The back-test protocol: observe n attempts per problem, predict pass@N, compare with all attempts.

From logged counts (k_i successes in n_i ≥ N attempts per problem), each repeat draws a sub-sample of
``observe`` attempts per problem *without replacement* — the number of successes in it is
hypergeometric(n_i, k_i, observe) — and every predictor extrapolates pass@N from the sub-sample.
The truth is the unbiased (Chen) pass@N of all n_i attempts, averaged over problems (SABER §2.4;
spec §7(d)). Errors are in percentage points:

* ``error`` — |truth − mean prediction over repeats| (SABER's Table 1 definition; MAE = its mean over groups);
* ``mean_abs_error`` — mean over repeats of |truth − prediction|;
* ``coverage`` — fraction of repeats whose interval contains the truth; ``width`` — mean interval width.

Groups (e.g. models) are padded to a common number of problems and run in one batched call per
method. Sub-sampling is :func:`scaling_theory.stats.subsample` (NumPy's vectorised hypergeometric sampler
via :func:`~scaling_theory.stats.numpy_rng`; JAX has none), so a key reproduces the draws exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.passk import mle
from scaling_theory.passk.estimators import _pass_at_k
from scaling_theory.passk.predictors import DEFAULT_METHOD, METHODS, ZI_METHODS, predict
from scaling_theory.results import Result, to_python
from scaling_theory.stats import subsample

DEFAULT_BACKTEST_METHODS = (
    "naive",
    "fit",
    "anchored",
    "plugin",
    "plugin_zi",
    "eb",
    "eb_zi",
    "tail_power",
    "tail_hughes",
)
BETA_FIT_METHODS = ("anchored", "plugin", "plugin_leading", "plugin_corrected", "plugin_zi", "eb", "eb_zi")


@dataclass(frozen=True)
class BacktestResult(Result):
    """Per (group, method, budget) rows and the MAE per method (percentage points).

    :meth:`rows` / :meth:`to_frame` are the rows of ``table`` (one per group, method and budget).
    """

    table: pd.DataFrame
    mae: pd.DataFrame
    predictions: dict  # method -> array (G, R, B) of point predictions
    truth: np.ndarray  # (G, B)
    observe: int
    budgets: np.ndarray
    repeats: int

    def rows(self) -> list[dict[str, Any]]:
        """The rows of ``table`` as dicts of plain Python values (group labels, method, observe, budget, …).

        Returns:
          A list of dicts, one per (group, method, budget), in the table's order.
        """
        return [{c: to_python(v) for c, v in r.items()} for r in self.table.to_dict("records")]


def prefix(n, c, observe):
    """The first ``observe`` attempts of a log that stops at the first success: (n', k') with the same shape.

    A problem solved at attempt t_i = n_i ≤ observe keeps (t_i, 1); every other problem becomes
    (observe, 0) — an unsolved problem at the new cap. Exact, no sampling (spec §3: a hypergeometric draw
    from a stopped log is biased).
    """
    n, c = np.asarray(n, np.float64), np.asarray(c, np.float64)
    obs = np.broadcast_to(np.asarray(observe, np.float64), np.shape(c))
    solved = (c > 0) & (n <= obs)
    return np.where(solved, n, obs), solved.astype(np.float64)


def stopped_curve(n, c, mask, budgets) -> np.ndarray:
    """Unbiased pass@N of a stopped log: mean over live problems of 1(k_i > 0 and t_i = n_i ≤ N): → (G, B)."""
    n, c, mask = (np.asarray(x, dtype=np.float64) for x in (n, c, mask))
    b = np.asarray(budgets, dtype=np.float64)
    hit = ((c > 0)[..., None] & (n[..., None] <= b)).astype(np.float64)
    return (hit * mask[..., None]).sum(axis=-2) / mask.sum(axis=-1)[..., None]


@x64
def truth_pass_at_n(n, c, mask, budgets) -> np.ndarray:
    """Mean over live problems of Chen's pass@N from all attempts: (G, K) → (G, B)."""
    n, c, mask = (np.asarray(x, dtype=np.float64) for x in (n, c, mask))
    b = np.asarray(budgets, dtype=np.float64)
    vals = np.asarray(_pass_at_k(n[..., None], c[..., None], b))
    return (vals * mask[..., None]).sum(axis=-2) / mask.sum(axis=-1)[..., None]


def backtest(
    key: jax.Array,
    n,
    c,
    observe: int,
    budgets: Sequence[float],
    methods: Sequence[str] | None = None,
    *,
    repeats: int = 5,
    mask=None,
    groups: Sequence[dict] | None = None,
    level: float = 0.9,
    bayes_options: dict | None = None,
    stopped: bool = False,
    predict_options: dict | None = None,
) -> BacktestResult:
    """Run the protocol on counts ``(G, K)`` (or one group ``(K,)``) for every method in ``methods``.

    ``stopped``: the log stops at each problem's first success (n_i = attempts made, k_i ∈ {0, 1}); the
    observed data are then the first ``observe`` attempts (:func:`prefix`) and the truth is the exact
    stopped curve (:func:`stopped_curve`), both up to the cap (the largest n_i). ``predict_options`` are
    passed to every :func:`predict` call (e.g. ``window``, ``auto_options``).

    ``methods`` defaults to :data:`DEFAULT_BACKTEST_METHODS` plus the default method. ``groups`` labels
    the rows (dicts, e.g. ``{"model": "Pythia 70M"}``). ``key`` (a ``jax.random`` key) drives the
    sub-samples (through :func:`~scaling_theory.stats.numpy_rng`) and the predictors.
    """
    c = np.asarray(c, dtype=np.float64)
    if c.ndim == 1:
        c = c[None]
        n = np.asarray(n, dtype=np.float64)[None] if np.ndim(n) == 1 else n
        mask = None if mask is None else np.asarray(mask)[None]
    n_, k_, m_ = mle._prepare(n, c, mask)
    check(n_.ndim == 2, "backtest takes counts of shape (groups, problems) or (problems,)")
    methods = (
        list(methods) if methods is not None else list(dict.fromkeys(DEFAULT_BACKTEST_METHODS + (DEFAULT_METHOD,)))
    )
    for meth in methods:
        if meth not in METHODS:
            raise InputError(f"method must be one of {', '.join(METHODS)}; got {meth!r}")
    observe = int(observe)
    b = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    nmin = float(np.max(np.where(m_ > 0, n_, 0.0))) if stopped else float(np.min(np.where(m_ > 0, n_, np.inf)))
    if stopped:
        from scaling_theory.passk.predictors import check_stopped

        check_stopped(k_, m_)
    if observe < 1 or observe > nmin:
        raise InputError(f"observe must be between 1 and the smallest logged n ({nmin:g}), got {observe}")
    if np.any(b < 1) or np.any(b > nmin) or np.any(b != np.round(b)):
        bad = b[(b < 1) | (b > nmin) | (b != np.round(b))][0]
        raise InputError(
            f"budget must be an integer between 1 and the smallest logged n ({nmin:g}) so that the truth "
            f"(Chen's pass@N from all attempts) exists, got {bad:g}"
        )
    check(int(repeats) >= 1, f"repeats must be ≥ 1, got {repeats}")
    g, kk = k_.shape
    groups = list(groups) if groups is not None else [{} if g == 1 else {"group": i} for i in range(g)]
    check(len(groups) == g, f"groups must label each of the {g} groups")

    if stopped:
        truth = stopped_curve(n_, k_, m_, b)
        n_p, k_p = prefix(n_, k_, observe)  # deterministic: every repeat sees the same prefix
        n_obs = np.broadcast_to(n_p[:, None, :], (g, repeats, kk))
        k_obs = np.broadcast_to(k_p[:, None, :], (g, repeats, kk))
    else:
        truth = truth_pass_at_n(n_, k_, m_, b)  # (G, B)
        n_sub = np.where(m_ > 0, n_, 1)  # padding rows: n = 1, k = 0, observe clipped to n
        k_obs = subsample(key, n_sub, np.where(m_ > 0, k_, 0), np.minimum(observe, n_sub), repeats)  # (R, G, K)
        k_obs = np.swapaxes(k_obs, 0, 1)  # (G, R, K)
        n_obs = np.full(k_obs.shape, float(observe))
    m_rep = np.broadcast_to(m_[:, None, :], k_obs.shape)
    flat_k = k_obs.reshape(g * repeats, kk)
    flat_n = n_obs.reshape(g * repeats, kk)
    flat_m = m_rep.reshape(g * repeats, kk)

    fits: dict[bool, mle.BetaBinomialFit] = {}
    preds: dict[str, np.ndarray] = {}
    rows = []
    for meth in methods:
        fit_result = None
        if meth in BETA_FIT_METHODS:  # the methods that use a Beta-binomial MLE
            zi = meth in ZI_METHODS
            if zi not in fits:
                fits[zi] = mle.fit(flat_n, flat_k, flat_m, zero_inflated=zi)
            fit_result = fits[zi]
        p = predict(
            key,
            flat_n,
            flat_k,
            b,
            meth,
            level=level,
            mask=flat_m,
            fit_result=fit_result,
            bayes_options=bayes_options,
            stopped=stopped,
            **(predict_options or {}),
        )
        asr = p.asr.reshape(g, repeats, b.size)
        lo = p.lower.reshape(g, repeats, b.size)
        hi = p.upper.reshape(g, repeats, b.size)
        preds[meth] = asr
        for gi in range(g):
            for j, budget in enumerate(b):
                t = truth[gi, j]
                a = asr[gi, :, j]
                rows.append(
                    {
                        **groups[gi],
                        "method": meth,
                        "observe": observe,
                        "budget": int(budget),
                        "truth": t,
                        "prediction": float(a.mean()),
                        "std": float(a.std(ddof=1)) if repeats > 1 else 0.0,
                        "error": 100.0 * abs(t - a.mean()),
                        "mean_abs_error": 100.0 * float(np.mean(np.abs(t - a))),
                        "coverage": float(np.mean((lo[gi, :, j] <= t) & (t <= hi[gi, :, j]))),
                        "width": 100.0 * float(np.mean(hi[gi, :, j] - lo[gi, :, j])),
                    }
                )
    table = pd.DataFrame(rows)
    mae = (
        table.groupby(["method", "budget"], sort=False)
        .agg(
            mae=("error", "mean"),
            mean_abs_error=("mean_abs_error", "mean"),
            coverage=("coverage", "mean"),
            width=("width", "mean"),
        )
        .reset_index()
    )
    mae.insert(1, "observe", observe)
    return BacktestResult(table, mae, preds, truth, observe, b, int(repeats))
