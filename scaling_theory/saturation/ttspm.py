"""TTSPM: saturation of parallel and sequential test-time scaling (arXiv 2505.20522, spec §A).

Both paradigms share the form F(N) = 1 − A₀ (1 − p)^N:

* parallel (Best-of-N / self-consistency, Hit@N): F_par(N) = 1 − (1 − p_sample)^N;
* sequential (absorbing rethinking chain, round 0 correct with probability p₀):
  F_seq(N) = 1 − (1 − p₀)(1 − p_rethink)^N  (p₀ = 0 gives the paper's form);

so the marginal gain ΔF(N) = F(N+1) − F(N) = (1 − p₀) p (1 − p)^N is geometric with ratio 1 − p
and the saturation point N* (the first N whose next unit gains less than ε per unit cost) is one
formula for both [spec §A.2, derived]:

    N* = min{N ≥ 0 : ΔF(N) < ε·C} = ⌊ln(ε C / ((1 − p₀) p)) / ln(1 − p)⌋ + 1   (0 if (1 − p₀) p < ε C).

Convention (documented in docs/saturation.md): ``threshold="lt"`` (default) uses the strict "< ε",
which is the spec's ⌈·⌉ formula except on the measure-zero set where the ratio is an integer (there
ΔF(N*) = ε exactly and the strict rule takes one more unit); ``threshold="le"`` uses "≤ ε", i.e.
exactly ⌈·⌉. N* counts the units worth buying: units 1..N* each gain ≥ ε·C.

The non-absorbing chain (MarkovScale, arXiv 2602.01120; a correct answer can be revised into a
wrong one with probability p_flip) has accuracy π_N = π_∞ + (p₀ − π_∞) λ^N with λ = 1 − a − b,
π_∞ = a/(a + b), a = p_rethink, b = p_flip; its gain π_{N+1} − π_N = ((1 − p₀)a − p₀ b) λ^N is
again geometric (in absolute value), so the same saturation rule applies with amplitude
|(1 − p₀)a − p₀ b| and ratio |λ|. Rethinking improves accuracy (π_N > p₀ for every N ≥ 1) iff
(1 − p₀) a > p₀ b, i.e. p₀ < π_∞.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.numerics import host, x64
from scaling_theory.saturation import _validate as v

ArrayLike = Any


# ------------------------------------------------------------------------------ shared geometric form


def _survival(p: jnp.ndarray, n: jnp.ndarray) -> jnp.ndarray:
    """(1 − p)^N in log space, with (1 − 1)^0 = 1."""
    return jnp.where(n == 0, 1.0, jnp.exp(n * jnp.log1p(-p)))


@x64
def geometric_saturation_point(
    amplitude: ArrayLike, ratio: ArrayLike, eps: ArrayLike, threshold: str = "lt"
) -> np.ndarray:
    """Smallest integer N ≥ 0 with A ρ^N < ε (``"lt"``) or A ρ^N ≤ ε (``"le"``); float64, ``inf`` if never.

    The shared form of every saturation rule here: ΔF(N) = A ρ^N with A ≥ 0, 0 ≤ ρ ≤ 1, so
    N* = ⌊x⌋ + 1 (``lt``) or ⌈x⌉ (``le``) with x = ln(ε/A)/ln ρ, clipped at 0. The candidate from the
    closed form is corrected by one step either way so that ties are decided by the log-space test
    log A + N log ρ vs log ε itself, not by rounding noise in the division.
    """
    strict = v.threshold(threshold) == "lt"
    a = v.nonnegative("amplitude", amplitude)
    r = v.probability("ratio", ratio)
    e = v.positive("eps", eps)
    return host(_geometric_point(*jnp.broadcast_arrays(a, r, e), strict))


@functools.partial(jax.jit, static_argnames="strict")
def _geometric_point(a: jnp.ndarray, r: jnp.ndarray, e: jnp.ndarray, strict: bool) -> jnp.ndarray:
    la, lr, le = jnp.log(a), jnp.log(r), jnp.log(e)

    def below(n: jnp.ndarray) -> jnp.ndarray:  # ΔF(n) below the threshold?
        lg = jnp.where(n == 0, la, la + n * lr)  # n log ρ with 0·(−∞) = 0
        return lg < le if strict else lg <= le

    interior = (r > 0) & (r < 1)
    x = jnp.where(interior, (le - la) / jnp.where(interior, lr, -1.0), 0.0)
    cand = jnp.maximum(jnp.ceil(x), 0.0)
    cand = jnp.where(below(cand), cand, cand + 1.0)  # tie (or rounding) → one more
    cand = jnp.where((cand > 0) & below(cand - 1.0), cand - 1.0, cand)  # rounding the other way
    first = below(jnp.zeros_like(a))
    out = jnp.where(first, 0.0, cand)
    out = jnp.where(~first & (r == 0), 1.0, out)  # all gain in the first unit
    return jnp.where(~first & (r == 1), jnp.inf, out)  # no decay: never saturates


# ------------------------------------------------------------------------------------ TTSPM curves


@x64
def hit_at_n(p: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Parallel Hit@N: F_par(N) = 1 − (1 − p)^N (spec §A.1), computed as −expm1(N log1p(−p))."""
    return host(_hit(v.probability("p", p), v.count("n", n)))


@jax.jit
def _hit(p: jnp.ndarray, n: jnp.ndarray) -> jnp.ndarray:
    return jnp.where(n == 0, 0.0, -jnp.expm1(n * jnp.log1p(-p)))


@x64
def sequential_success(p_rethink: ArrayLike, n: ArrayLike, p0: ArrayLike = 0.0) -> np.ndarray:
    """Absorbing rethinking chain: F_seq(N) = 1 − (1 − p₀)(1 − p_rethink)^N (spec §A.1–A.2)."""
    p = v.probability("p_rethink", p_rethink)
    p0 = v.probability("p0", p0)
    n = v.count("n", n)
    return host(1.0 - _headroom(p, n, p0))


@x64
def marginal_gain(p: ArrayLike, n: ArrayLike, p0: ArrayLike = 0.0) -> np.ndarray:
    """ΔF(N) = F(N+1) − F(N) = (1 − p₀) p (1 − p)^N, for both paradigms (spec §A.2)."""
    p = v.probability("p", p)
    p0 = v.probability("p0", p0)
    n = v.count("n", n)
    return host(_gain(p, n, p0))


@jax.jit
def _gain(p: jnp.ndarray, n: jnp.ndarray, p0: jnp.ndarray) -> jnp.ndarray:
    return (1.0 - p0) * p * _survival(p, n)


@x64
def headroom(p: ArrayLike, n: ArrayLike, p0: ArrayLike = 0.0) -> np.ndarray:
    """1 − F(N) = (1 − p₀)(1 − p)^N; at N = N* it is ≤ ε/p (spec §A.2, p₀ = 0, cost 1)."""
    p = v.probability("p", p)
    p0 = v.probability("p0", p0)
    n = v.count("n", n)
    return host(_headroom(p, n, p0))


@jax.jit
def _headroom(p: jnp.ndarray, n: jnp.ndarray, p0: jnp.ndarray) -> jnp.ndarray:
    return (1.0 - p0) * _survival(p, n)


@x64
def saturation_point(
    p: ArrayLike,
    eps: ArrayLike,
    *,
    cost: ArrayLike = 1.0,
    p0: ArrayLike = 0.0,
    threshold: str = "lt",
) -> np.ndarray:
    """N*(p, ε[, C, p₀]) = min{N ≥ 0 : (1 − p₀) p (1 − p)^N < ε C} (spec §A.2; see module docstring).

    ``p`` is p_sample (parallel) or p_rethink (sequential); ``cost`` C is the cost of one unit of budget
    (the rule is "gain per unit cost below ε"); ``p0`` the round-0 accuracy of the sequential model.
    Returns float64 whole numbers (``inf`` never occurs here: p > 0 decays and p = 0 gives 0).
    """
    p = v.probability("p", p)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    p0 = v.probability("p0", p0)
    return host(geometric_saturation_point((1.0 - p0) * p, 1.0 - p, e * c, threshold))


@x64
def saturation_point_formula(p: ArrayLike, eps: ArrayLike, cost: ArrayLike = 1.0, p0: ArrayLike = 0.0) -> np.ndarray:
    """The spec's printed form N* = ⌈ln(ε C / ((1 − p₀) p)) / ln(1 − p)⌉ for 0 < ε C < (1 − p₀) p < 1 (no tie handling)."""
    p = v.probability("p", p, low_open=True, high_open=True)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    p0 = v.probability("p0", p0, high_open=True)
    return host(jnp.ceil(jnp.log(e * c / ((1.0 - p0) * p)) / jnp.log1p(-p)))


# ------------------------------------------------------------------------- non-absorbing (MarkovScale)


def _signed_power(lam: jnp.ndarray, n: jnp.ndarray) -> jnp.ndarray:
    """λ^N for λ ∈ [−1, 1] and whole N ≥ 0 (log-space magnitude, sign from the parity of N; 0^0 = 1)."""
    sign = jnp.where((lam < 0) & (jnp.mod(n, 2.0) == 1.0), -1.0, 1.0)
    return jnp.where(n == 0, 1.0, sign * jnp.exp(n * jnp.log(jnp.abs(lam))))


def _chain(p0: ArrayLike, p_rethink: ArrayLike, p_flip: ArrayLike) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    return (
        v.probability("p0", p0),
        v.probability("p_rethink", p_rethink),
        v.probability("p_flip", p_flip),
    )


@x64
def markov_accuracy(n: ArrayLike, p0: ArrayLike, p_rethink: ArrayLike, p_flip: ArrayLike) -> np.ndarray:
    """Two-state chain (wrong ⇄ correct) accuracy after N rounds: π_N = π_∞ + (p₀ − π_∞)(1 − a − b)^N.

    a = p_rethink (wrong → correct), b = p_flip (correct → wrong); b = 0 is the absorbing TTSPM chain.
    Computed as p₀ + g (1 − λ^N)/(1 − λ) with g = (1 − p₀)a − p₀ b (the first-round gain), which is also
    valid when a + b = 0 (no transitions: π_N = p₀).
    """
    p0, a, b = _chain(p0, p_rethink, p_flip)
    return host(_markov_acc(v.count("n", n), p0, a, b))


@jax.jit
def _markov_acc(n: jnp.ndarray, p0: jnp.ndarray, a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    lam = 1.0 - a - b
    g = (1.0 - p0) * a - p0 * b
    s = a + b
    pow_n = _signed_power(lam, n)
    geom = jnp.where(s > 0, (1.0 - pow_n) / jnp.where(s > 0, s, 1.0), n)  # Σ_{j<N} λ^j
    return p0 + g * geom


@x64
def markov_marginal_gain(n: ArrayLike, p0: ArrayLike, p_rethink: ArrayLike, p_flip: ArrayLike) -> np.ndarray:
    """π_{N+1} − π_N = ((1 − p₀) a − p₀ b) λ^N, λ = 1 − a − b (signed; alternates when λ < 0)."""
    p0, a, b = _chain(p0, p_rethink, p_flip)
    return host(_markov_gain(v.count("n", n), p0, a, b))


@jax.jit
def _markov_gain(n: jnp.ndarray, p0: jnp.ndarray, a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    return ((1.0 - p0) * a - p0 * b) * _signed_power(1.0 - a - b, n)


@x64
def markov_limit(p0: ArrayLike, p_rethink: ArrayLike, p_flip: ArrayLike) -> np.ndarray:
    """π_∞ = a/(a + b) (the stationary accuracy); p₀ when a + b = 0. For a = b = 1 the chain
    oscillates between p₀ and 1 − p₀ and a/(a + b) = 1/2 is its Cesàro mean."""
    p0, a, b = _chain(p0, p_rethink, p_flip)
    s = a + b
    return host(jnp.where(s > 0, a / jnp.where(s > 0, s, 1.0), p0))


@x64
def markov_improves(p0: ArrayLike, p_rethink: ArrayLike, p_flip: ArrayLike) -> np.ndarray:
    """True iff rethinking helps at every budget: (1 − p₀) a > p₀ b ⇔ p₀ < π_∞ ⇔ π_N > p₀ ∀ N ≥ 1."""
    p0, a, b = _chain(p0, p_rethink, p_flip)
    return host((1.0 - p0) * a > p0 * b)


@x64
def markov_saturation_point(
    p0: ArrayLike,
    p_rethink: ArrayLike,
    p_flip: ArrayLike,
    eps: ArrayLike,
    *,
    cost: ArrayLike = 1.0,
    threshold: str = "lt",
) -> np.ndarray:
    """First N with |π_{N+1} − π_N| < ε C: the shared rule with A = |(1 − p₀)a − p₀ b|, ρ = |1 − a − b|.

    With p_flip = 0 this is :func:`saturation_point` with p = p_rethink. ``inf`` only for the
    perpetually oscillating chain a = b = 1 with p₀ ≠ 1/2.
    """
    p0, a, b = _chain(p0, p_rethink, p_flip)
    e = v.positive("eps", eps)
    c = v.positive("cost", cost)
    amp = jnp.abs((1.0 - p0) * a - p0 * b)
    return host(geometric_saturation_point(amp, jnp.abs(1.0 - a - b), e * c, threshold))
