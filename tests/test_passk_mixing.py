"""passk.mixing: each mixing family pinned to independent computations (SciPy likelihoods, quadrature,
₂F₁, Kiefer–Wolfowitz conditions, scipy.optimize on the g-model objective, simulation)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from scaling_theory.errors import InputError
from scaling_theory.passk import _mixing_families as fam
from scaling_theory.passk import mixing, mle
from tests._stats import assert_within_se

# ----------------------------------------------------------------------------- independent references


def quad_log_integral(logpdf, a, b, lo=0.0, hi=1.0):
    """log ∫ θ^a (1−θ)^b g(θ) dθ by scipy.quad in s = log θ − log(1−θ), scaled at the integrand's peak."""

    def h(s):
        lt, l1t = -np.logaddexp(0, -s), -np.logaddexp(0, s)
        return a * lt + b * l1t + logpdf(np.exp(lt)) + lt + l1t

    grid = np.linspace(-60, 40, 20001)
    with np.errstate(all="ignore"):
        vals = h(grid)
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    peak, s_star = vals.max(), grid[np.argmax(vals)]
    width = max(1.0 / np.sqrt(max(a, 1.0)), 1e-3)
    pts = [s_star - 30 * width, s_star - 5 * width, s_star, s_star + 5 * width, s_star + 30 * width]
    pts = sorted(p for p in pts if -300 < p < 100)

    def f(s):
        with np.errstate(all="ignore"):
            v = h(s)
        return np.exp(v - peak) if np.isfinite(v) else 0.0

    total = 0.0
    edges = [-np.inf] + pts + [np.inf]
    for x0, x1 in zip(edges[:-1], edges[1:]):
        total += integrate.quad(f, x0, x1, limit=400, epsabs=0, epsrel=1e-11)[0]
    return peak + np.log(total)


def kumaraswamy_logpdf(a, b):
    return lambda t: np.log(a * b) + (a - 1) * np.log(t) + (b - 1) * np.log1p(-(t**a))


def scaled_beta_logpdf(al, be, c):
    return lambda t: np.where(t < c, stats.beta.logpdf(np.minimum(t / c, 1.0), al, be) - np.log(c), -np.inf)


@functools.cache
def _compiled(family):
    sp = fam.spec(family)
    return jax.jit(jax.vmap(lambda uu, aa, bb: fam.log_integral(sp, uu, aa, bb), in_axes=(None, 0, 0)))


def log_integral(family, u, a, b):
    """The module's log ∫ θ^a(1−θ)^b dG at unconstrained parameters ``u`` (a, b scalars or arrays)."""
    with jax.enable_x64(True):
        a1, b1 = np.broadcast_arrays(np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float)))
        out = np.asarray(_compiled(family)(jnp.asarray(u, jnp.float64), jnp.asarray(a1), jnp.asarray(b1)))
    return out if np.ndim(a) or np.ndim(b) else float(out[0])


CASES = [
    (0, 0),
    (0, 10),
    (0, 3_700_000),
    (1, 9),
    (1, 3_700_000),
    (5, 995),
    (40, 60),
    (3153, 6847),
    (10, 0),
    (1733, 3_698_267),
]


# ---------------------------------------------------------------------------- likelihoods and integrals


@pytest.mark.parametrize("a,b", CASES)
def test_kumaraswamy_integral_matches_scipy_quad(a, b):
    ka, kb = 0.12, 7.0
    got = log_integral("kumaraswamy", [np.log(ka), np.log(kb)], a, b)
    want = quad_log_integral(kumaraswamy_logpdf(ka, kb), a, b)
    assert got == pytest.approx(want, abs=1e-7, rel=1e-9)


@pytest.mark.parametrize("a,b", CASES)
def test_scaled_beta_integral_matches_scipy_quad(a, b):
    al, be, c = 0.3, 2.5, 0.7
    got = log_integral("scaled_beta", [np.log(al), np.log(be), np.log(c / (1 - c))], a, b)
    want = quad_log_integral(scaled_beta_logpdf(al, be, c), a, b)
    if not np.isfinite(want):
        pytest.skip("reference underflows")
    assert got == pytest.approx(want, abs=1e-7, rel=1e-9)


@pytest.mark.parametrize("al,be,c", [(0.065, 101.0, 0.9), (0.5, 2.0, 0.3), (2.0, 0.7, 0.95)])
def test_scaled_beta_survival_is_hypergeometric(al, be, c):
    """E[(1 − cB)^N] = ₂F₁(−N, α; α+β; c) for B ~ Beta(α, β) (spec §1), N = 0..60."""
    u = [np.log(al), np.log(be), np.log(c / (1 - c))]
    for nn in (0, 1, 2, 7, 20, 60):
        want = special.hyp2f1(-nn, al, al + be, c)
        assert np.exp(log_integral("scaled_beta", u, 0, nn)) == pytest.approx(want, rel=1e-9)


def test_beta_mixture_loglik_matches_scipy_betabinom():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 5000, 60).astype(float)
    k = np.floor(rng.uniform(0, 1, 60) ** 3 * n)
    w, al, be = np.array([0.3, 0.7]), np.array([0.2, 3.0]), np.array([50.0, 4.0])
    u = np.concatenate([np.log(al), np.log(be), [np.log(w[1] / w[0])]])
    got = np.sum(log_integral("beta_mix2", u, k, n - k)) + np.sum(
        special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    )
    want = np.sum(
        np.log(w[0] * stats.betabinom.pmf(k, n, al[0], be[0]) + w[1] * stats.betabinom.pmf(k, n, al[1], be[1]))
    )
    assert got == pytest.approx(want, rel=1e-10)


def test_zero_inflation_adds_mass_at_zero_only():
    u = [np.log(0.12), np.log(7.0), np.log(0.25 / 0.75)]
    base = [np.log(0.12), np.log(7.0)]
    for a, b in [(0, 100), (3, 100)]:
        want = (0.25 if a == 0 else 0.0) + 0.75 * np.exp(log_integral("kumaraswamy", base, a, b))
        assert np.exp(log_integral("kumaraswamy_zi", u, a, b)) == pytest.approx(want, rel=1e-12)


# ---------------------------------------------------------------------------------------------- fits


def _sim(rng, draw, g, kk, n):
    theta = draw(rng, (g, kk))
    n = np.broadcast_to(np.asarray(n, float), (g, kk)).copy()
    return n, rng.binomial(n.astype(np.int64), theta).astype(float)


def test_beta_family_is_mle_fit():
    rng = np.random.default_rng(2)
    n, k = _sim(rng, lambda r, s: r.beta(0.4, 4.0, s), 3, 80, 40)
    a = mixing.fit_mixing(n, k, family="beta")
    b = mle.fit(n, k)
    np.testing.assert_allclose(a.params["alpha"], b.alpha, rtol=1e-12)
    np.testing.assert_allclose(
        a.loglik, stats.betabinom.logpmf(k, n, b.alpha[:, None], b.beta[:, None]).sum(1), rtol=1e-9
    )


@pytest.mark.slow
def test_kumaraswamy_fit_loglik_is_direct_likelihood_and_a_maximum():
    """Fitted loglik = Σ log C(n,k) + quad integral at the fitted (a, b); no better point nearby (scipy)."""
    rng = np.random.default_rng(3)
    n, k = _sim(rng, lambda r, s: (1 - r.uniform(size=s) ** (1 / 6.0)) ** (1 / 0.3), 2, 30, 100)
    f = mixing.fit_mixing(n, k, family="kumaraswamy")
    assert f.converged.all()
    for g in range(2):
        ka, kb = f.params["a"][g], f.params["b"][g]

        def ll(x):
            return sum(
                quad_log_integral(kumaraswamy_logpdf(np.exp(x[0]), np.exp(x[1])), ki, ni - ki)
                for ni, ki in zip(n[g], k[g])
            ) + np.sum(special.gammaln(n[g] + 1) - special.gammaln(k[g] + 1) - special.gammaln(n[g] - k[g] + 1))

        x0 = np.log([ka, kb])
        assert f.loglik[g] == pytest.approx(ll(x0), abs=1e-6)
        for d in ([0.02, 0.01], [-0.01, 0.02]):  # a local maximum of the direct likelihood
            assert ll(x0 + np.array(d)) < f.loglik[g] + 1e-6


@pytest.mark.slow
def test_batched_fit_equals_per_group_fits():
    rng = np.random.default_rng(4)
    n, k = _sim(rng, lambda r, s: r.beta(0.5, 3.0, s), 3, 30, 30)
    n[1, ::2] = 500
    k[1, ::2] = rng.binomial(500, 0.05, 15)
    mask = np.ones_like(n)
    mask[2, 20:] = 0
    joint = mixing.fit_mixing(n, k, mask, family="kumaraswamy")
    for g in range(3):
        live = mask[g] > 0
        one = mixing.fit_mixing(n[g][live][None], k[g][live][None], family="kumaraswamy")
        assert joint.loglik[g] == pytest.approx(one.loglik[0], abs=1e-8)
        assert joint.params["a"][g] == pytest.approx(one.params["a"][0], rel=1e-5)


def test_npmle_kiefer_wolfowitz_conditions():
    """D_j = (1/K) Σ_i L_ij / Σ_l w_l L_il ≤ 1 for every grid node, = 1 on the support (scipy binomial pmf)."""
    rng = np.random.default_rng(5)
    n, k = _sim(rng, lambda r, s: np.where(r.uniform(size=s) < 0.4, 0.002, r.beta(2, 8, s)), 2, 100, 200)
    n[:, ::4] = 2000
    k[:, ::4] = rng.binomial(2000, 0.002, (2, 25))
    tol = 1e-5
    f = mixing.fit_mixing(n, k, family="npmle", tol=tol, max_iter=20000)
    assert f.converged.all()
    for g in range(2):
        lik = stats.binom.pmf(k[g][:, None], n[g][:, None], f.theta_J[None, :])  # (K, J)
        w = np.exp(f.log_weight_GxJ[g])
        d = (lik / (lik @ w)[:, None]).mean(axis=0)
        assert d.max() <= 1 + 2 * tol
        assert np.all(np.abs(d[w > 1e-3] - 1) < 10 * tol)
        assert f.loglik[g] == pytest.approx(np.sum(np.log(lik @ w)), rel=1e-10)


def test_gmodel_is_the_penalised_optimum():
    """scipy.optimize on the same penalised objective (written here with scipy's binomial pmf) finds no better point."""
    rng = np.random.default_rng(6)
    n, k = _sim(rng, lambda r, s: r.beta(0.3, 6.0, s), 1, 120, 50)
    lam = 0.05
    f = mixing.fit_mixing(n, k, family="gmodel", penalty=lam)
    knots = f.params["knots"][0]
    z = np.log(f.theta_J[1:]) - np.log1p(-f.theta_J[1:])
    # Natural cubic spline basis (ESL 5.2.1) built again here, standardised.
    dd = lambda j, x: (np.maximum(x - knots[j], 0) ** 3 - np.maximum(x - knots[-1], 0) ** 3) / (knots[-1] - knots[j])  # noqa: E731
    q = np.stack([z] + [dd(j, z) - dd(len(knots) - 2, z) for j in range(len(knots) - 2)], 1)
    q = (q - q.mean(0)) / q.std(0)
    lik = stats.binom.pmf(k[0][:, None], n[0][:, None], f.theta_J[None, 1:])

    def obj(a):
        w = special.softmax(q @ a)
        return -np.sum(np.log(lik @ w)) + lam * np.sum(a**2)

    a_hat = f.params["coef"][0]
    best = optimize.minimize(obj, a_hat, method="BFGS", options={"gtol": 1e-10})
    assert obj(a_hat) <= best.fun + 1e-7
    grad = optimize.approx_fprime(a_hat, obj, 1e-6)
    assert np.max(np.abs(grad)) < 1e-3
    w = special.softmax(q @ a_hat)
    assert f.loglik[0] == pytest.approx(np.sum(np.log(lik @ w)), rel=1e-10)


# --------------------------------------------------------------------------------- posterior predictive


def test_log_survival_kumaraswamy_matches_quadrature():
    rng = np.random.default_rng(7)
    n = np.array([[10.0, 10.0, 1000.0, 3_700_000.0]])
    k = np.array([[0.0, 3.0, 0.0, 1.0]])
    f = mixing.MixingFit(
        "kumaraswamy",
        {"a": np.array([0.15]), "b": np.array([4.0])},
        np.zeros(1),
        2,
        np.ones(1, bool),
        fam.THETA_J,
        np.zeros((1, fam.THETA_J.size)),
    )
    budgets = np.array([0.0, 10.0, 1e4, 1e7])
    got = mixing.log_survival(f, n, k, None, budgets)
    lp = kumaraswamy_logpdf(0.15, 4.0)
    for i in range(4):
        den = quad_log_integral(lp, k[0, i], n[0, i] - k[0, i])
        for j, bb in enumerate(budgets):
            want = quad_log_integral(lp, k[0, i], n[0, i] - k[0, i] + bb) - den
            assert got[0, i, j] == pytest.approx(want, abs=1e-7)
    del rng


def test_mixture_asr_matches_quadrature_and_grid():
    """predict_asr under a Beta mixture vs scipy quad of the posterior predictive; the discretised G agrees
    with the exact population survival at N up to 1e7."""
    p = {"weights": np.array([[0.4, 0.6]]), "alpha": np.array([[0.08, 2.0]]), "beta": np.array([[30.0, 5.0]])}
    u = fam.unconstrained(fam.spec("beta_mix2"), p)
    with jax.enable_x64(True):
        logw = np.asarray(fam.log_cell_masses(fam.spec("beta_mix2"), jnp.asarray(u[0])))[None]
    f = mixing.MixingFit("beta_mix2", p, np.zeros(1), 5, np.ones(1, bool), fam.THETA_J, logw)
    n = np.array([[50.0, 50.0, 50.0, 2000.0]])
    k = np.array([[0.0, 1.0, 20.0, 0.0]])
    budgets = np.array([100.0, 1e4, 1e7])
    got = mixing.predict_asr(f, n, k, None, budgets)[0]

    def logpdf(t):
        return np.log(0.4 * stats.beta.pdf(t, 0.08, 30.0) + 0.6 * stats.beta.pdf(t, 2.0, 5.0))

    want = []
    for bb in budgets:
        s = [
            np.exp(quad_log_integral(logpdf, ki, ni - ki + bb) - quad_log_integral(logpdf, ki, ni - ki))
            for ni, ki in zip(n[0], k[0])
        ]
        want.append(1 - np.mean(s))
    np.testing.assert_allclose(got, want, rtol=1e-7)  # the reference quad reaches ~1e-8 at N = 1e7 (roundoff)
    # Population survival E[(1−θ)^N] from the grid vs closed form.
    for bb in (10.0, 1e4, 1e7):
        exact = sum(
            w * np.exp(special.betaln(a, b + bb) - special.betaln(a, b))
            for w, a, b in zip(p["weights"][0], p["alpha"][0], p["beta"][0])
        )
        grid = np.sum(np.exp(logw[0]) * (1 - fam.THETA_J) ** bb)
        assert grid == pytest.approx(exact, rel=2e-3)


def test_posterior_grid_is_normalised_and_matches_survival_for_npmle():
    rng = np.random.default_rng(8)
    n, k = _sim(rng, lambda r, s: r.beta(0.3, 5, s), 2, 40, 30)
    f = mixing.fit_mixing(n, k, family="npmle")
    theta, lp = mixing.posterior_grid(f, n, k, None)
    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, rtol=1e-12)
    s = np.sum(np.exp(lp) * (1 - theta) ** 500, axis=-1)
    np.testing.assert_allclose(s, np.exp(mixing.log_survival(f, n, k, None, [500.0])[..., 0]), rtol=1e-9)


# --------------------------------------------------------------------------------------- stopped logs


def test_stopped_log_likelihood_is_the_binomial_one():
    """A log stopped at the first success (n = t, k = 1): the fit equals the maximiser of the geometric
    likelihood Σ log E[θ(1−θ)^{t−1}] (written with scipy) and recovers G like a fixed-n log of similar size."""
    rng = np.random.default_rng(9)
    al, be, kk, cap, reps = 0.6, 6.0, 300, 400, 12
    theta = rng.beta(al, be, (reps, kk))
    t = rng.geometric(theta)
    n_stop = np.minimum(t, cap).astype(float)
    k_stop = (t <= cap).astype(float)
    fs = mixing.fit_mixing(n_stop, k_stop, family="beta")

    def geo_nll(x, g):
        a, b = np.exp(x)
        solved = k_stop[g] > 0
        ll = np.where(solved, special.betaln(a + 1, b + n_stop[g] - 1), special.betaln(a, b + n_stop[g]))
        return -(np.sum(ll) - kk * special.betaln(a, b))

    for g in range(2):
        ref = optimize.minimize(
            geo_nll,
            np.log([0.5, 2.0]),
            args=(g,),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        )
        np.testing.assert_allclose(np.log([fs.params["alpha"][g], fs.params["beta"][g]]), ref.x, atol=1e-4)
    # Recovery: both logs estimate α unbiasedly within the Monte Carlo standard error of the mean.
    n_fix = np.full((reps, kk), 20.0)
    k_fix = rng.binomial(20, rng.beta(al, be, (reps, kk))).astype(float)
    ff = mixing.fit_mixing(n_fix, k_fix, family="beta")
    for est in (fs.params["alpha"], ff.params["alpha"]):
        # 1% allowance for the O(1/K) bias of the MLE
        assert_within_se(exact=al, samples=est, z=4, bias=0.01 * al, what="mean α̂")


# ------------------------------------------------------------------------------------- robustness


def test_degenerate_groups_do_not_spoil_the_batch():
    rng = np.random.default_rng(10)
    n, k = _sim(rng, lambda r, s: r.beta(0.5, 4.0, s), 3, 40, 25)
    k[1] = 0  # no success
    k[2] = n[2]  # only successes
    for family in ("npmle", "gmodel"):  # every family: test_every_family_runs_finite_on_a_degenerate_batch (slow)
        f = mixing.fit_mixing(n, k, family=family)
        alone = mixing.fit_mixing(n[:1], k[:1], family=family)
        assert f.degenerate.tolist() == [False, True, True]
        if family != "npmle":  # the NPMLE of a degenerate group exists (all mass at θ = 0 or the top node)
            assert not f.converged[1:].any()
        assert np.all(np.isfinite(f.loglik))
        assert f.loglik[0] == pytest.approx(alone.loglik[0], abs=1e-6)
        ls = mixing.log_survival(f, n, k, None, [10.0, 1e6])
        assert np.all(np.isfinite(ls)) and np.all(ls <= 0)


@pytest.mark.parametrize(
    "kwargs,msg",
    [
        (dict(family="nope"), "unknown mixing family"),
        (dict(family="kumaraswamy", c=[[5.0, 11.0]]), "c must be ≤ n"),
        (dict(family="npmle", n=[[-1.0, 10.0]]), "n must be ≥ 1"),
        (dict(family="gmodel", bogus=1), "unknown option"),
    ],
)
def test_bad_input_is_one_line_input_error(kwargs, msg):
    args = dict(n=[[10.0, 10.0]], c=[[5.0, 1.0]])
    args.update(kwargs)
    with pytest.raises(InputError, match=msg):
        mixing.fit_mixing(args.pop("n"), args.pop("c"), **args)


# ------------------------------------------------------------------------------------ recovery (slow)


@pytest.mark.slow
@pytest.mark.parametrize(
    "family,draw,truth",
    [
        ("kumaraswamy", lambda r, s: (1 - r.uniform(size=s) ** (1 / 5.0)) ** (1 / 0.3), {"a": 0.3, "b": 5.0}),
        ("scaled_beta", lambda r, s: 0.6 * r.beta(0.5, 3.0, s), {"alpha": 0.5, "beta": 3.0, "c": 0.6}),
    ],
)
def test_recovers_known_mixing_law(family, draw, truth):
    """Mean estimate over 16 simulated groups within 4 Monte Carlo standard errors (+2% for the MLE's O(1/K) bias)."""
    rng = np.random.default_rng(11)
    n, k = _sim(rng, draw, 16, 400, 100)
    f = mixing.fit_mixing(n, k, family=family)
    assert f.converged.mean() > 0.8
    for name, value in truth.items():
        est = f.params[name][f.converged]
        assert_within_se(exact=value, samples=est, z=4, bias=0.02 * value, what=name)


@pytest.mark.slow
def test_beta_mixture_recovers_components():
    rng = np.random.default_rng(12)

    def draw(r, s):
        return np.where(r.uniform(size=s) < 0.3, r.beta(0.5, 200.0, s), r.beta(4.0, 4.0, s))

    n, k = _sim(rng, draw, 12, 400, 200)
    f = mixing.fit_mixing(n, k, family="beta_mix2")
    for name, value in (("weights", [0.3, 0.7]), ("alpha", [0.5, 4.0])):
        est = f.params[name]
        assert_within_se(exact=value, samples=est, z=4, bias=0.03 * np.asarray(value), what=name)


# One test per family (each compiles its own programs, 2-80 s at XLA's default level): the slow step's two workers
# share them instead of one worker running all eleven in a row.
@pytest.mark.slow
@pytest.mark.parametrize("family", mixing.FAMILIES)
def test_every_family_runs_finite_on_a_degenerate_batch(family):
    rng = np.random.default_rng(13)
    n, k = _sim(rng, lambda r, s: r.beta(0.5, 4.0, s), 3, 40, 25)
    k[1] = 0
    k[2] = n[2]
    f = mixing.fit_mixing(n, k, family=family)
    alone = mixing.fit_mixing(n[:1], k[:1], family=family)
    assert np.all(np.isfinite(f.loglik))
    assert f.loglik[0] == pytest.approx(alone.loglik[0], abs=1e-5)
    assert np.all(np.isfinite(mixing.log_survival(f, n, k, None, [1e6])))


@pytest.mark.slow
def test_predict_mixing_interval_covers_the_population_truth():
    """Bootstrap interval of the Kumaraswamy fit covers the true pass@N of the observed problems in most of 8
    simulated groups (expected 90%; fail only below 5 of 8, probability < 1%)."""
    rng = np.random.default_rng(14)
    kk, nobs, big = 150, 20, 200
    theta = (1 - rng.uniform(size=(8, kk)) ** (1 / 5.0)) ** (1 / 0.3)
    k = rng.binomial(nobs, theta).astype(float)
    n = np.full_like(k, nobs)
    p = mixing.predict_mixing(jax.random.PRNGKey(0), n, k, None, [big], family="kumaraswamy", replicates=100)
    truth = 1 - np.mean((1 - theta) ** big, axis=1)
    inside = (p.lower[:, 0] <= truth) & (truth <= p.upper[:, 0])
    assert inside.sum() >= 5


# ------------------------------------------------ the one Beta-binomial kernel (scaling_theory.beta.log_kernel)


def _exact_log_kernel(c, n, a, b):
    """log B(c+a, n−c+b) − log B(a, b) = log[Π_{j<c}(a+j) Π_{j<n−c}(b+j) / Π_{j<n}(a+b+j)] in exact rationals."""
    from decimal import Decimal, getcontext
    from fractions import Fraction

    getcontext().prec = 60
    a, b = Fraction(a), Fraction(b)
    r = Fraction(1)
    for j in range(c):
        r *= a + j
    for j in range(n - c):
        r *= b + j
    for j in range(n):
        r /= a + b + j
    return float(Decimal(r.numerator).ln() - Decimal(r.denominator).ln())


@pytest.mark.parametrize(
    "c,n,a,b", [(3, 10, 0.3, 5.0), (0, 2000, 0.06, 100.0), (50, 3000, 0.2, 12.0), (7, 7, 1.5, 0.25)]
)
def test_log_kernel_against_exact_rationals_and_scipy(c, n, a, b):
    from scaling_theory import beta as B
    from scaling_theory.numerics import x64

    got = float(x64(B.log_kernel)(float(c), float(n), a, b))
    exact = _exact_log_kernel(c, n, a, b)
    assert got == pytest.approx(exact, rel=1e-14, abs=1e-14)  # no cancellation between large log-gammas
    ref = special.betaln(c + a, n - c + b) - special.betaln(a, b)  # SciPy: same value up to its cancellation
    assert got == pytest.approx(ref, rel=1e-11, abs=2e-12)
    lp = float(x64(B.logpmf)(float(c), float(n), a, b))
    assert lp == pytest.approx(stats.betabinom.logpmf(c, n, a, b), rel=1e-11, abs=2e-12)


def test_beta_family_survival_is_the_beta_kernel():
    """mixing's Beta posterior-predictive log S_i(N) = log_kernel(k, n+N) − log_kernel(k, n), vs SciPy betaln."""
    n = np.full((1, 4), 50.0)
    k = np.array([[0.0, 3.0, 20.0, 50.0]])
    fit = mixing.fit_mixing(n, k, None, family="beta")
    a, b = float(fit.params["alpha"][0]), float(fit.params["beta"][0])
    budgets = np.array([1.0, 100.0, 1e4])
    got = mixing.log_survival(fit, n, k, None, budgets)[0]
    ref = special.betaln(k[0][:, None] + a, n[0][:, None] - k[0][:, None] + b + budgets) - special.betaln(
        k[0][:, None] + a, n[0][:, None] - k[0][:, None] + b
    )
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-11)


def test_log_moment_estimate_recovers_a_beta_law():
    """Method of moments on many problems drawn from Beta(2, 6) with n = 200: α, β within 10%."""
    from scaling_theory import beta as B

    rng = np.random.default_rng(4)
    theta = rng.beta(2.0, 6.0, 20_000)
    c = rng.binomial(200, theta).astype(float)
    la, lb = B.log_moment_estimate(np.full(c.shape, 200.0), c)
    assert np.exp(float(la)) == pytest.approx(2.0, rel=0.1) and np.exp(float(lb)) == pytest.approx(6.0, rel=0.1)
