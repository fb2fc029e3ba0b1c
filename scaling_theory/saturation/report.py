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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
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
    n, k = t["n"].to_numpy(np.float64), t["k"].to_numpy(np.float64)
    p_mean = float(t["p_hat"].mean())
    n_hom = _f(saturation_point(p_mean, eps, cost=cost, threshold=threshold))
    per_q = np.asarray(saturation_point(t["p_hat"].to_numpy(), eps, cost=cost, threshold=threshold))
    fit = beta_binomial_fit(n, k)
    a, b = float(fit.alpha), float(fit.beta)
    n_agg = _f(beta_saturation_point(a, b, eps, cost=cost, threshold=threshold))
    n_obs = _f(observed_aggregate_saturation_point(n, k, eps, cost=cost, threshold=threshold))
    return {
        "problems": int(len(t)),
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
    for _, r in est.iterrows():
        a = 0.0 if np.isnan(r["p_rethink"]) else float(r["p_rethink"])
        b = 0.0 if np.isnan(r["p_flip"]) else float(r["p_flip"])
        p0 = float(r["p0"])
        rows.append(
            {
                **{c: r[c] for c in group_by},
                "chains": int(r["chains"]),
                "p0": p0,
                "p_rethink": None if np.isnan(r["p_rethink"]) else a,
                "transitions_from_wrong": int(r["n_from_wrong"]),
                "p_flip": None if np.isnan(r["p_flip"]) else b,
                "transitions_from_correct": int(r["n_from_correct"]),
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


# ---------------------------------------------------------------------------------------------------------------
# The numbers of `scaling-theory saturation point | verifier | budget` (one library call per command).


def as_count(x: Any) -> int | float | None:
    """A JSON-able count: ``int`` when ``x`` is whole (N*, budgets), ``float`` otherwise, ``None`` for inf/NaN.

    Args:
      x: a scalar.

    Returns:
      ``int(x)``, ``float(x)`` or ``None``.
    """
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


@dataclass(frozen=True)
class SaturationPoints:
    """TTSPM saturation points N* and the gains around them, one entry per success probability p.

    Attributes:
      p: per-attempt success probabilities, shape (P,).
      n_star: N* = min{N ≥ 0 : (1 − p₀) p (1 − p)^N < ε·cost} (``le``: ≤), shape (P,).
      gain_at_n_star: ΔF(N*); gain_before: ΔF(N* − 1) (NaN where N* = 0).
      hit_at_n_star: F(N*) of the chain (Hit@N* with p₀ = 0); headroom: 1 − F(N*).
      eps, cost, p0, threshold: the arguments.
    """

    p: np.ndarray
    n_star: np.ndarray
    gain_at_n_star: np.ndarray
    gain_before: np.ndarray
    hit_at_n_star: np.ndarray
    eps: float
    cost: float
    p0: float
    threshold: str

    @property
    def headroom(self) -> np.ndarray:
        """1 − F(N*)."""
        return 1.0 - self.hit_at_n_star

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-able row per p: ``p, n_star, gain_at_n_star, gain_before, F_at_n_star, headroom``."""
        return [
            {
                "p": float(p),
                "n_star": as_count(n),
                "gain_at_n_star": float(g),
                "gain_before": float(b) if n > 0 else None,
                "F_at_n_star": float(h),
                "headroom": float(1.0 - h),
            }
            for p, n, g, b, h in zip(self.p, self.n_star, self.gain_at_n_star, self.gain_before, self.hit_at_n_star)
        ]

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (one row per p)."""
        return pd.DataFrame(self.rows())


def saturation_points(
    p: Sequence[float] | np.ndarray,
    eps: float,
    *,
    cost: float = 1.0,
    p0: float = 0.0,
    threshold: str = "lt",
) -> SaturationPoints:
    """Saturation points N* of the parallel (p₀ = 0) or sequential TTSPM chain, with ΔF before and at N*.

    Args:
      p: per-attempt success probabilities p_sample or p_rethink.
      eps: threshold on the marginal gain per unit of budget (> 0).
      cost: cost of one unit of budget.
      p0: round-0 accuracy of the sequential model.
      threshold: ``lt`` (gain < ε·cost) or ``le`` (gain ≤ ε·cost, the ceil formula).

    Returns:
      A :class:`SaturationPoints`.
    """
    from scaling_theory.saturation.ttspm import marginal_gain, sequential_success

    p_arr = np.asarray(p, dtype=np.float64)
    n = np.asarray(saturation_point(p_arr, eps, cost=cost, p0=p0, threshold=threshold))
    gain = np.asarray(marginal_gain(p_arr, n, p0=p0))
    before = np.asarray(marginal_gain(p_arr, np.maximum(n - 1, 0), p0=p0))
    hit = np.asarray(sequential_success(p_arr, n, p0=p0))
    before = np.where(n > 0, before, np.nan)
    return SaturationPoints(p_arr, n, gain, before, hit, float(eps), float(cost), float(p0), threshold)


@dataclass(frozen=True)
class VerifierSummary:
    """Imperfect verifier, resampling until accepted (at most K attempts): per task type and overall.

    Per task type (arrays of shape (T,)): ``r`` (P(correct sample)), ``weight``, ``p_reject``,
    ``p_correct_accept``, ``p_false_positive``, ``ceiling`` (P(correct | accepted)).
    Overall: ``soundness``, ``completeness``, ``v_fluke`` (= −fp_cost), ``kmax``, ``mixture_ceiling``,
    ``pass_at_1`` (Σ w r), ``k_opt`` and ``utility_at_k_opt`` (exact U(K)), ``utility_limit`` (K → ∞),
    ``k_opt_code_form`` and ``utility_at_k_opt_code_form`` (the notebook's form of U(K)).
    """

    r: np.ndarray
    weight: np.ndarray
    p_reject: np.ndarray
    p_correct_accept: np.ndarray
    p_false_positive: np.ndarray
    ceiling: np.ndarray
    soundness: float
    completeness: float
    v_fluke: float
    kmax: int
    mixture_ceiling: float
    pass_at_1: float
    k_opt: float
    utility_at_k_opt: float
    utility_limit: float
    k_opt_code_form: float
    utility_at_k_opt_code_form: float

    def type_rows(self) -> list[dict[str, float]]:
        """One row per task type."""
        cols = (self.r, self.weight, self.p_reject, self.p_correct_accept, self.p_false_positive, self.ceiling)
        return [
            {
                "r": float(r),
                "weight": float(w),
                "p_reject": float(b),
                "p_correct_accept": float(c),
                "p_false_positive": float(f),
                "ceiling": float(ce),
            }
            for r, w, b, c, f, ce in zip(*cols)
        ]

    def summary(self) -> dict[str, Any]:
        """The overall quantities (JSON-able; ``ceiling`` is the mixture's)."""
        return {
            "soundness": self.soundness,
            "completeness": self.completeness,
            "v_fluke": self.v_fluke,
            "kmax": self.kmax,
            "ceiling": self.mixture_ceiling,
            "pass_at_1": self.pass_at_1,
            "k_opt": as_count(self.k_opt),
            "utility_at_k_opt": self.utility_at_k_opt,
            "utility_limit": self.utility_limit,
            "k_opt_code_form": as_count(self.k_opt_code_form),
            "utility_at_k_opt_code_form": self.utility_at_k_opt_code_form,
        }

    def to_frame(self) -> pd.DataFrame:
        """The per-type rows as a DataFrame."""
        return pd.DataFrame(self.type_rows())


def verifier_summary(
    r: Sequence[float] | np.ndarray,
    soundness: float,
    *,
    completeness: float = 1.0,
    weights: Sequence[float] | np.ndarray | None = None,
    fp_cost: float = 1.0,
    kmax: int = 800,
) -> VerifierSummary:
    """Accuracy ceiling, utility U(K) and K_opt of resampling until an imperfect verifier accepts.

    Args:
      r: P(correct sample) per task type.
      soundness: P(verifier rejects | incorrect); completeness: P(verifier accepts | correct).
      weights: fraction of tasks of each type (default uniform).
      fp_cost: cost of a false positive in units of a correct answer's value (≥ 0); V_fluke = −fp_cost.
      kmax: largest K considered.

    Returns:
      A :class:`VerifierSummary`.
    """
    from scaling_theory.saturation import verifiers as V

    if not fp_cost >= 0:
        raise InputError(f"fp-cost must be >= 0 (a cost), got {fp_cost:g}")
    m = V.make_model(r, soundness, weights, completeness)
    vf = -float(fp_cost)
    beta, pc, pf = (np.asarray(x) for x in V.attempt_probabilities(m))
    ceil = np.asarray(V.accuracy_ceiling(m.r, m.s, m.c))
    ex = V.optimal_k(m, vf, kmax, "exact")
    co = V.optimal_k(m, vf, kmax, "code")
    return VerifierSummary(
        r=np.asarray(m.r),
        weight=np.asarray(m.p),
        p_reject=beta,
        p_correct_accept=pc,
        p_false_positive=pf,
        ceiling=ceil,
        soundness=float(m.s),
        completeness=float(m.c),
        v_fluke=vf,
        kmax=kmax,
        mixture_ceiling=float(V.mixture_ceiling(m)),
        pass_at_1=float(np.sum(np.asarray(m.p) * np.asarray(m.r))),
        k_opt=float(ex.k_opt),
        utility_at_k_opt=float(ex.utility),
        utility_limit=float(V.utility_limit(m, vf)),
        k_opt_code_form=float(co.k_opt),
        utility_at_k_opt_code_form=float(co.utility),
    )


@dataclass(frozen=True)
class CoverageBudget:
    """Smallest N with Hit@N ≥ target, and Hit@2N − Hit@N, for one kind of source.

    Attributes:
      source: ``p`` (known per-attempt p, one row per p), ``beta`` (p ~ Beta(α, β) across questions) or
        ``counts`` (k successes in n attempts: N with posterior confidence).
      target: the coverage target.
      n: smallest N per row (inf when unreachable), shape (R,).
      gain_from_doubling: Hit@2N − Hit@N per row (NaN where N is infinite; ``None`` for ``counts``).
      p, alpha, beta, k, n_observed, confidence: the inputs of the source (others ``None``).
    """

    source: str
    target: float
    n: np.ndarray
    gain_from_doubling: np.ndarray | None
    p: np.ndarray | None = None
    alpha: float | None = None
    beta: float | None = None
    k: int | None = None
    n_observed: int | None = None
    confidence: float | None = None

    def rows(self) -> list[dict[str, Any]]:
        """JSON-able rows (the inputs of the source, ``target``, ``n`` and, but for counts, ``gain_from_doubling``)."""

        def gain(i: int) -> float | None:
            assert self.gain_from_doubling is not None
            return float(self.gain_from_doubling[i]) if np.isfinite(self.n[i]) else None

        if self.source == "p":
            assert self.p is not None
            return [
                {"p": float(p), "target": self.target, "n": as_count(x), "gain_from_doubling": gain(i)}
                for i, (p, x) in enumerate(zip(self.p, self.n))
            ]
        if self.source == "beta":
            return [
                {
                    "alpha": self.alpha,
                    "beta": self.beta,
                    "target": self.target,
                    "n": as_count(self.n[0]),
                    "gain_from_doubling": gain(0),
                }
            ]
        return [
            {
                "k": self.k,
                "n_observed": self.n_observed,
                "target": self.target,
                "confidence": self.confidence,
                "n": as_count(self.n[0]),
            }
        ]

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame."""
        return pd.DataFrame(self.rows())


def coverage_budget(
    target: float,
    *,
    p: Sequence[float] | np.ndarray | None = None,
    beta_params: tuple[float, float] | None = None,
    counts: tuple[int, int] | None = None,
    confidence: float = 0.9,
) -> CoverageBudget:
    """Samples needed for a coverage target from exactly one source, and the gain from doubling them.

    Args:
      target: coverage target in [0, 1).
      p: known per-attempt success probabilities (one budget each).
      beta_params: (α, β) of p ~ Beta(α, β) across questions (aggregate coverage).
      counts: (k, n): k successes observed in n attempts; the budget holds with posterior ``confidence``.
      confidence: posterior confidence for ``counts``.

    Returns:
      A :class:`CoverageBudget`.
    """
    from scaling_theory.saturation import budget as B

    given = [name for name, v in (("p", p), ("beta_params", beta_params), ("counts", counts)) if v is not None]
    if len(given) != 1:
        raise InputError(f"give exactly one of p, beta_params, counts (got {', '.join(given) or 'none'})")
    if p is not None:
        p_arr = np.asarray(p, dtype=np.float64)
        n = np.atleast_1d(np.asarray(B.samples_for_coverage(p_arr, target)))
        gains = np.array(
            [float(B.gain_from_doubling(pi, x)) if np.isfinite(x) else np.nan for pi, x in zip(p_arr, n)], np.float64
        )
        return CoverageBudget("p", target, n, gains, p=p_arr)
    if beta_params is not None:
        a, b = beta_params
        x = float(B.beta_samples_for_coverage(a, b, target))
        g = float(B.beta_gain_from_doubling(a, b, x)) if np.isfinite(x) else np.nan
        return CoverageBudget("beta", target, np.array([x]), np.array([g]), alpha=a, beta=b)
    assert counts is not None
    k, nn = counts
    x = float(B.samples_for_coverage_confident(k, nn, target, confidence))
    return CoverageBudget("counts", target, np.array([x]), None, k=k, n_observed=nn, confidence=confidence)
