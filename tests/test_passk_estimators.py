"""Chen's unbiased pass@k, the naive plug-in and coverage (spec §4, §8.6)."""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.passk import coverage, pass_at_k, pass_at_k_curve, plugin_pass_at_k
from scaling_theory.passk.estimators import _pass_at_k, pass_at_k_variance


def exact_chen(n: int, c: int, k: int) -> float:
    """1 − C(n−c, k)/C(n, k) in exact rational arithmetic (independent of the implementation)."""
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def test_spec_test_vectors():
    # Spec §4 [derived] test vectors.
    got = np.asarray(pass_at_k([200, 200, 200, 10000], [10, 10, 10, 1], [1, 10, 100, 1000]))
    np.testing.assert_allclose(got, [0.050000, 0.408548, 0.999229, 0.100000], atol=5e-7)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(0, n))))
def test_matches_exact_rational_arithmetic(nck):
    n, c, k = nck
    assert float(pass_at_k(n, c, k)) == pytest.approx(exact_chen(n, c, k), rel=1e-11, abs=1e-14)


def test_long_products_use_log_gamma_accurately():
    # min(c, k) > 64 takes the log-gamma branch; compare with exact arithmetic.
    for n, c, k in [(10000, 300, 200), (5000, 1000, 100), (100000, 70, 65), (2000, 500, 1400)]:
        assert float(pass_at_k(n, c, k)) == pytest.approx(exact_chen(n, c, k), rel=1e-9, abs=1e-12)


def test_product_form_at_chunk_boundaries_matches_exact_arithmetic():
    # min(c, k) ≤ 64 multiplies the factors 8 at a time and switches from log1p(−q) to log(p) where a chunk's
    # product p falls below ½: every chunk boundary and both sides of the switch against exact rationals.
    cases = [
        (n, c, k)
        for n in (70, 1000, 10**6)
        for m in (1, 7, 8, 9, 15, 16, 17, 63, 64, 65)
        for c, k in ((m, min(n - m, 3 * m)), (min(n - m, 5 * m), m), (m, m))
        if c + k <= n
    ]
    n, c, k = (np.array(x, float) for x in zip(*cases))
    got = np.asarray(pass_at_k(n, c, k))
    want = np.array([exact_chen(*case) for case in cases])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_identities():
    n = np.array([10, 100, 10000, 37])
    c = np.array([3, 0, 1, 37])
    np.testing.assert_allclose(np.asarray(pass_at_k(n, c, 1)), c / n, rtol=1e-14)  # k = 1 → c/n
    assert np.all(np.asarray(pass_at_k(n, 0, np.minimum(n, 5))) == 0.0)  # c = 0 → 0
    assert float(pass_at_k(10, 7, 4)) == 1.0  # k > n − c → 1


def test_jit_and_eager_agree():
    # The public function traced under an outer jit (checks skipped), and the core run op by op
    # without any compilation (both branches: product form and log-gamma for min(c, k) > 64).
    n, c, k = np.array([200.0, 50.0, 10000.0]), np.array([10.0, 3.0, 300.0]), np.array([10.0, 50.0, 200.0])
    eager = np.asarray(pass_at_k(n, c, k))
    with jax.enable_x64(True):
        jitted = jax.jit(pass_at_k)(n, c, k)
        with jax.disable_jit():
            op_by_op = _pass_at_k(n, c, k)
    np.testing.assert_array_equal(np.asarray(jitted), eager)
    np.testing.assert_allclose(np.asarray(op_by_op), eager, rtol=1e-14)


@pytest.mark.parametrize("n,p,k,mean,var", [(200, 0.05, 10, 0.401263, 9.535e-3), (100, 0.01, 10, 0.095618, 8.296e-3)])
def test_unbiased_in_expectation_and_exact_variance(n, p, k, mean, var):
    # E over c ~ Binomial(n, p) by exact summation equals 1 − (1−p)^k; variance = spec §4 [derived] values.
    from scipy.stats import binom

    cs = np.arange(n + 1)
    expect = float(np.sum(binom.pmf(cs, n, p) * np.asarray(pass_at_k(n, cs, k))))
    assert expect == pytest.approx(1 - (1 - p) ** k, rel=1e-10)
    assert expect == pytest.approx(mean, abs=5e-7)
    assert float(pass_at_k_variance(n, p, k)) == pytest.approx(var, abs=5e-7)


def test_plugin_is_biased_low():
    # Jensen: E[1 − (1 − c/n)^k] < 1 − (1 − p)^k for k > 1, computed exactly over c ~ Binomial(n, p).
    from scipy.stats import binom

    n, p, k = 100, 0.02, 50
    cs = np.arange(n + 1)
    e_plugin = float(np.sum(binom.pmf(cs, n, p) * np.asarray(plugin_pass_at_k(n, cs, k))))
    assert e_plugin < 1 - (1 - p) ** k - 0.05


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_monotone_in_k(nc):
    n, c = nc
    ks = np.minimum(np.arange(1, 301), n)  # fixed shape: one compilation for every example
    vals = np.asarray(pass_at_k(n, c, ks))
    assert np.all(np.diff(vals) >= -1e-15) and np.all((vals >= 0) & (vals <= 1))


def test_curve_and_coverage():
    n = np.array([10, 20, 30])
    c = np.array([0, 5, 30])
    curve = np.asarray(pass_at_k_curve(n, c, [1, 5, 10]))
    loop = [np.mean([exact_chen(int(a), int(b), kk) for a, b in zip(n, c)]) for kk in (1, 5, 10)]
    np.testing.assert_allclose(curve, loop, rtol=1e-12)
    assert float(coverage(n, c)) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "args,match",
    [
        ((10, 11, 1), "c must be ≤ n"),
        ((10, 3, 11), "k must be ≤ n"),
        ((10, -1, 1), "c must be ≥ 0"),
        ((10, 2.5, 1), "c must be an integer"),
        ((0, 0, 0), "n must be a positive integer"),
        ((10, 2, -1), "k must be ≥ 0"),
    ],
)
def test_bad_input(args, match):
    with pytest.raises(InputError, match=match):
        pass_at_k(*args)


def test_curve_rejects_k_above_n():
    with pytest.raises(InputError, match="smallest n"):
        pass_at_k_curve([10, 20], [1, 2], [15])


# ----------------------------------------------------------------- plugin_curve_variance (compare_real weights)


def test_plugin_curve_variance_is_exact_at_k_1():
    # k = 1: the plug-in mean is mean_i c_i/m, whose variance is Σ p_i(1 − p_i)/(T² m) exactly.
    from scaling_theory.passk.estimators import plugin_curve_variance

    p = np.array([[0.0, 0.1, 0.5, 0.93, 1.0], [0.2, 0.2, 0.3, 0.05, 0.7]])
    got = plugin_curve_variance(p, [1.0], 79)
    np.testing.assert_allclose(got[:, 0], np.sum(p * (1 - p), axis=1) / (25 * 79), rtol=1e-14)


def test_plugin_curve_variance_matches_the_binomial_sum_to_first_order():
    """Against the exact variance of the plug-in mean, summed over c_i ~ Binomial(m, p_i) (SciPy), at large m."""
    from scipy import stats

    from scaling_theory.passk.estimators import plugin_curve_variance

    p = np.array([0.02, 0.1, 0.3, 0.6])
    m, ks = 20_000, np.array([2.0, 10.0, 30.0])
    c = np.arange(m + 1)
    exact = []
    for k in ks:
        var_i = []
        for pi in p:
            pmf = stats.binom.pmf(c, m, pi)
            g = 1 - (1 - c / m) ** k
            var_i.append(np.sum(pmf * g**2) - np.sum(pmf * g) ** 2)
        exact.append(np.sum(var_i) / p.size**2)
    got = plugin_curve_variance(p, ks, m)
    # The delta method is first order; its neglected terms are O(1/m) relative to each problem's variance
    # (per problem up to 2.5% at k = 30, p = 0.3 here), but the sum is dominated by the small-p problems, where
    # they are ~1e-4: the sums agree to 2.4e-5 (measured against this SciPy sum), so rtol 1e-3 keeps a 40× margin.
    np.testing.assert_allclose(got, exact, rtol=1e-3)
    assert np.all(got > 0)


def test_plugin_curve_variance_bad_input():
    from scaling_theory.passk.estimators import plugin_curve_variance

    with pytest.raises(InputError, match="p must be in"):
        plugin_curve_variance([0.5, 1.5], [1.0], 10)
    with pytest.raises(InputError, match="n_obs"):
        plugin_curve_variance([0.5], [1.0], 0)


@pytest.mark.parametrize("jit", [False, True])
def test_log_no_success_upto_is_the_hypergeometric_probability_of_no_success(jit):
    # The whole curve k = 0..kmax from one running sum, against SciPy's hypergeometric log-pmf at 0 successes
    # (an independent evaluation), including k > n − c (−inf) and c = 0 (0).
    import numpy as np
    from scipy.stats import hypergeom

    from scaling_theory.passk.estimators import log_no_success_upto

    rng = np.random.default_rng(7)
    n = rng.integers(1, 90, size=(6, 40)).astype(float)
    c = np.floor(rng.random((6, 40)) ** 2 * (n + 1))
    fn = jax.jit(log_no_success_upto, static_argnums=2) if jit else log_no_success_upto
    with jax.enable_x64(True):
        got = np.asarray(fn(jax.numpy.asarray(n), jax.numpy.asarray(c), 64))
    k = np.arange(65.0)
    valid = k <= n[..., None]
    want = hypergeom.logpmf(0, n[..., None], c[..., None], np.where(valid, k, 0.0))
    feasible = valid & (k <= (n - c)[..., None])
    assert got.shape == (6, 40, 65)
    np.testing.assert_allclose(got[feasible], want[feasible], rtol=1e-12, atol=1e-13)
    assert np.all(np.isneginf(got[valid & ~feasible]))
    assert np.all(got[..., 0] == 0.0)
