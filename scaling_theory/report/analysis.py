"""The report's numbers, computed by the library: a JSON-able dict (what ``report.json`` holds).

Sections (each a list of flat rows, one key per column, group columns first):

* ``glance`` — per group: problems, attempts per problem, pass@1, coverage at n, never / always solved;
  ``histogram`` — per-problem pass@1 (k/n) counts on log-spaced bins (plus a bin for k = 0);
* ``passk`` — Chen's unbiased pass@k for k ≤ min n with bootstrap intervals over problems
  (``passk.predict(method="combinatorial")``);
* ``extrapolation`` — pass@N at the requested budgets from ``passk.predict(..., method=None)`` (the
  project default), with the method it used and every diagnostic its result carries;
  ``backtest`` — that method's error when it sees n/10 attempts and predicts pass@n (``passk.backtest``);
* ``saturation`` — ``saturation.report.counts_summary`` per group; ``gain`` — the marginal gain curve
  (observed below n, Beta-law beyond) that the saturation points read;
* ``allocation`` — from the allocation area when present (``report.allocation``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.io import jsonable
from scaling_theory.passk.grouping import StackedCounts, describe_group, require_fittable, stack_groups
from scaling_theory.report import allocation as alloc

LEVEL = 0.9
CURVE_POINTS = 25
STANDARD_FIELDS = {"method", "budgets", "asr", "lower", "upper", "alpha", "beta", "pi", "level", "extra"}


def label(group: dict) -> str:
    """'Pythia 12B' (values of the group columns), or 'all problems'."""
    return " / ".join(str(v) for v in group.values()) if group else "all problems"


def default_budgets(n_max: int) -> list[int]:
    """10× and 100× the largest logged n: one and two decades beyond the data."""
    return [10 * int(n_max), 100 * int(n_max)]


def analyse(
    counts: pd.DataFrame,
    group_by: Sequence[str] = (),
    budgets: Sequence[float] | None = None,
    *,
    eps: float = 1e-4,
    seed: int = 0,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every number of the report for a validated counts table (``io.read_counts``).

    Args:
      counts: ``problem, n, k`` + the ``group_by`` columns.
      group_by: grouping columns (each group is analysed separately; one failing group never
        aborts the others: its rows carry a ``note``).
      budgets: target budgets N of the extrapolation (default :func:`default_budgets`).
      eps: saturation threshold: more samples "stop paying" when one more adds < eps to pass@N.
      seed: seed of the bootstraps and back-test sub-samples.
      step: called with a section name as each section starts (a progress bar).
    Returns:
      A JSON-able dict: ``groups``, ``glance``, ``histogram``, ``passk``, ``budgets``,
      ``extrapolation`` (``method``, ``why``, ``details``, ``rows``), ``backtest``, ``saturation``,
      ``gain``, ``allocation``.
    """
    step = step or (lambda name: None)
    group_by = list(group_by)
    data = stack_groups(counts, group_by)
    key = jax.random.PRNGKey(seed)
    n_max = int(np.max(np.where(data.mask > 0, data.n, 0)))
    budgets = sorted({float(b) for b in (budgets or default_budgets(n_max))})
    if any(not np.isfinite(b) or b < 1 for b in budgets):
        raise InputError(f"--budget must be a number ≥ 1, got {min(budgets):g}")
    out: dict[str, Any] = {
        "group_by": group_by,
        "groups": [{"group": g, "label": label(g)} for g in data.groups],
        "budgets": [_num(b) for b in budgets],
        "level": LEVEL,
        "eps": eps,
        "seed": seed,
    }
    step("data at a glance")
    out["glance"], out["histogram"] = _glance(data)
    by_pass = sorted(range(len(data.groups)), key=lambda i: -out["glance"][i]["pass_at_1"])
    out["order"] = [label(data.groups[i]) for i in by_pass]  # display order: highest pass@1 first
    step("pass@k within the data")
    out["passk"] = _passk_curve(data, key)
    step("extrapolation")
    out["extrapolation"] = _extrapolate(data, budgets, key)
    step("back-test of the extrapolation")
    out["backtest"] = _backtest(data, out["extrapolation"]["method"], seed)
    step("saturation")
    out["saturation"], out["gain"] = _saturation(counts, data, group_by, eps, budgets)
    step("allocation")
    out["allocation"] = alloc.allocation_section(key, data.n, data.k, data.mask, data.groups, float(n_max))
    return jsonable(out)


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _live(data: StackedCounts, i: int) -> tuple[np.ndarray, np.ndarray]:
    live = data.mask[i] > 0
    return data.n[i][live], data.k[i][live]


def _glance(data: StackedCounts) -> tuple[list[dict], list[dict]]:
    from scaling_theory.passk.estimators import pass_at_k_curve

    rows, hist = [], []
    n_all = data.n[data.mask > 0]
    top = max(int(np.ceil(np.log10(float(n_all.max())))), 1)
    edges = np.logspace(-top, 0, 2 * top + 1)  # half-decade bins from 1/n_max to 1
    for i, grp in enumerate(data.groups):
        n, k = _live(data, i)
        rows.append(
            {
                **grp,
                "problems": int(n.size),
                "n_min": int(n.min()),
                "n_median": _num(float(np.median(n))),
                "n_max": int(n.max()),
                "attempts": int(n.sum()),
                "successes": int(k.sum()),
                "pass_at_1": float(np.asarray(pass_at_k_curve(n, k, [1.0]))[0]),
                "coverage_at_n": float(np.mean(k > 0)),
                "never_solved": float(np.mean(k == 0)),
                "always_solved": float(np.mean(k == n)),
            }
        )
        p = k / n
        counts, _ = np.histogram(p[p > 0], bins=edges)
        hist.append({**grp, "bin_lo": 0.0, "bin_hi": 0.0, "problems": int(np.sum(p == 0))})
        hist.extend(
            {**grp, "bin_lo": float(lo), "bin_hi": float(hi), "problems": int(c)}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts)
        )
    return rows, hist


def _curve_ks(n_min: int) -> np.ndarray:
    return np.unique(np.round(np.logspace(0, np.log10(n_min), CURVE_POINTS))).astype(np.float64)


def _passk_curve(data: StackedCounts, key) -> list[dict]:
    from scaling_theory.passk import predict

    rows: list[dict] = []
    for i, grp in enumerate(data.groups):
        n, k = _live(data, i)
        ks = _curve_ks(int(n.min()))
        pred = predict(key, n, k, ks, "combinatorial", level=LEVEL)
        rows.extend(
            {**grp, "k": int(kk), "pass_at_k": float(a), "lower": float(lo), "upper": float(hi)}
            for kk, a, lo, hi in zip(ks, pred.asr, pred.lower, pred.upper)
        )
    return rows


def _fittable(data: StackedCounts) -> tuple[list[int], dict[int, str]]:
    ok, notes = [], {}
    for i, grp in enumerate(data.groups):
        one = StackedCounts([grp], data.n[i : i + 1], data.k[i : i + 1], data.mask[i : i + 1])
        try:
            require_fittable(one)
            ok.append(i)
        except InputError as exc:
            notes[i] = str(exc)
    return ok, notes


def _per_group(value: Any, g: int, i: int) -> Any:
    """The i-th group's entry of a result field of batch shape (g, ...), else the value itself."""
    arr = np.asarray(value) if not isinstance(value, (str, dict, list)) else None
    if arr is not None and arr.ndim >= 1 and arr.shape[0] == g:
        return jsonable(arr[i])
    return jsonable(value)


def _extrapolate(data: StackedCounts, budgets: list[float], key) -> dict[str, Any]:
    from scaling_theory.passk import DEFAULT_METHOD, predict

    ok, notes = _fittable(data)
    rows, details, method, why = [], [], DEFAULT_METHOD, None
    if ok:
        sel = np.asarray(ok)
        # The project default (method=None): after it became self-validating, its choice and
        # diagnostics arrive as fields of the result; every non-standard field is shown.
        pred = predict(key, data.n[sel], data.k[sel], budgets, None, level=LEVEL, mask=data.mask[sel])
        method = str(pred.method)
        fields = (
            {f.name: getattr(pred, f.name) for f in dataclasses.fields(pred)} if dataclasses.is_dataclass(pred) else {}
        )
        extra = {
            **{k: v for k, v in fields.items() if k not in STANDARD_FIELDS},
            **dict(getattr(pred, "extra", {}) or {}),
        }
        for name in ("reason", "why", "explanation"):
            if isinstance(extra.get(name), str):
                why = extra.pop(name)
        g = len(ok)
        for j, i in enumerate(ok):
            grp = data.groups[i]
            details.append({**grp, **{name: _per_group(v, g, j) for name, v in extra.items()}})
            d = details[-1]
            shaky = d.get("converged") is False or d.get("at_bound") is True
            note = (
                {
                    "note": "the Beta-binomial fit did not converge or sits at a parameter bound (see the diagnostics): "
                    "treat this extrapolation as unreliable"
                }
                if shaky
                else {}
            )
            for b, (a, lo, hi) in enumerate(zip(pred.asr[j], pred.lower[j], pred.upper[j])):
                rows.append(
                    {
                        **grp,
                        "method": method,
                        "budget": _num(budgets[b]),
                        "pass_at_budget": float(a),
                        "lower": float(lo),
                        "upper": float(hi),
                        "alpha": None if pred.alpha is None else float(pred.alpha[j]),
                        "beta": None if pred.beta is None else float(pred.beta[j]),
                        **note,
                    }
                )
    for i, msg in notes.items():
        rows.append({**data.groups[i], "method": method, "note": msg})
    if why is None:
        why = (
            f"'{method}' is the project default (scaling_theory.passk.DEFAULT_METHOD), chosen by the back-tests "
            "in docs/passk.md: of the predictors measured there, the one with the lowest error on both the SABER "
            "synthetic protocol and the Pythia × MATH back-test"
        )
    return {"method": method, "why": why, "details": details, "rows": rows}


def _backtest(data: StackedCounts, method: str, seed: int) -> dict[str, Any]:
    from scaling_theory.passk import backtest

    ok, _ = _fittable(data)
    n_min = int(np.min(np.where(data.mask > 0, data.n, np.inf)))
    observe = max(1, n_min // 10)
    if not ok or n_min < 2:
        return {"rows": [], "note": "needs at least 2 attempts per problem and a group with some successes"}
    sel = np.asarray(ok)
    try:
        res = backtest(
            jax.random.key(seed),
            data.n[sel],
            data.k[sel],
            observe,
            [n_min],
            [method],
            repeats=3,
            mask=data.mask[sel],
            groups=[data.groups[i] for i in ok],
            level=LEVEL,
        )
    except InputError as exc:
        return {"rows": [], "note": str(exc)}
    rows = res.table.drop(columns=["std"]).to_dict(orient="records")
    return {
        "observe": observe,
        "budget": n_min,
        "repeats": 3,
        "rows": rows,
        "mae": float(res.mae["mae"].iloc[0]),
        "note": f"observe {observe} attempts per problem (sub-sampled, 3 repeats), predict pass@{n_min}, compare "
        f"with Chen's pass@{n_min} from all attempts; error and width in percentage points",
    }


def _saturation(
    counts: pd.DataFrame, data: StackedCounts, group_by: list[str], eps: float, budgets: list[float]
) -> tuple[list[dict], list[dict]]:
    from scaling_theory.io import split_groups
    from scaling_theory.saturation.estimation import observed_aggregate_gain
    from scaling_theory.saturation.heterogeneous import beta_marginal_gain
    from scaling_theory.saturation.report import counts_summary

    rows: list[dict] = []
    gain: list[dict] = []
    _, unfit = _fittable(data)
    notes = {label(data.groups[i]): note for i, note in unfit.items()}
    for grp, sub in split_groups(counts, group_by):
        if label(grp) in notes:  # no Beta law to read saturation from (every k = 0, or every k = n)
            rows.append({**grp, "note": notes[label(grp)]})
            continue
        try:
            s = counts_summary(sub, eps)
        except InputError as exc:
            rows.append({**grp, "note": str(exc)})
            continue
        rows.append({**grp, **s})
        n, k = sub["n"].to_numpy(np.float64), sub["k"].to_numpy(np.float64)
        top = max(budgets[-1], float(n.max()))
        grid = np.unique(np.round(np.logspace(0, np.log10(top), 60)))
        obs = grid[grid < n.min()]
        g_obs = np.asarray(observed_aggregate_gain(n, k, obs)) if obs.size else np.zeros(0)
        g_beta = np.asarray(beta_marginal_gain(s["alpha"], s["beta"], grid))
        obs_map = dict(zip(obs.tolist(), g_obs.tolist()))
        gain.extend(
            {**grp, "N": int(N), "gain_observed": obs_map.get(float(N)), "gain_beta_law": float(gb)}
            for N, gb in zip(grid, g_beta)
        )
    return rows, gain


def group_rows(rows: list[dict], group: dict) -> list[dict]:
    """The rows of one group."""
    return [r for r in rows if all(r.get(c) == v for c, v in group.items())]


__all__ = ["analyse", "default_budgets", "label", "group_rows", "describe_group"]
