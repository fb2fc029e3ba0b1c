"""Log-space quadrature of ∫ θ^a (1 − θ)^b dG(θ) for mixing laws given by a density (private to :mod:`.mixing`).

The law is that of θ = s·X with X ∈ (0, 1) of density p (s = c for the scaled Beta, s = 1 for the
Kumaraswamy). Per problem the integral is taken in y = logit x, where the integrand
exp(a log(s x) + b log(1 − s x) + log p(x) + log x(1 − x)) is smooth. The nodes follow the binomial
likelihood of that problem (they depend on (a, b, s) only, never on the shape parameters of p), so the
same rule serves n_i of 1 and of 10⁷ alike:

* a core panel y* ± 8σ around the mode of the integrand (σ from its curvature), split at y* into two
  panels of ``CORE`` Gauss–Legendre nodes, and two tail panels reaching x = 10⁻¹¹/(1 + s·b) and 1 − x = 10⁻¹¹/(1 + a);
* the mass beyond those points in closed form from the law's CDF / survival function near 0 and 1
  (for a = 0, most of the integral can lie below 1/n when the density has a θ^{α−1} pole with α ≪ 1).

Everything is a sum of logs (``logsumexp``); the functions are vmapped over problems and groups by the
caller and differentiate with ``jax.grad``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

CORE, LEFT, RIGHT = 32, 24, 16
WIDTH = 8.0
TAIL = 1e-11
NEWTON = 12
_NODES = {q: np.polynomial.legendre.leggauss(q) for q in (CORE, LEFT, RIGHT)}


def log1m_s_sigmoid(y, log_s, log1m_s):
    """log(1 − s·σ(y)) without cancellation: log((1 − s) + s·σ(−y))."""
    return jnp.logaddexp(log1m_s, log_s + jax.nn.log_sigmoid(-y))


def _panel(lo, hi, q):
    t, w = _NODES[q]
    half = 0.5 * (hi - lo)
    return 0.5 * (hi + lo) + half * jnp.asarray(t), jnp.log(jnp.asarray(w)) + jnp.log(jnp.maximum(half, 1e-300))


def nodes(a, b, log_s, log1m_s, logp_y):
    """Nodes ``y`` (Q,), log quadrature weights (Q,), and the outer ends (y_L, y_R) for one problem.

    The core panel is centred on the mode of the whole integrand (likelihood × density, found by a few
    safeguarded Newton steps from the likelihood's mode) with σ from its curvature there.
    """
    # Nodes are placed by the integrand but derivatives in the law's parameters are taken at fixed nodes (the
    # integral does not depend on where the nodes are, so that is the quadrature of its exact derivative).
    log_s, log1m_s = jax.lax.stop_gradient(log_s), jax.lax.stop_gradient(log1m_s)
    s = jnp.exp(log_s)
    da = jnp.where(a == 0, 0.5, 0.0)
    db = jnp.where(b == 0, 0.5, 0.0)
    ae, be = a + da, b + db
    x_star = jnp.clip(ae / (s * (ae + be)), 1e-300, 1.0 - 0.5 / (ae + 1.0))
    y0 = jnp.log(x_star) - jnp.log1p(-x_star)

    def f(y):
        return ae * jax.nn.log_sigmoid(y) + be * log1m_s_sigmoid(y, log_s, log1m_s) + logp_y(y)

    d1, d2 = jax.grad(f), jax.grad(jax.grad(f))

    def newton(_, y):
        g, h = d1(y), d2(y)
        step = jnp.where(h < 0, -g / h, jnp.sign(g) * 2.0)
        step = jnp.where(jnp.isfinite(step), jnp.clip(step, -3.0, 3.0), 0.0)
        return y + step

    y_star = jax.lax.stop_gradient(jax.lax.fori_loop(0, NEWTON, newton, y0))
    y_star = jnp.where(jnp.isfinite(y_star), y_star, y0)
    curv = jax.lax.stop_gradient(-d2(y_star))
    curv = jnp.where(jnp.isfinite(curv), curv, 0.01)
    sig = 1.0 / jnp.sqrt(jnp.clip(curv, 0.01, 1e12))
    c_lo, c_hi = y_star - WIDTH * sig, y_star + WIDTH * sig
    y_lo = jnp.minimum(jnp.log(TAIL) - jnp.log1p(s * b), c_lo - 1.0)
    y_hi = jnp.maximum(-jnp.log(TAIL) + jnp.log1p(a), c_hi + 1.0)
    ys, ws = zip(
        _panel(y_lo, c_lo, LEFT), _panel(c_lo, y_star, CORE), _panel(y_star, c_hi, CORE), _panel(c_hi, y_hi, RIGHT)
    )
    return jnp.concatenate(ys), jnp.concatenate(ws), y_lo, y_hi


def log_integral(a, b, log_s, log1m_s, logp_y, log_cdf, log_sf):
    """log ∫ θ^a (1−θ)^b dG for θ = s·X, X with log-density ``logp_y(y)`` in y = logit x (density × x(1−x)),
    log CDF ``log_cdf(y)`` = log P(X ≤ σ(y)) for y ≪ 0 and log survival ``log_sf(y)`` = log P(X > σ(y)) for y ≫ 0.

    ``a, b`` are scalars (a success count and a failure count + budget); ``log_s``, ``log1m_s`` = log s, log(1 − s)
    (−inf for s = 1).
    """
    y, logw, y_lo, y_hi = nodes(a, b, log_s, log1m_s, logp_y)
    ls = jax.nn.log_sigmoid

    def log_lik(yy):
        return jnp.where(a > 0, a * (log_s + ls(yy)), 0.0) + jnp.where(
            b > 0, b * log1m_s_sigmoid(yy, log_s, log1m_s), 0.0
        )

    body = logw + log_lik(y) + logp_y(y)
    left = log_cdf(y_lo) + log_lik(y_lo)
    right = log_sf(y_hi) + log_lik(y_hi)
    return jax.scipy.special.logsumexp(jnp.concatenate([body, jnp.stack([left, right])]))
