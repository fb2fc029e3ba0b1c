"""The library functions behind the thin CLI commands, against independent computations.

saturation.tables: saturation_points, coverage_budget, verifier_summary; passk.summaries: estimate_table,
fit_table, predict_groups; judge.curves: error_curve; allocation.tables; fitting.summaries.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from scaling_theory.errors import InputError


# ------------------------------------------------------------------------------------------- saturation
@pytest.mark.parametrize("p0,threshold,cost", [(0.0, "lt", 1.0), (0.2, "le", 2.0), (0.0, "le", 0.5)])
def test_saturation_points_by_brute_force(p0, threshold, cost):
    from scaling_theory.saturation import saturation_points

    ps, eps = [0.05, 0.3, 0.5, 0.9], 0.01
    res = saturation_points(ps, eps, cost=cost, p0=p0, threshold=threshold)

    def gain(p, n):  # (1 − p0) p (1 − p)^N, exact in fractions
        return (1 - Fraction(p0)) * Fraction(p) * (1 - Fraction(p)) ** n

    below = (
        (lambda g: g < Fraction(eps) * Fraction(cost)) if threshold == "lt" else (lambda g: g <= Fraction(eps) * cost)
    )
    for i, p in enumerate(ps):
        n_star = next(n for n in range(10_000) if below(gain(p, n)))
        assert res.n_star[i] == n_star
        assert res.gain_at_n_star[i] == pytest.approx(float(gain(p, n_star)), rel=1e-12)
        if n_star > 0:
            assert res.gain_before[i] == pytest.approx(float(gain(p, n_star - 1)), rel=1e-12)
        hit = 1 - (1 - Fraction(p0)) * (1 - Fraction(p)) ** n_star
        assert res.hit_at_n_star[i] == pytest.approx(float(hit), rel=1e-12)
    rows = res.rows()
    assert [r["n_star"] for r in rows] == [int(n) for n in res.n_star]
    assert all((r["gain_before"] is None) == (r["n_star"] == 0) for r in rows)


def test_coverage_budget_known_p_and_beta_by_brute_force():
    from scaling_theory.saturation import coverage_budget

    res = coverage_budget(0.9, p=[0.1, 0.35])
    for i, p in enumerate([0.1, 0.35]):
        n = next(n for n in range(1, 10_000) if 1 - (1 - p) ** n >= 0.9)
        assert res.n[i] == n
        assert res.gain_from_doubling[i] == pytest.approx((1 - p) ** n - (1 - p) ** (2 * n), rel=1e-10)

    a, b = 0.8, 6.0

    def hit(n):  # aggregate Hit@N of p ~ Beta(a, b): 1 − B(a, b + N)/B(a, b)
        lb = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
        return 1 - math.exp(lb(a, b + n) - lb(a, b))

    res = coverage_budget(0.7, beta_params=(a, b))
    n = next(n for n in range(1, 100_000) if hit(n) >= 0.7)
    assert res.n[0] == n and res.source == "beta"
    assert res.gain_from_doubling[0] == pytest.approx(hit(2 * n) - hit(n), rel=1e-8)
    with pytest.raises(InputError, match="exactly one"):
        coverage_budget(0.9, p=[0.1], beta_params=(1.0, 2.0))


def test_verifier_summary_closed_forms():
    from scaling_theory.saturation import verifier_summary

    r, w, s, c = np.array([0.87, 0.13]), np.array([0.58, 0.42]), 0.75, 0.9
    res = verifier_summary(r, s, completeness=c, weights=w, fp_cost=0.7, kmax=200)
    np.testing.assert_allclose(res.ceiling, c * r / (c * r + (1 - s) * (1 - r)), rtol=1e-12)
    np.testing.assert_allclose(res.p_reject, (1 - c) * r + s * (1 - r), rtol=1e-12)
    np.testing.assert_allclose(res.p_false_positive, (1 - r) * (1 - s), rtol=1e-12)
    assert res.pass_at_1 == pytest.approx(float(w @ r), rel=1e-12)
    assert res.v_fluke == -0.7 and 0 <= res.k_opt <= 200
    with pytest.raises(InputError, match="fp-cost"):
        verifier_summary(r, s, fp_cost=-1.0)


# ------------------------------------------------------------------------------------------------ passk
@pytest.fixture
def stacked():
    from scaling_theory.passk.grouping import stack_groups

    rng = np.random.default_rng(3)
    rows = [("a", i, 40, int(rng.binomial(40, rng.beta(0.5, 3)))) for i in range(30)]
    rows += [("b", i, 30, int(rng.binomial(30, rng.beta(2.0, 2.0)))) for i in range(20)]
    rows += [("c", i, 10, 0) for i in range(5)]  # no success: a degenerate group
    return stack_groups(pd.DataFrame(rows, columns=["model", "problem", "n", "k"]), ["model"])


def test_estimate_table_against_exact_combinatorics(stacked):
    from scaling_theory.passk import estimate_table

    rows = estimate_table(stacked, [1, 5, 10])
    assert len(rows) == 9
    for r in rows:
        i = [g["model"] for g in stacked.groups].index(r["group"]["model"])
        live = stacked.mask[i] > 0
        n, c = stacked.n[i][live].astype(int), stacked.k[i][live].astype(int)
        k = r["k"]
        exact = sum(1 - Fraction(math.comb(ni - ci, k), math.comb(ni, k)) for ni, ci in zip(n, c)) / len(n)
        plugin = np.mean(1 - (1 - c / n) ** k)
        assert r["pass_at_k"] == pytest.approx(float(exact), rel=1e-10, abs=1e-14)
        assert r["plugin"] == pytest.approx(plugin, rel=1e-10, abs=1e-14)
    with pytest.raises(InputError, match="k=500"):
        estimate_table(stacked, [500])


def test_fit_table_is_the_beta_binomial_mle(stacked):
    from scipy import optimize, stats

    from scaling_theory.passk import fit_table
    from scaling_theory.passk.grouping import StackedCounts

    two = StackedCounts(stacked.groups[:2], stacked.n[:2], stacked.k[:2], stacked.mask[:2])
    rows = fit_table(two)
    for i, row in enumerate(rows):
        live = two.mask[i] > 0
        n, c = two.n[i][live], two.k[i][live]
        nll = lambda t: -stats.betabinom.logpmf(c, n, np.exp(t[0]), np.exp(t[1])).sum()  # noqa: E731
        ref = optimize.minimize(nll, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
        assert row["loglik"] == pytest.approx(-ref.fun, abs=1e-6)
        np.testing.assert_allclose([row["alpha"], row["beta"]], np.exp(ref.x), rtol=2e-3)
        assert row["asr_at_n"] == pytest.approx(np.mean(c > 0))


def test_predict_groups_plugin_is_the_beta_law_and_degenerate_groups_get_the_bound(stacked):
    import jax

    from scaling_theory.passk import predict_groups

    res = predict_groups(jax.random.PRNGKey(0), stacked, [100, 1000], "plugin", level=0.9)
    assert list(res.flags) == ["", "", "no_success"]
    lb = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
    for row in res.rows:
        if row["group"]["model"] == "c":
            assert row["method"] == "bound" and row["flag"] == "no_success" and row["alpha"] is None
            continue
        a, b, N = row["alpha"], row["beta"], row["budget"]
        assert row["asr"] == pytest.approx(1 - math.exp(lb(a, b + N) - lb(a, b)), rel=1e-8)
        assert row["lower"] <= row["upper"]


# ------------------------------------------------------------------------------------------------ judge
def test_error_curve_k1_closed_form_and_checks():
    from scaling_theory.judge import error_curve
    from scaling_theory.judge.model import BLRJudge

    curve = error_curve(10, 10_000, 1e-4, 1e-3, 10.0, [1, 2], teacher_scale=4.0, c=10.0)
    de = BLRJudge(10, 10_000, 1e-4, 1e-3, teacher_scale=4.0, c=10.0).de
    assert curve.delta[0] == pytest.approx(de.bias_variance + de.mean_variance, rel=1e-10)  # δ(1) = E_x[Δ² + s²]
    assert curve.rows()[0]["delta_over_sigma2"] == pytest.approx(curve.delta[0] / 1e-8, rel=1e-12)
    for kwargs, needle in (({"t": -1.0, "k": [1]}, "t=-1.0"), ({"t": 1.0, "k": [0]}, "k=0")):
        with pytest.raises(InputError, match=needle):
            error_curve(10, 100, 0.1, 0.3, **kwargs)
    with pytest.raises(InputError, match="hte"):
        error_curve(10, 100, 0.1, 0.3, 0.0, [2], method="hte")


# ----------------------------------------------------------------------------------- allocation, fitting
def test_stack_counts_and_frontier_budgets():
    from scaling_theory.allocation import frontier_budgets, stack_counts

    df = pd.DataFrame(
        {"model": ["x", "x", "y"], "problem": [0, 1, 0], "n": [4, 6, 8], "k": [1, 0, 2], "cost": [2.0, 2.0, 5.0]}
    )
    groups, problems, n, k, mask, cost = stack_counts(df, ["model"], "cost")
    assert groups == [{"model": "x"}, {"model": "y"}] and problems == [[0, 1], [0]]
    np.testing.assert_array_equal(n, [[4, 6], [8, 1]])
    np.testing.assert_array_equal(k, [[1, 0], [2, 0]])
    np.testing.assert_array_equal(mask, [[1, 1], [1, 0]])
    np.testing.assert_array_equal(cost, [[2, 2], [5, 1]])
    b = frontier_budgets(n, mask, ["x", "y"], cost=cost, count=5)
    # from the cheapest attempt (2) to the dearest full log (5 × 8 = 40), log-spaced
    np.testing.assert_allclose(b, 2.0 * 20.0 ** (np.arange(5) / 4), rtol=1e-12)


def test_isoflop_budgets_and_allocation_table():
    from scaling_theory.fitting import allocation_table, isoflop_budgets

    np.testing.assert_array_equal(
        isoflop_budgets(np.array([1e6, 123_456.0]), np.array([2e7, 1000.0])), [1.2e14, 7.41e8]
    )
    params = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    table = allocation_table(params, None, [1e21])
    (row,) = table.rows()
    assert list(row) == ["C", "N*", "D*", "loss*", "D*/N*", "N* lo", "N* hi", "D* lo", "D* hi"]
    assert row["C"] == 1e21 and row["N* lo"] is None and row["D* hi"] is None  # no draws: no intervals
    N = np.geomspace(1e7, 1e13, 400_001)  # brute force along the budget line 6 N D = C
    L = params["E"] + params["A"] / N ** params["alpha"] + params["B"] / (1e21 / (6 * N)) ** params["beta"]
    assert row["N*"] == pytest.approx(N[np.argmin(L)], rel=1e-4)
    assert row["N*"] * row["D*"] * 6 == pytest.approx(1e21, rel=1e-10)
    assert row["loss*"] == pytest.approx(L.min(), rel=1e-9)
    assert row["D*/N*"] == pytest.approx(row["D*"] / row["N*"], rel=1e-12)


def test_allocation_table_intervals_are_quantiles_of_the_draws_closed_form():
    """N*(C) = G (C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)) (Hoffmann et al. App. D.2), evaluated per draw in NumPy;
    the interval columns are NumPy's equal-tailed quantiles of those values."""
    from types import SimpleNamespace

    from scaling_theory.fitting import allocation_table

    rng = np.random.default_rng(0)
    base = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    draws = SimpleNamespace(params={k: v * np.exp(0.05 * rng.standard_normal(200)) for k, v in base.items()})
    budgets = [1e20, 1e23]
    rows = allocation_table(base, draws, budgets, level=0.8).rows()
    p = draws.params
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    for row, c in zip(rows, budgets):
        n_star = g * (c / 6) ** (p["beta"] / (p["alpha"] + p["beta"]))
        d_star = c / (6 * n_star)
        assert [row["N* lo"], row["N* hi"]] == pytest.approx(np.quantile(n_star, [0.1, 0.9]), rel=1e-10)
        assert [row["D* lo"], row["D* hi"]] == pytest.approx(np.quantile(d_star, [0.1, 0.9]), rel=1e-10)
        assert row["N* lo"] < row["N*"] < row["N* hi"]
    with pytest.raises(InputError, match="level must be in"):
        allocation_table(base, draws, budgets, level=1.0)
