"""Fit a scaling law by batched multi-start L-BFGS in float64: best fit, spread of optima, diagnostics.

``fit(law, x, y)`` minimises the objective of :mod:`objectives` (default: Huber δ = 1e-3 on log
residuals, summed) from every start in one compiled call (:func:`optimize.minimize_batched`) and
keeps the start with the lowest objective. For ``chinchilla`` the default starts are Hoffmann et
al.'s 4,500-point grid; ``starts=N`` draws N random starts in the law's bounds; an array gives
explicit starts (in coordinates). ``fit_many`` fits several data sets (e.g. groups of a table) in
one call, padding them to a common length with zero-weight rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.fitting.laws import Law, compiled, get_law
from scaling_theory.fitting.objectives import Loss, objective, runtime
from scaling_theory.fitting.optimize import CONVERGED, STATUS, LBFGSOptions, minimize_batched
from scaling_theory.numerics import x64
from scaling_theory.results import Result

Starts = str | int | np.ndarray


@dataclass(frozen=True)
class FitResult(Result):
    """The best of all starts, plus every start's optimum for diagnostics.

    ``params`` are the law's public parameters, ``theta`` its coordinates, ``objective`` the
    minimised objective; ``starts``/``optima`` are S × P (coordinates), ``objectives``, ``status``,
    ``n_iter`` and ``n_eval`` have one entry per start; ``x``, ``y``, ``weights`` are the data.
    Rows: one, ``law``, ``params_<name>`` per parameter, ``objective``, ``n_points``, ``method``,
    ``grid_best``, ``n_starts``, ``converged``.
    """

    _row_fields = ("params", "objective", "n_points", "method", "grid_best")

    law: Law
    loss: Loss
    params: dict[str, float]
    theta: np.ndarray
    objective: float
    n_points: int
    starts: np.ndarray
    optima: np.ndarray
    objectives: np.ndarray
    status: np.ndarray
    n_iter: np.ndarray
    n_eval: np.ndarray
    gradient: np.ndarray
    best_index: int
    x: dict[str, np.ndarray]
    y: np.ndarray
    weights: np.ndarray
    method: str = "multistart"  # or "vpnls" (starts = refined grid minima)
    grid_best: float | None = None  # vpnls: the best projected objective on the exponent grid

    def rows(self) -> list[dict[str, Any]]:
        """The one row of the best fit (columns in the class docstring).

        Returns:
          A list of one dict of plain Python values.
        """
        (row,) = super().rows()
        return [{"law": self.law.name, **row, "n_starts": self.n_starts, "converged": self.converged}]

    @property
    def n_starts(self) -> int:
        """Number of starts."""
        return int(self.starts.shape[0])

    @property
    def converged(self) -> bool:
        """True when the best start stopped on the gradient or the f-reduction tolerance."""
        return int(self.status[self.best_index]) in CONVERGED

    def near_best(self, rtol: float = 1e-3) -> np.ndarray:
        """Mask of starts whose optimum is within ``rtol`` (relative) of the best objective."""
        tol = rtol * max(abs(self.objective), 1e-300)
        return np.isfinite(self.objectives) & (self.objectives <= self.objective + tol)

    def spread(self, rtol: float = 1e-3) -> dict[str, list[float]]:
        """[min, max] of each parameter over the starts' optima within ``rtol`` of the best objective.

        A wide range means the data do not pin the parameter down (a flat valley of the objective).
        """
        with_params = params_of(self.law, self.optima[self.near_best(rtol)])
        return {k: [float(np.min(v)), float(np.max(v))] for k, v in with_params.items()}

    def diagnostics(self) -> dict[str, Any]:
        """Convergence of the best start and of all starts; how many reached the best optimum."""
        finite = self.objectives[np.isfinite(self.objectives)]
        status_counts = {STATUS[int(s)]: int(np.sum(self.status == s)) for s in np.unique(self.status)}
        return {
            "converged": self.converged,
            "best_status": STATUS[int(self.status[self.best_index])],
            "best_gradient_max": float(np.max(np.abs(self.gradient))),
            "n_starts": self.n_starts,
            "n_converged": int(np.isin(self.status, CONVERGED).sum()),
            "n_at_best": int(self.near_best(1e-6).sum()),
            "n_near_best": int(self.near_best(1e-3).sum()),
            "status_counts": status_counts,
            "objective_quantiles": {q: float(np.quantile(finite, float(q))) for q in ("0", "0.25", "0.5", "0.75", "1")}
            if finite.size
            else {},
            "max_evals": int(self.n_eval.max()),
            "spread_near_best": self.spread(1e-3),
        }

    def predict(self, x: Mapping[str, Any]) -> np.ndarray:
        """ŷ of the best fit at raw ``x``."""
        return self.law.predict(self.params, x)

    def residuals(self) -> np.ndarray:
        """Residuals of the best fit in its loss space (``log ŷ − log y`` or ``ŷ − y``), one per row."""
        yhat = self.predict(self.x)
        return np.log(yhat) - np.log(self.y) if self.loss.space == "log" else yhat - self.y

    def summary(self) -> dict[str, Any]:
        """JSON-able: law, params, loss (objective), n_points, n_starts (the CLI's schema)."""
        return {
            "law": self.law.name,
            "params": dict(self.params),
            "loss": self.objective,
            "n_points": self.n_points,
            "n_starts": self.n_starts,
        }


@x64
def params_of(law: Law, theta: Any) -> dict[str, np.ndarray]:
    """Public parameters (NumPy float64) of coordinates ``theta`` (… × P)."""
    return {k: np.asarray(v) for k, v in compiled(law).to_params(jnp.asarray(theta, jnp.float64)).items()}


def bucket(n: int) -> int:
    """Padded length for n rows, so similar sizes share a compiled loop: the next power of two up to
    64 (at least 16), then the next multiple of a quarter of the power of two below (≤ 25 % more)."""
    if n <= 64:
        return max(16, 1 << int(np.ceil(np.log2(max(n, 1)))))
    step = 1 << (int(np.log2(n)) - 2)
    return -(-n // step) * step


def pad_rows(x: Mapping[str, np.ndarray], y: np.ndarray, w: np.ndarray, n: int) -> tuple:
    """Pad to n rows with zero-weight copies of the first row (a point where the law is defined)."""
    extra = n - y.size
    if extra <= 0:
        return x, y, w
    xs = {k: np.concatenate([v, np.full(extra, v[0])]) for k, v in x.items()}
    return xs, np.concatenate([y, np.full(extra, y[0])]), np.concatenate([w, np.zeros(extra)])


# ------------------------------------------------------------------------------------- inputs


def validate(law: Law, x: Mapping[str, Any], y: Any, weights: Any, loss: Loss, where: str = "") -> tuple:
    """Arrays (x dict, y, w) as float64, checked: shapes, finiteness, positivity, enough points."""
    pre = f"{where}: " if where else ""
    missing = [n for n in law.xs if n not in x]
    if missing:
        raise InputError(f"{pre}law {law.name!r} needs x variable {missing[0]!r} (it uses {', '.join(law.xs)})")
    y = np.asarray(y, np.float64).reshape(-1)
    xs = {}
    for n in law.xs:
        v = np.asarray(x[n], np.float64).reshape(-1)
        if v.shape != y.shape:
            raise InputError(f"{pre}x variable {n!r} has {v.size} values but y has {y.size}")
        xs[n] = v
    w = np.ones_like(y) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    if w.shape != y.shape:
        raise InputError(f"{pre}weights have {w.size} values but y has {y.size}")
    for name, v in [(f"x variable {n!r}", xs[n]) for n in law.xs] + [("y", y), ("weights", w)]:
        bad = ~np.isfinite(v)
        if bad.any():
            raise InputError(f"{pre}{name}: value {v[np.argmax(bad)]} at index {int(np.argmax(bad))} is not finite")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise InputError(f"{pre}weights: {w[i]:g} at index {i} is negative")
    for n in law.positive_x:
        if (xs[n] <= 0).any():
            i = int(np.argmax(xs[n] <= 0))
            raise InputError(
                f"{pre}x variable {n!r}: {xs[n][i]:g} at index {i} is not positive "
                f"(law {law.name!r} takes its logarithm)"
            )
    if loss.space == "log" and (y <= 0).any():
        i = int(np.argmax(y <= 0))
        raise InputError(f"{pre}y: {y[i]:g} at index {i} is not positive (log residuals take log y)")
    n_used = int(np.sum(w > 0))
    if n_used < law.min_points:
        raise InputError(
            f"{pre}law {law.name!r} has {law.n_params} parameters and needs at least "
            f"{law.min_points} points; got {n_used}"
        )
    return xs, y, w


def make_loss(
    loss: str | Loss = "huber", delta: float = 1e-3, space: str = "log", reduction: str = "sum", penalty: float = 10.0
) -> Loss:
    """A validated :class:`Loss` from its parts (or pass one through)."""
    if isinstance(loss, Loss):
        return loss.validated()
    return Loss(loss, delta, space, reduction, penalty).validated()


def resolve_starts(
    law: Law, x: Mapping[str, np.ndarray], y: np.ndarray, starts: Starts, key: jax.Array | None = None
) -> np.ndarray:
    """``"grid"`` → the law's default grid; an int N → N random starts in its bounds, drawn from
    ``key`` (required then); else S × P."""
    if isinstance(starts, str):
        if starts != "grid":
            raise InputError(f"starts must be 'grid', a positive integer or an array, got {starts!r}")
        s = law.default_starts(x, y)
    elif isinstance(starts, (int, np.integer)) and not isinstance(starts, bool):
        if starts < 1:
            raise InputError(f"starts must be a positive integer, got {starts}")
        if key is None:
            raise InputError(f"starts={starts} random starts need a key (key=jax.random.key(seed))")
        s = law.random_starts(key, x, y, int(starts))
    else:
        s = np.asarray(starts, np.float64)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2 or s.shape[1] != law.n_params:
            raise InputError(f"starts must have shape (S, {law.n_params}) for law {law.name!r}, got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise InputError(f"starts for law {law.name!r} are not all finite (are the data degenerate?)")
    return s


# ---------------------------------------------------------------------------------------- fits


def _result(law, loss, data, starts, out, lo, hi) -> FitResult:
    f = out.f[lo:hi]
    if not np.isfinite(f).any():
        raise InputError(
            f"law {law.name!r}: no start gave a finite objective (predictions must be positive "
            "where log residuals are used)"
        )
    i = int(np.argmin(np.where(np.isfinite(f), f, np.inf)))
    theta = out.x[lo:hi][i]
    params = {k: float(v) for k, v in params_of(law, theta).items()}
    x, y, w = data
    return FitResult(
        law=law,
        loss=loss,
        params=params,
        theta=np.asarray(theta),
        objective=float(f[i]),
        n_points=int(np.sum(w > 0)),
        starts=starts,
        optima=out.x[lo:hi],
        objectives=f,
        status=out.status[lo:hi],
        n_iter=out.n_iter[lo:hi],
        n_eval=out.n_eval[lo:hi],
        gradient=out.g[lo:hi][i],
        best_index=i,
        x=x,
        y=y,
        weights=w,
    )


@x64
def fit(
    law: str | Law,
    x: Mapping[str, Any],
    y: Any,
    *,
    loss: str | Loss = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    weights: Any = None,
    starts: Starts = "grid",
    key: jax.Array | None = None,
    options: LBFGSOptions = LBFGSOptions(),
    name: str = "",
    penalty: float = 10.0,
) -> FitResult:
    """Best fit of ``law`` to (x, y) over all starts: argmin_θ Σ_i w_i ρ(r_i(θ)) (see :mod:`objectives`).

    ``name`` (e.g. the file) prefixes input errors; ``penalty`` weighs over-estimates of the
    ``asymmetric`` loss. The fit is deterministic but for ``starts=N`` random starts, which are drawn
    from ``key`` (required then)."""
    law = get_law(law)
    lossspec = make_loss(loss, delta, space, reduction, penalty)
    xs, y, w = validate(law, x, y, weights, lossspec, name)
    s = resolve_starts(law, xs, y, starts, key)
    xp, yp, wp = pad_rows(xs, y, w, bucket(y.size))
    shared = {"x": law.prepare_x(xp), "y": jnp.asarray(yp), "w": jnp.asarray(wp), **runtime(lossspec)}
    out = minimize_batched(objective(law, lossspec), s, shared, None, options=options)
    return _result(law, lossspec, (xs, y, w), s, out, 0, s.shape[0])


@x64
def fit_many(
    law: str | Law,
    datasets: Sequence[tuple[Mapping[str, Any], Any] | tuple[Mapping[str, Any], Any, Any]],
    *,
    loss: str | Loss = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    starts: Starts | Sequence[Starts] = "grid",
    key: jax.Array | None = None,
    options: LBFGSOptions = LBFGSOptions(),
    names: Sequence[str] | None = None,
    penalty: float = 10.0,
) -> list[FitResult]:
    """Fit each ``(x, y[, weights])`` data set separately, all in one compiled call.

    Data sets are padded to a common length with zero-weight rows, so every (data set, start) pair
    is one row of the batch. ``names`` label data sets in error messages. ``starts`` may also be a
    list with one entry (an S × P array, ``"grid"`` or N) per data set; random starts are drawn from
    ``key`` (the same draws for every data set with the same N).
    """
    law = get_law(law)
    lossspec = make_loss(loss, delta, space, reduction, penalty)
    if not datasets:
        raise InputError("fit_many: no data sets")
    prepared, all_starts = [], []
    for j, ds in enumerate(datasets):
        x, y, *rest = ds
        where = names[j] if names is not None else f"data set {j}"
        xs, yv, w = validate(law, x, y, rest[0] if rest else None, lossspec, where)
        prepared.append((xs, yv, w))
        own: Any = starts[j] if isinstance(starts, (list, tuple)) else starts  # per-data-set starts
        all_starts.append(resolve_starts(law, xs, yv, own, key))
    n_max = bucket(max(p[1].size for p in prepared))
    rows_x: dict[str, list] = {n: [] for n in law.xs}
    rows_y, rows_w, bounds = [], [], []
    offset = 0
    for (xs, yv, w), s in zip(prepared, all_starts):
        xp, yp, wp = pad_rows(xs, yv, w, n_max)
        for n in law.xs:
            rows_x[n].append(np.broadcast_to(xp[n], (s.shape[0], n_max)))
        rows_y.append(np.broadcast_to(yp, (s.shape[0], n_max)))
        rows_w.append(np.broadcast_to(wp, (s.shape[0], n_max)))
        bounds.append((offset, offset + s.shape[0]))
        offset += s.shape[0]
    batched = {
        "x": law.prepare_x({n: np.concatenate(v) for n, v in rows_x.items()}),
        "y": jnp.asarray(np.concatenate(rows_y)),
        "w": jnp.asarray(np.concatenate(rows_w)),
    }
    out = minimize_batched(
        objective(law, lossspec), np.concatenate(all_starts), runtime(lossspec), batched, options=options
    )
    return [_result(law, lossspec, data, s, out, lo, hi) for data, s, (lo, hi) in zip(prepared, all_starts, bounds)]
