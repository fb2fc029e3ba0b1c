"""Functions moved out of the experiment scripts into the library (issue 13), against independent computations."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.judge import analysis
from scaling_theory.judge.model import BLRJudge
from scaling_theory.passk.exponent import bootstrap_pass_curves

PARAMS = dict(d=10, n=10_000, sigma=1e-4, gamma=1e-3, S=1.0)


def test_hte_optimal_temperature_minimises_the_expansion():
    c1, c2 = 0.7, 0.2
    t = np.linspace(0.01, 3.0, 300_001)
    for k in (3.0, 10.0, 100.0):
        delta2 = -(1 - 1 / k) * c1 / t + (1 - 1 / k) * (1 - 2 / k) * c2 / t**2  # brute-force grid minimum
        assert float(analysis.hte_optimal_temperature(k, c1, c2)) == pytest.approx(t[np.argmin(delta2)], abs=2e-5)


def test_with_difficulty_ratio_hits_the_ratio():
    base = BLRJudge(**PARAMS, teacher_scale=1.0, n_gh=48)
    for r in (0.5, 2.0):
        assert analysis.difficulty_ratio(analysis.with_difficulty_ratio(base, r)) == pytest.approx(r, rel=1e-10)
    with pytest.raises(InputError, match="ratio"):
        analysis.with_difficulty_ratio(base, -1.0)


def test_official_lte_formula():
    judge = BLRJudge(**PARAMS, teacher_scale=4.0)
    # by hand: x = 2·4/γ² · (α σ/(γ S))², α = d/n = 1e-3 → x = 8e6 · (1e-7/1e-3)² = 0.08
    expected = math.pi / 50.0**2 / math.sqrt(1 - 0.08)
    assert float(analysis.official_lte(judge, [50.0])[0]) == pytest.approx(expected, rel=1e-12)


def test_log_elasticities_of_a_power_law_are_its_exponents():
    ks, ns = np.geomspace(1, 1e4, 9), np.geomspace(1e2, 1e5, 7)
    grid = 3.0 * ns[:, None] ** -0.5 * ks[None, :] ** -2.0  # δ = 3 n^−½ k^−2: constant elasticities
    el_k, el_n = analysis.log_elasticities(grid, ks, ns)
    np.testing.assert_allclose(el_k, -2.0, rtol=1e-12)
    np.testing.assert_allclose(el_n, -0.5, rtol=1e-12)


def test_bootstrap_pass_curves_replicate_zero_and_resampled_mean():
    rng = np.random.default_rng(0)
    n, k = 20.0, rng.integers(0, 21, (2, 30)).astype(float)
    ks = np.array([1.0, 5.0])
    curves = bootstrap_pass_curves(jax.random.key(0), n, k, ks, 2000)
    assert curves.shape == (2, 2001, 2)
    # replicate 0 = the data: pass@1 is the mean of k/n, pass@5 Chen's 1 − C(n−k, 5)/C(n, 5)
    np.testing.assert_allclose(curves[:, 0, 0], (k / n).mean(axis=1), rtol=1e-12)
    chen = 1 - np.array([[math.comb(20 - int(c), 5) / math.comb(20, 5) for c in row] for row in k])
    np.testing.assert_allclose(curves[:, 0, 1], chen.mean(axis=1), rtol=1e-12)
    # the bootstrap mean of a mean is unbiased: SE = sd(values)/√P/√B
    se = (k / n).std(axis=1) / np.sqrt(30) / np.sqrt(2000)
    assert np.all(np.abs(curves[:, 1:, 0].mean(axis=1) - (k / n).mean(axis=1)) < 4 * se)
