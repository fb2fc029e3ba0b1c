"""scaling_theory.stats against independent computations (NumPy lstsq, exact hypergeometric/multinomial moments,
a hand computation of split-R̂ from its definition)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory.errors import InputError
from scaling_theory.stats import (
    bootstrap_counts,
    bootstrap_means,
    numpy_rng,
    split_rhat,
    subsample,
    weighted_loglog_fit,
)


# ------------------------------------------------------------------------------------ numpy_rng
def test_numpy_rng_of_a_seed_key_is_the_seeded_generator_and_streams_differ():
    for seed in (0, 5, 123456):
        np.testing.assert_array_equal(numpy_rng(jax.random.key(seed)).random(4), np.random.default_rng(seed).random(4))
        np.testing.assert_array_equal(
            numpy_rng(jax.random.key(seed), 3).random(4), np.random.default_rng([seed, 3]).random(4)
        )
    a = numpy_rng(jax.random.fold_in(jax.random.key(0), 1)).random(4)
    b = numpy_rng(jax.random.fold_in(jax.random.key(0), 2)).random(4)
    assert not np.array_equal(a, b)
    with pytest.raises(InputError, match="key"):
        numpy_rng(3)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ weighted fit
@pytest.mark.parametrize("use_jit", [False, True])
def test_weighted_fit_matches_lstsq(use_jit):
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(3, 25)), rng.normal(size=(3, 25)), rng.uniform(0.2, 3.0, (3, 25))
    w[:, :4] = 0.0  # ignored points
    with jax.enable_x64(True):
        f = jax.jit(weighted_loglog_fit) if use_jit else weighted_loglog_fit
        s, c = (np.asarray(v) for v in f(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w)))
    for g in range(3):  # independent: weighted least squares by lstsq on √w-scaled rows
        sw = np.sqrt(w[g])
        (c_ref, s_ref), *_ = np.linalg.lstsq(np.stack([sw, sw * x[g]], 1), sw * y[g], rcond=None)
        assert s[g] == pytest.approx(s_ref, rel=1e-11) and c[g] == pytest.approx(c_ref, rel=1e-11)
    s_np, c_np = weighted_loglog_fit(x, y, w)  # NumPy path agrees with the JAX path
    np.testing.assert_allclose(s_np, s, rtol=1e-12)
    np.testing.assert_allclose(c_np, c, rtol=1e-12)


def test_weighted_fit_unweighted_is_polyfit_and_fixed_slope_is_mean_residual():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=30), rng.normal(size=30)
    s, c = weighted_loglog_fit(x, y)
    ref = np.polyfit(x, y, 1)
    assert s == pytest.approx(ref[0], rel=1e-12) and c == pytest.approx(ref[1], rel=1e-12)
    slopes = np.array([-1.0, 0.5, 2.0])
    _, icpt = weighted_loglog_fit(x, y, slope=slopes)
    np.testing.assert_allclose(icpt, [np.mean(y - sl * x) for sl in slopes], rtol=1e-12)


# -------------------------------------------------------------------------------- sub-sampling
def test_subsample_has_hypergeometric_moments():
    n, c, m, reps = 60, 17, 20, 20_000
    k = subsample(jax.random.key(0), n, np.full(reps, c), m)
    mean = m * c / n  # exact hypergeometric moments
    var = m * (c / n) * (1 - c / n) * (n - m) / (n - 1)
    se_mean = np.sqrt(var / reps)
    assert abs(k.mean() - mean) < 4 * se_mean
    # SE of the sample variance ≈ var·√(2/(reps − 1)) (near-normal counts); 4 SE
    assert abs(k.var(ddof=1) - var) < 4 * var * np.sqrt(2 / (reps - 1)) + 4 * np.sqrt(np.mean((k - mean) ** 4) / reps)
    assert k.min() >= max(0, m - (n - c)) and k.max() <= min(m, c)
    np.testing.assert_array_equal(subsample(jax.random.key(1), [10, 10, 10], [0, 10, 4], [4, 4, 10]), [0, 4, 4])


def test_subsample_shapes_key_determinism_and_errors():
    key = jax.random.key(3)
    k = subsample(key, 30, np.arange(12.0).reshape(3, 4), 10, repeats=5)
    assert k.shape == (5, 3, 4) and k.dtype == np.float64
    np.testing.assert_array_equal(k, subsample(key, 30, np.arange(12.0).reshape(3, 4), 10, repeats=5))
    with pytest.raises(InputError, match="n_obs must be <= every n"):
        subsample(key, [10], [3], 20)
    with pytest.raises(InputError, match="c must be <= n"):
        subsample(key, [10], [11], 2)
    with pytest.raises(InputError, match="n must be non-negative integers"):
        subsample(key, [10.5], [3], 2)


# ---------------------------------------------------------------------------------- bootstrap
def test_bootstrap_counts_are_multinomial():
    sizes, B = [7, 3], 4000
    cnt = bootstrap_counts(jax.random.key(0), sizes, B)
    assert cnt.shape == (2, B, 7)
    np.testing.assert_array_equal(cnt.sum(axis=2), np.broadcast_to(np.array(sizes, float)[:, None], (2, B)))
    assert np.all(cnt[1, :, 3:] == 0)  # padding
    # each cell ~ Binomial(n, 1/n): mean 1, variance 1 − 1/n; SE of the mean over B draws = √((1 − 1/n)/B)
    for j, n in enumerate(sizes):
        cells = cnt[j, :, :n]
        assert np.all(np.abs(cells.mean(axis=0) - 1.0) < 4 * np.sqrt((1 - 1 / n) / B))
        assert cells.var() == pytest.approx(1 - 1 / n, rel=4 * np.sqrt(2 / (B * n)) + 0.02)


@pytest.mark.parametrize("use_jit", [False, True])
def test_bootstrap_means_moments(use_jit):
    # live values v over K = 5 of 8 positions: a resampled mean has mean v̄ and variance σ²/K (σ² with ddof 0)
    vals = np.zeros((1, 8, 1))
    v = np.array([0.0, 1.0, 4.0, 2.0, 7.0])
    live = np.array([1, 0, 1, 1, 0, 1, 1, 0], float)
    vals[0, live > 0, 0] = v
    vals[0, live == 0, 0] = 1e6  # padding must never be picked
    R = 4000
    with jax.enable_x64(True):
        f = jax.jit(bootstrap_means, static_argnums=3) if use_jit else bootstrap_means
        boot = np.asarray(f(jax.random.key(0), jnp.asarray(vals), jnp.asarray(live[None]), R))[:, 0, 0]
    assert boot.max() <= v.max()
    var = v.var() / v.size
    assert abs(boot.mean() - v.mean()) < 4 * np.sqrt(var / R)
    assert boot.var() == pytest.approx(var, rel=4 * np.sqrt(2 / R) + 0.05)


# -------------------------------------------------------------------------------------- R-hat
@pytest.mark.parametrize("use_jit", [False, True])
def test_split_rhat_by_hand(use_jit):
    # one chain of 8 draws → halves [1, 2, 3, 6] and [2, 4, 4, 6] (s = 4)
    x = np.array([[1.0, 2.0, 3.0, 6.0, 2.0, 4.0, 4.0, 6.0]])
    m1, m2 = 3.0, 4.0
    v1 = ((1 - 3) ** 2 + (2 - 3) ** 2 + 0 + (6 - 3) ** 2) / 3  # 14/3
    v2 = ((2 - 4) ** 2 + 0 + 0 + (6 - 4) ** 2) / 3  # 8/3
    W = (v1 + v2) / 2
    B = 4 * ((m1 - 3.5) ** 2 + (m2 - 3.5) ** 2) / 1
    expected = np.sqrt((3 / 4 * W + B / 4) / W)
    with jax.enable_x64(True):
        f = jax.jit(split_rhat) if use_jit else split_rhat
        got = float(np.asarray(f(jnp.asarray(x[:, None, :])))[0])
    assert got == pytest.approx(expected, rel=1e-12)


def test_split_rhat_near_one_for_iid_and_large_for_stuck_chains():
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        iid = float(split_rhat(rng.normal(size=(4, 2000))))
        stuck = float(split_rhat(np.stack([rng.normal(size=1000), rng.normal(size=1000) + 5])))
    assert abs(iid - 1) < 0.01  # R̂ − 1 = O(1/S) for i.i.d. draws
    assert stuck > 1.5
    with pytest.raises(InputError, match="split_rhat"):
        split_rhat(np.zeros(10))
