"""Qualitative results of the BLR judge model (spec §5): optimal temperature, finite optimal k and its
criterion, the best reward, inference-vs-data slopes and the task-difficulty regime.

Expansion quantities for a model averaged over inputs: with t_σ = T/(2σ²) and the pointwise
t_x = T/(2s²(x)), the averaged expansion is δ ≈ E[s²D] − (1 − 1/k) Ĉ₁/t_σ + (1 − 1/k)(1 − 2/k) Ĉ₂/t_σ²
with Ĉ₁ = E_x[s⁴C₁]/σ², Ĉ₂ = E_x[s⁶C₂]/σ⁴ (C's per unit s², see ``selection.hte_coefficients``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.judge import selection
from scaling_theory.judge.model import BLRJudge
from scaling_theory.numerics import x64
from scaling_theory.results import Result
from scaling_theory.stats import weighted_loglog_fit


# --------------------------------------------------------------------------- expansion coefficients
@dataclass(frozen=True)
class ExpansionCoefficients(Result):
    """Ĉ₀ = E[s²D], Ĉ₁, Ĉ₂ of the averaged 2nd-order expansion in t_σ = T/(2σ²) (absolute units). Rows: one."""

    c0: float
    c1: float
    c2: float

    def optimal_t(self, k: Any) -> np.ndarray:
        """Minimiser of δ₂ over t for fixed k (k > 2): :func:`hte_optimal_temperature` of (Ĉ₁, Ĉ₂)."""
        return hte_optimal_temperature(k, self.c1, self.c2)

    def finite_k_threshold(self) -> float:
        """δ₂ stops decreasing as k → ∞ when t < 3Ĉ₂/Ĉ₁ (slope of δ₂ in 1/k at 0 is Ĉ₁/t − 3Ĉ₂/t²)."""
        return 3.0 * self.c2 / self.c1

    def stationary_k(self, t: Any) -> np.ndarray:
        """Stationary point of δ₂ in k: k* = 4Ĉ₂/(3Ĉ₂ − Ĉ₁ t) for t < 3Ĉ₂/Ĉ₁, else +inf."""
        t = np.asarray(t, dtype=np.float64)
        den = 3.0 * self.c2 - self.c1 * t
        return np.where(den > 0, 4.0 * self.c2 / np.where(den > 0, den, 1.0), np.inf)


def hte_optimal_temperature(k: Any, c1: Any, c2: Any) -> np.ndarray:
    """Optimal temperature of the 2nd-order high-temperature expansion δ₂ = C₀ − (1 − 1/k) C₁/t
    + (1 − 1/k)(1 − 2/k) C₂/t²: ∂δ₂/∂t = 0 gives t* = 2(1 − 2/k) C₂/C₁ (a minimum for C₁, C₂ > 0, k > 2).

    Args:
      k: number of samples (broadcasts with c1, c2).
      c1, c2: the expansion's first- and second-order coefficients (in the units of t).

    Returns:
      t* as a float64 array (no masking: callers decide what to do outside C₁, C₂ > 0, k > 2).

    References:
      Halder & Pehlevan (arXiv 2512.19905), Remark 4; spec judge_blr.md §5.3.
    """
    k, c1, c2 = (np.asarray(v, dtype=np.float64) for v in (k, c1, c2))
    return 2.0 * (1.0 - 2.0 / k) * c2 / c1


@x64
def expansion_coefficients(judge: BLRJudge) -> ExpansionCoefficients:
    """Ĉ₀, Ĉ₁, Ĉ₂ of ``judge`` (its c, spectrum, …) by the input quadrature."""
    q = judge.inputs()
    _, alpha, rho = selection.standardize(0.0, q.mean, q.std, q.teacher, q.reward)
    d, c1, c2 = (np.asarray(v) for v in selection.hte_coefficients(alpha, rho))
    s2, sig2, w = q.std**2, judge.sigma2, q.weight
    return ExpansionCoefficients(
        float(np.sum(w * s2 * d)), float(np.sum(w * s2**2 * c1) / sig2), float(np.sum(w * s2**3 * c2) / sig2**2)
    )


@x64
def pointwise_coefficients(mean: float, std: float, teacher: float, reward: float) -> ExpansionCoefficients:
    """Ĉ₀, Ĉ₁, Ĉ₂ for one test input with t = T/(2s²) (σ = s)."""
    _, alpha, rho = selection.standardize(0.0, mean, std, teacher, reward)
    d, c1, c2 = (float(v) * std**2 for v in selection.hte_coefficients(alpha, rho))
    return ExpansionCoefficients(d, c1, c2)


# --------------------------------------------------------------------------- 1-D minimisation
def _argmin_log_grid(values: np.ndarray, grid: np.ndarray) -> tuple[float, float, bool]:
    """Bracket of the grid minimiser in log space and whether it is interior."""
    i = int(np.nanargmin(values))
    interior = 0 < i < len(grid) - 1
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    return float(np.log(lo)), float(np.log(hi)), interior


@dataclass(frozen=True)
class OptimalTemperature(Result):
    """Numerical optimum t* (in units of the model's t = T/(2σ²)), the error there, the expansion's
    closed form, and whether the optimum lies inside the searched range. Rows: one."""

    k: int
    t_star: float
    delta_star: float
    t_expansion: float
    interior: bool


@x64
def optimal_temperature(
    judge: BLRJudge, k: int, t_range: tuple[float, float] = (1e-2, 1e4), grid: int = 41
) -> OptimalTemperature:
    """argmin_t δ(k, T = 2σ²t) of the exact input-averaged error: a log grid, then a finer log grid
    on the bracket and a parabola through the minimum (one batched quadrature call each)."""
    if int(k) < 1:
        raise InputError(f"k={k}: must be ≥ 1")
    ts = np.geomspace(t_range[0], t_range[1], grid)
    vals = error_grid(judge, [judge.c], ts, [k])[0, :, 0]
    lo, hi, interior = _argmin_log_grid(vals, ts)
    fine = np.exp(np.linspace(lo, hi, grid))
    best = refine_log_minimum(fine, error_grid(judge, [judge.c], fine, [k])[0, :, 0])
    coeffs = expansion_coefficients(judge)
    t_exp = float(coeffs.optimal_t(k)) if k > 2 else float("nan")
    return OptimalTemperature(int(k), best.x, best.y, t_exp, interior)


@x64
def optimal_temperature_pointwise(
    k: int, *, mean: float, std: float, teacher: float, reward: float, t_range: tuple[float, float] = (1e-2, 1e4)
) -> OptimalTemperature:
    """argmin_t of the pointwise exact δ(k, T = 2s²t) (spec §7: t* ∈ [24, 32] for k = 10, Δ_R = 4):
    a log grid, then a finer log grid on the bracket and a parabola through the minimum."""
    _, alpha, rho = selection.standardize(0.0, mean, std, teacher, reward)

    def curve(ts: np.ndarray) -> np.ndarray:
        a = np.full(ts.shape, float(alpha))
        r = np.full(ts.shape, float(rho))
        return np.asarray(selection.exact_grid(np.array([float(k)]), ts, a, r))[:, 0] * std**2

    ts = np.geomspace(t_range[0], t_range[1], 49)
    lo, hi, interior = _argmin_log_grid(curve(ts), ts)
    fine = np.exp(np.linspace(lo, hi, 49))
    best = refine_log_minimum(fine, curve(fine))
    coeffs = pointwise_coefficients(mean, std, teacher, reward)
    t_exp = float(coeffs.optimal_t(k)) if k > 2 else float("nan")
    return OptimalTemperature(int(k), best.x, best.y, t_exp, interior)


# --------------------------------------------------------------------------- optimal k
@dataclass(frozen=True)
class OptimalK(Result):
    """argmin over k ∈ [1, k_max] of the exact δ(k) (k_star = None when the minimum is at k_max,
    i.e. no finite optimum in range), the k → ∞ value, and the expansion's prediction. Rows: one (``k_star``
    None when there is no finite optimum)."""

    k_star: int | None
    delta_min: float
    delta_kmax: float
    delta_inf: float
    threshold_t: float
    k_star_expansion: float


@x64
def optimal_k(judge: BLRJudge, t: float, k_max: int = 256) -> OptimalK:
    """Finite optimal k at temperature t = T/(2σ²) (spec §5.2)."""
    ks = np.arange(1, int(k_max) + 1)
    T = float(judge.temperature(t))
    vals = judge.error(ks, T)
    i = int(np.argmin(vals))
    delta_inf = float(judge.error([1], T, method="limit")[0])
    coeffs = expansion_coefficients(judge)
    finite = i < len(ks) - 1 and vals[-1] > vals[i] * (1.0 + 1e-9)
    return OptimalK(
        int(ks[i]) if finite else None,
        float(vals[i]),
        float(vals[-1]),
        delta_inf,
        coeffs.finite_k_threshold(),
        float(coeffs.stationary_k(t)),
    )


# --------------------------------------------------------------------------- best reward
def best_reward_c(t: Any) -> np.ndarray:
    """c* = t: μ_R = μ_T − t(m − μ_T) minimises δ_∞ = b²(t − c)²/(1 + t)² + s² t/(1 + t) (spec §5.4)."""
    return np.asarray(t, dtype=np.float64)


def delta_inf_best(t: Any, s2: float = 1.0) -> np.ndarray:
    """δ_∞ at the best reward: s² t/(1 + t) (< b² + s², the k = 1 error)."""
    t = np.asarray(t, dtype=np.float64)
    return s2 * t / (1.0 + t)


# --------------------------------------------------------------------------- inference vs data
@dataclass(frozen=True)
class Slopes(Result):
    """Elasticities ∂log δ/∂log k and ∂log δ/∂log n of the exact error (central differences), the
    T = 0, k → ∞ predictions: −2 and d log[s̄² (1 − 2v)^(−1/2)]/d log n from the DE (v = Var_x(Δ_T)/s̄²),
    and Remark 6's −2v/(1 − α) (which drops the n-dependence of s̄² = σ² + (γ²/d)Tr(B_R Σ)). Rows: one."""

    k: float
    n: int
    dlog_k: float
    dlog_n: float
    predicted_dlog_k: float
    predicted_dlog_n: float
    remark6_dlog_n: float


def _with_n(judge: BLRJudge, n: int) -> BLRJudge:
    return replace(judge, n=int(n))


def _best_of_k_constant(judge: BLRJudge) -> float:
    """s̄² (1 − 2v)^(−1/2), v = (1 + c)² Var_x(Δ_T)/s̄²: E_x π s² e^{a²/s²} ≈ π × this (s ≈ s̄)."""
    r = difficulty_ratio(judge)
    return judge.de.mean_variance / math.sqrt(1.0 - r) if r < 1 else float("inf")


@x64
def inference_vs_data_slopes(judge: BLRJudge, k: float, T: float = 0.0, h: float = 0.05) -> Slopes:
    """Local slopes of log δ in log k and log n at (k, n) (k may be non-integer inside the formula)."""
    k = float(k)
    dk = _err_real_k(judge, np.array([k * math.exp(-h), k * math.exp(h)]), T)
    slope_k = float((math.log(dk[1]) - math.log(dk[0])) / (2 * h))
    n_lo, n_hi = max(1, round(judge.n * math.exp(-h))), round(judge.n * math.exp(h))
    lo, hi = _with_n(judge, n_lo), _with_n(judge, n_hi)
    dn = math.log(n_hi / n_lo)
    slope_n = float((math.log(_err_real_k(hi, [k], T)[0]) - math.log(_err_real_k(lo, [k], T)[0])) / dn)
    pred_n = (math.log(_best_of_k_constant(hi)) - math.log(_best_of_k_constant(lo))) / dn
    v = judge.de.bias_variance / judge.sigma2
    ratio = judge.d / judge.n
    remark6 = -2.0 * v / (1.0 - ratio) if ratio < 1 else float("nan")
    return Slopes(k, judge.n, slope_k, slope_n, -2.0, pred_n, remark6)


@x64
def _err_real_k(judge: BLRJudge, ks: Any, T: float) -> np.ndarray:
    """Exact input-averaged δ at real (non-integer) k: ``judge.error`` without its integer-k check."""
    q = judge.inputs()
    t, alpha, rho = selection.standardize(T, q.mean, q.std, q.teacher, q.reward)
    vals = np.asarray(selection.exact_grid(np.asarray(ks, dtype=np.float64), t, alpha, rho))
    return np.sum(q.weight[:, None] * q.std[:, None] ** 2 * vals, axis=0)


# --------------------------------------------------------------------------- task difficulty
def difficulty_ratio(judge: BLRJudge) -> float:
    """Difficulty ratio r = 2 Var_x(a)/s̄², a = m − μ_R = (1 + c)Δ_T (for c = 0, 2 Var_x(Δ_T)/s̄²): the
    x-average of e^{a²/s²} in the best-of-k constant diverges at r = 1 (spec §4, §5.6)."""
    return 2.0 * (1.0 + judge.c) ** 2 * judge.de.bias_variance / judge.de.mean_variance


def with_difficulty_ratio(judge: BLRJudge, ratio: float) -> BLRJudge:
    """``judge`` with its teacher scale |w_T|²/d rescaled so that :func:`difficulty_ratio` equals ``ratio``.

    Var_x(Δ_T) is proportional to |w_T|²/d and s̄² does not depend on it, so r is linear in the teacher scale.

    Args:
      judge: the model (its teacher scale must be > 0).
      ratio: the target difficulty ratio r > 0.

    Returns:
      The rescaled :class:`BLRJudge`.
    """
    if not (np.isfinite(ratio) and ratio > 0):
        raise InputError(f"ratio must be a finite number > 0, got {ratio}")
    return replace(judge, teacher_scale=judge.teacher_scale * float(ratio) / difficulty_ratio(judge))


def official_lte(judge: BLRJudge, k: Any) -> np.ndarray:
    """The official code's large-k expansion (L.T.E., BLR_zero_T.py) of δ/σ² at T = 0:
    (π/k²)/√(1 − (2|w_T|²/(dγ²))(ασ/(γS))²) with α = d/n (R ≈ R̂, s ≈ σ).

    Args:
      judge: the model (reward = teacher, T = 0).
      k: numbers of samples.

    Returns:
      δ/σ² per k (float64).

    References:
      Halder & Pehlevan (arXiv 2512.19905), official best-of-k script.
    """
    k = np.asarray(k, dtype=np.float64)
    alpha = judge.d / judge.n
    x = 2.0 * judge.teacher_scale / judge.gamma**2 * (alpha * judge.sigma / (judge.gamma * judge.S)) ** 2
    return (math.pi / k**2) / math.sqrt(1.0 - x)


def log_elasticities(values: Any, ks: Any, ns: Any) -> tuple[np.ndarray, np.ndarray]:
    """Elasticities ∂log δ/∂log k and ∂log δ/∂log n of a grid δ(n, k) by central differences
    (``np.gradient``, one-sided at the edges) in log k and log n.

    Args:
      values: δ on the grid, shape (len(ns), len(ks)), positive.
      ks: numbers of samples (increasing); ns: training-set sizes (increasing).

    Returns:
      ``(elasticity_k, elasticity_n)``, each of the grid's shape.
    """
    v = np.asarray(values, dtype=np.float64)
    ks, ns = np.asarray(ks, dtype=np.float64), np.asarray(ns, dtype=np.float64)
    if v.shape != (ns.size, ks.size) or np.any(v <= 0) or ks.size < 2 or ns.size < 2:
        raise InputError(f"values must be a positive (len(ns), len(ks)) grid with ≥ 2 points per axis, got {v.shape}")
    lv = np.log(v)
    return np.gradient(lv, np.log(ks), axis=1), np.gradient(lv, np.log(ns), axis=0)


def predicted_decay_exponent(ratio: Any) -> np.ndarray:
    """T = 0 decay exponent of δ(k): −2 below the threshold, −2/r above (δ ~ k^(−s̄²/Var Δ), up to logs)."""
    r = np.asarray(ratio, dtype=np.float64)
    return np.where(r < 1.0, -2.0, -2.0 / np.where(r > 0, r, 1.0))


@x64
def decay_exponent(
    judge: BLRJudge, T: float = 0.0, k_range: tuple[float, float] = (1e3, 1e5), points: int = 9
) -> float:
    """Least-squares slope of log δ against log k over ``k_range`` (exact method)."""
    ks = np.unique(np.round(np.geomspace(k_range[0], k_range[1], points)))
    vals = judge.error(ks, T)
    return float(weighted_loglog_fit(np.log(ks), np.log(np.asarray(vals, np.float64)))[0])


# --------------------------------------------------------------------------- batched grids
@x64
def error_grid(judge: BLRJudge, cs: Any, ts: Any, ks: Any) -> np.ndarray:
    """Exact δ for every (c, t, k): ``judge`` with its misspecification replaced by each c, at
    T = 2σ²t; one batched quadrature call. Returns an array (len(cs), len(ts), len(ks))."""
    cs, ts, ks = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (cs, ts, ks))
    base = judge.inputs()
    delta = base.mean - base.teacher  # Δ_T at the nodes (independent of c)
    # nodes × c × t, flattened
    reward = base.teacher[None, :] - cs[:, None] * delta[None, :]  # (C, N)
    C, N, Tn = len(cs), len(base), len(ts)
    T = judge.temperature(ts)
    rew = np.broadcast_to(reward[:, None, :], (C, Tn, N)).ravel()
    rep = lambda a: np.broadcast_to(a[None, None, :], (C, Tn, N)).ravel()  # noqa: E731
    Tf = np.broadcast_to(T[None, :, None], (C, Tn, N)).ravel()
    t, alpha, rho = selection.standardize(Tf, rep(base.mean), rep(base.std), rep(base.teacher), rew)
    vals = np.asarray(selection.exact_grid(ks, t, alpha, rho)).reshape(C, Tn, N, len(ks))
    return np.einsum("n,ctnk->ctk", base.weight * base.std**2, vals)


@dataclass(frozen=True)
class LogMinimum(Result):
    """Minimum of samples on a log-spaced grid (:func:`refine_log_minimum`): the minimiser ``x``, the minimum
    ``y`` and whether it lies inside the grid (``interior``; False when an end point is returned). Rows: one."""

    x: float
    y: float
    interior: bool


def refine_log_minimum(x: Any, y: Any) -> LogMinimum:
    """Minimiser of samples y(x) on a log-spaced grid: parabola in log x through the grid minimum and its neighbours.

    Args:
      x: increasing grid (positive), 1-D.
      y: samples at ``x`` (NaN ignored).
    Returns:
      :class:`LogMinimum`; at an end of the grid the end point is returned with ``interior=False``.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    i = int(np.nanargmin(y))
    if i == 0 or i == len(x) - 1:
        return LogMinimum(float(x[i]), float(y[i]), False)
    u = np.log(x[i - 1 : i + 2])
    a, b, c = np.polyfit(u, y[i - 1 : i + 2], 2)
    if a <= 0:
        return LogMinimum(float(x[i]), float(y[i]), True)
    u_star = -b / (2 * a)
    return LogMinimum(float(np.exp(u_star)), float(c - b * b / (4 * a)), True)
