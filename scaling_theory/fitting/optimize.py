"""Batched multi-start L-BFGS in float64: all starts in one compiled ``lax.while_loop``.

The S starts (problems × starts, e.g. bootstrap replicates × starts) are processed by W ≤ S
*slots* that advance together: one loop iteration evaluates the objective and its gradient once
for all slots (``vmap`` of ``jax.value_and_grad``). A slot whose start has stopped writes its result
out and takes the next pending start; once only a few slots are still busy, only those are
evaluated (gathered into a batch of W/4 or W/16). The cost is thus ≈ Σ_s evaluations_s rather than
S · max_s evaluations_s: the loop does not idle while a few slow starts finish. Per start:

* the direction is ``d = −H g`` from the L-BFGS two-loop recursion (memory m, initial scaling
  ``γ = sᵀy / yᵀy``; Nocedal & Wright 2006, Alg. 7.4), steepest descent of length ≤ 1 at first;
* the line search is spread over loop iterations, one trial ``x + t d`` per iteration: a trial
  that fails the Armijo condition ``f(x + t d) ≤ f(x) + c₁ t gᵀd`` shrinks t by safeguarded
  quadratic interpolation (to [0.1 t, 0.5 t]); one that passes it while the slope is still steep,
  ``∇f(x + t d)ᵀd < c₂ gᵀd``, is kept as a fallback and t grows 4× (at most ``max_expand`` times);
  otherwise the trial (or the better fallback) is accepted;
* a curvature pair (s, y) enters the memory only if ``sᵀy > 10⁻¹⁰ ‖y‖²``; a direction that is not
  a descent direction resets the memory;
* a start stops, as SciPy's L-BFGS-B does with its defaults, when ``max |g| ≤ gtol`` or when an
  accepted step lowers f by at most ``ftol · max(|f_k|, |f_{k+1}|, 1)``.

These tolerances are absolute in the scale of f (as in SciPy): a *mean* of Huber terms makes f and
g tiny and the optimiser stops at once — the reason :mod:`fit` **sums** the per-point losses.

On several devices, and across the processes of a ``jax.distributed`` run, the starts are split into
contiguous blocks over ``numerics.global_mesh`` and each device runs its own loop on its block
(``shard_map``; no communication until the results are gathered).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from scaling_theory.numerics import BATCH_AXIS, global_mesh, pad_to_multiple, shard_batch, to_host, x64
from scaling_theory.results import Result

EMPTY, INIT, RUNNING, GTOL, FTOL, MAXITER, LINESEARCH, NONFINITE = -2, -1, 0, 1, 2, 3, 4, 5
STATUS = {
    GTOL: "gradient below gtol",
    FTOL: "relative reduction of f below ftol",
    MAXITER: "maximum number of evaluations reached",
    LINESEARCH: "line search failed (step below minimum)",
    NONFINITE: "objective not finite at the start",
}
CONVERGED = (GTOL, FTOL)


class LBFGSOptions(NamedTuple):
    """Stopping rules (defaults: SciPy L-BFGS-B's ``gtol`` and ``ftol``), line search, slots."""

    max_evals: int = 3000  # objective + gradient evaluations per start
    memory: int = 10
    gtol: float = 1e-5
    ftol: float = 2.220446049250313e-09
    c1: float = 1e-4  # sufficient decrease (Armijo)
    c2: float = 0.9  # curvature: expand the step while ∇f(x + t d)ᵀd < c2 gᵀd
    max_expand: int = 10
    min_step: float = 1e-14
    max_backtracks: int = 40
    slots: int | None = None  # W per device; default: 512 on CPU, 8192 on accelerators


class _Out(NamedTuple):
    """The compiled loop's per-start outputs (a pytree; :class:`BatchResult` holds them as NumPy)."""

    x: Any
    f: Any
    g: Any
    n_iter: Any
    n_eval: Any
    status: Any


@dataclass(frozen=True)
class BatchResult(Result):
    """Per start: final point ``x`` (S × P), objective ``f``, gradient ``g`` (S × P), accepted steps
    ``n_iter``, objective + gradient evaluations ``n_eval`` (the start included) and ``status`` (a key
    of :data:`STATUS`).

    Rows: one per start: ``start``, ``f``, ``n_iter``, ``n_eval``, ``status``, ``converged``,
    ``x_0`` … ``x_{P−1}``.
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    n_iter: np.ndarray
    n_eval: np.ndarray
    status: np.ndarray

    def rows(self) -> list[dict[str, Any]]:
        """One dict per start (columns in the class docstring), plain Python values."""
        conv = np.isin(self.status, CONVERGED)
        return [
            {
                "start": i,
                "f": float(self.f[i]),
                "n_iter": int(self.n_iter[i]),
                "n_eval": int(self.n_eval[i]),
                "status": int(self.status[i]),
                "converged": bool(conv[i]),
                **{f"x_{j}": float(v) for j, v in enumerate(self.x[i])},
            }
            for i in range(self.f.shape[0])
        ]


class _Slots(NamedTuple):
    idx: Any  # W: start held by each slot (S when empty)
    x: Any  # W × P current iterate
    f: Any
    g: Any
    d: Any  # search direction
    slope: Any  # gᵀd < 0
    t: Any  # step to try next
    ok_x: Any  # trial that passed Armijo but was still steep (fallback)
    ok_f: Any
    ok_g: Any
    has_ok: Any
    n_expand: Any
    backtracks: Any
    s_mem: Any  # M × W × P, newest first
    y_mem: Any
    rho: Any  # M × W
    n_iter: Any
    n_eval: Any
    status: Any
    aux: Any  # the slot's row of the per-start data


class _Loop(NamedTuple):
    slots: _Slots
    out: Any  # S × (2P + 4): x, f, g, n_iter, n_eval, status of every finished start
    next_start: Any
    step: Any


def _direction(g, s_mem, y_mem, rho):
    """L-BFGS two-loop recursion d = −H g for every slot (zero memory entries are no-ops)."""

    def first(q, mem):
        s, y, r = mem
        a = r * jnp.sum(s * q, axis=-1)
        return q - a[:, None] * y, a

    q, alphas = jax.lax.scan(first, g, (s_mem, y_mem, rho))  # newest → oldest
    sy = jnp.sum(s_mem[0] * y_mem[0], axis=-1)
    yy = jnp.sum(y_mem[0] * y_mem[0], axis=-1)
    has_mem = rho[0] > 0
    gamma = jnp.where(has_mem, sy / jnp.where(has_mem, yy, 1.0), 1.0)

    def second(r, mem):
        s, y, rh, a = mem
        b = rh * jnp.sum(y * r, axis=-1)
        return r + (a - b)[:, None] * s, None

    r, _ = jax.lax.scan(second, gamma[:, None] * q, (s_mem, y_mem, rho, alphas), reverse=True)
    return -r, has_mem


def _steepest(g):
    """Steepest descent of length min(‖g‖, 1): a first step moves the parameters by at most 1."""
    norm = jnp.sqrt(jnp.sum(g * g, axis=-1, keepdims=True))
    return -g / jnp.maximum(norm, 1e-300) * jnp.minimum(norm, 1.0)


def _sel(mask, a, b):
    """Per-slot select: ``mask`` has shape W; ``a``, ``b`` have W as their leading axis."""
    return jnp.where(mask.reshape(mask.shape + (1,) * (jnp.ndim(a) - 1)), a, b)


def _sel_mem(mask, a, b):
    """Per-slot select on memory arrays (M × W × ...)."""
    return jnp.where(mask.reshape((1,) + mask.shape + (1,) * (jnp.ndim(a) - 2)), a, b)


class _Tolerances(NamedTuple):
    """The numeric options, passed as traced values so that changing them does not recompile."""

    max_evals: Any
    gtol: Any
    ftol: Any
    c1: Any
    c2: Any
    max_expand: Any
    min_step: Any
    max_backtracks: Any

    @classmethod
    def of(cls, o: LBFGSOptions) -> _Tolerances:
        ints = ("max_evals", "max_expand", "max_backtracks")
        return cls(**{k: jnp.asarray(getattr(o, k), jnp.int32 if k in ints else jnp.float64) for k in cls._fields})


@functools.partial(jax.jit, static_argnames=("fun", "memory", "n_slots", "mesh"))
def _run(
    x0, shared, batched, options: _Tolerances, *, fun: Callable, memory: int, n_slots: int, mesh: Mesh | None
) -> _Out:
    """The slot loop over all starts (``mesh=None``), or over each device's contiguous block of starts
    (``shard_map`` over ``mesh``: every device runs its own loop on its S / D starts with ``n_slots``
    slots, no communication between devices; the results stay sharded)."""
    if mesh is None:
        return _loop(x0, shared, batched, options, fun=fun, memory=memory, n_slots=n_slots)
    local = functools.partial(_loop, fun=fun, memory=memory, n_slots=n_slots)
    batch = PartitionSpec(BATCH_AXIS)
    return jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(batch, PartitionSpec(), batch, PartitionSpec()),
        out_specs=_Out(*([batch] * len(_Out._fields))),
        check_vma=False,
    )(x0, shared, batched, options)


def _loop(x0, shared, batched, options: _Tolerances, *, fun: Callable, memory: int, n_slots: int) -> _Out:
    S, P = x0.shape
    W, M = n_slots, memory
    dtype = x0.dtype
    vg = jax.vmap(jax.value_and_grad(fun), in_axes=(0, None, 0))

    def evaluate(x, aux):
        f, g = vg(x, shared, aux)
        finite = jnp.isfinite(f) & jnp.all(jnp.isfinite(g), axis=-1)
        return jnp.where(finite, f, jnp.inf), jnp.where(finite[:, None], g, 0.0)

    def take(tree, idx):
        safe = jnp.minimum(idx, S - 1)
        return jax.tree_util.tree_map(lambda a: a[safe], tree)

    # Once few slots are busy (the last slow starts), evaluate only those: gather them into a
    # smaller batch (W/4, then W/16), evaluate, scatter back. Idle slots get f = inf, g = 0.
    sizes = [W] + [k for k in (W // 4, W // 16) if W >= 256]

    def evaluate_busy(x, aux, busy):
        def at_size(k):
            def run(_):
                if k == W:
                    return evaluate(x, aux)
                idx = jnp.nonzero(busy, size=k, fill_value=0)[0]
                f_k, g_k = evaluate(x[idx], jax.tree_util.tree_map(lambda a: a[idx], aux))
                return jnp.full(W, jnp.inf, dtype).at[idx].set(f_k), jnp.zeros((W, P), dtype).at[idx].set(g_k)

            return run

        if len(sizes) == 1:
            return evaluate(x, aux)
        n_busy = jnp.sum(busy.astype(jnp.int32))
        branch = sum((n_busy <= k).astype(jnp.int32) for k in sizes[1:])
        return jax.lax.switch(branch, [at_size(k) for k in sizes], None)

    first = jnp.arange(W, dtype=jnp.int32)
    zeros_w = jnp.zeros(W, dtype)
    zeros_wp = jnp.zeros((W, P), dtype)
    zeros_mem = jnp.zeros((M, W, P), dtype)
    int_w = jnp.zeros(W, jnp.int32)
    slots = _Slots(
        idx=first,
        x=x0[:W],
        f=zeros_w,
        g=zeros_wp,
        d=zeros_wp,
        slope=zeros_w,
        t=zeros_w,
        ok_x=zeros_wp,
        ok_f=zeros_w,
        ok_g=zeros_wp,
        has_ok=jnp.zeros(W, bool),
        n_expand=int_w,
        backtracks=int_w,
        s_mem=zeros_mem,
        y_mem=zeros_mem,
        rho=jnp.zeros((M, W), dtype),
        n_iter=int_w,
        n_eval=int_w,
        status=jnp.full(W, INIT, jnp.int32),
        aux=take(batched, first),
    )
    refills = S > W  # static: with a slot per start there is nothing to refill
    out = jnp.zeros((S if refills else 0, 2 * P + 4), dtype)  # packed per start, see _pack
    out = out.at[:, P].set(jnp.inf).at[:, 2 * P + 3].set(MAXITER)

    def _pack(sl: _Slots):
        status = jnp.where(sl.status <= RUNNING, MAXITER, sl.status)  # still running at the step limit
        return jnp.concatenate(
            [
                sl.x,
                sl.f[:, None],
                sl.g,
                sl.n_iter[:, None].astype(dtype),
                sl.n_eval[:, None].astype(dtype),
                status[:, None].astype(dtype),
            ],
            axis=1,
        )

    state = _Loop(slots, out, jnp.asarray(W, jnp.int32), jnp.zeros((), jnp.int32))
    max_steps = options.max_evals * (-(-S // W) + 1)

    def cond(lp: _Loop):
        busy = (lp.slots.status == INIT) | (lp.slots.status == RUNNING)
        return jnp.any(busy) & (lp.step < max_steps)

    def body(lp: _Loop) -> _Loop:
        st = lp.slots
        init = st.status == INIT
        active = st.status == RUNNING
        # one evaluation per slot: the start itself (INIT, t = 0) or the running start's trial
        x_t = st.x + jnp.where(active, st.t, 0.0)[:, None] * st.d
        f_t, g_t = evaluate_busy(x_t, st.aux, init | active)
        # ---------------------------------------------------------------- running: line search
        armijo = f_t <= st.f + options.c1 * st.t * st.slope  # False when f_t is inf
        steep = jnp.sum(g_t * st.d, axis=-1) < options.c2 * st.slope
        take_ok = st.has_ok & (~armijo | (f_t > st.ok_f))
        expand = active & armijo & steep & ~take_ok & (st.n_expand < options.max_expand)
        take_trial = armijo & ~expand & ~take_ok
        accept = active & (take_trial | take_ok)
        x_new = _sel(take_trial, x_t, st.ok_x)
        f_new = jnp.where(take_trial, f_t, st.ok_f)
        g_new = _sel(take_trial, g_t, st.ok_g)
        s = x_new - st.x
        y = g_new - st.g
        sy = jnp.sum(s * y, axis=-1)
        yy = jnp.sum(y * y, axis=-1)
        good = accept & (sy > 1e-10 * yy) & (yy > 0)
        s_mem = _sel_mem(good, jnp.concatenate([s[None], st.s_mem[:-1]]), st.s_mem)
        y_mem = _sel_mem(good, jnp.concatenate([y[None], st.y_mem[:-1]]), st.y_mem)
        rho = _sel_mem(good, jnp.concatenate([(1.0 / jnp.where(good, sy, 1.0))[None], st.rho[:-1]]), st.rho)
        # an INIT slot takes its start's value and gradient as the current point
        x = _sel(accept, x_new, st.x)
        f = jnp.where(accept, f_new, jnp.where(init, f_t, st.f))
        g = _sel(accept, g_new, _sel(init, g_t, st.g))
        d_lbfgs, has_mem = _direction(g, s_mem, y_mem, rho)
        descent = jnp.sum(g * d_lbfgs, axis=-1) < 0
        forget = (accept & ~descent) | init  # not a descent direction: drop the memory
        s_mem = _sel_mem(forget, 0.0 * s_mem, s_mem)
        y_mem = _sel_mem(forget, 0.0 * y_mem, y_mem)
        rho = _sel_mem(forget, 0.0 * rho, rho)
        d_fresh = _sel(has_mem & ~forget, d_lbfgs, _steepest(g))
        denom = 2.0 * (f_t - st.f - st.t * st.slope)
        t_q = jnp.where(
            jnp.isfinite(f_t) & (denom > 0), -st.slope * st.t**2 / jnp.where(denom > 0, denom, 1.0), 0.1 * st.t
        )
        t_shrunk = jnp.clip(t_q, 0.1 * st.t, 0.5 * st.t)
        shrink = active & ~accept & ~expand
        fresh = accept | init
        d = _sel(fresh, d_fresh, st.d)
        slope = jnp.where(fresh, jnp.sum(g * d_fresh, axis=-1), st.slope)
        t = jnp.where(fresh, 1.0, jnp.where(expand, 4.0 * st.t, jnp.where(shrink, t_shrunk, st.t)))
        has_ok = (st.has_ok | expand) & ~fresh
        n_eval = st.n_eval + (active | init).astype(jnp.int32)
        backtracks = jnp.where(fresh, 0, st.backtracks + shrink.astype(jnp.int32))
        # ---------------------------------------------------------------- stopping rules
        pg = jnp.max(jnp.abs(g), axis=-1)
        scale = jnp.maximum(jnp.maximum(jnp.abs(st.f), jnp.abs(f)), 1.0)
        status = jnp.where(init, jnp.where(jnp.isfinite(f), RUNNING, NONFINITE), st.status)
        status = jnp.where(accept & (st.f - f <= options.ftol * scale), FTOL, status)
        status = jnp.where((accept | init) & jnp.isfinite(f) & (pg <= options.gtol), GTOL, status)
        too_small = t_shrunk * jnp.max(jnp.abs(st.d), axis=-1) < options.min_step
        status = jnp.where(shrink & (too_small | (backtracks >= options.max_backtracks)), LINESEARCH, status)
        status = jnp.where((status == RUNNING) & (n_eval >= options.max_evals), MAXITER, status)
        slots = st._replace(
            x=x,
            f=f,
            g=g,
            d=d,
            slope=slope,
            t=t,
            ok_x=_sel(expand, x_t, st.ok_x),
            ok_f=jnp.where(expand, f_t, st.ok_f),
            ok_g=_sel(expand, g_t, st.ok_g),
            has_ok=has_ok,
            n_expand=jnp.where(fresh, 0, st.n_expand + expand.astype(jnp.int32)),
            backtracks=backtracks,
            s_mem=s_mem,
            y_mem=y_mem,
            rho=rho,
            n_iter=st.n_iter + accept.astype(jnp.int32),
            n_eval=n_eval,
            status=status.astype(jnp.int32),
        )
        if not refills:  # every start has its own slot: the slots are the result
            return _Loop(slots, lp.out, lp.next_start, lp.step + 1)
        # ---------------------------------------------------------------- finished: write out, refill
        done = (slots.status > RUNNING) & (st.status <= RUNNING) & (st.status >= INIT)
        where_out = jnp.where(done, slots.idx, S)  # S is out of range: dropped
        out = lp.out.at[where_out].set(_pack(slots), mode="drop")
        free = slots.status > RUNNING
        new_idx = (lp.next_start + jnp.cumsum(free.astype(jnp.int32)) - 1).astype(jnp.int32)
        refill = free & (new_idx < S)
        n_new = jnp.sum(refill.astype(jnp.int32))
        idx = jnp.where(refill, new_idx, jnp.where(free, S, slots.idx)).astype(slots.idx.dtype)
        fresh_start = take(x0, new_idx)
        slots = slots._replace(
            idx=idx,
            x=_sel(refill, fresh_start, slots.x),
            status=jnp.where(refill, INIT, jnp.where(free, EMPTY, slots.status)).astype(jnp.int32),
            n_iter=jnp.where(refill, 0, slots.n_iter),
            n_eval=jnp.where(refill, 0, slots.n_eval),
            aux=jax.tree_util.tree_map(lambda new, old: _sel(refill, new, old), take(batched, new_idx), slots.aux),
        )
        return _Loop(slots, out, (lp.next_start + n_new).astype(jnp.int32), lp.step + 1)

    final = jax.lax.while_loop(cond, body, state)
    out = final.out if refills else _pack(final.slots)
    return _Out(
        out[:, :P],
        out[:, P],
        out[:, P + 1 : 2 * P + 1],
        out[:, 2 * P + 1].astype(jnp.int32),
        out[:, 2 * P + 2].astype(jnp.int32),
        out[:, 2 * P + 3].astype(jnp.int32),
    )


def default_slots() -> int:
    """Slots per device: 512 on CPU, 8192 on accelerators."""
    return 512 if jax.default_backend() == "cpu" else 8192


@x64
def minimize_batched(
    fun: Callable[[Any, Any, Any], Any],
    x0: Any,
    shared: Any = None,
    batched: Any = None,
    *,
    options: LBFGSOptions = LBFGSOptions(),
) -> BatchResult:
    """Minimise ``fun(x_P, shared, batched_s)`` from every row of ``x0`` (S × P) in one compiled call.

    ``shared`` is a pytree of arrays common to all starts (the data); ``batched`` a pytree whose
    leaves have a leading axis of size S (one value per start, e.g. each bootstrap replicate's row
    weights). Runs in float64. ``fun`` must be hashable and stable across calls (a module-level
    function or a cached one) so that the compiled loop is reused. Returns NumPy arrays.

    On D > 1 devices (``numerics.global_mesh``: every device of every process of a
    ``jax.distributed`` run) the starts, padded to a multiple of D with copies of the last, are split
    into D contiguous blocks; each device runs the slot loop on its own block and each process
    supplies only its devices' blocks. The results are gathered to every process
    (``numerics.to_host``). Every start's iterations are the same as on one device.
    """
    x0 = np.asarray(x0, np.float64)
    if x0.ndim != 2 or x0.shape[0] == 0:
        raise ValueError(f"x0 must be S x P with S >= 1, got shape {x0.shape}")
    S = x0.shape[0]
    shared = jax.tree_util.tree_map(_as_float64, shared)
    batched = jax.tree_util.tree_map(_as_float64, batched)
    tol = _Tolerances.of(options)
    slots = options.slots or default_slots()
    n_dev = jax.device_count()
    if n_dev == 1:
        out = _run(x0, shared, batched, tol, fun=fun, memory=options.memory, n_slots=min(S, slots), mesh=None)
        return BatchResult(*(np.asarray(v) for v in out))
    pad = pad_to_multiple(S, n_dev) - S  # fewer starts than a multiple of D: pad with copies of the last
    x0, batched = jax.tree_util.tree_map(lambda a: np.concatenate([a, np.repeat(a[-1:], pad, axis=0)]), (x0, batched))
    mesh = global_mesh()
    x0, batched = shard_batch((x0, batched), mesh)
    shared, tol = _replicate((shared, tol), mesh)
    per_device = x0.shape[0] // n_dev
    out = _run(x0, shared, batched, tol, fun=fun, memory=options.memory, n_slots=min(per_device, slots), mesh=mesh)
    return BatchResult(*(np.asarray(v)[:S] for v in to_host(out)))


def _replicate(tree: Any, mesh: Mesh) -> Any:
    """Every leaf of ``tree`` as a global array replicated on every device of ``mesh`` (each process
    supplies its own devices' copies)."""
    sharding = NamedSharding(mesh, PartitionSpec())

    def place(a: Any) -> jax.Array:
        host = np.asarray(a)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree_util.tree_map(place, tree)


def _as_float64(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a
