"""Variable projection, IsoFLOP Approach 2, the asymmetric loss, row weights, the pinned-asymptote law.

Each against an independent computation: scipy.optimize.nnls / minimize / least_squares, numpy.polyfit,
closed forms on noise-free data, the multi-start fit, and root finding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

from scaling_theory.errors import InputError
from scaling_theory.fitting import LBFGSOptions, chinchilla_grid, compute_optimal, fit, fit_many
from scaling_theory.fitting.approach2 import approach2
from scaling_theory.fitting.fit import make_loss
from scaling_theory.fitting.laws import CHINCHILLA, pinned_power_law
from scaling_theory.fitting.objectives import huber, rho, runtime
from scaling_theory.fitting.speedup import compute_to_reach, effective_speedup
from scaling_theory.fitting.synthetic import BESIROGLU, HOFFMANN, isoflop_design, simulate_losses
from scaling_theory.fitting.vpnls import nnls_small, project, separable, vpnls, vpnls_many

TIGHT = LBFGSOptions(ftol=1e-13, gtol=1e-9)
X = np.logspace(0.0, 4.0, 30)


@pytest.fixture(scope="module")
def iso81():
    d = isoflop_design(BESIROGLU, per_budget=9)
    y = simulate_losses(BESIROGLU, d["N"], d["D"], 0.02, jax.random.key(0))
    return {"N": d["N"], "D": d["D"]}, y


# ------------------------------------------------------------------------------------ NNLS


@pytest.mark.parametrize("k", [1, 2, 3])
def test_nnls_small_matches_scipy_nnls(k):
    rng = np.random.default_rng(k)
    n_active = 0
    for _trial in range(40):
        X_ = rng.standard_normal((25, k)) * rng.uniform(0.1, 10.0, k)
        t = rng.standard_normal(25)
        ref, _ = scipy.optimize.nnls(X_, t)
        with jax.enable_x64(True):
            got = np.asarray(nnls_small(jnp.asarray(X_.T @ X_), jnp.asarray(X_.T @ t)))
        n_active += int(np.any(ref == 0))
        np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-10)
    assert n_active >= 10  # the constraints were active in many trials


def test_project_linear_mse_is_weighted_nnls(iso81):
    """Linear residuals, squared loss: the projected scales are scipy's NNLS on √w-scaled rows."""
    x, y = iso81
    sep = separable(CHINCHILLA)
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    loss = make_loss("mse", space="linear")
    with jax.enable_x64(True):
        lx = {k: jnp.log(jnp.asarray(v)) for k, v in x.items()}
        for e in ([0.3, 0.35], [0.8, 0.1], [0.05, 1.5]):
            Xb = np.asarray(sep.basis(jnp.asarray(e), lx))
            c, f = project(jnp.asarray(Xb), 0.0, jnp.asarray(y), jnp.asarray(w), runtime(loss), False)
            ref, rnorm = scipy.optimize.nnls(Xb * np.sqrt(w)[:, None], y * np.sqrt(w))
            np.testing.assert_allclose(np.asarray(c), ref, rtol=1e-7, atol=1e-9)
            assert float(f) == pytest.approx(rnorm**2, rel=1e-9)


def test_project_log_huber_is_the_inner_optimum(iso81):
    """Log residuals, Huber: the IRLS/Gauss–Newton scales are as good as SciPy's bounded L-BFGS-B
    over (E, A, B) ≥ 0 at the same exponents, started from several points."""
    x, y = iso81
    sep = separable(CHINCHILLA)
    loss = make_loss("huber")
    lN, lD, ly = np.log(x["N"]), np.log(x["D"]), np.log(y)
    for e in ([0.34, 0.37], [0.5, 0.2]):
        with jax.enable_x64(True):
            lx = {"N": jnp.asarray(lN), "D": jnp.asarray(lD)}
            Xb = np.asarray(sep.basis(jnp.asarray(e), lx))
            c, f = project(jnp.asarray(Xb), 0.0, jnp.asarray(y), jnp.ones(y.size), runtime(loss), True, 120)
            _, f12 = project(jnp.asarray(Xb), 0.0, jnp.asarray(y), jnp.ones(y.size), runtime(loss), True)

        def obj(c_):
            r = np.log(np.maximum(Xb @ c_, 1e-300)) - ly
            a = np.abs(r)
            return np.sum(np.where(a <= 1e-3, 0.5 * r * r, 1e-3 * (a - 0.5e-3)))

        best = min(
            scipy.optimize.minimize(
                obj,
                c0,
                method="Nelder-Mead",
                bounds=[(0, None)] * 3,
                options={"xatol": 1e-12, "fatol": 1e-16, "maxiter": 20000},
            ).fun
            for c0 in (np.asarray(c) * 1.1, [400.0, 2000.0, 1.8], [100.0, 100.0, 1.0])
        )
        assert float(f) <= best * (1 + 1e-9)
        assert float(f) == pytest.approx(obj(np.asarray(c)), rel=1e-12)
        assert float(f12) == pytest.approx(best, rel=5e-4)  # the grid stage's 6 iterations rank exponents


# ------------------------------------------------------------------------------------ VPNLS


def test_vpnls_recovers_noise_free_chinchilla():
    d = isoflop_design(BESIROGLU, per_budget=9)
    y = CHINCHILLA.predict(BESIROGLU, d)
    res = vpnls("chinchilla", {"N": d["N"], "D": d["D"]}, y)
    assert res.method == "vpnls" and res.converged
    for k, v in BESIROGLU.items():
        assert res.params[k] == pytest.approx(v, rel=1e-5), k
    assert res.objective < 1e-12


def test_vpnls_reaches_the_multistart_and_scipy_optimum(iso81):
    x, y = iso81
    vp = vpnls("chinchilla", x, y)
    ms = fit("chinchilla", x, y, starts=chinchilla_grid()[::150], options=TIGHT)
    assert vp.objective == pytest.approx(ms.objective, rel=1e-8)
    np.testing.assert_allclose(vp.theta, ms.theta, rtol=1e-4, atol=1e-5)
    # SciPy's L-BFGS-B on the same objective cannot improve on it
    lN, lD, ly = np.log(x["N"]), np.log(x["D"]), np.log(y)

    def obj(p):
        pred = scipy.special.logsumexp([p[0] - p[3] * lN, p[1] - p[4] * lD, np.full_like(lN, p[2])], axis=0)
        return float(np.sum(scipy.special.huber(1e-3, pred - ly)))

    polished = scipy.optimize.minimize(
        obj, vp.theta, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 20000}
    )
    assert vp.objective <= polished.fun * (1 + 1e-9)
    assert obj(vp.theta) == pytest.approx(vp.objective, rel=1e-12)


def test_vpnls_linear_mse_matches_scipy_least_squares(iso81):
    x, y = iso81
    vp = vpnls("chinchilla", x, y, loss="mse", space="linear")
    lN, lD = np.log(x["N"]), np.log(x["D"])

    def resid(p):
        return p[2] + p[0] * np.exp(-p[3] * lN) + p[1] * np.exp(-p[4] * lD) - y

    start = [BESIROGLU[k] for k in ("A", "B", "E", "alpha", "beta")]
    ls = scipy.optimize.least_squares(resid, start, xtol=1e-15, ftol=1e-15, gtol=1e-15, x_scale="jac")
    assert vp.objective == pytest.approx(float(np.sum(ls.fun**2)), rel=1e-7)
    for k, v in zip(("A", "B", "E", "alpha", "beta"), ls.x):
        assert vp.params[k] == pytest.approx(v, rel=1e-3), k


@pytest.mark.slow
def test_vpnls_matches_multistart_on_datablations_curves():
    from scaling_theory.io import data_path, read_table

    df = read_table(data_path("datablations_losses.csv"))
    sets = []
    for (size, epochs), g in df[df["data"] == "c4"].groupby(["params", "epochs"]):
        if epochs in (1, 4, 44) and size in ("2.8B", "4.2B"):
            g = g.sort_values("tokens")
            t = g["tokens"].to_numpy(float)
            keep = t >= 0.1 * t.max()
            sets.append(({"x": t[keep]}, g["loss"].to_numpy(float)[keep]))
    assert len(sets) == 6
    vp = vpnls_many("offset_power_law", sets)
    ms = fit_many("offset_power_law", sets, options=TIGHT)
    for v, m in zip(vp, ms):
        assert v.objective <= m.objective * (1 + 1e-6)
        assert v.objective == pytest.approx(m.objective, rel=1e-6)
        assert v.params["b"] == pytest.approx(m.params["b"], abs=2e-3)


def test_vpnls_rejects_laws_without_linear_scales():
    with pytest.raises(InputError, match="linear in its scales"):
        vpnls("exp_power_law", {"k": X}, np.exp(-2.0 * X**-0.3))


# ----------------------------------------------------------------------------- Approach 2


def test_approach2_exact_on_a_symmetric_surface():
    """α = β makes each IsoFLOP profile symmetric in log N about N*: a centred design recovers N*
    and the exponent a = 1/2 exactly (closed form)."""
    sym = {**HOFFMANN, "beta": HOFFMANN["alpha"]}
    d = isoflop_design(sym, spread=8.0)
    r = approach2(d["N"], d["C"], CHINCHILLA.predict(sym, d))
    assert r.a == pytest.approx(0.5, abs=1e-10) and r.b == pytest.approx(0.5, abs=1e-10)
    np.testing.assert_allclose(r.n_opt, compute_optimal(sym, r.budgets).N, rtol=1e-9)
    assert float(r.n_star(1e24)) == pytest.approx(float(compute_optimal(sym, 1e24).N), rel=1e-8)


def test_approach2_vertices_match_polyfit():
    d = isoflop_design(BESIROGLU, per_budget=9)
    y = simulate_losses(BESIROGLU, d["N"], d["D"], 0.01, jax.random.key(3))
    r = approach2(d["N"], d["C"], y)
    for c, n in zip(r.budgets, r.n_opt):
        m = d["C"] == c
        p2, p1, _ = np.polyfit(np.log(d["N"][m]), y[m], 2)
        assert n == pytest.approx(np.exp(-p1 / (2 * p2)), rel=1e-9)
    a, _ = np.polyfit(np.log(r.budgets), np.log(r.n_opt), 1)
    assert r.a == pytest.approx(a, rel=1e-12)


def test_approach2_is_biased_without_noise_and_the_bias_vanishes_with_narrow_sampling():
    """Hoffmann et al.'s law (α ≠ β): the parabola's vertex is off the true N* even on exact
    losses; the error is a smooth function of the sampled width, O(log(spread)²) as it shrinks."""
    truth = float(compute_optimal(HOFFMANN, 1e24).N)
    bias = {}
    for spread in (1.25, 2.0, 8.0):
        d = isoflop_design(HOFFMANN, spread=spread)
        bias[spread] = float(approach2(d["N"], d["C"], CHINCHILLA.predict(HOFFMANN, d)).n_star(1e24)) / truth - 1
    assert bias[8.0] > 0.02  # +2.8 % at ±8×
    assert abs(bias[1.25]) < 5e-4
    ratio = bias[2.0] / bias[1.25]  # quadratic in the log-width: (log 2 / log 1.25)² = 9.6
    assert ratio == pytest.approx((np.log(2.0) / np.log(1.25)) ** 2, rel=0.05)


def test_approach2_input_errors():
    with pytest.raises(InputError, match="at least 2 budgets"):
        approach2([1e8, 2e8, 3e8], [1e19] * 3, [3.0, 2.9, 3.1])


# ------------------------------------------------------------------ asymmetric loss, weights


def test_asymmetric_rho_closed_form():
    r = np.array([-0.01, -5e-4, 0.0, 5e-4, 0.01])
    with jax.enable_x64(True):
        got = np.asarray(rho(jnp.asarray(r), "asymmetric", 1e-3, 10.0))
    ref = np.where(np.abs(r) <= 1e-3, 0.5 * r * r, 1e-3 * (np.abs(r) - 0.5e-3)) * np.where(r > 0, 10.0, 1.0)
    np.testing.assert_allclose(got, ref, rtol=1e-15)
    with jax.enable_x64(True):
        assert np.asarray(huber(jnp.asarray(r), 1e-3)) == pytest.approx(ref / np.where(r > 0, 10.0, 1.0))


@pytest.mark.parametrize("method", ["multistart", "vpnls"])
def test_asymmetric_fit_matches_scipy_and_lowers_the_curve(method):
    rng = np.random.default_rng(5)
    y = 1.5 + 3.0 * X**-0.4 * np.exp(0.03 * rng.standard_normal(X.size))
    run = (
        (lambda **kw: vpnls("offset_power_law", {"x": X}, y, **kw))
        if method == "vpnls"
        else (lambda **kw: fit("offset_power_law", {"x": X}, y, options=TIGHT, **kw))
    )
    sym, asym = run(loss="huber"), run(loss="asymmetric", penalty=10.0)
    ly, lx = np.log(y), np.log(X)

    def obj(t):
        r = np.logaddexp(t[0], t[1] - t[2] * lx) - ly
        a = np.abs(r)
        return np.sum(np.where(a <= 1e-3, 0.5 * r * r, 1e-3 * (a - 0.5e-3)) * np.where(r > 0, 10.0, 1.0))

    ref = scipy.optimize.minimize(
        obj, asym.theta + 0.01, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-18, "maxiter": 40000}
    )
    assert asym.objective <= ref.fun * (1 + 1e-7)
    assert obj(asym.theta) == pytest.approx(asym.objective, rel=1e-10)
    over = lambda res: np.mean(res.residuals() > 0)  # noqa: E731
    assert over(asym) < over(sym)  # the over-estimate penalty pushes the curve under the points


@pytest.mark.parametrize("method", ["multistart", "vpnls"])
def test_integer_weights_equal_repeated_rows(method):
    rng = np.random.default_rng(2)
    y = 1.5 + 3.0 * X**-0.4 * np.exp(0.03 * rng.standard_normal(X.size))
    w = rng.integers(1, 4, X.size).astype(float)
    rep = np.repeat(np.arange(X.size), w.astype(int))
    f = vpnls if method == "vpnls" else (lambda *a, **k: fit(*a, options=TIGHT, **k))
    a = f("offset_power_law", {"x": X}, y, weights=w)
    b = f("offset_power_law", {"x": X[rep]}, y[rep])
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- pinned asymptote, speed-up


def test_pinned_law_recovers_noise_free_curves_and_speedup_closed_form():
    C = np.logspace(15, 20, 25)
    l_inf = 1.7
    law = pinned_power_law(l_inf)
    y1, y2 = l_inf + 300.0 * C**-0.15, l_inf + 120.0 * C**-0.15
    f1, f2 = vpnls(law, {"C": C}, y1), fit(law, {"C": C}, y2, options=TIGHT)
    assert f1.params["A"] == pytest.approx(300.0, rel=1e-6) and f1.params["alpha"] == pytest.approx(0.15, rel=1e-6)
    assert f2.params["A"] == pytest.approx(120.0, rel=1e-5) and f2.params["alpha"] == pytest.approx(0.15, rel=1e-5)
    s = effective_speedup(f1.params, f2.params, [1e18, 1e22])
    np.testing.assert_allclose(s, (300.0 / 120.0) ** (1 / 0.15), rtol=1e-4)  # constant for equal exponents


def test_effective_speedup_matches_root_finding_for_unequal_exponents():
    p1, p2, l_inf = {"A": 50.0, "alpha": 0.1}, {"A": 80.0, "alpha": 0.14}, 2.0
    for C in (1e17, 1e21):
        target = l_inf + p1["A"] * C ** -p1["alpha"]
        root = scipy.optimize.brentq(
            lambda lc: l_inf + p2["A"] * np.exp(-p2["alpha"] * lc) - target, 0.0, 200.0, xtol=1e-14
        )
        assert float(effective_speedup(p1, p2, C)) == pytest.approx(C / np.exp(root), rel=1e-9)
        assert float(compute_to_reach(p2, l_inf, target)) == pytest.approx(np.exp(root), rel=1e-9)


def test_pinned_law_rejects_data_below_the_asymptote():
    with pytest.raises(InputError, match="asymptote"):
        fit(pinned_power_law(5.0), {"C": np.logspace(1, 3, 6)}, np.full(6, 4.0))
    with pytest.raises(InputError, match="asymptote"):
        pinned_power_law(-1.0)
