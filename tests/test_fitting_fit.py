"""Objectives and the batched multi-start optimiser: closed forms, SciPy, the summed-vs-mean Huber pitfall."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize
import scipy.special

from scaling_theory.errors import InputError
from scaling_theory.fitting import LBFGSOptions, chinchilla_grid, fit, fit_many, get_law, minimize_batched
from scaling_theory.fitting.fit import resolve_starts
from scaling_theory.fitting.laws import CHINCHILLA
from scaling_theory.fitting.objectives import Loss, huber, objective_value
from scaling_theory.fitting.optimize import CONVERGED
from scaling_theory.fitting.synthetic import BESIROGLU, isoflop_design, simulate_losses
from tests.multidevice import run_with_devices

X = np.logspace(0.0, 4.0, 30)


def noisy_power_law(seed: int = 0, sigma: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 3.0 * X**-0.4 * np.exp(sigma * rng.standard_normal(X.size))


@pytest.fixture(scope="module")
def chinchilla_data():
    """A small IsoFLOP study (9 budgets × 9 sizes) from Besiroglu et al.'s law, 2 % log-normal noise."""
    d = isoflop_design(BESIROGLU, per_budget=9)
    loss = simulate_losses(BESIROGLU, d["N"], d["D"], 0.02, jax.random.key(0))
    return {"N": d["N"], "D": d["D"]}, loss


STARTS = chinchilla_grid()[::150]  # 30 starts spread over the grid


@pytest.fixture(scope="module")
def summed_fit(chinchilla_data):
    x, y = chinchilla_data
    return fit("chinchilla", x, y, starts=STARTS)


def chinchilla_numpy(x, y):
    """Σ Huber_δ(log L̂ − log L) and its exact gradient in NumPy (independent of JAX)."""
    lN, lD, lL = np.log(x["N"]), np.log(x["D"]), np.log(y)

    def f(p):
        t = np.stack([p[0] - p[3] * lN, p[1] - p[4] * lD, np.full(lN.shape, p[2])])
        pred = np.logaddexp.reduce(t, axis=0)
        w = np.exp(t - pred)  # softmax weights = ∂pred/∂(a, b, e)
        psi = np.clip(pred - lL, -1e-3, 1e-3)
        g = np.array([psi @ w[0], psi @ w[1], psi @ w[2], -(psi * w[0]) @ lN, -(psi * w[1]) @ lD])
        return np.sum(scipy.special.huber(1e-3, pred - lL)), g

    return f


# ----------------------------------------------------------------------------------- objectives


def test_huber_matches_scipy():
    r = np.linspace(-0.01, 0.01, 101)
    with jax.enable_x64(True):
        got = np.asarray(huber(jnp.asarray(r), 1e-3))
    np.testing.assert_allclose(got, scipy.special.huber(1e-3, r), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("kind,space", [("huber", "log"), ("mse", "log"), ("mae", "linear"), ("huber", "linear")])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_objective_matches_numpy_with_and_without_jit(kind, space, reduction):
    law = get_law("offset_power_law")
    rng = np.random.default_rng(0)
    y = 1.0 + 2.0 * X**-0.3 * np.exp(0.02 * rng.standard_normal(X.size))
    w = rng.uniform(0.5, 2.0, X.size)
    p = {"E": 0.9, "a": 2.2, "b": 0.25}
    yhat = p["E"] + p["a"] * X ** -p["b"]
    r = np.log(yhat) - np.log(y) if space == "log" else yhat - y
    rho = {"huber": scipy.special.huber(1e-3, r), "mse": r**2, "mae": np.abs(r)}[kind]
    expected = np.sum(w * rho) / (np.sum(w) if reduction == "mean" else 1.0)
    loss = Loss(kind, 1e-3, space, reduction)
    with jax.enable_x64(True):
        theta = law.from_params({k: jnp.asarray(v) for k, v in p.items()})
        data = {"x": law.prepare_x({"x": X}), "y": jnp.asarray(y), "w": jnp.asarray(w)}
        eager = float(objective_value(law, loss, theta, data))
        jitted = float(jax.jit(lambda t, d: objective_value(law, loss, t, d))(theta, data))
    assert eager == pytest.approx(expected, rel=1e-12)
    assert jitted == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------- closed forms / SciPy


def test_mse_on_log_residuals_is_ordinary_least_squares():
    y = noisy_power_law()
    res = fit("power_law", {"x": X}, y, loss="mse")
    A = np.c_[np.ones(X.size), -np.log(X)]  # log y = log a − b log x
    coef = np.linalg.lstsq(A, np.log(y), rcond=None)[0]
    assert res.params["a"] == pytest.approx(np.exp(coef[0]), rel=1e-7)
    assert res.params["b"] == pytest.approx(coef[1], rel=1e-7)
    assert res.objective == pytest.approx(np.sum((A @ coef - np.log(y)) ** 2), rel=1e-9)


def test_weights_are_weighted_least_squares_and_integer_weights_duplicate_rows():
    y = noisy_power_law(seed=1)
    w = np.tile([1.0, 2.0, 3.0], 10)
    res = fit("power_law", {"x": X}, y, loss="mse", weights=w)
    A = np.c_[np.ones(X.size), -np.log(X)]
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(A * sw[:, None], np.log(y) * sw, rcond=None)[0]
    assert res.params["b"] == pytest.approx(coef[1], rel=1e-7)
    rep = np.repeat(np.arange(X.size), w.astype(int))
    dup = fit("power_law", {"x": X[rep]}, y[rep], loss="mse")
    assert dup.params["b"] == pytest.approx(res.params["b"], rel=1e-7)
    assert dup.objective == pytest.approx(res.objective, rel=1e-9)


def test_each_start_reaches_what_scipy_lbfgsb_reaches(chinchilla_data, summed_fit):
    x, y = chinchilla_data
    f = chinchilla_numpy(x, y)
    ref = np.array([scipy.optimize.minimize(f, s0, jac=True, method="L-BFGS-B").fun for s0 in STARTS])
    # the best objectives agree to 1e-6 (the benchmark's criterion) ...
    assert summed_fit.objective == pytest.approx(ref.min(), rel=1e-6)
    # ... and every start of ours converges, none to a worse point than SciPy's worst
    assert np.all(np.isin(summed_fit.status, CONVERGED))
    assert summed_fit.objectives.max() <= ref.max() * (1 + 1e-6)


def test_minimize_batched_on_a_convex_quadratic_and_per_start_data():
    # f(x) = ½ (x − c_s)ᵀ H (x − c_s) with a different centre per start: the minimum is c_s
    H = jnp.array([[4.0, 1.0], [1.0, 3.0]])

    def fun(x, shared, batched):
        d = x - batched["c"]
        return 0.5 * d @ shared["H"] @ d

    centres = np.array([[1.0, -2.0], [0.5, 0.5], [-3.0, 4.0]])
    out = minimize_batched(fun, np.zeros((3, 2)), {"H": H}, {"c": centres}, options=LBFGSOptions(gtol=1e-12, ftol=0.0))
    np.testing.assert_allclose(out.x, centres, atol=1e-10)
    assert np.all(np.isin(out.status, CONVERGED)) and np.all(out.f < 1e-10)
    frame = out.to_frame()  # one row per start
    assert frame["start"].tolist() == [0, 1, 2] and frame["converged"].all()
    np.testing.assert_allclose(frame[["x_0", "x_1"]].to_numpy(), centres, atol=1e-10)


# -------------------------------------------------------------------- summed vs mean Huber loss


def test_mean_of_huber_stops_early_and_misses_the_optimum(chinchilla_data, summed_fit):
    """With δ = 1e-3 each Huber term is ~δ|r|; averaging divides f and ∇f by n, so the absolute
    L-BFGS tolerances (SciPy's defaults, ours too) stop the mean objective long before the optimum."""
    x, y = chinchilla_data
    mean = fit("chinchilla", x, y, starts=STARTS, reduction="mean")
    f = chinchilla_numpy(x, y)
    mean_fit_summed = f(mean.theta)[0]
    assert mean.objective * y.size == pytest.approx(mean_fit_summed, rel=1e-10)
    assert mean_fit_summed > 1.02 * summed_fit.objective  # a measurably worse fit
    assert np.median(mean.n_iter) < 0.6 * np.median(summed_fit.n_iter)  # it stopped early
    assert abs(mean.params["alpha"] - summed_fit.params["alpha"]) > 0.005
    # SciPy's L-BFGS-B at its default tolerances falls into the same trap (independent optimiser)
    runs = [
        scipy.optimize.minimize(lambda p: tuple(v / y.size for v in f(p)), s0, jac=True, method="L-BFGS-B")
        for s0 in STARTS
    ]
    best = min(runs, key=lambda r: r.fun)
    assert f(best.x)[0] > 1.02 * summed_fit.objective


# ---------------------------------------------------------------------------------- multi-start


def test_recovers_chinchilla_parameters_from_exact_data():
    d = isoflop_design(BESIROGLU, per_budget=9)  # the shapes of `summed_fit`: the compiled loop is reused
    x = {"N": d["N"], "D": d["D"]}
    res = fit("chinchilla", x, CHINCHILLA.predict(BESIROGLU, x), starts=STARTS)
    assert res.converged
    for k, v in BESIROGLU.items():
        assert res.params[k] == pytest.approx(v, rel=1e-4), k


def test_grid_is_the_default_for_chinchilla():
    x = {"N": np.array([1e8, 1e9, 1e10]), "D": np.array([1e9, 1e10, 1e11])}
    np.testing.assert_array_equal(resolve_starts(CHINCHILLA, x, np.ones(3), "grid"), chinchilla_grid())
    rnd = resolve_starts(CHINCHILLA, x, np.ones(3), 100, jax.random.key(0))
    assert rnd.shape == (100, 5) and np.all((rnd >= chinchilla_grid().min(0)) & (rnd <= chinchilla_grid().max(0)))


@pytest.mark.slow  # 4,500 starts: ~20 s on 2 busy cores
def test_grid_default_recovers_chinchilla_parameters_from_exact_data():
    d = isoflop_design(BESIROGLU, per_budget=5)
    x = {"N": d["N"], "D": d["D"]}
    y = CHINCHILLA.predict(BESIROGLU, x)
    res = fit("chinchilla", x, y)  # default: the 4,500-start grid
    assert res.n_starts == 4500
    np.testing.assert_array_equal(res.starts, chinchilla_grid())
    for k, v in BESIROGLU.items():
        assert res.params[k] == pytest.approx(v, rel=1e-4), k
    diag = res.diagnostics()
    assert diag["converged"]
    # many grid starts reach the same optimum; the spread of near-best optima brackets it
    same = np.all(np.abs(res.optima - res.theta) < 1e-3 * np.maximum(np.abs(res.theta), 1.0), axis=1)
    assert same.sum() > 45
    for k, (lo, hi) in diag["spread_near_best"].items():
        assert lo <= res.params[k] <= hi


def test_fit_many_equals_separate_fits():
    y1, y2 = noisy_power_law(2), noisy_power_law(3)[:20] * 2.0
    many = fit_many("power_law", [({"x": X}, y1), ({"x": X[:20]}, y2)], loss="mse")
    for got, (xx, yy) in zip(many, [(X, y1), (X[:20], y2)]):
        one = fit("power_law", {"x": xx}, yy, loss="mse")
        assert got.n_points == yy.size
        assert got.params == pytest.approx(one.params, rel=1e-7)
        assert got.objective == pytest.approx(one.objective, rel=1e-9)


def test_random_starts_and_max_evals_status():
    y = noisy_power_law(4) + 1.0
    res = fit("offset_power_law", {"x": X}, y, starts=30, key=jax.random.key(3))
    assert res.n_starts == 30 and res.converged
    grid = fit("offset_power_law", {"x": X}, y)
    assert res.objective == pytest.approx(grid.objective, rel=1e-6)
    capped = fit("offset_power_law", {"x": X}, y, starts=30, key=jax.random.key(3), options=LBFGSOptions(max_evals=3))
    assert capped.diagnostics()["status_counts"].get("maximum number of evaluations reached", 0) > 0
    assert np.all(capped.n_eval <= 3)
    with pytest.raises(InputError, match=r"starts=30 random starts need a key"):
        fit("offset_power_law", {"x": X}, y, starts=30)


def test_one_and_four_devices_agree():
    """The same fit with the starts sharded over 4 (forced host) devices and on this process's one."""
    y = noisy_power_law()
    here = fit("power_law", {"x": X}, y, loss="mse")
    code = """
    import json, numpy as np
    from scaling_theory.fitting import fit
    rng = np.random.default_rng(0)
    x = np.logspace(0.0, 4.0, 30); y = 3.0 * x ** -0.4 * np.exp(0.05 * rng.standard_normal(30))
    r = fit("power_law", {"x": x}, y, loss="mse")
    print(json.dumps({"f": r.objective, "theta": r.theta.tolist(), "all": r.objectives.tolist()}))
    """
    assert jax.device_count() == 1
    four = run_with_devices(code, 4)
    assert four["f"] == pytest.approx(here.objective, rel=1e-9)
    np.testing.assert_allclose(four["theta"], here.theta, rtol=1e-7)
    np.testing.assert_allclose(four["all"], here.objectives, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"x": {"x": -X}}, r"x variable 'x': -1 at index 0 is not positive"),
        ({"y": -noisy_power_law()}, r"y: .* at index 0 is not positive \(log residuals"),
        ({"x": {"x": X[:2]}, "y": noisy_power_law()[:2]}, r"needs at least 3 points; got 2"),
        ({"x": {"x": X[:5]}}, r"x variable 'x' has 5 values but y has 30"),
        ({"x": {"t": X}}, r"needs x variable 'x'"),
        ({"y": np.r_[np.nan, noisy_power_law()[1:]]}, r"y: value nan at index 0 is not finite"),
        ({"weights": -np.ones(30)}, r"weights: -1 at index 0 is negative"),
        ({"weights": np.ones(7)}, r"weights have 7 values"),
        ({"loss": "l2"}, r"loss must be one of huber, mse, mae"),
        ({"delta": 0.0}, r"delta must be a positive number"),
        ({"space": "sqrt"}, r"space must be one of log, linear"),
        ({"reduction": "median"}, r"reduction must be one of sum, mean"),
        ({"starts": 0}, r"starts must be a positive integer"),
        ({"starts": "lattice"}, r"starts must be 'grid'"),
        ({"starts": np.zeros((4, 3))}, r"starts must have shape \(S, 2\)"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, match):
    args = {"x": {"x": X}, "y": noisy_power_law()}
    args.update(kwargs)
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(InputError, match=match):
        fit("power_law", x, y, **args)
