"""Compute-optimal allocation (closed form vs numerical minimisation) and the extrapolation back-test."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.fitting import backtest, backtest_many, compute_optimal
from scaling_theory.fitting.synthetic import HOFFMANN

# ----------------------------------------------------------------------------------- allocation


@pytest.mark.parametrize("C", [1e19, 5.76e23, 1e26])
def test_allocation_minimises_the_loss_on_the_compute_frontier(C):
    p = HOFFMANN
    opt = compute_optimal(p, C)

    def loss_at(log_n):  # L(N, C/(6N)) by direct evaluation
        n = np.exp(log_n)
        return p["E"] + p["A"] * n ** -p["alpha"] + p["B"] * (C / (6 * n)) ** -p["beta"]

    ref = scipy.optimize.minimize_scalar(
        loss_at, bounds=(np.log(1e3), np.log(1e16)), method="bounded", options={"xatol": 1e-10}
    )
    assert opt.N == pytest.approx(np.exp(ref.x), rel=1e-6)
    assert opt.loss == pytest.approx(ref.fun, rel=1e-12)
    assert 6 * opt.N * opt.D == pytest.approx(C, rel=1e-12)


def test_allocation_exponents_match_the_chinchilla_paper():
    # Hoffmann et al. 2022, Table 2, Approach 3: N_opt ∝ C^0.46, D_opt ∝ C^0.54. With their rounded
    # parameters a = β/(α+β) = 0.4516 (the table rounds the unrounded fit), hence the 0.01 tolerance.
    opt = compute_optimal(HOFFMANN, np.array([1e20, 1e24]))
    a = np.log(opt.N[1] / opt.N[0]) / np.log(1e4)
    b = np.log(opt.D[1] / opt.D[0]) / np.log(1e4)
    assert a == pytest.approx(0.46, abs=0.01) and b == pytest.approx(0.54, abs=0.01)
    assert a + b == pytest.approx(1.0, abs=1e-12)
    assert float(opt.a) == pytest.approx(0.28 / 0.62, rel=1e-12)


def test_allocation_broadcasts_over_parameter_draws():
    draws = {k: np.full(7, v) for k, v in HOFFMANN.items()}
    draws["alpha"] = np.linspace(0.3, 0.4, 7)
    out = compute_optimal({k: v[:, None] for k, v in draws.items()}, np.array([1e21, 1e23]))
    assert out.N.shape == (7, 2)
    single = compute_optimal({k: v[3] for k, v in draws.items()}, np.array([1e21, 1e23]))
    np.testing.assert_allclose(out.N[3], single.N, rtol=1e-14)
    frame = out.to_frame()  # one row per (draw, budget), draw-major
    assert list(frame.columns) == ["compute", "N", "D", "loss", "tokens_per_param", "a", "b"] and len(frame) == 14
    assert frame["compute"].tolist() == [1e21, 1e23] * 7
    np.testing.assert_allclose(frame["N"].to_numpy().reshape(7, 2)[3], single.N, rtol=1e-14)
    np.testing.assert_allclose(frame["a"].to_numpy()[::2], draws["beta"] / (draws["alpha"] + draws["beta"]), rtol=1e-14)


@settings(max_examples=25, deadline=None)
@given(c=st.floats(1e18, 1e26), factor=st.floats(1.5, 100.0), alpha=st.floats(0.1, 1.0), beta=st.floats(0.1, 1.0))
def test_more_compute_means_bigger_models_more_tokens_lower_loss(c, factor, alpha, beta):
    p = dict(HOFFMANN, alpha=alpha, beta=beta)
    out = compute_optimal(p, np.array([c, c * factor]))
    assert out.N[1] > out.N[0] and out.D[1] > out.D[0]
    assert out.loss[1] < out.loss[0]


def test_allocation_bad_input():
    with pytest.raises(InputError, match="compute must be positive"):
        compute_optimal(HOFFMANN, -1.0)
    with pytest.raises(InputError, match="alpha must be positive"):
        compute_optimal(dict(HOFFMANN, alpha=-0.1), 1e20)


# ------------------------------------------------------------------------------------- backtest

X = np.logspace(0.0, 4.0, 30)
# Two data sets of 30 points split at x = 300 (18 training rows): the same shapes as the other
# two-data-set fits of this suite, so these tests reuse one compiled optimiser.
EXACT = 3.0 * X**-0.4
BROKEN = np.where(X <= 300, EXACT, 3.0 * 300**-0.4 * (X / 300) ** -0.5)  # the exponent changes above 300


def test_backtest_exact_law_extrapolates_exactly_and_a_break_gives_its_known_error():
    exact, broken = backtest_many(
        jax.random.key(0), "power_law", [({"x": X}, EXACT), ({"x": X}, BROKEN)], scale="x", threshold=300.0, loss="mse"
    )
    held = X[X > 300]
    assert exact.summary["n_train"] == int(np.sum(X <= 300)) and exact.summary["n_test"] == held.size
    assert exact.summary["max_abs_log_error"] < 1e-7
    np.testing.assert_allclose(exact.table["yhat"], EXACT[X > 300], rtol=1e-7)
    # above the break the extrapolated law misses by (x/300)^0.1 exactly
    np.testing.assert_allclose(broken.table["log_error"], 0.1 * np.log(held / 300), atol=1e-7)
    assert broken.summary["last_rel_error"] == pytest.approx((held.max() / 300) ** 0.1 - 1, rel=1e-6)


def test_backtest_many_with_bootstrap_reports_coverage():
    rng = np.random.default_rng(0)
    sets = [({"x": X}, EXACT * np.exp(0.05 * rng.standard_normal(X.size))) for _ in range(2)]
    # 2 data sets × 8 replicates × 1 start: the shapes of the fits themselves (2 × 8 grid starts)
    out = backtest_many(
        jax.random.key(0),
        "power_law",
        sets,
        scale="x",
        threshold=[300.0, 1000.0],
        n_boot=8,
        boot_starts=1,
        level=0.9,
        loss="mse",
    )
    assert [b.summary["threshold"] for b in out] == [300.0, 1000.0]
    for b in out:
        assert set(b.table.columns) >= {"x", "y", "yhat", "log_error", "rel_error", "lo", "hi", "covered"}
        inside = (b.table["y"] >= b.table["lo"]) & (b.table["y"] <= b.table["hi"])
        assert b.summary["coverage"] == pytest.approx(np.mean(inside))
        assert np.all(b.table["lo"] < b.table["yhat"]) and np.all(b.table["yhat"] < b.table["hi"])
    # the fitted law's uncertainty grows with the distance of log x from the training data: the
    # curve band at x = 10⁴ is about (9.2 − 2.9)/(5.7 − 2.9) ≈ 2.2 times as wide as just above 300
    held = out[0].table["x"].to_numpy()
    curve = out[0].draws.predict_interval({"x": held[[0, -1]]}, level=0.9)
    width = np.log(curve.hi / curve.lo)
    assert width[1] > 1.5 * width[0]


def test_backtest_bad_input():
    y = 3.0 * X**-0.4
    with pytest.raises(InputError, match="scale 'N' is not an x variable"):
        backtest(jax.random.key(0), "power_law", {"x": X}, y, scale="N", threshold=10.0)
    with pytest.raises(InputError, match="no rows above the threshold x = 1e\\+06"):
        backtest(jax.random.key(0), "power_law", {"x": X}, y, scale="x", threshold=1e6)
    with pytest.raises(InputError, match="needs at least 3 points; got 1"):
        backtest(jax.random.key(0), "power_law", {"x": X}, y, scale="x", threshold=1.0)
