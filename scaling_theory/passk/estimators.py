"""Model-free estimators of pass@k / ASR@k from per-problem success counts (spec §2.3, §4).

* :func:`pass_at_k` — Chen et al.'s unbiased estimator ``1 − C(n−c, k)/C(n, k)`` per problem;
* :func:`plugin_pass_at_k` — the naive plug-in ``1 − (1 − c/n)^k`` (biased low; SABER's Eq. 15 term);
* :func:`coverage` — empirical ASR@n: the fraction of problems with at least one success;
* :func:`pass_at_k_curve` — the benchmark mean of either estimator over problems, for many k at once;
* :func:`pass_at_k_variance` — the exact sampling variance of Chen's estimator under Binomial(n, p);
* :func:`plugin_curve_variance` — the delta-method variance of the benchmark plug-in pass@k curve when
  every problem's rate is estimated from ``n_obs`` samples (the weights of a weighted RMSE).

All functions broadcast their arguments (numpy broadcasting rules), run in float64 and are
traceable (usable under ``jit``/``vmap``); argument checks run on concrete values only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.stats

from scaling_theory.compilation_cache import persistent_jit
from scaling_theory.numerics import check, eager_jit, is_concrete, x64
from scaling_theory.special import log_gamma_ratio_diff

# Chen's ratio C(n−c, k)/C(n, k) = Π_{j<m} (1 − M/(n−j)) with m = min(c, k), M = max(c, k).
# Up to PRODUCT_TERMS factors are multiplied exactly, CHUNK at a time (one logarithm per chunk); longer
# products use a difference of log-gamma ratios (special.log_gamma_ratio_diff), accurate to ~1e-13 absolute in the log.
PRODUCT_TERMS = 64
CHUNK = 8


def _log_product(n, big, m):
    """Σ_{j<m} log(1 − big/(n−j)) for 0 ≤ m ≤ :data:`PRODUCT_TERMS` (m ≤ n − big + 1: every factor > 0).

    Each chunk of :data:`CHUNK` factors takes one logarithm instead of one per factor: the product
    p = Π f_j with f_j = (n − j − big)/(n − j) (an exact integer numerator, so each factor carries one
    rounding), and its complement q = 1 − p by q ← q + x(1 − q), x = big/(n − j) (no cancellation while
    q ≤ ½). The chunk's log is log p where p < ½ and log1p(−q) otherwise: relative error a few ε either way,
    like a sum of log1p terms (the 64 log1p of the plain sum took most of pass@k's time). p ≥ n^−CHUNK never
    underflows for n < 1e38.
    """

    def chunk(i, acc):
        q = jnp.zeros_like(acc)
        p = jnp.ones_like(acc)
        for t in range(CHUNK):
            j = i * CHUNK + t
            live = j < m
            d = jnp.maximum(n - j, 1.0)
            q = q + jnp.where(live, big / d, 0.0) * (1.0 - q)
            p = p * jnp.where(live, (d - big) / d, 1.0)
        return acc + jnp.where(p < 0.5, jnp.log(jnp.maximum(p, 1e-300)), jnp.log1p(-jnp.minimum(q, 0.5)))

    shape = jnp.broadcast_shapes(jnp.shape(n), jnp.shape(big), jnp.shape(m))
    return jax.lax.fori_loop(0, PRODUCT_TERMS // CHUNK, chunk, jnp.zeros(shape, jnp.result_type(n, big, float)))


def _log_survival(n, c, k):
    """log[C(n−c, k)/C(n, k)] for 0 ≤ c ≤ n, 0 ≤ k ≤ n − c (log of the chance of no success in k draws)."""
    m = jnp.minimum(c, k)
    big = jnp.maximum(c, k)
    prod = _log_product(n, big, jnp.minimum(m, PRODUCT_TERMS))
    # log Γ(n−c+1)/Γ(n−c−k+1) − log Γ(n+1)/Γ(n−k+1): a difference of log-gamma ratios (no large-argument
    # cancellation).
    lg = log_gamma_ratio_diff(n - c - k + 1.0, c, k)
    return jnp.where(m <= PRODUCT_TERMS, prod, lg)


@eager_jit
def log_no_success(n, c, k):
    """log[C(n−c, k)/C(n, k)]: log-probability that k draws without replacement from n attempts with c
    successes contain none (−inf when k > n − c). Traceable, float64 inputs, no checks."""
    n, c, k = jnp.broadcast_arrays(n, c, k)
    feasible = n - c >= k  # otherwise every k-subset contains a success
    return jnp.where(feasible, _log_survival(n, c, jnp.where(feasible, k, 0.0)), -jnp.inf)


@eager_jit(static_argnames="kmax")
def log_no_success_upto(n, c, kmax: int):
    """log[C(n−c, k)/C(n, k)] for every k = 0, 1, …, ``kmax`` at once: shape ``n.shape + (kmax + 1,)``.

    The running sum Σ_{j<k} log1p(−c/(n−j)) (the k-form of Chen's ratio): ``kmax`` log1p per problem for the
    whole curve, instead of one product of up to :data:`PRODUCT_TERMS` factors per k (SABER-Fit's contiguous
    grid m = 5, 6, …). −inf where k > n − c. Traceable, float64 inputs, no checks; ``kmax`` is static.
    """
    d = n[..., None] - jnp.arange(kmax, dtype=jnp.result_type(n, float))
    cc = c[..., None]
    term = jnp.where(cc < d, jnp.log1p(-cc / jnp.maximum(d, 1.0)), -jnp.inf)
    return jnp.concatenate([jnp.zeros_like(term[..., :1]), jnp.cumsum(term, axis=-1)], axis=-1)


@persistent_jit
def _pass_at_k(n, c, k):
    """Traceable core of :func:`pass_at_k` (float64 inputs, no checks; jitted so eager calls are cached)."""
    return -jnp.expm1(log_no_success(n, c, k))


def _as_f64(*xs):
    """float64 arrays: NumPy when concrete (cheap host-side checks), JAX tracers otherwise."""
    if is_concrete(*xs):
        import numpy as np

        return tuple(np.asarray(x, dtype=np.float64) for x in xs)
    return tuple(jnp.asarray(x, jnp.float64) for x in xs)


def _check_counts(n, c, name_c: str = "c") -> None:
    check(n >= 1, f"n must be a positive integer, got {_bad(n, n >= 1)}")
    check(n == _round(n), f"n must be an integer, got {_bad(n, n == _round(n))}")
    check(c >= 0, f"{name_c} must be ≥ 0, got {_bad(c, c >= 0)}")
    check(c == _round(c), f"{name_c} must be an integer, got {_bad(c, c == _round(c))}")
    check(c <= n, f"{name_c} must be ≤ n, got {name_c}={_bad(c, c <= n)}")


def _round(x):
    return jnp.round(x) if isinstance(x, jax.Array) else __import__("numpy").round(x)


def _bad(x, ok) -> str:
    """The first offending value of ``x`` where ``ok`` fails (for error messages), on concrete arrays."""
    import numpy as np

    try:
        xa, oka = np.broadcast_arrays(np.asarray(x), np.asarray(ok))
        idx = np.flatnonzero(~oka.astype(bool))
        return f"{xa.ravel()[idx[0]]:g}" if idx.size else "?"
    except Exception:  # traced values: never reached because check() skips them
        return "?"


@x64
def pass_at_k(n, c, k):
    """Unbiased pass@k of one problem with ``c`` correct out of ``n`` samples (Chen et al. 2021).

    ``1 − C(n−c, k)/C(n, k)``, evaluated as ``1 − Π_{j<m}(1 − M/(n−j))`` with ``m = min(c, k)``,
    ``M = max(c, k)`` (the symmetric product form, exact in log1p) or by log-gamma differences for
    long products; 1 when ``k > n − c``. Defined for integers ``0 ≤ c ≤ n``, ``1 ≤ k ≤ n``
    (``k = 0`` gives 0). Broadcasts over ``n, c, k``.
    """
    n, c, k = _as_f64(n, c, k)
    _check_counts(n, c)
    check(k >= 0, f"k must be ≥ 0, got {_bad(k, k >= 0)}")
    check(k == _round(k), f"k must be an integer, got {_bad(k, k == _round(k))}")
    check(k <= n, f"k must be ≤ n (the estimator is undefined for k > n), got k={_bad(k, k <= n)}")
    return _pass_at_k(n, c, k)


@x64
def plugin_pass_at_k(n, c, k):
    """Naive plug-in pass@k ``1 − (1 − c/n)^k`` (any real k ≥ 0; biased low by Jensen's inequality)."""
    n, c, k = _as_f64(n, c, k)
    _check_counts(n, c)
    check(k >= 0, f"k must be ≥ 0, got {_bad(k, k >= 0)}")
    return _plugin(n, c, k)


def _plugin(n, c, k):
    p = c / n
    # (1 − p)^k = exp(k log1p(−p)); p = 1 gives 0 for k > 0 and 1 for k = 0.
    return jnp.where(p >= 1.0, jnp.where(k > 0, 1.0, 0.0), -jnp.expm1(k * jnp.log1p(-jnp.minimum(p, 1.0))))


@x64
def coverage(n, c, axis: int = -1):
    """Empirical ASR@n: the fraction of problems with ``c > 0`` along ``axis`` (SABER's ``mean(k > 0)``)."""
    n, c = _as_f64(n, c)
    _check_counts(n, c)
    return (c > 0).mean(axis=axis)


@x64
def pass_at_k_curve(n, c, ks, estimator: str = "unbiased"):
    """Benchmark pass@k for every k in ``ks``: the mean over problems (last axis of ``n, c``).

    ``estimator`` is ``"unbiased"`` (Chen) or ``"plugin"``. Returns shape ``batch + (len(ks),)``.
    For the unbiased estimator every ``k`` must be ≤ the smallest ``n`` of the problems.
    """
    n, c, ks = _as_f64(n, c, ks)
    n, c = (jnp if isinstance(n, jax.Array) else __import__("numpy")).broadcast_arrays(n, c)
    _check_counts(n, c)
    check(ks.ndim == 1 and ks.size >= 1, "ks must be a non-empty 1-D list of budgets")
    check(ks >= 1, f"ks must be ≥ 1, got {_bad(ks, ks >= 1)}")
    if estimator == "unbiased":
        check(ks == _round(ks), f"ks must be integers, got {_bad(ks, ks == _round(ks))}")
        nmin = n.min()
        check(
            ks <= nmin,
            f"ks must be ≤ the smallest n ({float(nmin):g}) for the unbiased estimator, got k={_bad(ks, ks <= nmin)}",
        )
        fn: Callable[..., Any] = _pass_at_k
    elif estimator == "plugin":
        fn = _plugin
    else:
        from scaling_theory.errors import InputError

        raise InputError(f"estimator must be 'unbiased' or 'plugin', got {estimator!r}")
    return _curve(fn, n, c, ks)


def _curve(fn, n, c, ks):
    return jnp.mean(fn(n[..., None, :], c[..., None, :], ks[:, None]), axis=-1)


@x64
def pass_at_k_variance(n, p, k):
    """Exact variance of Chen's estimator when ``c ~ Binomial(n, p)``: ``Σ_c Bin(c; n, p) g(c)² − (1−(1−p)^k)²``.

    Scalar ``n`` (the sum runs over c = 0..n); ``p`` and ``k`` broadcast. Spec §4 [derived] test values.
    """
    n_int = int(n)
    check(n_int >= 1, f"n must be a positive integer, got {n}")
    p, k = _as_f64(p, k)
    check((p >= 0) & (p <= 1), f"p must be in [0, 1], got {_bad(p, (p >= 0) & (p <= 1))}")
    return _variance(jnp.arange(n_int + 1, dtype=jnp.float64), jnp.float64(n_int), jnp.asarray(p), jnp.asarray(k))


@jax.jit
def _variance(c, nn, p, k):
    pmf = jax.scipy.stats.binom.pmf(c, nn, p[..., None])
    g = _pass_at_k(nn, c, k[..., None])
    second = jnp.sum(pmf * g**2, axis=-1)
    truth = -jnp.expm1(k * jnp.log1p(-p))
    return second - truth**2


@x64
def plugin_curve_variance(p: Any, ks: Any, n_obs: float) -> Any:
    """Delta-method variance of the benchmark plug-in pass@k, (1/T) Σ_i [1 − (1 − p̂_i)^k], with p̂_i from n_obs samples.

    With Var(p̂_i) = p_i(1 − p_i)/n_obs and d/dp [1 − (1 − p)^k] = k(1 − p)^(k−1):
    ``Var_k = k²/(T² n_obs) Σ_i p_i (1 − p_i)^(2k−1)`` — exact for k = 1, first order in 1/n_obs otherwise. It
    weights the errors of a pass@k curve in the weighted RMSE of the ``drproduck/inference-scaling-law``
    notebook ``compare_real.ipynb`` (with p_i the full-data rates and a 1e-12 floor there).

    Args:
      p: per-problem success rates in [0, 1], shape ``batch + (T,)`` (T problems on the last axis).
      ks: budgets k ≥ 1, 1-D.
      n_obs: samples per problem behind each rate, > 0.

    Returns:
      NumPy array ``batch + (len(ks),)``.

    References:
      Brown et al., arXiv 2407.21787 (the Pythia × MATH data); the notebook above.
    """
    import numpy as np

    p, ks = _as_f64(p, ks)
    check(p.ndim >= 1 and p.shape[-1] >= 1, "p must have a problem axis (last) with at least one problem")
    check((p >= 0) & (p <= 1), f"p must be in [0, 1], got {_bad(p, (p >= 0) & (p <= 1))}")
    check(ks.ndim == 1 and ks.size >= 1, "ks must be a non-empty 1-D list of budgets")
    check(ks >= 1, f"ks must be ≥ 1, got {_bad(ks, ks >= 1)}")
    check(float(n_obs) > 0, f"n_obs must be > 0, got {n_obs}")
    return np.asarray(_curve_variance(jnp.asarray(p), jnp.asarray(ks), jnp.float64(n_obs)))


@jax.jit
def _curve_variance(p, ks, n_obs):
    t = p.shape[-1]
    k = ks[:, None]
    pi = p[..., None, :]
    # p (1 − p)^(2k−1) in log space for the (1 − p) power (no overflow/underflow issues at large k).
    term = jnp.where(pi >= 1.0, 0.0, pi * jnp.exp((2.0 * k - 1.0) * jnp.log1p(-jnp.minimum(pi, 1.0))))
    return ks**2 / (t**2 * n_obs) * jnp.sum(term, axis=-1)
