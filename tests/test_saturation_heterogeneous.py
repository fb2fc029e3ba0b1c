"""Heterogeneous questions p ~ Beta(α, β): aggregate gain, saturation point, homogeneous gap, Monte Carlo."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from scaling_theory.errors import InputError
from scaling_theory.passk.beta_law import budget_exact
from scaling_theory.saturation import heterogeneous as H
from scaling_theory.saturation import simulate, ttspm

ab = st.floats(min_value=0.05, max_value=20.0)


def gain_scipy(a, b, n):
    """Independent aggregate gain E[p(1 − p)^N] by quadrature against the Beta density."""
    f = lambda p: p * (1 - p) ** n * stats.beta.pdf(p, a, b)  # noqa: E731
    return integrate.quad(f, 0, 1, limit=200, points=[a / (a + b)])[0]


@pytest.mark.parametrize("a, b", [(0.5, 2.0), (2.0, 5.0), (1.3, 0.7)])
def test_aggregate_gain_matches_quadrature_and_differences(a, b):
    n = np.array([0, 1, 5, 20, 60])
    g = np.asarray(H.beta_marginal_gain(a, b, n))
    np.testing.assert_allclose(g, [gain_scipy(a, b, x) for x in n], rtol=1e-6)
    f = np.asarray(H.beta_hit_at_n(a, b, np.arange(62)))
    np.testing.assert_allclose(g, np.diff(f)[n], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=ab, b=ab, n=st.integers(0, 10_000))
def test_gain_ratio_is_not_geometric(a, b, n):
    g0, g1 = np.asarray(H.beta_marginal_gain(a, b, [n, n + 1]))
    ratio = float(H.beta_gain_ratio(a, b, n))
    assert g1 / g0 == pytest.approx(ratio, rel=1e-9)
    assert ratio == pytest.approx((b + n) / (a + b + n + 1), rel=1e-14)
    assert float(H.beta_gain_ratio(a, b, n + 1)) > ratio  # rises towards 1: power-law decay


@settings(max_examples=40, deadline=None)
@given(a=ab, b=ab, eps=st.floats(1e-7, 1e-2))
def test_aggregate_saturation_point_brackets_the_threshold(a, b, eps):
    n = float(H.beta_saturation_point(a, b, eps))
    lg = lambda x: special.betaln(a + 1, b + x) - special.betaln(a, b)  # noqa: E731
    assert lg(n) < math.log(eps) + 1e-12
    if n > 0:
        assert lg(n - 1) >= math.log(eps) - 1e-12


def test_asymptotic_gain_and_approximate_point():
    a, b = 0.4, 3.0
    n = np.array([10.0, 100.0, 1000.0])
    rel = np.abs(np.asarray(H.beta_marginal_gain_asymptotic(a, b, n)) / np.asarray(H.beta_marginal_gain(a, b, n)) - 1)
    assert rel[2] < 1e-5 and rel[1] < rel[0] and rel[2] < rel[1] / 50  # O(N^-2) relative error
    for eps in (1e-4, 1e-6):
        exact = float(H.beta_saturation_point(a, b, eps))
        approx = float(H.beta_saturation_point_approx(a, b, eps))
        assert abs(approx - exact) <= 1.0


def test_concentrated_beta_recovers_the_homogeneous_point():
    # α + β → ∞ at fixed mean: p is (nearly) one value and N*_agg → N*(p̄)
    for p, eps in [(0.1, 0.01), (0.3, 1e-3)]:
        kappa = 1e7
        assert float(H.beta_saturation_point(p * kappa, (1 - p) * kappa, eps)) == float(ttspm.saturation_point(p, eps))


def test_homogeneous_formula_is_off_for_dispersed_questions():
    gap = H.homogeneous_gap(0.5, 2.0, 1e-3)
    assert float(gap.p_mean) == pytest.approx(0.2)
    # the pooled formula stops at N*(0.2) = 24 (spec-style closed form), far before the aggregate point
    assert float(gap.n_star_homogeneous) == math.ceil(math.log(1e-3 / 0.2) / math.log(0.8))
    assert float(gap.n_star_aggregate) > 2 * float(gap.n_star_homogeneous)
    assert float(gap.gain_left) > 1e-3  # the aggregate still gains more than ε there
    assert float(gap.hit_aggregate) < float(gap.hit_homogeneous)
    # tidy rows: one per (α, β, ε) element, the fields as columns
    grid = H.homogeneous_gap([0.5, 1.0], [2.0], 1e-3)
    rows = grid.rows()
    assert [r["p_mean"] for r in rows] == pytest.approx([0.2, 1.0 / 3.0])
    assert rows[1]["n_star_homogeneous"] == math.ceil(math.log(1e-3 / (1 / 3)) / math.log(2 / 3))


@settings(max_examples=40, deadline=None)
@given(a=ab, b=ab, n=st.integers(1, 500))
def test_jensen_pooled_curve_overstates_coverage(a, b, n):
    # 1 − (1 − p)^N is concave in p, so E[F_p(N)] ≤ F_{E p}(N)
    assert float(H.beta_hit_at_n(a, b, n)) <= float(ttspm.hit_at_n(a / (a + b), n)) + 1e-12


def test_coverage_budget_brackets_the_target_and_agrees_with_passk():
    rng = np.random.default_rng(7)
    a, b = np.exp(rng.uniform(np.log(0.05), np.log(20.0), (2, 300)))
    target = rng.uniform(0.05, 0.99, 300)
    n = np.asarray(H.beta_samples_for_coverage(a, b, target))
    fin = np.isfinite(n)
    assert fin.sum() > 250  # the rest need N > 2^52 (tiny α at high targets) and are reported as inf
    # SciPy (independent; its betaln is accurate to ~1e-10 in the log at these arguments):
    # log S(N) ≤ log(1 − τ) < log S(N − 1)
    log_s = lambda x: special.betaln(a[fin], b[fin] + x) - special.betaln(a[fin], b[fin])  # noqa: E731
    goal = np.log1p(-target[fin])
    assert np.all(log_s(n[fin]) <= goal + 1e-9)
    assert np.all((n[fin] == 0) | (log_s(np.maximum(n[fin] - 1, 0)) > goal - 1e-9))
    # passk's real-valued budget (bisection over log N, betaln differences): same integer up to its
    # relative accuracy (~1e-7 in N at N ~ 1e9)
    real = np.asarray(budget_exact(a[fin], b[fin], target[fin]))
    assert np.all(np.abs(n[fin] - np.maximum(np.ceil(real), 0)) <= np.maximum(1.0, 1e-6 * real))
    # beyond the search range
    assert float(H.beta_samples_for_coverage(0.05, 0.5, 0.99)) == np.inf


def test_monte_carlo_matches_aggregate_curve():
    a, b, q = 0.6, 3.0, 8_000
    mc = simulate.simulate_beta_parallel(jax.random.key(0), a, b, 50, q)
    exact = np.asarray(H.beta_hit_at_n(a, b, np.arange(51)))
    # SE over questions of a Bernoulli mean: √(F(1 − F)/Q); 4.5 SE over 51 budgets (false alarm < 4e-4)
    se = np.sqrt(exact * (1 - exact) / q)
    assert np.all(np.abs(np.asarray(mc.mean) - exact) <= 4.5 * se + 1e-12)
    d, dse = simulate.marginal_from_curve(mc)
    assert np.all(
        np.abs(np.asarray(d) - np.asarray(H.beta_marginal_gain(a, b, np.arange(50)))) <= 4.5 * np.asarray(dse) + 1.0 / q
    )


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: H.beta_saturation_point(0.0, 1.0, 0.01), r"alpha must be a finite number > 0, got 0"),
        (lambda: H.beta_saturation_point(1.0, -2.0, 0.01), r"beta must be a finite number > 0, got -2"),
        (lambda: H.beta_saturation_point(1.0, 1.0, 0.0), r"eps must be a finite number > 0, got 0"),
        (lambda: H.beta_hit_at_n(1.0, 1.0, -1), r"n must be an integer >= 0, got -1"),
        (lambda: H.beta_samples_for_coverage(1.0, 1.0, 1.0), r"target must be in \[0, 1\), got 1"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_agrees_with_passk_asr_exact_and_scipy():
    from scaling_theory.passk.beta_law import asr_exact

    n = np.array([0, 1, 10, 100, 1000])
    np.testing.assert_allclose(np.asarray(H.beta_hit_at_n(0.5, 2.0, n)), np.asarray(asr_exact(0.5, 2.0, n)), rtol=1e-13)
    ref = -np.expm1(special.betaln(0.5, 2.0 + n) - special.betaln(0.5, 2.0))  # SciPy, moderate arguments
    np.testing.assert_allclose(np.asarray(H.beta_hit_at_n(0.5, 2.0, n)), ref, rtol=1e-12)
