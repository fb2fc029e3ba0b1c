"""Analyses of testbed output: selection error of a softmax judge, H.T.E. curve shapes, FLOP counts."""

from __future__ import annotations

import itertools

import jax
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.testbed import analysis as A
from scaling_theory.testbed import flops
from scaling_theory.testbed.model import ModelConfig, count_params, make_model

RNG = np.random.default_rng(0)
CORRECT = (RNG.random((40, 10)) < RNG.random((40, 1))).astype(float)
SCORES = RNG.normal(size=(40, 10)).round(1)  # rounded: ties exercise the T = 0 tie rule


def _chen(n: int, c: np.ndarray, k: int) -> np.ndarray:
    """1 − C(n−c, k)/C(n, k) by direct products (independent of the passk implementation)."""
    out = np.ones_like(c, dtype=float)
    for i, ci in enumerate(c.astype(int)):
        out[i] = 1.0 - (np.prod([(n - ci - j) / (n - j) for j in range(k)]) if n - ci >= k else 0.0)
    return out


def _brute(c: np.ndarray, s: np.ndarray, k: int, T: float) -> float:
    """Exact E over all k-subsets of Σ softmax(s/T) c (T = 0: mean c among the tied maxima)."""
    vals = []
    for sub in itertools.combinations(range(len(c)), k):
        cs, ss = c[list(sub)], s[list(sub)]
        if T == 0:
            vals.append(cs[ss == ss.max()].mean())
        else:
            w = np.exp((ss - ss.max()) / T)
            vals.append((w * cs).sum() / w.sum())
    return float(np.mean(vals))


def test_exact_verifier_best_of_k_is_one_minus_pass_at_k():
    mean, se = A.empirical_selection_error(jax.random.key(0), CORRECT, CORRECT, [0.0, np.inf], repeats=300)
    n = CORRECT.shape[1]
    for k in (1, 3, 7, 10):
        want = 1 - _chen(n, CORRECT.sum(1), k).mean()
        # Monte Carlo over 300 random orders: 5 standard errors (plus float32 rounding)
        assert abs(mean[0, k - 1] - want) <= 5 * se[0, k - 1] + 1e-5
    assert mean[0, -1] == pytest.approx(1 - (CORRECT.sum(1) > 0).mean(), abs=1e-5)  # k = n (float32 sums)
    assert mean[1, -1] == pytest.approx(1 - CORRECT.mean(), abs=1e-5)  # T = ∞ at k = n: the plain mean
    assert np.all(np.diff(mean[0]) <= 1e-6)  # best-of-k with the exact verifier never gets worse


@pytest.mark.parametrize("T", [0.0, 0.3, 2.0])
def test_softmax_selection_matches_exhaustive_enumeration(T):
    mean, se = A.empirical_selection_error(jax.random.key(0), CORRECT, SCORES, [T], repeats=400)
    for k in (2, 4):
        want = 1 - np.mean([_brute(CORRECT[i], SCORES[i], k, T) for i in range(len(CORRECT))])
        assert abs(mean[0, k - 1] - want) <= 5 * se[0, k - 1] + 1e-5  # 5 Monte Carlo SE


def test_selection_error_rejects_bad_input():
    with pytest.raises(InputError, match="0/1"):
        A.empirical_selection_error(jax.random.key(0), CORRECT * 2, SCORES, [1.0])
    with pytest.raises(InputError, match="matrices"):
        A.empirical_selection_error(jax.random.key(0), CORRECT, SCORES[:, :5], [1.0])
    with pytest.raises(InputError, match="temperatures"):
        A.empirical_selection_error(jax.random.key(0), CORRECT, SCORES, [-1.0])
    with pytest.raises(InputError, match="finite"):
        A.empirical_selection_error(jax.random.key(0), CORRECT, np.where(SCORES > 1, np.nan, SCORES), [1.0])


@settings(max_examples=40, deadline=None)
@given(D=st.floats(0.1, 2), a=st.floats(-1, 1), b=st.floats(-1, 1))
def test_fit_hte_recovers_coefficients_and_the_minimiser(D, a, b):
    k = np.arange(1, 200)
    fit = A.fit_hte(k, A.hte_curve(k, D, a, b))
    np.testing.assert_allclose([fit.D, fit.a, fit.b], [D, a, b], atol=1e-8)
    # the reported minimiser is the minimiser of the closed form over u = 1/k ∈ [0, 1] (dense grid)
    u = np.linspace(0, 1, 200_001)
    vals = D - (1 - u) * a + (1 - u) * (1 - 2 * u) * b
    u_best = u[np.argmin(vals)]
    best_val = vals.min()
    got = 0.0 if np.isinf(fit.k_star) else 1 / fit.k_star
    assert D - (1 - got) * a + (1 - got) * (1 - 2 * got) * b <= best_val + 1e-9
    if fit.regime == "monotone":
        assert np.all(np.diff(vals) >= -1e-12) and u_best == 0.0  # δ₂ falls as k grows (u = 1/k shrinks)
    if fit.regime == "finite k*":
        assert b > 0 and fit.k_star == pytest.approx(4 * b / (3 * b - a), rel=1e-6)


def test_hte_spec_reference_regimes():
    # spec §5.2: with b > 0 the k → ∞ end is optimal iff a > 3b; otherwise k* = 4b/(3b − a)
    k = np.arange(1, 100)
    mono = A.fit_hte(k, A.hte_curve(k, 1.0, 0.4, 0.1))
    assert mono.regime == "monotone" and np.isinf(mono.k_star)
    fin = A.fit_hte(k, A.hte_curve(k, 1.0, 0.1, 0.1))
    assert fin.regime == "finite k*" and fin.k_star == pytest.approx(2.0)  # 4·0.1/(0.3 − 0.1)


def test_temperature_surface_fit_and_optimal_temperature():
    k, temps = np.arange(1, 65), np.array([1.0, 2.0, 4.0, 8.0])
    true = {"D": 1.0, "C1": 0.8, "C2": 0.5}
    surf = A.hte_surface(k, temps, **true)
    fit = A.fit_hte_temperature(k, temps, surf)
    np.testing.assert_allclose([fit.D, fit.C1, fit.C2], [1.0, 0.8, 0.5], atol=1e-8)
    # spec §5.3: t* = 2(1 − 2/k) C₂/C₁ minimises δ₂ over T at fixed k (check on a dense T grid)
    T = np.linspace(0.2, 5, 100_001)
    k0 = 10
    d = A.hte_surface([k0], T, **true)[:, 0]
    assert A.hte_t_star(k0, fit.C1, fit.C2) == pytest.approx(T[np.argmin(d)], abs=1e-3)
    assert np.isnan(A.hte_t_star(2, fit.C1, fit.C2))


def test_attempt_matrix():
    df = pd.DataFrame(
        {"problem": [1, 1, 0, 0], "attempt": [1, 0, 0, 1], "correct": [1, 0, 1, 1], "temperature": [0.6] * 4}
    )
    np.testing.assert_array_equal(A.attempt_matrix(df, "correct", 0.6), [[1, 1], [0, 1]])
    with pytest.raises(InputError, match="temperature"):
        A.attempt_matrix(df, "correct", 1.0)
    with pytest.raises(InputError, match="different numbers"):
        A.attempt_matrix(df.iloc[:3], "correct", 0.6)


def test_flop_counts():
    cfg = ModelConfig(vocab_size=40, d_model=32, n_layers=2, n_heads=4, d_ff=128)
    n_total = count_params(make_model(jax.random.key(0), cfg))
    assert flops.non_embedding_params(cfg) + cfg.vocab_size * cfg.d_model == n_total
    assert flops.forward_flops_per_token(cfg, 0) == 2 * n_total
    assert flops.forward_flops_per_token(cfg, 10) - flops.forward_flops_per_token(cfg, 0) == 4 * 2 * 10 * 32
    assert flops.train_flops_per_token(cfg, 23) == 3 * flops.forward_flops_per_token(cfg, 12)
    peak, how = flops.peak_flops()
    assert peak > 0 and isinstance(how, str)
    assert flops.mfu(1e3, 1e6, 1e10) == pytest.approx(0.1)


def test_cache_folder_identifies_profile_seed_and_configuration(tmp_path, monkeypatch):
    out = tmp_path / "figures" / "testbed_saturation"
    a = A.cache_folder(jax.random.key(0), out, "smoke")
    assert a.parent == out.parent and a.name.startswith("_testbed_smoke_0_")
    assert A.cache_folder(jax.random.key(0), out, "smoke") == a  # stable
    assert A.cache_folder(jax.random.key(1), out, "smoke") != a
    assert A.cache_folder(jax.random.key(0), out, "quick").name.startswith("_testbed_quick_0_")

    # a changed profile definition (e.g. after an upgrade) must not reuse the old run's folder
    import dataclasses

    from scaling_theory.testbed import config as C

    original = C.profile_config

    def changed(profile):
        cfg = original(profile)
        return dataclasses.replace(cfg, n_samples=cfg.n_samples + 1)

    monkeypatch.setattr(C, "profile_config", changed)
    assert A.cache_folder(jax.random.key(0), out, "smoke") != a
