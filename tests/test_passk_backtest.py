"""The observe-n / predict-N back-test protocol (SABER §2.4, spec §7(d))."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.passk import pass_at_k
from scaling_theory.passk.backtesting import backtest, truth_pass_at_n
from scaling_theory.passk.simulate import simulate_counts
from scaling_theory.stats import subsample
from tests._stats import assert_within_se, variance_se


def test_subsample_is_hypergeometric():
    n, k = np.array([1000, 1000, 50]), np.array([100, 0, 50])
    draws = subsample(jax.random.key(0), n, k, 40, 4000)
    assert draws.shape == (4000, 3)
    assert np.all(draws[:, 1] == 0) and np.all(draws[:, 2] == 40) and np.all(draws <= 40)
    # Hypergeometric mean 40·100/1000 = 4 and variance 4·0.9·960/999 = 3.459; standard errors from the draws.
    x = draws[:, 0].astype(float)
    assert_within_se(exact=4.0, samples=x, what="hypergeometric mean")
    assert_within_se(x.var(), 40 * 0.1 * 0.9 * 960 / 999, variance_se(x), what="hypergeometric variance")


def test_truth_is_the_mean_chen_estimate():
    n, k, m = np.array([[100, 100, 100]]), np.array([[0, 3, 50]]), np.ones((1, 3))
    expect = np.mean(np.asarray(pass_at_k(n[0], k[0], 20)))
    assert truth_pass_at_n(n, k, m, [20])[0, 0] == pytest.approx(expect, rel=1e-14)


def test_observing_everything_makes_anchored_exact():
    # observe = logged n: the sub-sample is the full data, anchored(N = n) = coverage = Chen's pass@n.
    # shapes shared with the next test
    sim = simulate_counts(jax.random.key(1), np.full(16, 0.3), np.full(16, 3.0), 159, 200)
    res = backtest(jax.random.key(0), 200, sim.k, 200, [200], ["anchored", "naive"], repeats=1)
    tab = res.table.set_index(["group", "method"])
    assert np.all(tab.xs("anchored", level="method")["error"] < 1e-10)
    assert set(res.mae.columns) >= {"method", "budget", "mae", "coverage", "width"}
    assert res.mae.set_index("method").loc["anchored", "mae"] == pytest.approx(
        tab.xs("anchored", level="method")["error"].mean()
    )


def test_synthetic_backtest_orders_the_methods():
    # SABER protocol in miniature: naive is far off, the Beta-law methods are close (pp).
    sim = simulate_counts(jax.random.key(2), np.full(16, 0.4), np.full(16, 4.0), 159, 2000)
    res = backtest(jax.random.key(1), 2000, sim.k, 100, [1000], ["naive", "anchored", "eb"], repeats=1)
    mae = res.mae.set_index("method")["mae"]
    assert mae["naive"] > 5 and mae["anchored"] < 2.5 and mae["eb"] < 2.5


@pytest.mark.parametrize("observe,budgets,match", [(300, [100], "observe must be"), (50, [300], "budget must be")])
def test_bad_input(observe, budgets, match):
    with pytest.raises(InputError, match=match):
        backtest(jax.random.key(0), 200, np.ones(10), observe, budgets, ["naive"])
