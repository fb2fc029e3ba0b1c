"""Maximum-likelihood mixing laws G of the per-problem success probability θ (spec difficulty §1).

Problem i has k_i successes in n_i attempts (n_i may differ between problems); θ_i ~ G i.i.d. and
``ℓ(G) = Σ_i log ∫ C(n_i, k_i) θ^{k_i} (1 − θ)^{n_i − k_i} dG(θ)``. :func:`fit_mixing` maximises ℓ for every
group of a padded batch ``(G, K)`` (groups, or bootstrap replicates) in one compiled call, float64,
log-space throughout. Families (:data:`FAMILIES`):

==================  ================================================================  =====================
family              G                                                                 fit
==================  ================================================================  =====================
``beta``            Beta(α, β)                                                        :func:`.mle.fit`
``scaled_beta``     θ = c·B, B ~ Beta(α, β), 0 < c < 1 (ceiling c; tail N^{−α})        damped Newton, 3 starts
``kumaraswamy``     density a b θ^{a−1}(1 − θ^a)^{b−1} (Schaeffer et al. 2025)          damped Newton, 4 starts
``beta_mix2/3``     Σ_m π_m Beta(α_m, β_m), components ordered by mean                 damped Newton, 4 starts
``npmle``           discrete on the θ grid (θ = 0 included): Kiefer–Wolfowitz NPMLE    EM + SQUAREM
``gmodel``          w_j ∝ exp(Q_j·a) on the grid, Q a natural cubic spline basis in     damped Newton on
                    logit θ (``df`` columns; knots at quantiles pooled over the         ℓ − λ‖a‖²
                    non-degenerate groups) (Efron 2016)
``*_zi``            the same with a mass π at θ = 0: ``beta_zi``, ``scaled_beta_zi``,
                    ``kumaraswamy_zi``, ``gmodel_zi`` (npmle already has θ = 0)
==================  ================================================================  =====================

The parametric likelihoods are exact: closed forms for Beta laws (log-gamma ratios without cancellation),
and for the scaled Beta and the Kumaraswamy a per-problem Gauss–Legendre rule in logit θ that follows that
problem's binomial likelihood, with the law's mass below 10⁻¹¹/n (and above 1 − 10⁻¹¹) in closed form from
its CDF (:mod:`._mixing_quad`), accurate for n_i from 1 to 10⁷ and more. Every fit also carries G
discretised on the common grid ``theta_J`` (θ = 0 and logit-spaced nodes from 10⁻¹¹ to 1 − 10⁻⁹, cell
masses from the CDF), which :func:`posterior_grid` uses.

Posterior predictive (spec §1): ``S_i(N) = E[(1 − θ_i)^N | k_i, n_i] = I(k_i, n_i − k_i + N) / I(k_i, n_i − k_i)``
with ``I(a, b) = ∫ θ^a (1 − θ)^b dG``: the same integral as the likelihood, so :func:`log_survival` is exact for
the parametric families and the grid sum for ``npmle``/``gmodel``.

Stopped logs: a problem sampled until its first success, at attempt t, is stored as (n = t, k = 1). Its
likelihood θ(1 − θ)^{t−1} equals the binomial one C(t, 1)θ(1 − θ)^{t−1} up to the constant factor t, so
the maximiser and the posterior of θ_i are exactly those of the fixed-n fit (a problem never solved within
its cap c is (n = c, k = 0) in both). Only ``loglik`` shifts by Σ log t_i over stopped rows.

Degenerate groups (no success at all, or only successes) have no interior maximum: the fit stops at the
parameter box (or, for ``npmle``, at all mass on the extreme grid node), ``degenerate`` is True and
``converged`` False; every number stays finite and the other groups of the batch are unaffected.

References:
  Kiefer & Wolfowitz (1956), Ann. Math. Stat. 27, 887; Efron (2016), Biometrika 103, 1 ("Empirical Bayes
  deconvolution estimates"); Varadhan & Roland (2008), Scand. J. Stat. 35, 335 (SQUAREM); Schaeffer et al.,
  arXiv 2502.17578 (Kumaraswamy-binomial, scaled Beta); Feng et al. (SABER), arXiv 2601.22636.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from scaling_theory.beta import log_kernel, log_moment_estimate
from scaling_theory.numerics import check, pad_to_multiple, shard_batch, x64
from scaling_theory.passk import _mixing_families as fam
from scaling_theory.passk import mle
from scaling_theory.passk.beta_binomial import log_binom
from scaling_theory.results import Result
from scaling_theory.stats import bootstrap_counts

FAMILIES: tuple[str, ...] = (
    "beta",
    "beta_zi",
    "scaled_beta",
    "scaled_beta_zi",
    "kumaraswamy",
    "kumaraswamy_zi",
    "beta_mix2",
    "beta_mix3",
    "npmle",
    "gmodel",
    "gmodel_zi",
)
PARAMETRIC = ("scaled_beta", "scaled_beta_zi", "kumaraswamy", "kumaraswamy_zi", "beta_mix2", "beta_mix3")
GRID = ("npmle", "gmodel", "gmodel_zi")
GMODEL_DF = 6
GMODEL_PENALTY = 1e-2
NPMLE_TOL = 1e-3
CHUNK = 512  # groups per compiled call for the grid families (their (G, K, J) likelihood matrix)

__all__ = [
    "FAMILIES",
    "MixingFit",
    "MixingPrediction",
    "fit_mixing",
    "log_survival",
    "predict_asr",
    "posterior_grid",
    "predict_mixing",
]


@dataclass(frozen=True)
class MixingFit(Result):
    """A fitted mixing law per group (NumPy arrays, leading axis G).

    Attributes:
      family: one of :data:`FAMILIES`.
      params: named parameters per group: ``alpha, beta`` (+ ``pi``) for ``beta``; ``alpha, beta, c`` for
        ``scaled_beta``; ``a, b`` for ``kumaraswamy``; ``weights, alpha, beta`` (G, M) for ``beta_mixM``
        (components ordered by mean); ``weights`` (G, J) and ``support`` (nodes with mass > 1e-8) for ``npmle``; ``coef`` (G, df) and
        ``knots`` for ``gmodel``; ``pi`` for every ``_zi`` family.
      loglik: (G,) maximised log-likelihood including the binomial coefficients (for ``gmodel`` the
        unpenalised ℓ at the penalised optimum).
      n_params: number of free parameters (``npmle``: the largest support size over groups minus one;
        ``gmodel``: the spline df (+ 1 with ``_zi``), nominal since the penalty shrinks it).
      converged: (G,) optimiser converged (gradient / Kiefer–Wolfowitz condition) at an interior point.
      theta_J: (J,) grid of θ (θ_0 = 0).
      log_weight_GxJ: (G, J) log-masses of the discretised G on ``theta_J`` (sum to 1 per group).
      degenerate: (G,) no success at all or no failure at all in the group.
    """

    family: str
    params: dict
    loglik: np.ndarray
    n_params: int
    converged: np.ndarray
    theta_J: np.ndarray
    log_weight_GxJ: np.ndarray
    degenerate: np.ndarray | None = field(default=None)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per group: ``group, family, loglik, n_params, converged, degenerate`` and the scalar parameters
        (vector parameters of the Beta mixtures and the g-model as ``name_1, name_2, …``; npmle weights omitted).

        Returns:
          A list of dicts of plain Python values.
        """
        g = self.loglik.shape[0]
        cols: dict[str, Any] = {
            "group": np.arange(g),
            "family": self.family,
            "loglik": self.loglik,
            "n_params": self.n_params,
            "converged": self.converged,
            "degenerate": self.degenerate if self.degenerate is not None else np.zeros(g, bool),
        }
        for name, v in self.params.items():
            v = np.asarray(v)
            if self.family == "npmle" and name == "weights":
                continue
            if v.ndim == 1:
                cols[name] = v
            else:
                for j in range(v.shape[1]):
                    cols[f"{name}_{j + 1}"] = v[:, j]
        lists = {c: np.broadcast_to(np.asarray(v), (g,)).tolist() for c, v in cols.items()}
        return [{c: lists[c][i] for c in lists} for i in range(g)]


@dataclass(frozen=True)
class MixingPrediction(Result):
    """Posterior-predictive ASR@N of the observed problems (G, B) with a bootstrap interval, and the fit.

    Rows: one per (group, budget) with ``asr, lower, upper`` (the fit has its own rows).
    """

    _row_fields = ("budgets", "asr", "lower", "upper")
    _index = ("group", "budgets")
    _columns = {"budgets": "budget"}

    asr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    fit: MixingFit
    budgets: np.ndarray


# -------------------------------------------------------------------------------------------- helpers


def _check_family(family: str) -> None:
    check(family in FAMILIES, f"unknown mixing family {family!r} (have {', '.join(FAMILIES)})")


def _prepare(n, k, mask):
    n, k, m = mle._prepare(n, k, mask)
    check(k.ndim == 2, f"c must have shape (groups, problems), got {k.shape}")
    return n, k, m


def _dedupe(n, k, m):
    """Collapse identical (n, k) rows of a group into one row weighted by its total weight (multiplicity; the
    likelihood is a weighted sum over rows): (G, K') arrays with K' ≤ K the largest number of distinct rows of a group."""
    g, kk = k.shape
    live = m > 0
    rows = np.stack([np.broadcast_to(np.arange(g)[:, None], (g, kk))[live], n[live], k[live]], axis=1)
    uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=m[live], minlength=uniq.shape[0])
    grp = uniq[:, 0].astype(int)
    first = np.searchsorted(grp, np.arange(g))
    rank = np.arange(grp.size) - first[grp]
    width = int(rank.max()) + 1
    n2, k2, w2 = np.ones((g, width)), np.zeros((g, width)), np.zeros((g, width))
    n2[grp, rank], k2[grp, rank], w2[grp, rank] = uniq[:, 1], uniq[:, 2], counts
    return n2, k2, w2


def _pad(n, k, m):
    """Pad problems to ``mle.bucket`` (minimum 16) and groups to a multiple of 8 (copies of group 0): few
    compiled shapes."""
    kk = n.shape[1]
    target = mle.bucket(kk, minimum=16) if kk > 16 else 16
    if target > kk:
        pad = [(0, 0), (0, target - kk)]
        n, k, m = np.pad(n, pad, constant_values=1.0), np.pad(k, pad), np.pad(m, pad)
    g = n.shape[0]
    gp = pad_to_multiple(max(g, 8), 8)
    idx = np.concatenate([np.arange(g), np.zeros(gp - g, dtype=int)])
    return n[idx], k[idx], m[idx]


def _degenerate(k, n, m):
    live = m > 0
    return (np.sum(np.where(live, k, 0), axis=1) == 0) | (np.sum(np.where(live, n - k, 0), axis=1) == 0)


# -------------------------------------------------------------------------------- damped Newton (LM)


def _lm(fun, u0, lo, hi, count, max_iter: int, gtol: float):
    """Projected Levenberg–Marquardt Newton minimising ``fun`` (total NLL of one group) from ``u0`` in the box."""
    p = u0.shape[0]
    eye = jnp.eye(p)

    def evaluate(u):
        f, g = jax.value_and_grad(fun)(u)
        h = jax.hessian(fun)(u)
        ok = jnp.isfinite(f) & jnp.all(jnp.isfinite(g)) & jnp.all(jnp.isfinite(h))
        return jnp.where(ok, f, jnp.inf), jnp.where(ok, g, 0.0), jnp.where(ok, h, eye)

    def free(u, g):
        return ~(((u <= lo) & (g > 0)) | ((u >= hi) & (g < 0)))

    u0 = jnp.clip(u0, lo, hi)
    f0, g0, h0 = evaluate(u0)

    def cond(s):
        return (~s[6]) & (s[5] < max_iter)

    def body(s):
        u, f, g, h, lam, it, _ = s
        fr = free(u, g)
        gf = jnp.where(fr, g, 0.0)
        hf = jnp.where(fr[:, None] & fr[None, :], h, eye)
        a = hf + lam * (jnp.mean(jnp.abs(jnp.diag(hf))) + 1.0) * eye
        d = -jnp.linalg.solve(a, gf)
        bad = ~jnp.all(jnp.isfinite(d)) | (jnp.dot(d, gf) >= 0)
        d = jnp.where(bad, -gf / (jnp.max(jnp.abs(gf)) + 1e-300) * 0.1, d)
        d = jnp.clip(d, -2.0, 2.0)
        cand = jnp.clip(u + d, lo, hi)
        fc, gc, hc = evaluate(cand)
        ok = fc <= f + 1e-12 * jnp.abs(f)
        step = jnp.max(jnp.abs(cand - u))
        u, f, g, h = (jnp.where(ok, x1, x0) for x1, x0 in ((cand, u), (fc, f), (gc, g), (hc, h)))
        lam = jnp.where(ok, jnp.maximum(lam * 0.2, 1e-10), lam * 10.0)
        small = jnp.max(jnp.abs(jnp.where(free(u, g), g, 0.0))) / count < gtol
        done = small | (lam > 1e12) | (ok & (step < 1e-12))
        return u, f, g, h, lam, it + 1, done

    state = (u0, f0, g0, h0, jnp.asarray(1e-3), jnp.asarray(0), jnp.asarray(False))
    u, f, g, h, lam, it, _ = jax.lax.while_loop(cond, body, state)
    conv = jnp.max(jnp.abs(jnp.where(free(u, g), g, 0.0))) / count < 1e-6
    return u, f, conv


# --------------------------------------------------------------------------------- parametric families


def _group_nll(sp, u, n, k, m, lbinom):
    ll = jax.vmap(lambda a, b: fam.log_integral(sp, u, a, b))(k, n - k)
    return -jnp.sum(jnp.where(m > 0, m * (lbinom + ll), 0.0))


@functools.partial(jax.jit, static_argnames=("family", "max_iter"))
def _fit_parametric(n, k, m, family: str, max_iter: int):
    sp = fam.spec(family)
    lo, hi = jnp.asarray(sp.lo), jnp.asarray(sp.hi)
    lbinom = log_binom(n, k)

    def one_group(n_, k_, m_, lb_):
        st = jnp.clip(fam.starts(sp, n_, k_, m_), lo, hi)
        count = jnp.maximum(jnp.sum(m_), 1.0)
        fun = functools.partial(lambda u: _group_nll(sp, u, n_, k_, m_, lb_))
        if sp.base not in fam.MIX_COMPONENTS:  # quadrature families: Newton from the best start only
            f0 = jax.vmap(fun)(st)
            st = st[jnp.argmin(jnp.where(jnp.isfinite(f0), f0, jnp.inf))][None]
        us, fs, cs = jax.vmap(lambda u0: _lm(fun, u0, lo, hi, count, max_iter, 1e-9))(st)
        fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
        best = jnp.argmin(fs)
        u = fam.order_components(sp, us[best])
        at_box = jnp.any(((u <= lo + 1e-6) | (u >= hi - 1e-6)) & jnp.asarray(sp.interior))
        return u, -fs[best], cs[best] & ~at_box, fam.log_cell_masses(sp, u)

    return jax.vmap(one_group)(n, k, m, lbinom)


_beta_cell_masses = jax.jit(jax.vmap(fam.beta_log_cell_masses))


def _params_of(family: str, u: np.ndarray) -> dict:
    sp = fam.spec(family)
    with jax.enable_x64(True):
        p = jax.vmap(lambda x: fam.natural(sp, x))(jnp.asarray(u))
    return {key: np.asarray(v) for key, v in p.items()}


# ----------------------------------------------------------------------------------------- grid families


def _log_lik_grid(n, k):
    """(..., J) log C(n, k) θ_j^k (1 − θ_j)^{n−k} on THETA_J (θ_0 = 0: 1 if k = 0, else 0)."""
    lt, l1t = jnp.asarray(fam.LOG_THETA_J), jnp.asarray(fam.LOG1M_THETA_J)
    k_, n_ = k[..., None], n[..., None]
    return log_binom(n, k)[..., None] + jnp.where(k_ > 0, k_ * lt, 0.0) + (n_ - k_) * l1t


@functools.partial(jax.jit, static_argnames=("max_iter",))
def _fit_npmle(n, k, m, max_iter: int, tol: float):
    logl = _log_lik_grid(n, k)  # (G, K, J)
    r = jnp.max(logl, axis=-1, keepdims=True)
    lt = jnp.exp(logl - r)
    j = lt.shape[-1]

    def one(lt_, m_, r_):
        count = jnp.maximum(jnp.sum(m_), 1.0)

        def em(w):
            f = lt_ @ w
            d = lt_.T @ (m_ / f) / count
            return w * d

        def ll(w):
            return jnp.sum(m_ * jnp.log(lt_ @ w))

        def kw(w):
            return jnp.max(lt_.T @ (m_ / (lt_ @ w)) / count)

        def cond(s):
            return (s[1] < max_iter) & (s[2] > 1.0 + tol)

        def body(s):
            w, it, _ = s
            w1 = em(w)
            w2 = em(w1)
            rr, v = w1 - w, w2 - 2 * w1 + w
            a = -jnp.sqrt(jnp.sum(rr**2)) / jnp.maximum(jnp.sqrt(jnp.sum(v**2)), 1e-300)
            a = jnp.minimum(a, -1.0)
            wx = jnp.maximum(w - 2 * a * rr + a * a * v, 1e-30 * jnp.max(w))
            wx = em(wx / jnp.sum(wx))
            better = jnp.isfinite(ll(wx)) & (ll(wx) >= ll(w2))
            w_new = jnp.where(better, wx, w2)
            return w_new, it + 1, kw(w_new)

        w0 = jnp.full(j, 1.0 / j)
        w, it, d = jax.lax.while_loop(cond, body, (w0, jnp.asarray(0), kw(w0)))
        loglik = ll(w) + jnp.sum(m_ * r_[:, 0])
        logw = jnp.log(w)
        # Masses EM cannot tell from zero are zero (support = where the KW gradient touches 1).
        logw = jnp.where(w < 1e-12 * jnp.max(w), -jnp.inf, logw)
        return logw - logsumexp(logw), loglik, d <= 1.0 + tol

    return jax.vmap(one)(lt, m, r)


def _gmodel_basis(knots: np.ndarray) -> np.ndarray:
    return fam.natural_spline_basis(fam.Z_GRID, knots)


@functools.partial(jax.jit, static_argnames=("zi", "max_iter"))
def _fit_gmodel(n, k, m, q, penalty, zi: bool, max_iter: int):
    logl = _log_lik_grid(n, k)
    r = jnp.max(logl, axis=-1, keepdims=True)
    lt = jnp.exp(logl - r)
    df = q.shape[1]
    lo = jnp.concatenate([jnp.full(df, -60.0), jnp.full(int(zi), -30.0)])
    hi = -lo

    def logw_of(u):
        lw = jax.nn.log_softmax(q @ u[:df])
        if zi:
            return jnp.concatenate([jax.nn.log_sigmoid(u[-1:]), jax.nn.log_sigmoid(-u[-1]) + lw])
        return jnp.concatenate([jnp.full(1, -jnp.inf), lw])

    def one(lt_, m_, r_, n_, k_):
        count = jnp.maximum(jnp.sum(m_), 1.0)

        def loglik(u):
            w = jnp.exp(logw_of(u))
            return jnp.sum(m_ * (jnp.log(lt_ @ w) + r_[:, 0]))

        def obj(u):
            return -loglik(u) + penalty * jnp.sum(u[:df] ** 2)

        # Starts: flat in logit θ, and the moment-fitted Beta's log-density in logit θ projected on the basis.
        la, lb = log_moment_estimate(n_, k_, m_)
        z = jnp.asarray(fam.Z_GRID)
        target = jnp.exp(la) * jax.nn.log_sigmoid(z) + jnp.exp(lb) * jax.nn.log_sigmoid(-z)
        coef = jnp.linalg.lstsq(q, target - jnp.mean(target))[0]
        frac0 = jnp.sum(m_ * (k_ == 0)) / count
        pz = jnp.clip(0.5 * frac0 + 0.01, 1e-3, 0.9)
        extra = [jnp.log(pz) - jnp.log1p(-pz)] if zi else []
        st = jnp.stack(
            [
                jnp.concatenate([jnp.zeros(df)] + [jnp.atleast_1d(e) for e in extra]),
                jnp.concatenate([jnp.clip(coef, -50, 50)] + [jnp.atleast_1d(e) for e in extra]),
            ]
        )
        us, fs, cs = jax.vmap(lambda u0: _lm(obj, u0, lo, hi, count, max_iter, 1e-9))(st)
        fs = jnp.where(jnp.isfinite(fs), fs, jnp.inf)
        u = us[jnp.argmin(fs)]
        at_box = jnp.any((u <= lo + 1e-6) | (u >= hi - 1e-6))
        return u, loglik(u), cs[jnp.argmin(fs)] & ~at_box, logw_of(u)

    return jax.vmap(one)(lt, m, r, n, k)


def _gmodel_knots(n, k, m, df: int) -> np.ndarray:
    """df + 1 knots at quantiles of logit((k+½)/(n+1)) pooled over the given groups' real problems (spread ≥ 0.5)."""
    p = ((k + 0.5) / (n + 1.0))[m > 0]
    z = np.log(p) - np.log1p(-p)
    knots = np.quantile(z, np.linspace(0.0, 1.0, df + 1))
    for i in range(1, knots.size):  # strictly increasing (ties when many problems share a count)
        knots[i] = max(knots[i], knots[i - 1] + 0.5)
    return knots


# ----------------------------------------------------------------------------------------------- public


@x64
def fit_mixing(n, c, mask=None, *, family: str, **options) -> MixingFit:
    """Maximum-likelihood mixing law ``family`` for every group of ``k`` (shape (G, K); ``n`` broadcasts).

    Args:
      n: attempts per problem (G, K) (or broadcastable), integers ≥ 1.
      k: successes per problem (G, K), 0 ≤ k ≤ n.
      mask: 0/1 (G, K) marking real problems (default: all).
      family: one of :data:`FAMILIES`.
      **options: ``max_iter`` (Newton steps, default 100; npmle: SQUAREM steps, default 1000);
        ``npmle``: ``tol`` on the Kiefer–Wolfowitz condition max_j D_j ≤ 1 + tol (default 1e-3);
        ``gmodel``: ``df`` (spline columns, default 6), ``penalty`` λ (default 1e-2), ``knots`` (df + 1 values in
        logit θ; default data quantiles pooled over the batch).

    Returns:
      :class:`MixingFit` with arrays of leading axis G.

    Raises:
      InputError: unknown family or option, bad counts (k > n, n < 1, non-integers, shapes).
    """
    _check_family(family)
    n, c, mask = _prepare(n, c, mask)
    allowed = (
        {"max_iter"}
        | ({"tol"} if family == "npmle" else set())
        | ({"df", "penalty", "knots"} if family.startswith("gmodel") else set())
    )
    unknown = sorted(set(options) - allowed)
    check(
        not unknown,
        f"unknown option(s) {', '.join(unknown)} for family {family!r} (allowed: {', '.join(sorted(allowed))})",
    )
    return _fit_validated(n, c, mask, family, options)


def _fit_validated(n, k, m, family: str, options: dict) -> MixingFit:
    """:func:`fit_mixing` on validated arrays; ``m`` may hold weights (multiplicities) except for the Beta families."""
    g = k.shape[0]
    degenerate = _degenerate(k, n, m)
    if family in ("beta", "beta_zi"):
        res = mle.fit(n, k, m, zero_inflated=family == "beta_zi", max_iter=int(options.get("max_iter", 100)))
        pi = res.pi if family == "beta_zi" else np.zeros(g)
        logw = np.asarray(_beta_cell_masses(res.alpha, res.beta, pi))
        params = {"alpha": res.alpha, "beta": res.beta}
        if family == "beta_zi":
            params["pi"] = res.pi
        return MixingFit(
            family,
            params,
            res.loglik,
            2 + (family == "beta_zi"),
            res.converged & ~res.at_bound,
            fam.THETA_J.copy(),
            logw,
            degenerate,
        )
    if family in PARAMETRIC:
        max_iter = int(options.get("max_iter", 100))
        check(max_iter >= 1, f"max_iter must be ≥ 1, got {max_iter}")
        n2, k2, m2 = _pad(*_dedupe(n, k, m))
        u, ll, conv, logw = (
            np.asarray(x)[:g]
            for x in _fit_parametric(
                *shard_batch((jnp.asarray(n2), jnp.asarray(k2), jnp.asarray(m2))), family, max_iter
            )
        )
        params = _params_of(family, u)
        return MixingFit(
            family, params, ll, fam.spec(family).n_params, conv & ~degenerate, fam.THETA_J.copy(), logw, degenerate
        )
    if family == "npmle":
        max_iter = int(options.get("max_iter", 1000))
        tol = float(options.get("tol", NPMLE_TOL))
        check(max_iter >= 1 and tol > 0, f"max_iter must be ≥ 1 and tol > 0, got {max_iter}, {tol}")
        outs = [
            _fit_npmle(*(jnp.asarray(a) for a in _pad(*chunk)), max_iter, tol) for chunk in _chunks(*_dedupe(n, k, m))
        ]
        logw, ll, conv = (np.concatenate([np.asarray(o[i]) for o in outs])[:g] for i in range(3))
        support = np.sum(logw > np.log(1e-8), axis=1)  # nodes with mass > 1e-8 (EM leaves tiny masses elsewhere)
        return MixingFit(
            family,
            {"weights": np.exp(logw), "support": support},
            ll,
            int(support.max()) - 1,
            conv,
            fam.THETA_J.copy(),
            logw,
            degenerate,
        )
    # g-model
    df = int(options.get("df", GMODEL_DF))
    check(2 <= df <= 20, f"df must be in [2, 20], got {df}")
    if "knots" in options:
        knots = np.asarray(options["knots"], float)
    else:  # pooled over the informative groups, so that a degenerate group does not move the others' basis
        keep = ~degenerate if np.any(~degenerate) else np.ones_like(degenerate)
        knots = _gmodel_knots(n[keep], k[keep], m[keep], df)
    check(knots.shape == (df + 1,) and np.all(np.diff(knots) > 0), f"knots must be {df + 1} increasing values")
    penalty = float(options.get("penalty", GMODEL_PENALTY))
    check(penalty >= 0, f"penalty must be ≥ 0, got {penalty}")
    max_iter = int(options.get("max_iter", 100))
    zi = family == "gmodel_zi"
    q = jnp.asarray(_gmodel_basis(knots))
    outs = [
        _fit_gmodel(*(jnp.asarray(a) for a in _pad(*chunk)), q, penalty, zi, max_iter)
        for chunk in _chunks(*_dedupe(n, k, m))
    ]
    u, ll, conv, logw = (np.concatenate([np.asarray(o[i]) for o in outs])[:g] for i in range(4))
    params = {"coef": u[:, :df], "knots": np.broadcast_to(knots, (g, df + 1)).copy()}
    if zi:
        params["pi"] = 1.0 / (1.0 + np.exp(-u[:, -1]))
    return MixingFit(family, params, ll, df + zi, conv & ~degenerate, fam.THETA_J.copy(), logw, degenerate)


def _chunks(n, k, m):
    for s in range(0, n.shape[0], CHUNK):
        yield n[s : s + CHUNK], k[s : s + CHUNK], m[s : s + CHUNK]


# ------------------------------------------------------------------------------------ posterior predictive


def _log_integral_closed(family, p, a, b):
    """Beta families: log ∫ θ^a(1−θ)^b dG = log B(α+a, β+b) − log B(α, β) (``beta.log_kernel``), zero-inflated."""
    base = log_kernel(a, a + b, p["alpha"], p["beta"])
    if family == "beta_zi":
        pi = p["pi"]
        return jnp.where(a == 0, jnp.logaddexp(jnp.log(pi), jnp.log1p(-pi) + base), jnp.log1p(-pi) + base)
    return base


@functools.partial(jax.jit, static_argnames=("family",))
def _log_surv_param(family, u, n, k, budgets):
    """(G, K, B) log S_i(N) for the parametric (quadrature / mixture) families."""
    sp = fam.spec(family)

    def per_problem(uu, nn, kk):
        li = lambda bb: fam.log_integral(sp, uu, kk, bb)  # noqa: E731
        return jax.vmap(li)(nn - kk + budgets) - li(nn - kk)

    return jax.vmap(lambda uu, nn, kk: jax.vmap(lambda a, c: per_problem(uu, a, c))(nn, kk))(u, n, k)


@functools.partial(jax.jit, static_argnames=("family",))
def _log_surv_beta(family, alpha, beta, pi, n, k, budgets):
    p = {"alpha": alpha[:, None, None], "beta": beta[:, None, None], "pi": pi[:, None, None]}
    a, b = k[..., None], (n - k)[..., None]
    return _log_integral_closed(family, p, a, b + budgets) - _log_integral_closed(family, p, a, b)


@jax.jit
def _log_surv_grid(logw, n, k, budgets):
    lt, l1t = jnp.asarray(fam.LOG_THETA_J), jnp.asarray(fam.LOG1M_THETA_J)
    head = logw[:, None, :] + jnp.where(k[..., None] > 0, k[..., None] * lt, 0.0)  # (G, K, J)
    base = logsumexp(head + (n - k)[..., None] * l1t, axis=-1)

    def one(bud):
        return logsumexp(head + (n - k + bud)[..., None] * l1t, axis=-1) - base

    return jnp.moveaxis(jax.lax.map(one, budgets), 0, -1)


def _check_against_fit(fit: MixingFit, n, k, mask):
    n, k, m = _prepare(n, k, mask)
    check(k.shape[0] == fit.loglik.shape[0], f"counts have {k.shape[0]} groups, the fit has {fit.loglik.shape[0]}")
    return n, k, m


def _budgets(budgets) -> np.ndarray:
    b = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    check(b.ndim == 1 and b.size >= 1, f"budgets must be a 1-D array, got shape {b.shape}")
    check(np.all(np.isfinite(b)) and np.all(b >= 0), "budgets must be finite and ≥ 0")
    return b


@x64
def log_survival(fit: MixingFit, n, c, mask, budgets) -> np.ndarray:
    """log S_i(N) = log E[(1 − θ_i)^N | k_i, n_i] under the fitted G, per group, problem and budget.

    Args:
      fit: a :class:`MixingFit` with G groups.
      n, k, mask: counts (G, K) of the problems to predict (usually those fitted).
      budgets: (B,) fresh attempts N ≥ 0.

    Returns:
      (G, K, B) array (0 for padded problems). Exact for the parametric families (closed forms or the
      quadrature), the grid sum for ``npmle`` and ``gmodel``.
    """
    n, c, mask = _check_against_fit(fit, n, c, mask)
    out = _log_surv_raw(fit, n, c, _budgets(budgets))
    return np.where(mask[..., None] > 0, out, 0.0)


def _log_surv_raw(fit: MixingFit, n, k, b) -> np.ndarray:
    nj, kj, bj = jnp.asarray(n), jnp.asarray(k), jnp.asarray(b)
    if fit.family in ("beta", "beta_zi"):
        pi = fit.params.get("pi", np.zeros_like(fit.loglik))
        out = _log_surv_beta(
            fit.family, jnp.asarray(fit.params["alpha"]), jnp.asarray(fit.params["beta"]), jnp.asarray(pi), nj, kj, bj
        )
    elif fit.family in PARAMETRIC:
        u = fam.unconstrained(fam.spec(fit.family), fit.params)
        out = _log_surv_param(fit.family, jnp.asarray(u), nj, kj, bj)
    else:
        out = _log_surv_grid(jnp.asarray(fit.log_weight_GxJ), nj, kj, bj)
    return np.minimum(np.asarray(out), 0.0)


def _asr_weighted(fit: MixingFit, n, k, w, b) -> np.ndarray:
    ls = _log_surv_raw(fit, n, k, b)
    return 1.0 - np.sum(np.exp(ls) * w[..., None], axis=1) / np.sum(w, axis=1)[:, None]


def predict_asr(fit: MixingFit, n, c, mask, budgets) -> np.ndarray:
    """(G, B) posterior-predictive pass@N of the observed problems: 1 − mean_i S_i(N) over real problems."""
    ls = log_survival(fit, n, c, mask, budgets)
    mask = _prepare(n, c, mask)[2]
    return 1.0 - np.sum(np.exp(ls) * mask[..., None], axis=1) / np.sum(mask, axis=1)[:, None]


@x64
def posterior_grid(fit: MixingFit, n, c, mask) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of θ_i on the fit's grid: ``theta_J`` (J,) and log-probabilities (G, K, J) normalised per
    problem (padded problems get the prior). Uses the discretised G of every family."""
    n, c, mask = _check_against_fit(fit, n, c, mask)
    return fit.theta_J.copy(), np.asarray(_posterior_grid(fit.log_weight_GxJ, n, c, mask))


@jax.jit
def _posterior_grid(logw, n, k, mask):
    """(G, K, J) log posterior of θ_i on THETA_J given the log prior masses ``logw`` (G, J)."""
    lp = logw[:, None, :] + jnp.where(mask[..., None] > 0, _log_lik_grid(n, k), 0.0)
    return lp - logsumexp(lp, axis=-1, keepdims=True)


@x64
def predict_mixing(
    key: jax.Array, n, c, mask, budgets, *, family: str, replicates: int = 200, level: float = 0.9, **options
) -> MixingPrediction:
    """Posterior-predictive ASR@N of the observed problems under ``family``, with a bootstrap interval.

    The interval resamples problems within each group (with replacement, as many as the group has;
    ``stats.bootstrap_counts``), refits G
    on every replicate (all G·R replicates in one batched fit) and takes the ``level`` percentile interval of
    the replicates' 1 − mean_i S_i(N) over their resampled problems.

    Args:
      n, k, mask: counts (G, K).
      budgets: (B,) target budgets N.
      family: one of :data:`FAMILIES`.
      key: ``jax.random`` key.
      replicates: bootstrap replicates R ≥ 2.
      level: two-sided interval level in (0, 1).
      **options: passed to :func:`fit_mixing`.

    Returns:
      :class:`MixingPrediction` with ``asr, lower, upper`` (G, B), the fit on all data and the budgets (B,).
    """
    _check_family(family)
    check(int(replicates) >= 2, f"replicates must be ≥ 2, got {replicates}")
    check(0 < float(level) < 1, f"level must be in (0, 1), got {level}")
    n, c, mask = _prepare(n, c, mask)
    b = _budgets(budgets)
    fit = fit_mixing(n, c, mask, family=family, **options)
    asr = predict_asr(fit, n, c, mask, b)
    g, kk = c.shape
    r = int(replicates)
    live_first = np.argsort(mask <= 0, axis=1, kind="stable")
    cnt = mask.sum(axis=1).astype(int)
    # Multiplicities of each group's live problems per replicate (stats.bootstrap_counts), as row indices.
    mult = np.swapaxes(bootstrap_counts(key, cnt, r), 0, 1)  # (R, G, max count)
    cum = np.cumsum(mult, axis=-1).reshape(r * g, -1)
    stride = kk + 1  # every row's cumulative counts lie in [0, kk]: offset rows to search them all at once
    flat = (cum + stride * np.arange(r * g)[:, None]).ravel()
    query = (np.arange(kk)[None, :] + stride * np.arange(r * g)[:, None]).ravel()
    pos = np.searchsorted(flat, query, side="right").reshape(r * g, kk) - cum.shape[1] * np.arange(r * g)[:, None]
    pos = np.clip(pos, 0, kk - 1).reshape(r, g, kk)  # the j-th draw is live problem pos (j < count)
    idx = np.take_along_axis(np.broadcast_to(live_first, (r, g, kk)), pos, axis=2)
    valid = np.arange(kk)[None, None, :] < cnt[None, :, None]
    nb = np.where(valid, np.take_along_axis(np.broadcast_to(n, (r, g, kk)), idx, axis=2), 1.0).reshape(r * g, kk)
    kb = np.where(valid, np.take_along_axis(np.broadcast_to(c, (r, g, kk)), idx, axis=2), 0.0).reshape(r * g, kk)
    mb = np.broadcast_to(valid, (r, g, kk)).astype(float).reshape(r * g, kk)
    if family.startswith("gmodel") and "knots" not in options:  # the replicates share the data's basis
        options = dict(options, knots=fit.params["knots"][0])
    if family not in ("beta", "beta_zi"):  # replicates repeat problems: fit and predict on weighted distinct rows
        nb, kb, mb = _dedupe(nb, kb, mb)
    boot = _fit_validated(nb, kb, mb, family, options)
    reps = _asr_weighted(boot, nb, kb, mb, b).reshape(r, g, b.size)
    tail = (1.0 - float(level)) / 2.0
    lo, hi = np.quantile(reps, [tail, 1.0 - tail], axis=0)
    return MixingPrediction(asr, np.minimum(lo, asr), np.maximum(hi, asr), fit, np.asarray(b, np.float64))
