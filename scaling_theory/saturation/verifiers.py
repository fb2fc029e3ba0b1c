"""Imperfect verifiers: resampling until accepted (Inference Scaling fLaws, arXiv 2411.17501, spec §B).

Per task type i (weights p_i, e.g. easy / hard) a sample is truly correct with probability r_i; the
verifier accepts a correct sample with probability c (completeness; unit tests: c = 1) and rejects
an incorrect one with probability s (soundness). Per attempt

    β_i = (1 − c) r_i + s (1 − r_i)      (rejected),
    p_correct,i = c r_i                   (correct and accepted),
    p_fluke,i = (1 − r_i)(1 − s)          (false positive: accepted but wrong).

* ceiling: P(correct | accepted) = c r/(c r + (1 − s)(1 − r)), the accuracy of resampling with
  unlimited budget (it cannot be raised by sampling more);
* U(K) of "resample until the first accept, submit it, abstain after K rejections", with utility
  1 for a correct submission, V_fluke ≤ 0 for a false positive and 0 for abstaining:
  exact form U(K) = Σ_i p_i (p_c,i + V_f p_f,i)(1 − β_i^K)/(1 − β_i) [derived, spec §B.2]
  and the official notebook's "code form" (posterior-weighted per-attempt terms, spec §B.2);
* the optimal budget K_opt = argmax_{1 ≤ K ≤ k_max} U(K), or 0 (abstain) when max U < 0;
* estimation of (r_i, s, c, p_i) per difficulty group from logs with a verifier verdict
  (``accepted``) and ground truth (``correct``), the official estimator of s included;
* the permutation resampling experiment of the official code (spec §B.3), both exactly (the first
  accepted sample of a random order is a uniform accepted sample; its position is hypergeometric)
  and by Monte Carlo over permutations.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.io import require_columns, validate_attempts
from scaling_theory.numerics import check, host, x64
from scaling_theory.passk.estimators import log_no_success
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v
from scaling_theory.saturation._labelled import LabelledRows

ArrayLike = Any


@dataclass(frozen=True)
class VerifierModel(Result):
    """Mixture of task types: weights ``p`` (sum 1), correctness ``r`` per type, soundness ``s``, completeness ``c``
    (float64 NumPy). Rows: one per task type (``type``) with ``r``, ``s``, ``p``, ``c``."""

    _index = ("type",)

    r: np.ndarray
    s: np.ndarray
    p: np.ndarray
    c: np.ndarray


def make_model(
    r: ArrayLike, soundness: ArrayLike, weights: ArrayLike | None = None, completeness: ArrayLike = 1.0
) -> VerifierModel:
    """Validate and pack a verifier model; ``r`` and ``weights`` are 1-D over task types (weights default uniform)."""
    with jax.enable_x64(True):
        r = jnp.atleast_1d(v.probability("r", r))
        if r.ndim != 1:
            raise InputError(f"r must be a number or a 1-D list over task types, got shape {tuple(r.shape)}")
        s = v.probability("soundness", soundness)
        c = v.probability("completeness", completeness)
        if weights is None:
            p = jnp.full(r.shape, 1.0 / r.size)
        else:
            p = jnp.atleast_1d(v.nonnegative("weights", weights))
            if p.shape != r.shape:
                raise InputError(f"weights must have one entry per r ({r.size}), got {p.size}")
            tot = float(jnp.sum(p))
            if not np.isclose(tot, 1.0, atol=1e-9):
                raise InputError(f"weights must sum to 1, got {tot:g}")
        return VerifierModel(np.asarray(r), np.asarray(s), np.asarray(p), np.asarray(c))


@x64
def attempt_probabilities(verifier: VerifierModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(β_i, p_correct,i, p_fluke,i) per task type: rejected, accepted-correct, accepted-wrong."""
    r, s, c = jnp.asarray(verifier.r), jnp.asarray(verifier.s), jnp.asarray(verifier.c)
    beta = (1.0 - c) * r + s * (1.0 - r)
    return host((beta, c * r, (1.0 - r) * (1.0 - s)))


@x64
def accuracy_ceiling(r: ArrayLike, soundness: ArrayLike, completeness: ArrayLike = 1.0) -> np.ndarray:
    """P(correct | accepted) = c r/(c r + (1 − s)(1 − r)): accuracy under unlimited resampling (per task).

    Undefined (NaN → reported as an error) when nothing is ever accepted (c r = 0 and s = 1); r = 0
    with s < 1 gives 0.
    """
    r = v.probability("r", r)
    s = v.probability("soundness", soundness)
    c = v.probability("completeness", completeness)
    num = c * r
    den = num + (1.0 - s) * (1.0 - r)
    check(den > 0, "accuracy ceiling undefined: no sample is ever accepted (c·r = 0 and soundness = 1)")
    return host(num / jnp.where(den > 0, den, 1.0))


@x64
def mixture_ceiling(verifier: VerifierModel) -> np.ndarray:
    """Ceiling of the mixture under unlimited resampling: Σ_i p_i P(correct | accepted, type i).

    Each task is resampled until its own first accept, so the benchmark accuracy averages the
    per-type ceilings (types that never accept count 0). Equals lim_{K→∞} U(K) with V_fluke = 0.
    """
    beta, pc, pf = attempt_probabilities(verifier)
    acc = pc + pf
    return host(jnp.sum(verifier.p * jnp.where(acc > 0, pc / jnp.where(acc > 0, acc, 1.0), 0.0)))


@x64
def utility_exact(verifier: VerifierModel, k: ArrayLike, v_fluke: ArrayLike) -> np.ndarray:
    """U(K) = Σ_i p_i (p_c,i + V_f p_f,i)(1 − β_i^K)/(1 − β_i) (exact expectation; K = 0 gives 0)."""
    k = v.count("k", k)
    vf = v.nonpositive("v_fluke", v_fluke)
    beta, pc, pf = attempt_probabilities(verifier)
    return host(_utility_exact_core(verifier.p, beta, pc, pf, k, vf))


@jax.jit
def _utility_exact_core(p, beta, pc, pf, k, vf):
    kk = k[..., None]
    ok = beta < 1
    geom = jnp.where(ok, -jnp.expm1(kk * jnp.log(jnp.where(ok, beta, 0.5))) / jnp.where(ok, 1.0 - beta, 1.0), 0.0)
    geom = jnp.where(kk == 0, 0.0, geom)
    return jnp.sum(p * (pc + vf[..., None] * pf) * geom, axis=-1)


@x64
def utility_code(verifier: VerifierModel, k_max: int, v_fluke: ArrayLike) -> np.ndarray:
    """U(K), K = 1..k_max, in the official notebook's form (spec §B.2): cumulative sum over attempts k of

    (Σ_i t_i (p_c,i + V_f p_f,i)) · (Σ_i t_i β_i^{k−1}),  t_i ∝ p_i β_i^{k−1}  (posterior after k − 1 rejections).

    Not the exact expectation (kept to reproduce the paper's numbers). Returns shape (..., k_max).
    """
    k_max = v.int_arg("k_max", k_max, minimum=1)
    vf = v.nonpositive("v_fluke", v_fluke)
    beta, pc, pf = attempt_probabilities(verifier)
    return host(_utility_code_core(verifier.p, beta, pc, pf, vf, k_max))


@functools.partial(jax.jit, static_argnames="k_max")
def _utility_code_core(p, beta, pc, pf, vf, k_max: int):
    k = jnp.arange(1, k_max + 1, dtype=jnp.float64)[:, None]
    log_reach_i = jnp.where(k == 1.0, 0.0, (k - 1.0) * jnp.log(beta))  # log β_i^{k−1} (0^0 = 1)
    logw = jnp.log(p) + log_reach_i
    alive = jnp.isfinite(jnp.max(logw, axis=-1))  # some type can still be unresolved at attempt k
    t = jax.nn.softmax(jnp.where(alive[:, None], logw, 0.0), axis=-1)  # (k_max, types)
    reach = jnp.where(alive, jnp.sum(t * jnp.exp(log_reach_i), axis=-1), 0.0)
    gain = jnp.sum(t * (pc + vf[..., None, None] * pf), axis=-1)
    return jnp.cumsum(gain * reach, axis=-1)


@x64
def utility_limit(verifier: VerifierModel, v_fluke: ArrayLike) -> np.ndarray:
    """lim_{K→∞} U(K) = Σ_i p_i (p_c,i + V_f p_f,i)/(1 − β_i) (types with β_i = 1 contribute 0)."""
    vf = v.nonpositive("v_fluke", v_fluke)
    beta, pc, pf = attempt_probabilities(verifier)
    return host(
        jnp.sum(
            verifier.p * jnp.where(beta < 1, (pc + vf[..., None] * pf) / jnp.where(beta < 1, 1.0 - beta, 1.0), 0.0),
            axis=-1,
        )
    )


@dataclass(frozen=True)
class OptimalSampleCount(Result):
    """K_opt per V_fluke (shape of ``v_fluke``; 0 = abstain), the utility there ``utility`` (0 when abstaining),
    the curve U(K), K = 1..k_max (``curve``, shape of ``v_fluke`` + (k_max,)) and ``v_fluke`` itself (NumPy).

    Rows: one per V_fluke with ``k_opt``, ``utility`` and ``v_fluke`` (the curve stays an array).
    """

    _row_fields = ("v_fluke", "k_opt", "utility")

    k_opt: np.ndarray
    utility: np.ndarray
    curve: np.ndarray
    v_fluke: np.ndarray


@x64
def optimal_sample_count(
    verifier: VerifierModel, v_fluke: ArrayLike, k_max: int = 800, form: str = "exact", tol: float = 0.0
) -> OptimalSampleCount:
    """K_opt = the smallest K ≤ k_max with U(K) ≥ max U − tol (tol = 0: the first maximiser, as the official
    notebook's argmax); 0 when max U < 0 (abstain). Broadcasts over V_f.

    When every per-attempt term is positive, U(K) rises monotonically to its limit and the tol = 0 argmax
    is merely where the increments fall below float64 resolution; a tol > 0 makes K_opt the saturation
    point of U ("stop when one more round of resampling gains less than tol").
    """
    k_max = v.int_arg("k_max", k_max, minimum=1)
    vf = v.nonpositive("v_fluke", v_fluke)
    tol = float(v.nonnegative("tol", tol))
    if form == "exact":
        curve = utility_exact(verifier, jnp.arange(1, k_max + 1, dtype=jnp.float64), vf[..., None])
    elif form == "code":
        curve = utility_code(verifier, k_max, vf)
    else:
        raise InputError(f"form must be 'exact' or 'code', got {form!r}")
    best = jnp.max(curve, axis=-1)
    k = jnp.argmax(curve >= best[..., None] - tol, axis=-1).astype(jnp.float64) + 1.0
    abstain = best < 0
    return OptimalSampleCount(
        np.asarray(jnp.where(abstain, 0.0, k)),
        np.asarray(jnp.where(abstain, 0.0, best)),
        np.asarray(curve),
        np.asarray(vf),
    )


# ----------------------------------------------------------------------------- estimation from logs


@dataclass(frozen=True)
class TaskRates(LabelledRows):
    """Per task (group × problem, the ``labels``): ``n`` samples, ``base`` = mean(accepted), ``plus`` =
    mean(correct), ``n_accepted``, ``n_accepted_correct`` and ``plus_given_base`` = #(accepted ∧ correct)/#accepted
    (NaN if none); float64 arrays. Rows: one per task."""

    _row_fields = ("n", "plus", "base", "n_accepted", "n_accepted_correct", "plus_given_base")

    n: np.ndarray
    plus: np.ndarray
    base: np.ndarray
    n_accepted: np.ndarray
    n_accepted_correct: np.ndarray
    plus_given_base: np.ndarray


def task_rates(attempts: pd.DataFrame, group_by: Sequence[str] = ()) -> TaskRates:
    """Per-task verifier and truth rates from an attempts table with ``accepted`` (verifier) and ``correct``.

    Args:
      attempts: attempts table (``problem``, ``attempt``, ``correct``, ``accepted`` and the ``group_by`` columns).
      group_by: columns that name a group.
    Returns:
      :class:`TaskRates`, labelled by ``group_by`` and ``problem``.
    """
    t = _task_rates(attempts, list(group_by))
    labels = {str(c): t[c].to_numpy() for c in [*group_by, "problem"]}
    return TaskRates(labels, *(t[c].to_numpy(np.float64) for c in TaskRates._row_fields))


def _task_rates(attempts: pd.DataFrame, group_by: list[str]) -> pd.DataFrame:
    require_columns(attempts, ["accepted"])
    df = validate_attempts(attempts, group_by)
    acc = df["accepted"]
    if acc.dtype == object:
        low = acc.astype(str).str.strip().str.lower()
        acc = low.map({"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0})
    acc = pd.to_numeric(acc, errors="coerce")
    bad = ~acc.isin([0, 1])
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        val = df["accepted"].iloc[i]
        val = val.item() if hasattr(val, "item") else val
        raise InputError(f"{df.attrs.get('source', '<table>')}: row {i + 1}, column 'accepted': {val!r} is not 0 or 1")
    df = df.assign(_acc=acc.astype(np.int64), _ac=(acc.astype(np.int64) * df["correct"]))
    g = df.groupby(group_by + ["problem"], sort=False)
    out = g.agg(
        n=("correct", "size"),
        plus=("correct", "mean"),
        base=("_acc", "mean"),
        n_accepted=("_acc", "sum"),
        n_accepted_correct=("_ac", "sum"),
    ).reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["plus_given_base"] = out["n_accepted_correct"] / out["n_accepted"].replace(0, np.nan)
    return out


_TYPES = ("easy", "hard")


@dataclass(frozen=True)
class VerifierEstimate(LabelledRows):
    """The two-type verifier model estimated per group (the ``labels``; :func:`estimate_verifier`).

    Per group (float64 arrays (G,)): ``tasks``, ``pass_at_1``, ``accept_rate``, the pooled ``soundness`` and
    ``completeness``, the official code's ``soundness_official``, the empirical ``ceiling`` and its
    ``ceiling_worst``/``ceiling_best`` bounds; per task type (``easy``, ``hard``: dicts of (G,) arrays with keys
    ``tasks``, ``weight``, ``r``, ``soundness``, ``completeness``; ``tasks`` = 0 and NaN rates where a group has
    no task of that type). Rows: one per group (type columns ``easy_weight``, ``hard_r``, …)."""

    _row_fields = (
        "tasks",
        "pass_at_1",
        "accept_rate",
        "soundness",
        "completeness",
        "soundness_official",
        "ceiling",
        "ceiling_worst",
        "ceiling_best",
        "easy",
        "hard",
    )

    tasks: np.ndarray
    pass_at_1: np.ndarray
    accept_rate: np.ndarray
    soundness: np.ndarray
    completeness: np.ndarray
    soundness_official: np.ndarray
    ceiling: np.ndarray
    ceiling_worst: np.ndarray
    ceiling_best: np.ndarray
    easy: dict[str, np.ndarray]
    hard: dict[str, np.ndarray]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def estimate_verifier(
    attempts: pd.DataFrame, group_by: Sequence[str] = (), easy_threshold: float = 0.5
) -> VerifierEstimate:
    """Estimate the two-type verifier model from logs with ``accepted`` (verifier) and ``correct`` (truth).

    Tasks with ``plus`` (their correct rate) > ``easy_threshold`` are "easy", the rest "hard" (the
    official split). Per difficulty group: weight p_i (fraction of tasks), r_i = mean correct rate,
    s_i = #(rejected ∧ wrong)/#wrong and c_i = #(accepted ∧ correct)/#correct pooled over the
    group's samples. Overall: the pooled s and c, and the official estimator
    s = (1 − mean(base) − mean(plus) + mean(plus|base)·mean(base))/(1 − mean(plus)) (task means;
    plus|base averaged over tasks with an accept). Also the empirical ceiling (mean plus|base) with
    its worst/best-case bounds (tasks without an accept counted as 0 / 1).

    Args:
      attempts: attempts table with ``accepted`` and ``correct`` columns.
      group_by: columns that name a group (one estimate per group).
      easy_threshold: the split of tasks into easy and hard, in [0, 1].
    Returns:
      :class:`VerifierEstimate`, one entry per group.
    """
    if not 0.0 <= easy_threshold <= 1.0:
        raise InputError(f"easy_threshold must be in [0, 1], got {easy_threshold:g}")
    group_by = list(group_by)
    rates = _task_rates(attempts, group_by)
    groups = rates.groupby(group_by, sort=False) if group_by else [((), rates)]
    labels: dict[str, list[Any]] = {c: [] for c in group_by}
    cols: dict[str, list[float]] = {c: [] for c in VerifierEstimate._row_fields[:-2]}
    per_type: dict[str, dict[str, list[float]]] = {
        name: {c: [] for c in ("tasks", "weight", "r", "soundness", "completeness")} for name in _TYPES
    }
    for key, t in groups:
        key = key if isinstance(key, tuple) else (key,)
        for c, val in zip(group_by, key):
            labels[c].append(val)
        n = t["n"].to_numpy(np.float64)
        plus_t = t["plus"].to_numpy()
        corr = plus_t * n
        wrong = n - corr
        acc_corr = t["n_accepted_correct"].to_numpy(np.float64)
        acc_wrong = t["n_accepted"].to_numpy(np.float64) - acc_corr
        easy = plus_t > easy_threshold
        for name, mask in zip(_TYPES, (easy, ~easy)):
            w, cc = wrong[mask].sum(), corr[mask].sum()
            vals = per_type[name]
            vals["tasks"].append(float(mask.sum()))
            vals["weight"].append(float(mask.mean()) if mask.any() else float("nan"))
            vals["r"].append(float(plus_t[mask].mean()) if mask.any() else float("nan"))
            vals["soundness"].append(_ratio(w - acc_wrong[mask].sum(), w))
            vals["completeness"].append(_ratio(acc_corr[mask].sum(), cc))
        base, plus = t["base"].mean(), t["plus"].mean()
        pgb = t["plus_given_base"]
        s_code = (1.0 - base - plus + pgb.mean() * base) / (1.0 - plus) if plus < 1 else float("nan")
        for c, val in (
            ("tasks", float(len(t))),
            ("pass_at_1", float(plus)),
            ("accept_rate", float(base)),
            ("soundness", _ratio(wrong.sum() - acc_wrong.sum(), wrong.sum())),
            ("completeness", _ratio(acc_corr.sum(), corr.sum())),
            ("soundness_official", float(s_code)),
            ("ceiling", float(pgb.mean())),
            ("ceiling_worst", float(pgb.fillna(0.0).mean())),
            ("ceiling_best", float(pgb.fillna(1.0).mean())),
        ):
            cols[c].append(val)
    arrays: dict[str, Any] = {c: np.asarray(v, np.float64) for c, v in cols.items()}
    types: dict[str, Any] = {name: {c: np.asarray(v, np.float64) for c, v in d.items()} for name, d in per_type.items()}
    return VerifierEstimate({c: np.asarray(v) for c, v in labels.items()}, **arrays, **types)


def model_from_estimate(estimate: VerifierEstimate, group: int = 0, pooled_soundness: bool = True) -> VerifierModel:
    """A :class:`VerifierModel` from one group of :func:`estimate_verifier` (the official code uses one s for all types).

    Args:
      estimate: the result of :func:`estimate_verifier`.
      group: index of the group (0 when ungrouped).
      pooled_soundness: use the group's pooled soundness (else the per-type ones, which must agree).
    Returns:
      The :class:`VerifierModel` of the types present in the group (easy first).
    """
    g = v.int_arg("group", group, minimum=0)
    if g >= estimate.tasks.size:
        raise InputError(f"group must be < {estimate.tasks.size}, got {g}")
    types = [getattr(estimate, name) for name in _TYPES if getattr(estimate, name)["tasks"][g] > 0]
    r = [float(t["r"][g]) for t in types]
    p = [float(t["weight"][g]) for t in types]
    if pooled_soundness:
        return make_model(r, float(estimate.soundness[g]), p, 1.0)
    s = [float(t["soundness"][g]) for t in types]
    if len(set(s)) > 1:
        raise InputError("per-type soundness differs; the model takes one s (use pooled_soundness=True)")
    return make_model(r, s[0], p, 1.0)


# ----------------------------------------------------------------------- permutation resampling


@x64
def resampling_reward(
    n: ArrayLike, n_accepted: ArrayLike, n_accepted_correct: ArrayLike, k: ArrayLike, v_fluke: ArrayLike
) -> np.ndarray:
    """Expected reward of the official permutation experiment for one task at budget K (exact).

    In a uniformly random order of the task's n stored samples, the first accepted one is a uniform
    draw among the a accepted (correct with probability t/a) and lies within the first K with
    probability 1 − C(n − a, K)/C(n, K). Reward: 1 if correct, V_fluke if a false positive, 0 if none
    within K: E = (1 − C(n − a, K)/C(n, K)) (t + V_f (a − t))/a. Broadcasts; K ≥ n is allowed.
    """
    n = v.count("n", n, minimum=1)
    a = v.count("n_accepted", n_accepted)
    t = v.count("n_accepted_correct", n_accepted_correct)
    k = v.count("k", k)
    vf = v.nonpositive("v_fluke", v_fluke)
    check(a <= n, "n_accepted must be <= n")
    check(t <= a, "n_accepted_correct must be <= n_accepted")
    kk = jnp.minimum(k, n)
    reached = -jnp.expm1(log_no_success(n, a, kk))
    value = jnp.where(a > 0, (t + vf * (a - t)) / jnp.where(a > 0, a, 1.0), 0.0)
    return host(jnp.where(kk == 0, 0.0, reached * value))


@x64
def simulate_resampling(
    key: jax.Array,
    accepted_TxS: ArrayLike,
    correct_TxS: ArrayLike,
    k_grid: ArrayLike,
    v_fluke: float,
    permutations: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo of the official experiment: shuffle each task's samples, submit the first accepted one.

    ``accepted_TxS``/``correct_TxS``: 0/1 per task × sample (equal sample counts). Returns the task-
    averaged reward for each K in ``k_grid`` and its standard error over permutations.
    """
    acc = jnp.asarray(accepted_TxS, jnp.float64)
    cor = jnp.asarray(correct_TxS, jnp.float64)
    if acc.ndim != 2 or acc.shape != cor.shape:
        raise InputError("accepted and correct must be 2-D arrays of the same shape (tasks × samples)")
    permutations = v.int_arg("permutations", permutations, minimum=2)
    ks = v.count("k_grid", k_grid, minimum=1)
    vf = v.nonpositive("v_fluke", v_fluke)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(permutations))
    r = _permutation_rewards(keys, acc, cor, ks, vf)
    return host((r.mean(axis=0), r.std(axis=0, ddof=1) / jnp.sqrt(permutations)))


@jax.jit
def _permutation_rewards(keys, acc, cor, ks, vf):
    T, S = acc.shape

    def one(kp: jax.Array) -> jnp.ndarray:
        order = jnp.argsort(jax.random.uniform(kp, (T, S)), axis=1)
        a = jnp.take_along_axis(acc, order, axis=1)
        c = jnp.take_along_axis(cor, order, axis=1)
        first = jnp.argmax(a, axis=1)  # position of the first accept (0 if none; masked below)
        any_acc = a.max(axis=1) > 0
        val = jnp.where(jnp.take_along_axis(c, first[:, None], axis=1)[:, 0] > 0, 1.0, vf)
        got = any_acc[:, None] & (first[:, None] < ks[None, :])
        return jnp.mean(jnp.where(got, val[:, None], 0.0), axis=0)

    return jax.vmap(one)(keys)
