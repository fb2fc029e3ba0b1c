"""Bayesian uncertainty of a fit: NumPyro NUTS with a robust (Student-t) likelihood.

Model, in the fit's residual space (z = log y for log residuals, z = y for linear ones):

    θ ~ Uniform(box)                      box = the law's bounds widened by half their width on each
                                          side (and always containing the best fit), in coordinates
    σ ~ HalfCauchy(s₀)                    s₀ = 1 on the log scale (a factor-e error), sd(y) on the
                                          linear scale; or σ fixed by the caller
    z_i ~ Student-t(ν, ẑ_i(θ), σ)         ν = 4 by default (``likelihood="normal"``: Gaussian);
                                          row weights multiply the log-likelihood terms

The heavy tails play the role of the Huber loss: outlying runs pull the posterior much less than
under a Gaussian. Sampling starts at the best fit (``init_to_value``) with a dense mass matrix,
which suits the strongly correlated (log A, α) and (log B, β) pairs of the Chinchilla law.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.fitting.fit import FitResult
from scaling_theory.fitting.uncertainty import Draws
from scaling_theory.numerics import x64
from scaling_theory.results import Result

LIKELIHOODS = ("student_t", "normal")


@dataclass(frozen=True)
class PriorBox(Result):
    """The uniform prior's box in a law's coordinates: ``lo`` and ``hi`` (P,) per coordinate ``coord``.

    Rows: one per coordinate: ``coord``, ``lo``, ``hi``.
    """

    _index: ClassVar[tuple[str, ...]] = ("coord",)

    coord: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def prior_box(result: FitResult) -> PriorBox:
    """Uniform-prior box in coordinates: the law's bounds ± half their width, containing the best fit.

    Args:
      result: a fit (its law's ``bounds`` on the fit's data, and its best coordinates ``theta``).
    Returns:
      :class:`PriorBox`: per coordinate, ``lo = min(l − w/2, θ̂ − w/2)`` and ``hi = max(u + w/2, θ̂ + w/2)``
      with ``(l, u)`` the law's bounds and ``w = max(u − l, 10⁻³)``.
    """
    lo, hi = result.law.bounds(result.x, result.y)
    width = np.maximum(hi - lo, 1e-3)
    lo = np.minimum(lo - width / 2, result.theta - width / 2)
    hi = np.maximum(hi + width / 2, result.theta + width / 2)
    return PriorBox(np.asarray(result.law.coords), lo, hi)


@x64
def posterior(
    key: jax.Array,
    result: FitResult,
    *,
    num_warmup: int = 500,
    num_samples: int = 1000,
    num_chains: int = 1,
    likelihood: str = "student_t",
    df: float = 4.0,
    sigma: float | None = None,
    box: PriorBox | tuple[Any, Any] | None = None,
) -> Draws:
    """Posterior draws (``num_chains × num_samples``) of the law's coordinates given the fit's data,
    NUTS run from ``key``.

    Returns :class:`~scaling_theory.fitting.uncertainty.Draws` with ``method="posterior"``; its
    ``diagnostics`` hold the number of divergent transitions and, per coordinate, the effective
    sample size and split-R̂ (NumPyro's ``summary``). ``box``: the uniform prior's box in coordinates, a
    :class:`PriorBox` or a pair ``(lo, hi)`` of arrays (default :func:`prior_box`).
    """
    import numpyro
    import numpyro.distributions as dist
    from numpyro.diagnostics import summary
    from numpyro.infer import MCMC, NUTS, init_to_value

    if likelihood not in LIKELIHOODS:
        raise InputError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got {likelihood!r}")
    if likelihood == "student_t" and not df > 0:
        raise InputError(f"df must be positive, got {df}")
    if sigma is not None and not (np.isfinite(sigma) and sigma > 0):
        raise InputError(f"sigma must be a positive number, got {sigma}")
    for name, v in (("num_warmup", num_warmup), ("num_samples", num_samples), ("num_chains", num_chains)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InputError(f"{name} must be a positive integer, got {v}")
    law, space = result.law, result.loss.space
    used = result.weights > 0
    xp = law.prepare_x({k: v[used] for k, v in result.x.items()})
    y = result.y[used]
    z = jnp.asarray(np.log(y) if space == "log" else y)
    w = jnp.asarray(result.weights[used])
    box = prior_box(result) if box is None else box
    lo, hi = (box.lo, box.hi) if isinstance(box, PriorBox) else (np.asarray(box[0], float), np.asarray(box[1], float))
    if lo.shape != (law.n_params,) or hi.shape != (law.n_params,) or not np.all(lo < hi):
        raise InputError(f"box must be two arrays of length {law.n_params} with lo < hi")
    if not np.all((result.theta > lo) & (result.theta < hi)):
        raise InputError("the best fit lies outside the prior box")
    s0 = 1.0 if space == "log" else float(np.std(y)) or 1.0
    resid = result.residuals()[used]
    sigma_init = max(1.4826 * float(np.median(np.abs(resid - np.median(resid)))), 1e-8)

    def model():
        theta = numpyro.sample("theta", dist.Uniform(jnp.asarray(lo), jnp.asarray(hi)).to_event(1))
        s = numpyro.sample("sigma", dist.HalfCauchy(s0)) if sigma is None else sigma
        zhat = law.log_yhat(theta, xp) if space == "log" else law.yhat(theta, xp)
        noise = dist.StudentT(df, zhat, s) if likelihood == "student_t" else dist.Normal(zhat, s)
        lp = noise.log_prob(z)
        numpyro.factor("obs", jnp.sum(w * jnp.where(jnp.isfinite(lp), lp, -jnp.inf)))

    init = {"theta": jnp.asarray(result.theta)}
    if sigma is None:
        init["sigma"] = jnp.asarray(sigma_init)
    kernel = NUTS(model, dense_mass=True, init_strategy=init_to_value(values=init))
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method="vectorized" if num_chains > 1 else "sequential",
        progress_bar=False,
    )
    mcmc.run(key, extra_fields=("diverging",))
    samples = mcmc.get_samples()
    theta = np.asarray(samples["theta"])
    sig = np.asarray(samples["sigma"]) if sigma is None else np.full(theta.shape[0], sigma)
    by_chain = mcmc.get_samples(group_by_chain=True)
    stats = summary({"theta": by_chain["theta"]}, prob=0.9)["theta"]
    diagnostics = {
        "divergences": int(np.sum(np.asarray(mcmc.get_extra_fields()["diverging"]))),
        "n_eff": {c: float(v) for c, v in zip(law.coords, np.atleast_1d(stats["n_eff"]))},
        "r_hat": {c: float(v) for c, v in zip(law.coords, np.atleast_1d(stats["r_hat"]))},
        "sigma_median": float(np.median(sig)),
    }
    return Draws(
        law=law,
        space=space,
        theta=theta,
        method="posterior",
        converged=np.ones(theta.shape[0], bool),
        noise_scale=sig,
        noise_df=df if likelihood == "student_t" else float("inf"),
        diagnostics=diagnostics,
    )
