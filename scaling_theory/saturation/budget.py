"""Budget planning: the minimal N for a target, with confidence, and what more samples buy.

* coverage targets: smallest N with 1 − (1 − p)^N ≥ τ, i.e. (1 − p)^N ≤ 1 − τ, N = ⌈ln(1 − τ)/ln(1 − p)⌉
  (homogeneous) and the Beta(α, β) aggregate version (exact search);
* with confidence, from an observed k of n: N such that P_post(Hit@N ≥ τ) ≥ γ under the posterior
  Beta(a₀ + k, b₀ + n − k) — since Hit@N is increasing in p this is the homogeneous N at the
  posterior's (1 − γ)-quantile of p;
* "what do I gain from doubling N": F(2N) − F(N) = (1 − p)^N (1 − (1 − p)^N), and the aggregate
  B(α, β + N)/B(α, β) − B(α, β + 2N)/B(α, β);
* OptScale (arXiv 2506.22376, spec §D): verifier scores ~ TN(μ, σ; 0, 1); the max of N scores has CDF
  F(s)^N; the smallest N with P(max ≥ s*) ≥ 1 − α is N* = ⌈ln α / ln F(s*)⌉; and the truncated-normal
  MLE of (μ, σ) from observed scores.

Every "smallest N" uses the same geometric rule as the saturation point (ceil, with exact ties
counted as reached: F(s*)^N ≤ α, (1 − p)^N ≤ 1 − τ).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.scipy.special import betainc, log_ndtr, ndtr

from scaling_theory import stats
from scaling_theory.beta import log_survival as log_beta_survival
from scaling_theory.errors import InputError
from scaling_theory.numerics import host, x64
from scaling_theory.results import Result
from scaling_theory.saturation import _validate as v
from scaling_theory.saturation.heterogeneous import beta_samples_for_coverage  # noqa: F401  (re-exported)
from scaling_theory.saturation.ttspm import geometric_saturation_point, hit_at_n

ArrayLike = Any


@x64
def samples_for_coverage(p: ArrayLike, target: ArrayLike) -> np.ndarray:
    """Smallest N with 1 − (1 − p)^N ≥ τ: ⌈ln(1 − τ)/ln(1 − p)⌉ (0 for τ = 0; inf for p = 0 < τ)."""
    p = v.probability("p", p)
    t = v.probability("target", target, high_open=True)
    n = geometric_saturation_point(jnp.ones_like(p * t), 1.0 - p, 1.0 - t, "le")
    return host(jnp.where(t == 0, 0.0, n))


@x64
def gain_from_doubling(p: ArrayLike, n: ArrayLike) -> np.ndarray:
    """F(2N) − F(N) = (1 − p)^N (1 − (1 − p)^N) for the homogeneous curve."""
    p = v.probability("p", p)
    n = v.count("n", n)
    return host(hit_at_n(p, 2.0 * n) - hit_at_n(p, n))


@x64
def beta_gain_from_doubling(alpha: ArrayLike, beta: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Aggregate F(2N) − F(N) = [B(α, β + N) − B(α, β + 2N)]/B(α, β) (log space)."""
    a = v.positive("alpha", alpha)
    b = v.positive("beta", beta)
    n = v.count("n", n)
    return host(jnp.exp(log_beta_survival(a, b, n)) - jnp.exp(log_beta_survival(a, b, 2.0 * n)))


@x64
def beta_quantile(q: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Quantile of Beta(a, b) by bisection on the regularised incomplete beta I_x(a, b) (60 steps)."""
    q, a, b = jnp.broadcast_arrays(
        jnp.asarray(q, jnp.float64), jnp.asarray(a, jnp.float64), jnp.asarray(b, jnp.float64)
    )

    return host(_beta_quantile(q, a, b))


@jax.jit
def _beta_quantile(q: jnp.ndarray, a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    lo, hi = stats.bisect(lambda x: ~(betainc(a, b, x) < q), jnp.zeros_like(q), jnp.ones_like(q), 60)
    return 0.5 * (lo + hi)


@x64
def samples_for_coverage_confident(
    n: ArrayLike,
    c: ArrayLike,
    target: ArrayLike,
    confidence: ArrayLike = 0.9,
    prior: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """Smallest N with P_post(1 − (1 − p)^N ≥ τ) ≥ γ after c successes in n attempts.

    Posterior Beta(a₀ + c, b₀ + n − c) (default uniform prior). Hit@N ≥ τ ⇔ p ≥ 1 − (1 − τ)^{1/N}, so the
    rule is the homogeneous N at p_lo = the posterior (1 − γ)-quantile (a one-sided credible bound).
    """
    n = v.count("n", n, minimum=1)
    c = v.count("c", c)
    if bool(jnp.any(c > n)):
        raise InputError("c must be <= n")
    t = v.probability("target", target, high_open=True)
    g = v.probability("confidence", confidence, low_open=True, high_open=True)
    a0 = v.positive("prior alpha", prior[0])
    b0 = v.positive("prior beta", prior[1])
    p_lo = beta_quantile(1.0 - g, a0 + c, b0 + n - c)
    return host(samples_for_coverage(p_lo, t))


# ------------------------------------------------------------------------------- OptScale (TN scores)


def _tn_check(mu: ArrayLike, sigma: ArrayLike) -> tuple[jnp.ndarray, jnp.ndarray]:
    return v.real("mu", mu), v.positive("sigma", sigma)


@x64
def truncnorm_cdf(s: ArrayLike, mu: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """F(s) = [Φ((s − μ)/σ) − Φ(−μ/σ)]/[Φ((1 − μ)/σ) − Φ(−μ/σ)] on [0, 1] (clipped outside)."""
    mu, sigma = _tn_check(mu, sigma)
    s = jnp.clip(v.real("s", s), 0.0, 1.0)
    lo, hi = ndtr(-mu / sigma), ndtr((1.0 - mu) / sigma)
    return host(jnp.clip((ndtr((s - mu) / sigma) - lo) / (hi - lo), 0.0, 1.0))


@x64
def max_score_cdf(s: ArrayLike, mu: ArrayLike, sigma: ArrayLike, n: ArrayLike) -> np.ndarray:
    """CDF of the best of N i.i.d. TN(μ, σ; 0, 1) scores: F(s)^N."""
    n = v.count("n", n)
    f = truncnorm_cdf(s, mu, sigma)
    return host(jnp.where(n == 0, 1.0, jnp.exp(n * jnp.log(f))))


@x64
def optscale_min_n(cdf_at_target: ArrayLike, alpha: ArrayLike) -> np.ndarray:
    """N* = ⌈ln α / ln F(s*)⌉: smallest N with F(s*)^N ≤ α, i.e. P(max score ≥ s*) ≥ 1 − α (spec §D).

    ``cdf_at_target`` = F(s*) = P(one score < s*); F(s*) = 1 (target unreachable) gives inf.
    """
    f = v.probability("cdf_at_target", cdf_at_target)
    a = v.probability("alpha", alpha, low_open=True, high_open=True)
    return host(geometric_saturation_point(jnp.ones_like(f * a), f, a, "le"))


@x64
def optscale_min_n_tn(target_score: ArrayLike, mu: ArrayLike, sigma: ArrayLike, alpha: ArrayLike) -> np.ndarray:
    """:func:`optscale_min_n` with F(s*) from TN(μ, σ; 0, 1)."""
    s = v.probability("target_score", target_score)
    return host(optscale_min_n(truncnorm_cdf(s, mu, sigma), alpha))


@dataclass(frozen=True)
class TNFit(Result):
    """Maximum-likelihood TN(μ, σ; 0, 1): ``mu``, ``sigma`` and the mean negative log-likelihood ``nll`` at the
    optimum (0-d float64 NumPy arrays). Rows: one."""

    mu: np.ndarray
    sigma: np.ndarray
    nll: np.ndarray


def _tn_nll(theta: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray:
    """Mean NLL of TN(μ, σ; 0, 1), θ = (μ, log σ): log σ + z²/2 + ½ log 2π + log Z, Z = Φ((1−μ)/σ) − Φ(−μ/σ)."""
    mu, log_sigma = theta[0], theta[1]
    sigma = jnp.exp(log_sigma)
    z = (x - mu) / sigma
    la, lb = log_ndtr(-mu / sigma), log_ndtr((1.0 - mu) / sigma)
    log_z = lb + jnp.log(-jnp.expm1(la - lb))
    return jnp.mean(0.5 * z**2) + log_sigma + 0.5 * jnp.log(2.0 * jnp.pi) + log_z


@x64
def fit_truncnorm(scores: ArrayLike, steps: int = 200) -> TNFit:
    """MLE of (μ, σ) of TN(μ, σ; 0, 1) from scores in [0, 1] (L-BFGS on (μ, log σ), moment start)."""
    x = v.probability("scores", scores)
    if x.ndim != 1 or x.size < 2:
        raise InputError(f"scores must be a 1-D list of at least 2 values, got shape {tuple(x.shape)}")
    if float(jnp.std(x)) == 0.0:
        raise InputError("scores must not all be equal (the truncated-normal MLE needs spread)")
    theta, nll = _fit_truncnorm(x, int(steps))
    return TNFit(np.asarray(theta[0]), np.asarray(jnp.exp(theta[1])), np.asarray(nll))


@functools.partial(jax.jit, static_argnames="steps")
def _fit_truncnorm(x: jnp.ndarray, steps: int) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(μ, log σ) after ``steps`` L-BFGS steps from the moment start, and the NLL there."""
    theta0 = jnp.stack([jnp.mean(x), jnp.log(jnp.std(x))])
    loss = lambda th: _tn_nll(th, x)  # noqa: E731
    opt = optax.lbfgs()
    vg = optax.value_and_grad_from_state(loss)

    def body(carry: tuple[jnp.ndarray, Any], _: None) -> tuple[tuple[jnp.ndarray, Any], None]:
        th, st = carry
        val, grad = vg(th, state=st)
        upd, st = opt.update(grad, st, th, value=val, grad=grad, value_fn=loss)
        return (optax.apply_updates(th, upd), st), None

    (theta, _), _ = jax.lax.scan(body, (theta0, opt.init(theta0)), None, length=steps)
    return theta, loss(theta)
