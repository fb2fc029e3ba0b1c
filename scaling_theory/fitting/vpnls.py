"""Variable projection (VPNLS): solve the linear part exactly, search only the exponents.

Laws of the form ``ŷ = o(x) + Σ_j c_j φ_j(x; e)`` with c ≥ 0 are linear in the scales c given the
exponents e: Chinchilla ``E + A N^(−α) + B D^(−β)`` (c = E, A, B; e = α, β), the offset power law
``E + a x^(−b)``, the power law ``a x^(−b)`` and the pinned-asymptote law ``L∞ + A C^(−α)``
(o = L∞). For each exponent vector on an exhaustive grid the scales are solved for exactly:

* **non-negative least squares** with k ≤ 3 unknowns, solved by enumerating the 2^k − 1 supports
  (the NNLS optimum is the unconstrained least-squares solution on its support, so the best
  feasible support solution *is* the NNLS solution; Lawson & Hanson 1974, ch. 23), vectorised over
  the grid;
* **robust or log-space losses** by iteratively re-weighted least squares: the weights are
  ``ρ'(r)/r`` of the loss (Huber: min(1, δ/|r|); the asymmetric loss multiplies over-estimates by
  its penalty; absolute error: 1/|r|), and log residuals ``log ŷ − log y`` are linearised around the
  current fit (Gauss–Newton in c: design φ/ŷ, target Xc/ŷ − r). The best iterate by the exact
  objective is kept, so the inner solve never increases the objective. It converges linearly: on
  the 81-run IsoFLOP study the objective is within 2e-4 (relative) of the inner optimum after the
  grid stage's 6 iterations, 2e-5 after 12 and 1e-12 after 120 (tested against SciPy); 6 are
  enough to rank the exponents (the grid stage's time is proportional to them), and the
  refinement below makes the final fit exact.

The K best grid *local minima* then start a local refinement of all parameters on the exact
objective (the batched L-BFGS of :mod:`optimize`, which starts with the scales already optimal and
converges in tens of evaluations). The result is a :class:`~scaling_theory.fitting.fit.FitResult`
(``method = "vpnls"``), so bootstrap, posterior and back-test apply unchanged.

References:
  Golub & Pereyra (1973, 2003), separable nonlinear least squares; Open-Athena,
  *scaling-law-analysis* (VPNLS: exponent grid + NNLS, then a 2-D Nelder–Mead refinement; here the
  refinement is a joint L-BFGS from the best grid minima, so the optimum is the multi-start fit's).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.fitting.fit import FitResult, bucket, fit, fit_many, make_loss, pad_rows, validate
from scaling_theory.fitting.laws import Law, get_law
from scaling_theory.fitting.objectives import Loss, runtime
from scaling_theory.fitting.optimize import LBFGSOptions
from scaling_theory.numerics import x64

IRLS_ITERATIONS = 6
# The refinement minimises f / f_grid (≈ 1 at its start) to tight tolerances: it starts next to an
# optimum, where SciPy's default tolerances (absolute in f) would stop it at once.
REFINE_OPTIONS = LBFGSOptions(ftol=1e-13, gtol=1e-9)


class Separable(NamedTuple):
    """How a law splits into scales c ≥ 0 and exponents e.

    ``basis(e, lx)`` gives the n × k columns φ_j (from log x), ``offset(lx)`` the fixed part o(x),
    ``to_theta(c, e)`` the law's coordinates; ``grid`` one default axis per exponent.
    """

    exponents: tuple[str, ...]
    grid: tuple[np.ndarray, ...]
    basis: Callable[[Any, Mapping[str, Any]], Any]
    offset: Callable[[Mapping[str, Any]], Any]
    to_theta: Callable[[Any, Any], Any]


def _log_floor(c):
    return jnp.log(jnp.maximum(c, 1e-300))


def separable(law: Law) -> Separable:
    """The :class:`Separable` form of a named law (chinchilla, offset_power_law, power_law,
    pinned_power_law); :class:`InputError` for any other law."""
    zero = lambda lx: 0.0 * next(iter(lx.values()))  # noqa: E731
    if law.name == "chinchilla":
        return Separable(
            exponents=("alpha", "beta"),
            grid=(np.linspace(0.02, 2.5, 32), np.linspace(0.02, 2.5, 32)),
            basis=lambda e, lx: jnp.stack(
                [jnp.exp(-e[0] * lx["N"]), jnp.exp(-e[1] * lx["D"]), jnp.ones_like(lx["N"])], axis=-1
            ),
            offset=zero,
            to_theta=lambda c, e: jnp.stack([_log_floor(c[0]), _log_floor(c[1]), _log_floor(c[2]), e[0], e[1]]),
        )
    if law.name == "offset_power_law":
        return Separable(
            exponents=("b",),
            grid=(np.linspace(-2.5, 3.0, 441),),
            basis=lambda e, lx: jnp.stack([jnp.ones_like(lx["x"]), jnp.exp(-e[0] * lx["x"])], axis=-1),
            offset=zero,
            to_theta=lambda c, e: jnp.stack([_log_floor(c[0]), _log_floor(c[1]), e[0]]),
        )
    if law.name == "power_law":
        return Separable(
            exponents=("b",),
            grid=(np.linspace(-3.0, 3.0, 241),),
            basis=lambda e, lx: jnp.exp(-e[0] * lx["x"])[:, None],
            offset=zero,
            to_theta=lambda c, e: jnp.stack([_log_floor(c[0]), e[0]]),
        )
    if law.name == "pinned_power_law":
        name, l_inf = law.xs[0], law.constants["l_inf"]
        return Separable(
            exponents=("alpha",),
            grid=(np.linspace(0.0, 3.0, 301),),
            basis=lambda e, lx: jnp.exp(-e[0] * lx[name])[:, None],
            offset=lambda lx: jnp.full_like(lx[name], l_inf),
            to_theta=lambda c, e: jnp.stack([_log_floor(c[0]), e[0]]),
        )
    raise InputError(
        f"method 'vpnls' needs a law that is linear in its scales (chinchilla, offset_power_law, "
        f"power_law, pinned_power_law), got {law.name!r}"
    )


# ------------------------------------------------------------------------------ the linear part


def nnls_small(G: Any, b: Any) -> Any:
    """argmin_{c ≥ 0} cᵀGc − 2bᵀc for a small k × k positive semi-definite G, by enumerating supports.

    Args:
      G: k × k Gram matrix XᵀΩX (k ≤ 3).
      b: k vector XᵀΩt.
    Returns:
      The NNLS solution c (zeros if no support is feasible).
    References:
      Lawson & Hanson (1974), *Solving Least Squares Problems*, ch. 23 (the optimum is the
      least-squares solution on its support).
    """
    k = G.shape[-1]
    if k > 3:
        raise ValueError(f"nnls_small solves k <= 3 unknowns, got {k}")
    scale = 1.0 / jnp.sqrt(jnp.maximum(jnp.diag(G), 1e-300))  # unit-norm columns
    Gs = G * scale[:, None] * scale[None, :]
    bs = b * scale
    masks = jnp.asarray([[(m >> j) & 1 for j in range(k)] for m in range(1, 2**k)], bool)
    eye = jnp.eye(k, dtype=G.dtype)

    def on_support(mask):
        mm = mask[:, None] & mask[None, :]
        c = _solve3(jnp.where(mm, Gs, eye), jnp.where(mask, bs, 0.0))
        c = jnp.where(mask, c, 0.0)
        value = c @ Gs @ c - 2.0 * bs @ c
        ok = jnp.all(c >= 0) & jnp.all(jnp.isfinite(c)) & jnp.isfinite(value)
        return c, jnp.where(ok, value, jnp.inf)

    cs, values = jax.vmap(on_support)(masks)
    best = jnp.argmin(values)
    return jnp.where(jnp.isfinite(values[best]), cs[best], 0.0) * scale


def _solve3(M: Any, v: Any) -> Any:
    """M⁻¹v for k ≤ 3 by the adjugate (rows' cross products): vectorises far better than an LU
    call per grid point; a singular M gives non-finite entries (that support is then infeasible)."""
    k = M.shape[-1]
    if k < 3:  # embed in 3 × 3 with an identity block
        M = jnp.eye(3, dtype=M.dtype).at[:k, :k].set(M)
        v = jnp.zeros(3, v.dtype).at[:k].set(v)
    r0, r1, r2 = M[0], M[1], M[2]
    c0, c1, c2 = jnp.cross(r1, r2), jnp.cross(r2, r0), jnp.cross(r0, r1)
    det = r0 @ c0
    x = (c0 * v[0] + c1 * v[1] + c2 * v[2]) / det
    return x[:k]


def _irls_weight(r, kind, delta, penalty):
    """ρ'(r)/r for the loss index ``kind`` (the IRLS weight), elementwise."""
    a = jnp.abs(r)
    hub = jnp.where(a <= delta, 1.0, delta / jnp.maximum(a, 1e-300))
    return jnp.where(
        kind == 0,
        hub,
        jnp.where(
            kind == 1, 2.0, jnp.where(kind == 2, 1.0 / jnp.maximum(a, 1e-8), jnp.where(r > 0, penalty, 1.0) * hub)
        ),
    )


def _loss_value(yhat, y, w, rt, log_space):
    from scaling_theory.fitting.objectives import rho

    bad = yhat <= 0 if log_space else ~jnp.isfinite(yhat)
    r = jnp.log(jnp.where(bad, 1.0, yhat)) - jnp.log(y) if log_space else yhat - y
    total = jnp.sum(w * rho(jnp.where(bad, 0.0, r), rt["kind"], rt["delta"], rt["penalty"]))
    return jnp.where(jnp.any(bad & (w > 0)), jnp.inf, total), r


def project(X: Any, o: Any, y: Any, w: Any, rt: Mapping[str, Any], log_space: bool, iterations: int = IRLS_ITERATIONS):
    """The scales c ≥ 0 minimising Σ w ρ(r(o + Xc)) for fixed exponents, and that minimum.

    Args:
      X: n × k basis columns; o: n offsets; y: n targets; w: n weights (0 for padding rows).
      rt: the loss settings of :func:`objectives.runtime`; log_space: residuals log ŷ − log y.
      iterations: IRLS / Gauss–Newton iterations (the first is the exact least-squares solve).
    Returns:
      (c, objective): the best iterate by the exact objective.
    """
    t = y - o
    # start: least squares on relative residuals (ŷ − y)/y in log space, on ŷ − y otherwise
    omega0 = w / (y * y) if log_space else w
    c = nnls_small(X.T @ (omega0[:, None] * X), X.T @ (omega0 * t))
    f, r = _loss_value(o + X @ c, y, w, rt, log_space)

    def step(_, carry):
        c, f, r, c_best, f_best = carry
        yhat = o + X @ c
        omega = w * _irls_weight(r, rt["kind"], rt["delta"], rt["penalty"])
        if log_space:  # Gauss–Newton in c on log ŷ − log y: design X/ŷ, target X c/ŷ − r
            safe = jnp.where(yhat > 0, yhat, 1.0)
            Xl = X / safe[:, None]
            tl = Xl @ c - r
            c_new = nnls_small(Xl.T @ (omega[:, None] * Xl), Xl.T @ (omega * tl))
        else:
            c_new = nnls_small(X.T @ (omega[:, None] * X), X.T @ (omega * t))
        f_new, r_new = _loss_value(o + X @ c_new, y, w, rt, log_space)
        better = f_new < f_best
        return (c_new, f_new, r_new, jnp.where(better, c_new, c_best), jnp.where(better, f_new, f_best))

    ok = jnp.isfinite(f)
    r = jnp.where(jnp.isfinite(r), r, 0.0)
    _, _, _, c_best, f_best = jax.lax.fori_loop(0, iterations, step, (c, f, r, c, jnp.where(ok, f, jnp.inf)))
    return c_best, f_best


@functools.lru_cache(maxsize=32)
def _grid_program(law: Law, log_space: bool, iterations: int):
    """jit(vmap over data sets (vmap over exponents)) of the projected objective; cached per law."""
    sep = separable(law)

    def one(e, lx, y, w, rt):
        X = sep.basis(e, lx)
        c, f = project(X, sep.offset(lx), y, w, rt, log_space, iterations)
        return sep.to_theta(c, e), f

    over_grid = jax.vmap(one, in_axes=(0, None, None, None, None))
    return jax.jit(jax.vmap(over_grid, in_axes=(None, 0, 0, 0, None)))


def exponent_grid(law: Law, grid: Mapping[str, Sequence[float]] | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """The exhaustive grid of exponent vectors (rows) and its shape, from the law's default axes
    or ``grid`` (a dict of value lists per exponent name)."""
    sep = separable(law)
    axes = list(sep.grid)
    if grid is not None:
        unknown = [k for k in grid if k not in sep.exponents]
        if unknown:
            raise InputError(
                f"vpnls: law {law.name!r} has no exponent {unknown[0]!r} (its exponents: {', '.join(sep.exponents)})"
            )
        axes = [np.atleast_1d(np.asarray(grid.get(k, a), np.float64)) for k, a in zip(sep.exponents, axes)]
        if any(a.size == 0 or not np.all(np.isfinite(a)) for a in axes):
            raise InputError("vpnls: every exponent grid axis needs at least one finite value")
    return np.array(list(itertools.product(*axes)), np.float64), tuple(a.size for a in axes)


def grid_local_minima(values: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    """Indices (flat) of up to k grid points that are no higher than any axis neighbour, best first
    (the global grid minimum first; finite values only)."""
    v = np.where(np.isfinite(values), values, np.inf).reshape(shape)
    is_min = np.isfinite(v)
    for ax in range(v.ndim):
        padded = np.pad(v, [(1, 1) if a == ax else (0, 0) for a in range(v.ndim)], constant_values=np.inf)
        lo = np.take(padded, np.arange(0, shape[ax]), axis=ax)
        hi = np.take(padded, np.arange(2, shape[ax] + 2), axis=ax)
        is_min &= (v <= lo) & (v <= hi)
    flat = np.flatnonzero(is_min.reshape(-1))
    order = flat[np.argsort(v.reshape(-1)[flat], kind="stable")]
    return order[:k]


@x64
def grid_stage(
    law: Law,
    datasets: Sequence[tuple[Mapping[str, np.ndarray], np.ndarray, np.ndarray]],
    loss: Loss,
    grid: Mapping[str, Sequence[float]] | None = None,
    iterations: int = IRLS_ITERATIONS,
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Projected objective on the exponent grid for each validated (x, y, w) data set, one call.

    Returns:
      (theta G × M × P, objective G × M, grid shape): the coordinates with the scales solved
      exactly at each of the M grid points.
    """
    E, shape = exponent_grid(law, grid)
    n = bucket(max(d[1].size for d in datasets))
    padded = [pad_rows(x, y, w, n) for x, y, w in datasets]
    lx = {k: jnp.log(jnp.asarray(np.stack([p[0][k] for p in padded]))) for k in law.xs}
    y = jnp.asarray(np.stack([p[1] for p in padded]))
    w = jnp.asarray(np.stack([p[2] for p in padded]))
    theta, f = _grid_program(law, loss.space == "log", iterations)(jnp.asarray(E), lx, y, w, runtime(loss))
    return np.asarray(theta), np.asarray(f), shape


def _scale(f: np.ndarray) -> float:
    """The best finite grid objective, or 1 when it is zero or none is finite."""
    finite = f[np.isfinite(f)]
    best = float(finite.min()) if finite.size else 1.0
    return best if best > 0 else 1.0


def _candidates(theta: np.ndarray, f: np.ndarray, shape: tuple[int, ...], k: int, law: Law) -> np.ndarray:
    idx = grid_local_minima(f, shape, k)
    if idx.size == 0:
        raise InputError(f"vpnls: law {law.name!r}: no exponent on the grid gave a finite objective")
    idx = np.concatenate([idx, np.repeat(idx[:1], k - idx.size)])  # fixed K: one compiled refinement
    return theta[idx]


@x64
def vpnls(
    law: str | Law,
    x: Mapping[str, Any],
    y: Any,
    *,
    loss: str | Loss = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    penalty: float = 10.0,
    weights: Any = None,
    grid: Mapping[str, Sequence[float]] | None = None,
    refine: int = 4,
    options: LBFGSOptions = REFINE_OPTIONS,
    name: str = "",
) -> FitResult:
    """Fit ``law`` by variable projection: exponent grid with exact scales, then local refinement.

    Args:
      law: a law linear in its scales (see :func:`separable`).
      x, y, weights: the data as for :func:`~scaling_theory.fitting.fit.fit`.
      loss, delta, space, reduction, penalty: the objective (see :mod:`objectives`).
      grid: exponent axes, e.g. ``{"alpha": np.linspace(0.05, 1, 40)}`` (default: the law's).
      refine: number of grid local minima that start the joint L-BFGS refinement.
    Returns:
      A :class:`FitResult` with ``method = "vpnls"``; its ``starts`` are the refined grid minima.
    """
    return vpnls_many(
        law,
        [(x, y) if weights is None else (x, y, weights)],
        loss=loss,
        delta=delta,
        space=space,
        reduction=reduction,
        penalty=penalty,
        grid=grid,
        refine=refine,
        options=options,
        names=[name] if name else None,
    )[0]


@x64
def vpnls_many(
    law: str | Law,
    datasets: Sequence[tuple],
    *,
    loss: str | Loss = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    penalty: float = 10.0,
    grid: Mapping[str, Sequence[float]] | None = None,
    refine: int = 4,
    options: LBFGSOptions = REFINE_OPTIONS,
    names: Sequence[str] | None = None,
) -> list[FitResult]:
    """:func:`vpnls` for several ``(x, y[, weights])`` data sets: one grid call, one refinement call."""
    law = get_law(law)
    separable(law)
    lossspec = make_loss(loss, delta, space, reduction, penalty)
    if not datasets:
        raise InputError("vpnls: no data sets")
    if isinstance(refine, bool) or not isinstance(refine, (int, np.integer)) or refine < 1:
        raise InputError(f"vpnls: refine must be a positive integer, got {refine}")
    prepared = []
    for j, ds in enumerate(datasets):
        xj, yj, *rest = ds
        where = names[j] if names is not None else (f"data set {j}" if len(datasets) > 1 else "")
        prepared.append(validate(law, xj, yj, rest[0] if rest else None, lossspec, where))
    theta, f, shape = grid_stage(law, prepared, lossspec, grid)
    starts = [_candidates(theta[j], f[j], shape, int(refine), law) for j in range(len(prepared))]
    # Refine f / f_grid (weights divided by the best grid objective): the optimum is the same, and
    # the optimiser's absolute tolerances become relative ones (a curve's objective can be 3e-5).
    f0 = [_scale(fj) for fj in f]
    scaled = [(xs, yv, w / s) for (xs, yv, w), s in zip(prepared, f0)]
    if len(scaled) == 1:
        xs, yv, w = scaled[0]
        results = [fit(law, xs, yv, loss=lossspec, weights=w, starts=starts[0], options=options)]
    else:
        results = fit_many(law, scaled, loss=lossspec, starts=starts, options=options, names=names)
    return [
        dataclasses.replace(
            r,
            objective=r.objective * s,
            objectives=r.objectives * s,
            gradient=r.gradient * s,
            weights=w,
            method="vpnls",
            grid_best=float(np.min(np.where(np.isfinite(fj), fj, np.inf))),
        )
        for r, fj, s, (_, _, w) in zip(results, f, f0, prepared)
    ]
