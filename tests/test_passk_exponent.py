"""Exponents of −log pass@k: least squares (Schaeffer Table 1) and the distributional estimator (spec §3, §8.8)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy.special import betaln, gammaln, polygamma

from scaling_theory.errors import InputError
from scaling_theory.passk import beta_law
from scaling_theory.passk.exponent import _histogram, distributional_exponent, least_squares_exponent, schaeffer_bins
from scaling_theory.passk.simulate import simulate_counts
from scaling_theory.stats import weighted_loglog_fit
from tests._stats import assert_within_se

# Schaeffer et al. (arXiv 2502.17578) Table 1: least-squares (a, b), Pythia × MATH, 128 problems.
TABLE1 = {
    "Pythia 70M": (8.026, 0.194),
    "Pythia 160M": (6.591, 0.280),
    "Pythia 410M": (5.524, 0.286),
    "Pythia 1B": (5.452, 0.315),
    "Pythia 2.8B": (4.104, 0.336),
    "Pythia 6.9B": (4.255, 0.348),
    "Pythia 12B": (4.113, 0.370),
}


def test_reproduces_schaeffer_table1(pythia_counts_path):
    from scaling_theory.io import read_counts

    df = read_counts(pythia_counts_path, ["model"])
    for model, (a, b) in TABLE1.items():
        sub = df[df.model == model]
        res = least_squares_exponent(sub.n.to_numpy(), sub.k.to_numpy())
        assert res["b"] == pytest.approx(b, abs=5e-4), model  # the table's 3 decimals
        assert res["a"] == pytest.approx(a, abs=1.5e-3), model  # (6.592 vs 6.591 for 160M: rounding)


def test_least_squares_on_the_exact_beta_law_tends_to_alpha():
    # Spec §8.8: on the exact population curve, the log-log slope over a large-k range approaches α.
    # (−log ASR ≈ 1 − ASR needs L·k^(−α) ≪ 1: slope 0.306 on [1e4, 1e7], 0.3003 on [1e8, 1e12].)
    alpha, beta = 0.3, 5.0
    ks = np.logspace(8, 12, 30)
    curve = np.asarray(beta_law.asr_exact(alpha, beta, ks))
    with jax.enable_x64(True):
        s, c = weighted_loglog_fit(np.log(ks), np.log(-np.log(curve)), np.ones_like(ks))
    b = -s
    assert float(b) == pytest.approx(alpha, rel=0.003)
    # the intercept tends to the Hughes constant Γ(α+β)/Γ(β) (SciPy's gammaln, not the package's)
    assert float(np.exp(c)) == pytest.approx(np.exp(gammaln(alpha + beta) - gammaln(beta)), rel=0.02)


def test_weighted_fit_is_ordinary_least_squares():
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=20), rng.normal(size=20), rng.uniform(0.5, 2, 20)
    with jax.enable_x64(True):
        s, c = weighted_loglog_fit(x, y, w)
    b = -s
    slope, icpt = np.polyfit(x, y, 1, w=np.sqrt(w))
    assert float(b) == pytest.approx(-slope, rel=1e-10) and float(c) == pytest.approx(icpt, rel=1e-10)


def test_distributional_recovers_alpha_of_unscaled_beta():
    # θ ~ Beta(0.3, 3) on 2000 problems with 10^4 attempts: the discretised fit with scale 1 recovers α.
    sim = simulate_counts(jax.random.key(3), 0.3, 3.0, 2000, 10_000)
    res = distributional_exponent(10_000, sim.k, scale=1.0)
    # SE of α̂: the Cramér–Rao bound of the Beta(α, β) MLE on 2000 exact θ_i (Fisher information from SciPy's
    # trigamma), a lower bound for the binned fit on k/n; 5 of those SEs.
    t_ab, t_a, t_b = polygamma(1, 3.3), polygamma(1, 0.3), polygamma(1, 3.0)
    info = np.array([[t_a - t_ab, -t_ab], [-t_ab, t_b - t_ab]])
    se_alpha = np.sqrt(np.linalg.inv(info)[0, 0] / 2000)
    assert_within_se(res["b"], 0.3, se_alpha, what="distributional α̂")
    # a is the large-N limit of N^α·(−log ASR@N) of the fitted Beta law (scale 1): SciPy's exact survival
    # S(N) = B(α, β+N)/B(α, β) at N = 1e14, where the O(1/N) and S²/2 corrections are below 1e-4.
    al, be, big_n = float(res["alpha"]), float(res["beta"]), 1e14
    surv = np.exp(betaln(al, be + big_n) - betaln(al, be))
    assert float(res["a"]) == pytest.approx(big_n**al * -np.log1p(-surv), rel=1e-4)
    assert not res["at_bound"]


def test_bins_and_histogram_follow_the_official_code():
    edges = schaeffer_bins(1e-4)
    assert edges[0] == 0 and edges[1] == 5e-5 and edges.size == 2 + 41 and edges[-1] == 1.0
    data = np.array([0.0, 0.0, 1e-4, 0.003, 0.5, 1.0])
    np.testing.assert_array_equal(_histogram(data, edges), np.histogram(data, edges)[0])


def test_bad_input():
    with pytest.raises(InputError, match="at least two"):
        least_squares_exponent([10, 10], [0, 0], ks=[1, 2, 3])
    with pytest.raises(InputError, match="at least one success"):
        distributional_exponent([10, 10], [0, 0])
