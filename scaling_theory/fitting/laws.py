"""Named scaling laws and user-defined ones, each with parameter names, coordinates and starts.

A :class:`Law` is optimised in *coordinates* θ (e.g. ``a = log A`` for a positive scale) and
reported in its public *parameters* (``A``). Named laws evaluate the logarithm of the prediction,
``log ŷ``, from ``log x`` (stable for x spanning many decades, and what a Huber loss on log
residuals needs):

================  ===========================  ======================  ==========================
name              law                          parameters              coordinates
================  ===========================  ======================  ==========================
power_law         ŷ = a·x^(−b)                 a, b                    log a, b
offset_power_law  ŷ = E + a·x^(−b)             E, a, b                 log E, log a, b
chinchilla        ŷ = E + A·N^(−α) + B·D^(−β)  A, B, E, alpha, beta    a=log A, b=log B, e=log E, α, β
exp_power_law     ŷ = exp(−a·k^(−b))           a, b                    log a, b
monkeys           log ŷ = a·k^b                a, b                    a, b
================  ===========================  ======================  ==========================

Chinchilla is evaluated as ``log ŷ = logsumexp(a − α log N, b − β log D, e)`` (Hoffmann et al.
2022, App. D.2), and its default starts are their grid: a, b ∈ {0, 5, …, 25}, e ∈ {−1, −0.5, …, 1},
α, β ∈ {0, 0.5, …, 2} (4,500 starts). The other named laws start from small data-driven grids (the
least-squares line in log–log space for each exponent on a grid). ``bounds`` (a box in coordinates,
used for random starts) are derived the same way. :func:`custom_law` wraps a user function
``fn(x: dict, p: dict) -> ŷ``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import x64
from scaling_theory.stats import weighted_loglog_fit

Array = Any


@dataclass(frozen=True, eq=False)
class Law:
    """A scaling law ŷ = f(x; θ) with named parameters, optimisation coordinates and default starts.

    Exactly one of ``log_predict_fn`` (named laws: ``(θ, log_x) -> log ŷ``) and ``predict_fn``
    (user laws: ``(θ, x) -> ŷ``) is set. ``to_params`` / ``from_params`` map coordinates ↔ public
    parameters, vectorised over leading axes. ``starts_fn(x, y)`` gives the default start grid
    (S × P) and ``bounds_fn(x, y)`` a box ``(lo, hi)`` in coordinates for random starts.
    Instances hash by identity, so compiled objectives are cached per law.
    """

    name: str
    params: tuple[str, ...]
    xs: tuple[str, ...]
    coords: tuple[str, ...]
    formula: str
    to_params: Callable[[Array], dict[str, Array]]
    from_params: Callable[[Mapping[str, Array]], Array]
    starts_fn: Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]
    bounds_fn: Callable[[Mapping[str, np.ndarray], np.ndarray], tuple[np.ndarray, np.ndarray]]
    log_predict_fn: Callable[[Array, Mapping[str, Array]], Array] | None = None
    predict_fn: Callable[[Array, Mapping[str, Array]], Array] | None = None
    positive_x: tuple[str, ...] = field(default=())
    constants: Mapping[str, float] = field(default_factory=dict)  # fixed values (e.g. a pinned asymptote)

    @property
    def n_params(self) -> int:
        return len(self.coords)

    @property
    def min_points(self) -> int:
        """Fewest points for a fit with one residual degree of freedom: parameters + 1."""
        return self.n_params + 1

    @property
    def uses_log_x(self) -> bool:
        return self.log_predict_fn is not None

    def prepare_x(self, x: Mapping[str, Any]) -> dict[str, Array]:
        """The x arrays the law evaluates: ``log x`` for named laws, ``x`` itself for user laws."""
        out = {}
        for name in self.xs:
            v = jnp.asarray(x[name], jnp.float64)
            out[name] = jnp.log(v) if self.uses_log_x else v
        return out

    def log_yhat(self, theta: Array, xp: Mapping[str, Array]) -> Array:
        """log ŷ at prepared x (NaN where a user law predicts ŷ ≤ 0)."""
        if self.log_predict_fn is not None:
            return self.log_predict_fn(theta, xp)
        assert self.predict_fn is not None  # __post_init__: one of the two is given
        yhat = self.predict_fn(theta, xp)
        return jnp.where(yhat > 0, jnp.log(jnp.where(yhat > 0, yhat, 1.0)), jnp.nan)

    def yhat(self, theta: Array, xp: Mapping[str, Array]) -> Array:
        """ŷ at prepared x."""
        if self.predict_fn is not None:
            return self.predict_fn(theta, xp)
        assert self.log_predict_fn is not None  # __post_init__: one of the two is given
        return jnp.exp(self.log_predict_fn(theta, xp))

    @x64
    def predict(self, params: Mapping[str, Any], x: Mapping[str, Any]) -> np.ndarray:
        """ŷ for public ``params`` (a dict of floats) at raw ``x`` (a dict of arrays)."""
        p = {k: jnp.asarray(params[k], jnp.float64) for k in self.params}
        xs = {k: jnp.asarray(x[k], jnp.float64) for k in self.xs}
        return np.asarray(compiled(self).predict(p, xs))

    def default_starts(self, x: Mapping[str, np.ndarray], y: np.ndarray) -> np.ndarray:
        return np.asarray(self.starts_fn(x, y), np.float64).reshape(-1, self.n_params)

    def bounds(self, x: Mapping[str, np.ndarray], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.bounds_fn(x, y)
        return np.asarray(lo, np.float64), np.asarray(hi, np.float64)

    def random_starts(self, key: jax.Array, x: Mapping[str, np.ndarray], y: np.ndarray, n: int) -> np.ndarray:
        """``n`` starts uniform in the law's bounds box (coordinates), drawn from ``key``."""
        lo, hi = self.bounds(x, y)
        with jax.enable_x64(True):
            u = jax.random.uniform(key, (n, self.n_params), jnp.float64)
        return lo + np.asarray(u) * (hi - lo)


class _Compiled(NamedTuple):
    predict: Callable  # (public params, raw x) -> ŷ
    to_params: Callable
    from_params: Callable


@functools.cache
def compiled(law: Law) -> _Compiled:
    """jit-compiled conversions and prediction of a law, cached per law (one program per shape
    instead of one per eager operation)."""
    return _Compiled(
        predict=jax.jit(lambda p, x: law.yhat(law.from_params(p), law.prepare_x(x))),
        to_params=jax.jit(law.to_params),
        from_params=jax.jit(law.from_params),
    )


def _grid(*axes: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.array(list(itertools.product(*axes)), np.float64)


def _loglog_intercepts(lx: np.ndarray, ly: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Least-squares intercept of ``ly ≈ c + s·lx`` for each fixed slope ``s``: c = mean(ly − s·lx)."""
    if lx.size == 0:
        return np.zeros_like(slopes)
    return weighted_loglog_fit(lx, ly, slope=slopes)[1]


def _box(starts: np.ndarray, pad: float) -> tuple[np.ndarray, np.ndarray]:
    return starts.min(axis=0) - pad, starts.max(axis=0) + pad


# ------------------------------------------------------------------------------ power law a·x^(−b)

_PL_B = np.array([-1.0, -0.5, -0.1, 0.1, 0.25, 0.5, 1.0, 2.0])


def _log_a_b_to_params(t):
    """Coordinates (log a, b) → parameters {a, b} (``power_law`` and ``exp_power_law``)."""
    return {"a": jnp.exp(t[..., 0]), "b": t[..., 1]}


def _log_a_b_from_params(p):
    return jnp.stack([jnp.log(p["a"]), p["b"]], axis=-1)


def _pl_starts(x, y):
    lx, ly = np.log(np.asarray(x["x"], float)), np.log(np.asarray(y, float))
    # log y = log a − b log x  ⇒  intercept log a for slope −b
    loga = _loglog_intercepts(lx, ly, -_PL_B)
    return np.stack([loga, _PL_B], axis=1)


POWER_LAW = Law(
    name="power_law",
    params=("a", "b"),
    xs=("x",),
    coords=("log_a", "b"),
    formula="y = a * x^(-b)",
    to_params=_log_a_b_to_params,
    from_params=_log_a_b_from_params,
    starts_fn=_pl_starts,
    bounds_fn=lambda x, y: _box(_pl_starts(x, y), 2.0),
    log_predict_fn=lambda t, lx: t[0] - t[1] * lx["x"],
    positive_x=("x",),
)


# -------------------------------------------------------------------- offset power law E + a·x^(−b)

_OPL_FRAC = np.array([1e-3, 0.25, 0.5, 0.75, 0.9])
_OPL_B = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])


def _opl_starts(x, y):
    lx, y = np.log(np.asarray(x["x"], float)), np.asarray(y, float)
    ymin = max(float(np.min(y)), 1e-300)
    rows = []
    for frac in _OPL_FRAC:
        E = frac * ymin
        ly = np.log(np.maximum(y - E, 1e-300))
        for b, loga in zip(_OPL_B, _loglog_intercepts(lx, ly, -_OPL_B)):
            rows.append((np.log(E), loga, b))
    return np.array(rows)


def _opl_bounds(x, y):
    s = _opl_starts(x, y)
    lo, hi = _box(s, 0.0)
    lo[1], hi[1] = lo[1] - 2.0, hi[1] + 2.0
    lo[2], hi[2] = 0.0, 2.0
    return lo, hi


OFFSET_POWER_LAW = Law(
    name="offset_power_law",
    params=("E", "a", "b"),
    xs=("x",),
    coords=("log_E", "log_a", "b"),
    formula="y = E + a * x^(-b)",
    to_params=lambda t: {"E": jnp.exp(t[..., 0]), "a": jnp.exp(t[..., 1]), "b": t[..., 2]},
    from_params=lambda p: jnp.stack([jnp.log(p["E"]), jnp.log(p["a"]), p["b"]], axis=-1),
    starts_fn=_opl_starts,
    bounds_fn=_opl_bounds,
    log_predict_fn=lambda t, lx: logaddexp2(t[0], t[1] - t[2] * lx["x"]),
    positive_x=("x",),
)


# ------------------------------------------------------------------ Chinchilla E + A N^−α + B D^−β

CHINCHILLA_GRID = {
    "a": np.arange(0.0, 25.0 + 1e-9, 5.0),
    "b": np.arange(0.0, 25.0 + 1e-9, 5.0),
    "e": np.arange(-1.0, 1.0 + 1e-9, 0.5),
    "alpha": np.arange(0.0, 2.0 + 1e-9, 0.5),
    "beta": np.arange(0.0, 2.0 + 1e-9, 0.5),
}


def chinchilla_grid() -> np.ndarray:
    """Hoffmann et al.'s grid of starts (a, b, e, α, β): 6 · 6 · 5 · 5 · 5 = 4,500 rows."""
    return _grid(*CHINCHILLA_GRID.values())


def logsumexp3(u: Array, v: Array, c: Array) -> Array:
    """log(eᵘ + eᵛ + eᶜ) elementwise, shifted by the (gradient-stopped) maximum: never overflows."""
    m = jax.lax.stop_gradient(jnp.maximum(jnp.maximum(u, v), c))
    return m + jnp.log(jnp.exp(u - m) + jnp.exp(v - m) + jnp.exp(c - m))


def logaddexp2(u: Array, v: Array) -> Array:
    """log(eᵘ + eᵛ) elementwise, shifted by the (gradient-stopped) maximum."""
    m = jax.lax.stop_gradient(jnp.maximum(u, v))
    return m + jnp.log(jnp.exp(u - m) + jnp.exp(v - m))


def _chinchilla_log(t, lx):
    return logsumexp3(t[0] - t[3] * lx["N"], t[1] - t[4] * lx["D"], t[2])


CHINCHILLA = Law(
    name="chinchilla",
    params=("A", "B", "E", "alpha", "beta"),
    xs=("N", "D"),
    coords=("a", "b", "e", "alpha", "beta"),
    formula="L = E + A * N^(-alpha) + B * D^(-beta)",
    to_params=lambda t: {
        "A": jnp.exp(t[..., 0]),
        "B": jnp.exp(t[..., 1]),
        "E": jnp.exp(t[..., 2]),
        "alpha": t[..., 3],
        "beta": t[..., 4],
    },
    from_params=lambda p: jnp.stack(
        [jnp.log(p["A"]), jnp.log(p["B"]), jnp.log(p["E"]), p["alpha"], p["beta"]], axis=-1
    ),
    starts_fn=lambda x, y: chinchilla_grid(),
    bounds_fn=lambda x, y: (
        np.array([v.min() for v in CHINCHILLA_GRID.values()]),
        np.array([v.max() for v in CHINCHILLA_GRID.values()]),
    ),
    log_predict_fn=_chinchilla_log,
    positive_x=("N", "D"),
)


# ------------------------------------------------------------- coverage laws: exp(−a k^−b), a k^b

_COV_B = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])
_COV_SHIFT = np.array([-1.0, 0.0, 1.0])


def _neglog_points(x, y):
    lk, y = np.log(np.asarray(x["k"], float)), np.asarray(y, float)
    keep = (y > 0) & (y < 1)
    return lk[keep], np.log(-np.log(y[keep]))


def _epl_starts(x, y):
    lk, lnl = _neglog_points(x, y)
    loga = _loglog_intercepts(lk, lnl, -_COV_B)  # log(−log y) = log a − b log k
    return np.array([(la + s, b) for la, b in zip(loga, _COV_B) for s in _COV_SHIFT])


EXP_POWER_LAW = Law(
    name="exp_power_law",
    params=("a", "b"),
    xs=("k",),
    coords=("log_a", "b"),
    formula="y = exp(-a * k^(-b))",
    to_params=_log_a_b_to_params,
    from_params=_log_a_b_from_params,
    starts_fn=_epl_starts,
    bounds_fn=lambda x, y: _box(_epl_starts(x, y), 1.0),
    log_predict_fn=lambda t, lk: -jnp.exp(t[0] - t[1] * lk["k"]),
    positive_x=("k",),
)


def _monkeys_starts(x, y):
    lk, lnl = _neglog_points(x, y)
    slopes = -_COV_B  # log(−log c) = log(−a) + b log k with b < 0
    loga = _loglog_intercepts(lk, lnl, slopes)
    return np.array([(-np.exp(la + s), b) for la, b in zip(loga, slopes) for s in _COV_SHIFT])


MONKEYS = Law(
    name="monkeys",
    params=("a", "b"),
    xs=("k",),
    coords=("a", "b"),
    formula="log c = a * k^b",
    to_params=lambda t: {"a": t[..., 0], "b": t[..., 1]},
    from_params=lambda p: jnp.stack([p["a"], p["b"]], axis=-1),
    starts_fn=_monkeys_starts,
    bounds_fn=lambda x, y: _box(_monkeys_starts(x, y), 0.5),
    log_predict_fn=lambda t, lk: t[0] * jnp.exp(t[1] * lk["k"]),
    positive_x=("k",),
)

# ----------------------------------------------------- pinned asymptote L∞ + A·C^(−α), L∞ fixed


def pinned_power_law(l_inf: float, x: str = "C") -> Law:
    """``ŷ = L∞ + A·x^(−α)`` with the asymptote L∞ fixed (e.g. an irreducible loss measured
    elsewhere), fitted in (log A, α). Two curves fitted with the same L∞ compare by an effective
    speed-up (:func:`scaling_theory.fitting.speedup.effective_speedup`).

    Args:
      l_inf: the pinned asymptote (≥ 0; the data must lie above it where log residuals are used).
      x: the name of the x variable (default ``C``, compute).
    Returns:
      A :class:`Law` named ``pinned_power_law`` with ``constants["l_inf"] = l_inf``.
    """
    l_inf = float(l_inf)
    if not (np.isfinite(l_inf) and l_inf >= 0):
        raise InputError(f"pinned_power_law: the asymptote must be a finite number >= 0, got {l_inf}")
    log_l = np.log(l_inf) if l_inf > 0 else -np.inf
    slopes = np.array([0.05, 0.1, 0.2, 0.4, 0.8, 1.6])

    def starts(xd, y):
        lx, y = np.log(np.asarray(xd[x], float)), np.asarray(y, float)
        keep = y > l_inf
        if not keep.any():
            raise InputError(f"pinned_power_law: every y is at or below the pinned asymptote {l_inf:g}")
        loga = _loglog_intercepts(lx[keep], np.log(y[keep] - l_inf), -slopes)
        return np.stack([loga, slopes], axis=1)

    def bounds(xd, y):
        lo, hi = _box(starts(xd, y), 2.0)
        lo[1], hi[1] = 0.0, 2.5
        return lo, hi

    return Law(
        name="pinned_power_law",
        params=("A", "alpha"),
        xs=(x,),
        coords=("log_A", "alpha"),
        formula=f"y = {l_inf:g} + A * {x}^(-alpha)",
        to_params=lambda t: {"A": jnp.exp(t[..., 0]), "alpha": t[..., 1]},
        from_params=lambda p: jnp.stack([jnp.log(p["A"]), p["alpha"]], axis=-1),
        starts_fn=starts,
        bounds_fn=bounds,
        log_predict_fn=lambda t, lx: logaddexp2(jnp.asarray(log_l, jnp.float64) + 0.0 * lx[x], t[0] - t[1] * lx[x]),
        positive_x=(x,),
        constants={"l_inf": l_inf},
    )


LAWS: dict[str, Law] = {law.name: law for law in (POWER_LAW, OFFSET_POWER_LAW, CHINCHILLA, EXP_POWER_LAW, MONKEYS)}


def get_law(name: str | Law) -> Law:
    """A named law (or ``name`` itself if it is already a :class:`Law`)."""
    if isinstance(name, Law):
        return name
    if name not in LAWS:
        raise InputError(f"unknown law {name!r}; choose one of {', '.join(LAWS)}")
    return LAWS[name]


# ------------------------------------------------------------------------------------ user laws


def custom_law(
    fn: Callable[[Mapping[str, Array], Mapping[str, Array]], Array],
    params: Sequence[str],
    xs: Sequence[str],
    *,
    grid: Mapping[str, Sequence[float]] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    name: str = "custom",
    formula: str = "user-defined",
) -> Law:
    """A law from ``fn(x, p) -> ŷ`` (x: dict of arrays, p: dict of scalars; written with ``jnp``).

    Parameters are optimised as given (no transform). Default starts: the product of ``grid``
    (a dict of value lists per parameter), or of (lo, mid, hi) of ``bounds``; ``bounds`` also
    defines the box for random starts (default: the grid's range).
    """
    params, xs = tuple(params), tuple(xs)
    if not params:
        raise InputError("custom law: params must name at least one parameter")
    if not xs:
        raise InputError("custom law: xs must name at least one x variable")
    if grid is None and bounds is None:
        raise InputError("custom law: give a start grid or bounds")
    for spec, what in ((grid, "grid"), (bounds, "bounds")):
        if spec is not None:
            missing = [p for p in params if p not in spec]
            if missing:
                raise InputError(f"custom law: {what} has no entry for parameter {missing[0]!r}")
    if bounds is not None:
        for p in params:
            b_lo, b_hi = bounds[p]
            if not (np.isfinite(b_lo) and np.isfinite(b_hi) and b_lo < b_hi):
                raise InputError(f"custom law: bounds for {p!r} must be finite with lo < hi, got {bounds[p]}")
    if grid is not None:
        axes = [np.atleast_1d(np.asarray(grid[p], np.float64)) for p in params]
    else:
        assert bounds is not None  # checked above: a grid or bounds is given
        axes = [np.array([bounds[p][0], 0.5 * (bounds[p][0] + bounds[p][1]), bounds[p][1]]) for p in params]
    starts = _grid(*axes)
    if bounds is not None:
        lo = np.array([bounds[p][0] for p in params], np.float64)
        hi = np.array([bounds[p][1] for p in params], np.float64)
    else:
        lo, hi = starts.min(axis=0), starts.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)

    def predict(theta, x):
        return fn(x, {p: theta[i] for i, p in enumerate(params)})

    return Law(
        name=name,
        params=params,
        xs=xs,
        coords=params,
        formula=formula,
        to_params=lambda t: {p: t[..., i] for i, p in enumerate(params)},
        from_params=lambda p: jnp.stack([p[k] for k in params], axis=-1),
        starts_fn=lambda x, y: starts,
        bounds_fn=lambda x, y: (lo, hi),
        predict_fn=predict,
    )
