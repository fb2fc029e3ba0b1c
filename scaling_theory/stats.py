"""Shared statistical building blocks used by every area (docs/CONTRIBUTING.md, "Shared building blocks").

One copy of each: keyed randomness helpers, root finding (bisection), weighted log–log least squares,
keyed sub-sampling and bootstrap, and convergence diagnostics (split R̂). Areas import these instead of
writing their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

# --- keyed randomness --------------------------------------------------------------------------------

# --- root finding --------------------------------------------------------------------------------------


def bisect(
    predicate: Callable[[jax.Array], jax.Array],
    lo: Any,
    hi: Any,
    steps: Any,
    *,
    whole: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Batched bisection for the point where a monotone ``predicate`` turns from False to True.

    Each step evaluates ``predicate(mid)`` elementwise at ``mid = (lo + hi)/2`` (``floor`` of it when
    ``whole``) and keeps the half bracket whose ends still disagree: ``hi ← mid`` where it is True,
    ``lo ← mid`` where it is False (NaN comparisons count as False). With ``predicate(lo)`` False and
    ``predicate(hi)`` True at the start the invariant holds at the end, so ``hi`` is the first point
    found True (for ``whole``: the smallest whole number where it holds once ``hi − lo ≤ 1``). Callers
    check the ends themselves (e.g. ``inf`` where ``predicate(hi)`` is False at the start).

    Traceable (``jit``/``vmap``): a ``lax.fori_loop`` of ``steps`` steps (a Python int, or a traced
    integer, which becomes a while-loop); the batch shape is that of ``lo`` and ``hi`` broadcast.

    Args:
        predicate: maps an array of points (the batch shape) to booleans of the same shape;
            non-decreasing along each element's bracket (False … False True … True).
        lo: lower end(s) of the bracket.
        hi: upper end(s) of the bracket.
        steps: number of halvings; the bracket width becomes ``(hi − lo)·2^−steps`` (for ``whole``,
            ``ceil(log2(hi − lo))`` steps reach width 1).
        whole: bisect over whole numbers (``mid = floor((lo + hi)/2)``), e.g. a number of attempts.

    Returns:
        The final bracket ``(lo, hi)``, each of the broadcast batch shape.
    """
    lo, hi = jnp.broadcast_arrays(jnp.asarray(lo), jnp.asarray(hi))

    def step(_: Any, bracket: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        a, b = bracket
        mid = jnp.floor((a + b) / 2.0) if whole else 0.5 * (a + b)
        upper = predicate(mid)
        return jnp.where(upper, a, mid), jnp.where(upper, mid, b)

    return jax.lax.fori_loop(0, steps, step, (lo, hi))


# Whole numbers up to 2^52 are exact in float64; 53 halvings shrink [0, 2^52] to width 1.
WHOLE_MAX = 2.0**52
WHOLE_STEPS = 53


def smallest_whole(predicate: Callable[[jax.Array], jax.Array], upper: Any = WHOLE_MAX) -> jax.Array:
    """Smallest whole number N in ``[0, upper]`` with ``predicate(N)`` True, for a predicate monotone in N.

    ``0`` where ``predicate(0)`` holds, ``inf`` where even ``predicate(upper)`` fails; otherwise the
    :func:`bisect` with ``whole=True`` over ``[0, upper]`` (53 steps: exact for ``upper ≤ 2^52``).
    Traceable; the batch shape is that of ``upper`` (broadcast it to the shape you need).

    Args:
        predicate: maps whole numbers (float64 array of the batch shape) to booleans; False … False
            True … True in N.
        upper: largest N searched (float64 array, ≤ 2^52), e.g. ``jnp.full(shape, WHOLE_MAX)``.

    Returns:
        float64 array of the batch shape: the smallest N, 0, or ``inf``.
    """
    top = jnp.asarray(upper)
    zero = jnp.zeros_like(top)
    _, hi = bisect(predicate, zero, top, WHOLE_STEPS, whole=True)
    out = jnp.where(predicate(zero), 0.0, hi)
    return jnp.where(predicate(top), out, jnp.inf)


# --- weighted log-log least squares ----------------------------------------------------------------------

# --- sub-sampling and bootstrap ------------------------------------------------------------------------

# --- convergence diagnostics ---------------------------------------------------------------------------
