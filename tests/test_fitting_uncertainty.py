"""Bootstrap and posterior uncertainty: exact replicate refits, interval coverage, closed-form posterior."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.fitting import bootstrap, bootstrap_many, fit, fit_many
from scaling_theory.stats import bootstrap_counts
from tests._stats import assert_within_se, variance_se

X = np.logspace(0.0, 4.0, 30)
A = np.c_[np.ones(X.size), -np.log(X)]  # design of log y = log a − b log x
SIGMA = 0.05


def noisy(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 3.0 * X**-0.4 * np.exp(SIGMA * rng.standard_normal(X.size))


@pytest.fixture(scope="module")
def power_fit():
    return fit("power_law", {"x": X}, noisy(0), loss="mse")


@pytest.fixture(scope="module")
def draws40(power_fit):
    return bootstrap(jax.random.key(7), power_fit, 40)


def test_bootstrap_replicates_are_weighted_least_squares_refits(power_fit, draws40):
    counts = bootstrap_counts(jax.random.key(7), [X.size], 40)[0]
    assert counts.shape == (40, 30) and np.all(counts.sum(axis=1) == 30)
    # each cell's count is Binomial(30, 1/30): mean 1 (exactly, rows sum to 30), variance 29/30. The SE of
    # the pooled sample variance is computed from the 1,200 cells as if independent (the within-row
    # multinomial correlation, −1/29, is negligible next to z = 5).
    many = bootstrap_counts(jax.random.key(8), [X.size], 40)[0]
    assert np.mean(many) == pytest.approx(1.0, abs=1e-12)
    assert_within_se(np.var(many), 29 / 30, variance_se(many.ravel()), what="bootstrap count variance")
    ly = np.log(power_fit.y)
    for b in range(40):  # closed form: θ_b = argmin Σ c_bi (log ŷ_i − log y_i)²
        sw = np.sqrt(counts[b])
        coef = np.linalg.lstsq(A * sw[:, None], ly * sw, rcond=None)[0]
        np.testing.assert_allclose(draws40.theta[b], coef, rtol=1e-6, atol=1e-8)
    assert draws40.converged.all()


def test_bootstrap_is_reproducible_and_seeded(power_fit, draws40):
    np.testing.assert_array_equal(bootstrap(jax.random.key(7), power_fit, 40).theta, draws40.theta)
    assert not np.allclose(bootstrap(jax.random.key(8), power_fit, 40).theta, draws40.theta)


def test_prediction_band_is_the_law_draws_convolved_with_the_residuals(power_fit, draws40):
    """kind='prediction' samples log ŷ_b(x₀) + ε with ε from the df-corrected residual pool; its
    quantiles match those of the exact convolution (all 40 × 30 combinations) to Monte Carlo
    accuracy: the SE of an empirical p-quantile of 40 × 500 draws is sqrt(p(1 − p)/20000)/f(q_p), the
    density f read off the exact convolution (the law part is fixed, so the draws are stratified and
    this iid SE is conservative)."""
    x0 = np.array([3e4])
    band = draws40.prediction_interval(jax.random.key(5), {"x": x0}, level=0.9, noise_draws=500)
    curve = draws40.predict_interval({"x": x0}, level=0.9)
    assert band.lo[0] < curve.lo[0] < curve.median[0] < curve.hi[0] < band.hi[0]
    log_law = draws40.theta[:, 0] - draws40.theta[:, 1] * np.log(x0[0])
    pool = power_fit.residuals() * np.sqrt(30 / 28)
    exact = np.quantile((log_law[:, None] + pool[None, :]).ravel(), [0.05, 0.95])
    pooled = (log_law[:, None] + pool[None, :]).ravel()
    p, h = np.array([0.05, 0.95]), 0.02
    dens = 2 * h / (np.quantile(pooled, p + h) - np.quantile(pooled, p - h))
    q_se = np.sqrt(p * (1 - p) / (40 * 500)) / dens
    assert_within_se(np.log([band.lo[0], band.hi[0]]), exact, q_se, what="prediction-band quantiles")


@pytest.mark.slow
def test_bootstrap_interval_coverage_on_synthetic_data():
    """200 synthetic data sets × 200 replicates in one batched call. The nominal 90 % percentile
    interval for the exponent b covers the truth in 90 % ± 3 SE of the data sets (SE =
    sqrt(0.9·0.1/200) = 0.021; the percentile bootstrap of a 30-point regression under-covers by
    ~1–2 points), and so does the 90 % prediction band for a fresh observation at x = 3·10⁴."""
    R = 200
    fits = fit_many(
        "power_law", [({"x": X}, noisy(100 + r)) for r in range(R)], loss="mse", starts=np.array([[1.0, 0.4]])
    )
    draws = bootstrap_many(jax.random.key(0), fits, 200, n_starts=1)
    tol = 3 * np.sqrt(0.9 * 0.1 / R)
    lo_hi = np.array([d.intervals(0.9).bounds("b") for d in draws])
    covered = (lo_hi[:, 0] <= 0.4) & (0.4 <= lo_hi[:, 1])
    assert abs(covered.mean() - 0.9) < tol
    # the bootstrap spread matches the OLS standard error σ sqrt([(AᵀA)⁻¹]_bb) on average (10 %)
    se = SIGMA * np.sqrt(np.linalg.inv(A.T @ A)[1, 1])
    assert np.mean([d.params["b"].std() for d in draws]) == pytest.approx(se, rel=0.1)
    rng = np.random.default_rng(12)
    x0 = {"x": np.array([3e4])}
    y_new = 3.0 * 3e4**-0.4 * np.exp(SIGMA * rng.standard_normal(R))
    bands = [d.prediction_interval(jax.random.key(r), x0, level=0.9) for r, d in enumerate(draws)]
    inside = np.mean([b.lo[0] <= y <= b.hi[0] for b, y in zip(bands, y_new)])
    assert abs(inside - 0.9) < tol


@pytest.mark.slow  # NUTS compiles for ~20 s on 2 cores
def test_posterior_matches_the_gaussian_closed_form(power_fit):
    """Gaussian likelihood with known σ and a flat prior: θ | y ~ N(θ_OLS, σ² (AᵀA)⁻¹) exactly.
    Monte Carlo tolerance: 4 × posterior sd / sqrt(n_eff) for the means, 4/sqrt(2 n_eff) for the sds."""
    from scaling_theory.fitting.bayes import posterior

    draws = posterior(jax.random.key(0), power_fit, likelihood="normal", sigma=SIGMA, num_warmup=300, num_samples=1500)
    coef = np.linalg.lstsq(A, np.log(power_fit.y), rcond=None)[0]
    sd = SIGMA * np.sqrt(np.diag(np.linalg.inv(A.T @ A)))
    n_eff = min(draws.diagnostics["n_eff"].values())
    assert n_eff > 200 and draws.diagnostics["divergences"] == 0
    np.testing.assert_array_less(np.abs(draws.theta.mean(axis=0) - coef), 4 * sd / np.sqrt(n_eff))
    np.testing.assert_allclose(draws.theta.std(axis=0), sd, rtol=4 / np.sqrt(2 * n_eff))
    assert max(draws.diagnostics["r_hat"].values()) < 1.05


def test_bad_uncertainty_requests(power_fit, draws40):
    with pytest.raises(InputError, match="replicates must be an integer >= 2"):
        bootstrap(jax.random.key(0), power_fit, 1)
    draws = draws40
    with pytest.raises(InputError, match=r"level must be in \(0, 1\)"):
        draws.intervals(1.5)
    with pytest.raises(InputError, match="noise_draws must be an integer >= 1"):
        draws.prediction_interval(jax.random.key(0), {"x": X}, noise_draws=0)
    with pytest.raises(InputError, match=r"level must be in \(0, 1\)"):
        draws.prediction_interval(jax.random.key(0), {"x": X}, level=1.0)
    from scaling_theory.fitting.bayes import posterior

    with pytest.raises(InputError, match="likelihood must be one of"):
        posterior(jax.random.key(0), power_fit, likelihood="cauchy")
    with pytest.raises(InputError, match="num_samples must be a positive integer"):
        posterior(jax.random.key(0), power_fit, num_samples=0)


def test_prior_box_widens_the_law_bounds_by_half_their_width(power_fit):
    from scaling_theory.fitting.bayes import PriorBox, posterior, prior_box

    box = prior_box(power_fit)
    lo, hi = power_fit.law.bounds(power_fit.x, power_fit.y)
    w = np.maximum(hi - lo, 1e-3)
    want_lo = [min(a - v / 2, t - v / 2) for a, v, t in zip(lo, w, power_fit.theta)]
    want_hi = [max(b + v / 2, t + v / 2) for b, v, t in zip(hi, w, power_fit.theta)]
    assert box.rows() == [
        {"coord": c, "lo": float(a), "hi": float(b)} for c, a, b in zip(("log_a", "b"), want_lo, want_hi)
    ]
    assert np.all((box.lo < power_fit.theta) & (power_fit.theta < box.hi))
    # posterior takes the box as a PriorBox (or an (lo, hi) pair) and checks it before sampling
    outside = PriorBox(box.coord, power_fit.theta + 1.0, power_fit.theta + 2.0)
    with pytest.raises(InputError, match="the best fit lies outside the prior box"):
        posterior(jax.random.key(0), power_fit, box=outside)
    with pytest.raises(InputError, match="the best fit lies outside the prior box"):
        posterior(jax.random.key(0), power_fit, box=(outside.lo, outside.hi))


def test_curve_band_is_the_percentiles_of_the_law_over_the_draws_and_has_tidy_rows(draws40):
    """The curve band at x is the equal-tailed percentile band of a·x^(−b) over the draws, computed here
    from the coordinates (log a, b) by hand; one row per point."""
    x = np.array([10.0, 3e4])
    band = draws40.predict_interval({"x": x}, level=0.8)
    by_hand = np.exp(draws40.theta[:, :1] - draws40.theta[:, 1:] * np.log(x)[None, :])  # R × 2
    lo, med, hi = np.quantile(by_hand, [0.1, 0.5, 0.9], axis=0)
    np.testing.assert_allclose(band.lo, lo, rtol=1e-12)
    np.testing.assert_allclose(band.median, med, rtol=1e-12)
    np.testing.assert_allclose(band.hi, hi, rtol=1e-12)
    frame = band.to_frame()
    assert list(frame.columns) == ["point", "median", "lo", "hi", "level", "kind"]
    assert frame["point"].tolist() == [0, 1] and set(frame["kind"]) == {"curve"} and set(frame["level"]) == {0.8}
    np.testing.assert_allclose(frame["hi"], hi, rtol=1e-12)
