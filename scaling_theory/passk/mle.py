"""Batched Beta-binomial maximum likelihood (SABER Eq. 9–10, spec §2.2), optionally zero-inflated.

:func:`fit` maximises ``Σ_i log P(k_i | n_i, α, β[, π])`` for every group of a batch at once: the
counts are padded/masked arrays ``(..., K)`` and one compiled call fits thousands of groups or
bootstrap replicates (:func:`bootstrap`). Per group:

* parameters ``u = (log α, log β[, logit π])`` kept inside a box (``BOUNDS``);
* damped Newton (Levenberg–Marquardt) on the mean negative log-likelihood with its closed-form gradient
  and Hessian (spec §2.2; checked against finite differences), in two passes: every group from the
  method-of-moments start (beta-binomial overdispersion) for at most 20 steps, then the groups that did
  not converge or hit the box again from every start (that one and SABER's (0.5, 2.0)) with the full
  budget, keeping the highest likelihood (a vmapped while-loop runs as long as its slowest lane, so the
  stragglers get their own call). The zero-inflated model runs all four starts (α, β × two π) at once.
  Robust for α ≪ 1 with β ≫ 1 (Pythia 70M: α ≈ 0.065, β ≈ 101);
* standard errors from the observed information (the inverse Hessian of the total negative
  log-likelihood), in the natural parameters (``se_alpha``...) and as a covariance of ``u``
  (``cov_u``, used by the delta-method intervals of the predictors).

The zero-inflated variant (spec §2.1 extension, Verine et al.) puts a mass π at θ = 0:
``P(k) = π·1(k=0) + (1−π)·BB(k | n, α, β)``.

Degenerate data (no successes at all, every attempt a success, or no overdispersion) have no interior
optimum; the fit then stops at the box or far out on the binomial ridge (α + β > 1e5); ``at_bound``
is True and the estimates are finite but meaningless (anchored extrapolation then predicts ≈ 1).
The leading (batch) axis is sharded over all devices (``numerics.shard_batch``).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory import beta as _beta
from scaling_theory import special
from scaling_theory.beta import log_binom
from scaling_theory.compilation_cache import persistent_jit
from scaling_theory.errors import InputError
from scaling_theory.numerics import (
    check,
    global_mesh,
    pad_to_multiple,
    shard_batch,
    small_adjugate,
    small_is_positive_definite,
    small_solve,
    to_host,
    x64,
)
from scaling_theory.results import Result

# Box for u = (log α, log β, logit π).
BOUNDS_LO = np.array([np.log(1e-6), np.log(1e-6), -30.0])
BOUNDS_HI = np.array([np.log(1e6), np.log(1e8), 30.0])
SABER_INIT = (0.5, 2.0)


@dataclass(frozen=True)
class BetaBinomialFit(Result):
    """MLE of a (zero-inflated) Beta-binomial per group; every field has the batch shape of the input.

    ``loglik`` is the full log-likelihood ``Σ log P(k_i | n_i)`` including the binomial coefficients
    (``= Σ scipy.stats.betabinom.logpmf``). ``cov_u`` (batch + (P, P)) is the covariance of
    ``u = (log α, log β[, logit π])`` from the observed information; SEs are inf where the observed
    information is not positive definite. ``pi`` is 0 (and ``se_pi`` 0) for the plain model.
    Rows: one per group (C order over the batch axes), every field but ``cov_u``.
    """

    _row_fields = (
        "alpha",
        "beta",
        "pi",
        "se_alpha",
        "se_beta",
        "se_pi",
        "loglik",
        "n_problems",
        "iterations",
        "converged",
        "at_bound",
    )

    alpha: np.ndarray
    beta: np.ndarray
    pi: np.ndarray
    se_alpha: np.ndarray
    se_beta: np.ndarray
    se_pi: np.ndarray
    cov_u: np.ndarray
    loglik: np.ndarray
    n_problems: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    at_bound: np.ndarray

    def rows(self) -> list[dict]:
        """One dict per group: ``group`` (flat position over the batch axes, absent for an unbatched fit), then
        the row fields.

        Returns:
          A list of dicts of plain Python values.
        """
        rows = super().rows()
        return rows if np.ndim(self.alpha) == 0 else [{"group": i, **r} for i, r in enumerate(rows)]

    @property
    def zero_inflated(self) -> bool:
        """True for the zero-inflated model (three parameters)."""
        return self.cov_u.shape[-1] == 3

    def map(self, fn) -> BetaBinomialFit:
        """A fit with ``fn`` applied to every field (e.g. indexing or reshaping the batch axes).

        Args:
          fn: maps one NumPy array to another.
        Returns:
          A new :class:`BetaBinomialFit`.
        """
        return BetaBinomialFit(**{f.name: fn(np.asarray(getattr(self, f.name))) for f in dataclasses.fields(self)})


# --------------------------------------------------------------------------------- objective


def _params(u, zero_inflated: bool):
    alpha, beta = jnp.exp(u[0]), jnp.exp(u[1])
    pi = jax.nn.sigmoid(u[2]) if zero_inflated else 0.0
    return alpha, beta, pi


def _total_nll(u, n, k, m, zero_inflated: bool):
    """``−Σ_i m_i log P(k_i | n_i, u)`` for one group (problem axis only); autodiff-friendly reference."""
    alpha, beta, pi = _params(u, zero_inflated)
    lp = _beta.logpmf_zero_inflated(k, n, alpha, beta, pi) if zero_inflated else _beta.logpmf(k, n, alpha, beta)
    return -jnp.sum(jnp.where(m > 0, lp, 0.0))


def _nll_grad_hess(u, n, k, m, lbinom, zero_inflated: bool):
    """Total NLL, its gradient and Hessian in ``u`` for one group, in closed form (spec §2.2 digamma /
    trigamma expressions of :func:`scaling_theory.beta.pointwise_derivatives`, chain rule to log / logit
    parameters). Cheap to compile; pinned to autodiff of :func:`_total_nll` in the tests."""
    alpha, beta, pi = _params(u, zero_inflated)
    # Per-problem Beta-binomial value, gradient and Hessian in (α, β), one fused special-function evaluation.
    p = _beta.pointwise_derivatives(n, k, alpha, beta, lbinom)
    bb, ga, gb, haa, hab, hbb = p.value, p.d_alpha, p.d_beta, p.d_alpha2, p.d_alpha_beta, p.d_beta2
    live = m > 0
    if not zero_inflated:
        ll_i, g_i = bb, jnp.stack([ga, gb], -1)
        h_i = jnp.stack([jnp.stack([haa, hab], -1), jnp.stack([hab, hbb], -1)], -2)
    else:
        zero = k == 0
        s = jnp.log1p(-pi) + bb  # slab (log C(n, 0) = 0 when k = 0)
        t = jnp.log(pi)
        ll_zero = jnp.logaddexp(t, s)
        ll_i = jnp.where(zero, ll_zero, s)
        w = jnp.where(zero, jnp.exp(s - ll_zero), 1.0)  # posterior probability of the slab
        g_eta = jnp.where(zero, 1.0 - w - pi, -pi)
        g_i = jnp.stack([w * ga, w * gb, g_eta], -1)
        v = 1.0 - w  # spike weight; (∇s − ∇t) = (ga, gb, −π − (1−π)) = (ga, gb, −1)
        c = w * v
        d_eta = -pi * (1.0 - pi)
        row0 = jnp.stack([w * haa + c * ga * ga, w * hab + c * ga * gb, -c * ga], -1)
        row1 = jnp.stack([w * hab + c * ga * gb, w * hbb + c * gb * gb, -c * gb], -1)
        row2 = jnp.stack([-c * ga, -c * gb, d_eta + c], -1)
        h_i = jnp.stack([row0, row1, row2], -2)
    ll = jnp.sum(jnp.where(live, ll_i, 0.0))
    g = jnp.sum(jnp.where(live[:, None], g_i, 0.0), axis=0)
    h = jnp.sum(jnp.where(live[:, None, None], h_i, 0.0), axis=0)
    # Chain rule (α, β) → (log α, log β): g_u = θ g, H_u = diag(θ) H diag(θ) + diag(θ g).
    scale = jnp.concatenate([jnp.array([alpha, beta]), jnp.ones(u.shape[0] - 2)])
    g_u = g * scale
    h_u = h * scale[:, None] * scale[None, :] + jnp.diag(jnp.concatenate([g_u[:2], jnp.zeros(u.shape[0] - 2)]))
    return -ll, -g_u, -h_u


def _starts(n, k, m, zero_inflated: bool):
    la, lb = _beta.log_moment_estimate(n, k, m)
    plain = jnp.array([[la, lb], [np.log(SABER_INIT[0]), np.log(SABER_INIT[1])]])
    if not zero_inflated:
        return plain
    frac0 = jnp.sum(m * (k == 0)) / jnp.maximum(jnp.sum(m), 1.0)
    pis = jnp.array([0.01, 0.0]) + jnp.array([0.0, 0.5]) * frac0
    logit = jnp.log(jnp.clip(pis, 1e-3, 0.9)) - jnp.log1p(-jnp.clip(pis, 1e-3, 0.9))
    u = jnp.concatenate([jnp.repeat(plain, 2, axis=0), jnp.tile(logit, 2)[:, None]], axis=1)
    return u


# ----------------------------------------------------------------------------------- Newton


def _newton(u0, n, k, m, lbinom, zero_inflated: bool, max_iter: int, gtol: float):
    """Projected Levenberg–Marquardt Newton on the mean NLL of one group from one start.

    Each iteration evaluates the closed-form (value, gradient, Hessian) once, at a candidate point;
    the candidate is accepted when it lowers the NLL. The first candidate is the start itself.
    Returns the best ``u`` with the total NLL, gradient and Hessian there (so the observed information
    needs no further evaluation), the number of iterations and a convergence flag.
    """
    p = u0.shape[0]
    lo = jnp.asarray(BOUNDS_LO[:p])
    hi = jnp.asarray(BOUNDS_HI[:p])
    count = jnp.maximum(jnp.sum(m), 1.0)
    eye = jnp.eye(p)
    # Rounding noise of the NLL: its terms are log-gammas of size ~ log Γ(n+1) that cancel to O(1).
    magnitude = jnp.sum(m * (jnp.abs(lbinom) + special.lgamma(n + 1.0))) / count

    def projected(u, g):
        out = ((u <= lo) & (g > 0)) | ((u >= hi) & (g < 0))
        return jnp.where(out, 0.0, g)

    u0 = jnp.clip(u0, lo, hi)
    zeros = jnp.zeros(p)
    # state: best (u, f, g, h), candidate, damping, iteration, done
    state = (u0, jnp.asarray(jnp.inf), zeros, eye, u0, jnp.asarray(1e-3), jnp.asarray(0), jnp.asarray(False))

    def cond(s):
        return (~s[7]) & (s[6] < max_iter)

    def body(s):
        u, fu, g, h, cand, lam, it, _ = s
        f_c, g_c, h_c = _nll_grad_hess(cand, n, k, m, lbinom, zero_inflated)
        f_c, g_c, h_c = f_c / count, g_c / count, h_c / count
        finite = jnp.isfinite(f_c) & jnp.all(jnp.isfinite(g_c)) & jnp.all(jnp.isfinite(h_c))
        # Accept a lower NLL, or — within the rounding noise of the NLL (~1e-14 relative) — a smaller
        # gradient, so that Newton keeps converging on the gradient near the optimum.
        noise = 1e-12 * (1.0 + jnp.abs(jnp.where(jnp.isfinite(fu), fu, 0.0))) + 1e-14 * magnitude
        smaller_grad = jnp.max(jnp.abs(g_c)) < jnp.max(jnp.abs(g))
        ok = finite & ((f_c <= fu) | ((f_c <= fu + noise) & smaller_grad))
        step = jnp.max(jnp.abs(cand - u))
        u = jnp.where(ok, cand, u)
        fu = jnp.where(ok, f_c, fu)
        g = jnp.where(ok, g_c, g)
        h = jnp.where(ok, h_c, h)
        lam = jnp.where(ok, jnp.maximum(lam * 0.25, 1e-12), lam * 8.0)
        done = (jnp.max(jnp.abs(projected(u, g))) < gtol) & jnp.isfinite(fu)
        done = done | (lam > 1e10) | (ok & (it > 0) & (step < 1e-13) & (lam < 1e-6))  # an undamped step ~0
        # Next candidate: damped Newton step from the best point (steepest descent if not a descent direction).
        a = h + lam * (jnp.abs(jnp.diag(h)).mean() + 1.0) * eye
        d = -small_solve(a, g)
        bad = ~jnp.all(jnp.isfinite(d)) | (jnp.dot(d, g) >= 0)
        d = jnp.where(bad, -g / (lam + 1.0), d)
        d = jnp.clip(d, -2.0, 2.0)  # trust region in log space
        cand = jnp.clip(u + d, lo, hi)
        return (u, fu, g, h, cand, lam, it + 1, done)

    u, fu, g, h, _, _, it, _ = jax.lax.while_loop(cond, body, state)
    conv = jnp.max(jnp.abs(projected(u, g))) < 1e-8  # mean-NLL gradient (gtol is the target, 1e-8 "good enough")
    return u, fu * count, g * count, h * count, it, conv


def _finalize(u, nll, h, n, k, m, zero_inflated: bool):
    """Estimates, observed-information covariance and flags of one group at its optimum ``u``."""
    p = u.shape[0]
    pd = jnp.all(jnp.isfinite(h)) & small_is_positive_definite(jnp.where(jnp.isfinite(h), h, 0.0))
    det, adj = small_adjugate(jnp.where(pd, h, jnp.eye(p)))
    cov_u = jnp.where(pd, adj / det, jnp.where(jnp.eye(p) > 0, jnp.inf, 0.0))
    alpha, beta, pi = _params(u, zero_inflated)
    jac = jnp.stack([alpha, beta] + ([pi * (1.0 - pi)] if zero_inflated else []))
    se = jnp.where(pd, jnp.sqrt(jnp.maximum(jnp.diag(cov_u) * jac**2, 0.0)), jnp.inf)
    lo = jnp.asarray(BOUNDS_LO[:p])
    hi = jnp.asarray(BOUNDS_HI[:p])
    return dict(
        alpha=alpha,
        beta=beta,
        pi=jnp.asarray(pi, jnp.float64),
        se_alpha=se[0],
        se_beta=se[1],
        se_pi=se[2] if zero_inflated else jnp.asarray(0.0),
        cov_u=cov_u,
        loglik=-nll,
        n_problems=jnp.sum(m),
        # No interior optimum: at the box, no success / no failure at all, or running off along the
        # binomial ridge (α, β → ∞ at fixed α/(α+β): no overdispersion).
        at_bound=jnp.any((u <= lo + 1e-6) | (u >= hi - 1e-6))
        | (alpha + beta > 1e5)
        | (jnp.sum(m * k) == 0)
        | (jnp.sum(m * (n - k)) == 0),
    )


def _fit_core(n, k, m, start, max_iter, zero_inflated: bool, gtol: float):
    """Fit a batch of groups ``(B, K)`` from start number ``start`` (B,) of :func:`_starts`, ≤ ``max_iter`` steps."""
    lbinom = log_binom(n, k)
    starts = jax.vmap(lambda a, c, d: _starts(a, c, d, zero_inflated))(n, k, m)  # (B, S, P)
    u0 = jnp.take_along_axis(starts, start[:, None, None], axis=1)[:, 0]
    newton = jax.vmap(lambda u, a, c, d, e: _newton(u, a, c, d, e, zero_inflated, max_iter, gtol))
    us, fs, _, hs, its, convs = newton(u0, n, k, m, lbinom)
    out = jax.vmap(lambda a, c, d, e, f, g: _finalize(a, c, d, e, f, g, zero_inflated))(us, fs, hs, n, k, m)
    out["iterations"] = its
    out["converged"] = convs
    return out


_fit_batch = persistent_jit(_fit_core, static_argnames=("zero_inflated", "gtol"))
N_STARTS = {False: 2, True: 4}
FIRST_PASS_ITERATIONS = 20


# ------------------------------------------------------------------------------------- public


def _prepare(n, k, mask):
    k = np.asarray(k, dtype=np.float64)
    try:
        n = np.broadcast_to(np.asarray(n, dtype=np.float64), k.shape)
    except ValueError:
        raise InputError(f"n (shape {np.shape(n)}) does not broadcast to the shape of c {k.shape}") from None
    check(
        k.ndim >= 1 and k.shape[-1] >= 1, f"c must have a problem axis with at least one problem, got shape {k.shape}"
    )
    m = np.ones(k.shape) if mask is None else np.broadcast_to(np.asarray(mask, dtype=np.float64), k.shape)
    check(np.all((m == 0) | (m == 1)), "mask must contain only 0/1 (or booleans)")
    live = m > 0
    check(np.all(np.isfinite(n[live])) and np.all(np.isfinite(k[live])), "n and c must be finite")
    check(np.all(n[live] >= 1), f"n must be ≥ 1, got n={_first(n, live & ~(n >= 1))}")
    check(np.all(n[live] == np.round(n[live])), f"n must be an integer, got n={_first(n, live & (n != np.round(n)))}")
    check(np.all(k[live] >= 0), f"c must be ≥ 0, got c={_first(k, live & ~(k >= 0))}")
    check(np.all(k[live] == np.round(k[live])), f"c must be an integer, got c={_first(k, live & (k != np.round(k)))}")
    check(np.all(k[live] <= n[live]), f"c must be ≤ n, got c={_first(k, live & (k > n))}")
    check(np.all(m.sum(axis=-1) >= 1), "every group needs at least one problem (mask is all zero somewhere)")
    n = np.where(live, n, 1.0)
    k = np.where(live, k, 0.0)
    return n, k, m


def _first(x, bad) -> str:
    idx = np.flatnonzero(np.broadcast_to(bad, np.shape(x)))
    return f"{np.ravel(x)[idx[0]]:g}" if idx.size else "?"


def bucket(size: int, minimum: int = 32) -> int:
    """Padded problem count: a multiple of 32 up to 256, then 256·{1.5, 2, 3, 4, 6, …}, so that calls of
    similar sizes share one compiled kernel while padding wastes ≤ 25% (≤ 50% beyond 256)."""
    if size <= 256:
        return max(minimum, pad_to_multiple(size, 32))
    b = 256
    while b < size:
        b = b * 3 // 2 if (b & (b - 1)) == 0 else b * 4 // 3
    return b


def _pad_problems(n, k, m):
    kk = n.shape[-1]
    target = bucket(kk)
    if target == kk:
        return n, k, m
    pad = [(0, 0)] * (n.ndim - 1) + [(0, target - kk)]
    return np.pad(n, pad, constant_values=1.0), np.pad(k, pad), np.pad(m, pad)


def _batch_size(b: int, problems: int) -> int:
    """Padded batch: a power of two, at least 16 while 16 groups are cheap (≤ 16k padded problems in all), so
    that calls of similar sizes share one compiled kernel; divisible by the device count."""
    size = max(1, min(16, 16384 // max(problems, 1)))
    while size < b:
        size *= 2
    return pad_to_multiple(size, jax.device_count())


@x64
def fit(n, c, mask=None, *, zero_inflated: bool = False, max_iter: int = 100, gtol: float = 1e-10) -> BetaBinomialFit:
    """Beta-binomial MLE of (α, β) [and π] for every group of ``k`` (shape ``(..., K)``; ``n`` broadcasts).

    ``mask`` (0/1, same shape) marks real problems in padded arrays. The whole batch is fitted by one
    compiled call (plus one for the few groups that need a second pass). Returns a
    :class:`BetaBinomialFit` of numpy arrays with the batch shape ``k.shape[:-1]``.
    """
    n, c, mask = _prepare(n, c, mask)
    batch_shape = c.shape[:-1]
    kk = c.shape[-1]
    n2, k2, m2 = (a.reshape(-1, kk) for a in (n, c, mask))
    n2, k2, m2 = _pad_problems(n2, k2, m2)
    b = n2.shape[0]
    run = functools.partial(_run_rows, n2, k2, m2, zero_inflated=zero_inflated, gtol=float(gtol))
    rows = np.arange(b)
    if zero_inflated:  # mixtures can have several optima: every start for every group
        first = [run(rows, st, int(max_iter)) for st in range(N_STARTS[True])]
        out = _best(first)
    else:
        # Pass 1: the method-of-moments start, few iterations (Newton converges in ~5–10 on regular data; a
        # vmapped while-loop runs as long as its slowest lane, so stragglers are re-run separately).
        out = run(rows, 0, FIRST_PASS_ITERATIONS)
        redo = np.flatnonzero(~out["converged"] | out["at_bound"])
        if redo.size:  # pass 2: stragglers and boundary cases from every start, full iteration budget
            second = _best([run(redo, st, int(max_iter)) for st in range(N_STARTS[False])])
            second["iterations"] = second["iterations"] + out["iterations"][redo]
            better = second["loglik"] >= out["loglik"][redo]
            for key in out:
                out[key][redo] = np.where(
                    better.reshape((-1,) + (1,) * (out[key].ndim - 1)), second[key], out[key][redo]
                )
    p = 3 if zero_inflated else 2
    fields = {}
    for key, v in out.items():
        fields[key] = v.reshape(batch_shape + ((p, p) if key == "cov_u" else ()))
    return BetaBinomialFit(**fields)


def _run_rows(n2, k2, m2, rows, start: int, max_iter: int, *, zero_inflated: bool, gtol: float) -> dict:
    """One compiled call on the groups ``rows`` (batch padded to a bucket with copies of the first row)."""
    b = rows.size
    bp = _batch_size(b, n2.shape[1])
    idx = np.concatenate([rows, np.full(bp - b, rows[0], dtype=rows.dtype)])
    # Over the devices of every process (one process: all local devices); results gathered to every host.
    args = shard_batch((n2[idx], k2[idx], m2[idx], np.full(bp, start, dtype=np.int32)), global_mesh())
    out = _fit_batch(*args, np.asarray(max_iter), zero_inflated, gtol)
    return {key: np.array(to_host(v))[:b] for key, v in out.items()}


def _best(results: list[dict]) -> dict:
    """Per group, the result with the highest log-likelihood; iterations summed over the runs."""
    ll = np.stack([r["loglik"] for r in results])
    ll = np.where(np.isfinite(ll), ll, -np.inf)
    pick = np.argmax(ll, axis=0)
    out = {}
    for key in results[0]:
        stacked = np.stack([r[key] for r in results])
        out[key] = np.take_along_axis(stacked, pick.reshape((1, -1) + (1,) * (stacked.ndim - 2)), axis=0)[0]
    out["iterations"] = np.sum([r["iterations"] for r in results], axis=0)
    return out


@x64
def bootstrap(
    key: jax.Array, n, c, replicates: int, *, zero_inflated: bool = False, max_iter: int = 100
) -> BetaBinomialFit:
    """``replicates`` nonparametric bootstrap fits: problems resampled with replacement, one batched call.

    ``n, k`` are one group (shape ``(K,)``); ``key`` a ``jax.random`` key. Fields have shape ``(replicates,)``.
    """
    c = np.asarray(c, dtype=np.float64)
    check(c.ndim == 1, f"bootstrap takes one group of counts (1-D c), got shape {c.shape}")
    check(int(replicates) >= 1, f"replicates must be ≥ 1, got {replicates}")
    n = np.broadcast_to(np.asarray(n, dtype=np.float64), c.shape)
    idx = np.asarray(jax.random.randint(key, (int(replicates), c.size), 0, c.size))
    return fit(n[idx], c[idx], zero_inflated=zero_inflated, max_iter=max_iter)


def take(result: BetaBinomialFit, index) -> BetaBinomialFit:
    """Index every field of a batched fit (e.g. ``take(r, 0)`` for the first group)."""
    return result.map(lambda v: v[index])
