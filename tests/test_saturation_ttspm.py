"""TTSPM saturation (spec §A): worked values, identities, conventions, Markov chain, Monte Carlo, errors."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.saturation import simulate, ttspm

probs = st.floats(min_value=1e-3, max_value=0.999)
epss = st.floats(min_value=1e-8, max_value=0.5)


def gain_np(p, n, p0=0.0):
    """Independent ΔF(N) = (1 − p0) p (1 − p)^N in plain float arithmetic."""
    return (1.0 - p0) * p * (1.0 - p) ** n


# --------------------------------------------------------------------------- spec worked values


@pytest.mark.parametrize(
    "p, eps, n_star",
    [(0.1, 0.01, 22), (0.3, 0.01, 10), (0.5, 0.01, 6), (0.1, 0.001, 44), (0.3, 0.001, 16), (0.5, 0.001, 9)],
)
def test_spec_worked_saturation_points(p, eps, n_star):
    assert float(ttspm.saturation_point(p, eps)) == n_star
    assert float(ttspm.saturation_point_formula(p, eps)) == n_star  # the spec's printed ⌈·⌉ form


def test_spec_worked_gains_at_p01():
    # spec §A.5: ΔF(N*) = 0.00985, ΔF(N* − 1) = 0.01094 for p = 0.1, ε = 0.01 (5 decimals)
    g = np.asarray(ttspm.marginal_gain(0.1, [22, 21]))
    assert round(float(g[0]), 5) == 0.00985 and round(float(g[1]), 5) == 0.01094


def test_vectorised_matches_scalar_and_jit():
    p = np.array([0.1, 0.3, 0.5, 0.05])
    eps = np.array([0.01, 0.01, 0.001, 1e-4])
    eager = np.asarray(ttspm.saturation_point(p, eps))
    jitted = np.asarray(jax.jit(lambda a, b: ttspm.saturation_point(a, b))(p, eps))
    np.testing.assert_array_equal(eager, jitted)
    np.testing.assert_array_equal(eager, [float(ttspm.saturation_point(a, b)) for a, b in zip(p, eps)])


# ------------------------------------------------------------------------------- identities


@settings(max_examples=60, deadline=None)
@given(p=probs, n=st.integers(0, 500))
def test_gain_ratio_is_one_minus_p(p, n):
    g = np.asarray(ttspm.marginal_gain(p, [n, n + 1]))
    if g[0] > 1e-250:
        assert g[1] / g[0] == pytest.approx(1.0 - p, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(p=probs, eps=epss, p0=st.floats(0.0, 0.95), cost=st.floats(0.1, 10.0))
def test_saturation_point_brackets_the_threshold(p, eps, p0, cost):
    n = float(ttspm.saturation_point(p, eps, cost=cost, p0=p0))
    assert n == int(n) and n >= 0
    assert gain_np(p, n, p0) < eps * cost * (1 + 1e-12)
    if n > 0:
        assert gain_np(p, n - 1, p0) >= eps * cost * (1 - 1e-12)
    # the spec's closed form (with p0 and cost) agrees off ties
    if (1 - p0) * p > eps * cost:
        formula = math.ceil(math.log(eps * cost / ((1 - p0) * p)) / math.log1p(-p))
        assert abs(formula - n) <= 1
        x = math.log(eps * cost / ((1 - p0) * p)) / math.log1p(-p)
        if abs(x - round(x)) > 1e-6:
            assert formula == n


def test_cost_multiplies_the_threshold():
    for p in (0.02, 0.2, 0.7):
        assert float(ttspm.saturation_point(p, 0.002, cost=5.0)) == float(ttspm.saturation_point(p, 0.01))


def test_threshold_convention_on_an_exact_tie():
    # p = 1/2, ε = 2^-6: ΔF(5) = 2^-6 = ε exactly. "<" needs one more unit; "≤" is the ceil formula.
    assert float(ttspm.saturation_point(0.5, 2.0**-6)) == 6
    assert float(ttspm.saturation_point(0.5, 2.0**-6, threshold="le")) == 5
    assert float(ttspm.saturation_point_formula(0.5, 2.0**-6)) == 5
    assert float(ttspm.marginal_gain(0.5, 5)) == 2.0**-6


def test_edge_cases():
    # p = 0: no gain ever; p ≤ ε: the first unit is not worth it; p = 1: all gain in the first unit.
    np.testing.assert_array_equal(np.asarray(ttspm.saturation_point([0.0, 0.005, 0.01, 1.0], 0.01)), [0, 0, 1, 1])
    assert float(ttspm.saturation_point(1.0, 2.0)) == 0
    assert float(ttspm.hit_at_n(1.0, 0)) == 0.0 and float(ttspm.hit_at_n(1.0, 3)) == 1.0
    assert float(ttspm.marginal_gain(1.0, 0)) == 1.0 and float(ttspm.marginal_gain(1.0, 1)) == 0.0


def test_curve_properties_and_unified_form():
    for p in (0.01, 0.2, 0.9):
        n = np.arange(0, int(np.log(1e-8) / np.log1p(-p)))  # while 1 − F(N) > 1e-8 (differences resolvable)
        f = np.asarray(ttspm.hit_at_n(p, n))
        assert f[0] == 0.0 and f[1] == pytest.approx(p, rel=1e-14)
        d = np.diff(f)
        assert (d > 0).all() and (np.diff(d) < 0).all()  # increasing, concave
        # parallel and sequential (p0 = 0) are the same curve, so they share N* (the unified structure)
        np.testing.assert_allclose(np.asarray(ttspm.sequential_success(p, n)), f, rtol=0, atol=1e-15)
        np.testing.assert_allclose(
            d, np.asarray(ttspm.marginal_gain(p, n[:-1])), rtol=0, atol=1e-15
        )  # differences of F: absolute float64 error
    assert float(ttspm.hit_at_n(0.01, 5000)) == pytest.approx(1.0, abs=1e-20)


def test_headroom_after_saturation_is_below_eps_over_p():
    for p, eps in [(0.1, 0.01), (0.3, 1e-3), (0.02, 1e-5)]:
        n = float(ttspm.saturation_point(p, eps))
        assert float(ttspm.headroom(p, n)) <= eps / p


@settings(max_examples=40, deadline=None)
@given(p1=probs, p2=probs, eps=st.floats(1e-6, 1e-3))
def test_easy_questions_saturate_early(p1, p2, eps):
    # N*(p) ≈ ln(p/ε)/(−ln(1 − p)) decreases in p only for p ≳ e·ε (spec §A.5 states it without the
    # condition); below, the first gain p is barely above ε and N* is small. Checked on p ≥ 3ε.
    lo, hi = sorted((p1, p2))
    assume(lo >= 3 * eps)
    assert float(ttspm.saturation_point(lo, eps)) >= float(ttspm.saturation_point(hi, eps))


def test_saturation_point_rises_then_falls_in_p():
    eps = 1e-3
    p = np.array([1.2e-3, 2e-3, 2.7e-3, 5e-3, 2e-2])
    n = np.asarray(ttspm.saturation_point(p, eps))
    cont = np.log(p / eps) / -np.log1p(-p)  # the continuous form, maximal near p = e·ε
    assert np.argmax(cont) == 2 and n[0] < n[2] and n[2] > n[4]


def test_small_p_growth_like_log_over_p():
    # N* ≈ ln(p/ε)/(−ln(1 − p)) → ln(p/ε)/p as p → 0 (spec §A.5: "grows like ln(1/ε)/p")
    p, eps = 1e-5, 1e-12
    n = float(ttspm.saturation_point(p, eps))
    assert n * p / math.log(p / eps) == pytest.approx(1.0, rel=1e-4)


# --------------------------------------------------------------------------- Markov (non-absorbing)


@settings(max_examples=30, deadline=None)
@given(p0=st.floats(0, 1), a=st.floats(0, 1), b=st.floats(0, 1))
def test_markov_closed_form_matches_matrix_power(p0, a, b):
    P = np.array([[1 - a, a], [b, 1 - b]])
    state = np.array([1 - p0, p0])
    acc = []
    for _ in range(12):
        acc.append(state[1])
        state = state @ P
    np.testing.assert_allclose(np.asarray(ttspm.markov_accuracy(np.arange(12), p0, a, b)), acc, atol=1e-12)
    gains = np.asarray(ttspm.markov_marginal_gain(np.arange(11), p0, a, b))
    np.testing.assert_allclose(gains, np.diff(acc), atol=1e-12)
    # improvement condition: π_N > p0 for all N ≥ 1 iff (1 − p0) a > p0 b
    improves = bool(ttspm.markov_improves(p0, a, b))
    if abs((1 - p0) * a - p0 * b) > 1e-9 and abs(1 - a - b) < 1 - 1e-9:
        assert improves == bool(np.all(np.array(acc[1:]) > p0))


def test_markov_limit_and_absorbing_reduction():
    assert float(ttspm.markov_limit(0.3, 0.4, 0.2)) == pytest.approx(2 / 3)
    assert float(ttspm.markov_accuracy(400, 0.3, 0.4, 0.2)) == pytest.approx(2 / 3, abs=1e-12)
    n = np.arange(30)
    np.testing.assert_allclose(
        np.asarray(ttspm.markov_accuracy(n, 0.25, 0.1, 0.0)),
        np.asarray(ttspm.sequential_success(0.1, n, p0=0.25)),
        atol=1e-14,
    )
    for eps in (1e-2, 1e-4):
        assert float(ttspm.markov_saturation_point(0.25, 0.1, 0.0, eps)) == float(
            ttspm.saturation_point(0.1, eps, p0=0.25)
        )
    # no transitions: accuracy stays p0, nothing to gain
    assert float(ttspm.markov_accuracy(7, 0.4, 0.0, 0.0)) == pytest.approx(0.4)
    assert float(ttspm.markov_saturation_point(0.4, 0.0, 0.0, 1e-3)) == 0
    # perpetual oscillation (a = b = 1) never saturates
    assert float(ttspm.markov_saturation_point(0.2, 1.0, 1.0, 1e-3)) == np.inf


@settings(max_examples=40, deadline=None)
@given(p0=st.floats(0, 1), a=st.floats(0.01, 1), b=st.floats(0, 0.99), eps=st.floats(1e-6, 0.1))
def test_markov_saturation_point_brackets(p0, a, b, eps):
    n = float(ttspm.markov_saturation_point(p0, a, b, eps))
    if np.isfinite(n):
        g = np.abs(np.asarray(ttspm.markov_marginal_gain(np.array([n, max(n - 1, 0)]), p0, a, b)))
        assert g[0] < eps * (1 + 1e-9)
        if n > 0:
            assert g[1] >= eps * (1 - 1e-9)


# ------------------------------------------------------------------------------ Monte Carlo


def _assert_within_se(mc, exact, z=4.5):
    """|MC − exact| ≤ z·SE at every budget; SE of a Bernoulli mean is √(F(1 − F)/T). With ~40 budgets and
    z = 4.5 a false alarm has probability < 3e-4 (seeds are fixed, so the test is deterministic anyway)."""
    mean, se = np.asarray(mc.mean), np.asarray(mc.se)
    se_exact = np.sqrt(exact * (1 - exact) / mc.trials)
    tol = z * np.maximum(se_exact, 1.0 / mc.trials)
    assert np.all(np.abs(mean - exact) <= tol), np.max(np.abs(mean - exact) / tol)
    np.testing.assert_allclose(se, se_exact, atol=1e-3)  # the reported SE is the Bernoulli SE


def test_parallel_monte_carlo_matches_hit_at_n():
    mc = simulate.simulate_parallel(jax.random.key(0), 0.07, 40, 20_000)
    exact = np.asarray(ttspm.hit_at_n(0.07, np.arange(41)))
    _assert_within_se(mc, exact)
    # explicit keys: the same key gives the same numbers, another key other numbers
    again = simulate.simulate_parallel(jax.random.key(0), 0.07, 40, 20_000)
    other = simulate.simulate_parallel(jax.random.key(1), 0.07, 40, 20_000)
    np.testing.assert_array_equal(np.asarray(mc.mean), np.asarray(again.mean))
    assert not np.array_equal(np.asarray(mc.mean), np.asarray(other.mean))
    # empirical marginal gains agree with ΔF within their (conservative) standard errors
    d, se = simulate.marginal_from_curve(mc)
    assert np.all(
        np.abs(np.asarray(d) - np.asarray(ttspm.marginal_gain(0.07, np.arange(40)))) <= 4.5 * np.asarray(se) + 1e-4
    )


def test_sequential_monte_carlo_matches_closed_forms():
    n = np.arange(31)
    absorbing = simulate.simulate_chain(jax.random.key(1), 0.3, 0.15, 0.0, 30, 20_000)
    _assert_within_se(absorbing, np.asarray(ttspm.sequential_success(0.15, n, p0=0.3)))
    flipping = simulate.simulate_chain(jax.random.key(2), 0.6, 0.25, 0.2, 30, 20_000)
    _assert_within_se(flipping, np.asarray(ttspm.markov_accuracy(n, 0.6, 0.25, 0.2)))


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ttspm.saturation_point(1.5, 0.01), r"p must be in \[0, 1\], got 1.5"),
        (lambda: ttspm.saturation_point(-0.1, 0.01), r"p must be in \[0, 1\], got -0.1"),
        (lambda: ttspm.saturation_point(float("nan"), 0.01), r"p must be in \[0, 1\], got nan"),
        (lambda: ttspm.saturation_point(0.1, 0.0), r"eps must be a finite number > 0, got 0"),
        (lambda: ttspm.saturation_point(0.1, -1.0), r"eps must be a finite number > 0, got -1"),
        (lambda: ttspm.saturation_point(0.1, 0.01, cost=0.0), r"cost must be a finite number > 0, got 0"),
        (lambda: ttspm.saturation_point(0.1, 0.01, p0=2.0), r"p0 must be in \[0, 1\], got 2"),
        (lambda: ttspm.saturation_point(0.1, 0.01, threshold="lte"), r"threshold must be one of lt, le"),
        (lambda: ttspm.hit_at_n(0.1, 2.5), r"n must be an integer >= 0, got 2.5"),
        (lambda: ttspm.markov_accuracy(3, 0.2, 0.1, 1.2), r"p_flip must be in \[0, 1\], got 1.2"),
        (lambda: ttspm.saturation_point_formula(0.0, 0.01), r"p must be in \(0, 1\), got 0"),
        (lambda: simulate.simulate_parallel(jax.random.key(0), 0.1, 0, 10), r"n_max must be an integer >= 1"),
    ],
)
def test_bad_inputs_raise_one_clear_error(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_one_and_four_devices_agree():
    # this process has one CPU device; the snippet runs with four forced host devices (trials sharded)
    from tests.multidevice import run_with_devices

    assert jax.device_count() == 1
    code = """
import json, jax, numpy as np
from scaling_theory.saturation import simulate
mc = simulate.simulate_chain(jax.random.key(3), 0.2, 0.3, 0.1, 8, 64)
print(json.dumps([float(x) for x in np.asarray(mc.mean)]))
"""
    four = run_with_devices(code, n=4)
    one = simulate.simulate_chain(jax.random.key(3), 0.2, 0.3, 0.1, 8, 64)
    assert [float(x) for x in np.asarray(one.mean)] == four
