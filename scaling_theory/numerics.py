"""Numerics and device conventions shared by every area.

* Theory and fitting run in float64: decorate public entry points with :func:`x64` (a local
  ``jax.enable_x64`` context), never flip the global flag at import.
* Parameter checks run on concrete (host) values only: :func:`check` is a no-op under tracing, so
  the same function can be called eagerly (validated) or inside ``jit`` (unchecked).
* Batch axes are sharded over a 1-D mesh of all devices (:func:`batch_mesh`, :func:`shard_batch`),
  so the same code runs on one CPU or many GPUs.
* Several processes (``jax.distributed``, ``scaling_theory/distributed.py``): :func:`batch_mesh`
  spans the devices of this process by default, so batched code written for one process runs
  unchanged (every process computes the whole batch on its own devices); code that splits a batch
  across processes asks for :func:`global_mesh`, places host data with :func:`global_array` (every
  process holds the same host array and contributes its own shards) and reads results back with
  :func:`to_host`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from scaling_theory.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

BATCH_AXIS = "batch"


def x64(fn: F) -> F:
    """Run ``fn`` with 64-bit JAX types enabled (locally, for the duration of the call)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def eager_jit(fun: F | None = None, *, static_argnames: tuple[str, ...] | str = ()) -> Any:
    """Compile an eager call of a traceable core as one program; inline it when called under a transformation.

    A function of ``jnp`` operations called outside ``jit`` runs every operation as its own small compiled
    program, and a ``lax`` loop with a fresh closure (e.g. :func:`scaling_theory.stats.bisect`'s predicate)
    is traced and compiled again on every call. Decorated, an eager call (no tracer among the arguments) goes
    through ``jax.jit`` (one program per argument shapes, cached); a call with traced arguments runs the
    plain function, so the enclosing program stays one flat computation. The results agree to rounding (no
    fast-math; fusing operations can move the last bits: the quick-profile figures' numbers moved by ≤ 2e-14).

    Args:
      fun: the traceable function (omitted when used as ``@eager_jit(static_argnames=...)``).
      static_argnames: arguments that select code rather than carry values (Python ints used as shapes,
        flags, names), as for ``jax.jit``.

    Returns:
      The wrapped function, with ``fun``'s name and docstring.
    """
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if fun is None:
        return functools.partial(eager_jit, static_argnames=names)
    jitted = jax.jit(fun, static_argnames=names)

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if is_concrete(args, kwargs):
            return jitted(*args, **kwargs)
        return fun(*args, **kwargs)

    return wrapper


def is_concrete(*xs: Any) -> bool:
    """True when none of ``xs`` is a JAX tracer (so values can be inspected on the host)."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(xs))


def host(x: Any) -> Any:
    """NumPy out (the library contract): the concrete JAX array leaves of ``x`` (an array, tuple, list or
    dict of them) as NumPy arrays, dtype kept (float64 stays float64 outside an x64 context); traced leaves
    pass through, so a public function that returns ``host(core(...))`` still works inside ``jit``."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a) if isinstance(a, jax.Array) and is_concrete(a) else a, x)


def check(condition: Any, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds everywhere.

    ``condition`` may be a bool or an array of bools; NaN comparisons are False, so NaN inputs fail.
    Under tracing (inside ``jit``/``vmap``) the check is skipped.
    """
    if not is_concrete(condition):
        return
    if not bool(np.all(np.asarray(condition))):
        raise InputError(message)


def batch_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh over ``devices`` (default: all devices of this process) with the axis name ``"batch"``.

    With one process (the usual case) these are all devices. Under ``jax.distributed`` the default
    stays process-local, so that code which reads its results with ``np.asarray`` keeps working; see
    :func:`global_mesh` for a mesh over the devices of every process.
    """
    devs = np.asarray(devices if devices is not None else jax.local_devices())
    return Mesh(devs, (BATCH_AXIS,))


def global_mesh() -> Mesh:
    """A 1-D ``"batch"`` mesh over the devices of every process (= :func:`batch_mesh` with one process).

    Devices are ordered by process, then by local id, so a process's shards are contiguous.
    """
    devs = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return Mesh(np.asarray(devs), (BATCH_AXIS,))


def batch_sharding(mesh: Mesh | None = None, ndim: int = 1) -> NamedSharding:
    """Sharding that splits axis 0 across the mesh and replicates the remaining ``ndim - 1`` axes."""
    mesh = mesh or batch_mesh()
    return NamedSharding(mesh, PartitionSpec(BATCH_AXIS, *([None] * (ndim - 1))))


def shard_batch(x: Any, mesh: Mesh | None = None) -> Any:
    """Place every array leaf of ``x`` with its leading axis split over the devices.

    Leaves whose leading dimension is not divisible by the device count are replicated instead.
    """
    mesh = mesh or batch_mesh()
    n_dev = mesh.devices.size
    spans_processes = _spans_processes(mesh)

    def place(a: Any) -> Any:
        sharding = (
            NamedSharding(mesh, PartitionSpec())
            if np.ndim(a) == 0 or np.shape(a)[0] % n_dev
            else batch_sharding(mesh, np.ndim(a))
        )
        if spans_processes:  # every process holds the same host value and supplies its own shards
            host = np.asarray(a)
            return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
        # A host array goes straight to the devices: jnp.asarray would first run an eager op that compiles a
        # small program per shape in every new process.
        return jax.device_put(a if isinstance(a, jax.Array) else np.asarray(a), sharding)

    return jax.tree_util.tree_map(place, x)


def _spans_processes(mesh: Mesh) -> bool:
    return len({d.process_index for d in mesh.devices.ravel()}) > 1


def global_array(x: Any, mesh: Mesh | None = None) -> jax.Array:
    """Host array ``x`` (identical on every process) with axis 0 split over :func:`global_mesh`.

    Each process materialises only the shards of its own devices
    (``jax.make_array_from_callback``). The leading dimension must be divisible by the device count.
    """
    mesh = mesh or global_mesh()
    host = np.asarray(x)
    if host.shape[0] % mesh.devices.size:
        raise ValueError(f"leading dimension {host.shape[0]} is not a multiple of the {mesh.devices.size} devices")
    return jax.make_array_from_callback(host.shape, batch_sharding(mesh, host.ndim), lambda index: host[index])


def to_host(x: Any) -> Any:
    """NumPy copies of the array leaves of ``x``, gathered from every process when they are sharded
    across processes (``multihost_utils.process_allgather``); a plain ``np.asarray`` otherwise."""

    def get(a: Any) -> Any:
        if isinstance(a, jax.Array) and not a.is_fully_addressable and not a.is_fully_replicated:
            from jax.experimental import multihost_utils

            return np.asarray(multihost_utils.process_allgather(a, tiled=True))
        return np.asarray(a)

    return jax.tree_util.tree_map(get, x)


def pad_to_multiple(n: int, multiple: int) -> int:
    """Smallest m ≥ n that is a multiple of ``multiple`` (for sharding batch axes evenly)."""
    return -(-n // multiple) * multiple


def small_adjugate(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Determinant and adjugate of a p × p matrix, p ≤ 3, in closed form (traceable).

    For the 2- and 3-parameter Newton steps and covariances of the passk fits: closed forms keep their
    compiled programs free of LAPACK calls (whose jaxlib set-up costs a SciPy import when a stored executable
    is loaded) and are as accurate as an LU solve for these sizes.

    Args:
      a: matrix (p, p), p ∈ {1, 2, 3}.

    Returns:
      ``(det, adj)`` with ``a @ adj = det · I``.
    """
    p = a.shape[-1]
    if p == 1:
        return a[0, 0], jnp.ones_like(a)
    if p == 2:
        det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
        return det, jnp.array([[a[1, 1], -a[0, 1]], [-a[1, 0], a[0, 0]]])
    if p != 3:
        raise ValueError(f"small_adjugate handles p ≤ 3, got p = {p}")

    def minor(r0: int, r1: int, c0: int, c1: int) -> jax.Array:
        return a[r0, c0] * a[r1, c1] - a[r0, c1] * a[r1, c0]

    cof = [[minor(1, 2, 1, 2), -minor(1, 2, 0, 2), minor(1, 2, 0, 1)],
           [-minor(0, 2, 1, 2), minor(0, 2, 0, 2), -minor(0, 2, 0, 1)],
           [minor(0, 1, 1, 2), -minor(0, 1, 0, 2), minor(0, 1, 0, 1)]]  # fmt: skip
    det = a[0, 0] * cof[0][0] + a[0, 1] * cof[0][1] + a[0, 2] * cof[0][2]
    return det, jnp.array(cof).T


def small_solve(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a⁻¹ b`` for a p × p matrix, p ≤ 3 (Cramer's rule; inf/nan when ``a`` is singular)."""
    det, adj = small_adjugate(a)
    return adj @ b / det


def small_is_positive_definite(a: jax.Array) -> jax.Array:
    """Whether a symmetric p × p matrix (p ≤ 3) is positive definite: every leading principal minor > 0
    (Sylvester's criterion)."""
    p = a.shape[-1]
    minors = [a[0, 0]] + [small_adjugate(a[:q, :q])[0] for q in range(2, p + 1)]
    return jnp.all(jnp.stack(minors) > 0)
