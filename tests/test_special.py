"""Shared special functions against SciPy and asymptotic series."""

from __future__ import annotations

import jax
import numpy as np

from scaling_theory import special


def test_special_functions_against_scipy():
    import scipy.special as sp

    x = np.concatenate([np.logspace(-7, 9, 200), np.linspace(0.01, 30, 200)])
    with jax.enable_x64(True):
        lg, dg, tg = (np.asarray(f(x)) for f in (special.lgamma, special.digamma, special.trigamma))
    np.testing.assert_allclose(lg, sp.gammaln(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dg, sp.digamma(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(tg, sp.polygamma(1, x), rtol=1e-13)


def test_log_gamma_ratio_is_accurate_without_cancellation():
    import scipy.special as sp

    rng = np.random.default_rng(0)
    # moderate arguments: SciPy's gammaln difference is exact to ~1e-15 there
    x, h = np.exp(rng.uniform(np.log(1e-3), np.log(30), (2, 500)))
    with jax.enable_x64(True):
        got = np.asarray(special.log_gamma_ratio(x, h))
    np.testing.assert_allclose(got, sp.gammaln(x + h) - sp.gammaln(x), rtol=1e-13, atol=1e-13)
    # huge x, small h: the asymptotic series h log x + h(h−1)/(2x) − h(h−1)(h−2)/(12x²) is exact to 1e-16
    x, h = 10 ** rng.uniform(6, 15, 500), rng.uniform(0.01, 3.0, 500)
    series = h * np.log(x) + h * (h - 1) / (2 * x) - h * (h - 1) * (h - 2) / (12 * x**2)
    with jax.enable_x64(True):
        got = np.asarray(special.log_gamma_ratio(x, h))
    np.testing.assert_allclose(got, series, rtol=1e-13)


def _exact_log_gamma_ratio_diff(x: int, delta: int, h: int) -> float:
    """log[Γ(x+h)/Γ(x) · Γ(x+δ)/Γ(x+δ+h)] for whole numbers, in exact rational arithmetic."""
    import math
    from fractions import Fraction

    r = Fraction(math.prod(range(x, x + h)), math.prod(range(x + delta, x + delta + h)))
    if r > Fraction(1, 4):  # near 1: log1p of the exactly rounded r − 1 keeps full relative accuracy
        return math.log1p(float(r - 1))
    return math.log(r.numerator) - math.log(r.denominator)


def test_log_gamma_ratio_diff_matches_exact_rational_arithmetic():
    # Whole-number arguments: the value is the log of an exact rational number. Relative error ≤ 1e-13 (the
    # plain difference of two log_gamma_ratio calls reaches 5e-13 here).
    rng = np.random.default_rng(1)
    x, delta, h = rng.integers(1, 2000, 300), rng.integers(0, 3000, 300), rng.integers(0, 300, 300)
    exact = np.array([_exact_log_gamma_ratio_diff(int(a), int(b), int(c)) for a, b, c in zip(x, delta, h)])
    with jax.enable_x64(True):
        got = np.asarray(special.log_gamma_ratio_diff(x * 1.0, delta * 1.0, h * 1.0))
    np.testing.assert_allclose(got, exact, rtol=1e-13, atol=1e-300)


def test_log_gamma_ratio_diff_at_one_step_is_a_single_log():
    # δ = 1: D(x, h) − D(x+1, h) = log[x/(x+h)] exactly, for real x and h over many decades.
    rng = np.random.default_rng(2)
    x, h = 10 ** rng.uniform(-3, 7, (2, 1000))
    with jax.enable_x64(True):
        got = np.asarray(special.log_gamma_ratio_diff(x, 1.0, h))
    np.testing.assert_allclose(got, -np.log1p(h / x), rtol=1e-13)
