"""Budget planning (OptScale-style minimal N, coverage targets, confidence, doubling) against SciPy and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from scaling_theory.errors import InputError
from scaling_theory.saturation import budget as B
from scaling_theory.saturation import heterogeneous as H


def test_optscale_worked_example():
    # spec §D: F(s*) = 0.8, α = 0.05 → N* = ⌈ln 0.05 / ln 0.8⌉ = 14
    assert float(B.optscale_min_n(0.8, 0.05)) == 14
    assert 0.8**14 <= 0.05 < 0.8**13
    assert float(B.optscale_min_n(1.0, 0.05)) == np.inf and float(B.optscale_min_n(0.0, 0.05)) == 1


@settings(max_examples=40, deadline=None)
@given(p=st.floats(1e-4, 0.999), target=st.floats(0.01, 0.999))
def test_samples_for_coverage_is_the_smallest_sufficient_n(p, target):
    n = float(B.samples_for_coverage(p, target))
    assert 1 - (1 - p) ** n >= target - 1e-12
    if n > 0:
        assert 1 - (1 - p) ** (n - 1) < target + 1e-12
    assert abs(n - math.ceil(math.log1p(-target) / math.log1p(-p))) <= 1


def test_coverage_edge_cases_and_users_questions():
    # "how many samples for 90% coverage at p = 0.1?" ⌈ln 0.1 / ln 0.9⌉ = 22
    assert float(B.samples_for_coverage(0.1, 0.9)) == 22
    assert float(B.samples_for_coverage(0.0, 0.5)) == np.inf
    assert float(B.samples_for_coverage(0.3, 0.0)) == 0 and float(B.samples_for_coverage(1.0, 0.99)) == 1
    # "what do I gain from doubling N?" F(2N) − F(N) = (1 − p)^N (1 − (1 − p)^N)
    for p, n in [(0.1, 10), (0.02, 50), (0.5, 3)]:
        assert float(B.gain_from_doubling(p, n)) == pytest.approx((1 - p) ** n * (1 - (1 - p) ** n), rel=1e-12)
        assert float(B.beta_gain_from_doubling(p * 1e8, (1 - p) * 1e8, n)) == pytest.approx(
            float(B.gain_from_doubling(p, n)), rel=1e-5
        )
    a, b, n = 0.4, 3.0, 25
    assert float(B.beta_gain_from_doubling(a, b, n)) == pytest.approx(
        float(H.beta_hit_at_n(a, b, 2 * n) - H.beta_hit_at_n(a, b, n)), rel=1e-12
    )


def test_beta_quantile_matches_scipy():
    q = np.array([0.01, 0.1, 0.5, 0.9])
    a, b = np.array([0.5, 3.0, 40.0, 2.0]), np.array([2.0, 7.0, 400.0, 0.3])
    np.testing.assert_allclose(np.asarray(B.beta_quantile(q, a, b)), stats.beta.ppf(q, a, b), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("k, n, target, conf", [(3, 30, 0.9, 0.9), (0, 20, 0.5, 0.8), (45, 50, 0.99, 0.95)])
def test_confident_budget_meets_its_posterior_guarantee(k, n, target, conf):
    N = float(B.samples_for_coverage_confident(n, k, target, conf))
    post = stats.beta(1 + k, 1 + n - k)
    # P_post(1 − (1 − p)^N ≥ τ) = P_post(p ≥ 1 − (1 − τ)^{1/N}) (SciPy, independent of the bisection)
    prob = lambda m: post.sf(1 - (1 - target) ** (1 / m))  # noqa: E731
    assert prob(N) >= conf - 1e-9
    if N > 1:
        assert prob(N - 1) < conf + 1e-9
    # more confidence or a higher target never needs fewer samples
    assert float(B.samples_for_coverage_confident(n, k, target, min(conf + 0.04, 0.99))) >= N


def test_truncated_normal_cdf_and_max_score_against_scipy_and_simulation():
    mu, sigma = 0.7, 0.2
    tn = stats.truncnorm(-mu / sigma, (1 - mu) / sigma, loc=mu, scale=sigma)
    s = np.array([0.0, 0.3, 0.8, 0.95, 1.0])
    np.testing.assert_allclose(np.asarray(B.truncnorm_cdf(s, mu, sigma)), tn.cdf(s), atol=1e-13)
    # the best of N scores: CDF F(s)^N vs the empirical max of simulated scores (binomial SE)
    rng = np.random.default_rng(0)
    reps, n = 20_000, 8
    mx = tn.rvs(size=(reps, n), random_state=rng).max(axis=1)
    f = float(B.max_score_cdf(0.9, mu, sigma, n))
    assert abs(np.mean(mx < 0.9) - f) <= 4 * np.sqrt(f * (1 - f) / reps)
    # OptScale N* with the TN model: smallest N with F(s*)^N ≤ α
    N = float(B.optscale_min_n_tn(0.95, mu, sigma, 0.05))
    fs = tn.cdf(0.95)
    assert fs**N <= 0.05 < fs ** (N - 1)


def test_truncnorm_mle_matches_scipy_optimiser():
    mu, sigma = 0.62, 0.15
    tn = stats.truncnorm(-mu / sigma, (1 - mu) / sigma, loc=mu, scale=sigma)
    x = tn.rvs(size=3000, random_state=np.random.default_rng(1))
    fit = B.fit_truncnorm(x)
    nll = lambda th: -stats.truncnorm.logpdf(x, -th[0] / th[1], (1 - th[0]) / th[1], loc=th[0], scale=th[1]).mean()  # noqa: E731
    ref = optimize.minimize(
        nll, [0.5, 0.3], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000}
    ).x
    assert float(fit.mu) == pytest.approx(ref[0], abs=1e-6)
    assert float(fit.sigma) == pytest.approx(ref[1], abs=1e-6)
    assert float(fit.nll) == pytest.approx(nll(ref), abs=1e-9)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: B.samples_for_coverage(0.1, 1.0), r"target must be in \[0, 1\), got 1"),
        (lambda: B.samples_for_coverage(-0.1, 0.5), r"p must be in \[0, 1\], got -0.1"),
        (lambda: B.optscale_min_n(0.8, 0.0), r"alpha must be in \(0, 1\), got 0"),
        (lambda: B.samples_for_coverage_confident(3, 5, 0.9), r"c must be <= n"),
        (lambda: B.samples_for_coverage_confident(3, 1, 0.9, 1.0), r"confidence must be in \(0, 1\), got 1"),
        (lambda: B.truncnorm_cdf(0.5, 0.5, 0.0), r"sigma must be a finite number > 0, got 0"),
        (lambda: B.fit_truncnorm([0.5, 0.5, 0.5]), r"scores must not all be equal"),
        (lambda: B.fit_truncnorm([0.5, 1.5]), r"scores must be in \[0, 1\], got 1.5"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(InputError, match=match):
        call()
