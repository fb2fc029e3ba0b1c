"""scaling_theory.beta (the one copy of the Beta law, budgets and the Beta-binomial likelihood) against
independent computations: SciPy (betaln, betabinom, digamma), quadrature of the Beta density, brute-force
searches, autodiff and finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special, stats

from scaling_theory import beta as B

ALPHA = np.array([0.065, 0.3, 0.7, 1.0, 2.5, 5.0])
BETA = np.array([101.0, 0.5, 3.0, 1.0, 40.0, 0.2])


def _call(fn, *args, use_jit=False, **kw):
    f = jax.jit(lambda *a: fn(*a, **kw)) if use_jit else (lambda *a: fn(*a, **kw))
    with jax.enable_x64(True):
        out = f(*(jnp.asarray(a, jnp.float64) for a in args))
        return jax.tree_util.tree_map(np.asarray, out)


def _beta_moment(a, b, n, p=0):
    """∫ t^p (1−t)^n Beta(t; a, b) dt by adaptive quadrature (singular endpoints handled by QUADPACK)."""
    val, _ = integrate.quad(
        lambda t: t**p * (1 - t) ** n * np.exp(stats.beta.logpdf(t, a, b)), 0, 1, epsabs=0, epsrel=1e-11, limit=500
    )
    return val


# --- the Beta law ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_jit", [False, True])
def test_hit_at_n_and_gain_match_quadrature(use_jit):
    cases = [(0.3, 0.5, 0.0), (0.7, 3.0, 2.5), (1.0, 1.0, 7.0), (2.5, 40.0, 100.0), (0.5, 2.0, 13.3)]
    a, b, n = (np.array(x) for x in zip(*cases, strict=True))
    hit = _call(B.hit_at_n, a, b, n, use_jit=use_jit)
    surv = _call(B.survival, a, b, n, use_jit=use_jit)
    gain = _call(B.marginal_gain, a, b, n, use_jit=use_jit)
    quad_s = np.array([_beta_moment(*c) for c in cases])
    quad_g = np.array([_beta_moment(*c, p=1) for c in cases])
    np.testing.assert_allclose(surv, quad_s, rtol=1e-9)
    np.testing.assert_allclose(1.0 - hit, quad_s, rtol=1e-9)
    np.testing.assert_allclose(gain, quad_g, rtol=1e-9)


def test_log_survival_matches_scipy_betaln_up_to_huge_budgets():
    n = np.array([0.0, 1.0, 7.5, 100.0, 1e4, 1e9])
    got = _call(B.log_survival, ALPHA, BETA, n)
    ref = special.betaln(ALPHA, BETA + n) - special.betaln(ALPHA, BETA)
    # SciPy's betaln difference loses ~|log B|·1e-16 absolute; the comparison is relative to that size.
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-13 * np.max(np.abs(special.betaln(ALPHA, BETA + n))))
    # Power-law limit: log S(N) + α log N → log L = log Γ(α+β)/Γ(β) as N → ∞.
    big = 1e12
    lead = _call(B.log_leading_constant, ALPHA, BETA)
    np.testing.assert_allclose(lead, special.gammaln(ALPHA + BETA) - special.gammaln(BETA), rtol=1e-12, atol=1e-14)
    tail = _call(B.log_survival, ALPHA, BETA, np.full_like(ALPHA, big)) + ALPHA * np.log(big)
    np.testing.assert_allclose(tail, lead, atol=1e-8)


def test_gain_is_the_difference_of_consecutive_hits():
    n = np.arange(0.0, 40.0)
    a, b = 0.4, 3.0
    hit = special.betaln(a, b + n) - special.betaln(a, b)
    diff = np.exp(hit[:-1]) - np.exp(hit[1:])  # S(N) − S(N+1) = hit@(N+1) − hit@N
    np.testing.assert_allclose(_call(B.marginal_gain, a, b, n[:-1]), diff, rtol=1e-10)
    np.testing.assert_allclose(_call(B.log_marginal_gain, a, b, n[:-1]), np.log(diff), rtol=1e-10)


def test_tables_match_closed_forms_at_whole_budgets():
    a, b = np.array([[0.5, 1.2, 3.0]]), np.array([[2.0, 0.7, 30.0]])
    m = np.arange(11.0)
    with jax.enable_x64(True):
        table = np.asarray(B.log_survival_table(jnp.asarray(a), jnp.asarray(b), 10))
        gains = np.asarray(B.marginal_gain_table(jnp.asarray(a), jnp.asarray(b), 10))
    ref = special.betaln(a[..., None], b[..., None] + m) - special.betaln(a, b)[..., None]
    np.testing.assert_allclose(table, ref, rtol=1e-12, atol=1e-14)
    ref_gain = np.exp(special.betaln(a[..., None] + 1, b[..., None] + m[:-1]) - special.betaln(a, b)[..., None])
    np.testing.assert_allclose(gains, ref_gain, rtol=1e-12)


# --- budgets -----------------------------------------------------------------------------------------------


def _scipy_hit(a, b, n):
    return -np.expm1(special.betaln(a, b + n) - special.betaln(a, b))


@pytest.mark.parametrize("use_jit", [False, True])
def test_real_budget_is_where_the_law_reaches_tau(use_jit):
    a, b = ALPHA[:, None], BETA[:, None]
    tau = np.array([0.05, 0.5, 0.9, 0.99])
    for pi in (0.0, 0.003):
        n_tau = _call(B.budget, a, b, tau, pi, use_jit=use_jit)
        assert np.all(np.isfinite(n_tau))
        # (1 − π)·hit is continuous and increasing in N: reached at N_τ, not reached just below. SciPy's
        # betaln difference errs by up to ~3e-12 relative here (β = 101); 1e-6 below N_τ the law is lower by
        # at least α·S·1e-6/τ ≈ 6e-10 relative.
        at = (1 - pi) * _scipy_hit(a, b, n_tau)
        below = (1 - pi) * _scipy_hit(a, b, n_tau * (1 - 1e-6))
        np.testing.assert_allclose(at, np.broadcast_to(tau, at.shape), rtol=1e-10)
        assert np.all(below < tau)
    edge = _call(B.budget, 1.0, 1.0, np.array([0.0, 0.99, 1.0, 0.5]), np.array([0.0, 0.0, 0.0, 0.5]))
    np.testing.assert_array_equal(edge[[0, 2, 3]], [0.0, np.inf, np.inf])  # τ = 0; τ = 1; τ ≥ 1 − π
    assert edge[1] == pytest.approx(99.0, rel=1e-12)  # Beta(1, 1): hit@N = N/(N+1)


def test_whole_budget_and_saturation_point_match_brute_force():
    grid = np.arange(0.0, 200001.0)
    for a, b in [(0.7, 3.0), (2.5, 40.0), (1.0, 1.0), (0.3, 0.5)]:
        hits = _scipy_hit(a, b, grid)
        log_gain = special.betaln(a + 1, b + grid) - special.betaln(a, b)
        for tau in (0.0, 0.1, 0.55, 0.93, 0.97):  # no exact ties (Beta(1, 1): hit@N = N/(N+1))
            brute = grid[np.argmax(hits >= tau)] if np.any(hits >= tau) else np.inf
            assert _call(B.whole_budget, a, b, tau) == brute
            assert brute == np.ceil(_call(B.budget, a, b, tau) - 1e-9)  # = ⌈real budget⌉
        for eps in (1e-1, 1e-3, 1e-5):
            brute = grid[np.argmax(log_gain < np.log(eps))]
            assert _call(B.saturation_point, a, b, np.log(eps), strict=True) == brute
    # Ties: with the threshold equal to the gain at N = 1 (Beta(1, 1): 1/6 up to rounding), ≤ stops at 1, < at 2.
    tie = float(_call(B.log_marginal_gain, 1.0, 1.0, 1.0))
    assert tie == pytest.approx(np.log(1 / 6), rel=1e-14)
    assert _call(B.saturation_point, 1.0, 1.0, tie, strict=False) == 1.0
    assert _call(B.saturation_point, 1.0, 1.0, tie, strict=True) == 2.0


# --- the Beta-binomial likelihood --------------------------------------------------------------------------

RNG = np.random.default_rng(7)
N_ATT = RNG.integers(1, 300, 50).astype(float)
C = RNG.binomial(N_ATT.astype(int), RNG.beta(0.4, 3.0, 50)).astype(float)


@pytest.mark.parametrize("use_jit", [False, True])
def test_logpmf_matches_scipy_betabinom(use_jit):
    for a, b in [(0.4, 3.0), (0.065, 101.0), (5.0, 0.2)]:
        got = _call(B.logpmf, C, N_ATT, a, b, use_jit=use_jit)
        np.testing.assert_allclose(got, stats.betabinom.logpmf(C, N_ATT, a, b), rtol=1e-11, atol=1e-11)
    pi = 0.2
    zi = _call(B.logpmf_zero_inflated, C, N_ATT, 0.4, 3.0, pi, use_jit=use_jit)
    ref = np.log(pi * (C == 0) + (1 - pi) * stats.betabinom.pmf(C, N_ATT, 0.4, 3.0))
    np.testing.assert_allclose(zi, ref, rtol=1e-11)
    # The likelihood kernel drops only log C(n, c); the mask drops problems.
    mask = (np.arange(50) % 3 != 0).astype(float)
    ll = _call(lambda a, b, n, c, m: B.loglik(a, b, n, c, m), 0.4, 3.0, N_ATT, C, mask)
    ref_ll = np.sum(mask * (stats.betabinom.logpmf(C, N_ATT, 0.4, 3.0) - np.log(special.comb(N_ATT, C))))
    assert ll == pytest.approx(ref_ll, rel=1e-11)


def _scipy_loglik(a, b):
    return np.sum(special.betaln(C + a, N_ATT - C + b) - special.betaln(a, b))


# Eager (op-by-op) evaluation of the digamma/trigamma sums takes about a minute: that case runs with the slow tests.
@pytest.mark.parametrize("use_jit", [pytest.param(False, marks=pytest.mark.slow), True])
def test_score_and_hessian_match_finite_differences_and_autodiff(use_jit):
    a, b = 0.4, 3.0
    g = _call(B.score, a, b, N_ATT, C, use_jit=use_jit)
    h = _call(B.hessian, a, b, N_ATT, C, use_jit=use_jit)
    # Central differences of SciPy's log-likelihood (step 1e-5: truncation ~1e-10·|ℓ'''|, rounding ~1e-8).
    e = 1e-5
    fd = np.array(
        [
            (_scipy_loglik(a + e, b) - _scipy_loglik(a - e, b)) / (2 * e),
            (_scipy_loglik(a, b + e) - _scipy_loglik(a, b - e)) / (2 * e),
        ]
    )
    np.testing.assert_allclose(g, fd, rtol=1e-6)
    # Autodiff of the log-gamma likelihood (no digamma / trigamma closed forms involved).
    with jax.enable_x64(True):
        n, c = jnp.asarray(N_ATT), jnp.asarray(C)
        ll = lambda p: B.loglik(p[0], p[1], n, c)  # noqa: E731
        p0 = jnp.asarray([a, b])
        # jitted: 2 programs instead of ~200 eager ops
        g_ad, h_ad = np.asarray(jax.jit(jax.grad(ll))(p0)), np.asarray(jax.jit(jax.hessian(ll))(p0))
    np.testing.assert_allclose(g, g_ad, rtol=1e-10)
    np.testing.assert_allclose(h, h_ad, rtol=1e-9)
    np.testing.assert_allclose(h, h.T)


def test_derivatives_batch_and_mask_agree_with_single_groups():
    nn = np.stack([N_ATT, N_ATT[::-1]])
    cc = np.stack([C, C[::-1]])
    mask = np.ones_like(cc)
    mask[1, :10] = 0.0
    a, b = np.array([0.4, 1.3]), np.array([3.0, 0.8])
    g = _call(lambda *x: B.score(*x), a, b, nn, cc, mask)
    h = _call(lambda *x: B.hessian(*x), a, b, nn, cc, mask)
    for i, sl in ((0, slice(None)), (1, slice(10, None))):
        np.testing.assert_allclose(g[i], _call(B.score, a[i], b[i], nn[i, sl], cc[i, sl]), rtol=1e-13)
        np.testing.assert_allclose(h[i], _call(B.hessian, a[i], b[i], nn[i, sl], cc[i, sl]), rtol=1e-13)
    p = _call(lambda *x: B.pointwise_derivatives(*x), nn, cc, a, b)
    np.testing.assert_allclose(p.value, stats.betabinom.logpmf(cc, nn, a[:, None], b[:, None]), rtol=1e-11)


def test_fisher_information_is_the_expected_outer_score():
    a, b, n = 0.7, 2.0, 12
    info = _call(lambda x, y: B.fisher_information(x, y, n), a, b)
    # Information identity with SciPy's digamma: I = E[s sᵀ], s the per-problem score, c ~ BetaBinomial(n, α, β).
    cs = np.arange(n + 1.0)
    w = stats.betabinom.pmf(cs, n, a, b)
    psi = special.digamma
    sa = psi(cs + a) - psi(n + a + b) - psi(a) + psi(a + b)
    sb = psi(n - cs + b) - psi(n + a + b) - psi(b) + psi(a + b)
    ref = np.array([[np.sum(w * sa * sa), np.sum(w * sa * sb)], [np.sum(w * sa * sb), np.sum(w * sb * sb)]])
    np.testing.assert_allclose(info, ref, rtol=1e-10)
