"""Fitting objectives: a robust or plain loss of the residuals, weighted and (by default) summed.

Residuals are taken in log space, ``r_i = log ŷ_i − log y_i`` (default; the Chinchilla recipe), or
in linear space, ``r_i = ŷ_i − y_i``. Per-point losses ρ:

* ``huber``: ρ(r) = r²/2 for |r| ≤ δ, δ(|r| − δ/2) otherwise (Huber 1964; δ = 1e-3 in Hoffmann et
  al. 2022);
* ``mse``: ρ(r) = r²;
* ``mae``: ρ(r) = |r|;
* ``asymmetric``: Huber's ρ_δ(r) multiplied by ``penalty`` where the law over-estimates (r > 0),
  as in OLMo-core's Chinchilla fitter (``overestimate_penalty``; 10 there for fitting the lower
  envelope of the achievable loss, 1 gives Huber).

The objective is ``Σ_i w_i ρ(r_i)`` (``reduction="sum"``, the default) or ``Σ w_i ρ(r_i) / Σ w_i``
(``"mean"``). Summing matters: with δ = 1e-3 every Huber term is O(δ·|r|), so a mean makes the
objective and its gradient so small that L-BFGS's absolute tolerances stop it at the start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax.numpy as jnp

from scaling_theory.errors import InputError
from scaling_theory.fitting.laws import Law

LOSSES = ("huber", "mse", "mae", "asymmetric")
SPACES = ("log", "linear")
REDUCTIONS = ("sum", "mean")


class Loss(NamedTuple):
    """What to minimise: per-point ``kind`` (with Huber ``delta``) in residual ``space``, ``reduction``;
    ``penalty`` multiplies the over-estimates (r > 0) of the ``asymmetric`` loss."""

    kind: str = "huber"
    delta: float = 1e-3
    space: str = "log"
    reduction: str = "sum"
    penalty: float = 10.0

    def validated(self) -> Loss:
        if self.kind not in LOSSES:
            raise InputError(f"loss must be one of {', '.join(LOSSES)}, got {self.kind!r}")
        if self.space not in SPACES:
            raise InputError(f"space must be one of {', '.join(SPACES)}, got {self.space!r}")
        if self.reduction not in REDUCTIONS:
            raise InputError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {self.reduction!r}")
        if self.kind in ("huber", "asymmetric") and not (float(self.delta) > 0 and jnp.isfinite(self.delta)):
            raise InputError(f"delta must be a positive number, got {self.delta}")
        if self.kind == "asymmetric" and not (float(self.penalty) > 0 and jnp.isfinite(self.penalty)):
            raise InputError(f"penalty must be a positive number, got {self.penalty}")
        return Loss(self.kind, float(self.delta), self.space, self.reduction, float(self.penalty))


def huber(r: Any, delta: float) -> Any:
    """Huber's ρ_δ(r): r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond (continuous value and slope at ±δ)."""
    a = jnp.abs(r)
    return jnp.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def rho(r: Any, kind: Any, delta: Any, penalty: Any = 1.0) -> Any:
    """The per-point loss of residuals ``r``; ``kind`` is a name or its index in :data:`LOSSES`
    (a traced index selects elementwise, so one compiled objective serves every loss)."""
    if isinstance(kind, str):
        kind = LOSSES.index(kind)
    h = huber(r, delta)
    return jnp.where(
        kind == 0, h, jnp.where(kind == 1, r * r, jnp.where(kind == 2, jnp.abs(r), jnp.where(r > 0, penalty, 1.0) * h))
    )


def residuals(law: Law, theta: Any, data: Mapping[str, Any], space: str) -> Any:
    """``log ŷ − log y`` or ``ŷ − y`` at the prepared data (``data["x"]``, ``data["y"]``)."""
    if space == "log":
        return law.log_yhat(theta, data["x"]) - jnp.log(data["y"])
    return law.yhat(theta, data["x"]) - data["y"]


def objective_value(law: Law, loss: Loss, theta: Any, data: Mapping[str, Any]) -> Any:
    """Σ w ρ(r) (or its weighted mean); a non-finite residual on a weighted row gives +inf."""
    return _value(law, loss.space, theta, {**data, **runtime(loss)})


def runtime(loss: Loss) -> dict[str, Any]:
    """The loss settings passed as data (not compiled in): the loss index, Huber δ, sum/mean."""
    return {
        "kind": jnp.asarray(LOSSES.index(loss.kind), jnp.int32),
        "delta": jnp.asarray(loss.delta, jnp.float64),
        "mean": jnp.asarray(loss.reduction == "mean", jnp.float64),
        "penalty": jnp.asarray(loss.penalty, jnp.float64),
    }


def _value(law: Law, space: str, theta: Any, data: Mapping[str, Any]) -> Any:
    r = residuals(law, theta, data, space)
    w = data["w"]
    ok = jnp.isfinite(r)
    total = jnp.sum(
        w * rho(jnp.where(ok, r, 0.0), data["kind"], data["delta"], data["penalty"])
    )  # zero-weight rows add 0
    total = total / jnp.where(data["mean"] > 0, jnp.sum(w), 1.0)
    bad = jnp.any((w > 0) & ~ok)
    return jnp.where(bad, jnp.inf, total)


@functools.lru_cache(maxsize=64)
def _objective(law: Law, space: str) -> Callable[[Any, Any, Any], Any]:
    def fun(theta, shared, batched):
        return _value(law, space, theta, {**(shared or {}), **(batched or {})})

    return fun


def objective(law: Law, loss: Loss) -> Callable[[Any, Any, Any], Any]:
    """``fun(θ, shared, batched)`` for :func:`~scaling_theory.fitting.optimize.minimize_batched`.

    ``shared`` and ``batched`` are dicts whose union holds ``x`` (prepared), ``y``, ``w`` and the
    :func:`runtime` settings (loss kind, δ, mean); the function is cached per (law, residual
    space), so the compiled optimiser is reused across data sizes' buckets, losses, δ and reductions.
    """
    return _objective(law, loss.space)
