"""The numbers of ``scaling-theory saturation point | verifier | budget``, one library call per command.

* :func:`saturation_points` — TTSPM N* per p with ΔF before and at N* and F(N*) (:class:`SaturationPoints`);
* :func:`verifier_summary` — imperfect-verifier ceilings, U(K) and K_opt (:class:`VerifierSummary`);
* :func:`coverage_budget` — samples for a coverage target from p, a Beta population or counts
  (:class:`CoverageBudget`);
* :func:`as_count` — N*, budgets as JSON-able ints (``None`` for inf/NaN).

Kept free of pandas (imported only by ``to_frame``) so that the commands start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_theory.errors import InputError

__all__ = [
    "CoverageBudget",
    "SaturationPoints",
    "VerifierSummary",
    "as_count",
    "coverage_budget",
    "saturation_points",
    "verifier_summary",
]


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

    def to_frame(self) -> Any:
        """The rows as a DataFrame (one row per p)."""
        import pandas as pd

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
    from scaling_theory.saturation.ttspm import marginal_gain, saturation_point, sequential_success

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

    def to_frame(self) -> Any:
        """The per-type rows as a DataFrame."""
        import pandas as pd

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
    ex = V.optimal_sample_count(m, vf, kmax, "exact")
    co = V.optimal_sample_count(m, vf, kmax, "code")
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

    def to_frame(self) -> Any:
        """The rows as a DataFrame."""
        import pandas as pd

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
    x = float(B.samples_for_coverage_confident(nn, k, target, confidence))
    return CoverageBudget("counts", target, np.array([x]), None, k=k, n_observed=nn, confidence=confidence)
