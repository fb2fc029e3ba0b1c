"""Residual and block bootstrap, Student-t intervals: closed forms of linear regression, the row
bootstrap as a special case, and coverage by simulation with binomial standard errors."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import stats

from scaling_theory.errors import InputError
from scaling_theory.fitting import bootstrap, fit
from scaling_theory.fitting.intervals import (
    block_bootstrap,
    linearisation,
    residual_bootstrap,
    t_draws,
    t_intervals,
    t_prediction_interval,
)

X = np.logspace(0.0, 4.0, 30)
SIGMA = 0.05


def power_law_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 3.0 * X**-0.4 * np.exp(SIGMA * rng.standard_normal(X.size))


@pytest.fixture(scope="module")
def ols():
    """A power law fitted by least squares in log–log space: ordinary linear regression."""
    y = power_law_data(0)
    return fit("power_law", {"x": X}, y, loss="mse"), y


def test_t_intervals_equal_linear_regression(ols):
    res, y = ols
    lr = stats.linregress(np.log(X), np.log(y))
    q = stats.t.ppf(0.95, X.size - 2)
    got = t_intervals(res, 0.9)
    assert list(got.bounds("b")) == pytest.approx([-lr.slope - q * lr.stderr, -lr.slope + q * lr.stderr], rel=1e-9)
    assert list(got.bounds("a")) == pytest.approx(
        list(np.exp([lr.intercept - q * lr.intercept_stderr, lr.intercept + q * lr.intercept_stderr])), rel=1e-9
    )
    frame = got.to_frame()  # one row per parameter
    assert list(frame.columns) == ["param", "lo", "hi", "level", "method"] and frame["param"].tolist() == ["a", "b"]
    assert frame["hi"].iloc[1] == pytest.approx(-lr.slope + q * lr.stderr, rel=1e-9) and set(frame["method"]) == {"t"}
    assert got.as_dict()["b"] == list(got.bounds("b"))
    with pytest.raises(InputError, match="no parameter 'c'"):
        got.bounds("c")
    # the coordinates are (log a, b): their standard errors are OLS's intercept and slope SEs
    lin = linearisation(res).to_frame()
    assert lin["se"].tolist() == pytest.approx([lr.intercept_stderr, lr.stderr], rel=1e-9)
    assert lin["dof"].tolist() == [X.size - 2] * 2


def test_t_prediction_interval_is_the_textbook_formula(ols):
    res, y = ols
    u, z = np.log(X), np.log(y)
    slope, icpt = np.polyfit(u, z, 1)
    s = np.sqrt(np.sum((z - icpt - slope * u) ** 2) / (X.size - 2))
    u0 = np.log(np.array([1e5, 1e6]))
    q = stats.t.ppf(0.975, X.size - 2)
    half = q * s * np.sqrt(1 + 1 / X.size + (u0 - u.mean()) ** 2 / np.sum((u - u.mean()) ** 2))
    got = t_prediction_interval(res, {"x": np.exp(u0)}, 0.95)
    np.testing.assert_allclose(np.log(got.lo), icpt + slope * u0 - half, rtol=1e-9)
    np.testing.assert_allclose(np.log(got.hi), icpt + slope * u0 + half, rtol=1e-9)
    curve = t_prediction_interval(res, {"x": np.exp(u0)}, 0.95, kind="curve")
    half_c = q * s * np.sqrt(1 / X.size + (u0 - u.mean()) ** 2 / np.sum((u - u.mean()) ** 2))
    np.testing.assert_allclose(np.log(curve.hi), icpt + slope * u0 + half_c, rtol=1e-9)


def test_t_draws_percentiles_match_t_intervals(ols):
    res, _ = ols
    n = 40_000
    d = t_draws(jax.random.key(1), res, n)
    exact = t_intervals(res, 0.9)
    se = np.sqrt(np.diag(linearisation(res).cov))
    # SE of an empirical 5 % quantile: sqrt(p(1 − p)/n) / density at the quantile (t with n − p df)
    dof = X.size - 2
    q_se = np.sqrt(0.05 * 0.95 / n) / stats.t.pdf(stats.t.ppf(0.95, dof), dof)
    got_b = d.params["b"]
    for p, ref in zip((0.05, 0.95), exact.bounds("b")):
        assert np.quantile(got_b, p) == pytest.approx(ref, abs=4 * q_se * se[1])


def test_residual_bootstrap_sd_is_the_regression_standard_error(ols):
    """Residual bootstrap of OLS with the sqrt(n/(n − p))-inflated pool: Var*(slope) = s²/Sxx, the
    linregress standard error (Davison & Hinkley 1997, §6.2.3)."""
    res, y = ols
    B = 400
    d = residual_bootstrap(jax.random.key(0), res, B)
    lr = stats.linregress(np.log(X), np.log(y))
    sd = np.std(d.params["b"], ddof=1)
    assert d.converged.mean() >= 0.99  # tight tolerances: a rare replicate ends on a line-search failure
    assert sd == pytest.approx(lr.stderr, abs=3 * lr.stderr / np.sqrt(2 * (B - 1)))


def test_block_bootstrap_with_one_row_per_run_is_the_row_bootstrap(ols):
    res, _ = ols
    a = block_bootstrap(jax.random.key(4), res, np.arange(X.size), 30)
    b = bootstrap(jax.random.key(4), res, 30)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-9, atol=1e-12)


def test_block_bootstrap_input_errors(ols):
    res, _ = ols
    with pytest.raises(InputError, match="group labels"):
        block_bootstrap(jax.random.key(0), res, np.arange(5), 10)
    with pytest.raises(InputError, match="at least 2 groups"):
        block_bootstrap(jax.random.key(0), res, np.zeros(X.size), 10)
    with pytest.raises(InputError, match="replicates"):
        residual_bootstrap(jax.random.key(0), res, 1)


def _binomial_ok(hits: np.ndarray, level: float, k: float = 3.0) -> tuple[float, float]:
    cov = float(np.mean(hits))
    se = np.sqrt(level * (1 - level) / hits.size)
    return cov, k * se


@pytest.mark.slow
def test_t_interval_coverage_on_linear_regression():
    """Exact for a linear model with Gaussian noise: coverage of b = 0.4 is 90 % ± binomial SE."""
    R, level = 300, 0.9
    hits = []
    for seed in range(R):
        res = fit("power_law", {"x": X}, power_law_data(100 + seed), loss="mse", starts=np.array([[np.log(3.0), 0.4]]))
        lo, hi = t_intervals(res, level).bounds("b")
        hits.append(lo <= 0.4 <= hi)
    cov, tol = _binomial_ok(np.array(hits), level)
    assert abs(cov - level) < tol, (cov, tol)


@pytest.mark.slow
def test_residual_and_row_bootstrap_coverage_of_a_prediction():
    """90 % prediction intervals for a new observation at x = 10⁵ (extrapolated ×10), residual and row
    bootstrap: coverage within 3 binomial SE of nominal."""
    R, level, B = 150, 0.9, 200
    x0 = {"x": np.array([1e5])}
    rng = np.random.default_rng(7)
    hits = {"residual": [], "row": []}
    for seed in range(R):
        res = fit("power_law", {"x": X}, power_law_data(1000 + seed), loss="mse")
        y_new = 3.0 * 1e5**-0.4 * np.exp(SIGMA * rng.standard_normal())
        for name, d in (
            ("residual", residual_bootstrap(jax.random.key(seed), res, B)),
            ("row", bootstrap(jax.random.key(seed), res, B)),
        ):
            band = d.prediction_interval(jax.random.key(seed), x0, level)
            hits[name].append(band.lo[0] <= y_new <= band.hi[0])
    for name, h in hits.items():
        cov, tol = _binomial_ok(np.array(h), level)
        assert abs(cov - level) < tol, (name, cov, tol)
