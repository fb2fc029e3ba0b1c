"""Uncertainty of a fit: row bootstrap (vectorised) and parameter / prediction intervals from draws.

**Bootstrap** (Efron & Tibshirani 1993, ch. 6 and 13): replicate b re-weights the rows by
multinomial counts ``c_b ~ Multinomial(n, 1/n)`` (resampling rows with replacement; drawn on the
host from the key, ``stats.bootstrap_counts``) and refits,
``θ_b = argmin Σ_i c_bi w_i ρ(r_i(θ))``. All B replicates × K starts are one batched call of the
multi-start optimiser; each replicate starts from the full-data optimum and the K − 1 next-best
distinct optima of the original multi-start fit (the best repeated if there are fewer), and keeps
its best. Intervals are equal-tailed percentiles of the draws.

Replicates are solved to tight tolerances (:data:`BOOTSTRAP_OPTIONS`: ftol 1e-12, gtol 1e-8), not
SciPy's defaults: a replicate warm-started at the full-data optimum and stopped by the default
absolute tolerances stays near its start, which shrinks the bootstrap spread (by ~20 % for a
243-run Chinchilla fit; see docs/fitting.md) and makes the intervals under-cover.

**Prediction intervals** at new x (e.g. extrapolated scales): ``kind="curve"`` gives percentiles of
ŷ_b(x) (uncertainty of the fitted law); ``kind="prediction"`` adds an observation-noise draw per
replicate — a residual of the full-data fit, inflated by sqrt(n/(n − p)) for the p fitted
parameters (Davison & Hinkley 1997, §6.2), resampled (bootstrap), or a draw from the fitted noise
model (posterior, see :mod:`bayes`) — on the log scale (ŷ·e^ε) or the linear scale (ŷ + ε).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.fitting.fit import FitResult, bucket, pad_rows, params_of
from scaling_theory.fitting.laws import Law
from scaling_theory.fitting.objectives import objective, runtime
from scaling_theory.fitting.optimize import CONVERGED, LBFGSOptions, minimize_batched
from scaling_theory.numerics import check, x64
from scaling_theory.results import Result
from scaling_theory.stats import bootstrap_counts, numpy_rng

BOOTSTRAP_OPTIONS = LBFGSOptions(ftol=1e-12, gtol=1e-8)


@dataclass(frozen=True)
class ParameterIntervals(Result):
    """Equal-tailed ``level`` intervals [lo, hi] of a law's public parameters, by ``method`` (a kind
    of draws, or ``"t"`` for the closed-form Student-t intervals).

    Rows: one per parameter: ``param``, ``lo``, ``hi``, ``level``, ``method``.
    """

    param: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: float
    method: str

    _index: ClassVar[tuple[str, ...]] = ("param",)

    def bounds(self, name: str) -> tuple[float, float]:
        """(lo, hi) of parameter ``name``."""
        names = [str(p) for p in self.param]
        if name not in names:
            raise InputError(f"no parameter {name!r}; the law's parameters are {', '.join(names)}")
        i = names.index(name)
        return float(self.lo[i]), float(self.hi[i])

    def as_dict(self) -> dict[str, list[float]]:
        """``{param: [lo, hi]}`` (plain floats, for JSON)."""
        return {str(p): [float(a), float(b)] for p, a, b in zip(self.param, self.lo, self.hi)}


@dataclass(frozen=True)
class Band(Result):
    """Median and equal-tailed ``level`` band at m points: of the fitted curve (``kind="curve"``) or of
    a new observation (``kind="prediction"``), in the units of y.

    Rows: one per point: ``point`` (0-based position among the x given), ``median``, ``lo``, ``hi``,
    ``level``, ``kind``.
    """

    median: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: float
    kind: str

    _index: ClassVar[tuple[str, ...]] = ("point",)


@dataclass(frozen=True)
class Draws(Result):
    """Draws of a law's coordinates (R × P) with an observation-noise model for prediction intervals.

    Noise: ``residual_pool`` (resampled, bootstrap) or Student-t(``noise_df``)·``noise_scale[r]``
    (posterior; ``noise_df = inf`` is Gaussian). Rows: one per draw, ``draw``, ``params_<name>`` per
    parameter, ``method``, ``converged``, ``noise_scale`` (None without one).
    """

    law: Law
    space: str
    theta: np.ndarray
    method: str
    converged: np.ndarray
    residual_pool: np.ndarray | None = None
    noise_scale: np.ndarray | None = None
    noise_df: float | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per draw (columns in the class docstring).

        Returns:
          A list of dicts of plain Python values.
        """
        r = self.n_draws
        params = {f"params_{k}": np.broadcast_to(v, (r,)).tolist() for k, v in self.params.items()}
        conv = np.broadcast_to(self.converged, (r,)).tolist()
        scale = [None] * r if self.noise_scale is None else np.broadcast_to(self.noise_scale, (r,)).tolist()
        return [
            {
                "draw": i,
                **{k: v[i] for k, v in params.items()},
                "method": self.method,
                "converged": conv[i],
                "noise_scale": scale[i],
            }
            for i in range(r)
        ]

    @property
    def n_draws(self) -> int:
        """Number of draws R."""
        return int(self.theta.shape[0])

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Public parameters of every draw."""
        return params_of(self.law, self.theta)

    def intervals(self, level: float = 0.95) -> ParameterIntervals:
        """Equal-tailed ``level`` interval of each parameter over the draws: [q_(1−level)/2, q_(1+level)/2]."""
        _check_level(level)
        names = list(self.params)
        q = np.array([np.quantile(self.params[k], [(1 - level) / 2, (1 + level) / 2]) for k in names])
        return ParameterIntervals(param=np.array(names), lo=q[:, 0], hi=q[:, 1], level=float(level), method=self.method)

    @x64
    def predict(self, x: Mapping[str, Any]) -> np.ndarray:
        """ŷ of every draw at raw ``x``: R × m."""
        return np.asarray(_predict_all(self.law)(jnp.asarray(self.theta), self.law.prepare_x(x)))

    @x64
    def predict_interval(self, x: Mapping[str, Any], level: float = 0.95) -> Band:
        """Median and equal-tailed ``level`` band of ŷ over the draws at raw ``x`` (the uncertainty
        of the fitted curve; :meth:`prediction_interval` adds observation noise)."""
        _check_level(level)
        return _band(self.predict(x), level, "curve")

    @x64
    def prediction_interval(
        self, key: jax.Array, x: Mapping[str, Any], level: float = 0.95, noise_draws: int = 20
    ) -> Band:
        """Median and equal-tailed ``level`` band of a new observation at raw ``x``: every draw's ŷ
        combined with ``noise_draws`` noise draws from the noise model (on the host, ``stats.numpy_rng(key)``)."""
        _check_level(level)
        if isinstance(noise_draws, bool) or not isinstance(noise_draws, (int, np.integer)) or noise_draws < 1:
            raise InputError(f"noise_draws must be an integer >= 1, got {noise_draws!r}")
        yhat = np.repeat(self.predict(x), noise_draws, axis=0)
        eps = self._noise(numpy_rng(key), yhat.shape, noise_draws)
        return _band(yhat * np.exp(eps) if self.space == "log" else yhat + eps, level, "prediction")

    def _noise(self, rng: np.random.Generator, shape: tuple[int, ...], repeats: int) -> np.ndarray:
        if self.residual_pool is not None:
            return rng.choice(np.asarray(self.residual_pool), size=shape)
        scale = np.repeat(np.asarray(self.noise_scale), repeats)[:, None]
        if self.noise_df is None or np.isinf(self.noise_df):
            return scale * rng.standard_normal(shape)
        return scale * rng.standard_t(self.noise_df, shape)

    def summary(self, level: float = 0.95) -> dict[str, Any]:
        """JSON view for printing: method, number of draws, ``level`` intervals, converged fraction, diagnostics."""
        return {
            "method": self.method,
            "n_draws": self.n_draws,
            "level": level,
            "intervals": self.intervals(level).as_dict(),
            "fraction_converged": float(np.mean(self.converged)),
            **self.diagnostics,
        }


@functools.lru_cache(maxsize=64)
def _predict_all(law: Law):
    """jit(vmap over draws) of ŷ(θ, x), cached per law."""
    return jax.jit(jax.vmap(law.yhat, in_axes=(0, None)))


def _band(yhat: np.ndarray, level: float, kind: str) -> Band:
    """Percentile band over the draws (axis 0)."""
    lo, med, hi = np.quantile(yhat, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
    return Band(median=med, lo=lo, hi=hi, level=float(level), kind=kind)


def _check_level(level: float) -> None:
    check(0 < level < 1, f"level must be in (0, 1), got {level}")


def distinct_optima(result: FitResult, k: int, atol: float = 1e-2) -> np.ndarray:
    """The best optimum and up to k − 1 next-best optima differing from the chosen ones by > atol."""
    order = np.argsort(np.where(np.isfinite(result.objectives), result.objectives, np.inf))
    chosen = [result.optima[order[0]]]
    for i in order[1:]:
        if len(chosen) >= k or not np.isfinite(result.objectives[i]):
            break
        if all(np.max(np.abs(result.optima[i] - c)) > atol for c in chosen):
            chosen.append(result.optima[i])
    return np.array(chosen)


@x64
def bootstrap_many(
    key: jax.Array,
    results: Sequence[FitResult],
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> list[Draws]:
    """Row-bootstrap draws for each fit, all data sets × replicates × starts in one batched call; data
    set j's row counts come from ``stats.numpy_rng(key, j)`` (``stats.bootstrap_counts``)."""
    if not results:
        raise InputError("bootstrap: no fits given")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise InputError(f"bootstrap: the number of replicates must be an integer >= 2, got {n_boot}")
    if n_starts < 1:
        raise InputError(f"bootstrap: n_starts must be >= 1, got {n_starts}")
    law, loss = results[0].law, results[0].loss
    if any(r.law is not law or r.loss != loss for r in results):
        raise InputError("bootstrap_many: all fits must share one law and one loss")
    n_max = bucket(max(r.y.size for r in results))
    xs: dict[str, list] = {n: [] for n in law.xs}
    starts, weights, ys, spans = [], [], [], []
    offset = 0
    n_used = [int(np.sum(r.weights > 0)) for r in results]
    all_counts = bootstrap_counts(key, n_used, n_boot)  # data set j: numpy_rng(key, j)
    for j, r in enumerate(results):
        used = np.flatnonzero(r.weights > 0)
        w = np.zeros((n_boot, r.y.size))
        w[:, used] = all_counts[j, :, : used.size] * r.weights[used]
        s0 = distinct_optima(r, n_starts)
        s0 = np.concatenate([s0, np.repeat(s0[:1], n_starts - s0.shape[0], axis=0)])  # fixed K: stable shapes
        K = n_starts
        xp, yp, _ = pad_rows(r.x, r.y, r.weights, n_max)
        w = np.concatenate([w, np.zeros((n_boot, n_max - r.y.size))], axis=1)
        starts.append(np.tile(s0, (n_boot, 1)))  # replicate-major: rows b*K … b*K + K − 1
        weights.append(np.repeat(w, K, axis=0))
        for n in law.xs:
            xs[n].append(np.broadcast_to(xp[n], (n_boot * K, n_max)))
        ys.append(np.broadcast_to(yp, (n_boot * K, n_max)))
        spans.append((offset, K))
        offset += n_boot * K
    fun = objective(law, loss)
    if len(results) == 1:  # one data set: share x and y, batch only the weights
        shared = {"x": law.prepare_x({n: v[0][0] for n, v in xs.items()}), "y": jnp.asarray(ys[0][0]), **runtime(loss)}
        batched: dict[str, Any] = {"w": np.concatenate(weights)}
    else:
        shared = runtime(loss)
        batched = {
            "x": law.prepare_x({n: np.concatenate(v) for n, v in xs.items()}),
            "y": np.concatenate(ys),
            "w": np.concatenate(weights),
        }
    out = minimize_batched(fun, np.concatenate(starts), shared, batched, options=options)
    draws = []
    for r, (lo, K) in zip(results, spans):
        f = out.f[lo : lo + n_boot * K].reshape(n_boot, K)
        best = np.argmin(np.where(np.isfinite(f), f, np.inf), axis=1)
        pick = lo + np.arange(n_boot) * K + best
        resid = r.residuals()[r.weights > 0]
        resid = resid * np.sqrt(resid.size / max(resid.size - law.n_params, 1))  # df-corrected residuals
        draws.append(
            Draws(
                law=law,
                space=loss.space,
                theta=out.x[pick],
                method="bootstrap",
                converged=np.isin(out.status[pick], CONVERGED),
                residual_pool=resid,
            )
        )
    return draws


def bootstrap(
    key: jax.Array,
    result: FitResult,
    n_boot: int = 200,
    *,
    n_starts: int = 4,
    options: LBFGSOptions = BOOTSTRAP_OPTIONS,
) -> Draws:
    """Row-bootstrap draws (``n_boot`` replicates) of a fit, row counts drawn from ``key``; see the
    module docstring."""
    return bootstrap_many(key, [result], n_boot, n_starts=n_starts, options=options)[0]
