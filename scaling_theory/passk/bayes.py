"""Bayesian Beta-binomial with NumPyro NUTS: posterior of (α, β) and posterior-predictive ASR@N.

Model (one group of K problems; :func:`model` is the NumPyro model):

    log α ~ Normal(−1, 1.5),  log β ~ Normal(2, 2)          (weakly informative: α ∈ [0.02, 7],
    k_i | α, β ~ BetaBinomial(n_i, α, β)                      β ∈ [0.15, 370] at 95% prior mass)

The target is the pass@N of the *observed* problems, T = mean_i [1 − (1−θ_i)^N], with
θ_i | α, β, k_i ~ Beta(α + k_i, β + n_i − k_i). For every posterior draw (α_s, β_s) the conditional
mean and variance of T are closed-form; a draw of T is that mean plus a normal deviate with that
variance (CLT over the problems). The point estimate is the posterior mean of T (Rao–Blackwellised);
the interval is the equal-tailed credible interval of the T draws.

Sampling: every group runs its own NUTS chain (NumPyro's functional ``hmc`` kernels, one
``lax.scan`` per chain, ``vmap`` over groups — so one compiled call serves a whole back-test or a
calibration study). The chain runs in whitened coordinates ``u = û + L z`` with û and ``L Lᵀ`` the
MLE and its observed-information covariance (an affine reparametrisation: the posterior is
unchanged, NUTS just sees a near-isotropic target); the step size and a diagonal mass matrix are
adapted during warm-up as usual.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.beta import loglik as beta_loglik
from scaling_theory.numerics import x64
from scaling_theory.passk import mle
from scaling_theory.special import log_beta_ratio
from scaling_theory.stats import split_rhat

PRIOR_LOG_ALPHA = (-1.0, 1.5)  # (mean, sd) of log α
PRIOR_LOG_BETA = (2.0, 2.0)  # (mean, sd) of log β


def _normal_logpdf(x, mu, sd):
    return -0.5 * ((x - mu) / sd) ** 2 - jnp.log(sd) - 0.5 * jnp.log(2 * jnp.pi)


def log_posterior(u, n, c, mask):
    """Unnormalised log posterior of u = (log α, log β) for one group (binomial coefficients dropped).

    Outside the MLE's box (``mle.BOUNDS_*``; prior mass < 1e-20) the density is 0: there the log-gamma
    differences of huge arguments lose all precision and a chain could otherwise run away on rounding noise.
    """
    lo, hi = jnp.asarray(mle.BOUNDS_LO[:2]), jnp.asarray(mle.BOUNDS_HI[:2])
    inside = jnp.all((u >= lo) & (u <= hi))
    v = jnp.clip(u, lo, hi)  # finite values and gradients on both branches of the where below
    alpha, beta = jnp.exp(v[0]), jnp.exp(v[1])
    prior = _normal_logpdf(v[0], *PRIOR_LOG_ALPHA) + _normal_logpdf(v[1], *PRIOR_LOG_BETA)
    ll = beta_loglik(alpha, beta, n, c, mask)
    return jnp.where(inside, prior + ll, -jnp.inf)


def model(n, c):
    """The NumPyro model of one group (for users and for checking the sampler's potential)."""
    import numpyro
    import numpyro.distributions as dist

    log_alpha = numpyro.sample("log_alpha", dist.Normal(*PRIOR_LOG_ALPHA))
    log_beta = numpyro.sample("log_beta", dist.Normal(*PRIOR_LOG_BETA))
    with numpyro.plate("problems", jnp.shape(c)[-1]):
        numpyro.sample("k", dist.BetaBinomial(jnp.exp(log_alpha), jnp.exp(log_beta), n), obs=c)


def _potential_gen(n, k, m, center, chol):
    def potential(z):
        return -log_posterior(center + chol @ z, n, k, m)

    return potential


@functools.partial(jax.jit, static_argnames=("num_warmup", "num_samples", "max_tree_depth"))
def _sample(keys, n, k, m, center, chol, num_warmup: int, num_samples: int, max_tree_depth: int):
    """One NUTS chain per group (vmapped): returns u draws (G, S, 2) and divergence flags (G, S)."""
    from numpyro.infer.hmc import hmc

    init_kernel, sample_kernel = hmc(potential_fn_gen=_potential_gen, algo="NUTS")

    def run_one(key, nn, kk, mm, c, chol):
        args = (nn, kk, mm, c, chol)
        state = init_kernel(jnp.zeros(2), num_warmup, model_args=args, rng_key=key, max_tree_depth=max_tree_depth)

        def step(s, _):
            s = sample_kernel(s, model_args=args)
            return s, (s.z, s.diverging)

        _, (zs, div) = jax.lax.scan(step, state, None, length=num_warmup + num_samples)
        zs, div = zs[num_warmup:], div[num_warmup:]
        return c + zs @ chol.T, div

    return jax.vmap(run_one)(keys, n, k, m, center, chol)


def _whitening(n, k, m):
    """MLE centre and Cholesky factor of its covariance (identity·0.5 where the information is singular)."""
    res = mle.fit(np.asarray(n), np.asarray(k), np.asarray(m))
    center = np.stack([np.log(res.alpha), np.log(res.beta)], -1)
    cov = np.asarray(res.cov_u)
    ok = np.all(np.isfinite(cov), axis=(-2, -1)) & ~np.asarray(res.at_bound)
    safe = np.where(ok[:, None, None], cov, np.eye(2) * 0.25)
    chol = np.linalg.cholesky(safe + np.eye(2) * 1e-12)
    return jnp.asarray(center), jnp.asarray(chol)


@jax.jit
def _predictive(key, us, n, k, m, budgets, level):
    """Posterior-predictive T = mean_i 1 − (1−θ_i)^N from draws us (G, S, 2): mean and equal-tailed interval.

    Given (α_s, β_s), the θ_i are independent Beta(α_s + k_i, β_s + n_i − k_i), so T has conditional
    mean 1 − mean_i S_i and variance Σ_i Var_i / K² in closed form (S_i = E[(1−θ_i)^N], Var_i =
    E[(1−θ_i)^{2N}] − S_i²); each draw of T is that mean plus a normal deviate of that variance (the
    CLT over the K problems). The point estimate is the posterior mean of the conditional means.
    """
    alpha = jnp.exp(us[..., 0])[..., None, None]  # (G, S, 1, 1)
    beta = jnp.exp(us[..., 1])[..., None, None]
    a = alpha + k[:, None, :, None]  # (G, S, K, 1)
    b = beta + (n - k)[:, None, :, None]
    mm = m[:, None, :, None]
    cnt = jnp.sum(m, axis=-1)[:, None, None]
    s1 = jnp.exp(log_beta_ratio(a, b, budgets))  # (G, S, K, B)
    s2 = jnp.exp(log_beta_ratio(a, b, 2.0 * budgets))
    mean = 1.0 - jnp.sum(s1 * mm, axis=2) / cnt  # (G, S, B)
    var = jnp.sum(jnp.maximum(s2 - s1**2, 0.0) * mm, axis=2) / cnt**2
    draw = jnp.clip(mean + jnp.sqrt(var) * jax.random.normal(key, mean.shape), 0.0, 1.0)
    q = jnp.quantile(draw, jnp.array([(1 - level) / 2, (1 + level) / 2]), axis=1)
    return mean.mean(axis=1), q[0], q[1]


@x64
def predict_bayes(
    key: jax.Array,
    n,
    c,
    mask,
    budgets,
    *,
    level: float = 0.9,
    num_warmup: int = 300,
    num_samples: int = 300,
    max_tree_depth: int = 4,
) -> dict:
    """NUTS posterior and posterior-predictive ASR@N for groups ``(G, K)`` (``m`` masks padding).

    Returns ``asr, lower, upper`` (G, B), posterior means ``alpha, beta`` (G,), the number of
    divergent transitions and the largest split-R̂ of (log α, log β) per group.
    """
    n, c, mask = (jnp.asarray(x, jnp.float64) for x in (n, c, mask))
    budgets = jnp.asarray(budgets, jnp.float64)
    center, chol = _whitening(n, c, mask)
    k_chain, k_pred = jax.random.split(key)
    keys = jax.random.split(k_chain, n.shape[0])
    us, div = _sample(keys, n, c, mask, center, chol, int(num_warmup), int(num_samples), int(max_tree_depth))
    asr, lower, upper = _predictive(k_pred, us, n, c, mask, budgets, level)
    rhat = jnp.maximum(split_rhat(us[:, None, :, 0]), split_rhat(us[:, None, :, 1]))
    return {
        "asr": np.asarray(asr),
        "lower": np.asarray(jnp.minimum(lower, asr)),
        "upper": np.asarray(jnp.maximum(upper, asr)),
        "alpha": np.asarray(jnp.exp(us[..., 0]).mean(axis=1)),
        "beta": np.asarray(jnp.exp(us[..., 1]).mean(axis=1)),
        "divergences": np.asarray(div.sum(axis=1)),
        "r_hat_max": np.asarray(rhat),
        "draws": np.asarray(us),
    }
