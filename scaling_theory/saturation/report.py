"""Saturation summaries of logged data (what ``scaling-theory saturation fit`` prints), as plain dicts.

* counts (or attempts aggregated to counts): per group the pooled and per-question p̂, the
  homogeneous N* at the mean p̂, the Beta-binomial MLE (α, β) (``passk.mle.fit``) and the aggregate
  N*_agg it implies, the per-question N* quantiles, and the saturation point observed on the data's
  own unbiased pass@N curve (first N with mean ΔF̂(N) < ε C, within N < min n);
* sequential logs (a ``round`` column): p₀, p_rethink, p_flip, the chain's limit, whether rethinking
  helps and the chain's N*.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scaling_theory.io import (
    aggregate_attempts,
    is_attempts_table,
    read_log_table,
    split_groups,
    validate_attempts,
    validate_counts,
)
from scaling_theory.saturation import _validate as v
from scaling_theory.saturation.estimation import (
    observed_aggregate_saturation_point,
    per_question_p,
    sequential_estimates,
)
from scaling_theory.saturation.heterogeneous import beta_hit_at_n, beta_saturation_point
from scaling_theory.saturation.ttspm import (
    hit_at_n,
    markov_improves,
    markov_limit,
    markov_saturation_point,
    saturation_point,
)


def _f(x: Any) -> float:
    return float(np.asarray(x))


def counts_summary(counts: pd.DataFrame, eps: float, cost: float = 1.0, threshold: str = "lt") -> dict[str, Any]:
    """Saturation summary of one group's counts table (``problem, n, k``)."""
    from scaling_theory.passk.mle import fit as beta_binomial_fit

    v.positive("eps", eps)
    v.positive("cost", cost)
    v.threshold(threshold)
    t = per_question_p(counts)
    n, k = t.n, t.k
    p_mean = float(t.p_hat.mean())
    n_hom = _f(saturation_point(p_mean, eps, cost=cost, threshold=threshold))
    per_q = np.asarray(saturation_point(t.p_hat, eps, cost=cost, threshold=threshold))
    fit = beta_binomial_fit(n, k)
    a, b = float(fit.alpha), float(fit.beta)
    n_agg = _f(beta_saturation_point(a, b, eps, cost=cost, threshold=threshold))
    n_obs = _f(observed_aggregate_saturation_point(n, k, eps, cost=cost, threshold=threshold))
    return {
        "problems": int(t.n.size),
        "samples_per_problem": int(np.median(n)) if float(np.median(n)).is_integer() else float(np.median(n)),
        "pass_at_1": p_mean,
        "unsolved_fraction": float(np.mean(k == 0)),
        "n_star_homogeneous": n_hom,
        "hit_at_n_star_homogeneous_claimed": _f(hit_at_n(p_mean, n_hom)),
        "alpha": a,
        "beta": b,
        "beta_fit_converged": bool(fit.converged),
        "n_star_aggregate": n_agg,
        "hit_at_n_star_aggregate": max(_f(beta_hit_at_n(a, b, n_agg)), 0.0) if np.isfinite(n_agg) else None,
        "n_star_observed": n_obs,
        "n_star_per_question_median": float(np.median(per_q)),
        "n_star_per_question_p90": float(np.quantile(per_q, 0.9)),
        "n_star_per_question_max": float(per_q.max()),
    }


def sequential_summary(
    attempts: pd.DataFrame, eps: float, group_by: Sequence[str] = (), cost: float = 1.0, threshold: str = "lt"
) -> list[dict[str, Any]]:
    """Per group: the chain estimates of :func:`sequential_estimates` with the chain's limit and N*."""
    v.positive("eps", eps)
    v.positive("cost", cost)
    est = sequential_estimates(attempts, group_by)
    rows = []
    for r in est.rows():
        a = 0.0 if np.isnan(r["p_rethink"]) else r["p_rethink"]
        b = 0.0 if np.isnan(r["p_flip"]) else r["p_flip"]
        p0 = r["p0"]
        rows.append(
            {
                **{c: r[c] for c in group_by},
                "chains": r["chains"],
                "p0": p0,
                "p_rethink": None if np.isnan(r["p_rethink"]) else a,
                "transitions_from_wrong": r["n_from_wrong"],
                "p_flip": None if np.isnan(r["p_flip"]) else b,
                "transitions_from_correct": r["n_from_correct"],
                "limit": _f(markov_limit(p0, a, b)),
                "improves": bool(markov_improves(p0, a, b)),
                "n_star": _f(markov_saturation_point(p0, a, b, eps, cost=cost, threshold=threshold)),
            }
        )
    return rows


def summarise_file(
    path: str, eps: float, group_by: Sequence[str] = (), cost: float = 1.0, threshold: str = "lt", format: str = "auto"
) -> dict[str, Any]:
    """Read a counts / attempts / sequential-attempts file and summarise its saturation, per group.

    ``format``: any of ``io.LOG_FORMATS`` (tool logs are converted to attempts by ``io.read_log_table``).
    """
    group_by = list(group_by)
    df = read_log_table(path, format)
    if "round" in df.columns:
        return {"mode": "sequential", "groups": sequential_summary(df, eps, group_by, cost, threshold)}
    counts = (
        aggregate_attempts(validate_attempts(df, group_by), group_by)
        if is_attempts_table(df)
        else validate_counts(df, group_by)
    )
    groups = []
    for g, sub in split_groups(counts, group_by):
        groups.append({**g, **counts_summary(sub, eps, cost, threshold)})
    return {"mode": "counts", "groups": groups}
