"""Mixing-law families for :mod:`.mixing` (private): parameters, starts, log ∫ θ^a(1−θ)^b dG, discretisation.

Every function here is written for ONE group (vectors over its problems or over the θ grid) and is vmapped
by :mod:`.mixing`. A parametric family works on an unconstrained vector ``u`` (logs and logits, kept in a
box); :func:`log_integral` is exact (closed form) or the quadrature of :mod:`._mixing_quad`;
:func:`log_cell_masses` gives the discretised law on the common θ grid from the family's CDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, logsumexp

from scaling_theory import special
from scaling_theory.beta import log_kernel, log_moment_estimate
from scaling_theory.passk import _mixing_quad as quad

# Common θ grid: θ = 0 and logit-spaced nodes from 1e-11 (far below 1/N for N ≤ 1e7) to 1 − 1e-9.
GRID_STEP = 0.128
Z_GRID = np.arange(np.log(1e-11), np.log(1e9) + 1e-9, GRID_STEP)
THETA_J = np.concatenate([[0.0], 1.0 / (1.0 + np.exp(-Z_GRID))])
LOG_THETA_J = np.concatenate([[-np.inf], -np.logaddexp(0.0, -Z_GRID)])
LOG1M_THETA_J = np.concatenate([[0.0], -np.logaddexp(0.0, Z_GRID)])
_EDGES_Z = np.concatenate([[Z_GRID[0] - GRID_STEP / 2], Z_GRID[:-1] + GRID_STEP / 2, [np.inf]])
MIX_COMPONENTS = {"beta_mix2": 2, "beta_mix3": 3}
LOG_EPS = np.log(1e-4)


@dataclass(frozen=True)
class Spec:
    """A parametric family: names of the natural parameters, box for ``u``, zero inflation."""

    base: str
    zi: bool
    lo: np.ndarray
    hi: np.ndarray

    @property
    def n_params(self) -> int:
        return self.lo.size

    @property
    def interior(self) -> np.ndarray:
        """Coordinates whose box edges are not part of the model (the scaled Beta's c → 1 is the Beta law)."""
        out = np.ones(self.lo.size, bool)
        if self.base == "scaled_beta":
            out[2] = False
        return out


def spec(family: str) -> Spec:
    base = family[:-3] if family.endswith("_zi") else family
    zi = family.endswith("_zi")
    if base == "scaled_beta":
        lo, hi = [np.log(1e-4), np.log(1e-4), -20.0], [np.log(1e4), np.log(1e7), 25.0]
    elif base == "kumaraswamy":
        lo, hi = [np.log(1e-3), np.log(1e-3)], [np.log(1e3), np.log(1e8)]
    elif base in MIX_COMPONENTS:
        mm = MIX_COMPONENTS[base]
        lo = [np.log(1e-4)] * (2 * mm) + [-25.0] * (mm - 1)
        hi = [np.log(1e5)] * mm + [np.log(1e7)] * mm + [25.0] * (mm - 1)
    else:
        raise KeyError(base)
    if zi:
        lo, hi = lo + [-30.0], hi + [30.0]
    return Spec(base, zi, np.asarray(lo, float), np.asarray(hi, float))


# ----------------------------------------------------------------------------- natural parameters


def natural(sp: Spec, u):
    """dict of natural parameters (jnp) from ``u``."""
    out = {}
    if sp.base == "scaled_beta":
        out = {"alpha": jnp.exp(u[0]), "beta": jnp.exp(u[1]), "c": jax.nn.sigmoid(u[2])}
    elif sp.base == "kumaraswamy":
        out = {"a": jnp.exp(u[0]), "b": jnp.exp(u[1])}
    else:
        mm = MIX_COMPONENTS[sp.base]
        out = {
            "weights": jax.nn.softmax(jnp.concatenate([jnp.zeros(1), u[2 * mm : 3 * mm - 1]])),
            "alpha": jnp.exp(u[:mm]),
            "beta": jnp.exp(u[mm : 2 * mm]),
        }
    if sp.zi:
        out["pi"] = jax.nn.sigmoid(u[-1])
    return out


def unconstrained(sp: Spec, params: dict) -> np.ndarray:
    """Inverse of :func:`natural` on NumPy arrays with a leading group axis."""

    def logit(p):
        p = np.clip(np.asarray(p, float), 1e-300, 1 - 1e-16)
        return np.log(p) - np.log1p(-p)

    if sp.base == "scaled_beta":
        cols = [np.log(params["alpha"])[:, None], np.log(params["beta"])[:, None], logit(params["c"])[:, None]]
    elif sp.base == "kumaraswamy":
        cols = [np.log(params["a"])[:, None], np.log(params["b"])[:, None]]
    else:
        w = np.clip(params["weights"], 1e-300, None)
        cols = [np.log(params["alpha"]), np.log(params["beta"]), np.log(w[:, 1:]) - np.log(w[:, :1])]
    if sp.zi:
        cols.append(logit(params["pi"])[:, None])
    return np.concatenate(cols, axis=1)


def order_components(sp: Spec, u):
    """Beta mixtures: components sorted by mean α/(α+β) (removes label switching)."""
    if sp.base not in MIX_COMPONENTS:
        return u
    mm = MIX_COMPONENTS[sp.base]
    la, lb = u[:mm], u[mm : 2 * mm]
    v = jnp.concatenate([jnp.zeros(1), u[2 * mm : 3 * mm - 1]])
    order = jnp.argsort(la - jnp.logaddexp(la, lb))
    v = v[order]
    return jnp.concatenate([la[order], lb[order], (v - v[0])[1:], u[3 * mm - 1 :]])


# ------------------------------------------------------------------------------------ log ∫ θ^a(1−θ)^b dG


def _log_integral_base(sp: Spec, u, a, b):
    if sp.base in MIX_COMPONENTS:
        p = natural(sp, u)
        terms = jnp.log(p["weights"]) + log_kernel(a, a + b, p["alpha"], p["beta"])
        return logsumexp(terms)
    ls = jax.nn.log_sigmoid
    if sp.base == "scaled_beta":
        al, be = jnp.exp(u[0]), jnp.exp(u[1])
        lbeta = special.betaln(al, be)
        return quad.log_integral(
            a,
            b,
            ls(u[2]),
            ls(-u[2]),
            lambda y: al * ls(y) + be * ls(-y) - lbeta,
            lambda y: al * ls(y) - jnp.log(al) - lbeta,
            lambda y: be * ls(-y) - jnp.log(be) - lbeta,
        )
    ka, kb = jnp.exp(u[0]), jnp.exp(u[1])

    def log1m_pow(y):  # log(1 − x^a), x = σ(y)
        return jnp.log(-jnp.expm1(ka * ls(y)))

    return quad.log_integral(
        a,
        b,
        jnp.asarray(0.0),
        jnp.asarray(-jnp.inf),
        lambda y: jnp.log(ka) + jnp.log(kb) + ka * ls(y) + (kb - 1.0) * log1m_pow(y) + ls(-y),
        lambda y: _kumaraswamy_log_cdf(ka, kb, ls(y)),
        lambda y: kb * log1m_pow(y),
    )


def _kumaraswamy_log_cdf(ka, kb, log_x):
    """log(1 − (1 − x^a)^b) without overflow of its gradient when x^a underflows (double-where)."""
    t = ka * log_x  # log x^a
    tiny = t < -20.0
    ts = jnp.where(tiny, -20.0, t)
    log_neg_l = jnp.where(tiny, t, jnp.log(-jnp.log1p(-jnp.exp(ts))))  # log(−log(1 − x^a))
    v = jnp.log(kb) + log_neg_l  # log(−b·log(1 − x^a))
    small = v < -20.0
    vs = jnp.where(small, -20.0, v)
    return jnp.where(small, v, jnp.log(-jnp.expm1(-jnp.exp(vs))))


def log_integral(sp: Spec, u, a, b):
    """log ∫ θ^a (1−θ)^b dG(θ) for one problem (a, b scalars); zero inflation adds π·1(a = 0)."""
    base = _log_integral_base(sp, u, a, b)
    if not sp.zi:
        return base
    lp, l1p = jax.nn.log_sigmoid(u[-1]), jax.nn.log_sigmoid(-u[-1])
    return jnp.where(a == 0, jnp.logaddexp(lp, l1p + base), l1p + base)


# ------------------------------------------------------------------------------- starts


def _masked_quantiles(x, m, probs):
    order = jnp.argsort(jnp.where(m > 0, x, jnp.inf))
    xs = x[order]
    cnt = jnp.maximum(jnp.sum(m), 1.0)
    idx = jnp.clip(jnp.floor(jnp.asarray(probs) * (cnt - 1) + 0.5).astype(jnp.int32), 0, x.shape[0] - 1)
    return xs[idx]


def starts(sp: Spec, n, k, m):
    """(S, P) starting points of one group."""
    la, lb = log_moment_estimate(n, k, m)
    frac0 = jnp.sum(m * (k == 0)) / jnp.maximum(jnp.sum(m), 1.0)
    if sp.base == "scaled_beta":
        th = jnp.max(jnp.where(m > 0, (k + 0.5) / (n + 1.0), 0.0))
        c0 = jnp.clip(1.5 * th, 0.05, 0.99)
        base = jnp.array(
            [
                [la, lb, 7.0],
                [la, lb + jnp.log(c0), jnp.log(c0) - jnp.log1p(-c0)],
                [np.log(0.5), np.log(2.0), np.log(9.0)],
            ]
        )
    elif sp.base == "kumaraswamy":
        base = jnp.array([[la, 0.0], [la, np.log(10.0)], [la, lb], [np.log(0.5), np.log(2.0)]])
    else:
        mm = MIX_COMPONENTS[sp.base]
        lt = jnp.log((k + 0.5) / (n + 1.0)) - jnp.log1p(-(k + 0.5) / (n + 1.0))
        rows = []
        for probs, conc in (
            ((np.arange(mm) + 0.5) / mm, 2.0),
            ((np.arange(mm) + 0.5) / mm, 20.0),
            (np.linspace(0.05, 0.95, mm), 1.0),
        ):
            mu = jax.nn.sigmoid(_masked_quantiles(lt, m, probs))
            rows.append(jnp.concatenate([jnp.log(mu * conc), jnp.log((1 - mu) * conc), jnp.zeros(mm - 1)]))
        shift = jnp.linspace(-1.0, 1.0, mm)  # around the moment fit: means spread by e^{±1}
        rows.append(jnp.concatenate([la + shift, jnp.full(mm, lb), jnp.zeros(mm - 1)]))
        base = jnp.stack(rows)
    if not sp.zi:
        return jnp.clip(base, sp.lo, sp.hi)
    pis = jnp.clip(jnp.array([0.01, 0.5 * frac0 + 0.01]), 1e-3, 0.9)
    logit = jnp.log(pis) - jnp.log1p(-pis)
    out = jnp.concatenate([jnp.repeat(base, 2, axis=0), jnp.tile(logit, base.shape[0])[:, None]], axis=1)
    return jnp.clip(out, sp.lo, sp.hi)


# -------------------------------------------------------------------------- discretisation on THETA_J


def _log_diff(lu, ll):
    """log(e^lu − e^ll), lu ≥ ll."""
    d = jnp.minimum(ll - lu, 0.0)
    return lu + jnp.where(d > -0.693, jnp.log(-jnp.expm1(d)), jnp.log1p(-jnp.exp(d)))


def _beta_log_cdf_sf(al, be, x, y1m):
    """log P(X ≤ x), log P(X > x) for X ~ Beta(al, be); x and 1−x (``y1m``) given separately."""
    return jnp.log(betainc(al, be, x)), jnp.log(betainc(be, al, y1m))


def log_cdf_sf(sp: Spec, u, z):
    """log CDF and log survival of θ (without zero inflation) at θ = σ(z) (z may be ±inf)."""
    t, t1m = jax.nn.sigmoid(z), jax.nn.sigmoid(-z)
    p = natural(sp, u)
    if sp.base == "kumaraswamy":
        lsf = p["b"] * jnp.log(-jnp.expm1(p["a"] * jax.nn.log_sigmoid(z)))
        lsf = jnp.where(jnp.isposinf(z), -jnp.inf, lsf)
        return jnp.log(-jnp.expm1(lsf)), lsf
    if sp.base == "scaled_beta":
        c = p["c"]
        x = jnp.clip(t / c, 0.0, 1.0)
        x1m = jnp.clip((t1m - (1.0 - c)) / c, 0.0, 1.0)
        return _beta_log_cdf_sf(p["alpha"], p["beta"], x, x1m)
    cdf = jnp.sum(p["weights"][:, None] * betainc(p["alpha"][:, None], p["beta"][:, None], t[None, :]), axis=0)
    sf = jnp.sum(p["weights"][:, None] * betainc(p["beta"][:, None], p["alpha"][:, None], t1m[None, :]), axis=0)
    return jnp.log(cdf), jnp.log(sf)


def log_cell_masses(sp: Spec, u):
    """(J,) log G-masses of the cells of THETA_J: node 0 (θ = 0) carries P(θ < first cell edge) (+ π)."""
    lcdf, lsf = log_cdf_sf(sp, u, jnp.asarray(_EDGES_Z))
    lower = _log_diff(lcdf[1:], lcdf[:-1])  # cells in the lower half: CDF differences
    upper = _log_diff(lsf[:-1], lsf[1:])  # upper half: survival differences (no cancellation near 1)
    cells = jnp.where(jnp.asarray(Z_GRID) < 0, lower, upper)
    cells = jnp.where(jnp.isnan(cells), -jnp.inf, cells)
    logw = jnp.concatenate([lcdf[:1], cells])
    logw = logw - logsumexp(logw)
    if sp.zi:
        lp, l1p = jax.nn.log_sigmoid(u[-1]), jax.nn.log_sigmoid(-u[-1])
        logw = (l1p + logw).at[0].set(jnp.logaddexp(lp, l1p + logw[0]))
    return logw


def beta_log_cell_masses(alpha, beta, pi):
    """Discretised (zero-inflated) Beta(α, β) on THETA_J, as :func:`log_cell_masses`."""
    z = jnp.asarray(_EDGES_Z)
    lcdf, lsf = _beta_log_cdf_sf(alpha, beta, jax.nn.sigmoid(z), jax.nn.sigmoid(-z))
    cells = jnp.where(jnp.asarray(Z_GRID) < 0, _log_diff(lcdf[1:], lcdf[:-1]), _log_diff(lsf[:-1], lsf[1:]))
    cells = jnp.where(jnp.isnan(cells), -jnp.inf, cells)
    logw = jnp.concatenate([lcdf[:1], cells])
    logw = logw - logsumexp(logw)
    lp, l1p = jnp.log(pi), jnp.log1p(-pi)
    return (l1p + logw).at[0].set(jnp.logaddexp(lp, l1p + logw[0]))


# ------------------------------------------------------------------------------------- g-model basis


def natural_spline_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Natural cubic spline basis without the constant (len(knots) − 1 columns: x and the truncated-power
    differences, ESL §5.2.1), columns standardised over ``x`` (Efron's g-modelling convention)."""
    kk = knots.size

    def d(j):
        return (np.maximum(x - knots[j], 0) ** 3 - np.maximum(x - knots[-1], 0) ** 3) / (knots[-1] - knots[j])

    cols = [x] + [d(j) - d(kk - 2) for j in range(kk - 2)]
    q = np.stack(cols, axis=1)
    q = q - q.mean(axis=0)
    return q / q.std(axis=0)
