"""More intervals for a fit: residual bootstrap, block bootstrap over runs, Student-t (lack-of-fit).

Beside the row bootstrap (:func:`uncertainty.bootstrap`) and the NumPyro posterior (:mod:`bayes`):

* **residual bootstrap** (Efron & Tibshirani 1993, §9.5; Davison & Hinkley 1997, Alg. 6.1): keep
  the design, replace y by ŷ·e^{r*} (log residuals) or ŷ + r* (linear), r* drawn with replacement
  from the centred residuals inflated by sqrt(n/(n − p)), and refit. It assumes exchangeable
  residuals (homoscedastic on the loss scale) and suits designed studies (IsoFLOP grids) where the
  x values are fixed, not sampled. Prediction intervals add a further residual draw.
* **block bootstrap over runs** (Künsch 1989; Davison & Hinkley 1997, §8.2): resample whole groups
  (e.g. the checkpoints of one training run) with replacement, so the correlation of residuals
  within a run is kept. Row weights are the group counts.
* **Student-t intervals** (Seber & Wild 1989, §5.1): the fit linearised at θ̂, J = ∂r/∂θ,
  s² = Σ w r² / (n − p) (the lack of fit of the law counts as noise), Cov θ̂ = s² (JᵀWJ)⁻¹ and
  θ̂_j ± t_{n−p} se_j in the law's coordinates (mapped to the parameters, which are monotone in
  them). A prediction at x₀ gets ẑ₀ ± t_{n−p} s sqrt(1 + g₀ᵀ(JᵀWJ)⁻¹g₀) in the residual space.
  Exact for a linear model with Gaussian errors (a power law fitted by least squares in log–log).

All three return :class:`~scaling_theory.fitting.uncertainty.Draws` (the t intervals also in closed
form by :func:`t_intervals` and :func:`t_prediction_interval`), so ``intervals`` and
``predict_interval`` work for every method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from scaling_theory.errors import InputError
from scaling_theory.fitting.fit import FitResult, bucket, pad_rows, params_of
from scaling_theory.fitting.objectives import objective, residuals, runtime
from scaling_theory.fitting.optimize import CONVERGED, LBFGSOptions, minimize_batched
from scaling_theory.fitting.uncertainty import BOOTSTRAP_OPTIONS, Band, Draws, ParameterIntervals, distinct_optima
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result
from scaling_theory.stats import bootstrap_counts, numpy_rng

INTERVALS = ("row", "residual", "block", "t", "bayes")


def _check_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise InputError(f"bootstrap: the number of replicates must be an integer >= 2, got {n_boot}")


def scaled_residuals(result: FitResult) -> np.ndarray:
    """Residuals of the used rows, centred and inflated by sqrt(n/(n − p)) (in the loss's space)."""
    used = result.weights > 0
    r = result.residuals()[used]
    r = r - np.mean(r)
    return r * np.sqrt(r.size / max(r.size - result.law.n_params, 1))


@x64
def _refit_many(
    results: list[FitResult], y_bs: list | None, w_bs: list | None, n_starts: int, options: LBFGSOptions
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Refit B replicates of each fit (new y or new weights, B × n each), all fits × replicates ×
    starts in one batched call; the best of ``n_starts`` per replicate."""
    law, loss = results[0].law, results[0].loss
    if any(r.law is not law or r.loss != loss for r in results):
        raise InputError("bootstrap: all fits must share one law and one loss")
    n = bucket(max(r.y.size for r in results))
    K = n_starts
    xs: dict[str, list] = {k: [] for k in law.xs}
    starts, ys, ws, spans = [], [], [], []
    offset = 0
    for j, r in enumerate(results):
        src = y_bs if y_bs is not None else w_bs
        assert src is not None  # the caller gives one of the two
        B = src[j].shape[0]
        xp, yp, wp = pad_rows(r.x, r.y, r.weights, n)
        pad = n - r.y.size
        s0 = distinct_optima(r, K)
        starts.append(np.tile(np.concatenate([s0, np.repeat(s0[:1], K - s0.shape[0], axis=0)]), (B, 1)))
        y = (
            np.broadcast_to(yp, (B, n))
            if y_bs is None
            else np.concatenate([y_bs[j], np.broadcast_to(yp[r.y.size :], (B, pad))], 1)
        )
        w = np.broadcast_to(wp, (B, n)) if w_bs is None else np.concatenate([w_bs[j], np.zeros((B, pad))], 1)
        ys.append(np.repeat(y, K, 0))
        ws.append(np.repeat(w, K, 0))
        for k in law.xs:
            xs[k].append(np.broadcast_to(xp[k], (B * K, n)))
        spans.append((offset, B))
        offset += B * K
    batched = {
        "x": law.prepare_x({k: np.concatenate(v) for k, v in xs.items()}),
        "y": np.concatenate(ys),
        "w": np.concatenate(ws),
    }
    out = minimize_batched(objective(law, loss), np.concatenate(starts), runtime(loss), batched, options=options)
    picked = []
    for lo, B in spans:
        f = out.f[lo : lo + B * K].reshape(B, K)
        pick = lo + np.arange(B) * K + np.argmin(np.where(np.isfinite(f), f, np.inf), axis=1)
        picked.append((out.x[pick], np.isin(out.status[pick], CONVERGED)))
    return picked


def residual_bootstrap_many(
    key: jax.Array,
    results: list[FitResult],
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> list[Draws]:
    """:func:`residual_bootstrap` of several fits (one law and loss) in one batched call; fit j
    draws its residuals from ``stats.numpy_rng(key, j)``."""
    _check_boot(n_boot)
    if not results:
        raise InputError("bootstrap: no fits given")
    y_bs, pools = [], []
    for j, r in enumerate(results):
        used = r.weights > 0
        pool = scaled_residuals(r)
        eps = np.zeros((n_boot, r.y.size))
        eps[:, used] = numpy_rng(key, j).choice(pool, size=(n_boot, int(used.sum())))
        yhat = r.predict(r.x)
        y_b = yhat * np.exp(eps) if r.loss.space == "log" else yhat + eps
        y_bs.append(np.where(used, y_b, r.y))
        pools.append(pool)
    out = _refit_many(list(results), y_bs, None, n_starts, options)
    return [
        Draws(law=r.law, space=r.loss.space, theta=t, method="residual", converged=c, residual_pool=p)
        for r, (t, c), p in zip(results, out, pools)
    ]


def residual_bootstrap(
    key: jax.Array,
    result: FitResult,
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> Draws:
    """Residual-bootstrap draws (``n_boot`` replicates) of a fit; see the module docstring.

    Args:
      key: PRNG key; the residuals are resampled on the host by ``stats.numpy_rng(key, 0)``.
      result: the fit (its residual space decides multiplicative or additive resampling).
      n_boot: replicates.
      n_starts: each replicate starts from the fit's best and next-best distinct optima.
    Returns:
      :class:`Draws` with ``method = "residual"``; prediction noise is drawn from the same residuals.
    """
    return residual_bootstrap_many(key, [result], n_boot, n_starts=n_starts, options=options)[0]


def block_bootstrap_many(
    key: jax.Array,
    results: list[FitResult],
    groups: list,
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> list[Draws]:
    """:func:`block_bootstrap` of several fits, ``groups[j]`` labelling the rows of fit j; one call."""
    _check_boot(n_boot)
    if not results or len(groups) != len(results):
        raise InputError("block bootstrap: give one array of group labels per fit")
    labels = []
    for r, g in zip(results, groups):
        g = np.asarray(g).reshape(-1)
        if g.size != r.y.size:
            raise InputError(f"block bootstrap: {g.size} group labels for {r.y.size} rows")
        keys, inv = np.unique(g, return_inverse=True)
        if keys.size < 2:
            raise InputError("block bootstrap: need at least 2 groups (runs) to resample")
        labels.append((keys.size, inv))
    # the row bootstrap's stream (stats.bootstrap_counts): with one row per group, the row bootstrap's draws
    all_counts = bootstrap_counts(key, [size for size, _ in labels], n_boot)
    w_bs = [
        all_counts[j, :, :size][:, inv] * r.weights[None, :] for j, (r, (size, inv)) in enumerate(zip(results, labels))
    ]
    out = _refit_many(list(results), None, w_bs, n_starts, options)
    return [
        Draws(law=r.law, space=r.loss.space, theta=t, method="block", converged=c, residual_pool=scaled_residuals(r))
        for r, (t, c) in zip(results, out)
    ]


def block_bootstrap(
    key: jax.Array,
    result: FitResult,
    groups: Any,
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> Draws:
    """Block-bootstrap draws: whole groups (runs) resampled with replacement, row weights = counts.

    Args:
      key: PRNG key; the group counts come from ``stats.bootstrap_counts(key, ...)``.
      result: the fit.
      groups: one label per row of the fit's data (e.g. the run of each checkpoint); ≥ 2 groups.
      n_boot, n_starts, options: as for :func:`residual_bootstrap`.
    Returns:
      :class:`Draws` with ``method = "block"``.
    """
    return block_bootstrap_many(key, [result], [groups], n_boot, n_starts=n_starts, options=options)[0]


# ------------------------------------------------------------------------- Student-t intervals


@dataclass(frozen=True)
class Linearisation(Result):
    """A fit linearised at θ̂: residual Jacobian ``J`` = ∂r/∂θ (used rows × P coordinates), residual
    variance ``s2`` = Σ w r² / (n − p), ``cov_unit`` = (JᵀWJ)⁻¹, ``cov`` = s² (JᵀWJ)⁻¹ (of the
    coordinates) and ``dof`` = n − p.

    Rows: one per coordinate: ``coordinate`` (0-based), ``se`` = sqrt(cov_jj), ``s2``, ``dof``.
    """

    J: np.ndarray
    s2: float
    cov_unit: np.ndarray
    cov: np.ndarray
    dof: int

    def rows(self) -> list[dict[str, Any]]:
        """One dict per coordinate (columns in the class docstring)."""
        se = np.sqrt(np.maximum(np.diag(self.cov), 0.0))
        return [{"coordinate": j, "se": float(v), "s2": float(self.s2), "dof": int(self.dof)} for j, v in enumerate(se)]


@x64
def linearisation(result: FitResult) -> Linearisation:
    """J = ∂r/∂θ at the fit (used rows), s², (JᵀWJ)⁻¹ and the degrees of freedom n − p."""
    law = result.law
    used = result.weights > 0
    data = {"x": law.prepare_x({k: v[used] for k, v in result.x.items()}), "y": jnp.asarray(result.y[used])}
    w = result.weights[used]
    r = np.asarray(residuals(law, jnp.asarray(result.theta), data, result.loss.space))
    J = np.asarray(jax.jacfwd(lambda t: residuals(law, t, data, result.loss.space))(jnp.asarray(result.theta)))
    dof = int(used.sum()) - law.n_params
    if dof < 1:
        raise InputError(f"t intervals: need more points than parameters ({int(used.sum())} <= {law.n_params})")
    s2 = float(np.sum(w * r * r) / dof)
    info = J.T @ (w[:, None] * J)
    cov_unit = np.linalg.pinv(info)
    return Linearisation(J=J, s2=s2, cov_unit=cov_unit, cov=s2 * cov_unit, dof=dof)


def t_intervals(result: FitResult, level: float = 0.95) -> ParameterIntervals:
    """Student-t ``level`` intervals of each parameter (θ̂_j ± t_{n−p} se_j in coordinates, mapped)."""
    check(0 < level < 1, f"level must be in (0, 1), got {level}")
    lin = linearisation(result)
    se = np.sqrt(np.maximum(np.diag(lin.cov), 0.0))
    q = stats.t.ppf((1 + level) / 2, lin.dof)
    lo = params_of(result.law, result.theta - q * se)
    hi = params_of(result.law, result.theta + q * se)
    names = list(result.law.params)
    ends = np.sort(np.array([[float(lo[k]), float(hi[k])] for k in names]), axis=1)
    return ParameterIntervals(param=np.array(names), lo=ends[:, 0], hi=ends[:, 1], level=float(level), method="t")


@x64
def t_prediction_interval(
    result: FitResult, x: Mapping[str, Any], level: float = 0.95, kind: str = "prediction"
) -> Band:
    """Student-t band of a new observation (``prediction``) or of the curve (``curve``) at raw x.

    ẑ₀ ± t_{n−p} s sqrt(δ + g₀ᵀ(JᵀWJ)⁻¹g₀), δ = 1 for a new observation, 0 for the curve; z is
    log ŷ for log residuals (the band is then exp of it) and ŷ otherwise.
    """
    check(0 < level < 1, f"level must be in (0, 1), got {level}")
    if kind not in ("curve", "prediction"):
        raise InputError(f"kind must be 'curve' or 'prediction', got {kind!r}")
    law = result.law
    lin = linearisation(result)
    xp = law.prepare_x(x)
    log_space = result.loss.space == "log"
    zfun = (lambda t: law.log_yhat(t, xp)) if log_space else (lambda t: law.yhat(t, xp))
    theta = jnp.asarray(result.theta)
    z0 = np.asarray(zfun(theta))
    g0 = np.asarray(jax.jacfwd(zfun)(theta))
    var = lin.s2 * ((1.0 if kind == "prediction" else 0.0) + np.einsum("mi,ij,mj->m", g0, lin.cov_unit, g0))
    q = stats.t.ppf((1 + level) / 2, lin.dof)
    lo, hi = z0 - q * np.sqrt(var), z0 + q * np.sqrt(var)
    f = np.exp if log_space else (lambda v: v)
    return Band(median=f(z0), lo=f(lo), hi=f(hi), level=float(level), kind=kind)


@x64
def t_draws(key: jax.Array, result: FitResult, n_draws: int = 2000) -> Draws:
    """Draws from the linearised Student-t distribution of θ̂ (multivariate t, n − p degrees of
    freedom, scale matrix Cov θ̂) with Student-t noise of scale s: the t intervals as :class:`Draws`
    (``method = "t"``; percentile intervals of a coordinate equal :func:`t_intervals`), drawn on the
    host by ``stats.numpy_rng(key)``."""
    lin = linearisation(result)
    rng = numpy_rng(key)
    P = result.law.n_params
    chol = np.linalg.cholesky(lin.cov + 1e-300 * np.eye(P)) if np.all(np.linalg.eigvalsh(lin.cov) > 0) else None
    if chol is None:
        vals, vecs = np.linalg.eigh(lin.cov)
        chol = vecs * np.sqrt(np.maximum(vals, 0.0))
    z = rng.standard_normal((n_draws, P))
    scale = np.sqrt(lin.dof / rng.chisquare(lin.dof, size=(n_draws, 1)))
    theta = result.theta[None, :] + (z @ chol.T) * scale
    return Draws(
        law=result.law,
        space=result.loss.space,
        theta=theta,
        method="t",
        converged=np.ones(n_draws, bool),
        noise_scale=np.full(n_draws, np.sqrt(lin.s2)),
        noise_df=float(lin.dof),
    )
