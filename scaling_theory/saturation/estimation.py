"""Estimating the saturation models from logged attempts (spec §A.3; per-question p, sequential chains).

* per-question p̂_i = c_i/n_i (the TTSPM p_sample; :func:`per_question_p`);
* sequential logs (attempts with a ``round`` column): p₀ = accuracy at round 0, p_rethink = the
  fraction of wrong → correct transitions among rounds that start wrong, p_flip = the fraction of
  correct → wrong among rounds that start correct (:func:`sequential_estimates`);
* a least-squares fit of 1 − (1 − p)^N to an accuracy-vs-N curve (:func:`fit_p_curve`; the spec's
  alternative, [unconfirmed] as the paper's procedure);
* the **observed** marginal gain of the unbiased pass@N curve (Chen et al.) and the observed
  saturation point (:func:`observed_marginal_gain`, :func:`observed_saturation_point`):
  ΔF̂(N) = pass@(N+1) − pass@N = c/(n − N) · C(n − c, N)/C(n, N), unbiased for p(1 − p)^N when N < n;
* predicted-vs-observed saturation points from a small observed budget m (sub-sampled without
  replacement) and their Pearson correlation (:func:`predicted_vs_observed`).
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

from scaling_theory import beta as _beta
from scaling_theory.errors import InputError
from scaling_theory.io import numeric_column, require_columns, validate_attempts
from scaling_theory.numerics import check, eager_jit, host, x64
from scaling_theory.passk.estimators import log_no_success
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v
from scaling_theory.saturation._labelled import LabelledRows
from scaling_theory.saturation.heterogeneous import _first_below
from scaling_theory.saturation.ttspm import saturation_point
from scaling_theory.stats import subsample

ArrayLike = Any


# --------------------------------------------------------------------------------- per-question p


@dataclass(frozen=True)
class PerQuestionP(LabelledRows):
    """Per row of a counts table: ``n``, ``k``, ``p_hat`` = k/n and its binomial standard error ``se``
    (float64 arrays), labelled by the table's other columns (``labels``, e.g. ``problem``). Rows: one per row."""

    _row_fields = ("n", "k", "p_hat", "se")

    n: np.ndarray
    k: np.ndarray
    p_hat: np.ndarray
    se: np.ndarray


def per_question_p(counts: pd.DataFrame) -> PerQuestionP:
    """p̂ = k/n per row of a counts table and its binomial standard error ``se = √(p̂(1 − p̂)/n)``.

    Args:
      counts: a table with columns ``n`` and ``k`` (other columns become the labels of the rows).
    Returns:
      :class:`PerQuestionP`.
    """
    require_columns(counts, ["n", "k"])
    n, k = counts["n"].to_numpy(np.float64), counts["k"].to_numpy(np.float64)
    p_hat = k / n
    labels = {str(c): counts[c].to_numpy() for c in counts.columns if c not in ("n", "k")}
    return PerQuestionP(labels, n, k, p_hat, np.sqrt(p_hat * (1.0 - p_hat) / n))


# ------------------------------------------------------------------------------- sequential logs


@dataclass(frozen=True)
class SequentialEstimates(LabelledRows):
    """Per group (or group × problem) of a sequential log: ``chains`` (int64), ``p0`` (accuracy at round 0),
    ``n_from_wrong`` and ``p_rethink`` (wrong → correct), ``n_from_correct`` and ``p_flip`` (correct → wrong);
    a rate is NaN when it has no transitions to count. ``labels``: the key columns (``group_by`` [+ ``problem``]),
    empty for one pooled row. Rows: one per group, labels first."""

    _row_fields = ("chains", "p0", "n_from_wrong", "p_rethink", "n_from_correct", "p_flip")

    chains: np.ndarray
    p0: np.ndarray
    n_from_wrong: np.ndarray
    p_rethink: np.ndarray
    n_from_correct: np.ndarray
    p_flip: np.ndarray


def sequential_estimates(
    attempts: pd.DataFrame, group_by: Sequence[str] = (), per_problem: bool = False
) -> SequentialEstimates:
    """p₀, p_rethink and p_flip from an attempts table with a ``round`` column.

    One chain = one (group, problem, attempt); ``round`` = 0, 1, 2, … within the chain (round 0 is the
    initial answer, consecutive rounds required). Transition counts are pooled over chains (and over
    problems unless ``per_problem``).

    Args:
      attempts: an attempts table (``problem``, ``attempt``, ``correct``) with a ``round`` column.
      group_by: columns whose values define the groups (one row each).
      per_problem: one row per group × problem instead of pooling over problems.
    Returns:
      :class:`SequentialEstimates`: one row per group (or group × problem), sorted by the key columns.
    """
    group_by = list(group_by)
    require_columns(attempts, ["round"])
    df = validate_attempts(attempts, group_by + ["round"])
    df["round"] = numeric_column(df, "round", integer=True, minimum=0)
    chain = group_by + ["problem", "attempt"]
    df = df.sort_values(chain + ["round"], kind="stable").reset_index(drop=True)
    first = ~df.duplicated(chain, keep="first")
    prev_round = df.groupby(chain, sort=False)["round"].shift(1)
    if (df.loc[first, "round"] != 0).any():
        i = int(np.argmax((first & (df["round"] != 0)).to_numpy()))
        where = ", ".join(f"{c}={df[c].iloc[i]!r}" for c in chain)
        raise InputError(f"{df.attrs.get('source', '<table>')}: chain ({where}) does not start at round 0")
    gap = (~first) & (df["round"] != prev_round + 1)
    if gap.any():
        i = int(np.argmax(gap.to_numpy()))
        where = ", ".join(f"{c}={df[c].iloc[i]!r}" for c in chain)
        raise InputError(
            f"{df.attrs.get('source', '<table>')}: chain ({where}) skips from round {int(prev_round.iloc[i])} "
            f"to {int(df['round'].iloc[i])} (rounds must be consecutive)"
        )
    prev = df.groupby(chain, sort=False)["correct"].shift(1)
    df["_start"] = first.astype(np.int64)
    df["_init"] = np.where(first, df["correct"], 0)
    df["_w"] = (prev == 0).astype(np.int64)
    df["_w2c"] = ((prev == 0) & (df["correct"] == 1)).astype(np.int64)
    df["_c"] = (prev == 1).astype(np.int64)
    df["_c2w"] = ((prev == 1) & (df["correct"] == 0)).astype(np.int64)
    keys = group_by + (["problem"] if per_problem else [])
    cols = ["_start", "_init", "_w", "_w2c", "_c", "_c2w"]
    agg = df.groupby(keys, sort=False)[cols].sum().reset_index() if keys else df[cols].sum().to_frame().T
    counts = {c: agg[c].to_numpy(np.int64) for c in cols}
    with np.errstate(invalid="ignore", divide="ignore"):
        return SequentialEstimates(
            labels={str(k): agg[k].to_numpy() for k in keys},
            chains=counts["_start"],
            p0=counts["_init"] / counts["_start"],
            n_from_wrong=counts["_w"],
            p_rethink=np.where(counts["_w"] > 0, counts["_w2c"] / counts["_w"], np.nan),
            n_from_correct=counts["_c"],
            p_flip=np.where(counts["_c"] > 0, counts["_c2w"] / counts["_c"], np.nan),
        )


# ----------------------------------------------------------------------------- fitted TTSPM curve


@x64
def fit_p_curve(n: ArrayLike, acc: ArrayLike, weights: ArrayLike | None = None) -> np.ndarray:
    """Least-squares p of F(N) = 1 − (1 − p)^N to an observed accuracy curve (last axis = budgets).

    Minimises Σ_j w_j (acc_j − F(N_j))² over p ∈ (0, 1): a grid over logit p followed by a golden-
    section refinement inside the best grid cell (vectorised over leading axes).
    """
    n = v.count("n", n, minimum=1)
    acc = v.probability("acc", acc)
    w = jnp.ones_like(acc) if weights is None else v.nonnegative("weights", weights)
    return host(_fit_p_core(*jnp.broadcast_arrays(n, acc, w)))


@jax.jit
def _fit_p_core(n: jnp.ndarray, acc: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
    def sse(logit: jnp.ndarray) -> jnp.ndarray:  # logit: batch shape
        log1mp = -jax.nn.softplus(logit)  # log(1 − p) for p = sigmoid(logit)
        f = -jnp.expm1(n * log1mp[..., None])
        return jnp.sum(w * (acc - f) ** 2, axis=-1)

    grid = jnp.linspace(-25.0, 25.0, 401)
    vals = jax.vmap(lambda g0: sse(jnp.full(acc.shape[:-1], g0)), out_axes=-1)(grid)
    i = jnp.argmin(vals, axis=-1)
    lo = grid[jnp.maximum(i - 1, 0)]
    hi = grid[jnp.minimum(i + 1, grid.size - 1)]
    g = (jnp.sqrt(5.0) - 1.0) / 2.0

    def step(_: int, ab: tuple[jnp.ndarray, jnp.ndarray]) -> tuple[jnp.ndarray, jnp.ndarray]:
        a, b = ab
        c, d = b - g * (b - a), a + g * (b - a)
        left = sse(c) < sse(d)
        return jnp.where(left, a, c), jnp.where(left, d, b)

    a, b = jax.lax.fori_loop(0, 80, step, (lo, hi))
    return jax.nn.sigmoid((a + b) / 2.0)


# ------------------------------------------------------------------------ observed saturation point


def _observed_log_gain(n: jnp.ndarray, c: jnp.ndarray, N: jnp.ndarray) -> jnp.ndarray:
    """Traceable log ΔF̂(N) = log c − log(n − N) + log[C(n − c, N)/C(n, N)], −inf when c = 0 (no checks)."""
    return jnp.where(c > 0, jnp.log(jnp.maximum(c, 1.0)) - jnp.log(n - N) + log_no_success(n, c, N), -jnp.inf)


@eager_jit
def _observed_gain_core(n: jnp.ndarray, c: jnp.ndarray, N: jnp.ndarray) -> jnp.ndarray:
    """Traceable ΔF̂(N) (no checks; requires 0 ≤ c ≤ n and 0 ≤ N < n)."""
    return jnp.exp(_observed_log_gain(n, c, N))


@x64
def observed_marginal_gain(n: ArrayLike, c: ArrayLike, budget: ArrayLike) -> np.ndarray:
    """ΔF̂(N) = pass@(N+1) − pass@N of Chen's unbiased curve = c/(n − N) · C(n − c, N)/C(n, N), 0 ≤ N < n.

    Unbiased for the true gain p(1 − p)^N; non-increasing in N when c ≥ 1 (ratio (n − c − N)/(n − N − 1)).
    """
    n = v.count("n", n, minimum=1)
    c = v.count("c", c)
    N = v.count("budget", budget)
    check(c <= n, "c must be <= n")
    check(N < n, "budget must be < n (the observed gain at N needs N + 1 <= n samples)")
    n, c, N = jnp.broadcast_arrays(n, c, N)
    return host(_observed_gain_core(n, c, N))


def _point_args(
    n: ArrayLike, c: ArrayLike, eps: ArrayLike, cost: ArrayLike, threshold: str
) -> tuple[bool, jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Validated (strict, n, c, ε, C) of the observed saturation points."""
    strict = v.threshold(threshold) == "lt"
    n = v.count("n", n, minimum=1)
    c = v.count("c", c)
    e = v.positive("eps", eps)
    cst = v.positive("cost", cost)
    check(c <= n, "c must be <= n")
    return strict, n, c, e, cst


# The observed gain is a ratio of whole numbers (e.g. exactly 1/n for c = 1, flat in N), so ε C can equal it
# exactly; its float64 value carries ~1e-15 relative rounding, which would decide such a tie at random. A gain
# within TIE (relative) of ε C counts as equal to it: not below for "lt", below for "le".
TIE = 1e-12


def _tie_target(log_target: jnp.ndarray, strict: bool) -> jnp.ndarray:
    return log_target - TIE if strict else log_target + TIE


@x64
def observed_saturation_point(
    n: ArrayLike, c: ArrayLike, eps: ArrayLike, *, cost: ArrayLike = 1.0, threshold: str = "lt"
) -> np.ndarray:
    """First N in [0, n − 1] with ΔF̂(N) < ε C on the unbiased pass@N curve; ``inf`` if not reached in the data.

    A gain within a relative :data:`TIE` of ε C counts as equal to it (module comment): for c = 1 the gain is
    exactly 1/n at every N, so ε = 1/n gives ``inf`` with ``threshold="lt"`` and 0 with ``"le"``.
    """
    strict, n, c, e, cst = _point_args(n, c, eps, cost, threshold)
    n, c, e, cst = jnp.broadcast_arrays(n, c, e, cst)
    return host(_observed_point(n, c, _tie_target(jnp.log(e * cst), strict), strict))


@functools.partial(jax.jit, static_argnames="strict")
def _observed_point(n: jnp.ndarray, c: jnp.ndarray, log_target: jnp.ndarray, strict: bool) -> jnp.ndarray:
    return _first_below(lambda N: _observed_log_gain(n, c, N), log_target, strict, upper=n - 1.0)


@x64
def observed_aggregate_gain(n: ArrayLike, c: ArrayLike, budget: ArrayLike) -> np.ndarray:
    """Benchmark-level ΔF̂(N) for each N in ``budget`` (1-D): the mean over problems (last axis of n, c)."""
    n = v.count("n", n, minimum=1)
    c = v.count("c", c)
    N = jnp.atleast_1d(v.count("budget", budget))
    check(c <= n, "c must be <= n")
    check(N < jnp.min(n), "budget must be < the smallest n")
    n, c = jnp.broadcast_arrays(n, c)
    return host(_observed_gain_core(n[..., None, :], c[..., None, :], N[:, None]).mean(axis=-1))


@x64
def observed_aggregate_saturation_point(
    n: ArrayLike, c: ArrayLike, eps: float, *, cost: float = 1.0, threshold: str = "lt"
) -> np.ndarray:
    """First N < min n with the benchmark-mean ΔF̂(N) < ε C (the data's own aggregate curve); inf if not reached.

    Ties within a relative :data:`TIE` as in :func:`observed_saturation_point`."""
    strict, n, c, e, cst = _point_args(n, c, eps, cost, threshold)
    n, c = jnp.broadcast_arrays(n, c)
    return host(_observed_aggregate_point(n, c, _tie_target(jnp.log(e * cst), strict), strict))


@functools.partial(jax.jit, static_argnames="strict")
def _observed_aggregate_point(n: jnp.ndarray, c: jnp.ndarray, log_target: jnp.ndarray, strict: bool) -> jnp.ndarray:
    top = jnp.min(n) - 1.0

    def log_gain(N: jnp.ndarray) -> jnp.ndarray:
        return jnp.log(_observed_gain_core(n, c, jnp.minimum(N, top)).mean())

    return _first_below(log_gain, log_target, strict, upper=top)


# -------------------------------------------------------------------- predicted vs observed


def pearson_r(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson correlation of two finite vectors (NaN when either is constant or fewer than 3 points)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


@x64
def posterior_saturation_point(
    n: ArrayLike, c: ArrayLike, alpha: ArrayLike, beta: ArrayLike, eps: ArrayLike, *, threshold: str = "lt"
) -> np.ndarray:
    """Per-question N* under the Beta(α + c, β + n − c) posterior: first N with E_post[p(1 − p)^N] < ε.

    E_post[p(1 − p)^N] = B(α + c + 1, β + n − c + N)/B(α + c, β + n − c) — the heterogeneous formula
    applied to one question's posterior (empirical Bayes when (α, β) is fitted across questions).
    """
    strict = v.threshold(threshold) == "lt"
    a = v.positive("alpha", alpha) + v.count("c", c)
    b = v.positive("beta", beta) + v.count("n", n) - jnp.asarray(c, jnp.float64)
    e = v.positive("eps", eps)
    a, b, e = jnp.broadcast_arrays(a, b, e)
    return host(_beta.saturation_point(a, b, jnp.log(e), strict))


@dataclass(frozen=True)
class PredictedVsObserved(Result):
    """Per-problem N* predicted from ``n_obs`` sub-sampled attempts vs N* observed on all attempts, per ε
    (:func:`predicted_vs_observed`).

    ``eps`` (E,); ``k_m`` the sub-sampled successes (shape of ``c``); ``predicted``, ``observed`` (``inf`` where the
    full data never drop below ε) and ``used`` (finite observed N* and at least one success in the full data) of
    shape (E,) + ``c.shape``; per ε over the used problems: ``problems`` (count), Pearson ``r`` of N*, ``r_log`` of
    log(1 + N*) and ``median_abs_error``. ``method`` is ``"plug-in"`` or ``"posterior"``; ``alpha``, ``beta`` the
    Beta prior per row of ``c`` (None for the plug-in). Rows: one per ε."""

    _index = ("eps",)
    _row_fields = ("eps", "method", "n_obs", "problems", "r", "r_log", "median_abs_error")

    eps: np.ndarray
    method: str
    n_obs: int
    k_m: np.ndarray
    predicted: np.ndarray
    observed: np.ndarray
    used: np.ndarray
    problems: np.ndarray
    r: np.ndarray
    r_log: np.ndarray
    median_abs_error: np.ndarray
    alpha: np.ndarray | None = None
    beta: np.ndarray | None = None


def _prior_arrays(
    prior: tuple[ArrayLike, ArrayLike] | str, k_m: np.ndarray, n_obs: int
) -> tuple[np.ndarray, np.ndarray]:
    """(α, β) per row of the counts: fitted by Beta-binomial MLE per row (``"fit"``) or given (scalars or one per row)."""
    lead = k_m.shape[:-1]
    if isinstance(prior, str):
        if prior != "fit":
            raise InputError(f"prior must be None, 'fit' or (alpha, beta), got {prior!r}")
        from scaling_theory.passk.mle import fit as beta_binomial_fit

        f = beta_binomial_fit(np.full(k_m.shape, float(n_obs)), k_m)
        return np.asarray(f.alpha, np.float64), np.asarray(f.beta, np.float64)
    if len(prior) != 2:
        raise InputError(f"prior must be None, 'fit' or (alpha, beta), got {prior!r}")
    out = []
    for name, x in zip(("prior alpha", "prior beta"), prior):
        a = np.asarray(v.positive(name, x), np.float64)
        if a.shape not in ((), lead):
            raise InputError(f"{name} must be a scalar or one value per row of c (shape {lead}), got shape {a.shape}")
        out.append(a)
    return out[0], out[1]


def predicted_vs_observed(
    key: jax.Array,
    n: ArrayLike,
    c: ArrayLike,
    eps: Sequence[float],
    n_obs: int,
    *,
    prior: tuple[ArrayLike, ArrayLike] | str | None = None,
    threshold: str = "lt",
) -> PredictedVsObserved:
    """Per problem: N* predicted from ``n_obs`` sub-sampled attempts vs N* observed on all n attempts, per ε.

    Args:
      key: PRNG key of the sub-sample (hypergeometric, :func:`scaling_theory.stats.subsample`).
      n: attempts per problem (last axis = problems; leading axes = rows, e.g. models), broadcasting to ``c``.
      c: successes per problem.
      eps: thresholds ε.
      n_obs: attempts kept per problem (≤ every n).
      prior: ``None`` for the TTSPM plug-in p̂ = k_m/n_obs; ``(α, β)`` for the posterior rule of
        :func:`posterior_saturation_point` with one prior for all problems (scalars) or one per row of ``c``
        (arrays of shape ``c.shape[:-1]``, e.g. per model); ``"fit"`` for empirical Bayes: (α, β) fitted per row
        by Beta-binomial maximum likelihood (``passk.mle.fit``) on the sub-sampled counts.
      threshold: ``"lt"`` or ``"le"`` (see :func:`saturation_point`).
    Returns:
      :class:`PredictedVsObserved`.
    """
    n_a, c_a = np.asarray(n, np.float64), np.asarray(c, np.float64)
    n_obs = v.int_arg("n_obs", n_obs, minimum=1)
    k_m = subsample(key, n_a, c_a, n_obs)
    alpha = beta = None
    if prior is not None:
        alpha, beta = _prior_arrays(prior, k_m, n_obs)
    eps_a = np.asarray([float(e) for e in eps], np.float64)
    preds, obss, uses, summary = [], [], [], []
    for e in eps_a:
        obs = np.asarray(observed_saturation_point(n_a, c_a, e, threshold=threshold))
        if alpha is None or beta is None:
            pred = np.asarray(saturation_point(k_m / n_obs, e, threshold=threshold))
        else:
            pred = np.asarray(
                posterior_saturation_point(n_obs, k_m, alpha[..., None], beta[..., None], e, threshold=threshold)
            )
        use = np.broadcast_to(np.isfinite(obs) & (c_a > 0), pred.shape)
        p_u, o_u = pred[use], obs[use]
        summary.append(
            (
                int(use.sum()),
                pearson_r(p_u, o_u),
                pearson_r(np.log1p(p_u), np.log1p(o_u)),
                float(np.median(np.abs(p_u - o_u))) if p_u.size else float("nan"),
            )
        )
        preds.append(pred)
        obss.append(np.broadcast_to(obs, pred.shape))
        uses.append(use)
    problems, r, r_log, mae = (np.asarray(x) for x in zip(*summary)) if summary else (np.zeros(0),) * 4
    return PredictedVsObserved(
        eps_a,
        "plug-in" if prior is None else "posterior",
        n_obs,
        k_m,
        np.asarray(preds),
        np.asarray(obss),
        np.asarray(uses),
        problems.astype(np.int64),
        r.astype(np.float64),
        r_log.astype(np.float64),
        mae.astype(np.float64),
        alpha,
        beta,
    )
