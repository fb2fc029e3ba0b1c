"""Pointwise selection error: spec §7 checks, independent quadrature references, Monte Carlo."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from scaling_theory.errors import InputError
from scaling_theory.judge.selection import selection_error, selection_error_mc

K_PTS = np.array([2.0, 3, 5, 10, 30, 100, 1e3, 1e4, 1e5, 1e6])


def point(b: float, a: float, s: float = 1.0) -> dict:
    """Keyword arguments for an input with teacher offset b = m − μ_T and reward offset a = m − μ_R."""
    return dict(mean=0.0, std=s, teacher=-b, reward=-a)


# ------------------------------------------------------------------ independent references (SciPy)
def _g(r, a):
    return (np.exp(-0.5 * (r - a) ** 2) + np.exp(-0.5 * (r + a) ** 2)) / np.sqrt(2 * np.pi)


def _h(r, a, rho):
    return r * r + rho * rho + 2 * rho * r * np.tanh(a * r)


def ref_zero_t(k: float, a: float, rho: float) -> float:
    """T = 0: ∫ k g(r) h(r) (1 − G(r))^(k−1) dr by adaptive quadrature (ndtr-based G)."""
    G = lambda r: special.ndtr(r - a) - special.ndtr(-r - a)  # noqa: E731
    f = lambda r: k * _g(r, a) * _h(r, a, rho) * np.exp((k - 1) * np.log1p(-min(G(r), 1 - 1e-16)))  # noqa: E731
    r_k = 1.0 / (k * _g(0.0, a) + 1e-300)  # scale of the nearest distance when the density at 0 is g(0)
    pts = sorted({p for p in np.array([0.1, 1, 3, 10, 30, 100, 300]) * r_k if 0 < p < abs(a) + 11} | {abs(a)} - {0.0})
    return integrate.quad(f, 0, abs(a) + 11, points=pts, limit=1000, epsabs=0, epsrel=1e-13)[0]


def ref_k2(t: float, a: float, rho: float) -> float:
    """k = 2, T > 0: 2 ∫ g(r₁) h(r₁) ∫ g(r₂) σ((r₂² − r₁²)/(2t)) dr₂ dr₁ (σ logistic), nested quad."""

    def inner(r1):
        w = t / max(r1, math.sqrt(t))
        pts = [p for p in (r1 - 20 * w, r1, r1 + 20 * w) if 0 < p < abs(a) + 11]
        f = lambda r2: _g(r2, a) * special.expit((r2 * r2 - r1 * r1) / (2 * t))  # noqa: E731
        return integrate.quad(f, 0, abs(a) + 11, points=pts, limit=200, epsabs=0, epsrel=1e-12)[0]

    outer = lambda r1: 2 * _g(r1, a) * _h(r1, a, rho) * inner(r1)  # noqa: E731
    return integrate.quad(outer, 0, abs(a) + 11, points=[abs(a)] if a else None, limit=200, epsabs=0, epsrel=1e-11)[0]


@pytest.mark.parametrize("a,rho", [(0.0, 0.0), (1.0, 0.0), (0.3, -0.5), (-1.8, 2.0), (4.0, -4.0), (8.0, 0.0)])
def test_zero_temperature_matches_scipy_quadrature(a, rho):
    # b = a + ρ, reward offset a; relative accuracy claim of `exact`: 1e-6 (measured ≲ 2e-8)
    got = np.asarray(selection_error(K_PTS, 0.0, **point(a + rho, a)))
    ref = np.array([ref_zero_t(k, a, rho) for k in K_PTS])
    np.testing.assert_allclose(got, ref, rtol=1e-6)


@pytest.mark.parametrize(
    "t,a,rho",
    [pytest.param(1e-6, 1.0, 0.0, marks=pytest.mark.slow), (1e-3, -1.8, 2.0), (0.05, 0.0, 0.0), (2.0, 4.0, -4.0)],
)
def test_k2_positive_temperature_matches_nested_quadrature(t, a, rho):
    got = float(selection_error(2, 2 * t, **point(a + rho, a)))
    assert got == pytest.approx(ref_k2(t, a, rho), rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("k,t,a,rho", [(5, 0.01, 0.5, 0.0), (100, 0.01, 3.0, -1.0), (1000, 1e-4, 0.0, 0.0)])
def test_positive_temperature_matches_lambda_integral(k, t, a, rho):
    """δ/s² = k ∫ K_h(λ)(1 − Λ(λ))^{k−1} dλ with every expectation by adaptive SciPy quadrature."""

    def inner(L):
        lw = lambda r: L - r * r / (2 * t)  # noqa: E731
        rs = math.sqrt(2 * t * max(L, 0.0))
        w = t / max(rs, math.sqrt(t))
        pts = sorted(
            {p for p in (rs - 30 * w, rs - 5 * w, rs, rs + 5 * w, rs + 30 * w, abs(a)) if 0 < p < abs(a) + 10.5}
        )
        kw = dict(points=pts or None, limit=400, epsabs=0, epsrel=1e-12)
        om = lambda r: np.exp(lw(r) - np.exp(min(lw(r), 700)))  # noqa: E731
        k1 = integrate.quad(lambda r: _g(r, a) * om(r), 0, abs(a) + 10.5, **kw)[0]
        kh = integrate.quad(lambda r: _g(r, a) * _h(r, a, rho) * om(r), 0, abs(a) + 10.5, **kw)[0]
        lam = integrate.quad(lambda r: _g(r, a) * -np.expm1(-np.exp(min(lw(r), 700))), 0, abs(a) + 10.5, **kw)[0]
        surv = integrate.quad(lambda r: _g(r, a) * np.exp(-np.exp(min(lw(r), 700))), 0, abs(a) + 10.5, **kw)[0]
        return k1, kh, np.log1p(-lam) if lam < 0.5 else np.log(surv)  # log(1 − Λ) without cancellation

    def f(L, which):
        k1, kh, log1m = inner(L)
        return k * np.exp((k - 1) * log1m) * (kh if which else k1)

    hi = (abs(a) + 10) ** 2 / (2 * t) + 5
    pts = [p for p in list(np.linspace(-60, 1, 40)) + list(np.geomspace(1, hi, 60)) if -60 < p < hi]
    num = integrate.quad(f, -60, hi, args=(1,), points=pts, limit=2000, epsabs=0, epsrel=1e-10)[0]
    den = integrate.quad(f, -60, hi, args=(0,), points=pts, limit=2000, epsabs=0, epsrel=1e-10)[0]
    assert float(selection_error(k, 2 * t, **point(a + rho, a))) == pytest.approx(num / den, rel=1e-6)


# ------------------------------------------------------------------ spec §7 checks
def test_k1_and_infinite_temperature_give_b2_plus_s2():
    s, b, a = 1.7, 0.4, -1.1
    kw = dict(mean=0.0, std=s, teacher=-b, reward=-a)
    for T in (0.0, 1e-3, 1.0, 1e3, np.inf):
        for method in ("exact", "limit") if T == np.inf else ("exact",):
            assert float(selection_error(1, T, method=method, **kw)) == pytest.approx(b * b + s * s, rel=1e-12)
    got = np.asarray(selection_error(np.array([2.0, 7.0, 100.0]), np.inf, **kw))
    np.testing.assert_allclose(got, b * b + s * s, rtol=1e-12)
    # T → ∞ continuously: δ = D − O(1/t)
    big = float(selection_error(7, 2e8 * s * s, **kw))
    assert big == pytest.approx(b * b + s * s, rel=1e-7)


@pytest.mark.parametrize("b,const", [(0.0, 3.1416), (0.5, 4.0339), (1.0, 8.5397)])
def test_best_of_k_extreme_value_constants(b, const):
    # spec §7: k²δ → π s² e^{b²/s²}; the approach is 1 − O(1/k)
    ks = np.array([1e4, 1e5, 1e6])
    got = ks**2 * np.asarray(selection_error(ks, 0.0, **point(b, b)))
    assert got[-1] == pytest.approx(const, abs=6e-5)
    assert math.pi * math.exp(b * b) == pytest.approx(const, abs=5e-5)
    deficit = 1 - got / (math.pi * math.exp(b * b))
    assert np.all(deficit > 0) and deficit[0] / deficit[1] == pytest.approx(10, rel=0.05)


def test_best_of_k_finite_k_values_and_slope():
    # spec §4: k²δ = 2.674, 3.105, 3.139 at k = 16, 256, 4096 (Δ = 0); spec §7: log-log slope −1.9975
    # over k ∈ [256, 16384] (least squares on k = 2⁸…2¹⁴)
    ks = np.concatenate([[16.0], 2.0 ** np.arange(8, 15)])
    d = np.asarray(selection_error(ks, 0.0, **point(0.0, 0.0)))
    np.testing.assert_allclose((ks**2 * d)[[0, 1, 5]], [2.674, 3.105, 3.139], atol=6e-4)
    slope = np.polyfit(np.log(ks[1:]), np.log(d[1:]), 1)[0]
    assert slope == pytest.approx(-1.9975, abs=1e-4)


def test_zero_temperature_large_k_limit_is_reward_offset():
    # T = 0, any reward: δ → (μ_R − μ_T)² as k → ∞; with the extreme-value correction (1 + 2ρα)πe^{α²}/k²
    b, a = 0.2, -1.8  # ρ = b − a = 2
    ks = np.array([1e3, 1e5, 1e6])
    exact = np.asarray(selection_error(ks, 0.0, **point(b, a)))
    limit = np.asarray(selection_error(ks, 0.0, method="limit", **point(b, a)))
    np.testing.assert_allclose(exact, limit, rtol=2e-6)
    assert exact[-1] == pytest.approx(4.0, rel=1e-6)


def test_finite_temperature_limit_case():
    # spec §7: s = 1, b = .3, c = 0, t = 2 → δ_∞ = .70667; quadrature at k = 3000 gives .70673
    kw = point(0.3, 0.3)
    assert float(selection_error(1, 4.0, method="limit", **kw)) == pytest.approx(0.3**2 * 4 / 9 + 2 / 3, rel=1e-12)
    assert float(selection_error(1, 4.0, method="limit", **kw)) == pytest.approx(0.70667, abs=5e-6)
    assert float(selection_error(3000, 4.0, **kw)) == pytest.approx(0.70673, abs=5e-6)
    far = np.asarray(selection_error(np.array([1e5, 1e6]), 4.0, **kw))
    assert abs(far[1] - 0.706667) < abs(far[0] - 0.706667) < 2e-5


def test_high_temperature_expansion_values():
    # spec §7: t = 20, b = .3, c = 0: H.T.E. 1.0605, 1.0443, 1.0352; exact 1.0606, 1.0443, 1.0350
    kw = point(0.3, 0.3)
    ks = np.array([2.0, 5.0, 50.0])
    hte2 = np.asarray(selection_error(ks, 40.0, method="hte", order=2, **kw))
    exact = np.asarray(selection_error(ks, 40.0, **kw))
    np.testing.assert_allclose(hte2, [1.0605, 1.0443, 1.0352], atol=6e-5)
    np.testing.assert_allclose(exact, [1.0606, 1.0443, 1.0350], atol=6e-5)


def test_third_order_expansion_is_exact_to_order_t3():
    # exact − δ₃ = O(t⁻⁴): t⁴·(exact − δ₃) stays bounded while t grows 4×, for several k
    kw = point(0.3, -0.7)
    ks = np.array([2.0, 3.0, 10.0, 50.0])
    res = []
    for t in (50.0, 200.0):
        exact = np.asarray(selection_error(ks, 2 * t, **kw))
        res.append(t**4 * (exact - np.asarray(selection_error(ks, 2 * t, method="hte", order=3, **kw))))
    assert np.all(np.abs(res[1]) < 50) and np.all(np.abs(res[1] - res[0]) < 0.3 * np.abs(res[0]) + 1.0)


def test_third_order_k2_coefficient_against_double_quadrature():
    # k = 2: δ = E e − ε E[(e₁ − e₂)(v₁ − v₂)]/4 + ε³ E[(e₁ − e₂)(v₁ − v₂)³]/48 + …, ε = 1/(2t): only odd
    # orders (tanh expansion). The t⁻³ coefficient by Gauss–Hermite product quadrature vs ours.
    a, rho = 0.3, 0.0
    z, w = special.roots_hermitenorm(60)
    w = w / w.sum()
    u1, u2 = np.meshgrid(z + a, z + a, indexing="ij")
    W = np.outer(w, w)
    e1, e2 = (u1 + rho) ** 2, (u2 + rho) ** 2
    c3 = np.sum(W * (e1 - e2) * (u1**2 - u2**2) ** 3) / 48 / 8  # ε³ = 1/(8t³)
    from scaling_theory.judge.expansion import expansion_coefficients, official_third_order

    ours = float(expansion_coefficients(2.0, a, rho, 3)[3]) / 8
    assert ours == pytest.approx(c3, rel=1e-10)
    assert float(official_third_order(2.0, a, rho)) == 0.0  # the official heuristic misses it


def test_representative_misspecified_case():
    # spec §5.2: Δ_T = .2, Δ_T − Δ_R = 2, t = 5 (units of s): k* = 2, δ(1) = 1.04, δ(256) = 1.0827
    kw = point(0.2, -1.8)
    d = np.asarray(selection_error(np.array([1.0, 2.0, 3.0, 256.0]), 10.0, **kw))
    assert d[0] == pytest.approx(1.04, rel=1e-12)
    assert d[1] < d[0] and d[1] < d[2]
    assert d[3] == pytest.approx(1.0827, abs=5e-5)


# ------------------------------------------------------------------ Monte Carlo
def test_exact_agrees_with_monte_carlo_within_4_standard_errors():
    ks = np.array([2.0, 7.0, 40.0])
    ts = np.array([0.0, 0.05, 1.0, 20.0])
    offsets = [(0.0, 0.0), (0.5, 1.0), (0.2, -1.8)]  # (b, a)
    K, TT, B = np.meshgrid(ks, 2 * ts, np.arange(len(offsets)), indexing="ij")
    bb = np.array([o[0] for o in offsets])[B]
    aa = np.array([o[1] for o in offsets])[B]
    kw = dict(mean=0.0, std=1.3, teacher=-bb, reward=-aa)
    exact = np.asarray(selection_error(K, TT * 1.3**2, **kw))
    mc, se = selection_error_mc(K, TT * 1.3**2, key=jax.random.key(7), samples=6000, **kw)
    assert exact.shape == np.asarray(mc).shape == K.shape  # broadcasting over k, T and the offsets
    z = (np.asarray(mc) - exact) / np.asarray(se)
    # 36 independent estimates: |z| ≤ 4 fails with probability ~2e-3 if the means agree
    assert np.all(np.abs(z) < 4), z


# ------------------------------------------------------------------ properties, jit, errors
@settings(max_examples=12, deadline=None)
@given(b=st.floats(-2, 2), s=st.floats(0.2, 3))
def test_best_of_k_with_teacher_reward_decreases_in_k(b, s):
    ks = np.array([1.0, 2.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 2048.0])
    d = np.asarray(selection_error(ks, 0.0, mean=b, std=s, teacher=0.0, reward=0.0))
    assert np.all(np.diff(d) < 0) and d[0] == pytest.approx(b * b + s * s, rel=1e-12) and np.all(d > 0)


@settings(max_examples=12, deadline=None)
@given(t=st.floats(1e-4, 1e3), b=st.floats(-2, 2), a=st.floats(-3, 3))
def test_error_bounded_by_extremes(t, b, a):
    # a softmax average lies between the smallest and largest candidate error; on average δ ≥ 0 and
    # δ ≤ E max_i e_i ≤ k E e, and for teacher reward δ ≤ b² + s² (weights favour small errors)
    d = float(selection_error(8, 2 * t, **point(b, a)))
    assert 0 < d <= 8 * (b * b + 1)
    d0 = float(selection_error(8, 2 * t, **point(b, b)))
    assert d0 <= b * b + 1 + 1e-12


def test_jit_matches_eager():
    # traced T and mean (mode decided per element, worst-case node counts) vs the eager call
    eager = np.asarray(selection_error(np.array([3.0, 9.0]), 0.7, mean=0.2, std=1.0, teacher=0.0, reward=0.5))
    with jax.enable_x64(True):
        f = jax.jit(lambda T, m: selection_error(jnp.array([3.0, 9.0]), T, mean=m, std=1.0, teacher=0.0, reward=0.5))
        jitted = np.asarray(f(jnp.float64(0.7), jnp.float64(0.2)))
    np.testing.assert_allclose(jitted, eager, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        (dict(k=0), "k=0"),
        (dict(k=2.5), "k=2.5"),
        (dict(T=-1.0), "T=-1"),
        (dict(std=0.0), "std=0"),
        (dict(mean=float("nan")), "mean=nan"),
        (dict(method="magic"), "method='magic'"),
        (dict(method="hte", T=0.0), "T=0"),
        (dict(method="mc"), "key=None"),
    ],
)
def test_bad_input_raises_one_input_error(kwargs, needle):
    args = dict(k=3, T=1.0, mean=0.0, std=1.0, teacher=0.0, reward=0.0)
    args.update(kwargs)
    k, T = args.pop("k"), args.pop("T")
    with pytest.raises(InputError) as err:
        selection_error(k, T, **args)
    assert needle in str(err.value) and "\n" not in str(err.value)
