"""Named and user-defined scaling laws: formulas against NumPy, stability, recovery of known parameters."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.fitting import LAWS, custom_law, fit, get_law
from scaling_theory.fitting.laws import CHINCHILLA, chinchilla_grid

X = np.logspace(0.0, 4.0, 30)

# Independent NumPy formulas of every named law (linear space).
FORMULAS = {
    "power_law": lambda p, x: p["a"] * x["x"] ** (-p["b"]),
    "offset_power_law": lambda p, x: p["E"] + p["a"] * x["x"] ** (-p["b"]),
    "chinchilla": lambda p, x: p["E"] + p["A"] * x["N"] ** (-p["alpha"]) + p["B"] * x["D"] ** (-p["beta"]),
    "exp_power_law": lambda p, x: np.exp(-p["a"] * x["k"] ** (-p["b"])),
    "monkeys": lambda p, x: np.exp(p["a"] * x["k"] ** p["b"]),
}
TRUE = {
    "power_law": {"a": 3.0, "b": 0.4},
    "offset_power_law": {"E": 1.5, "a": 4.0, "b": 0.3},
    "exp_power_law": {"a": 2.0, "b": 0.3},
    "monkeys": {"a": -2.0, "b": -0.3},
}


def test_every_named_law_has_a_formula_here():
    assert set(LAWS) == set(FORMULAS)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_predict_matches_numpy_formula(name):
    law = get_law(name)
    rng = np.random.default_rng(1)
    x = {n: 10 ** rng.uniform(0, 10, 50) for n in law.xs}
    if name == "chinchilla":
        params = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": 0.34, "beta": 0.28}
    else:
        params = TRUE[name]
    np.testing.assert_allclose(law.predict(params, x), FORMULAS[name](params, x), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_coordinates_round_trip(name):
    law = get_law(name)
    theta = law.default_starts({n: X for n in law.xs}, FORMULAS["power_law"]({"a": 3.0, "b": 0.4}, {"x": X}))[:3]
    theta = theta + 0.1  # away from E = 0 etc.
    with jax.enable_x64(True):
        back = law.from_params(law.to_params(jnp.asarray(theta)))
    np.testing.assert_allclose(np.asarray(back), theta, rtol=1e-12, atol=1e-12)


def test_chinchilla_log_space_is_stable_where_direct_exp_overflows():
    # a = log A = 800: A itself overflows float64, log ŷ must not.
    theta = np.array([800.0, 5.0, 0.5, 30.0, 0.3])
    lx = {"N": np.log(np.array([1e9, 1e11])), "D": np.log(np.array([1e10, 1e12]))}
    with jax.enable_x64(True):
        got = np.asarray(CHINCHILLA.log_yhat(jnp.asarray(theta), {k: jnp.asarray(v) for k, v in lx.items()}))
    terms = np.stack([800.0 - 30.0 * lx["N"], 5.0 - 0.3 * lx["D"], np.full(2, 0.5)])
    np.testing.assert_allclose(got, np.logaddexp.reduce(terms, axis=0), rtol=1e-13)
    assert np.all(np.isfinite(got))


def test_chinchilla_default_grid_is_the_papers_4500_starts():
    expected = set(
        itertools.product(
            [0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
            [0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
            [-1.0, -0.5, 0.0, 0.5, 1.0],
            [0.0, 0.5, 1.0, 1.5, 2.0],
            [0.0, 0.5, 1.0, 1.5, 2.0],
        )
    )
    grid = chinchilla_grid()
    assert grid.shape == (4500, 5)
    assert {tuple(np.round(r, 12)) for r in grid} == expected
    assert CHINCHILLA.coords == ("a", "b", "e", "alpha", "beta")
    np.testing.assert_array_equal(CHINCHILLA.default_starts({}, np.ones(3)), grid)


@pytest.mark.parametrize("name", sorted(TRUE))
def test_recovers_known_parameters_from_exact_data(name):
    law = get_law(name)
    x = {law.xs[0]: X}
    y = FORMULAS[name](TRUE[name], x)
    res = fit(law, x, y, loss="mse")
    assert res.converged
    for k, v in TRUE[name].items():
        assert res.params[k] == pytest.approx(v, rel=1e-5), k


def test_random_starts_lie_in_the_bounds_and_depend_on_the_seed():
    law = get_law("offset_power_law")
    y = FORMULAS["offset_power_law"](TRUE["offset_power_law"], {"x": X})
    lo, hi = law.bounds({"x": X}, y)
    s0 = law.random_starts(jax.random.key(0), {"x": X}, y, 64)
    assert s0.shape == (64, 3) and np.all((s0 >= lo) & (s0 <= hi))
    assert not np.allclose(s0, law.random_starts(jax.random.key(1), {"x": X}, y, 64))
    np.testing.assert_array_equal(s0, law.random_starts(jax.random.key(0), {"x": X}, y, 64))


@settings(max_examples=20, deadline=None)
@given(
    b=st.floats(0.01, 2.0),
    a=st.floats(0.1, 100.0),
    E=st.floats(1e-6, 5.0),
    x1=st.floats(1.0, 1e6),
    ratio=st.floats(1.001, 100.0),
)
def test_offset_power_law_decreases_in_x_and_stays_above_E(b, a, E, x1, ratio):
    y = FORMULAS["offset_power_law"]({"E": E, "a": a, "b": b}, {"x": np.array([x1, x1 * ratio])})
    got = get_law("offset_power_law").predict({"E": E, "a": a, "b": b}, {"x": np.array([x1, x1 * ratio])})
    np.testing.assert_allclose(got, y, rtol=1e-12)
    assert got[1] < got[0] and np.all(got > E)


@settings(max_examples=20, deadline=None)
@given(alpha=st.floats(0.05, 1.0), beta=st.floats(0.05, 1.0), n=st.floats(1e6, 1e11), d=st.floats(1e6, 1e11))
def test_chinchilla_loss_decreases_in_params_and_tokens(alpha, beta, n, d):
    p = {"A": 406.4, "B": 410.7, "E": 1.69, "alpha": alpha, "beta": beta}
    base, more_n, more_d = CHINCHILLA.predict(p, {"N": np.array([n, 2 * n, n]), "D": np.array([d, d, 2 * d])})
    assert more_n < base and more_d < base and base > p["E"]


# ----------------------------------------------------------------------------------- user laws


def test_custom_law_equals_the_named_law_it_rewrites():
    law = custom_law(
        lambda x, p: p["E"] + p["a"] * x["x"] ** (-p["b"]),
        params=("E", "a", "b"),
        xs=("x",),
        grid={"E": [0.5, 1.0], "a": [1.0, 5.0], "b": [0.1, 0.5]},
    )
    rng = np.random.default_rng(3)
    y = FORMULAS["offset_power_law"](TRUE["offset_power_law"], {"x": X}) * np.exp(0.01 * rng.standard_normal(X.size))
    mine = fit(law, {"x": X}, y)
    named = fit("offset_power_law", {"x": X}, y)
    assert mine.starts.shape == (8, 3)
    assert mine.objective == pytest.approx(named.objective, rel=1e-6)
    for k in ("E", "a", "b"):
        assert mine.params[k] == pytest.approx(named.params[k], rel=1e-3)


def test_custom_law_with_non_positive_x_recovers_parameters():
    # exponential saturation with an offset; x includes 0 and negative values (no log of x taken)
    law = custom_law(
        lambda x, p: p["c"] + p["a"] * jnp.exp(-p["b"] * x["t"]),
        params=("a", "b", "c"),
        xs=("t",),
        bounds={"a": (0.1, 10.0), "b": (0.01, 2.0), "c": (0.1, 5.0)},
    )
    t = np.linspace(-1.0, 8.0, 25)
    y = 1.2 + 3.0 * np.exp(-0.7 * t)
    res = fit(law, {"t": t}, y, loss="mse")
    assert res.n_starts == 27
    assert res.params == pytest.approx({"a": 3.0, "b": 0.7, "c": 1.2}, rel=1e-5)


def test_custom_law_needs_starts_and_matching_names():
    fn = lambda x, p: p["a"] * x["x"]  # noqa: E731
    with pytest.raises(InputError, match="grid or bounds"):
        custom_law(fn, params=("a",), xs=("x",))
    with pytest.raises(InputError, match="no entry for parameter 'a'"):
        custom_law(fn, params=("a",), xs=("x",), grid={"b": [1.0]})
    with pytest.raises(InputError, match="lo < hi"):
        custom_law(fn, params=("a",), xs=("x",), bounds={"a": (2.0, 1.0)})


def test_unknown_law_is_one_clear_error():
    with pytest.raises(InputError, match="unknown law 'kaplan'.*power_law"):
        get_law("kaplan")
